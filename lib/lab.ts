// Runtime-neutral.
/**
 * The lab model: namespaces, VLAN aliases and VM network configs, with minimega's rules in one place
 * and independent of any backend. The CLI's commands and TypeScript scripts both drive a
 * {@linkcode Lab}; its state is plain JSON, so a lab can be kept in a file between runs.
 *
 * @module
 */

import { isMulticastMac, parseMac } from "./mac.ts";
import { type Netspec, parseNetspec } from "./netspec.ts";
import { NIC_DRIVERS } from "./nic_drivers.ts";
import { parseGoInt } from "./go_int.ts";
import { DEFAULT_NAMESPACE, Vlans, type VlansState } from "./vlans.ts";

/** A VM NIC as configured: the netspec and the VLAN its token resolved to. */
export interface NicConfig extends Netspec {
  /** The VLAN number the alias or number resolved to when the NIC was configured. */
  readonly vlanId: number;
}

/** Options for {@linkcode Lab}. */
export interface LabOptions {
  /** The default VLAN range, half-open. @default {{ min: 101, max: 4096 }} */
  vlanRange?: { min: number; max: number };
  /** The NIC drivers netspecs recognise. @default {NIC_DRIVERS} */
  drivers?: ReadonlySet<string>;
  /** Receives warnings (a VLAN blacklisted on use, ...). @default {() => {}} */
  onWarning?: (message: string) => void;
}

/** A lab's state as plain JSON, for {@linkcode Lab.toJSON} and {@linkcode Lab.fromJSON}. */
export interface LabState {
  /** The format version. */
  readonly version: 1;
  /** The active namespace. */
  readonly active: string;
  /** The VLAN alias engine's state. */
  readonly vlans: VlansState;
  /** Per namespace, its VM config's networks. */
  readonly namespaces: Readonly<Record<string, { readonly networks: readonly NicConfig[] }>>;
}

/**
 * Parses a VLAN range given as `MIN-MAX` (minimega's `-vlanrange` flag, e.g. `101-4096`): half-open,
 * so MAX itself is never allocated.
 *
 * @throws {RangeError} minimega's words: `invalid VLAN range provided`, `expected integer values for
 * VLAN range`, `expected min < max for VLAN range`.
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseVlanRange } from "labwire";
 * assert.deepEqual(parseVlanRange("200-300"), { min: 200, max: 300 });
 * ```
 */
export function parseVlanRange(s: string): { min: number; max: number } {
  const parts = s.split("-");
  if (parts.length !== 2) throw new RangeError("invalid VLAN range provided");
  const min = parseGoInt(parts[0]!);
  const max = parseGoInt(parts[1]!);
  if (min === undefined || max === undefined) throw new RangeError("expected integer values for VLAN range");
  if (min >= max) throw new RangeError("expected min < max for VLAN range");
  return { min, max };
}

/** A name that cannot be a namespace's. */
export class NamespaceError extends Error {
  override name = "NamespaceError";
}

const NAMESPACE_NAME = /^[A-Za-z0-9_.-]+$/;

interface NamespaceState {
  networks: NicConfig[];
}

/**
 * A lab: its namespaces, VLAN aliases and VM configs.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { Lab } from "labwire";
 * const lab = new Lab();
 * const nics = lab.configureNetworks("minimega", ["DMZ", "lab,CORE,de:ad:be:ef:00:01"]);
 * assert.deepEqual(nics.map((n) => n.vlanId), [101, 102]);
 * assert.equal(lab.vlans.format("minimega", 102), "CORE (102)");
 * ```
 */
export class Lab {
  #vlans: Vlans;
  /** The NIC drivers netspecs recognise; the CLI refreshes it from QEMU when QEMU is installed. */
  drivers: ReadonlySet<string>;
  #active = DEFAULT_NAMESPACE;
  #namespaces = new Map<string, NamespaceState>([[DEFAULT_NAMESPACE, { networks: [] }]]);
  #warn: (message: string) => void;

  /** Makes an empty lab. */
  constructor(options: LabOptions = {}) {
    const { vlanRange, drivers = NIC_DRIVERS, onWarning = () => {} } = options;
    this.#warn = onWarning;
    this.#vlans = new Vlans({ ...(vlanRange === undefined ? {} : { range: vlanRange }), onWarning });
    this.drivers = drivers;
  }

