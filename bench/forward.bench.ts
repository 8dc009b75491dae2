/**
 * Frame forwarding in the simulated bridge (STYLE R15, recipes/environment.md 9): unicast between two
 * access ports is the baseline (target: at least 5 million frames/s on one core in Deno); flooding to
 * 16 ports (untagged, and tagged onto trunks, which copies each frame into the scratch arena),
 * forwarding with a mirror and an observer attached, an access-to-trunk tag push, and a crossing of a
 * patch link are compared with it in the same run. Each call forwards {@linkcode FRAMES} 64-byte
 * frames; figures are per frame sent in.
 *
 * On import, {@linkcode heapGrowth} forwards a million unicast frames and throws if the heap grew by
 * more than 1 MiB: the forwarding path must not allocate.
 *
 * `deno bench bench/forward.bench.ts`, or medians with `deno run -A scripts/bench_report.ts`.
 *
 * @module
 */
import process from "node:process";
import { SimBridge } from "../sim/bridge.ts";
import { SimNetwork } from "../sim/network.ts";
import type { FrameSink } from "../sim/types.ts";
import { bench } from "./_bench.ts";

/** Frames forwarded per benchmark call. */
export const FRAMES = 10_000;

/** Counts what it receives (reading one byte, so the delivery is not optimised away). */
class CountingSink implements FrameSink {
  frames = 0;
  bytes = 0;
  receive(buf: Uint8Array, off: number, len: number): void {
    this.frames++;
    this.bytes += buf[off + len - 1]!;
  }
}

function frame(dst: number, src: number): Uint8Array {
  const f = new Uint8Array(64);
  f.set([2, 0, 0, 0, 0, dst], 0);
  if (dst === 0xff) f.fill(0xff, 0, 6);
  f.set([2, 0, 0, 0, 0, src], 6);
  f[12] = 0x08;
  for (let i = 14; i < 64; i++) f[i] = i;
  return f;
}

/** A bridge with access ports `a` and `b` on VLAN 100, both MACs learned; returns it and a->b's frame. */
function unicastPair(): { br: SimBridge; a: number; f: Uint8Array; sink: CountingSink } {
  const br = new SimBridge("br0");
  const a = br.addPort("a", { kind: "access", tag: 100 });
  br.addPort("b", { kind: "access", tag: 100 });
  const sink = new CountingSink();
  br.attach("a", new CountingSink());
  br.attach("b", sink);
  br.transmitFrom("a", frame(0xff, 1));
  br.transmitFrom("b", frame(0xff, 2));
  return { br, a, f: frame(2, 1), sink };
}

/** Runs a full garbage collection where the runtime exposes one (Bun; Deno with `--v8-flags=--expose-gc`). */
function collectGarbage(): void {
  const g = globalThis as { gc?: () => void; Bun?: { gc(force: boolean): void } };
  if (g.gc !== undefined) g.gc();
  else g.Bun?.gc(true);
}

/**
 * Forwards `frames` unicast frames access -> access and returns how much the heap grew, in bytes
 * (after a garbage collection when the runtime exposes one).
 */
export function heapGrowth(frames: number): number {
  const { br, a, f } = unicastPair();
  for (let i = 0; i < 100_000; i++) br.transmitFrom(a, f, 0, 64); // warm up
  collectGarbage();
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < frames; i++) br.transmitFrom(a, f, 0, 64);
  const after = process.memoryUsage().heapUsed;
  return after - before;
}

const growth = heapGrowth(1_000_000);
if (growth > 1 << 20) {
  throw new Error(
    `Cannot accept the forwarding path: the heap grew by ${growth} bytes over 1000000 frames (it must not allocate)`,
  );
}

const uni = unicastPair();
bench({
  name: "unicast access -> access",
  group: "forward",
  baseline: true,
  ops: FRAMES,
  fn() {
    const { br, a, f } = uni;
    for (let i = 0; i < FRAMES; i++) br.transmitFrom(a, f, 0, 64);
  },
});

function floodBridge(kind: "access" | "trunk"): { br: SimBridge; src: number; f: Uint8Array } {
  const br = new SimBridge("br0");
  const src = br.addPort("src", { kind: "access", tag: 100 });
  br.attach("src", new CountingSink());
  for (let i = 0; i < 16; i++) {
    br.addPort(`p${i}`, kind === "access" ? { kind: "access", tag: 100 } : { kind: "trunk" });
    br.attach(`p${i}`, new CountingSink());
  }
  return { br, src, f: frame(0xff, 1) };
}

