/**
 * The typed API against the command path, on the same lab on the simulator: 2 container VMs on one VLAN,
 * started, with addresses. The baseline of each group is `lab.run()` of the command line that does the
 * same; `lab.execute()` (the command line's text, never throwing) and the typed call are compared with it:
 *
 * - a ping of count 1 from `a:0` to `10.0.0.2`: `lab.run("ping a:0 10.0.0.2 1")`, `lab.execute(...)`,
 *   `nic.ping("10.0.0.2", { count: 1 })` on a handle made once, and on handles made per call;
 * - the VM listing: `lab.run("vm info")`, `lab.execute("vm info")`, `ns.vms()`;
 * - a launch of 1 VM with one NIC (`vm config net LAN` set beforehand): `lab.run("vm launch container
 *   x")`, `lab.execute(...)`, `ns.launch(["x"])`; only the launch is timed, the `vm kill x` and
 *   `vm flush` after it are not.
 *
 *   deno bench -A bench/api.bench.ts          (Deno.bench: averages, p75, p99)
 *   deno run -A bench/api.bench.ts [ROUNDS]   (medians and ratios, Deno)
 *   bun bench/api.bench.ts [ROUNDS]           (the same under Bun)
 *
 * Run as a script, each round measures every case once, in order, as `scripts/bench_report.ts` does
 * (batches of about 5 ms after warm-up ones, the median of 41 batches), so a case and its baseline are
 * measured close together; the report gives the median over the rounds (default 5) of each case's
 * figure and of its ratio to the baseline of the same round.
 *
 * @module
 */

import process from "node:process";
import { Lab } from "../lib/api/lab.ts";
import { type BenchTimer, denoBench } from "./_bench.ts";

/** One benchmark of an asynchronous call. */
interface AsyncCase {
  readonly name: string;
  readonly group: string;
  readonly baseline?: boolean;
  /** One call; `timer.start()` / `timer.end()` leave set-up and clean-up out. */
  readonly fn: (timer: BenchTimer) => Promise<void>;
}

const cases: AsyncCase[] = [];

function bench(c: AsyncCase): void {
  cases.push(c);
  denoBench(c);
}

const lab = await Lab.open({ seed: "api-bench" });
const ns = lab.namespace();
await ns.configure({ networks: ["LAN"] });
const [a, b] = await ns.launch(["a", "b"], { start: true });
await a!.nic(0).setAddress("10.0.0.1/24");
await b!.nic(0).setAddress("10.0.0.2/24");
const nic = a!.nic(0);
const PING = "ping a:0 10.0.0.2 1";

// every case does what its baseline does
{
  const typed = await nic.ping("10.0.0.2", { count: 1 });
  const run = await lab.run(PING);
  const executed = await lab.execute(PING);
  if (
    typed.received !== 1 || run.rows[0]?.received !== "1" || executed.errors.length > 0 ||
    !/\|\s*1\s*\|\s*1\s*$/.test(executed.output)
  ) {
    throw new Error(`Cannot benchmark pings that fail: ${JSON.stringify({ typed, run, executed })}`);
  }
  if ((await ns.vms()).length !== 2 || (await lab.run("vm info")).records.length !== 2) {
    throw new Error("Cannot benchmark the VM listing: the lab does not have 2 VMs");
  }
}

bench({
  name: `lab.run("${PING}")`,
  group: "ping, count 1",
  baseline: true,
  async fn() {
    await lab.run(PING);
  },
});
bench({
  name: `lab.execute("${PING}")`,
  group: "ping, count 1",
  async fn() {
    await lab.execute(PING);
  },
});
bench({
  name: 'nic.ping("10.0.0.2", { count: 1 })',
  group: "ping, count 1",
  async fn() {
    await nic.ping("10.0.0.2", { count: 1 });
  },
});
bench({
  name: 'ns.vm("a").nic(0).ping("10.0.0.2", { count: 1 })',
  group: "ping, count 1",
  async fn() {
    await ns.vm("a").nic(0).ping("10.0.0.2", { count: 1 });
  },
});

