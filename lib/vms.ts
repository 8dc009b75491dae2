// Runtime-neutral.
/**
 * VMs as the networking half of minimega sees them: a name, a kind, a state and NICs, each NIC a tap
 * on a bridge with a VLAN and a MAC. Plain data, so that it round-trips through JSON with the lab.
 *
 * @module
 */

/** The kinds of VM minimega launches. */
export type VmType = "kvm" | "container";

/** minimega's VM states. */
export type VmState = "BUILDING" | "PAUSED" | "RUNNING" | "QUIT" | "ERROR";

/** The VLAN of a NIC that is not connected to any bridge. */
export const DISCONNECTED = -1;

/** A VM's NIC. */
export interface VmNic {
  /** Its bridge; "" when disconnected. */
  readonly bridge: string;
  /** Its VLAN; {@linkcode DISCONNECTED} when disconnected. */
  readonly vlan: number;
  /** Its MAC, lower-case colons. */
  readonly mac: string;
  /** The QEMU NIC model (containers ignore it). */
  readonly driver: string;
  /** Whether it is a QinQ (dot1q-tunnel) port. */
  readonly qinq: boolean;
  /** Its tap, e.g. `mega_tap2`. */
  readonly tap: string;
  /** IPv4 addresses the guest has on it (`vm net ip`), `10.0.0.1/24`. */
  readonly ips: readonly string[];
}

/** A VM. */
export interface Vm {
  /** Its id, unique in the lab. */
  readonly id: number;
  /** Its name, unique in its namespace. */
  readonly name: string;
  /** Its namespace. */
  readonly namespace: string;
  /** `kvm` or `container`. */
  readonly type: VmType;
  /** Its state. */
  state: VmState;
  /** Its NICs, in order. */
  nics: VmNic[];
}

/** A mistake naming a VM or a NIC, in minimega's words. */
export class VmError extends Error {
  override name = "VmError";
}

/**
 * Reads a NIC index the way minimega does (Go's Atoi).
 *
 * @throws {VmError} `` invalid interface number: `x` `` (or `invalid interface: ...` with `short`).
 */
export function parseNicIndex(s: string, options: { short?: boolean } = {}): number {
  if (!/^[+-]?\d+$/.test(s) || !Number.isSafeInteger(Number(s))) {
    throw new VmError(`invalid interface${options.short ? "" : " number"}: \`${s}\``);
  }
  return Number(s);
}

/**
 * A VM's NIC by index.
 *
 * @throws {VmError} `no such interface N for <vm>`.
 */
export function nicOf(vm: Vm, index: number): VmNic {
  const nic = vm.nics[index];
  if (nic === undefined || index < 0) throw new VmError(`no such interface ${index} for ${vm.name}`);
  return nic;
}

/** The `[a, b]` form of `vm info` cells. */
export function infoList(items: readonly string[]): string {
  return `[${items.join(", ")}]`;
}
