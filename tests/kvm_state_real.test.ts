/**
 * KVM VMs that outlive the labwire process: with `--backend ovs --state FILE`, QEMU runs detached
 * (`-daemonize`) in the state file's run folder, and each later labwire process drives the VM by name.
 * Four processes share one lab on a private Open vSwitch (tests/_fixtures/real.ts): one launches the test
 * guest of scripts/guest-image.sh, the next starts it and makes a host tap, the next pings the guest from the
 * tap, the last kills it and clears the lab. QEMU is checked by the PID in its PID file, never by name.
 * Needs root, Open vSwitch, QEMU and Debian's package archive: skipped with a reason otherwise, failed
 * instead when CI or LABWIRE_REQUIRE_REAL=1 is set. Everything is removed in after().
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import process from "node:process";
import { nodeRunner, type RunResult } from "../lib/exec.ts";
import { kvmRunDir } from "../lib/real/kvm.ts";
import { ROOT, type Sandbox, skipUnless, startSandbox } from "./_fixtures/real.ts";

const PROGRAMS = ["qemu-system-x86_64", "ping", "apt-get", "dpkg-deb"];
const skip = skipUnless("kvm_state_real.test.ts", [
  "ovs-vsctl",
  "ovsdb-server",
  "ovs-vswitchd",
  "ip",
  ...PROGRAMS,
]);
const cliArgv = process.versions.bun !== undefined
  ? [process.execPath, path.join(ROOT, "cli.ts")]
  : [process.execPath, "run", "-A", path.join(ROOT, "cli.ts")];

/** Whether `pid` is the QEMU of the VM `name` (a zombie or another program is not). */
function isQemuOf(pid: number, name: string): boolean {
  let argv: string[];
  try {
    argv = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
  } catch {
    return false;
  }
  return argv.some((a, i) => a === "-name" && argv[i + 1] === name);
}

