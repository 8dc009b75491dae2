// Runtime-neutral.
/**
 * minicli's builtins: `.annotate`, `.headers`, `.sort`, `.json`, `.csv` (alone they show or set the
 * session's flag; before a command they apply to that command only), `.filter` and `.columns`.
 *
 * @module
 */

import type { Handler, MetaHandler } from "./registry.ts";
import { type Flags, makeResponse, type OutputMode, type Response } from "./response.ts";

type BoolFlag = "annotate" | "headers" | "sort";

function flagHandler<Ctx>(name: BoolFlag, helpShort: string, helpLong: string): MetaHandler<Ctx> {
  return {
    patterns: [`.${name} [true,false]`, `.${name} <true,false> (command)`],
    helpShort,
    helpLong,
    async runMeta(cmd, _ctx, engine) {
      const value = cmd.bools.has("true");
      if (cmd.subcommand === undefined) {
        if (cmd.bools.size > 0) {
          engine.flags[name] = value;
          return [makeResponse(engine.host)];
        }
        return [makeResponse(engine.host, { response: String(engine.flags[name]) })];
      }
      const responses = await engine.run(cmd.subcommand);
      const first = responses[0];
      if (first !== undefined) first.flags = { ...(first.flags ?? engine.flags), [name]: value };
      return responses;
    },
  };
}

function modeHandler<Ctx>(
  mode: Exclude<OutputMode, "default">,
  helpShort: string,
  helpLong: string,
): MetaHandler<Ctx> {
  return {
    patterns: [`.${mode} [true,false]`, `.${mode} <true,false> (command)`],
    helpShort,
    helpLong,
    async runMeta(cmd, _ctx, engine) {
      const on = cmd.bools.has("true");
      const off = cmd.bools.has("false");
      if (cmd.subcommand === undefined) {
        if (on) engine.flags.mode = mode;
        else if (off && engine.flags.mode === mode) engine.flags.mode = "default";
        else if (!off) return [makeResponse(engine.host, { response: String(engine.flags.mode === mode) })];
        return [makeResponse(engine.host)];
      }
      const responses = await engine.run(cmd.subcommand);
      const first = responses[0];
      if (first !== undefined) {
        const flags: Flags = { ...(first.flags ?? engine.flags) };
        if (on) flags.mode = mode;
        else if (flags.mode === mode) flags.mode = "default";
        first.flags = flags;
      }
      return responses;
    },
  };
}

interface Filter {
  readonly column: string;
  readonly value: string;
  readonly negate: boolean;
  readonly fuzzy: boolean;
}

const FILTER_OPERATORS: readonly { sep: string; negate: boolean; fuzzy: boolean }[] = [
  { sep: "!~", negate: true, fuzzy: true },
  { sep: "~", negate: false, fuzzy: true },
  { sep: "!=", negate: true, fuzzy: false },
  { sep: "=", negate: false, fuzzy: false },
];

/**
 * Parses a `.filter` argument: `column=value`, `column!=value`, `column~value` (substring) or
 * `column!~value`; case-insensitive.
 *
 * @throws {SyntaxError} `invalid filter, see help` (minimega's words).
 */
function parseFilter(s: string): Filter {
  for (const op of FILTER_OPERATORS) {
    const parts = s.split(op.sep);
    if (parts.length === 2) {
      return {
        column: parts[0]!.toLowerCase(),
        value: parts[1]!.toLowerCase(),
        negate: op.negate,
        fuzzy: op.fuzzy,
      };
    }
  }
  throw new SyntaxError("invalid filter, see help");
}

function filterMatches(f: Filter, cell: string): boolean {
  const s = cell.toLowerCase();
  const fuzzy = f.fuzzy || (s.startsWith("[") && s.endsWith("]")) || (s.startsWith("{") && s.endsWith("}"));
  const match = s === f.value || (fuzzy && s.includes(f.value));
  return f.negate !== match;
}

/**
 * Finds a column by name or unique prefix, case-insensitively.
 *
 * @throws {RangeError} `no such column \`x\`` or `ambiguous column \`x\`` (minimega's words).
 */
function findColumn(header: readonly string[], column: string): number {
  let found = -1;
  for (let i = 0; i < header.length; i++) {
    const h = header[i]!.toLowerCase();
    if (h === column) return i;
    if (!h.startsWith(column)) continue;
    if (found >= 0) throw new RangeError(`ambiguous column \`${column}\``);
    found = i;
  }
  if (found < 0) throw new RangeError(`no such column \`${column}\``);
  return found;
}