bench({
  name: 'lab.run("vm info")',
  group: "list 2 VMs",
  baseline: true,
  async fn() {
    await lab.run("vm info");
  },
});
bench({
  name: 'lab.execute("vm info")',
  group: "list 2 VMs",
  async fn() {
    await lab.execute("vm info");
  },
});
bench({
  name: "ns.vms()",
  group: "list 2 VMs",
  async fn() {
    await ns.vms();
  },
});

/** Removes the VM a launch case made (not timed). */
async function unlaunch(): Promise<void> {
  await lab.run("vm kill x");
  await lab.run("vm flush");
}

bench({
  name: 'lab.run("vm launch container x")',
  group: "launch 1 VM (1 NIC)",
  baseline: true,
  async fn(timer) {
    timer.start();
    await lab.run("vm launch container x");
    timer.end();
    await unlaunch();
  },
});
bench({
  name: 'lab.execute("vm launch container x")',
  group: "launch 1 VM (1 NIC)",
  async fn(timer) {
    timer.start();
    await lab.execute("vm launch container x");
    timer.end();
    await unlaunch();
  },
});
bench({
  name: 'ns.launch(["x"])',
  group: "launch 1 VM (1 NIC)",
  async fn(timer) {
    timer.start();
    await ns.launch(["x"]);
    timer.end();
    await unlaunch();
  },
});

const SAMPLES = 41;
const WARMUP = 10;
const BATCH_NS = 5_000_000;

/** Runs `fn` `iterations` times and returns the timed nanoseconds. */
async function run(fn: AsyncCase["fn"], iterations: number): Promise<number> {
  let total = 0;
  let started = 0;
  let explicit = false;
  const timer: BenchTimer = {
    start() {
      explicit = true;
      started = performance.now();
    },
    end() {
      total += performance.now() - started;
    },
  };
  const before = performance.now();
  for (let i = 0; i < iterations; i++) await fn(timer);
  return (explicit ? total : performance.now() - before) * 1e6;
}

/** The median nanoseconds per call of a case, over {@linkcode SAMPLES} batches. */
async function measure(c: AsyncCase): Promise<number> {
  for (let i = 0; i < 200; i++) await run(c.fn, 1);
  const once = Math.max(await run(c.fn, 1), 1_000);
  const iterations = Math.max(1, Math.round(BATCH_NS / once));
  for (let i = 0; i < WARMUP; i++) await run(c.fn, iterations);
  const samples: number[] = [];
  for (let i = 0; i < SAMPLES; i++) samples.push(await run(c.fn, iterations) / iterations);
  return median(samples);
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.floor((sorted.length - 1) / 2)]!;
}

function format(ns: number): string {
  return ns >= 1e6 ? `${(ns / 1e6).toFixed(2)} ms` : `${(ns / 1e3).toFixed(2)} \u00b5s`;
}

async function main(): Promise<void> {
  const rounds = Number(process.argv[2] ?? 5);
  const runtime = process.versions.bun !== undefined
    ? `Bun ${process.versions.bun}`
    : `Deno ${process.versions.deno}`;
  const figures = new Map<AsyncCase, number[]>(cases.map((c) => [c, []]));
  for (let round = 0; round < rounds; round++) {
    for (const c of cases) figures.get(c)!.push(await measure(c));
    process.stderr.write(`round ${round + 1} of ${rounds} done\n`);
  }
  const lines = [
    `${runtime}, ${new Date().toISOString().slice(0, 10)}, medians of ${rounds} rounds`,
    "",
    "| group | case | median per call | each round | ratio to baseline (median of the rounds') |",
    "|---|---|---|---|---|",
  ];
  for (const c of cases) {
    const mine = figures.get(c)!;
    const base = figures.get(cases.find((x) => x.group === c.group && x.baseline)!)!;
    const ratio = median(mine.map((v, i) => v / base[i]!));
    lines.push(
      `| ${c.group} | \`${c.name}\`${c.baseline ? " (baseline)" : ""} | ${format(median(mine))} | ${
        mine.map((v) => (v / 1e3).toFixed(2)).join(", ")
      } | ${ratio.toFixed(2)}x |`,
    );
  }
  process.stdout.write(`${lines.join("\n")}\n`);
  await lab.close();
}

if (import.meta.main) await main();
