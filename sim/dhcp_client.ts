// Runtime-neutral.
/**
 * A DHCP client for the simulator that behaves like ISC dhclient 4.4 as labwire's real backend runs it
 * (lib/real/dhcp.ts: `dhclient -4 -d -1` with `initial-interval 1; backoff-cutoff 2;`, no host name): it
 * broadcasts a DHCPDISCOVER, takes the first offer at once (select-timeout 0), broadcasts a DHCPREQUEST
 * for it and is bound on the DHCPACK with the address and prefix, the first router and the DNS servers.
 * It is a protocol engine only: it hands its datagrams to an injected `send`, and the stack feeds it the
 * UDP payloads that arrive on port 68 with {@linkcode DhcpClient.receive}. Sends are deferred on the
 * injected {@linkcode Scheduler} (`after(0)`), never made from inside `receive`.
 *
 * What it copies from dhclient (its source, client/dhclient.c, and a capture on this machine,
 * tests/_fixtures/dnsmasq.ts):
 * - the messages: DISCOVER has options 53 and 55 (1, 28, 2, 3, 15, 6, 12), REQUEST 53, 54, 50, 55; no
 *   client identifier (61), no host name (12), broadcast flag clear; padded to 300 bytes; sent from
 *   0.0.0.0:68 to 255.255.255.255:67 at ff:ff:ff:ff:ff:ff with IP TTL 128 and TOS 0x10;
 * - `secs`: whole seconds since the first DISCOVER; a REQUEST after an offer repeats the last DISCOVER's;
 * - one `xid` per attempt (a NAK starts a new one);
 * - the resend timer of send_discover()/send_request(): the first resend `initial-interval` (1 s)
 *   later, then the interval grows by a random 0 to 2x itself and, past `backoff-cutoff` (2 s), is
 *   `cutoff/2 + random % cutoff`; an interval above 1 s gets random microseconds; integer seconds
 *   otherwise, as dhclient's `cur_time`;
 * - a REQUEST unanswered for `reboot-timeout` (10 s) goes back to DISCOVER; a NAK does so at once;
 * - with no subnet mask, the prefix is /32, as Debian's dhclient-script adds the address.
 *
 * Where it differs: the whole attempt gives up after `timeoutSeconds` (labwire's 10 s, which is the
 * timeout that counts in the real backend, dhclient's own being 5 s later); like labwire's real backend,
 * which stops dhclient once it has a lease, it does not renew: the lease is reported with its expiry and
 * that is all; it sends no DECLINE (Debian's dhclient-script does no ARP check either); randomness comes
 * from an injected source (default: a PRNG seeded from the MAC), so a simulation is the same every run.
 *
 * @module
 */

import {
  BOOTREPLY,
  BOOTREQUEST,
  decodeDhcp,
  DHCP_CLIENT_PORT,
  DHCP_SERVER_PORT,
  DHCPACK,
  DHCPDISCOVER,
  type DhcpMessage,
  DHCPNAK,
  DHCPOFFER,
  DHCPREQUEST,
  encodeDhcp,
} from "../lib/wire/dhcp.ts";
import { ipv4FromString } from "../lib/wire/frame.ts";
import type { Scheduler } from "./types.ts";

/** dhclient's parameter request list as Debian's dhclient 4.4.3 sends it with labwire's configuration. */
export const DHCLIENT_PARAMETER_REQUEST_LIST: readonly number[] = [1, 28, 2, 3, 15, 6, 12];
/** The IP TTL of dhclient's packets. */
export const DHCLIENT_TTL = 128;
/** The IP TOS of dhclient's packets (IPTOS_LOWDELAY). */
export const DHCLIENT_TOS = 0x10;
/** labwire's DHCP timeout (lib/real/dhcp.ts DEFAULT_DHCP_TIMEOUT_MS), in seconds. */
export const DHCP_CLIENT_DEFAULT_TIMEOUT_SECONDS = 10;

const NS_PER_S = 1_000_000_000;

/** The state of a {@linkcode DhcpClient}, RFC 2131's names in lowercase. */
export type DhcpClientState = "idle" | "selecting" | "requesting" | "bound" | "failed" | "stopped";

