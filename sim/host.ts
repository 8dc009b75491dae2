// Runtime-neutral.
/**
 * A small IPv4 host for the simulator: what sits behind a VM's NIC or a host tap. It answers ARP and
 * ICMP echo requests for its addresses, resolves neighbours the way Linux's neighbour code does, and
 * pings the way iputils `ping -n -c COUNT -i INTERVAL -W WAIT` does, in virtual time, so that a lab on the
 * simulator puts the same frames on its wires as the same lab on Open vSwitch with network namespaces.
 *
 * A host is an untagged endpoint of an access port: it drops tagged frames, and ignores frames whose
 * destination MAC is neither its own nor broadcast. Everything it sends in answer to a frame is sent
 * 1 us of virtual time later ({@linkcode HOST_PROCESSING_NS}), through the {@linkcode Scheduler}, so
 * delivering a frame never recurses into the bridge. Nothing here reads a real clock or random numbers:
 * the same lab gives the same frames at the same virtual times, every run.
 *
 * Frames are built with `lib/wire/frame.ts` into one buffer the host owns and reuses; `transmit` must copy
 * (or finish with) the bytes before it returns.
 *
 * **Ping** ({@linkcode SimHost.ping}), as iputils: echo request `seq` 1, 2, ... go out `intervalNs`
 * apart, the first at once (when the scheduler next runs). Each one's data is the bytes 0, 1, 2, ...,
 * with the first 16 overwritten by a `struct timeval` of the virtual time it was sent (8-byte seconds,
 * 8-byte microseconds, little-endian, as on x86_64) when there is room for one. When the last request has
 * gone out, the linger is decided once: `waitNs` (`-W`) if no reply has come yet, else twice the longest
 * round trip so far, at least `intervalNs`. The run ends when every request is answered or reported
 * unreachable (`received + errors === count`, ping's exit test), else when the linger after the last
 * request runs out; later replies are ignored. A ping that got no reply at all then forgets the
 * destination's neighbour entry, whatever its state, and with it any retransmission and queued packet,
 * as labwire's real backend does with `ip neigh flush to IP`: nothing more is sent for it, and the next
 * ping starts afresh.
 *
 * **Neighbours** (ARP, RFC 826), per destination address, as Linux with `mcast_probes` 3 and
 * `retrans_time_ms` 1000:
 * - a packet for an address with no entry, or a FAILED one, makes an INCOMPLETE entry, is queued on it,
 *   and a broadcast ARP request goes out at once; while INCOMPLETE, another request goes out every
 *   {@linkcode ARP_RETRY_NS} (1 s), {@linkcode ARP_MAX_REQUESTS} (3) in all, at +0, +1 s and +2 s; at
 *   +3 s with no answer the entry is FAILED and its queued packets are dropped without a frame, each
 *   echo request of a running ping counted in {@linkcode PingRun.errors} (Linux's "Destination Host
 *   Unreachable", ping's "+N errors");
 * - a packet for an INCOMPLETE address is only queued (at most {@linkcode ARP_QUEUE_MAX}, 101, Linux's
 *   `unres_qlen`: the oldest is dropped beyond that); a packet for a FAILED address starts a new cycle;
 * - an ARP request for one of the host's addresses teaches it the sender (a new entry or an update) and
 *   is answered; any other ARP packet (a reply, or a request for someone else) only updates an entry the
 *   host already has, in any state (Linux with `arp_accept` 0: an unsolicited reply teaches nothing).
 *   An entry resolved while INCOMPLETE sends its queued packets in order, {@linkcode HOST_PROCESSING_NS}
 *   later;
 * - resolved entries never age (labwire's real endpoints are configured not to re-probe either); echo
 *   replies go through the same table, so a host that lost its entry for the asker asks first.
 *
 * A packet sent at the very instant an entry turns FAILED: in Linux (`__neigh_event_send`,
 * `neigh_timer_handler`), the send path and the entry's timer take the entry's lock in turn. A timer due
 * at a tick runs in that tick's softirq, before process context goes on, so at the same instant the timer
 * comes first: the entry is FAILED, its queue dropped, and the new packet finds it FAILED and starts a new
 * cycle with a request at once. (Had the send come first, the packet would join the queue and be dropped
 * with it, without a new request.) The simulator gets the same order from its rule that events due at the
 * same virtual time run in the order they were scheduled: the timer due at +3 s was scheduled at +2 s,
 * when the third request went out, and a ping's request due at +3 s was scheduled one interval earlier,
 * after it when the interval is under 1 s (labwire's 200 ms). So the 16th request of an unanswered
 * labwire ping starts a new cycle at +3 s. A real kernel's instants drift: each retransmission is armed
 * from when the timer actually ran, and the timer wheel fires a 1 s timer up to some tens of ms late, so
 * there the FAILED instant falls a little after +3 s and that request usually joins the old queue; runs
 * that reach that instant (16 or more unanswered requests 200 ms apart) can differ from the simulator.
 *
 * No routing yet: a host reaches only the subnets of its own addresses. A ping to any other address (or
 * from a host with no address) sends nothing and ends at once with {@linkcode PingRun.networkUnreachable},
 * as ping(8) stops with `connect: Network is unreachable` before its first request.
 *
 * **Paused** ({@linkcode SimHost.paused}): a host whose VM does not run (launched and not started,
 * stopped, or killed) takes no frame in (each is counted as ignored) and sends none, not even a
 * retransmission already due; its tables stay as they were, as a paused guest's do.
 *
 * @example Two hosts on one wire
 * ```ts
 * import assert from "node:assert/strict";
 * import { SimHost, VirtualClock } from "labwire/sim";
 *
 * const clock = new VirtualClock();
 * const a: SimHost = new SimHost({ mac: "52:54:00:00:00:01", scheduler: clock, transmit: (buf, off, len) => b.receive(buf, off, len) });
 * const b: SimHost = new SimHost({ mac: "52:54:00:00:00:02", scheduler: clock, transmit: (buf, off, len) => a.receive(buf, off, len) });
 * a.addAddress("10.0.0.1/24");
 * b.addAddress("10.0.0.2/24");
 * const run = a.ping("10.0.0.2", { count: 3, intervalNs: 200_000_000 });
 * clock.runUntil(() => run.done, 10_000_000_000);
 * assert.equal(clock.now(), 400_001_000); // the third request at 400 ms, its reply 1 us later
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
} from "../lib/wire/frame.ts";
import type { FrameSink, Scheduler } from "./types.ts";

/** How long a host takes to answer a frame: 1 us of virtual time. */
export const HOST_PROCESSING_NS = 1_000;
/** Time between the ARP requests for an unresolved address, as Linux's `retrans_time_ms`: 1 s. */
export const ARP_RETRY_NS = 1_000_000_000;
/** ARP requests per resolution attempt, as Linux's `mcast_probes`: 3, then the entry is FAILED. */
export const ARP_MAX_REQUESTS = 3;
/** Packets an unresolved address may hold, as Linux's `unres_qlen`: 101; the oldest goes beyond. */
export const ARP_QUEUE_MAX = 101;
/** The largest echo data a ping sends: 1500 (MTU) - 20 (IPv4) - 8 (ICMP). */
export const PING_MAX_DATA = 1472;

