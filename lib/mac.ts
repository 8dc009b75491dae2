// Runtime-neutral.
/**
 * MAC addresses: parsing exactly as Go's `net.ParseMAC` accepts them (which is what decides whether a netspec
 * field is a MAC in minimega), formatting as lower-case colon form, and deterministic generation of
 * locally-administered unicast addresses.
 *
 * @module
 */

const COLON = 0x3a;
const HYPHEN = 0x2d;
const DOT = 0x2e;

/** Bit 0 of the first octet: the I/G bit, set for group (multicast and broadcast) addresses. */
const MULTICAST_BIT = 0x01;
/** Bit 1 of the first octet: the U/L bit, set for locally administered addresses. */
const LOCAL_BIT = 0x02;

/** Two lower-case hex digits for every octet value. */
const HEX: readonly string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

/** An address that Go's `net.ParseMAC` would refuse. */
export class MacError extends SyntaxError {
  /** Always `"MacError"`. */
  override name = "MacError";
  /** The text that could not be parsed. */
  readonly value: string;

  /**
   * Makes the error for `value`; the message says which forms are accepted.
   *
   * @param value The text that could not be parsed.
   * @param options Standard error options (`cause`).
   */
  constructor(value: string, options?: ErrorOptions) {
    super(
      `Cannot parse MAC address '${value}': expected 6, 8 or 20 hex octets as xx:xx:.., xx-xx-.. or xxxx.xxxx.xxxx`,
      options,
    );
    this.value = value;
  }
}

/** The value of one hex digit, or -1. */
function hexDigit(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const lower = c | 0x20;
  if (lower >= 0x61 && lower <= 0x66) return lower - 0x61 + 10;
  return -1;
}

/** The octet written as two hex digits at `at`, or -1. */
function hexOctet(s: string, at: number): number {
  const hi = hexDigit(s.charCodeAt(at));
  const lo = hexDigit(s.charCodeAt(at + 1));
  return hi < 0 || lo < 0 ? -1 : hi << 4 | lo;
}

/**
 * How many octets `s` would hold judging by its length and the separator that picks the form (Go's first
 * checks), or 0 when no form fits.
 */
function octetCount(s: string): number {
  const len = s.length;
  if (len < 14) return 0;
  const c2 = s.charCodeAt(2);
  let n: number;
  if (c2 === COLON || c2 === HYPHEN) {
    if ((len + 1) % 3 !== 0) return 0;
    n = (len + 1) / 3;
  } else if (s.charCodeAt(4) === DOT) {
    if ((len + 1) % 5 !== 0) return 0;
    n = 2 * (len + 1) / 5;
  } else {
    return 0;
  }
  return n === 6 || n === 8 || n === 20 ? n : 0;
}

/**
 * Go's `net.ParseMAC` for a string whose layout {@linkcode octetCount} accepted as `n` octets: checks every
 * digit and separator, writing the octets into `out` when given. Returns whether `s` is a MAC.
 */
function decodeMac(s: string, n: number, out: Uint8Array | undefined): boolean {
  const len = s.length;
  const c2 = s.charCodeAt(2);
  if (c2 === COLON || c2 === HYPHEN) {
    // `xx:xx:..` / `xx-xx-..`: every separator must be the one at index 2.
    for (let i = 0, x = 0; i < n; i++, x += 3) {
      const octet = hexOctet(s, x);
      if (octet < 0 || (x + 2 < len && s.charCodeAt(x + 2) !== c2)) return false;
      if (out !== undefined) out[i] = octet;
    }
    return true;
  }
  // `xxxx.xxxx.xxxx`: groups of four digits, dots between them.
  for (let i = 0, x = 0; i < n; i += 2, x += 5) {
    const a = hexOctet(s, x);
    const b = hexOctet(s, x + 2);
    if (a < 0 || b < 0 || (x + 4 < len && s.charCodeAt(x + 4) !== DOT)) return false;
    if (out !== undefined) {
      out[i] = a;
      out[i + 1] = b;
    }
  }
  return true;
}

/**
 * Tells whether Go's `net.ParseMAC` accepts `s`, which is how minimega decides that a netspec field is a MAC:
 * 6, 8 (EUI-64) or 20 (IP over InfiniBand) octets written `xx:xx:..` or `xx-xx-..` (exactly two hex digits
 * per group, one kind of separator throughout) or `xxxx.xxxx.xxxx` (groups of exactly four hex digits), in
 * any hex case.
 *
 * @param s The text to test.
 * @returns Whether `s` is a MAC address.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { isMac } from "labwire";
 *
 * assert.equal(isMac("52:54:00:AB:cd:01"), true);
 * assert.equal(isMac("5254.00ab.cd01"), true);
 * assert.equal(isMac("52:54:00-ab-cd-01"), false);
 * assert.equal(isMac("52:54:00:ab:cd"), false);
 * ```
 */
