// Runtime-neutral.
/**
 * Go's `strconv.Atoi`, which decides what minimega reads as a number: VLANs, ranges, table sorting.
 *
 * @module
 */

const GO_INT = /^[+-]?[0-9]+$/;
const INT64_MAX = "9223372036854775807";
const INT64_MIN_ABS = "9223372036854775808";

/**
 * Reads a decimal integer the way Go's `strconv.Atoi` does on 64-bit hosts: an optional sign, then
 * ASCII digits only (leading zeros allowed), within the int64 range. Numbers beyond 2^53 come back
 * rounded to the nearest double; {@linkcode Vlans} rejects those where it needs an exact number.
 *
 * @param s The text, e.g. `"+5"` or `"0100"`.
 * @returns The number, or `undefined` when Go would report an error.
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseGoInt } from "labwire/cli";
 * assert.equal(parseGoInt("+5"), 5);
 * assert.equal(parseGoInt("0100"), 100);
 * assert.equal(parseGoInt("0x10"), undefined);
 * assert.equal(parseGoInt(" 5"), undefined);
 * ```
 */
export function parseGoInt(s: string): number | undefined {
  if (!GO_INT.test(s)) return undefined;
  const negative = s.charCodeAt(0) === 45; // "-"
  let start = s.charCodeAt(0) === 45 || s.charCodeAt(0) === 43 ? 1 : 0;
  while (start < s.length - 1 && s.charCodeAt(start) === 48) start++; // leading "0"s
  const digits = s.slice(start);
  if (digits.length > 19) return undefined;
  if (digits.length === 19 && digits > (negative ? INT64_MIN_ABS : INT64_MAX)) return undefined;
  const n = Number(digits);
  return negative && n !== 0 ? -n : n;
}
