/**
 * A KVM VM (QEMU, TCG when /dev/kvm is missing) on real Open vSwitch: the test guest of
 * scripts/guest-image.sh (Debian cloud kernel + busybox initramfs, cached in os.tmpdir()/labwire-guest)
 * on a tap with VLAN 101 of a private OVS (scripts/ovs-sandbox.sh), pinged from a namespace on VLAN 101
 * (answers) and one on VLAN 102 (does not). Needs root, Open vSwitch, QEMU and Debian's package archive:
 * skipped with a reason otherwise, failed instead when CI or LABWIRE_REQUIRE_REAL=1 is set. Traffic stays
 * between the namespaces and the guest the test makes; everything is removed in after().
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import process from "node:process";
import { createExec, execInNetns, nodeRunner, which } from "../lib/exec.ts";
import { testNetnsName } from "./_fixtures/real.ts";
import { Kvm } from "../lib/real/kvm.ts";
import { Netns } from "../lib/real/netns.ts";
import { Ovs } from "../lib/ovs.ts";

const root = path.join(import.meta.dirname!, "..");
const required = (process.env.CI ?? "") !== "" || process.env.LABWIRE_REQUIRE_REAL === "1";
const QEMU = "qemu-system-x86_64";
const missing = process.getuid?.() !== 0
  ? "root"
  : ["ovs-vsctl", "ovsdb-server", "ovs-vswitchd", "ip", "nsenter", "ping", QEMU, "apt-get", "dpkg-deb"].find((
    p,
  ) => which(p) === undefined);
const skip = missing !== undefined && !required ? `needs ${missing}` : false;
if (skip !== false) process.stderr.write(`kvm_real.test.ts skipped: ${skip}\n`);

/** Short names: interface names have 15 characters at most. */
const id = String(process.pid % 100000);
const BRIDGE = `lwk${id}`;
const TAP = `lwk${id}t`;
const NS_A = `lwk${id}a`; // VLAN 101, 10.77.0.1
const NS_C = `lwk${id}c`; // VLAN 102, 10.77.0.3
const VM = "guest";
const GUEST_IP = "10.77.0.50";

