import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  ALIAS_SEP,
  DEFAULT_NAMESPACE,
  DEFAULT_VLAN_RANGE,
  FIRST_VLAN,
  LAST_VLAN,
  parseAlias,
  VlanError,
  Vlans,
  type VlansState,
} from "../lib/vlans.ts";
import { parseGoInt } from "../lib/go_int.ts";

/** A table that records its warnings. */
function withWarnings(options: { range?: { min: number; max: number } } = {}): {
  vlans: Vlans;
  warnings: string[];
} {
  const warnings: string[] = [];
  const vlans = new Vlans({ ...options, onWarning: (m) => warnings.push(m) });
  return { vlans, warnings };
}

/** The `vlans` listing rows as minimega prints them, sorted (byte order suffices for these names). */
function listing(vlans: Vlans, namespace: string): string[][] {
  return vlans.aliases(namespace)
    .map((r) => [r.alias, String(r.vlan)])
    .sort((a, b) => (a[0]! < b[0]! ? -1 : a[0]! > b[0]! ? 1 : 0));
}

/** Deterministic PRNG (mulberry32). */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return function next(): number {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe("constants", () => {
  test("`DEFAULT_NAMESPACE` and `ALIAS_SEP` are minimega's; `DEFAULT_VLAN_RANGE` stops before 4095", () => {
    assert.equal(DEFAULT_NAMESPACE, "minimega");
    assert.equal(ALIAS_SEP, "//");
    assert.deepEqual([FIRST_VLAN, LAST_VLAN], [1, 4094]);
    assert.deepEqual(DEFAULT_VLAN_RANGE, { min: 101, max: 4095 }); // minimega: [101, 4096)
    assert.ok(Object.isFrozen(DEFAULT_VLAN_RANGE));
  });
});

describe("parseAlias()", () => {
  test("`parseAlias()` keeps the namespace when there is no separator (alias_test.go)", () => {
    assert.deepEqual(parseAlias("", "foo"), { namespace: "", value: "foo" });
    assert.deepEqual(parseAlias("bar", "foo"), { namespace: "bar", value: "foo" });
  });
  test("`parseAlias()` takes the namespace from before the separator (alias_test.go)", () => {
    assert.deepEqual(parseAlias("bar", "foo//woo"), { namespace: "foo", value: "woo" });
  });
  test("`parseAlias()` splits on the first `//` only", () => {
    assert.deepEqual(parseAlias("x", "a//b//c"), { namespace: "a", value: "b//c" });
    assert.deepEqual(parseAlias("x", "//c"), { namespace: "", value: "c" });
    assert.deepEqual(parseAlias("x", "a//"), { namespace: "a", value: "" });
    assert.deepEqual(parseAlias("x", "a/b"), { namespace: "x", value: "a/b" });
  });
});

describe("parseGoInt()", () => {
  test("`parseGoInt()` accepts what strconv.Atoi accepts", () => {
    const cases: [string, number][] = [
      ["0", 0],
      ["5", 5],
      ["+5", 5],
      ["-5", -5],
      ["0100", 100],
      ["-0", 0],
      ["+0", 0],
      ["0000000000000000000000000001", 1],
      ["9223372036854775807", 9223372036854775807],
      ["-9223372036854775808", -9223372036854775808],
      ["0009223372036854775807", 9223372036854775807],
    ];
    for (const [s, n] of cases) assert.equal(parseGoInt(s), n, s);
    assert.ok(Object.is(parseGoInt("-0"), 0), "-0 becomes 0");
  });
  test("`parseGoInt()` rejects what strconv.Atoi rejects", () => {
    const rejected = [
      "",
      " 5",
      "5 ",
      "5.0",
      "0x10",
      "1e3",
      "+",
      "-",
      "+-5",
      "1_000",
      "five",
      "\u0663", // ARABIC-INDIC DIGIT THREE
      "9223372036854775808",
      "-9223372036854775809",
      "99999999999999999999",
    ];
    for (const s of rejected) assert.equal(parseGoInt(s), undefined, JSON.stringify(s));
  });
});

describe("VlanError", () => {
  test("`VlanError` carries its code, namespace and VLAN", () => {
    const e = new VlanError("vlan-in-use", { namespace: "foo", vlan: 200 });
    assert.ok(e instanceof Error);
    assert.equal(e.name, "VlanError");
    assert.equal(e.message, "vlan already in use");
    assert.equal(e.code, "vlan-in-use");
    assert.equal(e.namespace, "foo");
    assert.equal(e.vlan, 200);
    assert.equal(new VlanError("alias-in-use", { namespace: "foo" }).message, "alias already in use");
    assert.equal(
      new VlanError("range-overlap", { namespace: "foo" }).message,
      "range overlaps with another namespace: foo",
    );
  });
});

describe("Vlans", () => {
  test("`new Vlans()` starts with the global range 101-4095 (VLANs 101 to 4094)", () => {
    const vlans = new Vlans();
    assert.deepEqual(vlans.range("minimega"), { min: 101, max: 4095, next: 101 });
    assert.deepEqual(vlans.range(""), { min: 101, max: 4095, next: 101 });
    assert.deepEqual([...vlans.ranges()], [["", { min: 101, max: 4095, next: 101 }]]);
    assert.deepEqual(vlans.blacklisted(), []);
    assert.deepEqual(vlans.namespaces(), []);
  });

  test("`new Vlans()` takes another global range and rejects bad ones", () => {
    const vlans = new Vlans({ range: { min: 10, max: 12 } });
    assert.equal(vlans.allocate("minimega", "A").vlan, 10);
    assert.equal(vlans.allocate("minimega", "B").vlan, 11);
    assert.throws(() => vlans.allocate("minimega", "C"), { name: "RangeError", message: "out of VLANs" });
    assert.throws(() => new Vlans({ range: { min: 5, max: 5 } }), {
      name: "RangeError",
      message: "Cannot create VLAN table as min must be less than max: current values 5, 5",
    });
    assert.throws(() => new Vlans({ range: { min: 1.5, max: 5 } }), {
      name: "TypeError",
      message: "Cannot create VLAN table as min must be a safe integer: current value is 1.5",
    });
  });

  // --- internal/vlans/vlans_test.go ---

  test("`Vlans.allocate()` is idempotent per alias (TestAllocate)", () => {
    const vlans = new Vlans();
    for (let i = 0; i < 10; i++) {
      const want = vlans.allocate("", String(i));
      assert.equal(want.created, true);
      const got = vlans.allocate("", String(i));
      assert.equal(got.created, false);
      assert.equal(got.vlan, want.vlan);
    }
  });

  test("`Vlans.allocate()` gives the same alias different VLANs in two namespaces (TestAllocateNamespace)", () => {
    const vlans = new Vlans();
    for (let i = 0; i < 10; i++) {
      const a = vlans.allocate("foo", String(i));
      const b = vlans.allocate("bar", String(i));
      assert.ok(a.created && b.created);
      assert.notEqual(a.vlan, b.vlan);
    }
  });

  test("`Vlans.allocate()` throws 'out of VLANs' after exactly 3,994 aliases (TestAllocateOutOfVLANs, less 4095)", () => {
    const vlans = new Vlans();
    let allocated = 0;
    let error: unknown;
    for (let i = 0; i < 4096; i++) {
      try {
        const { vlan } = vlans.allocate("", String(i));
        assert.equal(vlan, 101 + i);
        allocated++;
      } catch (e) {
        error = e;
        break;
      }
    }
    assert.equal(allocated, 3994); // minimega: 3,995, VLAN 4095 included
    assert.ok(error instanceof RangeError);
    assert.equal(error.message, "out of VLANs");
    // minimega leaves the search position where it failed, and keeps failing.
    assert.deepEqual(vlans.range(""), { min: 101, max: 4095, next: 4095 });
    assert.throws(() => vlans.lookup("minimega", "more"), { name: "RangeError", message: "out of VLANs" });
    assert.equal(vlans.get("", "3994"), undefined);
    assert.equal(vlans.aliasOf(4095), undefined);
  });

  test("`Vlans.clear()` without a prefix lets an alias be re-created (TestAllocateDeleteAllocate)", () => {
    const vlans = new Vlans();
    for (let i = 0; i < 10; i++) {
      const alias = String(i);
      assert.equal(vlans.allocate("", alias).created, true);
      vlans.clear("", "");
      assert.deepEqual(vlans.allocate("", alias), { vlan: 101, created: true });
    }
  });

  test("`Vlans.clear()` of one namespace keeps the others (TestAllocateDeleteAllocateNamespace)", () => {
    const vlans = new Vlans();
    for (let i = 0; i < 10; i++) {
      assert.equal(vlans.allocate("foo", String(i)).created, true);
      assert.equal(vlans.allocate("bar", String(i)).created, true);
    }
    vlans.clear("foo");
    for (let i = 0; i < 10; i++) {
      assert.equal(vlans.allocate("foo", String(i)).created, true);
      assert.equal(vlans.allocate("bar", String(i)).created, false);
    }
  });

  test("`Vlans.setRange()` on the global range allocates [1,101) (TestAllocateRange, shifted: no VLAN 0)", () => {
    const vlans = new Vlans();
    vlans.setRange("", 1, 101); // minimega's test: [0,100), VLAN 0 included
    for (let i = 0; i < 100; i++) {
      assert.deepEqual(vlans.allocate("", String(i)), { vlan: i + 1, created: true });
    }
    assert.throws(() => vlans.allocate("", "100"), { name: "RangeError", message: "out of VLANs" });
  });

  test("`Vlans.setRange()` accepts touching ranges foo [1,101) and bar [101,201) (TestAllocateRangeNamespace, shifted)", () => {
    const vlans = new Vlans();
    vlans.setRange("foo", 1, 101); // minimega's test: [0,100), OK
    vlans.setRange("bar", 101, 201); // minimega: "range overlaps with another namespace: foo"; labwire: OK
    for (let i = 0; i < 100; i++) {
      const a = vlans.allocate("foo", String(i));
      assert.ok(a.created && a.vlan >= 1 && a.vlan < 101);
      const b = vlans.allocate("bar", String(i));
      assert.ok(b.created && b.vlan >= 101 && b.vlan < 201);
    }
    assert.throws(() => vlans.allocate("foo", "x"), { name: "RangeError", message: "out of VLANs" });
    assert.throws(() => vlans.allocate("bar", "x"), { name: "RangeError", message: "out of VLANs" });
    // The global range skips both blocks.
    assert.equal(vlans.allocate("minimega", "x").vlan, 201);
  });

  test("`Vlans` keeps one VLAN per alias across allocate/get/clear-by-prefix (TestParallel, sequential)", () => {
    const vlans = new Vlans();
    for (let i = 0; i < 1000; i++) {
      const alias = `${i}net`;
      const { vlan, created } = vlans.allocate("", alias);
      assert.equal(created, true);
      assert.deepEqual(vlans.aliasOf(vlan), { namespace: "", value: alias });
      assert.equal(vlans.get("", alias), vlan);
      vlans.clear("", alias);
      assert.equal(vlans.aliasOf(vlan), undefined);
      assert.equal(vlans.get("", alias), undefined);
    }
  });

  test("`Vlans` keeps its invariants under a random interleaving of every operation", () => {
    const rand = prng(0x1abe1);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
    const namespaces = ["minimega", "foo", "bar", "baz"];
    const names = Array.from({ length: 40 }, (_, i) => `n${i}`);
    const { vlans, warnings } = withWarnings({ range: { min: 101, max: 400 } });
    let created = 0;
    for (let step = 0; step < 5000; step++) {
      const ns = pick(namespaces);
      const before = new Set([...vlans.aliases("").map((r) => r.vlan), ...vlans.blacklisted()]);
      const blacklistBefore = vlans.blacklisted();
      const op = Math.floor(rand() * 100);
      try {
        if (op < 45) {
          const token = rand() < 0.1 ? `${pick(namespaces)}//${pick(names)}` : pick(names);
          const r = op < 25 ? vlans.allocate(ns, token) : vlans.lookup(ns, token);
          if (r.created) {
            created++;
            assert.ok(!before.has(r.vlan), `step ${step}: ${r.vlan} was taken`);
            const owner = parseAlias(ns, token).namespace;
            const own = owner === "minimega" ? undefined : vlans.range(owner);
            const range = own ?? vlans.range("")!;
            assert.ok(r.vlan >= range.min && r.vlan < range.max, `step ${step}: ${r.vlan} out of range`);
            assert.equal(range.next, r.vlan, "next stays on the VLAN handed out");
            if (own === undefined) {
              for (const [key, other] of vlans.ranges()) {
                if (key !== "") {
                  assert.ok(r.vlan < other.min || r.vlan >= other.max, "inside a namespace range");
                }
              }
            }
          } else {
            assert.equal(vlans.lookup(ns, token).vlan, r.vlan);
          }
        } else if (op < 55) {
          const n = 90 + Math.floor(rand() * 320);
          assert.equal(vlans.lookup(ns, String(n)).vlan, n);
          assert.ok(vlans.isBlacklisted(n) || vlans.aliasOf(n) !== undefined);
        } else if (op < 62) {
          vlans.add(ns, pick(names), 90 + Math.floor(rand() * 320));
        } else if (op < 67) {
          vlans.blacklist(90 + Math.floor(rand() * 320));
        } else if (op < 75) {
          vlans.clear(ns, pick(["n1", "n2", "n3"]));
        } else if (op < 79) {
          vlans.clear(ns);
          for (const n of blacklistBefore) assert.ok(vlans.isBlacklisted(n), "clear keeps the blacklist");
        } else if (op < 85) {
          const min = 101 + Math.floor(rand() * 280);
          vlans.setRange(pick(namespaces.slice(1)), min, min + 1 + Math.floor(rand() * 20));
        } else if (op < 86) {
          vlans.reset();
        } else if (op < 93) {
          const state = JSON.parse(JSON.stringify(vlans.toJSON())) as VlansState;
          assert.deepEqual(Vlans.fromJSON(state).toJSON(), vlans.toJSON());
        } else {
          for (const r of vlans.aliases(ns)) assert.equal(vlans.format(ns, r.vlan), `${r.alias} (${r.vlan})`);
        }
      } catch (e) {
        if (!(e instanceof VlanError || (e instanceof RangeError && e.message === "out of VLANs"))) throw e;
      }
      // Invariants: aliases and VLANs are one-to-one, and no alias sits on a blacklisted VLAN.
      const seen = new Set<number>();
      for (const { alias, vlan } of vlans.aliases("")) {
        assert.ok(!seen.has(vlan), `step ${step}: two aliases share VLAN ${vlan}`);
        seen.add(vlan);
        assert.ok(!vlans.isBlacklisted(vlan), `step ${step}: alias on blacklisted VLAN ${vlan}`);
        const a = parseAlias("", alias);
        assert.deepEqual(vlans.aliasOf(vlan), a);
        assert.equal(vlans.get("", alias), vlan);
      }
      let perNamespace = 0;
      for (const n of new Set([...namespaces, ...vlans.namespaces()])) {
        perNamespace += vlans.aliases(n).length;
      }
      assert.equal(perNamespace, seen.size);
    }
    assert.ok(created > 200, `only ${created} allocations`);
    assert.ok(warnings.length > 0);
  });

  // --- ParseVLAN ---

  test("`Vlans.parse()` reads numbers as Atoi does and blacklists unknown ones", () => {
    const { vlans, warnings } = withWarnings();
    assert.equal(vlans.parse("minimega", "+5"), 5);
    assert.equal(vlans.parse("minimega", "0100"), 100);
    assert.equal(vlans.parse("minimega", "1"), 1);
    assert.equal(vlans.parse("minimega", "4094"), 4094);
    assert.equal(vlans.parse("foo", "bar//7"), 7);
    assert.deepEqual(vlans.blacklisted(), [1, 5, 7, 100, 4094]);
    assert.deepEqual(warnings, [
      "Blacklisting manually specified VLAN 5",
      "Blacklisting manually specified VLAN 100",
      "Blacklisting manually specified VLAN 1",
      "Blacklisting manually specified VLAN 4094",
      "Blacklisting manually specified VLAN 7",
    ]);
    warnings.length = 0;
    assert.equal(vlans.parse("minimega", "100"), 100);
    assert.deepEqual(warnings, [], "an already blacklisted VLAN is returned silently");
  });

  test("`Vlans.parse()` throws 'invalid VLAN (0 <= vlan < 4096)' outside 0..4095", () => {
    const vlans = new Vlans();
    for (const token of ["4096", "ns//4096", "-1", "minimega//-1", "9223372036854775807", "+4096"]) {
      assert.throws(() => vlans.parse("minimega", token), {
        name: "RangeError",
        message: "invalid VLAN (0 <= vlan < 4096)",
      }, token);
    }
    assert.deepEqual(vlans.blacklisted(), []);
  });

  test("`Vlans.parse()` refuses 0 and 4095, which minimega takes, and blacklists neither", () => {
    const { vlans, warnings } = withWarnings();
    const cases: [string, string][] = [
      [
        "0",
        "invalid VLAN 0: labwire uses 1 <= vlan <= 4094 (on VLAN 0 a port has no tag and carries every VLAN)",
      ],
      [
        "+0",
        "invalid VLAN 0: labwire uses 1 <= vlan <= 4094 (on VLAN 0 a port has no tag and carries every VLAN)",
      ],
      [
        "foo//0",
        "invalid VLAN 0: labwire uses 1 <= vlan <= 4094 (on VLAN 0 a port has no tag and carries every VLAN)",
      ],
      ["4095", "invalid VLAN 4095: labwire uses 1 <= vlan <= 4094 (802.1Q reserves 4095)"],
      ["04095", "invalid VLAN 4095: labwire uses 1 <= vlan <= 4094 (802.1Q reserves 4095)"],
    ];
    for (const [token, message] of cases) {
      assert.throws(() => vlans.parse("minimega", token), { name: "RangeError", message }, token);
      assert.throws(() => vlans.lookup("minimega", token), { name: "RangeError", message }, token);
    }
    assert.deepEqual(vlans.blacklisted(), []);
    assert.deepEqual(warnings, []);
  });

  test("`Vlans.parse()` warns about an aliased number and does not blacklist it", () => {
    const { vlans, warnings } = withWarnings();
    vlans.allocate("minimega", "A");
    assert.equal(vlans.parse("foo", "101"), 101);
    assert.deepEqual(warnings, ["VLAN 101 has alias minimega//A"]);
    assert.deepEqual(vlans.blacklisted(), []);
    assert.equal(vlans.get("minimega", "A"), 101);
  });

  test("`Vlans.parse()` resolves aliases and returns undefined for unallocated ones", () => {
    const vlans = new Vlans();
    vlans.allocate("foo", "A");
    assert.equal(vlans.parse("foo", "A"), 101);
    assert.equal(vlans.parse("bar", "foo//A"), 101);
    assert.equal(vlans.parse("bar", "A"), undefined);
    assert.equal(vlans.parse("bar", ""), undefined);
    // Beyond int64 Atoi fails, so the token is an alias, as in minimega.
    assert.equal(vlans.parse("bar", "99999999999999999999"), undefined);
    assert.deepEqual(vlans.lookup("bar", "99999999999999999999"), { vlan: 102, created: true });
    assert.deepEqual(vlans.blacklisted(), []);
  });

  // --- lookupVLAN ---

  test("`Vlans.lookup()` throws 'VLAN must be non-empty string' for an empty token", () => {
    const vlans = new Vlans();
    assert.throws(() => vlans.lookup("minimega", ""), {
      name: "TypeError",
      message: "VLAN must be non-empty string",
    });
  });

  test("`Vlans.lookup()` returns numbers, then existing aliases, then allocates", () => {
    const vlans = new Vlans();
    assert.deepEqual(vlans.lookup("minimega", "100"), { vlan: 100, created: false });
    assert.deepEqual(vlans.lookup("minimega", "LAN"), { vlan: 101, created: true });
    assert.deepEqual(vlans.lookup("minimega", "LAN"), { vlan: 101, created: false });
    assert.deepEqual(vlans.lookup("foo", "minimega//LAN"), { vlan: 101, created: false });
    assert.deepEqual(vlans.lookup("foo", "bar//LAN"), { vlan: 102, created: true });
    assert.equal(vlans.get("bar", "LAN"), 102);
    assert.deepEqual(vlans.lookup("foo", "foo//"), { vlan: 103, created: true });
    assert.throws(() => vlans.lookup("minimega", "4096"), { message: "invalid VLAN (0 <= vlan < 4096)" });
  });

  // --- allocation details ---

  test("`Vlans.allocate()` never reads the alias as a number", () => {
    const vlans = new Vlans();
    assert.deepEqual(vlans.allocate("minimega", "5000"), { vlan: 101, created: true });
    assert.deepEqual(vlans.blacklisted(), []);
  });

  test("`Vlans.allocate()` skips blacklisted and manually added VLANs", () => {
    const vlans = new Vlans();
    vlans.blacklist(101);
    vlans.add("minimega", "manual", 102);
    vlans.parse("minimega", "104");
    assert.equal(vlans.allocate("minimega", "A").vlan, 103);
    assert.equal(vlans.allocate("minimega", "B").vlan, 105);
    assert.equal(vlans.range("minimega")!.next, 105);
  });

  test("`Vlans.allocate()` on the global range jumps over namespace ranges", () => {
    const vlans = new Vlans();
    vlans.setRange("foo", 103, 105);
    vlans.setRange("bar", 105, 110);
    const got = ["a", "b", "c", "d"].map((a) => vlans.allocate("minimega", a).vlan);
    assert.deepEqual(got, [101, 102, 110, 111]);
    // A namespace without a range of its own uses the global range too.
    assert.equal(vlans.allocate("baz", "a").vlan, 112);
    assert.equal(vlans.allocate("foo", "a").vlan, 103);
    assert.equal(vlans.allocate("bar", "a").vlan, 105);
  });

  test("`Vlans.allocate()` jumps past a namespace range that ends the global range, then runs out", () => {
    const vlans = new Vlans({ range: { min: 101, max: 110 } });
    vlans.setRange("foo", 105, 200);
    for (const a of ["a", "b", "c", "d"]) vlans.allocate("minimega", a);
    assert.throws(() => vlans.allocate("minimega", "e"), { name: "RangeError", message: "out of VLANs" });
    assert.equal(vlans.range("minimega")!.next, 200);
  });

  test("`Vlans.allocate()` reuses freed VLANs only after next is reset", () => {
    const vlans = new Vlans();
    for (const a of ["a1", "a2", "b1"]) vlans.allocate("minimega", a);
    vlans.clear("minimega", "a");
    assert.deepEqual(vlans.range("minimega"), { min: 101, max: 4095, next: 103 }, "a prefix leaves next");
    assert.equal(vlans.allocate("minimega", "c").vlan, 104);
    vlans.clear("foo");
    assert.equal(vlans.range("minimega")!.next, 101, "a clear without prefix, in any namespace, resets next");
    assert.equal(vlans.allocate("minimega", "d").vlan, 101);
    assert.equal(vlans.allocate("minimega", "e").vlan, 102);
    assert.equal(vlans.allocate("minimega", "f").vlan, 105);
  });

  // --- vlans add ---

  test("`Vlans.add()` maps an alias to a number 1 to 4094", () => {
    const vlans = new Vlans();
    vlans.add("minimega", "foo", 200);
    vlans.add("minimega", "low", 1);
    vlans.add("minimega", "high", 4094);
    vlans.add("minimega", "bar//x", 300);
    assert.equal(vlans.get("minimega", "foo"), 200);
    assert.equal(vlans.get("minimega", "low"), 1);
    assert.equal(vlans.get("minimega", "high"), 4094);
    assert.equal(vlans.get("bar", "x"), 300);
    assert.deepEqual(listing(vlans, "minimega"), [["foo", "200"], ["high", "4094"], ["low", "1"]]);
    assert.equal(vlans.format("minimega", 1), "low (1)");
  });

  test("`Vlans.add()` refuses numbers outside 1..4094 (minimega takes any) and changes nothing", () => {
    const vlans = new Vlans();
    const before = JSON.stringify(vlans);
    const cases: [number, string][] = [
      [
        0,
        "invalid VLAN 0: labwire uses 1 <= vlan <= 4094 (on VLAN 0 a port has no tag and carries every VLAN)",
      ],
      [4095, "invalid VLAN 4095: labwire uses 1 <= vlan <= 4094 (802.1Q reserves 4095)"],
      [-1, "invalid VLAN (0 <= vlan < 4096)"],
      [-4096, "invalid VLAN (0 <= vlan < 4096)"],
      [4096, "invalid VLAN (0 <= vlan < 4096)"],
      [99_999, "invalid VLAN (0 <= vlan < 4096)"],
      [2 ** 31, "invalid VLAN (0 <= vlan < 4096)"],
    ];
    for (const [vlan, message] of cases) {
      assert.throws(() => vlans.add("minimega", "x", vlan), { name: "RangeError", message }, String(vlan));
    }
    assert.equal(JSON.stringify(vlans), before);
    // an alias can never stand for VLAN 0, so a NIC given the alias never lands on it
    assert.equal(vlans.lookup("minimega", "x").vlan, 101);
  });

  test("`Vlans.add()` throws 'alias already in use' and 'vlan already in use'", () => {
    const vlans = new Vlans();
    vlans.add("minimega", "foo", 200);
    vlans.blacklist(300);
    assert.throws(() => vlans.add("minimega", "foo", 201), {
      name: "VlanError",
      message: "alias already in use",
      code: "alias-in-use",
      namespace: "minimega",
    });
    assert.throws(() => vlans.add("bar", "minimega//foo", 201), { message: "alias already in use" });
    assert.throws(() => vlans.add("minimega", "other", 200), {
      name: "VlanError",
      message: "vlan already in use",
      code: "vlan-in-use",
      namespace: "minimega",
      vlan: 200,
    });
    assert.throws(() => vlans.add("minimega", "other", 300), {
      name: "VlanError",
      message: "vlan already in use",
      namespace: "",
      vlan: 300,
    });
    vlans.add("bar", "foo", 201); // the same value in another namespace is another alias
    assert.throws(() => vlans.add("minimega", "x", 1.5), {
      name: "TypeError",
      message: "Cannot add VLAN alias as vlan must be a safe integer: current value is 1.5",
    });
  });

  // --- vlans range ---

  test("`Vlans.setRange()` resets next to min; allocations leave next on the VLAN handed out", () => {
    const vlans = new Vlans();
    vlans.allocate("minimega", "A");
    vlans.setRange("foo", 120, 130);
    assert.deepEqual(vlans.range("foo"), { min: 120, max: 130, next: 120 });
    assert.equal(vlans.allocate("foo", "A").vlan, 120);
    assert.deepEqual(vlans.range("foo"), { min: 120, max: 130, next: 120 });
    assert.equal(vlans.allocate("foo", "B").vlan, 121);
    assert.deepEqual(vlans.range("foo"), { min: 120, max: 130, next: 121 });
    vlans.setRange("foo", 140, 150);
    assert.deepEqual(vlans.range("foo"), { min: 140, max: 150, next: 140 });
    vlans.setRange("minimega", 1000, 2000);
    assert.deepEqual(vlans.range(""), { min: 1000, max: 2000, next: 1000 });
    assert.equal(vlans.range("minimega")!.min, 1000);
    assert.equal(vlans.allocate("minimega", "B").vlan, 1000);
  });

  test("`Vlans.setRange()` allows touching half-open ranges and rejects real overlaps", () => {
    const vlans = new Vlans();
    vlans.setRange("foo", 100, 200);
    vlans.setRange("bar", 200, 300);
    vlans.setRange("baz", 50, 100);
    const overlap = (ns: string) => ({
      name: "VlanError",
      message: `range overlaps with another namespace: ${ns}`,
    });
    assert.throws(() => vlans.setRange("qux", 150, 250), overlap("foo"));
    assert.throws(() => vlans.setRange("qux", 199, 200), overlap("foo"));
    assert.throws(() => vlans.setRange("qux", 299, 301), overlap("bar"));
    assert.throws(() => vlans.setRange("qux", 1, 51), overlap("baz"));
    assert.throws(() => vlans.setRange("qux", 1, 1000), overlap("foo"));
    assert.throws(() => vlans.setRange("foo", 150, 250), overlap("bar"));
    vlans.setRange("foo", 110, 190); // its own old range is not a conflict
    vlans.setRange("qux", 300, 301);
    vlans.setRange("qux", 1, 50);
    assert.throws(
      () => vlans.setRange("qux", 1, 51),
      (e) => e instanceof VlanError && e.code === "range-overlap",
    );
    assert.deepEqual(vlans.namespaces(), ["bar", "baz", "foo", "qux"]);
  });

  test("`Vlans.setRange()` checks the global range against namespace ranges, not the reverse", () => {
    const vlans = new Vlans();
    vlans.setRange("foo", 120, 130);
    assert.throws(() => vlans.setRange("minimega", 101, 4095), {
      name: "VlanError",
      message: "range overlaps with another namespace: foo",
    });
    assert.throws(() => vlans.setRange("", 125, 126), {
      message: "range overlaps with another namespace: foo",
    });
    vlans.setRange("minimega", 130, 4095); // touching
    vlans.setRange("bar", 200, 300); // inside the global range: allowed
    assert.deepEqual(vlans.range("bar"), { min: 200, max: 300, next: 200 });
  });

  test("`Vlans.setRange()` warns once per existing VLAN inside the new range", () => {
    const { vlans, warnings } = withWarnings();
    vlans.allocate("minimega", "A"); // 101
    vlans.allocate("minimega", "B"); // 102
    vlans.blacklist(105);
    vlans.setRange("foo", 102, 200);
    assert.deepEqual(warnings, [
      "detected hole in VLAN range 102 -> 200: 102",
      "detected hole in VLAN range 102 -> 200: 105",
    ]);
    warnings.length = 0;
    vlans.setRange("bar", 1000, 4095); // wide span: scans the table, not the span
    vlans.add("minimega", "far", 3000);
    vlans.setRange("bar", 1000, 4095);
    assert.deepEqual(warnings, ["detected hole in VLAN range 1000 -> 4095: 3000"]);
  });

  test("`Vlans.setRange()` rejects max <= min and non-integers with std-style messages", () => {
    const vlans = new Vlans();
    assert.throws(() => vlans.setRange("foo", 130, 120), {
      name: "RangeError",
      message: "Cannot set VLAN range as min must be less than max: current values 130, 120",
    });
    assert.throws(() => vlans.setRange("foo", 120, 120), { name: "RangeError" });
    assert.throws(() => vlans.setRange("foo", Number.NaN, 120), {
      name: "TypeError",
      message: "Cannot set VLAN range as min must be a safe integer: current value is NaN",
    });
    assert.equal(vlans.range("foo"), undefined);
  });

  test("`Vlans.range()` and `Vlans.ranges()` show the global range for minimega and copies", () => {
    const vlans = new Vlans();
    vlans.setRange("foo", 120, 130);
    assert.equal(vlans.range("bar"), undefined);
    assert.deepEqual(vlans.range("foo"), { min: 120, max: 130, next: 120 });
    const all = vlans.ranges();
    assert.deepEqual([...all.keys()], ["", "foo"]);
    assert.deepEqual(all.get(""), { min: 101, max: 4095, next: 101 });
    vlans.allocate("foo", "A");
    assert.equal(all.get("foo")!.next, 120, "a copy");
    vlans.allocate("foo", "B");
    assert.equal(vlans.range("foo")!.next, 121);
  });

  // --- vlans blacklist ---

  test("`Vlans.blacklist()` removes the VLAN's alias; the alias then gets a new number", () => {
    const vlans = new Vlans();
    vlans.allocate("minimega", "A"); // 101
    vlans.allocate("minimega", "B"); // 102
    vlans.blacklist(101);
    assert.equal(vlans.get("minimega", "A"), undefined);
    assert.equal(vlans.aliasOf(101), undefined);
    assert.equal(vlans.isBlacklisted(101), true);
    assert.deepEqual(listing(vlans, "minimega"), [["B", "102"]]);
    assert.deepEqual(vlans.lookup("minimega", "A"), { vlan: 103, created: true });
    assert.equal(vlans.format("minimega", 101), "101");
    vlans.blacklist(101); // again: no change
    vlans.blacklist(-7); // no range check
    vlans.blacklist(9000);
    assert.deepEqual(vlans.blacklisted(), [-7, 101, 9000]);
    assert.throws(() => vlans.blacklist(Infinity), {
      name: "TypeError",
      message: "Cannot blacklist VLAN as vlan must be a safe integer: current value is Infinity",
    });
  });

  test("`Vlans.blacklisted()` sorts numerically", () => {
    const vlans = new Vlans();
    for (const n of [1000, 20, 3, 100]) vlans.blacklist(n);
    assert.deepEqual(vlans.blacklisted(), [3, 20, 100, 1000]);
  });

  // --- clear vlans ---

  test("`Vlans.clear()` with a prefix deletes matching values of that namespace only", () => {
    const vlans = new Vlans();
    for (const a of ["net1", "net2", "dmz"]) vlans.allocate("minimega", a); // 101..103
    vlans.allocate("foo", "net1"); // 104
    vlans.allocate("minimega", "foo//net9"); // 105
    vlans.blacklist(200);
    vlans.clear("minimega", "net");
    assert.deepEqual(listing(vlans, "minimega"), [["dmz", "103"]]);
    assert.deepEqual(listing(vlans, "foo"), [["net1", "104"], ["net9", "105"]]);
    assert.equal(vlans.range("")!.next, 105, "next untouched");
    assert.deepEqual(vlans.blacklisted(), [200]);
    assert.equal(vlans.allocate("minimega", "net1").vlan, 106);
  });

  test("`Vlans.clear()` without a prefix drops the namespace's range and resets next everywhere", () => {
    const vlans = new Vlans();
    vlans.setRange("foo", 120, 130);
    vlans.setRange("bar", 130, 140);
    vlans.allocate("foo", "A");
    vlans.allocate("foo", "B");
    vlans.allocate("bar", "A");
    vlans.allocate("bar", "B");
    vlans.allocate("minimega", "A");
    vlans.blacklist(150);
    vlans.clear("foo");
    assert.equal(vlans.range("foo"), undefined);
    assert.deepEqual(vlans.aliases("foo"), []);
    assert.deepEqual(vlans.range("bar"), { min: 130, max: 140, next: 130 });
    assert.deepEqual(vlans.range(""), { min: 101, max: 4095, next: 101 });
    assert.deepEqual(vlans.blacklisted(), [150]);
    assert.deepEqual(listing(vlans, "bar"), [["A", "130"], ["B", "131"]]);
    // foo now allocates from the global range.
    assert.equal(vlans.allocate("foo", "A").vlan, 102);
  });

  test("`Vlans.clear()` in the default namespace keeps the global range", () => {
    const vlans = new Vlans();
    vlans.setRange("minimega", 500, 600);
    vlans.allocate("minimega", "A");
    vlans.allocate("minimega", "B");
    vlans.clear("minimega");
    assert.deepEqual(vlans.range("minimega"), { min: 500, max: 600, next: 500 });
    assert.deepEqual(vlans.aliases("minimega"), []);
  });

  test('`Vlans.clear()` of namespace `""` resets the global range to the default (Go\'s Delete("", ""))', () => {
    const vlans = new Vlans({ range: { min: 10, max: 20 } });
    vlans.setRange("", 500, 600);
    vlans.allocate("", "A");
    vlans.allocate("minimega", "B");
    vlans.clear("");
    assert.deepEqual(vlans.range(""), { min: 10, max: 20, next: 10 });
    assert.equal(vlans.get("", "A"), undefined);
    assert.equal(vlans.get("minimega", "B"), 501);
  });

  test("`Vlans.clearNamespace()` is clear() without a prefix", () => {
    const vlans = new Vlans();
    vlans.setRange("foo", 200, 300);
    vlans.allocate("foo", "net1");
    vlans.allocate("foo", "x");
    vlans.allocate("bar", "x");
    vlans.clearNamespace("foo");
    assert.equal(vlans.range("foo"), undefined);
    assert.deepEqual(vlans.namespaces(), ["bar"]);
  });

  test("`Vlans.reset()` forgets everything and goes back to the constructor's range", () => {
    const vlans = new Vlans({ range: { min: 10, max: 20 } });
    vlans.setRange("minimega", 500, 600);
    vlans.setRange("foo", 100, 200);
    vlans.allocate("foo", "A");
    vlans.allocate("minimega", "A");
    vlans.blacklist(7);
    vlans.reset();
    assert.deepEqual([...vlans.ranges()], [["", { min: 10, max: 20, next: 10 }]]);
    assert.deepEqual(vlans.blacklisted(), []);
    assert.deepEqual(vlans.aliases(""), []);
    assert.deepEqual(vlans.namespaces(), []);
    assert.equal(vlans.allocate("minimega", "A").vlan, 10);
    const plain = new Vlans();
    plain.setRange("", 1, 10);
    plain.reset();
    assert.deepEqual(plain.range(""), { min: 101, max: 4095, next: 101 });
  });

  // --- printing and listing ---

  test("`Vlans.format()` prints alias (n), ns//alias (n) from another namespace, or n", () => {
    const vlans = new Vlans();
    vlans.allocate("minimega", "A"); // 101
    vlans.allocate("foo", "B"); // 102
    vlans.parse("minimega", "100");
    assert.equal(vlans.format("minimega", 101), "A (101)");
    assert.equal(vlans.format("foo", 101), "minimega//A (101)");
    assert.equal(vlans.format("foo", 102), "B (102)");
    assert.equal(vlans.format("minimega", 102), "foo//B (102)");
    assert.equal(vlans.format("", 102), "foo//B (102)");
    assert.equal(vlans.format("minimega", 100), "100", "blacklisted");
    assert.equal(vlans.format("minimega", 999), "999", "unknown");
    assert.equal(vlans.format("minimega", -1), "-1");
    assert.equal(vlans.format("minimega", 0), "0");
  });

  test("`Vlans.aliasFor()` gives the NIC alias after vm net connect", () => {
    const vlans = new Vlans();
    vlans.allocate("minimega", "A");
    vlans.parse("minimega", "100");
    assert.equal(vlans.aliasFor("minimega", 101), "A");
    assert.equal(vlans.aliasFor("foo", 101), "minimega//A");
    assert.equal(vlans.aliasFor("foo", 100), "", "blacklisted: no alias");
    assert.equal(vlans.aliasFor("foo", 4000), "");
    assert.equal(vlans.aliasFor("foo", -1), "", "disconnected");
  });

  test("`Vlans.aliasOf()` and `Vlans.get()` read both directions without side effects", () => {
    const vlans = new Vlans();
    vlans.allocate("foo", "A");
    vlans.blacklist(300);
    assert.deepEqual(vlans.aliasOf(101), { namespace: "foo", value: "A" });
    assert.equal(vlans.aliasOf(300), undefined);
    assert.equal(vlans.aliasOf(102), undefined);
    assert.equal(vlans.get("foo", "A"), 101);
    assert.equal(vlans.get("bar", "foo//A"), 101);
    assert.equal(vlans.get("foo", "101"), undefined, "numbers are not parsed");
    assert.equal(vlans.isBlacklisted(300), true);
    assert.equal(vlans.isBlacklisted(101), false);
    assert.deepEqual(vlans.blacklisted(), [300]);
  });

  test('`Vlans.aliases()` lists one namespace without prefixes, or all with them for `""`', () => {
    const vlans = new Vlans();
    vlans.allocate("minimega", "A");
    vlans.allocate("foo", "A");
    vlans.allocate("foo", "B");
    vlans.blacklist(500);
    assert.deepEqual(listing(vlans, "minimega"), [["A", "101"]]);
    assert.deepEqual(listing(vlans, "foo"), [["A", "102"], ["B", "103"]]);
    assert.deepEqual(listing(vlans, "bar"), []);
    assert.deepEqual(listing(vlans, ""), [["foo//A", "102"], ["foo//B", "103"], ["minimega//A", "101"]]);
  });

  test("`Vlans.namespaces()` lists namespaces with aliases or a range, sorted", () => {
    const vlans = new Vlans();
    vlans.allocate("zeta", "A");
    vlans.setRange("alpha", 200, 300);
    vlans.allocate("minimega", "A");
    vlans.allocate("", "A");
    vlans.setRange("minimega", 101, 200);
    assert.deepEqual(vlans.namespaces(), ["alpha", "minimega", "zeta"]);
    vlans.clear("zeta", "A");
    assert.deepEqual(vlans.namespaces(), ["alpha", "minimega"]);
  });

  // --- the minitest `vlans` scenario (tests/vlans + vlans.want) ---

  test("`Vlans` reproduces minimega's `vlans` minitest", () => {
    const vlans = new Vlans();
    // vm config net 101
    assert.equal(vlans.lookup("minimega", "101").vlan, 101);
    assert.deepEqual(vlans.blacklisted(), [101]);
    // vm config net A
    assert.deepEqual(vlans.lookup("minimega", "A"), { vlan: 102, created: true });
    assert.deepEqual(listing(vlans, "minimega"), [["A", "102"]]);
    // vm config net B; vm config net A
    assert.equal(vlans.lookup("minimega", "B").vlan, 103);
    assert.deepEqual(vlans.lookup("minimega", "A"), { vlan: 102, created: false });
    // vlans add foo 200; vlans add foo 201; vlans add bar 300
    vlans.add("minimega", "foo", 200);
    assert.throws(() => vlans.add("minimega", "foo", 201), { message: "alias already in use" });
    vlans.add("minimega", "bar", 300);
    assert.deepEqual(listing(vlans, "minimega"), [["A", "102"], ["B", "103"], ["bar", "300"], [
      "foo",
      "200",
    ]]);
    assert.deepEqual(vlans.lookup("minimega", "foo"), { vlan: 200, created: false });
    // namespace foo: vm config net A
    assert.equal(vlans.lookup("foo", "A").vlan, 104);
    assert.deepEqual(listing(vlans, "foo"), [["A", "104"]]);
    // namespace bar: vm config net A; minimega//A; foo//A
    assert.equal(vlans.lookup("bar", "A").vlan, 105);
    assert.deepEqual(vlans.lookup("bar", "minimega//A"), { vlan: 102, created: false });
    assert.deepEqual(vlans.lookup("bar", "foo//A"), { vlan: 104, created: false });
    assert.deepEqual(listing(vlans, "bar"), [["A", "105"]]);
    // namespace foo: vlans range 120 130; vm config net B
    vlans.setRange("foo", 120, 130);
    assert.equal(vlans.lookup("foo", "B").vlan, 120);
    assert.deepEqual(listing(vlans, "foo"), [["A", "104"], ["B", "120"]]);
    assert.deepEqual(vlans.range("foo"), { min: 120, max: 130, next: 120 });
    assert.deepEqual(vlans.range("minimega"), { min: 101, max: 4095, next: 105 });
    assert.deepEqual(vlans.namespaces(), ["bar", "foo", "minimega"]);
  });

  // --- serialisation ---

  test("`Vlans.toJSON()` and `Vlans.fromJSON()` round-trip, and allocation continues identically", () => {
    function build(): Vlans {
      const v = new Vlans({ range: { min: 101, max: 300 } });
      v.setRange("foo", 120, 140);
      v.setRange("bar", 140, 160);
      for (let i = 0; i < 30; i++) {
        v.allocate(i % 3 === 0 ? "minimega" : i % 3 === 1 ? "foo" : "baz", `n${i}`);
      }
      v.add("minimega", "manual", 250);
      v.add("qux//x", "y", 251);
      v.lookup("minimega", "110");
      v.blacklist(105);
      v.clear("baz", "n1");
      v.setRange("minimega", 160, 280);
      return v;
    }
    const original = build();
    const text = JSON.stringify(original);
    const restored = Vlans.fromJSON(JSON.parse(text) as VlansState);
    assert.equal(JSON.stringify(restored), text);
    assert.deepEqual(restored.toJSON(), original.toJSON());
    const script = (v: Vlans): unknown[] => {
      const out: unknown[] = [];
      for (let i = 0; i < 20; i++) out.push(v.allocate(["minimega", "foo", "bar"][i % 3]!, `m${i}`));
      v.clear("foo");
      for (let i = 0; i < 20; i++) out.push(v.lookup("foo", `k${i}`));
      v.reset();
      out.push(v.allocate("minimega", "z"), v.toJSON());
      return out;
    };
    assert.deepEqual(script(restored), script(build()));
  });

  test("`Vlans.toJSON()` is plain data", () => {
    const vlans = new Vlans();
    vlans.allocate("minimega", "A");
    vlans.parse("minimega", "7");
    vlans.setRange("foo", 200, 300);
    assert.deepEqual(vlans.toJSON(), {
      version: 1,
      defaultRange: { min: 101, max: 4095 },
      ranges: [{ namespace: "", min: 101, max: 4095, next: 101 }, {
        namespace: "foo",
        min: 200,
        max: 300,
        next: 200,
      }],
      aliases: [{ namespace: "minimega", value: "A", vlan: 101 }],
      blacklist: [7],
    });
  });

  test("`Vlans.fromJSON()` rejects malformed or inconsistent state", () => {
    const good = new Vlans().toJSON();
    const bad: [unknown, string][] = [
      [null, "Cannot restore VLAN state as it is not an object"],
      [{ ...good, version: 2 }, "Cannot restore VLAN state as version must be 1: current value is 2"],
      [{ ...good, ranges: [] }, 'Cannot restore VLAN state as it has no global range (namespace "")'],
      [
        { ...good, ranges: [...good.ranges, { namespace: "minimega", min: 1, max: 2, next: 1 }] },
        'Cannot restore VLAN state as the range of "minimega" must be stored under ""',
      ],
      [
        { ...good, aliases: [{ namespace: "a", value: "b", vlan: 5 }], blacklist: [5] },
        "Cannot restore VLAN state as VLAN 5 appears twice",
      ],
      [
        {
          ...good,
          aliases: [{ namespace: "a", value: "b", vlan: 5 }, { namespace: "a", value: "b", vlan: 6 }],
        },
        'Cannot restore VLAN state as alias "a//b" appears twice',
      ],
      [
        { ...good, aliases: [{ namespace: "a", value: "b", vlan: "5" }] },
        'Cannot restore VLAN state as aliases[0].vlan must be a safe integer: current value is "5"',
      ],
      [{ ...good, blacklist: "7" }, "Cannot restore VLAN state as blacklist must be an array"],
      [
        { ...good, defaultRange: { min: 0, max: 10 } },
        "Cannot restore VLAN state as defaultRange must hold only VLANs 1 to 4094 (min < max <= 4095): " +
        "current values 0, 10",
      ],
      [
        { ...good, ranges: [...good.ranges, { namespace: "foo", min: 0, max: 10, next: 0 }] },
        "Cannot restore VLAN state as ranges[1] must hold only VLANs 1 to 4094 (min < max <= 4095): " +
        "current values 0, 10",
      ],
      [
        { ...good, ranges: [{ namespace: "", min: 101, max: 99_999, next: 101 }] },
        "Cannot restore VLAN state as ranges[0] must hold only VLANs 1 to 4094 (min < max <= 4095): " +
        "current values 101, 99999",
      ],
      [
        { ...good, aliases: [{ namespace: "a", value: "b", vlan: 0 }] },
        "Cannot restore VLAN state as aliases[0].vlan must be 1 to 4094: current value is 0",
      ],
      [
        { ...good, aliases: [{ namespace: "a", value: "b", vlan: 4095 }] },
        "Cannot restore VLAN state as aliases[0].vlan must be 1 to 4094: current value is 4095",
      ],
    ];
    for (const [state, message] of bad) {
      assert.throws(() => Vlans.fromJSON(state as VlansState), { name: "TypeError", message });
    }
  });

  test("`Vlans.fromJSON()` reads a max of 4096 (states written before VLAN 4095 was refused) as 4095", () => {
    const vlans = Vlans.fromJSON({
      version: 1,
      defaultRange: { min: 101, max: 4096 },
      ranges: [{ namespace: "", min: 4093, max: 4096, next: 4093 }],
      aliases: [],
      blacklist: [],
    });
    assert.deepEqual(vlans.range(""), { min: 4093, max: 4095, next: 4093 });
    assert.equal(vlans.allocate("minimega", "A").vlan, 4093);
    assert.equal(vlans.allocate("minimega", "B").vlan, 4094);
    assert.throws(() => vlans.allocate("minimega", "C"), { message: "out of VLANs" });
    vlans.reset();
    assert.deepEqual(vlans.range(""), { min: 101, max: 4095, next: 101 });
  });

  test("`Vlans.fromJSON()` keeps the default range for reset() and takes onWarning", () => {
    const warnings: string[] = [];
    const vlans = Vlans.fromJSON(new Vlans({ range: { min: 5, max: 9 } }).toJSON(), {
      onWarning: (m) => warnings.push(m),
    });
    vlans.setRange("minimega", 50, 60);
    vlans.reset();
    assert.deepEqual(vlans.range(""), { min: 5, max: 9, next: 5 });
    vlans.parse("minimega", "3");
    assert.deepEqual(warnings, ["Blacklisting manually specified VLAN 3"]);
  });
});
