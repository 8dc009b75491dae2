import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  DEFAULT_BRIDGE,
  DEFAULT_DRIVER,
  formatNetspec,
  type Netspec,
  NetspecError,
  parseNetspec,
  type ParseNetspecOptions,
} from "../lib/netspec.ts";
import { NIC_DRIVERS } from "../lib/nic_drivers.ts";

/** The driver set of minimega's TestParseNetConfig. */
const GO_TEST_NICS: ParseNetspecOptions = { drivers: new Set(["e1000", "virtio-net-pci"]) };
const MAC = "de:ad:be:ef:ca:fe";
const MAC2 = "02:00:00:00:00:02";

/** What parseNetspec() should return for `raw`: the given fields over minimega's defaults. */
function nic(raw: string, fields: Partial<Omit<Netspec, "raw">>): Netspec {
  return { bridge: DEFAULT_BRIDGE, vlan: "", mac: "", driver: DEFAULT_DRIVER, qinq: false, ...fields, raw };
}

/** Asserts that `spec` is malformed. */
function assertMalformed(spec: string, options?: ParseNetspecOptions): void {
  assert.throws(() => parseNetspec(spec, options), (err: unknown) => {
    assert.ok(err instanceof NetspecError);
    assert.ok(err instanceof SyntaxError);
    assert.equal(err.name, "NetspecError");
    assert.equal(err.message, "malformed netspec");
    assert.equal(err.spec, spec);
    return true;
  });
}

describe("parseNetspec() and formatNetspec(): minimega's TestParseNetConfig", () => {
  // (with/without bridge) x vlan foo x optional MAC x optional driver x optional qinq, in canonical order.
  const specs: string[] = [];
  for (const bridge of ["", "my_bridge"]) {
    for (const mac of ["", MAC]) {
      for (const driver of ["", "virtio-net-pci"]) {
        for (const qinq of ["", "qinq"]) {
          specs.push([bridge, "foo", mac, driver, qinq].filter((f) => f).join(","));
        }
      }
    }
  }

  test("the 16 specs are the ones minimega tests", () => {
    assert.equal(new Set(specs).size, 16);
    for (
      const s of ["foo", "foo,virtio-net-pci", `foo,${MAC},qinq`, `my_bridge,foo,${MAC},virtio-net-pci,qinq`]
    ) {
      assert.ok(specs.includes(s), s);
    }
  });

  for (const spec of specs) {
    test(`parseNetspec() then formatNetspec() round-trips '${spec}'`, () => {
      assert.equal(formatNetspec(parseNetspec(spec, GO_TEST_NICS)), spec);
    });
  }

  test("formatNetspec() spells out a default when the short form would read otherwise", () => {
    // VLAN alias `qinq` on a named bridge: `b,qinq` alone would be VLAN b with QinQ
    for (
      const spec of [
        "00:11:22:33:44:55,qinq,e1000",
        "lab,qinq",
        "lab,e1000,e1000",
        "mega_bridge,00:11:22:33:44:55",
      ]
    ) {
      const nic = parseNetspec(spec);
      const again = parseNetspec(formatNetspec(nic));
      assert.deepEqual(
        { ...again, raw: "" },
        { ...nic, raw: "" },
        `${spec} printed as ${formatNetspec(nic)}`,
      );
    }
    assert.equal(formatNetspec(parseNetspec("00:11:22:33:44:55,qinq,e1000")), "00:11:22:33:44:55,qinq,e1000");
  });

  test("parseNetspec() applies minimega's defaults (TestParseNetConfigDefaults)", () => {
    assert.deepEqual(parseNetspec("foo", GO_TEST_NICS), {
      bridge: "mega_bridge",
      vlan: "foo",
      mac: "",
      driver: "e1000",
      qinq: false,
      raw: "foo",
    });
    assert.equal(DEFAULT_BRIDGE, "mega_bridge");
    assert.equal(DEFAULT_DRIVER, "e1000");
  });

  for (
    const spec of [
      "my_bridge,foo,bar",
      "my_bridge,foo,bar,baz",
      "foo,bar,baz,qux",
      "my_bridge,foo,bar,virtio-net-pci,qinq",
      `my_bridge,foo,${MAC},bar,qinq`,
      `my_bridge,foo,${MAC},virtio-net-pci,bar`,
      "a,b,c,d,e,f",
    ]
  ) {
    test(`parseNetspec() rejects '${spec}' (TestParseNetConfigErrors)`, () =>
      assertMalformed(spec, GO_TEST_NICS));
  }
});

