import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { SimBridge } from "../sim/bridge.ts";
import { SimNetwork } from "../sim/network.ts";
import { VirtualClock } from "../sim/clock.ts";
import type { FrameSink } from "../sim/types.ts";

// ---------------------------------------------------------------- frames built by hand

/** A VLAN tag: TPID, VLAN ID, priority. */
type Tag = readonly [tpid: number, vid: number, pcp?: number];

const BCAST = "ff:ff:ff:ff:ff:ff";
const Q = 0x8100;
const AD = 0x88a8;

function mac(n: number): string {
  return `02:00:00:00:00:${n.toString(16).padStart(2, "0")}`;
}

function macBytes(s: string): number[] {
  return s.split(":").map((h) => parseInt(h, 16));
}

/** An Ethernet frame: dst, src, the tags in order, EtherType 0x0800, then `payloadLen` patterned bytes. */
function eth(dst: string, src: string, tags: readonly Tag[] = [], payloadLen = 46): Uint8Array {
  const f = new Uint8Array(14 + 4 * tags.length + payloadLen);
  f.set(macBytes(dst), 0);
  f.set(macBytes(src), 6);
  let o = 12;
  for (const [tpid, vid, pcp = 0] of tags) {
    const tci = pcp << 13 | vid;
    f.set([tpid >> 8, tpid & 255, tci >> 8, tci & 255], o);
    o += 4;
  }
  f.set([0x08, 0x00], o);
  o += 2;
  for (let i = 0; i < payloadLen; i++) f[o + i] = (i * 7 + 3) & 255;
  return f;
}

/** `src>dst` and the tags as `tpid/vid`, e.g. `02:00:00:00:00:01>ff:ff:ff:ff:ff:ff 8100/100`. */
function show(f: Uint8Array): string {
  const hex = (o: number) =>
    Array.from(f.subarray(o, o + 6), (b) => b.toString(16).padStart(2, "0")).join(":");
  let s = `${hex(6)}>${hex(0)}`;
  for (let o = 12; o + 4 <= f.length; o += 4) {
    const tpid = f[o]! << 8 | f[o + 1]!;
    if (tpid !== Q && tpid !== AD) break;
    const tci = f[o + 2]! << 8 | f[o + 3]!;
    s += ` ${tpid.toString(16)}/${tci & 0xfff}${tci >> 13 ? `p${tci >> 13}` : ""}`;
  }
  return s;
}

/** An endpoint that keeps a copy of everything it receives. */
class Recorder implements FrameSink {
  readonly frames: Uint8Array[] = [];
  receive(buf: Uint8Array, off: number, len: number): void {
    this.frames.push(buf.slice(off, off + len));
  }
  get shown(): string[] {
    return this.frames.map(show);
  }
  clear(): void {
    this.frames.length = 0;
  }
}

/** Adds ports with recorders attached; returns the recorders by port name. */
function wire(
  br: SimBridge,
  ports: Record<string, Parameters<SimBridge["addPort"]>[1]>,
): Record<string, Recorder> {
  const out: Record<string, Recorder> = {};
  for (const [name, mode] of Object.entries(ports)) {
    br.addPort(name, mode);
    br.attach(name, out[name] = new Recorder());
  }
  return out;
}

function counts(rec: Record<string, Recorder>): Record<string, number> {
  return Object.fromEntries(Object.entries(rec).map(([k, r]) => [k, r.frames.length]));
}

const access = (tag: number) => ({ kind: "access", tag }) as const;
const trunk = (...trunks: number[]) => ({ kind: "trunk", ...(trunks.length ? { trunks } : {}) }) as const;
const qinq = (tag: number) => ({ kind: "dot1q-tunnel", tag }) as const;

// ---------------------------------------------------------------- forwarding

