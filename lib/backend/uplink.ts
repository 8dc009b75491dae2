// Runtime-neutral.
/**
 * The part of the backend contract for a way out: the VMs of a VLAN reach the host's uplink through a
 * host tap that is their gateway, masqueraded as the uplink's address (minimega's NAT article, made safe:
 * lib/lab/nat.ts).
 *
 * @module
 */

/** One way out: which tap the lab's traffic comes in through, from which subnet, out of which uplink. */
export interface UplinkSpec {
  /** The host tap that is the VLAN's gateway. */
  readonly tap: string;
  /** The VLAN's subnet, `10.0.0.0/24`: only its traffic is masqueraded. */
  readonly subnet: string;
  /** The host's interface to the outside, `eth0`. */
  readonly uplink: string;
}

/** A backend that can let a lab out. */
export interface UplinkBackend {
  /**
   * Lets the subnet out through the uplink: forwarding on (remembering the host's setting, to restore it
   * when the last way out closes) and a table of labwire's own in the firewall (masquerading, forwarding
   * between the tap and the uplink only, nothing from the lab to the host but answers and pings to its
   * gateway). Nothing else of the host's is changed.
   */
  openUplink(spec: UplinkSpec): Promise<void>;
  /** Closes a way out: its table goes; the host's forwarding is restored when no way out is left. */
  closeUplink(spec: UplinkSpec): Promise<void>;
}
