// Runtime-neutral.
/**
 * The bridges of one host as minimega keeps them: the taps on each bridge (VM NICs, host taps,
 * capture taps), trunks, mirrors and `bridge config` settings, and the one generator of
 * `mega_tapN` names. Plain data, so that it round-trips through JSON with the rest of the lab.
 *
 * @module
 */

import type { MirrorSpec, PortMode, PortRole } from "./backend.ts";

/** The bridge a netspec or command uses when it names none. */
export const DEFAULT_BRIDGE_NAME = "mega_bridge";

/** A tap or other port on a bridge. */
export interface TapState {
  /** Its name. */
  readonly name: string;
  /** What it is for. */
  readonly role: PortRole;
  /** Its VLAN: 0 for an untagged trunk port. */
  readonly vlan: number;
  /** Whether it is a QinQ (dot1q-tunnel) port. */
  readonly qinq: boolean;
  /** The MAC of the endpoint behind it, or "". */
  readonly mac: string;
  /** The namespace a host or capture tap belongs to, or "". */
  readonly namespace: string;
  /** IPv4 addresses given to the endpoint behind it (`10.0.0.1/24`). */
  readonly addresses: readonly string[];
  /** For a patch port: the bridge and port at its other end. */
  readonly peer?: { readonly bridge: string; readonly port: string };
}

/** A bridge. */
export interface BridgeState {
  /** Its name. */
  readonly name: string;
  /** Its taps and ports, by name. */
  readonly taps: Record<string, TapState>;
  /** Interfaces trunked into it. */
  readonly trunks: readonly string[];
  /** Its mirrors, by name. */
  readonly mirrors: Record<string, MirrorSpec>;
  /** `bridge config` settings. */
  readonly config: Record<string, string>;
  /** The backend found it and did not make it (never deleted). @default {false} */
  readonly preexisting?: boolean;
}

/** The bridges' state as plain JSON. */
export interface TopologyState {
  /** Bridges by name. */
  readonly bridges: Record<string, BridgeState>;
  /** The number of the next `mega_tapN` name. */
  readonly nextTap: number;
}

/** A mistake in a bridge or tap command, in minimega's words. */
export class TopologyError extends Error {
  override name = "TopologyError";
}

/** The mode a port gets for a VLAN: untagged trunk for 0, dot1q-tunnel for QinQ, else access. */
export function portMode(vlan: number, qinq: boolean): PortMode {
  if (vlan === 0) return { kind: "trunk" };
  return qinq ? { kind: "dot1q-tunnel", tag: vlan } : { kind: "access", tag: vlan };
}

/**
 * The bridges of a host and the taps on them.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { Topology } from "labwire";
 * const topo = new Topology();
 * const tap = topo.addTap("mega_bridge", { role: "host", vlan: 101 });
 * assert.equal(tap.name, "mega_tap0");
 * assert.deepEqual(topo.bridgeNames(), ["mega_bridge"]);
 * ```
 */
export class Topology {
  #bridges = new Map<string, Bridge>();
  #nextTap = 0;
  /**
   * Names the host already uses (minimega skips names under /sys/class/net); the backend knows them.
   * Not part of the JSON state.
   */
  isNameTaken: (name: string) => boolean = () => false;

  /** Restores a topology from {@linkcode Topology.toJSON}'s output. */
  static fromJSON(state: TopologyState): Topology {
    const topo = new Topology();
    topo.#nextTap = state.nextTap;
    for (const b of Object.values(state.bridges)) {
      const bridge = new Bridge(b.name);
      for (const t of Object.values(b.taps)) bridge.taps.set(t.name, structuredClone(t));
      bridge.trunks.push(...b.trunks);
      for (const m of Object.values(b.mirrors)) bridge.mirrors.set(m.name, { ...m });
      for (const [k, v] of Object.entries(b.config)) bridge.config.set(k, v);
      bridge.preexisting = b.preexisting === true;
      topo.#bridges.set(b.name, bridge);
    }
    return topo;
  }

