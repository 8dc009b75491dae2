// Runtime-neutral.
/**
 * A simulated Open vSwitch bridge carrying real Ethernet frames (bytes), with the `NORMAL` action's rules
 * as `ofproto/ofproto-dpif-xlate.c` implements them and as measured on the project's machines
 * (recipes/environment.md 2.1, 2.5, 2.6, 2.6b):
 *
 * - **Ports** are `access` (one VLAN, untagged on the wire; a frame arriving with a non-zero VLAN ID is
 *   dropped, as OVS does for `vlan_mode=access`), `trunk` (all VLANs, or a `trunks` list; untagged
 *   frames belong to VLAN 0; tags stay on the wire) or `dot1q-tunnel` (QinQ: an outer 802.1ad tag,
 *   TPID 0x88a8, is pushed on every frame arriving and popped from every frame leaving, inner tags
 *   kept; OVS's `other_config:vlan-limit=2`, which minimega sets, is modelled as on).
 * - **MAC learning** per (VLAN, MAC), ageing after 300 s of virtual time, at most 2048 entries; frames
 *   to broadcast, multicast and unknown unicast MACs are flooded within their VLAN, never back out of the
 *   port they came in on; multicast sources are never learned; frames to 01:80:c2:00:00:0x are dropped.
 * - **Mirrors** (`select_all`, `select_src_port`, `select_dst_port`, `output_port`): copies leave an
 *   access output port untagged and a trunk output port tagged; the output port is reserved for
 *   mirroring; a copy leaving an output port can be mirrored again with its VLAN re-derived from that
 *   port.
 * - **Observers**: what libpcap on a port's device sees, `rx` (sent in by the endpoint) and `tx`
 *   (transmitted to the endpoint).
 *
 * Frames move as `(buf, off, len)`; nothing is allocated per frame: tag pushes and pops are written into
 * a scratch arena shared by the bridges of a network. Bytes handed to sinks and observers are valid only
 * during the call, and must not be modified.
 *
 * minimega never makes an access port for VLAN 0: a NIC on VLAN 0 is added without `tag=`, which makes it
 * a trunk carrying every VLAN; the lab passes `{ kind: "trunk" }` for it. An access port with tag 0
 * behaves as OVS's would (VLAN 0, untagged on trunks).
 *
 * @module
 */

import type { FrameSink, Scheduler } from "./types.ts";
import { formatMac48, mac48, macHi, macLo, MacTable } from "./_fdb.ts";
import {
  DEFAULT_MAX_PATCH_DEPTH,
  DEFAULT_MAX_PATCH_TRAVERSALS,
  Engine,
  JOIN_ENGINE,
  MAX_FRAME_BYTES,
  SET_PEER,
} from "./_engine.ts";
import type { MirrorSpec, PortMode } from "../lib/backend/bridges.ts";
import { VirtualClock } from "./clock.ts";

/**
 * How a port treats VLANs: the lab model's {@linkcode PortMode} (`access` with a tag, `trunk` with an
 * optional VLAN list, `dot1q-tunnel` with the outer tag), the same three modes as Open vSwitch.
 */
export type { PortMode };

/** Why a port dropped a frame, in the order {@linkcode PortCounters.drops} lists them. */
export const DROP_REASONS = [
  /** The port would transmit the frame, but nothing is attached to it. */
  "no-sink",
  /** The frame's VLAN is not allowed in on this port (tagged on an access port, not in a trunk's list). */
  "vlan",
  /** The frame arrived on a port reserved as a mirror's output. */
  "mirror-output",
  /** The destination is a reserved 802.1D group address, 01:80:c2:00:00:00 to 0f. */
  "reserved-dst",
  /** Shorter than an Ethernet header, or a VLAN tag cut short. */
  "malformed",
  /** Longer than 65535 bytes. */
  "oversize",
  /** The destination was learned on the port the frame came in on. */
  "same-port",
  /** The frame crossed too many patch links (a loop in the lab). */
  "loop",
] as const;

/** Why a port dropped a frame. */
export type DropReason = typeof DROP_REASONS[number];

/** A port's frame counters, as OVS keeps interface statistics (`rx`: into the bridge, `tx`: out of it). */
export interface PortCounters {
  /** Frames received from the endpoint (or the patch peer), dropped ones included. */
  readonly rx: number;
  /** Frames transmitted to the endpoint (or the patch peer), mirror copies included. */
  readonly tx: number;
  /** Frames dropped at this port, for every reason. */
  readonly dropped: number;
  /** Frames dropped at this port, by reason. */
  readonly drops: Readonly<Record<DropReason, number>>;
}

/** `rx`: a frame the endpoint sent into the port; `tx`: a frame the port transmitted to the endpoint. */
export type FrameDirection = "rx" | "tx";

/** Sees frames on a port as libpcap on its device would; bytes valid only during the call. */
export type PortObserver = (direction: FrameDirection, buf: Uint8Array, off: number, len: number) => void;

/** What a mirror selects and where its copies go (OVS `Mirror` columns). */
export interface SimMirrorSpec {
  /** Every frame in or out of every port (`select_all`). @default {false} */
  readonly selectAll?: boolean;
  /** Frames received on these ports (`select_src_port`). @default {[]} */
  readonly selectSrc?: readonly string[];
  /** Frames transmitted on these ports (`select_dst_port`). @default {[]} */
  readonly selectDst?: readonly string[];
  /** The port that gets the copies (`output_port`); it is then reserved for mirroring. */
  readonly output: string;
}

/** A port as {@linkcode SimBridge.ports} lists it. */
export interface SimPortInfo {
  /** The port's name. */
  readonly name: string;
  /** Its index, for {@linkcode SimBridge.transmitFrom}. */
  readonly index: number;
  /** Its VLAN mode. */
  readonly mode: PortMode;
  /** Whether an endpoint is attached. */
  readonly attached: boolean;
  /** The other end of its patch link, if it has one. */
  readonly patch?: { readonly bridge: string; readonly port: string };
  /** The mirrors that output to it (then it is reserved for mirroring). */
  readonly mirrorOutputOf: readonly string[];
}

/** A learned MAC, as `ovs-appctl fdb/show` lists it. */
export interface FdbEntry {
  /** The port it was learned on. */
  readonly port: string;
  /** The VLAN. */
  readonly vlan: number;
  /** The MAC, `aa:bb:cc:dd:ee:ff`. */
  readonly mac: string;
  /** Nanoseconds since it was last seen. */
  readonly ageNs: number;
}

