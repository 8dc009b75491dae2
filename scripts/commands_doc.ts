/**
 * Writes docs/commands.md from the command registry: every command's usage and help, as `help <command>`
 * prints them. `deno run -A scripts/commands_doc.ts` rewrites the file; `--check` exits 1 if it is stale
 * (tests/docs.test.ts runs that check).
 *
 * @module
 */

import fs from "node:fs";
import path from "node:path";
import process from "node:process";
import { usageLines } from "../lib/cli/registry.ts";
import { createRegistry } from "../lib/commands/registry.ts";

/** The text of docs/commands.md. */
export function commandsDoc(): string {
  const handlers = [...createRegistry().handlers].sort((a, b) => {
    const x = a.patterns[0]!;
    const y = b.patterns[0]!;
    return x < y ? -1 : x > y ? 1 : 0;
  });
  const sections = handlers.map((h) => {
    const usage = usageLines(h).map((u) => `    ${u}`).join("\n");
    const long = (h.helpLong ?? "") === "" ? h.helpShort : h.helpLong!;
    return `## ${usageLines(h)[0]}\n\n${h.helpShort}.\n\n${usage}\n\n${indent(long)}\n`;
  });
  return `# labwire commands

Every command labwire knows, with its usage and help as \`help <command>\` prints them. Any unique prefix of a
command's words works: \`vm config net\` is \`vm config networks\`. Generated from the command registry by
\`deno run -A scripts/commands_doc.ts\`; do not edit by hand.

Patterns: \`<arg>\` is required, \`[arg]\` optional, \`<a,b>\` a choice, \`...\` a list, \`(command)\` another command.

${sections.join("\n")}`;
}

function indent(text: string): string {
  return text.split("\n").map((l) => (l === "" ? "" : `    ${l.replaceAll("\t", "    ")}`)).join("\n");
}

if (import.meta.main) {
  const file = path.join(import.meta.dirname!, "..", "docs", "commands.md");
  const text = commandsDoc();
  if (process.argv.includes("--check")) {
    const current = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "";
    if (current !== text) {
      process.stderr.write("docs/commands.md is stale: run deno run -A scripts/commands_doc.ts\n");
      process.exitCode = 1;
    }
  } else {
    fs.writeFileSync(file, text);
  }
}
