/**
 * Whether launching VMs costs the same per VM however many the lab has: N container VMs with one NIC
 * each are launched into a fresh lab, and the time per VM at N is compared with the time per VM at the
 * smallest N, measured in the same run. Prints a Markdown report; runs under Deno and Bun.
 *
 *   deno run -A --v8-flags=--expose-gc bench/launch.ts [options]      (npx deno task bench:launch)
 *   bun bench/launch.ts [options]
 *
 * Options (defaults in brackets):
 * - `--sizes 2000,20000,100000`: the Ns; ratios are to the first.
 * - `--rounds 3`: rounds per figure (each in a new lab); the median is reported.
 * - `--backends sim,model,bridge`: `sim` is the simulator (SimBackend: a bridge port and a host per
 *   NIC); `model` is the lab model alone on a {@linkcode RecordingBackend} (no frames, no hosts);
 *   `bridge` is `SimBridge.addPort()` alone, N access ports on one bridge, no lab (the simulator's
 *   share of a launch: a port per NIC).
 * - `--ways one,each`: `one` is a single `vm launch container N` command; `each` is N commands
 *   `vm launch container vI`, one VM each (both through `lab.run()`, after `vm config net LAN`).
 *   The `bridge` backend has one way only.
 * - `--budget-s 300`: once a figure's rounds have taken this long, it stops at the rounds done (at least
 *   one); the report gives the rounds each figure had.
 * - `--each-max 100000`: the largest N launched one VM per command.
 *
 * Heap: after the largest `one` launch of each backend, `process.memoryUsage().heapUsed` after a full
 * garbage collection (Bun always, Deno with `--v8-flags=--expose-gc`, else without one: the report
 * says which), and its growth over the launch.
 *
 * @module
 */

import process from "node:process";
import { parseArgs } from "node:util";
import { Lab } from "../lib/api/lab.ts";
import { RecordingBackend } from "../lib/testing/recording_backend.ts";
import { SimBridge } from "../sim/bridge.ts";

type Backend = "sim" | "model" | "bridge";
type Way = "one" | "each";

interface Figure {
  backend: Backend;
  way: Way;
  n: number;
  /** Microseconds per VM, one per round. */
  perVm: number[];
}

/** Runs a full garbage collection where the runtime exposes one; says whether it could. */
function collectGarbage(): boolean {
  const g = globalThis as { gc?: () => void; Bun?: { gc(force: boolean): void } };
  if (g.gc !== undefined) {
    g.gc();
    return true;
  }
  if (g.Bun !== undefined) {
    g.Bun.gc(true);
    return true;
  }
  return false;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)]!;
}

function list(text: string): string[] {
  return text.split(",").map((s) => s.trim()).filter((s) => s !== "");
}

function progress(text: string): void {
  process.stderr.write(`${text}\n`);
}

/** One round: a new lab, N VMs launched; returns milliseconds, and the heap before and after. */
async function launchRound(
  backend: Exclude<Backend, "bridge">,
  way: Way,
  n: number,
  round: number,
): Promise<{ ms: number; heapBefore: number; heapAfter: number }> {
  const lab = await Lab.open(
    backend === "sim" ? { seed: round } : { backend: new RecordingBackend(), seed: round },
  );
  try {
    await lab.run("vm config net LAN");
    const lines = way === "each" ? Array.from({ length: n }, (_, i) => `vm launch container v${i}`) : [];
    collectGarbage();
    const heapBefore = process.memoryUsage().heapUsed;
    const started = performance.now();
    if (way === "one") await lab.run(`vm launch container ${n}`);
    else for (const line of lines) await lab.run(line);
    const ms = performance.now() - started;
    collectGarbage();
    const heapAfter = process.memoryUsage().heapUsed;
    const info = await lab.run("vm info");
    if (info.records.length !== n) {
      throw new Error(`Cannot trust the round: ${info.records.length} VMs launched, not ${n}`);
    }
    return { ms, heapBefore, heapAfter };
  } finally {
    await lab.close();
  }
}

/** One round of `SimBridge.addPort()` alone: N access ports on one new bridge; returns milliseconds. */
function bridgeRound(n: number): number {
  const names = Array.from({ length: n }, (_, i) => `mega_tap${i}`);
  const br = new SimBridge("mega_bridge");
  br.addPort("mega_bridge", { kind: "trunk" });
  collectGarbage();
  const started = performance.now();
  for (const name of names) br.addPort(name, { kind: "access", tag: 101 });
  return performance.now() - started;
}

