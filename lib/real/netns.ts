/**
 * Lightweight VMs as Linux network namespaces: the network half of minimega's containers. A namespace
 * gets a veth pair whose host end goes on a bridge and whose other end is the VM's NIC, with its MAC and
 * its addresses. Every command goes through {@linkcode createExec}; NICs are plugged in batches
 * ({@linkcode IpBatch}), so 200 container VMs cost a few `ip` processes, one `ethtool` per NIC and one
 * `ip` per namespace, not a dozen processes per NIC.
 *
 * labwire's endpoints (container NICs, host taps) are IPv4 hosts like the simulator's
 * ({@linkcode quietEndpoint}): no IPv6 autoconfiguration (no router solicitations, duplicate-address
 * probes or MLD reports on the lab's wires), and neighbour entries are not re-probed while a lab lives,
 * so a lab's captures hold the frames of its traffic and nothing the kernel adds on a timer of its own.
 * Transmit checksum offload is off inside (TCP through Open vSwitch's userspace datapath stalls without
 * that: recipes/environment.md 2.2).
 *
 * @module
 */

import { randomInt } from "node:crypto";
import { PING_INTERVAL_MS, PING_WAIT_MS, type PingReport } from "../backend/endpoints.ts";
import { type Cmd, createExec, ExecError, which } from "../exec.ts";
import { IpBatch } from "./ip.ts";

/** Options for {@linkcode Netns}. */
export interface NetnsOptions {
  /** Runs programs. @default {createExec()} */
  exec?: (program: string) => Cmd;
}

/** What `ping` in a namespace counted. */
export interface NetnsPingResult {
  /** Echo requests sent. */
  readonly sent: number;
  /** Echo replies received. */
  readonly received: number;
}

/** An IPv4 address of an interface, as {@linkcode Netns.addresses} reads it. */
export interface InterfaceAddress {
  /** The address, `10.0.0.1`. */
  readonly address: string;
  /** Its prefix length, `24`. */
  readonly prefixLength: number;
}

/** A container NIC to plug with {@linkcode Netns.plug}. */
export interface VethNic {
  /** The host end's name: the port that goes on a bridge, e.g. `mega_tap3`. */
  readonly hostEnd: string;
  /** The namespace of the VM; made when it does not exist. */
  readonly namespace: string;
  /** The NIC's name inside, e.g. `veth0`. */
  readonly ifname: string;
  /** The NIC's MAC. */
  readonly mac: string;
}

/** Options for {@linkcode Netns.plug}. */
export interface PlugOptions {
  /**
   * Turn transmit checksum offload off on the NICs (`ethtool -K IF tx off`): needed where Open vSwitch
   * forwards in userspace (the netdev datapath). @default {true}
   */
  checksumOffloadOff?: boolean;
}

/** How long a neighbour entry stays valid, and waits before a re-probe, on labwire's endpoints: a day. */
export const ENDPOINT_NEIGHBOUR_MS = 86_400_000;

/**
 * The link groups {@linkcode Netns.unplug} puts links in to delete them together: `0x6c000000` plus a
 * random 24-bit number, far from the groups people number by hand (0 is every link's default).
 */
const LINK_GROUP_BASE = 0x6c00_0000;

/** How many `ip` processes {@linkcode Netns.plug} runs at once. */
const CONCURRENCY = 4;

/**
 * Reads ping(8)'s summary line: `3 packets transmitted, 2 received, ...`. {@linkcode parsePingOutput}
 * reads the rest of what ping printed too.
 *
 * @throws {SyntaxError} If the output has no summary line.
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { parsePingSummary } from "labwire/ovs";
 * assert.deepEqual(parsePingSummary("3 packets transmitted, 2 received, 33% packet loss, time 2003ms"), {
 *   sent: 3,
 *   received: 2,
 * });
 * ```
 */
export function parsePingSummary(output: string): NetnsPingResult {
  const m = /(\d+) packets transmitted, (\d+) (?:packets )?received/.exec(output);
  if (m === null) {
    throw new SyntaxError(`Cannot read ping's summary: no 'packets transmitted' line in: ${output.trim()}`);
  }
  return { sent: Number(m[1]), received: Number(m[2]) };
}

/** The report of a ping that sent nothing: no route to the address (`connect: Network is unreachable`). */
export function networkUnreachableReport(): PingReport {
  return { sent: 0, received: 0, errors: 0, rttMs: [], networkUnreachable: true };
}

