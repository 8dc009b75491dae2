// Runtime-neutral.
/**
 * Tables as minimega prints them: Go's `text/tabwriter` with minimum width 5, padding 1 and spaces,
 * cells joined by `\t| `; rows sorted column by column, numerically where both cells are integers.
 *
 * @module
 */

import { parseGoInt } from "../go_int.ts";

/**
 * Compares two rows the way minimega sorts tables: the first differing column decides; if both
 * cells are integers (Go's `strconv.Atoi`) they compare as numbers, otherwise as strings of bytes.
 *
 * @returns A negative number, zero or a positive number, for `Array.prototype.sort`.
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { compareRows } from "labwire/cli";
 * const rows = [["foo"], ["B"], ["bar"], ["A"], ["10"], ["9"]];
 * assert.deepEqual(rows.sort(compareRows).flat(), ["9", "10", "A", "B", "bar", "foo"]);
 * ```
 */
export function compareRows(a: readonly string[], b: readonly string[]): number {
  const n = Math.min(a.length, b.length);
  for (let k = 0; k < n; k++) {
    const x = a[k]!;
    const y = b[k]!;
    if (x === y) continue;
    const nx = parseGoInt(x);
    const ny = parseGoInt(y);
    if (nx !== undefined && ny !== undefined) return nx < ny ? -1 : nx > ny ? 1 : 0;
    return compareBytes(x, y);
  }
  return a.length - b.length;
}

/**
 * Lays out a header and rows with minimega's tabwriter settings. Every column but the last is padded
 * to its widest cell plus one space, and to at least 5 characters; cells are separated by `| `.
 *
 * @param rows The rows to print, the header first if it is to be printed.
 * @returns The lines, without a final newline.
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatTable } from "labwire/cli";
 * assert.equal(formatTable([["alias", "vlan"], ["A", "102"]]), "alias | vlan\nA     | 102");
 * ```
 */
export function formatTable(rows: readonly (readonly string[])[]): string {
  // Cell k of a row is its text plus, for k > 0, the "| " that tabwriter sees as part of the cell.
  const widths: number[] = [];
  for (const row of rows) {
    for (let k = 0; k < row.length - 1; k++) {
      const w = Math.max(runeLength(cellText(row, k)) + 1, 5);
      if (w > (widths[k] ?? 0)) widths[k] = w;
    }
  }
  return rows.map((row) => {
    let line = "";
    for (let k = 0; k < row.length; k++) {
      const text = cellText(row, k);
      line += k < row.length - 1 ? text + " ".repeat(widths[k]! - runeLength(text)) : text;
    }
    return line;
  }).join("\n");
}

/**
 * Writes rows as CSV the way Go's `encoding/csv` does: a field is quoted when it holds a comma, a
 * quote, a line break, or starts with a space or tab; quotes inside are doubled.
 */
export function formatCsv(rows: readonly (readonly string[])[]): string {
  return rows.map((row) => row.map(csvField).join(",")).join("\n");
}

function csvField(field: string): string {
  if (field === "") return field;
  const needsQuotes = field === "\\." || /[",\r\n]/.test(field) || field[0] === " " || field[0] === "\t";
  return needsQuotes ? `"${field.replaceAll('"', '""')}"` : field;
}

function cellText(row: readonly string[], k: number): string {
  return k === 0 ? row[0]! : `| ${row[k]!}`;
}

function runeLength(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

const encoder = new TextEncoder();

function compareBytes(x: string, y: string): number {
  // UTF-16 order equals UTF-8 byte order except around surrogates; compare bytes only then.
  if (/[\ud800-\udfff]/.test(x) || /[\ud800-\udfff]/.test(y)) {
    const a = encoder.encode(x);
    const b = encoder.encode(y);
    const n = Math.min(a.length, b.length);
    for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
    return a.length - b.length;
  }
  return x < y ? -1 : x > y ? 1 : 0;
}
