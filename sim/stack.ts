// Runtime-neutral.
/**
 * The simulator's IPv4 stack: one node (a VM, a host tap) with one or more interfaces, as one Linux network
 * namespace holds all of a container VM's NICs. Each interface has a MAC, a transmit function, addresses
 * and a neighbour (ARP) table of its own; the node has one routing table and one `ip_forward` switch.
 * {@linkcode SimHost} is one interface of a node, with the host-level API (addresses, ARP, ping); a
 * `new SimHost(...)` is a node of one interface, and `sim/host.ts` documents what such a host does.
 *
 * **Routing**, as Linux's main table: every address gives a connected route to its subnet on its
 * interface (the first address of a subnet on an interface is its primary, the source the route
 * prefers); static routes (`network/prefix via gateway`) and a default gateway (`0.0.0.0/0 via
 * gateway`) go through the interface whose connected route holds the gateway. The longest prefix wins; a
 * connected route wins a tie with a static one. A static route whose gateway no connected route holds is
 * not used (Linux refuses to add it, and removes it when its gateway's subnet goes). The source of a
 * packet the node makes is Linux's choice: the route's preferred source for a connected route, else the
 * first primary address of the outgoing interface whose subnet holds the gateway, else its first primary
 * address, else the node's first address. Every address of the node is local on every interface (Linux's
 * weak host model): an echo request for any of them is answered, and so is an ARP request for any of
 * them (`arp_ignore` 0), from the interface it came in on.
 *
 * **Forwarding** ({@linkcode SimStack.forwarding}, Linux's `net.ipv4.ip_forward`, off by default): a
 * unicast IPv4 packet for another address that came in unicast to the interface's MAC is routed. No
 * route: ICMP destination unreachable, net unreachable (type 3 code 0), as Linux's `ip_error`. TTL 1 or
 * 0: ICMP time exceeded (type 11 code 0). Otherwise the TTL goes down by one, the header checksum is
 * updated as Linux's `ip_decrease_ttl` does, and the packet goes out of the route's interface to its next
 * hop, through that interface's neighbour table (ARP as Linux, see `sim/host.ts`); when ARP for the next
 * hop fails (3 requests 1 s apart, FAILED at +3 s), each packet that waited gets ICMP destination
 * unreachable, host unreachable (type 3 code 1). With forwarding off, packets for other addresses are
 * ignored. A paused node forwards nothing. Not modelled: ICMP redirects, fragmentation, IP options
 * processing (they are forwarded as they are), reverse-path filtering, source routing.
 *
 * **ICMP errors** are made as Linux's `icmp_send`: from the address the route back to the packet's
 * source prefers (so normally the address of the interface the packet came in on), TOS 0xc0, TTL 64,
 * quoting the packet as it was (the TTL not yet decremented for time exceeded; decremented for host
 * unreachable) up to 576 bytes in all (548 bytes of the packet); never about an ICMP error, a broadcast
 * or multicast, a fragment other than the first, or a packet from 0.0.0.0. They are rate-limited per
 * destination as Linux does (`icmp_ratelimit` 1000 ms, a burst of 6; net unreachable also goes through
 * `ip_error`'s bucket of 5, sharing its tokens).
 *
 * **Ping** from a node counts the ICMP errors that arrive about its requests (time exceeded, destination
 * unreachable) as ping(8) counts them, in {@linkcode PingRun.errors}, with ping's line for each in
 * {@linkcode PingRun.errorReports} (`From 10.0.0.1 icmp_seq=1 Time to live exceeded`).
 *
 * **Frame path.** Frames are read in place (no decoded objects, no strings) and written from numbers:
 * MACs are 48-bit numbers, addresses 32-bit ones. An answer to a frame (an echo reply, a forwarded
 * packet, an ICMP error) is built at once into a buffer from the node's pool and sent
 * {@linkcode HOST_PROCESSING_NS} later; echo requests are written when they go out. Each packet's
 * checksums are computed once (an echo reply's ICMP checksum is derived from the request's, a forwarded
 * header's updated in place).
 *
 * @module
 */

import {
  ARP_REPLY,
  ARP_REQUEST,
  encodeFrame,
  ICMP_ECHO_REPLY,
  ICMP_ECHO_REQUEST,
  ipv4FromString,
  ipv4ToString,
  isMulticastMac48,
  macFromString,
  macToString,
  udpDatagram,
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
/** The TTL of the packets a node makes, as Linux's `ip_default_ttl`: 64. */
export const SIM_DEFAULT_TTL = 64;
/** Linux's `icmp_ratelimit`: one ICMP error a second per destination, after a burst. */
export const ICMP_RATELIMIT_NS = 1_000_000_000;

/** ICMP types and codes the stack sends and understands. */
const ICMP_DEST_UNREACH = 3;
const ICMP_TIME_EXCEEDED = 11;
const ICMP_NET_UNREACH = 0;
const ICMP_HOST_UNREACH = 1;
const ICMP_PORT_UNREACH = 3;

/** A packet's connection, as the firewall's tracking keys it, and its ports (or echo identifier). */
interface Flow {
  readonly key: string;
  readonly reverse: string;
  readonly srcPort: number;
  readonly dstPort: number;
  /** For an ICMP error, the connection of the packet it quotes. */
  readonly related?: { readonly key: string; readonly reverse: string };
}

/** The connection of the IPv4 packet at `buf[o..o+total)` (header `hl` bytes), or undefined. */
function flowOf(buf: Uint8Array, o: number, total: number, hl: number, quoted = false): Flow | undefined {
  if (total < hl || (!quoted && (get16(buf, o + 6) & 0x1fff) !== 0)) return undefined;
  const proto = buf[o + 9]!;
  const src = get32(buf, o + 12);
  const dst = get32(buf, o + 16);
  let srcPort = 0;
  let dstPort = 0;
  let related: Flow["related"];
  if ((proto === 6 || proto === 17) && total >= hl + 4) {
    srcPort = get16(buf, o + hl);
    dstPort = get16(buf, o + hl + 2);
  } else if (proto === 1 && total >= hl + 8) {
    const type = buf[o + hl]!;
    if (type === 8 || type === 0) {
      srcPort = dstPort = get16(buf, o + hl + 4);
    } else if ((type === 3 || type === 11) && !quoted && total >= hl + 8 + 20) {
      const inner = o + hl + 8;
      const innerHl = (buf[inner]! & 15) * 4;
      const quotedFlow = flowOf(buf, inner, total - hl - 8, innerHl, true);
      if (quotedFlow !== undefined) related = { key: quotedFlow.key, reverse: quotedFlow.reverse };
    }
  }
  return {
    key: `${proto}:${src}:${srcPort}>${dst}:${dstPort}`,
    reverse: `${proto}:${dst}:${dstPort}>${src}:${srcPort}`,
    srcPort,
    dstPort,
    ...(related === undefined ? {} : { related }),
  };
}
/** Linux's `XRLIM_BURST_FACTOR`: a destination may get 6 errors at once. */
const XRLIM_BURST = 6;
/** Linux's `ip_rt_error_burst` in units of `ip_rt_error_cost`: 5. */
const IP_ERROR_BURST = 5;
/** A new peer's tokens, as Linux's `rate_last = jiffies - 60 * HZ`: always the burst. */
const NEW_PEER_NS = 60_000_000_000;
/** The most of an offending packet an ICMP error quotes: 576 - 20 (IPv4) - 8 (ICMP). */
const ICMP_QUOTE_MAX = 548;

/** Bytes of the `struct timeval` ping writes at the start of its data (x86_64: two 8-byte fields). */
const TIMEVAL_BYTES = 16;
const ETH = 14;
const BUF_BYTES = 1518;
const TWO_24 = 0x100_0000;
const BROADCAST_HI = 0xff_ffff;

/** Options for {@linkcode SimStack}. */
export interface SimStackOptions {
  /** The lab's virtual clock. */
  scheduler: Scheduler;
  /** A name for messages. @default {"node"} */
  name?: string;
}

/** Options for {@linkcode SimStack.addInterface}. */
export interface SimInterfaceOptions {
  /** The interface's MAC address, unicast. */
  mac: string;
  /** Sends a frame out of the interface; the bytes are reused after it returns. */
  transmit: (buf: Uint8Array, off: number, len: number) => void;
  /** A name for messages. @default {the MAC} */
  name?: string;
  /**
   * Answer ARP only for the interface's own addresses (Linux's `arp_ignore=1`, what labwire sets on host
   * taps), not for every address of the node. @default {false}
   */
  arpOwnOnly?: boolean;
}

/** Options for {@linkcode SimHost}. */
export interface SimHostOptions extends SimInterfaceOptions {
  /** The lab's virtual clock (a node's interfaces share the node's). */
  scheduler: Scheduler;
}

/** Options for {@linkcode SimHost.ping}: iputils ping's `-c`, `-i`, `-W`, `-s` and `-t`. */
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
  /** The echo identifier. @default {1 for the node's first ping, 2 for its second, ...} */
  id?: number;
  /** Bytes of echo data (`-s`); from 16 on, the first 16 carry the send time. @default {56} */
  size?: number;
  /** The requests' TTL (`-t`). @default {64} */
  ttl?: number;
}

/** An ICMP error a ping got about one of its requests, as ping(8) prints it. */
export interface PingErrorReport {
  /** Who sent it (the router, or the pinging node itself for its own failed ARP). */
  readonly from: string;
  /** The request's sequence number. */
  readonly seq: number;
  /** ICMP type: 3 destination unreachable, 11 time exceeded. */
  readonly type: number;
  /** ICMP code. */
  readonly code: number;
  /** ping's line: `From 10.0.0.1 icmp_seq=1 Time to live exceeded`. */
  readonly text: string;
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
   * left the host because there was no route or ARP got no answer.
   */
  readonly sent: number;
  /** Echo replies received before the run ended. */
  readonly received: number;
  /**
   * Echo requests reported unreachable before the run ended, ping's "+N errors": dropped because ARP got
   * no answer (Linux's "Destination Host Unreachable"), or answered by an ICMP error from a router (time
   * exceeded, destination unreachable). They count towards ending the run, as replies do.
   */
  readonly errors: number;
  /** ping's line for each error, in the order they came. */
  readonly errorReports: readonly PingErrorReport[];
  /** `sent - received` once the run is done; 0 until then. */
  readonly lost: number;
  /** Whether the run has ended: every request answered or reported unreachable, or the linger spent. */
  readonly done: boolean;
  /**
   * The host has no route to the address (no address of its own whose subnet holds it, and no static or
   * default route that does, through this interface): nothing was sent and the run ended at once, as
   * ping(8) does with `connect: Network is unreachable`.
   */
  readonly networkUnreachable: boolean;
  /**
   * Round-trip time of each reply received, in nanoseconds, in the order they came: from the time the
   * request was sent (its timeval, ARP resolution included) to its reply.
   */
  readonly rttNs: readonly number[];
}

