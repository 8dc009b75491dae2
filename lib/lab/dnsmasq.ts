// Runtime-neutral.
/**
 * The dnsmasq room: minimega's `dnsmasq` command, a DHCP and DNS server on a host tap. A server listens
 * on an address of one of the lab's host taps and hands out a range of its subnet; `dnsmasq configure`
 * adds static leases, DNS names, upstream servers and DHCP options, each applied at once (minimega's
 * dnsmasq rereads its directories). Servers are the lab's, not a namespace's (minimega's are the host's),
 * numbered from 0, never reused; `clear all`, or deleting the tap, stops them.
 *
 * Unlike minimega, a server that cannot start is an error saying why (minimega's row just vanishes), and
 * the listen address must be one of the lab's host taps' and the range in its subnet.
 *
 * @module
 */

import type { ServicesBackend, TapServices } from "../backend/services.ts";
import { NO_SERVICES } from "../backend/services.ts";
import { LabError } from "../errors.ts";
import { isMac, normalizeMac } from "../mac.ts";
import type { Journal } from "./_journal.ts";
import type { DnsmasqRecord, TapRecord } from "./records.ts";
import { inSubnet, ipv4Number, isIpv4, subnetOf } from "./router_config.ts";

/** The lab's dnsmasq servers. */
export class DnsmasqRoom {
  #journal: Journal;
  #backend: Partial<ServicesBackend>;
  #servers = new Map<number, DnsmasqRecord>();
  /** The next server's id. */
  nextId = 0;

  /** Makes the room. */
  constructor(journal: Journal, backend: Partial<ServicesBackend>) {
    this.#journal = journal;
    this.#backend = backend;
  }

  /** The servers, by id. */
  list(): DnsmasqRecord[] {
    return [...this.#servers.values()].sort((a, b) => a.id - b.id);
  }

  #put(server: DnsmasqRecord): void {
    const before = this.#servers.get(server.id);
    this.#servers.set(server.id, server);
    this.#journal.record(() =>
      before === undefined ? this.#servers.delete(server.id) : this.#servers.set(server.id, before)
    );
  }

  /** What the backend serves for a server. */
  static services(server: DnsmasqRecord): TapServices {
    const subnet = (() => {
      if (server.listen === "") return "";
      const { network, prefix } = subnetOf(server.cidr);
      return `${[24, 16, 8, 0].map((s) => (network >>> s) & 255).join(".")}/${prefix}`;
    })();
    return {
      dhcp: server.listen === "" ? [] : [{
        listen: server.listen,
        nic: 0,
        subnet,
        serverIp: server.listen,
        range: { low: server.low, high: server.high },
        router: "",
        dns: "",
        statics: server.statics,
      }],
      dns: Object.entries(server.hostnames).map(([ip, host]) => ({ host, ips: [ip] })),
      upstream: server.upstreams[0] ?? "",
      options: server.options,
      configFile: server.config,
    };
  }

  async #apply(server: DnsmasqRecord, before: DnsmasqRecord | undefined): Promise<DnsmasqRecord> {
    const set = this.#backend.setTapServices?.bind(this.#backend);
    if (set === undefined) throw new LabError("unsupported", "Cannot start dnsmasq on this backend");
    const where = await set(server.bridge, server.tap, DnsmasqRoom.services(server));
    this.#journal.compensate(
      `dnsmasq ${server.id}`,
      () =>
        set(
          server.bridge,
          server.tap,
          before === undefined
            ? { ...NO_SERVICES, options: [], configFile: "" }
            : DnsmasqRoom.services(before),
        ),
    );
    const applied = { ...server, path: where.path, pid: where.pid };
    this.#put(applied);
    return applied;
  }

  /**
   * Starts a server (`dnsmasq start <listen> <low> <high> [config]`, or with a configuration only).
   *
   * @throws {LabError} For a listen address that is none of the host taps', a range outside its subnet,
   * or what the backend says when the server cannot start.
   */
  async start(
    taps: readonly TapRecord[],
    listen: string,
    low: string,
    high: string,
    config: string,
  ): Promise<DnsmasqRecord> {
    let tap: TapRecord | undefined;
    let cidr = "";
    if (listen !== "") {
      for (const address of [listen, low, high]) {
        if (!isIpv4(address)) {
          throw new LabError("invalid-address", `Cannot start dnsmasq: '${address}' is not an IPv4 address`);
        }
      }
      for (const t of taps) {
        const hit = t.ips.find((ip) => ip.split("/")[0] === listen);
        if (hit !== undefined) [tap, cidr] = [t, hit];
      }
      if (tap === undefined) {
        throw new LabError(
          "invalid-address",
          `Cannot start dnsmasq on ${listen}: no host tap of this lab has that address (tap create <vlan> ip ${listen}/24 first)`,
        );
      }
      if (!inSubnet(low, cidr) || !inSubnet(high, cidr) || ipv4Number(low) > ipv4Number(high)) {
        throw new LabError(
          "invalid-address",
          `Cannot start dnsmasq: the range ${low} to ${high} is not in ${cidr}'s subnet, low to high`,
        );
      }
    } else {
      // a configuration only: it must say where to listen; the first host tap carries it
      tap = taps[0];
      if (tap === undefined) {
        throw new LabError(
          "invalid-argument",
          "Cannot start dnsmasq from a configuration: the lab has no host tap",
        );
      }
    }
    const server: DnsmasqRecord = {
      id: this.nextId,
      listen,
      low,
      high,
      config,
      tap: tap.name,
      bridge: tap.bridge,
      cidr,
      statics: {},
      hostnames: {},
      upstreams: [],
      options: [],
      path: "",
      pid: -1,
    };
    const applied = await this.#apply(server, undefined);
    const next = this.nextId;
    this.nextId++;
    this.#journal.record(() => this.nextId = next);
    return applied;
  }

  /** The servers an id names (`all`, or a number). @throws {LabError} `invalid dnsmasq ID`. */
  targets(id: string): DnsmasqRecord[] {
    if (id === "all") return this.list();
    const server = /^\d+$/.test(id) ? this.#servers.get(Number(id)) : undefined;
    if (server === undefined) throw new LabError("invalid-argument", "invalid dnsmasq ID");
    return [server];
  }

  /** Changes servers' settings and applies them (`dnsmasq configure`). */
  async configure(id: string, change: (server: DnsmasqRecord) => DnsmasqRecord): Promise<void> {
    for (const server of this.targets(id)) await this.#apply(change(server), server);
  }

  /** Stops a server, or all (`dnsmasq kill <id|all>`). @throws {LabError} minimega's Atoi error, `invalid id`. */
  async kill(id: string): Promise<void> {
    if (id !== "all" && !/^\d+$/.test(id)) {
      throw new LabError("invalid-argument", `strconv.Atoi: parsing ${JSON.stringify(id)}: invalid syntax`);
    }
    const servers = id === "all" ? this.list() : [this.#servers.get(Number(id))];
    if (servers[0] === undefined && id !== "all") throw new LabError("invalid-argument", "invalid id");
    for (const server of servers) if (server !== undefined) await this.#stop(server);
  }

  /** Stops the servers on a tap (it is about to go). */
  async stopOn(tap: string): Promise<void> {
    for (const server of this.list()) if (server.tap === tap) await this.#stop(server);
  }

  async #stop(server: DnsmasqRecord): Promise<void> {
    const set = this.#backend.setTapServices?.bind(this.#backend);
    await set?.(server.bridge, server.tap, { ...NO_SERVICES, options: [], configFile: "" });
    if (set !== undefined) {
      this.#journal.compensate(
        `dnsmasq ${server.id}`,
        () => set(server.bridge, server.tap, DnsmasqRoom.services(server)),
      );
    }
    this.#servers.delete(server.id);
    this.#journal.record(() => this.#servers.set(server.id, server));
  }

  /**
   * Starts every server again in a backend that keeps nothing between processes (the simulator), with
   * what the lab's NICs and taps hold (`held`) as its leases.
   */
  async realise(held: readonly { readonly mac: string; readonly ip: string }[] = []): Promise<void> {
    const set = this.#backend.setTapServices?.bind(this.#backend);
    if (set === undefined) return;
    for (const server of this.list()) {
      await set(server.bridge, server.tap, { ...DnsmasqRoom.services(server), held });
    }
  }

  /** Restores the room (loading a lab). */
  load(servers: readonly DnsmasqRecord[], nextId: number): void {
    this.#servers = new Map(servers.map((s) => [s.id, s]));
    this.nextId = nextId;
  }
}

