// Runtime-neutral.
/**
 * Running a script of command lines, plainly or as a transcript in minimega's minitest format: each
 * line echoed as `## <line>` (a blank line as a blank line), then its output, errors as `E: <message>`.
 *
 * @module
 */

import { setImmediate } from "node:timers";
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
  /**
   * Stops the run once aborted, after the line running then. Lines that never wait (the simulator's)
   * still let the event loop run about every {@linkcode YIELD_EVERY_MS} ms (the clock is read every 16
   * lines), so that a signal handler or a timer can abort the run.
   */
  signal?: AbortSignal;
}

/** At most how long {@linkcode runScript} runs lines without letting the event loop run. */
export const YIELD_EVERY_MS = 50;

/**
 * Runs lines one after another, from an array or as they arrive (an async iterable), until the lines
 * end, a command fails (without `transcript` or `keepGoing`), or `signal` is aborted.
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
  lines: Iterable<string> | AsyncIterable<string>,
  options: RunScriptOptions,
): Promise<boolean> {
  const { transcript = false, keepGoing = false, stdout, stderr, signal } = options;
  let ok = true;
  if (signal?.aborted) return ok;
  // one loop for both kinds of lines, with no extra promise per line: the simulator runs a million a second
  const arriving = (lines as Partial<AsyncIterable<string>>)[Symbol.asyncIterator] !== undefined;
  const iterator = arriving
    ? (lines as AsyncIterable<string>)[Symbol.asyncIterator]()
    : (lines as Iterable<string>)[Symbol.iterator]();
  let due = Date.now() + YIELD_EVERY_MS;
  let done = false;
  let count = 0;
  try {
    for (;;) {
      const next = arriving ? await iterator.next() : iterator.next() as IteratorResult<string>;
      if (next.done) {
        done = true;
        break;
      }
      const line = next.value;
      if (transcript) stdout(line.trim() === "" ? "\n" : `## ${line.trimEnd()}\n`);
      const { output, errors } = await executor.execute(line);
      if (output !== "") stdout(`${output}\n`);
      for (const error of errors) (transcript ? stdout : stderr)(`E: ${error}\n`);
      if (errors.length > 0) {
        ok = false;
        if (!transcript && !keepGoing) break;
      }
      // the clock costs about a tenth of a simulator line (Deno): read it every 16 lines
      if ((++count & 15) === 0 && Date.now() >= due) {
        // awaiting a promise that is already resolved runs no timer, no I/O and no signal handler;
        // setImmediate lets them run, in microseconds (setTimeout(0) takes a millisecond or two)
        await new Promise((resolve) => setImmediate(resolve));
        due = Date.now() + YIELD_EVERY_MS;
      }
      if (signal?.aborted) break;
    }
  } finally {
    // lines left unread: let their source close (standard input stops being read)
    if (!done) await iterator.return?.();
  }
  return ok;
}
