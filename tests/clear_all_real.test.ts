/**
 * `clear all` after a lab with everything issue 11 adds, on real Open vSwitch: a router serving DHCP and
 * DNS with a firewall, DHCP clients, and a way out. Afterwards nothing of it is left: no namespace, no
 * dnsmasq, no nftables table, no device, and the forwarding setting as it was. The lab's host is the
 * sandbox's network namespace (tests/_fixtures/real.ts). Needs root, Open vSwitch, nft, dnsmasq and
 * dhclient; skipped with the reason otherwise, failed instead when CI or LABWIRE_REQUIRE_REAL=1 is set.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import process from "node:process";
import { Lab } from "../lib/api/lab.ts";
import { OvsBackend } from "../lib/real/ovs_backend.ts";
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
const skip = skipUnless("clear_all_real.test.ts", PROGRAMS);
const id = process.pid % 100000;
const UPLINK = `lwca${id}u`;

describe(
  "clear all leaves nothing of routers, servers and ways out behind",
  { skip, timeout: 180_000 },
  () => {
    let sandbox: Sandbox | undefined;
    const prefix = `lwca${id}-`;
    let runDir = "";

    /** Everything the lab could leave behind, as text to compare. */
    async function leftovers(): Promise<string> {
      const run = async (...argv: string[]) =>
        (await sandbox!.exec(argv[0]!).args(...argv.slice(1)).timeout(20_000).run()).stdout;
      const links = (await run("ip", "-o", "link", "show")).split("\n")
        .flatMap((l) => l.includes(":") ? [l.split(":")[1]!.trim()] : [])
        .filter((l) => l !== "ovs-netdev") // the userspace datapath's own device, made with the first bridge
        .sort();
      const namespaces = (await run("ip", "netns", "list")).split("\n").filter((l) => l.startsWith(prefix));
      const dnsmasqs = fs.readdirSync("/proc").filter((e) => /^\d+$/.test(e)).filter((e) => {
        try {
          const argv = fs.readFileSync(`/proc/${e}/cmdline`, "utf8");
          return argv.startsWith("dnsmasq") && argv.includes(runDir);
        } catch {
          return false;
        }
      });
      return JSON.stringify(
        {
          forwarding: (await run("sysctl", "-n", "net.ipv4.ip_forward")).trim(),
          tables: await run("nft", "list", "tables"),
          links,
          namespaces,
          dnsmasqs,
        },
        null,
        1,
      );
    }

    before(async () => {
      sandbox = await startSandbox(PROGRAMS);
      runDir = path.join(sandbox.dir, "run");
      // the uplink: one end of a veth pair (the kernel here has no dummy devices)
      await sandbox.exec("ip").args("link", "add", UPLINK, "type", "veth", "peer", "name", `${UPLINK}p`)
        .run();
      await sandbox.exec("ip").args("link", "set", UPLINK, "up").run();
    });

    after(async () => {
      await sandbox?.stop();
    });

    test("a router with DHCP, DNS and a firewall, clients, a way out: clear all, and the host is as before", async () => {
      const before = await leftovers();
      const backend = new OvsBackend({ env: sandbox!.env, namespacePrefix: prefix, runDir });
      await using lab = await Lab.open({ backend, seed: "clear-all" });
      const ns = lab.namespace();
      const [r] = await ns.launch(["r"], { networks: ["DMZ", "CORE"], start: true });
      const [web] = await ns.launch(["web"], { networks: ["DMZ"], start: true });
      await r!.router().configure({
        interfaces: [["10.90.0.1/24"], ["10.90.1.1/24"]],
        dhcp: [{ listen: "10.90.0.1", range: ["10.90.0.100", "10.90.0.110"], router: "10.90.0.1" }],
        dns: { "r.lab": "10.90.0.1" },
      });
      await lab.run("router r fw drop in 0 10.90.1.9 icmp");
      await lab.run("router r commit");
      await web!.router().configure({ interfaces: [["dhcp"]], gateway: "10.90.0.1" });
      await ns.openWayOut("CORE", { gateway: "10.90.1.254/24", uplink: UPLINK });
      const during = JSON.parse(await leftovers());
      assert.equal(during.forwarding, "1");
      assert.match(during.tables, /labwire_nat/);
      assert.equal(during.dnsmasqs.length, 1);
      assert.equal(during.namespaces.length, 2);
      await lab.clearAll();
      assert.equal(await leftovers(), before);
    });
  },
);