/**
 * Reads everything ping(8) printed (iputils or busybox, standard output and error together) as a
 * {@linkcode PingReport}: the summary's counts and `+N errors` (echo requests answered by "Destination
 * Host Unreachable"), the round trip of each reply line (`time=0.265 ms`) in order, duplicates
 * (`(DUP!)`) left out as the summary leaves them out; and `connect: Network is unreachable`, which
 * ping prints instead of a summary when it has no route (exit code 2), as `networkUnreachable`.
 *
 * @param output What ping printed, both streams.
 * @returns The report.
 * @throws {SyntaxError} If the output has neither a summary line nor ping's "Network is unreachable".
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { parsePingOutput } from "labwire/ovs";
 * const out = "64 bytes from 10.0.0.2: icmp_seq=1 ttl=64 time=0.265 ms\n" +
 *   "2 packets transmitted, 1 received, +1 errors, 50% packet loss, time 201ms\n";
 * assert.deepEqual(parsePingOutput(out), {
 *   sent: 2,
 *   received: 1,
 *   errors: 1,
 *   rttMs: [0.265],
 *   networkUnreachable: false,
 * });
 * assert.equal(parsePingOutput("ping: connect: Network is unreachable\n").networkUnreachable, true);
 * ```
 */
export function parsePingOutput(output: string): PingReport {
  if (!/packets transmitted/.test(output) && /connect: Network is unreachable/.test(output)) {
    return networkUnreachableReport();
  }
  const { sent, received } = parsePingSummary(output);
  const errors = /\+(\d+) errors?\b/.exec(output);
  const rttMs: number[] = [];
  for (const line of output.split("\n")) {
    if (line.includes("(DUP!)")) continue;
    const m = /\btime=(\d+(?:\.\d+)?) ?ms\b/.exec(line);
    if (m !== null) rttMs.push(Number(m[1]));
  }
  return {
    sent,
    received,
    errors: errors === null ? 0 : Number(errors[1]),
    rttMs,
    networkUnreachable: false,
  };
}

/**
 * The arguments of labwire's `ping` after the program name: `count` echo requests
 * {@linkcode PING_INTERVAL_MS} apart, waiting {@linkcode PING_WAIT_MS} after the last when nothing
 * answers, from the interface `from` when given.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { pingArgs } from "labwire/ovs";
 * assert.deepEqual(pingArgs("10.0.0.2", 3), ["-n", "-c", "3", "-i", "0.2", "-W", "2.5", "10.0.0.2"]);
 * ```
 */
export function pingArgs(ip: string, count: number, from?: string): string[] {
  return [
    "-n",
    ...(from === undefined ? [] : ["-I", from]),
    "-c",
    String(count),
    "-i",
    String(PING_INTERVAL_MS / 1000),
    "-W",
    String(PING_WAIT_MS / 1000),
    ip,
  ];
}

/** How long a ping of `count` requests may take, with room for a loaded machine. */
export function pingTimeoutMs(count: number): number {
  return 10_000 + count * PING_INTERVAL_MS * 2 + PING_WAIT_MS;
}

/**
 * Adds the lines that make an interface one of labwire's quiet IPv4 endpoints to a batch run in the
 * interface's namespace: no IPv6 autoconfiguration (`addrgenmode none`, set before the link comes up)
 * and no neighbour re-probing for {@linkcode ENDPOINT_NEIGHBOUR_MS} (`ntable change ... delay_probe
 * base_reachable`), as the simulator's hosts behave.
 */
export function quietEndpoint(batch: IpBatch, ifname: string): IpBatch {
  const ms = String(ENDPOINT_NEIGHBOUR_MS);
  return batch
    .add("link", "set", "dev", ifname, "addrgenmode", "none")
    .add("ntable", "change", "name", "arp_cache", "dev", ifname, "delay_probe", ms, "base_reachable", ms);
}

