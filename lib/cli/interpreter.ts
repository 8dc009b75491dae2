// Runtime-neutral.
/**
 * The interpreter: runs one command line at a time against a {@linkcode Registry} and a context,
 * with minimega's rules for comments, quoting, prefixes and output; every failure becomes an error
 * message, never an exception.
 *
 * @module
 */

import { lexInput } from "./lex.ts";
import { formatPattern, parsePattern } from "./pattern.ts";
import {
  type Command,
  DEFAULT_MAX_NESTING,
  type Engine,
  type Handler,
  type Output,
  type Registry,
} from "./registry.ts";
import {
  DEFAULT_FLAGS,
  type Flags,
  formatResponses,
  makeResponse,
  type Response,
  responseErrors,
} from "./response.ts";

/** Options for {@linkcode Interpreter}. */
export interface InterpreterOptions {
  /** The host name responses carry (`.annotate true` shows it). @default {"localhost"} */
  host?: string;
  /** The longest line accepted, in UTF-16 code units. @default {65536} */
  maxLineLength?: number;
  /** The most commands a line may nest (`namespace x .filter a=b vlans` nests two). @default {100} */
  maxNesting?: number;
  /** The session's output flags to start with. @default {DEFAULT_FLAGS} */
  flags?: Flags;
  /** Called with every error a command throws, e.g. to print its stack trace under `--trace`. */
  onError?: (error: Error) => void;
}

/** What one command line produced. */
export interface LineResult {
  /** The formatted output, "" when there is none. */
  readonly output: string;
  /** The error messages, in order; empty when the command succeeded. */
  readonly errors: readonly string[];
}

/** Runs command lines. */
export class Interpreter<Ctx> implements Engine<Ctx> {
  readonly host: string;
  readonly flags: Flags;
  #registry: Registry<Ctx>;
  #context: Ctx;
  #maxLineLength: number;
  #maxNesting: number;
  #onError: ((error: Error) => void) | undefined;

  /** Makes an interpreter for the commands of `registry`, run with `context`. */
  constructor(registry: Registry<Ctx>, context: Ctx, options: InterpreterOptions = {}) {
    const {
      host = "localhost",
      maxLineLength = 65536,
      maxNesting = DEFAULT_MAX_NESTING,
      flags = DEFAULT_FLAGS,
      onError,
    } = options;
    this.#registry = registry;
    this.#context = context;
    this.host = host;
    this.flags = { ...flags };
    this.#maxLineLength = maxLineLength;
    this.#maxNesting = maxNesting;
    this.#onError = onError;
  }

  /**
   * Runs one command line.
   *
   * @param line The line, without its line break.
   * @returns Its output and errors.
   */
  async execute(line: string): Promise<LineResult> {
    return await this.executeCompiled(this.compile(line));
  }

  /**
   * Runs what {@linkcode Interpreter.compile} made of a line: a command, nothing, or an error.
   *
   * @returns Its output and errors.
   */
  async executeCompiled(compiled: Command<Ctx> | string | undefined): Promise<LineResult> {
    if (compiled === undefined) return { output: "", errors: [] };
    if (typeof compiled === "string") return { output: "", errors: [compiled] };
    const responses = await this.run(compiled);
    return { output: formatResponses(responses, this.flags), errors: responseErrors(responses) };
  }

  /**
   * Checks and matches a line without running it.
   *
   * @returns The command; `undefined` for a blank line or a comment; an error message otherwise.
   */
  compile(line: string): Command<Ctx> | string | undefined {
    const input = line.trim();
    if (input === "") return undefined;
    const bad = checkLine(input, this.#maxLineLength);
    if (bad !== undefined) return bad;
    let words: string[];
    try {
      words = lexInput(input);
    } catch (error) {
      return (error as Error).message;
    }
    if (input.startsWith("#") || words.length === 0) return undefined;
    const result = this.#registry.compile(words, input, { maxNesting: this.#maxNesting });
    if (result.ok) return result.command;
    const failure = result.failure;
    if (failure.kind === "too-deep") {
      return `Cannot run command: the line nests more than ${failure.maxNesting} commands`;
    }
    if (failure.kind === "ambiguous") {
      return `ambiguous command: \`${input}\`: \`${failure.word}\` could be ${
        failure.candidates.join(" or ")
      }`;
    }
    return `invalid command: \`${input}\`${this.#usageHint(words)}`;
  }

  /** Runs a matched command; errors come back as error responses. */
  async run(cmd: Command<Ctx>): Promise<Response[]> {
    try {
      const handler = cmd.handler;
      if ("runMeta" in handler) return await handler.runMeta(cmd, this.#context, this);
      return [toResponse(this.host, await handler.run(cmd, this.#context))];
    } catch (error) {
      if (!(error instanceof Error)) {
        return [makeResponse(this.host, { error: `internal error: ${String(error)}` })];
      }
      this.#onError?.(error);
      return [makeResponse(this.host, { error: error.message })];
    }
  }

  /** A hint naming the usage of the command the first words point at, if they point at one. */
  #usageHint(words: readonly string[]): string {
    const handlers = new Set<Handler<Ctx>>();
    for (let n = Math.min(words.length, 3); n > 0 && handlers.size === 0; n--) {
      for (const h of this.#registry.help(words.slice(0, n))) handlers.add(h);
      if (handlers.size > 1) return "";
    }
    const handler = [...handlers][0];
    // a builtin or `namespace` takes a command: the mistake may be in that command, so no hint
    if (handler === undefined || handler.patterns.some((p) => p.endsWith("(command)"))) return "";
    const usage = handler.patterns.map((p) => formatPattern(parsePattern(p)));
    return usage.length <= 6 ? `; usage: ${usage.join(" | ")}` : "";
  }
}

function toResponse(host: string, output: Output): Response {
  if (output === undefined) return makeResponse(host);
  if (typeof output === "string") return makeResponse(host, { response: output });
  return makeResponse(host, {
    header: [...output.header],
    tabular: output.rows.map((r) => [...r]),
    ...(output.records === undefined ? {} : { records: output.records }),
  });
}

/**
 * Refuses lines no one types: too long, or holding control characters (binary input).
 *
 * @returns An error message, or undefined if the line is fine.
 */
function checkLine(input: string, max: number): string | undefined {
  if (input.length > max) {
    return `Cannot run command: the line is ${input.length} characters long, more than the ${max} allowed`;
  }
  // deno-lint-ignore no-control-regex
  const control = /[\u0000-\u0008\u000b-\u001f\u007f\ufffd]/.exec(input);
  if (control !== null) {
    const ch = control[0];
    const what = ch === "\ufffd"
      ? "bytes that are not UTF-8"
      : `a control character (0x${ch.charCodeAt(0).toString(16).padStart(2, "0")})`;
    return `Cannot run command: the line has ${what} at column ${control.index + 1}; is this binary input?`;
  }
  return undefined;
}
