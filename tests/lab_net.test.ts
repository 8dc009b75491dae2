/** The lab model's networking half, checked through the calls it makes to its backend. */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import type { Backend, CaptureSpec, MirrorSpec, PingResult, PortSpec, VmSpec } from "../lib/backend.ts";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Lab } from "../lib/lab.ts";
import { observePcap } from "../lib/wire/observe.ts";
import { SimBackend } from "../sim/backend.ts";

/** A backend that records what it is asked to do. */
class RecordingBackend implements Backend {
  readonly name = "recording";
  readonly calls: string[] = [];
  readonly ports = new Map<string, PortSpec>();
  /** Bridges that exist already, not made by the backend. */
  readonly preexisting = new Set<string>();
  addBridge(bridge: string): Promise<{ preexisting: boolean }> {
    this.calls.push(`addBridge ${bridge}`);
    return Promise.resolve({ preexisting: this.preexisting.has(bridge) });
  }
  configureBridge(bridge: string, key: string, value: string): Promise<void> {
    this.calls.push(`configureBridge ${bridge} ${key}=${value}`);
    return key === "bogus"
      ? Promise.reject(new Error("set config failed: no column bogus"))
      : Promise.resolve();
  }
  removeBridge(bridge: string): Promise<void> {
    this.calls.push(`removeBridge ${bridge}`);
    return Promise.resolve();
  }
  addPorts(bridge: string, ports: readonly PortSpec[]): Promise<void> {
    for (const port of ports) this.ports.set(port.name, port);
    const shown = ports.map((port) => `${port.name} ${port.role} ${JSON.stringify(port.mode)}`);
    this.calls.push(`addPorts ${bridge} ${shown.join(", ")}`);
    return Promise.resolve();
  }
  removePorts(bridge: string, ports: readonly string[], options: { keepNics?: boolean } = {}): Promise<void> {
    for (const port of ports) this.ports.delete(port);
    this.calls.push(
      `removePorts ${bridge} ${ports.join(" ")}${options.keepNics === true ? " (keep the NICs)" : ""}`,
    );
    return Promise.resolve();
  }
  destroyNics(nics: readonly PortSpec[]): Promise<void> {
    this.calls.push(`destroyNics ${nics.map((n) => `${n.name} ${n.vm?.name}:${n.vm?.nic}`).join(", ")}`);
    return Promise.resolve();
  }
  addPatch(bridgeA: string, portA: string, bridgeB: string, portB: string): Promise<void> {
    this.calls.push(`addPatch ${bridgeA} ${portA} ${bridgeB} ${portB}`);
    return Promise.resolve();
  }
  addMirror(bridge: string, mirror: MirrorSpec): Promise<void> {
    this.calls.push(`addMirror ${bridge} ${JSON.stringify(mirror)}`);
    return Promise.resolve();
  }
  removeMirror(bridge: string, mirror: string): Promise<void> {
    this.calls.push(`removeMirror ${bridge} ${mirror}`);
    return Promise.resolve();
  }
  addAddress(bridge: string, port: string, cidr: string): Promise<void> {
    this.calls.push(`addAddress ${bridge} ${port} ${cidr}`);
    return Promise.resolve();
  }
  dhcp(_bridge: string, port: string): Promise<string> {
    this.calls.push(`dhcp ${port}`);
    return Promise.resolve("10.9.0.7/24");
  }
  startCapture(capture: CaptureSpec): Promise<void> {
    this.calls.push(`startCapture ${JSON.stringify(capture)}`);
    return Promise.resolve();
  }
  stopCapture(id: number): Promise<void> {
    this.calls.push(`stopCapture ${id}`);
    return Promise.resolve();
  }
  ping(bridge: string, port: string, ip: string, count: number): Promise<PingResult> {
    this.calls.push(`ping ${bridge} ${port} ${ip} ${count}`);
    return Promise.resolve({ sent: count, received: count - 1 });
  }
}

/** A recording backend that runs VMs itself, as QEMU does; `keepsVms`: they outlive the process. */
class VmRecordingBackend extends RecordingBackend {
  readonly keepsVms: boolean;
  /** Fails the launch of this VM. */
  failLaunch = "";
  constructor(keepsVms: boolean) {
    super();
    this.keepsVms = keepsVms;
  }
  launchVm(vm: VmSpec): Promise<void> {
    if (vm.name === this.failLaunch) {
      return Promise.reject(new Error(`Cannot launch KVM VM ${vm.name}: boom`));
    }
    this.calls.push(`launchVm ${vm.name}`);
    return Promise.resolve();
  }
  startVm(vm: VmSpec): Promise<void> {
    this.calls.push(`startVm ${vm.name}`);
    return Promise.resolve();
  }
  killVm(vm: VmSpec): Promise<void> {
    this.calls.push(`killVm ${vm.name}`);
    return Promise.resolve();
  }
  close(): Promise<void> {
    this.calls.push("close");
    return Promise.resolve();
  }
}