  /** Restores a lab from {@linkcode Lab.toJSON}'s output. */
  static fromJSON(state: LabState, options: LabOptions = {}): Lab {
    if (state?.version !== 1) {
      throw new TypeError(`Cannot load lab state: expected version 1, got ${JSON.stringify(state?.version)}`);
    }
    const lab = new Lab(options);
    lab.#vlans = Vlans.fromJSON(
      state.vlans,
      options.onWarning === undefined ? {} : { onWarning: options.onWarning },
    );
    lab.#namespaces.clear();
    for (const [name, ns] of Object.entries(state.namespaces)) {
      lab.#namespaces.set(name, { networks: ns.networks.map((n) => ({ ...n })) });
    }
    lab.#namespaces.set(DEFAULT_NAMESPACE, lab.#namespaces.get(DEFAULT_NAMESPACE) ?? { networks: [] });
    lab.#active = lab.#namespaces.has(state.active) ? state.active : DEFAULT_NAMESPACE;
    return lab;
  }

  /** The lab's state as plain JSON. */
  toJSON(): LabState {
    const namespaces: Record<string, { networks: NicConfig[] }> = {};
    for (const [name, ns] of [...this.#namespaces].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      namespaces[name] = { networks: ns.networks.map((n) => ({ ...n })) };
    }
    return { version: 1, active: this.#active, vlans: this.vlans.toJSON(), namespaces };
  }

  /** The VLAN alias engine. */
  get vlans(): Vlans {
    return this.#vlans;
  }

  /** The active namespace: commands run in it unless told otherwise. */
  get activeNamespace(): string {
    return this.#active;
  }

  /**
   * Makes `name` the active namespace, creating it if needed.
   *
   * @throws {NamespaceError} If the name is not a valid namespace name.
   */
  setActiveNamespace(name: string): void {
    this.ensureNamespace(name);
    this.#active = name;
  }

  /**
   * Creates a namespace if it does not exist yet.
   *
   * @throws {NamespaceError} If the name is empty, `all`, or has characters other than letters,
   * digits, `-`, `_` and `.`.
   */
  ensureNamespace(name: string): void {
    if (this.#namespaces.has(name)) return;
    if (name === "all" || !NAMESPACE_NAME.test(name)) {
      throw new NamespaceError(
        `invalid namespace name \`${name}\`: use letters, digits, '-', '_' and '.', and not \`all\``,
      );
    }
    this.#namespaces.set(name, { networks: [] });
  }

  /** The namespaces that exist, sorted. */
  namespaceNames(): string[] {
    return [...this.#namespaces.keys()].sort();
  }

  /**
   * Destroys a namespace, or every namespace with `all`: its VLAN aliases and range, and its VM
   * config. The default namespace is emptied rather than removed; if the active namespace goes, the
   * default one becomes active.
   *
   * @throws {NamespaceError} `unknown namespace: x` (minimega's words) if it does not exist.
   */
  destroyNamespace(name: string): void {
    if (name === "all") {
      for (const ns of this.namespaceNames()) this.destroyNamespace(ns);
      return;
    }
    if (!this.#namespaces.has(name)) throw new NamespaceError(`unknown namespace: ${name}`);
    this.vlans.clearNamespace(name);
    if (name === DEFAULT_NAMESPACE) this.#namespaces.set(name, { networks: [] });
    else this.#namespaces.delete(name);
    if (this.#active === name) this.#active = DEFAULT_NAMESPACE;
  }

  /** Clears everything: every namespace, then all VLAN state (`clear all`). */
  clearAll(): void {
    this.destroyNamespace("all");
    this.vlans.reset();
  }

  /**
   * Resolves a VLAN token in a namespace the way every minimega command does (`lookupVLAN`): a
   * number is used as it is (and blacklisted for allocation), an alias gets a VLAN on first use.
   *
   * @returns The VLAN number, and whether an alias was created.
   * @throws {RangeError} `out of VLANs`, `invalid VLAN (0 <= vlan < 4096)`.
   * @throws {Error} `VLAN must be non-empty string`.
   */
  lookupVlan(namespace: string, token: string): { vlan: number; created: boolean } {
    this.ensureNamespace(namespace);
    return this.vlans.lookup(namespace, token);
  }

  /**
   * Replaces a namespace's VM network config (`vm config networks <spec>...`). Each spec is parsed
   * and its VLAN resolved in order; on the first error the list is emptied and the error thrown.
   * Aliases allocated for earlier specs stay allocated, as in minimega.
   *
   * @param namespace The namespace whose VM config to change.
   * @param specs Netspecs, `[bridge,]vlan[,mac][,driver][,qinq]`.
   * @returns The new list.
   * @throws {NetspecError} `malformed netspec`.
   * @throws {RangeError} For a MAC that is not a 6-octet unicast address, and VLAN errors.
   */
  configureNetworks(namespace: string, specs: readonly string[]): readonly NicConfig[] {
    this.ensureNamespace(namespace);
    const ns = this.#namespaces.get(namespace)!;
    ns.networks = [];
    const nics: NicConfig[] = [];
    for (const spec of specs) {
      const parsed = parseNetspec(spec, { drivers: this.drivers });
      if (parsed.mac !== "") this.#checkNicMac(parsed.mac);
      const { vlan } = this.vlans.lookup(namespace, parsed.vlan);
      nics.push({ ...parsed, vlanId: vlan });
    }
    ns.networks = nics;
    return nics;
  }

  /** A namespace's VM network config. */
  networks(namespace: string): readonly NicConfig[] {
    return this.#namespaces.get(namespace)?.networks ?? [];
  }

  /** Empties a namespace's VM network config; VLAN aliases stay allocated. */
  clearNetworks(namespace: string): void {
    const ns = this.#namespaces.get(namespace);
    if (ns !== undefined) ns.networks = [];
  }

  /** Emits a warning through the lab's `onWarning`. */
  warn(message: string): void {
    this.#warn(message);
  }

  /**
   * Checks that a configured MAC can be a NIC's: 6 octets (minimega accepts the 8- and 20-octet
   * forms here and fails later, in QEMU; labwire says so at once). A multicast MAC is allowed, as in
   * minimega, whose own tests use `13:37:...` MACs, but warned about: switches do not learn it.
   */
  #checkNicMac(mac: string): void {
    const octets = parseMac(mac);
    if (octets.length !== 6) {
      throw new RangeError(
        `Cannot use MAC '${mac}' for a NIC: it has ${octets.length} octets, an Ethernet MAC has 6`,
      );
    }
    if (isMulticastMac(octets)) {
      this.#warn(
        `MAC ${mac} is a multicast address: switches will not learn it, and guests may drop its frames`,
      );
    }
  }
}
