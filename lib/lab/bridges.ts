// Runtime-neutral.
/**
 * The bridges room: bridges as minimega keeps them (made on first use, trunks, `bridge config`,
 * preexisting ones) and labwire's patch links between them. Bridges are not namespace aware.
 *
 * @module
 */

import type { BridgeBackend } from "../backend/bridges.ts";
import { TopologyError } from "../errors.ts";
import type { Journal } from "./_journal.ts";
import type { Plug, PortRoom } from "./ports.ts";
import type { BridgeRecord, PatchRecord } from "./records.ts";
import { checkDeviceName } from "./rules.ts";

/** The bridges of the lab and the patch links between them. */
export class BridgeRoom {
  #journal: Journal;
  #backend: BridgeBackend;
  #bridges = new Map<string, BridgeRecord>();
  /** Bridges made in the backend by this process or found there (so addBridge runs once per bridge). */
  #made = new Set<string>();
  #patches: PatchRecord[] = [];
  #ports!: PortRoom;

  /** Makes the room; {@linkcode BridgeRoom.usePorts} completes it. */
  constructor(journal: Journal, backend: BridgeBackend) {
    this.#journal = journal;
    this.#backend = backend;
  }

  /** Gives the room the ports room (they know each other: patch ports and trunks are ports). */
  usePorts(ports: PortRoom): void {
    this.#ports = ports;
  }

  /** Whether a bridge exists. */
  has(name: string): boolean {
    return this.#bridges.has(name);
  }

  /** A bridge's record, or undefined. */
  get(name: string): BridgeRecord | undefined {
    return this.#bridges.get(name);
  }

