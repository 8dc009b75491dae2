/**
 * OvsBackend on a private Open vSwitch (scripts/ovs-sandbox.sh), driven directly through the backend
 * contract (lib/backend/), no lab model: container VMs that do not run are silent (nftables in their
 * namespaces), pings reach only what their NIC routes to, a capture without a file is read while it runs,
 * addresses come and go, and nothing is left behind. Needs root, Open vSwitch, ping, tcpdump, ethtool and
 * nft: skipped with a reason otherwise, failed instead when CI or LABWIRE_REQUIRE_REAL=1 is set. Traffic
 * stays between the namespaces and the host tap the test makes.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import process from "node:process";
import type { PortSpec } from "../lib/backend/bridges.ts";
import type { RawFrame } from "../lib/backend/captures.ts";
import type { PingReport } from "../lib/backend/endpoints.ts";
import type { VmSpec } from "../lib/backend/vms.ts";
import { createExec } from "../lib/exec.ts";
import { OvsBackend } from "../lib/real/ovs_backend.ts";
import { type Sandbox, skipUnless, startSandbox } from "./_fixtures/real.ts";

const PROGRAMS = ["ovs-vsctl", "ovsdb-server", "ovs-vswitchd", "ip", "ping", "tcpdump", "ethtool", "nft"];
const skip = skipUnless("ovs_backend_direct_real.test.ts", PROGRAMS);

const ID = `lwd${process.pid % 10000}`;
const PREFIX = `${ID}-`;
const BRIDGE = `${ID}br`;
const [TAP_A, TAP_B, TAP_C, HOST, BARE] = ["a", "b", "c", "h", "n"].map((s) => `${ID}${s}`) as [
  string,
  string,
  string,
  string,
  string,
];
const VLAN = { kind: "access", tag: 100 } as const;

/** A container VM of lab namespace `minimega` with one NIC. */
function container(name: string, id: number, tap: string): VmSpec {
  return {
    name,
    namespace: "minimega",
    id,
    type: "container",
    nics: [{ tap, driver: "e1000", mac: `02:00:00:79:00:0${id}` }],
    memory: 0,
    vcpus: 1,
    kernel: "",
    initrd: "",
    append: "",
    disks: [],
  };
}

const A = container("a", 1, TAP_A);
const B = container("b", 2, TAP_B);
const C = container("c", 3, TAP_C);

/** The port of a container VM's NIC, as the lab plugs it before launching the VM (not running). */
function nicPort(vm: VmSpec): PortSpec {
  return {
    name: vm.nics[0]!.tap,
    mode: VLAN,
    role: "vm",
    mac: vm.nics[0]!.mac,
    vm: { name: vm.name, namespace: vm.namespace, id: vm.id, nic: 0, type: "container", running: false },
  };
}

/** A host tap on VLAN 100. */
function hostPort(name: string, mac: string): PortSpec {
  return { name, mode: VLAN, role: "host", mac };
}

/** Whether a frame is IPv4 ICMP (untagged: the ports are access ports). */
function isIcmp(frame: RawFrame): boolean {
  return frame.data[12] === 0x08 && frame.data[13] === 0x00 && frame.data[23] === 1;
}

/** Each test's own limit: Bun applies its 5 s default to every test, whatever the describe() says. */
const STEP = { timeout: 60_000 };

const UNREACHABLE: PingReport = { sent: 0, received: 0, errors: 0, rttMs: [], networkUnreachable: true };

/** The run folders of this process's OvsBackends in the temp dir. */
function runFolders(): string[] {
  return fs.readdirSync(os.tmpdir()).filter((f) => f.startsWith(`labwire-ovs-${process.pid}-`));
}

/** Processes whose command line names one of this test's ports. */
function processesOnOurPorts(): string[] {
  const found: string[] = [];
  for (const pid of fs.readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    let cmdline = "";
    try {
      cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ");
    } catch {
      continue; // it exited meanwhile
    }
    if (cmdline.includes(ID) && Number(pid) !== process.pid) found.push(`${pid}: ${cmdline}`);
  }
  return found;
}

