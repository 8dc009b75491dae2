/**
 * The quick start's main job, `npx deno task demo` (scripts/demo.ts), runs under Deno and Bun and shows what
 * it says it shows: the netspecs, the lab's tables and pings, the captures read back, the typed API, and the
 * experiment network (a router with DHCP and a firewall rule, a way out).
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
  deno: [path.join(BIN, "deno"), "run", "-A", "scripts/demo.ts"],
  bun: [path.join(BIN, "bun"), "scripts/demo.ts"],
} as const;

describe("the demo", { timeout: 300_000 }, () => {
  // the demo leaves its pcap files for the reader, in a folder of the temp dir: here, this test's
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "labwire-demo-test-"));
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  for (const [name, argv] of Object.entries(RUNTIMES)) {
    test(`runs under ${name} and shows each part`, async () => {
      const r = await nodeRunner.run([...argv], {
        timeoutMs: 180_000,
        cwd: ROOT,
        env: { NO_COLOR: "1", TMPDIR: tmp },
      });
      assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
      const out = r.stdout;
      assert.match(
        out,
        /^lab,DMZ,13-37-13-37-00-02,virtio-net-pci,qinq \| lab +\| DMZ +\| 13:37:13:37:00:02 /m,
      );
      assert.match(out, /^web:0 \| 10\.0\.1\.11 \| 3 +\| 3$/m, "web reaches mail");
      assert.match(out, /^web:0 \| 10\.0\.1\.66 \| 3 +\| 0$/m, "the stray VM on CORE is isolated");
      assert.match(out, /^admin -> web: 2\/2 replies/m);
      assert.match(out, /^web +\| \[10\.0\.1\.1[0-5]\d\]$/m, "web's address by DHCP");
      assert.match(out, /^db +\| \[10\.0\.2\.20\]$/m, "db's static lease");
      assert.match(
        out,
        /## router r commit\n## ping web:0 10\.0\.2\.20 1\nfrom +\| to +\| sent \| received\nweb:0 \| 10\.0\.2\.20 \| 1 +\| 0\n/,
      );
      assert.match(out, /^web:0 \| 198\.51\.100\.7 \| 2 +\| 2$/m, "the way out");
      assert.match(out, /db's replies reach web with TTL 63 \(sent with 64\)/);
      // the errors are the ones the demo shows on purpose, in minimega's words
      assert.deepEqual(out.match(/^E: .*$/gm), [
        "E: Cannot ping 10.0.1.10 from db:0: connect: Network is unreachable",
        "E: malformed netspec",
        "E: destination tap is already a mirror",
        "E: no network 3, VM only has 1 networks",
      ]);
    });
  }
});
