// Runtime-neutral.
/**
 * The ports room: every name labwire gives a port or a host device (VM NIC taps, host taps, capture taps,
 * patch ports, trunks), which of them are on which bridge, the one generator of `mega_tapN` names, and
 * plugging: putting ports on bridges in the backend and taking them off, in batches, all or nothing.
 *
 * Its index is derived from the other rooms' records (it is not saved): a name is taken once, lab-wide,
 * as a host device name is (minimega's taps are host devices). Lookups by name are O(1).
 *
 * @module
 */

import type { BridgeBackend, PortSpec, RemovePortsOptions } from "../backend/bridges.ts";
import type { EndpointBackend } from "../backend/endpoints.ts";
import { TopologyError } from "../errors.ts";
import type { Journal } from "./_journal.ts";

/** What a port is to the lab. */
export type PortOwner =
  | { readonly kind: "nic"; readonly vm: number; readonly index: number }
  | { readonly kind: "tap" }
  | { readonly kind: "capture"; readonly id: number }
  | { readonly kind: "patch" }
  | { readonly kind: "trunk" };

/** A port or device name the lab holds. */
export interface PortEntry {
  /** Its name. */
  readonly name: string;
  /** What it is. */
  readonly owner: PortOwner;
  /** The bridge it is on now, or undefined (a disconnected NIC, a trunk kept while its interface is missing). */
  readonly bridge: string | undefined;
  /** What the backend was told when it was plugged. */
  readonly spec: PortSpec | undefined;
}

/** A port to plug: its bridge, what the backend is told, and the addresses its endpoint gets. */
export interface Plug {
  readonly bridge: string;
  readonly spec: PortSpec;
  /** Addresses to give the endpoint once plugged (a NIC or tap coming back). @default {[]} */
  readonly addresses?: readonly string[];
}

/** The prefix of generated tap names. */
export const TAP_PREFIX = "mega_tap";

/** The ports of the lab and their plugging. */
export class PortRoom {
  #journal: Journal;
  #backend: BridgeBackend & EndpointBackend;
  #entries = new Map<string, PortEntry>();
  #byBridge = new Map<string, Set<string>>();
  #nextTap = 0;
  /** Names the host already uses (the backend knows them); generated names skip them. */
  #nameInUse: (name: string) => boolean;
  /** Bridges the lab has, by name: a port may not be named like one. */
  #isBridge: (name: string) => boolean;

  /** Makes the room. */
  constructor(
    journal: Journal,
    backend: BridgeBackend & EndpointBackend,
    isBridge: (name: string) => boolean,
  ) {
    this.#journal = journal;
    this.#backend = backend;
    this.#nameInUse = (name) => backend.nameInUse?.(name) ?? false;
    this.#isBridge = isBridge;
  }

  /** The number of the next `mega_tapN` name (saved with the lab). */
  get nextTap(): number {
    return this.#nextTap;
  }

  /** Restores the tap counter (loading a lab). */
  set nextTap(n: number) {
    this.#nextTap = n;
  }

  /** The entry of a name, or undefined. */
  get(name: string): PortEntry | undefined {
    return this.#entries.get(name);
  }

  /** Whether the lab holds the name. */
  has(name: string): boolean {
    return this.#entries.has(name);
  }

