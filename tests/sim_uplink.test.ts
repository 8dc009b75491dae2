/**
 * The way out on the simulator: the simulated host's uplinks (SimBackend's `uplinks`, `simUplinks`,
 * `--sim-uplink`) and what a way out does through one, as on a real host (tests/nat_real.test.ts, and
 * tests/scenarios/nat.mm on both backends): masquerading, answers back, nothing in from outside, nothing
 * between two ways out, the tap a host of its own again once the way out is closed, and a later process of
 * a lab in a state file.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Lab } from "../lib/api/lab.ts";
import { decodeFrame } from "../lib/wire/frame.ts";
import { SimBackend } from "../sim/backend.ts";

const UPLINKS = { up0: { address: "198.51.100.1/24", hosts: ["198.51.100.7/24"] } };

/** The IPv4 packets the outside saw, as `src > dst proto`. */
function outsideTraffic(sim: SimBackend): string[] {
  return sim.uplink("up0")!.frames().flatMap((bytes) => {
    const ip = decodeFrame(bytes).ipv4;
    return ip === undefined ? [] : [`${ip.src} > ${ip.dst} ${ip.icmp !== undefined ? "icmp" : ip.protocol}`];
  });
}

/** A lab with VMs web (DMZ, 10.0.0.10) and db (CORE, 10.1.0.10), each with a way out through up0. */
async function wayOutLab() {
  const sim = new SimBackend({ uplinks: UPLINKS });
  const lab = await Lab.open({ backend: sim, seed: 1 });
  const ns = lab.namespace();
  const [web] = await ns.launch(["web"], { networks: ["DMZ"], start: true });
  const [db] = await ns.launch(["db"], { networks: ["CORE"], start: true });
  await web!.nic(0).setAddress("10.0.0.10/24");
  await db!.nic(0).setAddress("10.1.0.10/24");
  await ns.openWayOut("DMZ", { gateway: "10.0.0.1/24", uplink: "up0" });
  await ns.openWayOut("CORE", { gateway: "10.1.0.1/24", uplink: "up0" });
  await lab.run("vm net route web default 10.0.0.1");
  await lab.run("vm net route db default 10.1.0.1");
  return { sim, lab, ns, web: web!, db: db! };
}

describe("the way out on the simulator", () => {
  test("a VM reaches the outside masqueraded as the uplink's address; answers come back", async () => {
    const { sim, lab, web } = await wayOutLab();
    await using _ = lab;
    const ping = await web.nic(0).ping("198.51.100.7", { count: 2 });
    assert.equal(ping.received, 2);
    assert.deepEqual(outsideTraffic(sim), [
      "198.51.100.1 > 198.51.100.7 icmp",
      "198.51.100.7 > 198.51.100.1 icmp",
      "198.51.100.1 > 198.51.100.7 icmp",
      "198.51.100.7 > 198.51.100.1 icmp",
    ]);
    // the gateway and the uplink's own address answer the lab
    assert.equal((await web.nic(0).ping("10.0.0.1", { count: 1 })).received, 1);
    assert.equal((await web.nic(0).ping("198.51.100.1", { count: 1 })).received, 1);
  });

  test("nothing comes in from outside, and nothing crosses between two ways out", async () => {
    const { sim, lab, web } = await wayOutLab();
    await using _ = lab;
    const outside = sim.uplink("up0")!.hosts[0]!;
    outside.stack.setDefaultGateway("198.51.100.1");
    const inward = outside.ping("10.0.0.10", { count: 1 });
    assert.ok(sim.network.clock.runUntil(() => inward.done, sim.network.clock.now() + 60e9));
    assert.equal(inward.received, 0);
    // the host forwards between a way out's tap and the uplink only
    assert.equal((await web.nic(0).ping("10.1.0.10", { count: 1 })).received, 0);
    assert.ok(!outsideTraffic(sim).some((t) => t.includes("10.1.0.10")));
  });

  test("closing a way out: nothing gets out, the other still does, and the tap is gone", async () => {
    const { sim, lab, ns, web, db } = await wayOutLab();
    await using _ = lab;
    await ns.closeWayOut("DMZ");
    assert.deepEqual((await ns.waysOut()).map((w) => w.tap), ["lwnat102"]);
    assert.equal((await web.nic(0).ping("198.51.100.7", { count: 1 })).received, 0);
    assert.equal((await db.nic(0).ping("198.51.100.7", { count: 1 })).received, 1);
    await ns.closeWayOut();
    assert.equal((await db.nic(0).ping("198.51.100.7", { count: 1 })).received, 0);
    assert.equal((await lab.run("tap")).text, "");
    assert.ok(sim.uplink("up0") !== undefined);
  });

  test("an uplink the simulator does not have: a clear error, and the lab as it was", async () => {
    await using lab = await Lab.open({ seed: 1 });
    const ns = lab.namespace();
    await ns.launch(["web"], { networks: ["DMZ"], start: true });
    const before = await lab.snapshot();
    await assert.rejects(ns.openWayOut("DMZ", { gateway: "10.0.0.1/24", uplink: "eth0" }), {
      message:
        "Cannot open a way out through eth0: the simulator has no uplink eth0 (it has none; give one with SimBackend's uplinks, or --sim-uplink eth0=ADDRESS/PREFIX[,HOST/PREFIX...])",
    });
    assert.deepEqual(await lab.snapshot(), before);
    assert.throws(
      () => new SimBackend({ uplinks: { up0: { address: "198.51.100.1/24", hosts: ["10.9.9.9/24"] } } }),
      {
        name: "RangeError",
        message: "Cannot put host 10.9.9.9/24 outside uplink up0: it is not on 198.51.100.1/24's subnet",
      },
    );
    await assert.rejects(Lab.open({ backend: "ovs", simUplinks: UPLINKS }), { code: "invalid-argument" });
  });

  test("a later process of a lab in a state file still has its way out", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "labwire-uplink-"));
    try {
      const state = path.join(dir, "lab.json");
      {
        await using first = await Lab.open({ state, seed: 1, simUplinks: UPLINKS });
        for (
          const line of [
            "vm config net DMZ",
            "vm launch container web",
            "vm start web",
            "vm net ip web 0 10.0.0.10/24",
            "nat DMZ 10.0.0.1/24 up0",
            "vm net route web default 10.0.0.1",
          ]
        ) {
          await first.run(line);
        }
      }
      {
        await using later = await Lab.open({ state, simUplinks: UPLINKS });
        assert.equal((await later.run(".columns received ping web:0 198.51.100.7 1")).text, "received\n1");
        // what the outside saw, through the typed lab
        const seen = later.sim.uplink("up0")!.frames().map((f) => decodeFrame(f).ipv4?.src);
        assert.ok(seen.includes("198.51.100.1") && !seen.includes("10.0.0.10"), `${seen}`);
        assert.equal(later.sim.uplink("eth0"), undefined);
      }
      // a later process without the uplink: the way out is closed there, said once; the lab still works
      await using without = await Lab.open({ state });
      assert.equal((await without.run(".columns received ping web:0 10.0.0.1 1")).text, "received\n1");
      assert.equal((await without.run(".columns received ping web:0 198.51.100.7 1")).text, "received\n0");
      assert.ok(without.warnings.length > 0);
      assert.ok(
        without.warnings.every((w) =>
          w.startsWith("the way out of VLAN 101 is closed in this run: Cannot open a way out through up0: ")
        ),
        without.warnings.join("\n"),
      );
      await without.run("clear nat");
      assert.equal((await without.run("nat")).text, "");
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
