// Runtime-neutral.
/**
 * The typed records of minimega's tables: what `vlans`, `vm info`, `tap`, `bridge`, `capture`, `tap
 * mirror` and `namespace` show, as data (numbers for VLANs and NIC indexes, aliases apart), made from the
 * lab model's records. The command tables print these; the typed API returns them.
 *
 * @module
 */

import type { LabModel } from "./model.ts";
import { DISCONNECTED, type VmState, type VmType } from "./records.ts";

/** An alias and its VLAN (a row of `vlans`). */
export interface VlanInfo {
  /** The alias, as the namespace sees it (`DMZ`, or `other//DMZ` for another namespace's). */
  readonly alias: string;
  /** The VLAN. */
  readonly vlan: number;
}

/** A VM NIC (an item of the networking columns of `vm info`). */
export interface NicInfo {
  /** Its position in the VM. */
  readonly index: number;
  /** Its tap: the port's and the host device's name. */
  readonly tap: string;
  /** Whether it is on a bridge. */
  readonly connected: boolean;
  /** Its bridge, when connected. */
  readonly bridge: string | undefined;
  /** Its VLAN, when connected. */
  readonly vlan: number | undefined;
  /** The alias of its VLAN in the VM's namespace, when it has one. */
  readonly alias: string | undefined;
  /** Its MAC. */
  readonly mac: string;
  /** Its QEMU NIC model ("" for containers). */
  readonly driver: string;
  /** Whether its port is a QinQ (dot1q-tunnel) port. */
  readonly qinq: boolean;
  /** Its IPv4 addresses, `10.0.0.1/24`. */
  readonly ips: readonly string[];
}

/** A VM (a row of `vm info`). */
export interface VmInfo {
  /** Its id, unique in the lab. */
  readonly id: number;
  /** Its name. */
  readonly name: string;
  /** Its namespace. */
  readonly namespace: string;
  /** `kvm` or `container`. */
  readonly type: VmType;
  /** minimega's state: BUILDING, PAUSED, RUNNING, QUIT or ERROR. */
  readonly state: VmState;
  /** Its NICs, in order. */
  readonly nics: readonly NicInfo[];
}

/** A host tap (a row of `tap`). */
export interface TapInfo {
  /** Its name. */
  readonly name: string;
  /** Its namespace. */
  readonly namespace: string;
  /** Its bridge. */
  readonly bridge: string;
  /** Its VLAN. */
  readonly vlan: number;
  /** The alias of its VLAN in its namespace, when it has one. */
  readonly alias: string | undefined;
  /** Its MAC. */
  readonly mac: string;
  /** Its IPv4 addresses, `10.0.0.1/24`. */
  readonly ips: readonly string[];
}

/** A capture (a row of `capture`). */
export interface CaptureInfo {
  /** Its id, never reused. */
  readonly id: number;
  /** Its namespace. */
  readonly namespace: string;
  /** `vm` (a VM NIC's frames) or `bridge` (every frame on a bridge). */
  readonly kind: "vm" | "bridge";
  /** The bridge captured, or the bridge of the NIC. */
  readonly bridge: string;
  /** The VM, for a VM capture. */
  readonly vm: string | undefined;
  /** The NIC index, for a VM capture. */
  readonly nic: number | undefined;
  /** The port whose frames are kept. */
  readonly port: string;
  /** The pcap file, or undefined for a capture kept in memory. */
  readonly path: string | undefined;
  /** Bytes kept per frame. */
  readonly snaplen: number;
  /** Its BPF filter, or "". */
  readonly filter: string;
}

/** A namespace (a row of `namespace`). */
export interface NamespaceInfo {
  /** Its name. */
  readonly name: string;
  /** Whether commands run in it. */
  readonly active: boolean;
  /** Its own VLAN range, half-open; the default namespace shows the global one. */
  readonly vlanRange: { readonly min: number; readonly max: number } | undefined;
}

function aliasOf(model: LabModel, namespace: string, vlan: number): string | undefined {
  const alias = model.vlans.aliasFor(namespace, vlan);
  return alias === "" ? undefined : alias;
}

/** A namespace's aliases, as `vlans` lists them. */
export function vlanInfo(model: LabModel, namespace: string): VlanInfo[] {
  return model.vlans.aliases(namespace).map(({ alias, vlan }) => ({ alias, vlan }));
}

/** A namespace's VMs, by id, as `vm info` lists them. */
export function vmInfo(model: LabModel, namespace: string): VmInfo[] {
  return model.vms.list(namespace).map((vm) => ({
    id: vm.id,
    name: vm.name,
    namespace: vm.namespace,
    type: vm.type,
    state: vm.state,
    nics: vm.nics.map((n, index): NicInfo => {
      const connected = n.vlan !== DISCONNECTED && n.bridge !== "";
      return {
        index,
        tap: n.tap,
        connected,
        bridge: connected ? n.bridge : undefined,
        vlan: connected ? n.vlan : undefined,
        alias: connected ? aliasOf(model, vm.namespace, n.vlan) : undefined,
        mac: n.mac,
        driver: n.driver,
        qinq: n.qinq,
        ips: [...n.ips],
      };
    }),
  }));
}

/** A namespace's host taps, by name, as `tap` lists them. */
export function tapInfo(model: LabModel, namespace: string): TapInfo[] {
  return model.taps.list(namespace).map((t) => ({
    name: t.name,
    namespace: t.namespace,
    bridge: t.bridge,
    vlan: t.vlan,
    alias: aliasOf(model, namespace, t.vlan),
    mac: t.mac,
    ips: [...t.ips],
  }));
}

/** A namespace's captures, by id, as `capture` lists them. */
export function captureInfo(model: LabModel, namespace: string): CaptureInfo[] {
  return model.captures.list(namespace).map((c) => ({
    id: c.id,
    namespace: c.namespace,
    kind: c.vm === undefined ? "bridge" : "vm",
    bridge: c.bridge,
    vm: c.vm,
    nic: c.nic,
    port: c.port,
    path: c.path,
    snaplen: c.snaplen,
    filter: c.filter,
  }));
}

/** The namespaces, sorted, as `namespace` lists them. */
export function namespaceInfo(model: LabModel): NamespaceInfo[] {
  return model.namespaceNames().map((name) => {
    const range = model.vlans.range(name);
    return {
      name,
      active: name === model.activeNamespace,
      vlanRange: range === undefined ? undefined : { min: range.min, max: range.max },
    };
  });
}
