/**
 * The simulator against the real thing: every lab scenario in tests/scenarios/ runs through the CLI on
 * the simulator and on a private Open vSwitch (with the same MAC seed, in a folder of its own), and
 * the two runs must observe the same: the same transcript (who reaches whom: the ping tables), the same
 * capture files, and in each capture the same frames in the same order (MACs, VLAN tags, ARP and ICMP
 * fields), with timestamps, checksums, ICMP ids and payloads left aside (lib/wire/observe.ts). A difference
 * fails the test and names the first frame that differs.
 *
 * Needs root, Open vSwitch, ping, tcpdump and ethtool: skipped with the reason otherwise, failed instead
 * when CI or LABWIRE_REQUIRE_REAL=1 is set. Each run ends with its process: the Open vSwitch run removes
 * what it made then (a lab without a state file), which the test checks.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import process from "node:process";
import { nodeRunner } from "../lib/exec.ts";
import { explainDifference, observePcap } from "../lib/wire/observe.ts";
import { ROOT, type Sandbox, skipUnless, startSandbox } from "./_fixtures/real.ts";

const PROGRAMS = ["ovs-vsctl", "ovsdb-server", "ovs-vswitchd", "ip", "ping", "tcpdump", "ethtool", "nft"];
const skip = skipUnless("scenarios_real.test.ts", PROGRAMS);
const SCENARIOS = path.join(ROOT, "tests", "scenarios");
const CLI = process.versions.bun !== undefined
  ? [process.execPath, path.join(ROOT, "cli.ts")]
  : [process.execPath, "run", "-A", path.join(ROOT, "cli.ts")];

/** What one run of a scenario left: its transcript and its captures' observations, by file name. */
interface Run {
  readonly transcript: string;
  readonly captures: ReadonlyMap<string, string[]>;
}

describe("the simulator and Open vSwitch observe the same", { skip, timeout: 600_000 }, () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "labwire-scenarios-"));
  let sandbox: Sandbox | undefined;

  before(async () => {
    sandbox = await startSandbox(PROGRAMS);
  });

  after(async () => {
    try {
      await sandbox?.stop();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  /** Runs a scenario on a backend in a folder of its own, and reads what it left. */
  async function run(file: string, backend: "sim" | "ovs"): Promise<Run> {
    const cwd = path.join(dir, `${path.basename(file, ".mm")}-${backend}`);
    fs.mkdirSync(cwd);
    const env = { ...(backend === "ovs" ? sandbox!.env : {}), NO_COLOR: "1", LABWIRE_STATE: "" };
    const r = await nodeRunner.run(
      [...CLI, "--transcript", "--seed", "scenario", "--backend", backend, file],
      { timeoutMs: 300_000, env, cwd },
    );
    // a scenario may show errors (E: lines, compared with the rest of the transcript): then the status is 1
    assert.ok(
      r.code === 0 || (r.code === 1 && /^E: /m.test(r.stdout)),
      `${backend} run of ${path.basename(file)} failed (${r.code}):\n${r.stdout}${r.stderr}`,
    );
    const captures = new Map<string, string[]>();
    for (const name of fs.readdirSync(cwd).filter((n) => n.endsWith(".pcap")).sort()) {
      captures.set(name, observePcap(fs.readFileSync(path.join(cwd, name))));
    }
    return { transcript: r.stdout, captures };
  }

  const files = fs.readdirSync(SCENARIOS).filter((n) => n.endsWith(".mm")).sort();
  test("there are scenarios", () => assert.ok(files.length >= 3, `only ${files.length}`));

  // LABWIRE_SCENARIO=router_chain runs that scenario alone (a comma-separated list: those)
  const only = (process.env.LABWIRE_SCENARIO ?? "").split(",").filter((n) => n !== "").map((n) =>
    n.replace(/(\.mm)?$/, ".mm")
  );
  for (const name of files.filter((n) => only.length === 0 || only.includes(n))) {
    test(`${name}: the same pings, captures and frames on both backends`, async () => {
      const file = path.join(SCENARIOS, name);
      const sim = await run(file, "sim");
      const ovs = await run(file, "ovs");
      assert.equal(ovs.transcript, sim.transcript, `${name}: the transcripts differ`);
      assert.deepEqual([...ovs.captures.keys()], [...sim.captures.keys()], `${name}: other capture files`);
      assert.ok(sim.captures.size > 0, `${name} captures nothing`);
      for (const [capture, seen] of sim.captures) {
        assert.ok(seen.length > 0, `${name}: ${capture} is empty on the simulator`);
        const why = explainDifference(seen, ovs.captures.get(capture)!, ["sim", "ovs"]);
        assert.equal(why, "", `${name}, ${capture}: ${why}`);
      }
      // the Open vSwitch run removed its lab when it ended (no state file)
      const left = await nodeRunner.run(["ovs-vsctl", "--timeout=5", "list-br"], {
        timeoutMs: 10_000,
        env: sandbox!.env,
      });
      assert.equal(left.stdout, "", `${name} left bridges behind`);
    });
  }
});
