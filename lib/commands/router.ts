// Runtime-neutral.
/**
 * `router` and `clear router`: minimega's patterns, summary and error texts (lib/lab/router_config.ts
 * holds what each subcommand stores). `commit` applies the router itself, as minimega's agent would.
 *
 * @module
 */

import type { Command, Handler } from "../cli/registry.ts";
import { LabError } from "../errors.ts";
import {
  addDns,
  addFwChainRule,
  addFwRule,
  addInterface,
  addStaticRoute,
  clearDhcp,
  clearDns,
  clearFw,
  clearInterface,
  clearRoutes,
  type RouterConfig,
  type RouterFwRule,
  setDhcp,
  setFwDefault,
  setGateway,
  setLogLevel,
  setRouterId,
  setUpstream,
} from "../lab/router_config.ts";
import type { Session } from "./session.ts";

const ROUTER_HELP =
  `Configures a VM as a router, as minimega's minirouter does: addresses on its NICs (by index, as
"vm config net" lists them), DHCP servers, DNS records, static routes, a default gateway and a firewall.
Changes are kept until "router <vm> commit" applies them to the VM: labwire applies them itself, to a
container VM (its NICs get the addresses, it forwards IPv4 between them, its routes are set). "router <vm>"
prints the configuration.

	router <vm> interface <n> <ip/mask|dhcp> [lo]   an address on NIC n (lo: a loopback address)
	router <vm> dhcp <listen> range <low> <high>    a DHCP server on the NIC whose subnet holds <listen>
	router <vm> dhcp <listen> router|dns <ip>       its router and DNS server options
	router <vm> dhcp <listen> static <mac> <ip>     a static lease
	router <vm> dns <ip> <hostname>                 a DNS record
	router <vm> upstream <ip>                       the upstream DNS server
	router <vm> gw <ip>                             the default gateway
	router <vm> route static <net> <next-hop> [name]
	router <vm> fw default accept|drop              firewall rules (see the patterns)
	router <vm> rid <id>                            the router id
	router <vm> log level <level>
	router <vm> commit                              applies the configuration

OSPF, BGP and router advertisements need routing daemons minimega runs in its agent: labwire refuses them
for now. See docs/routing.md.`;

/** The router subcommands that need daemons labwire does not run yet. */
function refuse(vm: string, what: string): never {
  throw new LabError(
    "unsupported",
    `Cannot configure ${what} on router ${vm}: labwire runs no routing daemon for OSPF, BGP or router advertisements yet (docs/compat.md)`,
  );
}

/** The rule of an `fw` line: its action, source (when given), destination and protocol. */
function fwRule(cmd: Command<Session>, action: string): RouterFwRule {
  return {
    action,
    src: cmd.strings.get("src") ?? "",
    dst: cmd.strings.get("dst")!,
    proto: cmd.strings.get("proto")!,
  };
}

/** The action word a line chose, of accept, drop and reject. */
function actionOf(cmd: Command<Session>): string {
  return ["accept", "drop", "reject"].find((a) => cmd.bools.has(a))!;
}

