// Runtime-neutral.
/**
 * The MAC learning table of one simulated bridge, as Open vSwitch keeps it (`lib/mac-learning.c`):
 * entries keyed by (VLAN, MAC), each pointing at a port, forgotten `agingNs` after they were last
 * refreshed (`other_config:mac-aging-time`, 300 s), at most `capacity` of them per bridge
 * (`other_config:mac-table-size`, 2048), the least recently refreshed one evicted to make room (in O(1):
 * the entries are also on a list in the order they were refreshed).
 *
 * One fixed-size open-addressing table (linear probing, backward-shift deletion) in typed arrays holds
 * the entries of every VLAN: learning and lookup allocate nothing, and memory is bounded from the start.
 * On the forwarding path a MAC is two 24-bit integers ({@linkcode macHi}, {@linkcode macLo}), never a
 * 48-bit double: V8 boxes a double that is not a small integer on the heap whenever it is passed to a
 * function that is not inlined, which made the unicast path allocate 32 bytes per frame.
 *
 * Private to labwire: not re-exported from `mod.ts`.
 *
 * @module
 */

/** The first three bytes of the MAC at `o`, as a 24-bit integer. */
export function macHi(b: Uint8Array, o: number): number {
  return b[o]! << 16 | b[o + 1]! << 8 | b[o + 2]!;
}

/** The last three bytes of the MAC at `o`, as a 24-bit integer. */
export function macLo(b: Uint8Array, o: number): number {
  return b[o + 3]! << 16 | b[o + 4]! << 8 | b[o + 5]!;
}

/** The MAC at `o` as a 48-bit number (for display; the forwarding path uses {@linkcode macHi}/{@linkcode macLo}). */
export function mac48(b: Uint8Array, o: number): number {
  return macHi(b, o) * 0x1000000 + macLo(b, o);
}

/** The home slot of (vlan, hi, lo) in a table of `2 ** (32 - shift)` slots (multiplicative hashing). */
function home(vlan: number, hi: number, lo: number, shift: number): number {
  return Math.imul(lo ^ Math.imul(hi ^ vlan << 24, 0x85ebca6b), 0x9e3779b1) >>> shift;
}

/** Formats a 48-bit MAC number as `aa:bb:cc:dd:ee:ff`. */
export function formatMac48(mac: number): string {
  let s = "";
  for (let shift = 40; shift >= 0; shift -= 8) {
    const octet = Math.floor(mac / 2 ** shift) % 256;
    s += (shift === 40 ? "" : ":") + (octet < 16 ? "0" : "") + octet.toString(16);
  }
  return s;
}

/** One learned entry, as {@linkcode MacTable.entries} lists it. */
export interface MacEntry {
  /** The port index the MAC was learned on. */
  readonly port: number;
  /** The VLAN. */
  readonly vlan: number;
  /** The MAC as a 48-bit number. */
  readonly mac: number;
  /** Nanoseconds since the entry was last refreshed. */
  readonly ageNs: number;
}

/**
 * A bounded (VLAN, MAC) -> port table with ageing. A MAC is passed as two 24-bit integers: V8 keeps those
 * unboxed across calls, where a 48-bit number (a double) would be boxed on the heap at every call.
 * The current time is read from `now[0]`, which the bridge sets once per frame.
 */
export class MacTable {
  /** Most entries held at once. */
  readonly capacity: number;
  /** Nanoseconds after its last refresh that an entry is forgotten. */
  readonly agingNs: number;
  #now: Float64Array;
  #mask: number;
  #shift: number;
  /** VLAN of each slot, -1 when the slot is empty. */
  #vlan: Int32Array;
  #hi: Int32Array;
  #lo: Int32Array;
  #port: Int32Array;
  #seen: Float64Array;
  /**
   * The entries from least to most recently refreshed, a doubly linked list of slots through
   * `#older`/`#newer` from `#oldest` to `#newest` (-1 ends it): eviction takes the head in O(1).
   */
  #older: Int32Array;
  #newer: Int32Array;
  #oldest = -1;
  #newest = -1;
  #count = 0;

  /**
   * @param capacity Most entries held at once.
   * @param agingNs Nanoseconds an unrefreshed entry is kept.
   * @param now A cell holding the current time in ns, read by every operation.
   */
  constructor(capacity: number, agingNs: number, now: Float64Array) {
    this.capacity = capacity;
    this.agingNs = agingNs;
    this.#now = now;
    let bits = 4;
    while (2 ** bits < capacity * 2) bits++;
    const slots = 2 ** bits;
    this.#mask = slots - 1;
    this.#shift = 32 - bits;
    this.#vlan = new Int32Array(slots).fill(-1);
    this.#hi = new Int32Array(slots);
    this.#lo = new Int32Array(slots);
    this.#port = new Int32Array(slots);
    this.#seen = new Float64Array(slots);
    this.#older = new Int32Array(slots);
    this.#newer = new Int32Array(slots);
  }

  /** Entries held now (expired ones included until looked up, evicted or listed). */
  get size(): number {
    return this.#count;
  }

  /** The slot holding (vlan, hi, lo), or -1. */
  #find(vlan: number, hi: number, lo: number): number {
    const vlans = this.#vlan;
    const his = this.#hi;
    const los = this.#lo;
    const mask = this.#mask;
    let i = home(vlan, hi, lo, this.#shift);
    for (;;) {
      const v = vlans[i]!;
      if (v === -1) return -1;
      if (v === vlan && los[i] === lo && his[i] === hi) return i;
      i = (i + 1) & mask;
    }
  }

