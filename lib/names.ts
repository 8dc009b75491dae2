// Runtime-neutral.
/**
 * minimega's name lists, as `vm launch` and VM targets take them: `a,b`, `vm[1-3]`, `web[1,3-4],db`.
 *
 * @module
 */

/** A name list that cannot be expanded. */
export class NameListError extends SyntaxError {
  override name = "NameListError";
}

/** The most names one list may expand to. */
export const MAX_NAMES = 100_000;

/**
 * Expands a name list: names separated by commas, each possibly with one bracketed range part
 * (`vm[1-3]` is vm1, vm2, vm3; `vm[01-03]` keeps the zero padding; `vm[1,3-4]` is vm1, vm3, vm4).
 * Duplicates are dropped; the order is kept.
 *
 * @throws {NameListError} For an empty name, an unclosed bracket, a bad range, or more than
 * {@linkcode MAX_NAMES} names.
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { expandNames } from "labwire";
 * assert.deepEqual(expandNames("web[1-3],db"), ["web1", "web2", "web3", "db"]);
 * ```
 */
export function expandNames(list: string): string[] {
  const names: string[] = [];
  const seen = new Set<string>();
  for (const part of splitTopLevel(list)) {
    for (const name of expandOne(part, list)) {
      if (seen.has(name)) continue;
      seen.add(name);
      names.push(name);
      if (names.length > MAX_NAMES) {
        throw new NameListError(`Cannot expand '${list}': more than ${MAX_NAMES} names`);
      }
    }
  }
  return names;
}

/** Splits on commas outside brackets. */
function splitTopLevel(list: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < list.length; i++) {
    const ch = list[i];
    if (ch === "[") depth++;
    else if (ch === "]") depth--;
    else if (ch === "," && depth === 0) {
      parts.push(list.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(list.slice(start));
  return parts;
}

function expandOne(part: string, list: string): string[] {
  if (part === "") throw new NameListError(`Cannot expand '${list}': empty name`);
  const open = part.indexOf("[");
  if (open < 0) {
    if (part.includes("]")) throw new NameListError(`Cannot expand '${list}': ']' without '['`);
    return [part];
  }
  const close = part.indexOf("]", open);
  if (close < 0) throw new NameListError(`Cannot expand '${list}': '[' without ']'`);
  const prefix = part.slice(0, open);
  const suffix = part.slice(close + 1);
  if (suffix.includes("[") || suffix.includes("]")) {
    throw new NameListError(`Cannot expand '${list}': only one [...] range per name`);
  }
  const out: string[] = [];
  for (const item of part.slice(open + 1, close).split(",")) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(item);
    if (m === null) {
      throw new NameListError(`Cannot expand '${list}': '${item}' is not a number or a range a-b`);
    }
    const from = Number(m[1]);
    const to = m[2] === undefined ? from : Number(m[2]);
    if (to < from) throw new NameListError(`Cannot expand '${list}': range ${item} goes down`);
    if (to - from >= MAX_NAMES) {
      throw new NameListError(`Cannot expand '${list}': more than ${MAX_NAMES} names`);
    }
    const width = m[1]!.length > 1 && m[1]!.startsWith("0") ? m[1]!.length : 0;
    for (let n = from; n <= to; n++) out.push(`${prefix}${String(n).padStart(width, "0")}${suffix}`);
  }
  return out;
}