/** Options for {@linkcode SimBridge}. */
export interface SimBridgeOptions {
  /** Where MAC ageing reads the time. @default {new VirtualClock()} */
  clock?: Scheduler;
  /** Most MACs learned at once (OVS `other_config:mac-table-size`). @default {2048} */
  macTableSize?: number;
  /** Nanoseconds an unrefreshed MAC is kept (OVS `other_config:mac-aging-time`, 300 s). @default {300e9} */
  macAgingNs?: number;
}

const K_ACCESS = 0;
const K_TRUNK = 1;
const K_TUNNEL = 2;
/** The flood list of trunk ports (the per-VLAN lists are 0-4095). */
const TRUNK_GROUP = 4096;

const NR = DROP_REASONS.length;
const R_NO_SINK = 0;
const R_VLAN = 1;
const R_MIRROR_OUTPUT = 2;
const R_RESERVED_DST = 3;
const R_MALFORMED = 4;
const R_OVERSIZE = 5;
const R_SAME_PORT = 6;
const R_LOOP = 7;

const TPID_8021Q = 0x8100;
const TPID_8021AD = 0x88a8;
/**
 * In a tag code, the bit that says the TPID is 802.1ad (0x88a8) rather than 802.1Q (0x8100). A tag code
 * is this bit | the TCI without its DEI bit (which OVS does not carry through its VLAN state), 0 for "no
 * tag": a small integer, so that V8 never boxes it (a TPID << 16 | TCI word would be a double).
 */
const AD = 0x10000;
/** OVS `MAX_MIRRORS`. */
const MAX_MIRRORS = 32;

interface Mirror {
  name: string;
  selectAll: boolean;
  selectSrc: string[];
  selectDst: string[];
  output: string;
}

/** The tag code of the 802.1Q or 802.1ad tag at `o`. */
function tagCode(b: Uint8Array, o: number): number {
  return (b[o] === 0x88 ? AD : 0) | ((b[o + 2]! << 8 | b[o + 3]!) & 0xefff);
}

/** Writes the tag with code `code` at `o`. */
function writeTag(b: Uint8Array, o: number, code: number): void {
  const tpid = (code & AD) !== 0 ? TPID_8021AD : TPID_8021Q;
  b[o] = tpid >> 8;
  b[o + 1] = tpid & 0xff;
  b[o + 2] = code >> 8;
  b[o + 3] = code;
}

/**
 * One simulated Open vSwitch bridge. Use it alone, or make it with {@linkcode SimNetwork.addBridge} to
 * patch it to others.
 *
 * @example Two VMs on VLAN 100 and one on VLAN 200
 * ```ts
 * import assert from "node:assert/strict";
 * import { SimBridge } from "labwire/sim";
 *
 * const br = new SimBridge("mega_bridge");
 * const got: string[] = [];
 * for (const [name, tag] of [["tap0", 100], ["tap1", 100], ["tap2", 200]] as const) {
 *   br.addPort(name, { kind: "access", tag });
 *   br.attach(name, { receive: () => got.push(name) });
 * }
 * const broadcast = new Uint8Array(60).fill(0xff, 0, 6);
 * broadcast.set([2, 0, 0, 0, 0, 1], 6);
 * br.transmitFrom("tap0", broadcast, 0, 60);
 * assert.deepEqual(got, ["tap1"]);
 * ```
 */
export class SimBridge {
  /** The bridge's name. */
  readonly name: string;
  #clock: Scheduler;
  #engine: Engine;
  #fdb: MacTable;
  /** The time, set once per frame for the MAC table (a typed array, so that it is never boxed). */
  #now = new Float64Array(1);

  // ports, indexed by port index; a removed port's index is reused by the next port added
  #names: (string | undefined)[] = [];
  #index = new Map<string, number>();
  /** Removed ports' indices, a binary min-heap: the next port added takes the lowest. */
  #free: number[] = [];
  /**
   * Live ports in the order they were added (the order OVS floods in), a doubly linked list through
   * `#onext`/`#oprev` from `#ohead` to `#otail` (-1 ends it): adding and removing a port cost O(1).
   */
  #ohead = -1;
  #otail = -1;
  #onext = new Int32Array(8);
  #oprev = new Int32Array(8);
  /** Per port: when it was added (a counter), which orders the flood lists. */
  #seq = new Float64Array(8);
  #nextSeq = 0;
  /**
   * The flood lists: per VLAN 0-4095 the access and dot1q-tunnel ports with that tag, and under
   * `TRUNK_GROUP` every trunk port, each a doubly linked list through `#gnext`/`#gprev` in the order the
   * ports were added. A flood walks the frame's VLAN's list merged with the trunks', never the whole
   * bridge.
   */
  #ghead = new Int32Array(TRUNK_GROUP + 1).fill(-1);
  #gtail = new Int32Array(TRUNK_GROUP + 1).fill(-1);
  #gnext = new Int32Array(8);
  #gprev = new Int32Array(8);
  /** Per port: the flood list it is on, -1 for none. */
  #group = new Int32Array(8).fill(-1);
  #modes: (PortMode | undefined)[] = [];
  #kind = new Uint8Array(8);
  #tag = new Uint16Array(8);
  /** Per trunk port with a `trunks` list: 1 for each VLAN carried. */
  #trunks: (Uint8Array | undefined)[] = [];
  #sinks: (FrameSink | undefined)[] = [];
  #peer: (SimBridge | undefined)[] = [];
  #peerPort = new Int32Array(8);
  /** Per port: its observers, replaced (never mutated) when one is added or removed. */
  #obs: (PortObserver[] | undefined)[] = [];
  #rx = new Float64Array(8);
  #tx = new Float64Array(8);
  #drops = new Float64Array(8 * NR);

  // mirrors, indexed like OVS's (the lowest free index; copies are made in index order)
  #mirrors: (Mirror | undefined)[] = new Array(MAX_MIRRORS).fill(undefined);
  #mirrorCount = 0;
  /** Per mirror: its output port index. */
  #mirrorOutPort = new Int32Array(MAX_MIRRORS);
  /** Per mirror: the mirrors with the same output port (itself included). */
  #dupMask = new Int32Array(MAX_MIRRORS);
  /** Per port: the mirrors selecting frames it receives / transmits / outputting to it. */
  #srcMask = new Int32Array(8);
  #dstMask = new Int32Array(8);
  #outMask = new Int32Array(8);
  /** Mirrors already used for the frame being forwarded, in this visit of the bridge (OVS `ctx->mirrors`). */
  #used = 0;
  /** Results of {@linkcode #translateIn}. */
  #x0 = 0;
  #x1 = 0;