describe("parseNetspec(): every row of the decision table, first match wins", () => {
  test("1 field: vlan", () => {
    assert.deepEqual(parseNetspec("100"), nic("100", { vlan: "100" }));
    assert.deepEqual(parseNetspec("e1000"), nic("e1000", { vlan: "e1000" }));
    assert.deepEqual(parseNetspec(MAC), nic(MAC, { vlan: MAC }));
    assert.deepEqual(parseNetspec("other//LAN"), nic("other//LAN", { vlan: "other//LAN" }));
  });

  test("1 field: the empty spec is VLAN '' (the VLAN layer then reports it)", () => {
    assert.deepEqual(parseNetspec(""), nic("", { vlan: "" }));
  });

  test("2 fields, f1 qinq: vlan,qinq", () => {
    assert.deepEqual(parseNetspec("LAN,QinQ"), nic("LAN,QinQ", { vlan: "LAN", qinq: true }));
    // Before the driver test, even when "qinq" is a driver name.
    assert.deepEqual(
      parseNetspec("LAN,qinq", { drivers: new Set(["qinq"]) }),
      nic("LAN,qinq", { vlan: "LAN", qinq: true }),
    );
  });

  test("2 fields, f1 MAC: vlan,mac", () => {
    assert.deepEqual(parseNetspec(`100,${MAC}`), nic(`100,${MAC}`, { vlan: "100", mac: MAC }));
    // Before the driver test.
    assert.deepEqual(
      parseNetspec(`100,${MAC}`, { drivers: new Set([MAC]) }),
      nic(`100,${MAC}`, { vlan: "100", mac: MAC }),
    );
  });

  test("2 fields, f1 driver: vlan,driver", () => {
    assert.deepEqual(
      parseNetspec("100,virtio-net-pci"),
      nic("100,virtio-net-pci", { vlan: "100", driver: "virtio-net-pci" }),
    );
    assert.deepEqual(parseNetspec("100,e1000"), nic("100,e1000", { vlan: "100" }));
  });

  test("2 fields, otherwise: bridge,vlan (never an error)", () => {
    assert.deepEqual(parseNetspec("lab,100"), nic("lab,100", { bridge: "lab", vlan: "100" }));
    assert.deepEqual(parseNetspec("lab,E1000"), nic("lab,E1000", { bridge: "lab", vlan: "E1000" })); // drivers are case-sensitive
    assert.deepEqual(parseNetspec("100,"), nic("100,", { bridge: "100", vlan: "" }));
    assert.deepEqual(parseNetspec(",100"), nic(",100", { vlan: "100" }));
    assert.deepEqual(parseNetspec(","), nic(",", { vlan: "" }));
  });

  test("3 fields, f2 qinq and f1 MAC: vlan,mac,qinq", () => {
    const spec = `100,${MAC},QINQ`;
    assert.deepEqual(parseNetspec(spec), nic(spec, { vlan: "100", mac: MAC, qinq: true }));
  });

  test("3 fields, f2 qinq and f1 driver: vlan,driver,qinq", () => {
    const spec = "100,rtl8139,qinq";
    assert.deepEqual(parseNetspec(spec), nic(spec, { vlan: "100", driver: "rtl8139", qinq: true }));
  });

  test("3 fields, f2 qinq: bridge,vlan,qinq", () => {
    assert.deepEqual(
      parseNetspec("lab,100,qinq"),
      nic("lab,100,qinq", { bridge: "lab", vlan: "100", qinq: true }),
    );
    assert.deepEqual(parseNetspec(",100,qinq"), nic(",100,qinq", { vlan: "100", qinq: true }));
  });

  test("3 fields, f2 MAC: bridge,vlan,mac", () => {
    assert.deepEqual(
      parseNetspec(`lab,100,${MAC}`),
      nic(`lab,100,${MAC}`, { bridge: "lab", vlan: "100", mac: MAC }),
    );
    // Before "f1 MAC and f2 driver", even when the MAC in f2 is also a driver name.
    const spec = `100,${MAC},${MAC2}`;
    assert.deepEqual(
      parseNetspec(spec, { drivers: new Set([MAC2]) }),
      nic(spec, { bridge: "100", vlan: MAC, mac: MAC2 }),
    );
  });

  test("3 fields, f2 MAC: issue #914, a driver before the MAC is read as the VLAN", () => {
    const spec = `A,i82559c,${MAC}`;
    assert.deepEqual(parseNetspec(spec), nic(spec, { bridge: "A", vlan: "i82559c", mac: MAC }));
  });

  test("3 fields, f1 MAC and f2 driver: vlan,mac,driver", () => {
    const spec = `100,${MAC},virtio-net-pci`;
    assert.deepEqual(parseNetspec(spec), nic(spec, { vlan: "100", mac: MAC, driver: "virtio-net-pci" }));
  });

  test("3 fields, f2 driver: bridge,vlan,driver", () => {
    const spec = "lab,100,vmxnet3";
    assert.deepEqual(parseNetspec(spec), nic(spec, { bridge: "lab", vlan: "100", driver: "vmxnet3" }));
  });

  test("3 fields, otherwise: malformed netspec", () => {
    assertMalformed("lab,100,bogus");
    assertMalformed("lab,100,");
    assertMalformed(",,");
    assertMalformed("lab,100,E1000");
    assertMalformed("lab,100,e1000", { drivers: new Set() });
  });

  test("4 fields, f3 qinq and f1 MAC: vlan,mac,driver,qinq (f2 not checked as a driver)", () => {
    const spec = `100,${MAC},bogus,qinq`;
    assert.deepEqual(parseNetspec(spec), nic(spec, { vlan: "100", mac: MAC, driver: "bogus", qinq: true }));
    // Before "f3 qinq and f2 MAC": a MAC in f2 becomes the driver.
    const both = `100,${MAC},${MAC2},qinq`;
    assert.deepEqual(parseNetspec(both), nic(both, { vlan: "100", mac: MAC, driver: MAC2, qinq: true }));
    // An empty f2 is the default driver.
    const empty = `100,${MAC},,qinq`;
    assert.deepEqual(parseNetspec(empty), nic(empty, { vlan: "100", mac: MAC, qinq: true }));
  });

  test("4 fields, f3 qinq and f2 MAC: bridge,vlan,mac,qinq", () => {
    const spec = `lab,100,${MAC},qinq`;
    assert.deepEqual(parseNetspec(spec), nic(spec, { bridge: "lab", vlan: "100", mac: MAC, qinq: true }));
  });

  test("4 fields, f3 qinq and f2 driver: bridge,vlan,driver,qinq", () => {
    const spec = "lab,100,e1000e,QinQ";
    assert.deepEqual(
      parseNetspec(spec),
      nic(spec, { bridge: "lab", vlan: "100", driver: "e1000e", qinq: true }),
    );
  });

  test("4 fields, f3 driver and f2 MAC: bridge,vlan,mac,driver", () => {
    const spec = `lab,100,${MAC},i82559c`;
    assert.deepEqual(
      parseNetspec(spec),
      nic(spec, { bridge: "lab", vlan: "100", mac: MAC, driver: "i82559c" }),
    );
  });

  test("4 fields, otherwise: malformed netspec", () => {
    assertMalformed("lab,100,bogus,qinq");
    assertMalformed(`lab,100,e1000,${MAC}`); // driver before MAC
    assertMalformed(`lab,100,${MAC},bogus`);
    assertMalformed(`lab,100,${MAC},e1000`, { drivers: new Set() });
    assertMalformed("a,b,c,d");
  });

  test("5 fields, f2 MAC and f3 driver and f4 qinq: bridge,vlan,mac,driver,qinq", () => {
    const spec = `lab,100,${MAC},virtio-net-pci,QINQ`;
    assert.deepEqual(
      parseNetspec(spec),
      nic(spec, { bridge: "lab", vlan: "100", mac: MAC, driver: "virtio-net-pci", qinq: true }),
    );
  });

  test("5 fields, otherwise: malformed netspec", () => {
    assertMalformed(`lab,100,${MAC},e1000,bogus`);
    assertMalformed(`lab,100,e1000,${MAC},qinq`);
    assertMalformed(`lab,100,bogus,e1000,qinq`);
    assertMalformed(",,,,");
  });

  test("0 or 6+ fields: malformed netspec (0 cannot happen: splitting gives at least one field)", () => {
    assertMalformed(`lab,100,${MAC},e1000,qinq,extra`);
    assertMalformed(",,,,,");
    assertMalformed("a,b,c,d,e,f,g,h");
    assert.equal("".split(",").length, 1);
  });
});

