/**
 * What the real-system tests (`tests/*_real.test.ts`) share: whether they may run here, and a private
 * Open vSwitch started and stopped by scripts/ovs-sandbox.sh. A test file that cannot run skips with the
 * reason, and fails instead when `CI` or `LABWIRE_REQUIRE_REAL=1` is set.
 *
 * Only one ovs-vswitchd per host can use the userspace datapath, so the sandbox script holds a host-wide
 * lock from start to stop: a second test file (or a developer's second run) waits for the first to stop.
 *
 * @module
 */

import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import process from "node:process";
import { nodeRunner, which } from "../../lib/exec.ts";

/** The project's root folder. */
export const ROOT: string = path.join(import.meta.dirname!, "..", "..");

/** Whether missing root or programs fail the tests instead of skipping them. */
export const REQUIRED: boolean = (process.env.CI ?? "") !== "" || process.env.LABWIRE_REQUIRE_REAL === "1";

/** How long starting a sandbox may wait for another one to stop (the lock) and start. */
const START_TIMEOUT_MS = 16 * 60_000;

/**
 * Why real tests needing `programs` cannot run here (not root, a program missing), or `undefined`.
 *
 * @param programs Programs that must be on the PATH.
 */
export function missingFor(programs: readonly string[]): string | undefined {
  if (process.platform !== "linux") return "Linux";
  if (process.getuid?.() !== 0) return "root";
  const absent = programs.filter((p) => which(p) === undefined);
  return absent.length === 0 ? undefined : absent.join(", ");
}

/**
 * The `skip` option of a real test file: `false` when it can run or must (CI), else the reason.
 *
 * @param file The test file's name, for the message.
 * @param programs Programs that must be on the PATH.
 */
export function skipUnless(file: string, programs: readonly string[]): string | false {
  const missing = missingFor(programs);
  if (missing === undefined || REQUIRED) return false;
  const reason = `needs ${missing}; set LABWIRE_REQUIRE_REAL=1 to fail instead`;
  process.stderr.write(`${file} skipped: ${reason}\n`);
  return reason;
}

/** Whether a process with this PID exists (signal 0). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A running private Open vSwitch. */
export interface Sandbox {
  /** Its folder (database, sockets, logs, PID files). */
  readonly dir: string;
  /** The variables that point ovs-vsctl and labwire at it (`OVS_RUNDIR`, ...). */
  readonly env: Record<string, string>;
  /** Stops both daemons by PID and removes the folder. */
  stop(): Promise<void>;
}

/**
 * Starts a private Open vSwitch in a new temp folder (waiting while another sandbox holds the userspace
 * datapath).
 *
 * @param programs Programs the caller needs besides Open vSwitch; their absence fails the start clearly.
 */
export async function startSandbox(programs: readonly string[] = []): Promise<Sandbox> {
  const missing = missingFor(["ovs-vsctl", "ovsdb-server", "ovs-vswitchd", "ip", ...programs]);
  assert.equal(missing, undefined, `required but missing: ${missing}`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "labwire-sb-"));
  const script = path.join(ROOT, "scripts", "ovs-sandbox.sh");
  const r = await nodeRunner.run(["bash", script, "start", dir], { timeoutMs: START_TIMEOUT_MS });
  if (r.code !== 0) {
    fs.rmSync(dir, { recursive: true, force: true });
    assert.fail(`ovs-sandbox.sh start failed (${r.code}): ${r.stderr}`);
  }
  const env: Record<string, string> = {};
  for (const m of r.stdout.matchAll(/^export (\w+)=(.*)$/gm)) env[m[1]!] = m[2]!;
  return {
    dir,
    env,
    async stop() {
      try {
        const s = await nodeRunner.run(["bash", script, "stop", dir], { timeoutMs: 60_000 });
        assert.equal(s.code, 0, s.stderr);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