function mib(bytes: number): string {
  return `${(bytes / (1 << 20)).toFixed(1)} MiB`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: {
      sizes: { type: "string", default: "2000,20000,100000" },
      rounds: { type: "string", default: "3" },
      backends: { type: "string", default: "sim,model,bridge" },
      ways: { type: "string", default: "one,each" },
      "budget-s": { type: "string", default: "300" },
      "each-max": { type: "string", default: "100000" },
    },
  });
  const sizes = list(values.sizes).map(Number);
  const rounds = Number(values.rounds);
  const backends = list(values.backends) as Backend[];
  const ways = list(values.ways) as Way[];
  const budgetMs = Number(values["budget-s"]) * 1000;
  const eachMax = Number(values["each-max"]);
  for (const b of backends) {
    if (b !== "sim" && b !== "model" && b !== "bridge") {
      throw new TypeError(`Cannot run the launch benchmark: unknown backend '${b}'`);
    }
  }
  const gcAvailable = collectGarbage();
  const figures: Figure[] = [];
  const heaps = new Map<Backend, { n: number; before: number; after: number }>();
  const skipped: string[] = [];
  const largest = Math.max(...sizes);

  for (const backend of backends) {
    for (const way of backend === "bridge" ? ["one" as const] : ways) {
      for (const n of sizes) {
        if (way === "each" && n > eachMax) {
          skipped.push(`${backend}, one VM per command, N = ${n} (over --each-max ${eachMax})`);
          continue;
        }
        const figure: Figure = { backend, way, n, perVm: [] };
        let spent = 0;
        for (let round = 0; round < rounds && (round === 0 || spent < budgetMs); round++) {
          let ms: number;
          if (backend === "bridge") ms = bridgeRound(n);
          else {
            const r = await launchRound(backend, way, n, round);
            ms = r.ms;
            if (way === "one" && n === largest && round === 0) {
              heaps.set(backend, { n, before: r.heapBefore, after: r.heapAfter });
            }
          }
          spent += ms;
          figure.perVm.push(ms * 1000 / n);
          progress(`${backend} ${way} N=${n} round ${round + 1}: ${(ms / 1000).toFixed(2)} s`);
        }
        figures.push(figure);
      }
    }
  }

  const runtime = process.versions.bun !== undefined
    ? `Bun ${process.versions.bun}`
    : `Deno ${process.versions.deno}`;
  const wayText = (f: Figure) =>
    f.backend === "bridge"
      ? "`SimBridge.addPort()` N times"
      : f.way === "one"
      ? "one `vm launch container N`"
      : "N commands, one VM each";
  const lines = [
    `${runtime}, ${new Date().toISOString().slice(0, 10)}, up to ${rounds} rounds, medians`,
    "",
    "| backend | way | N | rounds | per VM, median | per VM, each round | ratio to N = " +
    `${sizes[0]!.toLocaleString("en-US")} |`,
    "|---|---|---|---|---|---|---|",
  ];
  for (const f of figures) {
    const base = figures.find((g) => g.backend === f.backend && g.way === f.way && g.n === sizes[0]);
    const ratio = base === undefined ? "" : `${(median(f.perVm) / median(base.perVm)).toFixed(2)}x`;
    lines.push(
      `| ${f.backend} | ${wayText(f)} | ${f.n.toLocaleString("en-US")} | ${f.perVm.length} | ${
        median(f.perVm).toFixed(1)
      } \u00b5s | ${f.perVm.map((v) => v.toFixed(1)).join(", ")} | ${ratio} |`,
    );
  }
  lines.push("");
  for (const [backend, h] of heaps) {
    lines.push(
      `Heap used after the ${h.n.toLocaleString("en-US")}-VM launch (${backend}, ${
        gcAvailable ? "after a full GC" : "no GC available"
      }): ${mib(h.after)} (${mib(h.before)} before: ${
        ((h.after - h.before) / h.n).toFixed(0)
      } bytes per VM).`,
    );
  }
  for (const s of skipped) lines.push(`Not measured: ${s}.`);
  process.stdout.write(`${lines.join("\n")}\n`);
}

if (import.meta.main) await main();