  #loopDrops = 0;
  #lastLoop: string | undefined;

  /**
   * @param name The bridge's name, e.g. `mega_bridge`.
   * @param options The clock and the MAC table's size and ageing.
   * @throws {TypeError} If `name` is empty.
   * @throws {RangeError} If `macTableSize` or `macAgingNs` is out of range.
   */
  constructor(name: string, options: SimBridgeOptions = {}) {
    const { clock = new VirtualClock(), macTableSize = 2048, macAgingNs = 300e9 } = options;
    if (typeof name !== "string" || name === "") {
      throw new TypeError("Cannot create bridge as its name must be a non-empty string");
    }
    if (!(Number.isInteger(macTableSize) && macTableSize > 0 && macTableSize <= 1 << 24)) {
      throw new RangeError(
        `Cannot create bridge "${name}" as 'macTableSize' must be an integer 1-16777216: current value is ${macTableSize}`,
      );
    }
    if (!(Number.isFinite(macAgingNs) && macAgingNs > 0)) {
      throw new RangeError(
        `Cannot create bridge "${name}" as 'macAgingNs' must be a positive number: current value is ${macAgingNs}`,
      );
    }
    this.name = name;
    this.#clock = clock;
    this.#fdb = new MacTable(macTableSize, macAgingNs, this.#now);
    this.#engine = new Engine(DEFAULT_MAX_PATCH_DEPTH, DEFAULT_MAX_PATCH_TRAVERSALS);
  }

  // ---------------------------------------------------------------- ports