function filterHandler<Ctx>(): MetaHandler<Ctx> {
  return {
    patterns: [".filter <filter> (command)"],
    helpShort: "filter tabular data by column value",
    helpLong: `Keeps the rows of a command's table whose column matches, case-insensitively:

	.filter alias=DMZ vlans        the cell equals the value
	.filter alias!=DMZ vlans       it does not
	.filter alias~DM vlans         it contains the value
	.filter alias!~DM vlans        it does not contain it

A cell that is a list ("[...]") or an object ("{...}") matches when it contains the value. Columns
may be given by a unique prefix, and filters may be stacked: .filter a=x .filter b=y <command>.`,
    async runMeta(cmd, _ctx, engine) {
      const filter = parseFilter(cmd.strings.get("filter") ?? "");
      const responses = await engine.run(cmd.subcommand!);
      const kept: Response[] = [];
      for (const r of responses) {
        if (filter.column === "host") {
          if (filterMatches(filter, r.host)) kept.push(r);
          continue;
        }
        if (r.header === undefined || r.tabular === undefined) {
          kept.push(r);
          continue;
        }
        const i = findColumn(r.header, filter.column);
        r.tabular = r.tabular.filter((row) => filterMatches(filter, row[i] ?? ""));
        kept.push(r);
      }
      return kept;
    },
  };
}

function columnsHandler<Ctx>(): MetaHandler<Ctx> {
  return {
    patterns: [".columns <columns as csv> (command)"],
    helpShort: "show certain columns from tabular data",
    helpLong: `Keeps only the named columns of a command's table, in the order given, by name or unique
prefix, separated by commas:

	.columns vlan,alias vlans

To combine with .filter, put .columns first, so that the filter still sees every column:

	.columns alias .filter vlan=101 vlans`,
    async runMeta(cmd, _ctx, engine) {
      const wanted = (cmd.strings.get("columns") ?? "").split(",");
      const responses = await engine.run(cmd.subcommand!);
      for (const r of responses) {
        if (r.header === undefined) continue;
        const header = r.header;
        const indexes = wanted.map((c) => findColumn(header, c.toLowerCase()));
        r.header = indexes.map((i) => header[i]!);
        if (r.tabular !== undefined) r.tabular = r.tabular.map((row) => indexes.map((i) => row[i] ?? ""));
      }
      return responses;
    },
  };
}

/**
 * The builtin handlers, to register in a {@linkcode Registry} next to the commands.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { builtinHandlers } from "labwire/cli";
 * assert.ok(builtinHandlers().some((h) => h.patterns[0] === ".filter <filter> (command)"));
 * ```
 */
export function builtinHandlers<Ctx>(): Handler<Ctx>[] {
  return [
    flagHandler(
      "annotate",
      "enable or disable hostname annotation",
      'Shows (true) or hides (false) which host answered: a host column first in tables, "host: "\nbefore other answers. Off by default. Alone, prints the setting or changes it for the session; before a command, applies to that\ncommand only.',
    ),
    flagHandler(
      "headers",
      "enable or disable headers for tabular data",
      "Prints (true) or leaves out (false) the header line of tables. Alone, prints the setting or changes it for the session; before a command, applies to that\ncommand only.",
    ),
    flagHandler(
      "sort",
      "enable or disable sorting of tabular data",
      "Sorts (true) the rows of tables or keeps them in the order the command gave them (false).\nRows are compared column by column: as numbers when both cells are integers, else as text.\nAlone, prints the setting or changes it for the session; before a command, applies to that\ncommand only.",
    ),
    modeHandler(
      "json",
      "enable or disable JSON mode",
      "Prints answers as JSON (true), or not (false): one object per host, with Host, Response,\nHeader, Tabular, Error and Data. Turning JSON on turns CSV off. Alone, prints the setting or changes it for the session; before a command, applies to that\ncommand only.",
    ),
    modeHandler(
      "csv",
      "enable or disable CSV mode",
      "Prints tables as CSV (true), or not (false). Turning CSV on turns JSON off. Alone, prints the setting or changes it for the session; before a command, applies to that\ncommand only.",
    ),
    filterHandler(),
    columnsHandler(),
  ];
}
