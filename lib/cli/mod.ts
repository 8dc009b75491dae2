/**
 * minimega's command language, to embed: the lexer, patterns and their unique-prefix matching, the
 * builtins (`.filter`, `.columns`, `.json`, ...), tables, every command of labwire, and scripts run as
 * transcripts. A typed lab runs lines with `lab.run()`; this entry point is for building on the language
 * itself.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { Lab } from "labwire";
 * import { runScript } from "labwire/cli";
 *
 * await using lab = await Lab.open();
 * let out = "";
 * await runScript(lab, ["vm config net DMZ", "vlans"], { transcript: true, stdout: (s) => out += s, stderr: () => {} });
 * assert.equal(out, "## vm config net DMZ\n## vlans\nalias | vlan\nDMZ   | 101\n");
 * ```
 *
 * @module
 */
export * from "./lex.ts";
export * from "./pattern.ts";
export * from "./registry.ts";
export * from "./response.ts";
export * from "./table.ts";
export * from "./builtins.ts";
export * from "./help.ts";
export * from "./interpreter.ts";
export * from "./script.ts";
export * from "../commands/registry.ts";
export type * from "../commands/session.ts";
export { parseVlanRange } from "../vlans.ts";
export { parseGoInt } from "../go_int.ts";
