/**
 * The way out (`nat`) on real Open vSwitch: a VM of a VLAN reaches an "outside" host through the host's
 * uplink, masqueraded as the uplink's address; `clear nat` and `clear all` leave the host exactly as they
 * found it (forwarding setting, nftables tables, links). The lab's host is the sandbox's network
 * namespace (tests/_fixtures/real.ts), so the machine's own settings are never touched; the outside is a
 * network namespace this test makes, behind a veth pair whose host end is the uplink: no traffic leaves
 * the machine. Needs root, Open
 * vSwitch, nft and tcpdump; skipped with the reason otherwise, failed instead when CI or
 * LABWIRE_REQUIRE_REAL=1 is set.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import process from "node:process";
import { type Cmd, createExec } from "../lib/exec.ts";
import { LabModel } from "../lib/lab/model.ts";
import { OvsBackend } from "../lib/real/ovs_backend.ts";
import { decodeFrame } from "../lib/wire/frame.ts";
import { readPcap } from "../lib/wire/pcap.ts";
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
  "tcpdump",
];
const skip = skipUnless("nat_real.test.ts", PROGRAMS);

const id = process.pid % 100000;
const OUTSIDE = `lwo${id}`; // the outside's namespace
const UPLINK = `lwo${id}u`; // the host end of the veth: the uplink
const FAR = `lwo${id}f`; // its end in the outside

/**
 * A /24 for the outside that the host uses for nothing (no address, no route of its own: its traffic would
 * go to the default route), so that the outside is the only one answering there.
 */
async function unusedSubnet(): Promise<string> {
  for (const prefix of ["198.51.100", "203.0.113", "100.64.77"]) {
    const routes = await run("ip", "-4", "route", "show", "table", "all");
    const addrs = await run("ip", "-4", "addr", "show");
    if (!routes.includes(`${prefix}.`) && !addrs.includes(`${prefix}.`)) return prefix;
  }
  return assert.fail("no unused subnet for the outside");
}

/** Runs commands where the lab's host side is: the sandbox's network namespace. */
let hostExec: (program: string) => Cmd = createExec();

