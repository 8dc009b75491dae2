// Runtime-neutral.
/**
 * A small IPv4 host for the simulator: what sits behind a VM's NIC or a host tap. It answers ARP and
 * ICMP echo requests for its addresses, keeps an ARP cache, and pings.
 *
 * A host is an untagged endpoint of an access port: it drops tagged frames, and ignores frames whose
 * destination MAC is neither its own nor broadcast. Everything it sends in answer to a frame is sent
 * 1 us of virtual time later ({@linkcode HOST_PROCESSING_NS}), through the {@linkcode Scheduler}, so
 * delivering a frame never recurses into the bridge. Nothing here reads a real clock or random numbers:
 * the same lab gives the same frames at the same virtual times, every run.
 *
 * Frames are built with `lib/frame.ts` into one buffer the host owns and reuses; `transmit` must copy
 * (or finish with) the bytes before it returns.
 *
 * No routing yet: a host reaches only the subnets of its own addresses. An echo to any other address is
 * lost (counted in {@linkcode PingRun.lost}) without a frame being sent. The ARP cache never ages.
 *
 * @example Two hosts on one wire
 * ```ts
 * import assert from "node:assert/strict";
 * import { SimHost, VirtualClock } from "labwire";
 *
 * const clock = new VirtualClock();
 * const a: SimHost = new SimHost({ mac: "52:54:00:00:00:01", scheduler: clock, transmit: (buf, off, len) => b.receive(buf, off, len) });
 * const b: SimHost = new SimHost({ mac: "52:54:00:00:00:02", scheduler: clock, transmit: (buf, off, len) => a.receive(buf, off, len) });
 * a.addAddress("10.0.0.1/24");
 * b.addAddress("10.0.0.2/24");
 * const run = a.ping("10.0.0.2", { count: 3 });
 * clock.run(); // until nothing is left to do: the pings, then their (spent) timeouts
 * assert.equal(run.done, true);
 * assert.deepEqual([run.sent, run.received, run.lost], [3, 3, 0]);
 * assert.deepEqual(a.arpTable(), [{ ip: "10.0.0.2", mac: "52:54:00:00:00:02" }]);
 * ```
 *
 * @module
 */

import {
  ARP_REPLY,
  ARP_REQUEST,
  arpReply,
  arpRequest,
  decodeFrame,
  type Frame,
  frameLength,
  ICMP_ECHO_REPLY,
  ICMP_ECHO_REQUEST,
  icmpEcho,
  ipv4FromString,
  ipv4ToString,
  isBroadcastMac48,
  isMulticastMac48,
  mac48,
  macFromString,
  macToString,
  writeFrame,
} from "../lib/frame.ts";
import type { FrameSink, Scheduler } from "./types.ts";

/** How long a host takes to answer a frame: 1 us of virtual time. */
export const HOST_PROCESSING_NS = 1_000;
/** A host sends at most one ARP request per address and second while echoes wait for the answer. */
export const ARP_RETRY_NS = 1_000_000_000;
/** The largest echo data a ping sends: 1500 (MTU) - 20 (IPv4) - 8 (ICMP). */
export const PING_MAX_DATA = 1472;

/** Options for {@linkcode SimHost}. */
export interface SimHostOptions {
  /** The NIC's MAC address, unicast. */
  mac: string;
  /** The lab's virtual clock. */
  scheduler: Scheduler;
  /** Sends a frame out of the NIC; the bytes are reused after it returns. */
  transmit: (buf: Uint8Array, off: number, len: number) => void;
  /** A name for messages. @default {the MAC} */
  name?: string;
}

/** Options for {@linkcode SimHost.ping}. */
export interface SimHostPingOptions {
  /** Echo requests to send. @default {1} */
  count?: number;
  /** Nanoseconds between echo requests. @default {1_000_000_000} */
  intervalNs?: number;
  /** Nanoseconds an echo may take, ARP resolution included, before it counts as lost. @default {1_000_000_000} */
  timeoutNs?: number;
  /** The echo identifier. @default {1 for the host's first ping, 2 for its second, ...} */
  id?: number;
  /** Bytes of echo data, as `ping -s`. @default {56} */
  size?: number;
}

