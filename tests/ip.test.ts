import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { createExec, FakeRunner } from "../lib/exec.ts";
import { IpBatch, IpBatchError } from "../lib/real/ip.ts";

function fakeIp(result: { code?: number; stderr?: string } = {}) {
  const inputs: string[] = [];
  const runner = new FakeRunner().on("ip", (_argv, options) => {
    inputs.push(options.stdin ?? "");
    return result;
  });
  return { runner, inputs, exec: createExec({ runner }) };
}

describe("IpBatch", () => {
  test("run() runs one ip -batch with every command on standard input", async () => {
    const { runner, inputs, exec } = fakeIp();
    const batch = new IpBatch({ exec })
      .add("netns", "add", "lab-a")
      .add("link", "add", "t0", "type", "veth", "peer", "name", "veth0", "netns", "lab-a");
    assert.equal(batch.size, 2);
    await batch.run();
    assert.deepEqual(runner.calls, [["ip", "-batch", "-"]]);
    assert.deepEqual(inputs, ["netns add lab-a\nlink add t0 type veth peer name veth0 netns lab-a\n"]);
  });

  test("run() puts -n and -force before -batch, and runs nothing for an empty batch", async () => {
    const { runner, exec } = fakeIp();
    await new IpBatch({ exec, namespace: "lab-a", force: true }).run();
    assert.deepEqual(runner.calls, []);
    await new IpBatch({ exec, namespace: "lab-a", force: true }).add("link", "set", "dev", "lo", "up").run();
    assert.deepEqual(runner.calls, [["ip", "-n", "lab-a", "-force", "-batch", "-"]]);
  });

  test("add() refuses words a batch line would split or misread", () => {
    const batch = new IpBatch();
    assert.throws(() => batch.add(), {
      name: "TypeError",
      message: "Cannot add command to ip batch as it is empty",
    });
    for (const bad of ["two words", "", "a#b", 'q"', "tab\there"]) {
      assert.throws(() => batch.add("link", "set", bad), {
        name: "TypeError",
        message: `Cannot add command to ip batch as a word is empty or has spaces or quotes: '${bad}'`,
      });
    }
    assert.equal(batch.size, 0);
  });

  test("run() names the first refused line and what ip said of it", async () => {
    const { exec } = fakeIp({
      code: 1,
      stderr:
        'Cannot find device "t9"\nCommand failed -:2\nRTNETLINK answers: File exists\nCommand failed -:3\n',
    });
    const batch = new IpBatch({ exec, force: true })
      .add("link", "set", "dev", "t0", "up")
      .add("link", "set", "dev", "t9", "up")
      .add("link", "add", "t1", "type", "veth");
    const error = await batch.run().then(() => undefined, (e: unknown) => e);
    assert.ok(error instanceof IpBatchError);
    assert.equal(error.message, 'Cannot run "ip link set dev t9 up": Cannot find device "t9" (and 1 more)');
    assert.deepEqual(error.failures, [
      { line: ["link", "set", "dev", "t9", "up"], message: 'Cannot find device "t9"' },
      { line: ["link", "add", "t1", "type", "veth"], message: "RTNETLINK answers: File exists" },
    ]);
  });

  test("run() says in which namespace a batch failed", async () => {
    const { exec } = fakeIp({ code: 1, stderr: 'Error: argument "x" is wrong\nCommand failed -:1\n' });
    await assert.rejects(new IpBatch({ exec, namespace: "lab-a" }).add("link", "set", "x").run(), {
      name: "IpBatchError",
      message: 'Cannot run "ip link set x" in network namespace lab-a: Error: argument "x" is wrong',
    });
  });
});
