/**
 * Every `ts` example of docs/api.md, docs/simulator.md and the README runs as it is, under Deno and under Bun: each block is
 * written to a file in a temporary folder of the project (where `labwire` resolves) and run as a script.
 */
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { nodeRunner } from "../lib/exec.ts";

const ROOT = path.join(import.meta.dirname!, "..");
const BIN = path.join(ROOT, "node_modules", ".bin");

/** The ```ts blocks of a markdown file, with the line each starts on. */
function blocks(file: string): { line: number; code: string }[] {
  const lines = fs.readFileSync(path.join(ROOT, file), "utf8").split("\n");
  const out: { line: number; code: string }[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (lines[i]!.trim() !== "```ts") continue;
    const start = i + 1;
    let end = start;
    while (end < lines.length && lines[end]!.trim() !== "```") end++;
    out.push({ line: start, code: lines.slice(start, end).join("\n") + "\n" });
    i = end;
  }
  return out;
}

describe("the examples in the docs run", { timeout: 300_000 }, () => {
  const dir = fs.mkdtempSync(path.join(ROOT, ".doc-blocks-"));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  for (const doc of ["docs/api.md", "docs/simulator.md", "README.md"]) {
    const found = blocks(doc);
    test(`${doc} has examples`, () => assert.ok(found.length > 0));
    for (const { line, code } of found) {
      const file = path.join(dir, `${doc.replace(/\W/g, "_")}_${line}.ts`);
      fs.writeFileSync(file, code);
      for (const runtime of ["deno", "bun"] as const) {
        test(`${doc}:${line} runs under ${runtime}`, async () => {
          const argv = runtime === "deno"
            ? [path.join(BIN, "deno"), "run", "-A", file]
            : [path.join(BIN, "bun"), file];
          const r = await nodeRunner.run(argv, { timeoutMs: 120_000, cwd: ROOT, env: { NO_COLOR: "1" } });
          assert.equal(r.code, 0, `${doc}:${line}\n${code}\n${r.stdout}\n${r.stderr}`);
        });
      }
    }
  }
});