async function run(...argv: string[]): Promise<string> {
  const r = await hostExec(argv[0]!).args(...argv.slice(1)).timeout(20_000).noThrow().run();
  assert.equal(r.code, 0, `${argv.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

/** What the way out may change on the lab's host, to compare before and after. */
async function hostState(): Promise<string> {
  const forwarding = (await run("sysctl", "-n", "net.ipv4.ip_forward")).trim();
  const tables = await run("nft", "list", "tables");
  const links = (await run("ip", "-o", "link", "show")).split("\n")
    .flatMap((l) => l.includes(":") ? [l.split(":")[1]!.trim()] : []).sort();
  return JSON.stringify({ forwarding, tables, links });
}

describe("the way out on real Open vSwitch", { skip, timeout: 180_000 }, () => {
  let sandbox: Sandbox | undefined;
  let lab: LabModel;
  const prefix = `lwn${id}-`;

  let far = "";
  let near = "";

  before(async () => {
    sandbox = await startSandbox(PROGRAMS);
    hostExec = sandbox.exec;
    const net = await unusedSubnet();
    near = `${net}.1`;
    far = `${net}.2`;
    await run("ip", "netns", "add", OUTSIDE);
    await run("ip", "link", "add", UPLINK, "type", "veth", "peer", "name", FAR);
    await run("ip", "link", "set", FAR, "netns", OUTSIDE);
    await run("ip", "addr", "add", `${near}/24`, "dev", UPLINK);
    await run("ip", "link", "set", UPLINK, "up");
    await run("ip", "-n", OUTSIDE, "addr", "add", `${far}/24`, "dev", FAR);
    await run("ip", "-n", OUTSIDE, "link", "set", FAR, "up");
    lab = new LabModel({
      backend: new OvsBackend({ env: sandbox.env, namespacePrefix: prefix }),
      macSeed: "nat",
    });
  });

  after(async () => {
    try {
      await lab?.clearAll();
      await lab?.close();
    } finally {
      await hostExec("ip").args("link", "del", UPLINK).noThrow().run();
      await hostExec("ip").args("netns", "del", OUTSIDE).noThrow().run();
      await sandbox?.stop();
    }
  });

  test("a VM reaches the outside masqueraded, and clear nat restores the host exactly", async () => {
    await lab.configureNetworks("minimega", ["DMZ"]);
    await lab.launchVms("minimega", "container", "web");
    await lab.startVms("minimega", "web");
    await lab.addVmAddress("minimega", "web", "0", "10.93.0.10/24");
    const before0 = await hostState();
    await lab.openNat("minimega", "DMZ", "10.93.0.1/24", UPLINK);
    await lab.routeVms("minimega", "web", "default", "10.93.0.1");
    // the outside sees the uplink's address, never the lab's
    const pcap = path.join(sandbox!.dir, "outside.pcap");
    const capture = hostExec("ip").args(
      "netns",
      "exec",
      OUTSIDE,
      "tcpdump",
      "-n",
      "-U",
      "-i",
      FAR,
      "-c",
      "2",
      "-w",
      pcap,
      "icmp",
    )
      .timeout(30_000).noThrow().run();
    await new Promise((resolve) => setTimeout(resolve, 1000)); // tcpdump listening
    const ping = await lab.ping("minimega", "web:0", far, 2);
    assert.deepEqual([ping.sent, ping.received], [2, 2]);
    assert.equal((await capture).code, 0);
    const sources = readPcap(fs.readFileSync(pcap)).records.map((r) => decodeFrame(r.data).ipv4?.src);
    assert.deepEqual(sources, [near, far]);
    assert.equal((await run("sysctl", "-n", "net.ipv4.ip_forward")).trim(), "1");
    assert.match(await run("nft", "list", "tables"), /labwire_nat_f\d_lwnat101/);
    // refused: a second way out of the VLAN, or one on an overlapping subnet
    await assert.rejects(lab.openNat("minimega", "DMZ", "10.93.0.1/24", UPLINK), { code: "port-exists" });
    await assert.rejects(lab.openNat("minimega", "CORE", "10.93.0.129/25", UPLINK), { message: /overlaps/ });
    await lab.closeNat("minimega");
    assert.equal(await hostState(), before0, "the host is not as it was");
    const lost = await lab.ping("minimega", "web:0", far, 1);
    assert.equal(lost.received, 0);
  });

  test("clear all closes the way out too", async () => {
    const before0 = await hostState();
    await lab.openNat("minimega", "DMZ", "10.93.0.1/24", UPLINK);
    assert.notEqual(await hostState(), before0);
    await lab.clearAll();
    const after = JSON.parse(await hostState());
    const was = JSON.parse(before0);
    // clear all also removed the lab's VM and its NIC's host end: compare what the way out changed
    assert.deepEqual([after.forwarding, after.tables], [was.forwarding, was.tables]);
    assert.deepEqual(after.links.filter((l: string) => l.startsWith("lwnat")), []);
  });

  test("the typed API opens, lists and closes a way out", async () => {
    const before0 = await hostState();
    const { Lab } = await import("../lib/api/lab.ts");
    await using typed = await Lab.open({ backend: lab.backend, seed: "nat-typed" });
    const ns = typed.namespace();
    const nat = await ns.openWayOut("LAN", { gateway: "10.94.0.1/24", uplink: UPLINK });
    assert.deepEqual(nat, {
      namespace: "minimega",
      vlan: 101,
      tap: "lwnat101",
      gateway: "10.94.0.1/24",
      uplink: UPLINK,
    });
    assert.deepEqual((await ns.waysOut()).map((n) => n.tap), ["lwnat101"]);
    await ns.closeWayOut("LAN");
    assert.deepEqual(await ns.waysOut(), []);
    // the typed lab made its bridge meanwhile: compare what the way out changes
    const [after, was] = [JSON.parse(await hostState()), JSON.parse(before0)];
    assert.deepEqual([after.forwarding, after.tables], [was.forwarding, was.tables]);
    assert.deepEqual(after.links.filter((l: string) => l.startsWith("lwnat")), []);
  });

  test("an uplink that does not exist is refused, and nothing changes", async () => {
    const before0 = await hostState();
    const before = JSON.stringify(lab.toJSON());
    await assert.rejects(lab.openNat("minimega", "DMZ", "10.93.0.1/24", "lwnosuch0"), {
      message: "Cannot open a way out through lwnosuch0: no such interface",
    });
    assert.equal(JSON.stringify(lab.toJSON()), before);
    assert.equal(await hostState(), before0);
  });
});