  /**
   * Adds a port (OVS `add-port` with `tag=` / `trunks=` / `vlan_mode=dot1q-tunnel`).
   *
   * @param name The port's name, unique on this bridge.
   * @param mode How the port treats VLANs.
   * @returns The port's index, for {@linkcode transmitFrom}.
   * @throws {TypeError} If `name` is empty or `mode` has an unknown kind.
   * @throws {RangeError} If a VLAN is not an integer 0-4095.
   * @throws {Error} If the name is taken, or a frame is being forwarded.
   */
  addPort(name: string, mode: PortMode): number {
    const action = `add port "${name}" to bridge "${this.name}"`;
    this.#checkIdle(action);
    if (typeof name !== "string" || name === "") {
      throw new TypeError(`Cannot add port to bridge "${this.name}" as its name must be a non-empty string`);
    }
    if (this.#index.has(name)) throw new Error(`Cannot ${action}: a port with that name already exists`);
    const normal = normalizeMode(mode, action);
    let p = heapPop(this.#free);
    if (p < 0) {
      p = this.#names.length;
      this.#grow(p + 1);
    }
    this.#names[p] = name;
    this.#index.set(name, p);
    this.#seq[p] = this.#nextSeq++;
    this.#orderAppend(p);
    this.#sinks[p] = undefined;
    this.#peer[p] = undefined;
    this.#obs[p] = undefined;
    this.#rx[p] = 0;
    this.#tx[p] = 0;
    this.#drops.fill(0, p * NR, p * NR + NR);
    this.#applyMode(p, normal);
    if (this.#mirrorCount === 0) {
      this.#srcMask[p] = 0;
      this.#dstMask[p] = 0;
      this.#outMask[p] = 0;
      return p;
    }
    // a select_all mirror now selects one more port: OVS reconfigures it, which flushes the MAC table
    if (this.#mirrors.some((m) => m?.selectAll)) this.#fdb.flush();
    this.#recomputeMirrors();
    return p;
  }

  /**
   * Removes a port: detaches its endpoint, unpatches it, forgets its MACs, drops it from mirrors'
   * selections, and deletes the mirrors that output to it (as vswitchd ignores a mirror whose output
   * port is gone).
   *
   * @param name The port's name.
   * @throws {RangeError} If there is no such port.
   * @throws {Error} If a frame is being forwarded.
   */
  removePort(name: string): void {
    const action = `remove port "${name}" from bridge "${this.name}"`;
    this.#checkIdle(action);
    const p = this.#port(name, action);
    const peer = this.#peer[p];
    if (peer !== undefined) peer[SET_PEER](this.#peerPort[p]!, undefined, 0);
    let mirrorsChanged = false;
    for (let i = 0; i < MAX_MIRRORS; i++) {
      const m = this.#mirrors[i];
      if (m === undefined) continue;
      if (m.output === name) {
        this.#mirrors[i] = undefined;
        this.#mirrorCount--;
        mirrorsChanged = true;
        continue;
      }
      const src = m.selectSrc.filter((s) => s !== name);
      const dst = m.selectDst.filter((s) => s !== name);
      if (m.selectAll || src.length !== m.selectSrc.length || dst.length !== m.selectDst.length) {
        mirrorsChanged = true;
      }
      m.selectSrc = src;
      m.selectDst = dst;
    }
    this.#names[p] = undefined;
    this.#index.delete(name);
    this.#orderRemove(p);
    this.#groupRemove(p);
    heapPush(this.#free, p);
    this.#modes[p] = undefined;
    this.#trunks[p] = undefined;
    this.#sinks[p] = undefined;
    this.#peer[p] = undefined;
    this.#obs[p] = undefined;
    if (mirrorsChanged) this.#fdb.flush();
    else this.#fdb.flushPort(p);
    if (this.#mirrorCount !== 0 || mirrorsChanged) this.#recomputeMirrors();
  }

  /**
   * Changes a port's VLAN mode; when it changes, the MACs learned on the port are forgotten (OVS
   * `bundle_flush_macs`).
   *
   * @param name The port's name.
   * @param mode The new mode.
   * @throws {TypeError} If `mode` has an unknown kind.
   * @throws {RangeError} If there is no such port, or a VLAN is not an integer 0-4095.
   * @throws {Error} If a frame is being forwarded.
   */
  setMode(name: string, mode: PortMode): void {
    const action = `set mode of port "${name}" on bridge "${this.name}"`;
    this.#checkIdle(action);
    const p = this.#port(name, action);
    const normal = normalizeMode(mode, action);
    if (sameMode(normal, this.#modes[p]!)) return;
    this.#applyMode(p, normal);
    this.#fdb.flushPort(p);
  }

  /** The ports, in the order they were added. */
  ports(): SimPortInfo[] {
    return this.#live().map((p) => {
      const name = this.#names[p]!;
      const peer = this.#peer[p];
      const outs = this.#mirrors.filter((m) => m?.output === name).map((m) => m!.name);
      const info: SimPortInfo = {
        name,
        index: p,
        mode: this.#modes[p]!,
        attached: this.#sinks[p] !== undefined,
        mirrorOutputOf: outs,
        ...(peer === undefined
          ? {}
          : { patch: { bridge: peer.name, port: peer.#names[this.#peerPort[p]!]! } }),
      };
      return info;
    });
  }

  /**
   * The index of a port, to pass to {@linkcode transmitFrom} without a name lookup.
   * @throws {RangeError} If there is no such port.
   */
  portIndex(name: string): number {
    return this.#port(name, `find port "${name}" on bridge "${this.name}"`);
  }

  /**
   * Plugs an endpoint into a port: it will receive what the port transmits.
   *
   * @param port The port's name or index.
   * @param sink The endpoint: a VM NIC, a host tap, a capture.
   * @throws {RangeError} If there is no such port.
   * @throws {Error} If the port is patched or already has an endpoint.
   */
  attach(port: string | number, sink: FrameSink): void {
    const p = this.#port(port, `attach to port "${port}" on bridge "${this.name}"`);
    const action = `attach to port "${this.#names[p]}" on bridge "${this.name}"`;
    if (typeof sink?.receive !== "function") {
      throw new TypeError(`Cannot ${action}: the sink has no receive()`);
    }
    if (this.#peer[p] !== undefined) throw new Error(`Cannot ${action}: it is a patch port`);
    if (this.#sinks[p] !== undefined) {
      throw new Error(`Cannot ${action}: an endpoint is already attached (detach it first)`);
    }
    this.#sinks[p] = sink;
  }

  /**
   * Unplugs a port's endpoint, if any; the port then drops what it would transmit.
   * @throws {RangeError} If there is no such port.
   */
  detach(port: string | number): void {
    const p = this.#port(port, `detach port "${port}" on bridge "${this.name}"`);
    this.#sinks[p] = undefined;
  }

  /**
   * Watches a port as libpcap on its device would: `rx` for each frame the endpoint sends in (as sent,
   * even if the bridge then drops it), `tx` for each frame the port transmits to its endpoint (as
   * transmitted: untagged on access ports). A port with no endpoint transmits nothing.
   *
   * @param port The port's name or index.
   * @param fn Called with each frame; the bytes are valid only during the call.
   * @returns A function that stops the observing.
   * @throws {RangeError} If there is no such port.
   */
  observe(port: string | number, fn: PortObserver): () => void {
    const p = this.#port(port, `observe port "${port}" on bridge "${this.name}"`);
    if (typeof fn !== "function") throw new TypeError("Cannot observe port as 'fn' is not a function");
    const name = this.#names[p];
    this.#obs[p] = [...(this.#obs[p] ?? []), fn];
    return () => {
      if (this.#names[p] !== name) return; // the port is gone (or its index reused)
      const left = (this.#obs[p] ?? []).filter((f) => f !== fn);
      this.#obs[p] = left.length === 0 ? undefined : left;
    };
  }

  /**
   * A port's counters.
   * @throws {RangeError} If there is no such port.
   */
  counters(port: string | number): PortCounters {
    const p = this.#port(port, `read counters of port "${port}" on bridge "${this.name}"`);
    const drops = {} as Record<DropReason, number>;
    let dropped = 0;
    for (let r = 0; r < NR; r++) {
      const n = this.#drops[p * NR + r]!;
      drops[DROP_REASONS[r]!] = n;
      dropped += n;
    }
    return { rx: this.#rx[p]!, tx: this.#tx[p]!, dropped, drops };
  }

  // ---------------------------------------------------------------- mirrors

  /**
   * Adds a mirror, as `ovs-vsctl -- --id=@m create mirror ... -- add bridge <br> mirrors @m` does. Its
   * output port is then reserved: it gets only copies, never normal traffic, and what it sends is
   * dropped. Like any mirror change in OVS, this flushes the bridge's MAC table.
   *
   * @param name The mirror's name (minimega: `mirror-<dst tap>`).
   * @param spec What to select and where to copy it.
   * @throws {TypeError} If `name` is empty.
   * @throws {RangeError} If a port named is not on the bridge, or the bridge has 32 mirrors already.
   * @throws {Error} If the name is taken, or a frame is being forwarded.
   */
  addMirror(name: string, spec: SimMirrorSpec): void {
    const action = `add mirror "${name}" to bridge "${this.name}"`;
    this.#checkIdle(action);
    if (typeof name !== "string" || name === "") {
      throw new TypeError(
        `Cannot add mirror to bridge "${this.name}" as its name must be a non-empty string`,
      );
    }
    if (this.#mirrors.some((m) => m?.name === name)) {
      throw new Error(`Cannot ${action}: a mirror with that name already exists`);
    }
    const { selectAll = false, selectSrc = [], selectDst = [], output } = spec;
    if (typeof output !== "string") throw new TypeError(`Cannot ${action}: 'output' must be a port name`);
    for (const port of [output, ...selectSrc, ...selectDst]) this.#port(port, action);
    const idx = this.#mirrors.indexOf(undefined);
    if (idx < 0) throw new RangeError(`Cannot ${action}: it has ${MAX_MIRRORS} mirrors already`);
    this.#mirrors[idx] = {
      name,
      selectAll: selectAll === true,
      selectSrc: [...new Set(selectSrc)],
      selectDst: [...new Set(selectDst)],
      output,
    };
    this.#mirrorCount++;
    this.#fdb.flush();
    this.#recomputeMirrors();
  }

  /**
   * Removes a mirror; its output port carries normal traffic again. Flushes the MAC table, as in OVS.
   *
   * @param name The mirror's name.
   * @throws {RangeError} If there is no such mirror.
   * @throws {Error} If a frame is being forwarded.
   */
  removeMirror(name: string): void {
    const action = `remove mirror "${name}" from bridge "${this.name}"`;
    this.#checkIdle(action);
    const idx = this.#mirrors.findIndex((m) => m?.name === name);
    if (idx < 0) throw new RangeError(`Cannot ${action}: no such mirror`);
    this.#mirrors[idx] = undefined;
    this.#mirrorCount--;
    this.#fdb.flush();
    this.#recomputeMirrors();
  }

  /** The mirrors, in the order their copies are made. */
  mirrors(): MirrorSpec[] {
    return this.#mirrors.filter((m) => m !== undefined).map((m) => ({
      name: m.name,
      selectAll: m.selectAll,
      selectSrc: [...m.selectSrc],
      selectDst: [...m.selectDst],
      output: m.output,
    }));
  }

  // ---------------------------------------------------------------- learning and loops

  /** The learned MACs, by port, VLAN and MAC (like `ovs-appctl fdb/show`). */
  fdb(): FdbEntry[] {
    this.#now[0] = this.#clock.now();
    return this.#fdb.entries().map((e) => ({
      port: this.#names[e.port]!,
      vlan: e.vlan,
      mac: formatMac48(e.mac),
      ageNs: e.ageNs,
    }));
  }

  /** Forgets every learned MAC (`ovs-appctl fdb/flush`). */
  flushFdb(): void {
    this.#fdb.flush();
  }

  /** Frames this bridge refused because they crossed too many patch links. */
  get loopDrops(): number {
    return this.#loopDrops;
  }

  /** What the last of those frames did, e.g. `loop detected: frame from ... crossed bridges a -> b -> a`. */
  get lastLoop(): string | undefined {
    return this.#lastLoop;
  }

  // ---------------------------------------------------------------- forwarding

  /**
   * A frame enters the bridge from the endpoint on `port`. It is forwarded (and mirrored, and observed)
   * before this returns; frames that endpoints send from inside `receive()` wait until it has reached
   * everyone, and are forwarded next, in order.
   *
   * @param port The port's name or index ({@linkcode portIndex}).
   * @param buf The bytes; not kept after the call.
   * @param off Where the frame starts.
   * @param len The frame's length, from the destination MAC to the end of the payload (no FCS).
   * @throws {RangeError} If there is no such port, or `off`/`len` are outside `buf`.
   * @throws {Error} If the port is a patch port.
   */
  transmitFrom(port: string | number, buf: Uint8Array, off = 0, len: number = buf.length - off): void {
    const p = typeof port === "number" ? port : this.#index.get(port) ?? -1;
    if (!(p >= 0 && this.#names[p] !== undefined)) {
      this.#port(port, `transmit from port "${port}" on bridge "${this.name}"`);
    }
    if (
      !(Number.isInteger(off) && Number.isInteger(len) && off >= 0 && len >= 0 && off + len <= buf.length)
    ) {
      throw new RangeError(
        `Cannot transmit from port "${this.#names[p]}" on bridge "${this.name}": ` +
          `frame at ${off} with ${len} bytes does not fit in a buffer of ${buf.length} bytes`,
      );
    }
    if (this.#peer[p] !== undefined) {
      throw new Error(
        `Cannot transmit from port "${this.#names[p]}" on bridge "${this.name}": it is a patch port`,
      );
    }
    const e = this.#engine;
    if (e.busy) {
      e.defer(this, p, buf, off, len);
      return;
    }
    e.busy = true;
    try {
      this.#inject(p, buf, off, len);
      while (e.queued > 0) {
        (e.frontBridge() as SimBridge).#inject(e.frontPort(), e.frontBytes(), e.frontOff(), e.frontLen());
        e.release();
      }
    } finally {
      e.busy = false;
      e.deferredRun = 0;
      if (e.queued > 0) e.clearQueue(); // only after an error
    }
  }

  /** Starts forwarding one frame from an endpoint. */
  #inject(p: number, buf: Uint8Array, off: number, len: number): void {
    const e = this.#engine;
    e.traversals = 0;
    e.base[0] = 0;
    e.path[0] = this;
    this.#used = 0;
    this.#ingress(p, buf, off, len, 0, false);
  }

  /**
   * A frame arrives on port `p` (OVS `xlate_actions` + `xlate_normal`), from its endpoint or, when
   * `viaPatch`, from the patch peer, `depth` patch links from where it entered the network.
   */
  #ingress(p: number, buf: Uint8Array, off: number, len: number, depth: number, viaPatch: boolean): void {
    const e = this.#engine;
    e.visit[depth] = ++e.visitSeq;
    this.#rx[p]!++;
    const obs = this.#obs[p];
    if (obs !== undefined) { for (let i = 0; i < obs.length; i++) obs[i]!("rx", buf, off, len); }
    if (len < 14) return this.#drop(p, R_MALFORMED);
    if (len > MAX_FRAME_BYTES) return this.#drop(p, R_OVERSIZE);
    // "dropping packet received on port X, which is reserved exclusively for mirroring"
    if (this.#outMask[p] !== 0) return this.#drop(p, R_MIRROR_OUTPUT);
    // up to two tags are parsed (vlan-limit=2); later ones are payload
    let n = 0;
    let w0 = 0;
    let w1 = 0;
    let et = buf[off + 12]! << 8 | buf[off + 13]!;
    if (et === TPID_8021Q || et === TPID_8021AD) {
      if (len < 18) return this.#drop(p, R_MALFORMED);
      w0 = tagCode(buf, off + 12);
      n = 1;
      et = buf[off + 16]! << 8 | buf[off + 17]!;
      if (et === TPID_8021Q || et === TPID_8021AD) {
        if (len < 22) return this.#drop(p, R_MALFORMED);
        w1 = tagCode(buf, off + 16);
        n = 2;
      }
    }
    if (!this.#translateIn(p, w0, w1)) return this.#drop(p, R_VLAN);
    const x0 = this.#x0;
    const x1 = this.#x1;
    const vlan = x0 & 0xfff;
    // mirrors select on ingress only where the frame entered the network (not after a patch link)
    if (!viaPatch && this.#mirrorCount !== 0) {
      const sm = this.#srcMask[p]!;
      if (sm !== 0) this.#mirrorPacket(p, sm, buf, off, len, n, w0, w1, depth);
    }
    // is_admissible(): reserved 802.1D group addresses are dropped (other_config:forward-bpdu=false)
    if (
      buf[off] === 0x01 && buf[off + 1] === 0x80 && buf[off + 2] === 0xc2 && buf[off + 3] === 0 &&
      buf[off + 4] === 0 && (buf[off + 5]! & 0xf0) === 0
    ) {
      return this.#drop(p, R_RESERVED_DST);
    }
    const fdb = this.#fdb;
    this.#now[0] = this.#clock.now();
    if ((buf[off + 6]! & 1) === 0) fdb.learn(vlan, macHi(buf, off + 6), macLo(buf, off + 6), p);
    if ((buf[off]! & 1) !== 0) return this.#flood(p, buf, off, len, n, x0, x1, depth);
    const q = fdb.lookup(vlan, macHi(buf, off), macLo(buf, off));
    if (q < 0) this.#flood(p, buf, off, len, n, x0, x1, depth);
    else if (q === p) this.#drop(p, R_SAME_PORT);
    else this.#output(q, buf, off, len, n, x0, x1, depth);
  }

  /**
   * OVS `input_vid_is_valid` + `xvlan_input_translate`: whether a frame whose first two tags have the
   * codes `w0`, `w1` (0: no tag) may enter port `p`, and then its VLAN state inside the bridge in `#x0`,
   * `#x1`.
   */
  #translateIn(p: number, w0: number, w1: number): boolean {
    const tag = this.#tag[p]!;
    switch (this.#kind[p]) {
      case K_ACCESS:
        if ((w0 & 0xfff) !== 0) return false; // untagged, or a priority tag (VID 0), may enter
        this.#x0 = (w0 & (AD | 0xe000)) | tag; // the priority tag's TPID and PCP, if any
        this.#x1 = 0;
        return true;
      case K_TRUNK: {
        const allowed = this.#trunks[p];
        if (allowed !== undefined && allowed[w0 & 0xfff] === 0) return false;
        this.#x0 = w0;
        this.#x1 = w1;
        return true;
      }
      default: // K_TUNNEL
        this.#x0 = AD | tag;
        this.#x1 = w0;
        return true;
    }
  }

  /** OVS `xlate_normal_flood`: every other port carrying the VLAN, in the order the ports were added. */
  #flood(
    inP: number,
    buf: Uint8Array,
    off: number,
    len: number,
    inTags: number,
    x0: number,
    x1: number,
    depth: number,
  ): void {
    const kinds = this.#kind;
    const tags = this.#tag;
    const outMask = this.#outMask;
    const seq = this.#seq;
    const gnext = this.#gnext;
    const v0 = x0 & 0xfff;
    const v1 = x1 & 0xfff;
    // the VLAN's access and tunnel ports merged with the trunks, in the order the ports were added
    let a = this.#ghead[v0]!;
    let t = this.#ghead[TRUNK_GROUP]!;
    while (a >= 0 || t >= 0) {
      let q: number;
      if (t < 0 || (a >= 0 && seq[a]! < seq[t]!)) {
        q = a;
        a = gnext[a]!;
      } else {
        q = t;
        t = gnext[t]!;
      }
      if (q === inP || outMask[q] !== 0) continue;
      const kind = kinds[q];
      if (kind === K_ACCESS) {
        if (v1 !== 0) continue;
      } else if (kind === K_TRUNK) {
        const allowed = this.#trunks[q];
        if (allowed !== undefined && allowed[v0] === 0) continue;
      } else if (tags[q] !== v0) {
        continue;
      }
      this.#output(q, buf, off, len, inTags, x0, x1, depth);
    }
  }

  /**
   * OVS `output_normal` + `compose_output_action__`: sends the frame (VLAN state `x0`, `x1`) out of
   * port `q`, with the tags that port puts on the wire; then makes the copies of the mirrors selecting
   * `q`'s transmitted frames. Rewritten frames are built in the arena at this depth's base; a frame whose
   * tags do not change is passed on as it is.
   */
  #output(
    q: number,
    buf: Uint8Array,
    off: number,
    len: number,
    inTags: number,
    x0: number,
    x1: number,
    depth: number,
  ): void {
    // xvlan_output_translate + xvlan_put: the tags on q's wire (a tag with TCI 0 is not written)
    let n = 0;
    let o0 = 0;
    let o1 = 0;
    const kind = this.#kind[q];
    if (kind === K_TRUNK) {
      if ((x0 & 0xffff) !== 0) {
        o0 = x0;
        n = 1;
        if ((x1 & 0xffff) !== 0) {
          o1 = x1;
          n = 2;
        }
      }
    } else if (kind === K_TUNNEL) {
      if ((x1 & 0xffff) !== 0) {
        o0 = x1;
        n = 1;
      }
    }
    let ob = buf;
    let oo = off;
    let ol = len;
    let rebuilt = false;
    if (
      n !== inTags ||
      (n > 0 && (o0 !== tagCode(buf, off + 12) || (n > 1 && o1 !== tagCode(buf, off + 16))))
    ) {
      const e = this.#engine;
      const at = e.base[depth]!;
      if (
        e.cacheVisit[depth] === e.visit[depth] && e.cacheTags[depth] === n && e.cacheW0[depth] === o0 &&
        e.cacheW1[depth] === o1
      ) {
        // the same rewrite as the last port's (flooding to trunks, mirror copies): reuse it
        ol = e.cacheLen[depth]!;
        ob = e.arena;
      } else {
        const pay = off + 12 + 4 * inTags;
        const payLen = off + len - pay;
        ol = 12 + 4 * n + payLen;
        const arena = e.ensureArena(at + ol);
        for (let i = 0; i < 12; i++) arena[at + i] = buf[off + i]!;
        let w = at + 12;
        if (n > 0) {
          writeTag(arena, w, o0);
          w += 4;
          if (n > 1) {
            writeTag(arena, w, o1);
            w += 4;
          }
        }
        for (let i = 0; i < payLen; i++) arena[w + i] = buf[pay + i]!;
        e.cacheVisit[depth] = e.visit[depth]!;
        e.cacheTags[depth] = n;
        e.cacheW0[depth] = o0;
        e.cacheW1[depth] = o1;
        e.cacheLen[depth] = ol;
        ob = arena;
      }
      oo = at;
      rebuilt = true;
    }
    const peer = this.#peer[q];
    if (peer !== undefined) {
      // patch ports: the frame goes on through the peer bridge; no egress mirroring (OVS returns early)
      this.#tx[q]!++;
      const obs = this.#obs[q];
      if (obs !== undefined) { for (let i = 0; i < obs.length; i++) obs[i]!("tx", ob, oo, ol); }
      this.#cross(q, peer, ob, oo, ol, rebuilt, depth, x0 & 0xfff);
      return;
    }
    const sink = this.#sinks[q];
    if (sink === undefined) {
      this.#drop(q, R_NO_SINK);
    } else {
      this.#tx[q]!++;
      const obs = this.#obs[q];
      if (obs !== undefined) { for (let i = 0; i < obs.length; i++) obs[i]!("tx", ob, oo, ol); }
      sink.receive(ob, oo, ol);
    }
    if (this.#mirrorCount !== 0) {
      const dm = this.#dstMask[q]!;
      if ((dm & ~this.#used) !== 0) this.#mirrorPacket(q, dm, buf, off, len, inTags, o0, o1, depth);
    }
  }

  /**
   * OVS `mirror_packet`: copies the frame to the mirrors in `mask` not used yet in this visit, in index
   * order. The copies' VLAN is derived as if the frame, with the tags (codes `w0`, `w1`) it has on port
   * `q`'s wire, had entered `q`: for a copy leaving a mirror's access output port, that port's VLAN.
   */
  #mirrorPacket(
    q: number,
    mask: number,
    buf: Uint8Array,
    off: number,
    len: number,
    inTags: number,
    w0: number,
    w1: number,
    depth: number,
  ): void {
    let m = mask & ~this.#used;
    if (m === 0) return;
    if (!this.#translateIn(q, w0, w1)) return;
    const x0 = this.#x0;
    const x1 = this.#x1;
    while (m !== 0) {
      const idx = 31 - Math.clz32(m & -m);
      this.#used |= this.#dupMask[idx]!;
      this.#output(this.#mirrorOutPort[idx]!, buf, off, len, inTags, x0, x1, depth);
      m &= ~this.#used;
    }
  }

  /** Sends a frame leaving patch port `q` into the peer bridge, within the patch-link budget. */
  #cross(
    q: number,
    peer: SimBridge,
    buf: Uint8Array,
    off: number,
    len: number,
    rebuilt: boolean,
    depth: number,
    vlan: number,
  ): void {
    const e = this.#engine;
    const pp = this.#peerPort[q]!;
    if (depth >= e.maxDepth || e.traversals >= e.maxTraversals) {
      peer.#refuse(pp, buf, off, len, depth, vlan);
      return;
    }
    e.traversals++;
    const next = depth + 1;
    e.path[next] = peer;
    if (rebuilt) {
      e.base[next] = off + len;
    } else {
      // the next bridge writes over this depth's rewritten copy: it cannot be reused afterwards
      e.base[next] = e.base[depth]!;
      e.cacheVisit[depth] = -1;
    }
    if (peer === this) {
      this.#ingress(pp, buf, off, len, next, true);
      return;
    }
    // each bridge visited has its own set of used mirrors (OVS resets ctx->mirrors per bridge)
    const saved = peer.#used;
    peer.#used = 0;
    peer.#ingress(pp, buf, off, len, next, true);
    peer.#used = saved;
  }

  /** A frame over the patch-link budget arrives on port `p`: count it, drop it, and say what happened. */
  #refuse(p: number, buf: Uint8Array, off: number, len: number, depth: number, vlan: number): void {
    this.#rx[p]!++;
    const obs = this.#obs[p];
    if (obs !== undefined) { for (let i = 0; i < obs.length; i++) obs[i]!("rx", buf, off, len); }
    this.#drop(p, R_LOOP);
    this.#loopDrops++;
    const e = this.#engine;
    const names: string[] = [];
    for (let d = 0; d <= depth; d++) names.push((e.path[d] as SimBridge).name);
    names.push(this.name);
    const mac = len >= 12 ? formatMac48(mac48(buf, off + 6)) : "?";
    let text: string | undefined;
    for (let j = 1; j < names.length && text === undefined; j++) {
      const i = names.indexOf(names[j]!);
      if (i < j) {
        text = `loop detected: frame from ${mac} on VLAN ${vlan} crossed bridges ${
          names.slice(i, j + 1).join(" -> ")
        }`;
      }
    }
    text ??= `patch chain too long: frame from ${mac} on VLAN ${vlan} dropped after ${depth} patch links: ${
      names.join(" -> ")
    }`;
    this.#lastLoop = text;
    e.lastLoop = text;
  }

  #drop(p: number, reason: number): void {
    this.#drops[p * NR + reason]!++;
  }

  // ---------------------------------------------------------------- configuration helpers

  /** The index of a port given by name or index; throws `Cannot <action>: ...` when there is none. */
  #port(port: string | number, action: string): number {
    const p = typeof port === "number" ? port : this.#index.get(port);
    if (p === undefined || !Number.isInteger(p) || p < 0 || this.#names[p] === undefined) {
      throw new RangeError(`Cannot ${action}: bridge "${this.name}" has no port ${JSON.stringify(port)}`);
    }
    return p;
  }

  #checkIdle(action: string): void {
    if (this.#engine.busy) {
      throw new Error(
        `Cannot ${action}: a frame is being forwarded (change the lab from a scheduled event, not from inside receive())`,
      );
    }
  }

  /** Makes room for ports 0..n-1. */
  #grow(n: number): void {
    let cap = this.#kind.length;
    if (n <= cap) return;
    while (cap < n) cap *= 2;
    this.#kind = grow(this.#kind, cap);
    this.#tag = grow(this.#tag, cap);
    this.#peerPort = grow(this.#peerPort, cap);
    this.#rx = grow(this.#rx, cap);
    this.#tx = grow(this.#tx, cap);
    this.#drops = grow(this.#drops, cap * NR);
    this.#srcMask = grow(this.#srcMask, cap);
    this.#dstMask = grow(this.#dstMask, cap);
    this.#outMask = grow(this.#outMask, cap);
    this.#onext = grow(this.#onext, cap);
    this.#oprev = grow(this.#oprev, cap);
    this.#seq = grow(this.#seq, cap);
    this.#gnext = grow(this.#gnext, cap);
    this.#gprev = grow(this.#gprev, cap);
    const group = grow(this.#group, cap);
    group.fill(-1, this.#group.length);
    this.#group = group;
  }

  /** The live ports' indices, in the order the ports were added. */
  #live(): number[] {
    const out: number[] = [];
    for (let p = this.#ohead; p >= 0; p = this.#onext[p]!) out.push(p);
    return out;
  }

  #orderAppend(p: number): void {
    this.#oprev[p] = this.#otail;
    this.#onext[p] = -1;
    if (this.#otail >= 0) this.#onext[this.#otail] = p;
    else this.#ohead = p;
    this.#otail = p;
  }

  #orderRemove(p: number): void {
    const prev = this.#oprev[p]!;
    const next = this.#onext[p]!;
    if (prev >= 0) this.#onext[prev] = next;
    else this.#ohead = next;
    if (next >= 0) this.#oprev[next] = prev;
    else this.#otail = prev;
  }

  /** Puts port `p` on flood list `g`, in add order (at the tail for a new port: O(1)). */
  #groupInsert(p: number, g: number): void {
    const seq = this.#seq;
    let after = this.#gtail[g]!;
    while (after >= 0 && seq[after]! > seq[p]!) after = this.#gprev[after]!;
    const next = after >= 0 ? this.#gnext[after]! : this.#ghead[g]!;
    this.#gprev[p] = after;
    this.#gnext[p] = next;
    if (after >= 0) this.#gnext[after] = p;
    else this.#ghead[g] = p;
    if (next >= 0) this.#gprev[next] = p;
    else this.#gtail[g] = p;
    this.#group[p] = g;
  }

