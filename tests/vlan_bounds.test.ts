/**
 * VLANs are 1 to 4094 (issue 10, "Hardening"): VLAN 0 would make a NIC's or tap's port an untagged trunk
 * that receives every VLAN's traffic, and 802.1Q reserves 4095. Ranges, explicit numbers and aliases are
 * all kept inside, through the command language, the typed API and the lab model, on every backend.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { Lab } from "../lib/api/lab.ts";
import { LabModel } from "../lib/lab/model.ts";
import { RecordingBackend } from "../lib/testing/recording_backend.ts";
import {
  checkVlan,
  checkVlanRange,
  DEFAULT_VLAN_RANGE,
  FIRST_VLAN,
  LAST_VLAN,
  parseVlanRange,
  Vlans,
} from "../lib/vlans.ts";

const ZERO =
  "invalid VLAN 0: labwire uses 1 <= vlan <= 4094 (on VLAN 0 a port has no tag and carries every VLAN)";
const TOP = "invalid VLAN 4095: labwire uses 1 <= vlan <= 4094 (802.1Q reserves 4095)";
const OUTSIDE = "invalid VLAN (0 <= vlan < 4096)"; // minimega's

function minMessage(action: string, min: number): string {
  return `Cannot ${action} as min must be 1 to 4094: current value is ${min}`;
}

function maxMessage(action: string, max: number): string {
  return `Cannot ${action} as max must be at most 4095, one past the last VLAN (4094): current value is ${max}`;
}

/** The ranges of the finding, and what each one says. */
const BAD_RANGES: readonly [number, number, string][] = [
  [0, 10, "min"],
  [-4096, 10, "min"],
  [10, 4096, "max"],
  [100, 99_999, "max"],
  [2_147_483_648, 2_147_483_649, "min"],
  [0, 4096, "min"],
];

describe("the VLAN bound", () => {
  test("`FIRST_VLAN` and `LAST_VLAN` are 1 and 4094; the default range stops before 4095", () => {
    assert.deepEqual([FIRST_VLAN, LAST_VLAN], [1, 4094]);
    assert.deepEqual(DEFAULT_VLAN_RANGE, { min: 101, max: 4095 });
    assert.deepEqual(new Vlans().range("minimega"), { min: 101, max: 4095, next: 101 });
  });

  test("`checkVlan()` takes 1 to 4094 and refuses 0, 4095 and minimega's out-of-range numbers", () => {
    for (const vlan of [1, 2, 100, 4093, 4094]) checkVlan(vlan);
    assert.throws(() => checkVlan(0), { name: "RangeError", message: ZERO });
    assert.throws(() => checkVlan(4095), { name: "RangeError", message: TOP });
    for (const vlan of [-1, -4096, 4096, 99_999, 2 ** 31, Number.NaN]) {
      assert.throws(() => checkVlan(vlan), { name: "RangeError", message: OUTSIDE }, String(vlan));
    }
  });

  test("`checkVlanRange()` takes 1 <= min < max <= 4095 and says which bound is wrong", () => {
    checkVlanRange("set VLAN range", 1, 4095);
    checkVlanRange("set VLAN range", 4094, 4095);
    for (const [min, max, which] of BAD_RANGES) {
      const message = which === "min" ? minMessage("set VLAN range", min) : maxMessage("set VLAN range", max);
      assert.throws(() => checkVlanRange("set VLAN range", min, max), { name: "RangeError", message });
    }
    assert.throws(() => checkVlanRange("set VLAN range", 4095, 4096), {
      message: minMessage("set VLAN range", 4095),
    });
  });
});

