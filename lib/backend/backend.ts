// Runtime-neutral.
/**
 * The whole backend contract: what carries a lab's frames (the simulator in `sim/`, or Open vSwitch in
 * `lib/real/`) implements each concern, {@linkcode BridgeBackend}, {@linkcode EndpointBackend},
 * {@linkcode VmRunner} and {@linkcode CaptureBackend}, and says how long what it makes lives. The lab model
 * asks; a backend never calls back into the lab or the command language.
 *
 * @module
 */

import type { BridgeBackend } from "./bridges.ts";
import type { CaptureBackend } from "./captures.ts";
import type { EndpointBackend } from "./endpoints.ts";
import type { RoutingBackend } from "./routing.ts";
import type { UplinkBackend } from "./uplink.ts";
import type { ServicesBackend } from "./services.ts";
import type { FirewallBackend } from "./firewall.ts";
import type { VmRunner } from "./vms.ts";

/** A backend: bridges and ports, endpoints, VMs and captures, and their lifetime. */
export interface Backend
  extends
    BridgeBackend,
    EndpointBackend,
    VmRunner,
    CaptureBackend,
    Partial<RoutingBackend>,
    Partial<UplinkBackend>,
    Partial<ServicesBackend>,
    Partial<FirewallBackend> {
  /** `sim`, `ovs`, or a name of a test's own. */
  readonly name: string;
  /** Whether the backend keeps the lab between processes (Open vSwitch does; the simulator does not). */
  readonly persistent?: boolean;
  /**
   * Whether the VMs it runs itself outlive this process: Open vSwitch's with a state file (QEMU detached).
   * Closing the lab then leaves them running, RUNNING or PAUSED in the saved lab, for a later process to
   * drive; otherwise KVM VMs are killed and marked QUIT. @default {false}
   */
  readonly keepsVms?: boolean;
  /** Completes what must be completed before the process ends (captures' files). */
  close?(): Promise<void>;
  /**
   * Removes whatever labwire made in the backend, for any lab, by this process or an earlier one that
   * crashed (`nuke`, as minimega's).
   */
  nuke?(): Promise<void>;
}