/** Bytes of the `struct timeval` ping writes at the start of its data (x86_64: two 8-byte fields). */
const TIMEVAL_BYTES = 16;

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

/** Options for {@linkcode SimHost.ping}: iputils ping's `-c`, `-i`, `-W` and `-s`. */
export interface SimHostPingOptions {
  /** Echo requests to send (`-c`). @default {1} */
  count?: number;
  /** Nanoseconds between echo requests (`-i`); ping's default is 1 s. @default {1_000_000_000} */
  intervalNs?: number;
  /**
   * Nanoseconds to wait after the last request when no reply has come by then (`-W`); ping's default is
   * 10 s. With replies, ping waits twice the longest round trip instead, at least `intervalNs`.
   * @default {10_000_000_000}
   */
  waitNs?: number;
  /** The echo identifier. @default {1 for the host's first ping, 2 for its second, ...} */
  id?: number;
  /** Bytes of echo data (`-s`); from 16 on, the first 16 carry the send time. @default {56} */
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
   * left the host because the address was out of its subnets or ARP got no answer.
   */
  readonly sent: number;
  /** Echo replies received before the run ended. */
  readonly received: number;
  /**
   * Echo requests reported unreachable before the run ended: dropped because ARP got no answer (Linux's
   * "Destination Host Unreachable", ping's "+N errors"). They count towards ending the run, as replies do.
   */
  readonly errors: number;
  /** `sent - received` once the run is done; 0 until then. */
  readonly lost: number;
  /** Whether the run has ended: every request answered or reported unreachable, or the linger spent. */
  readonly done: boolean;
  /**
   * The host has no route to the address (no address of its own whose subnet holds it): nothing was sent
   * and the run ended at once, as ping(8) does with `connect: Network is unreachable`.
   */
  readonly networkUnreachable: boolean;
  /**
   * Round-trip time of each reply received, in nanoseconds, in the order they came: from the time the
   * request was sent (its timeval, ARP resolution included) to its reply.
   */
  readonly rttNs: readonly number[];
}

