#!/usr/bin/env -S deno run -A
/**
 * labwire's command line: minimega's commands from a script, `-e`, standard input or an interactive
 * prompt. Run `deno run -A cli.ts --help` (or `bun cli.ts --help`).
 *
 * @module
 */

import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import process from "node:process";
import readline from "node:readline";
import { parseArgs } from "node:util";
import { ACCEL_ENV, type AccelChoice, parseAccelChoice } from "./lib/real/accel.ts";
import { formatArgv } from "./lib/exec.ts";
import { Lab } from "./lib/api/lab.ts";
import { checkSimUplink, type SimUplinkOptions } from "./sim/backend.ts";
import { parseVlanRange } from "./lib/vlans.ts";
import { runScript } from "./lib/cli/script.ts";
import { readLines, splitLines } from "./lib/cli/_lines.ts";

const VERSION = "0.1.0";

const USAGE = `Usage: labwire [options] [FILE]

Runs minimega commands (vlans, vm config networks, namespace, ...) from FILE, from -e, or from
standard input; with no input given on a terminal, starts an interactive prompt.

Options:
  -e, --eval CMD         run CMD; repeatable; runs before FILE
      --transcript       echo each line as "## <line>", then its output; errors print as "E: <message>"
                         and the run goes on (minimega's minitest format)
  -k, --keep-going       go on after a failed command (the exit status is still 1)
      --backend NAME     sim (the default, or $LABWIRE_BACKEND) or ovs
      --accel NAME       QEMU's accelerator for KVM VMs: kvm, tcg or auto (the default, or $LABWIRE_ACCEL):
                         KVM only where it is proven to work
      --ovs-netns NAME   the network namespace of the Open vSwitch (--backend ovs): the lab's host-side
                         devices, captures and QEMU run there (default: $LABWIRE_OVS_NETNS, else the
                         host's own; see scripts/ovs-sandbox.sh start DIR --netns NAME)
      --sim-uplink NAME=ADDRESS/PREFIX[,HOST/PREFIX...]
                         an uplink of the simulated host (--backend sim), for nat: its address, and the
                         hosts outside it, which answer ARP and ping; repeatable (default: the ones in
                         $LABWIRE_SIM_UPLINK, separated by spaces)
      --state PATH       keep the lab in PATH between runs, safely shared by concurrent runs
                         (default: $LABWIRE_STATE, else nothing is kept)
      --vlan-range MIN-MAX
                         the default VLAN range of a new lab, half-open, within VLANs 1 to 4094
                         (default 101-4095: VLANs 101 to 4094)
      --seed SEED        generate the same MACs on every run (default: random)
      --trace            print every external command as "+ argv..." on standard error
  -q, --quiet            do not print warnings
  -h, --help             print this help
      --version          print the version

Standard input is read and run line by line, as it arrives. SIGINT or SIGTERM stops the run after the
line running then (captures completed, the state saved), with exit status 130 or 143; a second signal
stops at once. A reader of standard output that goes away ends the run the same way (status 141).

Exit status: 0 if every command succeeded, 1 if a command failed, 2 for bad usage.
Type "help" at the prompt (or -e help) for the commands.`;

/** A mistake in how labwire was called: exit status 2. */
class UsageError extends Error {
  override name = "UsageError";
}

interface CliOptions {
  readonly evals: readonly string[];
  readonly file: string | undefined;
  readonly transcript: boolean;
  readonly keepGoing: boolean;
  readonly statePath: string | undefined;
  readonly vlanRange: { min: number; max: number } | undefined;
  readonly seed: string | undefined;
  readonly backend: "sim" | "ovs";
  readonly accel: AccelChoice | undefined;
  readonly ovsNetns: string | undefined;
  readonly simUplinks: Readonly<Record<string, SimUplinkOptions>> | undefined;
  readonly trace: boolean;
  readonly quiet: boolean;
}

