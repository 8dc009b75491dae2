/**
 * `labwire --backend ovs` on a private Open vSwitch (issue 4, in progress): a lab made by one process is
 * used by the next (container NICs found again through OVS's external_ids), `clear all` removes exactly
 * what labwire made, and without OVS the user gets one clear sentence. Needs root and Open vSwitch:
 * skipped with a reason otherwise, failed instead when CI or LABWIRE_REQUIRE_REAL=1 is set.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import process from "node:process";
import { nodeRunner, type RunResult, which } from "../lib/exec.ts";
import { testNetnsName } from "./_fixtures/real.ts";

const root = path.join(import.meta.dirname!, "..");
const required = (process.env.CI ?? "") !== "" || process.env.LABWIRE_REQUIRE_REAL === "1";
const missing = process.getuid?.() !== 0
  ? "root"
  : ["ovs-vsctl", "ovsdb-server", "ovs-vswitchd", "ip", "nsenter", "ping", "nft"].find((p) =>
    which(p) === undefined
  );
const skip = missing !== undefined && !required ? `needs ${missing}` : false;
const cliArgv = process.versions.bun !== undefined
  ? [process.execPath, path.join(root, "cli.ts")]
  : [process.execPath, "run", "-A", path.join(root, "cli.ts")];

describe("labwire --backend ovs", { skip, timeout: 180_000 }, () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "labwire-cli-ovs-"));
  const state = path.join(dir, "lab.json");
  const env: Record<string, string> = { LABWIRE_STATE: "", NO_COLOR: "1" };
  // the sandbox's namespace: the CLI runs the lab's host side there (LABWIRE_OVS_NETNS, in its exports)
  const netns = testNetnsName();

  function cli(...lines: string[]): Promise<RunResult> {
    const args = ["--backend", "ovs", "--state", state, ...lines.flatMap((l) => ["-e", l])];
    return nodeRunner.run([...cliArgv, ...args], { timeoutMs: 100_000, env });
  }

  before(async () => {
    assert.equal(missing, undefined, `required but missing: ${missing}`);
    const r = await nodeRunner.run([
      "bash",
      path.join(root, "scripts/ovs-sandbox.sh"),
      "start",
      path.join(dir, "ovs"),
      "--netns",
      netns,
    ], {
      timeoutMs: 60_000,
    });
    assert.equal(r.code, 0, r.stderr);
    for (const m of r.stdout.matchAll(/^export (\w+)=(.*)$/gm)) env[m[1]!] = m[2]!;
    assert.equal(env.LABWIRE_OVS_NETNS, netns);
  });

  after(async () => {
    try {
      await cli("clear all");
    } finally {
      await nodeRunner.run(
        ["bash", path.join(root, "scripts/ovs-sandbox.sh"), "stop", path.join(dir, "ovs")],
        {
          timeoutMs: 60_000,
        },
      );
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test("a lab made by one process is used by the next, and clear all removes it", async () => {
    let r = await cli(
      "vm config net LAN",
      "vm launch container lwa,lwb",
      "vm config net DMZ",
      "vm launch container lwc",
      "vm start all",
      "vm net ip lwa 0 10.77.0.1/24",
      "vm net ip lwb 0 10.77.0.2/24",
      "vm net ip lwc 0 10.77.0.3/24",
      "ping lwa:0 10.77.0.2 2",
      "ping lwa:0 10.77.0.3 1",
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal(
      r.stdout,
      "from  | to        | sent | received\nlwa:0 | 10.77.0.2 | 2    | 2\n" +
        "from  | to        | sent | received\nlwa:0 | 10.77.0.3 | 1    | 0\n",
    );
    r = await cli("ping lwb:0 10.77.0.1 1");
    assert.deepEqual([r.stdout, r.stderr], [
      "from  | to        | sent | received\nlwb:0 | 10.77.0.1 | 1    | 1\n",
      "",
    ]);
    const namespaces = (await nodeRunner.run(["ip", "netns", "list"], { timeoutMs: 10_000 })).stdout;
    assert.ok(namespaces.includes(`${netns}-minimega-lwa`), namespaces);
    r = await cli("clear all");
    assert.equal(r.code, 0, r.stderr);
    const after = (await nodeRunner.run(["ip", "netns", "list"], { timeoutMs: 10_000 })).stdout;
    assert.equal(after.includes(`${netns}-minimega-lw`), false, after);
    const bridges = await nodeRunner.run(["ovs-vsctl", "--timeout=5", "list-br"], { timeoutMs: 10_000, env });
    assert.equal(bridges.stdout, "");
  });

  test("a KVM guest (QEMU) on a VLAN answers a host tap on its VLAN, not one on another", async () => {
    const guest = path.join(os.tmpdir(), "labwire-guest");
    const built = await nodeRunner.run(["bash", path.join(root, "scripts/guest-image.sh"), guest], {
      timeoutMs: 300_000,
    });
    assert.equal(built.code, 0, built.stderr);
    const script = path.join(dir, "kvm.mm");
    fs.writeFileSync(
      script,
      [
        "vm config net LAN,virtio-net-pci",
        "vm config memory 256",
        `vm config kernel ${path.join(guest, "vmlinuz")}`,
        `vm config initrd ${path.join(guest, "initrd.gz")}`,
        "vm config append console=ttyS0 labwire_ip=10.77.1.50/24",
        "vm launch kvm lwguest",
        "vm config net DMZ,virtio-net-pci",
        "vm config append console=ttyS0 labwire_ip=10.77.1.51/24",
        "vm launch kvm lwother",
        "vm start all",
        "tap create LAN ip 10.77.1.254/24 lwkvmtap",
        // the guests boot in 3 to 5 s under TCG: ping long enough for replies to start
        "ping lwkvmtap 10.77.1.50 75",
        "ping lwkvmtap 10.77.1.51 3",
        // unplugged, the guest's NIC keeps its tap (QEMU holds it): plugged in again, it answers at once
        "vm net disconnect lwguest 0",
        "ping lwkvmtap 10.77.1.50 2",
        "vm net connect lwguest 0 LAN",
        "ping lwkvmtap 10.77.1.50 3",
        "vm net ip lwguest 0 10.77.1.60/24",
        "vm kill all",
        "vm flush",
        "clear all",
      ].join("\n") + "\n",
    );
    const r = await nodeRunner.run([...cliArgv, "--backend", "ovs", "-k", script], {
      timeoutMs: 200_000,
      env,
    });
    assert.equal(r.code, 1, "the vm net ip line fails");
    assert.match(r.stdout, /^lwkvmtap \| 10\.77\.1\.50 \| 75 +\| [1-9]\d*\s*$/m, `${r.stdout}${r.stderr}`);
    assert.match(r.stdout, /^lwkvmtap \| 10\.77\.1\.51 \| 3 +\| 0\s*$/m, r.stdout);
    assert.match(r.stdout, /^lwkvmtap \| 10\.77\.1\.50 \| 2 +\| 0\s*$/m, "nothing while disconnected");
    assert.match(r.stdout, /^lwkvmtap \| 10\.77\.1\.50 \| 3 +\| 3\s*$/m, "every echo once connected again");
    assert.match(
      r.stderr,
      /^E: Cannot set 10\.77\.1\.60\/24 on KVM VM NIC mega_tap\d+ from outside the guest: configure it in the guest \(the test guest of scripts\/guest-image\.sh takes labwire_ip= on its kernel command line\)\n$/,
    );
    const qemu = await nodeRunner.run(["pgrep", "-f", "lwguest"], { timeoutMs: 10_000 });
    assert.equal(qemu.stdout, "", "no QEMU left running");
  });

  test("without Open vSwitch, one clear sentence", async () => {
    const gone = path.join(dir, "nothing-here");
    const r = await nodeRunner.run([
      ...cliArgv,
      "--backend",
      "ovs",
      "-e",
      "vm config net LAN",
      "-e",
      "vm launch container z",
    ], {
      timeoutMs: 60_000,
      env: { ...env, OVS_RUNDIR: gone, OVS_DBDIR: gone },
    });
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /^E: Cannot reach Open vSwitch: .*; start it \(scripts\/ovs-sandbox\.sh start DIR, then eval its exports\) or install openvswitch-switch\n$/,
    );
  });
});