describe("parseNetspec(): details", () => {
  test("parseNetspec() recognises the built-in NIC_DRIVERS by default", () => {
    assert.deepEqual(parseNetspec("100,e1000"), nic("100,e1000", { vlan: "100" }));
    for (const driver of NIC_DRIVERS) assert.equal(parseNetspec(`LAN,${driver}`).driver, driver);
  });

  test("parseNetspec() with an empty driver set reads `100,e1000` as bridge 100, VLAN e1000", () => {
    assert.deepEqual(
      parseNetspec("100,e1000", { drivers: new Set() }),
      nic("100,e1000", { bridge: "100", vlan: "e1000" }),
    );
  });

  test("parseNetspec() reads a MAC-looking first field of two as the bridge", () => {
    const spec = "aa:bb:cc:dd:ee:ff,100";
    assert.deepEqual(parseNetspec(spec), nic(spec, { bridge: "aa:bb:cc:dd:ee:ff", vlan: "100" }));
  });

  test("parseNetspec() normalises the MAC to lower-case colon form", () => {
    assert.equal(parseNetspec("100,AA-BB-CC-DD-EE-FF").mac, "aa:bb:cc:dd:ee:ff");
    assert.equal(parseNetspec("100,AABB.CCDD.EEFF").mac, "aa:bb:cc:dd:ee:ff");
    assert.equal(parseNetspec("100,13:37:13:37:00:02").mac, "13:37:13:37:00:02");
    assert.equal(parseNetspec("lab,100,0200.5E10.0000.0001,qinq").mac, "02:00:5e:10:00:00:00:01");
  });

  test("parseNetspec() keeps the VLAN token and bridge as typed, without trimming", () => {
    assert.equal(parseNetspec("0100").vlan, "0100");
    assert.equal(parseNetspec("ns//LAN,e1000").vlan, "ns//LAN");
    assert.deepEqual(parseNetspec(" lab , 100 "), nic(" lab , 100 ", { bridge: " lab ", vlan: " 100 " }));
    assert.deepEqual(parseNetspec("100, qinq"), nic("100, qinq", { bridge: "100", vlan: " qinq" }));
  });

  test("parseNetspec() keeps the spec as typed in raw", () => {
    assert.equal(parseNetspec("LAN,QINQ").raw, "LAN,QINQ");
  });
});