  /** The topology as plain JSON. */
  toJSON(): TopologyState {
    const bridges: Record<string, BridgeState> = {};
    for (const name of this.bridgeNames()) bridges[name] = this.#bridges.get(name)!.toJSON();
    return { bridges, nextTap: this.#nextTap };
  }

  /** The bridges' names, sorted. */
  bridgeNames(): string[] {
    return [...this.#bridges.keys()].sort();
  }

  /** A bridge's state, or undefined. */
  bridge(name: string): Bridge | undefined {
    return this.#bridges.get(name);
  }

  /**
   * Gets a bridge, creating it if needed.
   *
   * @returns The bridge and whether it was created.
   * @throws {TopologyError} `` `all` is a reserved word -- cannot use for bridge name ``.
   */
  ensureBridge(name: string): { bridge: Bridge; created: boolean } {
    const found = this.#bridges.get(name);
    if (found !== undefined) return { bridge: found, created: false };
    checkName(name, "bridge");
    if (name === "") throw new TopologyError("bridge name must not be empty string");
    const bridge = new Bridge(name);
    this.#bridges.set(name, bridge);
    return { bridge, created: true };
  }

  /** Removes a bridge's record. */
  deleteBridge(name: string): void {
    this.#bridges.delete(name);
  }

  /**
   * The next `mega_tapN` name: the counter only goes up, and skips names in use on any bridge.
   */
  nextTapName(): string {
    for (;;) {
      const name = `mega_tap${this.#nextTap++}`;
      if (this.findTap(name) === undefined && !this.#isTrunk(name) && !this.isNameTaken(name)) return name;
    }
  }

  /**
   * Adds a tap to a bridge (creating the bridge if needed), named `name` or the next `mega_tapN`.
   *
   * @throws {TopologyError} `tap already on bridge`, or the reserved-word errors.
   */
  addTap(
    bridgeName: string,
    tap: {
      name?: string;
      role: PortRole;
      vlan: number;
      qinq?: boolean;
      mac?: string;
      namespace?: string;
      peer?: { bridge: string; port: string };
    },
  ): TapState {
    if (tap.name !== undefined) checkName(tap.name, "tap");
    const { bridge } = this.ensureBridge(bridgeName);
    const name = tap.name ?? this.nextTapName();
    if (bridge.taps.has(name) || bridge.trunks.includes(name)) {
      throw new TopologyError("tap already on bridge");
    }
    const state: TapState = {
      name,
      role: tap.role,
      vlan: tap.vlan,
      qinq: tap.qinq ?? false,
      mac: tap.mac ?? "",
      namespace: tap.namespace ?? "",
      addresses: [],
      ...(tap.peer === undefined ? {} : { peer: tap.peer }),
    };
    bridge.taps.set(name, state);
    return state;
  }

  /** Finds a tap by name on any bridge. */
  findTap(name: string): { bridge: Bridge; tap: TapState } | undefined {
    for (const bridge of this.#bridges.values()) {
      const tap = bridge.taps.get(name);
      if (tap !== undefined) return { bridge, tap };
    }
    return undefined;
  }

  /** Replaces a tap's record (e.g. with an address added). */
  updateTap(bridgeName: string, tap: TapState): void {
    this.#bridges.get(bridgeName)?.taps.set(tap.name, tap);
  }

  /** Removes a tap from its bridge, and the mirrors that use it. */
  removeTap(bridgeName: string, name: string): MirrorSpec[] {
    const bridge = this.#bridges.get(bridgeName);
    if (bridge === undefined) return [];
    bridge.taps.delete(name);
    const gone = [...bridge.mirrors.values()].filter((m) =>
      m.output === name || m.selectSrc.includes(name) || m.selectDst.includes(name)
    );
    for (const m of gone) bridge.mirrors.delete(m.name);
    return gone;
  }

  #isTrunk(name: string): boolean {
    for (const bridge of this.#bridges.values()) if (bridge.trunks.includes(name)) return true;
    return false;
  }
}

/** One bridge's mutable state. */
export class Bridge {
  /** Its name. */
  readonly name: string;
  /** Taps by name. */
  readonly taps = new Map<string, TapState>();
  /** Trunked interfaces, in the order added. */
  readonly trunks: string[] = [];
  /** Mirrors by name. */
  readonly mirrors = new Map<string, MirrorSpec>();
  /** `bridge config` settings. */
  readonly config = new Map<string, string>();
  /** The backend found it and did not make it (minimega's "preexisting"): it is never deleted. */
  preexisting = false;

  /** Makes an empty bridge. */
  constructor(name: string) {
    this.name = name;
  }

  /** Whether a tap is some mirror's output. */
  isMirrorOutput(tap: string): boolean {
    for (const m of this.mirrors.values()) if (m.output === tap) return true;
    return false;
  }

  /** The bridge as plain JSON. */
  toJSON(): BridgeState {
    const taps: Record<string, TapState> = {};
    for (const name of [...this.taps.keys()].sort()) taps[name] = this.taps.get(name)!;
    const mirrors: Record<string, MirrorSpec> = {};
    for (const name of [...this.mirrors.keys()].sort()) mirrors[name] = this.mirrors.get(name)!;
    return {
      name: this.name,
      taps,
      trunks: [...this.trunks],
      mirrors,
      config: Object.fromEntries([...this.config].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
      ...(this.preexisting ? { preexisting: true } : {}),
    };
  }
}

function checkName(name: string, what: "bridge" | "tap"): void {
  if (name === "all") throw new TopologyError(`\`all\` is a reserved word -- cannot use for ${what} name`);
}
