// Runtime-neutral.
/**
 * Running a script of command lines, plainly or as a transcript in minimega's minitest format: each
 * line echoed as `## <line>` (a blank line as a blank line), then its output, errors as `E: <message>`.
 *
 * @module
 */

import type { LineResult } from "./interpreter.ts";

/** Anything that runs one command line and never throws, like a typed lab's `execute`. */
export interface LineExecutor {
  /** Runs one line. */
  execute(line: string): Promise<LineResult>;
}

/** Options for {@linkcode runScript}. */
export interface RunScriptOptions {
  /** Write a transcript (and go on after errors). @default {false} */
  transcript?: boolean;
  /** Go on after a failed command. @default {false} */
  keepGoing?: boolean;
  /** Receives standard output, a line at a time, each ending in "\n". */
  stdout: (text: string) => void;
  /** Receives error lines (`E: ...`) when not writing a transcript. */
  stderr: (text: string) => void;
}

/**
 * Runs lines one after another.
 *
 * @returns Whether every command succeeded.
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { Lab } from "labwire";
 * import { runScript } from "labwire/cli";
 * await using lab = await Lab.open();
 * let out = "";
 * const ok = await runScript(lab, ["vlans add foo 200", "vlans add foo 201"], {
 *   transcript: true,
 *   stdout: (s) => out += s,
 *   stderr: () => {},
 * });
 * assert.equal(ok, false);
 * assert.equal(out, "## vlans add foo 200\n## vlans add foo 201\nE: alias already in use\n");
 * ```
 */
export async function runScript(
  executor: LineExecutor,
  lines: Iterable<string>,
  options: RunScriptOptions,
): Promise<boolean> {
  const { transcript = false, keepGoing = false, stdout, stderr } = options;
  let ok = true;
  for (const line of lines) {
    if (transcript) stdout(line.trim() === "" ? "\n" : `## ${line.trimEnd()}\n`);
    const { output, errors } = await executor.execute(line);
    if (output !== "") stdout(`${output}\n`);
    for (const error of errors) (transcript ? stdout : stderr)(`E: ${error}\n`);
    if (errors.length > 0) {
      ok = false;
      if (!transcript && !keepGoing) return false;
    }
  }
  return ok;
}
