// Runtime-neutral.
/**
 * Responses and how they print: minimega's `minicli.Response`, output flags (`.annotate`,
 * `.headers`, `.sort`, `.json`, `.csv`) and the formatter that turns responses into text.
 *
 * @module
 */

import { compareRows, formatCsv, formatTable } from "./table.ts";

/** Output modes: a table, JSON or CSV. */
export type OutputMode = "default" | "json" | "csv";

/** Output flags, set for the session by a builtin alone or for one command as its prefix. */
export interface Flags {
  /** Put a `host` column first in tables and `host: ` before simple responses. */
  annotate: boolean;
  /** Print table headers. */
  headers: boolean;
  /** Sort table rows. */
  sort: boolean;
  /** Table, JSON or CSV. */
  mode: OutputMode;
}

/**
 * The default flags. minimega annotates by default; labwire runs on one host, so it does not (its
 * tests' prolog turns annotation off too). `.annotate true` brings the host column back.
 */
export const DEFAULT_FLAGS: Readonly<Flags> = { annotate: false, headers: true, sort: true, mode: "default" };

/** One host's answer to a command, as minimega's `minicli.Response`. */
export interface Response {
  /** The host that answered. */
  host: string;
  /** A simple (non-tabular) answer. */
  response: string;
  /** The table header, if the answer is a table. */
  header: string[] | undefined;
  /** The table rows, if the answer is a table. */
  tabular: string[][] | undefined;
  /** The error, or "". */
  error: string;
  /** Flags for this response, overriding the session's (set by builtin prefixes). */
  flags: Flags | undefined;
  /** The typed records a table was made from, when its command gives them (not printed). */
  records?: readonly unknown[];
}

/** Makes a response with defaults for the fields not given. */
export function makeResponse(host: string, fields: Partial<Response> = {}): Response {
  return {
    host,
    response: "",
    header: undefined,
    tabular: undefined,
    error: "",
    flags: undefined,
    ...fields,
  };
}

/**
 * Formats the successful part of a set of responses as minimega prints it: a table (padded, sorted,
 * nothing at all when there are no rows), CSV, JSON, or the simple responses one per line. Errors are
 * not included: see {@linkcode responseErrors}.
 *
 * @param responses The responses of one command.
 * @param sessionFlags The flags in force where the first response carries none.
 * @returns The text, trimmed of surrounding white space; "" when there is nothing to print.
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { DEFAULT_FLAGS, formatResponses, makeResponse } from "labwire/cli";
 * const r = makeResponse("h", { header: ["alias", "vlan"], tabular: [["B", "103"], ["A", "102"]] });
 * assert.equal(formatResponses([r], DEFAULT_FLAGS), "alias | vlan\nA     | 102\nB     | 103");
 * ```
 */
export function formatResponses(responses: readonly Response[], sessionFlags: Readonly<Flags>): string {
  if (responses.length === 0) return "";
  const flags = responses[0]!.flags ?? sessionFlags;
  if (flags.mode === "json") return JSON.stringify(responses.map(toGoJson));

  const ok = responses.filter((r) => r.error === "");
  const header = ok.find((r) => r.header !== undefined)?.header;
  if (header !== undefined) {
    const mismatch = ok.find((r) => !sameHeader(r.header, header));
    if (mismatch !== undefined) return `header mismatch, hosts: ${ok[0]!.host}, ${mismatch.host}`;
  }
  const tabular = ok.some((r) => r.tabular !== undefined);
  const simple = ok.some((r) => r.tabular === undefined && r.response !== "");
  if (tabular && simple) return "responses mix simple and tabular data";

  const rows: string[][] = [];
  for (const r of ok) {
    for (const row of r.tabular ?? []) {
      if (header !== undefined && row.length !== header.length) {
        return `tabular width mismatch, host: ${r.host}, row: ${r.tabular!.indexOf(row)}`;
      }
      rows.push(flags.annotate ? [r.host, ...row] : [...row]);
    }
  }
  if (tabular && rows.length > 0) {
    if (flags.sort) rows.sort(compareRows);
    const head = header === undefined ? [] : flags.annotate ? ["host", ...header] : [...header];
    const all = flags.headers && header !== undefined ? [head, ...rows] : rows;
    return (flags.mode === "csv" ? formatCsv(all) : formatTable(all)).trim();
  }
  return ok.filter((r) => r.response !== "")
    .map((r) => (flags.annotate ? `${r.host}: ` : "") + r.response)
    .join("\n").trim();
}

/** The error messages of a set of responses, in order. */
export function responseErrors(responses: readonly Response[]): string[] {
  return responses.filter((r) => r.error !== "").map((r) => r.error);
}

function sameHeader(a: readonly string[] | undefined, b: readonly string[]): boolean {
  return a !== undefined && a.length === b.length && a.every((h, i) => h === b[i]);
}

/** The JSON minimega writes for a response (Go field names, nil as null). */
function toGoJson(r: Response): Record<string, unknown> {
  return {
    Host: r.host,
    Response: r.response,
    Header: r.header ?? null,
    Tabular: r.tabular ?? null,
    Error: r.error,
    Data: null,
  };
}
