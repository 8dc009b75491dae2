/** The lab model (lib/lab/): minimega's rules, checked through its records and the calls it makes to a backend. */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { LabModel } from "../lib/lab/model.ts";
import { bridgeRows, vmInfoRows } from "../lib/commands/_tables.ts";
import { RecordingBackend } from "../lib/testing/recording_backend.ts";
import { observePcap } from "../lib/wire/observe.ts";
import { SimBackend } from "../sim/backend.ts";

function setup(options: { persistent?: boolean; keepsVms?: boolean } = {}) {
  const backend = new RecordingBackend(options);
  const lab = new LabModel({ backend, macSeed: 1 });
  return { backend, lab };
}

function restore(lab: LabModel, backend = new RecordingBackend()): LabModel {
  return LabModel.fromJSON(JSON.parse(JSON.stringify(lab.toJSON())), { backend, macSeed: 1 });
}

describe("LabModel.configureNetworks()", () => {
  test("resolves each spec's VLAN in order and keeps the spec", async () => {
    const { lab } = setup();
    const nics = await lab.configureNetworks("minimega", [
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
  test("a bad spec changes nothing: the list and the aliases stay as they were", async () => {
    const { lab } = setup();
    await lab.configureNetworks("minimega", ["OLD"]);
    const before = JSON.stringify(lab.toJSON());
    await assert.rejects(lab.configureNetworks("minimega", ["A", "x,y,z", "B"]), {
      name: "LabError",
      code: "invalid-netspec",
      message: "malformed netspec",
    });
    assert.equal(JSON.stringify(lab.toJSON()), before);
    assert.deepEqual(lab.networks("minimega").map((n) => n.vlan), ["OLD"]);
    assert.deepEqual(lab.vlans.aliases("minimega").map((a) => a.alias), ["OLD"]);
  });
  test("refuses MACs that cannot be a NIC's and warns about multicast ones", async () => {
    const warnings: string[] = [];
    const lab = new LabModel({ backend: new RecordingBackend(), onWarning: (w) => warnings.push(w) });
    await assert.rejects(lab.configureNetworks("minimega", ["A,01:02:03:04:05:06:07:08"]), {
      code: "invalid-mac",
      message: "Cannot use MAC '01:02:03:04:05:06:07:08' for a NIC: it has 8 octets, an Ethernet MAC has 6",
    });
    await lab.configureNetworks("minimega", ["A,33:33:00:00:00:01", "A,02:00:00:00:00:01"]);
    assert.deepEqual(warnings, [
      "MAC 33:33:00:00:00:01 is a multicast address: switches will not learn it, and guests may drop its frames",
    ]);
  });
  test("uses the drivers it is given", async () => {
    const lab = new LabModel({ backend: new RecordingBackend(), drivers: new Set() });
    const [nic] = await lab.configureNetworks("minimega", ["100,e1000"]);
    assert.equal(nic!.bridge, "100");
    assert.equal(nic!.vlan, "e1000");
  });
});

describe("LabModel namespaces", () => {
  test("keep their own VM configs and aliases", async () => {
    const { lab } = setup();
    await lab.configureNetworks("minimega", ["A"]);
    await lab.configureNetworks("foo", ["A"]);
    assert.deepEqual(lab.networks("foo").map((n) => n.vlanId), [102]);
    assert.deepEqual(lab.namespaceNames(), ["foo", "minimega"]);
  });
  test("destroyNamespace() removes one and falls back to the default namespace", async () => {
    const { lab } = setup();
    lab.setActiveNamespace("foo");
    await lab.configureNetworks("foo", ["A"]);
    await lab.destroyNamespace("foo");
    assert.equal(lab.activeNamespace, "minimega");
    assert.deepEqual(lab.namespaceNames(), ["minimega"]);
    assert.deepEqual(lab.vlans.aliases("foo"), []);
    await assert.rejects(lab.destroyNamespace("foo"), {
      name: "NamespaceError",
      code: "namespace-not-found",
      message: "unknown namespace: foo",
    });
  });
  test("refuses names that cannot be namespaces", () => {
    const { lab } = setup();
    for (const bad of ["", "all", "a b", "a//b", "x/y"]) {
      assert.throws(() => lab.setActiveNamespace(bad), { name: "NamespaceError", code: "invalid-name" }, bad);
    }
  });
  test("clearAll() resets everything", async () => {
    const { lab } = setup();
    await lab.configureNetworks("foo", ["A", "300"]);
    await lab.clearAll();
    assert.deepEqual(lab.toJSON(), new LabModel({ backend: new RecordingBackend(), macSeed: 1 }).toJSON());
  });
});

describe("LabModel.toJSON() / LabModel.fromJSON()", () => {
  test("round-trip a lab exactly, and allocation continues the same", async () => {
    const lab = new LabModel({ backend: new RecordingBackend(), vlanRange: { min: 200, max: 300 } });
    await lab.configureNetworks("minimega", ["A", "B,13:37:13:37:00:01,qinq"]);
    lab.setActiveNamespace("foo");
    lab.vlans.setRange("foo", 500, 600);
    await lab.configureNetworks("foo", ["X"]);
    await lab.launchVms("foo", "container", "a,b");
    await lab.createTap("foo", "X", { name: "t", ip: "10.0.0.1/24" });
    await lab.mirrorTaps("foo", "mega_tap0", "t");
    await lab.patchBridges("mega_bridge", "lab");
    const json = JSON.parse(JSON.stringify(lab.toJSON()));
    const copy = LabModel.fromJSON(json, { backend: new RecordingBackend() });
    assert.deepEqual(copy.toJSON(), lab.toJSON());
    assert.equal(copy.activeNamespace, "foo");
    assert.deepEqual(copy.lookupVlan("minimega", "C"), lab.lookupVlan("minimega", "C"));
    // the names it holds are still taken
    await assert.rejects(copy.createTap("foo", "X", { name: "mega_tap1" }), { code: "port-exists" });
  });
  test("reads a version 1 state file (labwire 0.1)", () => {
    const v1 = {
      version: 1,
      active: "minimega",
      vlans: {
        version: 1,
        defaultRange: { min: 101, max: 4096 },
        ranges: [{ namespace: "", min: 101, max: 4096, next: 102 }],
        aliases: [{ namespace: "minimega", value: "LAN", vlan: 101 }],
        blacklist: [],
      },
      namespaces: {
        minimega: {
          networks: [{
            bridge: "mega_bridge",
            vlan: "LAN",
            mac: "",
            driver: "e1000",
            qinq: false,
            raw: "LAN",
            vlanId: 101,
          }],
          vmConfig: { memory: "512", vcpus: "1", kernel: "", initrd: "", append: "", disks: [] },
          hostTaps: ["h"],
          mirrors: ["h"],
          snaplen: 0,
          filter: "",
        },
      },
      topology: {
        bridges: {
          mega_bridge: {
            name: "mega_bridge",
            taps: {
              h: {
                name: "h",
                role: "host",
                vlan: 101,
                qinq: false,
                mac: "02:00:00:00:00:09",
                namespace: "minimega",
                addresses: ["10.0.0.9/24"],
              },
              mega_tap0: {
                name: "mega_tap0",
                role: "vm",
                vlan: 101,
                qinq: false,
                mac: "02:00:00:00:00:01",
                namespace: "minimega",
                addresses: [],
              },
            },
            trunks: ["eth1"],
            mirrors: {
              "mirror-h": {
                name: "mirror-h",
                selectAll: false,
                selectSrc: ["mega_tap0"],
                selectDst: ["mega_tap0"],
                output: "h",
              },
            },
            config: {},
          },
        },
        nextTap: 1,
      },
      vms: [{
        id: 0,
        name: "a",
        namespace: "minimega",
        type: "container",
        state: "PAUSED",
        nics: [{
          bridge: "mega_bridge",
          vlan: 101,
          mac: "02:00:00:00:00:01",
          driver: "",
          qinq: false,
          tap: "mega_tap0",
          ips: [],
        }],
      }],
      captures: [],
      nextVmId: 1,
      nextCaptureId: 0,
      macCount: 2,
    };
    const lab = LabModel.fromJSON(v1, { backend: new RecordingBackend() });
    const state = lab.toJSON();
    assert.equal(state.version, 2);
    assert.deepEqual(state.taps, [{
      name: "h",
      namespace: "minimega",
      bridge: "mega_bridge",
      vlan: 101,
      mac: "02:00:00:00:00:09",
      ips: ["10.0.0.9/24"],
    }]);
    assert.deepEqual(state.mirrors, [{
      name: "mirror-h",
      namespace: "minimega",
      bridge: "mega_bridge",
      source: "mega_tap0",
      output: "h",
    }]);
    assert.deepEqual(state.bridges.mega_bridge, {
      name: "mega_bridge",
      preexisting: false,
      trunks: ["eth1"],
      config: {},
    });
    assert.equal(state.vms[0]!.nics[0]!.tap, "mega_tap0");
    assert.deepEqual(state.counters, { vm: 1, capture: 0, tap: 1, mac: 2 });
    assert.equal(lab.vmConfig("minimega").memory, "512");
  });
  test("refuses state that is not a lab's, in one sentence", () => {
    for (
      const [state, message] of [
        [{ version: 3 }, "Cannot load lab state: expected version 1 or 2, got 3"],
        [[], "Cannot load lab state: expected a JSON object"],
        [{
          version: 2,
          namespaces: {},
          bridges: {},
          vlans: {},
          counters: {},
          vms: {},
          taps: [],
          mirrors: [],
          patches: [],
          captures: [],
          active: "minimega",
        }, "Cannot load lab state: vms must be a list"],
      ] as const
    ) {
      assert.throws(() => LabModel.fromJSON(state, { backend: new RecordingBackend() }), {
        name: "StateError",
        code: "state-failed",
        message,
      });
    }
  });
});

describe("LabModel networking", () => {
  test("a disconnected NIC is kept, plugged in again by connect, and destroyed with its VM", async () => {
    const { backend, lab } = setup();
    await lab.configureNetworks("minimega", ["LAN", "DMZ"]);
    await lab.launchVms("minimega", "kvm", "a");
    await lab.addVmAddress("minimega", "a", "1", "10.0.0.1/24");
    backend.calls.length = 0;
    await lab.disconnectVmNic("minimega", "a", "1");
    await lab.connectVmNic("minimega", "a", "1", "LAN");
    await lab.disconnectVmNic("minimega", "a", "1");
    await lab.killVms("minimega", "a");
    await lab.flushVms("minimega");
    assert.deepEqual(backend.calls, [
      "removePorts mega_bridge mega_tap1 (keep the NICs)",
      'addPorts mega_bridge mega_tap1 vm {"kind":"access","tag":101}',
      "addAddress mega_bridge mega_tap1 10.0.0.1/24",
      "removePorts mega_bridge mega_tap1 (keep the NICs)",
      "killVms a",
      "removePorts mega_bridge mega_tap0",
      "destroyNics mega_tap1 a:1",
    ]);
  });
  test("configureBridge() has the backend apply a setting before it is recorded", async () => {
    const { backend, lab } = setup();
    await lab.configureBridge("lab", "stp_enable=true");
    assert.deepEqual(backend.calls, ["addBridge lab", "configureBridge lab stp_enable=true"]);
    backend.failOn = /bogus/;
    await assert.rejects(lab.configureBridge("lab", "bogus=1"), {
      message: "Cannot configureBridge lab bogus=1: boom",
    });
    assert.equal(bridgeRows(lab, "minimega")[0]![6], '{"stp_enable":"true"}');
  });
  test("a bridge the backend found and did not make is listed preexisting, also after JSON", async () => {
    const { backend, lab } = setup();
    backend.preexisting.add("br-ex");
    await lab.createTap("minimega", "LAN", { bridge: "br-ex", name: "h" });
    await lab.createTap("minimega", "LAN", { name: "g" });
    const rows = (l: LabModel) => bridgeRows(l, "minimega").map((r) => r.slice(0, 2));
    assert.deepEqual(rows(lab), [["br-ex", "true"], ["mega_bridge", "false"]]);
    assert.deepEqual(rows(restore(lab)), rows(lab));
    // the backend is still asked to remove it: it keeps a bridge it did not make (OvsBackend.removeBridge)
    await lab.clearAll();
    assert.ok(backend.calls.includes("removeBridge br-ex"));
  });
  test("launchVms() plugs each NIC with the port mode its VLAN needs, and launches the VMs paused", async () => {
    const { backend, lab } = setup();
    await lab.configureNetworks("minimega", ["LAN", "4094", "lab,CORE,qinq"]);
    await lab.launchVms("minimega", "kvm", "a");
    assert.deepEqual(backend.calls, [
      "addBridge mega_bridge",
      'addPorts mega_bridge mega_tap0 vm {"kind":"access","tag":101}, mega_tap1 vm {"kind":"access","tag":4094}',
      "addBridge lab",
      'addPorts lab mega_tap2 vm {"kind":"dot1q-tunnel","tag":102}',
      "launchVms a",
    ]);
    const macs = lab.vms.list("minimega")[0]!.nics.map((n) => n.mac);
    assert.equal(new Set(macs).size, 3, "distinct generated MACs");
    for (const mac of macs) {
      assert.equal(parseInt(mac.slice(0, 2), 16) & 3, 2, "locally administered unicast");
    }
  });
  test("launchVms() plugs every NIC of every VM of a launch with one call per bridge", async () => {
    const { backend, lab } = setup();
    await lab.configureNetworks("minimega", ["LAN", "lab,DMZ"]);
    await lab.launchVms("minimega", "container", "vm[1-3]");
    assert.deepEqual(backend.calls, [
      "addBridge mega_bridge",
      'addPorts mega_bridge mega_tap0 vm {"kind":"access","tag":101}, mega_tap2 vm {"kind":"access","tag":101}, ' +
      'mega_tap4 vm {"kind":"access","tag":101}',
      "addBridge lab",
      'addPorts lab mega_tap1 vm {"kind":"access","tag":102}, mega_tap3 vm {"kind":"access","tag":102}, ' +
      'mega_tap5 vm {"kind":"access","tag":102}',
      "launchVms vm1, vm2, vm3",
    ]);
    assert.deepEqual(backend.ports.get("mega_tap3")?.vm, {
      name: "vm2",
      namespace: "minimega",
      id: 1,
      nic: 1,
      type: "container",
      running: false,
    });
    assert.deepEqual(lab.vms.list("minimega").map((vm) => vm.state), ["PAUSED", "PAUSED", "PAUSED"]);
  });
  test("launchVms() leaves nothing behind when a NIC cannot be plugged: the lab and the backend as they were", async () => {
    const { backend, lab } = setup();
    await lab.configureNetworks("minimega", ["LAN", "lab,DMZ"]);
    const before = JSON.stringify(lab.toJSON());
    backend.failOn = /^addPorts lab /;
    await assert.rejects(lab.launchVms("minimega", "kvm", "a,b"), {
      message: /^Cannot addPorts lab .*: boom$/,
    });
    assert.equal(JSON.stringify(lab.toJSON()), before);
    assert.deepEqual([...backend.ports.keys()], []);
    assert.deepEqual(backend.calls.slice(-2), [
      "removePorts mega_bridge mega_tap0 mega_tap2",
      "removeBridge mega_bridge",
    ]);
    // the names were not used up
    backend.failOn = undefined;
    await lab.launchVms("minimega", "kvm", "a");
    assert.deepEqual(lab.vms.list("minimega").map((vm) => [vm.id, vm.nics.map((n) => n.tap)]), [[0, [
      "mega_tap0",
      "mega_tap1",
    ]]]);
  });
  test("generated MACs are reproducible under a seed and survive JSON", async () => {
    const one = setup();
    const two = setup();
    for (const { lab } of [one, two]) {
      await lab.configureNetworks("minimega", ["LAN"]);
      await lab.launchVms("minimega", "kvm", "a,b");
    }
    assert.deepEqual(vmInfoRows(one.lab, "minimega"), vmInfoRows(two.lab, "minimega"));
    const restored = restore(one.lab);
    await one.lab.launchVms("minimega", "kvm", "c");
    await restored.launchVms("minimega", "kvm", "c");
    assert.deepEqual(vmInfoRows(restored, "minimega"), vmInfoRows(one.lab, "minimega"));
  });
  test("mirrorTaps() makes minimega's mirror: source both ways, output the destination", async () => {
    const { backend, lab } = setup();
    await lab.createTap("minimega", "LAN", { name: "web" });
    await lab.createTap("minimega", "LAN", { name: "ids" });
    await lab.mirrorTaps("minimega", "web", "ids");
    assert.equal(
      backend.calls.at(-1),
      'addMirror mega_bridge {"name":"mirror-ids","selectAll":false,"selectSrc":["web"],"selectDst":["web"],"output":"ids"}',
    );
    await lab.deleteTap("minimega", "ids");
    assert.deepEqual(backend.calls.slice(-2), [
      "removeMirror mega_bridge mirror-ids",
      "removePorts mega_bridge ids",
    ]);
  });
  test("a bridge capture is a trunk capture tap fed by a select-all mirror, removed with the capture", async () => {
    const { backend, lab } = setup();
    await lab.createTap("minimega", "LAN", { name: "web" });
    await lab.setSnaplen("minimega", "128");
    await lab.captureBridge("minimega", "mega_bridge", { path: "/tmp/x.pcap" });
    assert.deepEqual(backend.calls.slice(-3), [
      'addPorts mega_bridge mega_tap0 capture {"kind":"trunk"}',
      'addMirror mega_bridge {"name":"mirror-mega_tap0","selectAll":true,"selectSrc":[],"selectDst":[],"output":"mega_tap0"}',
      'startCapture {"id":0,"bridge":"mega_bridge","port":"mega_tap0","path":"/tmp/x.pcap","snaplen":128,"filter":"","limit":100000}',
    ]);
    await lab.clearCaptures("minimega");
    assert.deepEqual(backend.calls.slice(-3), [
      "stopCapture 0",
      "removeMirror mega_bridge mirror-mega_tap0",
      "removePorts mega_bridge mega_tap0",
    ]);
  });
  test("flushing a VM that is a mirror destination frees its tap and the mirror", async () => {
    const { backend, lab } = setup();
    await lab.configureNetworks("minimega", ["LAN"]);
    await lab.launchVms("minimega", "kvm", "a,b");
    await lab.mirrorVms("minimega", "a", "0", "b", "0");
    await lab.killVms("minimega", "b");
    await lab.flushVms("minimega");
    assert.deepEqual(backend.calls.slice(-2), [
      "removeMirror mega_bridge mirror-mega_tap1",
      "removePorts mega_bridge mega_tap1",
    ]);
    await assert.rejects(lab.clearMirror("minimega", "mega_tap1"), {
      code: "mirror-not-found",
      message: "not a valid mirror",
    });
  });
  test("createTap() with dhcp records the lease; ping() goes to the backend and gives a typed result", async () => {
    const { backend, lab } = setup();
    const tap = await lab.createTap("minimega", "LAN", { dhcp: true });
    assert.deepEqual(tap.ips, ["10.9.0.7/24"]);
    assert.deepEqual(await lab.ping("minimega", tap.name, "10.9.0.1", 4), {
      from: tap.name,
      to: "10.9.0.1",
      sent: 4,
      received: 3,
      lost: 1,
      rttMs: [1, 1, 1],
      reason: undefined,
    });
    assert.equal(backend.calls.at(-1), `ping mega_bridge ${tap.name} 10.9.0.1 4`);
  });
  test("ping() from a VM that does not run is refused; from a running one it goes to the backend", async () => {
    const { lab } = setup();
    await lab.configureNetworks("minimega", ["LAN"]);
    await lab.launchVms("minimega", "container", "a");
    await assert.rejects(lab.ping("minimega", "a:0", "10.0.0.2", 1), {
      name: "VmError",
      code: "vm-not-running",
      message: "Cannot ping from a:0: vm a is PAUSED; a VM that does not run sends nothing (vm start a)",
    });
    await lab.startVms("minimega", "a");
    assert.equal((await lab.ping("minimega", "a:0", "10.0.0.2", 2)).received, 1);
  });
  test("realise() rebuilds a restored lab's bridges, ports, addresses and mirrors in a new backend", async () => {
    const { lab } = setup();
    await lab.configureNetworks("minimega", ["LAN"]);
    await lab.launchVms("minimega", "kvm", "a");
    await lab.createTap("minimega", "LAN", { name: "h", ip: "10.0.0.1/24" });
    await lab.mirrorTaps("minimega", "mega_tap0", "h");
    await lab.trunk("mega_bridge", "eth1");
    const fresh = new RecordingBackend();
    const restored = restore(lab, fresh);
    await restored.realise();
    assert.deepEqual(fresh.calls, [
      "addBridge mega_bridge",
      'addPorts mega_bridge mega_tap0 vm {"kind":"access","tag":101}, h host {"kind":"access","tag":101}, ' +
      'eth1 trunk {"kind":"trunk"}',
      "addAddress mega_bridge h 10.0.0.1/24",
      'addMirror mega_bridge {"name":"mirror-h","selectAll":false,"selectSrc":["mega_tap0"],"selectDst":["mega_tap0"],"output":"h"}',
    ]);
  });
  test("close() kills the VMs of a backend that runs them and does not keep them, and marks them QUIT", async () => {
    const { backend, lab } = setup({ persistent: true, keepsVms: false });
    await lab.launchVms("minimega", "kvm", "a,b");
    await lab.startVms("minimega", "a");
    await lab.launchVms("minimega", "container", "c");
    backend.calls.length = 0;
    await lab.close();
    assert.deepEqual(backend.calls, ["killVms a, b", "close"]);
    assert.deepEqual(lab.vms.list("minimega").map((vm) => `${vm.name} ${vm.state}`), [
      "a QUIT",
      "b QUIT",
      "c PAUSED",
    ]);
  });
  test("close() leaves the VMs of a backend that keeps them RUNNING or PAUSED, in the saved lab too", async () => {
    const { backend, lab } = setup({ persistent: true, keepsVms: true });
    await lab.launchVms("minimega", "kvm", "a,b");
    await lab.startVms("minimega", "a");
    backend.calls.length = 0;
    await lab.close();
    assert.deepEqual(backend.calls, ["close"]);
    assert.deepEqual(lab.vms.list("minimega").map((vm) => `${vm.name} ${vm.state}`), [
      "a RUNNING",
      "b PAUSED",
    ]);
    assert.deepEqual(restore(lab).vms.list("minimega").map((vm) => `${vm.name} ${vm.state}`), [
      "a RUNNING",
      "b PAUSED",
    ]);
  });
  test("launchVms() ends nothing it did not launch when the backend's launch fails, and leaves no VM", async () => {
    const { backend, lab } = setup({ persistent: true, keepsVms: true });
    backend.failOn = /^launchVms /;
    await assert.rejects(lab.launchVms("minimega", "kvm", "a,b,c"), {
      message: "Cannot launchVms a, b, c: boom",
    });
    assert.deepEqual(lab.vms.list("minimega"), []);
    assert.ok(!backend.calls.some((c) => c.startsWith("killVms")));
  });
  test("lookups by name and id are indexed: 20,000 VMs launch one at a time in linear time", async () => {
    const { lab } = setup();
    await lab.configureNetworks("minimega", ["LAN"]);
    const started = Date.now();
    for (let i = 0; i < 20_000; i++) await lab.launchVms("minimega", "container", `v${i}`);
    assert.equal(lab.vms.size, 20_000);
    assert.equal(lab.vms.find("minimega", "v19999")?.id, 19_999);
    assert.equal(lab.vms.find("minimega", "19999")?.name, "v19999");
    // no timing assertion (machines are noisy): bench/launch.bench.ts measures it; this only must finish
    assert.ok(Date.now() - started >= 0);
  });
});

describe("LabModel networking on the simulator", () => {
  test("a VM capture follows its NIC across disconnect and connect, and the NIC keeps its ARP cache", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "labwire-labnet-"));
    try {
      const lab = new LabModel({ backend: new SimBackend(), macSeed: 1 });
      await lab.configureNetworks("minimega", ["LAN"]);
      await lab.launchVms("minimega", "container", "a,b");
      await lab.startVms("minimega", "all");
      await lab.addVmAddress("minimega", "a", "0", "10.0.0.1/24");
      await lab.addVmAddress("minimega", "b", "0", "10.0.0.2/24");
      const pcap = path.join(dir, "b.pcap");
      await lab.captureVm("minimega", "b", "0", { path: pcap });
      assert.equal((await lab.ping("minimega", "b:0", "10.0.0.1", 1)).received, 1);
      await lab.disconnectVmNic("minimega", "b", "0");
      await assert.rejects(lab.ping("minimega", "b:0", "10.0.0.1", 1), {
        code: "nic-disconnected",
        message: "Cannot ping from b:0: the NIC is disconnected",
      });
      await lab.connectVmNic("minimega", "b", "0", "LAN");
      assert.equal((await lab.ping("minimega", "b:0", "10.0.0.1", 1)).received, 1);
      await lab.clearCaptures("minimega");
      const seen = observePcap(fs.readFileSync(pcap)).map((l) => l.replace(/^\S+ > \S+, /, ""));
      // one ARP exchange only: b kept 10.0.0.1's MAC while it was unplugged
      assert.deepEqual(seen, [
        "ARP, Request who-has 10.0.0.1 tell 10.0.0.2",
        `ARP, Reply 10.0.0.1 is-at ${lab.vms.find("minimega", "a")!.nics[0]!.mac}`,
        "IPv4 10.0.0.2 > 10.0.0.1: ICMP echo request, seq 1, ttl 64",
        "IPv4 10.0.0.1 > 10.0.0.2: ICMP echo reply, seq 1, ttl 64",
        "IPv4 10.0.0.2 > 10.0.0.1: ICMP echo request, seq 1, ttl 64",
        "IPv4 10.0.0.1 > 10.0.0.2: ICMP echo reply, seq 1, ttl 64",
      ]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
  test("a paused VM answers nothing and a killed KVM VM answers nothing, until started", async () => {
    const lab = new LabModel({ backend: new SimBackend(), macSeed: 1 });
    await lab.configureNetworks("minimega", ["LAN"]);
    await lab.launchVms("minimega", "container", "a");
    await lab.launchVms("minimega", "kvm", "k");
    await lab.startVms("minimega", "all");
    await lab.addVmAddress("minimega", "a", "0", "10.0.0.1/24");
    await lab.addVmAddress("minimega", "k", "0", "10.0.0.2/24");
    assert.equal((await lab.ping("minimega", "a:0", "10.0.0.2", 3)).received, 3);
    await lab.stopVms("minimega", "k");
    const paused = await lab.ping("minimega", "a:0", "10.0.0.2", 3);
    assert.deepEqual([paused.received, paused.reason], [0, "no-reply"]);
    await lab.startVms("minimega", "k");
    assert.equal((await lab.ping("minimega", "a:0", "10.0.0.2", 3)).received, 3);
    await lab.killVms("minimega", "k");
    assert.equal((await lab.ping("minimega", "a:0", "10.0.0.2", 3)).received, 0);
    await lab.startVms("minimega", "k");
    assert.equal((await lab.ping("minimega", "a:0", "10.0.0.2", 3)).received, 3);
  });
  test("a ping from a NIC with no address, or to an address it has no route to, is Network is unreachable", async () => {
    const lab = new LabModel({ backend: new SimBackend(), macSeed: 1 });
    await lab.configureNetworks("minimega", ["LAN"]);
    await lab.launchVms("minimega", "container", "a");
    await lab.startVms("minimega", "a");
    await assert.rejects(lab.ping("minimega", "a:0", "10.0.0.2", 1), {
      name: "PingError",
      code: "network-unreachable",
      message: "Cannot ping 10.0.0.2 from a:0: connect: Network is unreachable",
    });
    await lab.addVmAddress("minimega", "a", "0", "10.0.0.1/24");
    await assert.rejects(lab.ping("minimega", "a:0", "10.9.0.2", 1), { code: "network-unreachable" });
    const none = await lab.ping("minimega", "a:0", "10.0.0.2", 1);
    assert.deepEqual([none.sent, none.received, none.reason], [1, 0, "no-reply"]);
  });
});
