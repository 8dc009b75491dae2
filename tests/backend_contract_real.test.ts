/**
 * The backend contract (tests/_fixtures/backend_contract.ts) on OvsBackend in a private Open vSwitch
 * (scripts/ovs-sandbox.sh): the very suite tests/backend_contract.test.ts runs on the simulator. Then it
 * checks that nothing of the test is left: no bridge or port in OVS before the sandbox stops, and after it
 * no namespace, device, process or folder. Needs root, Open vSwitch, ping, tcpdump, ethtool and nft:
 * skipped with a reason otherwise, failed instead when CI or LABWIRE_REQUIRE_REAL=1 is set. Traffic stays
 * between the namespaces and host taps the suite makes.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import process from "node:process";
import { createExec } from "../lib/exec.ts";
import { OvsBackend } from "../lib/real/ovs_backend.ts";
import { backendContract, type ContractNames } from "./_fixtures/backend_contract.ts";
import { isAlive, type Sandbox, skipUnless, startSandbox } from "./_fixtures/real.ts";

const PROGRAMS = ["ovs-vsctl", "ovsdb-server", "ovs-vswitchd", "ip", "ping", "tcpdump", "ethtool", "nft"];
const skip = skipUnless("backend_contract_real.test.ts", PROGRAMS);

const ID = `lwk${process.pid % 100000}`;
const PREFIX = `${ID}-`;
const exec = createExec();

/** The sandbox of the run, and its daemons' PIDs, for the checks after it stopped. */
let sandbox: Sandbox | undefined;
let daemons: number[] = [];

/** Our namespaces (by prefix) that `ip netns list` shows. */
async function ourNamespaces(): Promise<string[]> {
  return (await exec("ip").args("netns", "list").lines()).map((l) => l.split(" ")[0]!).filter((n) =>
    n.startsWith(PREFIX)
  );
}

/** Our network devices (by name) in the sandbox's namespace while it runs, else in the host's. */
async function ourLinks(): Promise<string[]> {
  const where = sandbox !== undefined && fs.existsSync(sandbox.dir) ? sandbox.exec : exec;
  return (await where("ip").args("-o", "link", "show").lines()).filter((l) => l.includes(ID));
}

/** Processes whose command line names one of our ports or namespaces (tcpdump, ping). */
function ourProcesses(): string[] {
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

/** The run folders of this process's OvsBackends in the temp dir. */
function runFolders(): string[] {
  return fs.readdirSync(os.tmpdir()).filter((f) => f.startsWith(`labwire-ovs-${process.pid}-`));
}

/** The PID in a daemon's pidfile in the sandbox, if any. */
function pidOf(dir: string, daemon: string): number | undefined {
  try {
    const pid = Number(fs.readFileSync(path.join(dir, `${daemon}.pid`), "utf8").trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

backendContract("ovs", async () => {
  sandbox = await startSandbox(PROGRAMS);
  daemons = ["ovsdb-server", "ovs-vswitchd"].flatMap((d) => pidOf(sandbox!.dir, d) ?? []);
  const env = sandbox.env;
  const backend = new OvsBackend({ env, namespacePrefix: PREFIX });
  const vsctl = () => exec("ovs-vsctl").args("--timeout=5").env(env);
  return {
    backend,
    async cleanup() {
      try {
        // whatever a failed test left: our namespaces, by name
        for (const ns of await ourNamespaces()) await exec("ip").args("netns", "delete", ns).noThrow().run();
      } finally {
        await sandbox?.stop();
      }
    },
    async leftovers({ bridge }: ContractNames) {
      const left: string[] = [];
      for (const b of await vsctl().args("list-br").lines()) {
        if (b === bridge) left.push(`bridge ${b} in OVS`);
      }
      const ports = await vsctl().args("--columns=name", "--format=csv", "--no-headings", "list", "Port")
        .lines();
      for (const p of ports) if (p.includes(ID)) left.push(`port ${p} in OVS`);
      for (const ns of await ourNamespaces()) left.push(`namespace ${ns}`);
      for (const link of await ourLinks()) left.push(`device ${link}`);
      for (const proc of ourProcesses()) left.push(`process ${proc}`);
      for (const folder of runFolders()) left.push(`run folder ${folder}`);
      return left;
    },
  };
}, { skip, id: ID, timeout: 60_000, setupTimeout: 17 * 60_000 }); // startSandbox() may wait for another sandbox

describe("ovs: after the Backend contract", { skip }, () => {
  test("no namespace, device, process or folder of the test is left, and the sandbox is gone", {
    timeout: 30_000,
  }, async () => {
    assert.notEqual(sandbox, undefined, "the contract started a sandbox");
    assert.deepEqual(await ourNamespaces(), []);
    assert.deepEqual(await ourLinks(), []);
    assert.deepEqual(ourProcesses(), []);
    assert.deepEqual(runFolders(), []);
    assert.equal(daemons.length, 2, "both daemons had a pidfile");
    assert.deepEqual(daemons.filter(isAlive), [], "the sandbox's daemons stopped");
    assert.equal(fs.existsSync(sandbox!.dir), false);
    assert.notEqual(sandbox!.netns, undefined, "the sandbox ran in a namespace of its own");
    assert.equal((await exec("ip").args("netns", "list").text()).includes(sandbox!.netns!), false);
  });
});
