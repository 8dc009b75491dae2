// Runtime-neutral.
/**
 * A DHCP server for the simulator that behaves, where a lab can see it, like dnsmasq 2.90 with
 * `dhcp-range=<start>,<end>,<mask>` (or `...,static`), `dhcp-host=<mac>,<ip>` and `dhcp-option=3/6`,
 * non-authoritative as dnsmasq is by default. It is a protocol engine only: {@linkcode DhcpServer.receive}
 * takes a UDP payload that arrived on port 67 and returns the datagrams to send back, addressed; the IPv4
 * stack that carries them is the caller's. Time comes from an injected clock (ns), so that leases expire
 * on the simulator's virtual clock.
 *
 * What it copies from dnsmasq (read in its source, src/dhcp.c and src/rfc2131.c, and measured against
 * dnsmasq 2.90 on this machine, tests/_fixtures/dnsmasq.ts):
 * - the address for a new client: dnsmasq hashes the MAC (SDBM: `j = byte + (j << 6) + (j << 16) - j`),
 *   starts at `start + j % size` and takes the first free address from there, wrapping round, skipping
 *   its own address, leased ones, static ones and, in 192.0.0.0-223.255.255.255, addresses ending in .0
 *   or .255 (`allocation: "dnsmasq"`, the default); `allocation: "lowest"` takes the lowest free one;
 * - a client's static address (dhcp-host) wins over the range, and a client keeps the address of its
 *   lease; a DISCOVER asking for a free address in the range (option 50) gets it;
 * - the options and their order: 53, 54, 51 (default 3600 s), 58 (T1 = lease/2), 59 (T2 = lease*7/8), 1,
 *   28 (broadcast), 6 (if configured), 3 (if configured); `siaddr` is the server's address, `secs` and
 *   `flags` are copied from the request; a message is padded to 300 bytes;
 * - replies go to the client's MAC and the offered address (unicast) unless the client set the
 *   broadcast flag; a NAK is broadcast with the broadcast flag set and says why in option 56
 *   ("address in use", "wrong address", "wrong network", "address not available");
 * - a REQUEST naming another server (option 54) is not for it: the offer is dropped silently;
 *   a REQUEST without option 54 (INIT-REBOOT, RENEWING) from a client it has no lease for gets no
 *   answer (dnsmasq is not authoritative unless `dhcp-authoritative`; `authoritative: true` here);
 * - a DECLINE from the client that holds the address ends its lease; a RELEASE ends the client's lease;
 * - an INFORM gets an ACK with the options and no address or lease time.
 *
 * Where it differs: dnsmasq pings an address before offering it (and waits up to 3 s), this server does
 * not; dnsmasq keeps no reservation between OFFER and REQUEST (two clients whose MACs hash alike can be
 * offered the same address), this server keeps an offered address for its client for 60 s; after a
 * DECLINE, dnsmasq perturbs its hash so that the client is offered another address (and keeps a declined
 * static address out for 10 minutes, DECLINE_BACKOFF), this server keeps any declined address out for
 * 10 minutes, which gives the same lab-visible result: the client gets another address; relayed
 * messages (giaddr set) are ignored; dnsmasq sends options 3 and 6 only to a client that asks for them
 * in option 55 (dhclient does), and with its own address when they are not configured (src/rfc2131.c
 * do_options()), this server sends them whenever they are configured and never otherwise (the simulator's
 * backend configures both, with dnsmasq's default, the server's own address, where a lab gave none); dnsmasq writes configured options
 * last configured first, so `--dhcp-option=3,...` before `--dhcp-option=6,...` gives the order above.
 *
 * @module
 */

import {
  BOOTREPLY,
  BOOTREQUEST,
  decodeDhcp,
  DHCP_CLIENT_PORT,
  DHCP_FLAG_BROADCAST,
  DHCP_SERVER_PORT,
  DHCPACK,
  DHCPDECLINE,
  DHCPDISCOVER,
  DHCPINFORM,
  type DhcpMessage,
  DHCPNAK,
  DHCPOFFER,
  DHCPRELEASE,
  DHCPREQUEST,
  encodeDhcp,
} from "../lib/wire/dhcp.ts";
import { ipv4FromString, ipv4ToString } from "../lib/wire/frame.ts";

