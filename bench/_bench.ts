/**
 * Benchmark cases, written once: each is registered with `Deno.bench` (for `deno bench`) and kept in
 * {@linkcode cases} for `scripts/bench_report.ts`, which measures medians and ratios against each
 * group's baseline in the same run, under Deno or Bun.
 *
 * @module
 */

/** Marks the part of a case that is timed; what comes before `start()` is set-up. */
export interface BenchTimer {
  /** Starts the timed part. */
  start(): void;
  /** Ends the timed part. */
  end(): void;
}

/** One benchmark. */
export interface BenchCase {
  /** What it measures. */
  readonly name: string;
  /** Cases compared with each other. */
  readonly group: string;
  /** The case the others in the group are compared with. */
  readonly baseline?: boolean;
  /** How many operations one call does (reported per operation). @default {1} */
  readonly ops?: number;
  /** One run; call `timer.start()` / `timer.end()` to leave set-up out. */
  readonly fn: (timer: BenchTimer) => void;
}

/** Every case registered so far. */
export const cases: BenchCase[] = [];

/** Registers a case with `Deno.bench` (when running under `deno bench`) and in {@linkcode cases}. */
export function bench(c: BenchCase): void {
  cases.push(c);
  denoBench(c);
}

/**
 * Registers a case, synchronous or not, with `Deno.bench` when running under `deno bench` (elsewhere,
 * nothing).
 */
export function denoBench(
  c: {
    readonly name: string;
    readonly group: string;
    readonly baseline?: boolean;
    readonly fn: (timer: BenchTimer) => unknown;
  },
): void {
  const deno = (globalThis as { Deno?: { bench?: (o: unknown) => void } }).Deno;
  deno?.bench?.({
    name: c.name,
    group: c.group,
    baseline: c.baseline ?? false,
    fn: (b: BenchTimer) => c.fn(b),
  });
}
