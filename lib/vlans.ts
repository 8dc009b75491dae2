// Runtime-neutral.
/**
 * minimega's VLAN alias engine (`internal/vlans`): aliases such as `LAN` or `foo//DMZ` mapped to VLAN
 * numbers, per-namespace allocation ranges, a blacklist of manually used numbers, and the parsing,
 * printing and clearing rules of the `vlans` commands. The state is plain data, and
 * {@linkcode Vlans.toJSON} / {@linkcode Vlans.fromJSON} round-trip it exactly.
 *
 * @module
 */

import { LabError, type LabErrorOptions } from "./errors.ts";
import { parseGoInt } from "./go_int.ts";

/** The name of minimega's default namespace. Its aliases always use the global range. */
export const DEFAULT_NAMESPACE = "minimega";

/** The separator between a namespace and a value in an alias written `namespace//value`. */
export const ALIAS_SEP = "//";

/** Lower and upper bound of a half-open VLAN range `[min, max)`. */
export interface VlanBounds {
  /** The first VLAN of the range. */
  readonly min: number;
  /** One past the last VLAN of the range. */
  readonly max: number;
}

/**
 * The lowest VLAN a NIC, a tap, an alias or an allocation range may use. VLAN 0 is 802.1Q's "no VLAN"
 * (a priority tag): minimega plugs a port on VLAN 0 in without a tag, as a trunk that carries every VLAN,
 * so labwire refuses it.
 */
export const FIRST_VLAN = 1;

/** The highest VLAN a NIC, a tap, an alias or an allocation range may use: 802.1Q reserves 4095. */
export const LAST_VLAN = 4094;

/**
 * The default allocation range, half-open: VLANs 101 to 4094. minimega's is `[101, 4096)`, which hands
 * out 4095 last; labwire's stops before it.
 */
export const DEFAULT_VLAN_RANGE: VlanBounds = Object.freeze({ min: 101, max: LAST_VLAN + 1 });

/** A VLAN allocation range and the number its next allocation starts searching from. */
export interface VlanRange extends VlanBounds {
  /** Where the next search starts: the last VLAN handed out, or `min` after a reset. */
  readonly next: number;
}

/** An alias as minimega stores it: a namespace and a value. */
export interface VlanAlias {
  /** The namespace the alias belongs to. */
  readonly namespace: string;
  /** The alias within its namespace, e.g. `LAN`. */
  readonly value: string;
}

/** A row of the `vlans` listing. */
export interface VlanAliasRow {
  /** The alias without its namespace (or with it, when listing namespace `""`). */
  readonly alias: string;
  /** The VLAN number. */
  readonly vlan: number;
}

/** The result of {@linkcode Vlans.allocate} and {@linkcode Vlans.lookup}. */
export interface VlanAllocation {
  /** The VLAN number. */
  readonly vlan: number;
  /** Whether a new alias was created (the caller then records and broadcasts it). */
  readonly created: boolean;
}

/**
 * Splits an alias on the first `//` into namespace and value; without `//` the namespace is `namespace`.
 *
 * @param namespace The namespace the alias is used in.
 * @param s The alias as typed, e.g. `LAN` or `foo//LAN`.
 * @returns The namespace and value.
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseAlias } from "labwire";
 * assert.deepEqual(parseAlias("bar", "foo//woo"), { namespace: "foo", value: "woo" });
 * assert.deepEqual(parseAlias("bar", "foo"), { namespace: "bar", value: "foo" });
 * ```
 */
export function parseAlias(namespace: string, s: string): VlanAlias {
  const i = s.indexOf(ALIAS_SEP);
  if (i < 0) return { namespace, value: s };
  return { namespace: s.slice(0, i), value: s.slice(i + ALIAS_SEP.length) };
}

/** What went wrong in a {@linkcode VlanError}. */
export type VlanErrorCode =
  | "alias-in-use"
  | "vlan-in-use"
  | "range-overlap"
  | "out-of-vlans"
  | "invalid-vlan";

/**
 * Checks a VLAN number that would reach a bridge (a NIC, a tap, an alias): it must be
 * {@linkcode FIRST_VLAN} to {@linkcode LAST_VLAN}.
 *
 * @param vlan The VLAN number.
 * @throws {RangeError} `invalid VLAN (0 <= vlan < 4096)` (minimega's words) outside 0..4095; for 0 and
 * 4095, which minimega takes, `invalid VLAN 0: labwire uses 1 <= vlan <= 4094 (...)` with the reason.
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkVlan } from "labwire";
 * checkVlan(4094);
 * assert.throws(() => checkVlan(0), RangeError);
 * assert.throws(() => checkVlan(4096), { message: "invalid VLAN (0 <= vlan < 4096)" });
 * ```
 */
export function checkVlan(vlan: number): void {
  if (vlan >= FIRST_VLAN && vlan <= LAST_VLAN) return;
  if (!(vlan >= 0 && vlan < VLAN_LIMIT)) throw new RangeError("invalid VLAN (0 <= vlan < 4096)");
  const why = vlan === 0 ? "on VLAN 0 a port has no tag and carries every VLAN" : "802.1Q reserves 4095";
  throw new RangeError(`invalid VLAN ${vlan}: labwire uses ${FIRST_VLAN} <= vlan <= ${LAST_VLAN} (${why})`);
}

