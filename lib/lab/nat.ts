// Runtime-neutral.
/**
 * The way-out room: `nat <vlan> <gateway ip/mask> <uplink>` gives the VMs of a VLAN the host's uplink,
 * as minimega's NAT article does by hand, but owned by the lab: a host tap on the VLAN holds the gateway
 * address, and the backend masquerades the VLAN's subnet out of the uplink (lib/backend/uplink.ts).
 * `clear nat` (or `clear all`, or deleting the tap or its namespace) closes it and restores the host.
 *
 * @module
 */

import type { UplinkBackend, UplinkSpec } from "../backend/uplink.ts";
import { LabError } from "../errors.ts";
import type { Journal } from "./_journal.ts";
import type { NatRecord } from "./records.ts";
import { isIpv4Cidr, subnetOf } from "./router_config.ts";
import { deviceNameProblem } from "./rules.ts";

/** The tap of the way out of VLAN `vlan`. */
export function natTapName(vlan: number): string {
  return `lwnat${vlan}`;
}

/** The backend's spec of a way out. */
export function uplinkSpec(nat: NatRecord): UplinkSpec {
  const { network, prefix } = subnetOf(nat.gateway);
  const subnet = `${[24, 16, 8, 0].map((s) => (network >>> s) & 255).join(".")}/${prefix}`;
  return { tap: nat.tap, subnet, uplink: nat.uplink };
}

/** The lab's ways out, by tap. */
export class NatRoom {
  #journal: Journal;
  #backend: Partial<UplinkBackend>;
  #nats = new Map<string, NatRecord>();

  /** Makes the room. */
  constructor(journal: Journal, backend: Partial<UplinkBackend>) {
    this.#journal = journal;
    this.#backend = backend;
  }

  /** The ways out, of one namespace or of all, by VLAN. */
  list(namespace?: string): NatRecord[] {
    const all = [...this.#nats.values()].sort((a, b) => a.vlan - b.vlan);
    return namespace === undefined ? all : all.filter((n) => n.namespace === namespace);
  }

  /** The way out whose tap is `tap`, or undefined. */
  byTap(tap: string): NatRecord | undefined {
    return this.#nats.get(tap);
  }

  /**
   * Checks a way out before anything is made: the gateway an IPv4 address with its subnet, the uplink a
   * device name, one way out per VLAN, and no two ways out on overlapping subnets.
   *
   * @throws {LabError} With what is wrong.
   */
  check(vlan: number, gateway: string, uplink: string): void {
    if (!isIpv4Cidr(gateway)) {
      throw new LabError(
        "invalid-address",
        `Cannot open a way out with gateway '${gateway}': expected an address with its subnet, like 10.0.0.1/24`,
      );
    }
    const why = deviceNameProblem(uplink);
    if (why !== undefined) throw new LabError("invalid-name", `Cannot use uplink '${uplink}': ${why}`);
    if (this.#backend.openUplink === undefined) {
      throw new LabError("unsupported", "Cannot open a way out on this backend: it has no uplink");
    }
    if (this.#nats.has(natTapName(vlan))) {
      throw new LabError(
        "port-exists",
        `Cannot open a way out of VLAN ${vlan}: it has one (clear nat first)`,
      );
    }
    const mine = subnetOf(gateway);
    for (const other of this.#nats.values()) {
      const theirs = subnetOf(other.gateway);
      const mask = (mine.mask & theirs.mask) >>> 0;
      if (((mine.network & mask) >>> 0) === ((theirs.network & mask) >>> 0)) {
        throw new LabError(
          "invalid-address",
          `Cannot open a way out for ${gateway}: its subnet overlaps that of VLAN ${other.vlan} (${other.gateway})`,
        );
      }
    }
  }

  /** Opens a way out whose tap is made already (its gateway address on it). */
  async open(nat: NatRecord): Promise<void> {
    const spec = uplinkSpec(nat);
    await this.#backend.openUplink!(spec);
    this.#journal.compensate(
      `opening the way out of VLAN ${nat.vlan}`,
      () => this.#backend.closeUplink!(spec),
    );
    this.#nats.set(nat.tap, nat);
    this.#journal.record(() => this.#nats.delete(nat.tap));
  }

  /** Closes a way out (its tap is deleted next, by the caller). */
  async close(nat: NatRecord): Promise<void> {
    const spec = uplinkSpec(nat);
    await this.#backend.closeUplink?.(spec);
    this.#journal.compensate(
      `closing the way out of VLAN ${nat.vlan}`,
      () => this.#backend.openUplink!(spec),
    );
    this.#nats.delete(nat.tap);
    this.#journal.record(() => this.#nats.set(nat.tap, nat));
  }

  /**
   * Opens every way out again in a backend that keeps nothing between processes (the simulator). One it
   * cannot open (a simulator given other uplinks this time) stays recorded, closed in this process, and
   * the returned warning says so: the lab can still be used and cleared.
   */
  async realise(): Promise<string[]> {
    const warnings: string[] = [];
    for (const nat of this.list()) {
      try {
        await this.#backend.openUplink?.(uplinkSpec(nat));
      } catch (error) {
        warnings.push(
          `the way out of VLAN ${nat.vlan} is closed in this run: ${
            error instanceof Error ? error.message : String(error)
          }`,
        );
      }
    }
    return warnings;
  }

  /** Restores the room (loading a lab). */
  load(nats: readonly NatRecord[]): void {
    this.#nats = new Map(nats.map((n) => [n.tap, n]));
  }
}