/** What a host has seen and done. */
export interface SimHostCounters {
  /** Frames handed to {@linkcode SimHost.receive}. */
  rxFrames: number;
  /** Frames transmitted. */
  txFrames: number;
  /** Frames for another MAC, or for this host but nothing it uses (other protocols, other IPs, late replies). */
  ignored: number;
  /** Frames dropped as wrong: tagged, malformed, or with a bad checksum. */
  dropped: number;
}

/** The state of a neighbour entry, named as `ip neigh` shows it. */
export type SimNeighbourState = "INCOMPLETE" | "REACHABLE" | "FAILED";

/** One entry of a host's neighbour (ARP) table. */
export interface SimNeighbour {
  /** The address. */
  readonly ip: string;
  /** INCOMPLETE while ARP requests go out, REACHABLE once answered (it never ages), FAILED after 3 unanswered. */
  readonly state: SimNeighbourState;
  /** The MAC, once REACHABLE. */
  readonly mac?: string;
  /** Packets waiting for the answer. */
  readonly queued: number;
}

/** {@linkcode PingRun}, writable for the host, with what the run needs. */
interface Run {
  dst: string;
  id: number;
  count: number;
  sent: number;
  received: number;
  errors: number;
  lost: number;
  done: boolean;
  networkUnreachable: boolean;
  rttNs: number[];
  dstIp: number;
  intervalNs: number;
  waitNs: number;
  /** The echo data before its timeval: 0, 1, 2, ... */
  pattern: Uint8Array;
  /** The longest round trip ping could time (only with a timeval in the data), or 0. */
  maxRttNs: number;
}

/** An ICMP echo request or reply on its way out, queued while its destination is unresolved. */
interface Packet {
  srcIp: number;
  dstIp: number;
  reply: boolean;
  id: number;
  seq: number;
  data: Uint8Array;
  /** The ping an echo request belongs to, and when it was sent. */
  run: Run | undefined;
  sentNs: number;
}

/** A neighbour entry. A new resolution attempt gets a new object, so a stale timer finds itself replaced. */
interface Neighbour {
  state: SimNeighbourState;
  /** The MAC, once REACHABLE; "" before. */
  mac: string;
  /** ARP requests sent in this attempt. */
  requests: number;
  /** The source address of the requests: that of the newest packet queued (Linux's `arp_solicit`). */
  srcIp: number;
  /** Packets waiting, oldest first. */
  queue: Packet[];
}

