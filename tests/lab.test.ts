import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { Lab, parseVlanRange } from "../lib/lab.ts";

describe("Lab.configureNetworks()", () => {
  test("resolves each spec's VLAN in order and keeps the spec", () => {
    const lab = new Lab();
    const nics = lab.configureNetworks("minimega", [
      "DMZ",
      "lab,CORE,13:37:13:37:00:01,virtio-net-pci",
      "100",
    ]);
    assert.deepEqual(nics.map((n) => [n.bridge, n.vlan, n.vlanId, n.mac, n.driver]), [
      ["mega_bridge", "DMZ", 101, "", "e1000"],
      ["lab", "CORE", 102, "13:37:13:37:00:01", "virtio-net-pci"],
      ["mega_bridge", "100", 100, "", "e1000"],
    ]);
    assert.deepEqual(lab.vlans.blacklisted(), [100]);
  });
  test("empties the list on the first bad spec, keeping earlier aliases", () => {
    const lab = new Lab();
    lab.configureNetworks("minimega", ["OLD"]);
    assert.throws(() => lab.configureNetworks("minimega", ["A", "x,y,z", "B"]), {
      name: "NetspecError",
      message: "malformed netspec",
    });
    assert.deepEqual(lab.networks("minimega"), []);
    assert.deepEqual(lab.vlans.aliases("minimega").map((a) => a.alias), ["OLD", "A"]);
  });
  test("refuses MACs that cannot be a NIC's and warns about multicast ones", () => {
    const warnings: string[] = [];
    const lab = new Lab({ onWarning: (w) => warnings.push(w) });
    assert.throws(() => lab.configureNetworks("minimega", ["A,01:02:03:04:05:06:07:08"]), {
      message: "Cannot use MAC '01:02:03:04:05:06:07:08' for a NIC: it has 8 octets, an Ethernet MAC has 6",
    });
    lab.configureNetworks("minimega", ["A,33:33:00:00:00:01", "A,02:00:00:00:00:01"]);
    assert.deepEqual(warnings, [
      "MAC 33:33:00:00:00:01 is a multicast address: switches will not learn it, and guests may drop its frames",
    ]);
  });
  test("uses the drivers it is given", () => {
    const lab = new Lab({ drivers: new Set() });
    const [nic] = lab.configureNetworks("minimega", ["100,e1000"]);
    assert.equal(nic!.bridge, "100");
    assert.equal(nic!.vlan, "e1000");
  });
});

describe("Lab namespaces", () => {
  test("keep their own VM configs and aliases", () => {
    const lab = new Lab();
    lab.configureNetworks("minimega", ["A"]);
    lab.configureNetworks("foo", ["A"]);
    assert.deepEqual(lab.networks("foo").map((n) => n.vlanId), [102]);
    assert.deepEqual(lab.namespaceNames(), ["foo", "minimega"]);
  });
  test("destroyNamespace() removes one and falls back to the default namespace", async () => {
    const lab = new Lab();
    lab.setActiveNamespace("foo");
    lab.configureNetworks("foo", ["A"]);
    await lab.destroyNamespace("foo");
    assert.equal(lab.activeNamespace, "minimega");
    assert.deepEqual(lab.namespaceNames(), ["minimega"]);
    assert.deepEqual(lab.vlans.aliases("foo"), []);
    await assert.rejects(lab.destroyNamespace("foo"), {
      name: "NamespaceError",
      message: "unknown namespace: foo",
    });
  });
  test("refuses names that cannot be namespaces", () => {
    const lab = new Lab();
    for (const bad of ["", "all", "a b", "a//b", "x/y"]) {
      assert.throws(() => lab.setActiveNamespace(bad), { name: "NamespaceError" }, bad);
    }
  });
  test("clearAll() resets everything", async () => {
    const lab = new Lab();
    lab.configureNetworks("foo", ["A", "300"]);
    await lab.clearAll();
    assert.deepEqual(lab.toJSON(), new Lab().toJSON());
  });
});

describe("Lab.toJSON() / Lab.fromJSON()", () => {
  test("round-trip a lab exactly, and allocation continues the same", () => {
    const lab = new Lab({ vlanRange: { min: 200, max: 300 } });
    lab.configureNetworks("minimega", ["A", "B,13:37:13:37:00:01,qinq"]);
    lab.setActiveNamespace("foo");
    lab.vlans.setRange("foo", 500, 600);
    lab.configureNetworks("foo", ["X"]);
    const json = JSON.parse(JSON.stringify(lab.toJSON()));
    const copy = Lab.fromJSON(json);
    assert.deepEqual(copy.toJSON(), lab.toJSON());
    assert.equal(copy.activeNamespace, "foo");
    assert.deepEqual(copy.lookupVlan("minimega", "C"), lab.lookupVlan("minimega", "C"));
  });
  test("refuses state of another version", () => {
    assert.throws(() => Lab.fromJSON({ version: 2 } as never), {
      message: "Cannot load lab state: expected version 1, got 2",
    });
  });
});

describe("parseVlanRange()", () => {
  test("reads MIN-MAX", () => assert.deepEqual(parseVlanRange("2-4095"), { min: 2, max: 4095 }));
  test("throws minimega's errors", () => {
    assert.throws(() => parseVlanRange("100"), { message: "invalid VLAN range provided" });
    assert.throws(() => parseVlanRange("a-b"), { message: "expected integer values for VLAN range" });
    assert.throws(() => parseVlanRange("200-100"), { message: "expected min < max for VLAN range" });
  });
});
