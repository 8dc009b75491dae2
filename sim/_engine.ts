// Runtime-neutral.
/**
 * What the bridges of one simulated network share while a frame moves through them: the scratch arena
 * that tag pushes and pops write into (a stack with one region per patch-link depth), the budget that
 * stops a frame looping through patch links forever, and the queue of frames that endpoints send from
 * inside `receive()`, which wait until the frame being forwarded has reached everyone.
 *
 * Private to labwire: not re-exported from `mod.ts`.
 *
 * @module
 */

/** OVS `MAX_DEPTH` (ofproto-dpif-xlate.c): how many patch links deep one frame's translation may go. */
export const DEFAULT_MAX_PATCH_DEPTH = 64;
/** OVS `MAX_RESUBMITS` (`MAX_DEPTH * MAX_DEPTH`): patch-link crossings one received frame may cause in all. */
export const DEFAULT_MAX_PATCH_TRAVERSALS = 4096;
/** Longest frame a port accepts (bytes, tags included); longer frames are dropped as oversize. */
export const MAX_FRAME_BYTES = 65535;

/** Frames that may wait in the deferred queue at once. */
const QUEUE_FRAMES = 4096;
/** Bytes of the deferred queue's ring. */
const QUEUE_BYTES = 1 << 20;
/** Frames endpoints may send from inside `receive()` during one outermost `transmitFrom()`. */
const MAX_DEFERRED_PER_TRANSMIT = 1_000_000;

/** Shared forwarding state of the bridges of one network (or of one stand-alone bridge). */
export class Engine {
  /** Whether a frame is being forwarded right now. */
  busy = false;
  readonly maxDepth: number;
  readonly maxTraversals: number;
  /** Patch-link crossings of the frame being forwarded. */
  traversals = 0;
  /** The description of the last frame dropped for crossing too many patch links. */
  lastLoop: string | undefined = undefined;
  /** Scratch bytes for rewritten frames; grows (rarely) but is never shrunk. */
  arena: Uint8Array = new Uint8Array(1 << 16);
  /** `base[d]`: where frames rewritten at patch depth `d` are written in the arena. */
  readonly base: Int32Array;
  /** `path[d]`: the bridge at patch depth `d` of the frame being forwarded (an opaque bridge reference). */
  readonly path: unknown[];
  /** Numbers each arrival of a frame at a bridge, so that rewritten copies can be reused within it. */
  visitSeq = 0;
  /** `visit[d]`: the arrival being forwarded at depth `d`. */
  readonly visit: Float64Array;
  /**
   * What the arena holds at `base[d]`: a copy rewritten during arrival `cacheVisit[d]` (-1: nothing
   * reusable) with `cacheTags[d]` tags (`cacheW0`, `cacheW1`), `cacheLen[d]` bytes. Flooding to many
   * trunk ports then rewrites the frame once, not once per port.
   */
  readonly cacheVisit: Float64Array;
  readonly cacheTags: Int32Array;
  readonly cacheW0: Float64Array;
  readonly cacheW1: Float64Array;
  readonly cacheLen: Int32Array;

  // the deferred queue: frames in a byte ring, metadata in a ring of QUEUE_FRAMES entries
  #bytes: Uint8Array | undefined;
  readonly #qBridge: unknown[] = [];
  readonly #qPort = new Int32Array(QUEUE_FRAMES);
  readonly #qOff = new Int32Array(QUEUE_FRAMES);
  readonly #qLen = new Int32Array(QUEUE_FRAMES);
  #qHead = 0;
  #count = 0;
  #byteHead = 0;
  #byteTail = 0;
  /** Deferred frames taken from the queue during the current outermost transmit. */
  deferredRun = 0;

  constructor(maxDepth: number, maxTraversals: number) {
    this.maxDepth = maxDepth;
    this.maxTraversals = maxTraversals;
    this.base = new Int32Array(maxDepth + 2);
    this.path = new Array(maxDepth + 2).fill(undefined);
    this.visit = new Float64Array(maxDepth + 2);
    this.cacheVisit = new Float64Array(maxDepth + 2).fill(-1);
    this.cacheTags = new Int32Array(maxDepth + 2);
    this.cacheW0 = new Float64Array(maxDepth + 2);
    this.cacheW1 = new Float64Array(maxDepth + 2);
    this.cacheLen = new Int32Array(maxDepth + 2);
  }

