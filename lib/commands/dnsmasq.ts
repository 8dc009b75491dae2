// Runtime-neutral.
/**
 * `dnsmasq`: minimega's host-side DHCP and DNS servers, on the lab's host taps (lib/lab/dnsmasq.ts): its
 * patterns, its tables and its error texts.
 *
 * @module
 */

import type { Handler, Table } from "../cli/registry.ts";
import { withHostname, withOption, withStatic, withUpstream } from "../lab/dnsmasq.ts";
import type { Session } from "./session.ts";

/** The `dnsmasq` command. */
export function dnsmasqHandlers(): Handler<Session>[] {
  return [{
    patterns: [
      "dnsmasq",
      "dnsmasq start <listen address> <low dhcp range> <high dhcp range> [config]",
      "dnsmasq start <config>",
      "dnsmasq kill <id or all>",
      "dnsmasq configure <ID> <ip,>",
      "dnsmasq configure <ID> <ip,> <mac address> <ip>",
      "dnsmasq configure <ID> <dns,>",
      "dnsmasq configure <ID> <dns,> <ip> <hostname>",
      "dnsmasq configure <ID> <dns,> <upstream,>",
      "dnsmasq configure <ID> <dns,> <upstream,> server <ip>",
      "dnsmasq configure <ID> <options,>",
      "dnsmasq configure <ID> <options,> <optionstring>",
    ],
    helpShort: "start a DHCP/DNS server on a specified IP",
    helpLong: `Starts a DHCP and DNS server (dnsmasq) on a host tap, as minimega's does on the host:

	dnsmasq start 10.0.0.1 10.0.0.2 10.0.0.254        listen on the host tap with 10.0.0.1, hand out the range
	dnsmasq start 10.0.0.1 10.0.0.2 10.0.0.254 /path/to/dnsmasq.conf   (Open vSwitch backend)
	dnsmasq start /path/to/dnsmasq.conf                a server from a configuration only (Open vSwitch backend)
	dnsmasq                                            lists the servers: id, address, min, max, path, pid
	dnsmasq kill <id or all>
	dnsmasq configure <id or all> ip <mac> <ip>        a static lease
	dnsmasq configure <id or all> dns <ip> <hostname>  a DNS name (one per address)
	dnsmasq configure <id or all> dns upstream server <ip>
	dnsmasq configure <id or all> options option:dns-server,10.0.0.1
	dnsmasq configure <id or all> ip|dns|dns upstream|options   lists what was configured

The listen address must be an address of one of the lab's host taps ("tap create <vlan> ip ..."), and the
range in its subnet; a server that cannot start is an error saying why. On the simulator, the options it
knows are the router and the DNS server. "clear all" kills every server.`,
    async run(cmd, session) {
      const lab = session.lab;
      const room = lab.dnsmasq;
      const s = (key: string) => cmd.strings.get(key);
      const id = s("ID");
      if (id !== undefined) {
        const has = (word: string) => cmd.bools.has(word);
        if (has("ip") && s("mac") !== undefined) {
          return void await lab.transaction(() =>
            room.configure(id, (d) => withStatic(d, s("mac")!, s("ip")!))
          );
        }
        if (has("dns") && has("upstream") && s("ip") !== undefined) {
          return void await lab.transaction(() => room.configure(id, (d) => withUpstream(d, s("ip")!)));
        }
        if (has("dns") && s("hostname") !== undefined) {
          return void await lab.transaction(() =>
            room.configure(id, (d) => withHostname(d, s("ip")!, s("hostname")!))
          );
        }
        if (has("options") && s("optionstring") !== undefined) {
          return void await lab.transaction(() =>
            room.configure(id, (d) => withOption(d, s("optionstring")!))
          );
        }
        const servers = room.targets(id);
        const table = (header: string[], rows: string[][]): Table => ({ header, rows });
        if (has("ip")) {
          return table(
            ["id", "mac", "ip"],
            servers.flatMap((d) => Object.entries(d.statics).map(([m, ip]) => [String(d.id), m, ip])),
          );
        }
        if (has("upstream")) {
          return table(
            ["id", "upstream server"],
            servers.flatMap((d) => d.upstreams.map((u) => [String(d.id), u])),
          );
        }
        if (has("dns")) {
          return table(
            ["id", "ip", "hostname"],
            servers.flatMap((d) => Object.entries(d.hostnames).map(([ip, h]) => [String(d.id), ip, h])),
          );
        }
        return table(["id", "option"], servers.flatMap((d) => d.options.map((o) => [String(d.id), o])));
      }
      const kill = s("id");
      if (kill !== undefined) return void await lab.transaction(() => room.kill(kill));
      const listen = s("listen");
      const config = s("config");
      if (listen !== undefined || config !== undefined) {
        await lab.transaction(() =>
          room.start(lab.taps.list(), listen ?? "", s("low") ?? "", s("high") ?? "", config ?? "")
        );
        return;
      }
      const servers = room.list();
      return {
        header: ["id", "address", "min", "max", "path", "pid"],
        rows: servers.map((d) => [String(d.id), d.listen, d.low, d.high, d.path, String(d.pid)]),
        records: servers,
      };
    },
  }];
}