/** A ping in progress: its fields change as the simulation runs; drive the scheduler until `done`. */
export interface PingRun {
  /** The address pinged. */
  readonly dst: string;
  /** The echo identifier. */
  readonly id: number;
  /** Echo requests it will send. */
  readonly count: number;
  /**
   * Echo requests whose turn came, as ping(8) counts "packets transmitted": including those that never
   * left the host because the address was unreachable or ARP got no answer.
   */
  readonly sent: number;
  /** Echo replies received in time. */
  readonly received: number;
  /** Echoes given up: no route, no ARP answer, or no reply before the timeout. */
  readonly lost: number;
  /** Whether every echo was received or lost. */
  readonly done: boolean;
  /** Round-trip time of each reply received, in nanoseconds, from the echo's turn to its reply. */
  readonly rttNs: readonly number[];
}

/** What a host has seen and done. */
export interface SimHostCounters {
  /** Frames handed to {@linkcode SimHost.receive}. */
  rxFrames: number;
  /** Frames transmitted. */
  txFrames: number;
  /** Frames for another MAC, or for this host but nothing it answers (other protocols, other IPs). */
  ignored: number;
  /** Frames dropped as wrong: tagged, malformed, or with a bad checksum. */
  dropped: number;
}

/** {@linkcode PingRun}, writable for the host. */
interface Run {
  dst: string;
  id: number;
  count: number;
  sent: number;
  received: number;
  lost: number;
  done: boolean;
  rttNs: number[];
}

/** One echo request of a ping. */
interface Echo {
  run: Run;
  seq: number;
  dstIp: number;
  srcIp: number;
  /** When its turn came. */
  startNs: number;
  data: Uint8Array;
  state: "arp" | "sent" | "over";
}

interface Address {
  ip: number;
  prefix: number;
  mask: number;
}

interface PendingArp {
  lastRequestNs: number;
  waiting: Echo[];
}

function maskOf(prefix: number): number {
  return prefix === 0 ? 0 : (0xffff_ffff << (32 - prefix)) >>> 0;
}

function parseCidr(cidr: string): Address {
  const slash = cidr.indexOf("/");
  const prefixText = cidr.slice(slash + 1);
  if (slash < 0 || !/^(?:[0-9]|[12][0-9]|3[0-2])$/.test(prefixText)) {
    throw new SyntaxError(`Cannot parse CIDR '${cidr}': expected a.b.c.d/prefix with a prefix 0-32`);
  }
  const prefix = Number(prefixText);
  let ip: number;
  try {
    ip = ipv4FromString(cidr.slice(0, slash));
  } catch {
    throw new SyntaxError(`Cannot parse CIDR '${cidr}': expected a.b.c.d/prefix with a prefix 0-32`);
  }
  return { ip, prefix, mask: maskOf(prefix) };
}

function checkPingOption(value: number, min: number, max: number, name: string): void {
  if (!(Number.isInteger(value) && value >= min && value <= max)) {
    throw new RangeError(
      `Cannot ping as '${name}' must be an integer ${min}-${max}: current value is ${value}`,
    );
  }
}

/** A host behind a NIC: answers ARP and pings for its addresses, and pings. See the module doc. */
export class SimHost implements FrameSink {
  /** The host's name, for messages. */
  readonly name: string;
  /** The NIC's MAC, lower-case colon form. */
  readonly mac: string;
  #mac48: number;
  #scheduler: Scheduler;
  #transmit: (buf: Uint8Array, off: number, len: number) => void;
  #tx = new Uint8Array(1518);
  #addrs: Address[] = [];
  #arp = new Map<number, string>();
  #pendingArp = new Map<number, PendingArp>();
  /** Echoes sent and not yet answered, by `id * 65536 + seq`. */
  #inFlight = new Map<number, Echo>();
  #nextPingId = 1;
  #ipId = 0;
  #counters: SimHostCounters = { rxFrames: 0, txFrames: 0, ignored: 0, dropped: 0 };

