/**
 * What one `labwire --state` process costs on a big lab: a line that only reads (`vlans`, `vm info`), one
 * that changes records only (`vlans add`), and one that needs the network (`vm launch`), which builds the
 * whole simulated lab first. Wall time and peak memory of whole processes (`/usr/bin/time`), medians of
 * several rounds, in one run so that they share the machine's noise; the launch is the baseline.
 *
 *   deno run -A bench/state_reads.ts [VMS] [ROUNDS]     (default 20000 VMs, 3 rounds; npx deno task bench:state)
 *
 * @module
 */

import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import process from "node:process";

const ROOT = path.join(import.meta.dirname!, "..");
const VMS = Number(process.argv[2] ?? 20_000);
const ROUNDS = Number(process.argv[3] ?? 3);
const runtime = process.versions.deno !== undefined ? [process.execPath, "run", "-A"] : [process.execPath];
const cli = [...runtime, path.join(ROOT, "cli.ts")];

function print(line: string): void {
  process.stdout.write(`${line}\n`);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** Runs `argv` under /usr/bin/time: seconds and peak KB. */
function timed(argv: readonly string[]): { s: number; kb: number } {
  const r = spawnSync("/usr/bin/time", ["-f", "%e %M", ...argv], {
    encoding: "utf8",
    stdio: ["ignore", "ignore", "pipe"],
  });
  if (r.status !== 0) throw new Error(`${argv.join(" ")} failed (${r.status}): ${r.stderr}`);
  const [s, kb] = r.stderr.trim().split("\n").at(-1)!.split(" ").map(Number);
  return { s: s!, kb: kb! };
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "labwire-bench-state-"));
try {
  const state = path.join(dir, "lab.json");
  const made = spawnSync(cli[0]!, [
    ...cli.slice(1),
    "--state",
    state,
    "-e",
    "vm config net DMZ CORE",
    "-e",
    `vm launch container vm[1-${VMS}]`,
  ]);
  if (made.status !== 0) throw new Error(`making the lab failed: ${made.stderr}`);
  const lines = ["vlans", "vm info", "vlans add X 500", "vm launch container extra"];
  const results = new Map(lines.map((l) => [l, [] as { s: number; kb: number }[]]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const line of lines) {
      const copy = path.join(dir, "copy.json");
      fs.copyFileSync(state, copy); // every round starts from the same lab
      results.get(line)!.push(timed([...cli, "--state", copy, "-q", "-e", line]));
    }
  }
  const base = median(results.get("vm launch container extra")!.map((r) => r.s));
  print(
    `A lab of ${VMS.toLocaleString("en")} container VMs in a state file (${
      (fs.statSync(state).size / 1e6).toFixed(1)
    } MB), one process per line, ${ROUNDS} rounds, medians:\n`,
  );
  print("| line | wall time | peak memory | ratio to the launch |");
  print("|---|---|---|---|");
  for (const line of lines) {
    const r = results.get(line)!;
    const s = median(r.map((x) => x.s));
    print(
      `| \`${line}\` | ${s.toFixed(2)} s | ${Math.round(median(r.map((x) => x.kb)) / 1024)} MB | ${
        (s / base).toFixed(2)
      } |`,
    );
  }
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