  #groupRemove(p: number): void {
    const g = this.#group[p]!;
    if (g < 0) return;
    const prev = this.#gprev[p]!;
    const next = this.#gnext[p]!;
    if (prev >= 0) this.#gnext[prev] = next;
    else this.#ghead[g] = next;
    if (next >= 0) this.#gprev[next] = prev;
    else this.#gtail[g] = prev;
    this.#group[p] = -1;
  }

  #applyMode(p: number, mode: PortMode): void {
    this.#modes[p] = mode;
    this.#groupRemove(p);
    this.#groupInsert(p, mode.kind === "trunk" ? TRUNK_GROUP : mode.tag);
    switch (mode.kind) {
      case "access":
        this.#kind[p] = K_ACCESS;
        this.#tag[p] = mode.tag;
        this.#trunks[p] = undefined;
        return;
      case "trunk": {
        this.#kind[p] = K_TRUNK;
        this.#tag[p] = 0;
        if (mode.trunks === undefined) {
          this.#trunks[p] = undefined;
        } else {
          const allowed = new Uint8Array(4096);
          for (const v of mode.trunks) allowed[v] = 1;
          this.#trunks[p] = allowed;
        }
        return;
      }
      case "dot1q-tunnel":
        this.#kind[p] = K_TUNNEL;
        this.#tag[p] = mode.tag;
        this.#trunks[p] = undefined;
        return;
      default: {
        const _never: never = mode;
        throw new TypeError(`Cannot apply port mode: unknown kind ${JSON.stringify(_never)}`);
      }
    }
  }

  /** Rebuilds the per-port mirror masks from the mirrors' specs (OVS `mirror_set`). */
  #recomputeMirrors(): void {
    this.#srcMask.fill(0);
    this.#dstMask.fill(0);
    this.#outMask.fill(0);
    this.#dupMask.fill(0);
    const live = this.#mirrors.some((m) => m?.selectAll) ? this.#live() : [];
    for (let idx = 0; idx < MAX_MIRRORS; idx++) {
      const m = this.#mirrors[idx];
      if (m === undefined) continue;
      const bit = 1 << idx;
      const out = this.#index.get(m.output)!;
      this.#mirrorOutPort[idx] = out;
      this.#outMask[out]! |= bit;
      if (m.selectAll) {
        for (const p of live) {
          this.#srcMask[p]! |= bit;
          this.#dstMask[p]! |= bit;
        }
      } else {
        for (const s of m.selectSrc) this.#srcMask[this.#index.get(s)!]! |= bit;
        for (const s of m.selectDst) this.#dstMask[this.#index.get(s)!]! |= bit;
      }
    }
    for (let idx = 0; idx < MAX_MIRRORS; idx++) {
      if (this.#mirrors[idx] !== undefined) this.#dupMask[idx] = this.#outMask[this.#mirrorOutPort[idx]!]!;
    }
  }

  // ---------------------------------------------------------------- for SimNetwork

  /** @internal Joins this bridge to a network's shared forwarding state. Not part of the API. */
  [JOIN_ENGINE](engine: Engine): void {
    this.#engine = engine;
  }

  /**
   * @internal Makes port `p` a patch port whose frames enter `peer` on `peerPort`, or (`peer`
   * undefined) an unpatched port. Not part of the API.
   */
  [SET_PEER](p: number, peer: SimBridge | undefined, peerPort: number): void {
    this.#peer[p] = peer;
    this.#peerPort[p] = peerPort;
  }
}