/** What an interface has seen and done. */
export interface SimHostCounters {
  /** Frames handed to {@linkcode SimHost.receive}. */
  rxFrames: number;
  /** Frames transmitted. */
  txFrames: number;
  /**
   * Frames for another MAC, or for this host but nothing it uses (other protocols, other IPs when not
   * forwarding, late replies).
   */
  ignored: number;
  /** Frames dropped as wrong: tagged, malformed, or with a bad checksum. */
  dropped: number;
}

/** What a node has forwarded and refused to. */
export interface SimStackCounters {
  /** Packets forwarded (sent on, or queued for their next hop). */
  forwarded: number;
  /** ICMP errors sent: time exceeded, net and host unreachable. */
  icmpErrors: number;
  /** ICMP errors not sent because of the rate limit. */
  icmpRateLimited: number;
}

/** A packet a node is about to forward, as its firewall sees it ({@linkcode SimStack.firewall}). */
export interface SimForwarded {
  /** The interface it came in through (its name). */
  readonly in: string;
  /** The interface it goes out of. */
  readonly out: string;
  /** Its source and destination addresses, as 32-bit numbers. */
  readonly src: number;
  /** Its destination address. */
  readonly dst: number;
  /** Its IP protocol: 1 ICMP, 6 TCP, 17 UDP. */
  readonly proto: number;
  /** TCP and UDP: the source port; ICMP echo: the identifier; else 0. */
  readonly srcPort: number;
  /** TCP and UDP: the destination port; ICMP echo: the identifier; else 0. */
  readonly dstPort: number;
}

/** A UDP datagram a node got on a port bound with {@linkcode SimStack.bindUdp}. */
export interface SimUdpDatagram {
  /** The interface it came in through (its name). */
  readonly iface: string;
  /** The frame's source MAC. */
  readonly srcMac: string;
  /** Its source address and port. */
  readonly srcIp: string;
  /** Its source port. */
  readonly srcPort: number;
  /** Its destination address (one of the node's, a broadcast, or, on a raw port, any). */
  readonly dstIp: string;
  /** Its destination port. */
  readonly dstPort: number;
  /** Its data (a copy: the handler may keep it). */
  readonly payload: Uint8Array;
}

/** A UDP datagram for {@linkcode SimStack.sendUdp}: sent as it is to `dstMac`, no ARP, no routing. */
export interface SimUdpSend {
  /** The frame's destination MAC. */
  readonly dstMac: string;
  /** The source address (`0.0.0.0` before a DHCP client has one). */
  readonly srcIp: string;
  /** The destination address. */
  readonly dstIp: string;
  /** The source port. */
  readonly srcPort: number;
  /** The destination port. */
  readonly dstPort: number;
  /** The data. */
  readonly payload: Uint8Array;
  /** IPv4's time to live. @default {64} */
  readonly ttl?: number;
}

/** What a firewall does with a packet: let it through, drop it, or drop it with an ICMP port unreachable. */
export type SimVerdict = "accept" | "drop" | "reject";

/** The state of a neighbour entry, named as `ip neigh` shows it. */
export type SimNeighbourState = "INCOMPLETE" | "REACHABLE" | "FAILED";

/** One entry of an interface's neighbour (ARP) table. */
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

/** A static route: `network/prefix via gateway` (`0.0.0.0/0` is the default route). */
export interface SimRouteSpec {
  /** The destination network, `10.2.0.0/24`. */
  readonly network: string;
  /** The gateway, an address in the subnet of one of the node's interfaces. */
  readonly via: string;
}

/** A route as `ip route` shows it. */
export interface SimRouteEntry {
  /** `10.0.0.0/24`, or `default`. */
  readonly network: string;
  /** The gateway of a static route. */
  readonly via?: string;
  /** The interface (its name), for a connected route or a static one whose gateway is reachable. */
  readonly dev?: string;
  /** The preferred source of a connected route. */
  readonly src?: string;
  /** `kernel` for connected routes, `static` for the others. */
  readonly proto: "kernel" | "static";
}

/** Where a packet to an address goes: `ip route get`. */
export interface SimRouteLookup {
  /** `local` for one of the node's own addresses, else `unicast`. */
  readonly type: "local" | "unicast";
  /** The interface it leaves by (for a local address: the interface that holds it). */
  readonly dev: string;
  /** The next hop when it is a gateway. */
  readonly via?: string;
  /** The source address the node would use. */
  readonly src: string;
}

/** {@linkcode PingRun}, writable for the node, with what the run needs. */
interface Run {
  dst: string;
  id: number;
  count: number;
  sent: number;
  received: number;
  errors: number;
  errorReports: PingErrorReport[];
  lost: number;
  done: boolean;
  networkUnreachable: boolean;
  rttNs: number[];
  dstIp: number;
  intervalNs: number;
  waitNs: number;
  ttl: number;
  /** The echo data before its timeval: 0, 1, 2, ... */
  pattern: Uint8Array;
  /** The longest round trip ping could time (only with a timeval in the data), or 0. */
  maxRttNs: number;
  /** The unfolded ones' complement sum of the data's words after the timeval (all of it when shorter). */
  dataSum: number;
}

/**
 * A packet on its way out, queued while its next hop is unresolved: an echo request of a ping (written
 * when it goes out), or an IPv4 packet built already in `buf` from offset {@linkcode ETH}.
 */
interface Packet {
  /** Source and destination addresses (for ARP's choice of source, and for ping's bookkeeping). */
  srcIp: number;
  dstIp: number;
  /** The ARP request's source while it waits (Linux's `arp_solicit`). */
  arpSrc: number;
  /** A ping's echo request: its run, identifier, sequence number and time sent. */
  run: Run | undefined;
  id: number;
  seq: number;
  sentNs: number;
  /** A built packet: its buffer (from the node's pool), its IPv4 length, and whether it gets the node's IP id. */
  buf: Uint8Array | undefined;
  ipLen: number;
  stampId: boolean;
}

/** A neighbour entry. A new resolution attempt gets a new object, so a stale timer finds itself replaced. */
interface Neighbour {
  state: SimNeighbourState;
  /** The MAC, once REACHABLE; -1 before. */
  mac: number;
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
  /** The first address of its subnet on its interface (Linux: not `secondary`). */
  primary: boolean;
}

/** One interface of a node. */
interface Iface {
  name: string;
  mac: number;
  macHi: number;
  macLo: number;
  transmit: (buf: Uint8Array, off: number, len: number) => void;
  addrs: Address[];
  neighbours: Map<number, Neighbour>;
  counters: SimHostCounters;
  view: SimHost;
  removed: boolean;
  arpOwnOnly: boolean;
}

/** A route of the table, resolved. */
interface Route {
  net: number;
  prefix: number;
  mask: number;
  /** The gateway, or -1 for a connected route. */
  via: number;
  /** The interface of a connected route (static routes resolve theirs at lookup). */
  iface: Iface | undefined;
  /** A connected route's preferred source. */
  src: number;
}

/** Per-destination rate-limit state, as Linux's `inet_peer`. */
interface Peer {
  tokens: number;
  last: number;
}

/** The result of a route lookup, reused (the hot path allocates none). */
interface Hop {
  iface: Iface;
  nextHop: number;
  src: number;
}

function maskOf(prefix: number): number {
  return prefix === 0 ? 0 : (0xffff_ffff << (32 - prefix)) >>> 0;
}