/** Runs `fn` on every item, at most `limit` at a time; rejects with the first error once all settled. */
async function inParallel<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const errors: unknown[] = [];
  async function worker(): Promise<void> {
    while (next < items.length) {
      const item = items[next++]!;
      try {
        await fn(item);
      } catch (error) {
        errors.push(error);
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (errors.length > 0) throw errors[0];
}

/** Network namespaces and the veth pairs that join them to bridges. */
export class Netns {
  #exec: (program: string) => Cmd;

  /** Makes a manager that runs `ip`, `ethtool` and `ping` through `exec`. */
  constructor(options: NetnsOptions = {}) {
    this.#exec = options.exec ?? createExec();
  }

  /** The namespaces that exist. */
  async list(): Promise<string[]> {
    const out = await this.#exec("ip").args("netns", "list").text();
    return out.split("\n").map((l) => l.split(" ")[0]!).filter((n) => n !== "");
  }

  /** Creates a namespace with its loopback up. */
  async create(name: string): Promise<void> {
    await this.#exec("ip").args("netns", "add", name).run();
    await new IpBatch({ exec: this.#exec, namespace: name }).add("link", "set", "dev", "lo", "up").run();
  }

  /** Deletes a namespace; the ends of veth pairs inside it go with it. */
  async delete(name: string): Promise<void> {
    await this.#exec("ip").args("netns", "delete", name).run();
  }

  /**
   * Makes a veth pair: `hostEnd` stays in the host (for a bridge), `nsEnd` goes into the namespace with
   * the MAC given, both up, a quiet endpoint with transmit checksum offload off. The namespace is made
   * if it does not exist.
   */
  async addVeth(hostEnd: string, namespace: string, nsEnd: string, mac: string): Promise<void> {
    await this.plug([{ hostEnd, namespace, ifname: nsEnd, mac }]);
  }

  /**
   * Plugs container NICs, whatever their number, in two steps. One `ip -batch` makes the namespaces that
   * are missing and the veth pairs, each inside end made in its namespace with its MAC (moving a device
   * between namespaces costs the kernel about 20 ms; making it there costs nothing), the host ends up
   * without IPv6, and turns transmit checksum offload off inside (`netns exec NS ethtool`). Then one
   * `ip -n NS -batch` per namespace, a few at a time, brings its loopback and NICs up as quiet endpoints
   * ({@linkcode quietEndpoint}). All or nothing: when a step fails, the pairs and the namespaces this
   * call made are removed again.
   *
   * @returns The namespaces this call made.
   * @throws {Error} `Cannot plug container NICs: ethtool is not installed ...` when offload must go off.
   * @throws {IpBatchError} Naming the `ip` (or `ethtool`) command that failed.
   */
  async plug(nics: readonly VethNic[], options: PlugOptions = {}): Promise<string[]> {
    if (nics.length === 0) return [];
    const { checksumOffloadOff = true } = options;
    if (checksumOffloadOff && which("ethtool") === undefined) {
      throw new Error(
        "Cannot plug container NICs: ethtool is not installed, and TCP through Open vSwitch's userspace " +
          "datapath stalls without it (apt-get install ethtool)",
      );
    }
    const existing = new Set(await this.list());
    const created = [...new Set(nics.map((n) => n.namespace))].filter((ns) => !existing.has(ns));
    const made = new IpBatch({ exec: this.#exec });
    for (const ns of created) made.add("netns", "add", ns);
    for (const nic of nics) {
      made.add(
        "link",
        "add",
        nic.hostEnd,
        "type",
        "veth",
        "peer",
        "name",
        nic.ifname,
        "netns",
        nic.namespace,
        "address",
        nic.mac,
      )
        .add("link", "set", "dev", nic.hostEnd, "addrgenmode", "none")
        .add("link", "set", "dev", nic.hostEnd, "up");
      if (checksumOffloadOff) {
        made.add("netns", "exec", nic.namespace, "ethtool", "-K", nic.ifname, "tx", "off");
      }
    }
    try {
      await made.run();
      const byNamespace = Map.groupBy(nics, (nic) => nic.namespace);
      await inParallel([...byNamespace], CONCURRENCY, async ([ns, inside]) => {
        const batch = new IpBatch({ exec: this.#exec, namespace: ns });
        if (created.includes(ns)) batch.add("link", "set", "dev", "lo", "up");
        for (const nic of inside) {
          quietEndpoint(batch, nic.ifname).add("link", "set", "dev", nic.ifname, "up");
        }
        await batch.run();
      });
    } catch (error) {
      await this.unplug(nics.map((n) => n.hostEnd), created).catch(() => {});
      throw error;
    }
    return created;
  }

  /**
   * Removes links (veth host ends, with their pairs; taps) and then namespaces, in one `ip -force -batch`:
   * the links join a link group of their own and go with one `ip link delete group` (the kernel removes
   * them together, instead of spending about 20 ms on each), and what is gone already is not an error.
   *
   * @throws {IpBatchError} For a failure other than a missing device or namespace.
   */
  async unplug(links: readonly string[], namespaces: readonly string[] = []): Promise<void> {
    const batch = new IpBatch({ exec: this.#exec, force: true });
    if (links.length > 0) {
      const group = String(LINK_GROUP_BASE + randomInt(0x100_0000));
      for (const link of links) batch.add("link", "set", "dev", link, "group", group);
      batch.add("link", "delete", "group", group);
    }
    for (const ns of namespaces) batch.add("netns", "delete", ns);
    try {
      await batch.run();
    } catch (error) {
      const real = (error as { failures?: { message: string }[] }).failures?.filter((f) =>
        !/Cannot find device|No such device|No such file or directory|does not exist/.test(f.message)
      );
      if (real === undefined || real.length > 0) throw error;
    }
  }

  /** Deletes the host end of a veth pair (and so the pair); no error when it is gone. */
  async deleteLink(hostEnd: string): Promise<void> {
    await this.unplug([hostEnd]);
  }

  /** Gives an interface inside a namespace an IPv4 address (`10.0.0.1/24`); one it has is no error. */
  async addAddress(namespace: string, ifname: string, cidr: string): Promise<void> {
    await new IpBatch({ exec: this.#exec, namespace }).add("addr", "replace", cidr, "dev", ifname).run();
  }

  /**
   * Pings from inside a namespace as labwire's `ping` does ({@linkcode pingArgs}). A ping nothing
   * answered leaves no neighbour entry for the address behind (`ip neigh flush to IP`), so a later ping
   * starts afresh, as on the simulator.
   */
  async ping(namespace: string, ip: string, count: number): Promise<NetnsPingResult> {
    const r = await this.#exec("ip").args("netns", "exec", namespace, "ping", ...pingArgs(ip, count))
      .timeout(pingTimeoutMs(count)).noThrow().run();
    const result = parsePingSummary(r.stdout);
    if (result.received === 0) {
      await new IpBatch({ exec: this.#exec, namespace }).add("neigh", "flush", "to", ip).run();
    }
    return result;
  }

  /**
   * Pings from one NIC inside a namespace as labwire's `ping` does ({@linkcode pingArgs}), reaching only
   * what that NIC routes to, as each NIC is a host of its own on the simulator. One `ip route get` asks
   * the namespace's routes first: no route (`Network is unreachable`), or a route through another of
   * the namespace's interfaces, means nothing is sent and the report says `networkUnreachable`; the
   * namespace's own address counts as this NIC's only when this NIC holds it. A ping nothing answered
   * leaves no neighbour entry behind (`ip neigh flush to IP`), as on the simulator.
   *
   * @param namespace The namespace.
   * @param ifname The NIC inside it.
   * @param ip The IPv4 address to ping.
   * @param count How many echo requests.
   * @returns What ping saw ({@linkcode parsePingOutput}).
   * @throws {ExecError} When `ip route get` fails for another reason (the namespace is gone).
   */
  async pingFrom(namespace: string, ifname: string, ip: string, count: number): Promise<PingReport> {
    if (!(await this.#routesVia(namespace, ifname, ip))) return networkUnreachableReport();
    const r = await this.#exec("ip").args("netns", "exec", namespace, "ping", ...pingArgs(ip, count))
      .timeout(pingTimeoutMs(count)).noThrow().run();
    const report = parsePingOutput(`${r.stdout}\n${r.stderr}`);
    if (!report.networkUnreachable && report.received === 0) {
      await new IpBatch({ exec: this.#exec, namespace }).add("neigh", "flush", "to", ip).run();
    }
    return report;
  }

  /** Whether the namespace routes `ip` through `ifname` (`ip -n NS -4 -j route get IP`). */
  async #routesVia(namespace: string, ifname: string, ip: string): Promise<boolean> {
    const argv = ["-n", namespace, "-4", "-j", "route", "get", ip];
    const r = await this.#exec("ip").args(...argv).noThrow().run();
    if (r.code !== 0) {
      if (/Network is unreachable/.test(r.stderr)) return false;
      throw new ExecError({ argv: ["ip", ...argv], code: r.code, stdout: r.stdout, stderr: r.stderr });
    }
    const route = (JSON.parse(r.stdout) as { type?: string; dev?: string }[])[0];
    if (route === undefined) return false;
    if (route.type !== "local") return route.dev === ifname;
    // one of the namespace's own addresses (routed through lo): this NIC's if it holds it
    return (await this.addresses(namespace, ifname)).some((a) => a.address === ip);
  }

  /**
   * The IPv4 addresses of an interface (`ip -4 -j addr show dev IF`), in a namespace or, with
   * `namespace` undefined, in the host.
   */
  async addresses(namespace: string | undefined, ifname: string): Promise<InterfaceAddress[]> {
    const out = await this.#exec("ip").args(
      ...(namespace === undefined ? [] : ["-n", namespace]),
      "-4",
      "-j",
      "addr",
      "show",
      "dev",
      ifname,
    ).text();
    const links = JSON.parse(out === "" ? "[]" : out) as {
      addr_info?: { family?: string; local?: string; prefixlen?: number }[];
    }[];
    return links.flatMap((link) => link.addr_info ?? [])
      .filter((a) => a.family === "inet" && a.local !== undefined && a.prefixlen !== undefined)
      .map((a) => ({ address: a.local!, prefixLength: a.prefixlen! }));
  }
}