/**
 * Checks a half-open allocation range `[min, max)`: integers, `min < max`, and only VLANs
 * {@linkcode FIRST_VLAN} to {@linkcode LAST_VLAN} in it, so `1 <= min` and `max <= 4095`.
 *
 * @param action What is being done, for the message: `set VLAN range`, `use VLAN range '0-10'`.
 * @param min The first VLAN of the range.
 * @param max One past the last VLAN of the range.
 * @throws {TypeError} `Cannot <action> as min must be a safe integer: current value is x`.
 * @throws {RangeError} `Cannot <action> as min must be less than max: current values 10, 5`,
 * `Cannot <action> as min must be 1 to 4094: current value is 0`, `Cannot <action> as max must be at most
 * 4095, one past the last VLAN (4094): current value is 4096`.
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkVlanRange } from "labwire";
 * checkVlanRange("set VLAN range", 1, 4095);
 * assert.throws(() => checkVlanRange("set VLAN range", 0, 10), {
 *   message: "Cannot set VLAN range as min must be 1 to 4094: current value is 0",
 * });
 * ```
 */
export function checkVlanRange(action: string, min: number, max: number): void {
  checkBounds(action, min, max);
  if (min < FIRST_VLAN || min > LAST_VLAN) {
    throw new RangeError(
      `Cannot ${action} as min must be ${FIRST_VLAN} to ${LAST_VLAN}: current value is ${min}`,
    );
  }
  if (max > LAST_VLAN + 1) {
    throw new RangeError(
      `Cannot ${action} as max must be at most ${LAST_VLAN + 1}, one past the last VLAN (${LAST_VLAN}): ` +
        `current value is ${max}`,
    );
  }
}

/**
 * A request that conflicts with the VLAN table: an alias or VLAN already taken, a range that overlaps
 * another namespace's, or a VLAN number labwire does not use. The message is minimega's, word for word,
 * except for VLANs 0 and 4095, which minimega takes ({@linkcode checkVlan}).
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { VlanError, Vlans } from "labwire";
 * const vlans = new Vlans();
 * vlans.add("minimega", "foo", 200);
 * assert.throws(() => vlans.add("minimega", "bar", 200), (e) => e instanceof VlanError && e.code === "vlan-in-use");
 * ```
 */
export class VlanError extends LabError {
  /** Always `VlanError`. */
  override name = "VlanError";
  /** Which conflict: `alias-in-use`, `vlan-in-use`, `range-overlap`, `out-of-vlans` or `invalid-vlan`. */
  declare readonly code: VlanErrorCode;
  /** The namespace of the alias in use, or of the range overlapped. */
  readonly namespace: string;
  /** The VLAN in use, for `vlan-in-use`. */
  readonly vlan: number | undefined;

  /**
   * Makes the error; the message follows from the code.
   *
   * @param code Which conflict.
   * @param detail The namespace involved; for `vlan-in-use`, the VLAN; for `invalid-vlan`, the message
   * when it is not minimega's `invalid VLAN (0 <= vlan < 4096)`.
   * @param options The error that led to this one.
   */
  constructor(
    code: VlanErrorCode,
    detail: { namespace: string; vlan?: number; message?: string },
    options: LabErrorOptions = {},
  ) {
    super(
      code,
      code === "alias-in-use"
        ? "alias already in use"
        : code === "vlan-in-use"
        ? "vlan already in use"
        : code === "out-of-vlans"
        ? "out of VLANs"
        : code === "invalid-vlan"
        ? detail.message ?? "invalid VLAN (0 <= vlan < 4096)"
        : `range overlaps with another namespace: ${detail.namespace}`,
      options,
    );
    this.namespace = detail.namespace;
    this.vlan = detail.vlan;
  }
}

/** Options for {@linkcode Vlans}. */
export interface VlansOptions {
  /**
   * The global range, half-open, that a fresh table and {@linkcode Vlans.reset} start with (minimega's
   * `-vlanrange` flag).
   *
   * @default {DEFAULT_VLAN_RANGE}
   */
  range?: VlanBounds;
  /**
   * Receives minimega's warnings (`Blacklisting manually specified VLAN 100`, `VLAN 102 has alias
   * minimega//A`, `detected hole in VLAN range 120 -> 130: 125`).
   *
   * @default {() => {}}
   */
  onWarning?: (message: string) => void;
}

/** Options for {@linkcode Vlans.fromJSON}; the default range comes from the state. */
export type VlansRestoreOptions = Omit<VlansOptions, "range">;

/** The serialisable state of a {@linkcode Vlans} table, as {@linkcode Vlans.toJSON} returns it. */
export interface VlansState {
  /** The format version. */
  version: 1;
  /** The range {@linkcode Vlans.reset} goes back to. */
  defaultRange: { min: number; max: number };
  /** Every range, the global one under namespace `""`, in insertion order. */
  ranges: { namespace: string; min: number; max: number; next: number }[];
  /** Every alias, in insertion order. */
  aliases: { namespace: string; value: string; vlan: number }[];
  /** Every blacklisted VLAN, in numeric order. */
  blacklist: number[];
}

interface MutableRange {
  min: number;
  max: number;
  next: number;
}

const VLAN_LIMIT = 4096;

function ignoreWarning(_message: string): void {}

function checkInteger(action: string, what: string, n: number): void {
  if (!Number.isSafeInteger(n)) {
    throw new TypeError(`Cannot ${action} as ${what} must be a safe integer: current value is ${String(n)}`);
  }
}