  /**
   * Makes a host with no addresses yet.
   *
   * @param options The MAC, the clock, where frames go.
   * @throws {MacError} If the MAC cannot be parsed.
   * @throws {RangeError} If the MAC is multicast (or broadcast).
   */
  constructor(options: SimHostOptions) {
    const mac = macFromString(options.mac);
    if (isMulticastMac48(mac)) {
      throw new RangeError(
        `Cannot make host as its MAC must be unicast: current value is ${macToString(mac)}`,
      );
    }
    this.#mac48 = mac;
    this.mac = macToString(mac);
    this.name = options.name ?? this.mac;
    this.#scheduler = options.scheduler;
    this.#transmit = options.transmit;
  }

  /**
   * Gives the host an address and its subnet.
   *
   * @param cidr E.g. `"10.0.0.1/24"`.
   * @throws {SyntaxError} If `cidr` is not `a.b.c.d/prefix`.
   * @throws {Error} If the host already has that address.
   */
  addAddress(cidr: string): void {
    const address = parseCidr(cidr);
    if (this.#addrs.some((a) => a.ip === address.ip)) {
      throw new Error(
        `Cannot add address '${cidr}' to host ${this.name}: it already has ${ipv4ToString(address.ip)}`,
      );
    }
    this.#addrs.push(address);
  }

  /**
   * Takes an address away.
   *
   * @param ip The address, with or without its `/prefix`.
   * @throws {SyntaxError} If `ip` is not an IPv4 address.
   * @throws {Error} If the host does not have it.
   */
  removeAddress(ip: string): void {
    const slash = ip.indexOf("/");
    const n = ipv4FromString(slash < 0 ? ip : ip.slice(0, slash));
    const i = this.#addrs.findIndex((a) => a.ip === n);
    if (i < 0) throw new Error(`Cannot remove address '${ip}' from host ${this.name}: it does not have it`);
    this.#addrs.splice(i, 1);
  }

  /** The host's addresses as `a.b.c.d/prefix`, in the order they were added. */
  addresses(): string[] {
    return this.#addrs.map((a) => `${ipv4ToString(a.ip)}/${a.prefix}`);
  }

