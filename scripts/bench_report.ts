/**
 * Measures every benchmark case in bench/ and prints a Markdown table of medians, with each case's
 * ratio to its group's baseline measured in the same run. Runs under Deno
 * (`deno run -A scripts/bench_report.ts`) and Bun (`bun scripts/bench_report.ts`).
 *
 * Each case is run in batches long enough to time (about 2 ms); 41 batches follow 25 warm-up ones,
 * and the median of the batches' time per operation is reported. Timings on shared 2-core machines
 * are noisy: compare ratios, not absolute figures, between runs.
 *
 * @module
 */

import process from "node:process";
import { type BenchCase, type BenchTimer, cases } from "../bench/_bench.ts";
import "../bench/forward.bench.ts";
import "../bench/frame.bench.ts";
import "../bench/netspec.bench.ts";
import "../bench/pcap.bench.ts";
import "../bench/vlans.bench.ts";

const SAMPLES = 41;
const WARMUP = 25;
const BATCH_NS = 2_000_000;

/** Whether a case times only part of each run with `timer.start()` / `timer.end()`. */
function usesTimer(fn: BenchCase["fn"]): boolean {
  let used = false;
  fn({ start: () => used = true, end: () => {} });
  return used;
}

/** Runs `fn` `iterations` times and returns the timed nanoseconds. */
function run(fn: BenchCase["fn"], iterations: number, explicit: boolean): number {
  if (!explicit) {
    // one clock reading per batch: reading it per call would cost more than the fastest cases
    const idle: BenchTimer = { start() {}, end() {} };
    const before = performance.now();
    for (let i = 0; i < iterations; i++) fn(idle);
    return (performance.now() - before) * 1e6;
  }
  let total = 0;
  let started = 0;
  const timer: BenchTimer = {
    start() {
      started = performance.now();
    },
    end() {
      total += performance.now() - started;
    },
  };
  for (let i = 0; i < iterations; i++) fn(timer);
  return total * 1e6;
}

/** The median nanoseconds per operation of a case. */
export function measure(c: BenchCase): number {
  const explicit = usesTimer(c.fn);
  for (let i = 0; i < 100; i++) run(c.fn, 1, explicit); // warm up before sizing the batches
  const once = Math.max(run(c.fn, 1, explicit), 50);
  const iterations = Math.max(1, Math.min(1_000_000, Math.round(BATCH_NS / once)));
  for (let i = 0; i < WARMUP; i++) run(c.fn, iterations, explicit);
  const samples: number[] = [];
  for (let i = 0; i < SAMPLES; i++) samples.push(run(c.fn, iterations, explicit) / iterations / (c.ops ?? 1));
  samples.sort((a, b) => a - b);
  return samples[(SAMPLES - 1) / 2]!;
}

function format(ns: number): string {
  if (ns >= 1e6) return `${(ns / 1e6).toFixed(2)} ms`;
  if (ns >= 1e3) return `${(ns / 1e3).toFixed(2)} \u00b5s`;
  return `${ns.toFixed(1)} ns`;
}

if (import.meta.main) {
  const runtime = process.versions.bun !== undefined
    ? `Bun ${process.versions.bun}`
    : `Deno ${process.versions.deno}`;
  const lines = [`| group | case | median per operation | ratio to baseline |`, `|---|---|---|---|`];
  const medians = new Map(cases.map((c) => [c, measure(c)] as const));
  for (const c of cases) {
    const ns = medians.get(c)!;
    const baseline = cases.find((b) => b.group === c.group && b.baseline);
    const ratio = baseline === undefined ? "" : `${(ns / medians.get(baseline)!).toFixed(2)}x`;
    lines.push(`| ${c.group} | ${c.name}${c.baseline ? " (baseline)" : ""} | ${format(ns)} | ${ratio} |`);
  }
  process.stdout.write(`${runtime}, ${new Date().toISOString().slice(0, 10)}\n\n${lines.join("\n")}\n`);
}
