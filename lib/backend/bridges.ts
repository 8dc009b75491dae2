// Runtime-neutral.
/**
 * The backend contract for bridges and ports: what carries a lab's frames makes its bridges, puts ports on
 * them with their VLAN modes, joins patch ports and keeps mirrors, as Open vSwitch does. The lab model has
 * decided everything minimega's rules decide (names, VLANs, errors); a backend only realises it.
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
  /** For a VM NIC: which VM and NIC, the VM's kind (a container's NIC is a veth into its namespace), and whether it runs. */
  readonly vm?: {
    readonly name: string;
    readonly namespace: string;
    readonly id: number;
    readonly nic: number;
    readonly type: "kvm" | "container";
    /** Whether the VM runs: the endpoint of a VM that does not answers nothing and sends nothing. */
    readonly running: boolean;
  };
}

/** Options for {@linkcode BridgeBackend.removePorts}. */
export interface RemovePortsOptions {
  /** Keep the VM NICs and host taps behind the ports, unplugged. @default {false} */
  readonly keepNics?: boolean;
}

/** What {@linkcode BridgeBackend.addBridge} found. */
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

/** Bridges, ports, patch links and mirrors. */
export interface BridgeBackend {
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
  /** Whether the host already has a network device of that name (new tap names skip it). */
  nameInUse?(name: string): boolean;
}