describe("formatNetspec()", () => {
  const cases: ReadonlyArray<readonly [string, string]> = [
    ["100,e1000", "100"],
    ["test_bridge,100,13:37:13:37:00:02,e1000", "test_bridge,100,13:37:13:37:00:02"],
    ["mega_bridge,LAN", "LAN"],
    ["LAN,QINQ", "LAN,qinq"],
    ["100,AA-BB-CC-DD-EE-FF", "100,aa:bb:cc:dd:ee:ff"],
    ["ns//LAN", "ns//LAN"],
    ["0100", "0100"],
    [",100", "100"],
    [`lab,100,${MAC},virtio-net-pci,qinq`, `lab,100,${MAC},virtio-net-pci,qinq`],
  ];
  for (const [spec, printed] of cases) {
    test(`formatNetspec() prints '${spec}' as '${printed}'`, () =>
      assert.equal(formatNetspec(parseNetspec(spec)), printed));
  }

  test("formatNetspec() leaves out an empty bridge and driver, and ignores raw", () => {
    assert.equal(formatNetspec({ bridge: "", vlan: "LAN", mac: "", driver: "", qinq: true }), "LAN,qinq");
    assert.equal(formatNetspec(nic("whatever", { bridge: "b", vlan: "v", driver: "d" })), "b,v,d");
  });
});