describe("SimBridge forwarding on access ports", () => {
  test("transmitFrom() delivers a broadcast to the other ports of the VLAN only", () => {
    const br = new SimBridge("br0");
    const r = wire(br, { v1: access(100), v2: access(100), v3: access(200), v4: access(100) });
    const f = eth(BCAST, mac(1));
    br.transmitFrom("v1", f);
    assert.deepEqual(counts(r), { v1: 0, v2: 1, v3: 0, v4: 1 });
    // untagged and byte for byte what was sent
    assert.deepEqual(r.v2!.frames[0], f);
  });

  test("transmitFrom() keeps VLANs apart (2.1: VLAN 100 -> 200 does not pass)", () => {
    const br = new SimBridge("br0");
    const r = wire(br, { v1: access(100), v2: access(100), v3: access(200) });
    br.transmitFrom("v3", eth(BCAST, mac(3)));
    br.transmitFrom("v3", eth(mac(1), mac(3)));
    assert.deepEqual(counts(r), { v1: 0, v2: 0, v3: 0 });
    br.transmitFrom("v1", eth(mac(3), mac(1)));
    assert.deepEqual(counts(r), { v1: 0, v2: 1, v3: 0 });
  });

  test("transmitFrom() drops a frame tagged with a VLAN on an access port", () => {
    const br = new SimBridge("br0");
    const r = wire(br, { v1: access(100), v2: access(100), t: trunk() });
    br.transmitFrom("v1", eth(BCAST, mac(1), [[Q, 100]]));
    br.transmitFrom("v1", eth(BCAST, mac(1), [[Q, 5]]));
    br.transmitFrom("v1", eth(BCAST, mac(1), [[AD, 100]]));
    assert.deepEqual(counts(r), { v1: 0, v2: 0, t: 0 });
    assert.equal(br.counters("v1").drops.vlan, 3);
    assert.equal(br.counters("v1").rx, 3);
    // not learned either
    assert.deepEqual(br.fdb(), []);
  });

  test("transmitFrom() accepts a priority tag (VLAN ID 0) on an access port", () => {
    const br = new SimBridge("br0");
    const r = wire(br, { v1: access(100), v2: access(100), t: trunk() });
    br.transmitFrom("v1", eth(BCAST, mac(1), [[Q, 0, 5]]));
    assert.deepEqual(r.v2!.frames, [eth(BCAST, mac(1))]);
    assert.deepEqual(r.t!.shown, [`${mac(1)}>${BCAST} 8100/100p5`]);
  });

  test("transmitFrom() floods unknown unicast, never back out of the ingress port", () => {
    const br = new SimBridge("br0");
    const r = wire(br, { v1: access(100), v2: access(100), v3: access(100), v4: access(200) });
    br.transmitFrom("v1", eth(mac(9), mac(1)));
    assert.deepEqual(counts(r), { v1: 0, v2: 1, v3: 1, v4: 0 });
  });

  test("transmitFrom() sends unicast only to the port the destination was learned on", () => {
    const br = new SimBridge("br0");
    const r = wire(br, { v1: access(100), v2: access(100), v3: access(100) });
    br.transmitFrom("v2", eth(BCAST, mac(2))); // v2's MAC is learned
    for (const x of Object.values(r)) x.clear();
    br.transmitFrom("v1", eth(mac(2), mac(1)));
    assert.deepEqual(counts(r), { v1: 0, v2: 1, v3: 0 });
    br.transmitFrom("v2", eth(mac(1), mac(2))); // v1 was learned from the unicast
    assert.deepEqual(counts(r), { v1: 1, v2: 1, v3: 0 });
    assert.deepEqual(br.fdb().map(({ port, vlan, mac }) => ({ port, vlan, mac })), [
      { port: "v1", vlan: 100, mac: mac(1) },
      { port: "v2", vlan: 100, mac: mac(2) },
    ]);
  });

  test("transmitFrom() learns per VLAN: the same MAC on two VLANs is two entries", () => {
    const br = new SimBridge("br0");
    const r = wire(br, { a1: access(100), a2: access(100), b1: access(200), b2: access(200) });
    br.transmitFrom("a1", eth(BCAST, mac(7)));
    br.transmitFrom("b1", eth(BCAST, mac(7)));
    for (const x of Object.values(r)) x.clear();
    br.transmitFrom("a2", eth(mac(7), mac(2)));
    br.transmitFrom("b2", eth(mac(7), mac(3)));
    assert.deepEqual(counts(r), { a1: 1, a2: 0, b1: 1, b2: 0 });
  });

  test("transmitFrom() moves a MAC that shows up on another port", () => {
    const br = new SimBridge("br0");
    const r = wire(br, { v1: access(100), v2: access(100), v3: access(100) });
    br.transmitFrom("v1", eth(BCAST, mac(1)));
    br.transmitFrom("v3", eth(BCAST, mac(1))); // the VM moved
    for (const x of Object.values(r)) x.clear();
    br.transmitFrom("v2", eth(mac(1), mac(2)));
    assert.deepEqual(counts(r), { v1: 0, v2: 0, v3: 1 });
  });

  test("transmitFrom() never learns a multicast source", () => {
    const br = new SimBridge("br0");
    const r = wire(br, { v1: access(100), v2: access(100), v3: access(100) });
    br.transmitFrom("v1", eth(BCAST, "03:00:00:00:00:01"));
    assert.deepEqual(br.fdb(), []);
    br.transmitFrom("v2", eth("03:00:00:00:00:01", mac(2)));
    assert.deepEqual(counts(r), { v1: 1, v2: 1, v3: 2 });
  });

  test("transmitFrom() drops unicast to a MAC learned on the ingress port", () => {
    const br = new SimBridge("br0");
    const r = wire(br, { v1: access(100), v2: access(100) });
    br.transmitFrom("v1", eth(BCAST, mac(1)));
    br.transmitFrom("v1", eth(mac(1), mac(3)));
    assert.equal(r.v2!.frames.length, 1);
    assert.equal(br.counters("v1").drops["same-port"], 1);
  });

  test("transmitFrom() drops frames to reserved 802.1D addresses (forward-bpdu=false)", () => {
    const br = new SimBridge("br0");
    const r = wire(br, { v1: access(100), v2: access(100) });
    br.transmitFrom("v1", eth("01:80:c2:00:00:00", mac(1)));
    br.transmitFrom("v1", eth("01:80:c2:00:00:0e", mac(1)));
    br.transmitFrom("v1", eth("01:80:c2:00:00:10", mac(1))); // outside the range: flooded
    assert.equal(r.v2!.frames.length, 1);
    assert.equal(br.counters("v1").drops["reserved-dst"], 2);
  });

  test("transmitFrom() drops runts and cut-short tags as malformed", () => {
    const br = new SimBridge("br0");
    const r = wire(br, { t1: trunk(), t2: trunk() });
    br.transmitFrom("t1", eth(BCAST, mac(1)), 0, 13);
    br.transmitFrom("t1", eth(BCAST, mac(1), [[Q, 100]]), 0, 17);
    assert.equal(r.t2!.frames.length, 0);
    assert.equal(br.counters("t1").drops.malformed, 2);
  });

  test("transmitFrom() forwards a frame found at an offset in a larger buffer", () => {
    const br = new SimBridge("br0");
    const r = wire(br, { v1: access(100), t: trunk() });
    const f = eth(BCAST, mac(1));
    const big = new Uint8Array(10 + f.length + 7);
    big.set(f, 10);
    br.transmitFrom(br.portIndex("v1"), big, 10, f.length);
    assert.deepEqual(r.t!.frames, [eth(BCAST, mac(1), [[Q, 100]])]);
  });

  test("a port with nothing attached drops what it would transmit", () => {
    const br = new SimBridge("br0");
    br.addPort("v1", access(100));
    br.addPort("v2", access(100));
    const seen: string[] = [];
    br.observe("v2", (dir) => seen.push(dir));
    br.transmitFrom("v1", eth(BCAST, mac(1)));
    assert.deepEqual(seen, []);
    assert.deepEqual(br.counters("v2"), {
      rx: 0,
      tx: 0,
      dropped: 1,
      drops: {
        "no-sink": 1,
        vlan: 0,
        "mirror-output": 0,
        "reserved-dst": 0,
        malformed: 0,
        oversize: 0,
        "same-port": 0,
        loop: 0,
      },
    });
  });
});

describe("SimBridge flood order", () => {
  test("a flood reaches the VLAN's access ports and the trunks in the order the ports were added", () => {
    const br = new SimBridge("br0");
    const order: string[] = [];
    const modes = {
      a1: access(100),
      t1: trunk(),
      b1: access(200),
      a2: access(100),
      t2: trunk(100),
      a3: access(100),
      t3: trunk(200),
    };
    for (const [name, mode] of Object.entries(modes)) {
      br.addPort(name, mode);
      br.attach(name, { receive: () => void order.push(name) });
    }
    br.transmitFrom("a1", eth(BCAST, mac(1)));
    assert.deepEqual(order, ["t1", "a2", "t2", "a3"]);
    // a port moved to another VLAN keeps its place; a removed index is reused by the next port added
    order.length = 0;
    br.setMode("b1", access(100));
    br.removePort("a2");
    br.addPort("a4", access(100));
    br.attach("a4", { receive: () => void order.push("a4") });
    assert.equal(br.portIndex("a4"), 3);
    br.transmitFrom("a3", eth(BCAST, mac(3)));
    assert.deepEqual(order, ["a1", "t1", "b1", "t2", "a4"]);
  });

  test("ports removed and added in any order are flooded in add order (against a plain list)", () => {
    const br = new SimBridge("br0");
    const live: string[] = [];
    const got: string[] = [];
    let seed = 7;
    const rand = (n: number) => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
    for (let i = 0; i < 400; i++) {
      if (live.length > 2 && rand(3) === 0) {
        const name = live.splice(rand(live.length), 1)[0]!;
        br.removePort(name);
        continue;
      }
      const name = `p${i}`;
      br.addPort(name, rand(4) === 0 ? trunk() : access(100 + rand(2)));
      br.attach(name, { receive: () => void got.push(name) });
      live.push(name);
    }
    const from = live[0]!;
    br.transmitFrom(from, eth(BCAST, "02:00:00:00:ff:01"));
    const info = new Map(br.ports().map((p) => [p.name, p.mode]));
    const vlan = (info.get(from) as { tag: number }).tag;
    const want = live.filter((n) => {
      const m = info.get(n)!;
      return n !== from && (m.kind === "trunk" || (m.kind === "access" && m.tag === vlan));
    });
    assert.deepEqual(got, want);
    assert.deepEqual(br.ports().map((p) => p.name), live);
  });
});

