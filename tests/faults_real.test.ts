/**
 * Faults under a lab on real Open vSwitch: a QEMU that dies (kill -9 from outside), ovs-vswitchd
 * stopped mid-lab, ovsdb-server stopped. Each is a clear error or state, and the lab stays consistent:
 * a failed command changes nothing, a crashed VM shows ERROR and can be killed and flushed. Needs root,
 * Open vSwitch and QEMU (TCG is enough: the guest is a 36-byte multiboot kernel that halts); skipped
 * with a reason otherwise, failed instead when CI or LABWIRE_REQUIRE_REAL=1 is set.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import process from "node:process";
import { nodeRunner } from "../lib/exec.ts";
import { LabModel } from "../lib/lab/model.ts";
import { OvsBackend } from "../lib/real/ovs_backend.ts";
import { type Sandbox, skipUnless, startSandbox } from "./_fixtures/real.ts";

const PROGRAMS = [
  "ovs-vsctl",
  "ovs-appctl",
  "ovsdb-server",
  "ovs-vswitchd",
  "nft",
  "ip",
  "ethtool",
  "qemu-system-x86_64",
];
const skip = skipUnless("faults_real.test.ts", PROGRAMS);

/**
 * A multiboot kernel (flat binary loaded at 1 MiB) that halts for ever: the header (magic, flags with
 * the address fields valid, checksum; header, load and entry addresses), then `cli; hlt; jmp $-1`.
 */
function haltingKernel(): Uint8Array {
  const bytes = new Uint8Array(0x24);
  const view = new DataView(bytes.buffer);
  const magic = 0x1badb002, flags = 0x00010000;
  const words = [magic, flags, (-(magic + flags)) >>> 0, 0x100000, 0x100000, 0, 0, 0x100020];
  for (const [i, word] of words.entries()) view.setUint32(i * 4, word, true);
  bytes.set([0xfa, 0xf4, 0xeb, 0xfd], 0x20);
  return bytes;
}

/** The PIDs of processes whose command line holds `word` (a path unique to this test). */
function pidsWith(word: string): number[] {
  const pids: number[] = [];
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (fs.readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0").includes(word)) {
        pids.push(Number(entry));
      }
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

async function waitFor(what: string, ok: () => boolean, ms = 10_000): Promise<void> {
  for (const start = Date.now(); !ok();) {
    if (Date.now() - start > ms) assert.fail(`${what} within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("faults under a lab on real Open vSwitch", { skip, timeout: 180_000 }, () => {
  let sandbox: Sandbox | undefined;
  let lab: LabModel;
  const prefix = `lwf${process.pid % 100000}-`;
  const warnings: string[] = [];
  let kernel = "";

  before(async () => {
    sandbox = await startSandbox(PROGRAMS);
    kernel = path.join(sandbox.dir, "halt.bin");
    fs.writeFileSync(kernel, haltingKernel());
    lab = new LabModel({
      backend: new OvsBackend({ env: sandbox.env, namespacePrefix: prefix }),
      macSeed: "faults",
      onWarning: (w) => warnings.push(w),
    });
    await lab.configureNetworks("minimega", ["LAN"]);
    await lab.setVmConfig("minimega", "kernel", kernel);
  });

  after(async () => {
    try {
      await lab?.clearAll().catch(() => {}); // Open vSwitch is stopped by now: it cannot clear
      await lab?.close();
      // what Open vSwitch could not remove: the containers' namespaces (their veths go with them)
      const list = await nodeRunner.run(["ip", "netns", "list"], { timeoutMs: 10_000 });
      for (const line of list.stdout.split("\n")) {
        const name = line.split(" ")[0]!;
        if (name.startsWith(prefix)) {
          await nodeRunner.run(["ip", "netns", "del", name], { timeoutMs: 10_000 });
        }
      }
    } finally {
      await sandbox?.stop();
    }
  });

  test("a QEMU killed from outside shows its VM in state ERROR; the VM is killed and flushed as usual", async () => {
    await lab.launchVms("minimega", "kvm", "k");
    await lab.startVms("minimega", "k");
    const [pid] = pidsWith(kernel);
    assert.ok(pid !== undefined, "no QEMU runs the test kernel");
    process.kill(pid, "SIGKILL"); // by the PID found for this test's own kernel
    await waitFor("QEMU ends", () => pidsWith(kernel).length === 0);
    // as `vm info` does: the QEMU's end reaches this process as an event, soon after
    for (let tries = 0; lab.vms.list()[0]?.state !== "ERROR" && tries < 100; tries++) {
      await lab.refreshVms("minimega");
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.deepEqual(lab.vms.list().map((vm) => [vm.name, vm.state]), [["k", "ERROR"]]);
    assert.deepEqual(warnings, [
      "VM k is in state ERROR: QEMU has exited (qemu-system-x86_64 was killed by SIGKILL)",
    ]);
    await lab.refreshVms("minimega");
    assert.equal(warnings.length, 1, "warned again");
    await lab.stopVms("minimega", "k"); // nothing to pause
    await lab.killVms("minimega", "k");
    assert.deepEqual(lab.vms.list().map((vm) => vm.state), ["QUIT"]);
    await lab.flushVms("minimega");
    assert.deepEqual(lab.vms.list(), []);
  });

  test("with ovs-vswitchd stopped, a command that needs it fails clearly and changes nothing", async () => {
    await lab.launchVms("minimega", "container", "a");
    const pidfile = path.join(sandbox!.dir, "ovs-vswitchd.pid");
    const pid = Number(fs.readFileSync(pidfile, "utf8").trim());
    const ctl = path.join(sandbox!.dir, `ovs-vswitchd.${pid}.ctl`);
    const stopped = await nodeRunner.run(["ovs-appctl", "-t", ctl, "exit", "--cleanup"], {
      timeoutMs: 20_000,
    });
    assert.equal(stopped.code, 0, stopped.stderr);
    await waitFor("ovs-vswitchd ends", () => !fs.existsSync(`/proc/${pid}`));
    const before = JSON.stringify(lab.toJSON());
    await assert.rejects(lab.launchVms("minimega", "container", "b"), {
      message: /^Cannot reach Open vSwitch: ovs-vsctl timed out after 5 s/,
    });
    assert.equal(JSON.stringify(lab.toJSON()), before);
    await assert.rejects(lab.createTap("minimega", "LAN", { name: `${prefix}t` }), {
      message: /^Cannot reach Open vSwitch/,
    });
    assert.equal(JSON.stringify(lab.toJSON()), before);
  });

  test("with ovsdb-server stopped too, commands fail at once, naming its socket, and change nothing", async () => {
    const pid = Number(fs.readFileSync(path.join(sandbox!.dir, "ovsdb-server.pid"), "utf8").trim());
    process.kill(pid, "SIGTERM"); // the sandbox's own daemon, by its PID file
    await waitFor("ovsdb-server ends", () => !fs.existsSync(`/proc/${pid}`));
    const before = JSON.stringify(lab.toJSON());
    const start = performance.now();
    await assert.rejects(lab.launchVms("minimega", "container", "b"), {
      message: /^Cannot reach Open vSwitch: unix:.*db\.sock: No such file or directory/,
    });
    assert.ok(performance.now() - start < 4000, "ovs-vsctl waited for a database that is gone");
    await assert.rejects(lab.clearAll(), { message: /^Cannot reach Open vSwitch/ });
    assert.equal(JSON.stringify(lab.toJSON()), before);
  });
});