function parseCidr(cidr: string, what: string): { ip: number; prefix: number; mask: number } {
  const slash = cidr.indexOf("/");
  const prefixText = cidr.slice(slash + 1);
  if (slash < 0 || !/^(?:[0-9]|[12][0-9]|3[0-2])$/.test(prefixText)) {
    throw new SyntaxError(`Cannot parse ${what} '${cidr}': expected a.b.c.d/prefix with a prefix 0-32`);
  }
  const prefix = Number(prefixText);
  let ip: number;
  try {
    ip = ipv4FromString(cidr.slice(0, slash));
  } catch {
    throw new SyntaxError(`Cannot parse ${what} '${cidr}': expected a.b.c.d/prefix with a prefix 0-32`);
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

// The byte helpers below repeat lib/wire/frame.ts's on purpose: imported into this module, they made the
// frame path about 8% slower (bench/routing.ts, two runs each way, ratios to the bridge in the same run).

/** The Internet checksum of `buf[off..off+len)` (RFC 1071). */
function checksum(buf: Uint8Array, off: number, len: number): number {
  let sum = 0;
  const end = off + len - 1;
  let i = off;
  for (; i < end; i += 2) sum += buf[i]! << 8 | buf[i + 1]!;
  if (i === end) sum += buf[i]! << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** The Internet checksum of an unfolded sum of 16-bit words. */
function fold(sum: number): number {
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** A checksum at `buf[at]` updated for a 16-bit word of what it covers going from `was` to `now` (RFC 1624). */
function replace16(buf: Uint8Array, at: number, was: number, now: number): void {
  put16(buf, at, fold((~get16(buf, at) & 0xffff) + (~was & 0xffff) + now));
}

/** As {@linkcode replace16}, for a 32-bit field (an address in a pseudo-header). */
function replace32(buf: Uint8Array, at: number, was: number, now: number): void {
  replace16(buf, at, was >>> 16, now >>> 16);
  replace16(buf, at, was & 0xffff, now & 0xffff);
}

/**
 * Rewrites the source (`which` 12) or destination (16) of the IPv4 packet at `buf[o..)`, header `hl`
 * bytes, and its port on that side (for an ICMP echo, its identifier), keeping every checksum right.
 */
function translate(
  buf: Uint8Array,
  o: number,
  hl: number,
  total: number,
  which: 12 | 16,
  ip: number,
  port: number,
): void {
  const proto = buf[o + 9]!;
  const p = o + hl;
  const was = get32(buf, o + which);
  put32(buf, o + which, ip);
  put16(buf, o + 10, 0);
  put16(buf, o + 10, checksum(buf, o, hl));
  if ((proto === 6 || proto === 17) && total >= hl + (proto === 6 ? 18 : 8)) {
    const at = p + (proto === 6 ? 16 : 6);
    const portAt = p + (which === 12 ? 0 : 2);
    const oldPort = get16(buf, portAt);
    put16(buf, portAt, port);
    if (proto === 17 && get16(buf, at) === 0) return; // no checksum: none to keep
    replace32(buf, at, was, ip);
    replace16(buf, at, oldPort, port);
    if (proto === 17 && get16(buf, at) === 0) put16(buf, at, 0xffff);
  } else if (proto === 1 && total >= hl + 8 && (buf[p] === 0 || buf[p] === 8)) {
    const oldId = get16(buf, p + 4);
    put16(buf, p + 4, port);
    replace16(buf, p + 2, oldId, port);
  }
}

function get16(buf: Uint8Array, o: number): number {
  return buf[o]! << 8 | buf[o + 1]!;
}

function get32(buf: Uint8Array, o: number): number {
  return (buf[o]! << 24 | buf[o + 1]! << 16 | buf[o + 2]! << 8 | buf[o + 3]!) >>> 0;
}

function put16(buf: Uint8Array, o: number, v: number): void {
  buf[o] = v >>> 8;
  buf[o + 1] = v & 0xff;
}

function put32(buf: Uint8Array, o: number, v: number): void {
  buf[o] = v >>> 24;
  buf[o + 1] = v >>> 16 & 0xff;
  buf[o + 2] = v >>> 8 & 0xff;
  buf[o + 3] = v & 0xff;
}

function putMac(buf: Uint8Array, o: number, hi: number, lo: number): void {
  buf[o] = hi >>> 16;
  buf[o + 1] = hi >>> 8 & 0xff;
  buf[o + 2] = hi & 0xff;
  buf[o + 3] = lo >>> 16;
  buf[o + 4] = lo >>> 8 & 0xff;
  buf[o + 5] = lo & 0xff;
}

function macHiAt(buf: Uint8Array, o: number): number {
  return buf[o]! << 16 | buf[o + 1]! << 8 | buf[o + 2]!;
}

function macLoAt(buf: Uint8Array, o: number): number {
  return buf[o + 3]! << 16 | buf[o + 4]! << 8 | buf[o + 5]!;
}

/** A 48-bit MAC from its two 24-bit halves. */
function mac48Of(hi: number, lo: number): number {
  return hi * TWO_24 + lo;
}

/** Writes a `struct timeval` of `ns` at `buf[o..o+16)`, as ping on x86_64: 8-byte seconds, 8-byte us, LE. */
function writeTimeval(buf: Uint8Array, o: number, ns: number): void {
  const sec = Math.floor(ns / 1e9);
  const usec = Math.floor((ns - sec * 1e9) / 1000);
  const hi = Math.floor(sec / 0x1_0000_0000);
  const lo = sec >>> 0;
  buf[o] = lo & 0xff;
  buf[o + 1] = lo >>> 8 & 0xff;
  buf[o + 2] = lo >>> 16 & 0xff;
  buf[o + 3] = lo >>> 24;
  buf[o + 4] = hi & 0xff;
  buf[o + 5] = hi >>> 8 & 0xff;
  buf[o + 6] = hi >>> 16 & 0xff;
  buf[o + 7] = hi >>> 24 & 0xff;
  buf[o + 8] = usec & 0xff;
  buf[o + 9] = usec >>> 8 & 0xff;
  buf[o + 10] = usec >>> 16 & 0xff;
  buf[o + 11] = usec >>> 24;
  buf[o + 12] = 0;
  buf[o + 13] = 0;
  buf[o + 14] = 0;
  buf[o + 15] = 0;
}

/** Whether an address can be the source of a packet one answers (not 0/8, loopback, multicast, broadcast). */
function isUnicastSource(ip: number): boolean {
  const first = ip >>> 24;
  return first !== 0 && first !== 127 && first < 224;
}

/** ping(8)'s words for an ICMP error. */
function icmpErrorText(type: number, code: number): string {
  if (type === ICMP_TIME_EXCEEDED) {
    return code === 0 ? "Time to live exceeded" : "Frag reassembly time exceeded";
  }
  if (type === ICMP_DEST_UNREACH) {
    const words = [
      "Destination Net Unreachable",
      "Destination Host Unreachable",
      "Destination Protocol Unreachable",
      "Destination Port Unreachable",
      "Frag needed and DF set",
      "Source Route Failed",
    ];
    return words[code] ?? `Dest Unreachable, Bad Code: ${code}`;
  }
  return `Bad ICMP type: ${type}`;
}

/** What a {@linkcode SimHost} asks of its node: the node's private methods, for the views in this module. */
interface Internals {
  attach(stack: SimStack, view: SimHost, options: SimInterfaceOptions): Iface;
  addAddress(stack: SimStack, iface: Iface, cidr: string): void;
  removeAddress(stack: SimStack, iface: Iface, ip: string): void;
  receive(stack: SimStack, iface: Iface, buf: Uint8Array, off: number, len: number): void;
  arpTable(stack: SimStack, iface: Iface): { ip: string; mac: string }[];
  neighbours(stack: SimStack, iface: Iface): SimNeighbour[];
  clearNeighbours(stack: SimStack, iface: Iface): void;
  ping(stack: SimStack, iface: Iface, dstIp: string, options: SimHostPingOptions): PingRun;
}

let internals: Internals;

/**
 * A node: interfaces, a routing table, forwarding; see the module doc.
 *
 * @example A router between two subnets
 * ```ts
 * import assert from "node:assert/strict";
 * import { SimHost, SimStack, VirtualClock } from "labwire/sim";
 *
 * const clock = new VirtualClock();
 * const router = new SimStack({ scheduler: clock, name: "r" });
 * const a: SimHost = new SimHost({ mac: "52:54:00:00:00:01", scheduler: clock, transmit: (buf, off, len) => r0.receive(buf, off, len) });
 * const b: SimHost = new SimHost({ mac: "52:54:00:00:00:02", scheduler: clock, transmit: (buf, off, len) => r1.receive(buf, off, len) });
 * const r0 = router.addInterface({ mac: "52:54:00:00:01:00", transmit: (buf, off, len) => a.receive(buf, off, len) });
 * const r1 = router.addInterface({ mac: "52:54:00:00:01:01", transmit: (buf, off, len) => b.receive(buf, off, len) });
 * r0.addAddress("10.0.0.1/24");
 * r1.addAddress("10.1.0.1/24");
 * router.forwarding = true;
 * a.addAddress("10.0.0.2/24");
 * b.addAddress("10.1.0.2/24");
 * a.stack.setDefaultGateway("10.0.0.1");
 * b.stack.setDefaultGateway("10.1.0.1");
 * const run = a.ping("10.1.0.2", { count: 2, intervalNs: 200_000_000 });
 * clock.runUntil(() => run.done, 10_000_000_000);
 * assert.deepEqual([run.sent, run.received], [2, 2]);
 * ```
 */
export class SimStack {
  /** The node's name, for messages. */
  readonly name: string;
  /** The lab's clock. */
  readonly scheduler: Scheduler;
  /**
   * Whether the node forwards packets for other addresses (Linux's `net.ipv4.ip_forward`). Off by
   * default.
   */
  forwarding = false;
  /**
   * The node's firewall for what it forwards (a router's `fw` rules), or undefined to let all through. It
   * is asked about packets that belong to no connection it let through before: those pass, as with
   * `ct state established,related accept` first (answers, and ICMP errors about such a connection). A
   * connection is its protocol, addresses and ports (an echo's identifier); it is never forgotten.
   */
  firewall: ((packet: SimForwarded) => SimVerdict) | undefined;
  #connections = new Set<string>();
  /** What the node masquerades: out of which interface, from which subnet ({@linkcode SimStack.setMasquerade}). */
  #masquerade: { out: string; net: number; mask: number }[] = [];
  /** Masqueraded connections, by the original flow's key: the source they go out as. */
  #natOut = new Map<string, { ip: number; port: number }>();
  /** The same connections, by the key of their answers as they come back: the original source. */
  #natIn = new Map<string, { ip: number; port: number }>();

  /**
   * Masquerades what the node forwards out of interface `out` (its name) from subnet `source`
   * (nftables' `ip saddr SOURCE oifname OUT masquerade`, with forwarding on): such a packet leaves with
   * the outgoing interface's address as its source, its port (an echo's identifier) kept unless another
   * connection going out there has it, else the next free one; answers to it are translated back and
   * forwarded to where it came from. Replaces the rules given before; a connection masqueraded already
   * stays so (Linux's conntrack entry), until {@linkcode SimStack.forgetConnections}. ICMP errors about a
   * masqueraded connection are not translated back.
   *
   * @throws {RangeError} For a source that is not `a.b.c.d/n`.
   */
  setMasquerade(rules: readonly { readonly out: string; readonly source: string }[]): void {
    this.#masquerade = rules.map((r) => {
      const { ip, mask } = parseCidr(r.source, "source");
      return { out: r.out, net: (ip & mask) >>> 0, mask };
    });
  }

  /** The source a masqueraded packet at `buf[o..)` leaves with, recorded with its way back. */
  #snat(buf: Uint8Array, o: number, total: number, hl: number, out: Iface, dst: number): void {
    const flow = flowOf(buf, o, total, hl);
    if (flow === undefined) return;
    let as = this.#natOut.get(flow.key);
    if (as === undefined) {
      const proto = buf[o + 9]!;
      const ip = this.#selectAddr(out, dst);
      const echo = proto === 1;
      let port = flow.srcPort;
      const back = (p: number) => `${proto}:${dst}:${echo ? p : flow.dstPort}>${ip}:${p}`;
      if (proto === 1 || proto === 6 || proto === 17) {
        const low = echo ? 0 : 1024;
        for (let tries = 0; this.#natIn.has(back(port)) && tries < 65536; tries++) {
          port = port >= 65535 ? low : port + 1;
        }
      }
      as = { ip, port };
      this.#natOut.set(flow.key, as);
      this.#natIn.set(back(port), { ip: get32(buf, o + 12), port: flow.srcPort });
    }
    translate(buf, o, hl, total, 12, as.ip, as.port);
  }

  /** UDP ports bound by the node's services and clients (DHCP, DNS). */
  #udp = new Map<number, { handler: (datagram: SimUdpDatagram) => void; raw: boolean }>();

  /**
   * Binds a UDP port of the node: datagrams to it, for one of the node's addresses or a broadcast (with
   * `raw`, for any address: what a DHCP client's packet socket takes before it has an address), go to
   * `handler`, which may send answers with {@linkcode SimStack.sendUdp}.
   *
   * @throws {Error} If the port is bound already.
   */
  bindUdp(port: number, handler: (datagram: SimUdpDatagram) => void, options: { raw?: boolean } = {}): void {
    if (this.#udp.has(port)) throw new Error(`Cannot bind UDP port ${port} of ${this.name}: it is bound`);
    this.#udp.set(port, { handler, raw: options.raw ?? false });
  }

  /**
   * Enters a neighbour in interface `iface`'s table, REACHABLE, as dnsmasq does for a client it answers
   * by unicast before that client could answer ARP (its `SIOCSARP`).
   *
   * @throws {Error} If the node has no interface of that name.
   */
  learnNeighbour(iface: string, ip: string, mac: string): void {
    const at = this.#ifaces.find((f) => f.name === iface && !f.removed);
    if (at === undefined) {
      throw new Error(`Cannot learn ${ip} on ${iface}: ${this.name} has no such interface`);
    }
    this.#learn(at, ipv4FromString(ip), macFromString(mac));
  }

  /** Unbinds a UDP port; one that is not bound is no error. */
  unbindUdp(port: number): void {
    this.#udp.delete(port);
  }

  /**
   * Sends a UDP datagram out of interface `iface` (its name), {@linkcode HOST_PROCESSING_NS} later, to the
   * MAC given: no routing and no ARP (a DHCP exchange needs neither; an answer goes back to its asker's
   * MAC). A paused node sends nothing.
   *
   * @throws {Error} If the node has no interface of that name.
   */
  sendUdp(iface: string, datagram: SimUdpSend): void {
    const out = this.#ifaces.find((f) => f.name === iface && !f.removed);
    if (out === undefined) throw new Error(`Cannot send from ${iface}: ${this.name} has no such interface`);
    const frame = encodeFrame(udpDatagram({
      srcMac: macToString(out.mac),
      dstMac: datagram.dstMac,
      srcIp: datagram.srcIp,
      dstIp: datagram.dstIp,
      srcPort: datagram.srcPort,
      dstPort: datagram.dstPort,
      data: datagram.payload,
      ...(datagram.ttl === undefined ? {} : { ttl: datagram.ttl }),
    }));
    this.scheduler.after(HOST_PROCESSING_NS, () => {
      if (this.paused || out.removed) return;
      out.counters.txFrames++;
      out.transmit(frame, 0, frame.length);
    });
  }

  /** Forgets the connections the firewall let through (a new firewall starts afresh). */
  forgetConnections(): void {
    this.#connections.clear();
    this.#natOut.clear();
    this.#natIn.clear();
  }

  /**
   * Whether the node is paused: its VM does not run. A paused node takes no frame in (counted as ignored)
   * and sends none, not even what was due; its addresses, routes and tables stay as they are.
   */
  paused = false;
  #ifaces: Iface[] = [];
  #static: { spec: SimRouteSpec; net: number; prefix: number; mask: number; via: number }[] = [];
  #gateway: number = -1;
  #routes: Route[] = [];
  /** The node's addresses, to the interface that holds each (the first, when two hold one). */
  #local = new Map<number, Iface>();
  /** Addresses of the node's loopback (a router's `interface N ip lo`): its own, on no interface. */
  #loopbacks: number[] = [];
  /** The loopback, as the local-address map names it. */
  #lo: Iface = {
    name: "lo",
    mac: 0,
    macHi: 0,
    macLo: 0,
    transmit: () => {},
    addrs: [],
    neighbours: new Map(),
    counters: { rxFrames: 0, txFrames: 0, ignored: 0, dropped: 0 },
    view: undefined as unknown as SimHost,
    removed: false,
    arpOwnOnly: false,
  };
  #hop: Hop = { iface: undefined as unknown as Iface, nextHop: 0, src: 0 };
  #tx = new Uint8Array(BUF_BYTES);
  #pool: Uint8Array[] = [];
  #peers = new Map<number, Peer>();
  /** Echo requests of running pings not yet answered, by {@linkcode echoKey}. */
  #inFlight = new Map<number, Packet>();
  #nextPingId = 1;
  #ipId = 0;
  #counters: SimStackCounters = { forwarded: 0, icmpErrors: 0, icmpRateLimited: 0 };

  static {
    internals = {
      attach: (stack, view, options) => stack.#attach(view, options),
      addAddress: (stack, iface, cidr) => stack.#addAddress(iface, cidr),
      removeAddress: (stack, iface, ip) => stack.#removeAddress(iface, ip),
      receive: (stack, iface, buf, off, len) => stack.#receive(iface, buf, off, len),
      arpTable: (stack, iface) => stack.#arpTable(iface),
      neighbours: (stack, iface) => stack.#neighboursOf(iface),
      clearNeighbours: (stack, iface) => stack.#clearNeighbours(iface),
      ping: (stack, iface, dstIp, options) => stack.#ping(iface, dstIp, options),
    };
  }

  /** Makes a node with no interfaces yet. */
  constructor(options: SimStackOptions) {
    this.scheduler = options.scheduler;
    this.name = options.name ?? "node";
  }

  /**
   * Adds an interface.
   *
   * @param options Its MAC, where its frames go, its name.
   * @returns The interface, as a host: give it addresses, plug its `receive` into a port.
   * @throws {MacError} If the MAC cannot be parsed.
   * @throws {RangeError} If the MAC is multicast (or broadcast).
   */
  addInterface(options: SimInterfaceOptions): SimHost {
    return new SimHost({ ...options, scheduler: this.scheduler }, this);
  }

  /**
   * Removes an interface, with its addresses, its neighbour table (queued packets dropped) and the routes
   * through it. No error if it is not the node's.
   */
  removeInterface(host: SimHost): void {
    const i = this.#ifaces.findIndex((f) => f.view === host);
    if (i < 0) return;
    const iface = this.#ifaces[i]!;
    this.#ifaces.splice(i, 1);
    iface.removed = true;
    iface.addrs = [];
    const all = [...iface.neighbours.values()];
    iface.neighbours.clear();
    for (const n of all) this.#dropQueue(iface, n, false);
    this.#rebuild();
  }

  /** A copy of the node's counters (each interface has its own too: {@linkcode SimHost.counters}). */
  counters(): SimStackCounters {
    return { ...this.#counters };
  }

  /** The node's interfaces, in the order they were added. */
  interfaces(): SimHost[] {
    return this.#ifaces.map((f) => f.view);
  }

  /**
   * Replaces the node's static routes (the default gateway stays as it is).
   *
   * @param routes `network/prefix via gateway`; the network's host bits must be 0.
   * @throws {SyntaxError} If a network or gateway cannot be parsed.
   * @throws {Error} If a network has host bits set, is `0.0.0.0/0` (use {@linkcode setDefaultGateway}), or
   * appears twice.
   */
  setRoutes(routes: readonly SimRouteSpec[]): void {
    const parsed = routes.map((r) => this.#parseRoute(r));
    for (let i = 0; i < parsed.length; i++) {
      for (let j = 0; j < i; j++) {
        if (parsed[i]!.net === parsed[j]!.net && parsed[i]!.prefix === parsed[j]!.prefix) {
          throw new Error(
            `Cannot set routes of ${this.name}: ${parsed[i]!.spec.network} appears twice`,
          );
        }
      }
    }
    this.#static = parsed;
    this.#rebuild();
  }

  /**
   * Adds a static route, or replaces the one to the same network (`ip route replace`).
   *
   * @throws {SyntaxError | Error} As {@linkcode setRoutes}.
   */
  addRoute(route: SimRouteSpec): void {
    const r = this.#parseRoute(route);
    const others = this.#static.filter((s) => !(s.net === r.net && s.prefix === r.prefix));
    this.#static = [...others, r];
    this.#rebuild();
  }

  /**
   * Removes the static route to a network.
   *
   * @param network `10.2.0.0/24`.
   * @throws {SyntaxError} If `network` cannot be parsed.
   * @throws {Error} If the node has no static route to it.
   */
  removeRoute(network: string): void {
    const { ip, prefix } = parseCidr(network, "route network");
    const i = this.#static.findIndex((s) => s.net === ip && s.prefix === prefix);
    if (i < 0) throw new Error(`Cannot remove route to ${network} from ${this.name}: it has none`);
    this.#static = this.#static.filter((_, k) => k !== i);
    this.#rebuild();
  }

  /**
   * Sets the default gateway (`ip route replace default via GW`), or removes the default route.
   *
   * @param gateway An IPv4 address, or undefined for none.
   * @throws {SyntaxError} If `gateway` is not an IPv4 address.
   */
  setDefaultGateway(gateway: string | undefined): void {
    this.#gateway = gateway === undefined ? -1 : ipv4FromString(gateway);
    this.#rebuild();
  }

  /**
   * Makes the node's loopback addresses exactly `cidrs` (`10.9.9.1/32`): addresses of the node on no
   * interface, answered (ARP and ping) on every one, as Linux's `lo` with its default `arp_ignore`.
   *
   * @throws {SyntaxError} If an address is not IPv4.
   */
  setLoopbacks(cidrs: readonly string[]): void {
    this.#loopbacks = cidrs.map((c) => ipv4FromString(c.split("/")[0]!));
    this.#rebuild();
  }

  /** The default gateway, if any. */
  defaultGateway(): string | undefined {
    return this.#gateway < 0 ? undefined : ipv4ToString(this.#gateway);
  }

  /** The routing table as `ip route` shows it: the default route, then the others by network. */
  routes(): SimRouteEntry[] {
    const out: { net: number; prefix: number; entry: SimRouteEntry }[] = [];
    for (const r of this.#routes) {
      const network = r.prefix === 0 ? "default" : `${ipv4ToString(r.net)}/${r.prefix}`;
      if (r.via < 0) {
        out.push({
          net: r.net,
          prefix: r.prefix,
          entry: { network, dev: r.iface!.name, src: ipv4ToString(r.src), proto: "kernel" },
        });
      } else {
        const dev = this.#connectedFor(r.via)?.iface?.name;
        const entry: SimRouteEntry = dev === undefined
          ? { network, via: ipv4ToString(r.via), proto: "static" }
          : { network, via: ipv4ToString(r.via), dev, proto: "static" };
        out.push({ net: r.net, prefix: r.prefix, entry });
      }
    }
    return out.sort((x, y) => x.prefix === 0 ? -1 : y.prefix === 0 ? 1 : x.net - y.net || x.prefix - y.prefix)
      .map((x) => x.entry);
  }

  /**
   * Where a packet the node makes for `ip` goes, as `ip route get`: undefined when no route holds it.
   *
   * @throws {SyntaxError} If `ip` is not an IPv4 address.
   */
  routeGet(ip: string): SimRouteLookup | undefined {
    const dst = ipv4FromString(ip);
    const local = this.#local.get(dst);
    if (local !== undefined) return { type: "local", dev: local.name, src: ip };
    const hop = this.#lookup(dst);
    if (hop === undefined) return undefined;
    const base = { type: "unicast" as const, dev: hop.iface.name, src: ipv4ToString(hop.src) };
    return hop.nextHop === dst ? base : { ...base, via: ipv4ToString(hop.nextHop) };
  }

  /**
   * Pings `dstIp` from the node as iputils `ping -c count -i interval -W wait -s size -t ttl` does; see
   * {@linkcode SimHost.ping}, which pings through one interface only.
   *
   * @throws {SyntaxError} If `dstIp` is not an IPv4 address.
   * @throws {RangeError} If an option is out of range.
   */
  ping(dstIp: string, options: SimHostPingOptions = {}): PingRun {
    return this.#ping(undefined, dstIp, options);
  }

  // ---- interfaces and addresses ----------------------------------------------------------------

  #attach(view: SimHost, options: SimInterfaceOptions): Iface {
    const mac = macFromString(options.mac);
    if (isMulticastMac48(mac)) {
      throw new RangeError(
        `Cannot make host as its MAC must be unicast: current value is ${macToString(mac)}`,
      );
    }
    const hi = Math.floor(mac / TWO_24);
    const iface: Iface = {
      name: options.name ?? macToString(mac),
      mac,
      macHi: hi,
      macLo: mac - hi * TWO_24,
      transmit: options.transmit,
      addrs: [],
      neighbours: new Map(),
      counters: { rxFrames: 0, txFrames: 0, ignored: 0, dropped: 0 },
      view,
      removed: false,
      arpOwnOnly: options.arpOwnOnly ?? false,
    };
    this.#ifaces.push(iface);
    return iface;
  }

  /** Adds an address to an interface. */
  #addAddress(iface: Iface, cidr: string): void {
    const { ip, prefix, mask } = parseCidr(cidr, "CIDR");
    if (iface.addrs.some((a) => a.ip === ip)) {
      throw new Error(
        `Cannot add address '${cidr}' to host ${iface.name}: it already has ${ipv4ToString(ip)}`,
      );
    }
    const primary = !iface.addrs.some((a) => a.primary && a.prefix === prefix && ((a.ip ^ ip) & mask) === 0);
    iface.addrs.push({ ip, prefix, mask, primary });
    this.#rebuild();
  }

  /** Takes an address from an interface; a secondary of its subnet becomes primary when it was the primary. */
  #removeAddress(iface: Iface, ip: string): void {
    const slash = ip.indexOf("/");
    const n = ipv4FromString(slash < 0 ? ip : ip.slice(0, slash));
    const i = iface.addrs.findIndex((a) => a.ip === n);
    if (i < 0) throw new Error(`Cannot remove address '${ip}' from host ${iface.name}: it does not have it`);
    const [gone] = iface.addrs.splice(i, 1);
    if (gone!.primary) {
      // Linux promotes the next secondary of the subnet (promote_secondaries)
      const next = iface.addrs.find((a) =>
        a.prefix === gone!.prefix && ((a.ip ^ gone!.ip) & gone!.mask) === 0
      );
      if (next !== undefined) next.primary = true;
    }
    this.#rebuild();
  }

  /** Rebuilds the local-address map and the connected and static routes. */
  #rebuild(): void {
    this.#local.clear();
    for (const ip of this.#loopbacks) this.#local.set(ip, this.#lo);
    const routes: Route[] = [];
    for (const iface of this.#ifaces) {
      for (const a of iface.addrs) {
        if (!this.#local.has(a.ip)) this.#local.set(a.ip, iface);
        if (!a.primary) continue;
        routes.push({
          net: (a.ip & a.mask) >>> 0,
          prefix: a.prefix,
          mask: a.mask,
          via: -1,
          iface,
          src: a.ip,
        });
      }
    }
    // longest prefix first; connected before static on a tie (a stable sort keeps them so)
    for (const s of this.#static) {
      routes.push({ net: s.net, prefix: s.prefix, mask: s.mask, via: s.via, iface: undefined, src: 0 });
    }
    if (this.#gateway >= 0) {
      routes.push({ net: 0, prefix: 0, mask: 0, via: this.#gateway, iface: undefined, src: 0 });
    }
    routes.sort((x, y) => y.prefix - x.prefix);
    this.#routes = routes;
  }

  #parseRoute(
    route: SimRouteSpec,
  ): { spec: SimRouteSpec; net: number; prefix: number; mask: number; via: number } {
    const { ip, prefix, mask } = parseCidr(route.network, "route network");
    if (((ip & ~mask) >>> 0) !== 0) {
      throw new Error(
        `Cannot add route to ${route.network} on ${this.name}: the network has host bits set (Invalid prefix for given prefix length)`,
      );
    }
    if (prefix === 0) {
      throw new Error(
        `Cannot add route to ${route.network} on ${this.name}: that is the default route; set a default gateway instead`,
      );
    }
    let via: number;
    try {
      via = ipv4FromString(route.via);
    } catch {
      throw new SyntaxError(
        `Cannot add route to ${route.network} on ${this.name}: gateway '${route.via}' is not an IPv4 address`,
      );
    }
    return { spec: { network: route.network, via: route.via }, net: ip, prefix, mask, via };
  }

  // ---- routing ---------------------------------------------------------------------------------

  /** The longest connected route holding `ip`. */
  #connectedFor(ip: number): Route | undefined {
    for (const r of this.#routes) {
      if (r.via < 0 && ((ip ^ r.net) & r.mask) === 0) return r;
    }
    return undefined;
  }

  /** Linux's `inet_select_addr(dev, dst, RT_SCOPE_LINK)`. */
  #selectAddr(iface: Iface, dst: number): number {
    let first = -1;
    for (const a of iface.addrs) {
      if (!a.primary) continue;
      if (((a.ip ^ dst) & a.mask) === 0) return a.ip;
      if (first < 0) first = a.ip;
    }
    if (first >= 0) return first;
    for (const f of this.#ifaces) {
      for (const a of f.addrs) if (a.primary) return a.ip;
    }
    return 0;
  }

  /** Routes `dst`: the interface, next hop and source, in a reused object; undefined when no route. */
  #lookup(dst: number): Hop | undefined {
    for (const r of this.#routes) {
      if (((dst ^ r.net) & r.mask) !== 0) continue;
      const hop = this.#hop;
      if (r.via < 0) {
        hop.iface = r.iface!;
        hop.nextHop = dst;
        hop.src = r.src;
        return hop;
      }
      const c = this.#connectedFor(r.via);
      if (c === undefined) continue; // its gateway is not on a link: Linux would not have the route
      hop.iface = c.iface!;
      hop.nextHop = r.via;
      hop.src = this.#selectAddr(c.iface!, r.via);
      return hop;
    }
    return undefined;
  }

  // ---- receiving -------------------------------------------------------------------------------

  /** Takes a frame that came in on an interface. */
  #receive(iface: Iface, buf: Uint8Array, off: number, len: number): void {
    const counters = iface.counters;
    counters.rxFrames++;
    if (this.paused || iface.removed) {
      counters.ignored++;
      return;
    }
    if (len < 14 || off < 0 || off + len > buf.length) {
      counters.dropped++;
      return;
    }
    const dHi = macHiAt(buf, off);
    const dLo = macLoAt(buf, off);
    const broadcast = dHi === BROADCAST_HI && dLo === BROADCAST_HI;
    if (!broadcast && (dHi !== iface.macHi || dLo !== iface.macLo)) {
      counters.ignored++;
      return;
    }
    const type = get16(buf, off + 12);
    if (type === 0x8100 || type === 0x88a8) {
      counters.dropped++; // an access-port endpoint: tagged frames are not for it
      return;
    }
    const sHi = macHiAt(buf, off + 6);
    const sLo = macLoAt(buf, off + 6);
    if (sHi === iface.macHi && sLo === iface.macLo) {
      counters.ignored++; // its own frame, looped back
      return;
    }
    const o = off + ETH;
    const end = off + len;
    if (type === 0x0806) {
      if (
        end - o >= 8 && get16(buf, o) === 1 && get16(buf, o + 2) === 0x0800 && buf[o + 4] === 6 &&
        buf[o + 5] === 4
      ) {
        if (end - o < 28) counters.dropped++;
        else this.#onArp(iface, buf, o);
      } else {
        counters.ignored++;
      }
    } else if (type === 0x0800) {
      this.#onIpv4(iface, buf, o, end, broadcast);
    } else {
      counters.ignored++;
    }
  }

  #onArp(iface: Iface, buf: Uint8Array, o: number): void {
    const op = get16(buf, o + 6);
    const sHi = macHiAt(buf, o + 8);
    const sLo = macLoAt(buf, o + 8);
    const sender = get32(buf, o + 14);
    const target = get32(buf, o + 24);
    const mine = iface.arpOwnOnly ? iface.addrs.some((a) => a.ip === target) : this.#local.has(target);
    if (op === ARP_REQUEST && mine) {
      // RFC 826: learn the asker (Linux: neigh_event_ns), then answer
      this.#learn(iface, sender, mac48Of(sHi, sLo));
      this.scheduler.after(
        HOST_PROCESSING_NS,
        () => this.#sendArp(iface, ARP_REPLY, sHi, sLo, target, sender),
      );
      return;
    }
    // RFC 826 merge: update an entry the interface has, in any state; make none (Linux, arp_accept 0)
    const known = iface.neighbours.has(sender);
    if (known) this.#learn(iface, sender, mac48Of(sHi, sLo));
    if (!(known && op === ARP_REPLY)) iface.counters.ignored++;
  }

  /**
   * An IPv4 packet at `buf[o..end)`: checked as `decodeFrame` checks it (a malformed one is dropped),
   * then delivered locally, forwarded, or ignored.
   */
  #onIpv4(iface: Iface, buf: Uint8Array, o: number, end: number, broadcast: boolean): void {
    const counters = iface.counters;
    if (end - o < 20) {
      counters.dropped++;
      return;
    }
    const vihl = buf[o]!;
    const hl = (vihl & 0x0f) * 4;
    const total = get16(buf, o + 2);
    if (vihl >>> 4 !== 4 || hl < 20 || total < hl || total > end - o) {
      counters.dropped++;
      return;
    }
    if (checksum(buf, o, hl) !== 0) {
      counters.dropped++;
      return;
    }
    const dst = get32(buf, o + 16);
    const local = this.#local.has(dst);
    if (local && this.#natIn.size > 0 && this.forwarding) {
      // an answer to a masqueraded connection: back to where that came from
      const flow = flowOf(buf, o, total, hl);
      const back = flow === undefined ? undefined : this.#natIn.get(flow.key);
      if (back !== undefined) {
        const copy = buf.slice(o, o + total);
        translate(copy, 0, hl, total, 16, back.ip, back.port);
        this.#forward(iface, copy, 0, total, hl);
        return;
      }
    }
    // Linux forwards only what came to its MAC (PACKET_HOST); a broadcast may be for a local service
    if (!local && this.forwarding && !broadcast) {
      if (this.#udp.size > 0) this.#rawCopy(iface, buf, o, total, hl, dst);
      this.#forward(iface, buf, o, total, hl);
      return;
    }
    // a host: the transport header must be whole, as decodeFrame reads it
    const p = o + hl;
    const pEnd = o + total;
    const frag = get16(buf, o + 6);
    const whole = (frag & 0x3fff) === 0;
    const protocol = buf[o + 9]!;
    if (whole && protocol === 17 && pEnd - p < 8) {
      counters.dropped++;
      return;
    }
    if (whole && protocol === 17 && this.#udp.size > 0) {
      const bound = this.#udp.get(get16(buf, p + 2));
      if (
        bound !== undefined &&
        (local || bound.raw || dst === 0xffff_ffff || this.#isSubnetBroadcast(iface, dst))
      ) {
        this.#deliverUdp(bound.handler, iface, buf, o, p, pEnd, dst);
        return;
      }
    }
    if (
      whole && protocol === 6 &&
      (pEnd - p < 20 || (buf[p + 12]! >>> 4) * 4 < 20 || (buf[p + 12]! >>> 4) * 4 > pEnd - p)
    ) {
      counters.dropped++;
      return;
    }
    if (!(whole && protocol === 1)) {
      counters.ignored++;
      return;
    }
    if (pEnd - p < 8 || checksum(buf, p, pEnd - p) !== 0) {
      counters.dropped++;
      return;
    }
    if (!local) {
      counters.ignored++;
      return;
    }
    const src = get32(buf, o + 12);
    const icmpType = buf[p]!;
    if (icmpType === ICMP_ECHO_REQUEST) {
      this.#answerEcho(buf, p, pEnd, src, dst);
    } else if (icmpType === ICMP_ECHO_REPLY) {
      if (!this.#onEchoReply(get16(buf, p + 4), get16(buf, p + 6), src)) counters.ignored++;
    } else if (icmpType === ICMP_DEST_UNREACH || icmpType === ICMP_TIME_EXCEEDED) {
      if (!this.#onIcmpError(buf, p, pEnd, src)) counters.ignored++;
    } else {
      counters.ignored++;
    }
  }

  /** Builds the echo reply now, into a pooled buffer, and sends it {@linkcode HOST_PROCESSING_NS} later. */
  #answerEcho(buf: Uint8Array, p: number, pEnd: number, src: number, dst: number): void {
    const icmpLen = pEnd - p;
    const out = this.#take();
    const ip = ETH;
    const q = ip + 20;
    out.set(buf.subarray(p, pEnd), q);
    // type 8 code x -> type 0 code 0: the checksum follows from the request's (RFC 1624)
    const word = buf[p]! << 8 | buf[p + 1]!;
    out[q] = ICMP_ECHO_REPLY;
    out[q + 1] = 0;
    let c = get16(buf, p + 2) + word;
    c = (c & 0xffff) + (c >>> 16);
    put16(out, q + 2, c === 0xffff ? 0 : c);
    this.#writeIpHeader(out, ip, 0, 20 + icmpLen, SIM_DEFAULT_TTL, dst, src);
    const packet: Packet = {
      srcIp: dst,
      dstIp: src,
      arpSrc: dst,
      run: undefined,
      id: 0,
      seq: 0,
      sentNs: 0,
      buf: out,
      ipLen: 20 + icmpLen,
      stampId: true,
    };
    this.scheduler.after(HOST_PROCESSING_NS, () => this.#route(packet));
  }

  /** Counts an echo reply for a running ping; false when no running ping waits for it. */
  #onEchoReply(id: number, seq: number, from: number): boolean {
    const key = echoKey(id, seq);
    const request = this.#inFlight.get(key);
    const run = request?.run;
    if (request === undefined || run === undefined || run.done || request.dstIp !== from) return false;
    this.#inFlight.delete(key);
    const rtt = this.scheduler.now() - request.sentNs;
    run.received++;
    run.rttNs.push(rtt);
    if (run.pattern.length >= TIMEVAL_BYTES && rtt > run.maxRttNs) run.maxRttNs = rtt;
    this.#endIfAnswered(run);
    return true;
  }

  /** An ICMP error about one of the node's echo requests: ping's "+1 errors". */
  #onIcmpError(buf: Uint8Array, p: number, pEnd: number, from: number): boolean {
    const q = p + 8;
    if (pEnd - q < 20) return false;
    const qhl = (buf[q]! & 0x0f) * 4;
    if (buf[q]! >>> 4 !== 4 || qhl < 20 || pEnd - q < qhl + 8 || buf[q + 9] !== 1) return false;
    const e = q + qhl;
    if (buf[e] !== ICMP_ECHO_REQUEST) return false;
    const key = echoKey(get16(buf, e + 4), get16(buf, e + 6));
    const request = this.#inFlight.get(key);
    const run = request?.run;
    if (request === undefined || run === undefined || run.done || request.dstIp !== get32(buf, q + 16)) {
      return false;
    }
    this.#inFlight.delete(key);
    this.#reportError(run, from, request.seq, buf[p]!, buf[p + 1]!);
    return true;
  }

  #reportError(run: Run, from: number, seq: number, type: number, code: number): void {
    const source = ipv4ToString(from);
    const text = `From ${source} icmp_seq=${seq} ${icmpErrorText(type, code)}`;
    run.errors++;
    run.errorReports.push({ from: source, seq, type, code, text });
    this.#endIfAnswered(run);
  }

  /**
   * A packet the node forwards, seen by a raw UDP port all the same (a DHCP client's packet socket, before
   * it has its address: the offer is for an address not yet its own).
   */
  #rawCopy(iface: Iface, buf: Uint8Array, o: number, total: number, hl: number, dst: number): void {
    const p = o + hl;
    if (buf[o + 9] !== 17 || (get16(buf, o + 6) & 0x3fff) !== 0 || total - hl < 8) return;
    const bound = this.#udp.get(get16(buf, p + 2));
    if (bound?.raw === true) this.#deliverUdp(bound.handler, iface, buf, o, p, o + total, dst);
  }

  /** Hands a UDP datagram (IPv4 header at `o`, UDP header at `p`, the packet ending at `pEnd`) to `handler`. */
  #deliverUdp(
    handler: (datagram: SimUdpDatagram) => void,
    iface: Iface,
    buf: Uint8Array,
    o: number,
    p: number,
    pEnd: number,
    dst: number,
  ): void {
    const udpLen = get16(buf, p + 4);
    const dataEnd = udpLen >= 8 && p + udpLen <= pEnd ? p + udpLen : pEnd;
    handler({
      iface: iface.name,
      srcMac: macToString(mac48Of(macHiAt(buf, o - ETH + 6), macLoAt(buf, o - ETH + 6))),
      srcIp: ipv4ToString(get32(buf, o + 12)),
      srcPort: get16(buf, p),
      dstIp: ipv4ToString(dst),
      dstPort: get16(buf, p + 2),
      payload: buf.slice(p + 8, dataEnd),
    });
  }

  // ---- forwarding ------------------------------------------------------------------------------

  /** Linux's `ip_forward` for the packet at `buf[o..o+total)`. */
  #forward(iface: Iface, buf: Uint8Array, o: number, total: number, hl: number): void {
    const src = get32(buf, o + 12);
    const dst = get32(buf, o + 16);
    const first = dst >>> 24;
    if (!isUnicastSource(src) || this.#local.has(src) || first === 0 || first === 127 || first >= 224) {
      iface.counters.ignored++; // martians, multicast and limited broadcast are not routed
      return;
    }
    const hop = this.#lookup(dst);
    if (hop === undefined) {
      iface.counters.ignored++;
      this.#icmpError(buf, o, total, hl, ICMP_DEST_UNREACH, ICMP_NET_UNREACH, true);
      return;
    }
    if (hop.nextHop === dst && this.#isSubnetBroadcast(hop.iface, dst)) {
      iface.counters.ignored++; // a directed broadcast: Linux does not forward it
      return;
    }
    if (buf[o + 8]! <= 1) {
      iface.counters.ignored++;
      this.#icmpError(buf, o, total, hl, ICMP_TIME_EXCEEDED, 0, false);
      return;
    }
    if (this.firewall !== undefined && !this.#passes(this.firewall, iface, hop.iface, buf, o, total, hl)) {
      return;
    }
    this.#counters.forwarded++;
    const out = this.#take();
    out.set(buf.subarray(o, o + total), ETH);
    // ip_decrease_ttl: the checksum goes up by 0x0100 with the end-around carry
    out[ETH + 8] = out[ETH + 8]! - 1;
    let c = get16(out, ETH + 10) + 0x0100;
    c = (c + (c >= 0xffff ? 1 : 0)) & 0xffff;
    put16(out, ETH + 10, c);
    for (const m of this.#masquerade) {
      if (m.out === hop.iface.name && ((src & m.mask) >>> 0) === m.net) {
        this.#snat(out, ETH, total, hl, hop.iface, dst);
        break;
      }
    }
    const packet: Packet = {
      srcIp: src,
      dstIp: dst,
      arpSrc: this.#selectAddr(hop.iface, hop.nextHop),
      run: undefined,
      id: 0,
      seq: 0,
      sentNs: 0,
      buf: out,
      ipLen: total,
      stampId: false,
    };
    const outIface = hop.iface;
    const nextHop = hop.nextHop;
    this.scheduler.after(HOST_PROCESSING_NS, () => this.#output(outIface, nextHop, packet));
  }

  /**
   * The firewall's decision on a packet to forward: one of a connection let through before passes (or an
   * ICMP error about one); else the firewall decides, and an accepted packet's connection is kept. A
   * rejected one gets an ICMP port unreachable, as nftables' `reject`.
   */
  #passes(
    firewall: (packet: SimForwarded) => SimVerdict,
    inIface: Iface,
    outIface: Iface,
    buf: Uint8Array,
    o: number,
    total: number,
    hl: number,
  ): boolean {
    const flow = flowOf(buf, o, total, hl);
    if (flow === undefined) return true; // nothing to match (a fragment's tail): as Linux's conntrack
    if (this.#connections.has(flow.key) || this.#connections.has(flow.reverse)) return true;
    if (
      flow.related !== undefined &&
      (this.#connections.has(flow.related.key) || this.#connections.has(flow.related.reverse))
    ) {
      return true;
    }
    const verdict = firewall({
      in: inIface.name,
      out: outIface.name,
      src: get32(buf, o + 12),
      dst: get32(buf, o + 16),
      proto: buf[o + 9]!,
      srcPort: flow.srcPort,
      dstPort: flow.dstPort,
    });
    if (verdict === "accept") {
      this.#connections.add(flow.key);
      return true;
    }
    inIface.counters.dropped++;
    if (verdict === "reject") this.#icmpError(buf, o, total, hl, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, false);
    return false;
  }

  #isSubnetBroadcast(iface: Iface, ip: number): boolean {
    for (const a of iface.addrs) {
      if (a.prefix < 31 && ((a.ip ^ ip) & a.mask) === 0 && ((ip | a.mask) >>> 0) === 0xffff_ffff) return true;
    }
    return false;
  }

  /** Linux's `icmpv4_xrlim_allow` (and, first, `ip_error`'s bucket for net unreachable) for `peer`. */
  #allowError(dst: number, viaIpError: boolean): boolean {
    const now = this.scheduler.now();
    let peer = this.#peers.get(dst);
    if (peer === undefined) {
      peer = { tokens: 0, last: now - NEW_PEER_NS };
      this.#peers.set(dst, peer);
    }
    if (viaIpError) {
      peer.tokens += now - peer.last;
      if (peer.tokens > IP_ERROR_BURST * ICMP_RATELIMIT_NS) peer.tokens = IP_ERROR_BURST * ICMP_RATELIMIT_NS;
      peer.last = now;
      if (peer.tokens < ICMP_RATELIMIT_NS) return false;
      peer.tokens -= ICMP_RATELIMIT_NS;
    }
    let token = peer.tokens + (now - peer.last);
    peer.last = now;
    if (token > XRLIM_BURST * ICMP_RATELIMIT_NS) token = XRLIM_BURST * ICMP_RATELIMIT_NS;
    let allow = false;
    if (token >= ICMP_RATELIMIT_NS) {
      token -= ICMP_RATELIMIT_NS;
      allow = true;
    }
    peer.tokens = token;
    return allow;
  }

  /**
   * Linux's `icmp_send` about the packet at `buf[o..o+total)`: type and code, to its source, from the
   * address the route back prefers, quoting up to {@linkcode ICMP_QUOTE_MAX} bytes of it.
   */
  #icmpError(
    buf: Uint8Array,
    o: number,
    total: number,
    hl: number,
    type: number,
    code: number,
    viaIpError: boolean,
  ): void {
    const src = get32(buf, o + 12);
    const dst = get32(buf, o + 16);
    if (!isUnicastSource(src) || (dst >>> 24) >= 224 || dst === 0xffff_ffff) return;
    if ((get16(buf, o + 6) & 0x1fff) !== 0) return; // not the first fragment
    if (buf[o + 9] === 1 && total >= hl + 1) {
      const t = buf[o + hl]!;
      if (t === 3 || t === 4 || t === 5 || t === 11 || t === 12 || t > 18) return; // never about an error
    }
    const hop = this.#lookup(src);
    if (hop === undefined) return;
    if (!this.#allowError(src, viaIpError)) {
      this.#counters.icmpRateLimited++;
      return;
    }
    this.#counters.icmpErrors++;
    const quoted = total < ICMP_QUOTE_MAX ? total : ICMP_QUOTE_MAX;
    const out = this.#take();
    const q = ETH + 20;
    out[q] = type;
    out[q + 1] = code;
    out[q + 2] = 0;
    out[q + 3] = 0;
    put32(out, q + 4, 0);
    out.set(buf.subarray(o, o + quoted), q + 8);
    put16(out, q + 2, checksum(out, q, 8 + quoted));
    const from = hop.src;
    this.#writeIpHeader(out, ETH, (buf[o + 1]! & 0x1e) | 0xc0, 28 + quoted, SIM_DEFAULT_TTL, from, src);
    const packet: Packet = {
      srcIp: from,
      dstIp: src,
      arpSrc: from,
      run: undefined,
      id: 0,
      seq: 0,
      sentNs: 0,
      buf: out,
      ipLen: 28 + quoted,
      stampId: true,
    };
    const outIface = hop.iface;
    const nextHop = hop.nextHop;
    this.scheduler.after(HOST_PROCESSING_NS, () => this.#output(outIface, nextHop, packet));
  }

  // ---- sending ---------------------------------------------------------------------------------

  /** A buffer from the pool. */
  #take(): Uint8Array {
    return this.#pool.pop() ?? new Uint8Array(BUF_BYTES);
  }

  /** Writes an IPv4 header without its id and checksum (they come when it goes out). */
  #writeIpHeader(
    out: Uint8Array,
    ip: number,
    tos: number,
    total: number,
    ttl: number,
    src: number,
    dst: number,
  ): void {
    out[ip] = 0x45;
    out[ip + 1] = tos;
    put16(out, ip + 2, total);
    put16(out, ip + 4, 0);
    put16(out, ip + 6, 0);
    out[ip + 8] = ttl;
    out[ip + 9] = 1;
    put16(out, ip + 10, 0);
    put32(out, ip + 12, src);
    put32(out, ip + 16, dst);
  }

  /** Routes a packet the node made, then sends it through the neighbour table. */
  #route(packet: Packet): void {
    const hop = this.#lookup(packet.dstIp);
    if (hop === undefined) {
      this.#release(packet);
      return;
    }
    this.#output(hop.iface, hop.nextHop, packet);
  }

  #release(packet: Packet): void {
    if (packet.buf !== undefined && this.#pool.length < 256) this.#pool.push(packet.buf);
    packet.buf = undefined;
  }

  /** Transmits a frame from `buf[0..len)` out of an interface, padded to 60 bytes. */
  #transmit(iface: Iface, buf: Uint8Array, len: number): void {
    if (len < 60) {
      buf.fill(0, len, 60);
      len = 60;
    }
    iface.counters.txFrames++;
    iface.transmit(buf, 0, len);
  }

  #sendArp(iface: Iface, op: number, tHi: number, tLo: number, senderIp: number, targetIp: number): void {
    if (this.paused || iface.removed) return; // a paused VM sends nothing, not even what was due
    const b = this.#tx;
    if (op === ARP_REQUEST) {
      putMac(b, 0, BROADCAST_HI, BROADCAST_HI);
    } else {
      putMac(b, 0, tHi, tLo);
    }
    putMac(b, 6, iface.macHi, iface.macLo);
    b[12] = 0x08;
    b[13] = 0x06;
    put16(b, 14, 1);
    put16(b, 16, 0x0800);
    b[18] = 6;
    b[19] = 4;
    put16(b, 20, op);
    putMac(b, 22, iface.macHi, iface.macLo);
    put32(b, 28, senderIp);
    if (op === ARP_REQUEST) putMac(b, 32, 0, 0);
    else putMac(b, 32, tHi, tLo);
    put32(b, 38, targetIp);
    this.#transmit(iface, b, 42);
  }

  /** Transmits a packet to a resolved MAC. */
  #sendPacket(iface: Iface, packet: Packet, mac: number): void {
    if (this.paused || iface.removed) {
      this.#release(packet);
      return;
    }
    const hi = Math.floor(mac / TWO_24);
    const lo = mac - hi * TWO_24;
    const id = this.#ipId;
    let b: Uint8Array;
    let len: number;
    if (packet.buf === undefined) {
      // an echo request of a ping: written now, its data the run's pattern with the send time over it
      const run = packet.run!;
      b = this.#tx;
      const size = run.pattern.length;
      const q = ETH + 20;
      b[q] = ICMP_ECHO_REQUEST;
      b[q + 1] = 0;
      put16(b, q + 2, 0);
      put16(b, q + 4, packet.id);
      put16(b, q + 6, packet.seq);
      b.set(run.pattern, q + 8);
      // the checksum from sums: the header's words, the timeval's, and the rest of the data's (per run)
      let sum = (ICMP_ECHO_REQUEST << 8) + packet.id + packet.seq + run.dataSum;
      if (size >= TIMEVAL_BYTES) {
        writeTimeval(b, q + 8, packet.sentNs);
        for (let i = q + 8; i < q + 8 + TIMEVAL_BYTES; i += 2) sum += b[i]! << 8 | b[i + 1]!;
      }
      put16(b, q + 2, fold(sum));
      this.#writeIpHeader(b, ETH, 0, 28 + size, run.ttl, packet.srcIp, packet.dstIp);
      put16(b, ETH + 4, id);
      const src = packet.srcIp;
      const dst = packet.dstIp;
      put16(
        b,
        ETH + 10,
        fold(
          0x4500 + 28 + size + id + (run.ttl << 8 | 1) + (src >>> 16) + (src & 0xffff) + (dst >>> 16) +
            (dst & 0xffff),
        ),
      );
      this.#ipId = (id + 1) & 0xffff;
      len = ETH + 28 + size;
    } else {
      // built already: copied into the node's one transmit buffer, which the wire sees
      b = this.#tx;
      const from = packet.buf;
      len = ETH + packet.ipLen;
      for (let i = ETH; i < len; i++) b[i] = from[i]!;
      if (packet.stampId) {
        put16(b, ETH + 4, id);
        put16(b, ETH + 10, checksum(b, ETH, 20));
        this.#ipId = (id + 1) & 0xffff;
      }
    }
    putMac(b, 0, hi, lo);
    putMac(b, 6, iface.macHi, iface.macLo);
    b[12] = 0x08;
    b[13] = 0x00;
    this.#transmit(iface, b, len);
    this.#release(packet);
  }

  /** Sends a packet through an interface's neighbour table: at once when resolved, else queued while ARP asks. */
  #output(iface: Iface, nextHop: number, packet: Packet): void {
    if (iface.removed) {
      this.#release(packet);
      return;
    }
    const n = iface.neighbours.get(nextHop);
    if (n?.state === "REACHABLE") {
      this.#sendPacket(iface, packet, n.mac);
    } else if (n?.state === "INCOMPLETE") {
      n.queue.push(packet);
      n.srcIp = packet.arpSrc;
      if (n.queue.length > ARP_QUEUE_MAX) {
        const old = n.queue.shift()!;
        this.#forgetEcho(old); // dropped, no error
        this.#release(old);
      }
    } else {
      // no entry, or FAILED: a new attempt, its first request at once
      const fresh: Neighbour = {
        state: "INCOMPLETE",
        mac: -1,
        requests: 0,
        srcIp: packet.arpSrc,
        queue: [packet],
      };
      iface.neighbours.set(nextHop, fresh);
      this.#solicit(iface, nextHop, fresh);
    }
  }

  /** Broadcasts an ARP request for `ip` and arms the next step of the attempt. */
  #solicit(iface: Iface, ip: number, n: Neighbour): void {
    n.requests++;
    this.#sendArp(iface, ARP_REQUEST, 0, 0, n.srcIp, ip);
    this.scheduler.after(ARP_RETRY_NS, () => this.#retransmit(iface, ip, n));
  }

  /** Linux's neighbour timer: another request, or FAILED after the last. */
  #retransmit(iface: Iface, ip: number, n: Neighbour): void {
    if (iface.neighbours.get(ip) !== n || n.state !== "INCOMPLETE") return; // resolved or forgotten
    if (n.requests < ARP_MAX_REQUESTS) {
      this.#solicit(iface, ip, n);
      return;
    }
    n.state = "FAILED";
    this.#dropQueue(iface, n, true);
  }

  /** Resolves `ip` to `mac` (a new entry, or an update in any state) and sends what waited for it. */
  #learn(iface: Iface, ip: number, mac: number): void {
    const n = iface.neighbours.get(ip);
    if (n === undefined) {
      iface.neighbours.set(ip, { state: "REACHABLE", mac, requests: 0, srcIp: 0, queue: [] });
      return;
    }
    n.state = "REACHABLE";
    n.mac = mac;
    if (n.queue.length === 0) return;
    const queue = n.queue;
    n.queue = [];
    this.scheduler.after(HOST_PROCESSING_NS, () => {
      for (const packet of queue) this.#sendPacket(iface, packet, mac);
    });
  }

  /**
   * Drops an entry's queued packets: echo requests of running pings are reported unreachable; with
   * `failed` (ARP got no answer), forwarded packets get ICMP host unreachable, as Linux's
   * `arp_error_report`.
   */
  #dropQueue(iface: Iface, n: Neighbour, failed: boolean): void {
    const queue = n.queue;
    n.queue = [];
    for (const packet of queue) {
      const run = packet.run;
      if (run !== undefined) {
        if (!run.done) {
          this.#forgetEcho(packet);
          run.errors++;
          run.errorReports.push({
            from: ipv4ToString(packet.srcIp),
            seq: packet.seq,
            type: ICMP_DEST_UNREACH,
            code: ICMP_HOST_UNREACH,
            text: `From ${ipv4ToString(packet.srcIp)} icmp_seq=${packet.seq} Destination Host Unreachable`,
          });
          this.#endIfAnswered(run);
        }
        continue;
      }
      if (failed && !packet.stampId && packet.buf !== undefined && !this.paused && !iface.removed) {
        this.#icmpError(
          packet.buf,
          ETH,
          packet.ipLen,
          (packet.buf[ETH]! & 0x0f) * 4,
          ICMP_DEST_UNREACH,
          ICMP_HOST_UNREACH,
          false,
        );
      }
      this.#release(packet);
    }
  }

  /** Stops waiting for the reply to an echo request that will never leave. */
  #forgetEcho(packet: Packet): void {
    if (packet.run === undefined) return;
    const key = echoKey(packet.id, packet.seq);
    if (this.#inFlight.get(key) === packet) this.#inFlight.delete(key);
  }

  // ---- neighbours, for the views ---------------------------------------------------------------

  /** The resolved entries of an interface, sorted by address. */
  #arpTable(iface: Iface): { ip: string; mac: string }[] {
    return [...iface.neighbours]
      .filter(([, n]) => n.state === "REACHABLE")
      .sort((x, y) => x[0] - y[0])
      .map(([ip, n]) => ({ ip: ipv4ToString(ip), mac: macToString(n.mac) }));
  }

  /** Every entry of an interface, sorted by address. */
  #neighboursOf(iface: Iface): SimNeighbour[] {
    return [...iface.neighbours].sort((x, y) => x[0] - y[0]).map(([ip, n]) =>
      n.state === "REACHABLE"
        ? { ip: ipv4ToString(ip), state: n.state, mac: macToString(n.mac), queued: n.queue.length }
        : { ip: ipv4ToString(ip), state: n.state, queued: n.queue.length }
    );
  }

  /** Forgets every entry of an interface, as `ip neigh flush dev IF`. */
  #clearNeighbours(iface: Iface): void {
    const all = [...iface.neighbours.values()];
    iface.neighbours.clear();
    for (const n of all) this.#dropQueue(iface, n, false);
  }

  // ---- ping ------------------------------------------------------------------------------------

  #ping(via: Iface | undefined, dstIp: string, options: SimHostPingOptions): PingRun {
    const dst = ipv4FromString(dstIp);
    const {
      count = 1,
      intervalNs = 1_000_000_000,
      waitNs = 10_000_000_000,
      id = this.#nextPingId,
      size = 56,
      ttl = SIM_DEFAULT_TTL,
    } = options;
    checkPingOption(count, 1, 0xffff, "count");
    checkPingOption(intervalNs, 0, Number.MAX_SAFE_INTEGER, "intervalNs");
    checkPingOption(waitNs, 0, Number.MAX_SAFE_INTEGER, "waitNs");
    checkPingOption(id, 0, 0xffff, "id");
    checkPingOption(size, 0, PING_MAX_DATA, "size");
    checkPingOption(ttl, 1, 255, "ttl");
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
      errorReports: [],
      lost: 0,
      done: false,
      networkUnreachable: false,
      rttNs: [],
      dstIp: dst,
      intervalNs,
      waitNs,
      ttl,
      pattern,
      maxRttNs: 0,
      dataSum: 0,
    };
    for (let i = size >= TIMEVAL_BYTES ? TIMEVAL_BYTES : 0; i < size; i += 2) {
      run.dataSum += pattern[i]! << 8 | (i + 1 < size ? pattern[i + 1]! : 0);
    }
    // ping(8) connects its socket first: with no route it stops before sending anything
    const local = this.#local.get(dst);
    let routed: boolean;
    if (local !== undefined) routed = via === undefined || via.addrs.some((a) => a.ip === dst);
    else {
      const hop = this.#lookup(dst);
      routed = hop !== undefined && (via === undefined || hop.iface === via);
    }
    if (!routed) {
      run.networkUnreachable = true;
      run.done = true;
      return run;
    }
    this.scheduler.after(0, () => this.#turn(run, 1));
    return run;
  }

  /** Sends echo request `seq`, then arms the next one, or the end of the run after the last. */
  #turn(run: Run, seq: number): void {
    if (run.done) return;
    run.sent++;
    this.#request(run, seq);
    if (seq < run.count) {
      this.scheduler.after(run.intervalNs, () => this.#turn(run, seq + 1));
      return;
    }
    // iputils' schedule_exit(), decided once, when the last request has gone out
    const linger = run.received > 0 ? Math.max(2 * run.maxRttNs, run.intervalNs) : run.waitNs;
    this.scheduler.after(linger, () => this.#end(run));
    this.#endIfAnswered(run);
  }

  #request(run: Run, seq: number): void {
    const now = this.scheduler.now();
    const dst = run.dstIp;
    const local = this.#local.has(dst);
    const hop = local ? undefined : this.#lookup(dst);
    if (!local && hop === undefined) return; // no route: sendmsg fails, ping counts it as sent all the same
    const request: Packet = {
      srcIp: local ? dst : hop!.src,
      dstIp: dst,
      arpSrc: local ? dst : hop!.src,
      run,
      id: run.id,
      seq,
      sentNs: now,
      buf: undefined,
      ipLen: 0,
      stampId: true,
    };
    this.#inFlight.set(echoKey(run.id, seq), request);
    if (local) {
      // loopback: answered inside the node
      this.scheduler.after(HOST_PROCESSING_NS, () => this.#onEchoReply(run.id, seq, dst));
      return;
    }
    this.#output(hop!.iface, hop!.nextHop, request);
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
    for (const iface of this.#ifaces) {
      const n = iface.neighbours.get(run.dstIp);
      if (n === undefined) continue;
      iface.neighbours.delete(run.dstIp);
      this.#dropQueue(iface, n, false);
    }
  }
}

