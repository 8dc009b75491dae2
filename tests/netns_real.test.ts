/**
 * lib/real/netns.ts on the real kernel: two namespaces joined through a Linux bridge ping each other.
 * Needs root, ip, ping and a kernel with network namespaces: skipped with a reason otherwise, failed
 * instead when CI or LABWIRE_REQUIRE_REAL=1 is set. Traffic stays between the namespaces the test makes.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { createExec, which } from "../lib/exec.ts";
import { Netns, parsePingSummary } from "../lib/real/netns.ts";

const required = (process.env.CI ?? "") !== "" || process.env.LABWIRE_REQUIRE_REAL === "1";
const missing = process.getuid?.() !== 0
  ? "not root"
  : which("ip") === undefined
  ? "ip is not installed (iproute2)"
  : which("ping") === undefined
  ? "ping is not installed (iputils-ping)"
  : undefined;
const skip = missing !== undefined && !required ? missing : false;

describe("parsePingSummary()", () => {
  test("reads iputils' and busybox's summaries", () => {
    assert.deepEqual(
      parsePingSummary(
        "\n--- 10.0.0.2 ping statistics ---\n3 packets transmitted, 3 received, 0% packet loss",
      ),
      {
        sent: 3,
        received: 3,
      },
    );
    assert.deepEqual(parsePingSummary("2 packets transmitted, 0 packets received, 100% packet loss"), {
      sent: 2,
      received: 0,
    });
    assert.throws(() => parsePingSummary("ping: connect: Network is unreachable\n"), {
      name: "SyntaxError",
      message:
        "Cannot read ping's summary: no 'packets transmitted' line in: ping: connect: Network is unreachable",
    });
  });
});

describe("Netns on the real kernel", () => {
  test("two namespaces on a Linux bridge reach each other, and nothing is left behind", {
    skip,
    timeout: 60_000,
  }, async () => {
    assert.equal(missing, undefined, `required but ${missing}`);
    const exec = createExec();
    const netns = new Netns({ exec });
    const id = `lwt${process.pid % 100000}`;
    const [a, b, br] = [`${id}a`, `${id}b`, `${id}br`];
    try {
      await exec("ip").args("link", "add", br, "type", "bridge").run();
      await exec("ip").args("link", "set", br, "up").run();
      for (
        const [ns, mac, ip] of [[a, "02:00:00:00:0a:01", "10.99.0.1/24"], [
          b,
          "02:00:00:00:0a:02",
          "10.99.0.2/24",
        ]]
      ) {
        await netns.create(ns!);
        await netns.addVeth(`${ns}h`, ns!, "eth0", mac!);
        await exec("ip").args("link", "set", `${ns}h`, "master", br).run();
        await netns.addAddress(ns!, "eth0", ip!);
      }
      assert.ok((await netns.list()).includes(a));
      assert.deepEqual(await netns.ping(a, "10.99.0.2", 2), { sent: 2, received: 2 });
      assert.deepEqual(await netns.ping(a, "10.99.0.3", 1), { sent: 1, received: 0 });
      const link = await exec("ip").args("netns", "exec", b, "ip", "-o", "link", "show", "eth0").text();
      assert.match(link, /link\/ether 02:00:00:00:0a:02/);
    } finally {
      for (const ns of [a, b]) {
        await netns.deleteLink(`${ns}h`); // the pair goes at once; a namespace's links go asynchronously
        await exec("ip").args("netns", "delete", ns).noThrow().run();
      }
      await exec("ip").args("link", "delete", br).noThrow().run();
    }
    const left = await new Netns({ exec }).list();
    assert.ok(!left.includes(a) && !left.includes(b), "namespaces removed");
    const links = await exec("ip").args("-o", "link", "show").text();
    assert.doesNotMatch(links, new RegExp(`${id}`), "links removed");
  });
});
