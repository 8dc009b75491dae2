import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import process from "node:process";
import {
  ACCEL_ENV,
  chooseAccel,
  decideAccel,
  parseAccelChoice,
  type ProbeOutcome,
  runAccelProbe,
} from "../lib/real/accel.ts";
import { createExec, FakeRunner, which } from "../lib/exec.ts";

const WITH_VMX = new Set(["fpu", "sse2", "vmx", "pni"]);
const WITHOUT = new Set(["fpu", "sse2", "pni"]);
const unreached = (): Promise<ProbeOutcome> => Promise.reject(new Error("the probe must not run"));

describe("decideAccel()", () => {
  test("takes TCG on a machine without /dev/kvm", async () => {
    const d = await decideAccel({ devKvmOpens: false, cpuFlags: WITH_VMX, probe: unreached });
    assert.deepEqual(d, { accel: "tcg", reason: "TCG: /dev/kvm is missing or cannot be opened" });
  });
  test("takes TCG when /dev/kvm opens but the CPU shows neither vmx nor svm (a broken KVM)", async () => {
    const d = await decideAccel({ devKvmOpens: true, cpuFlags: WITHOUT, probe: unreached });
    assert.equal(d.accel, "tcg");
    assert.match(d.reason, /no vmx or svm/);
  });
  test("takes TCG when the CPU flags cannot be read", async () => {
    const d = await decideAccel({ devKvmOpens: true, cpuFlags: undefined, probe: unreached });
    assert.equal(d.accel, "tcg");
  });
  test("takes TCG when the probe guest fails under KVM", async () => {
    const d = await decideAccel({
      devKvmOpens: true,
      cpuFlags: new Set(["svm"]),
      probe: () => Promise.resolve({ ok: false, why: "it did not end within 10000 ms" }),
    });
    assert.deepEqual(d, {
      accel: "tcg",
      reason: "TCG: the KVM probe guest failed: it did not end within 10000 ms",
    });
  });
  test("takes KVM on a working machine", async () => {
    const d = await decideAccel({
      devKvmOpens: true,
      cpuFlags: WITH_VMX,
      probe: () => Promise.resolve({ ok: true, ms: 180 }),
    });
    assert.deepEqual(d, { accel: "kvm", reason: "KVM: /dev/kvm works and the probe guest ran in 180 ms" });
  });
});

describe("parseAccelChoice()", () => {
  test("reads kvm, tcg and auto in any case", () => {
    assert.equal(parseAccelChoice("kvm"), "kvm");
    assert.equal(parseAccelChoice(" TCG "), "tcg");
    assert.equal(parseAccelChoice("Auto"), "auto");
  });
  test("refuses anything else in one sentence", () => {
    assert.throws(() => parseAccelChoice("xen"), {
      name: "TypeError",
      message: "Cannot use accelerator 'xen': choose kvm, tcg or auto",
    });
  });
});

describe("chooseAccel()", () => {
  test("a forced choice is taken as it is, without looking at the machine", async () => {
    assert.deepEqual(await chooseAccel({ choice: "kvm" }), { accel: "kvm", reason: "KVM: forced" });
    assert.deepEqual(await chooseAccel({ choice: "tcg" }), { accel: "tcg", reason: "TCG: forced" });
  });
  test(`${ACCEL_ENV} forces a choice, and a wrong value is one sentence`, async () => {
    const before = process.env[ACCEL_ENV];
    try {
      process.env[ACCEL_ENV] = "tcg";
      assert.equal((await chooseAccel()).accel, "tcg");
      process.env[ACCEL_ENV] = "bogus";
      assert.throws(() => chooseAccel(), {
        message: "Cannot use accelerator 'bogus': choose kvm, tcg or auto",
      });
    } finally {
      if (before === undefined) delete process.env[ACCEL_ENV];
      else process.env[ACCEL_ENV] = before;
    }
  });
  test("auto on this machine agrees with its /dev/kvm and CPU flags, and caches per boot", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "labwire-accel-test-"));
    try {
      // a fake QEMU: the probe exits as the guest does where KVM works
      const runner = new FakeRunner().on("qemu-fake", () => ({ code: 33 }));
      const exec = createExec({ runner });
      const first = await chooseAccel({ choice: "auto", qemu: "qemu-fake", exec, cacheDir: dir });
      let opens = true;
      try {
        fs.closeSync(fs.openSync("/dev/kvm", "r+"));
      } catch {
        opens = false;
      }
      const flags = /^flags\s*:.*\b(vmx|svm)\b/m.test(fs.readFileSync("/proc/cpuinfo", "utf8"));
      assert.equal(first.accel, opens && flags ? "kvm" : "tcg", first.reason);
      assert.equal(runner.calls.length, opens && flags ? 1 : 0, "the probe runs only where KVM may work");
      // the second answer comes from the cache file, without a probe
      const again = await chooseAccel({ choice: "auto", qemu: "qemu-fake", exec, cacheDir: dir });
      assert.deepEqual(again, first);
      assert.equal(runner.calls.length, opens && flags ? 1 : 0);
      assert.ok(fs.existsSync(path.join(dir, "labwire-accel.json")));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("runAccelProbe()", () => {
  const qemu = which("qemu-system-x86_64");
  test(
    "the probe guest runs to its end under TCG",
    { skip: qemu === undefined ? "needs QEMU" : false },
    async () => {
      const outcome = await runAccelProbe("tcg");
      assert.equal(outcome.ok, true, outcome.ok ? "" : outcome.why);
    },
  );
  test("a QEMU that warns of a missing CPU feature fails the probe", async () => {
    const runner = new FakeRunner().on("qemu-fake", () => ({
      code: 33,
      stderr:
        "qemu-system-x86_64: warning: host doesn't support requested feature: CPUID.01H:ECX.pni [bit 0]\n",
    }));
    const outcome = await runAccelProbe("kvm", { qemu: "qemu-fake", exec: createExec({ runner }) });
    assert.deepEqual(outcome, {
      ok: false,
      why: `QEMU warned "host doesn't support requested feature: CPUID.01H:ECX.pni [bit 0]"`,
    });
  });
  test("a QEMU that does not end in time fails the probe", async () => {
    const runner = new FakeRunner().on("qemu-fake", () => ({ code: 124, timedOut: true }));
    const outcome = await runAccelProbe("kvm", { qemu: "qemu-fake", exec: createExec({ runner }) });
    assert.deepEqual(outcome, { ok: false, why: "it did not end within 10000 ms" });
  });
});
