// Runtime-neutral.
/**
 * Virtual time for the simulator: nanoseconds since the lab started, and a queue of deferred work run in
 * a fixed order, so that a simulated lab behaves the same on every run and every machine.
 *
 * @module
 */

import type { Scheduler } from "./types.ts";

/** Options for {@linkcode VirtualClock}. */
export interface VirtualClockOptions {
  /**
   * Most events one {@linkcode VirtualClock.run} or {@linkcode VirtualClock.runUntil} call may run before
   * it gives up with a `RangeError` (a timer that re-arms itself forever, or endpoints answering each
   * other forever, would otherwise never return).
   * @default {1_000_000}
   */
  maxEventsPerRun?: number;
  /** Most events that may wait in the queue at once; {@linkcode VirtualClock.after} throws beyond. @default {1_000_000} */
  maxPending?: number;
}

/**
 * A deterministic clock: `now()` only moves when events run. Events scheduled with `after()` run in order
 * of their time, and events due at the same time in the order they were scheduled.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { VirtualClock } from "labwire/sim";
 *
 * const clock = new VirtualClock();
 * const seen: string[] = [];
 * clock.after(2_000, () => seen.push(`b at ${clock.now()}`));
 * clock.after(1_000, () => seen.push(`a at ${clock.now()}`));
 * clock.run();
 * assert.deepEqual(seen, ["a at 1000", "b at 2000"]);
 * ```
 */
export class VirtualClock implements Scheduler {
  #now = 0;
  #seq = 0;
  /** A binary min-heap on (time, seq), kept as parallel arrays. */
  #times: number[] = [];
  #seqs: number[] = [];
  #fns: (() => void)[] = [];
  #running = false;
  #maxEventsPerRun: number;
  #maxPending: number;

  /**
   * @param options Limits against runaway event storms.
   * @throws {RangeError} If a limit is not a positive integer.
   */
  constructor(options: VirtualClockOptions = {}) {
    const { maxEventsPerRun = 1_000_000, maxPending = 1_000_000 } = options;
    checkLimit("maxEventsPerRun", maxEventsPerRun);
    checkLimit("maxPending", maxPending);
    this.#maxEventsPerRun = maxEventsPerRun;
    this.#maxPending = maxPending;
  }

  /** Nanoseconds since the lab started. */
  now(): number {
    return this.#now;
  }

  /** Events waiting to run. */
  get pending(): number {
    return this.#times.length;
  }

  /** When the next event is due, or `undefined` when none is waiting. */
  nextEventAt(): number | undefined {
    return this.#times[0];
  }

