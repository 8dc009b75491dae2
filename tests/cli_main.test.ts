/** The real CLI, run as a process under the runtime running the tests (Deno or Bun). */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import process from "node:process";
import { nodeRunner, type RunResult, which } from "../lib/exec.ts";

const root = path.join(import.meta.dirname!, "..");
const cliArgv = process.versions.bun !== undefined
  ? [process.execPath, path.join(root, "cli.ts")]
  : [process.execPath, "run", "-A", path.join(root, "cli.ts")];

function cli(args: readonly string[], stdin?: string): Promise<RunResult> {
  return nodeRunner.run([...cliArgv, ...args], {
    timeoutMs: 100_000,
    env: { LABWIRE_STATE: "", LABWIRE_BACKEND: "", LABWIRE_SIM_UPLINK: "", NO_COLOR: "1" },
    ...(stdin === undefined ? {} : { stdin }),
  });
}

/** Each test starts runtimes (Deno or Bun) as processes: more than Bun's default 5 s on a loaded machine. */
const SLOW = { timeout: 120_000 };

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "labwire-cli-"));
}

describe("cli.ts", () => {
  test("-e runs commands in order and prints their output", SLOW, async () => {
    const r = await cli(["-e", "vm config net A B", "-e", "vlans"]);
    assert.deepEqual([r.code, r.stdout, r.stderr], [0, "alias | vlan\nA     | 101\nB     | 102\n", ""]);
  });
  test("stops at the first failed command with status 1, errors on standard error", SLOW, async () => {
    const r = await cli(["-e", "vlans add a 5", "-e", "vlans add a 6", "-e", "vlans"]);
    assert.deepEqual([r.code, r.stdout, r.stderr], [1, "", "E: alias already in use\n"]);
  });
  test("-k goes on after a failed command, still with status 1", SLOW, async () => {
    const r = await cli(["-k", "-e", "vlans add a 5", "-e", "vlans add a 6", "-e", "vlans"]);
    assert.deepEqual([r.code, r.stdout, r.stderr], [
      1,
      "alias | vlan\na     | 5\n",
      "E: alias already in use\n",
    ]);
  });
  test("reads commands from standard input", SLOW, async () => {
    const r = await cli([], "vm config net A\n\n# comment\nvm config net\n");
    assert.deepEqual([r.code, r.stdout], [0, "[A]\n"]);
  });
  test("--transcript echoes lines, prints errors as E: and goes on", SLOW, async () => {
    const dir = tempDir();
    const file = path.join(dir, "t.mm");
    fs.writeFileSync(file, "vlans add foo 200\r\nvlans add foo 201\n\nvlans\n");
    const r = await cli(["--transcript", file]);
    assert.equal(r.code, 1);
    assert.equal(
      r.stdout,
      "## vlans add foo 200\n## vlans add foo 201\nE: alias already in use\n\n## vlans\nalias | vlan\nfoo   | 200\n",
    );
    fs.rmSync(dir, { recursive: true });
  });
  test("--sim-uplink, or $LABWIRE_SIM_UPLINK, gives the simulated host an uplink for nat", SLOW, async () => {
    const lines = [
      "vm config net DMZ",
      "vm launch container web",
      "vm start web",
      "vm net ip web 0 10.0.0.10/24",
      "nat DMZ 10.0.0.1/24 up0",
      "vm net route web default 10.0.0.1",
      ".columns received ping web:0 198.51.100.7 1",
    ].flatMap((line) => ["-e", line]);
    const flag = await cli(["--sim-uplink", "up0=198.51.100.1/24,198.51.100.7/24", ...lines]);
    assert.equal(flag.code, 0, flag.stderr);
    assert.equal(flag.stdout, "received\n1\n");
    const env = await nodeRunner.run([...cliArgv, ...lines], {
      timeoutMs: 100_000,
      env: {
        LABWIRE_STATE: "",
        LABWIRE_BACKEND: "",
        NO_COLOR: "1",
        LABWIRE_SIM_UPLINK: "up9=203.0.113.1/24 up0=198.51.100.1/24,198.51.100.7/24",
      },
    });
    assert.equal(env.code, 0, env.stderr);
    assert.equal(env.stdout, "received\n1\n");
    const none = await cli(lines);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /^E: Cannot open a way out through up0: the simulator has no uplink up0 /m);
  });

  test("bad usage exits with status 2 and one clear line", SLOW, async () => {
    const cases: [string[], RegExp][] = [
      [["--bogus"], /^E: Unknown option '--bogus'/],
      [["/nonexistent/script.mm"], /^E: Cannot read script '\/nonexistent\/script.mm': no such file\n$/],
      [["--backend", "xen", "-e", "vlans"], /^E: Cannot use backend 'xen': choose sim or ovs\n/],
      [["--vlan-range", "200-100", "-e", "vlans"], /^E: expected min < max for VLAN range\n/],
      [["a.mm", "b.mm"], /^E: Cannot run more than one script: got 'a.mm', 'b.mm'\n/],
      [
        ["--ovs-netns", "a/b", "-e", "vlans"],
        /^E: Cannot use OVS network namespace 'a\/b': it is not a namespace name\n/,
      ],
      [
        ["--sim-uplink", "eth0", "-e", "vlans"],
        /^E: Cannot use --sim-uplink 'eth0': expected NAME=ADDRESS\/PREFIX\[,HOST\/PREFIX\.\.\.\], like /,
      ],
      [
        ["--sim-uplink", "eth0=198.51.100.1/24,198.51.100.7", "-e", "vlans"],
        /^E: Cannot use --sim-uplink 'eth0=198.51.100.1\/24,198.51.100.7': '198.51.100.7' is not an address with its prefix\n/,
      ],
      [
        ["--backend", "ovs", "--sim-uplink", "eth0=198.51.100.1/24", "-e", "vlans"],
        /^E: Cannot use --sim-uplink with --backend ovs: it is the simulator's\n/,
      ],
      [
        ["--sim-uplink", "eth0=198.51.100.1/24,203.0.113.7/24", "-e", "vlans"],
        /^E: Cannot put host 203.0.113.7\/24 outside uplink eth0: it is not on 198.51.100.1\/24's subnet\n/,
      ],
    ];
    for (const [args, stderr] of cases) {
      const r = await cli(args);
      assert.equal(r.code, 2, args.join(" "));
      assert.match(r.stderr, stderr, args.join(" "));
      assert.doesNotMatch(r.stderr, /\bat .*\.ts:\d+/, "no stack trace");
    }
  });
  test("binary and huge input get a clear error, never a stack trace", SLOW, async () => {
    const dir = tempDir();
    const binary = path.join(dir, "bin.mm");
    fs.writeFileSync(binary, new Uint8Array([0x76, 0x6c, 0x61, 0x6e, 0x73, 0x00, 0xff, 0xfe, 0x0a]));
    let r = await cli([binary]);
    assert.equal(r.code, 1);
    assert.equal(
      r.stderr,
      "E: Cannot run command: the line has a control character (0x00) at column 6; is this binary input?\n",
    );
    r = await cli([], `vlans ${"x".repeat(1_000_000)}\n`);
    assert.equal(r.code, 1);
    assert.equal(
      r.stderr,
      "E: Cannot run command: the line is 1000006 characters long, more than the 65536 allowed\n",
    );
    fs.rmSync(dir, { recursive: true });
  });
  test("--vlan-range refuses a range holding VLANs outside 1..4094, with status 2", SLOW, async () => {
    const cases: [string, string][] = [
      ["0-10", "E: Cannot use VLAN range '0-10' as min must be 1 to 4094: current value is 0\n"],
      [
        "10-4096",
        "E: Cannot use VLAN range '10-4096' as max must be at most 4095, one past the last VLAN (4094): " +
        "current value is 4096\n",
      ],
      [
        "2147483648-2147483649",
        "E: Cannot use VLAN range '2147483648-2147483649' as min must be 1 to 4094: current value is 2147483648\n",
      ],
    ];
    for (const [range, stderr] of cases) {
      const r = await cli(["--vlan-range", range, "-e", "vm config net A", "-e", "vlans"]);
      assert.deepEqual([r.code, r.stdout], [2, ""], range);
      assert.ok(r.stderr.startsWith(stderr), `${range}: ${r.stderr}`);
    }
    const top = await cli([
      "--vlan-range",
      "4093-4095",
      "-e",
      "vm config net A B",
      "-e",
      "vlans",
      "-e",
      "vm config net C",
    ]);
    assert.deepEqual([top.code, top.stdout, top.stderr], [
      1,
      "alias | vlan\nA     | 4093\nB     | 4094\n",
      "E: out of VLANs\n",
    ]);
  });
  test("--vlan-range sets the default range of a new lab", SLOW, async () => {
    const r = await cli(["--vlan-range", "2000-2002", "-e", "vm config net A B", "-e", "vlans range"]);
    assert.equal(r.stdout, "min  | max  | next\n2000 | 2002 | 2001\n");
  });
  test("--help and --version", SLOW, async () => {
    const help = await cli(["--help"]);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^Usage: labwire \[options\] \[FILE\]/);
    assert.match((await cli(["--version"])).stdout, /^labwire \d+\.\d+\.\d+\n$/);
  });
});

