// Runtime-neutral.
/**
 * The host taps room: `tap create` puts the host on a VLAN, an interface on a bridge with the VLAN's tag,
 * with an address, one by DHCP, or none. A tap belongs to the namespace that made it.
 *
 * @module
 */

import type { BridgeBackend } from "../backend/bridges.ts";
import type { EndpointBackend } from "../backend/endpoints.ts";
import { TopologyError } from "../errors.ts";
import type { Journal } from "./_journal.ts";
import type { BridgeRoom } from "./bridges.ts";
import type { MacPool } from "./macs.ts";
import type { MirrorRoom } from "./mirrors.ts";
import type { Plug, PortRoom } from "./ports.ts";
import type { TapRecord } from "./records.ts";
import { checkCidr, checkDeviceName, DEFAULT_BRIDGE_NAME } from "./rules.ts";
import { portMode } from "./vms.ts";

/** What the backend is told of a host tap's port, with its addresses. */
function plugOf(tap: TapRecord): Plug {
  return {
    bridge: tap.bridge,
    spec: { name: tap.name, mode: portMode(tap.vlan, false), role: "host", mac: tap.mac },
    addresses: tap.ips,
  };
}

/** Options for {@linkcode TapRoom.create}. */
export interface CreateTapOptions {
  /** The bridge. @default {"mega_bridge"} */
  readonly bridge?: string;
  /** The tap's name; "" or none: the next `mega_tapN`. */
  readonly name?: string;
  /** An IPv4 address for it, `10.0.0.1/24` (a bare address is a /32, as `ip addr add` makes it). */
  readonly ip?: string;
  /** Get an address by DHCP. @default {false} */
  readonly dhcp?: boolean;
}

/** The lab's host taps. */
export class TapRoom {
  #journal: Journal;
  #backend: BridgeBackend & EndpointBackend;
  #ports: PortRoom;
  #bridges: BridgeRoom;
  #mirrors: MirrorRoom;
  #macs: MacPool;
  #taps = new Map<string, TapRecord>();
  /** Called before a tap is destroyed, whatever destroys it (what is built on it goes first). */
  beforeDestroy: (tap: TapRecord) => Promise<void> = () => Promise.resolve();

  /** Makes the room. */
  constructor(
    journal: Journal,
    backend: BridgeBackend & EndpointBackend,
    rooms: { ports: PortRoom; bridges: BridgeRoom; mirrors: MirrorRoom; macs: MacPool },
  ) {
    this.#journal = journal;
    this.#backend = backend;
    this.#ports = rooms.ports;
    this.#bridges = rooms.bridges;
    this.#mirrors = rooms.mirrors;
    this.#macs = rooms.macs;
  }

  /** A tap by name, or undefined. */
  get(name: string): TapRecord | undefined {
    return this.#taps.get(name);
  }

  /** The taps, of one namespace or of all, by name. */
  list(namespace?: string): TapRecord[] {
    const all = [...this.#taps.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    return namespace === undefined ? all : all.filter((t) => t.namespace === namespace);
  }

  /**
   * Creates a host tap on a VLAN (`tap create`), with an address or DHCP. Unlike minimega, an address or
   * DHCP failure is reported, and the tap removed.
   *
   * @param namespace The namespace it belongs to.
   * @param resolveVlan Resolves the VLAN token (allocating an alias), after the other checks.
   * @throws {TopologyError} `tap already on bridge`, reserved-word errors, names that cannot be devices.
   */
  async create(
    namespace: string,
    resolveVlan: () => number,
    options: CreateTapOptions = {},
  ): Promise<TapRecord> {
    const { bridge = DEFAULT_BRIDGE_NAME, ip, dhcp = false } = options;
    const given = options.name === "" ? undefined : options.name;
    if (given !== undefined) checkDeviceName(given, "tap");
    checkDeviceName(bridge, "bridge");
    const cidr = ip === undefined ? undefined : checkCidr(ip);
    const vlan = resolveVlan();
    this.#bridges.ensure(bridge);
    if (given !== undefined) this.#ports.checkFree(given, bridge);
    const name = given ?? this.#ports.nextTapName();
    const record: TapRecord = { name, namespace, bridge, vlan, mac: this.#macs.generate(), ips: [] };
    this.#ports.claim(name, { kind: "tap" });
    this.#put(record);
    await this.#ports.plug([plugOf(record)], (b) => this.#bridges.make(b));
    const address = dhcp ? (await this.#backend.dhcp(bridge, name)).address : cidr;
    if (address !== undefined) {
      if (!dhcp) await this.#backend.addAddress(bridge, name, address);
      this.#put({ ...record, ips: [address] });
    }
    return this.#taps.get(name)!;
  }

  #put(record: TapRecord): void {
    const before = this.#taps.get(record.name);
    this.#taps.set(record.name, record);
    this.#journal.record(() => {
      if (before === undefined) this.#taps.delete(record.name);
      else this.#taps.set(record.name, before);
    });
  }

  /**
   * Deletes a host tap, or all the namespace's (`tap delete`).
   *
   * @throws {TopologyError} `unknown tap`, `not a host tap`, `not a host tap in active namespace`
   * (minimega's words).
   */
  async delete(namespace: string, name: string): Promise<void> {
    if (name === "all") {
      for (const tap of this.list(namespace)) await this.#destroy(tap);
      return;
    }
    const entry = this.#ports.get(name);
    if (entry === undefined) throw new TopologyError("tap-not-found", "unknown tap");
    const tap = this.#taps.get(name);
    if (tap === undefined) throw new TopologyError("not-host-tap", "not a host tap");
    if (tap.namespace !== namespace) {
      throw new TopologyError("wrong-namespace", "not a host tap in active namespace");
    }
    await this.#destroy(tap);
  }

  /** Deletes the taps on a bridge (tearing it down). */
  async deleteOn(bridge: string): Promise<void> {
    for (const tap of this.list()) if (tap.bridge === bridge) await this.#destroy(tap);
  }

  async #destroy(tap: TapRecord): Promise<void> {
    await this.beforeDestroy(tap);
    await this.#mirrors.dropUsing([tap.name]);
    await this.#ports.unplug([tap.name], { addresses: () => tap.ips });
    this.#ports.release(tap.name);
    this.#macs.release(tap.mac);
    this.#taps.delete(tap.name);
    this.#journal.record(() => this.#taps.set(tap.name, tap));
  }

  /** The plugs of every tap, with their addresses (a lab rebuilt in a new backend). */
  plugs(): Plug[] {
    return this.list().map(plugOf);
  }

  /** Restores the room (loading a lab). */
  load(taps: readonly TapRecord[]): void {
    this.#taps = new Map(taps.map((t) => [t.name, t]));
  }
}
