/**
 * Which accelerator QEMU gets: KVM only where KVM is proven to work, TCG otherwise, or what the user forces
 * (`--accel kvm|tcg|auto`, or `LABWIRE_ACCEL`).
 *
 * A /dev/kvm that opens is no proof: on some machines it opens, the CPU flags show no `vmx` or `svm`, and a
 * Linux guest under `-accel kvm` hangs after "Probing EDD" while the same kernel boots in 2 s under TCG
 * (recipes/environment.md section 10). So `auto` takes KVM only when all three hold:
 * 1. /dev/kvm opens for reading and writing;
 * 2. the CPU flags in /proc/cpuinfo include `vmx` (Intel VT-x) or `svm` (AMD-V);
 * 3. a probe guest (a 42-byte multiboot kernel that writes to QEMU's `isa-debug-exit` port) runs to its
 *    end under `-accel kvm` within {@linkcode ACCEL_PROBE_TIMEOUT_MS}, and QEMU does not warn that the host
 *    lacks a CPU feature the guest's CPU model needs (`host doesn't support requested feature`).
 *
 * The answer is cached for the process and, per boot of the machine, in a file of the temp folder, so that
 * the probe (about 0.2 s where KVM works) runs once per boot, not once per process.
 *
 * @module
 */

import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import process from "node:process";
import { type Cmd, createExec } from "../exec.ts";

/** An accelerator QEMU runs guests with. */
export type Accel = "kvm" | "tcg";

/** What the user may ask for: an accelerator, or `auto` (KVM where it is proven to work). */
export type AccelChoice = Accel | "auto";

/** The environment variable that forces an accelerator, as `--accel` does. */
export const ACCEL_ENV = "LABWIRE_ACCEL";

/** How long the KVM probe guest may take before KVM counts as broken. */
export const ACCEL_PROBE_TIMEOUT_MS = 10_000;

/** The accelerator chosen, and why, in a sentence a user can act on. */
export interface AccelDecision {
  /** `kvm` or `tcg`. */
  readonly accel: Accel;
  /** Why, e.g. `TCG: /dev/kvm opens but the CPU flags show no vmx or svm`. */
  readonly reason: string;
}

/** What the machine offers, as {@linkcode decideAccel} weighs it. */
export interface AccelFacts {
  /** Whether /dev/kvm opens for reading and writing. */
  readonly devKvmOpens: boolean;
  /** The CPU flags (the `flags` line of /proc/cpuinfo), or `undefined` when they cannot be read. */
  readonly cpuFlags: ReadonlySet<string> | undefined;
  /** Runs the probe guest under KVM; only called when the first two facts allow KVM. */
  readonly probe: () => Promise<ProbeOutcome>;
}

/** How the KVM probe guest ended. */
export type ProbeOutcome =
  | { readonly ok: true; readonly ms: number }
  | { readonly ok: false; readonly why: string };

/**
 * Parses an accelerator choice as typed (`--accel`, `LABWIRE_ACCEL`).
 *
 * @throws {TypeError} `Cannot use accelerator 'x': choose kvm, tcg or auto`.
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseAccelChoice } from "labwire/ovs";
 * assert.equal(parseAccelChoice("TCG"), "tcg");
 * assert.throws(() => parseAccelChoice("xen"), TypeError);
 * ```
 */
export function parseAccelChoice(text: string): AccelChoice {
  const choice = text.trim().toLowerCase();
  if (choice === "kvm" || choice === "tcg" || choice === "auto") return choice;
  throw new TypeError(`Cannot use accelerator '${text}': choose kvm, tcg or auto`);
}

/**
 * Decides between KVM and TCG from the machine's facts (see the module doc): the rule alone, without
 * reading anything, so that it can be tested for machines without /dev/kvm, with a broken one and with a
 * working one.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { decideAccel } from "labwire/ovs";
 * const broken = await decideAccel({
 *   devKvmOpens: true,
 *   cpuFlags: new Set(["sse2", "avx"]),
 *   probe: () => Promise.reject(new Error("not reached")),
 * });
 * assert.equal(broken.accel, "tcg");
 * ```
 */