  /**
   * Schedules `fn` to run once, `delayNs` nanoseconds from now (0: after the events already due now).
   *
   * @param delayNs Nanoseconds from now; a finite number >= 0.
   * @param fn The work to do.
   * @throws {RangeError} If `delayNs` is negative or not finite, or `maxPending` events are waiting.
   */
  after(delayNs: number, fn: () => void): void {
    if (!(Number.isFinite(delayNs) && delayNs >= 0)) {
      throw new RangeError(
        `Cannot schedule event as 'delayNs' must be a finite number >= 0: current value is ${delayNs}`,
      );
    }
    if (typeof fn !== "function") throw new TypeError("Cannot schedule event as 'fn' is not a function");
    const times = this.#times;
    if (times.length >= this.#maxPending) {
      throw new RangeError(
        `Cannot schedule event: ${times.length} events are already waiting (an event storm?); raise 'maxPending' if this is expected`,
      );
    }
    const seqs = this.#seqs;
    const fns = this.#fns;
    const time = this.#now + delayNs;
    const seq = this.#seq++;
    // sift up
    let i = times.length;
    times.push(time);
    seqs.push(seq);
    fns.push(fn);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const pt = times[parent]!;
      if (pt < time || (pt === time && seqs[parent]! < seq)) break;
      times[i] = pt;
      seqs[i] = seqs[parent]!;
      fns[i] = fns[parent]!;
      i = parent;
    }
    times[i] = time;
    seqs[i] = seq;
    fns[i] = fn;
  }

  /**
   * Runs the next event, moving the clock to its time.
   *
   * @returns Whether an event ran (false when the queue is empty).
   * @throws {Error} If called from inside an event (runs do not nest).
   */
  step(): boolean {
    this.#enter("step");
    try {
      return this.#runOne(Infinity);
    } finally {
      this.#running = false;
    }
  }

  /**
   * Runs events in order. Without `untilNs`, until the queue is empty; with it, every event due at or
   * before `untilNs` (including those they schedule), and then moves the clock to `untilNs`.
   *
   * @param untilNs The virtual time (ns since start) to run to; not before `now()`.
   * @returns How many events ran.
   * @throws {RangeError} If `untilNs` is before `now()`, or more than `maxEventsPerRun` events ran.
   * @throws {Error} If called from inside an event (runs do not nest).
   */
  run(untilNs?: number): number {
    if (untilNs !== undefined) this.#checkTarget("run", untilNs);
    this.#enter("run");
    try {
      const limit = untilNs ?? Infinity;
      const max = this.#maxEventsPerRun;
      let ran = 0;
      while (this.#runOne(limit)) {
        if (++ran >= max && this.#times.length > 0 && this.#times[0]! <= limit) this.#storm(ran);
      }
      if (untilNs !== undefined) this.#now = untilNs;
      return ran;
    } finally {
      this.#running = false;
    }
  }

  /**
   * Runs events one at a time until `predicate()` is true (checked before the first event and after
   * each one), or until no event is due at or before `limitNs`; then the clock stands at `limitNs`.
   *
   * @param predicate What to wait for.
   * @param limitNs The virtual time (ns since start, not a duration) at which to give up.
   * @returns Whether `predicate()` became true.
   * @throws {RangeError} If `limitNs` is before `now()`, or more than `maxEventsPerRun` events ran.
   * @throws {Error} If called from inside an event (runs do not nest).
   */
  runUntil(predicate: () => boolean, limitNs: number): boolean {
    this.#checkTarget("runUntil", limitNs);
    this.#enter("runUntil");
    try {
      const max = this.#maxEventsPerRun;
      let ran = 0;
      while (!predicate()) {
        if (!this.#runOne(limitNs)) {
          this.#now = limitNs;
          return false;
        }
        if (++ran >= max && !predicate() && this.#times.length > 0 && this.#times[0]! <= limitNs) {
          this.#storm(ran);
        }
      }
      return true;
    } finally {
      this.#running = false;
    }
  }

  /** Pops and runs the next event if it is due at or before `limit`. */
  #runOne(limit: number): boolean {
    const times = this.#times;
    if (times.length === 0 || times[0]! > limit) return false;
    const seqs = this.#seqs;
    const fns = this.#fns;
    const time = times[0]!;
    const fn = fns[0]!;
    // move the last entry to the root and sift it down
    const lastTime = times.pop()!;
    const lastSeq = seqs.pop()!;
    const lastFn = fns.pop()!;
    const n = times.length;
    if (n > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        let c = l;
        if (r < n && (times[r]! < times[l]! || (times[r] === times[l] && seqs[r]! < seqs[l]!))) c = r;
        const ct = times[c]!;
        if (lastTime < ct || (lastTime === ct && lastSeq < seqs[c]!)) break;
        times[i] = ct;
        seqs[i] = seqs[c]!;
        fns[i] = fns[c]!;
        i = c;
      }
      times[i] = lastTime;
      seqs[i] = lastSeq;
      fns[i] = lastFn;
    }
    this.#now = time;
    fn();
    return true;
  }

  #enter(what: string): void {
    if (this.#running) {
      throw new Error(`Cannot ${what} virtual clock: it is already running (called from inside an event)`);
    }
    this.#running = true;
  }

  #checkTarget(what: string, ns: number): void {
    if (!Number.isFinite(ns)) {
      throw new RangeError(
        `Cannot ${what} virtual clock as the end time must be a finite number of ns: current value is ${ns}`,
      );
    }
    if (ns < this.#now) {
      throw new RangeError(
        `Cannot ${what} virtual clock to ${ns} ns: it is already ${this.#now} ns (times are ns since the lab started)`,
      );
    }
  }

  #storm(ran: number): never {
    throw new RangeError(
      `Cannot run virtual clock: ${ran} events ran in one call at ${this.#now} ns and more are due ` +
        `(a timer that re-arms itself, or endpoints answering each other forever?); ` +
        `run to an end time or raise 'maxEventsPerRun' if this is expected`,
    );
  }
}

function checkLimit(name: string, value: number): void {
  if (!(Number.isInteger(value) && value > 0)) {
    throw new RangeError(
      `Cannot create virtual clock as '${name}' must be a positive integer: current value is ${value}`,
    );
  }
}