  /** The ARP cache, sorted by address. */
  arpTable(): { ip: string; mac: string }[] {
    return [...this.#arp].sort((x, y) => x[0] - y[0]).map(([ip, mac]) => ({ ip: ipv4ToString(ip), mac }));
  }

  /** Forgets every ARP entry. */
  clearArpTable(): void {
    this.#arp.clear();
  }

  /** A copy of the host's counters. */
  counters(): SimHostCounters {
    return { ...this.#counters };
  }

  /**
   * Takes a frame from the wire (the bytes are only read during the call). Answers are scheduled, never
   * sent from inside this call.
   */
  receive(buf: Uint8Array, off: number, len: number): void {
    const counters = this.#counters;
    counters.rxFrames++;
    if (len < 14) {
      counters.dropped++;
      return;
    }
    const dst = mac48(buf, off);
    if (dst !== this.#mac48 && !isBroadcastMac48(dst)) {
      counters.ignored++;
      return;
    }
    const tpid = buf[off + 12]! << 8 | buf[off + 13]!;
    if (tpid === 0x8100 || tpid === 0x88a8) {
      counters.dropped++; // an access-port endpoint: tagged frames are not for it
      return;
    }
    if (mac48(buf, off + 6) === this.#mac48) {
      counters.ignored++; // its own frame, looped back
      return;
    }
    let frame: Frame;
    try {
      frame = decodeFrame(buf, off, len);
    } catch {
      counters.dropped++;
      return;
    }
    if (frame.arp !== undefined) this.#onArp(frame);
    else if (frame.ipv4 !== undefined) this.#onIpv4(frame);
    else counters.ignored++;
  }

  #hasIp(ip: number): boolean {
    return this.#addrs.some((a) => a.ip === ip);
  }

  #onArp(frame: Frame): void {
    const arp = frame.arp!;
    const sender = ipv4FromString(arp.senderIp);
    const target = ipv4FromString(arp.targetIp);
    const forUs = this.#hasIp(target);
    // RFC 826: update an entry we have; add one when the packet is for us
    if (forUs || this.#arp.has(sender)) this.#arp.set(sender, arp.senderMac);
    if (arp.op === ARP_REQUEST && forUs) {
      const reply = arpReply({
        srcMac: this.mac,
        srcIp: arp.targetIp,
        dstMac: arp.senderMac,
        dstIp: arp.senderIp,
      });
      this.#scheduler.after(HOST_PROCESSING_NS, () => this.#send(reply));
    } else if (arp.op === ARP_REPLY && forUs) {
      const pending = this.#pendingArp.get(sender);
      if (pending !== undefined) {
        this.#pendingArp.delete(sender);
        this.#scheduler.after(HOST_PROCESSING_NS, () => {
          for (const echo of pending.waiting) if (echo.state === "arp") this.#sendEcho(echo, arp.senderMac);
        });
      }
    } else {
      this.#counters.ignored++;
    }
  }

  #onIpv4(frame: Frame): void {
    const ip = frame.ipv4!;
    const icmp = ip.icmp;
    if (ip.checksumOk === false || icmp?.checksumOk === false) {
      this.#counters.dropped++;
      return;
    }
    if (icmp === undefined || !this.#hasIp(ipv4FromString(ip.dst))) {
      this.#counters.ignored++;
      return;
    }
    if (icmp.type === ICMP_ECHO_REQUEST) {
      const reply = icmpEcho({
        srcMac: this.mac,
        dstMac: frame.src,
        srcIp: ip.dst,
        dstIp: ip.src,
        id: icmp.id,
        seq: icmp.seq,
        reply: true,
        data: icmp.data,
      });
      this.#scheduler.after(HOST_PROCESSING_NS, () => this.#send(reply));
    } else if (icmp.type === ICMP_ECHO_REPLY) {
      const key = icmp.id * 65536 + icmp.seq;
      const echo = this.#inFlight.get(key);
      if (echo === undefined || echo.state !== "sent" || ipv4ToString(echo.dstIp) !== ip.src) {
        this.#counters.ignored++;
        return;
      }
      this.#inFlight.delete(key);
      echo.state = "over";
      const run = echo.run;
      run.received++;
      run.rttNs.push(this.#scheduler.now() - echo.startNs);
      this.#finishIfDone(run);
    } else {
      this.#counters.ignored++;
    }
  }

  /** Writes the frame into the host's buffer and transmits it. */
  #send(frame: Frame): void {
    if (frame.ipv4 !== undefined) {
      frame.ipv4.id = this.#ipId;
      this.#ipId = (this.#ipId + 1) & 0xffff;
    }
    const n = frameLength(frame);
    if (n > this.#tx.length) this.#tx = new Uint8Array(n);
    const len = writeFrame(frame, this.#tx, 0);
    this.#counters.txFrames++;
    this.#transmit(this.#tx, 0, len);
  }

  /**
   * Pings `dstIp` from the address whose subnet holds it: ARP first when its MAC is unknown, then
   * `count` echo requests `intervalNs` apart, the first when the scheduler next runs. Pinging one of the
   * host's own addresses is answered inside the host, without a frame.
   *
   * @param dstIp The address to ping.
   * @param options Count, interval, timeout, identifier, size.
   * @returns The run, updated as the simulation goes on.
   * @throws {SyntaxError} If `dstIp` is not an IPv4 address.
   * @throws {RangeError} If an option is out of range.
   */
  ping(dstIp: string, options: SimHostPingOptions = {}): PingRun {
    const dst = ipv4FromString(dstIp);
    const {
      count = 1,
      intervalNs = 1_000_000_000,
      timeoutNs = 1_000_000_000,
      id = this.#nextPingId,
      size = 56,
    } = options;
    checkPingOption(count, 1, 0xffff, "count");
    checkPingOption(intervalNs, 0, Number.MAX_SAFE_INTEGER, "intervalNs");
    checkPingOption(timeoutNs, 1, Number.MAX_SAFE_INTEGER, "timeoutNs");
    checkPingOption(id, 0, 0xffff, "id");
    checkPingOption(size, 0, PING_MAX_DATA, "size");
    if (options.id === undefined) this.#nextPingId = this.#nextPingId === 0xffff ? 1 : this.#nextPingId + 1;
    const run: Run = {
      dst: ipv4ToString(dst),
      id,
      count,
      sent: 0,
      received: 0,
      lost: 0,
      done: false,
      rttNs: [],
    };
    const data = new Uint8Array(size).map((_, i) => i & 0xff);
    const turn = (seq: number): void => {
      if (seq < count) this.#scheduler.after(intervalNs, () => turn(seq + 1));
      this.#startEcho(run, seq, dst, data, timeoutNs);
    };
    this.#scheduler.after(0, () => turn(1));
    return run;
  }

  #startEcho(run: Run, seq: number, dst: number, data: Uint8Array, timeoutNs: number): void {
    run.sent++;
    const now = this.#scheduler.now();
    if (this.#hasIp(dst)) {
      // loopback: answered inside the host
      this.#scheduler.after(HOST_PROCESSING_NS, () => {
        run.received++;
        run.rttNs.push(HOST_PROCESSING_NS);
        this.#finishIfDone(run);
      });
      return;
    }
    const from = this.#addrs.find((a) => ((a.ip ^ dst) & a.mask) === 0);
    if (from === undefined) {
      run.lost++; // no route
      this.#finishIfDone(run);
      return;
    }
    const echo: Echo = { run, seq, dstIp: dst, srcIp: from.ip, startNs: now, data, state: "arp" };
    this.#scheduler.after(timeoutNs, () => this.#expire(echo));
    const mac = this.#arp.get(dst);
    if (mac !== undefined) {
      this.#sendEcho(echo, mac);
      return;
    }
    let pending = this.#pendingArp.get(dst);
    if (pending === undefined) {
      pending = { lastRequestNs: -Infinity, waiting: [] };
      this.#pendingArp.set(dst, pending);
    }
    pending.waiting.push(echo);
    if (now - pending.lastRequestNs >= ARP_RETRY_NS) {
      pending.lastRequestNs = now;
      this.#send(arpRequest({ srcMac: this.mac, srcIp: ipv4ToString(from.ip), targetIp: ipv4ToString(dst) }));
    }
  }

  #sendEcho(echo: Echo, dstMac: string): void {
    echo.state = "sent";
    this.#inFlight.set(echo.run.id * 65536 + echo.seq, echo);
    this.#send(icmpEcho({
      srcMac: this.mac,
      dstMac,
      srcIp: ipv4ToString(echo.srcIp),
      dstIp: ipv4ToString(echo.dstIp),
      id: echo.run.id,
      seq: echo.seq,
      data: echo.data,
    }));
  }

  #expire(echo: Echo): void {
    if (echo.state === "over") return;
    if (echo.state === "arp") {
      const pending = this.#pendingArp.get(echo.dstIp);
      if (pending !== undefined) {
        pending.waiting = pending.waiting.filter((e) => e !== echo);
        if (pending.waiting.length === 0) this.#pendingArp.delete(echo.dstIp);
      }
    } else {
      const key = echo.run.id * 65536 + echo.seq;
      if (this.#inFlight.get(key) === echo) this.#inFlight.delete(key);
    }
    echo.state = "over";
    echo.run.lost++;
    this.#finishIfDone(echo.run);
  }

  #finishIfDone(run: Run): void {
    if (run.received + run.lost === run.count) run.done = true;
  }
}