export function isMac(s: string): boolean {
  const n = octetCount(s);
  return n !== 0 && decodeMac(s, n, undefined);
}

/**
 * Parses a MAC address in any form {@linkcode isMac} accepts.
 *
 * @param s The address, e.g. `"52:54:00:ab:cd:01"`, `"52-54-00-AB-CD-01"` or `"5254.00ab.cd01"`.
 * @returns Its 6, 8 or 20 octets.
 * @throws {MacError} If `s` is not a MAC address.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseMac } from "labwire";
 *
 * assert.deepEqual(parseMac("5254.00ab.cd01"), new Uint8Array([0x52, 0x54, 0x00, 0xab, 0xcd, 0x01]));
 * assert.throws(() => parseMac("52:54:00"), { name: "MacError" });
 * ```
 */
export function parseMac(s: string): Uint8Array {
  const n = octetCount(s);
  const out = new Uint8Array(n);
  if (n === 0 || !decodeMac(s, n, out)) throw new MacError(s);
  return out;
}

/** Throws unless `octets` has a MAC address's length. */
function checkOctets(octets: Uint8Array, action: string): void {
  const n = octets.length;
  if (n !== 6 && n !== 8 && n !== 20) {
    throw new RangeError(`Cannot ${action} as a MAC address has 6, 8 or 20 octets: current length is ${n}`);
  }
}

/**
 * Formats octets as a MAC address in lower-case colon form, the way Go's `HardwareAddr.String` does.
 *
 * @param octets 6, 8 or 20 octets.
 * @returns The address, e.g. `"52:54:00:ab:cd:01"`.
 * @throws {RangeError} If `octets` does not hold 6, 8 or 20 octets.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatMac } from "labwire";
 *
 * assert.equal(formatMac(new Uint8Array([0x52, 0x54, 0x00, 0xab, 0xcd, 0x01])), "52:54:00:ab:cd:01");
 * ```
 */
export function formatMac(octets: Uint8Array): string {
  checkOctets(octets, "format MAC address");
  return formatOctets(octets);
}

/** Lower-case colon form of octet values 0-255, at least one. */
function formatOctets(octets: ArrayLike<number>): string {
  let s = HEX[octets[0]!]!;
  for (let i = 1; i < octets.length; i++) s += ":" + HEX[octets[i]!]!;
  return s;
}

/**
 * Rewrites a MAC address in any accepted form as lower-case colon form. minimega only lower-cases; labwire
 * also normalises, so that `AA-BB-CC-DD-EE-FF` and `aabb.ccdd.eeff` reach QEMU, OVS and the IP snooper as
 * `aa:bb:cc:dd:ee:ff`.
 *
 * @param s The address in any form {@linkcode isMac} accepts.
 * @returns The same address as `xx:xx:..`, lower case.
 * @throws {MacError} If `s` is not a MAC address.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { normalizeMac } from "labwire";
 *
 * assert.equal(normalizeMac("AA-BB-CC-DD-EE-FF"), "aa:bb:cc:dd:ee:ff");
 * assert.equal(normalizeMac("aabb.ccdd.eeff"), "aa:bb:cc:dd:ee:ff");
 * ```
 */
export function normalizeMac(s: string): string {
  const n = octetCount(s);
  if (n === 0 || !decodeMac(s, n, undefined)) throw new MacError(s);
  // Rewritten as text: no octet buffer, which costs more than the parse itself.
  const lower = s.toLowerCase();
  const c2 = s.charCodeAt(2);
  if (c2 === COLON) return lower;
  if (c2 === HYPHEN) return lower.replaceAll("-", ":");
  let out = lower.slice(0, 2) + ":" + lower.slice(2, 4);
  for (let x = 5; x < lower.length; x += 5) {
    out += ":" + lower.slice(x, x + 2) + ":" + lower.slice(x + 2, x + 4);
  }
  return out;
}

/** The first octet of a MAC given as text in any accepted form or as octets. */
function firstOctet(mac: string | Uint8Array, action: string): number {
  if (typeof mac === "string") return parseMac(mac)[0]!;
  checkOctets(mac, action);
  return mac[0]!;
}

/**
 * Tells whether a MAC address is a group address (multicast, broadcast included): bit 0 of the first octet.
 *
 * @param mac The address as text in any form {@linkcode isMac} accepts, or as its octets.
 * @returns Whether the I/G bit is set.
 * @throws {MacError} If `mac` is text that is not a MAC address.
 * @throws {RangeError} If `mac` is octets of a length other than 6, 8 or 20.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { isMulticastMac } from "labwire";
 *
 * assert.equal(isMulticastMac("01:00:5e:00:00:fb"), true);
 * assert.equal(isMulticastMac("ff:ff:ff:ff:ff:ff"), true);
 * assert.equal(isMulticastMac("52:54:00:ab:cd:01"), false);
 * ```
 */
