// Runtime-neutral.
/**
 * The one interface between the lab model and what carries its frames: the simulator (`sim/`) or
 * Open vSwitch. The lab model decides everything minimega's rules decide (names, VLANs, errors) and
 * asks its backend to realise the result: bridges, ports, mirrors, addresses, captures, pings.
 *
 * @module
 */

/** How a port treats VLANs, as Open vSwitch does. */
export type PortMode =
  | { readonly kind: "access"; readonly tag: number }
  | { readonly kind: "trunk"; readonly trunks?: readonly number[] }
  | { readonly kind: "dot1q-tunnel"; readonly tag: number };

/** What a port is for. */
export type PortRole = "vm" | "host" | "capture" | "trunk" | "tunnel" | "patch";

/** A port as the lab model wants it. */
export interface PortSpec {
  /** The port's (and its interface's) name, e.g. `mega_tap3`. */
  readonly name: string;
  /** Its VLAN mode. */
  readonly mode: PortMode;
  /** What it is for. */
  readonly role: PortRole;
  /** The MAC of the endpoint behind it (VM NIC, host tap), if it has one. */
  readonly mac?: string;
  /** For a VM NIC: which VM and NIC, and the VM's kind (a container's NIC is a veth into its namespace). */
  readonly vm?: {
    readonly name: string;
    readonly namespace: string;
    readonly id: number;
    readonly nic: number;
    readonly type: "kvm" | "container";
  };
}

/** Options for {@linkcode Backend.removePorts}. */
export interface RemovePortsOptions {
  /** Keep the VM NICs and host taps behind the ports, unplugged. @default {false} */
  readonly keepNics?: boolean;
}

/** What {@linkcode Backend.addBridge} found. */
export interface AddedBridge {
  /** The bridge existed and the backend did not make it (minimega's "preexisting"). */
  readonly preexisting: boolean;
}

/** A mirror as the lab model wants it. */
export interface MirrorSpec {
  /** Its name, e.g. `mirror-mega_tap5`. */
  readonly name: string;
  /** Mirror every port's traffic. */
  readonly selectAll: boolean;
  /** Ports whose received frames are mirrored. */
  readonly selectSrc: readonly string[];
  /** Ports whose transmitted frames are mirrored. */
  readonly selectDst: readonly string[];
  /** The port that gets the copies. */
  readonly output: string;
}

/** A capture as the lab model wants it. */
export interface CaptureSpec {
  /** The capture's id, unique for the lab's lifetime. */
  readonly id: number;
  /** The bridge of the port captured. */
  readonly bridge: string;
  /** The port whose frames are written. */
  readonly port: string;
  /** The pcap file. */
  readonly path: string;
  /** Bytes kept of each frame. */
  readonly snaplen: number;
  /** A BPF filter, or "". */
  readonly filter: string;
}

/**
 * How labwire's `ping` paces its echo requests on every backend, as `ping -i 0.2` does: 200 ms apart.
 */
export const PING_INTERVAL_MS = 200;

/**
 * How long labwire's `ping` waits after its last echo request when no reply has come at all, as
 * `ping -W 2.5` does (with replies, it waits twice the longest round trip, at least one interval).
 * 2.5 s lies between the second and third ARP retransmission of Linux (1 s apart, 3 in all), so a
 * ping to an address nobody answers always shows its three ARP requests, on the simulator as on a
 * real kernel, and never races the kernel's timers.
 */
export const PING_WAIT_MS = 2500;

/** The result of a ping. */
export interface PingResult {
  /** Echo requests sent. */
  readonly sent: number;
  /** Echo replies received. */
  readonly received: number;
}

/** A VM whose NICs are plugged, for backends that run VMs themselves (QEMU). */
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
  /** Memory in MiB, virtual CPUs, kernel, initrd, kernel command line, disk images. */
  readonly memory: number;
  readonly vcpus: number;
  readonly kernel: string;
  readonly initrd: string;
  readonly append: string;
  readonly disks: readonly string[];
}

