// Runtime-neutral.
/**
 * minimega's tables, made from the lab model's records: `vm info`, `tap`, `bridge` and `capture`. Cells
 * are formatted here, once: a VLAN as `DMZ (101)`, a list of NICs as `[a, b]`.
 *
 * @module
 */

import type { LabModel } from "../lab/model.ts";
import { DISCONNECTED } from "../lab/records.ts";
import { cidrAddress } from "../lab/rules.ts";

/** The `[a, b]` form of `vm info` cells. */
export function infoList(items: readonly string[]): string {
  return `[${items.join(", ")}]`;
}

/** The rows of `vm info`, networking columns, for a namespace. */
export function vmInfoRows(lab: LabModel, namespace: string): string[][] {
  const vlans = lab.vlans;
  return lab.vms.list(namespace).map((vm) => {
    const qinq = vm.nics.filter((n) => n.qinq && n.bridge !== "").map((n) => `${n.tap} (${n.vlan})`);
    return [
      String(vm.id),
      vm.name,
      vm.state,
      vm.type,
      infoList(
        vm.nics.map((n) => n.vlan === DISCONNECTED ? "disconnected" : vlans.format(vm.namespace, n.vlan)),
      ),
      infoList(vm.nics.map((n) => n.bridge)),
      infoList(vm.nics.map((n) => n.tap)),
      infoList(vm.nics.map((n) => n.mac)),
      infoList(vm.nics.map((n) => n.ips.map(cidrAddress).join(" "))),
      infoList(vm.nics.map(() => "")),
      "[]",
      infoList(qinq),
      "[]",
    ];
  });
}

/** The rows of `tap`: bridge, tap, VLAN, for a namespace's host taps. */
export function tapRows(lab: LabModel, namespace: string): string[][] {
  return lab.taps.list(namespace).map((t) => [t.bridge, t.name, lab.vlans.format(namespace, t.vlan)]);
}

/** The rows of `bridge`: bridge, preexisting, vlans, trunks, tunnels, bonds, config. */
export function bridgeRows(lab: LabModel, namespace: string): string[][] {
  return lab.bridgeInfo().map((b) => [
    b.name,
    String(b.preexisting),
    `[${b.vlans.map((v) => lab.vlans.format(namespace, v)).sort().join(" ")}]`,
    `[${b.trunks.join(" ")}]`,
    "[]",
    "[]",
    JSON.stringify(b.config),
  ]);
}

/** The rows of `capture`: bridge, type, interface, mode, compress, path. */
export function captureRows(lab: LabModel, namespace: string): string[][] {
  return lab.captures.list(namespace).map((c) => [
    c.bridge,
    "pcap",
    c.vm === undefined ? "" : `${c.vm}:${c.nic}`,
    "",
    "",
    c.path ?? "",
  ]);
}
