import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { VirtualClock } from "../sim/clock.ts";

describe("VirtualClock", () => {
  test("now() starts at 0 and only moves when events run", () => {
    const clock = new VirtualClock();
    assert.equal(clock.now(), 0);
    clock.after(5_000, () => {});
    assert.equal(clock.now(), 0);
    assert.equal(clock.pending, 1);
    assert.equal(clock.nextEventAt(), 5_000);
    clock.run();
    assert.equal(clock.now(), 5_000);
    assert.equal(clock.pending, 0);
    assert.equal(clock.nextEventAt(), undefined);
  });

  test("run() orders events by time, then by the order they were scheduled", () => {
    const clock = new VirtualClock();
    const seen: string[] = [];
    clock.after(30, () => seen.push("c30"));
    clock.after(10, () => seen.push("a10"));
    clock.after(20, () => seen.push("b20"));
    clock.after(10, () => seen.push("a10-second"));
    clock.after(0, () => seen.push("zero"));
    clock.after(10, () => seen.push("a10-third"));
    assert.equal(clock.run(), 6);
    assert.deepEqual(seen, ["zero", "a10", "a10-second", "a10-third", "b20", "c30"]);
  });

  test("run() keeps insertion order among many events due at the same time", () => {
    const clock = new VirtualClock();
    const seen: number[] = [];
    // interleave two times so the heap reorders a lot
    for (let i = 0; i < 200; i++) clock.after(i % 2 === 0 ? 7 : 3, () => seen.push(i));
    clock.run();
    const odd = Array.from({ length: 100 }, (_, k) => 2 * k + 1);
    const even = Array.from({ length: 100 }, (_, k) => 2 * k);
    assert.deepEqual(seen, [...odd, ...even]);
  });

  test("run() runs events scheduled by events, at their own times", () => {
    const clock = new VirtualClock();
    const seen: string[] = [];
    clock.after(10, () => {
      seen.push(`first@${clock.now()}`);
      clock.after(0, () => seen.push(`same-time@${clock.now()}`));
      clock.after(5, () => seen.push(`later@${clock.now()}`));
    });
    clock.after(10, () => seen.push(`second@${clock.now()}`));
    clock.run();
    assert.deepEqual(seen, ["first@10", "second@10", "same-time@10", "later@15"]);
  });

  test("run(untilNs) runs what is due by then and stops the clock there", () => {
    const clock = new VirtualClock();
    const seen: number[] = [];
    for (const t of [100, 200, 300]) clock.after(t, () => seen.push(t));
    assert.equal(clock.run(200), 2);
    assert.deepEqual(seen, [100, 200]);
    assert.equal(clock.now(), 200);
    assert.equal(clock.run(250), 0);
    assert.equal(clock.now(), 250);
    clock.run();
    assert.deepEqual(seen, [100, 200, 300]);
    assert.equal(clock.now(), 300);
  });

  test("step() runs exactly one event", () => {
    const clock = new VirtualClock();
    const seen: number[] = [];
    clock.after(2, () => seen.push(2));
    clock.after(1, () => seen.push(1));
    assert.equal(clock.step(), true);
    assert.deepEqual(seen, [1]);
    assert.equal(clock.now(), 1);
    assert.equal(clock.step(), true);
    assert.equal(clock.step(), false);
    assert.deepEqual(seen, [1, 2]);
    assert.equal(clock.now(), 2);
  });

  test("runUntil() stops as soon as the predicate holds", () => {
    const clock = new VirtualClock();
    let replies = 0;
    for (let i = 1; i <= 5; i++) clock.after(i * 1000, () => replies++);
    assert.equal(clock.runUntil(() => replies === 3, 1e9), true);
    assert.equal(clock.now(), 3000);
    assert.equal(clock.pending, 2);
    // already true: nothing runs
    assert.equal(clock.runUntil(() => true, 1e9), true);
    assert.equal(clock.now(), 3000);
  });

  test("runUntil() gives up at limitNs and leaves later events queued", () => {
    const clock = new VirtualClock();
    let ran = 0;
    clock.after(1_000, () => ran++);
    clock.after(5_000, () => ran++);
    assert.equal(clock.runUntil(() => ran === 2, 2_000), false);
    assert.equal(ran, 1);
    assert.equal(clock.now(), 2_000);
    assert.equal(clock.pending, 1);
  });

  test("run() throws instead of hanging on a timer that re-arms itself", () => {
    const clock = new VirtualClock({ maxEventsPerRun: 1000 });
    function tick(): void {
      clock.after(1_000_000_000, tick);
    }
    clock.after(0, tick);
    assert.throws(() => clock.run(), {
      name: "RangeError",
      message: "Cannot run virtual clock: 1000 events ran in one call at 999000000000 ns and more are due " +
        "(a timer that re-arms itself, or endpoints answering each other forever?); " +
        "run to an end time or raise 'maxEventsPerRun' if this is expected",
    });
    // with an end time the same timer is fine
    const bounded = new VirtualClock({ maxEventsPerRun: 1000 });
    function tock(): void {
      bounded.after(1_000_000_000, tock);
    }
    bounded.after(0, tock);
    assert.equal(bounded.run(10e9), 11);
    assert.equal(bounded.now(), 10e9);
  });

  test("run() throws on a storm of events at one instant", () => {
    const clock = new VirtualClock({ maxEventsPerRun: 500 });
    function echo(): void {
      clock.after(0, echo);
    }
    clock.after(0, echo);
    assert.throws(() => clock.run(1), { name: "RangeError", message: /500 events ran in one call at 0 ns/ });
  });

  test("runUntil() throws instead of hanging when the predicate never holds", () => {
    const clock = new VirtualClock({ maxEventsPerRun: 100 });
    function tick(): void {
      clock.after(1, tick);
    }
    clock.after(1, tick);
    assert.throws(() => clock.runUntil(() => false, 1e12), { name: "RangeError", message: /100 events ran/ });
  });

  test("after() rejects bad delays and too many waiting events", () => {
    const clock = new VirtualClock({ maxPending: 2 });
    assert.throws(() => clock.after(-1, () => {}), {
      name: "RangeError",
      message: "Cannot schedule event as 'delayNs' must be a finite number >= 0: current value is -1",
    });
    assert.throws(() => clock.after(NaN, () => {}), { name: "RangeError" });
    assert.throws(() => clock.after(Infinity, () => {}), { name: "RangeError" });
    clock.after(1, () => {});
    clock.after(1, () => {});
    assert.throws(() => clock.after(1, () => {}), {
      name: "RangeError",
      message:
        "Cannot schedule event: 2 events are already waiting (an event storm?); raise 'maxPending' if this is expected",
    });
  });

  test("run() and runUntil() reject end times in the past", () => {
    const clock = new VirtualClock();
    clock.run(100);
    assert.throws(() => clock.run(50), {
      name: "RangeError",
      message: "Cannot run virtual clock to 50 ns: it is already 100 ns (times are ns since the lab started)",
    });
    assert.throws(() => clock.runUntil(() => false, 10), { name: "RangeError" });
    assert.throws(() => clock.run(Infinity), { name: "RangeError" });
  });

  test("runs do not nest: run() from inside an event throws", () => {
    const clock = new VirtualClock();
    let error: unknown;
    clock.after(1, () => {
      try {
        clock.run();
      } catch (e) {
        error = e;
      }
    });
    clock.run();
    assert.ok(error instanceof Error);
    assert.equal(
      (error as Error).message,
      "Cannot run virtual clock: it is already running (called from inside an event)",
    );
  });

  test("an event that throws stops run(); the clock stays usable", () => {
    const clock = new VirtualClock();
    const seen: number[] = [];
    clock.after(1, () => {
      throw new Error("boom");
    });
    clock.after(2, () => seen.push(2));
    assert.throws(() => clock.run(), { message: "boom" });
    assert.equal(clock.now(), 1);
    clock.run();
    assert.deepEqual(seen, [2]);
  });

  test("constructor rejects limits that are not positive integers", () => {
    assert.throws(() => new VirtualClock({ maxEventsPerRun: 0 }), {
      name: "RangeError",
      message:
        "Cannot create virtual clock as 'maxEventsPerRun' must be a positive integer: current value is 0",
    });
    assert.throws(() => new VirtualClock({ maxPending: 1.5 }), { name: "RangeError" });
  });
});