describe("SimBridge trunks", () => {
  test("an access frame leaves a trunk tagged with its VLAN; a tagged one enters its VLAN", () => {
    const br = new SimBridge("br0");
    const r = wire(br, { v1: access(100), v3: access(200), t: trunk() });
    br.transmitFrom("v1", eth(BCAST, mac(1)));
    br.transmitFrom("v3", eth(BCAST, mac(3)));
    assert.deepEqual(r.t!.frames, [eth(BCAST, mac(1), [[Q, 100]]), eth(BCAST, mac(3), [[Q, 200]])]);
    br.transmitFrom("t", eth(BCAST, mac(6), [[Q, 200]]));
    assert.deepEqual(r.v3!.frames, [eth(BCAST, mac(6))]);
    assert.equal(r.v1!.frames.length, 0);
  });

  test("a trunks list carries only its VLANs, and drops others arriving (2.5: trunks=100 blocks 200)", () => {
    const br = new SimBridge("br0");
    const r = wire(br, { v1: access(100), v3: access(200), t: trunk(100) });
    br.transmitFrom("v3", eth(BCAST, mac(3)));
    assert.equal(r.t!.frames.length, 0);
    br.transmitFrom("t", eth(BCAST, mac(7), [[Q, 200]]));
    assert.equal(r.v3!.frames.length, 0);
    assert.equal(br.counters("t").drops.vlan, 1);
    br.transmitFrom("t", eth(BCAST, mac(6), [[Q, 100]]));
    assert.equal(r.v1!.frames.length, 1);
    // an empty list is every VLAN
    br.setMode("t", { kind: "trunk", trunks: [] });
    assert.deepEqual(br.ports().find((p) => p.name === "t")!.mode, { kind: "trunk" });
    br.transmitFrom("v3", eth(BCAST, mac(3)));
    assert.equal(r.t!.frames.length, 1);
  });

  test("untagged frames on a trunk are VLAN 0 and stay untagged (minimega's VLAN 0 NICs)", () => {
    const br = new SimBridge("br0");
    const r = wire(br, { vm0: trunk(), vm1: trunk(), v100: access(100), t100: trunk(100) });
    const f = eth(BCAST, mac(1));
    br.transmitFrom("vm0", f);
    assert.deepEqual(r.vm1!.frames, [f]);
    assert.equal(r.v100!.frames.length, 0);
    assert.equal(r.t100!.frames.length, 0); // trunks=100 does not carry VLAN 0
    br.transmitFrom("t100", f);
    assert.equal(br.counters("t100").drops.vlan, 1);
    // and a trunk passes tagged frames between trunks untouched
    const tagged = eth(BCAST, mac(2), [[Q, 300, 6]]);
    br.transmitFrom("vm1", tagged);
    assert.deepEqual(r.vm0!.frames, [tagged]);
  });

  test("an access port with tag 0 is VLAN 0: untagged on trunks", () => {
    const br = new SimBridge("br0");
    const r = wire(br, { a0: access(0), t: trunk() });
    br.transmitFrom("a0", eth(BCAST, mac(1)));
    assert.deepEqual(r.t!.frames, [eth(BCAST, mac(1))]);
  });
});

describe("SimBridge dot1q-tunnel (QinQ) ports", () => {
  test("a frame in gets an outer 802.1ad tag, inner tags kept", () => {
    const br = new SimBridge("br0");
    const r = wire(br, { q: qinq(300), t: trunk() });
    br.transmitFrom("q", eth(BCAST, mac(1), [[Q, 5]]));
    br.transmitFrom("q", eth(BCAST, mac(1)));
    assert.deepEqual(r.t!.frames, [eth(BCAST, mac(1), [[AD, 300], [Q, 5]]), eth(BCAST, mac(1), [[AD, 300]])]);
  });

  test("a frame out has its outer tag popped, inner tags kept", () => {
    const br = new SimBridge("br0");
    const r = wire(br, { q: qinq(300), q2: qinq(301), t: trunk() });
    br.transmitFrom("t", eth(BCAST, mac(6), [[AD, 300], [Q, 5]]));
    br.transmitFrom("t", eth(BCAST, mac(6), [[Q, 300], [Q, 7]]));
    br.transmitFrom("t", eth(BCAST, mac(6), [[Q, 300]]));
    assert.deepEqual(r.q!.frames, [
      eth(BCAST, mac(6), [[Q, 5]]),
      eth(BCAST, mac(6), [[Q, 7]]),
      eth(BCAST, mac(6)),
    ]);
    assert.equal(r.q2!.frames.length, 0);
  });

  test("two QinQ ports of one outer VLAN pass each other's inner tags untouched", () => {
    const br = new SimBridge("br0");
    const r = wire(br, { q1: qinq(300), q2: qinq(300) });
    const f = eth(BCAST, mac(1), [[Q, 5, 3]]);
    br.transmitFrom("q1", f);
    assert.deepEqual(r.q2!.frames, [f]);
  });

  test("access ports of the outer VLAN get untagged frames only (OVS xbundle_includes_vlan)", () => {
    const br = new SimBridge("br0");
    const r = wire(br, { q: qinq(300), a: access(300) });
    br.transmitFrom("q", eth(BCAST, mac(1)));
    br.transmitFrom("q", eth(BCAST, mac(1), [[Q, 5]]));
    assert.deepEqual(r.a!.frames, [eth(BCAST, mac(1))]);
    br.transmitFrom("a", eth(BCAST, mac(2)));
    assert.deepEqual(r.q!.frames, [eth(BCAST, mac(2))]);
  });

  test("learning uses the outer VLAN", () => {
    const br = new SimBridge("br0");
    wire(br, { q: qinq(300), t: trunk() });
    br.transmitFrom("q", eth(BCAST, mac(1), [[Q, 5]]));
    assert.deepEqual(br.fdb().map((e) => [e.port, e.vlan, e.mac]), [["q", 300, mac(1)]]);
  });
});

