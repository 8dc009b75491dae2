// Runtime-neutral.
/**
 * minimega's router configuration (`router <vm> ...`), as plain data: what each subcommand stores, with
 * minimega's error texts; the summary `router <vm>` prints (`Router.String()`, exactly); and the plan a
 * commit hands the backend: the addresses of each NIC, forwarding, routes, the default gateway, DHCP
 * servers and DNS records. minimega's in-VM agent (minirouter) applies the committed file; labwire applies
 * the plan itself (docs/routing.md).
 *
 * Every edit returns a new configuration and leaves the one given alone, so that a failed command changes
 * nothing. labwire checks what minimega stores unchecked (DHCP addresses, DNS records, gateways, routes):
 * the syntax at once, and whether it fits the interfaces at commit, when they are all known
 * (docs/compat.md).
 *
 * @module
 */

import { LabError } from "../errors.ts";
import { isMac, normalizeMac } from "../mac.ts";

/** A DHCP server of a router, by listen address (`router <vm> dhcp <listen> ...`). */
export interface RouterDhcp {
  /** The first address of the range, or "". */
  readonly low: string;
  /** The last address of the range, or "". */
  readonly high: string;
  /** The router option, or "". */
  readonly router: string;
  /** The DNS server option, or "". */
  readonly dns: string;
  /** Static leases: MAC (lower-case colons) to address. */
  readonly statics: Readonly<Record<string, string>>;
}

/** A firewall rule of a router (`router <vm> fw ...`). */
export interface RouterFwRule {
  /** `accept`, `drop`, `reject`, or the name of the chain it jumps to (`fw chain C apply`). */
  readonly action: string;
  /** `ip` or `ip:port`, or "" for any. */
  readonly src: string;
  /** `ip` or `ip:port`, or "" for any. */
  readonly dst: string;
  /** `tcp`, `udp`, `icmp`, ..., or "" for any. */
  readonly proto: string;
}

/** A firewall rule on one NIC, in or out. */
export interface RouterNicRule extends RouterFwRule {
  /** The NIC. */
  readonly nic: number;
  /** Traffic coming in through the NIC, or going out through it. */
  readonly direction: "in" | "out";
}

/** A router's firewall: minimega's default `accept`, rules per NIC, chains. */
export interface RouterFw {
  /** The default action for forwarded traffic. */
  readonly default: "accept" | "drop";
  /** Rules on NICs, in the order given. */
  readonly rules: readonly RouterNicRule[];
  /** Chains by name: their rules and their default. */
  readonly chains: Readonly<
    Record<string, { readonly default: string; readonly rules: readonly RouterFwRule[] }>
  >;
}

/** What `router <vm> ...` configured, as minimega's `Router` holds it. */
export interface RouterConfig {
  /** The addresses (`a.b.c.d/n` or `dhcp`) of each NIC; as many NICs as the VM had when the router was made. */
  readonly nics: readonly (readonly string[])[];
  /** Loopback addresses by the index given with them (`interface <n> <ip> lo`). */
  readonly loopbacks: Readonly<Record<string, string>>;
  /** minirouter's log level. */
  readonly logLevel: string;
  /** DHCP servers by listen address. */
  readonly dhcp: Readonly<Record<string, RouterDhcp>>;
  /** DNS records: address to host names, in the order given. */
  readonly dns: Readonly<Record<string, readonly string[]>>;
  /** The upstream DNS server, or "". */
  readonly upstream: string;
  /** The default gateway, or "". */
  readonly gw: string;
  /** Static routes: network to next hop. */
  readonly routes: Readonly<Record<string, string>>;
  /** Named static routes: name to network to next hop ("" for none). */
  readonly namedRoutes: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /** The router id, `0.0.0.0` until set or chosen at commit. */
  readonly routerId: string;
  /** The firewall. */
  readonly fw: RouterFw;
  /** Whether the addresses changed since the last commit (minimega's `updateIPs`). */
  readonly updateIps: boolean;
}

/** A router that is not there, or a VM that is not one, in minimega's words. */
export class RouterError extends LabError {
  override name = "RouterError";
}

/** A new router for a VM with `nics` NICs (minimega's `NewRouter`). */
export function newRouterConfig(nics: number): RouterConfig {
  return {
    nics: Array.from({ length: nics }, () => []),
    loopbacks: {},
    logLevel: "error",
    dhcp: {},
    dns: {},
    upstream: "",
    gw: "",
    routes: {},
    namedRoutes: {},
    routerId: "0.0.0.0",
    fw: { default: "accept", rules: [], chains: {} },
    updateIps: false,
  };
}

// ---- addresses ------------------------------------------------------------------------------------

const IPV4 = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

/** Whether `s` is a dotted IPv4 address. */
export function isIpv4(s: string): boolean {
  return IPV4.test(s);
}

