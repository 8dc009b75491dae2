/**
 * What the real-system tests (`tests/*_real.test.ts`) share: whether they may run here, and a private
 * Open vSwitch started and stopped by scripts/ovs-sandbox.sh. A test file that cannot run skips with the
 * reason, and fails instead when `CI` or `LABWIRE_REQUIRE_REAL=1` is set.
 *
 * Only one ovs-vswitchd per network namespace can use the userspace datapath, so each sandbox runs in a
 * network namespace of its own (`lwt-<pid>-<random>`, made by the sandbox script and deleted by its stop),
 * and the tests' labs use it as their OVS namespace (the ovs backend's `ovsNetns`, the CLI's
 * `LABWIRE_OVS_NETNS`): test files run side by side, and an Open vSwitch left running on the host does not
 * disturb them. What a test runs itself on the lab's host side (ip, tcpdump, ping) goes through
 * {@linkcode Sandbox.exec}, in the namespace. A sandbox on the host (`{ netns: false }`) takes the script's
 * host-wide lock instead, waiting while another one on the host runs.
 *
 * @module
 */

import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import process from "node:process";
import { randomBytes } from "node:crypto";
import { type Cmd, createExec, execInNetns, nodeRunner, which } from "../../lib/exec.ts";

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
  /**
   * The variables that point ovs-vsctl and labwire at it (`OVS_RUNDIR`, ..., and `LABWIRE_OVS_NETNS` when it
   * runs in a namespace of its own): pass them as the ovs backend's `env`, or to the CLI.
   */
  readonly env: Record<string, string>;
  /** The network namespace its ovs-vswitchd runs in, or `undefined` for the host's. */
  readonly netns: string | undefined;
  /** Makes commands that run in {@linkcode Sandbox.netns} (where the lab's bridges and taps are). */
  readonly exec: (program: string) => Cmd;
  /** Stops both daemons by PID, deletes the namespace and removes the folder. */
  stop(): Promise<void>;
}

/** How to start a sandbox. */
export interface SandboxOptions {
  /** Run it in a new network namespace of its own (`true`), or in the host's (`false`). @default {true} */
  netns?: boolean;
}

/** A network namespace name of this process that no other test file picks: `lwt-<pid>-<random>`. */
export function testNetnsName(): string {
  return `lwt-${process.pid}-${randomBytes(3).toString("hex")}`;
}

/**
 * Starts a private Open vSwitch in a new temp folder, in a new network namespace of its own (or on the
 * host, waiting while another host sandbox holds the userspace datapath).
 *
 * @param programs Programs the caller needs besides Open vSwitch; their absence fails the start clearly.
 * @param options Where it runs.
 */
export async function startSandbox(
  programs: readonly string[] = [],
  options: SandboxOptions = {},
): Promise<Sandbox> {
  const missing = missingFor(["ovs-vsctl", "ovsdb-server", "ovs-vswitchd", "ip", "nsenter", ...programs]);
  assert.equal(missing, undefined, `required but missing: ${missing}`);
  const netns = options.netns ?? true ? testNetnsName() : undefined;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "labwire-sb-"));
  const script = path.join(ROOT, "scripts", "ovs-sandbox.sh");
  const r = await nodeRunner.run([
    "bash",
    script,
    "start",
    dir,
    ...(netns === undefined ? [] : ["--netns", netns]),
  ], {
    timeoutMs: START_TIMEOUT_MS,
    env: { LABWIRE_OVS_NETNS: "" },
  });
  if (r.code !== 0) {
    fs.rmSync(dir, { recursive: true, force: true });
    assert.fail(`ovs-sandbox.sh start failed (${r.code}): ${r.stderr}`);
  }
  const env: Record<string, string> = {};
  for (const m of r.stdout.matchAll(/^export (\w+)=(.*)$/gm)) env[m[1]!] = m[2]!;
  return {
    dir,
    env,
    netns,
    exec: execInNetns(createExec(), netns),
    async stop() {
      try {
        if (netns !== undefined) await sweepNetns(netns, dir);
        const s = await nodeRunner.run(["bash", script, "stop", dir], { timeoutMs: 60_000 });
        assert.equal(s.code, 0, s.stderr);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

/**
 * What a test left in a sandbox's namespace when it failed or timed out part way (a CLI stopped at a test's
 * timeout leaves its lab): the processes in the namespace or in one named after it (`<netns>-...`, the
 * lab's container namespaces), but the sandbox's own daemons, stopped by PID (SIGTERM, then SIGKILL after
 * 2 s), and those namespaces deleted. Nothing outside this sandbox is touched.
 */
async function sweepNetns(netns: string, dir: string): Promise<void> {
  const namespaces = fs.existsSync("/run/netns")
    ? fs.readdirSync("/run/netns").filter((n) => n === netns || n.startsWith(`${netns}-`))
    : [];
  const inodes = new Set(namespaces.flatMap((n) => {
    try {
      return [fs.statSync(path.join("/run/netns", n)).ino];
    } catch {
      return [];
    }
  }));
  const daemons = new Set(
    fs.readdirSync(dir).filter((f) => f.endsWith(".pid")).map((f) => {
      try {
        return Number(fs.readFileSync(path.join(dir, f), "utf8").trim());
      } catch {
        return 0;
      }
    }),
  );
  const left = fs.readdirSync("/proc").filter((e) => /^\d+$/.test(e)).map(Number).filter((pid) => {
    if (pid === process.pid || daemons.has(pid)) return false;
    try {
      return inodes.has(fs.statSync(`/proc/${pid}/ns/net`).ino);
    } catch {
      return false;
    }
  });
  for (const pid of left) {
    try {
      process.kill(pid, "SIGTERM");
    } catch {
      // gone already
    }
  }
  for (let waited = 0; left.some(isAlive) && waited < 2000; waited += 50) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  for (const pid of left.filter(isAlive)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // gone already
    }
  }
  for (const n of namespaces.filter((n) => n !== netns)) {
    await nodeRunner.run(["ip", "netns", "del", n], { timeoutMs: 10_000 });
  }
}
