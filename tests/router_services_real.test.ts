/**
 * A router's DHCP and DNS servers on real Open vSwitch: dnsmasq in the router container's namespace hands
 * out addresses from its range and its static leases to clients whose router says `interface 0 dhcp`,
 * answers the DNS records the router lists, and goes with its VM (no process or namespace left behind).
 * Needs root, Open vSwitch, dnsmasq and dhclient; skipped with the reason otherwise, failed instead when CI
 * or LABWIRE_REQUIRE_REAL=1 is set.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import process from "node:process";
import { nodeRunner } from "../lib/exec.ts";
import { LabModel } from "../lib/lab/model.ts";
import { OvsBackend } from "../lib/real/ovs_backend.ts";
import { addDns, addInterface, setDhcp } from "../lib/lab/router_config.ts";
import { type Sandbox, skipUnless, startSandbox } from "./_fixtures/real.ts";

const PROGRAMS = [
  "ovs-vsctl",
  "ovsdb-server",
  "ovs-vswitchd",
  "nft",
  "ip",
  "ping",
  "ethtool",
  "sysctl",
  "dnsmasq",
  "dhclient",
];
const skip = skipUnless("router_services_real.test.ts", PROGRAMS);
const runtime = process.versions.deno !== undefined ? [process.execPath, "run", "-A"] : [process.execPath];
const DNS_QUERY = path.join(import.meta.dirname!, "_fixtures", "dns_query.ts");

/** The PIDs of dnsmasq processes whose configuration is under `dir`. */
function dnsmasqsUnder(dir: string): number[] {
  return fs.readdirSync("/proc").filter((e) => /^\d+$/.test(e)).flatMap((e) => {
    try {
      const argv = fs.readFileSync(`/proc/${e}/cmdline`, "utf8").split("\0");
      return argv[0]?.endsWith("dnsmasq") && argv.some((a) => a.includes(dir)) ? [Number(e)] : [];
    } catch {
      return [];
    }
  });
}

describe("a router's DHCP and DNS servers on real Open vSwitch", { skip, timeout: 180_000 }, () => {
  let sandbox: Sandbox | undefined;
  let lab: LabModel;
  const prefix = `lws${process.pid % 100000}-`;
  let runDir = "";

  before(async () => {
    sandbox = await startSandbox(PROGRAMS);
    runDir = path.join(sandbox.dir, "run");
    lab = new LabModel({
      backend: new OvsBackend({ env: sandbox.env, namespacePrefix: prefix, runDir }),
      macSeed: "services",
    });
  });

  after(async () => {
    try {
      await lab?.clearAll();
      await lab?.close();
    } finally {
      await sandbox?.stop();
    }
  });

  test("clients get addresses from the range and by static lease, and the router answers its DNS records", async () => {
    await lab.configureNetworks("minimega", ["DMZ"]);
    await lab.launchVms("minimega", "container", "r,c1");
    await lab.configureNetworks("minimega", ["DMZ,00:1f:53:02:0b:51"]);
    await lab.launchVms("minimega", "container", "c2");
    await lab.startVms("minimega", "all");
    await lab.editRouter("minimega", "r", (c) => addInterface(c, "0", "10.95.0.1/24", false));
    await lab.editRouter(
      "minimega",
      "r",
      (c) => setDhcp(c, "10.95.0.1", { kind: "range", low: "10.95.0.100", high: "10.95.0.110" }),
    );
    await lab.editRouter(
      "minimega",
      "r",
      (c) => setDhcp(c, "10.95.0.1", { kind: "router", ip: "10.95.0.1" }),
    );
    await lab.editRouter(
      "minimega",
      "r",
      (c) => setDhcp(c, "10.95.0.1", { kind: "static", mac: "00:1f:53:02:0b:51", ip: "10.95.0.50" }),
    );
    await lab.editRouter("minimega", "r", (c) => addDns(c, "10.95.0.7", "web.lab"));
    await lab.commitRouter("minimega", "r");
    for (const client of ["c1", "c2"]) {
      await lab.editRouter("minimega", client, (c) => addInterface(c, "0", "dhcp", false));
      await lab.commitRouter("minimega", client);
    }
    const ips = Object.fromEntries(lab.vms.list().map((vm) => [vm.name, vm.nics[0]!.ips]));
    assert.deepEqual(ips.r, ["10.95.0.1/24"]);
    assert.match(ips.c1![0] ?? "", /^10\.95\.0\.1(0[0-9]|10)\/24$/);
    assert.deepEqual(ips.c2, ["10.95.0.50/24"]);
    const ping = await lab.ping("minimega", "c1:0", "10.95.0.50", 1);
    assert.equal(ping.received, 1);
    // the DNS record, asked from a client's namespace
    const asked = await sandbox!.exec("ip").args(
      "netns",
      "exec",
      `${prefix}minimega-c1`,
      ...runtime,
      DNS_QUERY,
      "10.95.0.1",
      "web.lab",
    ).timeout(30_000).noThrow().run();
    assert.equal(asked.code, 0, asked.stderr);
    assert.deepEqual(JSON.parse(asked.stdout), { rcode: 0, a: ["10.95.0.7"] });
    assert.equal(dnsmasqsUnder(runDir).length, 1);
  });

  test("the router's server goes with its VM", async () => {
    await lab.killVms("minimega", "r");
    assert.deepEqual(dnsmasqsUnder(runDir), []);
    const namespaces = await nodeRunner.run(["ip", "netns", "list"], { timeoutMs: 10_000 });
    assert.doesNotMatch(namespaces.stdout, new RegExp(`${prefix}minimega-r\\b`));
  });
});