/** The 32-bit number of a dotted IPv4 address. */
export function ipv4Number(s: string): number {
  return s.split(".").reduce((n, octet) => n * 256 + Number(octet), 0);
}

/** Whether `s` is an IPv4 CIDR (`a.b.c.d/n`, n 0 to 32). */
export function isIpv4Cidr(s: string): boolean {
  const slash = s.indexOf("/");
  return slash > 0 && isIpv4(s.slice(0, slash)) && /^(?:\d|[12]\d|3[0-2])$/.test(s.slice(slash + 1));
}

/** Whether `s` looks like what Go's `net.ParseCIDR` takes for IPv6 (a `:` and a prefix length). */
function isIpv6Cidr(s: string): boolean {
  return /^[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*\/(?:\d|[1-9]\d|1[01]\d|12[0-8])$/.test(s);
}

/** The subnet of a CIDR: its network number and its mask. */
export function subnetOf(cidr: string): { network: number; mask: number; prefix: number } {
  const [ip, prefixText] = cidr.split("/");
  const prefix = Number(prefixText);
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  return { network: (ipv4Number(ip!) & mask) >>> 0, mask, prefix };
}

/** Whether the IPv4 address `ip` is in the subnet of `cidr`. */
export function inSubnet(ip: string, cidr: string): boolean {
  const { network, mask } = subnetOf(cidr);
  return ((ipv4Number(ip) & mask) >>> 0) === network;
}

function ipv4Only(what: string, value: string): never {
  throw new LabError(
    "unsupported",
    `Cannot use ${what} '${value}': labwire's routers are IPv4 only for now (docs/compat.md)`,
  );
}

function checkAddress(what: string, value: string): void {
  if (isIpv4(value)) return;
  if (value.includes(":")) ipv4Only(what, value);
  throw new LabError(
    "invalid-address",
    `Cannot use ${what} '${value}': expected an IPv4 address like 10.0.0.1`,
  );
}

// ---- edits ------------------------------------------------------------------------------------------

/**
 * `interface <n> <ip/mask|dhcp> [lo]`: adds an address to NIC `n`, or sets loopback `n`.
 *
 * @throws {LabError} minimega's `invalid network: x : strconv.Atoi: ...`, `no such network index: n`,
 * `invalid IP: x`, `IP x already exists`, `Cannot put dhcp on loopback`; IPv6 is refused for now.
 */
export function addInterface(
  config: RouterConfig,
  network: string,
  ip: string,
  loopback: boolean,
): RouterConfig {
  const n = atoi(network, `invalid network: ${network} : `);
  if (loopback) {
    if (ip === "dhcp") throw new LabError("invalid-argument", "Cannot put dhcp on loopback");
    checkCidr(ip);
    if (Object.values(config.loopbacks).includes(ip)) {
      throw new LabError("invalid-address", `IP ${ip} already exists`);
    }
    return { ...config, loopbacks: { ...config.loopbacks, [String(n)]: ip }, updateIps: true };
  }
  if (n >= config.nics.length) throw new LabError("nic-not-found", `no such network index: ${n}`);
  if (ip !== "dhcp") checkCidr(ip);
  if (config.nics[n]!.includes(ip)) throw new LabError("invalid-address", `IP ${ip} already exists`);
  if (ip === "dhcp" && config.nics[n]!.includes("dhcp")) {
    throw new LabError("invalid-address", `IP ${ip} already exists`);
  }
  const nics = config.nics.map((ips, i) => (i === n ? [...ips, ip] : ips));
  return { ...config, nics, updateIps: true };
}

function checkCidr(ip: string): void {
  if (isIpv4Cidr(ip)) return;
  if (isIpv6Cidr(ip)) ipv4Only("address", ip);
  throw new LabError("invalid-address", `invalid IP: ${ip}`);
}

/** Go's `strconv.Atoi` for the index words, with its error text after `prefix`. */
function atoi(s: string, prefix: string): number {
  if (!/^[+-]?\d+$/.test(s)) {
    throw new LabError(
      "invalid-argument",
      `${prefix}strconv.Atoi: parsing ${JSON.stringify(s)}: invalid syntax`,
    );
  }
  const n = Number(s);
  if (!Number.isSafeInteger(n) || Math.abs(n) > 2 ** 63) {
    throw new LabError(
      "invalid-argument",
      `${prefix}strconv.Atoi: parsing ${JSON.stringify(s)}: value out of range`,
    );
  }
  if (n < 0) throw new LabError("nic-not-found", `no such network index: ${n}`);
  return n;
}

/**
 * `clear router <vm> interface [<n> [<ip>|all [lo]]]`.
 *
 * @throws {LabError} `no such network index: n`, `invalid IP: x`, `no such network: x` (minimega's words).
 */
export function clearInterface(
  config: RouterConfig,
  network: string | undefined,
  ip: string | undefined,
  loopback: boolean,
): RouterConfig {
  if (network === undefined) {
    return { ...config, nics: config.nics.map(() => []), loopbacks: {}, updateIps: true };
  }
  const n = atoi(network, "");
  if (loopback) {
    // minimega deletes loopback n whatever the address says, and forgets to push it at the next commit
    // (the spec's "labwire should fix"): labwire deletes the loopback given, or all, and pushes the change
    if (ip === "all") return { ...config, loopbacks: {}, updateIps: true };
    const loopbacks = { ...config.loopbacks };
    if (ip !== undefined && loopbacks[String(n)] !== ip) {
      throw new LabError("invalid-address", `no such network: ${ip}`);
    }
    delete loopbacks[String(n)];
    return { ...config, loopbacks, updateIps: true };
  }
  if (n >= config.nics.length) throw new LabError("nic-not-found", `no such network index: ${n}`);
  if (ip === undefined || ip === "all") {
    return { ...config, nics: config.nics.map((ips, i) => (i === n ? [] : ips)), updateIps: true };
  }
  if (ip !== "dhcp" && !isIpv4Cidr(ip) && !isIpv6Cidr(ip)) {
    throw new LabError("invalid-address", `invalid IP: ${ip}`);
  }
  const at = config.nics[n]!.indexOf(ip);
  if (at < 0) throw new LabError("invalid-address", `no such network: ${ip}`);
  const nics = config.nics.map((ips, i) => (i === n ? ips.filter((_, j) => j !== at) : ips));
  return { ...config, nics, updateIps: true };
}

function dhcpOf(config: RouterConfig, listen: string): RouterDhcp {
  return config.dhcp[listen] ?? { low: "", high: "", router: "", dns: "", statics: {} };
}

function withDhcp(config: RouterConfig, listen: string, dhcp: RouterDhcp): RouterConfig {
  return { ...config, dhcp: { ...config.dhcp, [listen]: dhcp } };
}

/** What `dhcp <listen> ...` sets. */
export type DhcpSetting =
  | { readonly kind: "range"; readonly low: string; readonly high: string }
  | { readonly kind: "router"; readonly ip: string }
  | { readonly kind: "dns"; readonly ip: string }
  | { readonly kind: "static"; readonly mac: string; readonly ip: string };

/**
 * `dhcp <listen> range|router|dns|static ...`: minimega stores them unchecked; labwire checks that every
 * address is IPv4 and the MAC a MAC (whether they fit an interface is checked at commit).
 *
 * @throws {LabError} `Cannot use ... 'x': expected an IPv4 address`, `Cannot use MAC 'x': ...`.
 */
export function setDhcp(config: RouterConfig, listen: string, setting: DhcpSetting): RouterConfig {
  checkAddress("DHCP listen address", listen);
  const dhcp = dhcpOf(config, listen);
  switch (setting.kind) {
    case "range":
      checkAddress("DHCP range address", setting.low);
      checkAddress("DHCP range address", setting.high);
      if (ipv4Number(setting.low) > ipv4Number(setting.high)) {
        throw new LabError(
          "invalid-argument",
          `Cannot use DHCP range ${setting.low} to ${setting.high}: the low address is above the high one`,
        );
      }
      return withDhcp(config, listen, { ...dhcp, low: setting.low, high: setting.high });
    case "router":
      checkAddress("DHCP router", setting.ip);
      return withDhcp(config, listen, { ...dhcp, router: setting.ip });
    case "dns":
      checkAddress("DHCP DNS server", setting.ip);
      return withDhcp(config, listen, { ...dhcp, dns: setting.ip });
    case "static": {
      if (!isMac(setting.mac)) {
        throw new LabError(
          "invalid-mac",
          `Cannot use MAC '${setting.mac}' for a static lease: it is not a MAC`,
        );
      }
      checkAddress("static lease address", setting.ip);
      const statics = { ...dhcp.statics, [normalizeMac(setting.mac)]: setting.ip };
      return withDhcp(config, listen, { ...dhcp, statics });
    }
  }
}

/**
 * `clear router <vm> dhcp [<listen> [range|router|dns|static [<mac>]]]`.
 *
 * @throws {LabError} `no such address: x`, `no such mac: x` (minimega's words).
 */
export function clearDhcp(
  config: RouterConfig,
  listen?: string,
  field?: "range" | "router" | "dns" | "static",
  mac?: string,
): RouterConfig {
  if (listen === undefined) return { ...config, dhcp: {} };
  const dhcp = config.dhcp[listen];
  if (dhcp === undefined) throw new LabError("invalid-address", `no such address: ${listen}`);
  switch (field) {
    case undefined: {
      const all = { ...config.dhcp };
      delete all[listen];
      return { ...config, dhcp: all };
    }
    case "range":
      return withDhcp(config, listen, { ...dhcp, low: "", high: "" });
    case "router":
      return withDhcp(config, listen, { ...dhcp, router: "" });
    case "dns":
      return withDhcp(config, listen, { ...dhcp, dns: "" });
    case "static": {
      if (mac === undefined) return withDhcp(config, listen, { ...dhcp, statics: {} });
      const key = isMac(mac) ? normalizeMac(mac) : mac;
      if (!(key in dhcp.statics)) throw new LabError("invalid-mac", `no such mac: ${mac}`);
      const statics = { ...dhcp.statics };
      delete statics[key];
      return withDhcp(config, listen, { ...dhcp, statics });
    }
  }
}

const HOSTNAME =
  /^(?=.{1,253}$)(?:[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*\.?$/;

/**
 * `dns <ip> <hostname>`: a DNS record (duplicates allowed, as minimega).
 *
 * @throws {LabError} For an address that is not IPv4 or a name that is no host name.
 */
export function addDns(config: RouterConfig, ip: string, host: string): RouterConfig {
  checkAddress("DNS record address", ip);
  if (!HOSTNAME.test(host)) {
    throw new LabError("invalid-argument", `Cannot use host name '${host}': it is not a DNS name`);
  }
  return { ...config, dns: { ...config.dns, [ip]: [...config.dns[ip] ?? [], host] } };
}

/** `clear router <vm> dns [<ip>]`. @throws {LabError} `no such ip: x` (minimega's words). */
export function clearDns(config: RouterConfig, ip?: string): RouterConfig {
  if (ip === undefined) return { ...config, dns: {} };
  if (!(ip in config.dns)) throw new LabError("invalid-address", `no such ip: ${ip}`);
  const dns = { ...config.dns };
  delete dns[ip];
  return { ...config, dns };
}

/** `upstream <ip>` ("" clears it). @throws {LabError} For an address that is not IPv4. */
export function setUpstream(config: RouterConfig, ip: string): RouterConfig {
  if (ip !== "") checkAddress("upstream DNS server", ip);
  return { ...config, upstream: ip };
}

/** `gw <ip>` ("" clears it). @throws {LabError} For an address that is not IPv4. */
export function setGateway(config: RouterConfig, ip: string): RouterConfig {
  if (ip !== "") checkAddress("default gateway", ip);
  return { ...config, gw: ip };
}

/**
 * `route static <network> <next-hop> [name]`: unnamed, or in a named group, where a next hop of `0` means
 * none (a filter-only route).
 *
 * @throws {LabError} For a network that is not an IPv4 CIDR or a next hop that is not IPv4.
 */
export function addStaticRoute(
  config: RouterConfig,
  network: string,
  nextHop: string,
  name?: string,
): RouterConfig {
  if (!isIpv4Cidr(network)) {
    if (isIpv6Cidr(network)) ipv4Only("route to", network);
    throw new LabError(
      "invalid-address",
      `Cannot use route to '${network}': expected a network like 10.0.0.0/24`,
    );
  }
  if (name === undefined) {
    checkAddress("next hop", nextHop);
    return { ...config, routes: { ...config.routes, [network]: nextHop } };
  }
  if (nextHop !== "0") checkAddress("next hop", nextHop);
  const group = { ...config.namedRoutes[name] ?? {}, [network]: nextHop === "0" ? "" : nextHop };
  return { ...config, namedRoutes: { ...config.namedRoutes, [name]: group } };
}

/**
 * `clear router <vm> route [static|namedstatic]`, `clear router <vm> route static <network|all> [name]`.
 *
 * @throws {LabError} `no such static route: x`, `no such named static route: x`, `no such network in named
 * static route: x` (minimega's words).
 */
export function clearRoutes(
  config: RouterConfig,
  which: "all" | "static" | "namedstatic",
  network?: string,
  name?: string,
): RouterConfig {
  if (which === "all") return { ...config, routes: {}, namedRoutes: {} };
  if (which === "namedstatic") return { ...config, namedRoutes: {} };
  if (network === undefined) return { ...config, routes: {} };
  if (name === undefined) {
    if (network === "all") return { ...config, routes: {} };
    if (!(network in config.routes)) {
      throw new LabError("invalid-address", `no such static route: ${network}`);
    }
    const routes = { ...config.routes };
    delete routes[network];
    return { ...config, routes };
  }
  const group = config.namedRoutes[name];
  if (group === undefined) throw new LabError("invalid-argument", `no such named static route: ${name}`);
  const named = { ...config.namedRoutes };
  if (network === "all") {
    delete named[name];
    return { ...config, namedRoutes: named };
  }
  if (!(network in group)) {
    throw new LabError("invalid-address", `no such network in named static route: ${network}`);
  }
  const rest = { ...group };
  delete rest[network];
  if (Object.keys(rest).length === 0) delete named[name];
  else named[name] = rest;
  return { ...config, namedRoutes: named };
}

/** `rid <id>`: the router id. @throws {LabError} `invalid routerid: x` (minimega's words). */
export function setRouterId(config: RouterConfig, id: string): RouterConfig {
  if (!isIpv4(id)) throw new LabError("invalid-address", `invalid routerid: ${id}`);
  return { ...config, routerId: id };
}

/** `log level <level>`. */
export function setLogLevel(config: RouterConfig, level: string): RouterConfig {
  return { ...config, logLevel: level };
}

// ---- firewall ---------------------------------------------------------------------------------------

/** Checks `ip` or `ip:port` of a rule (`what` is `source` or `destination`), as minimega. */
function checkEndpoint(what: "source" | "destination", s: string): void {
  const colon = s.lastIndexOf(":");
  const ip = colon < 0 ? s : s.slice(0, colon);
  if (colon >= 0) {
    const port = s.slice(colon + 1);
    if (!/^\d+$/.test(port) || Number(port) > 65535) {
      throw new LabError(
        "invalid-argument",
        `validating fw ${what} port ${port}: strconv.Atoi: parsing ${JSON.stringify(port)}: invalid syntax`,
      );
    }
  }
  const [addr, prefix] = ip.split("/");
  if (!isIpv4(addr ?? "") || (prefix !== undefined && !/^(?:\d|[12]\d|3[0-2])$/.test(prefix))) {
    throw new LabError("invalid-argument", `malformed fw ${what} ${s}`);
  }
}

const ACTIONS = new Set(["accept", "drop", "reject"]);
const PROTOCOLS = new Set(["tcp", "udp", "icmp", "all"]);

function checkRule(rule: RouterFwRule): void {
  if (rule.src !== "") checkEndpoint("source", rule.src);
  checkEndpoint("destination", rule.dst);
  if (!PROTOCOLS.has(rule.proto)) {
    throw new LabError(
      "invalid-argument",
      `Cannot use protocol '${rule.proto}': expected tcp, udp, icmp or all`,
    );
  }
}

/**
 * `fw <accept,drop,reject> <in,out> <index> [src] <dst> <proto>`.
 *
 * @throws {LabError} `converting fw interface index: ...`, `no such network index: n`, `malformed fw source
 * x`, `validating fw destination port p: ...` (minimega's words), or an unknown protocol.
 */
export function addFwRule(
  config: RouterConfig,
  direction: "in" | "out",
  index: string,
  rule: RouterFwRule,
): RouterConfig {
  const nic = atoi(index, "converting fw interface index: ");
  if (nic >= config.nics.length) throw new LabError("nic-not-found", `no such network index: ${nic}`);
  if (ACTIONS.has(rule.action)) checkRule(rule);
  else if (!(rule.action in config.fw.chains)) {
    throw new LabError("invalid-argument", `unknown chain ${rule.action}`);
  }
  return { ...config, fw: { ...config.fw, rules: [...config.fw.rules, { ...rule, nic, direction }] } };
}

/** `fw default <accept,drop>`. */
export function setFwDefault(config: RouterConfig, action: "accept" | "drop"): RouterConfig {
  return { ...config, fw: { ...config.fw, default: action } };
}

/**
 * `fw chain <chain> default action <a>` (`rule` undefined) or `fw chain <chain> action <a> [src] <dst>
 * <proto>`: a chain made on first use, with default `drop` when made by a rule (minimega's).
 */
export function addFwChainRule(
  config: RouterConfig,
  chain: string,
  defaultAction: string | undefined,
  rule?: RouterFwRule,
): RouterConfig {
  if (!/^[A-Za-z][A-Za-z0-9_-]{0,28}$/.test(chain) || ACTIONS.has(chain)) {
    throw new LabError("invalid-name", `Cannot use chain name '${chain}': use letters, digits, '-' and '_'`);
  }
  const existing = config.fw.chains[chain] ?? { default: rule === undefined ? "accept" : "drop", rules: [] };
  if (rule !== undefined) checkRule(rule);
  const next = rule === undefined
    ? { ...existing, default: defaultAction! }
    : { ...existing, rules: [...existing.rules, rule] };
  return { ...config, fw: { ...config.fw, chains: { ...config.fw.chains, [chain]: next } } };
}

/** A forwarded packet, as {@linkcode fwVerdict} judges it: NIC indexes, addresses as text, ports. */
export interface FwPacket {
  /** The NIC it came in through. */
  readonly inNic: number;
  /** The NIC it goes out of. */
  readonly outNic: number;
  /** Its source address. */
  readonly src: string;
  /** Its destination address. */
  readonly dst: string;
  /** `tcp`, `udp`, `icmp`, or another protocol's number as text. */
  readonly proto: string;
  /** Its TCP or UDP ports; 0 for other protocols. */
  readonly srcPort: number;
  /** Its destination port. */
  readonly dstPort: number;
}

/** Whether a rule's endpoint (`""`, `ip`, `ip/n`, with `:port`) holds an address and port. */
function endpointMatches(spec: string, ip: string, port: number): boolean {
  if (spec === "") return true;
  const colon = spec.indexOf(":");
  const address = colon < 0 ? spec : spec.slice(0, colon);
  if (colon >= 0 && Number(spec.slice(colon + 1)) !== port) return false;
  return address.includes("/") ? isIpv4(ip) && inSubnet(ip, address) : address === ip;
}

function ruleMatches(rule: RouterFwRule, packet: FwPacket): boolean {
  if (rule.proto !== "" && rule.proto !== "all" && rule.proto !== packet.proto) return false;
  return endpointMatches(rule.src, packet.src, packet.srcPort) &&
    endpointMatches(rule.dst, packet.dst, packet.dstPort);
}

/** Whether a firewall filters anything: rules, chains, or a default other than accept. */
export function fwFilters(fw: RouterFw): boolean {
  return fw.rules.length > 0 || Object.keys(fw.chains).length > 0 || fw.default !== "accept";
}

/**
 * What a router's firewall does with a forwarded packet that belongs to no connection it let through
 * before: each NIC's rules in NIC order and then in the order given (an `in` rule of the NIC it came in
 * through, an `out` rule of the one it leaves by), the first that matches decides, a chain's rules then its
 * default deciding for a rule that jumps to it; no match: the default. The same order nftables gets on
 * Open vSwitch (lib/real/nft_fw.ts).
 */
export function fwVerdict(fw: RouterFw, packet: FwPacket): "accept" | "drop" | "reject" {
  const rules = [...fw.rules].sort((a, b) => a.nic - b.nic);
  for (const rule of rules) {
    const nic = rule.direction === "in" ? packet.inNic : packet.outNic;
    if (rule.nic !== nic || !ruleMatches(rule, packet)) continue;
    if (rule.action === "accept" || rule.action === "drop" || rule.action === "reject") return rule.action;
    const chain = fw.chains[rule.action];
    if (chain === undefined) continue;
    const hit = chain.rules.find((r) => ruleMatches(r, packet));
    const verdict = hit?.action ?? chain.default;
    return verdict === "drop" || verdict === "reject" ? verdict : "accept";
  }
  return fw.default;
}

/** `clear router <vm> fw`: minimega's defaults. */
export function clearFw(config: RouterConfig): RouterConfig {
  return { ...config, fw: { default: "accept", rules: [], chains: {} } };
}

/** `clear router <vm>`: everything back to new but the log level, upstream and gateway (minimega's). */
export function resetRouter(config: RouterConfig): RouterConfig {
  return {
    ...newRouterConfig(config.nics.length),
    logLevel: config.logLevel,
    upstream: config.upstream,
    gw: config.gw,
    updateIps: true,
  };
}

// ---- what it prints ---------------------------------------------------------------------------------

function sorted(keys: Iterable<string>): string[] {
  return [...keys].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** Go's `%v` of a string slice: `[a b]`. */
function goList(items: readonly string[]): string {
  return `[${items.join(" ")}]`;
}

/** A tabwriter with minwidth 5, padding 1 (minimega's): cells of the first column padded. */
function tabulate(rows: readonly (readonly [string, string])[]): string[] {
  const width = Math.max(5, ...rows.map(([a]) => a.length + 1));
  return rows.map(([a, b]) => `${a.padEnd(width)}${b}`);
}

function ruleText(chain: string, rule: RouterFwRule): string {
  const any = (s: string) => (s === "" ? "<any>" : s);
  return `${chain}: ${any(rule.src)} --> ${any(rule.dst)} via ${any(rule.proto)} -> ${rule.action}`;
}

/**
 * The summary `router <vm>` prints, as minimega's `Router.String()` then trimmed: addresses per NIC,
 * loopbacks, DHCP servers, DNS records, upstream and gateway, static and named routes, the firewall (when
 * it holds anything), and `Log:` with the lines given.
 */
export function formatRouter(config: RouterConfig, log: readonly string[] = []): string {
  const out: string[] = ["IPs:"];
  config.nics.forEach((ips, i) => out.push(`Network: ${i}: ${goList(ips)}`));
  const loopbacks = Object.values(config.loopbacks);
  if (loopbacks.length > 0) out.push("Loopback IPs:", ...sorted(loopbacks));
  out.push("");
  for (const listen of sorted(Object.keys(config.dhcp))) {
    const d = config.dhcp[listen]!;
    out.push(
      ...tabulate([
        ["Listen address:", listen],
        ["Low address:", d.low],
        ["High address:", d.high],
        ["Router:", d.router],
        ["DNS:", d.dns],
        ["Static IPs:", ""],
      ]),
    );
    for (const mac of sorted(Object.keys(d.statics))) out.push(`${"".padEnd(5)}${mac} ${d.statics[mac]}`);
    out.push("");
  }
  const dns = sorted(Object.keys(config.dns));
  if (dns.length > 0) {
    out.push("DNS:");
    for (const ip of dns) for (const host of config.dns[ip]!) out.push(`${ip}\t${host}`);
    out.push("");
  }
  if (config.upstream !== "") out.push(`Upstream DNS: ${config.upstream}`);
  if (config.gw !== "") out.push(`Default Gateway: ${config.gw}`);
  const routes = sorted(Object.keys(config.routes));
  if (routes.length > 0) {
    out.push("Static Routes:");
    for (const network of routes) out.push(`${network}\t${config.routes[network]}`);
    out.push("");
  }
  const names = sorted(Object.keys(config.namedRoutes));
  if (names.length > 0) {
    out.push("Named Static Routes:");
    for (const name of names) {
      out.push(name);
      const group = config.namedRoutes[name]!;
      for (const network of sorted(Object.keys(group))) {
        out.push(`\t${network}${group[network] === "" ? "" : `\t${group[network]}`}`);
      }
    }
    out.push("");
  }
  const fw = config.fw;
  const chains = sorted(Object.keys(fw.chains));
  if (fwFilters(fw)) {
    out.push("Firewall Rules:");
    for (const nic of [...new Set(fw.rules.map((r) => r.nic))].sort((a, b) => a - b)) {
      for (const rule of fw.rules.filter((r) => r.nic === nic)) {
        out.push(`  (iface ${nic}) ${ruleText(rule.direction === "in" ? "incoming" : "outgoing", rule)}`);
      }
    }
    out.push(`  Default Action: ${fw.default}`);
    if (chains.length > 0) {
      out.push("Firewall Chains:");
      for (const name of chains) {
        const chain = fw.chains[name]!;
        for (const rule of chain.rules) out.push(`  ${ruleText(name, rule)}`);
        out.push(`  Default Action (${name}): ${chain.default}`);
      }
    }
  }
  out.push("Log:");
  for (const line of log) out.push(`\t${line}`);
  return out.join("\n").trim();
}

// ---- the plan a commit applies ----------------------------------------------------------------------

/** A DHCP server a commit starts on a router: on the NIC whose subnet holds its listen address. */
export interface DhcpServerPlan {
  /** The listen address as given (the router's address or the subnet's network address). */
  readonly listen: string;
  /** The NIC it serves. */
  readonly nic: number;
  /** The subnet it serves, `10.0.0.0/24`, and the router's own address there. */
  readonly subnet: string;
  /** The router's address on that NIC (the server's source address). */
  readonly serverIp: string;
  /** The range handed out, or undefined for static leases only. */
  readonly range?: { readonly low: string; readonly high: string };
  /** The router option, or "" for dnsmasq's default: the server's own address. */
  readonly router: string;
  /** The DNS server option, or "" for dnsmasq's default: the server's own address (it serves DNS). */
  readonly dns: string;
  /** Static leases: MAC to address. */
  readonly statics: Readonly<Record<string, string>>;
}

/** What a commit makes of a router's configuration: what the backend applies. */
export interface RouterPlan {
  /** The static addresses of each NIC, `a.b.c.d/n`. */
  readonly addresses: readonly (readonly string[])[];
  /** The NICs that get their address by DHCP. */
  readonly dhcpClients: readonly number[];
  /** Loopback addresses. */
  readonly loopbacks: readonly string[];
  /** Whether the VM forwards IPv4 between its NICs (a router; minimega's image always does). */
  readonly forwarding: boolean;
  /** Static routes, sorted by network. */
  readonly routes: readonly { readonly network: string; readonly via: string }[];
  /** The default gateway, or "". */
  readonly gateway: string;
  /** DHCP servers. */
  readonly dhcpServers: readonly DhcpServerPlan[];
  /** DNS records, host to addresses, sorted by host. */
  readonly dns: readonly { readonly host: string; readonly ips: readonly string[] }[];
  /** The upstream DNS server, or "". */
  readonly upstream: string;
  /** The firewall. */
  readonly fw: RouterFw;
}

/**
 * The plan of a commit (`nicAddresses`: the addresses the VM's NICs have besides the router's), checking
 * what minimega leaves to minirouter to fail on: each DHCP listen address
 * and range in the subnet of one of the router's addresses, static leases in it, next hops and gateways
 * reachable through a connected subnet; OSPF, BGP and router advertisements are refused elsewhere.
 *
 * @throws {LabError} With what does not fit and why, e.g. `Cannot commit router r: DHCP range 10.1.0.5 to
 * 10.1.0.9 is outside 10.0.0.0/24, the subnet of listen address 10.0.0.1`.
 */
export function routerPlan(
  config: RouterConfig,
  vm: string,
  nicAddresses: readonly (readonly string[])[] = [],
): RouterPlan {
  const fail = (why: string): never => {
    throw new LabError("invalid-argument", `Cannot commit router ${vm}: ${why}`);
  };
  const addresses = config.nics.map((ips) => ips.filter((ip) => ip !== "dhcp"));
  const dhcpClients = config.nics.flatMap((ips, i) => (ips.includes("dhcp") ? [i] : []));
  // the subnets of the router's addresses, and of those its NICs have already (`vm net ip`)
  const connected = [addresses, nicAddresses].flatMap((lists) =>
    lists.flatMap((ips, nic) => ips.map((cidr) => ({ nic, cidr })))
  );
  const subnetText = (cidr: string) => {
    const { network, prefix } = subnetOf(cidr);
    return `${[24, 16, 8, 0].map((s) => (network >>> s) & 255).join(".")}/${prefix}`;
  };
  const onLink = (ip: string) => connected.find((c) => inSubnet(ip, c.cidr));
  const dhcpServers: DhcpServerPlan[] = [];
  for (const listen of sorted(Object.keys(config.dhcp))) {
    const d = config.dhcp[listen]!;
    const at = onLink(listen);
    if (at === undefined) {
      fail(
        connected.length === 0
          ? `DHCP listen address ${listen} is on none of its interfaces (it has no addresses)`
          : `DHCP listen address ${listen} is in none of the subnets of its interfaces (${
            connected.map((c) => subnetText(c.cidr)).join(", ")
          })`,
      );
    }
    const subnet = subnetText(at!.cidr);
    const inside = (ip: string) => inSubnet(ip, at!.cidr);
    if (d.low !== "" && !(inside(d.low) && inside(d.high))) {
      fail(`DHCP range ${d.low} to ${d.high} is outside ${subnet}, the subnet of listen address ${listen}`);
    }
    for (const [mac, ip] of Object.entries(d.statics)) {
      if (!inside(ip)) fail(`the static lease of ${mac}, ${ip}, is outside ${subnet}`);
    }
    if (d.low === "" && Object.keys(d.statics).length === 0) {
      fail(`the DHCP server on ${listen} has neither a range nor static leases`);
    }
    dhcpServers.push({
      listen,
      nic: at!.nic,
      subnet,
      serverIp: at!.cidr.slice(0, at!.cidr.indexOf("/")),
      ...(d.low === "" ? {} : { range: { low: d.low, high: d.high } }),
      router: d.router,
      dns: d.dns,
      statics: d.statics,
    });
  }
  const routes = sorted(Object.keys(config.routes)).map((network) => ({
    network,
    via: config.routes[network]!,
  }));
  for (const { network, via } of routes) {
    if (onLink(via) === undefined && dhcpClients.length === 0) {
      fail(`the next hop ${via} of the route to ${network} is in none of its subnets`);
    }
  }
  if (config.gw !== "" && onLink(config.gw) === undefined && dhcpClients.length === 0) {
    fail(`the default gateway ${config.gw} is in none of its subnets`);
  }
  // minirouter refuses a port without a protocol that has them
  const rules = [...config.fw.rules, ...Object.values(config.fw.chains).flatMap((c) => c.rules)];
  for (const rule of rules) {
    if ((rule.src.includes(":") || rule.dst.includes(":")) && rule.proto !== "tcp" && rule.proto !== "udp") {
      fail(
        `the firewall rule to ${rule.dst} has ports but protocol ${rule.proto}: must specify tcp or udp when specifying ports`,
      );
    }
  }
  const hosts = new Map<string, string[]>();
  for (const ip of sorted(Object.keys(config.dns))) {
    for (const host of config.dns[ip]!) hosts.set(host, [...new Set([...hosts.get(host) ?? [], ip])]);
  }
  return {
    addresses,
    dhcpClients,
    loopbacks: sorted(Object.values(config.loopbacks)),
    forwarding: true,
    routes,
    gateway: config.gw,
    dhcpServers,
    dns: sorted(hosts.keys()).map((host) => ({ host, ips: hosts.get(host)! })),
    upstream: config.upstream,
    fw: config.fw,
  };
}

/** Whether a configuration holds nothing a commit would apply. */
export function isEmptyRouter(config: RouterConfig): boolean {
  const empty = newRouterConfig(config.nics.length);
  return JSON.stringify({ ...config, updateIps: false, logLevel: "error", routerId: "0.0.0.0" }) ===
    JSON.stringify({ ...empty, updateIps: false });
}
