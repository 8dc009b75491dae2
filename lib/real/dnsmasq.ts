/**
 * dnsmasq as a router's DHCP and DNS server, in a container VM's network namespace, as minimega's
 * minirouter runs it: the same configuration (`no-resolv`, a server only when asked, ranges and static
 * leases per subnet, router and DNS options, host records), but every path explicit and in a folder of its
 * own, since `ip netns exec` shares the host's file system (minirouter's /etc/dnsmasq.conf and default
 * lease file would collide there). dnsmasq runs detached, found again by its PID file, so that it lives as
 * long as the lab (a lab in a state file outlives the process that started it), and is stopped by that
 * PID, never by name. One departure from minirouter's: `no-ping`, so that an offer does not wait for
 * dnsmasq's check that the address is free (an ARP, then a ping, seconds long, timing-dependent).
 *
 * @module
 */

import fs from "node:fs";
import process from "node:process";
import path from "node:path";
import type { Services, TapServices } from "../backend/services.ts";
import { type Cmd, which } from "../exec.ts";
import { subnetOf } from "../lab/router_config.ts";

/** The dotted netmask of a prefix length. */
function netmask(prefix: number): string {
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  return [24, 16, 8, 0].map((s) => (mask >>> s) & 255).join(".");
}

/** dnsmasq's lease time: its default, an hour. */
const LEASE = "1h";

/**
 * The configuration file of a router's dnsmasq (minirouter's template, with explicit paths).
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { dnsmasqConfig } from "./dnsmasq.ts";
 * const text = dnsmasqConfig({
 *   dhcp: [{ listen: "10.0.0.1", nic: 0, subnet: "10.0.0.0/24", serverIp: "10.0.0.1",
 *     range: { low: "10.0.0.100", high: "10.0.0.200" }, router: "10.0.0.1", dns: "", statics: {} }],
 *   dns: [{ host: "web.lab", ips: ["10.0.0.5"] }],
 *   upstream: "",
 * }, "/run/x");
 * assert.match(text, /^dhcp-range=set:lan0,10\.0\.0\.100,10\.0\.0\.200,255\.255\.255\.0,1h$/m);
 * assert.match(text, /^host-record=web\.lab,10\.0\.0\.5$/m);
 * ```
 */
export function dnsmasqConfig(services: Services | TapServices, dir: string, iface?: string): string {
  const lines = [
    "# made by labwire for one router; see lib/real/dnsmasq.ts",
    "no-resolv",
    "no-hosts",
    `pid-file=${path.join(dir, "dnsmasq.pid")}`,
    `dhcp-leasefile=${path.join(dir, "dnsmasq.leases")}`,
    "dhcp-lease-max=4294967295",
    // offer at once: dnsmasq's check that no one answers at an address first (ARP, then a ping, seconds
    // long) makes its exchanges depend on timing; labwire hands out what it was asked to, as the simulator
    "no-ping",
    "user=root",
  ];
  // on the host, one tap of many: only it (minimega: --listen-address, --bind-interfaces)
  if (iface !== undefined) lines.push(`interface=${iface}`, "bind-interfaces", "except-interface=lo");
  if (services.upstream !== "") lines.push(`server=${services.upstream}`);
  for (const [i, d] of services.dhcp.entries()) {
    const tag = `lan${i}`;
    const { prefix } = subnetOf(d.subnet);
    const network = d.subnet.slice(0, d.subnet.indexOf("/"));
    lines.push(
      d.range === undefined
        ? `dhcp-range=set:${tag},${network},static,${netmask(prefix)},${LEASE}`
        : `dhcp-range=set:${tag},${d.range.low},${d.range.high},${netmask(prefix)},${LEASE}`,
    );
    for (const [mac, ip] of Object.entries(d.statics).sort()) lines.push(`dhcp-host=${mac},${ip}`);
    if (d.router !== "") lines.push(`dhcp-option=tag:${tag},option:router,${d.router}`);
    if (d.dns !== "") lines.push(`dhcp-option=tag:${tag},option:dns-server,${d.dns}`);
  }
  for (const { host, ips } of services.dns) lines.push(`host-record=${host},${ips.join(",")}`);
  if ("options" in services) {
    for (const option of services.options) lines.push(`dhcp-option=${option}`);
    if (services.configFile !== "") lines.push(`conf-file=${services.configFile}`);
  }
  return `${lines.join("\n")}\n`;
}

/** The PID of the dnsmasq running from `dir`'s configuration, or undefined. */
export function runningDnsmasq(dir: string): number | undefined {
  let pid: number;
  try {
    pid = Number(fs.readFileSync(path.join(dir, "dnsmasq.pid"), "utf8").trim());
  } catch {
    return undefined;
  }
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  try {
    const argv = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
    return argv.includes(`--conf-file=${path.join(dir, "dnsmasq.conf")}`) ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Stops the dnsmasq of `dir`, by its PID (SIGTERM, then SIGKILL after 2 s), and removes `dir`. */
export async function stopDnsmasq(dir: string): Promise<void> {
  const pid = runningDnsmasq(dir);
  if (pid !== undefined) {
    try {
      process.kill(pid, "SIGTERM");
    } catch {
      // gone already
    }
    for (let waited = 0; runningDnsmasq(dir) === pid && waited < 2000; waited += 20) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    if (runningDnsmasq(dir) === pid) process.kill(pid, "SIGKILL");
  }
  fs.rmSync(dir, { recursive: true, force: true });
}

/**
 * Starts (or restarts) a router's dnsmasq in network namespace `namespace`, from a configuration in
 * `dir`; with nothing to serve, stops it.
 *
 * @throws {Error} `dnsmasq is not installed (apt-get install dnsmasq-base)`, or what dnsmasq said when
 * it refused to start.
 */
export async function setDnsmasq(
  exec: (program: string) => Cmd,
  namespace: string | { readonly iface: string },
  dir: string,
  services: Services | TapServices,
): Promise<void> {
  await stopDnsmasq(dir);
  const configured = "configFile" in services && services.configFile !== "";
  if (services.dhcp.length === 0 && services.dns.length === 0 && services.upstream === "" && !configured) {
    return;
  }
  if (which("dnsmasq") === undefined) {
    throw new Error(
      "Cannot start the DHCP and DNS server: dnsmasq is not installed (apt-get install dnsmasq-base)",
    );
  }
  fs.mkdirSync(dir, { recursive: true });
  const conf = path.join(dir, "dnsmasq.conf");
  const onHost = typeof namespace !== "string";
  fs.writeFileSync(conf, dnsmasqConfig(services, dir, onHost ? namespace.iface : undefined));
  // dnsmasq forks into the background once its sockets are bound and the PID file is written
  const argv = onHost
    ? ["dnsmasq", `--conf-file=${conf}`]
    : ["ip", "netns", "exec", namespace, "dnsmasq", `--conf-file=${conf}`];
  const r = await exec(argv[0]!).args(...argv.slice(1)).timeout(10_000).noThrow().run();
  if (r.code !== 0) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw new Error(`Cannot start the DHCP and DNS server: dnsmasq said: ${r.stderr.trim()}`);
  }
}