export function isMulticastMac(mac: string | Uint8Array): boolean {
  return (firstOctet(mac, "test MAC address") & MULTICAST_BIT) !== 0;
}

/**
 * Tells whether a MAC address is locally administered rather than assigned by its vendor: bit 1 of the first
 * octet.
 *
 * @param mac The address as text in any form {@linkcode isMac} accepts, or as its octets.
 * @returns Whether the U/L bit is set.
 * @throws {MacError} If `mac` is text that is not a MAC address.
 * @throws {RangeError} If `mac` is octets of a length other than 6, 8 or 20.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { isLocallyAdministeredMac } from "labwire";
 *
 * assert.equal(isLocallyAdministeredMac("52:54:00:ab:cd:01"), true);
 * assert.equal(isLocallyAdministeredMac("00:1b:21:ab:cd:01"), false);
 * ```
 */
export function isLocallyAdministeredMac(mac: string | Uint8Array): boolean {
  return (firstOctet(mac, "test MAC address") & LOCAL_BIT) !== 0;
}

// --- Generation -------------------------------------------------------------------------------------------

const MASK64 = 0xffffffffffffffffn;
/** SplitMix64's increment, the golden ratio in 64 bits. */
const GOLDEN_GAMMA = 0x9e3779b97f4a7c15n;
const FNV64_OFFSET = 0xcbf29ce484222325n;
const FNV64_PRIME = 0x100000001b3n;
/** Candidates tried by one {@linkcode MacGenerator.next} call before it gives up. */
const MAX_ATTEMPTS = 4096;

/** SplitMix64's finaliser (Steele, Lea and Flood, 2014): a bijective 64-bit mixer. */
function mix64(z: bigint): bigint {
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK64;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK64;
  return z ^ (z >> 31n);
}

/** FNV-1a over the UTF-8 bytes of `s`. */
function fnv1a64(s: string): bigint {
  let h = FNV64_OFFSET;
  for (const b of new TextEncoder().encode(s)) h = ((h ^ BigInt(b)) * FNV64_PRIME) & MASK64;
  return h;
}

/** The 64-bit key of a generator: from its seed, or from the platform's CSPRNG without one. */
function keyOf(seed: number | string | undefined): bigint {
  if (seed === undefined) {
    const words = globalThis.crypto.getRandomValues(new Uint32Array(2));
    return BigInt(words[0]!) << 32n | BigInt(words[1]!);
  }
  if (typeof seed === "string") return mix64(fnv1a64(seed));
  if (typeof seed !== "number") {
    throw new TypeError(
      `Cannot create MAC generator as 'seed' must be a number or a string: current type is ${typeof seed}`,
    );
  }
  if (!Number.isSafeInteger(seed)) {
    throw new RangeError(
      `Cannot create MAC generator as 'seed' must be a safe integer: current value is ${seed}`,
    );
  }
  return mix64(BigInt.asUintN(64, BigInt(seed)));
}

/** Parses a generator prefix: 1 to 5 octets in colon form, not multicast. */
function parsePrefix(prefix: string): Uint8Array {
  const groups = prefix.split(":");
  const octets = new Uint8Array(groups.length);
  let ok = groups.length <= 5;
  for (let i = 0; ok && i < groups.length; i++) {
    const octet = groups[i]!.length === 2 ? hexOctet(groups[i]!, 0) : -1;
    ok = octet >= 0;
    octets[i] = octet;
  }
  if (!ok) {
    throw new SyntaxError(`Cannot parse MAC prefix '${prefix}': expected 1 to 5 hex octets as xx:xx:..`);
  }
  if ((octets[0]! & MULTICAST_BIT) !== 0) {
    throw new RangeError(
      `Cannot use MAC prefix as a generated MAC must be unicast (first octet even): current value is '${prefix}'`,
    );
  }
  return octets;
}

/** Options for {@linkcode MacGenerator}. */
export interface MacGeneratorOptions {
  /**
   * Leading octets every generated MAC starts with, 1 to 5 of them in colon form, e.g. `"52:54:00"` (QEMU's
   * locally-administered prefix) or `"02"`. It must not be multicast (first octet odd). Without one, the first
   * octet is random with the multicast bit clear and the locally-administered bit set.
   *
   * @default {undefined}
   */
  prefix?: string;
  /**
   * Makes the sequence deterministic: a safe integer or any string. Without one, the generator draws its key
   * from `crypto.getRandomValues`, so two generators differ.
   *
   * @default {undefined}
   */
  seed?: number | string;
  /**
   * The counter to start from: a {@linkcode MacGenerator.count} saved earlier, to resume a sequence.
   *
   * @default {0}
   */
  start?: number;
}

