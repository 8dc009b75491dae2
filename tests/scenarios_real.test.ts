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

  /**
   * The outside networks a scenario asks for, one line each: `# uplink: NAME ADDRESS/PREFIX HOST/PREFIX...`
   * (the uplink of the lab's host, and hosts outside it). The simulator gets them as `--sim-uplink`; on
   * Open vSwitch, {@linkcode withOutside} makes each one for the run.
   */
  function uplinksOf(file: string): { name: string; address: string; hosts: string[] }[] {
    return [...fs.readFileSync(file, "utf8").matchAll(/^# uplink: (\S+) (\S+)((?: \S+)*)$/gm)].map((m) => ({
      name: m[1]!,
      address: m[2]!,
      hosts: m[3]!.split(" ").filter((h) => h !== ""),
    }));
  }

  /**
   * Runs `fn` with a scenario's outside networks on Open vSwitch: the uplink one end of a veth in the
   * sandbox's namespace (with the host's address), the one host outside a namespace of its own at the other
   * end. All of it is deleted afterwards.
   */
  async function withOutside<T>(file: string, fn: () => Promise<T>): Promise<T> {
    const made: string[] = [];
    const run = async (...argv: string[]) => {
      const r = await sandbox!.exec(argv[0]!).args(...argv.slice(1)).timeout(20_000).noThrow().run();
      assert.equal(r.code, 0, `${argv.join(" ")}: ${r.stderr}`);
    };
    try {
      for (const [i, uplink] of uplinksOf(file).entries()) {
        assert.equal(uplink.hosts.length, 1, "one host outside an uplink, for now");
        const outside = `lwscn${process.pid % 100000}o${i}`;
        await run("ip", "netns", "add", outside);
        made.push(outside);
        await run("ip", "link", "add", uplink.name, "type", "veth", "peer", "name", "out0", "netns", outside);
        await run("ip", "link", "set", "dev", uplink.name, "addrgenmode", "none");
        await run("ip", "addr", "add", uplink.address, "dev", uplink.name);
        await run("ip", "link", "set", uplink.name, "up");
        await run("ip", "-n", outside, "link", "set", "dev", "out0", "addrgenmode", "none");
        await run("ip", "-n", outside, "addr", "add", uplink.hosts[0]!, "dev", "out0");
        await run("ip", "-n", outside, "link", "set", "out0", "up");
        await run("ip", "-n", outside, "link", "set", "lo", "up");
      }
      return await fn();
    } finally {
      // the namespace takes its end of the veth, and the uplink end with it
      for (const outside of made) await sandbox!.exec("ip").args("netns", "del", outside).noThrow().run();
    }
  }

  /** Runs a scenario on a backend in a folder of its own, and reads what it left. */
  async function run(file: string, backend: "sim" | "ovs"): Promise<Run> {
    const cwd = path.join(dir, `${path.basename(file, ".mm")}-${backend}`);
    fs.mkdirSync(cwd);
    const env = {
      ...(backend === "ovs" ? sandbox!.env : {}),
      NO_COLOR: "1",
      LABWIRE_STATE: "",
      LABWIRE_SIM_UPLINK: "",
    };
    const uplinks = backend === "sim"
      ? uplinksOf(file).flatMap((u) => ["--sim-uplink", `${u.name}=${[u.address, ...u.hosts].join(",")}`])
      : [];
    const cli = () =>
      nodeRunner.run(
        [...CLI, "--transcript", "--seed", "scenario", "--backend", backend, ...uplinks, file],
        { timeoutMs: 300_000, env, cwd },
      );
    const r = backend === "ovs" ? await withOutside(file, cli) : await cli();
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
