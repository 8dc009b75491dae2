/**
 * VLAN allocation must not slow down as the table fills: allocating the last 1,000 aliases of the
 * default range should cost about what the first 1,000 cost, and a full 3,994 fill about four times
 * that; a lookup should not depend on the table's size. `deno bench bench/vlans.bench.ts`, or medians
 * with `deno run -A scripts/bench_report.ts`.
 *
 * @module
 */
import { Vlans } from "../lib/vlans.ts";
import { bench } from "./_bench.ts";

const FULL = 3994; // 101..4094: VLANs 0 and 4095 never reach a bridge
const names = Array.from({ length: FULL }, (_, i) => `net${i}`);

function filled(count: number): Vlans {
  const vlans = new Vlans();
  for (let i = 0; i < count; i++) vlans.allocate("minimega", names[i]!);
  return vlans;
}

bench({
  name: "allocate the first 1,000 aliases",
  group: "allocate",
  baseline: true,
  ops: 1000,
  fn(t) {
    const vlans = new Vlans();
    t.start();
    for (let i = 0; i < 1000; i++) vlans.allocate("minimega", names[i]!);
    t.end();
  },
});

bench({
  name: "allocate the last 1,000 aliases (2,994 already taken)",
  group: "allocate",
  ops: 1000,
  fn(t) {
    const vlans = filled(FULL - 1000);
    t.start();
    for (let i = FULL - 1000; i < FULL; i++) vlans.allocate("minimega", names[i]!);
    t.end();
  },
});

bench({
  name: "allocate all 3,994 aliases of the default range",
  group: "allocate",
  ops: FULL,
  fn(t) {
    const vlans = new Vlans();
    t.start();
    for (let i = 0; i < FULL; i++) vlans.allocate("minimega", names[i]!);
    t.end();
    if (vlans.range("minimega")!.next !== 4094) { // the last VLAN
      throw new Error("Cannot fill the VLAN range: wrong last VLAN");
    }
  },
});

const small = filled(1);
const full = filled(FULL);

bench({
  name: "lookup an existing alias (1 alias)",
  group: "lookup",
  baseline: true,
  fn: () => small.lookup("minimega", "net0"),
});
bench({
  name: "lookup an existing alias (3,994 aliases)",
  group: "lookup",
  fn: () => full.lookup("minimega", "net3000"),
});
bench({
  name: "lookup an aliased number (3,994 aliases)",
  group: "lookup",
  fn: () => full.lookup("minimega", "foo//3101"),
});
