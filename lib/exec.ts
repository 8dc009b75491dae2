/**
 * Running external programs: the one place in labwire that spawns processes (DESIGN.md).
 *
 * A program runs from an argv array, never through a shell. Every run has a timeout; a run that outlives it
 * is stopped (SIGTERM, then SIGKILL after a grace period). Standard output is kept whole up to a generous
 * cap; standard error is kept as a bounded tail in a byte ring. Failures throw {@linkcode ExecError},
 * whose message names the command and ends with the stderr tail. Only `node:` builtins are used, so the
 * same code runs under Deno and Bun.
 *
 * Backends take a `Runner` (or the `exec` that {@linkcode createExec} makes) through their options, so
 * tests swap in a {@linkcode FakeRunner}.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { FakeRunner } from "labwire/testing";
 * import { createExec } from "labwire/ovs";
 * const runner = new FakeRunner().on("ovs-vsctl", () => ({ stdout: "lab0\n" }));
 * const exec = createExec({ runner });
 * assert.equal(await exec("ovs-vsctl").args("--timeout=5", "list-br").text(), "lab0");
 * ```
 *
 * @module
 */

import { Buffer } from "node:buffer";
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { accessSync, constants as fsConstants, statSync } from "node:fs";
import { constants as osConstants } from "node:os";
import path from "node:path";
import process from "node:process";
import { ByteRing } from "./_ring.ts";

/** Bytes of standard error kept (the tail). */
export const STDERR_TAIL_BYTES = 64 * 1024;
/** Default cap on the standard output of one run; a run that prints more fails. */
export const MAX_STDOUT_BYTES = 16 * 1024 * 1024;
/** Milliseconds between the polite signal and SIGKILL when a run is stopped. */
export const KILL_GRACE_MS = 2000;
/** The exit code reported for a run stopped by its timeout, as GNU `timeout` does. */
export const TIMEOUT_EXIT_CODE = 124;
/** The exit code reported for a program that could not be found, as shells do. */
export const NOT_FOUND_EXIT_CODE = 127;
/** Lines of the stderr (or stdout) tail that an {@linkcode ExecError} message shows. */
const MESSAGE_TAIL_LINES = 20;
/** Timers cannot wait longer than this; longer timeouts mean no timeout. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** A signal that stops a run. */
export type KillSignal = "SIGTERM" | "SIGINT" | "SIGHUP" | "SIGQUIT" | "SIGKILL";

/** What one run of a program produced. */
export interface RunResult {
  /**
   * The exit code: 128 + n when a signal n ended the process, {@linkcode TIMEOUT_EXIT_CODE} when the
   * timeout stopped it.
   */
  code: number;
  /** Everything the program wrote to standard output, decoded as UTF-8. */
  stdout: string;
  /** The last {@linkcode STDERR_TAIL_BYTES} bytes the program wrote to standard error. */
  stderr: string;
  /** Whether the timeout stopped the program. @default {false} */
  timedOut?: boolean;
  /** Whether {@linkcode RunOptions.signal} stopped the program. @default {false} */
  aborted?: boolean;
  /** The signal that ended the process, if one did. */
  signal?: string;
}

/** How to run a program. */
export interface RunOptions {
  /** Stop the program after this many milliseconds; `Infinity` for never. */
  timeoutMs: number;
  /** Variables added to (or overriding) this process's environment. @default {{}} */
  env?: Record<string, string>;
  /** The working folder. @default {this process's} */
  cwd?: string;
  /** Text written to the program's standard input; without it, standard input is empty. */
  stdin?: string;
  /** Stops the program when aborted; the run then resolves with `aborted: true`. */
  signal?: AbortSignal;
  /** The signal that stops the program on timeout or abort; SIGKILL follows after a grace period. @default {"SIGTERM"} */
  killSignal?: KillSignal;
  /** Standard output beyond this many bytes fails the run. @default {MAX_STDOUT_BYTES} */
  maxStdoutBytes?: number;
  /** Sees standard error as it comes, decoded as UTF-8 (a line may arrive in pieces). */
  onStderr?: (text: string) => void;
}