describe("cli.ts on a terminal", () => {
  const script = which("script");
  test("gives a prompt, runs what is typed and keeps a history", {
    ...SLOW,
    skip: script === undefined ? "needs script(1) from util-linux for a pseudo-terminal" : false,
  }, async () => {
    const home = tempDir();
    const command = cliArgv.map((a) => `'${a}'`).join(" ");
    const r = await nodeRunner.run([script!, "-qec", command, "/dev/null"], {
      timeoutMs: 100_000,
      env: { HOME: home, LABWIRE_STATE: "", NO_COLOR: "1", TERM: "dumb" },
      stdin: "vm config net A\nvlans\nvlans add A 5\nquit\n",
    });
    const out = r.stdout.replaceAll("\r", "");
    assert.match(out, /labwire\$ /);
    assert.ok(out.includes("alias | vlan\nA     | 101\n"), out);
    assert.match(out, /E: alias already in use\n/);
    assert.equal(
      fs.readFileSync(path.join(home, ".labwire_history"), "utf8"),
      "vm config net A\nvlans\nvlans add A 5\n",
    );
    fs.rmSync(home, { recursive: true });
  });
});

describe("cli.ts --state", () => {
  test("keeps the lab between runs", SLOW, async () => {
    const dir = tempDir();
    const state = path.join(dir, "lab.json");
    assert.equal((await cli(["--state", state, "-e", "vm config net A", "-e", "namespace foo"])).code, 0);
    const r = await cli(["--state", state, "-e", "vm config net B", "-e", "vlans", "-e", "namespace"]);
    assert.equal(
      r.stdout,
      "alias | vlan\nB     | 102\nnamespace | vlans    | active\nfoo       |          | true\nminimega  | 101-4095 | false\n",
    );
    assert.equal(JSON.parse(fs.readFileSync(state, "utf8")).version, 2);
    fs.rmSync(dir, { recursive: true });
  });
  test("rebuilds the simulated network in a new process; captures end with their process", SLOW, async () => {
    const dir = tempDir();
    const state = path.join(dir, "lab.json");
    const pcap = path.join(dir, "a.pcap");
    const first = await cli([
      "--state",
      state,
      "-e",
      "vm config net LAN",
      "-e",
      "vm launch kvm a,b",
      "-e",
      "vm start all",
      "-e",
      "vm net ip a 0 10.0.0.1/24",
      "-e",
      "vm net ip b 0 10.0.0.2/24",
      "-e",
      `capture pcap vm a 0 ${pcap}`,
      "-e",
      "capture",
    ]);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /\| a:0 /);
    const second = await cli(["--state", state, "-e", "capture", "-e", "ping a:0 10.0.0.2 2"]);
    assert.deepEqual([second.code, second.stderr], [0, ""]);
    assert.equal(second.stdout, "from | to       | sent | received\na:0  | 10.0.0.2 | 2    | 2\n");
    assert.equal(fs.statSync(pcap).size, 24, "the first process's capture holds just the pcap header");
    fs.rmSync(dir, { recursive: true });
  });
  test(
    "a failed line leaves the state file as it was: later runs, clear all and nuke work",
    SLOW,
    async () => {
      const dir = tempDir();
      const state = path.join(dir, "lab.json");
      assert.equal(
        (await cli(["--state", state, "-e", "vm config net DMZ", "-e", "vm launch container a"])).code,
        0,
      );
      // the lines the reliability probe found poisoning the file, each in a process of its own
      for (
        const line of [
          "tap create 2 name mega_bridge",
          'bridge trunk B ""',
          "tap create 2 name -x",
          "vlans range 0 10",
        ]
      ) {
        const before = fs.readFileSync(state, "utf8");
        const r = await cli(["--state", state, "-e", line]);
        assert.equal(r.code, 1, `${line}: ${r.stderr}`);
        assert.equal(fs.readFileSync(state, "utf8"), before, `${line} changed the state file`);
      }
      // an empty tap name gets a generated one, and the file stays usable by every later process
      const tap = await cli(["--state", state, "-e", `tap create 2 name ""`]);
      assert.deepEqual([tap.code, tap.stdout], [0, "mega_tap1\n"]);
      for (const line of ["tap", "vm info", "clear all", "nuke", "vlans"]) {
        const r = await cli(["--state", state, "-e", line]);
        assert.deepEqual([r.code, r.stderr], [0, ""], line);
      }
      fs.rmSync(dir, { recursive: true });
    },
  );
  test("reports a corrupt state file instead of starting over", SLOW, async () => {
    const dir = tempDir();
    const state = path.join(dir, "lab.json");
    fs.writeFileSync(state, "{not json");
    const r = await cli(["--state", state, "-e", "vlans"]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^E: Cannot read state file '.*lab\.json': /);
    assert.equal(fs.readFileSync(state, "utf8"), "{not json");
    fs.rmSync(dir, { recursive: true });
  });
  test("20 processes allocating aliases at once never share a VLAN or lose one", SLOW, async () => {
    const dir = tempDir();
    const state = path.join(dir, "lab.json");
    const procs = Array.from({ length: 20 }, (_, p) => {
      const evals = Array.from({ length: 5 }, (_, i) => ["-e", `vm config net P${p}-${i}a P${p}-${i}b`])
        .flat();
      return cli(["--state", state, ...evals]);
    });
    const results = await Promise.all(procs);
    for (const r of results) assert.deepEqual([r.code, r.stderr], [0, ""]);
    const doc = JSON.parse(fs.readFileSync(state, "utf8"));
    const r = await cli(["--state", state, "-e", ".json true vlans"]);
    const rows: [string, string][] = JSON.parse(r.stdout)[0].Tabular;
    assert.equal(rows.length, 200);
    assert.equal(new Set(rows.map(([alias]) => alias)).size, 200, "every alias kept");
    const vlans = rows.map(([, vlan]) => Number(vlan));
    assert.equal(new Set(vlans).size, 200, "no two aliases share a VLAN");
    assert.deepEqual(vlans.sort((a, b) => a - b), Array.from({ length: 200 }, (_, i) => 101 + i));
    assert.equal(doc.version, 2);
    assert.deepEqual(fs.readdirSync(dir), ["lab.json"], "no temporary or lock files left");
    fs.rmSync(dir, { recursive: true });
  });
});
