// Runtime-neutral.
/**
 * minicli command patterns: `vm config networks [netspec]...`, `vlans <add,> <alias> <vlan>`,
 * `namespace <name> (command)`. A pattern is a list of items:
 *
 * | written          | item                                                    |
 * |------------------|---------------------------------------------------------|
 * | `word`           | a literal; any unique prefix of it matches              |
 * | `<key comment>`  | a required string argument, stored under `key`          |
 * | `[key comment]`  | an optional string argument (last item only)            |
 * | `<a,b>` `[a,b]`  | a required / optional choice; `<a,>` is a one-word choice|
 * | `<key>...`       | a required list of the remaining words (last item only) |
 * | `[key]...`       | an optional list (last item only)                       |
 * | `(command)`      | the remaining words are a nested command (last item)    |
 *
 * @module
 */

/** One item of a parsed pattern. */
export type PatternItem =
  | { readonly kind: "literal"; readonly text: string }
  | { readonly kind: "string"; readonly key: string; readonly text: string; readonly optional: boolean }
  | {
    readonly kind: "choice";
    readonly options: readonly string[];
    readonly text: string;
    readonly optional: boolean;
  }
  | { readonly kind: "list"; readonly key: string; readonly text: string; readonly optional: boolean }
  | { readonly kind: "command"; readonly key: string; readonly text: string };

/** A pattern that cannot be parsed: a mistake in a command definition, not in user input. */
export class PatternError extends SyntaxError {
  override name = "PatternError";
  /** The pattern as written. */
  readonly pattern: string;

  /** Makes an error for `pattern`. */
  constructor(message: string, pattern: string) {
    super(`Cannot parse pattern '${pattern}': ${message}`);
    this.pattern = pattern;
  }
}

const CLOSERS: Readonly<Record<string, string>> = { "<": ">", "[": "]", "(": ")" };

/**
 * Parses a minicli pattern.
 *
 * @param pattern The pattern, e.g. `vlans <range,> <min> <max>`.
 * @returns Its items, in order.
 * @throws {PatternError} If brackets are unbalanced or nested, or a list, optional item or
 * nested command is not last.
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { parsePattern } from "labwire/cli";
 * const items = parsePattern("vlans <add,> <alias> <vlan>");
 * assert.equal(items.length, 4);
 * assert.equal(items[1]!.kind, "choice");
 * ```
 */
export function parsePattern(pattern: string): PatternItem[] {
  const items: PatternItem[] = [];
  let i = 0;
  const n = pattern.length;
  while (i < n) {
    const ch = pattern[i]!;
    if (/\s/.test(ch)) {
      i++;
      continue;
    }
    if (items.length > 0) {
      const last = items[items.length - 1]!;
      if (last.kind === "command" || last.kind === "list" || ("optional" in last && last.optional)) {
        throw new PatternError("trailing characters when EOF expected", pattern);
      }
    }
    if (ch === '"' || ch === "'") throw new PatternError("single and double quotes are not allowed", pattern);
    const closer = CLOSERS[ch];
    if (closer === undefined) {
      let j = i;
      while (j < n && !/\s/.test(pattern[j]!)) {
        if ("<[(".includes(pattern[j]!) || pattern[j] === '"' || pattern[j] === "'") {
          throw new PatternError(`unexpected '${pattern[j]}' inside a literal`, pattern);
        }
        j++;
      }
      items.push({ kind: "literal", text: pattern.slice(i, j) });
      i = j;
      continue;
    }
    const end = pattern.indexOf(closer, i + 1);
    if (end < 0) throw new PatternError(`missing terminal ${closer}`, pattern);
    const text = pattern.slice(i + 1, end);
    if (/[<[("']/.test(text)) throw new PatternError("cannot nest items", pattern);
    i = end + 1;
    let list = false;
    if (pattern.startsWith("...", i)) {
      list = true;
      i += 3;
    }
    if (i < n && !/\s/.test(pattern[i]!)) {
      throw new PatternError(`invalid trailing characters after ${closer}`, pattern);
    }
    const optional = ch === "[";
    if (ch === "(") {
      if (list) throw new PatternError("a nested command cannot be a list", pattern);
      items.push({ kind: "command", key: firstWord(text), text });
    } else if (text.includes(",") && !/\s/.test(text)) {
      if (list) throw new PatternError("a choice cannot be a list", pattern);
      const options = text.split(",").filter((o) => o !== "");
      if (options.length === 0) throw new PatternError("a choice needs at least one option", pattern);
      items.push({ kind: "choice", options, text, optional });
    } else if (text.includes(",")) {
      throw new PatternError("spaces not allowed in multiple choice", pattern);
    } else {
      const key = firstWord(text);
      if (key === "") throw new PatternError("an argument needs a name", pattern);
      items.push({ kind: list ? "list" : "string", key, text, optional });
    }
  }
  return items;
}

/**
 * Prints a parsed pattern the way minimega's help does: a one-option choice prints as its word.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatPattern, parsePattern } from "labwire/cli";
 * assert.equal(formatPattern(parsePattern("vlans <add,> <alias> <vlan>")), "vlans add <alias> <vlan>");
 * ```
 */
export function formatPattern(items: readonly PatternItem[]): string {
  return items.map((item) => {
    switch (item.kind) {
      case "literal":
        return item.text;
      case "string":
        return item.optional ? `[${item.text}]` : `<${item.text}>`;
      case "choice":
        if (item.optional) return `[${item.text}]`;
        return item.options.length === 1 ? item.options[0]! : `<${item.text}>`;
      case "list":
        return item.optional ? `[${item.text}]...` : `<${item.text}>...`;
      case "command":
        return `(${item.text})`;
      default: {
        const never: never = item;
        throw new TypeError(`Cannot format pattern item: unknown kind ${JSON.stringify(never)}`);
      }
    }
  }).join(" ");
}

function firstWord(text: string): string {
  return text.trim().split(/\s+/)[0] ?? "";
}