/**
 * Runs programs. A run resolves whenever the program started, whatever its exit code, and rejects with
 * an {@linkcode ExecError} when it could not start (`notFound` for a missing program) or printed more
 * than `maxStdoutBytes`.
 */
export interface Runner {
  /** Runs `argv[0]` with the arguments `argv.slice(1)`. */
  run(argv: readonly string[], options: RunOptions): Promise<RunResult>;
}

/** What {@linkcode ExecError} is made from. */
export interface ExecErrorInit {
  /** The command. */
  argv: readonly string[];
  /** Its exit code, as in {@linkcode RunResult.code}. */
  code: number;
  /** Standard output. @default {""} */
  stdout?: string;
  /** The stderr tail. @default {""} */
  stderr?: string;
  /** Whether the timeout stopped the program. @default {false} */
  timedOut?: boolean;
  /** The timeout, for the message. */
  timeoutMs?: number;
  /** Whether an abort signal stopped the program. @default {false} */
  aborted?: boolean;
  /** Whether the program was not found. @default {false} */
  notFound?: boolean;
  /** The signal that ended the process. */
  signal?: string;
  /** The system error code when the program could not start, e.g. `"ENOENT"`. */
  errno?: string;
  /** Text after `Cannot run "...": `; derived from the fields when missing. */
  reason?: string;
  /** The underlying error. */
  cause?: unknown;
}

/**
 * A program that could not run, failed, or was stopped. The message is
 * `Cannot run "<argv>": <reason>`, then a blank line and the last lines of standard error (of
 * standard output when standard error is empty).
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { ExecError } from "labwire/ovs";
 * const error = new ExecError({ argv: ["ovs-vsctl", "--timeout=5", "add-br", "lab0"], code: 1, stderr: "ovs-vsctl: oops\n" });
 * assert.equal(error.message, 'Cannot run "ovs-vsctl --timeout=5 add-br lab0": exited with code 1\n\novs-vsctl: oops');
 * ```
 */
export class ExecError extends Error {
  /** `"ExecError"`. */
  override name = "ExecError";
  /** The command that was run. */
  readonly argv: readonly string[];
  /** The exit code ({@linkcode NOT_FOUND_EXIT_CODE} when the program was not found). */
  readonly code: number;
  /** Whether the timeout stopped the program. */
  readonly timedOut: boolean;
  /** Whether an abort signal stopped the program. */
  readonly aborted: boolean;
  /** Whether the program was not found. */
  readonly notFound: boolean;
  /** The signal that ended the process, if one did. */
  readonly signal: string | undefined;
  /** The system error code when the program could not start (`"ENOENT"`, `"EACCES"`). */
  readonly errno: string | undefined;
  /** Standard output. */
  readonly stdout: string;
  /** The standard error tail. */
  readonly stderr: string;

  /** Makes the error and its message from `init`. */
  constructor(init: ExecErrorInit) {
    const { argv, code, stdout = "", stderr = "", timedOut = false, aborted = false, notFound = false } =
      init;
    const reason = init.reason ?? defaultReason(init);
    const tail = messageTail(stderr.trim() === "" ? stdout : stderr);
    super(`Cannot run "${describeArgv(argv)}": ${reason}${tail === "" ? "" : `\n\n${tail}`}`, {
      ...(init.cause === undefined ? {} : { cause: init.cause }),
    });
    this.argv = [...argv];
    this.code = code;
    this.timedOut = timedOut;
    this.aborted = aborted;
    this.notFound = notFound;
    this.signal = init.signal;
    this.errno = init.errno;
    this.stdout = stdout;
    this.stderr = stderr;
  }
}

function defaultReason(init: ExecErrorInit): string {
  if (init.notFound) return "program not found";
  if (init.timedOut) {
    return init.timeoutMs === undefined ? "timed out" : `timed out after ${init.timeoutMs} ms`;
  }
  if (init.aborted) return "aborted";
  if (init.signal !== undefined) return `killed by signal ${init.signal}`;
  return `exited with code ${init.code}`;
}