/**
 * Generates MAC addresses for NICs that have none, fixing minimega's `randomMac`: every MAC is unicast, never
 * all-zero, 6 octets in lower-case colon form, and locally administered unless a prefix says otherwise.
 *
 * The generator is a counter run through SplitMix64: the n-th candidate is a pure function of (key, n,
 * prefix), the key being derived from the seed. So a lab can persist only {@linkcode MacGenerator.count}
 * (and its seed and prefix) and later resume with `start` exactly where it stopped. Candidates that are
 * rejected (taken, or all-zero) also advance the counter.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { isLocallyAdministeredMac, isMulticastMac, MacGenerator } from "labwire";
 *
 * const macs = new MacGenerator({ seed: "lab-1" });
 * const a = macs.next();
 * assert.equal(isMulticastMac(a), false);
 * assert.equal(isLocallyAdministeredMac(a), true);
 * assert.equal(new MacGenerator({ seed: "lab-1" }).next(), a);
 * ```
 *
 * @example Resuming from a saved count, skipping MACs already in use
 * ```ts
 * import assert from "node:assert/strict";
 * import { MacGenerator } from "labwire";
 *
 * const inUse = new Set<string>();
 * const first = new MacGenerator({ seed: 7, prefix: "52:54:00" });
 * inUse.add(first.next());
 * const saved = first.count;
 *
 * const resumed = new MacGenerator({ seed: 7, prefix: "52:54:00", start: saved });
 * const mac = resumed.next((m) => inUse.has(m));
 * assert.equal(mac, first.next((m) => inUse.has(m)));
 * assert.ok(mac.startsWith("52:54:00:"));
 * ```
 */
export class MacGenerator {
  #key: bigint;
  #prefix: Uint8Array;
  #prefixText: string;
  #count: number;

  /**
   * Makes a generator.
   *
   * @param options The prefix, seed and starting counter.
   * @throws {SyntaxError} If `prefix` is not 1 to 5 hex octets in colon form.
   * @throws {RangeError} If `prefix` is multicast, `seed` is a number but not a safe integer, or `start` is
   * not a non-negative safe integer.
   */
  constructor(options: MacGeneratorOptions = {}) {
    const { prefix, seed, start = 0 } = options;
    if (!Number.isSafeInteger(start) || start < 0) {
      throw new RangeError(
        `Cannot create MAC generator as 'start' must be a non-negative safe integer: current value is ${start}`,
      );
    }
    this.#prefix = prefix === undefined ? new Uint8Array(0) : parsePrefix(prefix);
    this.#prefixText = prefix === undefined ? "" : formatOctets(this.#prefix);
    this.#key = keyOf(seed);
    this.#count = start;
  }

  /** How many candidates this generator has used: pass it as `start` to resume. */
  get count(): number {
    return this.#count;
  }

  /** The prefix in lower-case colon form, or `""` when there is none. */
  get prefix(): string {
    return this.#prefixText;
  }

  /**
   * Returns the next MAC address.
   *
   * @param isTaken Called with each candidate; a candidate for which it returns `true` is skipped.
   * @returns A unicast MAC address, 6 octets, lower-case colon form.
   * @throws {RangeError} If 4096 candidates in a row are taken (the counter has then moved past them).
   */
  next(isTaken?: (mac: string) => boolean): string {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const mac = this.#candidate(this.#count++);
      if (mac !== "" && (isTaken === undefined || !isTaken(mac))) return mac;
    }
    const where = this.#prefixText === "" ? "" : ` with prefix '${this.#prefixText}'`;
    throw new RangeError(`Cannot generate MAC: ${MAX_ATTEMPTS} candidates in a row were taken${where}`);
  }

  /** Candidate number `n`, or `""` when it is all-zero (possible only with an all-zero prefix). */
  #candidate(n: number): string {
    const z = mix64((this.#key + BigInt(n + 1) * GOLDEN_GAMMA) & MASK64);
    let bits = Number(z & 0xffffffffffffn); // 48 random bits, read from the top octet down
    const octets = [0, 0, 0, 0, 0, 0];
    for (let i = 5; i >= 0; i--) {
      octets[i] = bits % 256;
      bits = Math.floor(bits / 256);
    }
    const prefix = this.#prefix;
    if (prefix.length === 0) {
      octets[0] = (octets[0]! & ~(MULTICAST_BIT | LOCAL_BIT)) | LOCAL_BIT;
    } else {
      for (let i = 0; i < prefix.length; i++) octets[i] = prefix[i]!;
    }
    if (octets.every((o) => o === 0)) return "";
    return formatOctets(octets);
  }
}