/** What a `router <vm> ...` line changes, or undefined for the summary and commit. */
function routerChange(cmd: Command<Session>): ((config: RouterConfig) => RouterConfig) | undefined {
  const s = (key: string) => cmd.strings.get(key)!;
  const vm = s("vm");
  const has = (word: string) => cmd.bools.has(word);
  if (has("interface")) return (c) => addInterface(c, s("network"), s("IPv4/MASK"), has("lo"));
  if (has("dhcp")) {
    const listen = s("listen");
    if (has("range")) return (c) => setDhcp(c, listen, { kind: "range", low: s("low"), high: s("high") });
    if (has("router")) return (c) => setDhcp(c, listen, { kind: "router", ip: s("router") });
    if (has("dns")) return (c) => setDhcp(c, listen, { kind: "dns", ip: s("address") });
    return (c) => setDhcp(c, listen, { kind: "static", mac: s("mac"), ip: s("ip") });
  }
  if (has("dns")) return (c) => addDns(c, s("ip"), s("hostname"));
  if (has("upstream")) return (c) => setUpstream(c, s("ip"));
  if (has("gw")) return (c) => setGateway(c, s("gw"));
  if (has("rid")) return (c) => setRouterId(c, s("id"));
  if (has("log")) {
    const level = ["fatal", "error", "warn", "info", "debug"].find((l) => has(l))!;
    return (c) => setLogLevel(c, level);
  }
  if (has("ra")) refuse(vm, "router advertisements");
  if (has("route")) {
    if (has("ospf")) refuse(vm, "OSPF");
    if (has("bgp")) refuse(vm, "BGP");
    return (c) => addStaticRoute(c, s("network"), s("next-hop"), cmd.strings.get("staticroutename"));
  }
  if (has("fw")) {
    const chain = cmd.strings.get("chain");
    if (chain === undefined) {
      if (has("default")) return (c) => setFwDefault(c, has("accept") ? "accept" : "drop");
      const direction = has("in") ? "in" : "out";
      return (c) => addFwRule(c, direction, s("index"), fwRule(cmd, actionOf(cmd)));
    }
    if (cmd.strings.has("index")) {
      // `fw chain C apply in|out <index>`: a rule that jumps to the chain
      const direction = has("in") ? "in" : "out";
      return (c) => {
        if (!(chain in c.fw.chains)) throw new LabError("invalid-argument", `unknown chain ${chain}`);
        return addFwRule(c, direction, s("index"), { action: chain, src: "", dst: "", proto: "" });
      };
    }
    if (has("default")) return (c) => addFwChainRule(c, chain, actionOf(cmd));
    return (c) => addFwChainRule(c, chain, undefined, fwRule(cmd, actionOf(cmd)));
  }
  return undefined;
}

/** What a `clear router <vm> ...` line clears, or undefined for the whole router. */
function clearChange(cmd: Command<Session>): ((config: RouterConfig) => RouterConfig) | undefined {
  const s = (key: string) => cmd.strings.get(key);
  const has = (word: string) => cmd.bools.has(word);
  const vm = s("vm")!;
  if (has("interface")) return (c) => clearInterface(c, s("network"), s("IPv4/MASK"), has("lo"));
  if (has("dhcp")) {
    const field = (["range", "router", "dns", "static"] as const).find((f) => has(f));
    return (c) => clearDhcp(c, s("listen"), field, s("mac"));
  }
  if (has("dns")) return (c) => clearDns(c, s("ip"));
  if (has("upstream")) return (c) => setUpstream(c, "");
  if (has("gw")) return (c) => setGateway(c, "");
  if (has("rid")) return (c) => ({ ...c, routerId: "0.0.0.0" });
  if (has("fw")) return clearFw;
  if (has("ra")) return (c) => c; // none can be set
  if (has("route")) {
    if (has("ospf")) refuse(vm, "OSPF");
    if (has("bgp")) refuse(vm, "BGP");
    if (has("namedstatic")) return (c) => clearRoutes(c, "namedstatic");
    if (has("static")) return (c) => clearRoutes(c, "static", s("network"), s("staticroutename"));
    return (c) => clearRoutes(c, "all");
  }
  return undefined;
}

