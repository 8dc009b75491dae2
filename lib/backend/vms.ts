// Runtime-neutral.
/**
 * The backend contract for running VMs: a backend launches the VMs whose NICs it has plugged, paused, and
 * starts, pauses and ends them, a whole `vm launch` or `vm start all` in one call. A VM that does not run
 * (launched and not started, stopped, or killed) answers nothing and forwards nothing, on every backend.
 *
 * @module
 */

/** A VM whose NICs are plugged. */
export interface VmSpec {
  /** Its name, unique in its namespace. */
  readonly name: string;
  /** Its lab namespace. */
  readonly namespace: string;
  /** Its id, unique in the lab. */
  readonly id: number;
  /** `kvm` or `container`. */
  readonly type: "kvm" | "container";
  /** Its NICs, in order: tap, model, MAC. */
  readonly nics: readonly { readonly tap: string; readonly driver: string; readonly mac: string }[];
  /** Memory in MiB. */
  readonly memory: number;
  /** Virtual CPUs. */
  readonly vcpus: number;
  /** A kernel to boot, or "". */
  readonly kernel: string;
  /** Its initrd, or "". */
  readonly initrd: string;
  /** The kernel command line, or "". */
  readonly append: string;
  /** Disk images. */
  readonly disks: readonly string[];
}

/** Launches, starts, pauses and ends VMs. */
export interface VmRunner {
  /**
   * Launches VMs, paused, once their NICs are plugged (QEMU for KVM VMs; a container is its namespace).
   * All or nothing: when one fails, the VMs this call launched are ended again.
   */
  launchVms(vms: readonly VmSpec[]): Promise<void>;
  /** Runs paused VMs. */
  startVms(vms: readonly VmSpec[]): Promise<void>;
  /** Pauses running VMs: they answer nothing and forward nothing. */
  stopVms(vms: readonly VmSpec[]): Promise<void>;
  /** Ends VMs (a KVM VM's taps stay, as minimega's do); they answer nothing. */
  killVms(vms: readonly VmSpec[]): Promise<void>;
  /**
   * Adds NICs to a VM that runs (`vm net add`): the backend's VM gets them now, as minimega hot-plugs
   * them into QEMU. Their ports are plugged already. `nics` are positions in `vm.nics`.
   */
  hotplugNics(vm: VmSpec, nics: readonly number[]): Promise<void>;
  /**
   * The VMs among `vms` (launched, not killed) whose process ended without being asked to (a QEMU that
   * crashed or was killed from outside), each with why. Backends whose VMs cannot end so leave it out.
   */
  exitedVms?(vms: readonly VmSpec[]): Promise<Map<string, string>>;
}
