// Runtime-neutral.
/**
 * The lab's facts, one record each, as plain data: what the rooms of the lab model keep, what a state
 * file holds ({@linkcode LabState}), and what the typed API and the command tables are made from.
 *
 * A VM NIC is its VM's record (its port is its tap, on its bridge, with its VLAN); a host tap, a mirror, a
 * patch link and a capture are one record each; a bridge's record holds only what is the bridge's own
 * (trunks, `bridge config`, whether it was there before). Which ports are on which bridge is derived.
 *
 * @module
 */

import type { Netspec } from "../netspec.ts";
import type { RouterConfig, RouterPlan } from "./router_config.ts";
import type { VlansState } from "../vlans.ts";

/** The kinds of VM minimega launches. */
export type VmType = "kvm" | "container";

/** minimega's VM states. */
export type VmState = "BUILDING" | "PAUSED" | "RUNNING" | "QUIT" | "ERROR";

/** The VLAN of a NIC that is not connected to any bridge. */
export const DISCONNECTED = -1;

/** A VM NIC as configured: the netspec and the VLAN its token resolved to. */
export interface NicConfig extends Netspec {
  /** The VLAN number the alias or number resolved to when the NIC was configured. */
  readonly vlanId: number;
}

/** A VM's NIC. */
export interface NicRecord {
  /** Its tap (the port's and the host device's name), e.g. `mega_tap2`. */
  readonly tap: string;
  /** Its bridge; "" when disconnected. */
  readonly bridge: string;
  /** Its VLAN; {@linkcode DISCONNECTED} when disconnected. */
  readonly vlan: number;
  /** Its MAC, lower-case colons. */
  readonly mac: string;
  /** The QEMU NIC model; "" for containers. */
  readonly driver: string;
  /** Whether its port is a QinQ (dot1q-tunnel) port. */
  readonly qinq: boolean;
  /** IPv4 addresses the guest has on it (`vm net ip`), `10.0.0.1/24`. */
  readonly ips: readonly string[];
}

/** A VM. */
export interface VmRecord {
  /** Its id, unique in the lab, never reused. */
  readonly id: number;
  /** Its name, unique in its namespace. */
  readonly name: string;
  /** Its namespace. */
  readonly namespace: string;
  /** `kvm` or `container`. */
  readonly type: VmType;
  /** Its state. */
  readonly state: VmState;
  /** Its NICs, in order. */
  readonly nics: readonly NicRecord[];
}

/** A host tap (`tap create`). */
export interface TapRecord {
  /** Its name. */
  readonly name: string;
  /** The namespace it belongs to. */
  readonly namespace: string;
  /** Its bridge. */
  readonly bridge: string;
  /** Its VLAN. */
  readonly vlan: number;
  /** The MAC of its interface. */
  readonly mac: string;
  /** Its IPv4 addresses, `10.0.0.1/24`. */
  readonly ips: readonly string[];
}

/** A mirror of one port's traffic to another on a bridge (`tap mirror`). */
export interface MirrorRecord {
  /** Its name: `mirror-<output>`. */
  readonly name: string;
  /** The namespace it belongs to. */
  readonly namespace: string;
  /** The bridge of both ports. */
  readonly bridge: string;
  /** The port whose frames (both ways) are copied. */
  readonly source: string;
  /** The port that gets the copies (reserved for mirroring). */
  readonly output: string;
}

/** A patch link between two bridges (`bridge patch`): `patch-<b>` on a, `patch-<a>` on b. */
export interface PatchRecord {
  /** One end. */
  readonly a: { readonly bridge: string; readonly port: string };
  /** The other end. */
  readonly b: { readonly bridge: string; readonly port: string };
}

/** A bridge's own settings. */
export interface BridgeRecord {
  /** Its name. */
  readonly name: string;
  /** The backend found it and did not make it: never deleted. */
  readonly preexisting: boolean;
  /** Interfaces trunked into it, in the order added. */
  readonly trunks: readonly string[];
  /** `bridge config` settings. */
  readonly config: Readonly<Record<string, string>>;
}

/** A packet capture. */
export interface CaptureRecord {
  /** Its id, never reused. */
  readonly id: number;
  /** The namespace it was started in. */
  readonly namespace: string;
  /** The bridge captured, or the bridge of the VM's NIC. */
  readonly bridge: string;
  /** The VM, for a VM capture. */
  readonly vm?: string;
  /** The NIC index, for a VM capture. */
  readonly nic?: number;
  /** The port whose frames are kept: the VM's tap, or the capture tap of a bridge capture. */
  readonly port: string;
  /** For a bridge capture: its capture tap (fed by a select-all mirror `mirror-<tap>`). */
  readonly tap?: string;
  /** The pcap file, or undefined for a capture kept in memory. */
  readonly path?: string;
  /** Bytes kept of each frame. */
  readonly snaplen: number;
  /** The BPF filter, or "". */
  readonly filter: string;
}