describe("labwire --backend ovs --state: a KVM VM outlives the process that launched it", {
  skip,
  timeout: 400_000,
}, () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "labwire-kvm-state-"));
  const state = path.join(dir, "lab.json");
  const runDir = kvmRunDir(state);
  const pidfile = path.join(runDir, "minimega-lwkeep", "qemu.pid");
  const guest = process.env.LABWIRE_GUEST_DIR ?? path.join(os.tmpdir(), "labwire-guest");
  const env: Record<string, string> = { LABWIRE_STATE: "", NO_COLOR: "1" };
  let sandbox: Sandbox | undefined;
  let pid: number | undefined;

  function cli(...lines: string[]): Promise<RunResult> {
    const args = ["--backend", "ovs", "--state", state, ...lines.flatMap((l) => ["-e", l])];
    return nodeRunner.run([...cliArgv, ...args], { timeoutMs: 120_000, env });
  }

  before(async () => {
    const built = await nodeRunner.run(["bash", path.join(ROOT, "scripts/guest-image.sh"), guest], {
      timeoutMs: 300_000,
    });
    assert.equal(built.code, 0, built.stderr);
    sandbox = await startSandbox(PROGRAMS);
    Object.assign(env, sandbox.env);
  });

  after(async () => {
    const errors: unknown[] = [];
    try {
      // a QEMU left by a failed test: by its PID, never by name
      if (pid !== undefined && isQemuOf(pid, "minimega-lwkeep")) process.kill(pid, "SIGKILL");
      if (sandbox !== undefined && fs.existsSync(state)) {
        const r = await cli("clear all");
        if (r.code !== 0) errors.push(new Error(`clear all: ${r.stderr}`));
      }
    } catch (error) {
      errors.push(error);
    } finally {
      try {
        await sandbox?.stop();
      } catch (error) {
        errors.push(error);
      }
      fs.rmSync(dir, { recursive: true, force: true });
      fs.rmSync(runDir, { recursive: true, force: true });
    }
    if (errors.length > 0) {
      throw new AggregateError(errors, `kvm_state_real cleanup: ${errors.length} failed`);
    }
  });

  test("launch, start, ping and kill in four processes; nothing is left", async () => {
    // process 1: launch, paused
    let r = await cli(
      "vm config net LAN,virtio-net-pci",
      "vm config memory 256",
      `vm config kernel ${path.join(guest, "vmlinuz")}`,
      `vm config initrd ${path.join(guest, "initrd.gz")}`,
      "vm config append console=ttyS0 labwire_ip=10.77.2.50/24",
      "vm launch kvm lwkeep",
    );
    assert.equal(r.code, 0, r.stderr);
    pid = Number(fs.readFileSync(pidfile, "utf8").trim());
    assert.ok(isQemuOf(pid, "minimega-lwkeep"), `QEMU (PID ${pid}) runs after the process that launched it`);

    // process 2: start it (attached by name) and make a host tap on its VLAN
    r = await cli(
      ".columns name,state vm info",
      "vm start lwkeep",
      "tap create LAN ip 10.77.2.254/24 lwkeeptap",
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "name   | state\nlwkeep | PAUSED\nlwkeeptap\n");
    assert.ok(isQemuOf(pid, "minimega-lwkeep"), "the same QEMU runs after the second process");

    // process 3: the guest boots in 3 to 5 s under TCG: ping long enough for replies to start
    r = await cli("ping lwkeeptap 10.77.2.50 75", ".columns name,state vm info");
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^lwkeeptap \| 10\.77\.2\.50 \| 75 +\| [1-9]\d*\s*$/m, `${r.stdout}${r.stderr}`);
    assert.match(r.stdout, /^name +\| state\nlwkeep +\| RUNNING\n$/m, r.stdout);

    // process 4: kill, flush, clear
    r = await cli("vm kill lwkeep", "vm flush", "clear all");
    assert.equal(r.code, 0, r.stderr);
    assert.equal(isQemuOf(pid, "minimega-lwkeep"), false, `QEMU (PID ${pid}) is gone`);
    assert.ok(!fs.existsSync(runDir) || fs.readdirSync(runDir).length === 0, `${runDir} is gone or empty`);
    const links = await sandbox!.exec("ip").args("-o", "link", "show").timeout(10_000).text();
    assert.doesNotMatch(links, /lwkeeptap/);
  });

  test("a VM whose QEMU is gone: start says so in one sentence, kill is no error", async () => {
    let r = await cli(
      "clear all", // what a failed test before left
      "vm config net LAN,virtio-net-pci",
      "vm config memory 256",
      `vm config kernel ${path.join(guest, "vmlinuz")}`,
      `vm config initrd ${path.join(guest, "initrd.gz")}`,
      "vm config append console=ttyS0 labwire_ip=10.77.2.51/24",
      "vm launch kvm lwkeep",
    );
    assert.equal(r.code, 0, r.stderr);
    pid = Number(fs.readFileSync(pidfile, "utf8").trim());
    // a second launch of the name is the lab's error, before any QEMU
    r = await cli("vm launch kvm lwkeep");
    assert.equal(r.stderr, "E: vm already exists: lwkeep\n");
    process.kill(pid, "SIGKILL"); // QEMU dies behind labwire's back, by its PID
    for (let i = 0; i < 100 && isQemuOf(pid, "minimega-lwkeep"); i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    r = await cli("vm start lwkeep");
    assert.equal(r.code, 1);
    assert.equal(r.stderr, `E: Cannot start KVM VM lwkeep: its QEMU (PID ${pid}) is not running\n`);
    r = await cli("vm kill lwkeep", "vm start lwkeep", ".columns name,state vm info");
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "name   | state\nlwkeep | RUNNING\n", "a killed VM is launched again by vm start");
    const again = Number(fs.readFileSync(pidfile, "utf8").trim());
    assert.notEqual(again, pid);
    assert.ok(isQemuOf(again, "minimega-lwkeep"));
    pid = again;
    r = await cli("clear all");
    assert.equal(r.code, 0, r.stderr);
    assert.equal(isQemuOf(again, "minimega-lwkeep"), false, `QEMU (PID ${again}) is gone after clear all`);
    assert.ok(!fs.existsSync(runDir) || fs.readdirSync(runDir).length === 0, `${runDir} is gone or empty`);
  });
});
