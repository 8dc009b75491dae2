// Runtime-neutral.
/**
 * The captures room: packet captures of VM NICs and of whole bridges (a capture tap fed by a select-all
 * mirror `mirror-<tap>`, so frames keep their VLAN tags), to a pcap file or kept for the lab to read while
 * they run; each namespace's `capture pcap snaplen` and `filter` settings. Capture ids are never reused.
 *
 * @module
 */

import type { BridgeBackend, MirrorSpec } from "../backend/bridges.ts";
import type { CaptureBackend, CaptureContents } from "../backend/captures.ts";
import { CaptureError, TopologyError } from "../errors.ts";
import { parseGoInt } from "../go_int.ts";
import type { Journal } from "./_journal.ts";
import type { BridgeRoom } from "./bridges.ts";
import type { Plug, PortRoom } from "./ports.ts";
import type { CaptureRecord } from "./records.ts";
import { DEFAULT_SNAPLEN, mirrorName } from "./rules.ts";

/** The most frames a capture without a file keeps unless told otherwise; older ones go first. */
export const DEFAULT_CAPTURE_LIMIT = 100_000;

/** A namespace's settings for new captures. */
export interface CaptureSettings {
  /** Bytes kept per frame; 0 when unset (then {@linkcode DEFAULT_SNAPLEN}). */
  readonly snaplen: number;
  /** A BPF filter, or "". */
  readonly filter: string;
}

/** What a new capture keeps and where. */
export interface CaptureTarget {
  /** The namespace starting it. */
  readonly namespace: string;
  /** A pcap file; none: the frames are kept for reading. */
  readonly path?: string;
  /** Bytes kept per frame. @default {the namespace's setting, else 1600} */
  readonly snaplen?: number;
  /** A BPF filter. @default {the namespace's setting} */
  readonly filter?: string;
  /** The most frames kept without a file. @default {DEFAULT_CAPTURE_LIMIT} */
  readonly limit?: number;
}

/** The lab's captures. */
export class CaptureRoom {
  #journal: Journal;
  #backend: CaptureBackend & BridgeBackend;
  #ports: PortRoom;
  #bridges: BridgeRoom;
  #captures = new Map<number, CaptureRecord>();
  #settings = new Map<string, CaptureSettings>();
  #nextId = 0;

  /** Makes the room. */
  constructor(
    journal: Journal,
    backend: CaptureBackend & BridgeBackend,
    ports: PortRoom,
    bridges: BridgeRoom,
  ) {
    this.#journal = journal;
    this.#backend = backend;
    this.#ports = ports;
    this.#bridges = bridges;
  }

  /** The next capture id (saved with the lab). */
  get nextId(): number {
    return this.#nextId;
  }

  /** Restores the id counter (loading a lab). */
  set nextId(n: number) {
    this.#nextId = n;
  }

  /** A capture by id, or undefined. */
  get(id: number): CaptureRecord | undefined {
    return this.#captures.get(id);
  }