/**
 * One interface of a node, with the host-level API: addresses, ARP, ping. `new SimHost(...)` makes a node
 * of one interface (see `sim/host.ts`); {@linkcode SimStack.addInterface} adds one to a node.
 */
export class SimHost implements FrameSink {
  /** The interface's name, for messages. */
  readonly name: string;
  /** The interface's MAC, lower-case colon form. */
  readonly mac: string;
  /** The node the interface belongs to. */
  readonly stack: SimStack;
  #iface: Iface;

  /**
   * Makes a host with no addresses yet: a node of one interface, or (with `stack`) an interface of a
   * node; {@linkcode SimStack.addInterface} is the way to the second.
   *
   * @param options The MAC, the clock, where frames go.
   * @param stack The node. @default {a new node of its own}
   * @throws {MacError} If the MAC cannot be parsed.
   * @throws {RangeError} If the MAC is multicast (or broadcast).
   */
  constructor(options: SimHostOptions, stack?: SimStack) {
    const mac = macToString(macFromString(options.mac));
    this.name = options.name ?? mac;
    this.mac = mac;
    this.stack = stack ?? new SimStack({ scheduler: options.scheduler, name: this.name });
    this.#iface = internals.attach(this.stack, this, options);
  }

  /**
   * Whether the host is paused: its VM does not run (for the whole node: every interface of the VM). A
   * paused host takes no frame in (counted as ignored) and sends none; its addresses and neighbour table
   * stay as they are.
   */
  get paused(): boolean {
    return this.stack.paused;
  }