export async function decideAccel(facts: AccelFacts): Promise<AccelDecision> {
  if (!facts.devKvmOpens) return { accel: "tcg", reason: "TCG: /dev/kvm is missing or cannot be opened" };
  if (facts.cpuFlags === undefined) {
    return {
      accel: "tcg",
      reason: "TCG: /dev/kvm opens but the CPU flags cannot be read from /proc/cpuinfo",
    };
  }
  if (!facts.cpuFlags.has("vmx") && !facts.cpuFlags.has("svm")) {
    return {
      accel: "tcg",
      reason: "TCG: /dev/kvm opens but the CPU flags show no vmx or svm (guests hang under such a KVM)",
    };
  }
  const outcome = await facts.probe();
  if (!outcome.ok) return { accel: "tcg", reason: `TCG: the KVM probe guest failed: ${outcome.why}` };
  return { accel: "kvm", reason: `KVM: /dev/kvm works and the probe guest ran in ${outcome.ms} ms` };
}

/**
 * The probe guest: a multiboot kernel (flat binary, loaded at 1 MiB) whose code writes 0x10 to I/O port
 * 0xf4, QEMU's `isa-debug-exit`, so QEMU exits with status (0x10 << 1) | 1 = 33; then it halts.
 */
const PROBE_KERNEL = new Uint8Array([
  // multiboot header: magic, flags (bit 16: the address fields below are valid), checksum
  0x02,
  0xb0,
  0xad,
  0x1b,
  0x00,
  0x00,
  0x01,
  0x00,
  0xfe,
  0x4f,
  0x51,
  0xe4,
  // header_addr, load_addr, load_end_addr (0: the whole file), bss_end_addr, entry_addr (0x100020)
  0x00,
  0x00,
  0x10,
  0x00,
  0x00,
  0x00,
  0x10,
  0x00,
  0x00,
  0x00,
  0x00,
  0x00,
  0x00,
  0x00,
  0x00,
  0x00,
  0x20,
  0x00,
  0x10,
  0x00,
  // mov dx, 0xf4; mov al, 0x10; out dx, al; hlt; jmp $-1
  0x66,
  0xba,
  0xf4,
  0x00,
  0xb0,
  0x10,
  0xee,
  0xf4,
  0xeb,
  0xfd,
]);
/** QEMU's exit status when the probe guest ran to its end. */
const PROBE_EXIT = 33;

/** Options for {@linkcode chooseAccel}. */
export interface ChooseAccelOptions {
  /** What the user asked for. @default {the LABWIRE_ACCEL variable, else "auto"} */
  choice?: AccelChoice;
  /** The QEMU that runs the probe. @default {"qemu-system-x86_64"} */
  qemu?: string;
  /** Runs the probe. @default {createExec()} */
  exec?: (program: string) => Cmd;
  /** The folder of the per-boot cache file; `null` for no file. @default {os.tmpdir()} */
  cacheDir?: string | null;
}

let memo: Promise<AccelDecision> | undefined;

/**
 * The accelerator for QEMU on this machine: the user's choice when forced, else KVM where it is proven to
 * work (see the module doc), cached for the process and for the boot.
 *
 * @throws {TypeError} When `LABWIRE_ACCEL` holds something other than kvm, tcg or auto.
 */
export function chooseAccel(options: ChooseAccelOptions = {}): Promise<AccelDecision> {
  const envChoice = process.env[ACCEL_ENV];
  const choice = options.choice ?? (envChoice ? parseAccelChoice(envChoice) : "auto");
  if (choice !== "auto") {
    return Promise.resolve({ accel: choice, reason: `${choice.toUpperCase()}: forced` });
  }
  const custom = options.qemu !== undefined || options.exec !== undefined || options.cacheDir !== undefined;
  if (custom) return detect(options);
  return memo ??= detect(options);
}