function parseCli(argv: readonly string[]): CliOptions | "help" | "version" {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        eval: { type: "string", short: "e", multiple: true },
        transcript: { type: "boolean" },
        "keep-going": { type: "boolean", short: "k" },
        backend: { type: "string" },
        accel: { type: "string" },
        "ovs-netns": { type: "string" },
        "sim-uplink": { type: "string", multiple: true },
        state: { type: "string" },
        "vlan-range": { type: "string" },
        seed: { type: "string" },
        trace: { type: "boolean" },
        quiet: { type: "boolean", short: "q" },
        help: { type: "boolean", short: "h" },
        version: { type: "boolean" },
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) return "help";
  if (values.version) return "version";
  if (positionals.length > 1) {
    throw new UsageError(
      `Cannot run more than one script: got ${positionals.map((p) => `'${p}'`).join(", ")}`,
    );
  }
  const backend = values.backend ?? (process.env.LABWIRE_BACKEND || "sim");
  if (backend !== "sim" && backend !== "ovs") {
    throw new UsageError(`Cannot use backend '${backend}': choose sim or ovs`);
  }
  let accel: AccelChoice | undefined;
  try {
    const text = values.accel ?? (process.env[ACCEL_ENV] || undefined);
    if (text !== undefined) accel = parseAccelChoice(text);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const ovsNetns = values["ovs-netns"] ?? (process.env.LABWIRE_OVS_NETNS || undefined);
  if (
    ovsNetns !== undefined &&
    (ovsNetns === "" || ovsNetns === "." || ovsNetns === ".." || ovsNetns.includes("/"))
  ) {
    throw new UsageError(`Cannot use OVS network namespace '${ovsNetns}': it is not a namespace name`);
  }
  let simUplinks: Record<string, SimUplinkOptions> | undefined;
  const uplinkTexts = values["sim-uplink"] ??
    (backend === "sim" ? (process.env.LABWIRE_SIM_UPLINK ?? "").split(/\s+/).filter((t) => t !== "") : []);
  for (const text of uplinkTexts) {
    if (backend !== "sim") {
      throw new UsageError("Cannot use --sim-uplink with --backend ovs: it is the simulator's");
    }
    const m = /^([^=,\s]+)=([^,\s]+)((?:,[^,\s]+)*)$/.exec(text);
    if (m === null) {
      throw new UsageError(
        `Cannot use --sim-uplink '${text}': expected NAME=ADDRESS/PREFIX[,HOST/PREFIX...], like eth0=198.51.100.1/24,198.51.100.7/24`,
      );
    }
    const cidrs = [m[2]!, ...m[3]!.split(",").filter((c) => c !== "")];
    const bad = cidrs.find((c) => !/^(?:\d{1,3}\.){3}\d{1,3}\/\d{1,2}$/.test(c));
    if (bad !== undefined) {
      throw new UsageError(`Cannot use --sim-uplink '${text}': '${bad}' is not an address with its prefix`);
    }
    const uplink = { address: cidrs[0]!, hosts: cidrs.slice(1) };
    try {
      checkSimUplink(m[1]!, uplink);
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
    simUplinks = { ...simUplinks, [m[1]!]: uplink };
  }
  let vlanRange: { min: number; max: number } | undefined;
  if (values["vlan-range"] !== undefined) {
    try {
      vlanRange = parseVlanRange(values["vlan-range"]);
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
  }
  const statePath = values.state ?? (process.env.LABWIRE_STATE || undefined);
  return {
    evals: values.eval ?? [],
    file: positionals[0],
    transcript: values.transcript ?? false,
    keepGoing: values["keep-going"] ?? false,
    statePath,
    vlanRange,
    seed: values.seed,
    backend,
    accel,
    ovsNetns,
    simUplinks,
    trace: values.trace ?? false,
    quiet: values.quiet ?? false,
  };
}

function readScript(file: string): Uint8Array {
  try {
    return fs.readFileSync(file);
  } catch (error) {
    const code = (error as { code?: string }).code;
    const why = code === "ENOENT"
      ? "no such file"
      : code === "EISDIR"
      ? "it is a directory"
      : (error as Error).message;
    throw new UsageError(`Cannot read script '${file}': ${why}`);
  }
}

function write(stream: { write(text: string): unknown }, text: string): void {
  if (text !== "") stream.write(text.endsWith("\n") ? text : `${text}\n`);
}

async function repl(runner: Lab, signal: AbortSignal): Promise<boolean> {
  const historyFile = path.join(os.homedir(), ".labwire_history");
  let history: string[] = [];
  try {
    const lines = fs.readFileSync(historyFile, "utf8").split("\n").filter((l) => l !== "");
    history = lines.reverse().slice(0, 1000); // readline wants the newest first
  } catch {
    // no history yet
  }
  const rl = readline.createInterface({
    input: process.stdin,
    output: process.stdout,
    prompt: "labwire$ ",
    history,
    historySize: 1000,
    terminal: true,
  });
  // input typed ahead (or pasted) and then ended is still run, line by line, after readline closes
  let closed = false;
  rl.on("close", () => closed = true);
  signal.addEventListener("abort", () => rl.close(), { once: true });
  let ok = true;
  rl.prompt();
  for await (const line of rl) {
    const trimmed = line.trim();
    if (trimmed === "quit" || trimmed === "exit") break;
    if (trimmed !== "") {
      try {
        fs.appendFileSync(historyFile, `${line}\n`);
      } catch {
        // a read-only home only loses the history
      }
    }
    const { output, errors } = await runner.execute(line);
    write(process.stdout, output);
    for (const error of errors) write(process.stderr, `E: ${error}`);
    if (errors.length > 0) ok = false;
    if (!closed) rl.prompt();
  }
  rl.close();
  return ok;
}

async function main(argv: readonly string[]): Promise<number> {
  let options;
  try {
    options = parseCli(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    write(process.stderr, `E: ${error.message}\nRun "labwire --help" for usage.`);
    return 2;
  }
  if (options === "help") {
    write(process.stdout, USAGE);
    return 0;
  }
  if (options === "version") {
    write(process.stdout, `labwire ${VERSION}`);
    return 0;
  }
  const opts = options;
  let runner: Lab;
  try {
    runner = await Lab.open({
      ...(opts.statePath === undefined ? {} : { state: opts.statePath }),
      ...(opts.vlanRange === undefined ? {} : { vlanRange: opts.vlanRange }),
      ...(opts.seed === undefined ? {} : { seed: opts.seed }),
      ...(opts.accel === undefined ? {} : { accel: opts.accel }),
      ...(opts.ovsNetns === undefined ? {} : { ovsNetns: opts.ovsNetns }),
      ...(opts.simUplinks === undefined ? {} : { simUplinks: opts.simUplinks }),
      backend: opts.backend,
      drivers: "qemu",
      onWarning: (message) => {
        if (!opts.quiet) write(process.stderr, `warning: ${message}`);
      },
      ...(opts.trace
        ? {
          trace: (argv: readonly string[], stdin?: string) => {
            write(process.stderr, `+ ${formatArgv(argv)}`);
            for (const line of stdin?.split("\n") ?? []) {
              if (line !== "") write(process.stderr, `+ | ${line}`);
            }
          },
          onError: (error: Error) => write(process.stderr, error.stack ?? String(error)),
        }
        : {}),
    });
  } catch (error) {
    write(process.stderr, `E: ${(error as Error).message}`);
    return 1;
  }
  // SIGINT or SIGTERM ends the run as the end of its input does, after the line running then: captures
  // completed, the state saved, QEMU stopped, and a lab without a state file removed from Open vSwitch;
  // then the usual 128 + signal exit status. A second signal exits at once.
  const stop = new AbortController();
  let signalled: number | undefined;
  const listeners = ([["SIGINT", 130], ["SIGTERM", 143]] as const).map(([signal, code]) => {
    const listener = () => {
      if (signalled !== undefined) process.exit(signalled);
      signalled = code;
      stop.abort();
    };
    process.on(signal, listener);
    return [signal, listener] as const;
  });
  // a reader that went away (`labwire | head`) ends the run too, as SIGPIPE ends other programs: status 141
  const onWriteError = (error: Error) => {
    if ((error as { code?: string }).code !== "EPIPE") throw error;
    if (signalled !== undefined) return;
    signalled = 141;
    stop.abort();
  };
  process.stdout.on("error", onWriteError);
  const out = (text: string) => {
    if (stop.signal.aborted && signalled === 141) return;
    try {
      process.stdout.write(text);
    } catch (error) {
      onWriteError(error as Error);
    }
  };
  let readStdin = false;
  const stdinLines = () => {
    readStdin = true;
    return readLines(process.stdin as AsyncIterable<Uint8Array>, { signal: stop.signal });
  };
  let script: Iterable<string> | AsyncIterable<string> | undefined;
  try {
    if (opts.file !== undefined) {
      script = opts.file === "-" ? stdinLines() : splitLines(readScript(opts.file));
    }
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    write(process.stderr, `E: ${error.message}`);
    await runner.close();
    return 2;
  }
  const runLines = (lines: Iterable<string> | AsyncIterable<string>) =>
    runScript(runner, lines, {
      transcript: opts.transcript,
      keepGoing: opts.keepGoing,
      stdout: out,
      stderr: (text) => process.stderr.write(text),
      signal: stop.signal,
    });
  let ok = await runLines(opts.evals);
  if ((ok || opts.transcript || opts.keepGoing) && !stop.signal.aborted) {
    if (script !== undefined) {
      ok = (await runLines(script)) && ok;
    } else if (opts.evals.length === 0) {
      ok = process.stdin.isTTY ? await repl(runner, stop.signal) : await runLines(stdinLines());
    }
  }
  let closed = true;
  try {
    await runner.close();
  } catch (error) {
    write(process.stderr, `E: ${error instanceof Error ? error.message : String(error)}`);
    closed = false;
  }
  for (const [signal, listener] of listeners) process.off(signal, listener);
  // a read of standard input left waiting (a signal, a failed command) would keep Bun running
  if (readStdin) process.stdin.destroy();
  if (signalled !== undefined) return signalled;
  return ok && closed ? 0 : 1;
}

if (import.meta.main ?? true) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      write(process.stderr, `E: internal error: ${error instanceof Error ? error.message : String(error)}`);
      if (process.argv.includes("--trace") && error instanceof Error) {
        write(process.stderr, error.stack ?? "");
      }
      process.exitCode = 1;
    },
  );
}
