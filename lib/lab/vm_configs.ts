// Runtime-neutral.
/**
 * The VM configs room: each namespace's `vm config`, what `vm launch` gives the VMs it makes: NICs (the
 * netspecs and the VLANs they resolved to), memory, CPUs, kernel, initrd, command line and disks.
 *
 * @module
 */

import { LabError } from "../errors.ts";
import type { Journal } from "./_journal.ts";
import type { NicConfig, VmConfigFields, VmConfigRecord } from "./records.ts";

/** The fields `vm config` knows besides networks, with their defaults (minimega's). */
export const VM_CONFIG_DEFAULTS: Readonly<VmConfigRecord> = Object.freeze({
  networks: Object.freeze([]) as readonly NicConfig[],
  memory: "2048",
  vcpus: "1",
  kernel: "",
  initrd: "",
  append: "",
  disks: Object.freeze([]) as readonly string[],
});

/** A `vm config` field set with one value. */
export type VmConfigField = "memory" | "vcpus" | "kernel" | "initrd" | "append";

/** The VM configs of the lab's namespaces. */
export class VmConfigRoom {
  #journal: Journal;
  #configs = new Map<string, VmConfigRecord>();

  /** Makes the room. */
  constructor(journal: Journal) {
    this.#journal = journal;
  }

  /** A namespace's VM config (the defaults when it has none). */
  get(namespace: string): VmConfigRecord {
    return this.#configs.get(namespace) ?? VM_CONFIG_DEFAULTS;
  }

  #put(namespace: string, record: VmConfigRecord): void {
    const before = this.#configs.get(namespace);
    this.#configs.set(namespace, record);
    this.#journal.record(() => {
      if (before === undefined) this.#configs.delete(namespace);
      else this.#configs.set(namespace, before);
    });
  }

  /** Replaces a namespace's NICs. */
  setNetworks(namespace: string, networks: readonly NicConfig[]): void {
    this.#put(namespace, { ...this.get(namespace), networks: [...networks] });
  }

  /**
   * Sets a VM config field (`vm config memory 512`, ...).
   *
   * @throws {LabError} For memory or vcpus that are not whole numbers above 0 (code `invalid-argument`).
   */
  set(namespace: string, field: VmConfigField, value: string): void {
    if ((field === "memory" || field === "vcpus") && !/^[1-9]\d*$/.test(value)) {
      throw new LabError(
        "invalid-argument",
        `Cannot set vm config ${field} as it must be a whole number above 0: current value is ${value}`,
      );
    }
    this.#put(namespace, { ...this.get(namespace), [field]: value });
  }

  /** Sets a VM config's disks (`vm config disks <path>...`). */
  setDisks(namespace: string, disks: readonly string[]): void {
    this.#put(namespace, { ...this.get(namespace), disks: [...disks] });
  }

  /** Resets a namespace's whole VM config (`clear vm config`), networks included. */
  clear(namespace: string): void {
    if (this.#configs.has(namespace)) this.#put(namespace, VM_CONFIG_DEFAULTS);
  }

  /** Forgets a namespace's VM config (the namespace is destroyed). */
  drop(namespace: string): void {
    const before = this.#configs.get(namespace);
    if (before === undefined) return;
    this.#configs.delete(namespace);
    this.#journal.record(() => this.#configs.set(namespace, before));
  }

  /** The fields of a config besides networks, for a VM to launch. */
  fields(namespace: string): VmConfigFields {
    const { networks: _, ...fields } = this.get(namespace);
    return fields;
  }

  /** Every namespace's config that differs from the defaults. */
  entries(): [string, VmConfigRecord][] {
    return [...this.#configs];
  }

  /** Restores the room (loading a lab). */
  load(configs: readonly [string, VmConfigRecord][]): void {
    this.#configs = new Map(configs);
  }
}