/** A VM's router (`router <vm> ...`): its configuration and what its last commit applied. */
export interface RouterRecord {
  /** The VM's id (minimega keys routers by VM id). */
  readonly vm: number;
  /** The VM's namespace. */
  readonly namespace: string;
  /** What `router <vm> ...` configured. */
  readonly config: RouterConfig;
  /** What the last commit applied, or undefined before the first. */
  readonly committed?: RouterPlan;
  /**
   * The NICs whose DHCP client waits for the VM to start: a commit on a paused VM takes its leases when
   * it starts, as minirouter's dhclient runs when the guest boots. Absent when none waits.
   */
  readonly leasesPending?: readonly number[];
}

/** A DHCP and DNS server on a host tap (`dnsmasq start`). */
export interface DnsmasqRecord {
  /** Its id, from 0, never reused. */
  readonly id: number;
  /** The address it listens on, or "" for a server made from a configuration file only. */
  readonly listen: string;
  /** The first address of its range. */
  readonly low: string;
  /** The last address of its range. */
  readonly high: string;
  /** A dnsmasq configuration file of the user's, or "". */
  readonly config: string;
  /** The host tap it serves on, and its bridge. */
  readonly tap: string;
  /** The tap's bridge. */
  readonly bridge: string;
  /** The tap's address that is the listen address, with its prefix ("" without one). */
  readonly cidr: string;
  /** Static leases: MAC to address. */
  readonly statics: Readonly<Record<string, string>>;
  /** DNS names: address to host name. */
  readonly hostnames: Readonly<Record<string, string>>;
  /** Upstream DNS servers. */
  readonly upstreams: readonly string[];
  /** DHCP options, as dnsmasq writes them. */
  readonly options: readonly string[];
  /** Where its files are, or "". */
  readonly path: string;
  /** Its process, or -1. */
  readonly pid: number;
}

/** A way out of a VLAN to the host's uplink (`nat`). */
export interface NatRecord {
  /** The namespace that opened it. */
  readonly namespace: string;
  /** The VLAN. */
  readonly vlan: number;
  /** Its host tap on the VLAN, holding the gateway address: `lwnat<vlan>`. */
  readonly tap: string;
  /** The gateway address, with the VLAN's subnet: `10.0.0.1/24`. */
  readonly gateway: string;
  /** The host's interface to the outside. */
  readonly uplink: string;
}

/** The fields of a VM config besides its networks, as minimega's `vm config` sets them. */
export interface VmConfigFields {
  /** Memory in MiB. @default {"2048"} */
  readonly memory: string;
  /** Virtual CPUs. @default {"1"} */
  readonly vcpus: string;
  /** A kernel to boot directly, or "". */
  readonly kernel: string;
  /** Its initrd, or "". */
  readonly initrd: string;
  /** The kernel command line, or "". */
  readonly append: string;
  /** Disk images. */
  readonly disks: readonly string[];
}

/** A namespace's VM config: what `vm launch` gives the VMs it makes. */
export interface VmConfigRecord extends VmConfigFields {
  /** The NICs. */
  readonly networks: readonly NicConfig[];
}

/** What a namespace owns besides its VLAN aliases, its VMs, taps, mirrors and captures. */
export interface NamespaceRecord {
  /** Its VM config. */
  readonly vmConfig: VmConfigRecord;
  /** `capture pcap snaplen`: 0 when unset (1600 is used). */
  readonly snaplen: number;
  /** `capture pcap filter`. */
  readonly filter: string;
}

/** The counters that make names and ids, never going back. */
export interface LabCounters {
  /** The next VM id. */
  readonly vm: number;
  /** The next capture id. */
  readonly capture: number;
  /** The number of the next `mega_tapN` name. */
  readonly tap: number;
  /** How many MACs the generator has made. */
  readonly mac: number;
}

/** A lab's state as plain JSON: what a state file holds (format version 2). */
export interface LabState {
  /** The format version. */
  readonly version: 2;
  /** The active namespace. */
  readonly active: string;
  /** The VLAN alias table. */
  readonly vlans: VlansState;
  /** The namespaces, by name. */
  readonly namespaces: Readonly<Record<string, NamespaceRecord>>;
  /** The bridges, by name. */
  readonly bridges: Readonly<Record<string, BridgeRecord>>;
  /** The VMs, by id. */
  readonly vms: readonly VmRecord[];
  /** The host taps, by name. */
  readonly taps: readonly TapRecord[];
  /** The mirrors, by name. */
  readonly mirrors: readonly MirrorRecord[];
  /** The patch links. */
  readonly patches: readonly PatchRecord[];
  /** The captures running. */
  readonly captures: readonly CaptureRecord[];
  /** The routers, by VM id (missing in files of labwire before routers: none). */
  readonly routers?: readonly RouterRecord[];
  /** The ways out, by VLAN (missing when there are none). */
  readonly nats?: readonly NatRecord[];
  /** The dnsmasq servers, and the next one's id (missing when none was ever started). */
  readonly dnsmasq?: { readonly next: number; readonly servers: readonly DnsmasqRecord[] };
  /** Ids and names handed out so far. */
  readonly counters: LabCounters;
}
