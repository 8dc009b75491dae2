/**
 * lib/ovs.ts and scripts/ovs-sandbox.sh on a real Open vSwitch: a private sandbox in a temp folder and a
 * network namespace of its own (`--netns`), started and stopped by this file (never the system's OVS). Needs root and openvswitch-switch: skipped
 * with the reason when they are missing, failed instead when CI or LABWIRE_REQUIRE_REAL=1 is set.
 * Every name made here starts with a random `lw????` prefix; everything is removed at the end, and the
 * daemons this file started are checked gone by PID.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { createExec, which } from "../lib/exec.ts";
import { Ovs, OvsError } from "../lib/ovs.ts";
import { isAlive, testNetnsName } from "./_fixtures/real.ts";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const SCRIPT = path.join(ROOT, "scripts", "ovs-sandbox.sh");
const BINARIES = ["ovsdb-tool", "ovsdb-server", "ovs-vswitchd", "ovs-vsctl", "ovs-appctl"];
const required = (process.env.CI ?? "") !== "" || process.env.LABWIRE_REQUIRE_REAL === "1";

function missing(): string | undefined {
  if (process.platform !== "linux") return "needs Linux";
  if (process.getuid?.() !== 0) return "needs root";
  const absent = BINARIES.filter((b) => which(b) === undefined);
  if (absent.length > 0) return `needs ${absent.join(", ")} (apt-get install openvswitch-switch)`;
  if (which("bash") === undefined) return "needs bash";
  return undefined;
}

const reason = missing();
const skip = reason !== undefined && !required
  ? `${reason}; set LABWIRE_REQUIRE_REAL=1 to fail instead`
  : false;
if (skip !== false) process.stderr.write(`ovs_real.test.ts skipped: ${skip}\n`);

const exec = createExec();
const prefix = `lw${Math.floor(Math.random() * 0x10000).toString(16).padStart(4, "0")}`;
const BR = `${prefix}br`;
const BR2 = `${prefix}bx`;
/** For Bun, whose default is 5 s a test: vswitchd takes about 2 s to exit. */
const SLOW = { timeout: 30_000 };