describe("OvsBackend driven directly on a sandboxed Open vSwitch", { skip, timeout: 240_000 }, () => {
  let sandbox: Sandbox | undefined;
  let backend: OvsBackend;
  const exec = createExec();

  before(async () => {
    sandbox = await startSandbox(PROGRAMS);
    backend = new OvsBackend({ env: sandbox.env, namespacePrefix: PREFIX });
    await backend.addBridge(BRIDGE);
  }, { timeout: 17 * 60_000 }); // startSandbox() waits while another sandbox holds the userspace datapath

  after(async () => {
    try {
      await backend?.removePorts(BRIDGE, [TAP_A, TAP_B, TAP_C, HOST, BARE]).catch(() => {});
      await backend?.removeBridge(BRIDGE).catch(() => {});
      await backend?.close();
      // whatever a failed test left: our namespaces, by name
      for (const ns of await exec("ip").args("netns", "list").lines()) {
        const name = ns.split(" ")[0]!;
        if (name.startsWith(PREFIX)) await exec("ip").args("netns", "delete", name).noThrow().run();
      }
    } finally {
      await sandbox?.stop();
    }
  }, STEP);

  test(
    "containers launched paused answer nothing; started they do, with a round trip per reply",
    STEP,
    async () => {
      await backend.addPorts(BRIDGE, [nicPort(A), nicPort(B), nicPort(C)]);
      await backend.addAddress(BRIDGE, TAP_A, "10.79.0.1/24");
      await backend.addAddress(BRIDGE, TAP_B, "10.79.0.2/24");
      await backend.launchVms([A, B, C]);
      const paused = await backend.ping(BRIDGE, TAP_A, "10.79.0.2", 2);
      assert.equal(paused.received, 0, JSON.stringify(paused));
      assert.equal(paused.networkUnreachable, false);
      await backend.startVms([A, B, C]);
      const running = await backend.ping(BRIDGE, TAP_A, "10.79.0.2", 3);
      assert.deepEqual({ ...running, rttMs: running.rttMs.length }, {
        sent: 3,
        received: 3,
        errors: 0,
        rttMs: 3,
        networkUnreachable: false,
      });
      assert.ok(running.rttMs.every((ms) => ms > 0 && ms < 1000), JSON.stringify(running.rttMs));
    },
  );

  test("stopVms() silences a container again, and startVms() brings it back", STEP, async () => {
    await backend.stopVms([B]);
    assert.equal((await backend.ping(BRIDGE, TAP_A, "10.79.0.2", 2)).received, 0);
    await backend.startVms([B]);
    assert.equal((await backend.ping(BRIDGE, TAP_A, "10.79.0.2", 3)).received, 3);
  });

  test("a container NIC reaches only its own subnet", STEP, async () => {
    // C's NIC has no address at all
    assert.deepEqual(await backend.ping(BRIDGE, TAP_C, "10.79.0.2", 1), UNREACHABLE);
    assert.deepEqual(await backend.ping(BRIDGE, TAP_A, "10.80.0.1", 1), UNREACHABLE);
    const absent = await backend.ping(BRIDGE, TAP_A, "10.79.0.99", 1);
    assert.deepEqual({ ...absent, errors: 0 }, {
      sent: 1,
      received: 0,
      errors: 0,
      rttMs: [],
      networkUnreachable: false,
    });
  });

  test(
    "a host tap reaches its own subnet only, and a stopped container does not answer it",
    STEP,
    async () => {
      await backend.addPorts(BRIDGE, [
        hostPort(HOST, "02:00:00:79:00:fe"),
        hostPort(BARE, "02:00:00:79:00:fd"),
      ]);
      await backend.addAddress(BRIDGE, HOST, "10.79.0.254/24");
      const reply = await backend.ping(BRIDGE, HOST, "10.79.0.1", 3);
      assert.deepEqual([reply.sent, reply.received, reply.rttMs.length], [3, 3, 3]);
      assert.deepEqual(await backend.ping(BRIDGE, HOST, "10.80.0.1", 1), UNREACHABLE);
      assert.deepEqual(await backend.ping(BRIDGE, BARE, "10.79.0.1", 1), UNREACHABLE);
      assert.equal((await backend.ping(BRIDGE, HOST, "10.79.0.98", 1)).received, 0);
      await backend.stopVms([A]);
      assert.equal((await backend.ping(BRIDGE, HOST, "10.79.0.1", 2)).received, 0);
      await backend.startVms([A]);
      assert.equal((await backend.ping(BRIDGE, HOST, "10.79.0.1", 1)).received, 1);
    },
  );

  test("a capture without a path is read while it runs, the newest `limit` frames kept", STEP, async () => {
    await backend.startCapture({
      id: 1,
      bridge: BRIDGE,
      port: TAP_B,
      snaplen: 1600,
      filter: "icmp",
      limit: 100,
    });
    await backend.startCapture({
      id: 2,
      bridge: BRIDGE,
      port: TAP_B,
      snaplen: 1600,
      filter: "icmp",
      limit: 2,
    });
    try {
      assert.equal(runFolders().length, 1, "the temporary files are in the backend's run folder");
      assert.equal((await backend.ping(BRIDGE, TAP_A, "10.79.0.2", 3)).received, 3);
      const running = await backend.readCapture(1);
      assert.equal(running.frames.filter(isIcmp).length, 6, "3 requests and 3 replies");
      await backend.flushCapture(1);
      const flushed = await backend.readCapture(1);
      assert.equal(flushed.frames.length, 6);
      assert.equal(flushed.dropped, 0);
      assert.ok(flushed.frames.every((f) => f.direction === undefined && f.origLen === 98 && isIcmp(f)));
      const [first, last] = [flushed.frames[0]!, flushed.frames.at(-1)!];
      assert.ok(first.timeNs <= last.timeNs && Math.abs(first.timeNs / 1e6 - Date.now()) < 60_000);
      await backend.flushCapture(2);
      const newest = await backend.readCapture(2);
      assert.deepEqual([newest.frames.length, newest.dropped], [2, 4]);
      assert.deepEqual(
        newest.frames.map((f) => [...f.data]),
        flushed.frames.slice(4).map((f) => [...f.data]),
      );
    } finally {
      await backend.stopCapture(1);
      await backend.stopCapture(2);
    }
    assert.deepEqual(runFolders(), [], "stopping removed the temporary files and the run folder");
    assert.deepEqual(await backend.readCapture(1), { frames: [], dropped: 0 });
  });

  test("removeAddress() takes the address away, and the NIC reaches nothing then", STEP, async () => {
    await backend.removeAddress(BRIDGE, TAP_A, "10.79.0.1/24");
    assert.deepEqual(await backend.ping(BRIDGE, TAP_A, "10.79.0.2", 1), UNREACHABLE);
    await backend.removeAddress(BRIDGE, TAP_A, "10.79.0.1/24"); // not there: no error
    await backend.removeAddress(BRIDGE, HOST, "10.79.0.254/24");
    assert.deepEqual(await backend.ping(BRIDGE, HOST, "10.79.0.2", 1), UNREACHABLE);
    await backend.removeAddress(BRIDGE, HOST, "10.79.0.254/24");
  });

  test(
    "removing the ports and the bridge leaves no namespace, device, port or process behind",
    STEP,
    async () => {
      await backend.killVms([A, B, C]);
      await backend.removePorts(BRIDGE, [TAP_A, TAP_B, TAP_C, HOST, BARE]);
      await backend.removeBridge(BRIDGE);
      await backend.close();
      const namespaces = (await exec("ip").args("netns", "list").lines()).filter((l) => l.startsWith(PREFIX));
      assert.deepEqual(namespaces, []);
      const links = (await sandbox!.exec("ip").args("-o", "link", "show").lines()).filter((l) =>
        l.includes(ID)
      );
      assert.deepEqual(links, []);
      const vsctl = exec("ovs-vsctl").args("--timeout=5").env(sandbox!.env);
      assert.deepEqual((await vsctl.args("list-br").lines()).filter((b) => b === BRIDGE), []);
      assert.deepEqual(
        (await vsctl.args("--columns=name", "--format=csv", "--no-headings", "list", "Port").lines())
          .filter((p) => p.includes(ID)),
        [],
      );
      assert.deepEqual(processesOnOurPorts(), []);
      assert.deepEqual(runFolders(), []);
    },
  );
});