async function detect(options: ChooseAccelOptions): Promise<AccelDecision> {
  const { qemu = "qemu-system-x86_64", exec = createExec(), cacheDir = os.tmpdir() } = options;
  const bootId = readText("/proc/sys/kernel/random/boot_id")?.trim();
  const cacheFile = cacheDir === null || bootId === undefined
    ? undefined
    : path.join(cacheDir, "labwire-accel.json");
  const cached = cacheFile === undefined ? undefined : readCache(cacheFile, bootId!, qemu);
  if (cached !== undefined) return cached;
  const decision = await decideAccel({
    devKvmOpens: devKvmOpens(),
    cpuFlags: cpuFlags(),
    probe: () => probe("kvm", qemu, exec),
  });
  if (cacheFile !== undefined) {
    try {
      fs.writeFileSync(cacheFile, JSON.stringify({ bootId, qemu, ...decision }));
    } catch {
      // a read-only temp folder only costs a probe per process
    }
  }
  return decision;
}

function readText(file: string): string | undefined {
  try {
    return fs.readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
}

function readCache(file: string, bootId: string, qemu: string): AccelDecision | undefined {
  try {
    const raw = JSON.parse(fs.readFileSync(file, "utf8")) as Record<string, unknown>;
    if (raw.bootId !== bootId || raw.qemu !== qemu) return undefined;
    if ((raw.accel !== "kvm" && raw.accel !== "tcg") || typeof raw.reason !== "string") return undefined;
    return { accel: raw.accel, reason: raw.reason };
  } catch {
    return undefined;
  }
}

function devKvmOpens(): boolean {
  try {
    fs.closeSync(fs.openSync("/dev/kvm", "r+"));
    return true;
  } catch {
    return false;
  }
}

/** The flags of the first CPU in /proc/cpuinfo. */
function cpuFlags(): Set<string> | undefined {
  const info = readText("/proc/cpuinfo");
  const line = info?.split("\n").find((l) => /^flags\s*:/.test(l));
  return line === undefined ? undefined : new Set(line.slice(line.indexOf(":") + 1).trim().split(/\s+/));
}

/** Options for {@linkcode runAccelProbe}. */
export interface RunAccelProbeOptions {
  /** The QEMU to run. @default {"qemu-system-x86_64"} */
  qemu?: string;
  /** Runs QEMU. @default {createExec()} */
  exec?: (program: string) => Cmd;
}

/**
 * Boots the probe guest (a 42-byte multiboot kernel that makes QEMU exit with status 33) under an
 * accelerator, bounded by {@linkcode ACCEL_PROBE_TIMEOUT_MS}: how {@linkcode chooseAccel} proves KVM.
 *
 * @returns `ok` with the time it took, or why it failed (a timeout, QEMU's warning, its exit status).
 */
export function runAccelProbe(accel: Accel, options: RunAccelProbeOptions = {}): Promise<ProbeOutcome> {
  return probe(accel, options.qemu ?? "qemu-system-x86_64", options.exec ?? createExec());
}

async function probe(accel: Accel, qemu: string, exec: (program: string) => Cmd): Promise<ProbeOutcome> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "labwire-accel-"));
  try {
    const kernel = path.join(dir, "probe.bin");
    fs.writeFileSync(kernel, PROBE_KERNEL);
    const started = Date.now();
    const r = await exec(qemu).args(
      "-accel",
      accel,
      "-nodefaults",
      "-no-user-config",
      "-display",
      "none",
      "-m",
      "16",
      "-device",
      "isa-debug-exit,iobase=0xf4,iosize=0x04",
      "-kernel",
      kernel,
    ).timeout(ACCEL_PROBE_TIMEOUT_MS).killSignal("SIGKILL").noThrow().run();
    const ms = Date.now() - started;
    if (r.timedOut) return { ok: false, why: `it did not end within ${ACCEL_PROBE_TIMEOUT_MS} ms` };
    const warning = /host doesn't support requested feature[^\n]*/.exec(r.stderr);
    if (warning !== null) return { ok: false, why: `QEMU warned "${warning[0]}"` };
    if (r.code !== PROBE_EXIT) {
      const tail = r.stderr.trim().split("\n").pop() ?? "";
      return { ok: false, why: `QEMU exited with ${r.code}${tail === "" ? "" : `: ${tail}`}` };
    }
    return { ok: true, ms };
  } catch (error) {
    return { ok: false, why: error instanceof Error ? error.message : String(error) };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
