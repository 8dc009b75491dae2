/**
 * SIGTERM and SIGINT stop a long run of the CLI after the line running, with captures completed and the
 * state saved, even on the simulator, whose commands never wait for anything.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import process from "node:process";
import { readPcapFile } from "../lib/wire/pcap_file.ts";
import { runScript, YIELD_EVERY_MS } from "../lib/cli/script.ts";

const root = path.join(import.meta.dirname!, "..");
const cliArgv = process.versions.bun !== undefined
  ? [process.execPath, path.join(root, "cli.ts")]
  : [process.execPath, "run", "-A", path.join(root, "cli.ts")];

/** Each test starts a runtime (Deno or Bun) as a process: more than Bun's default 5 s on a loaded machine. */
const SLOW = { timeout: 120_000 };

/** How long a signalled run may take to end: a few seconds, on a loaded machine. */
const STOP_MS = 10_000;

interface Run {
  readonly child: ChildProcess;
  /** Everything printed so far. */
  stdout(): string;
  stderr(): string;
  /** Resolves once standard output holds `text`; rejects if it does not within {@linkcode STOP_MS}. */
  printed(text: string): Promise<void>;
  /** The exit status, 128 + n for signal n, or "still running" if it did not end within `ms` (it is then killed). */
  exit(ms: number): Promise<number | string>;
}

