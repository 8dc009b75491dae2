/**
 * A lab in a state file, read: lines that only read the lab run without the file's lock (beside a holder
 * of the lock, on a read-only file system) and without building the lab in its backend; a line that
 * changes the lab runs again under the lock, once; fields of the file this labwire does not know are
 * kept when it writes.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { Lab } from "../lib/api/lab.ts";
import type { Backend } from "../lib/backend/backend.ts";
import { createExec, nodeRunner } from "../lib/exec.ts";
import { SimBackend } from "../sim/backend.ts";

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), "labwire-reads-"));
  try {
    await fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A simulator that counts the calls made to it. */
function countingSim(): { backend: Backend; calls: string[] } {
  const calls: string[] = [];
  const sim = new SimBackend();
  const backend = new Proxy(sim, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof value !== "function" || typeof prop !== "string") return value;
      return (...args: unknown[]) => {
        calls.push(prop);
        return value.apply(target, args);
      };
    },
  }) as Backend;
  return { backend, calls };
}

const runtimeArgs = process.versions.deno !== undefined ? ["run", "-A", "--no-prompt"] : [];
const holderScript = fileURLToPath(new URL("./_fixtures/state_holder.ts", import.meta.url));

describe("a lab in a state file, read", () => {
  test("a line that reads or changes only records builds nothing in the backend; one that needs it builds it once", async () => {
    await withTempDir(async (dir) => {
      const state = path.join(dir, "lab.json");
      {
        await using lab = await Lab.open({ state, seed: 1 });
        await lab.run("vm config net DMZ CORE");
        await lab.run("vm launch container web[1-50]");
      }
      const { backend, calls } = countingSim();
      await using lab = await Lab.open({ state, backend });
      for (
        const line of ["vlans", "vm info", ".columns name,vlan vm info", "tap", "bridge", "capture", "help"]
      ) {
        const { errors } = await lab.execute(line);
        assert.deepEqual(errors, [], line);
      }
      assert.deepEqual((await lab.namespace().vm("web7").info()).name, "web7");
      assert.equal((await lab.namespace().vlans.list()).length, 2);
      assert.deepEqual(calls, [], "reads built the lab");
      // a change of records alone builds nothing either; it is in the file for the next process
      assert.deepEqual((await lab.execute("vlans add EXTRA 300")).errors, []);
      assert.deepEqual(calls, [], "a change of records built the lab");
      assert.match(readFileSync(state, "utf8"), /EXTRA/);
      // a change that needs the network builds the lab, once
      assert.deepEqual((await lab.execute("vm launch container db")).errors, []);
      const built = calls.filter((c) => c === "addPorts").length;
      assert.ok(built > 0, "the launch did not build the lab");
      assert.deepEqual((await lab.execute("vm launch container db2")).errors, []);
      assert.equal(calls.filter((c) => c === "addPorts").length, built + 1, "the lab was built again");
    });
  });

  test("a line that changes the lab warns once, and fails once", async () => {
    await withTempDir(async (dir) => {
      const state = path.join(dir, "lab.json");
      const warnings: string[] = [];
      const errors: Error[] = [];
      await using lab = await Lab.open({
        state,
        onWarning: (w) => warnings.push(w),
        onError: (e) => errors.push(e),
      });
      assert.deepEqual((await lab.execute("vm config net 7")).errors, []);
      assert.deepEqual(warnings, ["Blacklisting manually specified VLAN 7"]);
      assert.equal((await lab.execute("vm launch container web")).errors.length, 0);
      assert.notEqual((await lab.execute("vm launch container web")).errors.length, 0);
      assert.ok(errors.length <= 1, `onError called ${errors.length} times for one line`);
    });
  });

  test("read-only lines run while another process holds the file's lock", {
    skip: process.versions.deno === undefined && process.versions.bun === undefined
      ? "needs Deno or Bun"
      : false,
    timeout: 60_000,
  }, async () => {
    await withTempDir(async (dir) => {
      const state = path.join(dir, "lab.json");
      {
        await using lab = await Lab.open({ state });
        await lab.run("vlans add DMZ 200");
      }
      const marker = path.join(dir, "locked");
      const controller = new AbortController();
      const holder = createExec()(process.execPath).args(...runtimeArgs, holderScript, state, marker)
        .signal(controller.signal).killSignal("SIGKILL").noThrow().run();
      try {
        for (let waited = 0; !existsSync(marker); waited += 10) {
          if (waited > 20_000) assert.fail("the holder never took the lock");
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
        const start = performance.now();
        await using lab = await Lab.open({ state });
        assert.equal((await lab.run("vlans")).text, "alias | vlan\nDMZ   | 200");
        assert.deepEqual((await lab.namespace().vlans.list()).map((v) => v.vlan), [200]);
        assert.ok(performance.now() - start < 5000, "the reads waited for the lock");
      } finally {
        controller.abort();
        await holder;
      }
    });
  });

  test("a lab on a read-only file system can be listed", {
    skip: process.platform !== "linux" || process.getuid?.() !== 0
      ? "needs root, to mount a read-only tmpfs"
      : false,
  }, async () => {
    await withTempDir(async (dir) => {
      const mount = path.join(dir, "ro");
      const run = (...argv: string[]) => nodeRunner.run(argv, { timeoutMs: 10_000 });
      await run("mkdir", mount);
      const mounted = await run("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", mount);
      if (mounted.code !== 0) return assert.fail(`mount failed: ${mounted.stderr}`);
      try {
        const state = path.join(mount, "lab.json");
        {
          await using lab = await Lab.open({ state });
          await lab.run("vm config net DMZ");
          await lab.run("vm launch container web");
        }
        assert.equal((await run("mount", "-o", "remount,ro", mount)).code, 0);
        const before = readFileSync(state, "utf8");
        await using lab = await Lab.open({ state });
        assert.equal((await lab.run(".columns name,vlan vm info")).text, "name | vlan\nweb  | [DMZ (101)]");
        await assert.rejects(lab.run("vlans add CORE 300"), { code: "state-failed" });
        assert.equal(readFileSync(state, "utf8"), before);
      } finally {
        await run("umount", mount);
      }
    });
  });

  test("fields of the file this labwire does not know are kept when it writes", async () => {
    await withTempDir(async (dir) => {
      const state = path.join(dir, "lab.json");
      {
        await using lab = await Lab.open({ state });
        await lab.run("vlans add DMZ 200");
      }
      const doc = JSON.parse(readFileSync(state, "utf8"));
      doc.tunnels = [{ name: "t1", from: "a newer labwire" }];
      doc.zzz = 1;
      writeFileSync(state, JSON.stringify(doc));
      {
        await using lab = await Lab.open({ state });
        await lab.run("vlans add CORE 300");
        await lab.run("vm launch container web");
      }
      const after = JSON.parse(readFileSync(state, "utf8"));
      assert.deepEqual(after.tunnels, [{ name: "t1", from: "a newer labwire" }]);
      assert.equal(after.zzz, 1);
      assert.match(JSON.stringify(after.vlans), /CORE/);
      assert.equal(after.vms.length, 1);
    });
  });
});
