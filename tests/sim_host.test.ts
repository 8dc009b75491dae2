import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  arpRequest,
  decodeFrame,
  describeFrame,
  encodeFrame,
  type Frame,
  icmpEcho,
} from "../lib/wire/frame.ts";
import {
  ARP_MAX_REQUESTS,
  ARP_QUEUE_MAX,
  ARP_RETRY_NS,
  HOST_PROCESSING_NS,
  type PingRun,
  SimHost,
} from "../sim/host.ts";
import type { Scheduler } from "../sim/types.ts";
import { SimBackend } from "../sim/backend.ts";
import { LabModel } from "../lib/lab/model.ts";
import { PING_INTERVAL_MS, PING_WAIT_MS } from "../lib/backend/endpoints.ts";

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

  /** Moves the clock to `ns` (running what is due before). */
  advanceTo(ns: number): void {
    this.after(ns - this.#now, () => {});
    while (this.#now < ns) this.step();
  }
}

const MAC_A = "52:54:00:00:00:0a";
const MAC_B = "52:54:00:00:00:0b";
const MAC_C = "52:54:00:00:00:0c";
const MS = 1_000_000;
const S = 1_000_000_000;
/** labwire's ping: `ping -i 0.2 -W 2.5` (lib/backend/endpoints.ts PING_INTERVAL_MS, PING_WAIT_MS). */
const LABWIRE = { intervalNs: 200 * MS, waitNs: 2500 * MS };

const ARP_WHO_HAS_9 = "52:54:00:00:00:0a > ff:ff:ff:ff:ff:ff, ARP, Request who-has 10.0.0.9 tell 10.0.0.1";

interface LabOptions {
  /** One-way latency of the wire; 0 delivers during transmit. */
  delayNs?: number;
  /** Frames the wire loses (they are logged, but never delivered). */
  lose?: (frame: Frame) => boolean;
}

/** Two hosts on one wire; every frame is logged with its time and checked on the way. */
function lab(options: LabOptions = {}) {
  const { delayNs = 0, lose = () => false } = options;
  const clock = new FakeScheduler();
  const log: string[] = [];
  const raw: Uint8Array[] = [];
  const buffers = new Set<Uint8Array>();
  let delivering = false;
  function deliver(to: SimHost, bytes: Uint8Array, off: number, len: number): void {
    delivering = true;
    try {
      to.receive(bytes, off, len);
    } finally {
      delivering = false;
    }
  }
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
      const bytes = buf.slice(off, off + len);
      raw.push(bytes);
      if (lose(frame)) return;
      if (delayNs === 0) deliver(to(), buf, off, len);
      else clock.after(delayNs, () => deliver(to(), bytes, 0, len));
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

/** The times of the frames logged. */
function times(log: readonly string[]): number[] {
  return log.map((line) => Number(line.split(" ")[0]));
}

/** What a run counted. */
function counts(run: PingRun) {
  return { sent: run.sent, received: run.received, errors: run.errors, lost: run.lost, done: run.done };
}

/** Whether a frame is the echo reply with sequence number `seq`. */
function isReply(seq: number): (frame: Frame) => boolean {
  return (frame) => frame.ipv4?.icmp?.type === 0 && frame.ipv4.icmp.seq === seq;
}

describe("SimHost", () => {
  test("ping() resolves the MAC with ARP, paces echo requests intervalNs apart, and ends at the last reply", () => {
    const { clock, log, a } = lab();
    const run = a.ping("10.0.0.2", { count: 3, ...LABWIRE });
    assert.deepEqual(counts(run), { sent: 0, received: 0, errors: 0, lost: 0, done: false }, "nothing yet");
    clock.until(run);
    assert.deepEqual(log, [
      "0 a: 52:54:00:00:00:0a > ff:ff:ff:ff:ff:ff, ARP, Request who-has 10.0.0.2 tell 10.0.0.1",
      "1000 b: 52:54:00:00:00:0b > 52:54:00:00:00:0a, ARP, Reply 10.0.0.2 is-at 52:54:00:00:00:0b",
      "2000 a: 52:54:00:00:00:0a > 52:54:00:00:00:0b, IPv4 10.0.0.1 > 10.0.0.2: ICMP echo request, id 1, seq 1",
      "3000 b: 52:54:00:00:00:0b > 52:54:00:00:00:0a, IPv4 10.0.0.2 > 10.0.0.1: ICMP echo reply, id 1, seq 1",
      "200000000 a: 52:54:00:00:00:0a > 52:54:00:00:00:0b, IPv4 10.0.0.1 > 10.0.0.2: ICMP echo request, id 1, seq 2",
      "200001000 b: 52:54:00:00:00:0b > 52:54:00:00:00:0a, IPv4 10.0.0.2 > 10.0.0.1: ICMP echo reply, id 1, seq 2",
      "400000000 a: 52:54:00:00:00:0a > 52:54:00:00:00:0b, IPv4 10.0.0.1 > 10.0.0.2: ICMP echo request, id 1, seq 3",
      "400001000 b: 52:54:00:00:00:0b > 52:54:00:00:00:0a, IPv4 10.0.0.2 > 10.0.0.1: ICMP echo reply, id 1, seq 3",
    ]);
    assert.equal(clock.now(), 400_001_000, "the run ends with the last reply");
    assert.deepEqual(counts(run), { sent: 3, received: 3, errors: 0, lost: 0, done: true });
    assert.deepEqual(run.rttNs, [3000, 1000, 1000], "the first round trip includes ARP");
    clock.drain();
    assert.equal(log.length, 8, "no retransmission once resolved");
    assert.deepEqual(a.neighbours(), [{ ip: "10.0.0.2", state: "REACHABLE", mac: MAC_B, queued: 0 }]);
    assert.equal(HOST_PROCESSING_NS, 1000);
  });

  test("ping() of an address nobody has, count 1: 3 ARP requests 1 s apart, ends after waitNs, leaves nothing", () => {
    const { clock, log, a } = lab();
    assert.deepEqual([ARP_RETRY_NS, ARP_MAX_REQUESTS], [S, 3]);
    const run = a.ping("10.0.0.9", LABWIRE);
    clock.advanceTo(2400 * MS);
    assert.deepEqual(a.neighbours(), [{ ip: "10.0.0.9", state: "INCOMPLETE", queued: 1 }]);
    clock.until(run);
    assert.equal(clock.now(), 2500 * MS);
    assert.deepEqual(log, [
      `0 a: ${ARP_WHO_HAS_9}`,
      `1000000000 a: ${ARP_WHO_HAS_9}`,
      `2000000000 a: ${ARP_WHO_HAS_9}`,
    ]);
    assert.deepEqual(counts(run), { sent: 1, received: 0, errors: 0, lost: 1, done: true });
    assert.deepEqual(a.neighbours(), [], "the entry is flushed with its queue and its timer");
    clock.drain();
    assert.equal(log.length, 3, "nothing more is ever sent");
    // the next ping starts afresh: a request at once
    const again = a.ping("10.0.0.9", LABWIRE);
    const start = clock.now();
    clock.until(again);
    assert.deepEqual(times(log.slice(3)), [start, start + S, start + 2 * S]);
  });

  test("ping() of an address nobody has, count 2 and 3: requests while INCOMPLETE are only queued; ends at 2.7, 2.9 s", () => {
    const { clock, log, a } = lab();
    const run = a.ping("10.0.0.9", { count: 2, ...LABWIRE });
    clock.advanceTo(2600 * MS);
    assert.deepEqual(a.neighbours(), [{ ip: "10.0.0.9", state: "INCOMPLETE", queued: 2 }]);
    clock.until(run);
    assert.equal(clock.now(), 2700 * MS, "the wait runs from the last request, at 200 ms");
    assert.deepEqual(times(log), [0, S, 2 * S]);
    assert.deepEqual(counts(run), { sent: 2, received: 0, errors: 0, lost: 2, done: true });
    clock.drain();
    assert.equal(log.length, 3);
    assert.deepEqual(a.neighbours(), []);
    const three = lab();
    const run3 = three.a.ping("10.0.0.9", { count: 3, ...LABWIRE });
    three.clock.until(run3);
    assert.equal(three.clock.now(), 2900 * MS, "flushed before the entry would turn FAILED at 3 s");
    assert.deepEqual(counts(run3), { sent: 3, received: 0, errors: 0, lost: 3, done: true });
    three.clock.drain();
    assert.deepEqual(times(three.log), [0, S, 2 * S]);
  });

  test("ping() ends when every request was answered or reported unreachable: FAILED at 3 s ends count 4", () => {
    const { clock, log, a } = lab();
    const run = a.ping("10.0.0.9", { count: 4, ...LABWIRE });
    clock.until(run);
    // the wait would end at 600 ms + 2.5 s; at 3 s the entry is FAILED and its 4 queued requests are errors
    assert.equal(clock.now(), 3 * S);
    assert.deepEqual(counts(run), { sent: 4, received: 0, errors: 4, lost: 4, done: true });
    assert.deepEqual(times(log), [0, S, 2 * S]);
    assert.deepEqual(a.neighbours(), [], "a FAILED entry is flushed too");
    clock.drain();
    assert.equal(log.length, 3);
  });

  test("ping() count 16 to an address nobody has: FAILED at 3 s, and the 16th request starts a new cycle", () => {
    const { clock, log, a } = lab();
    const run = a.ping("10.0.0.9", { count: 16, ...LABWIRE });
    clock.advanceTo(3100 * MS);
    // at 3 s the timer (scheduled at 2 s) ran before the 16th request (scheduled at 2.8 s): the entry
    // went FAILED with requests 1-15, then request 16 found it FAILED and asked again at once
    assert.deepEqual(run.errors, 15);
    assert.deepEqual(a.neighbours(), [{ ip: "10.0.0.9", state: "INCOMPLETE", queued: 1 }]);
    clock.until(run);
    assert.equal(clock.now(), 5500 * MS, "2.5 s after the last request, at 3 s");
    assert.deepEqual(times(log), [0, S, 2 * S, 3 * S, 4 * S, 5 * S]);
    assert.ok(log.every((line) => line.endsWith(ARP_WHO_HAS_9)));
    assert.deepEqual(counts(run), { sent: 16, received: 0, errors: 15, lost: 16, done: true });
    clock.drain();
    assert.equal(log.length, 6, "the second cycle is cancelled with the flush: no request at 6 s");
    assert.deepEqual(a.neighbours(), []);
  });

  test("ping() after partial loss lingers max(2 x the longest round trip, intervalNs) after the last request", () => {
    const { clock, a } = lab({ lose: isReply(3) });
    const run = a.ping("10.0.0.2", { count: 3, ...LABWIRE });
    clock.until(run);
    assert.equal(clock.now(), 600 * MS, "round trips of 3 us: the interval wins");
    assert.deepEqual(counts(run), { sent: 3, received: 2, errors: 0, lost: 1, done: true });
    assert.deepEqual(a.arpTable(), [{ ip: "10.0.0.2", mac: MAC_B }], "a ping with replies keeps its entry");
  });

  test("ping() lingers twice the longest round trip seen before the last request; ping cannot time small data", () => {
    // 150 ms each way: ARP answered at 300.001 ms; requests 1 and 2 wait for it and leave together
    const { clock, log, a } = lab({ delayNs: 150 * MS, lose: isReply(5) });
    const run = a.ping("10.0.0.2", { count: 5, ...LABWIRE });
    clock.until(run);
    assert.deepEqual(times(log.filter((l) => l.includes("echo request"))), [
      300_002_000,
      300_002_000,
      400 * MS,
      600 * MS,
      800 * MS,
    ]);
    assert.deepEqual(run.rttNs, [600_003_000, 400_003_000, 300_001_000, 300_001_000]);
    // at 800 ms, replies 1-3 are in, the longest 600.003 ms: 1200.006 ms more
    assert.equal(clock.now(), 2_000_006_000);
    assert.deepEqual(counts(run), { sent: 5, received: 4, errors: 0, lost: 1, done: true });
    // without room for a timeval (size < 16), ping has no round trip: it lingers one interval
    const small = lab({ delayNs: 150 * MS, lose: isReply(5) });
    const untimed = small.a.ping("10.0.0.2", { count: 5, size: 8, ...LABWIRE });
    small.clock.until(untimed);
    assert.equal(small.clock.now(), 1000 * MS);
    assert.deepEqual(decodeFrame(small.raw[2]!).ipv4!.icmp!.data, new Uint8Array([0, 1, 2, 3, 4, 5, 6, 7]));
  });

  test("ping() decides the linger when the last request goes out: no reply by then means waitNs", () => {
    const { clock, a } = lab({ delayNs: 150 * MS, lose: isReply(2) });
    const run = a.ping("10.0.0.2", { count: 2, ...LABWIRE });
    clock.until(run);
    assert.equal(clock.now(), 2700 * MS, "reply 1 came at 600 ms, after the last request at 200 ms");
    assert.deepEqual(counts(run), { sent: 2, received: 1, errors: 0, lost: 1, done: true });
  });

  test("ping() ignores replies after the end, and a ping with none flushes even a resolved entry", () => {
    const { clock, log, a } = lab();
    const run = a.ping("10.0.0.2", { waitNs: 2500 });
    clock.until(run);
    assert.equal(clock.now(), 2500);
    assert.deepEqual(counts(run), { sent: 1, received: 0, errors: 0, lost: 1, done: true });
    assert.deepEqual(a.neighbours(), [], "resolved at 1000 ns, flushed at the end as `ip neigh flush to`");
    clock.drain();
    assert.equal(log.length, 4, "ARP both ways, then the echo and its late reply");
    assert.deepEqual([run.received, a.counters().ignored], [0, 1]);
    // ended before the ARP reply: the entry is gone, the reply teaches nothing, the echo never leaves
    const early = lab();
    const arpOnly = early.a.ping("10.0.0.2", { waitNs: 500 });
    early.clock.drain();
    assert.deepEqual(counts(arpOnly), { sent: 1, received: 0, errors: 0, lost: 1, done: true });
    assert.equal(early.log.length, 2, "the queued echo was dropped with the entry");
    assert.deepEqual([early.a.neighbours(), early.a.counters().ignored], [[], 1]);
  });

  test("ping() writes a struct timeval of the send time over the first 16 bytes of 0, 1, 2, ...", () => {
    const { clock, raw, a } = lab();
    clock.advanceTo(3_000_123_456);
    clock.until(a.ping("10.0.0.2", { count: 2, ...LABWIRE }));
    const [first, second] = [raw[2]!, raw[4]!].map((bytes) => decodeFrame(bytes).ipv4!.icmp!);
    for (const [echo, usec] of [[first!, 123n], [second!, 200_123n]] as const) {
      assert.equal(echo.data.length, 56);
      const view = new DataView(echo.data.buffer, echo.data.byteOffset, echo.data.byteLength);
      assert.deepEqual([view.getBigUint64(0, true), view.getBigUint64(8, true)], [3n, usec]);
      assert.deepEqual([...echo.data.subarray(16)], Array.from({ length: 40 }, (_, i) => 16 + i));
    }
    assert.deepEqual(decodeFrame(raw[3]!).ipv4!.icmp!.data, first!.data, "the reply carries it back");
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

  test("ping() queues at most ARP_QUEUE_MAX packets per unresolved address, dropping the oldest", () => {
    const { clock, log, a } = lab({ delayNs: MS });
    const run = a.ping("10.0.0.2", { count: 150, intervalNs: 1000, waitNs: 2500 * MS });
    clock.advanceTo(MS);
    assert.deepEqual(a.neighbours(), [{ ip: "10.0.0.2", state: "INCOMPLETE", queued: ARP_QUEUE_MAX }]);
    assert.equal(ARP_QUEUE_MAX, 101);
    clock.until(run);
    const seqs = log.filter((l) => l.includes("echo request")).map((l) => Number(l.replace(/.*seq /, "")));
    assert.deepEqual(seqs, Array.from({ length: 101 }, (_, i) => 50 + i), "sent in order once resolved");
    assert.deepEqual(counts(run), { sent: 150, received: 101, errors: 0, lost: 49, done: true });
  });

  test("an ARP request from an unresolved address resolves it: the queue goes first, then the answer", () => {
    const { clock, log, a } = lab();
    const run = a.ping("10.0.0.9", LABWIRE);
    const who = encodeFrame(arpRequest({ srcMac: MAC_C, srcIp: "10.0.0.9", targetIp: "10.0.0.1" }));
    clock.after(500 * MS, () => a.receive(who, 0, who.length));
    clock.until(run);
    assert.deepEqual(log, [
      `0 a: ${ARP_WHO_HAS_9}`,
      "500001000 a: 52:54:00:00:00:0a > 52:54:00:00:00:0c, IPv4 10.0.0.1 > 10.0.0.9: ICMP echo request, id 1, seq 1",
      "500001000 a: 52:54:00:00:00:0a > 52:54:00:00:00:0c, ARP, Reply 10.0.0.1 is-at 52:54:00:00:00:0a",
    ]);
    assert.equal(clock.now(), 2500 * MS, "nobody answers the echo (MAC C is not on the wire)");
    assert.deepEqual(a.neighbours(), [], "no reply: flushed");
  });

  test("an echo reply needs the asker's MAC too: a host without an entry asks first", () => {
    const { clock, log, a, b } = lab();
    clock.until(a.ping("10.0.0.2")); // ends at 3000 ns, with its reply
    b.clearArpTable();
    log.length = 0;
    const run = a.ping("10.0.0.2");
    clock.until(run);
    assert.deepEqual(log.map((l) => l.replace(/ 52:54\S+ > \S+,/, "")), [
      "3000 a: IPv4 10.0.0.1 > 10.0.0.2: ICMP echo request, id 2, seq 1",
      "4000 b: ARP, Request who-has 10.0.0.1 tell 10.0.0.2",
      "5000 a: ARP, Reply 10.0.0.1 is-at 52:54:00:00:00:0a",
      "6000 b: IPv4 10.0.0.2 > 10.0.0.1: ICMP echo reply, id 2, seq 1",
    ]);
    assert.equal(run.received, 1);
  });

  test("ping() outside the host's subnets, or from a host with no address, is Network is unreachable at once", () => {
    const { clock, log, a } = lab();
    const before = clock.now();
    const run = a.ping("192.168.1.1", { count: 2, intervalNs: 5 });
    assert.deepEqual({ ...counts(run), networkUnreachable: run.networkUnreachable }, {
      sent: 0,
      received: 0,
      errors: 0,
      lost: 0,
      done: true,
      networkUnreachable: true,
    });
    while (clock.step());
    assert.deepEqual(log, [], "nothing is sent");
    assert.equal(clock.now(), before, "and nothing waits");
    const bare = new SimHost({
      mac: "52:54:00:00:00:01",
      scheduler: clock,
      transmit: () => assert.fail("sent"),
    });
    const none = bare.ping("10.0.0.2", { waitNs: 0 });
    assert.equal(none.networkUnreachable, true);
    assert.equal(none.sent, 0);
  });

  test("a paused host takes nothing in and sends nothing, and keeps its tables", () => {
    const { clock, log, a, b } = lab();
    const first = a.ping("10.0.0.2", { count: 1, ...LABWIRE });
    clock.until(first);
    assert.equal(first.received, 1);
    const seen = log.length;
    b.paused = true;
    const second = a.ping("10.0.0.2", { count: 2, ...LABWIRE });
    clock.until(second);
    assert.equal(second.received, 0);
    assert.equal(
      log.filter((l) => l.includes(" b: ")).length,
      log.slice(0, seen).filter((l) => l.includes(" b: ")).length,
      "b sent nothing",
    );
    assert.deepEqual(b.arpTable().map((e) => e.ip), ["10.0.0.1"], "b keeps what it learnt");
    b.paused = false;
    const third = a.ping("10.0.0.2", { count: 1, ...LABWIRE });
    clock.until(third);
    assert.equal(third.received, 1);
  });

  test("ping() of the host's own address is answered inside the host", () => {
    const { clock, log, a } = lab();
    const run = a.ping("10.0.0.1", { count: 2, ...LABWIRE });
    clock.until(run);
    assert.deepEqual([run.received, run.rttNs], [2, [1000, 1000]]);
    assert.equal(clock.now(), 200 * MS + 1000);
    assert.deepEqual(log, []);
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

  test("clearArpTable() forgets unresolved entries too: their requests stop, their queued echoes are errors", () => {
    const { clock, log, a } = lab();
    const run = a.ping("10.0.0.9", { count: 2, ...LABWIRE });
    clock.advanceTo(500 * MS);
    a.clearArpTable();
    assert.deepEqual([a.neighbours(), run.errors, run.done], [[], 2, true]);
    assert.equal(clock.now(), 500 * MS);
    clock.drain();
    assert.equal(log.length, 1, "no retransmission after the flush");
  });

  test("receive() answers ARP only for its own addresses; other ARP only updates entries the host has", () => {
    const { clock, log, a } = lab();
    const who = encodeFrame(arpRequest({ srcMac: MAC_B, srcIp: "10.0.0.2", targetIp: "10.0.0.77" }));
    a.receive(who, 0, who.length);
    clock.drain();
    assert.deepEqual(log, []);
    assert.deepEqual(a.arpTable(), [], "a request for someone else teaches nothing new");
    assert.equal(a.counters().ignored, 1);
    clock.until(a.ping("10.0.0.2"));
    const moved = encodeFrame(arpRequest({ srcMac: MAC_C, srcIp: "10.0.0.2", targetIp: "10.0.0.77" }));
    a.receive(moved, 0, moved.length);
    assert.deepEqual(a.arpTable(), [{ ip: "10.0.0.2", mac: MAC_C }], "RFC 826: a known sender is updated");
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
    // a has no entry for 10.0.0.2 (an IP packet teaches no MAC, as in Linux): it asks before answering
    assert.deepEqual(log, [
      "1000 a: 52:54:00:00:00:0a > ff:ff:ff:ff:ff:ff, ARP, Request who-has 10.0.0.2 tell 10.0.0.1",
      "2000 b: 52:54:00:00:00:0b > 52:54:00:00:00:0a, ARP, Reply 10.0.0.2 is-at 52:54:00:00:00:0b",
      "3000 a: 52:54:00:00:00:0a > 52:54:00:00:00:0b, IPv4 10.0.0.1 > 10.0.0.2: ICMP echo reply, id 5, seq 1",
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
    assert.equal(runs[0]!.log.length, 2 + 6 + 4 + 3);
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
    assert.throws(() => a.ping("10.0.0.2", { intervalNs: 0.5 }), {
      name: "RangeError",
      message: "Cannot ping as 'intervalNs' must be an integer 0-9007199254740991: current value is 0.5",
    });
    assert.throws(() => a.ping("10.0.0.2", { waitNs: -1 }), {
      name: "RangeError",
      message: "Cannot ping as 'waitNs' must be an integer 0-9007199254740991: current value is -1",
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

describe("SimBackend", () => {
  test("ping() paces as labwire's ping: PING_INTERVAL_MS apart, PING_WAIT_MS after the last unanswered", async () => {
    const backend = new SimBackend();
    const lab = new LabModel({ backend, macSeed: 1 });
    await lab.configureNetworks("minimega", ["LAN"]);
    await lab.launchVms("minimega", "kvm", "a,b");
    await lab.startVms("minimega", "all");
    await lab.addVmAddress("minimega", "a", "0", "10.0.0.1/24");
    await lab.addVmAddress("minimega", "b", "0", "10.0.0.2/24");
    const clock = backend.network.clock;
    const started = clock.now();
    const lost = await lab.ping("minimega", "a:0", "10.0.0.9", 2);
    assert.deepEqual([lost.sent, lost.received, lost.reason], [2, 0, "no-reply"]);
    assert.equal(clock.now() - started, PING_INTERVAL_MS * MS + PING_WAIT_MS * MS);
    const next = clock.now();
    const got = await lab.ping("minimega", "a:0", "10.0.0.2", 3);
    assert.deepEqual([got.sent, got.received, got.rttMs.length], [3, 3, 3]);
    assert.equal(
      clock.now() - next,
      2 * PING_INTERVAL_MS * MS + HOST_PROCESSING_NS,
      "ends at the last reply",
    );
  });
});