function checkBounds(action: string, min: number, max: number): void {
  checkInteger(action, "min", min);
  checkInteger(action, "max", max);
  if (max <= min) {
    throw new RangeError(`Cannot ${action} as min must be less than max: current values ${min}, ${max}`);
  }
}

function restoreFail(detail: string): never {
  throw new TypeError(`Cannot restore VLAN state as ${detail}`);
}

/** A stored range's max, with 4096 (states written before VLAN 4095 was refused) read as 4095. */
function storedMax(max: number): number {
  return max === VLAN_LIMIT ? LAST_VLAN + 1 : max;
}

function checkStoredRange(what: string, min: number, max: number): void {
  if (min < FIRST_VLAN || max > LAST_VLAN + 1 || max <= min) {
    restoreFail(
      `${what} must hold only VLANs ${FIRST_VLAN} to ${LAST_VLAN} (min < max <= ${LAST_VLAN + 1}): ` +
        `current values ${min}, ${max}`,
    );
  }
}

function stateInteger(what: string, n: unknown): number {
  if (!Number.isSafeInteger(n)) {
    restoreFail(`${what} must be a safe integer: current value is ${JSON.stringify(n)}`);
  }
  return n as number;
}

function stateString(what: string, s: unknown): string {
  if (typeof s !== "string") restoreFail(`${what} must be a string: current value is ${JSON.stringify(s)}`);
  return s as string;
}

/** The key of the range a namespace sets and shows: the default namespace shares the global one. */
function rangeKey(namespace: string): string {
  return namespace === DEFAULT_NAMESPACE ? "" : namespace;
}

/**
 * The VLAN alias table of one minimega node: `internal/vlans` plus the parts of the `vlans` commands
 * that touch its state. Blacklisted VLANs are kept in the same VLAN map as aliased ones, so allocation
 * skips both; allocation costs O(1) amortised per alias (plus a scan of the few ranges).
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { Vlans } from "labwire";
 * const vlans = new Vlans();
 * assert.equal(vlans.lookup("minimega", "101").vlan, 101); // explicit number: blacklisted
 * assert.deepEqual(vlans.lookup("minimega", "A"), { vlan: 102, created: true });
 * assert.equal(vlans.format("foo", 102), "minimega//A (102)");
 * ```
 */
export class Vlans {
  /** VLAN -> its alias, or `null` when blacklisted. */
  #byVlan = new Map<number, VlanAlias | null>();
  /** Namespace -> value -> VLAN; a namespace without aliases has no entry. */
  #byAlias = new Map<string, Map<string, number>>();
  /** Namespace -> its range; the global range is under `""` and always present. */
  #ranges = new Map<string, MutableRange>();
  #defaultRange: VlanBounds;
  #warn: (message: string) => void;
  /**
   * Called before the table changes in any way (an alias allocated or added, a range set or cleared, a
   * VLAN blacklisted, a search position moved), so that an owner can save the state it had: the lab
   * undoes a failed command with it. Not part of the JSON state.
   */
  beforeChange: (() => void) | undefined = undefined;

  /**
   * Makes an empty table whose global range is `options.range`.
   *
   * @param options The global range and the warning sink.
   * @throws {TypeError} If a bound is not a safe integer.
   * @throws {RangeError} If `max <= min`, or the range holds a VLAN outside 1..4094 ({@linkcode checkVlanRange}).
   */
  constructor(options: VlansOptions = {}) {
    const { range = DEFAULT_VLAN_RANGE, onWarning = ignoreWarning } = options;
    checkVlanRange("create VLAN table", range.min, range.max);
    this.#defaultRange = Object.freeze({ min: range.min, max: range.max });
    this.#warn = onWarning;
    this.#ranges.set("", { min: range.min, max: range.max, next: range.min });
  }

  /**
   * Resolves a VLAN token without allocating (minimega's `ParseVLAN`). A number (after any `ns//`) must
   * be in 1..4094 ({@linkcode checkVlan}; minimega takes 0 and 4095 too); an unknown number is
   * blacklisted, with the warning `Blacklisting manually specified VLAN N`; a number that has an alias
   * only warns `VLAN N has alias ns//value`.
   *
   * @param namespace The active namespace.
   * @param token A number such as `100` or `+5`, or an alias such as `LAN` or `foo//LAN`.
   * @returns The VLAN, or `undefined` for an alias not allocated yet.
   * @throws {RangeError} `invalid VLAN (0 <= vlan < 4096)` for a number out of 0..4095, `invalid VLAN 0:
   * labwire uses 1 <= vlan <= 4094 (...)` for 0 and 4095.
   * @example Usage
   * ```ts
   * import assert from "node:assert/strict";
   * import { Vlans } from "labwire";
   * const vlans = new Vlans();
   * assert.equal(vlans.parse("minimega", "0100"), 100);
   * assert.deepEqual(vlans.blacklisted(), [100]);
   * assert.equal(vlans.parse("minimega", "LAN"), undefined);
   * assert.throws(() => vlans.parse("minimega", "4096"), RangeError);
   * ```
   */
  parse(namespace: string, token: string): number | undefined {
    const a = parseAlias(namespace, token);
    const n = parseGoInt(a.value);
    if (n === undefined) return this.#byAlias.get(a.namespace)?.get(a.value);
    checkVlan(n);
    const owner = this.#byVlan.get(n);
    if (owner) {
      this.#warn(`VLAN ${n} has alias ${owner.namespace}${ALIAS_SEP}${owner.value}`);
    } else if (owner === undefined) {
      this.#warn(`Blacklisting manually specified VLAN ${n}`);
      this.beforeChange?.();
      this.#byVlan.set(n, null);
    }
    return n;
  }