function setup() {
  const backend = new RecordingBackend();
  const lab = new Lab({ backend, macSeed: 1 });
  return { backend, lab };
}

describe("Lab networking", () => {
  test("a disconnected NIC is kept, plugged in again by connect, and destroyed with its VM", async () => {
    const { backend, lab } = setup();
    lab.configureNetworks("minimega", ["LAN", "DMZ"]);
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
      "addBridge mega_bridge",
      'addPorts mega_bridge mega_tap1 vm {"kind":"access","tag":101}',
      "addAddress mega_bridge mega_tap1 10.0.0.1/24",
      "removePorts mega_bridge mega_tap1 (keep the NICs)",
      "removePorts mega_bridge mega_tap0",
      "destroyNics mega_tap1 a:1",
    ]);
  });
  test("configureBridge() has the backend apply a setting before it is recorded", async () => {
    const { backend, lab } = setup();
    await lab.configureBridge("lab", "stp_enable=true");
    assert.deepEqual(backend.calls, ["addBridge lab", "configureBridge lab stp_enable=true"]);
    await assert.rejects(lab.configureBridge("lab", "bogus=1"), {
      message: "set config failed: no column bogus",
    });
    assert.equal(lab.bridgeRows("minimega")[0]![6], '{"stp_enable":"true"}');
  });
  test("a bridge the backend found and did not make is listed preexisting, also after JSON", async () => {
    const { backend, lab } = setup();
    backend.preexisting.add("br-ex");
    await lab.createTap("minimega", "LAN", { bridge: "br-ex", name: "h" });
    await lab.createTap("minimega", "LAN", { name: "g" });
    const rows = (l: Lab) => l.bridgeRows("minimega").map((r) => r.slice(0, 2));
    assert.deepEqual(rows(lab), [["br-ex", "true"], ["mega_bridge", "false"]]);
    assert.deepEqual(rows(Lab.fromJSON(JSON.parse(JSON.stringify(lab.toJSON())))), rows(lab));
    // the backend is still asked to remove it: it keeps a bridge it did not make (OvsBackend.removeBridge)
    await lab.clearAll();
    assert.ok(backend.calls.includes("removeBridge br-ex"));
  });
  test("launchVms() plugs each NIC with the port mode its VLAN needs", async () => {
    const { backend, lab } = setup();
    lab.configureNetworks("minimega", ["LAN", "0", "lab,CORE,qinq"]);
    await lab.launchVms("minimega", "kvm", "a");
    assert.deepEqual(backend.calls, [
      "addBridge mega_bridge",
      'addPorts mega_bridge mega_tap0 vm {"kind":"access","tag":101}, mega_tap1 vm {"kind":"trunk"}',
      "addBridge lab",
      'addPorts lab mega_tap2 vm {"kind":"dot1q-tunnel","tag":102}',
    ]);
    const macs = lab.vms("minimega")[0]!.nics.map((n) => n.mac);
    assert.equal(new Set(macs).size, 3, "distinct generated MACs");
    for (const mac of macs) {
      assert.equal(parseInt(mac.slice(0, 2), 16) & 3, 2, "locally administered unicast");
    }
  });
  test("launchVms() plugs every NIC of every VM of a launch with one call per bridge", async () => {
    const { backend, lab } = setup();
    lab.configureNetworks("minimega", ["LAN", "lab,DMZ"]);
    await lab.launchVms("minimega", "container", "vm[1-3]");
    assert.deepEqual(backend.calls, [
      "addBridge mega_bridge",
      'addPorts mega_bridge mega_tap0 vm {"kind":"access","tag":101}, mega_tap2 vm {"kind":"access","tag":101}, ' +
      'mega_tap4 vm {"kind":"access","tag":101}',
      "addBridge lab",
      'addPorts lab mega_tap1 vm {"kind":"access","tag":102}, mega_tap3 vm {"kind":"access","tag":102}, ' +
      'mega_tap5 vm {"kind":"access","tag":102}',
    ]);
    assert.deepEqual(backend.ports.get("mega_tap3")?.vm, {
      name: "vm2",
      namespace: "minimega",
      id: 1,
      nic: 1,
      type: "container",
    });
    assert.deepEqual(lab.vms("minimega").map((vm) => vm.state), ["PAUSED", "PAUSED", "PAUSED"]);
  });
  test("launchVms() leaves nothing behind when a NIC cannot be plugged", async () => {
    const { backend, lab } = setup();
    lab.configureNetworks("minimega", ["LAN", "lab,DMZ"]);
    const addPorts = backend.addPorts.bind(backend);
    // the second bridge fails, after the first one's ports were added: those are taken back
    backend.addPorts = (bridge, ports) =>
      bridge === "lab" ? Promise.reject(new Error("add port failed: boom")) : addPorts(bridge, ports);
    await assert.rejects(lab.launchVms("minimega", "kvm", "a,b"), { message: "add port failed: boom" });
    assert.deepEqual(lab.vms("minimega"), []);
    assert.deepEqual([...backend.ports.keys()], []);
    assert.equal(backend.calls.at(-1), "removePorts mega_bridge mega_tap0 mega_tap2");
    assert.deepEqual([...lab.topology.bridge("mega_bridge")!.taps.keys()], []);
    assert.deepEqual([...lab.topology.bridge("lab")!.taps.keys()], []);
  });
  test("generated MACs are reproducible under a seed and survive JSON", async () => {
    const one = setup();
    const two = setup();
    for (const { lab } of [one, two]) {
      lab.configureNetworks("minimega", ["LAN"]);
      await lab.launchVms("minimega", "kvm", "a,b");
    }
    assert.deepEqual(one.lab.vmInfo("minimega"), two.lab.vmInfo("minimega"));
    const restored = Lab.fromJSON(JSON.parse(JSON.stringify(one.lab.toJSON())), { macSeed: 1 });
    await one.lab.launchVms("minimega", "kvm", "c");
    await restored.launchVms("minimega", "kvm", "c");
    assert.deepEqual(restored.vmInfo("minimega"), one.lab.vmInfo("minimega"));
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
    lab.setSnaplen("minimega", "128");
    await lab.captureBridge("minimega", "mega_bridge", "/tmp/x.pcap");
    assert.deepEqual(backend.calls.slice(-3), [
      'addPorts mega_bridge mega_tap0 capture {"kind":"trunk"}',
      'addMirror mega_bridge {"name":"mirror-mega_tap0","selectAll":true,"selectSrc":[],"selectDst":[],"output":"mega_tap0"}',
      'startCapture {"id":0,"bridge":"mega_bridge","port":"mega_tap0","path":"/tmp/x.pcap","snaplen":128,"filter":""}',
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
    lab.configureNetworks("minimega", ["LAN"]);
    await lab.launchVms("minimega", "kvm", "a,b");
    await lab.mirrorVms("minimega", "a", "0", "b", "0");
    await lab.killVms("minimega", "b");
    await lab.flushVms("minimega");
    assert.deepEqual(backend.calls.slice(-2), [
      "removeMirror mega_bridge mirror-mega_tap1",
      "removePorts mega_bridge mega_tap1",
    ]);
    await assert.rejects(lab.clearMirror("minimega", "mega_tap1"), { message: "not a valid mirror" });
  });
  test("createTap() with dhcp records the lease; ping() goes to the backend", async () => {
    const { backend, lab } = setup();
    const tap = await lab.createTap("minimega", "LAN", { dhcp: true });
    assert.deepEqual(lab.topology.findTap(tap)!.tap.addresses, ["10.9.0.7/24"]);
    assert.deepEqual(await lab.ping("minimega", tap, "10.9.0.1", 4), { sent: 4, received: 3 });
    assert.equal(backend.calls.at(-1), `ping mega_bridge ${tap} 10.9.0.1 4`);
  });
  test("realise() rebuilds a restored lab's bridges, ports, addresses and mirrors in a new backend", async () => {
    const { lab } = setup();
    lab.configureNetworks("minimega", ["LAN"]);
    await lab.launchVms("minimega", "kvm", "a");
    await lab.createTap("minimega", "LAN", { name: "h", ip: "10.0.0.1/24" });
    await lab.mirrorTaps("minimega", "mega_tap0", "h");
    await lab.trunk("mega_bridge", "eth1");
    const fresh = new RecordingBackend();
    const restored = Lab.fromJSON(JSON.parse(JSON.stringify(lab.toJSON())), { backend: fresh });
    await restored.realise();
    assert.deepEqual(fresh.calls, [
      "addBridge mega_bridge",
      'addPorts mega_bridge h host {"kind":"access","tag":101}, mega_tap0 vm {"kind":"access","tag":101}, ' +
      'eth1 trunk {"kind":"trunk"}',
      "addAddress mega_bridge h 10.0.0.1/24",
      'addMirror mega_bridge {"name":"mirror-h","selectAll":false,"selectSrc":["mega_tap0"],"selectDst":["mega_tap0"],"output":"h"}',
    ]);
  });
  test("close() kills the VMs of a backend that does not keep them, and marks them QUIT", async () => {
    const backend = new VmRecordingBackend(false);
    const lab = new Lab({ backend, macSeed: 1 });
    await lab.launchVms("minimega", "kvm", "a,b");
    await lab.startVms("minimega", "a");
    await lab.launchVms("minimega", "container", "c");
    backend.calls.length = 0;
    await lab.close();
    assert.deepEqual(backend.calls, ["killVm a", "killVm b", "close"]);
    assert.deepEqual(lab.vms("minimega").map((vm) => `${vm.name} ${vm.state}`), [
      "a QUIT",
      "b QUIT",
      "c PAUSED",
    ]);
  });
  test("close() leaves the VMs of a backend that keeps them RUNNING or PAUSED, in the saved lab too", async () => {
    const backend = new VmRecordingBackend(true);
    const lab = new Lab({ backend, macSeed: 1 });
    await lab.launchVms("minimega", "kvm", "a,b");
    await lab.startVms("minimega", "a");
    backend.calls.length = 0;
    await lab.close();
    assert.deepEqual(backend.calls, ["close"]);
    assert.deepEqual(lab.vms("minimega").map((vm) => `${vm.name} ${vm.state}`), ["a RUNNING", "b PAUSED"]);
    const saved = Lab.fromJSON(JSON.parse(JSON.stringify(lab.toJSON())), { backend });
    assert.deepEqual(saved.vms("minimega").map((vm) => `${vm.name} ${vm.state}`), ["a RUNNING", "b PAUSED"]);
  });
  test("launchVms() kills the VMs it launched when a later one fails to launch", async () => {
    const backend = new VmRecordingBackend(true);
    const lab = new Lab({ backend, macSeed: 1 });
    backend.failLaunch = "c";
    await assert.rejects(lab.launchVms("minimega", "kvm", "a,b,c"), {
      message: "Cannot launch KVM VM c: boom",
    });
    assert.deepEqual(backend.calls.filter((c) => /Vm /.test(c)), [
      "launchVm a",
      "launchVm b",
      "killVm a",
      "killVm b",
    ]);
    assert.deepEqual(lab.vms("minimega"), []);
  });
});