  /** Makes sure the arena holds `end` bytes, keeping what it holds. */
  ensureArena(end: number): Uint8Array {
    let arena = this.arena;
    if (end > arena.length) {
      let size = arena.length * 2;
      while (size < end) size *= 2;
      const grown = new Uint8Array(size);
      grown.set(arena);
      this.arena = arena = grown;
    }
    return arena;
  }

  /** Frames waiting in the deferred queue. */
  get queued(): number {
    return this.#count;
  }

  /**
   * Copies a frame sent from inside `receive()` to the back of the queue.
   * @throws {RangeError} If the queue is full.
   */
  defer(bridge: unknown, port: number, buf: Uint8Array, off: number, len: number): void {
    const bytes = this.#bytes ??= new Uint8Array(QUEUE_BYTES);
    const need = len > 0 ? len : 1; // an empty frame still takes a byte, so that head and tail differ
    let at = -1;
    if (this.#count === 0) {
      this.#byteHead = this.#byteTail = 0;
      at = 0;
    } else if (this.#count < QUEUE_FRAMES) {
      const head = this.#byteHead;
      const tail = this.#byteTail;
      if (tail > head) {
        // one run [head, tail): append, or wrap to the start while staying short of head
        if (QUEUE_BYTES - tail >= need) at = tail;
        else if (need < head) at = 0;
      } else if (head - tail > need) {
        // wrapped: the free space is [tail, head)
        at = tail;
      }
    }
    if (at < 0) {
      throw new RangeError(
        `Cannot queue frame sent from inside receive(): ${this.#count} frames are already waiting ` +
          `(endpoints answering each other synchronously?); reply through the scheduler instead`,
      );
    }
    for (let i = 0; i < len; i++) bytes[at + i] = buf[off + i]!;
    const slot = (this.#qHead + this.#count) % QUEUE_FRAMES;
    this.#qBridge[slot] = bridge;
    this.#qPort[slot] = port;
    this.#qOff[slot] = at;
    this.#qLen[slot] = len;
    this.#byteTail = at + need;
    this.#count++;
  }

  /** The bridge of the frame at the front of the queue (the queue must not be empty). */
  frontBridge(): unknown {
    return this.#qBridge[this.#qHead];
  }
  /** The port index of the frame at the front. */
  frontPort(): number {
    return this.#qPort[this.#qHead]!;
  }
  /** The bytes holding the frame at the front. */
  frontBytes(): Uint8Array {
    return this.#bytes!;
  }
  /** Where the frame at the front starts in {@linkcode frontBytes}. */
  frontOff(): number {
    return this.#qOff[this.#qHead]!;
  }
  /** The length of the frame at the front. */
  frontLen(): number {
    return this.#qLen[this.#qHead]!;
  }

  /**
   * Frees the frame at the front, once it has been forwarded.
   * @throws {RangeError} If more than a million frames were deferred during one transmit.
   */
  release(): void {
    this.#qBridge[this.#qHead] = undefined;
    this.#qHead = (this.#qHead + 1) % QUEUE_FRAMES;
    this.#count--;
    if (this.#count === 0) this.#byteHead = this.#byteTail = 0;
    else this.#byteHead = this.#qOff[this.#qHead]!;
    if (++this.deferredRun > MAX_DEFERRED_PER_TRANSMIT) {
      this.clearQueue();
      throw new RangeError(
        `Cannot forward frames: endpoints sent ${MAX_DEFERRED_PER_TRANSMIT} frames from inside receive() ` +
          `in reply to one transmit (endpoints answering each other forever?); reply through the scheduler instead`,
      );
    }
  }

  /** Drops every queued frame (after an error). */
  clearQueue(): void {
    for (let i = 0; i < this.#count; i++) this.#qBridge[(this.#qHead + i) % QUEUE_FRAMES] = undefined;
    this.#qHead = 0;
    this.#count = 0;
    this.#byteHead = this.#byteTail = 0;
  }
}

/** Joins a bridge to a network's shared {@linkcode Engine} (used by `SimNetwork` only). */
export const JOIN_ENGINE: unique symbol = Symbol("labwire.sim.joinEngine");
/** Sets or clears the patch peer of a bridge's port (used by `SimNetwork` only). */
export const SET_PEER: unique symbol = Symbol("labwire.sim.setPeer");
