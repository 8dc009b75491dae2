import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { arpRequest, decodeFrame, describeFrame, encodeFrame, icmpEcho } from "../lib/frame.ts";
import { HOST_PROCESSING_NS, type PingRun, SimHost } from "../sim/host.ts";
import type { Scheduler } from "../sim/types.ts";

/** A scheduler for tests: a binary heap ordered by time, then by the order work was scheduled. */
class FakeScheduler implements Scheduler {
  #now = 0;
  #seq = 0;
  #heap: { at: number; seq: number; fn: () => void }[] = [];

  now(): number {
    return this.#now;
  }

  after(delayNs: number, fn: () => void): void {
    assert.ok(delayNs >= 0, `delay ${delayNs}`);
    const heap = this.#heap;
    heap.push({ at: this.#now + delayNs, seq: this.#seq++, fn });
    for (let i = heap.length - 1; i > 0;) {
      const parent = (i - 1) >> 1;
      if (!this.#less(i, parent)) break;
      [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
      i = parent;
    }
  }

  #less(i: number, j: number): boolean {
    const a = this.#heap[i]!;
    const b = this.#heap[j]!;
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }

  /** Runs the next piece of work; false when there is none. */
  step(): boolean {
    const heap = this.#heap;
    if (heap.length === 0) return false;
    const top = heap[0]!;
    const last = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = last;
      for (let i = 0;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < heap.length && this.#less(l, m)) m = l;
        if (r < heap.length && this.#less(r, m)) m = r;
        if (m === i) break;
        [heap[i], heap[m]] = [heap[m]!, heap[i]!];
        i = m;
      }
    }
    this.#now = top.at;
    top.fn();
    return true;
  }

  /** Runs until `run` is done (and fails if the work runs out first). */
  until(run: PingRun): void {
    for (let steps = 0; !run.done; steps++) {
      assert.ok(steps < 100_000, "the ping never finished");
      assert.ok(this.step(), "no work left but the ping is not done");
    }
  }

  /** Runs everything. */
  drain(): void {
    while (this.step());
  }
}

const MAC_A = "52:54:00:00:00:0a";
const MAC_B = "52:54:00:00:00:0b";

/** Two hosts on one wire; every frame is logged with its time and checked on the way. */
function lab() {
  const clock = new FakeScheduler();
  const log: string[] = [];
  const raw: Uint8Array[] = [];
  const buffers = new Set<Uint8Array>();
  let delivering = false;
  function wire(from: () => SimHost, to: () => SimHost) {
    return (buf: Uint8Array, off: number, len: number) => {
      assert.equal(delivering, false, "a host transmitted from inside receive()");
      buffers.add(buf);
      const frame = decodeFrame(buf, off, len);
      assert.ok(len >= 60, "frames are padded to 60 bytes");
      if (frame.ipv4 !== undefined) {
        assert.equal(frame.ipv4.checksumOk, true, "IPv4 checksum");
        assert.equal(frame.ipv4.icmp?.checksumOk, true, "ICMP checksum");
      }
      log.push(`${clock.now()} ${from().name}: ${describeFrame(frame)}`);
      raw.push(buf.slice(off, off + len));
      delivering = true;
      try {
        to().receive(buf, off, len);
      } finally {
        delivering = false;
      }
    };
  }
  const a: SimHost = new SimHost({
    mac: MAC_A,
    scheduler: clock,
    transmit: wire(() => a, () => b),
    name: "a",
  });
  const b: SimHost = new SimHost({
    mac: MAC_B,
    scheduler: clock,
    transmit: wire(() => b, () => a),
    name: "b",
  });
  a.addAddress("10.0.0.1/24");
  b.addAddress("10.0.0.2/24");
  return { clock, log, raw, buffers, a, b };
}

describe("SimHost", () => {
  test("ping() resolves the MAC with ARP, then sends echoes; answers come 1 us after what they answer", () => {
    const { clock, log, a } = lab();
    const run = a.ping("10.0.0.2", { count: 2 });
    assert.deepEqual(
      [run.sent, run.received, run.done],
      [0, 0, false],
      "nothing happens before the clock runs",
    );
    clock.until(run);
    assert.deepEqual(log, [
      "0 a: 52:54:00:00:00:0a > ff:ff:ff:ff:ff:ff, ARP, Request who-has 10.0.0.2 tell 10.0.0.1",
      "1000 b: 52:54:00:00:00:0b > 52:54:00:00:00:0a, ARP, Reply 10.0.0.2 is-at 52:54:00:00:00:0b",
      "2000 a: 52:54:00:00:00:0a > 52:54:00:00:00:0b, IPv4 10.0.0.1 > 10.0.0.2: ICMP echo request, id 1, seq 1",
      "3000 b: 52:54:00:00:00:0b > 52:54:00:00:00:0a, IPv4 10.0.0.2 > 10.0.0.1: ICMP echo reply, id 1, seq 1",
      "1000000000 a: 52:54:00:00:00:0a > 52:54:00:00:00:0b, IPv4 10.0.0.1 > 10.0.0.2: ICMP echo request, id 1, seq 2",
      "1000001000 b: 52:54:00:00:00:0b > 52:54:00:00:00:0a, IPv4 10.0.0.2 > 10.0.0.1: ICMP echo reply, id 1, seq 2",
    ]);
    assert.deepEqual(
      { sent: run.sent, received: run.received, lost: run.lost, done: run.done, rttNs: run.rttNs },
      { sent: 2, received: 2, lost: 0, done: true, rttNs: [3000, 1000] },
    );
    assert.equal(HOST_PROCESSING_NS, 1000);
  });

  test("ping() sends 56 bytes of data by default, and echo replies carry them back", () => {
    const { clock, raw, a } = lab();
    clock.until(a.ping("10.0.0.2", { size: 1472 }));
    const [, , request, reply] = raw.map((bytes) => decodeFrame(bytes));
    assert.equal(raw[2]!.length, 1514);
    assert.deepEqual(reply!.ipv4!.icmp!.data, request!.ipv4!.icmp!.data);
    assert.equal(request!.ipv4!.icmp!.data[300], 300 & 0xff);
    const small = lab();
    small.clock.until(small.a.ping("10.0.0.2"));
    assert.equal(small.raw[2]!.length, 98);
  });

  test("ping() to an address nobody has: one ARP request per echo, every echo lost", () => {
    const { clock, log, a } = lab();
    const run = a.ping("10.0.0.9", { count: 3 });
    clock.until(run);
    assert.deepEqual(log, [
      "0 a: 52:54:00:00:00:0a > ff:ff:ff:ff:ff:ff, ARP, Request who-has 10.0.0.9 tell 10.0.0.1",
      "1000000000 a: 52:54:00:00:00:0a > ff:ff:ff:ff:ff:ff, ARP, Request who-has 10.0.0.9 tell 10.0.0.1",
      "2000000000 a: 52:54:00:00:00:0a > ff:ff:ff:ff:ff:ff, ARP, Request who-has 10.0.0.9 tell 10.0.0.1",
    ]);
    assert.deepEqual([run.sent, run.received, run.lost, run.done], [3, 0, 3, true]);
    assert.equal(clock.now(), 3_000_000_000);
  });

  test("ping() retries ARP at most once a second while echoes wait", () => {
    const { clock, log, a } = lab();
    const run = a.ping("10.0.0.9", { count: 4, intervalNs: 400_000_000, timeoutNs: 2_000_000_000 });
    clock.until(run);
    assert.deepEqual(log.map((l) => l.split(" ")[0]), ["0", "1200000000"]);
    assert.equal(run.lost, 4);
  });

  test("ping() outside the host's subnets loses every echo without a frame (no routing)", () => {
    const { clock, log, a } = lab();
    const run = a.ping("192.168.1.1", { count: 2, intervalNs: 5 });
    clock.until(run);
    assert.deepEqual(log, []);
    assert.deepEqual([run.sent, run.received, run.lost], [2, 0, 2]);
    const bare = new SimHost({
      mac: "52:54:00:00:00:01",
      scheduler: clock,
      transmit: () => assert.fail("sent"),
    });
    const none = bare.ping("10.0.0.2");
    clock.until(none);
    assert.equal(none.lost, 1);
  });

  test("ping() of the host's own address is answered inside the host", () => {
    const { clock, log, a } = lab();
    const run = a.ping("10.0.0.1");
    clock.until(run);
    assert.deepEqual([run.received, run.rttNs], [1, [1000]]);
    assert.deepEqual(log, []);
  });

  test("ping() counts a reply after the timeout as lost and ignores it", () => {
    const { clock, log, a } = lab();
    const run = a.ping("10.0.0.2", { timeoutNs: 2500 });
    clock.drain();
    assert.deepEqual([run.received, run.lost, run.done], [0, 1, true]);
    assert.equal(log.length, 4, "ARP both ways, then the echo and its late reply");
    assert.equal(a.counters().ignored, 1);
    const early = lab();
    const arpOnly = early.a.ping("10.0.0.2", { timeoutNs: 1500 });
    early.clock.drain();
    assert.equal(arpOnly.lost, 1);
    assert.equal(early.log.length, 2, "the echo expired while waiting for ARP, so it was never sent");
  });

  test("ping() gives each ping its own identifier and takes one given", () => {
    const { clock, log, a } = lab();
    clock.until(a.ping("10.0.0.2"));
    clock.until(a.ping("10.0.0.2"));
    clock.until(a.ping("10.0.0.2", { id: 4242 }));
    assert.deepEqual(log.filter((l) => l.includes("request")).map((l) => l.replace(/.*(id \d+).*/, "$1")), [
      "id 1",
      "id 2",
      "id 4242",
    ]);
  });

  test("the ARP cache learns from requests for the host and from replies; a second ping needs no ARP", () => {
    const { clock, log, a, b } = lab();
    clock.until(a.ping("10.0.0.2"));
    assert.deepEqual(a.arpTable(), [{ ip: "10.0.0.2", mac: MAC_B }]);
    assert.deepEqual(b.arpTable(), [{ ip: "10.0.0.1", mac: MAC_A }]);
    log.length = 0;
    clock.until(b.ping("10.0.0.1"));
    assert.equal(log.length, 2);
    assert.match(log[0]!, /b: .* ICMP echo request, id 1, seq 1$/);
    a.clearArpTable();
    assert.deepEqual(a.arpTable(), []);
  });

  test("receive() answers ARP only for its own addresses", () => {
    const { clock, log, a } = lab();
    const who = encodeFrame(arpRequest({ srcMac: MAC_B, srcIp: "10.0.0.2", targetIp: "10.0.0.77" }));
    a.receive(who, 0, who.length);
    clock.drain();
    assert.deepEqual(log, []);
    assert.deepEqual(a.arpTable(), [], "a request for someone else teaches nothing new");
    assert.equal(a.counters().ignored, 1);
  });

  test("receive() drops tagged frames and bad checksums, and ignores frames for other MACs", () => {
    const { clock, log, a } = lab();
    const echo = (opts: { dstMac?: string; vlans?: number[] } = {}) =>
      encodeFrame(icmpEcho({
        srcMac: MAC_B,
        dstMac: opts.dstMac ?? MAC_A,
        srcIp: "10.0.0.2",
        dstIp: "10.0.0.1",
        id: 5,
        seq: 1,
        vlans: opts.vlans ?? [],
      }));
    const tagged = echo({ vlans: [100] });
    a.receive(tagged, 0, tagged.length);
    const qinq = echo({ vlans: [10, 100] });
    a.receive(qinq, 0, qinq.length);
    const other = echo({ dstMac: "52:54:00:00:00:99" });
    a.receive(other, 0, other.length);
    const broken = echo();
    broken[40] = broken[40]! ^ 1; // ICMP identifier: bad ICMP checksum
    a.receive(broken, 0, broken.length);
    a.receive(broken, 0, 10);
    clock.drain();
    assert.deepEqual(log, []);
    assert.deepEqual(a.counters(), { rxFrames: 5, txFrames: 0, ignored: 1, dropped: 4 });
    const good = echo();
    const padded = new Uint8Array(good.length + 20);
    padded.set(good, 7);
    a.receive(padded, 7, good.length);
    padded.fill(0); // the host copied what it needed during receive()
    clock.drain();
    assert.deepEqual(log, [
      "1000 a: 52:54:00:00:00:0a > 52:54:00:00:00:0b, IPv4 10.0.0.1 > 10.0.0.2: ICMP echo reply, id 5, seq 1",
    ]);
  });

  test("the frames of a ping are the same bytes at the same times on every run", () => {
    const runs = [lab(), lab()].map(({ clock, log, raw, a, b }) => {
      clock.until(a.ping("10.0.0.2", { count: 3, intervalNs: 10_000 }));
      clock.until(b.ping("10.0.0.1", { count: 2 }));
      clock.until(a.ping("10.0.0.5", { count: 1 }));
      return { log, raw };
    });
    assert.deepEqual(runs[0], runs[1]);
    assert.equal(runs[0]!.log.length, 2 + 6 + 4 + 1);
  });

  test("a host transmits from one buffer it reuses", () => {
    const { clock, buffers, a, b } = lab();
    clock.until(a.ping("10.0.0.2", { count: 3, intervalNs: 10_000 }));
    clock.until(b.ping("10.0.0.1", { count: 3, intervalNs: 10_000 }));
    assert.equal(buffers.size, 2, "one buffer per host");
  });

  test("addAddress(), removeAddress() and addresses() keep the host's addresses", () => {
    const { a } = lab();
    a.addAddress("192.168.7.1/16");
    assert.deepEqual(a.addresses(), ["10.0.0.1/24", "192.168.7.1/16"]);
    a.removeAddress("10.0.0.1/24");
    a.removeAddress("192.168.7.1");
    assert.deepEqual(a.addresses(), []);
    a.addAddress("10.0.0.1/32");
    assert.deepEqual(a.addresses(), ["10.0.0.1/32"]);
  });

  test("SimHost throws precise errors", () => {
    const { a } = lab();
    for (const bad of ["10.0.0.1", "10.0.0.1/33", "10.0.0.1/", "10.0.0/24", "10.0.0.1/024", "x/8"]) {
      assert.throws(() => a.addAddress(bad), {
        name: "SyntaxError",
        message: `Cannot parse CIDR '${bad}': expected a.b.c.d/prefix with a prefix 0-32`,
      });
    }
    assert.throws(() => a.addAddress("10.0.0.1/16"), {
      name: "Error",
      message: "Cannot add address '10.0.0.1/16' to host a: it already has 10.0.0.1",
    });
    assert.throws(() => a.removeAddress("10.0.0.9"), {
      name: "Error",
      message: "Cannot remove address '10.0.0.9' from host a: it does not have it",
    });
    assert.throws(() => a.ping("10.0.0"), { name: "SyntaxError" });
    assert.throws(() => a.ping("10.0.0.2", { count: 0 }), {
      name: "RangeError",
      message: "Cannot ping as 'count' must be an integer 1-65535: current value is 0",
    });
    assert.throws(() => a.ping("10.0.0.2", { size: 1473 }), {
      name: "RangeError",
      message: "Cannot ping as 'size' must be an integer 0-1472: current value is 1473",
    });
    assert.throws(() => a.ping("10.0.0.2", { timeoutNs: 0 }), {
      name: "RangeError",
      message: "Cannot ping as 'timeoutNs' must be an integer 1-9007199254740991: current value is 0",
    });
    const clock = new FakeScheduler();
    assert.throws(() => new SimHost({ mac: "01:00:5e:00:00:01", scheduler: clock, transmit: () => {} }), {
      name: "RangeError",
      message: "Cannot make host as its MAC must be unicast: current value is 01:00:5e:00:00:01",
    });
    assert.throws(() => new SimHost({ mac: "nope", scheduler: clock, transmit: () => {} }), {
      name: "MacError",
    });
    const named = new SimHost({ mac: "52-54-00-00-00-AA", scheduler: clock, transmit: () => {} });
    assert.deepEqual([named.mac, named.name], ["52:54:00:00:00:aa", "52:54:00:00:00:aa"]);
  });
});