/** Realises the lab model's bridges, ports, mirrors and captures. */
export interface Backend {
  /** `sim` or `ovs`. */
  readonly name: string;
  /**
   * Creates a bridge (no error if it exists). A backend that finds a bridge it did not make (someone's own
   * Open vSwitch bridge) says it is preexisting: the lab then lists it so and never deletes it.
   */
  addBridge(bridge: string): Promise<AddedBridge | void>;
  /**
   * Sets a bridge setting (`bridge config`: an Open vSwitch `Bridge` column, or `column:key`).
   *
   * @throws {Error} `set config failed: ...` when the backend refuses it (minimega's words).
   */
  configureBridge?(bridge: string, key: string, value: string): Promise<void>;
  /**
   * Removes a bridge the lab no longer uses (its ports are gone). A backend shared with other labs keeps
   * one that something else still uses, or that it did not make.
   */
  removeBridge(bridge: string): Promise<void>;
  /**
   * Adds ports to a bridge, all a step has for that bridge in one call (every NIC of a `vm launch`), so
   * that a backend can make them in one go. All or nothing: when it fails, none of them is left.
   */
  addPorts(bridge: string, ports: readonly PortSpec[]): Promise<void>;
  /**
   * Removes ports from a bridge, in one go; with `keepNics`, the VM NICs and host taps behind them stay,
   * unplugged (`vm net disconnect`, or a move to another VLAN): their devices, addresses and neighbour
   * caches, ready for a later `addPorts` of the same names.
   */
  removePorts(bridge: string, ports: readonly string[], options?: RemovePortsOptions): Promise<void>;
  /**
   * Destroys VM NICs kept off every bridge by `removePorts(..., { keepNics: true })` (a disconnected
   * NIC's VM is flushed, or a container killed); a NIC that is gone already is no error.
   */
  destroyNics?(nics: readonly PortSpec[]): Promise<void>;
  /** Joins two existing patch ports (OVS `type=patch options:peer=...`): each one's frames enter the other's bridge. */
  addPatch(bridgeA: string, portA: string, bridgeB: string, portB: string): Promise<void>;
  /** Adds a mirror. */
  addMirror(bridge: string, mirror: MirrorSpec): Promise<void>;
  /** Removes a mirror. */
  removeMirror(bridge: string, mirror: string): Promise<void>;
  /** Gives the endpoint behind a port an IPv4 address (`10.0.0.1/24`); one it has already is no error. */
  addAddress(bridge: string, port: string, cidr: string): Promise<void>;
  /**
   * Gets the endpoint behind a port an address by DHCP.
   *
   * @returns The address, `10.0.0.7/24`.
   * @throws {Error} When no lease came in time: `Cannot get an address by DHCP for tap X: ...`.
   */
  dhcp(bridge: string, port: string): Promise<string>;
  /** Starts writing a port's frames to a pcap file. */
  startCapture(capture: CaptureSpec): Promise<void>;
  /** Stops a capture and completes its file. */
  stopCapture(id: number): Promise<void>;
  /** Sends echo requests from the endpoint behind a port. */
  ping(bridge: string, port: string, ip: string, count: number): Promise<PingResult>;
  /** Launches a VM, paused, once its NICs are plugged (backends that run VMs: QEMU for KVM VMs). */
  launchVm?(vm: VmSpec): Promise<void>;
  /**
   * Adds NICs to a VM that runs (`vm net add`): the backend's VM gets them now, as minimega hot-plugs
   * them into QEMU. Their ports are plugged already. `nics` are positions in `vm.nics`.
   */
  hotplugNics?(vm: VmSpec, nics: readonly number[]): Promise<void>;
  /** Runs a paused VM. */
  startVm?(vm: VmSpec): Promise<void>;
  /** Pauses a running VM. */
  stopVm?(vm: VmSpec): Promise<void>;
  /** Ends a VM (its NICs' taps stay, as minimega's KVM taps do). */
  killVm?(vm: VmSpec): Promise<void>;
  /** Completes what must be completed before the process ends (captures' files). */
  close?(): Promise<void>;
  /**
   * Removes whatever labwire made in the backend, for any lab, by this process or an earlier one that
   * crashed (`nuke`, as minimega's).
   */
  nuke?(): Promise<void>;
  /** Whether the host already has a network device of that name (new tap names skip it). */
  nameInUse?(name: string): boolean;
  /** Whether the backend keeps the lab between processes (Open vSwitch does; the simulator does not). */
  readonly persistent?: boolean;
  /**
   * Whether the VMs it runs itself ({@linkcode Backend.launchVm}) outlive this process: Open vSwitch's
   * with a state file (QEMU detached). `Lab.close()` then leaves them running, RUNNING or PAUSED
   * in the saved lab, for a later process to drive; otherwise it kills them and marks them QUIT.
   * @default {false}
   */
  readonly keepsVms?: boolean;
}

/**
 * A backend that realises nothing: the lab model's rules and tables without any frames. Pings get no
 * reply and captures write nothing. For tests of the model alone.
 */
export class NullBackend implements Backend {
  readonly name = "null";
  /** Does nothing. */
  addBridge(): Promise<void> {
    return Promise.resolve();
  }
  /** Does nothing. */
  removeBridge(): Promise<void> {
    return Promise.resolve();
  }
  /** Does nothing. */
  addPorts(): Promise<void> {
    return Promise.resolve();
  }
  /** Does nothing. */
  removePorts(): Promise<void> {
    return Promise.resolve();
  }
  /** Does nothing. */
  addPatch(): Promise<void> {
    return Promise.resolve();
  }
  /** Does nothing. */
  addMirror(): Promise<void> {
    return Promise.resolve();
  }
  /** Does nothing. */
  removeMirror(): Promise<void> {
    return Promise.resolve();
  }
  /** Does nothing. */
  addAddress(): Promise<void> {
    return Promise.resolve();
  }
  /** Fails: there is no DHCP server. */
  dhcp(_bridge: string, port: string): Promise<string> {
    return Promise.reject(
      new Error(`Cannot get an address by DHCP for tap ${port}: no DHCP server answered`),
    );
  }
  /** Does nothing. */
  startCapture(): Promise<void> {
    return Promise.resolve();
  }
  /** Does nothing. */
  stopCapture(): Promise<void> {
    return Promise.resolve();
  }
  /** Sends nothing: every echo is lost. */
  ping(_bridge: string, _port: string, _ip: string, count: number): Promise<PingResult> {
    return Promise.resolve({ sent: count, received: 0 });
  }
}