describe("SimBridge MAC ageing", () => {
  test("a learned MAC is forgotten 300 s (virtual) after it was last seen", () => {
    const clock = new VirtualClock();
    const br = new SimBridge("br0", { clock });
    const r = wire(br, { v1: access(100), v2: access(100), v3: access(100) });
    br.transmitFrom("v2", eth(BCAST, mac(2)));
    clock.run(299_999_999_999);
    for (const x of Object.values(r)) x.clear();
    br.transmitFrom("v1", eth(mac(2), mac(1)));
    assert.deepEqual(counts(r), { v1: 0, v2: 1, v3: 0 });
    clock.run(300_000_000_000);
    br.transmitFrom("v1", eth(mac(2), mac(1)));
    assert.deepEqual(counts(r), { v1: 0, v2: 2, v3: 1 });
    assert.deepEqual(br.fdb().map((e) => e.mac), [mac(1)]);
  });

  test("traffic from a MAC keeps its entry fresh", () => {
    const clock = new VirtualClock();
    const br = new SimBridge("br0", { clock, macAgingNs: 10e9 });
    const r = wire(br, { v1: access(100), v2: access(100), v3: access(100) });
    for (let t = 0; t <= 30e9; t += 5e9) {
      clock.run(t);
      br.transmitFrom("v2", eth(mac(9), mac(2)));
    }
    for (const x of Object.values(r)) x.clear();
    br.transmitFrom("v1", eth(mac(2), mac(1)));
    assert.deepEqual(counts(r), { v1: 0, v2: 1, v3: 0 });
    assert.equal(br.fdb().find((e) => e.mac === mac(2))!.ageNs, 0);
  });

  test("the table holds at most macTableSize MACs, evicting the least recently seen", () => {
    const clock = new VirtualClock();
    const br = new SimBridge("br0", { clock, macTableSize: 3 });
    wire(br, { v1: access(100), v2: access(100) });
    for (let i = 1; i <= 4; i++) {
      clock.run(i * 1000);
      br.transmitFrom("v1", eth(BCAST, mac(i)));
    }
    assert.deepEqual(br.fdb().map((e) => e.mac), [mac(2), mac(3), mac(4)]);
  });
});

// ---------------------------------------------------------------- mirrors (recipes/environment.md 2.6, 2.6b)

/** web and ids and db on VLAN 10, x on VLAN 101; `tap mirror web ids` as minimega makes it. */
function mirrorLab(): { br: SimBridge; r: Record<string, Recorder> } {
  const br = new SimBridge("br0");
  const r = wire(br, { web: access(10), ids: access(10), db: access(10), x: access(101), x2: access(101) });
  br.addMirror("mirror-ids", { selectSrc: ["web"], selectDst: ["web"], output: "ids" });
  return { br, r };
}

