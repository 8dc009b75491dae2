/**
 * The scripts in examples/ run as their headers say, under Deno and under Bun: an ad-hoc lab script, a
 * `node:test` file testing a lab, an automation script that keeps a lab in a state file across runs, and
 * the experiment network (routers, DHCP, a firewall).
 */
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { nodeRunner } from "../lib/exec.ts";

const ROOT = path.join(import.meta.dirname!, "..");
const BIN = path.join(ROOT, "node_modules", ".bin");
const RUNTIMES = {
  deno: { script: [path.join(BIN, "deno"), "run", "-A"], test: [path.join(BIN, "deno"), "test", "-A"] },
  bun: { script: [path.join(BIN, "bun")], test: [path.join(BIN, "bun"), "test"] },
} as const;

async function run(argv: string[]): Promise<string> {
  const r = await nodeRunner.run(argv, { timeoutMs: 180_000, cwd: ROOT, env: { NO_COLOR: "1" } });
  assert.equal(r.code, 0, `${argv.join(" ")}:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

describe("the examples run", { timeout: 300_000 }, () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "labwire-examples-"));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  for (const [name, runtime] of Object.entries(RUNTIMES)) {
    test(`examples/first_lab.ts under ${name}`, async () => {
      const out = await run([...runtime.script, "examples/first_lab.ts"]);
      assert.match(out, /^VLANs: DMZ=101 CORE=102$/m);
      assert.match(out, /^admin pings web: 3\/3 replies$/m);
      assert.match(out, /^db:0 +\| - +\| - +\| +\| - +\| 1\/1/m, out);
      assert.match(out, /ICMP echo request/);
    });
    test(`examples/router_lab.ts under ${name}`, async () => {
      const out = await run([...runtime.script, "examples/router_lab.ts"]);
      assert.match(out, /^web got 10\.0\.1\.\d+\/24 by DHCP$/m);
      assert.match(out, /^db's answers reach web with TTL 63 \(sent with 64\)$/m);
      assert.match(out, /^with the rule: web -> db 0\/3, db -> web 3\/3$/m);
      assert.match(out, /^web -> outside 3\/3, seen outside as 198\.51\.100\.1$/m);
    });
    test(`examples/lab.test.ts under ${name}`, async () => {
      await run([...runtime.test, name === "bun" ? "./examples/lab.test.ts" : "examples/lab.test.ts"]);
    });
    test(`examples/automation.ts under ${name}: up, up, status, down`, async () => {
      const state = path.join(dir, `${name}.json`);
      const script = [...runtime.script, "examples/automation.ts", state];
      assert.match(await run([...script, "up"]), /launched web on DMZ with 10\.0\.1\.10\/24/);
      assert.equal(await run([...script, "up"]), "", "the second run finds the lab up");
      const status = await run([...script, "status"]);
      assert.match(status, /^web +RUNNING +DMZ:10\.0\.1\.10\/24$/m);
      assert.match(status, /^admin \| 1\/1 +\| 1\/1/m);
      assert.match(await run([...script, "down"]), /lab cleared/);
      assert.equal(JSON.parse(fs.readFileSync(state, "utf8")).vms.length, 0);
    });
  }
});