  /**
   * Returns the alias's VLAN, allocating the next free one if it has none (minimega's `Allocate`). The
   * search starts at the range's `next` and leaves `next` on the VLAN handed out; the global range
   * jumps over every namespace range. Never a VLAN outside 1..4094, whatever the range.
   *
   * @param namespace The active namespace.
   * @param alias The alias, optionally `ns//value`. It is never read as a number.
   * @returns The VLAN and whether the alias was created.
   * @throws {RangeError} `out of VLANs` when the range is spent.
   * @example Usage
   * ```ts
   * import assert from "node:assert/strict";
   * import { Vlans } from "labwire";
   * const vlans = new Vlans();
   * assert.deepEqual(vlans.allocate("minimega", "LAN"), { vlan: 101, created: true });
   * assert.deepEqual(vlans.allocate("foo", "minimega//LAN"), { vlan: 101, created: false });
   * ```
   */
  allocate(namespace: string, alias: string): VlanAllocation {
    const a = parseAlias(namespace, alias);
    const existing = this.#byAlias.get(a.namespace)?.get(a.value);
    if (existing !== undefined) return { vlan: existing, created: false };
    return { vlan: this.#allocate(a), created: true };
  }

  #allocate(a: VlanAlias): number {
    this.beforeChange?.();
    const ranges = this.#ranges;
    const global = ranges.get("")!;
    const r = ranges.get(a.namespace) ?? global;
    const byVlan = this.#byVlan;
    // next >= min >= FIRST_VLAN and max <= LAST_VLAN + 1 hold for every range; checked again here
    const end = Math.min(r.max, LAST_VLAN + 1);
    let next = Math.max(r.next, r.min, FIRST_VLAN);
    for (;;) {
      while (byVlan.has(next)) next++;
      if (next >= end) {
        r.next = next; // minimega leaves the search position where it failed
        throw new RangeError("out of VLANs");
      }
      if (r !== global) break;
      let jumped = false;
      for (const [ns, r2] of ranges) {
        if (ns !== "" && next >= r2.min && next < r2.max) {
          next = r2.max;
          jumped = true;
          break;
        }
      }
      if (!jumped) break;
    }
    r.next = next;
    this.#record(a, next);
    return next;
  }