/** A datagram for the caller's stack to send: UDP `srcIp`:68 to `dstIp`:67 at `dstMac`. */
export interface DhcpClientDatagram {
  /** The client's MAC, the frame's source. */
  srcMac: string;
  /** `ff:ff:ff:ff:ff:ff`. */
  dstMac: string;
  /** `0.0.0.0`. */
  srcIp: string;
  /** `255.255.255.255`. */
  dstIp: string;
  /** 68. */
  srcPort: number;
  /** 67. */
  dstPort: number;
  /** IP TTL, as dhclient sends it. */
  ttl: number;
  /** IP TOS, as dhclient sends it. */
  tos: number;
  /** The DHCP message, encoded. */
  payload: Uint8Array;
  /** The same, decoded. */
  message: DhcpMessage;
}

/** The lease a client is bound with; the first three fields as lib/real/dhcp.ts's `DhcpLease`. */
export interface DhcpClientLease {
  /** Address and prefix length, e.g. `"10.0.0.7/24"` (`/32` without a subnet mask). */
  address: string;
  /** The first router the server named: the default gateway. */
  router?: string;
  /** The server's identifier. */
  server?: string;
  /** Lease time in seconds (4294967295: infinite). */
  leaseSeconds?: number;
  /** DNS servers, in order; empty when none was sent. */
  dns: string[];
  /** When the ACK came, in scheduler ns. */
  boundAt: number;
  /** When the lease ends, in scheduler ns (`Infinity` for an infinite lease or none given). */
  expiresAt: number;
}

/** Options for {@linkcode DhcpClient}. */
export interface DhcpClientOptions {
  /** The NIC's MAC. */
  mac: string;
  /** Virtual time and deferred work. */
  scheduler: Scheduler;
  /** Sends a datagram; called from scheduled work, never from inside `receive`. */
  send: (datagram: DhcpClientDatagram) => void;
  /** Called once bound. */
  onBound?: (lease: DhcpClientLease) => void;
  /** Called once the attempt gave up (an Error saying why). */
  onFailed?: (error: Error) => void;
  /** Gives up after this many seconds without a lease. @default {10} */
  timeoutSeconds?: number;
  /** dhclient's `initial-interval`, seconds. @default {1} (labwire's; dhclient's own default is 3 in 4.4 code) */
  initialIntervalSeconds?: number;
  /** dhclient's `backoff-cutoff`, seconds. @default {2} (labwire's; dhclient's own is 15) */
  backoffCutoffSeconds?: number;
  /** dhclient's `reboot` timeout for an unanswered REQUEST, seconds. @default {10} */
  rebootTimeoutSeconds?: number;
  /** Random 31-bit integers, as C's random(). @default {a PRNG seeded from `mac`} */
  random?: () => number;
  /** The interface's name, for error messages. @default {the MAC} */
  name?: string;
}

/**
 * A dhclient-like DHCP client engine; see the module for what it copies.
 */
export class DhcpClient {
  #o:
    & Required<Omit<DhcpClientOptions, "onBound" | "onFailed">>
    & Pick<DhcpClientOptions, "onBound" | "onFailed">;
  #state: DhcpClientState = "idle";
  #epoch = 0; // bumped to cancel every pending timer
  #xid = 0;
  #startedAt = 0; // start(): for the overall timeout
  #firstSending = 0; // of the current DISCOVER or REQUEST run
  #interval = 0; // seconds
  #secs = 0;
  #offer: { yiaddr: string; serverId: string } | undefined;
  #lease: DhcpClientLease | undefined;
  #mac: string;