/** The `router` and `clear router` commands. */
export function routerHandlers(): Handler<Session>[] {
  return [{
    patterns: [
      "router <vm>",
      "router <vm> <commit,>",
      "router <vm> <rid,> <id>",
      "router <vm> <log,> <level,> <fatal,error,warn,info,debug>",
      "router <vm> <interface,> <network> <IPv4/MASK or IPv6/MASK or dhcp> [lo,]",
      "router <vm> <dhcp,> <listen address> <range,> <low address> <high address>",
      "router <vm> <dhcp,> <listen address> <router,> <router address>",
      "router <vm> <dhcp,> <listen address> <dns,> <address>",
      "router <vm> <dhcp,> <listen address> <static,> <mac> <ip>",
      "router <vm> <dns,> <ip> <hostname>",
      "router <vm> <upstream,> <ip>",
      "router <vm> <gw,> <gw>",
      "router <vm> <ra,> <subnet>",
      "router <vm> <route,> <static,> <network> <next-hop> [staticroutename]",
      "router <vm> <route,> <ospf,> <area> <network>",
      "router <vm> <route,> <ospf,> <area> <network> <option> <value>",
      "router <vm> <route,> <ospf,> <area> <export,> <Ipv4/Mask or staticroutename>",
      "router <vm> <route,> <bgp,> <processname> <local,neighbor> <IPv4> <asnumber>",
      "router <vm> <route,> <bgp,> <processname> <rrclient,>",
      "router <vm> <route,> <bgp,> <processname> <export,> <all,filter> <filtername>",
      "router <vm> <fw,> <default,> <accept,drop>",
      "router <vm> <fw,> <accept,drop,reject> <in,out> <index> <dst> <proto>",
      "router <vm> <fw,> <accept,drop,reject> <in,out> <index> <src> <dst> <proto>",
      "router <vm> <fw,> chain <chain> <default,> action <accept,drop,reject>",
      "router <vm> <fw,> chain <chain> action <accept,drop,reject> <dst> <proto>",
      "router <vm> <fw,> chain <chain> action <accept,drop,reject> <src> <dst> <proto>",
      "router <vm> <fw,> chain <chain> apply <in,out> <index>",
    ],
    helpShort: "configure running minirouter VMs",
    helpLong: ROUTER_HELP,
    async run(cmd, session) {
      const lab = session.lab;
      const ns = lab.activeNamespace;
      const vm = cmd.strings.get("vm")!;
      if (cmd.bools.has("commit")) return await lab.commitRouter(ns, vm);
      const change = routerChange(cmd);
      if (change === undefined) return lab.routerSummary(ns, vm);
      await lab.editRouter(ns, vm, change);
    },
  }, {
    patterns: [
      "clear router",
      "clear router <vm>",
      "clear router <vm> <rid,>",
      "clear router <vm> <upstream,>",
      "clear router <vm> <gw,>",
      "clear router <vm> <fw,>",
      "clear router <vm> <interface,>",
      "clear router <vm> <interface,> <network> [IPv4/MASK or IPv6/MASK or dhcp or all]",
      "clear router <vm> <interface,> <network> <IPv4/MASK or IPv6/MASK or dhcp or all> <lo,>",
      "clear router <vm> <dhcp,> [listen address]",
      "clear router <vm> <dhcp,> <listen address> <range,router,dns,static>",
      "clear router <vm> <dhcp,> <listen address> <static,> <mac>",
      "clear router <vm> <dns,> [ip]",
      "clear router <vm> <ra,> [subnet]",
      "clear router <vm> <route,>",
      "clear router <vm> <route,> <static,namedstatic>",
      "clear router <vm> <route,> <static,> <network or all> [staticroutename]",
      "clear router <vm> <route,> <ospf,> [area]",
      "clear router <vm> <route,> <bgp,> <processname>",
    ],
    helpShort: "clear router configurations",
    helpLong: `Clears every router of the active namespace, or one VM's router, or a part of it: its
addresses (one NIC's, one address, loopbacks), DHCP servers or one of their settings, DNS records, static
routes, the firewall, the router id, the upstream DNS server or the gateway. "clear router <vm>" keeps the
log level, upstream and gateway, as minimega does. What a commit applied stays applied until the next one.`,
    async run(cmd, session) {
      const lab = session.lab;
      const vm = cmd.strings.get("vm");
      await lab.clearRouter(lab.activeNamespace, vm, vm === undefined ? undefined : clearChange(cmd));
    },
  }];
}