  #record(a: VlanAlias, vlan: number): void {
    this.beforeChange?.();
    this.#byVlan.set(vlan, Object.freeze({ namespace: a.namespace, value: a.value }));
    let values = this.#byAlias.get(a.namespace);
    if (values === undefined) this.#byAlias.set(a.namespace, values = new Map());
    values.set(a.value, vlan);
  }

  /**
   * Resolves a VLAN token for a NIC or a tap, allocating an unknown alias (minimega's `lookupVLAN`,
   * without its file write and broadcast: the caller does those when `created` is true).
   *
   * @param namespace The active namespace.
   * @param token A number or an alias, as in {@linkcode Vlans.parse}.
   * @returns The VLAN and whether a new alias was created.
   * @throws {TypeError} `VLAN must be non-empty string` for `""`.
   * @throws {RangeError} `invalid VLAN (0 <= vlan < 4096)`, `invalid VLAN 0: ...` or `out of VLANs`.
   * @example Usage
   * ```ts
   * import assert from "node:assert/strict";
   * import { Vlans } from "labwire";
   * const vlans = new Vlans();
   * assert.deepEqual(vlans.lookup("minimega", "100"), { vlan: 100, created: false });
   * assert.deepEqual(vlans.lookup("minimega", "LAN"), { vlan: 101, created: true });
   * assert.throws(() => vlans.lookup("minimega", ""), { message: "VLAN must be non-empty string" });
   * ```
   */
  lookup(namespace: string, token: string): VlanAllocation {
    if (token === "") throw new TypeError("VLAN must be non-empty string");
    const vlan = this.parse(namespace, token);
    if (vlan !== undefined) return { vlan, created: false };
    return this.allocate(namespace, token);
  }

  /**
   * Maps an alias to a given VLAN (`vlans add`). The number must be in 1..4094, as in
   * {@linkcode Vlans.parse}: the alias would put NICs and taps on it (minimega does not check it).
   *
   * @param namespace The active namespace.
   * @param alias The alias, optionally `ns//value`.
   * @param vlan The VLAN number.
   * @throws {VlanError} `alias already in use`, or `vlan already in use` (also for a blacklisted VLAN).
   * @throws {TypeError} If `vlan` is not a safe integer.
   * @throws {RangeError} `invalid VLAN (0 <= vlan < 4096)`, `invalid VLAN 0: ...` ({@linkcode checkVlan}).
   * @example Usage
   * ```ts
   * import assert from "node:assert/strict";
   * import { Vlans } from "labwire";
   * const vlans = new Vlans();
   * vlans.add("minimega", "foo", 200);
   * assert.equal(vlans.get("minimega", "foo"), 200);
   * assert.throws(() => vlans.add("minimega", "foo", 201), { message: "alias already in use" });
   * ```
   */
  add(namespace: string, alias: string, vlan: number): void {
    checkInteger("add VLAN alias", "vlan", vlan);
    checkVlan(vlan);
    const a = parseAlias(namespace, alias);
    if (this.#byAlias.get(a.namespace)?.has(a.value)) {
      throw new VlanError("alias-in-use", { namespace: a.namespace });
    }
    const owner = this.#byVlan.get(vlan);
    if (owner !== undefined) {
      throw new VlanError("vlan-in-use", { namespace: owner?.namespace ?? "", vlan });
    }
    this.#record(a, vlan);
  }

  /**
   * Sets a namespace's allocation range, half-open (`vlans range <min> <max>`); in the default namespace
   * (or `""`) it sets the global range. `next` becomes `min`. Existing VLANs inside the range only warn
   * `detected hole in VLAN range MIN -> MAX: N`, once per VLAN.
   *
   * Unlike minimega, ranges that merely touch (`[100,200)` and `[200,300)`) do not overlap.
   *
   * @param namespace The active namespace.
   * @param min The first VLAN of the range.
   * @param max One past the last VLAN of the range.
   * @throws {VlanError} `range overlaps with another namespace: NS`, checked against every namespace
   * range other than this one (also when setting the global range), never against the global range.
   * @throws {RangeError} If `max <= min` (the CLI reports minimega's `expected min > max` first), or the
   * range holds a VLAN outside 1..4094 (`Cannot set VLAN range as min must be 1 to 4094: current value is
   * 0`, {@linkcode checkVlanRange}; minimega takes any integers).
   * @throws {TypeError} If a bound is not a safe integer.
   * @example Usage
   * ```ts
   * import assert from "node:assert/strict";
   * import { Vlans } from "labwire";
   * const vlans = new Vlans();
   * vlans.setRange("foo", 100, 200);
   * vlans.setRange("bar", 200, 300);
   * assert.deepEqual(vlans.range("bar"), { min: 200, max: 300, next: 200 });
   * assert.throws(() => vlans.setRange("baz", 150, 250), { message: "range overlaps with another namespace: foo" });
   * ```
   */
  setRange(namespace: string, min: number, max: number): void {
    checkVlanRange("set VLAN range", min, max);
    const key = rangeKey(namespace);
    for (const [ns2, r] of this.#ranges) {
      if (ns2 === key || ns2 === "") continue;
      if (min < r.max && r.min < max) throw new VlanError("range-overlap", { namespace: ns2 });
    }
    for (const vlan of this.#takenWithin(min, max)) {
      this.#warn(`detected hole in VLAN range ${min} -> ${max}: ${vlan}`);
    }
    this.beforeChange?.();
    this.#ranges.set(key, { min, max, next: min });
  }

  /** The taken VLANs in [min, max), ascending, in O(min(span, table size)). */
  #takenWithin(min: number, max: number): number[] {
    const byVlan = this.#byVlan;
    const out: number[] = [];
    if (max - min <= byVlan.size) {
      for (let i = min; i < max; i++) if (byVlan.has(i)) out.push(i);
      return out;
    }
    for (const vlan of byVlan.keys()) if (vlan >= min && vlan < max) out.push(vlan);
    return out.sort((x, y) => x - y);
  }

  /**
   * The range `vlans range` shows in a namespace: the global one in the default namespace (or `""`).
   *
   * @param namespace The active namespace.
   * @returns A copy of the range, or `undefined` for a namespace without a range of its own.
   * @example Usage
   * ```ts
   * import assert from "node:assert/strict";
   * import { Vlans } from "labwire";
   * const vlans = new Vlans();
   * assert.deepEqual(vlans.range("minimega"), { min: 101, max: 4095, next: 101 });
   * assert.equal(vlans.range("foo"), undefined);
   * ```
   */
  range(namespace: string): VlanRange | undefined {
    const r = this.#ranges.get(rangeKey(namespace));
    return r === undefined ? undefined : { min: r.min, max: r.max, next: r.next };
  }

  /**
   * Every range, keyed by namespace; the global range is under `""`.
   *
   * @returns Copies, in insertion order.
   * @example Usage
   * ```ts
   * import assert from "node:assert/strict";
   * import { Vlans } from "labwire";
   * const vlans = new Vlans();
   * vlans.setRange("foo", 120, 130);
   * assert.deepEqual([...vlans.ranges().keys()], ["", "foo"]);
   * ```
   */
  ranges(): Map<string, VlanRange> {
    const out = new Map<string, VlanRange>();
    for (const [ns, r] of this.#ranges) out.set(ns, { min: r.min, max: r.max, next: r.next });
    return out;
  }

  /**
   * Blacklists a VLAN (`vlans blacklist <vlan>`), silently removing any alias it had. No range check.
   *
   * @param vlan The VLAN number.
   * @throws {TypeError} If `vlan` is not a safe integer.
   * @example Usage
   * ```ts
   * import assert from "node:assert/strict";
   * import { Vlans } from "labwire";
   * const vlans = new Vlans();
   * vlans.allocate("minimega", "LAN");
   * vlans.blacklist(101);
   * assert.equal(vlans.get("minimega", "LAN"), undefined);
   * assert.deepEqual(vlans.blacklisted(), [101]);
   * ```
   */
  blacklist(vlan: number): void {
    checkInteger("blacklist VLAN", "vlan", vlan);
    this.beforeChange?.();
    const owner = this.#byVlan.get(vlan);
    if (owner) this.#unlinkAlias(owner);
    this.#byVlan.set(vlan, null);
  }

  #unlinkAlias(a: VlanAlias): void {
    const values = this.#byAlias.get(a.namespace);
    if (values === undefined) return;
    values.delete(a.value);
    if (values.size === 0) this.#byAlias.delete(a.namespace);
  }

  /**
   * The blacklisted VLANs of every namespace (`vlans blacklist`).
   *
   * @returns The numbers, ascending.
   * @example Usage
   * ```ts
   * import assert from "node:assert/strict";
   * import { Vlans } from "labwire";
   * const vlans = new Vlans();
   * vlans.blacklist(300);
   * vlans.blacklist(20);
   * assert.deepEqual(vlans.blacklisted(), [20, 300]);
   * ```
   */
  blacklisted(): number[] {
    const out: number[] = [];
    for (const [vlan, owner] of this.#byVlan) if (owner === null) out.push(vlan);
    return out.sort((x, y) => x - y);
  }

  /**
   * Whether a VLAN is blacklisted.
   *
   * @param vlan The VLAN number.
   * @returns `true` when blacklisted.
   * @example Usage
   * ```ts
   * import assert from "node:assert/strict";
   * import { Vlans } from "labwire";
   * const vlans = new Vlans();
   * vlans.parse("minimega", "100");
   * assert.equal(vlans.isBlacklisted(100), true);
   * ```
   */
  isBlacklisted(vlan: number): boolean {
    return this.#byVlan.get(vlan) === null;
  }

  /**
   * The rows of the `vlans` listing: the aliases of `namespace`, without their `ns//` prefix. For
   * namespace `""` every alias is listed as `ns//value`, as minimega's `Tabular("")` does.
   *
   * @param namespace The active namespace.
   * @returns The rows, unsorted (blacklisted VLANs are never listed).
   * @example Usage
   * ```ts
   * import assert from "node:assert/strict";
   * import { Vlans } from "labwire";
   * const vlans = new Vlans();
   * vlans.allocate("minimega", "A");
   * vlans.allocate("foo", "A");
   * assert.deepEqual(vlans.aliases("foo"), [{ alias: "A", vlan: 102 }]);
   * ```
   */
  aliases(namespace: string): VlanAliasRow[] {
    const out: VlanAliasRow[] = [];
    if (namespace === "") {
      for (const [ns, values] of this.#byAlias) {
        for (const [value, vlan] of values) out.push({ alias: `${ns}${ALIAS_SEP}${value}`, vlan });
      }
      return out;
    }
    const values = this.#byAlias.get(namespace);
    if (values !== undefined) { for (const [alias, vlan] of values) out.push({ alias, vlan }); }
    return out;
  }

  /**
   * The VLAN of an alias, without allocating or parsing numbers (minimega's `GetVLAN`).
   *
   * @param namespace The active namespace.
   * @param alias The alias, optionally `ns//value`.
   * @returns The VLAN, or `undefined` when the alias does not exist.
   * @example Usage
   * ```ts
   * import assert from "node:assert/strict";
   * import { Vlans } from "labwire";
   * const vlans = new Vlans();
   * vlans.allocate("foo", "LAN");
   * assert.equal(vlans.get("bar", "foo//LAN"), 101);
   * assert.equal(vlans.get("bar", "LAN"), undefined);
   * ```
   */
  get(namespace: string, alias: string): number | undefined {
    const a = parseAlias(namespace, alias);
    return this.#byAlias.get(a.namespace)?.get(a.value);
  }

  /**
   * The alias a VLAN belongs to.
   *
   * @param vlan The VLAN number.
   * @returns The alias, or `undefined` when the VLAN is unknown or blacklisted.
   * @example Usage
   * ```ts
   * import assert from "node:assert/strict";
   * import { Vlans } from "labwire";
   * const vlans = new Vlans();
   * vlans.allocate("foo", "LAN");
   * assert.deepEqual(vlans.aliasOf(101), { namespace: "foo", value: "LAN" });
   * ```
   */
  aliasOf(vlan: number): VlanAlias | undefined {
    return this.#byVlan.get(vlan) ?? undefined;
  }

  /**
   * The alias a NIC records after `vm net connect`: the value when the alias is in `namespace`,
   * `ns//value` when it is in another one, `""` when the VLAN has no alias (or is blacklisted).
   *
   * @param namespace The VM's namespace.
   * @param vlan The VLAN number.
   * @returns The alias text.
   * @example Usage
   * ```ts
   * import assert from "node:assert/strict";
   * import { Vlans } from "labwire";
   * const vlans = new Vlans();
   * vlans.allocate("minimega", "LAN");
   * assert.equal(vlans.aliasFor("minimega", 101), "LAN");
   * assert.equal(vlans.aliasFor("foo", 101), "minimega//LAN");
   * assert.equal(vlans.aliasFor("foo", 100), "");
   * ```
   */
  aliasFor(namespace: string, vlan: number): string {
    const owner = this.#byVlan.get(vlan);
    if (!owner) return "";
    return owner.namespace === namespace ? owner.value : `${owner.namespace}${ALIAS_SEP}${owner.value}`;
  }

  /**
   * Prints a VLAN as minimega does (`printVLAN`): `alias (n)` when it has an alias, the alias written
   * `ns//value` when it belongs to another namespace; just `n` otherwise.
   *
   * @param namespace The namespace printing (the VM's, or the active one).
   * @param vlan The VLAN number.
   * @returns The text.
   * @example Usage
   * ```ts
   * import assert from "node:assert/strict";
   * import { Vlans } from "labwire";
   * const vlans = new Vlans();
   * vlans.allocate("minimega", "LAN");
   * assert.equal(vlans.format("minimega", 101), "LAN (101)");
   * assert.equal(vlans.format("foo", 101), "minimega//LAN (101)");
   * assert.equal(vlans.format("minimega", 100), "100");
   * ```
   */
  format(namespace: string, vlan: number): string {
    return this.#byVlan.get(vlan) ? `${this.aliasFor(namespace, vlan)} (${vlan})` : String(vlan);
  }

  /**
   * Clears aliases (`clear vlans [prefix]`, minimega's `Delete`). Without a prefix: deletes every alias
   * of `namespace` and its range (never the global one: for namespace `""` the global range goes back
   * to the default range), then resets `next` to `min` on every range. With a prefix: deletes the
   * aliases of `namespace` whose value starts with it, and leaves `next` alone. The blacklist is never
   * touched, and a prefix of `all` is not special here: call {@linkcode Vlans.reset} for `clear vlans all`.
   *
   * @param namespace The active namespace.
   * @param prefix Delete only the aliases starting with this. @default {""}
   * @example Usage
   * ```ts
   * import assert from "node:assert/strict";
   * import { Vlans } from "labwire";
   * const vlans = new Vlans();
   * vlans.allocate("minimega", "net1");
   * vlans.allocate("minimega", "dmz");
   * vlans.clear("minimega", "net");
   * assert.deepEqual(vlans.aliases("minimega"), [{ alias: "dmz", vlan: 102 }]);
   * vlans.clear("minimega");
   * assert.deepEqual(vlans.allocate("minimega", "x"), { vlan: 101, created: true });
   * ```
   */
  clear(namespace: string, prefix = ""): void {
    this.beforeChange?.();
    const values = this.#byAlias.get(namespace);
    if (values !== undefined) {
      for (const [value, vlan] of values) {
        if (!value.startsWith(prefix)) continue;
        values.delete(value);
        this.#byVlan.delete(vlan);
      }
      if (values.size === 0) this.#byAlias.delete(namespace);
    }
    if (prefix !== "") return;
    if (namespace !== "") {
      this.#ranges.delete(namespace);
    } else {
      const global = this.#ranges.get("")!;
      global.min = this.#defaultRange.min;
      global.max = this.#defaultRange.max;
    }
    for (const r of this.#ranges.values()) r.next = r.min;
  }

  /**
   * Clears a namespace's aliases and range as `clear namespace <ns>` does: {@linkcode Vlans.clear}
   * without a prefix.
   *
   * @param namespace The namespace being destroyed.
   * @example Usage
   * ```ts
   * import assert from "node:assert/strict";
   * import { Vlans } from "labwire";
   * const vlans = new Vlans();
   * vlans.setRange("foo", 200, 300);
   * vlans.allocate("foo", "LAN");
   * vlans.clearNamespace("foo");
   * assert.deepEqual(vlans.namespaces(), []);
   * ```
   */
  clearNamespace(namespace: string): void {
    this.clear(namespace);
  }

  /**
   * Forgets everything (`clear vlans all`): aliases, namespace ranges and the blacklist. The global range
   * goes back to the range given to the constructor; minimega goes back to 101-4096 even when started
   * with `-vlanrange`, which labwire treats as a bug.
   *
   * @example Usage
   * ```ts
   * import assert from "node:assert/strict";
   * import { Vlans } from "labwire";
   * const vlans = new Vlans({ range: { min: 10, max: 20 } });
   * vlans.setRange("minimega", 500, 600);
   * vlans.blacklist(10);
   * vlans.reset();
   * assert.deepEqual(vlans.range("minimega"), { min: 10, max: 20, next: 10 });
   * assert.deepEqual(vlans.blacklisted(), []);
   * ```
   */
  reset(): void {
    this.beforeChange?.();
    this.#byVlan.clear();
    this.#byAlias.clear();
    this.#ranges.clear();
    const { min, max } = this.#defaultRange;
    this.#ranges.set("", { min, max, next: min });
  }

  /**
   * The namespaces the table knows: those with aliases or a range of their own.
   *
   * @returns The names, sorted; never `""`.
   * @example Usage
   * ```ts
   * import assert from "node:assert/strict";
   * import { Vlans } from "labwire";
   * const vlans = new Vlans();
   * vlans.allocate("foo", "A");
   * vlans.setRange("bar", 200, 300);
   * vlans.allocate("minimega", "A");
   * assert.deepEqual(vlans.namespaces(), ["bar", "foo", "minimega"]);
   * ```
   */
  namespaces(): string[] {
    const names = new Set<string>();
    for (const ns of this.#byAlias.keys()) if (ns !== "") names.add(ns);
    for (const ns of this.#ranges.keys()) if (ns !== "") names.add(ns);
    return [...names].sort();
  }

  /**
   * The state as plain JSON-able data; {@linkcode Vlans.fromJSON} restores it exactly.
   *
   * @returns A fresh object sharing nothing with the table.
   * @example Usage
   * ```ts
   * import assert from "node:assert/strict";
   * import { Vlans } from "labwire";
   * const vlans = new Vlans();
   * vlans.allocate("minimega", "LAN");
   * const copy = Vlans.fromJSON(JSON.parse(JSON.stringify(vlans)));
   * assert.deepEqual(copy.toJSON(), vlans.toJSON());
   * ```
   */
  toJSON(): VlansState {
    const aliases: VlansState["aliases"] = [];
    for (const [vlan, owner] of this.#byVlan) {
      if (owner !== null) aliases.push({ namespace: owner.namespace, value: owner.value, vlan });
    }
    const ranges: VlansState["ranges"] = [];
    for (const [namespace, r] of this.#ranges) {
      ranges.push({ namespace, min: r.min, max: r.max, next: r.next });
    }
    return {
      version: 1,
      defaultRange: { min: this.#defaultRange.min, max: this.#defaultRange.max },
      ranges,
      aliases,
      blacklist: this.blacklisted(),
    };
  }

  /**
   * Rebuilds a table from {@linkcode Vlans.toJSON}'s output, checking it first.
   *
   * @param state The state, e.g. read back from a JSON file.
   * @param options The warning sink.
   * @returns The table.
   * @throws {TypeError} If the state is malformed or inconsistent (a VLAN or alias twice, no global range),
   * or has a range or an alias outside VLANs 1..4094. A range's max of 4096, the top of minimega's default
   * range that labwire kept before it refused VLAN 4095, is read as 4095.
   * @example Usage
   * ```ts
   * import assert from "node:assert/strict";
   * import { Vlans } from "labwire";
   * const vlans = new Vlans();
   * vlans.allocate("minimega", "A");
   * const again = Vlans.fromJSON(vlans.toJSON());
   * assert.deepEqual(again.allocate("minimega", "B"), vlans.allocate("minimega", "B"));
   * ```
   */
  static fromJSON(state: VlansState, options: VlansRestoreOptions = {}): Vlans {
    if (typeof state !== "object" || state === null) restoreFail("it is not an object");
    if (state.version !== 1) {
      restoreFail(`version must be 1: current value is ${JSON.stringify(state.version)}`);
    }
    const d = state.defaultRange;
    if (typeof d !== "object" || d === null) restoreFail("defaultRange must be an object");
    const dMin = stateInteger("defaultRange.min", d.min);
    const dMax = storedMax(stateInteger("defaultRange.max", d.max));
    checkStoredRange("defaultRange", dMin, dMax);
    const vlans = new Vlans({ ...options, range: { min: dMin, max: dMax } });
    const ranges = vlans.#ranges;
    ranges.clear();
    if (!Array.isArray(state.ranges)) restoreFail("ranges must be an array");
    state.ranges.forEach((r, i) => {
      const namespace = stateString(`ranges[${i}].namespace`, r?.namespace);
      const min = stateInteger(`ranges[${i}].min`, r.min);
      const max = storedMax(stateInteger(`ranges[${i}].max`, r.max));
      const next = stateInteger(`ranges[${i}].next`, r.next);
      if (max <= min) restoreFail(`ranges[${i}] must have min < max: current values ${min}, ${max}`);
      checkStoredRange(`ranges[${i}]`, min, max);
      if (namespace === DEFAULT_NAMESPACE) restoreFail(`the range of "${namespace}" must be stored under ""`);
      if (ranges.has(namespace)) restoreFail(`the range of "${namespace}" appears twice`);
      ranges.set(namespace, { min, max, next });
    });
    if (!ranges.has("")) restoreFail(`it has no global range (namespace "")`);
    if (!Array.isArray(state.aliases)) restoreFail("aliases must be an array");
    state.aliases.forEach((a, i) => {
      const namespace = stateString(`aliases[${i}].namespace`, a?.namespace);
      const value = stateString(`aliases[${i}].value`, a.value);
      const vlan = stateInteger(`aliases[${i}].vlan`, a.vlan);
      if (vlan < FIRST_VLAN || vlan > LAST_VLAN) {
        restoreFail(`aliases[${i}].vlan must be ${FIRST_VLAN} to ${LAST_VLAN}: current value is ${vlan}`);
      }
      if (vlans.#byVlan.has(vlan)) restoreFail(`VLAN ${vlan} appears twice`);
      if (vlans.#byAlias.get(namespace)?.has(value)) {
        restoreFail(`alias "${namespace}${ALIAS_SEP}${value}" appears twice`);
      }
      vlans.#record({ namespace, value }, vlan);
    });
    if (!Array.isArray(state.blacklist)) restoreFail("blacklist must be an array");
    state.blacklist.forEach((n, i) => {
      const vlan = stateInteger(`blacklist[${i}]`, n);
      if (vlans.#byVlan.has(vlan)) restoreFail(`VLAN ${vlan} appears twice`);
      vlans.#byVlan.set(vlan, null);
    });
    return vlans;
  }
}

/**
 * Parses a VLAN range given as `MIN-MAX` (minimega's `-vlanrange` flag, e.g. `101-4095`): half-open,
 * so MAX itself is never allocated, and it may only hold VLANs 1 to 4094 (minimega takes any integers).
 *
 * @throws {RangeError} minimega's words: `invalid VLAN range provided`, `expected integer values for
 * VLAN range`, `expected min < max for VLAN range`; then {@linkcode checkVlanRange}'s, e.g. `Cannot use
 * VLAN range '0-10' as min must be 1 to 4094: current value is 0`.
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
  checkVlanRange(`use VLAN range '${s}'`, min, max);
  return { min, max };
}