interface Address {
  ip: number;
  prefix: number;
  mask: number;
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

/** The key of an echo in flight. */
function echoKey(id: number, seq: number): number {
  return id * 65536 + seq;
}

/** Writes a `struct timeval` of `ns` at the start of `data`, as ping on x86_64: 8-byte seconds, 8-byte us, LE. */
function writeTimeval(data: Uint8Array, ns: number): void {
  const sec = Math.floor(ns / 1e9);
  const usec = Math.floor((ns - sec * 1e9) / 1000);
  const view = new DataView(data.buffer, data.byteOffset, TIMEVAL_BYTES);
  view.setUint32(0, sec >>> 0, true);
  view.setUint32(4, Math.floor(sec / 0x1_0000_0000), true);
  view.setUint32(8, usec, true);
  view.setUint32(12, 0, true);
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
  #neighbours = new Map<number, Neighbour>();
  /** Echo requests of running pings not yet answered, by {@linkcode echoKey}. */
  #inFlight = new Map<number, Packet>();
  #nextPingId = 1;
  #ipId = 0;
  #counters: SimHostCounters = { rxFrames: 0, txFrames: 0, ignored: 0, dropped: 0 };
  /**
   * Whether the host is paused: its VM does not run. A paused host takes no frame in (counted as ignored)
   * and sends none; its addresses and neighbour table stay as they are.
   */
  paused = false;

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

  /** The ARP cache: the resolved (REACHABLE) neighbour entries, sorted by address. */
  arpTable(): { ip: string; mac: string }[] {
    return [...this.#neighbours]
      .filter(([, n]) => n.state === "REACHABLE")
      .sort((x, y) => x[0] - y[0])
      .map(([ip, n]) => ({ ip: ipv4ToString(ip), mac: n.mac }));
  }

  /** Every neighbour entry, resolved or not, sorted by address: what `ip neigh` would show. */
  neighbours(): SimNeighbour[] {
    return [...this.#neighbours].sort((x, y) => x[0] - y[0]).map(([ip, n]) =>
      n.state === "REACHABLE"
        ? { ip: ipv4ToString(ip), state: n.state, mac: n.mac, queued: n.queue.length }
        : { ip: ipv4ToString(ip), state: n.state, queued: n.queue.length }
    );
  }

  /**
   * Forgets every neighbour entry, as `ip neigh flush all`: pending ARP requests stop, and queued
   * packets are dropped (echo requests of running pings count as {@linkcode PingRun.errors}).
   */
  clearArpTable(): void {
    const all = [...this.#neighbours.values()];
    this.#neighbours.clear();
    for (const n of all) this.#dropQueue(n);
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
    if (this.paused) {
      counters.ignored++;
      return;
    }
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
    if (arp.op === ARP_REQUEST && this.#hasIp(ipv4FromString(arp.targetIp))) {
      // RFC 826: learn the asker (Linux: neigh_event_ns), then answer
      this.#learn(sender, arp.senderMac);
      const reply = arpReply({
        srcMac: this.mac,
        srcIp: arp.targetIp,
        dstMac: arp.senderMac,
        dstIp: arp.senderIp,
      });
      this.#scheduler.after(HOST_PROCESSING_NS, () => this.#send(reply));
      return;
    }
    // RFC 826 merge: update an entry the host has, in any state; make none (Linux, arp_accept 0)
    const known = this.#neighbours.has(sender);
    if (known) this.#learn(sender, arp.senderMac);
    if (!(known && arp.op === ARP_REPLY)) this.#counters.ignored++;
  }

  #onIpv4(frame: Frame): void {
    const ip = frame.ipv4!;
    const icmp = ip.icmp;
    if (ip.checksumOk === false || icmp?.checksumOk === false) {
      this.#counters.dropped++;
      return;
    }
    const to = ipv4FromString(ip.dst);
    if (icmp === undefined || !this.#hasIp(to)) {
      this.#counters.ignored++;
      return;
    }
    const from = ipv4FromString(ip.src);
    if (icmp.type === ICMP_ECHO_REQUEST) {
      const reply: Packet = {
        srcIp: to,
        dstIp: from,
        reply: true,
        id: icmp.id,
        seq: icmp.seq,
        data: icmp.data,
        run: undefined,
        sentNs: 0,
      };
      this.#scheduler.after(HOST_PROCESSING_NS, () => this.#output(reply));
    } else if (icmp.type !== ICMP_ECHO_REPLY || !this.#onEchoReply(icmp.id, icmp.seq, from)) {
      this.#counters.ignored++;
    }
  }

  /** Counts an echo reply for a running ping; false when no running ping waits for it. */
  #onEchoReply(id: number, seq: number, from: number): boolean {
    const key = echoKey(id, seq);
    const request = this.#inFlight.get(key);
    const run = request?.run;
    if (request === undefined || run === undefined || run.done || request.dstIp !== from) return false;
    this.#inFlight.delete(key);
    const rtt = this.#scheduler.now() - request.sentNs;
    run.received++;
    run.rttNs.push(rtt);
    if (run.pattern.length >= TIMEVAL_BYTES && rtt > run.maxRttNs) run.maxRttNs = rtt;
    this.#endIfAnswered(run);
    return true;
  }

  /** Writes the frame into the host's buffer and transmits it. */
  #send(frame: Frame): void {
    if (this.paused) return; // a paused VM sends nothing, not even what was due
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

  /** Transmits an echo to a resolved MAC. */
  #sendPacket(packet: Packet, dstMac: string): void {
    this.#send(icmpEcho({
      srcMac: this.mac,
      dstMac,
      srcIp: ipv4ToString(packet.srcIp),
      dstIp: ipv4ToString(packet.dstIp),
      id: packet.id,
      seq: packet.seq,
      reply: packet.reply,
      data: packet.data,
    }));
  }

  /** Sends a packet through the neighbour table: at once when resolved, else queued while ARP asks. */
  #output(packet: Packet): void {
    const ip = packet.dstIp;
    const n = this.#neighbours.get(ip);
    if (n?.state === "REACHABLE") {
      this.#sendPacket(packet, n.mac);
    } else if (n?.state === "INCOMPLETE") {
      n.queue.push(packet);
      n.srcIp = packet.srcIp;
      if (n.queue.length > ARP_QUEUE_MAX) this.#forgetEcho(n.queue.shift()!); // dropped, no error
    } else {
      // no entry, or FAILED: a new attempt, its first request at once
      const fresh: Neighbour = {
        state: "INCOMPLETE",
        mac: "",
        requests: 0,
        srcIp: packet.srcIp,
        queue: [packet],
      };
      this.#neighbours.set(ip, fresh);
      this.#solicit(ip, fresh);
    }
  }

  /** Broadcasts an ARP request for `ip` and arms the next step of the attempt. */
  #solicit(ip: number, n: Neighbour): void {
    n.requests++;
    this.#send(arpRequest({ srcMac: this.mac, srcIp: ipv4ToString(n.srcIp), targetIp: ipv4ToString(ip) }));
    this.#scheduler.after(ARP_RETRY_NS, () => this.#retransmit(ip, n));
  }

  /** Linux's neighbour timer: another request, or FAILED after the last. */
  #retransmit(ip: number, n: Neighbour): void {
    if (this.#neighbours.get(ip) !== n || n.state !== "INCOMPLETE") return; // resolved or forgotten
    if (n.requests < ARP_MAX_REQUESTS) {
      this.#solicit(ip, n);
      return;
    }
    n.state = "FAILED";
    this.#dropQueue(n);
  }

  /** Resolves `ip` to `mac` (a new entry, or an update in any state) and sends what waited for it. */
  #learn(ip: number, mac: string): void {
    const n = this.#neighbours.get(ip);
    if (n === undefined) {
      this.#neighbours.set(ip, { state: "REACHABLE", mac, requests: 0, srcIp: 0, queue: [] });
      return;
    }
    n.state = "REACHABLE";
    n.mac = mac;
    if (n.queue.length === 0) return;
    const queue = n.queue;
    n.queue = [];
    this.#scheduler.after(HOST_PROCESSING_NS, () => {
      for (const packet of queue) this.#sendPacket(packet, mac);
    });
  }

  /** Drops an entry's queued packets; echo requests of running pings are reported unreachable. */
  #dropQueue(n: Neighbour): void {
    const queue = n.queue;
    n.queue = [];
    for (const packet of queue) {
      const run = packet.run;
      if (run === undefined || run.done) continue;
      this.#forgetEcho(packet);
      run.errors++;
      this.#endIfAnswered(run);
    }
  }

  /** Stops waiting for the reply to an echo request that will never leave. */
  #forgetEcho(packet: Packet): void {
    const key = echoKey(packet.id, packet.seq);
    if (this.#inFlight.get(key) === packet) this.#inFlight.delete(key);
  }

  /**
   * Pings `dstIp` as iputils `ping -c count -i interval -W wait -s size` does, from the address whose
   * subnet holds it: see the module doc for the pacing, the linger and the neighbour resolution. Pinging
   * one of the host's own addresses is answered inside the host, {@linkcode HOST_PROCESSING_NS} later,
   * without a frame.
   *
   * @param dstIp The address to ping.
   * @param options Count, interval, wait, identifier, size.
   * @returns The run, updated as the simulation goes on.
   * @throws {SyntaxError} If `dstIp` is not an IPv4 address.
   * @throws {RangeError} If an option is out of range.
   */
  ping(dstIp: string, options: SimHostPingOptions = {}): PingRun {
    const dst = ipv4FromString(dstIp);
    const {
      count = 1,
      intervalNs = 1_000_000_000,
      waitNs = 10_000_000_000,
      id = this.#nextPingId,
      size = 56,
    } = options;
    checkPingOption(count, 1, 0xffff, "count");
    checkPingOption(intervalNs, 0, Number.MAX_SAFE_INTEGER, "intervalNs");
    checkPingOption(waitNs, 0, Number.MAX_SAFE_INTEGER, "waitNs");
    checkPingOption(id, 0, 0xffff, "id");
    checkPingOption(size, 0, PING_MAX_DATA, "size");
    if (options.id === undefined) this.#nextPingId = this.#nextPingId === 0xffff ? 1 : this.#nextPingId + 1;
    const pattern = new Uint8Array(size);
    for (let i = 0; i < size; i++) pattern[i] = i & 0xff;
    const run: Run = {
      dst: ipv4ToString(dst),
      id,
      count,
      sent: 0,
      received: 0,
      errors: 0,
      lost: 0,
      done: false,
      networkUnreachable: false,
      rttNs: [],
      dstIp: dst,
      intervalNs,
      waitNs,
      pattern,
      maxRttNs: 0,
    };
    if (!this.#hasIp(dst) && !this.#addrs.some((a) => ((a.ip ^ dst) & a.mask) === 0)) {
      // ping(8) connects its socket first: with no route it stops before sending anything
      run.networkUnreachable = true;
      run.done = true;
      return run;
    }
    this.#scheduler.after(0, () => this.#turn(run, 1));
    return run;
  }

  /** Sends echo request `seq`, then arms the next one, or the end of the run after the last. */
  #turn(run: Run, seq: number): void {
    if (run.done) return;
    run.sent++;
    this.#request(run, seq);
    if (seq < run.count) {
      this.#scheduler.after(run.intervalNs, () => this.#turn(run, seq + 1));
      return;
    }
    // iputils' schedule_exit(), decided once, when the last request has gone out
    const linger = run.received > 0 ? Math.max(2 * run.maxRttNs, run.intervalNs) : run.waitNs;
    this.#scheduler.after(linger, () => this.#end(run));
    this.#endIfAnswered(run);
  }

  #request(run: Run, seq: number): void {
    const now = this.#scheduler.now();
    const data = run.pattern.slice();
    if (data.length >= TIMEVAL_BYTES) writeTimeval(data, now);
    const dst = run.dstIp;
    const from = this.#hasIp(dst) ? dst : this.#addrs.find((a) => ((a.ip ^ dst) & a.mask) === 0)?.ip;
    if (from === undefined) return; // no route: sendmsg fails, ping counts it as sent all the same
    const request: Packet = {
      srcIp: from,
      dstIp: dst,
      reply: false,
      id: run.id,
      seq,
      data,
      run,
      sentNs: now,
    };
    this.#inFlight.set(echoKey(run.id, seq), request);
    if (from === dst) {
      // loopback: answered inside the host
      this.#scheduler.after(HOST_PROCESSING_NS, () => this.#onEchoReply(run.id, seq, dst));
      return;
    }
    this.#output(request);
  }

  /** ping's exit test: every request answered or reported unreachable. */
  #endIfAnswered(run: Run): void {
    if (run.sent === run.count && run.received + run.errors >= run.count) this.#end(run);
  }

  #end(run: Run): void {
    if (run.done) return;
    run.done = true;
    run.lost = run.sent - run.received;
    for (let seq = 1; seq <= run.sent; seq++) {
      const key = echoKey(run.id, seq);
      if (this.#inFlight.get(key)?.run === run) this.#inFlight.delete(key);
    }
    if (run.received > 0) return;
    // labwire's real backend runs `ip neigh flush to IP` after a ping nothing answered
    const n = this.#neighbours.get(run.dstIp);
    if (n === undefined) return;
    this.#neighbours.delete(run.dstIp);
    this.#dropQueue(n);
  }
}
