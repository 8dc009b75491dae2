/**
 * iproute2 in batches: many `ip` commands (links, namespaces, addresses, neighbour tables) run by one
 * `ip -batch -` process reading them from standard input, instead of one process each. Bringing up 200
 * container VMs' NICs costs a handful of `ip` processes this way, not a thousand.
 *
 * Every process starts through `exec` (lib/exec.ts); with `--trace`, the batch's lines are shown too.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { FakeRunner } from "labwire/testing";
 * import { createExec, IpBatch } from "labwire/ovs";
 * const runner = new FakeRunner().on("ip", () => ({}));
 * await new IpBatch({ exec: createExec({ runner }) })
 *   .add("netns", "add", "lab-a")
 *   .add("link", "set", "dev", "mega_tap0", "up")
 *   .run();
 * assert.deepEqual(runner.calls, [["ip", "-batch", "-"]]);
 * ```
 *
 * @module
 */

import { type Cmd, createExec } from "../exec.ts";

/** Options for {@linkcode IpBatch}. */
export interface IpBatchOptions {
  /** Runs `ip`. @default {createExec()} */
  exec?: (program: string) => Cmd;
  /** Run the batch inside this network namespace (`ip -n NS -batch -`). */
  namespace?: string;
  /**
   * Go on after a failed line (`ip -force`), for removals: a device or namespace that is gone already is
   * not an error then. @default {false}
   */
  force?: boolean;
}

/** A line of a batch that `ip` refused. */
export class IpBatchError extends Error {
  /** `"IpBatchError"`. */
  override name = "IpBatchError";
  /** The refused lines, as `ip` words, with what `ip` said of each. */
  readonly failures: readonly { readonly line: readonly string[]; readonly message: string }[];

  /** Makes the error; its message names the first refused line and what `ip` said. */
  constructor(failures: readonly { line: readonly string[]; message: string }[], namespace?: string) {
    const first = failures[0];
    const where = namespace === undefined ? "" : ` in network namespace ${namespace}`;
    const more = failures.length > 1 ? ` (and ${failures.length - 1} more)` : "";
    super(
      first === undefined
        ? `Cannot run ip -batch${where}: it failed without saying why`
        : `Cannot run "ip ${first.line.join(" ")}"${where}: ${first.message}${more}`,
    );
    this.failures = failures.map((f) => ({ line: [...f.line], message: f.message }));
  }
}

/** Characters `ip -batch` would split or misread in a word. */
const UNSAFE_WORD = /[\s"'\\#]/;

/**
 * `ip` commands collected with {@linkcode IpBatch.add} and run by one `ip -batch -` process. Lines run
 * in order; without `force`, the first refused line stops the batch (the lines before it stay done).
 */
export class IpBatch {
  readonly #exec: (program: string) => Cmd;
  readonly #namespace: string | undefined;
  readonly #force: boolean;
  readonly #lines: string[][] = [];

  /** Makes an empty batch. */
  constructor(options: IpBatchOptions = {}) {
    this.#exec = options.exec ?? createExec();
    this.#namespace = options.namespace;
    this.#force = options.force ?? false;
  }

  /**
   * Adds one command: `ip`'s words without `ip` (`"link", "set", "dev", "x", "up"`).
   *
   * @throws {TypeError} For an empty command, or a word with white space, quotes, `\` or `#` (batch
   * lines are split on white space).
   */
  add(...words: string[]): this {
    if (words.length === 0) throw new TypeError("Cannot add command to ip batch as it is empty");
    const bad = words.find((w) => w === "" || UNSAFE_WORD.test(w));
    if (bad !== undefined) {
      throw new TypeError(
        `Cannot add command to ip batch as a word is empty or has spaces or quotes: '${bad}'`,
      );
    }
    this.#lines.push(words);
    return this;
  }

  /** How many commands were added. */
  get size(): number {
    return this.#lines.length;
  }

  /** The batch's text, one command a line. */
  get text(): string {
    return this.#lines.map((l) => `${l.join(" ")}\n`).join("");
  }

  /**
   * Runs the batch (nothing when it is empty).
   *
   * @throws {IpBatchError} Naming the first line `ip` refused and what it said.
   * @throws {ExecError} When `ip` cannot be run at all (not installed).
   */
  async run(): Promise<void> {
    if (this.#lines.length === 0) return;
    const argv = [
      ...(this.#namespace === undefined ? [] : ["-n", this.#namespace]),
      ...(this.#force ? ["-force"] : []),
      "-batch",
      "-",
    ];
    const r = await this.#exec("ip").args(...argv).stdin(this.text).timeout(60_000 + 50 * this.#lines.length)
      .noThrow().run();
    if (r.code === 0) return;
    throw new IpBatchError(parseFailures(r.stderr, this.#lines), this.#namespace);
  }
}

/**
 * Reads `ip -batch`'s error output: each refused line gives its message lines, then
 * `Command failed -:N` (N counted from 1).
 */
function parseFailures(output: string, lines: readonly string[][]): { line: string[]; message: string }[] {
  const failures: { line: string[]; message: string }[] = [];
  let said: string[] = [];
  for (const raw of output.split("\n")) {
    const text = raw.trim();
    if (text === "") continue;
    const m = /^Command failed (?:-|\S+):(\d+)$/.exec(text);
    if (m === null) {
      said.push(text);
      continue;
    }
    const line = lines[Number(m[1]) - 1] ?? [];
    failures.push({ line: [...line], message: said.join("; ") || "ip gave no reason" });
    said = [];
  }
  if (failures.length === 0 && said.length > 0) failures.push({ line: [], message: said.join("; ") });
  return failures;
}
