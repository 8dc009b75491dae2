// Runtime-neutral.
/**
 * `help [command]...`: the list of every command with its one-line help, or one command's usage and
 * long help, as minimega prints them.
 *
 * @module
 */

import type { Handler, Registry, SimpleHandler } from "./registry.ts";
import { usageLines } from "./registry.ts";

/**
 * Makes the `help` handler for a registry (register it in the same registry).
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { helpHandler, Interpreter, Registry } from "labwire/cli";
 * const registry = new Registry<null>();
 * registry.register(helpHandler(registry));
 * const out = await new Interpreter(registry, null).execute("help help");
 * assert.match(out.output, /^Usage:\n\thelp \[command\]\.\.\./);
 * ```
 */
export function helpHandler<Ctx>(registry: Registry<Ctx>): SimpleHandler<Ctx> {
  return {
    patterns: ["help [command]..."],
    helpShort: "show command help",
    helpLong: `Show help on a command. If called with no arguments, show a summary of all commands.
Commands may be given by any unique prefix, e.g. "help vm config net".`,
    run(cmd) {
      const words = cmd.lists.get("command") ?? [];
      if (words.length === 0) return helpSummary(registry.handlers);
      const matches = registry.help(words);
      if (matches.length === 0) return `no help entry for \`${words.join(" ")}\``;
      if (matches.length === 1) return helpLong(matches[0]!);
      const withLong = matches.filter((h) => (h.helpLong ?? "") !== "");
      if (withLong.length === 1) {
        const patterns = matches.flatMap((h) => h.patterns);
        return helpLong({ ...withLong[0]!, patterns } as Handler<Ctx>);
      }
      return helpSummary(matches);
    },
  };
}

/** `Usage:` and each pattern on its own tab-indented line, a blank line, then the long help. */
export function helpLong<Ctx>(handler: Handler<Ctx>): string {
  const usage = usageLines(handler).map((u) => `\t${u}\n`).join("");
  const text = (handler.helpLong ?? "") !== "" ? handler.helpLong! : handler.helpShort;
  return `Usage:\n${usage}\n${text}`;
}

/** One line per pattern, sorted: the pattern, then `: ` and the handler's one-line help. */
export function helpSummary<Ctx>(handlers: readonly Handler<Ctx>[]): string {
  const lines = handlers.flatMap((h) => h.patterns.map((p) => [p, h.helpShort] as const));
  lines.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const width = Math.max(...lines.map(([p]) => p.length));
  const body = lines.map(([p, short]) => `${p.padEnd(width)} : ${short}`).join("\n");
  return `Display help on a command. Here is a list of commands:\n${body}`;
}
