/**
 * A project in another folder imports labwire as the README shows: under Deno through `links` in its
 * deno.json (every entry point: labwire, labwire/sim, labwire/ovs, labwire/cli, labwire/testing), under
 * Bun from the package npm makes of this checkout (`npm pack`, then `npm install` of the tarball). Both run
 * a script and a `node:test` file there.
 */
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import process from "node:process";
import { nodeRunner } from "../lib/exec.ts";

const ROOT = path.join(import.meta.dirname!, "..");
const BIN = path.join(ROOT, "node_modules", ".bin");
const VERSION = JSON.parse(fs.readFileSync(path.join(ROOT, "deno.json"), "utf8")).version as string;
const NAME = JSON.parse(fs.readFileSync(path.join(ROOT, "deno.json"), "utf8")).name as string;

const SCRIPT = `import assert from "node:assert/strict";
import { Lab, LabError } from "labwire";
import type { FrameTrace } from "labwire/sim";
import { runScript } from "labwire/cli";
import { assertReachable, RecordingBackend } from "labwire/testing";
import { qemuArgs } from "labwire/ovs";

await using lab = await Lab.open({ seed: 1 });
const ns = lab.namespace();
const [a, b] = await ns.launch(["a", "b"], { networks: ["LAN"], start: true });
await a!.nic(0).setAddress("10.0.0.1/24");
await b!.nic(0).setAddress("10.0.0.2/24");
await assertReachable(a!.nic(0), "10.0.0.2");
let out = "";
await runScript(lab, ["vlans"], { transcript: false, stdout: (s) => out += s, stderr: () => {} });
assert.equal(out, "alias | vlan\\nLAN   | 101\\n");
const trace: FrameTrace = await lab.sim.send(a!.nic(0), new Uint8Array(60).fill(0xff));
assert.ok(trace.deliveries.length > 0);
assert.ok(new RecordingBackend().calls.length === 0);
assert.equal(qemuArgs({ name: "x", nics: [], kvm: false })[0], "-name");
await assert.rejects(ns.vm("nosuch").start(), (e) => e instanceof LabError && e.code === "vm-not-found");
console.log("consumer ok");
`;

const TEST = `import { test } from "node:test";
import { Lab } from "labwire";
import { assertUnreachable } from "labwire/testing";

test("VLANs keep a and b apart", async () => {
  await using lab = await Lab.open();
  const ns = lab.namespace();
  const [a] = await ns.launch(["a"], { networks: ["DMZ"], start: true });
  const [b] = await ns.launch(["b"], { networks: ["CORE"], start: true });
  await a!.nic(0).setAddress("10.0.0.1/24");
  await b!.nic(0).setAddress("10.0.0.2/24");
  await assertUnreachable(a!.nic(0), "10.0.0.2");
});
`;

const dirs: string[] = [];
function project(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "labwire-consumer-"));
  dirs.push(dir);
  fs.writeFileSync(path.join(dir, "main.ts"), SCRIPT);
  fs.writeFileSync(path.join(dir, "lab.test.ts"), TEST);
  return dir;
}

async function run(argv: string[], cwd: string): Promise<void> {
  const r = await nodeRunner.run(argv, { timeoutMs: 180_000, cwd, env: { NO_COLOR: "1" } });
  assert.equal(r.code, 0, `${argv.join(" ")} in ${cwd}:\n${r.stdout}\n${r.stderr}`);
}

describe("a project in another folder imports labwire", { timeout: 300_000 }, () => {
  after(() => {
    for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
  });

  test("under Deno, through links in its deno.json", async () => {
    const dir = project();
    const entry = (sub: string) => `jsr:${NAME}@^${VERSION}${sub}`;
    fs.writeFileSync(
      path.join(dir, "deno.json"),
      JSON.stringify(
        {
          links: [ROOT],
          imports: {
            labwire: entry(""),
            "labwire/sim": entry("/sim"),
            "labwire/ovs": entry("/ovs"),
            "labwire/cli": entry("/cli"),
            "labwire/testing": entry("/testing"),
          },
        },
        null,
        2,
      ),
    );
    await run([path.join(BIN, "deno"), "run", "-A", "main.ts"], dir);
    await run([path.join(BIN, "deno"), "test", "-A", "lab.test.ts"], dir);
  });

  test("under Bun, from the package npm makes of this checkout", async () => {
    const dir = project();
    const npm = process.platform === "win32" ? "npm.cmd" : "npm";
    const packed = await nodeRunner.run([npm, "pack", "--silent", "--pack-destination", dir, ROOT], {
      timeoutMs: 120_000,
      cwd: dir,
    });
    assert.equal(packed.code, 0, packed.stderr);
    const tarball = packed.stdout.trim().split("\n").pop()!;
    fs.writeFileSync(
      path.join(dir, "package.json"),
      JSON.stringify({
        name: "consumer",
        private: true,
        type: "module",
        dependencies: { labwire: `file:./${tarball}` },
      }),
    );
    await run([npm, "install", "--no-audit", "--no-fund", "--loglevel=error"], dir);
    assert.ok(fs.existsSync(path.join(dir, "node_modules", "labwire", "mod.ts")));
    await run([path.join(BIN, "bun"), "main.ts"], dir);
    await run([path.join(BIN, "bun"), "test", "./lab.test.ts"], dir);
  });
});