describe("SimBridge mirrors", () => {
  test("a mirror copies what its source port receives and transmits, untagged to an access output", () => {
    const { br, r } = mirrorLab();
    br.transmitFrom("web", eth(BCAST, mac(1))); // web -> everyone
    br.transmitFrom("db", eth(mac(1), mac(3))); // db -> web
    br.transmitFrom("db", eth(mac(4), mac(3))); // db -> unknown: flooded to web, copied
    assert.deepEqual(r.ids!.frames, [eth(BCAST, mac(1)), eth(mac(1), mac(3)), eth(mac(4), mac(3))]);
    // traffic that does not touch web is not mirrored
    br.transmitFrom("db", eth(BCAST, mac(3)));
    assert.equal(r.ids!.frames.length, 4); // web gets that broadcast: a copy
    br.transmitFrom("x", eth(BCAST, mac(5)));
    assert.equal(r.ids!.frames.length, 4);
  });

  test("copies to a trunk output port carry the frame's VLAN tag", () => {
    const br = new SimBridge("br0");
    const r = wire(br, { v1: access(100), v2: access(100), mir: trunk() });
    br.addMirror("m1", { selectSrc: ["v1"], selectDst: ["v1"], output: "mir" });
    br.transmitFrom("v2", eth(BCAST, mac(2)));
    br.transmitFrom("v1", eth(mac(2), mac(1)));
    assert.deepEqual(r.mir!.shown, [`${mac(2)}>${BCAST} 8100/100`, `${mac(1)}>${mac(2)} 8100/100`]);
  });

  test("the output port is reserved: no normal traffic reaches it, what it sends is dropped, its MAC unlearned", () => {
    const { br, r } = mirrorLab();
    br.transmitFrom("ids", eth(BCAST, mac(2))); // the ids VM tries to talk
    assert.deepEqual(counts(r), { web: 0, ids: 0, db: 0, x: 0, x2: 0 });
    assert.equal(br.counters("ids").drops["mirror-output"], 1);
    assert.deepEqual(br.fdb(), []);
    br.transmitFrom("db", eth(mac(2), mac(3))); // unicast to ids's MAC: flooded, but not to ids
    br.transmitFrom("db", eth(BCAST, mac(3))); // a broadcast: to web (and a copy of it), not to ids itself
    assert.equal(r.web!.frames.length, 2);
    assert.deepEqual(r.ids!.frames, [eth(mac(2), mac(3)), eth(BCAST, mac(3))]); // both are copies of web's
    assert.equal(br.ports().find((p) => p.name === "ids")!.mirrorOutputOf[0], "mirror-ids");
  });

  test("copies of another VLAN's frames selected into the mirror reach the access output untagged", () => {
    const { br, r } = mirrorLab();
    br.removeMirror("mirror-ids");
    br.addMirror("mirror-ids", { selectSrc: ["web", "x"], selectDst: ["web", "x"], output: "ids" });
    br.transmitFrom("x", eth(BCAST, mac(5)));
    assert.deepEqual(r.ids!.frames, [eth(BCAST, mac(5))]);
    assert.equal(r.x2!.frames.length, 1);
  });

  test("a copy leaving the output port is mirrored again by select_all, with the output port's VLAN", () => {
    // the mirror to ids was made first; then a bridge capture: select_all to an untagged port
    const { br, r } = mirrorLab();
    br.removeMirror("mirror-ids");
    br.addMirror("mirror-ids", { selectSrc: ["web", "x"], selectDst: ["web", "x"], output: "ids" });
    br.addPort("cap", trunk());
    br.attach("cap", r.cap = new Recorder());
    br.addMirror("mirror-cap", { selectAll: true, output: "cap" });
    br.transmitFrom("x", eth(BCAST, mac(5)));
    // a frame of VLAN 101 shows up tagged 10 in the bridge capture, once
    assert.deepEqual(r.cap!.shown, [`${mac(5)}>${BCAST} 8100/10`]);
    assert.deepEqual(r.ids!.frames, [eth(BCAST, mac(5))]);
    assert.equal(r.x2!.frames.length, 1);
  });

  test("with the capture made first, the same frame is captured with its own VLAN (mirrors copy in index order)", () => {
    const { br, r } = mirrorLab();
    br.removeMirror("mirror-ids");
    br.addPort("cap", trunk());
    br.attach("cap", r.cap = new Recorder());
    br.addMirror("mirror-cap", { selectAll: true, output: "cap" });
    br.addMirror("mirror-ids", { selectSrc: ["web", "x"], selectDst: ["web", "x"], output: "ids" });
    br.transmitFrom("x", eth(BCAST, mac(5)));
    assert.deepEqual(r.cap!.shown, [`${mac(5)}>${BCAST} 8100/101`]);
  });

  test("a select_all capture sees every frame once, tagged with its VLAN", () => {
    const br = new SimBridge("br0");
    const r = wire(br, { v1: access(100), v2: access(100), v3: access(200), vm0: trunk(), cap: trunk() });
    br.addMirror("mirror-cap", { selectAll: true, output: "cap" });
    br.transmitFrom("v1", eth(BCAST, mac(1))); // flooded to v2 and vm0 (tagged): one copy
    br.transmitFrom("v2", eth(mac(1), mac(2)));
    br.transmitFrom("v3", eth(BCAST, mac(3)));
    br.transmitFrom("vm0", eth(BCAST, mac(4))); // VLAN 0: untagged
    br.transmitFrom("v1", eth(BCAST, mac(1), [[Q, 7]])); // dropped on ingress: not captured
    assert.deepEqual(r.cap!.shown, [
      `${mac(1)}>${BCAST} 8100/100`,
      `${mac(2)}>${mac(1)} 8100/100`,
      `${mac(3)}>${BCAST} 8100/200`,
      `${mac(4)}>${BCAST}`,
    ]);
  });

  test("select_all takes in ports added later", () => {
    const br = new SimBridge("br0");
    const r = wire(br, { v1: access(100), cap: trunk() });
    br.addMirror("all", { selectAll: true, output: "cap" });
    br.addPort("v2", access(100));
    br.attach("v2", new Recorder());
    br.transmitFrom("v2", eth(BCAST, mac(2)));
    assert.equal(r.cap!.frames.length, 1);
  });

  test("removeMirror() gives the output port its normal traffic back", () => {
    const { br, r } = mirrorLab();
    br.removeMirror("mirror-ids");
    assert.deepEqual(br.mirrors(), []);
    br.transmitFrom("db", eth(BCAST, mac(3)));
    assert.equal(r.ids!.frames.length, 1);
    br.transmitFrom("ids", eth(mac(3), mac(2)));
    assert.equal(r.db!.frames.length, 1);
  });

  test("mirrors() lists the mirrors in copy order", () => {
    const { br } = mirrorLab();
    assert.deepEqual(br.mirrors(), [
      { name: "mirror-ids", selectAll: false, selectSrc: ["web"], selectDst: ["web"], output: "ids" },
    ]);
  });

  test("addMirror() and removeMirror() reject unknown names with exact errors", () => {
    const { br } = mirrorLab();
    assert.throws(() => br.addMirror("mirror-ids", { selectSrc: ["web"], output: "db" }), {
      name: "Error",
      message: 'Cannot add mirror "mirror-ids" to bridge "br0": a mirror with that name already exists',
    });
    assert.throws(() => br.addMirror("m2", { selectSrc: ["nope"], output: "db" }), {
      name: "RangeError",
      message: 'Cannot add mirror "m2" to bridge "br0": bridge "br0" has no port "nope"',
    });
    assert.throws(() => br.removeMirror("m9"), {
      name: "RangeError",
      message: 'Cannot remove mirror "m9" from bridge "br0": no such mirror',
    });
  });

  test("addMirror() allows 32 mirrors per bridge, like OVS", () => {
    const br = new SimBridge("br0");
    br.addPort("src", access(1));
    for (let i = 0; i < 32; i++) {
      br.addPort(`out${i}`, access(1));
      br.addMirror(`m${i}`, { selectSrc: ["src"], output: `out${i}` });
    }
    br.addPort("out32", access(1));
    assert.throws(() => br.addMirror("m32", { selectSrc: ["src"], output: "out32" }), {
      name: "RangeError",
      message: 'Cannot add mirror "m32" to bridge "br0": it has 32 mirrors already',
    });
    // all 32 copy, including the one with index 31
    const got: number[] = [];
    for (let i = 0; i < 32; i++) br.attach(`out${i}`, { receive: () => got.push(i) });
    br.transmitFrom("src", eth(BCAST, mac(1)));
    assert.deepEqual(got, Array.from({ length: 32 }, (_, i) => i));
  });
});

// ---------------------------------------------------------------- observers

describe("SimBridge.observe()", () => {
  test("sees rx and tx untagged on an access port, as libpcap on the tap would", () => {
    const br = new SimBridge("br0");
    wire(br, { v1: access(100), t: trunk() });
    const seen: string[] = [];
    const stop = br.observe(
      "v1",
      (dir, buf, off, len) => seen.push(`${dir} ${show(buf.slice(off, off + len))}`),
    );
    br.transmitFrom("v1", eth(BCAST, mac(1)));
    br.transmitFrom("t", eth(mac(1), mac(6), [[Q, 100]]));
    br.transmitFrom("v1", eth(BCAST, mac(1), [[Q, 9]])); // seen as sent, then dropped
    assert.deepEqual(seen, [
      `rx ${mac(1)}>${BCAST}`,
      `tx ${mac(6)}>${mac(1)}`,
      `rx ${mac(1)}>${BCAST} 8100/9`,
    ]);
    stop();
    br.transmitFrom("v1", eth(BCAST, mac(1)));
    assert.equal(seen.length, 3);
  });

  test("sees tags on a trunk port, and several observers see the same frames", () => {
    const br = new SimBridge("br0");
    wire(br, { v1: access(100), t: trunk() });
    const a: string[] = [];
    const b: string[] = [];
    br.observe("t", (dir, buf, off, len) => a.push(`${dir} ${show(buf.slice(off, off + len))}`));
    br.observe("t", (dir) => b.push(dir));
    br.transmitFrom("v1", eth(BCAST, mac(1)));
    assert.deepEqual(a, [`tx ${mac(1)}>${BCAST} 8100/100`]);
    assert.deepEqual(b, ["tx"]);
  });
});

// ---------------------------------------------------------------- ports

