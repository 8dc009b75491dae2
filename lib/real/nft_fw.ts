/**
 * A router's firewall (`router <vm> fw ...`) as nftables rules in a container VM's network namespace,
 * where minimega's minirouter uses iptables' FORWARD chain: table `ip labwire_fw`, a `forward` chain whose
 * policy is the default action, `ct state established,related accept` first (minirouter's ESTABLISHED
 * chain), then each NIC's rules in order (NIC `i` is `veth<i>` in the namespace), and one regular chain per
 * fw chain, ending in its default.
 *
 * @module
 */

import { fwFilters, type RouterFw, type RouterFwRule } from "../lab/router_config.ts";

/** The match of one endpoint (`ip`, `ip/n`, `ip:port`) in `direction`. */
function endpoint(which: "s" | "d", spec: string, proto: string): string[] {
  if (spec === "") return [];
  const colon = spec.indexOf(":");
  const ip = colon < 0 ? spec : spec.slice(0, colon);
  const out = [`ip ${which}addr ${ip}`];
  if (colon >= 0) out.push(`${proto} ${which}port ${spec.slice(colon + 1)}`);
  return out;
}

/** One rule's text, with its verdict (a chain's name jumps to it). */
function ruleText(rule: RouterFwRule, iface: string): string {
  const words: string[] = [];
  if (iface !== "") words.push(iface);
  const ports = rule.src.includes(":") || rule.dst.includes(":");
  if (rule.proto !== "" && rule.proto !== "all" && !ports) words.push(`ip protocol ${rule.proto}`);
  words.push(...endpoint("s", rule.src, rule.proto), ...endpoint("d", rule.dst, rule.proto));
  const verdict = ["accept", "drop", "reject"].includes(rule.action) ? rule.action : `jump fw_${rule.action}`;
  words.push(verdict);
  return words.join(" ");
}

/**
 * The nftables script that makes a namespace's firewall exactly `fw`: it replaces table `ip labwire_fw`
 * whole (made first, so that its deletion never fails), or only removes it for a firewall that lets all
 * through.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { firewallScript } from "./nft_fw.ts";
 * const script = firewallScript({
 *   default: "drop",
 *   rules: [{ nic: 0, direction: "in", action: "accept", src: "", dst: "10.0.1.5:80", proto: "tcp" }],
 *   chains: {},
 * });
 * assert.match(script, /policy drop;/);
 * assert.match(script, /iifname "veth0" ip daddr 10\.0\.1\.5 tcp dport 80 accept/);
 * ```
 */
export function firewallScript(fw: RouterFw): string {
  const lines = ["table ip labwire_fw {}", "delete table ip labwire_fw"];
  const chains = Object.keys(fw.chains).sort();
  if (!fwFilters(fw)) return `${lines.join("\n")}\n`;
  lines.push("table ip labwire_fw {");
  for (const name of chains) {
    const chain = fw.chains[name]!;
    lines.push(`  chain fw_${name} {`);
    for (const rule of chain.rules) lines.push(`    ${ruleText(rule, "")}`);
    lines.push(`    ${chain.default}`, "  }");
  }
  lines.push(
    "  chain forward {",
    `    type filter hook forward priority filter; policy ${fw.default};`,
    "    ct state established,related accept",
  );
  const nics = [...new Set(fw.rules.map((r) => r.nic))].sort((a, b) => a - b);
  for (const nic of nics) {
    for (const rule of fw.rules.filter((r) => r.nic === nic)) {
      const iface = `${rule.direction === "in" ? "iifname" : "oifname"} "veth${nic}"`;
      lines.push(`    ${ruleText(rule, iface)}`);
    }
  }
  lines.push("  }", "}");
  return `${lines.join("\n")}\n`;
}
