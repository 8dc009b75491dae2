/**
 * VLAN allocation must not slow down as the table fills: allocating the last 1,000 aliases of the
 * default range should cost about what the first 1,000 cost, a full 3,995 fill about four times that,
 * and a lookup should not depend on the table's size. Run with `deno bench bench/vlans.bench.ts`.
 */
import { Vlans } from "../lib/vlans.ts";

const FULL = 3995; // 101..4095
const names = Array.from({ length: FULL }, (_, i) => `net${i}`);

function filled(count: number): Vlans {
  const vlans = new Vlans();
  for (let i = 0; i < count; i++) vlans.allocate("minimega", names[i]!);
  return vlans;
}

Deno.bench("allocate the first 1,000 aliases", { group: "allocate", baseline: true }, (b) => {
  const vlans = new Vlans();
  b.start();
  for (let i = 0; i < 1000; i++) vlans.allocate("minimega", names[i]!);
  b.end();
});

Deno.bench("allocate the last 1,000 aliases (2,995 already taken)", { group: "allocate" }, (b) => {
  const vlans = filled(FULL - 1000);
  b.start();
  for (let i = FULL - 1000; i < FULL; i++) vlans.allocate("minimega", names[i]!);
  b.end();
});

Deno.bench("fill the default range (3,995 aliases)", { group: "allocate" }, (b) => {
  const vlans = new Vlans();
  b.start();
  for (let i = 0; i < FULL; i++) vlans.allocate("minimega", names[i]!);
  b.end();
  if (vlans.range("minimega")!.next !== 4095) throw new Error("Cannot fill the VLAN range: wrong last VLAN");
});

const small = filled(1);
const full = filled(FULL);

Deno.bench("lookup an existing alias (1 alias)", { group: "lookup", baseline: true }, () => {
  small.lookup("minimega", "net0");
});

Deno.bench("lookup an existing alias (3,995 aliases)", { group: "lookup" }, () => {
  full.lookup("minimega", "net3000");
});

Deno.bench("lookup an aliased number (3,995 aliases)", { group: "lookup" }, () => {
  full.lookup("minimega", "foo//3101");
});