async function withTimeout<T>(what: string, ms: number, promise: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

describe("a KVM VM on real Open vSwitch", { skip, timeout: 150_000 }, () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "labwire-kvm-"));
  const sandbox = path.join(dir, "ovs");
  const guestDir = process.env.LABWIRE_GUEST_DIR ?? path.join(os.tmpdir(), "labwire-guest");
  const env: Record<string, string> = {};
  // the sandbox runs in a namespace of its own, and so does everything of the test's host side
  const ovsNetns = testNetnsName();
  const exec = execInNetns(createExec(), ovsNetns);
  const netns = new Netns({ exec });
  const kvm = new Kvm({ exec, runDir: path.join(dir, "vms") });
  let ovs: Ovs;
  let kernel = "";
  let initrd = "";
  const made = { tap: false, nsA: false, nsC: false, sandbox: false };

  before(async () => {
    assert.equal(missing, undefined, `required but missing: ${missing}`);
    const image = await nodeRunner.run(["bash", path.join(root, "scripts/guest-image.sh"), guestDir], {
      timeoutMs: 180_000,
    });
    assert.equal(image.code, 0, image.stderr);
    [kernel = "", initrd = ""] = image.stdout.trim().split("\n");
    assert.ok(fs.existsSync(kernel) && fs.existsSync(initrd), image.stdout);

    made.sandbox = true;
    const r = await nodeRunner.run([
      "bash",
      path.join(root, "scripts/ovs-sandbox.sh"),
      "start",
      sandbox,
      "--netns",
      ovsNetns,
    ], {
      timeoutMs: 60_000,
    });
    assert.equal(r.code, 0, r.stderr);
    for (const m of r.stdout.matchAll(/^export (\w+)=(.*)$/gm)) env[m[1]!] = m[2]!;
    ovs = new Ovs({ exec, env });
    await ovs.addBridge(BRIDGE);
    await exec("ip").args("link", "set", BRIDGE, "up").noThrow().run();

    made.tap = true;
    await kvm.createTap(TAP);
    await ovs.addPorts(BRIDGE, [{ name: TAP, mode: { kind: "access", tag: 101 }, type: "system" }]);

    for (
      const [ns, vlan, ip, mac, flag] of [
        [NS_A, 101, "10.77.0.1/24", "02:77:00:00:00:01", "nsA"],
        [NS_C, 102, "10.77.0.3/24", "02:77:00:00:00:03", "nsC"],
      ] as const
    ) {
      made[flag] = true;
      await netns.create(ns);
      await netns.addVeth(`${ns}h`, ns, "eth0", mac);
      await netns.addAddress(ns, "eth0", ip);
      await ovs.addPorts(BRIDGE, [{ name: `${ns}h`, mode: { kind: "access", tag: vlan }, type: "system" }]);
    }
  });

  after(async () => {
    const errors: unknown[] = [];
    const step = async (f: () => Promise<unknown>) => {
      try {
        await f();
      } catch (error) {
        errors.push(error);
      }
    };
    await step(() => kvm.killAll());
    if (made.nsA) await step(() => netns.delete(NS_A));
    if (made.nsC) await step(() => netns.delete(NS_C));
    for (const ns of [NS_A, NS_C]) await step(() => netns.deleteLink(`${ns}h`));
    if (made.tap) await step(() => kvm.deleteTap(TAP));
    if (ovs !== undefined) await step(() => ovs.deleteBridge(BRIDGE));
    if (made.sandbox) {
      await step(() =>
        nodeRunner.run(["bash", path.join(root, "scripts/ovs-sandbox.sh"), "stop", sandbox], {
          timeoutMs: 60_000,
        })
      );
    }
    fs.rmSync(dir, { recursive: true, force: true });
    if (errors.length > 0) {
      throw new AggregateError(errors, `kvm_real cleanup: ${errors.length} step(s) failed`);
    }
  });

  test("the guest boots and answers pings on its VLAN only", async () => {
    const t0 = Date.now();
    const vm = await withTimeout(
      "launch",
      30_000,
      kvm.launch({
        name: VM,
        memory: 256,
        kernel,
        initrd,
        append: `console=ttyS0 panic=-1 labwire_ip=${GUEST_IP}/24`,
        kvm: await kvm.kvmAvailable(),
        nics: [{ tap: TAP, driver: "virtio-net-pci", mac: "02:77:00:00:00:50" }],
      }),
    );
    assert.ok(vm.pid > 0);
    assert.equal(await kvm.status(VM), "prelaunch");
    await kvm.start(VM);
    assert.equal(await kvm.status(VM), "running");
    const line = await kvm.waitForConsole(VM, "LABWIRE_GUEST_UP", 90_000);
    const booted = Date.now() - t0;
    assert.match(line, /LABWIRE_GUEST_UP 10\.77\.0\.50\/24/);

    const same = await netns.ping(NS_A, GUEST_IP, 3);
    const other = await netns.ping(NS_C, GUEST_IP, 2);
    process.stderr.write(
      `kvm_real: ${vm.name} up after ${booted} ms (${(await kvm.accel()).reason}); ` +
        `VLAN 101 ping ${same.received}/${same.sent}, VLAN 102 ping ${other.received}/${other.sent}\n`,
    );
    assert.ok(same.received > 0, `VLAN 101 namespace got no reply from the guest: ${JSON.stringify(same)}`);
    assert.equal(other.received, 0, `VLAN 102 namespace reached the guest: ${JSON.stringify(other)}`);

    await kvm.stop(VM);
    assert.equal(await kvm.status(VM), "paused");
    await kvm.kill(VM);
    assert.equal(kvm.list().length, 0);
    assert.throws(() => process.kill(vm.pid, 0), { code: "ESRCH" });
  });

  test("a missing QEMU is one clear sentence", async () => {
    const none = new Kvm({ exec, runDir: path.join(dir, "vms"), qemu: "qemu-system-labwire-missing" });
    await assert.rejects(
      none.launch({ name: "x", nics: [], kvm: false }),
      {
        message:
          "Cannot launch KVM VM x: qemu-system-labwire-missing is not installed (apt-get install qemu-system-x86)",
      },
    );
  });
});