describe("Vlans", () => {
  test("`setRange()` refuses every range of the finding and keeps the old one", () => {
    const vlans = new Vlans();
    for (const [min, max, which] of BAD_RANGES) {
      const message = which === "min" ? minMessage("set VLAN range", min) : maxMessage("set VLAN range", max);
      for (const ns of ["minimega", "foo"]) {
        assert.throws(
          () => vlans.setRange(ns, min, max),
          { name: "RangeError", message },
          `${ns} ${min} ${max}`,
        );
      }
    }
    assert.deepEqual([...vlans.ranges()], [["", { min: 101, max: 4095, next: 101 }]]);
    assert.deepEqual(vlans.allocate("foo", "A"), { vlan: 101, created: true });
  });

  test("`new Vlans()` refuses a global range outside 1..4094", () => {
    assert.throws(() => new Vlans({ range: { min: 0, max: 10 } }), {
      name: "RangeError",
      message: minMessage("create VLAN table", 0),
    });
    assert.throws(() => new Vlans({ range: { min: 101, max: 4096 } }), {
      name: "RangeError",
      message: maxMessage("create VLAN table", 4096),
    });
  });

  test("allocation from the default range hands out 4094 last, never 4095", () => {
    const vlans = new Vlans();
    let last = 0;
    for (let i = 0; i < 3994; i++) last = vlans.allocate("minimega", `a${i}`).vlan;
    assert.equal(last, 4094);
    assert.throws(() => vlans.allocate("minimega", "more"), { name: "RangeError", message: "out of VLANs" });
    assert.equal(vlans.aliasOf(4095), undefined);
  });

  test("allocation from a range ending at the top hands out 4094 last, never 4095", () => {
    for (const ns of ["minimega", "foo"]) {
      const vlans = new Vlans();
      assert.throws(() => vlans.setRange(ns, 4090, 4096), { message: maxMessage("set VLAN range", 4096) });
      vlans.setRange(ns, 4090, 4095);
      const got = ["a", "b", "c", "d", "e"].map((a) => vlans.allocate(ns, a).vlan);
      assert.deepEqual(got, [4090, 4091, 4092, 4093, 4094]);
      assert.throws(() => vlans.allocate(ns, "f"), { name: "RangeError", message: "out of VLANs" });
      assert.equal(vlans.aliasOf(4095), undefined);
    }
  });

  test("allocation never hands out 0, even from a restored state whose next is 0", () => {
    const vlans = Vlans.fromJSON({
      version: 1,
      defaultRange: { min: 1, max: 3 },
      ranges: [{ namespace: "", min: 1, max: 3, next: 0 }],
      aliases: [],
      blacklist: [],
    });
    assert.deepEqual(["a", "b"].map((a) => vlans.allocate("minimega", a).vlan), [1, 2]);
    assert.throws(() => vlans.allocate("minimega", "c"), { message: "out of VLANs" });
  });

  test("whatever range is asked for, it is refused or every VLAN handed out is 1 to 4094", () => {
    const bound = fc.oneof(
      fc.integer({ min: -5000, max: 5000 }),
      fc.constantFrom(0, 1, 4094, 4095, 4096, -4096, 99_999, 2 ** 31),
    );
    fc.assert(
      fc.property(bound, bound, fc.constantFrom("minimega", "foo"), (min, max, ns) => {
        const vlans = new Vlans();
        let set = true;
        try {
          vlans.setRange(ns, min, max);
        } catch (error) {
          assert.ok(error instanceof RangeError, String(error));
          set = false;
        }
        assert.equal(set, 1 <= min && min < max && max <= 4095, `${min} ${max}`);
        for (let i = 0; i < 8; i++) {
          let vlan: number;
          try {
            vlan = vlans.allocate(ns, `a${i}`).vlan;
          } catch (error) {
            assert.equal((error as Error).message, "out of VLANs");
            break;
          }
          assert.ok(vlan >= 1 && vlan <= 4094, `${min} ${max}: ${vlan}`);
        }
      }),
      { numRuns: 500, seed: 10 },
    );
  });
});

describe("parseVlanRange()", () => {
  test("refuses ranges holding VLANs outside 1..4094, after minimega's checks", () => {
    assert.deepEqual(parseVlanRange("1-4095"), { min: 1, max: 4095 });
    assert.deepEqual(parseVlanRange("101-4095"), { min: 101, max: 4095 });
    const cases: [string, string][] = [
      ["0-10", minMessage("use VLAN range '0-10'", 0)],
      ["10-4096", maxMessage("use VLAN range '10-4096'", 4096)],
      ["101-4096", maxMessage("use VLAN range '101-4096'", 4096)],
      ["100-99999", maxMessage("use VLAN range '100-99999'", 99_999)],
      ["2147483648-2147483649", minMessage("use VLAN range '2147483648-2147483649'", 2_147_483_648)],
      ["-4096-10", "invalid VLAN range provided"],
      ["10-0", "expected min < max for VLAN range"],
    ];
    for (const [text, message] of cases) {
      assert.throws(() => parseVlanRange(text), { name: "RangeError", message }, text);
    }
  });
});

