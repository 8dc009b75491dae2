import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { MacTable } from "../sim/_fdb.ts";

/** A plain model of the table: a Map in least-to-most-recently-refreshed order. */
class ModelTable {
  readonly entries = new Map<string, { port: number; seen: number }>();
  constructor(readonly capacity: number, readonly agingNs: number) {}
  learn(key: string, port: number, now: number): void {
    const had = this.entries.get(key);
    if (had === undefined && this.entries.size >= this.capacity) {
      this.entries.delete(this.entries.keys().next().value!);
    }
    this.entries.delete(key);
    this.entries.set(key, { port, seen: now });
  }
  lookup(key: string, now: number): number {
    const e = this.entries.get(key);
    if (e === undefined) return -1;
    if (now - e.seen >= this.agingNs) {
      this.entries.delete(key);
      return -1;
    }
    return e.port;
  }
  flushPort(port: number): void {
    for (const [k, e] of this.entries) if (e.port === port) this.entries.delete(k);
  }
}

describe("MacTable", () => {
  test("agrees with a plain LRU model over random learns, lookups, ageing and port flushes", () => {
    let seed = 12345;
    const rand = (n: number) => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
    for (const capacity of [1, 7, 64]) {
      const now = new Float64Array(1);
      const table = new MacTable(capacity, 1_000, now);
      const model = new ModelTable(capacity, 1_000);
      for (let step = 0; step < 20_000; step++) {
        if (rand(10) === 0) now[0]! += rand(300);
        const vlan = rand(3);
        const hi = rand(4);
        const lo = rand(40);
        const key = `${vlan}/${hi}/${lo}`;
        const op = rand(20);
        if (op < 12) {
          const port = rand(8);
          table.learn(vlan, hi, lo, port);
          model.learn(key, port, now[0]!);
        } else if (op < 19) {
          assert.equal(table.lookup(vlan, hi, lo), model.lookup(key, now[0]!), `step ${step}: ${key}`);
        } else {
          const port = rand(8);
          table.flushPort(port);
          model.flushPort(port);
        }
        assert.ok(table.size <= capacity);
      }
      // what is left agrees too, entry by entry
      for (const key of [...model.entries.keys()]) {
        const [vlan, hi, lo] = key.split("/").map(Number) as [number, number, number];
        assert.equal(table.lookup(vlan, hi, lo), model.lookup(key, now[0]!), key);
      }
    }
  });

  test("a full table evicts the least recently refreshed entry, not the first learned", () => {
    const now = new Float64Array(1);
    const table = new MacTable(3, 1e12, now);
    table.learn(1, 0, 1, 1);
    table.learn(1, 0, 2, 2);
    table.learn(1, 0, 3, 3);
    table.learn(1, 0, 1, 1); // refreshed: now the newest
    table.learn(1, 0, 4, 4); // evicts MAC 2
    assert.deepEqual([1, 2, 3, 4].map((lo) => table.lookup(1, 0, lo)), [1, -1, 3, 4]);
  });

  test("learning into a full table costs the same whatever its size (no scan)", () => {
    const time = (capacity: number): number => {
      const now = new Float64Array(1);
      const table = new MacTable(capacity, 1e12, now);
      for (let i = 0; i < capacity; i++) table.learn(1, 0, i, 0);
      const n = 20_000;
      const t0 = performance.now();
      for (let i = 0; i < n; i++) table.learn(1, 1, i, 0);
      return (performance.now() - t0) / n;
    };
    time(64); // warm up
    const small = Math.min(time(64), time(64), time(64));
    const large = Math.min(time(65_536), time(65_536), time(65_536));
    // a scan of the table per learn made the large one about 1,000 times slower
    assert.ok(large < small * 20 + 0.001, `per learn: ${small} ms at 64, ${large} ms at 65,536`);
  });
});