  /** The captures, of one namespace or of all, by id. */
  list(namespace?: string): CaptureRecord[] {
    const all = [...this.#captures.values()].sort((a, b) => a.id - b.id);
    return namespace === undefined ? all : all.filter((c) => c.namespace === namespace);
  }

  /** A namespace's capture settings. */
  settings(namespace: string): CaptureSettings {
    return this.#settings.get(namespace) ?? { snaplen: 0, filter: "" };
  }

  #setSettings(namespace: string, settings: CaptureSettings): void {
    const before = this.#settings.get(namespace);
    this.#settings.set(namespace, settings);
    this.#journal.record(() => {
      if (before === undefined) this.#settings.delete(namespace);
      else this.#settings.set(namespace, before);
    });
  }

  /**
   * Sets the snaplen of new captures (`capture pcap snaplen <size>`).
   *
   * @throws {CaptureError} Go's parse error for a value that is not a uint32 (minimega's words).
   */
  setSnaplen(namespace: string, size: string): void {
    const n = parseGoInt(size);
    if (n === undefined || n < 0 || n > 0xffffffff) {
      throw new CaptureError(
        "invalid-argument",
        `strconv.ParseUint: parsing ${JSON.stringify(size)}: invalid syntax`,
      );
    }
    this.#setSettings(namespace, { ...this.settings(namespace), snaplen: n });
  }

  /** Sets the BPF filter of new captures (`capture pcap filter <bpf>`). */
  setFilter(namespace: string, filter: string): void {
    this.#setSettings(namespace, { ...this.settings(namespace), filter });
  }

  /** Starts a capture of a port: a VM NIC's tap (the VM's name and NIC index given). */
  async startPort(
    target: CaptureTarget,
    port: { bridge: string; port: string; vm: string; nic: number },
  ): Promise<CaptureRecord> {
    return await this.#start(target, { bridge: port.bridge, port: port.port, vm: port.vm, nic: port.nic });
  }

  /**
   * Starts a capture of a whole bridge: a capture tap, an untagged trunk, gets a copy of every frame
   * through a select-all mirror, so frames keep their VLAN tags.
   *
   * @throws {TopologyError} `bridge not found: X`.
   */
  async startBridge(target: CaptureTarget, bridge: string): Promise<CaptureRecord> {
    if (!this.#bridges.has(bridge)) {
      throw new TopologyError("bridge-not-found", `bridge not found: ${bridge}`);
    }
    const tap = this.#ports.nextTapName();
    const id = this.#nextId;
    this.#ports.claim(tap, { kind: "capture", id });
    await this.#ports.plug(
      [{ bridge, spec: { name: tap, mode: { kind: "trunk" }, role: "capture" } }],
      (b) => this.#bridges.make(b),
    );
    const mirror = captureMirror(tap);
    await this.#backend.addMirror(bridge, mirror);
    this.#journal.compensate(
      `adding mirror ${mirror.name}`,
      () => this.#backend.removeMirror(bridge, mirror.name),
    );
    return await this.#start(target, { bridge, port: tap, tap });
  }

  async #start(
    target: CaptureTarget,
    fields: { bridge: string; port: string; vm?: string; nic?: number; tap?: string },
  ): Promise<CaptureRecord> {
    const settings = this.settings(target.namespace);
    const snaplen = target.snaplen ?? (settings.snaplen === 0 ? DEFAULT_SNAPLEN : settings.snaplen);
    const filter = target.filter ?? settings.filter;
    const id = this.#nextId;
    const record: CaptureRecord = {
      id,
      namespace: target.namespace,
      ...fields,
      ...(target.path === undefined ? {} : { path: target.path }),
      snaplen,
      filter,
    };
    await this.#backend.startCapture({
      id,
      bridge: record.bridge,
      port: record.port,
      ...(record.path === undefined ? {} : { path: record.path }),
      snaplen,
      filter,
      limit: target.limit ?? DEFAULT_CAPTURE_LIMIT,
    });
    this.#journal.compensate(`starting capture ${id}`, () => this.#backend.stopCapture(id));
    this.#nextId = id + 1;
    this.#journal.record(() => this.#nextId = id);
    this.#captures.set(id, record);
    this.#journal.record(() => this.#captures.delete(id));
    return record;
  }

  /**
   * Stops a capture, completing its file; a bridge capture's mirror and tap go with it (minimega leaves
   * the tap). A stopped capture cannot be undone: stopping comes after every check a command makes.
   */
  async stop(id: number): Promise<void> {
    const capture = this.#captures.get(id);
    if (capture === undefined) return;
    await this.#backend.stopCapture(id);
    this.#captures.delete(id);
    this.#journal.record(() => this.#captures.set(id, capture));
    if (capture.tap !== undefined) {
      await this.#backend.removeMirror(capture.bridge, mirrorName(capture.tap));
      this.#journal.compensate(
        `removing mirror ${mirrorName(capture.tap)}`,
        () => this.#backend.addMirror(capture.bridge, captureMirror(capture.tap!)),
      );
      await this.#ports.unplug([capture.tap]);
      this.#ports.release(capture.tap);
    }
  }

  /** Stops the captures a predicate picks. */
  async stopWhere(pick: (capture: CaptureRecord) => boolean): Promise<void> {
    for (const capture of this.list()) if (pick(capture)) await this.stop(capture.id);
  }

  /**
   * The frames a capture kept so far.
   *
   * @throws {CaptureError} `Cannot read capture N: no such capture` (code `capture-not-found`).
   */
  async read(id: number): Promise<CaptureContents> {
    if (!this.#captures.has(id)) {
      throw new CaptureError("capture-not-found", `Cannot read capture ${id}: no such capture`);
    }
    return await this.#backend.readCapture(id);
  }

  /** Makes a capture's file complete up to now. */
  async flush(id: number): Promise<void> {
    if (this.#captures.has(id)) await this.#backend.flushCapture(id);
  }

  /** The plugs of the bridge captures' taps, and the mirrors feeding them (a lab rebuilt in a new backend). */
  plugs(): { plugs: Plug[]; mirrors: [string, MirrorSpec][] } {
    const taps = this.list().filter((c) => c.tap !== undefined);
    return {
      plugs: taps.map((c) => ({
        bridge: c.bridge,
        spec: { name: c.tap!, mode: { kind: "trunk" }, role: "capture" },
      })),
      mirrors: taps.map((c) => [c.bridge, captureMirror(c.tap!)]),
    };
  }

  /** Forgets a namespace's settings (the namespace is destroyed; its captures are stopped already). */
  dropNamespace(namespace: string): void {
    const before = this.#settings.get(namespace);
    if (before === undefined) return;
    this.#settings.delete(namespace);
    this.#journal.record(() => this.#settings.set(namespace, before));
  }

  /** Every namespace's settings that were set. */
  settingsEntries(): [string, CaptureSettings][] {
    return [...this.#settings];
  }

  /** Restores the room (loading a lab); the captures of a saved lab ended with their process. */
  load(settings: readonly [string, CaptureSettings][], captures: readonly CaptureRecord[]): void {
    this.#settings = new Map(settings);
    this.#captures = new Map(captures.map((c) => [c.id, c]));
  }
}

/** The select-all mirror feeding a bridge capture's tap. */
function captureMirror(tap: string): MirrorSpec {
  return { name: mirrorName(tap), selectAll: true, selectSrc: [], selectDst: [], output: tap };
}
