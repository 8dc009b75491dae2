/**
 * The simulator's frame path with its IPv4 stack, against the bridge alone, in the same run:
 *
 * - `bridge`: unicast between two access ports of a `SimBridge`, 64-byte frames (the baseline: what
 *   forwarding a frame costs with no endpoint work at all);
 * - `cli`: `lab.run("ping a:0 10.0.0.2 1000")` between two container VMs on one VLAN, through the command
 *   language, the lab model and the backend, end to end (2,000 frames a command);
 * - `router1`: pings across one router VM (forwarding on, default gateways) on the simulator backend,
 *   1,000 a call: 4 bridge frames a round trip;
 * - `router3`: the same across a chain of three router VMs with static routes: 8 bridge frames a round
 *   trip.
 *
 * Figures are per frame that entered a bridge (every frame each node transmitted), as frames a second;
 * the ratio is the case's time per frame over the bridge's, measured in the same round.
 *
 *   deno run -A bench/routing.ts [ROUNDS [CASES]]   (medians over ROUNDS rounds, default 7)
 *   bun bench/routing.ts [ROUNDS [CASES]]
 *
 * CASES is a comma-separated list of case names (default all; `bridge,cli` runs on a tree without
 * routing).
 *
 * Each round runs every case a few times to warm up, then 9 timed runs, and keeps the median run.
 *
 * @module
 */

import process from "node:process";
import { Lab } from "../lib/api/lab.ts";
import type { PortSpec } from "../lib/backend/bridges.ts";
import { SimBackend } from "../sim/backend.ts";
import { SimBridge } from "../sim/bridge.ts";
import type { FrameSink } from "../sim/types.ts";

const PINGS = 1_000;
const BRIDGE_FRAMES = 100_000;
const WARMUP = 4;
const RUNS = 9;

