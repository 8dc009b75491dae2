import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import process from "node:process";
import { ByteRing } from "../lib/_ring.ts";
import {
  Cmd,
  createExec,
  ExecError,
  FakeRunner,
  formatArgv,
  nodeRunner,
  type RunOptions,
  STDERR_TAIL_BYTES,
  which,
} from "../lib/exec.ts";

const MISSING = "labwire-no-such-program";

async function withTempDir(fn: (dir: string) => void | Promise<void>): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), "labwire-exec-"));
  try {
    await fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function errorOf(fn: () => unknown): Promise<ExecError> {
  return Promise.resolve().then(fn).then(
    () => assert.fail("expected an ExecError"),
    (error: unknown) => {
      assert.ok(error instanceof ExecError, `expected an ExecError, got ${error}`);
      return error;
    },
  );
}

describe("nodeRunner", () => {
  test("run() reports code 0 for `true` and 1 for `false`", async () => {
    assert.deepEqual(await nodeRunner.run(["true"], { timeoutMs: 60_000 }), {
      code: 0,
      stdout: "",
      stderr: "",
    });
    assert.equal((await nodeRunner.run(["false"], { timeoutMs: 60_000 })).code, 1);
  });

  test("run() collects stdout and stderr separately with the exit code", async () => {
    const result = await nodeRunner.run(["sh", "-c", "echo out; echo err >&2; exit 3"], {
      timeoutMs: 60_000,
    });
    assert.deepEqual(result, { code: 3, stdout: "out\n", stderr: "err\n" });
  });

  test("run() pipes stdin and otherwise gives the program an empty one", async () => {
    const piped = await nodeRunner.run(["cat"], { timeoutMs: 60_000, stdin: "hello\nworld\n" });
    assert.equal(piped.stdout, "hello\nworld\n");
    const empty = await nodeRunner.run(["cat"], { timeoutMs: 60_000 });
    assert.deepEqual(empty, { code: 0, stdout: "", stderr: "" });
  });

  test("run() survives a program that ignores a large stdin", async () => {
    const result = await nodeRunner.run(["true"], { timeoutMs: 60_000, stdin: "x".repeat(1 << 20) });
    assert.equal(result.code, 0);
  });

  test("run() adds env to the parent's environment", async () => {
    const result = await nodeRunner.run(["sh", "-c", 'echo "$LABWIRE_TEST_VAR"; command -v cat >/dev/null'], {
      timeoutMs: 60_000,
      env: { LABWIRE_TEST_VAR: "a b" },
    });
    assert.deepEqual(result, { code: 0, stdout: "a b\n", stderr: "" });
  });

  test("run() passes arguments verbatim, without a shell", async () => {
    const args = ["$HOME", "a b", "'q'", "*", ""];
    const result = await nodeRunner.run(["printf", "[%s]", ...args], { timeoutMs: 60_000 });
    assert.equal(result.stdout, "[$HOME][a b]['q'][*][]");
  });

  test("run() stops a program at its timeout and reports timedOut", async () => {
    const start = performance.now();
    const result = await nodeRunner.run(["sleep", "30"], { timeoutMs: 200 });
    const elapsed = performance.now() - start;
    // bounds loose enough for a loaded CI machine, far from the 30 s the program would take
    assert.ok(elapsed >= 150 && elapsed < 15_000, `returned after ${elapsed} ms`);
    assert.equal(result.timedOut, true);
    assert.equal(result.code, 124);
    assert.equal(result.signal, "SIGTERM");
  });

  test("run() does not wait forever for a pipe a grandchild keeps open", async () => {
    const start = performance.now();
    const result = await nodeRunner.run(["sh", "-c", "sleep 30 & echo $!"], { timeoutMs: 300 });
    const elapsed = performance.now() - start;
    process.kill(Number(result.stdout.trim())); // the grandchild, by its PID
    assert.ok(elapsed < 15_000, `returned after ${elapsed} ms`);
    assert.match(result.stdout, /^\d+\n$/);
    assert.equal(result.timedOut, true);
  });

  test("run() stops a program with killSignal when the signal aborts", async () => {
    const controller = new AbortController();
    const script = `trap 'echo got INT; exit 0' INT; echo ready; while :; do sleep 0.05; done`;
    const running = nodeRunner.run(["sh", "-c", script], {
      timeoutMs: 10_000,
      signal: controller.signal,
      killSignal: "SIGINT",
    });
    setTimeout(() => controller.abort(), 300);
    const result = await running;
    assert.deepEqual(result, { code: 0, stdout: "ready\ngot INT\n", stderr: "", aborted: true });
  });

  test("run() does not start a program when the signal is already aborted", async () => {
    const result = await nodeRunner.run(["sleep", "5"], { timeoutMs: 10_000, signal: AbortSignal.abort() });
    assert.deepEqual(result, { code: 124, stdout: "", stderr: "", aborted: true });
  });

  test("run() reports a signal that killed the program as 128 + n", async () => {
    const result = await nodeRunner.run(["sh", "-c", "kill -KILL $$"], { timeoutMs: 60_000 });
    assert.deepEqual(result, { code: 137, stdout: "", stderr: "", signal: "SIGKILL" });
  });

  test("run() rejects a missing program with notFound and code 127", async () => {
    const error = await errorOf(() => nodeRunner.run([MISSING, "-device", "?"], { timeoutMs: 60_000 }));
    assert.equal(error.message, `Cannot run "${MISSING} -device ?": program not found`);
    assert.equal(error.notFound, true);
    assert.equal(error.code, 127);
    assert.equal(error.errno, "ENOENT");
    assert.deepEqual(error.argv, [MISSING, "-device", "?"]);
  });

  test("run() rejects a file that is not executable with code 126", async () => {
    await withTempDir(async (dir) => {
      const file = path.join(dir, "script");
      writeFileSync(file, "#!/bin/sh\necho hi\n");
      chmodSync(file, 0o644);
      const error = await errorOf(() => nodeRunner.run([file], { timeoutMs: 60_000 }));
      assert.equal(error.message, `Cannot run "${file}": permission denied`);
      assert.deepEqual([error.code, error.notFound, error.errno], [126, false, "EACCES"]);
    });
  });

  test("run() keeps stdout whole and stderr as a bounded tail", async () => {
    const script =
      `head -c 1048576 /dev/zero | tr '\\0' x >&2; echo end >&2; head -c 3000000 /dev/zero | tr '\\0' y`;
    const result = await nodeRunner.run(["sh", "-c", script], { timeoutMs: 10_000 });
    assert.equal(result.code, 0);
    assert.equal(result.stdout.length, 3_000_000);
    assert.ok(result.stderr.length <= STDERR_TAIL_BYTES, `stderr has ${result.stderr.length} bytes`);
    assert.equal(result.stderr.length, STDERR_TAIL_BYTES);
    assert.ok(result.stderr.endsWith("xxxend\n"));
  });

  test("run() fails a program that prints more than maxStdoutBytes", async () => {
    // the program would run for 30 s: it must be stopped when it passes the cap, not waited for
    const argv = ["sh", "-c", "head -c 100000 /dev/zero; sleep 30"];
    const start = performance.now();
    const error = await errorOf(() => nodeRunner.run(argv, { timeoutMs: 60_000, maxStdoutBytes: 1000 }));
    assert.ok(performance.now() - start < 15_000, "stopped long before the program would end");
    assert.equal(
      error.message,
      `Cannot run "sh -c 'head -c 100000 /dev/zero; sleep 30'": printed more than 1000 bytes`,
    );
  });

  test("run() rejects an empty argv with a TypeError", async () => {
    await assert.rejects(nodeRunner.run([], { timeoutMs: 60_000 }), {
      name: "TypeError",
      message: "Cannot run command as argv is empty",
    });
  });
});

describe("ExecError", () => {
  test("message names the command, then a blank line and the stderr tail", () => {
    const error = new ExecError({
      argv: ["ovs-vsctl", "--timeout=5", "add-br", "lab0"],
      code: 1,
      stderr: "ovs-vsctl: cannot create a bridge named lab0 because a bridge named lab0 already exists\n",
    });
    assert.equal(
      error.message,
      `Cannot run "ovs-vsctl --timeout=5 add-br lab0": exited with code 1\n\n` +
        "ovs-vsctl: cannot create a bridge named lab0 because a bridge named lab0 already exists",
    );
    assert.equal(error.name, "ExecError");
    assert.ok(error instanceof Error);
  });

  test("message for a timeout gives the milliseconds", () => {
    const error = new ExecError({
      argv: ["tcpdump", "-U", "-w", "a.pcap"],
      code: 124,
      timedOut: true,
      timeoutMs: 5000,
    });
    assert.equal(error.message, `Cannot run "tcpdump -U -w a.pcap": timed out after 5000 ms`);
  });

  test("message quotes arguments with blanks or quotes and falls back to stdout", () => {
    const error = new ExecError({ argv: ["tcpdump", "vlan 100", "it's", ""], code: 2, stdout: "usage\n" });
    assert.equal(error.message, `Cannot run "tcpdump 'vlan 100' 'it'\\''s' ''": exited with code 2\n\nusage`);
  });

  test("message shows a long command's first 16 arguments and counts the rest; argv keeps them all", () => {
    const argv = [
      "sysctl",
      "-q",
      "-w",
      ...Array.from({ length: 200 }, (_, i) => `net/ipv4/conf/t${i}/arp_ignore=8`),
    ];
    const error = new ExecError({ argv, code: 255, stderr: "sysctl: permission denied" });
    const shown = ["sysctl", "-q", "-w", ...argv.slice(3, 16)].join(" ");
    assert.equal(
      error.message,
      `Cannot run "${shown} ... (187 more arguments)": exited with code 255\n\nsysctl: permission denied`,
    );
    assert.deepEqual(error.argv, argv);
    // 16 arguments in all are shown whole
    assert.equal(
      new ExecError({ argv: argv.slice(0, 16), code: 1 }).message,
      `Cannot run "${shown}": exited with code 1`,
    );
  });

  test("message shows only the last 20 lines of stderr", () => {
    const stderr = Array.from({ length: 30 }, (_, i) => `line ${i}`).join("\n");
    const error = new ExecError({ argv: ["x"], code: 1, stderr });
    assert.equal(error.message.split("\n\n")[1]!.split("\n").length, 21);
    assert.ok(
      error.message.endsWith(
        "...\nline 10\nline 11\nline 12\nline 13\nline 14\nline 15\nline 16\nline 17" +
          "\nline 18\nline 19\nline 20\nline 21\nline 22\nline 23\nline 24\nline 25\nline 26\nline 27\nline 28\nline 29",
      ),
    );
    assert.equal(error.stderr, stderr);
  });

  test("message for a signal names it", () => {
    const error = new ExecError({ argv: ["qemu"], code: 139, signal: "SIGSEGV" });
    assert.equal(error.message, `Cannot run "qemu": killed by signal SIGSEGV`);
  });
});

describe("formatArgv()", () => {
  test("formatArgv() quotes what a shell would change", () => {
    assert.equal(
      formatArgv(["ovs-vsctl", "--timeout=5", "add-br", "lab0"]),
      "ovs-vsctl --timeout=5 add-br lab0",
    );
    assert.equal(formatArgv(["qemu-system-x86_64", "-device", "?"]), "qemu-system-x86_64 -device '?'");
    assert.equal(formatArgv(["sh", "-c", "echo $HOME; it's"]), `sh -c 'echo $HOME; it'\\''s'`);
    assert.equal(formatArgv(["x", ""]), "x ''");
  });
});

describe("Cmd", () => {
  function fake(): { runner: FakeRunner; seen: RunOptions[] } {
    const seen: RunOptions[] = [];
    const runner = new FakeRunner().on("prog", (argv, options) => {
      seen.push(options);
      const code = Number(argv[1] ?? "0");
      return { code, stdout: "a\nb\n", stderr: code === 0 ? "" : "prog: failed\n" };
    });
    return { runner, seen };
  }

  test("Cmd is immutable: setters return new commands", async () => {
    const { runner } = fake();
    const base = new Cmd("prog", { runner }).timeout(1000);
    const one = base.args("0");
    const two = one.args("x", "y");
    assert.deepEqual(base.argv, ["prog"]);
    assert.deepEqual(one.argv, ["prog", "0"]);
    assert.deepEqual(two.argv, ["prog", "0", "x", "y"]);
    await one.run();
    await one.run();
    assert.deepEqual(runner.calls, [["prog", "0"], ["prog", "0"]]);
  });

  test("run() passes timeout, env, stdin, signal and killSignal to the runner", async () => {
    const { runner, seen } = fake();
    const signal = new AbortController().signal;
    await new Cmd("prog", { runner, defaultTimeoutMs: 7000 }).run();
    await new Cmd("prog", { runner }).timeout(250).env({ A: "1" }).env({ B: "2" }).stdin("in").signal(signal)
      .killSignal("SIGINT").run();
    assert.deepEqual(seen[0], { timeoutMs: 7000, env: {}, killSignal: "SIGTERM" });
    assert.deepEqual(seen[1], {
      timeoutMs: 250,
      env: { A: "1", B: "2" },
      killSignal: "SIGINT",
      stdin: "in",
      signal,
    });
  });

  test("run() throws ExecError on a non-zero exit code", async () => {
    const { runner } = fake();
    const error = await errorOf(() => new Cmd("prog", { runner }).args("1").run());
    assert.equal(error.message, `Cannot run "prog 1": exited with code 1\n\nprog: failed`);
    assert.deepEqual([error.code, error.stdout, error.stderr, error.timedOut], [
      1,
      "a\nb\n",
      "prog: failed\n",
      false,
    ]);
  });

  test("run() throws ExecError with the real stderr of a real program", async () => {
    const script = "echo 'ovs-vsctl: cannot create a bridge named lab0' >&2; exit 1";
    const error = await errorOf(() => createExec()("sh").args("-c", script).run());
    assert.equal(
      error.message,
      `Cannot run "sh -c 'echo '\\''ovs-vsctl: cannot create a bridge named lab0'\\'' >&2; exit 1'": ` +
        "exited with code 1\n\novs-vsctl: cannot create a bridge named lab0",
    );
  });

  test("run() throws on a timeout with the timeout in the message", async () => {
    const error = await errorOf(() => createExec()("sleep").args("5").timeout(200).run());
    assert.equal(error.message, `Cannot run "sleep 5": timed out after 200 ms`);
    assert.equal(error.timedOut, true);
  });

  test("noThrow() returns any result; noThrow(codes) only those codes", async () => {
    const { runner } = fake();
    const cmd = new Cmd("prog", { runner });
    assert.equal((await cmd.args("2").noThrow().run()).code, 2);
    assert.equal((await cmd.args("2").noThrow(2, 3).run()).code, 2);
    await assert.rejects(cmd.args("1").noThrow(2, 3).run(), { name: "ExecError", code: 1 });
    const timedOut = await createExec()("sleep").args("5").timeout(100).noThrow().run();
    assert.equal(timedOut.timedOut, true);
    await assert.rejects(createExec()("sleep").args("5").timeout(100).noThrow(124).run(), { timedOut: true });
  });

  test("noThrow() still throws for a missing program", async () => {
    const error = await errorOf(() => createExec()(MISSING).noThrow().run());
    assert.deepEqual([error.notFound, error.code], [true, 127]);
  });

  test("text() drops the final line break; lines() splits", async () => {
    const { runner } = fake();
    const cmd = new Cmd("prog", { runner });
    assert.equal(await cmd.text(), "a\nb");
    assert.deepEqual(await cmd.lines(), ["a", "b"]);
    const empty = new Cmd("e", { runner: new FakeRunner().on("e", () => ({})) });
    assert.deepEqual(await empty.lines(), []);
    assert.equal(await createExec()("printf").args("x\r\n").text(), "x");
  });

  test("timeout() and the constructor reject bad values", () => {
    assert.throws(() => new Cmd("prog").timeout(0), {
      name: "RangeError",
      message: "Cannot set timeout as it must be a positive number of milliseconds: current value is 0",
    });
    assert.throws(() => new Cmd("prog").timeout(Number.NaN), { name: "RangeError" });
    assert.throws(() => new Cmd(""), {
      name: "TypeError",
      message: `Cannot make command as 'program' must be a non-empty string: current value is ""`,
    });
    assert.deepEqual(new Cmd("prog").timeout(Infinity).argv, ["prog"]);
  });
});

describe("createExec()", () => {
  test("createExec() calls trace with the argv before running", async () => {
    const traced: (readonly string[])[] = [];
    const exec = createExec({ trace: (argv) => traced.push(argv) });
    assert.equal(await exec("echo").args("hi", "a b").text(), "hi a b");
    await assert.rejects(exec(MISSING).args("x").run(), { notFound: true });
    assert.deepEqual(traced, [["echo", "hi", "a b"], [MISSING, "x"]]);
  });

  test("createExec() gives trace the standard input a command gets (an ip batch's lines)", async () => {
    const traced: [readonly string[], string | undefined][] = [];
    const runner = new FakeRunner().on("ip", () => ({}));
    const exec = createExec({ runner, trace: (argv, stdin) => traced.push([argv, stdin]) });
    await exec("ip").args("-batch", "-").stdin("link set dev x up\n").run();
    await exec("ip").args("link").run();
    assert.deepEqual(traced, [[["ip", "-batch", "-"], "link set dev x up\n"], [["ip", "link"], undefined]]);
  });

  test("Cmd.onStderr() sees standard error as it comes, and cwd() sets the working folder", async () => {
    const seen: string[] = [];
    const r = await createExec()("sh").args("-c", "pwd; echo warming up >&2").cwd("/tmp")
      .onStderr((text) => seen.push(text)).run();
    assert.equal(r.stdout, "/tmp\n");
    assert.equal(seen.join(""), "warming up\n");
  });

  test("createExec() uses the runner and default timeout given", async () => {
    const seen: number[] = [];
    const runner = new FakeRunner().on("ovs-vsctl", (_argv, options) => {
      seen.push(options.timeoutMs);
      return { stdout: "lab0\n" };
    });
    const exec = createExec({ runner, defaultTimeoutMs: 5000 });
    assert.deepEqual(await exec("ovs-vsctl").args("list-br").lines(), ["lab0"]);
    assert.deepEqual(seen, [5000]);
    assert.throws(() => createExec({ defaultTimeoutMs: -1 }), { name: "RangeError" });
  });

  test("createExec() with no options runs real programs", async () => {
    assert.equal(await createExec()("sh").args("-c", "echo $0", "zero").text(), "zero");
  });
});

describe("FakeRunner", () => {
  test("on() registers fakes; run() records calls and fills defaults", async () => {
    const runner = new FakeRunner().on("ovs-vsctl", (argv) => ({ stdout: argv.join(",") }));
    assert.deepEqual(await runner.run(["ovs-vsctl", "a"], { timeoutMs: 1 }), {
      code: 0,
      stdout: "ovs-vsctl,a",
      stderr: "",
    });
    runner.on("ovs-vsctl", () => Promise.resolve({ code: 1, stderr: "no\n" }));
    assert.deepEqual(await runner.run(["ovs-vsctl", "b"], { timeoutMs: 1 }), {
      code: 1,
      stdout: "",
      stderr: "no\n",
    });
    assert.deepEqual(runner.calls, [["ovs-vsctl", "a"], ["ovs-vsctl", "b"]]);
  });

  test("run() of an unregistered program fails like a missing one", async () => {
    const runner = new FakeRunner();
    const error = await errorOf(() => runner.run(["ip", "link"], { timeoutMs: 1 }));
    assert.equal(error.message, `Cannot run "ip link": program not found`);
    assert.deepEqual([error.code, error.notFound], [127, true]);
    assert.deepEqual(runner.calls, [["ip", "link"]]);
  });

  test("on() rejects an empty name", () => {
    assert.throws(() => new FakeRunner().on("", () => ({})), {
      name: "TypeError",
      message: "Cannot register fake program as its name is empty",
    });
  });
});

describe("which()", () => {
  test("which() finds a program on PATH without running it", () => {
    const sh = which("sh");
    assert.ok(sh !== undefined && sh.endsWith("/sh"));
    assert.equal(which("sh", { PATH: `/nonexistent${path.delimiter}${path.dirname(sh)}` }), sh);
    assert.equal(which(MISSING), undefined);
    assert.equal(which("sh", { PATH: "/nonexistent" }), undefined);
    assert.equal(which(""), undefined);
  });

  test("which() checks a path as it is and skips files that are not executable", async () => {
    await withTempDir((dir) => {
      const exe = path.join(dir, "tool");
      const plain = path.join(dir, "plain");
      writeFileSync(exe, "#!/bin/sh\n");
      chmodSync(exe, 0o755);
      writeFileSync(plain, "");
      chmodSync(plain, 0o644);
      mkdirSync(path.join(dir, "sub"));
      assert.equal(which(exe), exe);
      assert.equal(which(plain), undefined);
      assert.equal(which("tool", { PATH: dir }), exe);
      assert.equal(which("plain", { PATH: dir }), undefined);
      assert.equal(which("sub", { PATH: dir }), undefined);
    });
  });
});

describe("ByteRing", () => {
  const enc = new TextEncoder();

  test("ByteRing keeps everything until full, then the last capacity bytes", () => {
    const ring = new ByteRing(8);
    ring.write(enc.encode("abc"));
    assert.equal(ring.text(), "abc");
    ring.write(enc.encode("defgh"));
    assert.deepEqual([ring.text(), ring.length, ring.truncated], ["abcdefgh", 8, false]);
    ring.write(enc.encode("ij"));
    assert.deepEqual([ring.text(), ring.written, ring.truncated], ["cdefghij", 10, true]);
    ring.write(enc.encode("0123456789ABC"));
    assert.equal(ring.text(), "56789ABC");
    for (const c of "klmnopqrs") ring.write(enc.encode(c));
    assert.equal(ring.text(), "lmnopqrs");
  });

  test("ByteRing.text() skips a character cut at the front", () => {
    const ring = new ByteRing(4);
    ring.write(enc.encode("x\u00e9\u20ac")); // 1 + 2 + 3 bytes: the ring keeps the last byte of e-acute and the euro
    assert.equal(ring.text(), "\u20ac");
  });

  test("ByteRing rejects a bad capacity", () => {
    assert.throws(() => new ByteRing(0), {
      name: "RangeError",
      message: "Cannot create byte ring as 'capacity' must be a positive integer: current value is 0",
    });
  });
});