/** dnsmasq's default lease time (src/config.h DEFLEASE). */
export const DHCP_DEFAULT_LEASE_SECONDS = 3600;
/** How long a declined address is not given again (dnsmasq's DECLINE_BACKOFF, 10 minutes). */
export const DHCP_DECLINE_BACKOFF_SECONDS = 600;
/** How long an offered address is kept for its client. */
export const DHCP_OFFER_HOLD_SECONDS = 60;
/** The IP TTL of dnsmasq's replies. */
export const DHCP_SERVER_TTL = 64;
/** The IP TOS of dnsmasq's replies (IPTOS_CLASS_CS6). */
export const DHCP_SERVER_TOS = 0xc0;

const NS_PER_S = 1_000_000_000;
const BROADCAST_MAC = "ff:ff:ff:ff:ff:ff";
const BROADCAST_IP = "255.255.255.255";

/** How a new client's address is chosen from the range. */
export type DhcpAllocation = "dnsmasq" | "lowest";

/** A clock that gives nanoseconds; a {@linkcode Scheduler} or a {@linkcode VirtualClock} is one. */
export interface DhcpClock {
  /** Nanoseconds since the lab started. */
  now(): number;
}

/** Options for {@linkcode DhcpServer}. */
export interface DhcpServerOptions {
  /** The clock leases expire on. */
  clock: DhcpClock;
  /** The server's address (option 54, `siaddr`, the replies' source). */
  serverIp: string;
  /** The subnet the server serves, as `network/prefix` (e.g. `10.0.0.0/24`); `serverIp` must be in it. */
  subnet: string;
  /** The dynamic range, both ends included and inside the subnet. Unset: static leases only. */
  range?: { start: string; end: string };
  /** The router to send (option 3). Unset: none. */
  router?: string;
  /** DNS servers to send (option 6). Unset or empty: none. */
  dns?: readonly string[];
  /** Static leases, MAC (any case) to address; addresses outside the subnet are ignored, as dnsmasq does. */
  statics?: Readonly<Record<string, string>> | ReadonlyMap<string, string>;
  /**
   * Leases it holds already, MAC (any case) to address, each for a whole lease time from now: what dnsmasq
   * reads from its lease file when it starts again. Addresses outside the subnet are ignored.
   */
  leases?: Readonly<Record<string, string>>;
  /** Lease time in seconds. @default {3600} */
  leaseSeconds?: number;
  /** How a new client's address is chosen. @default {"dnsmasq"} */
  allocation?: DhcpAllocation;
  /** NAK requests for addresses the server has no lease for (dnsmasq's `dhcp-authoritative`). @default {false} */
  authoritative?: boolean;
}

/** A datagram for the caller's stack to send: UDP from `serverIp`:67 to `dstIp`:68 at `dstMac`. */
export interface DhcpServerReply {
  /** Destination MAC: the client's, or broadcast. */
  dstMac: string;
  /** Destination address: the offered one, the client's, or 255.255.255.255. */
  dstIp: string;
  /** Source address: the server's. */
  srcIp: string;
  /** 67. */
  srcPort: number;
  /** 68. */
  dstPort: number;
  /** IP TTL, as dnsmasq sends it. */
  ttl: number;
  /** IP TOS, as dnsmasq sends it. */
  tos: number;
  /** The DHCP message, encoded. */
  payload: Uint8Array;
  /** The same, decoded. */
  message: DhcpMessage;
}

/** A lease as {@linkcode DhcpServer.leases} lists it. */
export interface DhcpServerLease {
  /** The client's MAC, lowercase. */
  mac: string;
  /** Its address. */
  ip: string;
  /** When the lease ends, in clock ns. */
  expiresAt: number;
  /** Whether the address is the client's static one. */
  static: boolean;
}

