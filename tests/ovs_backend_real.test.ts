/**
 * The lab model on real Open vSwitch: container VMs in network namespaces on a
 * private OVS (scripts/ovs-sandbox.sh), VLAN isolation, a host tap, a mirror and a tcpdump capture.
 * Needs root and Open vSwitch: skipped with a reason otherwise, failed instead when CI or
 * LABWIRE_REQUIRE_REAL=1 is set. Traffic stays between the namespaces and taps the test makes.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import process from "node:process";
import { createExec, nodeRunner } from "../lib/exec.ts";
import { qmpExchange } from "../lib/real/kvm.ts";
import { LabModel } from "../lib/lab/model.ts";
import { bridgeRows } from "../lib/commands/_tables.ts";
import { OvsBackend } from "../lib/real/ovs_backend.ts";
import { type Sandbox, skipUnless, startSandbox } from "./_fixtures/real.ts";

const PROGRAMS = [
  "ovs-vsctl",
  "ovsdb-server",
  "ovs-vswitchd",
  "nft",
  "ip",
  "ping",
  "tcpdump",
  "ethtool",
  "qemu-system-x86_64",
];
const skip = skipUnless("ovs_backend_real.test.ts", PROGRAMS);

describe("the lab on real Open vSwitch", { skip, timeout: 180_000 }, () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "labwire-ovs-"));
  let sandbox: Sandbox | undefined;
  let env: Record<string, string> = {};
  let lab: LabModel;

  before(async () => {
    sandbox = await startSandbox(PROGRAMS);
    env = sandbox.env;
    lab = new LabModel({
      backend: new OvsBackend({ env, namespacePrefix: `lwt${process.pid}-` }),
      macSeed: "ovs",
    });
  });

  after(async () => {
    try {
      await lab?.clearAll();
      await lab?.close();
    } finally {
      await sandbox?.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test("container VMs reach each other on their VLAN and not across VLANs", async () => {
    await lab.configureNetworks("minimega", ["LAN"]);
    await lab.launchVms("minimega", "container", "a,b");
    await lab.configureNetworks("minimega", ["DMZ"]);
    await lab.launchVms("minimega", "container", "c");
    await lab.startVms("minimega", "all");
    await lab.addVmAddress("minimega", "a", "0", "10.77.0.1/24");
    await lab.addVmAddress("minimega", "b", "0", "10.77.0.2/24");
    await lab.addVmAddress("minimega", "c", "0", "10.77.0.3/24");
    const same = await lab.ping("minimega", "a:0", "10.77.0.2", 2);
    assert.deepEqual([same.sent, same.received, same.rttMs.length], [2, 2, 2]);
    const other = await lab.ping("minimega", "a:0", "10.77.0.3", 1);
    assert.deepEqual([other.sent, other.received, other.reason], [1, 0, "no-reply"]);
    const exec = createExec();
    const tag = await exec("ovs-vsctl").args("--timeout=5", "get", "port", "mega_tap0", "tag").env(env)
      .text();
    assert.equal(tag.trim(), "101");
  });

  test("a host tap with an address reaches a VM on its VLAN", async () => {
    const tap = await lab.createTap("minimega", "LAN", {
      name: `lwt${process.pid % 10000}h`,
      ip: "10.77.0.254/24",
    });
    assert.equal((await lab.ping("minimega", tap.name, "10.77.0.1", 2)).received, 2);
    assert.equal((await lab.ping("minimega", tap.name, "10.77.0.3", 1)).received, 0);
    await lab.deleteTap("minimega", tap.name);
  });

  test("a bridge labwire did not make is listed preexisting and outlives the lab's use of it", async () => {
    const exec = createExec();
    const vsctl = (...args: string[]) => exec("ovs-vsctl").args("--timeout=5", ...args).env(env).text();
    const own = `lwt${process.pid % 10000}pre`;
    await vsctl("add-br", own, "--", "set", "bridge", own, "datapath_type=netdev");
    try {
      const tap = await lab.createTap("minimega", "LAN", { bridge: own, name: `lwt${process.pid % 10000}p` });
      assert.deepEqual(bridgeRows(lab, "minimega").find((r) => r[0] === own)?.slice(0, 2), [own, "true"]);
      await lab.destroyBridge(own);
      assert.match(await vsctl("list-br"), new RegExp(`^${own}$`, "m"), "the bridge is still there");
      assert.equal(await vsctl("list-ports", own), "", `${tap.name} left it`);
    } finally {
      await vsctl("--if-exists", "del-br", own);
    }
  });

  test("bridge config sets a Bridge column in Open vSwitch, and a wrong one is refused", async () => {
    const exec = createExec();
    await lab.configureBridge("mega_bridge", "stp_enable=true");
    const stp = await exec("ovs-vsctl").args("--timeout=5", "get", "bridge", "mega_bridge", "stp_enable")
      .env(env).text();
    assert.equal(stp, "true");
    await assert.rejects(lab.configureBridge("mega_bridge", "nonsense=1"), {
      message:
        /^set config failed: ovs cmd failed: \[set bridge mega_bridge nonsense=1\] ovs-vsctl: Bridge does not contain a column whose name matches "nonsense"$/,
    });
    await lab.configureBridge("mega_bridge", "stp_enable=false");
  });

  test("vm net add hot-plugs the NIC into a KVM VM's QEMU, its tap on the bridge", async () => {
    const runDir = path.join(dir, "kvm");
    const kvmLab = new LabModel({
      backend: new OvsBackend({ env, runDir, namespacePrefix: `lwk${process.pid}-` }),
    });
    try {
      await kvmLab.configureNetworks("minimega", ["LAN"]);
      await kvmLab.setVmConfig("minimega", "memory", "64");
      await kvmLab.launchVms("minimega", "kvm", "lwhp");
      await kvmLab.addVmNics("minimega", "lwhp", ["DMZ,02:00:00:77:00:09,virtio-net-pci"]);
      const nic = kvmLab.vms.find("minimega", "lwhp")!.nics[1]!;
      const qmp = path.join(runDir, "minimega-lwhp", "qmp.sock");
      const [mac, driver] = await qmpExchange(qmp, [
        { execute: "qom-get", arguments: { path: `/machine/peripheral/${nic.tap}`, property: "mac" } },
        { execute: "qom-get", arguments: { path: `/machine/peripheral/${nic.tap}`, property: "type" } },
      ]);
      assert.deepEqual([mac, driver], ["02:00:00:77:00:09", "virtio-net-pci"]);
      const tag = await createExec()("ovs-vsctl").args("--timeout=5", "get", "port", nic.tap, "tag").env(env)
        .text();
      assert.equal(tag, String(kvmLab.vlans.lookup("minimega", "DMZ").vlan));
      // two labs share mega_bridge: clearing this one leaves the other's ports, and the bridge
      const taps = kvmLab.vms.find("minimega", "lwhp")!.nics.map((n) => n.tap);
      await kvmLab.clearAll();
      const left = (await createExec()("ovs-vsctl").args("--timeout=5", "list-ports", "mega_bridge").env(env)
        .lines()).filter((p) => p.startsWith("mega_tap"));
      assert.deepEqual(
        left,
        lab.vms.list("minimega").flatMap((vm) => vm.nics.map((n) => n.tap)).filter((t) => !taps.includes(t))
          .sort(),
      );
      assert.ok(left.length >= 3, left.join(" "));
    } finally {
      await kvmLab.clearAll();
      await kvmLab.close();
    }
  });

  test("a VM capture with tcpdump sees the ICMP of a ping", async () => {
    const pcap = path.join(dir, "a.pcap");
    await lab.captureVm("minimega", "a", "0", { path: pcap });
    await lab.ping("minimega", "b:0", "10.77.0.1", 2);
    await lab.clearCaptures("minimega");
    const r = await nodeRunner.run(["tcpdump", "-r", pcap, "-nn", "icmp"], { timeoutMs: 30_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.equal((r.stdout.match(/ICMP echo request/g) ?? []).length, 2, r.stdout);
    assert.equal((r.stdout.match(/ICMP echo reply/g) ?? []).length, 2, r.stdout);
  });
});