describe("SimBridge ports", () => {
  test("ports() lists ports in the order they were added", () => {
    const br = new SimBridge("br0");
    br.addPort("b", access(100));
    br.addPort("a", trunk(200, 100, 100));
    br.addPort("q", qinq(300));
    br.attach("b", new Recorder());
    assert.deepEqual(br.ports(), [
      { name: "b", index: 0, mode: { kind: "access", tag: 100 }, attached: true, mirrorOutputOf: [] },
      {
        name: "a",
        index: 1,
        mode: { kind: "trunk", trunks: [100, 200] },
        attached: false,
        mirrorOutputOf: [],
      },
      { name: "q", index: 2, mode: { kind: "dot1q-tunnel", tag: 300 }, attached: false, mirrorOutputOf: [] },
    ]);
  });

  test("removePort() forgets the port's MACs, drops it from mirrors, deletes the mirrors it was output of", () => {
    const { br, r } = mirrorLab();
    br.addMirror("m2", { selectSrc: ["db"], output: "x2" });
    br.transmitFrom("db", eth(BCAST, mac(3)));
    assert.equal(r.ids!.frames.length, 1); // the copy of web's
    br.removePort("ids");
    br.removePort("db");
    assert.deepEqual(br.mirrors(), [{
      name: "m2",
      selectAll: false,
      selectSrc: [],
      selectDst: [],
      output: "x2",
    }]);
    assert.deepEqual(br.ports().map((p) => p.name), ["web", "x", "x2"]);
    assert.deepEqual(br.fdb(), []);
    assert.throws(() => br.transmitFrom("db", eth(BCAST, mac(3))), {
      name: "RangeError",
      message: 'Cannot transmit from port "db" on bridge "br0": bridge "br0" has no port "db"',
    });
    // a new port takes the free index, but nothing of the old one
    const p = br.addPort("new", access(10));
    assert.equal(p, 1);
    assert.equal(br.counters("new").rx, 0);
    br.transmitFrom("web", eth(BCAST, mac(1)));
    assert.equal(r.ids!.frames.length, 1);
  });

  test("removePort() keeps a mirror that only selected the port", () => {
    const br = new SimBridge("br0");
    wire(br, { a: access(1), b: access(1), out: access(1) });
    br.addMirror("m", { selectSrc: ["a", "b"], selectDst: ["a"], output: "out" });
    br.removePort("a");
    assert.deepEqual(br.mirrors(), [{
      name: "m",
      selectAll: false,
      selectSrc: ["b"],
      selectDst: [],
      output: "out",
    }]);
  });

  test("setMode() moves a port to another VLAN and forgets its MACs", () => {
    const br = new SimBridge("br0");
    const r = wire(br, { v1: access(100), v2: access(100), v3: access(200) });
    br.transmitFrom("v2", eth(BCAST, mac(2)));
    assert.equal(r.v1!.frames.length, 1);
    br.setMode("v2", access(200));
    assert.deepEqual(br.fdb(), []);
    br.transmitFrom("v3", eth(BCAST, mac(3)));
    assert.equal(r.v2!.frames.length, 1);
    assert.equal(r.v1!.frames.length, 1);
  });

  test("addPort() and setMode() reject bad names and modes with exact errors", () => {
    const br = new SimBridge("br0");
    br.addPort("v1", access(100));
    assert.throws(() => br.addPort("v1", access(100)), {
      name: "Error",
      message: 'Cannot add port "v1" to bridge "br0": a port with that name already exists',
    });
    assert.throws(() => br.addPort("v2", access(4096)), {
      name: "RangeError",
      message:
        'Cannot add port "v2" to bridge "br0" as the access tag must be an integer 0-4095: current value is 4096',
    });
    assert.throws(() => br.addPort("v2", { kind: "trunk", trunks: [1, -1] }), {
      name: "RangeError",
      message:
        'Cannot add port "v2" to bridge "br0" as each trunk VLAN must be an integer 0-4095: current value is -1',
    });
    assert.throws(() => br.addPort("v2", { kind: "native-untagged" } as never), {
      name: "TypeError",
      message: 'Cannot add port "v2" to bridge "br0": unknown port kind "native-untagged"',
    });
    assert.throws(() => br.setMode("v9", access(1)), {
      name: "RangeError",
      message: 'Cannot set mode of port "v9" on bridge "br0": bridge "br0" has no port "v9"',
    });
    assert.throws(() => br.addPort("", access(1)), { name: "TypeError" });
  });

  test("attach() refuses a second endpoint; detach() frees the port", () => {
    const br = new SimBridge("br0");
    br.addPort("v1", access(100));
    br.attach("v1", new Recorder());
    assert.throws(() => br.attach("v1", new Recorder()), {
      name: "Error",
      message:
        'Cannot attach to port "v1" on bridge "br0": an endpoint is already attached (detach it first)',
    });
    br.detach("v1");
    br.attach("v1", new Recorder());
  });

  test("transmitFrom() rejects a frame outside its buffer", () => {
    const br = new SimBridge("br0");
    br.addPort("v1", access(100));
    assert.throws(() => br.transmitFrom("v1", new Uint8Array(60), 10, 60), {
      name: "RangeError",
      message:
        'Cannot transmit from port "v1" on bridge "br0": frame at 10 with 60 bytes does not fit in a buffer of 60 bytes',
    });
  });
});

// ---------------------------------------------------------------- endpoints answering from receive()

describe("SimBridge endpoints that send from inside receive()", () => {
  test("a reply sent from receive() is forwarded after the frame has reached everyone", () => {
    const br = new SimBridge("br0");
    const order: string[] = [];
    for (const name of ["a", "b", "c"]) br.addPort(name, access(100));
    br.attach("a", { receive: (buf, off) => order.push(`a <- ${buf[off + 11]}`) });
    br.attach("b", {
      receive(buf, off) {
        order.push(`b <- ${buf[off + 11]}`);
        if (buf[off] === 0xff) br.transmitFrom("b", eth(mac(1), mac(2)));
      },
    });
    br.attach("c", { receive: (buf, off) => order.push(`c <- ${buf[off + 11]}`) });
    br.transmitFrom("a", eth(BCAST, mac(1)));
    assert.deepEqual(order, ["b <- 1", "c <- 1", "a <- 2"]);
  });

  test("many replies sent from receive() are all forwarded, in order, through the queue's ring", () => {
    // 3000 round trips of 1000-byte frames: 3 MB through a 1 MiB ring, so it wraps
    const br = new SimBridge("br0");
    br.addPort("a", access(100));
    br.addPort("b", access(100));
    const toB = eth(mac(2), mac(1), [], 986);
    const toA = eth(mac(1), mac(2), [], 986);
    let atA = 0;
    let atB = 0;
    br.attach("a", {
      receive(buf, off, len) {
        assert.deepEqual(buf.slice(off, off + len), toA);
        if (++atA < 3000) br.transmitFrom("a", toB);
      },
    });
    br.attach("b", {
      receive(buf, off, len) {
        assert.deepEqual(buf.slice(off, off + len), toB);
        atB++;
        br.transmitFrom("b", toA);
      },
    });
    br.transmitFrom("a", toB);
    assert.equal(atB, 3000);
    assert.equal(atA, 3000);
  });

  test("changing the bridge from inside receive() throws", () => {
    const br = new SimBridge("br0");
    br.addPort("a", access(100));
    br.addPort("b", access(100));
    let error: unknown;
    br.attach("b", {
      receive() {
        try {
          br.removePort("a");
        } catch (e) {
          error = e;
        }
      },
    });
    br.transmitFrom("a", eth(BCAST, mac(1)));
    assert.equal(
      (error as Error).message,
      'Cannot remove port "a" from bridge "br0": a frame is being forwarded (change the lab from a scheduled event, not from inside receive())',
    );
  });

  test("endpoints echoing each other synchronously forever get an error, not a hang", () => {
    const br = new SimBridge("br0");
    br.addPort("a", access(100));
    br.addPort("b", access(100));
    const toB = eth(mac(2), mac(1));
    const toA = eth(mac(1), mac(2));
    br.attach("a", { receive: () => br.transmitFrom("a", toB) });
    br.attach("b", { receive: () => br.transmitFrom("b", toA) });
    assert.throws(() => br.transmitFrom("a", toB), {
      name: "RangeError",
      message: /^Cannot forward frames: endpoints sent 1000000 frames from inside receive\(\)/,
    });
    // the bridge is usable afterwards
    br.detach("a");
    br.detach("b");
    br.transmitFrom("a", eth(BCAST, mac(1)));
  });
});