/** A case: one run forwards some frames and says how many. */
interface Case {
  readonly name: string;
  readonly what: string;
  run(): Promise<number>;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

/** The bridge alone: two access ports, both MACs learned, 64-byte unicast frames. */
function bridgeCase(): Case {
  const br = new SimBridge("br0");
  const a = br.addPort("a", { kind: "access", tag: 100 });
  br.addPort("b", { kind: "access", tag: 100 });
  let bytes = 0;
  const sink: FrameSink = {
    receive(buf, off, len) {
      bytes += buf[off + len - 1]!;
    },
  };
  br.attach("a", sink);
  br.attach("b", sink);
  const frame = (dst: number, src: number) => {
    const f = new Uint8Array(64);
    f.set([2, 0, 0, 0, 0, dst], 0);
    if (dst === 0xff) f.fill(0xff, 0, 6);
    f.set([2, 0, 0, 0, 0, src], 6);
    f[12] = 0x08;
    return f;
  };
  br.transmitFrom("a", frame(0xff, 1));
  br.transmitFrom("b", frame(0xff, 2));
  const f = frame(2, 1);
  return {
    name: "bridge",
    what: "SimBridge unicast, 64-byte frames (baseline)",
    run() {
      for (let i = 0; i < BRIDGE_FRAMES; i++) br.transmitFrom(a, f, 0, 64);
      return Promise.resolve(BRIDGE_FRAMES + (bytes & 0));
    },
  };
}

/** Two container VMs through the command line. */
async function cliCase(): Promise<Case> {
  const lab = await Lab.open({ seed: "routing-bench" });
  const ns = lab.namespace();
  await ns.configure({ networks: ["LAN"] });
  const [a, b] = await ns.launch(["a", "b"], { start: true });
  await a!.nic(0).setAddress("10.0.0.1/24");
  await b!.nic(0).setAddress("10.0.0.2/24");
  const line = `ping a:0 10.0.0.2 ${PINGS}`;
  return {
    name: "cli",
    what: `\`lab.run("${line}")\`, 2 container VMs`,
    async run() {
      const out = await lab.run(line);
      if (out.rows[0]?.received !== String(PINGS)) {
        throw new Error(`Cannot accept the run: not every ping was answered:\n${out.text}`);
      }
      return 2 * PINGS;
    },
  };
}

/**
 * a -- r1 -- ... -- rN -- b on one bridge, each link a VLAN of its own (10, 20, ...), the routers VMs
 * with forwarding on and static routes both ways.
 */
async function routersCase(routers: number): Promise<Case> {
  const backend = new SimBackend();
  let mac = 0;
  const ports: PortSpec[] = [];
  const nic = (vm: string, id: number, n: number, vlan: number): PortSpec => {
    mac++;
    return {
      name: `tap${ports.length}`,
      mode: { kind: "access", tag: vlan },
      role: "vm",
      mac: `52:54:00:00:${(mac >> 8).toString(16).padStart(2, "0")}:${
        (mac & 0xff).toString(16).padStart(2, "0")
      }`,
      vm: { name: vm, namespace: "bench", id, nic: n, type: "container", running: true },
    };
  };
  const addr: [string, string][] = [];
  ports.push(nic("a", 0, 0, 10));
  addr.push([ports.at(-1)!.name, "10.0.0.2/24"]);
  for (let i = 1; i <= routers; i++) {
    ports.push(nic(`r${i}`, i, 0, 10 * i));
    addr.push([ports.at(-1)!.name, `10.0.${i - 1}.1/24`]);
    ports.push(nic(`r${i}`, i, 1, 10 * (i + 1)));
    addr.push([ports.at(-1)!.name, `10.0.${i}.254/24`]);
  }
  ports.push(nic("b", routers + 1, 0, 10 * (routers + 1)));
  addr.push([ports.at(-1)!.name, `10.0.${routers}.2/24`]);
  await backend.addPorts("br0", ports);
  for (const [port, cidr] of addr) await backend.addAddress("br0", port, cidr);
  const vm = (name: string, id: number) => ({ name, id, namespace: "bench" });
  await backend.setDefaultGateway(vm("a", 0), "10.0.0.1");
  await backend.setDefaultGateway(vm("b", routers + 1), `10.0.${routers}.254`);
  for (let i = 1; i <= routers; i++) {
    const r = vm(`r${i}`, i);
    await backend.setForwarding(r, true);
    // onwards to b's subnet through the next router, back to a's through the previous one
    if (i < routers) await backend.setRoutes(r, [{ network: `10.0.${routers}.0/24`, via: `10.0.${i}.1` }]);
    if (i > 1) await backend.setDefaultGateway(r, `10.0.${i - 1}.254`);
  }
  const first = await backend.ping("br0", "tap0", `10.0.${routers}.2`, 1);
  if (first.received !== 1) {
    throw new Error(`Cannot run the bench: the ${routers}-router path does not answer`);
  }
  const frames = () => {
    let n = 0;
    for (const p of ports) n += backend.host(p.name)!.counters().txFrames;
    return n;
  };
  return {
    name: `router${routers}`,
    what: `pings across ${routers} router VM${
      routers === 1 ? "" : "s"
    } (\`SimBackend.ping\`, count ${PINGS})`,
    async run() {
      const before = frames();
      const report = await backend.ping("br0", "tap0", `10.0.${routers}.2`, PINGS);
      if (report.received !== PINGS) throw new Error(`Cannot accept the run: ${report.received} replies`);
      return frames() - before;
    },
  };
}

/** One round: each case's median time per frame, in ns. */
async function round(cases: Case[]): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const c of cases) {
    for (let i = 0; i < WARMUP; i++) await c.run();
    const perFrame: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const t = performance.now();
      const n = await c.run();
      perFrame.push((performance.now() - t) * 1e6 / n);
    }
    out.set(c.name, median(perFrame));
  }
  return out;
}

async function main(): Promise<void> {
  const rounds = Number(process.argv[2] ?? 7);
  const wanted = (process.argv[3] ?? "bridge,cli,router1,router3").split(",");
  const cases = [bridgeCase()];
  if (wanted.includes("cli")) cases.push(await cliCase());
  if (wanted.includes("router1")) cases.push(await routersCase(1));
  if (wanted.includes("router3")) cases.push(await routersCase(3));
  const ns = new Map<string, number[]>();
  const ratios = new Map<string, number[]>();
  for (let r = 0; r < rounds; r++) {
    const got = await round(cases);
    const base = got.get("bridge")!;
    for (const [name, v] of got) {
      ns.set(name, [...ns.get(name) ?? [], v]);
      ratios.set(name, [...ratios.get(name) ?? [], v / base]);
    }
  }
  const runtime = process.versions.bun !== undefined
    ? `Bun ${process.versions.bun}`
    : `Deno ${Deno.version.deno}`;
  process.stdout.write(`${runtime}, ${rounds} rounds, medians\n\n`);
  process.stdout.write("| case | what | ns a frame | frames a second | ratio to the bridge |\n");
  process.stdout.write("| ---- | ---- | ---------- | --------------- | ------------------- |\n");
  for (const c of cases) {
    const t = median(ns.get(c.name)!);
    const fps = 1e9 / t;
    const rate = fps >= 1e6 ? `${(fps / 1e6).toFixed(2)} M` : `${(fps / 1e3).toFixed(0)} k`;
    const ratio = median(ratios.get(c.name)!);
    process.stdout.write(`| ${c.name} | ${c.what} | ${t.toFixed(0)} | ${rate} | ${ratio.toFixed(1)}x |\n`);
  }
}

if (import.meta.main) await main();