  /** The names of the ports on a bridge now, in the order they came. */
  on(bridge: string): string[] {
    return [...(this.#byBridge.get(bridge) ?? [])];
  }

  /** How many ports are on a bridge now. */
  countOn(bridge: string): number {
    return this.#byBridge.get(bridge)?.size ?? 0;
  }

  /** The next free `mega_tapN`: the counter only goes up, and skips names the lab or the host has. */
  nextTapName(): string {
    const before = this.#nextTap;
    this.#journal.record(() => this.#nextTap = before);
    for (;;) {
      const name = `${TAP_PREFIX}${this.#nextTap++}`;
      if (!this.#entries.has(name) && !this.#isBridge(name) && !this.#nameInUse(name)) return name;
    }
  }

  /**
   * Checks that a name given by the user is free for a new port.
   *
   * @throws {TopologyError} `tap already on bridge` when a port of that name is on `bridge`;
   * `Cannot use name X: ...` when it names another port, a bridge, or is not a device name.
   */
  checkFree(name: string, bridge: string): void {
    const entry = this.#entries.get(name);
    if (entry !== undefined) {
      if (entry.bridge === bridge) throw new TopologyError("port-exists", "tap already on bridge");
      throw new TopologyError(
        "port-exists",
        `Cannot use name ${name}: ${describe(entry)}${
          entry.bridge === undefined ? "" : ` on bridge ${entry.bridge}`
        }`,
      );
    }
    if (this.#isBridge(name) || name === bridge) {
      throw new TopologyError("port-exists", `Cannot use name ${name}: a bridge has that name`);
    }
  }

  /** Takes a name for a new port (not plugged yet). */
  claim(name: string, owner: PortOwner): void {
    this.#set({ name, owner, bridge: undefined, spec: undefined });
  }

  /** Gives a name back (the port is unplugged already). */
  release(name: string): void {
    const entry = this.#entries.get(name);
    if (entry === undefined) return;
    if (entry.bridge !== undefined) this.#leave(entry.bridge, name);
    this.#entries.delete(name);
    this.#journal.record(() => {
      this.#entries.set(name, entry);
      if (entry.bridge !== undefined) this.#join(entry.bridge, name);
    });
  }

  /** Changes what a name's owner is (a NIC's index after a flush renumbers nothing; kept for moves). */
  #set(entry: PortEntry): void {
    const before = this.#entries.get(entry.name);
    if (before?.bridge !== undefined && before.bridge !== entry.bridge) {
      this.#leave(before.bridge, entry.name);
    }
    this.#entries.set(entry.name, entry);
    if (entry.bridge !== undefined && before?.bridge !== entry.bridge) this.#join(entry.bridge, entry.name);
    this.#journal.record(() => {
      if (entry.bridge !== undefined && before?.bridge !== entry.bridge) {
        this.#leave(entry.bridge, entry.name);
      }
      if (before === undefined) this.#entries.delete(entry.name);
      else {
        this.#entries.set(entry.name, before);
        if (before.bridge !== undefined && before.bridge !== entry.bridge) {
          this.#join(before.bridge, entry.name);
        }
      }
    });
  }

  #join(bridge: string, name: string): void {
    let set = this.#byBridge.get(bridge);
    if (set === undefined) this.#byBridge.set(bridge, set = new Set());
    set.add(name);
  }

  #leave(bridge: string, name: string): void {
    const set = this.#byBridge.get(bridge);
    set?.delete(name);
    if (set?.size === 0) this.#byBridge.delete(bridge);
  }

  /**
   * Records a port as on a bridge without asking the backend (loading a lab whose backend keeps its
   * ports, or building the index).
   */
  place(name: string, owner: PortOwner, bridge: string | undefined, spec?: PortSpec): void {
    this.#set({ name, owner, bridge, spec });
  }

  /**
   * Plugs ports whose names are claimed: per bridge, in the order the bridges first come, all its ports
   * in one backend call, then the addresses their endpoints get. All or nothing: when a call fails, the
   * ports plugged by this call are removed again and the error goes on. Within a command, a later failure
   * removes them too (the journal).
   *
   * @param plugs The ports.
   * @param makeBridge Makes a bridge in the backend before its first port (the bridges room).
   */
  async plug(plugs: readonly Plug[], makeBridge: (bridge: string) => Promise<void>): Promise<void> {
    const byBridge = Map.groupBy(plugs, (p) => p.bridge);
    const done: [string, Plug[]][] = [];
    try {
      for (const [bridge, items] of byBridge) {
        await makeBridge(bridge);
        const specs = items.map((p) => p.spec);
        await this.#backend.addPorts(bridge, specs);
        done.push([bridge, items]);
        const names = specs.map((s) => s.name);
        this.#journal.compensate(
          `adding ports ${names.join(", ")} to ${bridge}`,
          () => this.#backend.removePorts(bridge, names),
        );
        for (const p of items) {
          const entry = this.#entries.get(p.spec.name);
          this.#set({ name: p.spec.name, owner: entry?.owner ?? { kind: "tap" }, bridge, spec: p.spec });
        }
        for (const p of items) {
          for (const cidr of p.addresses ?? []) await this.#backend.addAddress(bridge, p.spec.name, cidr);
        }
      }
    } catch (error) {
      if (!this.#journal.active) {
        for (const [bridge, items] of done.reverse()) {
          await this.#backend.removePorts(bridge, items.map((p) => p.spec.name)).catch(() => {});
        }
      }
      throw error;
    }
  }

  /**
   * Takes ports off their bridges, per bridge in one backend call; names not on a bridge are skipped. With
   * `keepNics`, the VM NICs and host taps behind them stay, unplugged, for a later {@linkcode PortRoom.plug}.
   * Mirrors using them must be gone already (the mirrors room).
   *
   * @param names The ports.
   * @param options `keepNics`; `addresses` gives the addresses an endpoint gets back when a later failure
   * of the command plugs it again.
   */
  async unplug(
    names: readonly string[],
    options: RemovePortsOptions & { addresses?: (name: string) => readonly string[] } = {},
  ): Promise<void> {
    const byBridge = new Map<string, PortEntry[]>();
    for (const name of names) {
      const entry = this.#entries.get(name);
      if (entry?.bridge === undefined) continue;
      let list = byBridge.get(entry.bridge);
      if (list === undefined) byBridge.set(entry.bridge, list = []);
      list.push(entry);
    }
    const keepNics = options.keepNics === true;
    for (const [bridge, entries] of byBridge) {
      const portNames = entries.map((e) => e.name);
      await this.#backend.removePorts(bridge, portNames, keepNics ? { keepNics } : {});
      const specs = entries.flatMap((e) => e.spec === undefined ? [] : [e.spec]);
      this.#journal.compensate(`removing ports ${portNames.join(", ")} from ${bridge}`, async () => {
        await this.#backend.addPorts(bridge, specs);
        if (keepNics) return;
        for (const spec of specs) {
          for (const cidr of options.addresses?.(spec.name) ?? []) {
            await this.#backend.addAddress(bridge, spec.name, cidr);
          }
        }
      });
      for (const e of entries) this.#set({ ...e, bridge: undefined });
    }
  }

  /** Drops every entry (loading a lab). */
  reset(): void {
    this.#entries.clear();
    this.#byBridge.clear();
  }
}

function describe(entry: PortEntry): string {
  switch (entry.owner.kind) {
    case "nic":
      return "a VM NIC has that name";
    case "tap":
      return "a host tap has that name";
    case "capture":
      return "a capture tap has that name";
    case "patch":
      return "a patch port has that name";
    case "trunk":
      return "a trunk has that name";
    default: {
      const never: never = entry.owner;
      return String(never);
    }
  }
}
