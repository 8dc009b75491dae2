/**
 * Times a user feels: the wall time of whole processes, from spawn to exit, medians of several rounds.
 * Prints a Markdown report; runs under Deno or Bun (it spawns `deno` and `bun` from `PATH`).
 *
 *   deno run -A bench/user_times.ts [ROUNDS]      (default 5; npx deno task bench:user)
 *
 * Each round runs every command once, in the order below, so that they share the machine's noise:
 * - `deno eval ""` and `bun -e ""`: starting the runtime, for scale;
 * - `bench/thousand_pings.ts` (a lab, 2 VMs, 1,000 pings of count 1) under `deno run -A` and `bun`,
 *   pinging through the typed API and through 1,000 command lines (`lab.execute()`);
 * - `examples/lab.test.ts` (5 tests): `deno test -A` type-checked, cold (a new, empty `DENO_DIR` each
 *   round: nothing cached, as on a new machine or CI) and warm (a `DENO_DIR` of its own that earlier runs
 *   filled: one untimed run first); `deno test -A --no-check` with the warm `DENO_DIR`; and
 *   `bun test ./examples/lab.test.ts`.
 *
 * A command that exits with another status than 0 stops the run.
 *
 * @module
 */

import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import process from "node:process";

const ROOT = path.join(import.meta.dirname!, "..");

interface Command {
  readonly name: string;
  readonly argv: readonly string[];
  /** What the run starts from. */
  readonly note?: string;
  /** `DENO_DIR` for the run: `cold` a new empty one, `warm` the shared one; else the caller's. */
  readonly denoDir?: "cold" | "warm";
}

const COMMANDS: readonly Command[] = [
  { name: 'deno eval ""', argv: ["deno", "eval", ""] },
  { name: 'bun -e ""', argv: ["bun", "-e", ""] },
  {
    name: "deno run -A bench/thousand_pings.ts typed",
    argv: ["deno", "run", "-A", "bench/thousand_pings.ts"],
  },
  {
    name: "deno run -A bench/thousand_pings.ts execute",
    argv: ["deno", "run", "-A", "bench/thousand_pings.ts", "execute"],
  },
  { name: "bun bench/thousand_pings.ts typed", argv: ["bun", "bench/thousand_pings.ts"] },
  { name: "bun bench/thousand_pings.ts execute", argv: ["bun", "bench/thousand_pings.ts", "execute"] },
  {
    name: "deno test -A examples/lab.test.ts",
    note: "type-checked, cold: a new empty DENO_DIR",
    argv: ["deno", "test", "-A", "examples/lab.test.ts"],
    denoDir: "cold",
  },
  {
    name: "deno test -A examples/lab.test.ts",
    note: "type-checked, warm DENO_DIR",
    argv: ["deno", "test", "-A", "examples/lab.test.ts"],
    denoDir: "warm",
  },
  {
    name: "deno test -A --no-check examples/lab.test.ts",
    note: "warm DENO_DIR",
    argv: ["deno", "test", "-A", "--no-check", "examples/lab.test.ts"],
    denoDir: "warm",
  },
  { name: "bun test ./examples/lab.test.ts", argv: ["bun", "test", "./examples/lab.test.ts"] },
];

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)]!;
}

function version(program: string): string {
  const r = spawnSync(program, ["--version"], { encoding: "utf8" });
  return r.stdout.split("\n")[0]!.trim();
}

/** Runs a command once from the repository's root; returns its wall time in milliseconds. */
function timed(argv: readonly string[], env: Record<string, string | undefined>): number {
  const started = performance.now();
  const r = spawnSync(argv[0]!, argv.slice(1), { cwd: ROOT, env, encoding: "utf8" });
  const ms = performance.now() - started;
  if (r.status !== 0) {
    throw new Error(
      `Cannot time "${argv.join(" ")}": exited with code ${r.status}\n\n${r.stderr}${r.stdout}`,
    );
  }
  return ms;
}

function main(): void {
  const rounds = Number(process.argv[2] ?? 5);
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "labwire-user-times-"));
  const warm = path.join(scratch, "warm");
  const env = (denoDir: string | undefined) => ({
    ...process.env,
    ...(denoDir ? { DENO_DIR: denoDir } : {}),
  });
  const times = new Map<Command, number[]>(COMMANDS.map((c) => [c, []]));
  try {
    timed(["deno", "test", "-A", "examples/lab.test.ts"], env(warm)); // fills the warm DENO_DIR
    for (let round = 0; round < rounds; round++) {
      for (const c of COMMANDS) {
        let dir: string | undefined;
        if (c.denoDir === "cold") dir = fs.mkdtempSync(path.join(scratch, "cold-"));
        else if (c.denoDir === "warm") dir = warm;
        times.get(c)!.push(timed(c.argv, env(dir)));
        if (c.denoDir === "cold") fs.rmSync(dir!, { recursive: true, force: true });
      }
      process.stderr.write(`round ${round + 1} of ${rounds} done\n`);
    }
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
  const lines = [
    `${version("deno")}, bun ${version("bun")}, ${new Date().toISOString().slice(0, 10)}, ` +
    `wall time from spawn to exit, medians of ${rounds} rounds`,
    "",
    "| command | cache | median | each round (ms) |",
    "|---|---|---|---|",
  ];
  for (const c of COMMANDS) {
    const t = times.get(c)!;
    lines.push(
      `| \`${c.name}\` | ${c.note ?? ""} | ${median(t).toFixed(0)} ms | ${
        t.map((v) => v.toFixed(0)).join(", ")
      } |`,
    );
  }
  process.stdout.write(`${lines.join("\n")}\n`);
}

if (import.meta.main) main();
