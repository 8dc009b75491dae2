/**
 * A test file for a lab, with node:test: it runs under `deno test` and `bun test` alike.
 *
 *   deno test -A examples/lab.test.ts      (fast loop: add --no-check)
 *   bun test ./examples/lab.test.ts
 *
 * @module
 */

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { Lab, LabError, udpDatagram } from "labwire";
import { assertCaptured, assertReachability, assertReachable, assertUnreachable } from "labwire/testing";

/** A DMZ with web and a host tap, a CORE with db. */
async function twoVlans() {
  const lab = await Lab.open({ seed: "example-test" });
  const ns = lab.namespace();
  const [web] = await ns.launch(["web"], { networks: ["DMZ"], start: true });
  const [db] = await ns.launch(["db"], { networks: ["CORE"], start: true });
  await web!.nic(0).setAddress("10.0.0.1/24");
  await db!.nic(0).setAddress("10.0.0.2/24");
  const admin = await ns.createTap("DMZ", { name: "admin", ip: "10.0.0.254/24" });
  return { lab, ns, web: web!, db: db!, admin };
}

describe("two VLANs", () => {
  test("keep web and db apart until db moves to DMZ", async () => {
    const { lab, web, db } = await twoVlans();
    await using _ = lab;
    await assertUnreachable(web.nic(0), "10.0.0.2");
    await db.nic(0).connect("DMZ");
    await assertReachable(web.nic(0), "10.0.0.2");
  });

  test("who reaches whom", async () => {
    const { lab, ns } = await twoVlans();
    await using _ = lab;
    assertReachability(await ns.pingAll(), {
      "web:0": ["10.0.0.254"],
      "db:0": [],
      admin: ["10.0.0.1"],
    });
  });

  test("a paused VM answers nothing", async () => {
    const { lab, web, admin } = await twoVlans();
    await using _ = lab;
    await web.stop();
    await assertUnreachable(admin, "10.0.0.1");
    await web.start();
    await assertReachable(admin, "10.0.0.1");
  });

  test("a capture sees a frame of your own, and where it went", async () => {
    const { lab, ns, web, admin } = await twoVlans();
    await using _ = lab;
    await using capture = await ns.capture(web.nic(0));
    const frame = udpDatagram({
      srcMac: (await admin.info()).mac,
      dstMac: (await web.nic(0).info()).mac,
      srcIp: "10.0.0.254",
      dstIp: "10.0.0.1",
      srcPort: 40000,
      dstPort: 53,
      data: new TextEncoder().encode("hello"),
    });
    const trace = await lab.sim.send(admin, frame);
    assert.deepEqual(trace.drops, []);
    await assertCaptured(capture, (f) => f.frame?.ipv4?.udp?.dstPort === 53, "web got the datagram");
  });

  test("mistakes are errors with a code", async () => {
    const { lab, ns, web } = await twoVlans();
    await using _ = lab;
    await assert.rejects(ns.launch(["web"]), (e) => e instanceof LabError && e.code === "vm-exists");
    await assert.rejects(web.nic(0).ping("192.168.9.9"), { code: "network-unreachable" });
  });
});