describe("Ovs on a real Open vSwitch (sandbox)", { skip }, () => {
  let tmp = "";
  let dir = "";
  const env: Record<string, string> = {};
  const pids: number[] = [];
  const netns = testNetnsName();
  let ovs: Ovs;
  let calls = 0;
  let stopped = false;

  async function sandbox(action: "start" | "stop"): Promise<string> {
    const where = action === "start" ? ["--netns", netns] : [];
    return await exec("bash").args(SCRIPT, action, dir, ...where).timeout(30_000).text();
  }

  /** The network devices in the sandbox's namespace. */
  async function devices(): Promise<string[]> {
    return (await exec("ip").args("-n", netns, "-o", "link", "show").lines()).map((l) => l.split(": ")[1]!);
  }

  async function vsctl(...args: string[]): Promise<string> {
    return await exec("ovs-vsctl").args("--timeout=5", ...args).env(env).text();
  }

  before(async () => {
    tmp = mkdtempSync(path.join(os.tmpdir(), "labwire-ovs-"));
    dir = path.join(tmp, "sb");
    const exports = await sandbox("start");
    for (const line of exports.split("\n")) {
      const m = /^export (\w+)=(.*)$/.exec(line);
      if (m !== null) env[m[1]!] = m[2]!;
    }
    for (const daemon of ["ovsdb-server", "ovs-vswitchd"]) {
      pids.push(Number(readFileSync(path.join(dir, `${daemon}.pid`), "utf8").trim()));
    }
    ovs = new Ovs({ exec: createExec({ trace: () => calls++ }), env });
  });

  after(async () => {
    try {
      if (!stopped && dir !== "") {
        await ovs?.deleteBridge(BR).catch(() => {});
        await ovs?.deleteBridge(BR2).catch(() => {});
        await sandbox("stop").catch(() => {});
      }
      for (const pid of pids) if (isAlive(pid)) process.kill(pid, "SIGKILL");
    } finally {
      if (tmp !== "") rmSync(tmp, { recursive: true, force: true });
    }
  });

  test("ovs-sandbox.sh prints the four exports and the namespace, and started both daemons", () => {
    assert.deepEqual(env, {
      OVS_RUNDIR: dir,
      OVS_DBDIR: dir,
      OVS_LOGDIR: dir,
      OVS_SYSCONFDIR: dir,
      LABWIRE_OVS_NETNS: netns,
    });
    assert.equal(pids.length, 2);
    assert.ok(pids.every((pid) => pid > 0 && isAlive(pid)), `daemons ${pids} should run`);
  });

  test("ovs-sandbox.sh --netns made the namespace, with lo up, and runs both daemons in it", () => {
    const inode = statSync(`/run/netns/${netns}`).ino;
    for (const pid of pids) assert.equal(readlinkSync(`/proc/${pid}/ns/net`), `net:[${inode}]`, `PID ${pid}`);
    assert.notEqual(readlinkSync("/proc/self/ns/net"), `net:[${inode}]`);
  });

  test("ovs-sandbox.sh start on a running sandbox says so and exits 0", async () => {
    const result = await exec("bash").args(SCRIPT, "start", dir).timeout(30_000).run();
    assert.match(result.stderr, /already running in /);
    assert.match(result.stdout, /^export OVS_RUNDIR=/);
  });

  test("check() passes and datapathType() is netdev without the kernel module", async () => {
    await ovs.check();
    assert.equal(await ovs.ping(), true);
    const kernel = existsSync("/sys/module/openvswitch");
    assert.equal(await ovs.datapathType(), kernel ? "system" : "netdev");
  });

  test("addBridge() creates a marked bridge of that datapath type, twice without error", async () => {
    assert.deepEqual(await ovs.addBridge(BR), { preexisting: false });
    assert.deepEqual(await ovs.addBridge(BR), { preexisting: false });
    assert.equal(await vsctl("get", "bridge", BR, "datapath_type"), await ovs.datapathType());
    assert.equal(await vsctl("get", "bridge", BR, "external_ids:labwire"), '"1"');
    // the userspace datapath's devices are in the sandbox's namespace, not the host's
    assert.ok((await devices()).includes(BR), (await devices()).join(" "));
    assert.equal(existsSync(`/sys/class/net/${BR}`), false);
  });

  test("addPorts() adds 200 internal ports with a handful of ovs-vsctl processes", async () => {
    const before = calls;
    const ports = Array.from({ length: 200 }, (_, i) => ({
      name: `${prefix}p${i}`,
      mode: { kind: "access", tag: 100 + (i % 4) } as const,
      type: "internal" as const,
    }));
    await ovs.addPorts(BR, ports);
    const used = calls - before;
    assert.ok(used <= 3, `expected at most 3 ovs-vsctl runs, got ${used}`);
    const listed = (await vsctl("list-ports", BR)).split("\n");
    assert.equal(listed.length, 200);
    assert.equal(await vsctl("get", "port", `${prefix}p5`, "tag"), "101");
  });

  test("addPorts() sets tags, trunks and dot1q-tunnel as read back from OVS", async () => {
    await ovs.addPorts(BR, [
      { name: `${prefix}a0`, mode: { kind: "access", tag: 0 }, type: "internal" },
      { name: `${prefix}t1`, mode: { kind: "trunk", trunks: [100, 200] }, type: "internal" },
      {
        name: `${prefix}q1`,
        mode: { kind: "dot1q-tunnel", tag: 300 },
        type: "internal",
        externalIds: { vm: "a b" },
      },
    ]);
    assert.equal(await vsctl("get", "port", `${prefix}a0`, "tag"), "[]");
    assert.equal(await vsctl("get", "port", `${prefix}t1`, "trunks"), "[100, 200]");
    assert.equal(await vsctl("get", "port", `${prefix}t1`, "tag"), "[]");
    assert.equal(await vsctl("get", "port", `${prefix}q1`, "vlan_mode"), "dot1q-tunnel");
    assert.equal(await vsctl("get", "port", `${prefix}q1`, "tag"), "300");
    assert.equal(await vsctl("get", "port", `${prefix}q1`, "external_ids:vm"), '"a b"');
  });

  test("addPorts() of an existing port says 'already exists'", async () => {
    await assert.rejects(ovs.addPorts(BR, [{ name: `${prefix}a0`, mode: { kind: "access", tag: 0 } }]), {
      name: "OvsError",
      message: "already exists",
    });
  });

  test("addPorts() reports a missing device by its Interface.error and leaves no port", async () => {
    const name = `${prefix}nodev`;
    await assert.rejects(ovs.addPorts(BR, [{ name, mode: { kind: "access", tag: 5 }, type: "system" }]), {
      name: "OvsError",
      kind: "interface",
      message: `port ${name} is not working: could not open network device ${name} (No such device)`,
    });
    assert.ok(!(await vsctl("list-ports", BR)).split("\n").includes(name));
  });

  test("addMirror() creates a mirror and deleteMirror() removes it", async () => {
    const mirror = {
      name: `${prefix}m`,
      selectAll: false,
      selectSrc: [`${prefix}p1`],
      selectDst: [`${prefix}p1`],
    };
    await ovs.addMirror(BR, { ...mirror, output: `${prefix}a0` });
    assert.equal(await vsctl("get", "mirror", `${prefix}m`, "name"), `${prefix}m`);
    const src = await vsctl("get", "mirror", `${prefix}m`, "select_src_port");
    const p1 = await vsctl("get", "port", `${prefix}p1`, "_uuid");
    assert.equal(src, `[${p1}]`);
    await ovs.addMirror(BR, {
      name: `${prefix}all`,
      selectAll: true,
      selectSrc: [],
      selectDst: [],
      output: `${prefix}t1`,
    });
    assert.equal(await vsctl("get", "mirror", `${prefix}all`, "select_all"), "true");
    const listed = await ovs.listLabwire();
    assert.deepEqual(listed.mirrors, [{ bridge: BR, name: `${prefix}all` }, {
      bridge: BR,
      name: `${prefix}m`,
    }]);
    await ovs.deleteMirror(BR, `${prefix}m`);
    await ovs.deleteMirror(BR, `${prefix}all`);
    assert.equal(await vsctl("get", "bridge", BR, "mirrors"), "[]");
    assert.equal(await vsctl("list", "mirror"), "");
  });

  test("addPatch() joins two bridges and setBridgeConfig() sets a column", async () => {
    await ovs.addBridge(BR2);
    await ovs.addPatch(BR, `${prefix}pa`, BR2, `${prefix}pb`);
    assert.equal(await vsctl("get", "interface", `${prefix}pa`, "options:peer"), `${prefix}pb`);
    assert.equal(await vsctl("get", "interface", `${prefix}pb`, "error"), "[]");
    await ovs.setBridgeConfig(BR2, "stp_enable", "true");
    assert.equal(await vsctl("get", "bridge", BR2, "stp_enable"), "true");
    await assert.rejects(ovs.setBridgeConfig(BR2, "bogus", "1"), {
      message:
        /^ovs cmd failed: \[set bridge .* bogus=1\] ovs-vsctl: Bridge does not contain a column whose name matches "bogus"$/,
    });
  });

  test("listLabwire() finds the bridges and ports made here", async () => {
    const listed = await ovs.listLabwire();
    const ours = (name: string) => name.startsWith(prefix);
    assert.deepEqual(listed.bridges.filter(ours), [BR, BR2].sort());
    const ports = listed.ports.filter((p) => ours(p.name));
    assert.equal(ports.length, 200 + 3 + 2);
    assert.deepEqual(ports.find((p) => p.name === `${prefix}q1`), {
      bridge: BR,
      name: `${prefix}q1`,
      externalIds: { labwire: "1", vm: "a b" },
    });
  });

  test("deletePorts() removes ports in one call, then says 'no such port'", SLOW, async () => {
    const before = calls;
    await ovs.deletePorts(BR, Array.from({ length: 100 }, (_, i) => `${prefix}p${i}`));
    assert.equal(calls - before, 1);
    assert.equal((await vsctl("list-ports", BR)).split("\n").length, 100 + 3 + 1);
    await assert.rejects(ovs.deletePorts(BR, [`${prefix}p0`]), { message: "no such port", kind: "no-port" });
  });

  test("deleteBridge() removes the bridges and their ports' devices", SLOW, async () => {
    await ovs.deleteBridge(BR);
    await ovs.deleteBridge(BR2);
    await ovs.deleteBridge(BR2); // gone already: no error
    assert.ok(!(await vsctl("list-br")).split("\n").some((b) => b.startsWith(prefix)));
    assert.deepEqual((await ovs.listLabwire()).ports.filter((p) => p.name.startsWith(prefix)), []);
  });

  test("ovs-sandbox.sh stop ends both daemons by PID and leaves no device behind", SLOW, async () => {
    await sandbox("stop");
    stopped = true;
    assert.deepEqual(pids.filter(isAlive), []);
    assert.ok(!existsSync(path.join(dir, "db.sock")));
    assert.ok(!existsSync(`/run/netns/${netns}`), "stop deleted the namespace start made");
    assert.ok(!(await exec("ip").args("netns", "list").text()).includes(netns));
    const again = await exec("bash").args(SCRIPT, "stop", dir).timeout(30_000).run();
    assert.match(again.stderr, /not running in /);
  });
});