// ---------------------------------------------------------------- networks: patch links and loops

describe("SimNetwork", () => {
  /** br0: vm1 (100), vm3 (200), p0; br1: p1, vm6 (100), vm7 (200): recipes/environment.md 2.5. */
  function twoBridges(trunks: number[] = [100, 200]) {
    const net = new SimNetwork();
    const br0 = net.addBridge("br0");
    const br1 = net.addBridge("br1");
    const r0 = wire(br0, { vm1: access(100), vm3: access(200) });
    br0.addPort("p0", trunk(...trunks));
    br1.addPort("p1", trunk(...trunks));
    const r1 = wire(br1, { vm6: access(100), vm7: access(200) });
    net.patch("br0", "p0", "br1", "p1");
    return { net, br0, br1, r0, r1 };
  }

  test("patch() carries VLANs across two bridges, tagged on the link", () => {
    const { br0, br1, r0, r1 } = twoBridges();
    const onLink: string[] = [];
    br0.observe("p0", (dir, buf, off, len) => onLink.push(`${dir} ${show(buf.slice(off, off + len))}`));
    br0.transmitFrom("vm1", eth(BCAST, mac(1)));
    br0.transmitFrom("vm3", eth(BCAST, mac(3)));
    assert.deepEqual(r1.vm6!.frames, [eth(BCAST, mac(1))]);
    assert.deepEqual(r1.vm7!.frames, [eth(BCAST, mac(3))]);
    br1.transmitFrom("vm6", eth(mac(1), mac(6))); // learned on br1's p1: unicast across
    assert.deepEqual(r0.vm1!.frames, [eth(mac(1), mac(6))]);
    assert.equal(r0.vm3!.frames.length, 0);
    assert.deepEqual(onLink, [
      `tx ${mac(1)}>${BCAST} 8100/100`,
      `tx ${mac(3)}>${BCAST} 8100/200`,
      `rx ${mac(6)}>${mac(1)} 8100/100`,
    ]);
    assert.deepEqual(br1.fdb().map((e) => [e.port, e.vlan, e.mac]), [
      ["p1", 100, mac(1)],
      ["p1", 200, mac(3)],
      ["vm6", 100, mac(6)],
    ]);
    assert.deepEqual(br0.ports().find((p) => p.name === "p0")!.patch, { bridge: "br1", port: "p1" });
  });

  test("patch() with trunks=100 blocks VLAN 200 (2.5)", () => {
    const { br0, r1 } = twoBridges([100]);
    br0.transmitFrom("vm3", eth(BCAST, mac(3)));
    br0.transmitFrom("vm1", eth(BCAST, mac(1)));
    assert.equal(r1.vm7!.frames.length, 0);
    assert.equal(r1.vm6!.frames.length, 1);
  });

  test("a reply sent from receive() on another bridge waits until the frame has reached everyone", () => {
    const { br0, br1, r0 } = twoBridges();
    const order: string[] = [];
    br1.detach("vm6");
    br1.attach("vm6", {
      receive() {
        order.push("vm6");
        br1.transmitFrom("vm6", eth(mac(1), mac(6)));
      },
    });
    br0.addPort("vm2", access(100));
    br0.attach("vm2", { receive: () => order.push("vm2") });
    br0.transmitFrom("vm1", eth(BCAST, mac(1)));
    assert.deepEqual(order, ["vm6", "vm2"]);
    assert.deepEqual(r0.vm1!.frames, [eth(mac(1), mac(6))]);
  });

  test("a rewritten copy is not reused once a patch link has written over it", () => {
    // a floods a tagged frame: t1 (strip), p (as is: no rewrite, b rewrites in the same place), t2 (strip)
    const net = new SimNetwork();
    const a = net.addBridge("a");
    const b = net.addBridge("b");
    a.addPort("up", trunk());
    const ra = wire(a, { t1: access(100) });
    a.addPort("p", trunk());
    Object.assign(ra, wire(a, { t2: access(100) }));
    b.addPort("q", qinq(300)); // pushes an outer tag: b's copies are longer, with other bytes
    const rb = wire(b, { hb: trunk() });
    net.patch("a", "p", "b", "q");
    a.transmitFrom("up", eth(BCAST, mac(1), [[Q, 100]]));
    assert.deepEqual(ra.t1!.frames, [eth(BCAST, mac(1))]);
    assert.deepEqual(ra.t2!.frames, [eth(BCAST, mac(1))]);
    assert.deepEqual(rb.hb!.frames, [eth(BCAST, mac(1), [[AD, 300], [Q, 100]])]);
  });

  test("a mirror does not see frames crossing a patch link into its bridge, only where they leave", () => {
    const { br1, br0, r1 } = twoBridges();
    br1.addPort("cap", trunk());
    br1.attach("cap", r1.cap = new Recorder());
    br1.addMirror("mirror-cap", { selectAll: true, output: "cap" });
    br0.transmitFrom("vm1", eth(BCAST, mac(1)));
    // no ingress copy on p1 (OVS mirrors ingress only where the frame entered); one egress copy, from vm6
    assert.deepEqual(r1.cap!.shown, [`${mac(1)}>${BCAST} 8100/100`]);
  });

  test("a loop of two patch links ends, counts loopDrops and says where it went", () => {
    const net = new SimNetwork({ maxPatchDepth: 8 });
    const a = net.addBridge("a");
    const b = net.addBridge("b");
    const ra = wire(a, { h1: access(100) });
    const rb = wire(b, { h2: access(100) });
    for (const p of ["pa1", "pa2"]) a.addPort(p, trunk());
    for (const p of ["pb1", "pb2"]) b.addPort(p, trunk());
    net.patch("a", "pa1", "b", "pb1");
    net.patch("a", "pa2", "b", "pb2");
    a.transmitFrom("h1", eth(BCAST, mac(1)));
    // each of the two branches visits b at depths 1, 3, 5, 7 and a at 2, 4, 6, 8, then b refuses it
    assert.equal(rb.h2!.frames.length, 8);
    assert.equal(ra.h1!.frames.length, 8);
    assert.equal(b.loopDrops, 2);
    assert.equal(a.loopDrops, 0);
    assert.equal(net.loopDrops, 2);
    assert.equal(
      b.lastLoop,
      "loop detected: frame from 02:00:00:00:00:01 on VLAN 100 crossed bridges a -> b -> a",
    );
    assert.equal(net.lastLoop, b.lastLoop);
    assert.equal(b.counters("pb1").drops.loop + b.counters("pb2").drops.loop, 2);
  });

  test("a triangle of bridges ends at OVS's default depth of 64", () => {
    const net = new SimNetwork();
    const names = ["a", "b", "c"];
    const br = names.map((n) => net.addBridge(n));
    const host = wire(br[0]!, { h1: access(100) });
    for (const [x, y] of [["a", "b"], ["b", "c"], ["c", "a"]] as const) {
      net.bridge(x).addPort(`${x}-${y}`, trunk());
      net.bridge(y).addPort(`${y}-${x}`, trunk());
      net.patch(x, `${x}-${y}`, y, `${y}-${x}`);
    }
    br[0]!.transmitFrom("h1", eth(BCAST, mac(1)));
    // two branches, each 64 patch links long; a is visited at depths 3, 6, ..., 63 on each
    assert.equal(host.h1!.frames.length, 42);
    assert.equal(net.loopDrops, 2);
    // the last branch to end went a -> c -> b -> a
    assert.equal(
      net.lastLoop,
      "loop detected: frame from 02:00:00:00:00:01 on VLAN 100 crossed bridges a -> c -> b -> a",
    );
  });

  test("maxPatchTraversals bounds the crossings of one frame in all", () => {
    const net = new SimNetwork({ maxPatchTraversals: 5 });
    const a = net.addBridge("a");
    const b = net.addBridge("b");
    const rb = wire(b, { h2: access(100) });
    wire(a, { h1: access(100) });
    for (const p of ["pa1", "pa2"]) a.addPort(p, trunk());
    for (const p of ["pb1", "pb2"]) b.addPort(p, trunk());
    net.patch("a", "pa1", "b", "pb1");
    net.patch("a", "pa2", "b", "pb2");
    a.transmitFrom("h1", eth(BCAST, mac(1)));
    // first branch: a -> b -> a -> b -> a -> b (5 crossings), then every further crossing is refused
    assert.equal(rb.h2!.frames.length, 3);
    assert.equal(net.loopDrops, 2);
    // the budget is per frame: the next frame gets its own
    a.transmitFrom("h1", eth(BCAST, mac(1)));
    assert.equal(rb.h2!.frames.length, 6);
  });

  test("a chain longer than the depth budget is reported as such", () => {
    const net = new SimNetwork({ maxPatchDepth: 2 });
    const names = ["a", "b", "c", "d"];
    for (const n of names) net.addBridge(n);
    for (let i = 0; i + 1 < names.length; i++) {
      net.bridge(names[i]!).addPort("right", trunk());
      net.bridge(names[i + 1]!).addPort("left", trunk());
      net.patch(names[i]!, "right", names[i + 1]!, "left");
    }
    const rd = wire(net.bridge("d"), { h: access(1) });
    wire(net.bridge("a"), { h: access(1) });
    net.bridge("a").transmitFrom("h", eth(BCAST, mac(1)));
    assert.equal(rd.h!.frames.length, 0);
    assert.equal(
      net.lastLoop,
      "patch chain too long: frame from 02:00:00:00:00:01 on VLAN 1 dropped after 2 patch links: a -> b -> c -> d",
    );
    assert.equal(net.bridge("d").loopDrops, 1);
  });

  test("removeBridge() and unpatch() cut patch links; the other end drops what it would send", () => {
    const { net, br0, r1 } = twoBridges();
    net.unpatch("br1", "p1");
    br0.transmitFrom("vm1", eth(BCAST, mac(1)));
    assert.equal(r1.vm6!.frames.length, 0);
    assert.equal(br0.counters("p0").drops["no-sink"], 1);
    net.patch("br0", "p0", "br1", "p1");
    net.removeBridge("br1");
    assert.deepEqual(net.bridges(), ["br0"]);
    assert.equal(br0.ports().find((p) => p.name === "p0")!.patch, undefined);
    br0.transmitFrom("vm1", eth(BCAST, mac(1)));
    assert.equal(br0.counters("p0").drops["no-sink"], 2);
  });

  test("patch() and the other network calls reject mistakes with exact errors", () => {
    const { net } = twoBridges();
    assert.throws(() => net.addBridge("br0"), {
      name: "Error",
      message: 'Cannot add bridge "br0": a bridge with that name already exists',
    });
    assert.throws(() => net.bridge("nope"), {
      name: "RangeError",
      message: 'Cannot find bridge "nope": no such bridge',
    });
    assert.throws(() => net.patch("br0", "p0", "br1", "vm7"), {
      name: "Error",
      message: 'Cannot patch "br0:p0" to "br1:vm7": port "br0:p0" is already patched to "br1:p1"',
    });
    assert.throws(() => net.patch("br0", "vm1", "br1", "vm7"), {
      name: "Error",
      message: 'Cannot patch "br0:vm1" to "br1:vm7": port "br0:vm1" has an endpoint attached',
    });
    assert.throws(() => net.patch("br0", "x", "br1", "vm7"), {
      name: "RangeError",
      message: 'Cannot patch "br0:x" to "br1:vm7": bridge "br0" has no port "x"',
    });
    assert.throws(() => net.bridge("br0").transmitFrom("p0", eth(BCAST, mac(1))), {
      name: "Error",
      message: 'Cannot transmit from port "p0" on bridge "br0": it is a patch port',
    });
    assert.throws(() => net.bridge("br0").attach("p0", new Recorder()), {
      name: "Error",
      message: 'Cannot attach to port "p0" on bridge "br0": it is a patch port',
    });
    assert.throws(() => net.unpatch("br0", "vm1"), {
      name: "RangeError",
      message: 'Cannot unpatch "br0:vm1": the port has no patch link',
    });
  });

  test("bridges of a network share its clock", () => {
    const clock = new VirtualClock();
    const net = new SimNetwork({ clock });
    const br = net.addBridge("br0", { macAgingNs: 1e9 });
    const r = wire(br, { v1: access(1), v2: access(1), v3: access(1) });
    br.transmitFrom("v2", eth(BCAST, mac(2)));
    assert.equal(net.clock, clock);
    clock.run(1e9);
    for (const x of Object.values(r)) x.clear();
    br.transmitFrom("v1", eth(mac(2), mac(1)));
    assert.deepEqual(counts(r), { v1: 0, v2: 1, v3: 1 });
  });
});