/** Checks a mode and returns a frozen copy (`trunks` sorted and unique; empty means every VLAN). */
function normalizeMode(mode: PortMode, action: string): PortMode {
  if (mode === null || typeof mode !== "object") {
    throw new TypeError(`Cannot ${action}: the mode must be an object with a 'kind'`);
  }
  switch (mode.kind) {
    case "access":
      checkVid(mode.tag, "the access tag", action);
      return Object.freeze({ kind: "access", tag: mode.tag });
    case "dot1q-tunnel":
      checkVid(mode.tag, "the dot1q-tunnel tag", action);
      return Object.freeze({ kind: "dot1q-tunnel", tag: mode.tag });
    case "trunk": {
      if (mode.trunks === undefined || mode.trunks.length === 0) return Object.freeze({ kind: "trunk" });
      for (const v of mode.trunks) checkVid(v, "each trunk VLAN", action);
      const trunks = Object.freeze([...new Set(mode.trunks)].sort((a, b) => a - b));
      return Object.freeze({ kind: "trunk", trunks });
    }
    default: {
      const _never: never = mode;
      throw new TypeError(
        `Cannot ${action}: unknown port kind ${JSON.stringify((_never as { kind: unknown }).kind)}`,
      );
    }
  }
}

function checkVid(v: number, what: string, action: string): void {
  if (!(Number.isInteger(v) && v >= 0 && v <= 4095)) {
    throw new RangeError(`Cannot ${action} as ${what} must be an integer 0-4095: current value is ${v}`);
  }
}