function messageTail(text: string): string {
  const lines = text.trimEnd().split("\n");
  while (lines.length > 0 && lines[0]!.trim() === "") lines.shift();
  if (lines.length <= MESSAGE_TAIL_LINES) return lines.join("\n");
  return ["...", ...lines.slice(-MESSAGE_TAIL_LINES)].join("\n");
}

/** Characters that never need quoting in a POSIX shell. */
const SHELL_SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/;
/** What makes an argument ambiguous in an error message: blanks and quotes. */
const MESSAGE_UNSAFE = /[\s'"\\]/;

function quoteArg(arg: string): string {
  return `'${arg.replaceAll("'", `'\\''`)}'`;
}

/** How many arguments an error message shows before it counts the rest. */
const MESSAGE_ARGS = 16;

/**
 * Joins argv for an error message, quoting only the arguments that have blanks or quotes; a command of
 * a whole step (an `ovs-vsctl` of 4,000 ports) shows its first arguments and how many more there are.
 */
function describeArgv(argv: readonly string[]): string {
  const shown = argv.slice(0, MESSAGE_ARGS).map((a) => a === "" || MESSAGE_UNSAFE.test(a) ? quoteArg(a) : a);
  const more = argv.length - shown.length;
  return more > 0 ? `${shown.join(" ")} ... (${more} more arguments)` : shown.join(" ");
}

/**
 * Joins argv into one line a POSIX shell would split back into the same argv, for display only
 * (`--trace`). labwire itself never runs a shell.
 *
 * @param argv The command.
 * @returns The words, single-quoted where a shell would otherwise change them.
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatArgv } from "labwire/ovs";
 * assert.equal(formatArgv(["tcpdump", "-w", "a.pcap", "vlan 100 and icmp"]), "tcpdump -w a.pcap 'vlan 100 and icmp'");
 * assert.equal(formatArgv(["echo", "it's"]), "echo 'it'\\''s'");
 * ```
 */
export function formatArgv(argv: readonly string[]): string {
  return argv.map((a) => SHELL_SAFE.test(a) ? a : quoteArg(a)).join(" ");
}

/** The error a runner gives for a program it cannot find. */
function notFoundError(argv: readonly string[], cause?: unknown): ExecError {
  return new ExecError({
    argv,
    code: NOT_FOUND_EXIT_CODE,
    notFound: true,
    errno: "ENOENT",
    ...(cause === undefined ? {} : { cause }),
  });
}

function spawnError(argv: readonly string[], error: unknown): ExecError {
  const errno = (error as { code?: unknown } | null)?.code;
  if (errno === "ENOENT") return notFoundError(argv, error);
  const reason = errno === "EACCES"
    ? "permission denied"
    : `cannot start: ${error instanceof Error ? error.message : String(error)}`;
  return new ExecError({
    argv,
    code: NOT_FOUND_EXIT_CODE - 1, // 126, as shells report a program they found but cannot execute
    reason,
    ...(typeof errno === "string" ? { errno } : {}),
    cause: error,
  });
}

/**
 * Sends `signal` to a child that is still running. `process.kill(pid)` rather than `child.kill()`:
 * Deno's `child.kill()` makes the child's exit report the signal sent even when the child caught it
 * and exited on its own (tcpdump exits 0 after SIGINT), and the exit code is what says a capture
 * was flushed.
 */
function signalChild(child: ChildProcess, signal: KillSignal): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(child.pid, signal);
  } catch {
    // ESRCH: it exited meanwhile
  }
}

function signalNumber(signal: string): number {
  return (osConstants.signals as Record<string, number | undefined>)[signal] ?? 0;
}