const floodAccess = floodBridge("access");
bench({
  name: "broadcast flooded to 16 access ports",
  group: "forward",
  ops: FRAMES,
  fn() {
    const { br, src, f } = floodAccess;
    for (let i = 0; i < FRAMES; i++) br.transmitFrom(src, f, 0, 64);
  },
});

const floodTrunk = floodBridge("trunk");
bench({
  name: "broadcast flooded to 16 trunk ports (tagged: one rewrite, 16 copies)",
  group: "forward",
  ops: FRAMES,
  fn() {
    const { br, src, f } = floodTrunk;
    for (let i = 0; i < FRAMES; i++) br.transmitFrom(src, f, 0, 64);
  },
});

/** A VLAN of 4,000 VMs' ports, and 4,000 more on another VLAN that a flood must not walk. */
function bigFlood(): { br: SimBridge; src: number; f: Uint8Array } {
  const br = new SimBridge("br0");
  const src = br.addPort("src", { kind: "access", tag: 100 });
  br.attach("src", new CountingSink());
  for (let i = 0; i < 4000; i++) {
    br.addPort(`v${i}`, { kind: "access", tag: 100 });
    br.attach(`v${i}`, new CountingSink());
    br.addPort(`o${i}`, { kind: "access", tag: 200 });
    br.attach(`o${i}`, new CountingSink());
  }
  return { br, src, f: frame(0xff, 1) };
}

const flood4000 = bigFlood();
/** Broadcasts per call of the 4,000-port flood: each is delivered 4,000 times. */
const BIG_FLOODS = 25;
bench({
  name: "broadcast flooded to 4,000 VMs of its VLAN (4,000 others on another VLAN), per copy delivered",
  group: "forward",
  ops: BIG_FLOODS * 4000,
  fn() {
    const { br, src, f } = flood4000;
    for (let i = 0; i < BIG_FLOODS; i++) br.transmitFrom(src, f, 0, 64);
  },
});

const mirrored = unicastPair();
mirrored.br.addPort("ids", { kind: "access", tag: 100 });
mirrored.br.attach("ids", new CountingSink());
mirrored.br.addMirror("mirror-ids", { selectSrc: ["a"], selectDst: ["a"], output: "ids" });
mirrored.br.transmitFrom("a", frame(0xff, 1));
mirrored.br.transmitFrom("b", frame(0xff, 2));
let observed = 0;
mirrored.br.observe("b", (_dir, buf, off) => observed += buf[off]!);
bench({
  name: "unicast with a mirror of the sender and an observer on the receiver",
  group: "forward",
  ops: FRAMES,
  fn() {
    const { br, a, f } = mirrored;
    for (let i = 0; i < FRAMES; i++) br.transmitFrom(a, f, 0, 64);
  },
});

const toTrunk = unicastPair();
toTrunk.br.setMode("b", { kind: "trunk" });
toTrunk.br.transmitFrom(
  "b",
  (() => {
    const f = frame(0xff, 2);
    const t = new Uint8Array(68);
    t.set(f.subarray(0, 12));
    t.set([0x81, 0x00, 0, 100], 12);
    t.set(f.subarray(12), 16);
    return t;
  })(),
);
bench({
  name: "unicast access -> trunk (tag pushed)",
  group: "forward",
  ops: FRAMES,
  fn() {
    const { br, a, f } = toTrunk;
    for (let i = 0; i < FRAMES; i++) br.transmitFrom(a, f, 0, 64);
  },
});

const net = new SimNetwork();
const br0 = net.addBridge("br0");
const br1 = net.addBridge("br1");
const vm1 = br0.addPort("vm1", { kind: "access", tag: 100 });
br0.addPort("p0", { kind: "trunk", trunks: [100] });
br1.addPort("p1", { kind: "trunk", trunks: [100] });
br1.addPort("vm6", { kind: "access", tag: 100 });
net.patch("br0", "p0", "br1", "p1");
br0.attach("vm1", new CountingSink());
br1.attach("vm6", new CountingSink());
br0.transmitFrom("vm1", frame(0xff, 1));
br1.transmitFrom("vm6", frame(0xff, 6));
const acrossFrame = frame(6, 1);
bench({
  name: "unicast across a patch link (tag pushed and popped)",
  group: "forward",
  ops: FRAMES,
  fn() {
    for (let i = 0; i < FRAMES; i++) br0.transmitFrom(vm1, acrossFrame, 0, 64);
  },
});

/** What the sinks and the observer read, so that no delivery can be optimised away. */
export function consumed(): number {
  return uni.sink.bytes + observed;
}