  /**
   * Records that the MAC was seen on `port` in `vlan` now (OVS `mac_learning_update`): refreshes the
   * entry, moves it when the MAC changed port, or adds it, evicting the least recently refreshed entry
   * when the table is full.
   */
  learn(vlan: number, hi: number, lo: number, port: number): void {
    const now = this.#now[0]!;
    const i = this.#find(vlan, hi, lo);
    if (i >= 0) {
      this.#port[i] = port;
      this.#seen[i] = now;
      if (i !== this.#newest) {
        this.#unlink(i);
        this.#append(i);
      }
      return;
    }
    if (this.#count >= this.capacity) this.#evictOldest();
    const vlans = this.#vlan;
    const mask = this.#mask;
    let j = home(vlan, hi, lo, this.#shift);
    while (vlans[j] !== -1) j = (j + 1) & mask;
    vlans[j] = vlan;
    this.#hi[j] = hi;
    this.#lo[j] = lo;
    this.#port[j] = port;
    this.#seen[j] = now;
    this.#append(j);
    this.#count++;
  }

  /** The port the MAC was learned on in `vlan`, or -1 when unknown or aged out (then it is forgotten). */
  lookup(vlan: number, hi: number, lo: number): number {
    const i = this.#find(vlan, hi, lo);
    if (i < 0) return -1;
    if (this.#now[0]! - this.#seen[i]! >= this.agingNs) {
      this.#delete(i);
      return -1;
    }
    return this.#port[i]!;
  }

  /** Forgets every entry on `port` (OVS `bundle_flush_macs`). */
  flushPort(port: number): void {
    const vlans = this.#vlan;
    const ports = this.#port;
    // deleting shifts later entries back into slot i, so look at i again after a delete
    for (let i = 0; i <= this.#mask;) {
      if (vlans[i] !== -1 && ports[i] === port) this.#delete(i);
      else i++;
    }
  }

  /** Forgets everything (OVS `mac_learning_flush`). */
  flush(): void {
    this.#vlan.fill(-1);
    this.#oldest = this.#newest = -1;
    this.#count = 0;
  }

  /** The live entries, ordered by port, VLAN and MAC; aged-out entries are forgotten on the way. */
  entries(): MacEntry[] {
    const out: MacEntry[] = [];
    const vlans = this.#vlan;
    const now = this.#now[0]!;
    for (let i = 0; i <= this.#mask;) {
      if (vlans[i] === -1) {
        i++;
        continue;
      }
      const age = now - this.#seen[i]!;
      if (age >= this.agingNs) {
        this.#delete(i);
        continue;
      }
      out.push({
        port: this.#port[i]!,
        vlan: vlans[i]!,
        mac: this.#hi[i]! * 0x1000000 + this.#lo[i]!,
        ageNs: age,
      });
      i++;
    }
    return out.sort((a, b) => a.port - b.port || a.vlan - b.vlan || a.mac - b.mac);
  }

  #evictOldest(): void {
    if (this.#oldest >= 0) this.#delete(this.#oldest);
  }

  /** Puts slot `i` at the most recently refreshed end of the list. */
  #append(i: number): void {
    this.#older[i] = this.#newest;
    this.#newer[i] = -1;
    if (this.#newest >= 0) this.#newer[this.#newest] = i;
    else this.#oldest = i;
    this.#newest = i;
  }

  /** Takes slot `i` off the list. */
  #unlink(i: number): void {
    const older = this.#older[i]!;
    const newer = this.#newer[i]!;
    if (older >= 0) this.#newer[older] = newer;
    else this.#oldest = newer;
    if (newer >= 0) this.#older[newer] = older;
    else this.#newest = older;
  }

  /** Slot `to` takes slot `from`'s place on the list (the entry moved there). */
  #relink(from: number, to: number): void {
    const older = this.#older[from]!;
    const newer = this.#newer[from]!;
    this.#older[to] = older;
    this.#newer[to] = newer;
    if (older >= 0) this.#newer[older] = to;
    else this.#oldest = to;
    if (newer >= 0) this.#older[newer] = to;
    else this.#newest = to;
  }

  /** Empties slot `i` and shifts back the entries of its probe run (no tombstones). */
  #delete(i: number): void {
    const vlans = this.#vlan;
    const his = this.#hi;
    const los = this.#lo;
    const ports = this.#port;
    const seen = this.#seen;
    const mask = this.#mask;
    this.#unlink(i);
    let hole = i;
    let j = i;
    for (;;) {
      j = (j + 1) & mask;
      const v = vlans[j]!;
      if (v === -1) break;
      const h = home(v, his[j]!, los[j]!, this.#shift);
      // leave j where it is if its home slot lies cyclically in (hole, j]
      const stays = hole <= j ? h > hole && h <= j : h > hole || h <= j;
      if (stays) continue;
      vlans[hole] = v;
      his[hole] = his[j]!;
      los[hole] = los[j]!;
      ports[hole] = ports[j]!;
      seen[hole] = seen[j]!;
      this.#relink(j, hole);
      hole = j;
    }
    vlans[hole] = -1;
    this.#count--;
  }
}
