// Runtime-neutral.
/**
 * The mirrors room: `tap mirror` copies one port's traffic (both ways) to another port on the same bridge,
 * whose output is then reserved for mirroring, as Open vSwitch's output ports are. A mirror is named
 * after its output (`mirror-<output>`) and belongs to the namespace that made it.
 *
 * @module
 */

import type { BridgeBackend, MirrorSpec } from "../backend/bridges.ts";
import { TopologyError } from "../errors.ts";
import type { Journal } from "./_journal.ts";
import type { PortRoom } from "./ports.ts";
import type { MirrorRecord } from "./records.ts";
import { mirrorName } from "./rules.ts";

/** What the backend is told of a mirror: its source's frames both ways, to its output. */
export function mirrorSpec(mirror: MirrorRecord): MirrorSpec {
  return {
    name: mirror.name,
    selectAll: false,
    selectSrc: [mirror.source],
    selectDst: [mirror.source],
    output: mirror.output,
  };
}

/** The lab's mirrors. */
export class MirrorRoom {
  #journal: Journal;
  #backend: BridgeBackend;
  #ports: PortRoom;
  /** By name. */
  #mirrors = new Map<string, MirrorRecord>();

  /** Makes the room. */
  constructor(journal: Journal, backend: BridgeBackend, ports: PortRoom) {
    this.#journal = journal;
    this.#backend = backend;
    this.#ports = ports;
  }

  /** The mirrors, of one namespace or of all, by name. */
  list(namespace?: string): MirrorRecord[] {
    const all = [...this.#mirrors.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    return namespace === undefined ? all : all.filter((m) => m.namespace === namespace);
  }

  /** The mirror whose output is a port, or undefined. */
  byOutput(port: string): MirrorRecord | undefined {
    return this.#mirrors.get(mirrorName(port));
  }

  /** Whether a port is on a bridge, as a mirror's source or output must be (a trunk is not). */
  #onBridge(port: string, bridge: string): boolean {
    const entry = this.#ports.get(port);
    return entry?.bridge === bridge && entry.owner.kind !== "trunk";
  }

  /**
   * Mirrors one port's traffic to another on a bridge (`tap mirror <src> <dst> [bridge]`).
   *
   * @throws {TopologyError} `cannot mirror tap to itself`, `source tap is not on bridge`,
   * `destination tap is not on bridge`, `destination tap is already a mirror` (minimega's words).
   */
  async create(namespace: string, source: string, output: string, bridge: string): Promise<MirrorRecord> {
    if (source === output) throw new TopologyError("invalid-argument", "cannot mirror tap to itself");
    if (!this.#onBridge(source, bridge)) {
      throw new TopologyError("tap-not-found", "source tap is not on bridge");
    }
    if (!this.#onBridge(output, bridge)) {
      throw new TopologyError("tap-not-found", "destination tap is not on bridge");
    }
    if (this.#mirrors.has(mirrorName(output)) || this.#ports.get(output)?.owner.kind === "capture") {
      throw new TopologyError("mirror-exists", "destination tap is already a mirror");
    }
    const mirror: MirrorRecord = { name: mirrorName(output), namespace, bridge, source, output };
    await this.#backend.addMirror(bridge, mirrorSpec(mirror));
    this.#journal.compensate(
      `adding mirror ${mirror.name}`,
      () => this.#backend.removeMirror(bridge, mirror.name),
    );
    this.#put(mirror);
    return mirror;
  }

  #put(mirror: MirrorRecord): void {
    this.#mirrors.set(mirror.name, mirror);
    this.#journal.record(() => this.#mirrors.delete(mirror.name));
  }

  async #remove(mirror: MirrorRecord): Promise<void> {
    await this.#backend.removeMirror(mirror.bridge, mirror.name);
    this.#journal.compensate(
      `removing mirror ${mirror.name}`,
      () => this.#backend.addMirror(mirror.bridge, mirrorSpec(mirror)),
    );
    this.#mirrors.delete(mirror.name);
    this.#journal.record(() => this.#mirrors.set(mirror.name, mirror));
  }

  /**
   * Removes a namespace's mirror by its output, or all of the namespace's (`clear tap mirror [name]`).
   *
   * @throws {TopologyError} `not a valid mirror`, `unknown tap` (minimega's words).
   */
  async clear(namespace: string, output?: string): Promise<void> {
    if (output === undefined || output === "all") {
      for (const mirror of this.list(namespace)) await this.#remove(mirror);
      return;
    }
    const mirror = this.byOutput(output);
    if (mirror === undefined || mirror.namespace !== namespace) {
      throw new TopologyError("mirror-not-found", "not a valid mirror");
    }
    if (!this.#ports.has(output)) throw new TopologyError("tap-not-found", "unknown tap");
    await this.#remove(mirror);
  }

  /** Removes the mirrors whose source or output is one of `ports` (they are about to leave their bridge). */
  async dropUsing(ports: Iterable<string>): Promise<void> {
    const gone = new Set(ports);
    if (gone.size === 0 || this.#mirrors.size === 0) return;
    for (const mirror of [...this.#mirrors.values()]) {
      if (gone.has(mirror.source) || gone.has(mirror.output)) await this.#remove(mirror);
    }
  }

  /** Restores the room (loading a lab). */
  load(mirrors: readonly MirrorRecord[]): void {
    this.#mirrors = new Map(mirrors.map((m) => [m.name, m]));
  }
}