function start(args: readonly string[]): Run {
  const child = spawn(cliArgv[0]!, [...cliArgv.slice(1), ...args], {
    env: { ...process.env, LABWIRE_STATE: "", LABWIRE_BACKEND: "", NO_COLOR: "1" },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  const waiters: { text: string; resolve: () => void }[] = [];
  child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
    out += chunk;
    for (const w of waiters.splice(0)) {
      if (out.includes(w.text)) w.resolve();
      else waiters.push(w);
    }
  });
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => err += chunk);
  child.stdin!.on("error", () => {}); // the CLI may stop reading before the test stops writing
  const exited = new Promise<number | string>((resolve) => {
    // as a shell's $? shows it: Deno ends a process that handled a signal by that signal, once its
    // work is done (so that its parent sees it), Bun exits with 128 + the signal's number
    child.on("close", (code, signal) => resolve(code ?? 128 + os.constants.signals[signal!]));
  });
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    printed(text) {
      if (out.includes(text)) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no ${JSON.stringify(text)} in ${STOP_MS} ms`)),
          STOP_MS,
        );
        waiters.push({
          text,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        });
      });
    },
    async exit(ms) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const late = new Promise<string>((resolve) => timer = setTimeout(() => resolve("still running"), ms));
      const result = await Promise.race([exited, late]);
      clearTimeout(timer);
      if (result === "still running") {
        child.kill("SIGKILL");
        await exited;
      }
      return result;
    },
  };
}

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "labwire-signals-"));
}

/** `count` lines made by `line(i)`, each ending in "\n". */
function lines(count: number, line: (i: number) => string): string {
  const parts: string[] = [];
  for (let i = 0; i < count; i++) parts.push(line(i));
  return `${parts.join("\n")}\n`;
}

describe("cli.ts on a signal", () => {
  test(
    "SIGTERM stops a 3,000,000-line script after the line running: status 143, state saved",
    SLOW,
    async () => {
      const dir = tempDir();
      const state = path.join(dir, "lab.json");
      const script = path.join(dir, "long.mm");
      fs.writeFileSync(script, lines(3_000_000, (i) => `namespace ns${i}`));
      const run = start(["--state", state, "--transcript", script]);
      try {
        await run.printed("## namespace ns1\n");
        run.child.kill("SIGTERM");
        assert.equal(await run.exit(STOP_MS), 143, run.stderr());
        assert.equal(run.stderr(), "");
        // every line echoed ran to its end, and is in the state file; no other line ran
        const echoed = run.stdout().split("\n").filter((l) => l.startsWith("## "));
        assert.ok(echoed.length > 1 && echoed.length < 3_000_000, `${echoed.length} lines ran`);
        assert.ok(run.stdout().endsWith("\n"), "the transcript ends with a whole line");
        const doc = JSON.parse(fs.readFileSync(state, "utf8"));
        const namespaces: string[] = JSON.stringify(doc).match(/"ns\d+"/g) ?? [];
        assert.equal(new Set(namespaces).size, echoed.length);
        assert.ok(namespaces.includes(`"ns${echoed.length - 1}"`));
      } finally {
        fs.rmSync(dir, { recursive: true });
      }
    },
  );
  test(
    "SIGINT stops lines arriving on standard input: status 130, the capture a complete pcap",
    SLOW,
    async () => {
      const dir = tempDir();
      const pcap = path.join(dir, "bridge.pcap");
      const run = start([]);
      try {
        const setup = [
          "vm config net LAN",
          "vm launch kvm a,b",
          "vm start all",
          "vm net ip a 0 10.0.0.1/24",
          "vm net ip b 0 10.0.0.2/24",
          `capture pcap bridge mega_bridge ${pcap}`,
        ];
        run.child.stdin!.write(`${setup.join("\n")}\n`);
        run.child.stdin!.write(lines(100_000, () => "ping a:0 10.0.0.2 1")); // standard input stays open
        await run.printed("a:0  | 10.0.0.2 | 1    | 1\n");
        run.child.kill("SIGINT");
        assert.equal(await run.exit(STOP_MS), 130, run.stderr());
        assert.equal(run.stderr(), "");
        const pings = run.stdout().split("\n").filter((l) => l === "a:0  | 10.0.0.2 | 1    | 1").length;
        assert.ok(pings >= 1 && pings < 100_000, `${pings} pings ran`);
        // the file is whole (readPcapFile refuses a cut record) and holds every ping that ran
        const records = readPcapFile(pcap).records;
        const requests = records.filter((r) => {
          const o = r.data[12] === 0x81 && r.data[13] === 0x00 ? 4 : 0; // after an 802.1Q tag
          return r.data[12 + o] === 0x08 && r.data[13 + o] === 0x00 && r.data[34 + o] === 8; // ICMP echo
        });
        assert.equal(requests.length, pings);
      } finally {
        run.child.kill("SIGKILL");
        fs.rmSync(dir, { recursive: true });
      }
    },
  );
  test("SIGTERM while waiting for standard input: status 143 at once", SLOW, async () => {
    const run = start([]);
    try {
      run.child.stdin!.write("vlans add a 5\nvlans\n");
      await run.printed("a     | 5\n");
      run.child.kill("SIGTERM");
      assert.equal(await run.exit(STOP_MS), 143, run.stderr());
      assert.equal(run.stdout(), "alias | vlan\na     | 5\n");
    } finally {
      run.child.kill("SIGKILL");
    }
  });
});

describe("runScript()", () => {
  /** Runs every line at once, as the simulator does: nothing in it waits for the event loop. */
  const sync = { execute: (line: string) => Promise.resolve({ output: line, errors: [] }) };
  function* endless(): Generator<string> {
    for (let i = 0;; i++) yield `line ${i}`;
  }
  test("stops after the line running when its signal is aborted", async () => {
    const stop = new AbortController();
    let out = "";
    const executor = {
      execute(line: string) {
        if (line === "b") stop.abort();
        return Promise.resolve({ output: line, errors: [] });
      },
    };
    const ok = await runScript(executor, ["a", "b", "c"], {
      stdout: (t) => out += t,
      stderr: () => {},
      signal: stop.signal,
    });
    assert.deepEqual([ok, out], [true, "a\nb\n"]);
  });
  test(`lets a timer abort endless lines that never wait (every ${YIELD_EVERY_MS} ms)`, async () => {
    const stop = new AbortController();
    setTimeout(() => stop.abort(), 20);
    let lines = 0;
    const ok = await runScript(sync, endless(), {
      stdout: () => lines++,
      stderr: () => {},
      signal: stop.signal,
    });
    assert.equal(ok, true);
    assert.ok(lines > 0, `${lines} lines`);
  });
  test("closes lines that arrive (an async iterable) when it stops early", async () => {
    let closed = false;
    async function* arriving(): AsyncGenerator<string> {
      try {
        yield "vlans add a 5";
        yield "vlans add a 5";
        yield "never";
      } finally {
        closed = true;
      }
    }
    const seen: string[] = [];
    const executor = {
      execute(line: string) {
        seen.push(line);
        return Promise.resolve({ output: "", errors: seen.length === 2 ? ["alias already in use"] : [] });
      },
    };
    assert.equal(await runScript(executor, arriving(), { stdout: () => {}, stderr: () => {} }), false);
    assert.deepEqual(seen, ["vlans add a 5", "vlans add a 5"]);
    assert.equal(closed, true);
  });
});
