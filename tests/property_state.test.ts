/**
 * The differential test of state files: a lab kept in memory, and the same command lines through labs
 * that share one state file (two that live long, and a fresh one per line, as `labwire --state`
 * processes are), give the same output and the same errors, line for line, and end with the same lab.
 * The lines are generated (tests/_fixtures/lines.ts): good and bad values of every command, so that
 * failed lines are many and must change nothing, in memory or in the file. A second test runs the lines
 * through real `labwire --state` processes.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import process from "node:process";
import fc from "fast-check";
import { Lab } from "../lib/api/lab.ts";
import { createExec } from "../lib/exec.ts";
import { commandLine } from "./_fixtures/lines.ts";

/** How many generated scripts each run tries; FC_RUNS raises it for a longer hunt. */
const RUNS = Number(process.env.FC_RUNS ?? 150);

function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "labwire-diff-"));
  return fn(dir).finally(() => fs.rmSync(dir, { recursive: true, force: true }));
}

test("a lab in memory and the same lines through a shared state file agree, line for line", {
  timeout: 300_000,
}, async () => {
  let lines = 0;
  let failed = 0;
  await fc.assert(
    fc.asyncProperty(fc.array(commandLine, { minLength: 5, maxLength: 30 }), async (script) => {
      await withTempDir(async (dir) => {
        const state = path.join(dir, "lab.json");
        await using memory = await Lab.open({ seed: 7 });
        await using a = await Lab.open({ state, seed: 7 });
        await using b = await Lab.open({ state, seed: 7 });
        for (const [i, line] of script.entries()) {
          const want = await memory.execute(line);
          let got;
          if (i % 3 === 2) {
            await using fresh = await Lab.open({ state, seed: 7 });
            got = await fresh.execute(line);
          } else {
            got = await (i % 3 === 0 ? a : b).execute(line);
          }
          assert.deepEqual(got, want, `line ${i + 1} '${line}' of ${JSON.stringify(script)}`);
          lines++;
          if (want.errors.length > 0) failed++;
        }
        await using last = await Lab.open({ state, seed: 7 });
        assert.deepEqual(
          await last.snapshot(),
          await memory.snapshot(),
          `the labs differ after ${JSON.stringify(script)}`,
        );
      });
    }),
    { numRuns: RUNS, ...(process.env.FC_SEED === undefined ? {} : { seed: Number(process.env.FC_SEED) }) },
  );
  // the generator must reach both outcomes, or the test proves little
  assert.ok(failed > lines / 10 && failed < lines * 0.9, `${failed} of ${lines} lines failed`);
});

test("the same lines through labwire --state processes, one per line, print what the lab in memory prints", {
  timeout: 300_000,
}, async () => {
  const runtime = process.versions.deno !== undefined ? ["run", "-A", "--no-check"] : [];
  const cli = path.join(import.meta.dirname!, "..", "cli.ts");
  const exec = createExec({ defaultTimeoutMs: 60_000 });
  const scripts = fc.sample(fc.array(commandLine, { minLength: 20, maxLength: 20 }), {
    numRuns: 2,
    seed: 42,
  });
  for (const script of scripts) {
    await withTempDir(async (dir) => {
      const state = path.join(dir, "lab.json");
      await using memory = await Lab.open({ seed: 7 });
      for (const [i, line] of script.entries()) {
        const want = await memory.execute(line);
        const r = await exec(process.execPath).args(
          ...runtime,
          cli,
          "--state",
          state,
          "--seed",
          "7",
          "-q",
          "-e",
          line,
        )
          .noThrow().run();
        const errors = r.stderr.split("\n").filter((l) => l.startsWith("E: ")).map((l) => l.slice(3));
        assert.deepEqual({ output: r.stdout.replace(/\n$/, ""), errors }, {
          output: want.output.replace(/\n$/, ""),
          errors: [...want.errors],
        }, `line ${i + 1} '${line}'`);
        assert.equal(r.code, want.errors.length > 0 ? 1 : 0, `line ${i + 1} '${line}': exit status`);
      }
    });
  }
});
