/** Standard input is read and run line by line, as it arrives, not to its end first. */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import path from "node:path";
import process from "node:process";
import { readLines, splitLines } from "../lib/cli/_lines.ts";

const root = path.join(import.meta.dirname!, "..");
const cliArgv = process.versions.bun !== undefined
  ? [process.execPath, path.join(root, "cli.ts")]
  : [process.execPath, "run", "-A", path.join(root, "cli.ts")];

/** Each test starts a runtime (Deno or Bun) as a process: more than Bun's default 5 s on a loaded machine. */
const SLOW = { timeout: 120_000 };

/** How long to wait for output that should come at once, on a loaded machine. */
const PROMPT_MS = 10_000;

/** Starts the CLI with standard input a pipe the test writes to. */
function start(args: readonly string[]) {
  const child = spawn(cliArgv[0]!, [...cliArgv.slice(1), ...args], {
    env: { ...process.env, LABWIRE_STATE: "", LABWIRE_BACKEND: "", NO_COLOR: "1" },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  let onData = () => {};
  child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
    out += chunk;
    onData();
  });
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => err += chunk);
  const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    /** Resolves once standard output holds `text`; rejects after {@linkcode PROMPT_MS}. */
    printed(text: string): Promise<void> {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no ${JSON.stringify(text)} in ${PROMPT_MS} ms`)),
          PROMPT_MS,
        );
        onData = () => {
          if (!out.includes(text)) return;
          clearTimeout(timer);
          resolve();
        };
        onData();
      });
    },
  };
}

/** An async iterable of the given chunks, one at a time. */
async function* chunked(bytes: Uint8Array, sizes: Iterable<number>): AsyncGenerator<Uint8Array> {
  let at = 0;
  for (const size of sizes) {
    if (at >= bytes.length) break;
    yield bytes.slice(at, at + size);
    at += size;
  }
  if (at < bytes.length) yield bytes.slice(at);
}

async function collect(lines: AsyncIterable<string>): Promise<string[]> {
  const all: string[] = [];
  for await (const line of lines) all.push(line);
  return all;
}

describe("readLines()", () => {
  const input = new Uint8Array([
    ...new TextEncoder().encode("vlans add \u00e9 5\r\nvlans\n\n"),
    0xff, // not UTF-8
    ...new TextEncoder().encode("x\r\n\u20ac last\r"),
  ]);
  test("makes the lines splitLines() makes, however the bytes arrive", async () => {
    const want = splitLines(input);
    assert.deepEqual(want, ["vlans add \u00e9 5", "vlans", "", "\ufffdx", "\u20ac last"]);
    assert.deepEqual(await collect(readLines(chunked(input, []))), want);
    for (let size = 1; size <= 4; size++) {
      assert.deepEqual(
        await collect(readLines(chunked(input, Array(input.length).fill(size)))),
        want,
        `${size}`,
      );
    }
    // every place a line break, a CRLF or a UTF-8 character can be cut
    for (let cut = 1; cut < input.length; cut++) {
      assert.deepEqual(await collect(readLines(chunked(input, [cut]))), want, `cut at ${cut}`);
    }
  });
  test("gives a line as soon as its chunk arrives, before the input ends", async () => {
    let release = () => {};
    async function* source(): AsyncGenerator<Uint8Array> {
      yield new TextEncoder().encode("first\nsec");
      await new Promise<void>((resolve) => release = resolve);
      yield new TextEncoder().encode("ond\n");
    }
    const lines = readLines(source());
    assert.deepEqual(await lines.next(), { value: "first", done: false });
    const second = lines.next();
    release();
    assert.deepEqual(await second, { value: "second", done: false });
    assert.deepEqual(await lines.next(), { value: undefined, done: true });
  });
  test("ends at once when its signal is aborted, even while waiting for input", async () => {
    let closed = false;
    const source: AsyncIterable<Uint8Array> = {
      [Symbol.asyncIterator]: () => ({
        next: () => new Promise<IteratorResult<Uint8Array>>(() => {}), // never answers
        return: () => {
          closed = true;
          return Promise.resolve({ value: undefined, done: true });
        },
      }),
    };
    const stop = new AbortController();
    const lines = readLines(source, { signal: stop.signal });
    const next = lines.next();
    stop.abort();
    assert.deepEqual(await next, { value: undefined, done: true });
    assert.equal(closed, true, "the source is closed");
  });
});

describe("cli.ts reading standard input", () => {
  test("runs each line as it arrives, before standard input ends", SLOW, async () => {
    const run = start([]);
    try {
      run.child.stdin!.write("vlans add a 5\nvlans\n");
      await run.printed("alias | vlan\na     | 5\n");
      run.child.stdin!.write("vlans add b 6\r\nvlans\n");
      await run.printed("alias | vlan\na     | 5\nb     | 6\n");
      run.child.stdin!.end("vlans add c 7\nvlans"); // a last line without its line break
      assert.equal(await run.exited, 0);
      assert.equal(
        run.stdout(),
        "alias | vlan\na     | 5\nalias | vlan\na     | 5\nb     | 6\nalias | vlan\na     | 5\nb     | 6\nc     | 7\n",
      );
      assert.equal(run.stderr(), "");
    } finally {
      run.child.kill("SIGKILL");
    }
  });
  test("ends with status 141 when its reader goes away (labwire | head)", SLOW, async () => {
    const run = start([]);
    try {
      run.child.stdin!.on("error", () => {}); // it stops reading
      run.child.stdin!.write("vlans add a 5\n");
      const more = () => run.child.stdin!.write("vlans\n".repeat(10_000));
      more();
      await run.printed("a     | 5\n");
      run.child.stdout!.destroy();
      const timer = setInterval(more, 10); // standard input never ends
      const code = await Promise.race([
        run.exited,
        new Promise((r) => setTimeout(() => r("still running"), PROMPT_MS)),
      ]);
      clearInterval(timer);
      assert.equal(code, 141, run.stderr());
      assert.equal(run.stderr(), "");
    } finally {
      run.child.kill("SIGKILL");
    }
  });
  test("runs 200,000 piped lines, refusing a line that is not UTF-8 as before", SLOW, async () => {
    const run = start(["-k"]);
    try {
      const lines: string[] = ["vlans add a 5"];
      for (let i = 0; i < 200_000; i++) lines.push(i % 2 === 0 ? ".filter alias=b vlans" : "vlans add a 5");
      const text = new TextEncoder().encode(`${lines.join("\r\n")}\n`);
      const bad = new Uint8Array([0x76, 0xc3, 0x0a]); // "v", half a character
      run.child.stdin!.write(text.subarray(0, 1_000_001)); // the input is cut inside a line
      run.child.stdin!.write(text.subarray(1_000_001));
      run.child.stdin!.end(new Uint8Array([...bad, ...new TextEncoder().encode("vlans\n")]));
      assert.equal(await run.exited, 1);
      assert.equal(run.stdout(), "alias | vlan\na     | 5\n");
      const errors = run.stderr().split("\n").filter((l) => l !== "");
      assert.equal(errors.length, 100_001);
      assert.equal(new Set(errors.slice(0, -1)).size, 1);
      assert.equal(errors[0], "E: alias already in use");
      assert.equal(
        errors.at(-1),
        "E: Cannot run command: the line has bytes that are not UTF-8 at column 2; is this binary input?",
      );
    } finally {
      run.child.kill("SIGKILL");
    }
  });
});