describe("Lab networking on the simulator", () => {
  test("a VM capture follows its NIC across disconnect and connect, and the NIC keeps its ARP cache", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "labwire-labnet-"));
    try {
      const lab = new Lab({ backend: new SimBackend(), macSeed: 1 });
      lab.configureNetworks("minimega", ["LAN"]);
      await lab.launchVms("minimega", "container", "a,b");
      await lab.addVmAddress("minimega", "a", "0", "10.0.0.1/24");
      await lab.addVmAddress("minimega", "b", "0", "10.0.0.2/24");
      const pcap = path.join(dir, "b.pcap");
      await lab.captureVm("minimega", "b", "0", pcap);
      assert.deepEqual(await lab.ping("minimega", "b:0", "10.0.0.1", 1), { sent: 1, received: 1 });
      await lab.disconnectVmNic("minimega", "b", "0");
      assert.deepEqual(
        await lab.ping("minimega", "b:0", "10.0.0.1", 1).catch((e: Error) => e.message),
        "Cannot ping from b:0: the NIC is disconnected",
      );
      await lab.connectVmNic("minimega", "b", "0", "LAN");
      assert.deepEqual(await lab.ping("minimega", "b:0", "10.0.0.1", 1), { sent: 1, received: 1 });
      await lab.clearCaptures("minimega");
      const seen = observePcap(fs.readFileSync(pcap)).map((l) => l.replace(/^\S+ > \S+, /, ""));
      // one ARP exchange only: b kept 10.0.0.1's MAC while it was unplugged
      assert.deepEqual(seen, [
        "ARP, Request who-has 10.0.0.1 tell 10.0.0.2",
        `ARP, Reply 10.0.0.1 is-at ${lab.findVm("minimega", "a")!.nics[0]!.mac}`,
        "IPv4 10.0.0.2 > 10.0.0.1: ICMP echo request, seq 1",
        "IPv4 10.0.0.1 > 10.0.0.2: ICMP echo reply, seq 1",
        "IPv4 10.0.0.2 > 10.0.0.1: ICMP echo request, seq 1",
        "IPv4 10.0.0.1 > 10.0.0.2: ICMP echo reply, seq 1",
      ]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