  /** The bridges' names, sorted. */
  names(): string[] {
    return [...this.#bridges.keys()].sort();
  }

  /** The patch links. */
  patches(): readonly PatchRecord[] {
    return this.#patches;
  }

  /**
   * The bridge's record, made if it does not exist yet (nothing is asked of the backend yet: see
   * {@linkcode BridgeRoom.make}).
   *
   * @throws {TopologyError} For a name that cannot be a bridge's.
   */
  ensure(name: string): BridgeRecord {
    const found = this.#bridges.get(name);
    if (found !== undefined) return found;
    checkDeviceName(name, "bridge");
    if (this.#ports.has(name)) {
      throw new TopologyError("invalid-name", `Cannot use bridge name ${name}: a port has that name`);
    }
    const record: BridgeRecord = { name, preexisting: false, trunks: [], config: {} };
    this.#put(record);
    return record;
  }

  #put(record: BridgeRecord): void {
    const before = this.#bridges.get(record.name);
    this.#bridges.set(record.name, record);
    this.#journal.record(() => {
      if (before === undefined) this.#bridges.delete(record.name);
      else this.#bridges.set(record.name, before);
    });
  }

  #drop(name: string): void {
    const before = this.#bridges.get(name);
    if (before === undefined) return;
    this.#bridges.delete(name);
    this.#journal.record(() => this.#bridges.set(name, before));
  }

  /**
   * Makes a bridge in the backend (once per process and bridge), recording it if needed; one the backend
   * found and did not make is marked preexisting (listed so, and never deleted).
   */
  async make(name: string): Promise<void> {
    this.ensure(name);
    if (this.#made.has(name)) return;
    const made = await this.#backend.addBridge(name);
    this.#made.add(name);
    const preexisting = made?.preexisting === true;
    this.#journal.record(() => this.#made.delete(name));
    if (preexisting) {
      this.#put({ ...this.#bridges.get(name)!, preexisting: true });
    } else {
      this.#journal.compensate(`making bridge ${name}`, () => this.#backend.removeBridge(name));
    }
  }

  /** Forgets that bridges were made in the backend by this process (a lab rebuilt in a new backend). */
  forgetMade(): void {
    this.#made.clear();
  }

  /** Marks a bridge as made in the backend already (a lab restored on a backend that kept it). */
  markMade(name: string): void {
    this.#made.add(name);
  }

  /**
   * Removes a bridge with nothing of the lab on it from the backend (which keeps one something else still
   * uses, or a preexisting one) and forgets it.
   */
  async remove(name: string): Promise<void> {
    const record = this.#bridges.get(name);
    if (record === undefined) return;
    // asked even when another process made it: the backend keeps a bridge others use, or one it did not make
    await this.#backend.removeBridge(name);
    this.#journal.compensate(`removing bridge ${name}`, () => this.#backend.addBridge(name));
    this.#made.delete(name);
    this.#journal.record(() => this.#made.add(name));
    this.#drop(name);
  }

  /**
   * Trunks an interface into a bridge (`bridge trunk`): an untagged port carrying all VLANs.
   *
   * @throws {TopologyError} `bridge already trunking to <iface>`, `already exists`.
   */
  async trunk(bridgeName: string, iface: string): Promise<void> {
    const bridge = this.ensure(bridgeName);
    if (bridge.trunks.includes(iface)) {
      throw new TopologyError("trunk-exists", `bridge already trunking to ${iface}`);
    }
    if (this.#ports.has(iface)) throw new TopologyError("port-exists", "already exists");
    checkDeviceName(iface, "interface");
    await this.make(bridgeName);
    this.#ports.claim(iface, { kind: "trunk" });
    this.#put({ ...this.#bridges.get(bridgeName)!, trunks: [...bridge.trunks, iface] });
    await this.#ports.plug(
      [{ bridge: bridgeName, spec: { name: iface, mode: { kind: "trunk" }, role: "trunk" } }],
      (b) => this.make(b),
    );
  }

  /**
   * Removes a trunk (`bridge notrunk`).
   *
   * @throws {TopologyError} `unknown trunk: <iface>`.
   */
  async notrunk(bridgeName: string, iface: string): Promise<void> {
    const bridge = this.#bridges.get(bridgeName);
    if (bridge === undefined || !bridge.trunks.includes(iface)) {
      throw new TopologyError("trunk-not-found", `unknown trunk: ${iface}`);
    }
    await this.#ports.unplug([iface]);
    this.#ports.release(iface);
    this.#put({ ...bridge, trunks: bridge.trunks.filter((t) => t !== iface) });
  }

  /** Takes every trunk off a bridge (tearing it down). */
  async dropTrunks(bridgeName: string): Promise<void> {
    const bridge = this.#bridges.get(bridgeName);
    if (bridge === undefined || bridge.trunks.length === 0) return;
    await this.#ports.unplug(bridge.trunks);
    for (const iface of bridge.trunks) this.#ports.release(iface);
    this.#put({ ...bridge, trunks: [] });
  }

  /**
   * Sets a bridge setting (`bridge config <bridge> <key=value>`): the backend applies it (Open vSwitch:
   * `ovs-vsctl set bridge <bridge> <key=value>`), then the lab records it for the listing.
   *
   * @throws {TopologyError} `expected key=value`, or a key that is no column name.
   * @throws {Error} `set config failed: ...` when the backend refuses it (then nothing is recorded).
   */
  async configure(bridgeName: string, setting: string): Promise<void> {
    const eq = setting.indexOf("=");
    if (eq < 0) throw new TopologyError("invalid-argument", "expected key=value");
    const key = setting.slice(0, eq);
    // a column of Open vSwitch's Bridge table, or a key of one of its maps: never a word ovs-vsctl reads
    // as an option
    if (!/^[a-z][a-z0-9_]*(?::[A-Za-z0-9_.-]+)?$/.test(key)) {
      throw new TopologyError(
        "invalid-argument",
        `Cannot set bridge config '${setting}': expected a column of Open vSwitch's Bridge table, like rstp_enable=true or other_config:key=value`,
      );
    }
    this.ensure(bridgeName);
    await this.make(bridgeName);
    const value = setting.slice(eq + 1);
    await this.#backend.configureBridge?.(bridgeName, key, value);
    const bridge = this.#bridges.get(bridgeName)!;
    this.#put({ ...bridge, config: { ...bridge.config, [key]: value } });
  }

  /**
   * Joins two bridges with a patch link (`bridge patch`, a labwire extension): a port `patch-<b>` on
   * bridge a and `patch-<a>` on bridge b (`patch-<b>-<a>` when that name is taken: an Open vSwitch's port
   * names are unique across its bridges), untagged trunks carrying every VLAN, as Open vSwitch patch
   * ports. The bridges are made if needed.
   *
   * @throws {TopologyError} `Cannot patch bridge a to itself`, `bridge a already patched to b`.
   */
  async patch(a: string, b: string): Promise<void> {
    if (a === b) throw new TopologyError("invalid-argument", `Cannot patch bridge ${a} to itself`);
    this.ensure(a);
    this.ensure(b);
    if (this.findPatch(a, b) !== undefined) {
      throw new TopologyError("patch-exists", `bridge ${a} already patched to ${b}`);
    }
    // a port name is unique on an Open vSwitch: patch-<peer>, else patch-<peer>-<bridge> when that is taken
    const portA = this.#patchPort(a, b);
    const portB = this.#patchPort(b, a);
    this.#ports.claim(portA, { kind: "patch" });
    this.#ports.claim(portB, { kind: "patch" });
    const record: PatchRecord = { a: { bridge: a, port: portA }, b: { bridge: b, port: portB } };
    this.#setPatches([...this.#patches, record]);
    await this.#ports.plug(
      [
        { bridge: a, spec: { name: portA, mode: { kind: "trunk" }, role: "patch" } },
        { bridge: b, spec: { name: portB, mode: { kind: "trunk" }, role: "patch" } },
      ],
      (x) => this.make(x),
    );
    await this.#backend.addPatch(a, portA, b, portB);
  }

  /** The name of the patch port on `bridge` towards `peer`. */
  #patchPort(bridge: string, peer: string): string {
    const short = `patch-${peer}`;
    if (!this.#ports.has(short) && !this.has(short)) return short;
    const long = `patch-${peer}-${bridge}`;
    this.#ports.checkFree(long, bridge);
    return long;
  }

  #setPatches(patches: PatchRecord[]): void {
    const before = this.#patches;
    this.#patches = patches;
    this.#journal.record(() => this.#patches = before);
  }

  /** The patch link between bridges a and b, or undefined. */
  findPatch(a: string, b: string): PatchRecord | undefined {
    return this.#patches.find((p) =>
      (p.a.bridge === a && p.b.bridge === b) || (p.a.bridge === b && p.b.bridge === a)
    );
  }

  /**
   * Removes a patch link (`bridge nopatch`).
   *
   * @throws {TopologyError} `unknown patch: a to b`.
   */
  async unpatch(a: string, b: string): Promise<void> {
    const link = this.findPatch(a, b);
    if (link === undefined) throw new TopologyError("patch-not-found", `unknown patch: ${a} to ${b}`);
    await this.#ports.unplug([link.a.port, link.b.port]);
    this.#ports.release(link.a.port);
    this.#ports.release(link.b.port);
    this.#setPatches(this.#patches.filter((p) => p !== link));
  }

  /** The plugs of every trunk and patch port (a lab rebuilt in a new backend). */
  plugs(): Plug[] {
    const plugs: Plug[] = [];
    for (const bridge of this.#bridges.values()) {
      for (const iface of bridge.trunks) {
        plugs.push({ bridge: bridge.name, spec: { name: iface, mode: { kind: "trunk" }, role: "trunk" } });
      }
    }
    for (const link of this.#patches) {
      for (const end of [link.a, link.b]) {
        plugs.push({ bridge: end.bridge, spec: { name: end.port, mode: { kind: "trunk" }, role: "patch" } });
      }
    }
    return plugs;
  }

  /** Restores the room's records (loading a lab). */
  load(bridges: readonly BridgeRecord[], patches: readonly PatchRecord[]): void {
    this.#bridges = new Map(bridges.map((b) => [b.name, b]));
    this.#patches = [...patches];
    this.#made.clear();
  }
}