describe("the command language", () => {
  test("`vlans range` refuses every range of the finding and changes nothing", async () => {
    await using lab = await Lab.open({ seed: "bounds" });
    for (const [min, max, which] of BAD_RANGES) {
      const message = which === "min" ? minMessage("set VLAN range", min) : maxMessage("set VLAN range", max);
      await assert.rejects(lab.run(`vlans range ${min} ${max}`), { code: "invalid-argument", message });
      await assert.rejects(lab.run(`namespace foo vlans range ${min} ${max}`), { message });
    }
    assert.equal((await lab.run("vlans range")).text, "min  | max  | next\n101  | 4095 | 101");
    assert.equal((await lab.run("namespace foo vlans range")).text, "");
  });

  test("explicit VLAN numbers 0 and 4095 are refused wherever they would reach a bridge", async () => {
    await using lab = await Lab.open({ seed: "bounds" });
    await lab.run("vm config net A");
    await lab.run("vm launch kvm a");
    const lines: [string, string][] = [
      ["vm config net 0", ZERO],
      ["vm config net 4095", TOP],
      ["vm config net A 0 B", ZERO],
      ["vm config net mega_bridge,0", ZERO],
      ["vm config net lab,4095,e1000", TOP],
      ["vm config net 0,qinq", ZERO],
      ["vm config net lab,0,13:37:13:37:00:01,e1000,qinq", ZERO],
      ["vm config net ns//0", ZERO],
      ["vm config net 4096", OUTSIDE],
      ["tap create 0", ZERO],
      ["tap create 4095", TOP],
      ["tap create 0 bridge lab name t0", ZERO],
      ["vm net connect a 0 0", ZERO],
      ["vm net connect a 0 4095", TOP],
      ["vm net add a 0", ZERO],
      ["vm net add a lab,4095", TOP],
      ["vlans add Z 0", ZERO],
      ["vlans add Z 4095", TOP],
      ["vlans add Z 99999", OUTSIDE],
      ["vlans add Z -4096", OUTSIDE],
    ];
    for (const [line, message] of lines) {
      await assert.rejects(lab.run(line), { code: "invalid-vlan", message }, line);
    }
    assert.equal((await lab.run("vm config net")).text, "[A]");
    assert.equal((await lab.run("vlans")).text, "alias | vlan\nA     | 101");
    assert.equal((await lab.run("vlans blacklist")).text, "");
    assert.equal((await lab.run("tap")).text, "");
    assert.equal((await lab.run(".columns vlan vm info")).text, "vlan\n[A (101)]");
  });
});

describe("the typed API", () => {
  test("ranges, aliases and numbers outside 1..4094 are refused", async () => {
    await using lab = await Lab.open({ seed: "bounds" });
    const ns = lab.namespace();
    await assert.rejects(ns.vlans.setRange(0, 10), {
      code: "invalid-argument",
      message: minMessage("set VLAN range", 0),
    });
    await assert.rejects(ns.vlans.setRange(10, 4096), {
      code: "invalid-argument",
      message: maxMessage("set VLAN range", 4096),
    });
    await assert.rejects(ns.vlans.add("Z", 0), { code: "invalid-vlan", message: ZERO });
    await assert.rejects(ns.vlans.resolve(4095), { code: "invalid-vlan", message: TOP });
    await assert.rejects(ns.vlans.resolve("0"), { code: "invalid-vlan", message: ZERO });
    await assert.rejects(lab.createNamespace("red", { vlanRange: { min: 0, max: 10 } }), {
      message: minMessage("set VLAN range", 0),
    });
    assert.throws(() => lab.namespace("red"), { code: "namespace-not-found" });
    assert.deepEqual(await ns.vlans.range(), { min: 101, max: 4095, next: 101 });
    await assert.rejects(Lab.open({ vlanRange: { min: 0, max: 10 } }), {
      message: minMessage("create VLAN table", 0),
    });
  });
});

describe("the lab model", () => {
  test("a VM plugged with an alias never lands on VLAN 0 or 4095, on an access port", async () => {
    const backend = new RecordingBackend();
    const lab = new LabModel({ backend, macSeed: 1 });
    assert.throws(() => lab.vlans.setRange("minimega", 0, 10), { message: minMessage("set VLAN range", 0) });
    assert.throws(() => lab.vlans.add("minimega", "SPY", 0), { message: ZERO });
    assert.throws(() => lab.vlans.add("minimega", "TOP", 4095), { message: TOP });
    lab.vlans.setRange("minimega", 4093, 4095);
    await lab.configureNetworks("minimega", ["SPY", "TOP"]);
    await assert.rejects(lab.configureNetworks("minimega", ["SPY", "TOP", "MORE"]), {
      message: "out of VLANs",
    });
    await lab.launchVms("minimega", "kvm", "spy");
    assert.deepEqual(backend.calls, [
      "addBridge mega_bridge",
      'addPorts mega_bridge mega_tap0 vm {"kind":"access","tag":4093}, mega_tap1 vm {"kind":"access","tag":4094}',
      "launchVms spy",
    ]);
  });

  test("a state whose alias is on VLAN 0 is refused, not plugged", () => {
    const good = new LabModel({ backend: new RecordingBackend() }).toJSON() as unknown as {
      vlans: { aliases: unknown[] };
    };
    const bad = structuredClone(good);
    bad.vlans.aliases = [{ namespace: "minimega", value: "SPY", vlan: 0 }];
    assert.throws(() => LabModel.fromJSON(bad as never, { backend: new RecordingBackend() }), {
      message: /aliases\[0\]\.vlan must be 1 to 4094: current value is 0/,
    });
  });
});