/** Where a datagram came from, as the stack saw it. */
export interface DhcpSource {
  /** Source MAC of the frame. */
  mac: string;
  /** Source address of the packet (`0.0.0.0` before the client has one). */
  ip: string;
}

interface Lease {
  ip: number;
  expiresAt: number;
}

interface Config {
  serverIp: number;
  network: number;
  mask: number;
  prefix: number;
  range: { start: number; end: number } | undefined;
  router: string | undefined;
  dns: string[];
  statics: Map<string, number>;
  leaseSeconds: number;
  allocation: DhcpAllocation;
  authoritative: boolean;
}

/**
 * A DHCP server engine; see the module for what it copies from dnsmasq.
 */
export class DhcpServer {
  #clock: DhcpClock;
  #c: Config;
  /** By MAC: ACKed leases. */
  #leases = new Map<string, Lease>();
  /** By MAC: offered, not yet requested. */
  #offers = new Map<string, Lease>();
  /** By address: declined until. */
  #declined = new Map<number, number>();

  /**
   * @param options The configuration.
   * @throws {SyntaxError} If an address, the subnet or a MAC cannot be parsed.
   * @throws {RangeError} If the prefix is not 0-32, the server or the range is outside the subnet, the
   *   range's start is after its end, or the lease time is not a positive integer below 2^32-1.
   */
  constructor(options: DhcpServerOptions) {
    this.#clock = options.clock;
    const [net, prefixText, extra] = options.subnet.split("/");
    const prefix = Number(prefixText);
    if (extra !== undefined || !/^[0-9]{1,2}$/.test(prefixText ?? "") || prefix > 32) {
      throw new SyntaxError(
        `Cannot configure the DHCP server: subnet '${options.subnet}' is not network/prefix (0-32)`,
      );
    }
    const mask = prefix === 0 ? 0 : (0xffff_ffff << (32 - prefix)) >>> 0;
    const network = (ipv4FromString(net!) & mask) >>> 0;
    const inSubnet = (ip: number) => ((ip & mask) >>> 0) === network;
    const serverIp = ipv4FromString(options.serverIp);
    if (!inSubnet(serverIp)) {
      throw new RangeError(
        `Cannot configure the DHCP server: its address ${options.serverIp} is not in ${options.subnet}`,
      );
    }
    let range: Config["range"];
    if (options.range !== undefined) {
      const start = ipv4FromString(options.range.start);
      const end = ipv4FromString(options.range.end);
      if (!inSubnet(start) || !inSubnet(end) || start > end) {
        throw new RangeError(
          `Cannot configure the DHCP server: range ${options.range.start}-${options.range.end} is not an ascending range inside ${options.subnet}`,
        );
      }
      range = { start, end };
    }
    const leaseSeconds = options.leaseSeconds ?? DHCP_DEFAULT_LEASE_SECONDS;
    if (!(Number.isInteger(leaseSeconds) && leaseSeconds > 0 && leaseSeconds < 0xffff_ffff)) {
      throw new RangeError(
        `Cannot configure the DHCP server: 'leaseSeconds' must be a positive integer below 4294967295: current value is ${leaseSeconds}`,
      );
    }
    const statics = new Map<string, number>();
    const entries = options.statics instanceof Map
      ? [...options.statics]
      : Object.entries((options.statics ?? {}) as Record<string, string>);
    for (const [mac, ip] of entries) {
      const addr = ipv4FromString(ip);
      if (inSubnet(addr)) statics.set(normalMac(mac), addr);
    }
    if (options.router !== undefined) ipv4FromString(options.router);
    for (const d of options.dns ?? []) ipv4FromString(d);
    this.#c = {
      serverIp,
      network,
      mask,
      prefix,
      range,
      router: options.router,
      dns: [...(options.dns ?? [])],
      statics,
      leaseSeconds,
      allocation: options.allocation ?? "dnsmasq",
      authoritative: options.authoritative ?? false,
    };
    const until = this.#clock.now() + leaseSeconds * NS_PER_S;
    for (const [mac, ip] of Object.entries(options.leases ?? {})) {
      const addr = ipv4FromString(ip);
      if (inSubnet(addr)) this.#leases.set(normalMac(mac), { ip: addr, expiresAt: until });
    }
  }

  /**
   * The leases that have not expired, by address.
   *
   * @returns One entry per client.
   */
  leases(): DhcpServerLease[] {
    const now = this.#clock.now();
    const out: DhcpServerLease[] = [];
    for (const [mac, l] of this.#leases) {
      if (l.expiresAt > now) {
        out.push({
          mac,
          ip: ipv4ToString(l.ip),
          expiresAt: l.expiresAt,
          static: this.#c.statics.get(mac) === l.ip,
        });
      }
    }
    return out.sort((a, b) => ipv4FromString(a.ip) - ipv4FromString(b.ip));
  }

  /**
   * Takes a UDP payload that arrived on port 67 and answers it.
   *
   * @param payload The datagram's data.
   * @param _from Where it came from (the frame's source MAC and the packet's source address); the engine
   *   goes by the message's own `chaddr` and `ciaddr`, as dnsmasq does, and takes it for the stack's API.
   * @returns The datagrams to send: none (a message that is not a request, not for this server, or that
   *   it cannot read or answer), or one OFFER, ACK or NAK.
   */
  receive(payload: Uint8Array, _from?: DhcpSource): DhcpServerReply[] {
    let msg: DhcpMessage;
    try {
      msg = decodeDhcp(payload);
    } catch {
      return []; // dnsmasq drops what it cannot read
    }
    if (msg.op !== BOOTREQUEST || msg.htype !== 1 || msg.hlen !== 6) return [];
    if (msg.giaddr !== "0.0.0.0") return []; // relays: not supported
    const mac = msg.chaddr;
    const now = this.#clock.now();
    this.#expire(now);
    switch (msg.messageType) {
      case DHCPDISCOVER:
        return this.#discover(msg, mac, now);
      case DHCPREQUEST:
        return this.#request(msg, mac, now);
      case DHCPDECLINE:
        // only from the client that was given the address (lease or offer)
        if (msg.serverId === this.#serverIp && msg.requestedIp !== undefined) {
          const ip = ipv4FromString(msg.requestedIp);
          if (this.#leases.get(mac)?.ip === ip || this.#offers.get(mac)?.ip === ip) {
            this.#declined.set(ip, now + DHCP_DECLINE_BACKOFF_SECONDS * NS_PER_S);
            this.#leases.delete(mac);
            this.#offers.delete(mac);
          }
        }
        return [];
      case DHCPRELEASE: {
        const l = this.#leases.get(mac);
        if (msg.serverId === this.#serverIp && l !== undefined && ipv4ToString(l.ip) === msg.ciaddr) {
          this.#leases.delete(mac);
        }
        return [];
      }
      case DHCPINFORM:
        if (msg.ciaddr === "0.0.0.0" || !this.#inSubnet(ipv4FromString(msg.ciaddr!))) return [];
        return [this.#reply(msg, DHCPACK, "0.0.0.0", { dstIp: msg.ciaddr!, inform: true })];
      default:
        return [];
    }
  }

  get #serverIp(): string {
    return ipv4ToString(this.#c.serverIp);
  }

  #inSubnet(ip: number): boolean {
    return ((ip & this.#c.mask) >>> 0) === this.#c.network;
  }

  #inRange(ip: number): boolean {
    const r = this.#c.range;
    return r !== undefined && ip >= r.start && ip <= r.end;
  }

  #expire(now: number): void {
    for (const [mac, l] of this.#leases) if (l.expiresAt <= now) this.#leases.delete(mac);
    for (const [mac, l] of this.#offers) if (l.expiresAt <= now) this.#offers.delete(mac);
    for (const [ip, until] of this.#declined) if (until <= now) this.#declined.delete(ip);
  }

  /** Who holds `ip` (lease, offer or static), other than `mac`; undefined when free for `mac`. */
  #holder(ip: number, mac: string): string | undefined {
    for (const [m, l] of this.#leases) if (m !== mac && l.ip === ip) return m;
    for (const [m, l] of this.#offers) if (m !== mac && l.ip === ip) return m;
    for (const [m, s] of this.#c.statics) if (m !== mac && s === ip) return m;
    return undefined;
  }

  /** Whether a client without a static address may have `ip` from the range. */
  #available(ip: number, mac: string): boolean {
    return this.#inRange(ip) && ip !== this.#c.serverIp && !this.#declined.has(ip) &&
      this.#holder(ip, mac) === undefined;
  }

  #allocate(mac: string): number | undefined {
    const r = this.#c.range;
    if (r === undefined) return undefined;
    const size = r.end - r.start + 1;
    let offset = 0;
    if (this.#c.allocation === "dnsmasq") {
      let j = 0;
      for (const b of macBytes(mac)) j = (b + (j << 6) + (j << 16) - j) >>> 0;
      if (j === 0) j = 1;
      offset = j % size;
    }
    for (let k = 0; k < size; k++) {
      const ip = r.start + (offset + k) % size;
      const last = ip & 0xff;
      const classC = ip >>> 29 === 0b110;
      if (classC && (last === 0 || last === 0xff)) continue;
      if (this.#available(ip, mac)) return ip;
    }
    return undefined;
  }

  /** The address `mac` should have now: static, leased, offered; undefined when none is set. */
  #current(mac: string): number | undefined {
    return this.#c.statics.get(mac) ?? this.#leases.get(mac)?.ip ?? this.#offers.get(mac)?.ip;
  }

  #discover(msg: DhcpMessage, mac: string, now: number): DhcpServerReply[] {
    let ip = this.#current(mac);
    if (ip !== undefined && this.#c.statics.get(mac) === undefined && !this.#available(ip, mac)) {
      ip = undefined;
    }
    if (ip === undefined && msg.requestedIp !== undefined) {
      const want = ipv4FromString(msg.requestedIp);
      if (this.#available(want, mac)) ip = want;
    }
    ip ??= this.#allocate(mac);
    if (ip === undefined) return []; // dnsmasq: "no address available"
    this.#offers.set(mac, { ip, expiresAt: now + DHCP_OFFER_HOLD_SECONDS * NS_PER_S });
    return [this.#reply(msg, DHCPOFFER, ipv4ToString(ip))];
  }

  #request(msg: DhcpMessage, mac: string, now: number): DhcpServerReply[] {
    const ciaddr = msg.ciaddr ?? "0.0.0.0";
    const wanted = msg.requestedIp ?? (ciaddr !== "0.0.0.0" ? ciaddr : undefined);
    if (wanted === undefined) return [];
    const ip = ipv4FromString(wanted);
    const statik = this.#c.statics.get(mac);
    if (msg.serverId !== undefined) {
      // SELECTING: an answer to an offer
      if (msg.serverId !== this.#serverIp) {
        this.#offers.delete(mac); // the client took another server's offer
        return [];
      }
      if (!this.#inSubnet(ip)) return [this.#nak(msg, "wrong network")];
      if (statik !== undefined && statik !== ip) return [this.#nak(msg, "wrong address")];
      if (statik === undefined && !this.#available(ip, mac)) {
        return [
          this.#nak(msg, this.#holder(ip, mac) !== undefined ? "address in use" : "address not available"),
        ];
      }
      return [this.#ack(msg, mac, ip, now)];
    }
    // INIT-REBOOT (option 50, no ciaddr), RENEWING or REBINDING (ciaddr)
    const lease = this.#leases.get(mac);
    if (lease === undefined && statik === undefined && !this.#c.authoritative) return [];
    if (!this.#inSubnet(ip)) return [this.#nak(msg, "wrong network")];
    const mine = statik ?? lease?.ip;
    if (mine !== undefined) {
      return mine === ip ? [this.#ack(msg, mac, ip, now)] : [this.#nak(msg, "wrong address")];
    }
    if (!this.#available(ip, mac)) return [this.#nak(msg, "address not available")];
    return [this.#ack(msg, mac, ip, now)];
  }

  #ack(msg: DhcpMessage, mac: string, ip: number, now: number): DhcpServerReply {
    this.#offers.delete(mac);
    this.#leases.set(mac, { ip, expiresAt: now + this.#c.leaseSeconds * NS_PER_S });
    // RENEWING or REBINDING: the client has its address, the answer goes to it (RFC 2131 4.1)
    const ciaddr = msg.ciaddr ?? "0.0.0.0";
    return this.#reply(msg, DHCPACK, ipv4ToString(ip), ciaddr === "0.0.0.0" ? {} : { dstIp: ciaddr });
  }

  #nak(msg: DhcpMessage, reason: string): DhcpServerReply {
    const message: DhcpMessage = {
      op: BOOTREPLY,
      xid: msg.xid,
      secs: msg.secs ?? 0,
      flags: (msg.flags ?? 0) | DHCP_FLAG_BROADCAST,
      chaddr: msg.chaddr,
      messageType: DHCPNAK,
      serverId: this.#serverIp,
      message: reason,
    };
    return this.#datagram(message, BROADCAST_MAC, BROADCAST_IP);
  }

  #reply(
    msg: DhcpMessage,
    type: number,
    yiaddr: string,
    how: { dstIp?: string; inform?: boolean } = {},
  ): DhcpServerReply {
    const c = this.#c;
    const message: DhcpMessage = {
      op: BOOTREPLY,
      xid: msg.xid,
      secs: msg.secs ?? 0,
      flags: msg.flags ?? 0,
      ciaddr: msg.ciaddr ?? "0.0.0.0",
      yiaddr,
      siaddr: this.#serverIp,
      chaddr: msg.chaddr,
      messageType: type,
      serverId: this.#serverIp,
    };
    if (how.inform !== true) {
      message.leaseSeconds = c.leaseSeconds;
      message.renewalSeconds = Math.floor(c.leaseSeconds / 2);
      message.rebindingSeconds = Math.floor(c.leaseSeconds * 7 / 8);
    }
    message.subnetMask = ipv4ToString(c.mask);
    message.broadcastAddress = ipv4ToString((c.network | ~c.mask) >>> 0);
    if (c.dns.length > 0) message.dnsServers = [...c.dns];
    if (c.router !== undefined) message.routers = [c.router];
    if (how.dstIp !== undefined) return this.#datagram(message, msg.chaddr, how.dstIp);
    const broadcast = ((msg.flags ?? 0) & DHCP_FLAG_BROADCAST) !== 0;
    return broadcast
      ? this.#datagram(message, BROADCAST_MAC, BROADCAST_IP)
      : this.#datagram(message, msg.chaddr, yiaddr);
  }

  #datagram(message: DhcpMessage, dstMac: string, dstIp: string): DhcpServerReply {
    return {
      dstMac,
      dstIp,
      srcIp: this.#serverIp,
      srcPort: DHCP_SERVER_PORT,
      dstPort: DHCP_CLIENT_PORT,
      ttl: DHCP_SERVER_TTL,
      tos: DHCP_SERVER_TOS,
      payload: encodeDhcp(message),
      message,
    };
  }
}

function normalMac(mac: string): string {
  const parts = mac.toLowerCase().split(/[:-]/);
  if (parts.length !== 6 || !parts.every((p) => /^[0-9a-f]{2}$/.test(p))) {
    throw new SyntaxError(`Cannot configure the DHCP server: static lease MAC '${mac}' is not six hex bytes`);
  }
  return parts.join(":");
}

function macBytes(mac: string): number[] {
  return mac.split(":").map((p) => parseInt(p, 16));
}