function sameMode(a: PortMode, b: PortMode): boolean {
  if (a.kind !== b.kind) return false;
  if (a.kind === "trunk" && b.kind === "trunk") {
    const x = a.trunks ?? [];
    const y = b.trunks ?? [];
    return x.length === y.length && x.every((v, i) => v === y[i]);
  }
  return a.kind !== "trunk" && b.kind !== "trunk" && a.tag === b.tag;
}

/** Adds `v` to the binary min-heap `h`. */
function heapPush(h: number[], v: number): void {
  let i = h.length;
  h.push(v);
  while (i > 0) {
    const parent = (i - 1) >> 1;
    if (h[parent]! <= v) break;
    h[i] = h[parent]!;
    i = parent;
  }
  h[i] = v;
}

/** Takes the least value off the binary min-heap `h`, or -1 when it is empty. */
function heapPop(h: number[]): number {
  if (h.length === 0) return -1;
  const top = h[0]!;
  const last = h.pop()!;
  if (h.length === 0) return top;
  let i = 0;
  for (;;) {
    const l = 2 * i + 1;
    if (l >= h.length) break;
    const r = l + 1;
    const c = r < h.length && h[r]! < h[l]! ? r : l;
    if (h[c]! >= last) break;
    h[i] = h[c]!;
    i = c;
  }
  h[i] = last;
  return top;
}

/** A copy of a per-port array in a new, longer array of the same kind (ports are added rarely). */
function grow<T extends Uint8Array | Uint16Array | Int32Array | Float64Array>(a: T, n: number): T {
  const b = new (a.constructor as new (length: number) => T)(n);
  b.set(a as ArrayLike<number>);
  return b;
}