  set paused(on: boolean) {
    this.stack.paused = on;
  }

  /**
   * Gives the interface an address and its subnet (and the node a connected route to it).
   *
   * @param cidr E.g. `"10.0.0.1/24"`.
   * @throws {SyntaxError} If `cidr` is not `a.b.c.d/prefix`.
   * @throws {Error} If the interface already has that address.
   */
  addAddress(cidr: string): void {
    internals.addAddress(this.stack, this.#iface, cidr);
  }

  /**
   * Takes an address away.
   *
   * @param ip The address, with or without its `/prefix`.
   * @throws {SyntaxError} If `ip` is not an IPv4 address.
   * @throws {Error} If the interface does not have it.
   */
  removeAddress(ip: string): void {
    internals.removeAddress(this.stack, this.#iface, ip);
  }

  /** The interface's addresses as `a.b.c.d/prefix`, in the order they were added. */
  addresses(): string[] {
    return this.#iface.addrs.map((a) => `${ipv4ToString(a.ip)}/${a.prefix}`);
  }

  /** The ARP cache: the resolved (REACHABLE) neighbour entries, sorted by address. */
  arpTable(): { ip: string; mac: string }[] {
    return internals.arpTable(this.stack, this.#iface);
  }

  /** Every neighbour entry, resolved or not, sorted by address: what `ip neigh` would show. */
  neighbours(): SimNeighbour[] {
    return internals.neighbours(this.stack, this.#iface);
  }

  /**
   * Forgets every neighbour entry, as `ip neigh flush all`: pending ARP requests stop, and queued
   * packets are dropped (echo requests of running pings count as {@linkcode PingRun.errors}).
   */
  clearArpTable(): void {
    internals.clearNeighbours(this.stack, this.#iface);
  }

  /** A copy of the interface's counters. */
  counters(): SimHostCounters {
    return { ...this.#iface.counters };
  }

  /**
   * Takes a frame from the wire (the bytes are only read during the call). Answers are scheduled, never
   * sent from inside this call.
   */
  receive(buf: Uint8Array, off: number, len: number): void {
    internals.receive(this.stack, this.#iface, buf, off, len);
  }

  /**
   * Pings `dstIp` as iputils `ping -c count -i interval -W wait -s size -t ttl` does, through this
   * interface: see `sim/host.ts` for the pacing, the linger and the neighbour resolution. The node's
   * routes decide; when the route to `dstIp` leaves by another interface (or there is none), nothing is
   * sent and the run is {@linkcode PingRun.networkUnreachable}, as labwire's real backend reports a ping
   * from one NIC. Pinging one of this interface's own addresses is answered inside the node,
   * {@linkcode HOST_PROCESSING_NS} later, without a frame.
   *
   * @param dstIp The address to ping.
   * @param options Count, interval, wait, identifier, size, TTL.
   * @returns The run, updated as the simulation goes on.
   * @throws {SyntaxError} If `dstIp` is not an IPv4 address.
   * @throws {RangeError} If an option is out of range.
   */
  ping(dstIp: string, options: SimHostPingOptions = {}): PingRun {
    return internals.ping(this.stack, this.#iface, dstIp, options);
  }
}