  /**
   * @param options The NIC, the scheduler, the send function, callbacks and timers.
   * @throws {SyntaxError} If `mac` is not six hex bytes.
   * @throws {RangeError} If a time is not a positive number.
   */
  constructor(options: DhcpClientOptions) {
    const parts = options.mac.toLowerCase().split(/[:-]/);
    if (parts.length !== 6 || !parts.every((p) => /^[0-9a-f]{2}$/.test(p))) {
      throw new SyntaxError(`Cannot create a DHCP client: MAC '${options.mac}' is not six hex bytes`);
    }
    this.#mac = parts.join(":");
    const o = {
      timeoutSeconds: DHCP_CLIENT_DEFAULT_TIMEOUT_SECONDS,
      initialIntervalSeconds: 1,
      backoffCutoffSeconds: 2,
      rebootTimeoutSeconds: 10,
      random: seededRandom(this.#mac),
      name: this.#mac,
      ...options,
    };
    for (
      const key of [
        "timeoutSeconds",
        "initialIntervalSeconds",
        "backoffCutoffSeconds",
        "rebootTimeoutSeconds",
      ] as const
    ) {
      const v = o[key];
      if (!(typeof v === "number" && Number.isInteger(v) && v > 0)) {
        throw new RangeError(
          `Cannot create a DHCP client: '${key}' must be a positive integer: current value is ${v}`,
        );
      }
    }
    this.#o = o;
  }

  /** Where the client is. */
  get state(): DhcpClientState {
    return this.#state;
  }

  /** The lease once bound, else `undefined`. */
  get lease(): DhcpClientLease | undefined {
    return this.#lease;
  }

  /** The transaction ID of the current attempt. */
  get xid(): number {
    return this.#xid;
  }

  /**
   * Starts (or restarts) an attempt: a DISCOVER goes out after the work already due now.
   */
  start(): void {
    this.#lease = undefined;
    this.#startedAt = this.#o.scheduler.now();
    this.#init();
  }

  /** Stops: no more sends, timers cancelled; the lease (if any) stays readable. */
  stop(): void {
    this.#epoch++;
    this.#state = "stopped";
  }

  /**
   * Takes a UDP payload that arrived on port 68. Replies not for this client (another xid or chaddr),
   * unreadable ones and those that do not fit the state are ignored, as dhclient does.
   *
   * @param payload The datagram's data.
   */
  receive(payload: Uint8Array): void {
    let msg: DhcpMessage;
    try {
      msg = decodeDhcp(payload);
    } catch {
      return;
    }
    if (msg.op !== BOOTREPLY || msg.xid !== this.#xid || msg.chaddr !== this.#mac) return;
    if (msg.messageType === DHCPOFFER && this.#state === "selecting") {
      if (msg.serverId === undefined || msg.yiaddr === "0.0.0.0") return;
      this.#offer = { yiaddr: msg.yiaddr!, serverId: msg.serverId };
      this.#newEpoch(); // cancels the DISCOVER resends
      this.#state = "requesting";
      this.#firstSending = this.#o.scheduler.now();
      this.#interval = 0;
      this.#runTimer(() => this.#sendRequest());
    } else if (msg.messageType === DHCPACK && this.#state === "requesting") {
      this.#bind(msg);
    } else if (msg.messageType === DHCPNAK && this.#state === "requesting") {
      if (msg.serverId !== undefined && msg.serverId !== this.#offer?.serverId) return;
      this.#init();
    }
  }

  #init(): void {
    this.#newEpoch();
    this.#state = "selecting";
    this.#offer = undefined;
    this.#xid = this.#o.random() >>> 0;
    this.#firstSending = this.#o.scheduler.now();
    this.#interval = 0;
    this.#runTimer(() => this.#sendDiscover());
  }

  /** Cancels every pending timer and re-arms the overall timeout (which keeps its deadline). */
  #newEpoch(): void {
    const epoch = ++this.#epoch;
    const left = this.#startedAt + this.#o.timeoutSeconds * NS_PER_S - this.#o.scheduler.now();
    this.#o.scheduler.after(Math.max(0, left), () => {
      if (epoch !== this.#epoch || this.#state === "bound") return;
      this.#fail(
        `Cannot get an address by DHCP for ${this.#o.name}: no DHCP server answered within ${this.#o.timeoutSeconds} s`,
      );
    });
  }

  /** Runs `fn` after the work due now, unless the epoch moved. */
  #runTimer(fn: () => void, delayNs = 0): void {
    const epoch = this.#epoch;
    this.#o.scheduler.after(delayNs, () => {
      if (epoch === this.#epoch) fn();
    });
  }

  #elapsedSeconds(): number {
    return Math.floor((this.#o.scheduler.now() - this.#firstSending) / NS_PER_S);
  }

  /** dhclient's interval update; `shift` is send_request's `random() >> 2`. */
  #backoff(shift: number): void {
    const cutoff = this.#o.backoffCutoffSeconds;
    const rnd = () => (this.#o.random() >>> 0) >>> shift;
    if (this.#interval === 0) this.#interval = this.#o.initialIntervalSeconds;
    else this.#interval += rnd() % (2 * this.#interval);
    if (this.#interval > cutoff) {
      this.#interval = Math.floor(cutoff / 2) + rnd() % cutoff;
    }
  }

  #nextDelayNs(): number {
    // tv_sec = now + interval; tv_usec random when interval > 1, else now's own microseconds
    return this.#interval * NS_PER_S + (this.#interval > 1 ? (this.#o.random() % 1_000_000) * 1000 : 0);
  }

  #sendDiscover(): void {
    const elapsed = this.#elapsedSeconds();
    this.#backoff(0);
    this.#secs = Math.min(elapsed, 65535);
    this.#transmit({
      op: BOOTREQUEST,
      xid: this.#xid,
      secs: this.#secs,
      chaddr: this.#mac,
      messageType: DHCPDISCOVER,
      parameterRequestList: [...DHCLIENT_PARAMETER_REQUEST_LIST],
    });
    this.#runTimer(() => this.#sendDiscover(), this.#nextDelayNs());
  }

  #sendRequest(): void {
    const offer = this.#offer!;
    if (this.#elapsedSeconds() > this.#o.rebootTimeoutSeconds) {
      this.#init();
      return;
    }
    this.#backoff(2);
    this.#transmit({
      op: BOOTREQUEST,
      xid: this.#xid,
      secs: this.#secs,
      chaddr: this.#mac,
      messageType: DHCPREQUEST,
      serverId: offer.serverId,
      requestedIp: offer.yiaddr,
      parameterRequestList: [...DHCLIENT_PARAMETER_REQUEST_LIST],
    });
    this.#runTimer(() => this.#sendRequest(), this.#nextDelayNs());
  }

  #transmit(message: DhcpMessage): void {
    this.#o.send({
      srcMac: this.#mac,
      dstMac: "ff:ff:ff:ff:ff:ff",
      srcIp: "0.0.0.0",
      dstIp: "255.255.255.255",
      srcPort: DHCP_CLIENT_PORT,
      dstPort: DHCP_SERVER_PORT,
      ttl: DHCLIENT_TTL,
      tos: DHCLIENT_TOS,
      payload: encodeDhcp(message),
      message,
    });
  }

  #bind(msg: DhcpMessage): void {
    this.#epoch++;
    const now = this.#o.scheduler.now();
    const prefix = msg.subnetMask === undefined ? 32 : prefixLength(msg.subnetMask) ?? 32;
    const lease: DhcpClientLease = {
      address: `${msg.yiaddr}/${prefix}`,
      dns: [...(msg.dnsServers ?? [])],
      boundAt: now,
      expiresAt: msg.leaseSeconds === undefined || msg.leaseSeconds === 0xffff_ffff
        ? Infinity
        : now + msg.leaseSeconds * NS_PER_S,
    };
    if (msg.routers !== undefined) lease.router = msg.routers[0]!;
    if (msg.serverId !== undefined) lease.server = msg.serverId;
    if (msg.leaseSeconds !== undefined) lease.leaseSeconds = msg.leaseSeconds;
    this.#lease = lease;
    this.#state = "bound";
    this.#o.onBound?.(lease);
  }

  #fail(reason: string): void {
    this.#epoch++;
    this.#state = "failed";
    this.#o.onFailed?.(new Error(reason));
  }
}

/** The prefix length of a contiguous mask, or `undefined`. */
function prefixLength(mask: string): number | undefined {
  const m = ipv4FromString(mask);
  const inv = ~m >>> 0;
  if ((inv & (inv + 1)) !== 0) return undefined;
  return 32 - Math.log2(inv + 1);
}

/** mulberry32 seeded with the SDBM hash of the MAC: 31-bit integers, like random(). */
function seededRandom(mac: string): () => number {
  let seed = 0;
  for (const p of mac.split(":")) seed = (parseInt(p, 16) + (seed << 6) + (seed << 16) - seed) >>> 0;
  return () => {
    seed = (seed + 0x6d2b79f5) >>> 0;
    let t = seed;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) >>> 1;
  };
}
