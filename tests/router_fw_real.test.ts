/**
 * A router's firewall on real Open vSwitch: nftables in the router container's namespace lets through what
 * the rules allow, answers to connections already let through, and nothing else when the default is drop;
 * a commit with the rules cleared lets all through again. Needs root, Open vSwitch and nft; skipped with
 * the reason otherwise, failed instead when CI or LABWIRE_REQUIRE_REAL=1 is set.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { LabModel } from "../lib/lab/model.ts";
import { addFwRule, addInterface, clearFw, setFwDefault, setGateway } from "../lib/lab/router_config.ts";
import { OvsBackend } from "../lib/real/ovs_backend.ts";
import { type Sandbox, skipUnless, startSandbox } from "./_fixtures/real.ts";

const PROGRAMS = ["ovs-vsctl", "ovsdb-server", "ovs-vswitchd", "nft", "ip", "ping", "ethtool", "sysctl"];
const skip = skipUnless("router_fw_real.test.ts", PROGRAMS);

describe("a router's firewall on real Open vSwitch", { skip, timeout: 180_000 }, () => {
  let sandbox: Sandbox | undefined;
  let lab: LabModel;

  before(async () => {
    sandbox = await startSandbox(PROGRAMS);
    lab = new LabModel({
      backend: new OvsBackend({ env: sandbox.env, namespacePrefix: `lwfw${process.pid % 100000}-` }),
      macSeed: "fw",
    });
    await lab.configureNetworks("minimega", ["DMZ", "CORE"]);
    await lab.launchVms("minimega", "container", "r");
    await lab.configureNetworks("minimega", ["DMZ"]);
    await lab.launchVms("minimega", "container", "web");
    await lab.configureNetworks("minimega", ["CORE"]);
    await lab.launchVms("minimega", "container", "db");
    await lab.startVms("minimega", "all");
    await lab.editRouter(
      "minimega",
      "r",
      (c) => addInterface(addInterface(c, "0", "10.96.0.1/24", false), "1", "10.96.1.1/24", false),
    );
    await lab.commitRouter("minimega", "r");
    for (
      const [vm, ip, gw] of [["web", "10.96.0.10/24", "10.96.0.1"], ["db", "10.96.1.10/24", "10.96.1.1"]]
    ) {
      await lab.editRouter("minimega", vm!, (c) => setGateway(addInterface(c, "0", ip!, false), gw!));
      await lab.commitRouter("minimega", vm!);
    }
  });

  after(async () => {
    try {
      await lab?.clearAll();
      await lab?.close();
    } finally {
      await sandbox?.stop();
    }
  });

  const ping = async (from: string, to: string) => (await lab.ping("minimega", from, to, 1)).received;

  test("a drop rule blocks one flow; answers to the other way still pass", async () => {
    assert.equal(await ping("web:0", "10.96.1.10"), 1);
    await lab.editRouter(
      "minimega",
      "r",
      (c) => addFwRule(c, "in", "0", { action: "drop", src: "", dst: "10.96.1.10", proto: "icmp" }),
    );
    await lab.commitRouter("minimega", "r");
    assert.equal(await ping("web:0", "10.96.1.10"), 0, "web's ping crossed the drop rule");
    assert.equal(await ping("db:0", "10.96.0.10"), 1, "the answer to db's ping was dropped");
  });

  test("default drop lets only what a rule accepts through; a cleared firewall lets all through", async () => {
    await lab.editRouter(
      "minimega",
      "r",
      (c) =>
        addFwRule(setFwDefault(clearFw(c), "drop"), "in", "1", {
          action: "accept",
          src: "",
          dst: "10.96.0.10",
          proto: "icmp",
        }),
    );
    await lab.commitRouter("minimega", "r");
    assert.equal(await ping("web:0", "10.96.1.10"), 0);
    assert.equal(await ping("db:0", "10.96.0.10"), 1);
    await lab.editRouter("minimega", "r", clearFw);
    await lab.commitRouter("minimega", "r");
    assert.equal(await ping("web:0", "10.96.1.10"), 1);
  });
});
