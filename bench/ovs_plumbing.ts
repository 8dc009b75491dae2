/**
 * What plumbing many container NICs into real Open vSwitch costs: labwire against one `ovs-vsctl`
 * process per port (minimega's way), measured in the same run on a private OVS (scripts/ovs-sandbox.sh).
 * Needs root and Open vSwitch; prints a Markdown report.
 *
 *   deno run -A bench/ovs_plumbing.ts [NICS] [ROUNDS]      (defaults: 200 NICs, 5 rounds; medians)
 *
 * Each round, on one bridge:
 * - **per port** (the baseline): 200 veth pairs made beforehand (not timed), then
 *   `ovs-vsctl --timeout=5 add-port BR P tag=101` once per port;
 * - **labwire's port step**: the same 200 pairs put on the bridge by {@linkcode Ovs.addPorts} (one
 *   transaction, one check of every interface);
 * - **labwire's `vm launch container 200`**: the whole launch through the lab model (namespaces, veth
 *   pairs, checksum offload off, quiet endpoints, ports), with the time its `ovs-vsctl` processes took
 *   and how many processes of each program it ran; then `clear all`, timed too.
 *
 * @module
 */

import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import process from "node:process";
import { createExec, nodeRunner, type Runner } from "../lib/exec.ts";
import { IpBatch } from "../lib/real/ip.ts";
import { LabModel } from "../lib/lab/model.ts";
import { Netns } from "../lib/real/netns.ts";
import { Ovs } from "../lib/ovs.ts";
import { OvsBackend } from "../lib/real/ovs_backend.ts";

const NICS = Number(process.argv[2] ?? 200);
const ROUNDS = Number(process.argv[3] ?? 5);
const ROOT = path.join(import.meta.dirname!, "..");
const BRIDGE = "lwbench0";
/** The lab's own bridge: a launch makes it, as a first launch does. */
const LAB_BRIDGE = "lwbench1";

/** Programs run, with the milliseconds they took, by program name. */
class Tally {
  readonly runs = new Map<string, { count: number; ms: number }>();
  /** A runner that runs argv for real and adds its time to the tally. */
  readonly runner: Runner = {
    run: async (argv, options) => {
      const started = performance.now();
      try {
        return await nodeRunner.run(argv, options);
      } finally {
        const t = this.runs.get(argv[0]!) ?? { count: 0, ms: 0 };
        t.count++;
        t.ms += performance.now() - started;
        this.runs.set(argv[0]!, t);
      }
    },
  };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)]!;
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await fn();
  return performance.now() - started;
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error("Cannot run the Open vSwitch benchmark: it needs root");
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "labwire-bench-"));
  const sandbox = path.join(dir, "ovs");
  const started = await nodeRunner.run(
    ["bash", path.join(ROOT, "scripts/ovs-sandbox.sh"), "start", sandbox],
    {
      timeoutMs: 16 * 60_000,
    },
  );
  if (started.code !== 0) throw new Error(`Cannot start an Open vSwitch sandbox: ${started.stderr}`);
  const env: Record<string, string> = {};
  for (const m of started.stdout.matchAll(/^export (\w+)=(.*)$/gm)) env[m[1]!] = m[2]!;
  const exec = createExec();
  const ovs = new Ovs({ exec, env });
  const pairs = Array.from({ length: NICS }, (_, i) => `lwbp${i}`);
  const results = {
    perPort: [] as number[],
    ports: [] as number[],
    launch: [] as number[],
    clear: [] as number[],
  };
  const launchOvs: number[] = [];
  let processes = new Map<string, { count: number; ms: number }>();
  try {
    await ovs.addBridge(BRIDGE);
    for (let round = 0; round < ROUNDS; round++) {
      // the same veth pairs for both ways of putting them on the bridge; their making is not timed
      const make = new IpBatch({ exec });
      for (const p of pairs) make.add("link", "add", p, "type", "veth", "peer", "name", `${p}x`);
      for (const p of pairs) make.add("link", "set", "dev", p, "up");
      await make.run();
      results.perPort.push(
        await timed(async () => {
          for (const p of pairs) {
            await exec("ovs-vsctl").args("--timeout=5", "add-port", BRIDGE, p, "tag=101").env(env).run();
          }
        }),
      );
      await ovs.deletePorts(BRIDGE, pairs);
      results.ports.push(
        await timed(() =>
          ovs.addPorts(BRIDGE, pairs.map((name) => ({ name, mode: { kind: "access", tag: 101 } as const })))
        ),
      );
      await ovs.deletePorts(BRIDGE, pairs);
      await new Netns({ exec }).unplug(pairs);

      // the whole launch through the lab model
      const tally = new Tally();
      const lab = new LabModel({
        backend: new OvsBackend({ exec: createExec({ runner: tally.runner }), env, namespacePrefix: "lwb-" }),
        macSeed: round,
      });
      await lab.configureNetworks("minimega", [`${LAB_BRIDGE},LAN`]);
      results.launch.push(await timed(() => lab.launchVms("minimega", "container", String(NICS))));
      launchOvs.push(tally.runs.get("ovs-vsctl")?.ms ?? 0);
      processes = new Map([...tally.runs].map(([program, t]) => [program, { ...t }]));
      results.clear.push(await timed(() => lab.clearAll()));
      await lab.close();
    }
  } finally {
    await new Netns({ exec }).unplug(pairs).catch(() => {});
    await ovs.deleteBridge(BRIDGE).catch(() => {});
    await nodeRunner.run(["bash", path.join(ROOT, "scripts/ovs-sandbox.sh"), "stop", sandbox], {
      timeoutMs: 60_000,
    });
    fs.rmSync(dir, { recursive: true, force: true });
  }

  const runtime = process.versions.bun !== undefined
    ? `Bun ${process.versions.bun}`
    : `Deno ${process.versions.deno}`;
  const perPort = median(results.perPort);
  const ports = median(results.ports);
  const ms = (v: number) => `${v.toFixed(0)} ms`;
  const counts = [...processes].sort(([a], [b]) => (a < b ? -1 : 1)).map(([p, t]) => `${t.count} ${p}`).join(
    ", ",
  );
  const lines = [
    `${runtime}, ${new Date().toISOString().slice(0, 10)}, ${NICS} NICs, medians of ${ROUNDS} rounds`,
    "",
    "| what | median | ratio |",
    "|---|---|---|",
    `| ${NICS} ports, one ovs-vsctl each (baseline) | ${ms(perPort)} | 1x |`,
    `| ${NICS} ports, labwire (Ovs.addPorts: 2 ovs-vsctl) | ${ms(ports)} | ${
      (perPort / ports).toFixed(1)
    }x faster |`,
    `| \`vm launch container ${NICS}\`, its ovs-vsctl processes | ${ms(median(launchOvs))} | ${
      (perPort / median(launchOvs)).toFixed(1)
    }x faster |`,
    `| \`vm launch container ${NICS}\`, all of it | ${ms(median(results.launch))} | |`,
    `| \`clear all\` of those ${NICS} VMs | ${ms(median(results.clear))} | |`,
    "",
    `Processes of one launch: ${counts} (4 of the ovs-vsctl once per process: the check that OVS answers ` +
    "and the datapath probe; 2 make the bridge; 2 add and check every port).",
  ];
  process.stdout.write(`${lines.join("\n")}\n`);
}

if (import.meta.main) await main();