/** Runs argv with node:child_process; see {@linkcode nodeRunner}. */
function runNode(argv: readonly string[], options: RunOptions): Promise<RunResult> {
  const {
    timeoutMs,
    env = {},
    stdin,
    signal,
    killSignal = "SIGTERM",
    maxStdoutBytes = MAX_STDOUT_BYTES,
    onStderr,
    cwd,
  } = options;
  const program = argv[0];
  if (program === undefined || program === "") {
    return Promise.reject(new TypeError("Cannot run command as argv is empty"));
  }
  if (signal?.aborted) {
    return Promise.resolve({ code: TIMEOUT_EXIT_CODE, stdout: "", stderr: "", aborted: true });
  }
  return new Promise<RunResult>((resolve, reject) => {
    let child: ChildProcess;
    try {
      child = spawn(program, argv.slice(1), {
        stdio: [stdin === undefined ? "ignore" : "pipe", "pipe", "pipe"],
        env: { ...process.env, ...env },
        ...(cwd === undefined ? {} : { cwd }),
      });
    } catch (error) {
      reject(spawnError(argv, error));
      return;
    }
    const stdoutChunks: Uint8Array[] = [];
    let stdoutBytes = 0;
    let overflow = false;
    const stderrTail = new ByteRing(STDERR_TAIL_BYTES);
    let stopped: "timeout" | "abort" | "overflow" | undefined;
    let done = false;
    const timers: ReturnType<typeof setTimeout>[] = [];

    function finish(code: number | null, sig: string | null, error?: ExecError): void {
      if (done) return;
      done = true;
      for (const t of timers) clearTimeout(t);
      signal?.removeEventListener("abort", onAbort);
      if (error !== undefined) return reject(error);
      const exitCode = code ?? (sig === null ? 1 : 128 + signalNumber(sig));
      const stdout = Buffer.concat(stdoutChunks).toString("utf8");
      const stderr = stderrTail.text();
      if (overflow) {
        const reason = `printed more than ${maxStdoutBytes} bytes`;
        return reject(new ExecError({ argv, code: exitCode, stdout, stderr, reason }));
      }
      const result: RunResult = { code: exitCode, stdout, stderr };
      if (sig !== null) result.signal = sig;
      if (stopped === "timeout") {
        result.code = TIMEOUT_EXIT_CODE;
        result.timedOut = true;
      } else if (stopped === "abort") {
        result.aborted = true;
      }
      resolve(result);
    }

    // Stops the child: `killSignal`, SIGKILL after the grace period, and if the pipes still stay open
    // (a grandchild holds them), stops waiting for them shortly after.
    function stop(why: "timeout" | "abort" | "overflow"): void {
      if (done || stopped !== undefined) return;
      stopped = why;
      function forceFinish(): void {
        child.stdout?.destroy();
        child.stderr?.destroy();
        finish(child.exitCode, child.signalCode);
      }
      if (child.exitCode !== null || child.signalCode !== null) return forceFinish();
      signalChild(child, why === "overflow" ? "SIGKILL" : killSignal);
      timers.push(setTimeout(() => {
        signalChild(child, "SIGKILL");
        timers.push(setTimeout(forceFinish, 500));
      }, KILL_GRACE_MS));
    }

    function onAbort(): void {
      stop("abort");
    }

    child.on("error", (error) => {
      // Spawn failures come here before any pid exists; a failed kill of a running child does too, and
      // is left to the timers.
      if (child.pid === undefined) finish(null, null, spawnError(argv, error));
    });
    child.on("close", (code: number | null, sig: string | null) => finish(code, sig));
    child.stdout!.on("data", (chunk: Uint8Array) => {
      if (overflow) return;
      stdoutBytes += chunk.length;
      if (stdoutBytes > maxStdoutBytes) {
        overflow = true;
        stdoutChunks.length = 0;
        stop("overflow");
        return;
      }
      stdoutChunks.push(chunk);
    });
    const stderrText = onStderr === undefined ? undefined : new TextDecoder();
    child.stderr!.on("data", (chunk: Uint8Array) => {
      stderrTail.write(chunk);
      if (stderrText !== undefined) onStderr!(stderrText.decode(chunk, { stream: true }));
    });
    if (child.stdin) {
      child.stdin.on("error", () => {}); // EPIPE when the program exits without reading its input
      child.stdin.end(stdin);
    }
    if (Number.isFinite(timeoutMs) && timeoutMs <= MAX_TIMER_MS) {
      timers.push(setTimeout(() => stop("timeout"), Math.max(0, timeoutMs)));
    }
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * The real {@linkcode Runner}: `node:child_process.spawn(argv[0], argv.slice(1))` with no shell, the
 * parent's environment plus `env`, and standard input empty unless `stdin` is given. Works under Deno,
 * Bun and Node.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { nodeRunner } from "labwire/ovs";
 * const result = await nodeRunner.run(["sh", "-c", "echo hi; exit 3"], { timeoutMs: 5000 });
 * assert.deepEqual([result.code, result.stdout], [3, "hi\n"]);
 * ```
 */
export const nodeRunner: Runner = { run: runNode };

/** A fake program for {@linkcode FakeRunner}: what it returns is completed with `code: 0` and empty output. */
export type FakeProgram = (
  argv: readonly string[],
  options: RunOptions,
) => Partial<RunResult> | Promise<Partial<RunResult>>;

/**
 * A {@linkcode Runner} for tests: programs are functions registered with {@linkcode FakeRunner.on},
 * and every call is recorded. An unregistered program fails the way a missing one does with
 * {@linkcode nodeRunner}: an {@linkcode ExecError} with `notFound: true` and code 127.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { FakeRunner } from "labwire/testing";
 * import { createExec } from "labwire/ovs";
 * const runner = new FakeRunner().on("ovs-vsctl", (argv) => argv.includes("br-exists") ? { code: 2 } : {});
 * const exec = createExec({ runner });
 * assert.equal((await exec("ovs-vsctl").args("br-exists", "lab0").noThrow(2).run()).code, 2);
 * assert.deepEqual(runner.calls, [["ovs-vsctl", "br-exists", "lab0"]]);
 * await assert.rejects(exec("qemu-img").run(), { notFound: true, code: 127 });
 * ```
 */
export class FakeRunner implements Runner {
  /** Every argv run so far, in order, unregistered programs included. */
  readonly calls: string[][] = [];
  #programs = new Map<string, FakeProgram>();

  /**
   * Registers (or replaces) the fake for `program`, matched against `argv[0]` exactly.
   *
   * @throws {TypeError} If `program` is empty.
   */
  on(program: string, fake: FakeProgram): this {
    if (program === "") throw new TypeError("Cannot register fake program as its name is empty");
    this.#programs.set(program, fake);
    return this;
  }

  /** Runs the fake registered for `argv[0]`. */
  async run(argv: readonly string[], options: RunOptions): Promise<RunResult> {
    this.calls.push([...argv]);
    const fake = this.#programs.get(argv[0] ?? "");
    if (fake === undefined) throw notFoundError(argv);
    const partial = await fake(argv, options);
    if (partial.stderr !== undefined && partial.stderr !== "") options.onStderr?.(partial.stderr);
    return { code: 0, stdout: "", stderr: "", ...partial };
  }
}

/** Options for {@linkcode createExec}. */
export interface ExecOptions {
  /** Runs the commands. @default {nodeRunner} */
  runner?: Runner;
  /**
   * Called with every argv (and the text it is given on standard input, if any) just before it runs;
   * `--trace` prints `+ ${formatArgv(argv)}`, then each line of a batch's input as `+ | line`.
   */
  trace?: (argv: readonly string[], stdin?: string) => void;
  /** The timeout of commands that set none. @default {60000} */
  defaultTimeoutMs?: number;
}

interface CmdState {
  readonly runner: Runner;
  readonly trace: ((argv: readonly string[], stdin?: string) => void) | undefined;
  readonly argv: readonly string[];
  readonly timeoutMs: number;
  readonly env: Readonly<Record<string, string>>;
  readonly stdin: string | undefined;
  readonly signal: AbortSignal | undefined;
  readonly killSignal: KillSignal;
  readonly onStderr: ((text: string) => void) | undefined;
  readonly cwd: string | undefined;
  /** `false`: every failure throws; `true`: none does; a set: these exit codes do not. */
  readonly noThrow: boolean | ReadonlySet<number>;
  /** The namespace the command runs in ({@linkcode Cmd.inNetns}), if any. */
  readonly netns: string | undefined;
}

function checkTimeout(ms: number, what: string): number {
  if (!(typeof ms === "number" && ms > 0)) {
    throw new RangeError(
      `Cannot set ${what} as it must be a positive number of milliseconds: current value is ${ms}`,
    );
  }
  return ms;
}

/**
 * A command to run: an immutable builder (STYLE R8). Every setter returns a new `Cmd` and leaves this one
 * as it was, so a `Cmd` can serve as a preset. Nothing runs until {@linkcode Cmd.run}, `text()` or
 * `lines()`.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { FakeRunner } from "labwire/testing";
 * import { Cmd } from "labwire/ovs";
 * const runner = new FakeRunner().on("ovs-vsctl", (argv) => ({ stdout: `${argv.length}\n` }));
 * const vsctl = new Cmd("ovs-vsctl", { runner }).args("--timeout=5");
 * assert.equal(await vsctl.args("list-br").text(), "3");
 * assert.deepEqual(vsctl.argv, ["ovs-vsctl", "--timeout=5"]);
 * ```
 */
export class Cmd {
  #state: CmdState;

  /**
   * Makes a command running `program`; {@linkcode createExec} is the usual way.
   *
   * @throws {TypeError} If `program` is empty.
   */
  constructor(program: string, options: ExecOptions = {}) {
    const { runner = nodeRunner, trace, defaultTimeoutMs = 60_000 } = options;
    if (typeof program !== "string" || program === "") {
      throw new TypeError(
        `Cannot make command as 'program' must be a non-empty string: current value is "${program}"`,
      );
    }
    this.#state = {
      runner,
      trace,
      argv: [program],
      timeoutMs: checkTimeout(defaultTimeoutMs, "default timeout"),
      env: {},
      stdin: undefined,
      signal: undefined,
      killSignal: "SIGTERM",
      onStderr: undefined,
      cwd: undefined,
      noThrow: false,
      netns: undefined,
    };
  }

  #with(change: Partial<CmdState>): Cmd {
    const next = new Cmd(this.#state.argv[0]!);
    next.#state = { ...this.#state, ...change };
    return next;
  }

  /** The command so far: program, then arguments (without the `nsenter` of {@linkcode Cmd.inNetns}). */
  get argv(): readonly string[] {
    return this.#state.argv;
  }

  /** The network namespace the command runs in ({@linkcode Cmd.inNetns}), or `undefined` for this process's. */
  get netns(): string | undefined {
    return this.#state.netns;
  }

  /**
   * Runs the command in network namespace `name` (one that `ip netns add` made): the runner is given
   * `nsenter --net=/run/netns/NAME -- ARGV`, which enters only the network namespace, so files, mounts
   * and other namespaces (`ip netns add`, `ip netns exec`) stay this process's, and the PID is the
   * program's own (nsenter execs it). A program nsenter cannot find fails as a missing one does
   * (`notFound`).
   *
   * @throws {TypeError} If `name` is not a namespace name (empty, `.`, `..`, or with a `/`).
   */
  inNetns(name: string): Cmd {
    return this.#with({ netns: checkNetnsName(name) });
  }

  /** Appends arguments. */
  args(...args: string[]): Cmd {
    return this.#with({ argv: [...this.#state.argv, ...args] });
  }

  /**
   * Sets the timeout; `Infinity` for none.
   *
   * @throws {RangeError} If `ms` is not a positive number.
   */
  timeout(ms: number): Cmd {
    return this.#with({ timeoutMs: checkTimeout(ms, "timeout") });
  }

  /** Adds environment variables (on top of this process's environment). */
  env(vars: Readonly<Record<string, string>>): Cmd {
    return this.#with({ env: { ...this.#state.env, ...vars } });
  }

  /** Sets the text written to standard input. */
  stdin(text: string): Cmd {
    return this.#with({ stdin: text });
  }

  /** Stops the program when `signal` aborts. */
  signal(signal: AbortSignal): Cmd {
    return this.#with({ signal });
  }

  /** Sets the signal that stops the program on timeout or abort (SIGINT lets tcpdump flush its pcap). */
  killSignal(signal: KillSignal): Cmd {
    return this.#with({ killSignal: signal });
  }

  /** Runs the program in another working folder. */
  cwd(dir: string): Cmd {
    return this.#with({ cwd: dir });
  }

  /** Lets `fn` see standard error as it comes (tcpdump says `listening on ...` once it captures). */
  onStderr(fn: (text: string) => void): Cmd {
    return this.#with({ onStderr: fn });
  }

  /**
   * Makes {@linkcode Cmd.run} return instead of throwing: for the given exit codes, or, with none given,
   * for every exit code, a timeout and an abort. A program that cannot start (not found) still throws:
   * there is no result to return.
   */
  noThrow(...codes: number[]): Cmd {
    return this.#with({ noThrow: codes.length === 0 ? true : new Set(codes) });
  }

  /**
   * Runs the command.
   *
   * @returns The result.
   * @throws {ExecError} If the program cannot start, exits non-zero, times out or is aborted, unless
   * {@linkcode Cmd.noThrow} says otherwise.
   */
  async run(): Promise<RunResult> {
    const s = this.#state;
    const argv = s.netns === undefined ? s.argv : netnsArgv(s.netns, s.argv);
    s.trace?.(argv, s.stdin);
    const options: RunOptions = { timeoutMs: s.timeoutMs, env: { ...s.env }, killSignal: s.killSignal };
    if (s.stdin !== undefined) options.stdin = s.stdin;
    if (s.signal !== undefined) options.signal = s.signal;
    if (s.onStderr !== undefined) options.onStderr = s.onStderr;
    if (s.cwd !== undefined) options.cwd = s.cwd;
    const result = await s.runner.run(argv, options);
    if (
      s.netns !== undefined && result.code === NOT_FOUND_EXIT_CODE && NSENTER_NOT_FOUND.test(result.stderr)
    ) {
      throw notFoundError(s.argv);
    }
    const ok = s.noThrow === true ||
      (result.timedOut !== true && result.aborted !== true &&
        (result.code === 0 || (s.noThrow !== false && s.noThrow.has(result.code))));
    if (!ok) {
      throw new ExecError({
        argv,
        code: result.code,
        stdout: result.stdout,
        stderr: result.stderr,
        timedOut: result.timedOut === true,
        timeoutMs: s.timeoutMs,
        aborted: result.aborted === true,
        ...(result.signal === undefined ? {} : { signal: result.signal }),
      });
    }
    return result;
  }

  /**
   * Runs the command and returns its standard output without the final line break.
   *
   * @throws {ExecError} As {@linkcode Cmd.run}.
   */
  async text(): Promise<string> {
    const { stdout } = await this.run();
    return stdout.endsWith("\n") ? stdout.slice(0, stdout.endsWith("\r\n") ? -2 : -1) : stdout;
  }

  /**
   * Runs the command and returns its standard output as lines (none for empty output).
   *
   * @throws {ExecError} As {@linkcode Cmd.run}.
   */
  async lines(): Promise<string[]> {
    const text = await this.text();
    return text === "" ? [] : text.split(/\r?\n/);
  }
}

/** Where `ip netns add` keeps its namespaces. */
export const NETNS_RUN_DIR = "/run/netns";

/** What nsenter says when the program it should run does not exist (it exits 127 then). */
const NSENTER_NOT_FOUND = /^nsenter: failed to execute [^\n]*: No such file or directory$/m;

function checkNetnsName(name: string): string {
  if (typeof name !== "string" || name === "" || name === "." || name === ".." || name.includes("/")) {
    throw new TypeError(
      `Cannot use network namespace '${name}' as it is not a namespace name (empty, '.', '..' or with a '/')`,
    );
  }
  return name;
}

/**
 * The argv that runs `argv` in network namespace `name`: `nsenter --net=/run/netns/NAME -- ARGV`.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { netnsArgv } from "labwire/ovs";
 * assert.deepEqual(netnsArgv("lab1", ["ip", "link"]), ["nsenter", "--net=/run/netns/lab1", "--", "ip", "link"]);
 * ```
 */
export function netnsArgv(name: string, argv: readonly string[]): string[] {
  return ["nsenter", `--net=${NETNS_RUN_DIR}/${checkNetnsName(name)}`, "--", ...argv];
}

/**
 * Wraps an `exec` function so that every command it makes runs in network namespace `name`
 * ({@linkcode Cmd.inNetns}); `undefined` gives `exec` back unchanged.
 *
 * @param exec Makes the commands.
 * @param name The namespace, or `undefined` for this process's.
 * @returns A function making commands that run in the namespace.
 * @throws {TypeError} If `name` is not a namespace name.
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { FakeRunner } from "labwire/testing";
 * import { createExec, execInNetns } from "labwire/ovs";
 * const runner = new FakeRunner().on("nsenter", () => ({}));
 * await execInNetns(createExec({ runner }), "lab1")("ip").args("link").run();
 * assert.deepEqual(runner.calls, [["nsenter", "--net=/run/netns/lab1", "--", "ip", "link"]]);
 * ```
 */
export function execInNetns(
  exec: (program: string) => Cmd,
  name: string | undefined,
): (program: string) => Cmd {
  if (name === undefined) return exec;
  checkNetnsName(name);
  return (program) => exec(program).inNetns(name);
}

/**
 * Makes the `exec` function backends use: `exec(program)` starts a {@linkcode Cmd} with these options.
 *
 * @param options The runner, the trace hook and the default timeout.
 * @returns A function making commands.
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { createExec, formatArgv, nodeRunner } from "labwire/ovs";
 * const traced: string[] = [];
 * const exec = createExec({ runner: nodeRunner, trace: (argv) => traced.push(`+ ${formatArgv(argv)}`) });
 * assert.equal(await exec("echo").args("a b").text(), "a b");
 * assert.deepEqual(traced, ["+ echo 'a b'"]);
 * ```
 */
export function createExec(options: ExecOptions = {}): (program: string) => Cmd {
  checkTimeout(options.defaultTimeoutMs ?? 60_000, "default timeout");
  return function exec(program: string): Cmd {
    return new Cmd(program, options);
  };
}

function isExecutableFile(file: string): boolean {
  try {
    if (!statSync(file).isFile()) return false;
    accessSync(file, fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Finds a program the way `spawn` would, without spawning anything: a name with a `/` is checked as
 * it is, any other name is looked up in each directory of `PATH` (empty entries skipped).
 *
 * @param program A program name (`"ovs-vsctl"`) or path.
 * @param env The environment whose `PATH` is searched. @default {process.env}
 * @returns The path of the executable file found, or `undefined`.
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { which } from "labwire/ovs";
 * assert.equal(which("sh", { PATH: "/nonexistent:/bin" }), "/bin/sh");
 * assert.equal(which("no-such-program-labwire"), undefined);
 * ```
 */
export function which(
  program: string,
  env: Readonly<Record<string, string | undefined>> = process.env,
): string | undefined {
  if (program === "") return undefined;
  if (program.includes("/")) return isExecutableFile(program) ? program : undefined;
  for (const dir of (env.PATH ?? "/usr/bin:/bin").split(path.delimiter)) {
    if (dir === "") continue;
    const file = path.join(dir, program);
    if (isExecutableFile(file)) return file;
  }
  return undefined;
}