describe("Ovs when Open vSwitch does not answer", { skip }, () => {
  test("check() gives the timeout text when nothing answers, and names a missing socket", SLOW, async () => {
    const tmp = mkdtempSync(path.join(os.tmpdir(), "labwire-ovs-lost-"));
    try {
      await unreachable(tmp);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});

async function unreachable(tmp: string): Promise<void> {
  const empty = mkdtempSync(path.join(tmp, "empty-"));
  const lost = new Ovs({ env: { OVS_RUNDIR: empty }, timeoutSeconds: 1 });
  await assert.rejects(lost.check(), {
    name: "OvsError",
    kind: "unreachable",
    message:
      `Cannot reach Open vSwitch: unix:${empty}/db.sock: No such file or directory; start it (scripts/ovs-sandbox.sh start DIR, then eval its exports) or install openvswitch-switch`,
  });
  // a socket that accepts and never answers: ovs-vsctl waits for its --timeout
  const silent = mkdtempSync(path.join(tmp, "silent-"));
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => void sockets.add(socket));
  await new Promise<void>((resolve) => server.listen(path.join(silent, "db.sock"), resolve));
  try {
    const hung = new Ovs({ env: { OVS_RUNDIR: silent }, timeoutSeconds: 1 });
    await assert.rejects(hung.check(), {
      kind: "unreachable",
      message:
        "Cannot reach Open vSwitch: ovs-vsctl timed out after 1 s; start it (scripts/ovs-sandbox.sh start DIR, then eval its exports) or install openvswitch-switch",
    });
    assert.equal(await hung.ping(), false);
  } finally {
    // close() alone waits for every connection to end
    for (const socket of sockets) socket.destroy();
    server.close();
  }
}

test("ovs_real.test.ts can run here (fails when CI or LABWIRE_REQUIRE_REAL=1 and it cannot)", () => {
  if (required) assert.equal(reason, undefined, `real OVS tests are required but cannot run: ${reason}`);
  assert.ok(OvsError);
});