/** `dnsmasq configure <id> ip <mac> <ip>`: a static lease. @throws {LabError} For a bad MAC or address. */
export function withStatic(server: DnsmasqRecord, mac: string, ip: string): DnsmasqRecord {
  if (!isMac(mac)) {
    throw new LabError("invalid-mac", `Cannot use MAC '${mac}' for a static lease: it is not a MAC`);
  }
  if (!isIpv4(ip)) {
    throw new LabError("invalid-address", `Cannot use '${ip}' for a static lease: it is not an IPv4 address`);
  }
  return { ...server, statics: { ...server.statics, [normalizeMac(mac)]: ip } };
}

/** `dnsmasq configure <id> dns <ip> <hostname>`: one name per address, the last wins (minimega's). */
export function withHostname(server: DnsmasqRecord, ip: string, host: string): DnsmasqRecord {
  if (!isIpv4(ip)) {
    throw new LabError("invalid-address", `Cannot use '${ip}' for a DNS name: it is not an IPv4 address`);
  }
  if (!/^[A-Za-z0-9_](?:[A-Za-z0-9_.-]{0,251}[A-Za-z0-9_.])?$/.test(host)) {
    throw new LabError("invalid-argument", `Cannot use host name '${host}': it is not a DNS name`);
  }
  return { ...server, hostnames: { ...server.hostnames, [ip]: host } };
}

/** `dnsmasq configure <id> dns upstream server <ip>`. */
export function withUpstream(server: DnsmasqRecord, ip: string): DnsmasqRecord {
  if (!isIpv4(ip)) {
    throw new LabError("invalid-address", `Cannot use upstream server '${ip}': it is not an IPv4 address`);
  }
  return { ...server, upstreams: [...server.upstreams, ip] };
}

/** `dnsmasq configure <id> options <option>`: a DHCP option, as dnsmasq writes them. */
export function withOption(server: DnsmasqRecord, option: string): DnsmasqRecord {
  if (!/^[A-Za-z0-9:,._-]+$/.test(option)) {
    throw new LabError(
      "invalid-argument",
      `Cannot use DHCP option '${option}': expected dnsmasq's form, like option:dns-server,10.0.0.1`,
    );
  }
  return { ...server, options: [...server.options, option] };
}
