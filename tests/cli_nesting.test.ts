/** Lines that nest commands (`namespace`, `.filter`, `.columns`, ...) deeper than any stack allows. */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import process from "node:process";
import { nodeRunner, type RunResult } from "../lib/exec.ts";
import { builtinHandlers } from "../lib/cli/builtins.ts";
import { Interpreter } from "../lib/cli/interpreter.ts";
import { DEFAULT_MAX_NESTING, Registry } from "../lib/cli/registry.ts";

const root = path.join(import.meta.dirname!, "..");
const cliArgv = process.versions.bun !== undefined
  ? [process.execPath, path.join(root, "cli.ts")]
  : [process.execPath, "run", "-A", path.join(root, "cli.ts")];

function cli(args: readonly string[]): Promise<RunResult> {
  return nodeRunner.run([...cliArgv, ...args], {
    timeoutMs: 100_000,
    env: { LABWIRE_STATE: "", LABWIRE_BACKEND: "", NO_COLOR: "1" },
  });
}

/** Each test starts a runtime (Deno or Bun) as a process: more than Bun's default 5 s on a loaded machine. */
const SLOW = { timeout: 120_000 };

const TOO_DEEP = `Cannot run command: the line nests more than ${DEFAULT_MAX_NESTING} commands`;

/** `levels` nested prefixes, cycling through namespace, .filter and .columns, before `vlans`. */
function nested(levels: number): string {
  const prefixes = ["namespace x ", ".filter alias~a ", ".columns alias "];
  let line = "";
  for (let i = 0; i < levels; i++) line += prefixes[i % prefixes.length];
  return `${line}vlans`;
}

function withScript(lines: readonly string[], fn: (file: string) => Promise<void>): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "labwire-nesting-"));
  const file = path.join(dir, "deep.mm");
  fs.writeFileSync(file, lines.map((l) => `${l}\n`).join(""));
  return fn(file).finally(() => fs.rmSync(dir, { recursive: true }));
}

describe("cli.ts with deeply nested commands", () => {
  // "n x " 16,000 times: about as deep as a line of 65,536 characters can nest
  for (const [levels, line] of [[2_000, nested(2_000)], [16_000, `${"n x ".repeat(16_000)}vlans`]] as const) {
    test(`${levels} nested prefixes: one E: line, and -k goes on`, SLOW, async () => {
      await withScript(["vlans add abc 5", line, "vlans"], async (file) => {
        const r = await cli(["-k", file]);
        assert.deepEqual([r.code, r.stdout, r.stderr], [1, "alias | vlan\nabc   | 5\n", `E: ${TOO_DEEP}\n`]);
      });
    });
  }
  test("2,000 nested prefixes in a transcript: one E: line, and the run goes on", SLOW, async () => {
    await withScript(["vlans add abc 5", nested(2_000), "vlans"], async (file) => {
      const r = await cli(["--transcript", file]);
      assert.equal(r.code, 1);
      assert.equal(
        r.stdout,
        `## vlans add abc 5\n## ${nested(2_000)}\nE: ${TOO_DEEP}\n## vlans\nalias | vlan\nabc   | 5\n`,
      );
      assert.equal(r.stderr, "");
    });
  });
  test(`${DEFAULT_MAX_NESTING} nested prefixes still run`, SLOW, async () => {
    const r = await cli(["-e", "vlans add abc 5", "-e", nested(DEFAULT_MAX_NESTING)]);
    assert.deepEqual([r.code, r.stderr], [0, ""]);
  });
});

describe("Interpreter with deeply nested commands", () => {
  function setup(): Interpreter<undefined> {
    const registry = new Registry<undefined>();
    for (const h of builtinHandlers<undefined>()) registry.register(h);
    registry.register({
      patterns: ["vlans"],
      helpShort: "display allocated VLANs",
      run: () => ({ header: ["alias", "vlan"], rows: [["abc", "5"]] }),
    });
    return new Interpreter(registry, undefined, { maxLineLength: Infinity });
  }
  test("execute() refuses 100,000 nested prefixes with one error, and the next line runs", async () => {
    const interpreter = setup();
    const line =
      Array.from({ length: 100_000 }, (_, i) => i % 2 === 0 ? ".filter alias~a " : ".columns alias ")
        .join("") + "vlans";
    assert.deepEqual(await interpreter.execute(line), { output: "", errors: [TOO_DEEP] });
    assert.deepEqual(await interpreter.execute("vlans"), { output: "alias | vlan\nabc   | 5", errors: [] });
  });
  test("execute() runs as many nested prefixes as maxNesting allows, and refuses one more", async () => {
    const registry = new Registry<undefined>();
    for (const h of builtinHandlers<undefined>()) registry.register(h);
    registry.register({ patterns: ["vlans"], helpShort: "", run: () => "ok" });
    const interpreter = new Interpreter(registry, undefined, { maxNesting: 3 });
    assert.deepEqual(await interpreter.execute(".sort true .sort true .sort true vlans"), {
      output: "ok",
      errors: [],
    });
    assert.deepEqual(await interpreter.execute(".sort true .sort true .sort true .sort true vlans"), {
      output: "",
      errors: ["Cannot run command: the line nests more than 3 commands"],
    });
  });
});
