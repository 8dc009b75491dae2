/**
 * A failed command leaves the lab as it was: in memory and in its state file, byte for byte, for every
 * command of the language and every typed call. Three ways in:
 * - every command (each handler of the registry) gets lines that fail on a rich lab kept in a state file;
 * - every mutating line of a scenario is run again and again with the backend failing at its 1st, 2nd,
 *   ... call, and the lab and the backend's ports must be as before each time;
 * - typed calls that fail.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Lab } from "../lib/api/lab.ts";
import { Interpreter } from "../lib/cli/interpreter.ts";
import { createRegistry } from "../lib/commands/registry.ts";
import type { Session } from "../lib/commands/session.ts";
import { LabError } from "../lib/errors.ts";
import { RecordingBackend } from "../lib/testing/recording_backend.ts";

/** A lab with a bit of everything: namespaces, VMs of both kinds, taps, a mirror, trunks, a patch, captures. */
function richLab(dir: string): string[] {
  return [
    "vm config net DMZ CORE",
    "vm launch container web,db",
    "vm config net lab2,DMZ",
    "vm launch kvm k",
    "vm start web",
    "vm net ip web 0 10.0.0.1/24",
    "vm net ip db 0 10.0.0.2/24",
    "tap create DMZ ip 10.0.0.254/24 admin",
    "tap create CORE name mon",
    "tap mirror web 0 db 0",
    "bridge trunk mega_bridge eth9",
    "bridge patch mega_bridge lab2",
    "bridge config lab2 stp_enable=true",
    "vlans blacklist 300",
    "namespace red vm config net LAN",
    "namespace red vlans range 500 600",
    "capture pcap snaplen 128",
    `capture pcap bridge mega_bridge ${path.join(dir, "bridge.pcap")}`,
    `capture pcap vm web 0 ${path.join(dir, "web.pcap")}`,
    "router web interface 0 10.0.0.1/24",
    "router web dhcp 10.0.0.1 range 10.1.0.5 10.1.0.9",
    "router web dns 10.0.0.1 web.lab",
  ];
}

/** Lines that fail on the rich lab, each named by what it tries. */
const FAILING: readonly string[] = [
  // vlans
  "vlans add DMZ 200",
  "vlans add X 101",
  "vlans add X notanumber",
  "vlans range 200 100",
  "vlans range x y",
  "namespace blue vlans range 550 650",
  "vlans blacklist x",
  "vlans range 0 10",
  "vlans range -4096 10",
  "vlans range 10 4096",
  "vlans range 100 99999",
  "vlans range 2147483648 2147483649",
  "namespace red vlans range 0 600",
  "vlans add X 0",
  "vlans add X 4095",
  "vlans add X 99999",
  // vm config
  "vm config net A B,bad,bad,bad C",
  "vm config net A,01:02:03:04:05:06:07:08",
  "vm config net 4096",
  "vm config net 0",
  "vm config net 4095",
  "vm config net NEW lab2,0 NEW2",
  "vm config net 0,qinq",
  'vm config net ""',
  "vm config memory 0",
  "vm config vcpus x",
  // vm launch and lifecycle
  "vm launch container web",
  "vm launch container all",
  "vm launch container 3x,5",
  "vm launch container a[1-",
  "vm start nosuch",
  "vm stop web,nosuch",
  "vm kill nosuch",
  // vm net
  "vm net add web CORE",
  "vm net add k bad,bad,bad,bad",
  "vm net connect web 5 CORE",
  "vm net connect web,nosuch 0 CORE",
  "vm net connect web x CORE",
  "vm net connect web 0 0",
  "vm net connect web 0 4095",
  "vm net add k 0",
  "vm net add k NEW lab2,4095",
  "vm net disconnect web 9",
  "vm net disconnect nosuch 0",
  "vm net ip web 0 10.0.0.300/24",
  "vm net ip web 7 10.0.0.5/24",
  "vm net ip web,nosuch 0 10.0.0.5/24",
  // taps and mirrors
  "tap create DMZ name admin",
  "tap create DMZ name all",
  "tap create DMZ bridge all",
  "tap create DMZ name mega_bridge",
  "tap create DMZ name -x",
  "tap create DMZ name averyveryverylongname",
  "tap create DMZ ip bogus",
  "tap create 4096",
  "tap create 0",
  "tap create 4095",
  "tap create 0 bridge lab2 name t0",
  "tap create DMZ dhcp",
  "tap create DMZ name eth9",
  "tap delete nosuch",
  "tap delete mega_tap0",
  "namespace red tap delete admin",
  "tap mirror admin admin",
  "tap mirror nosuch mon",
  "tap mirror admin db",
  "tap mirror web 0 db 0",
  "tap mirror web 0 k 0",
  "tap mirror nosuch 0 web 0",
  "clear tap mirror nosuch",
  "clear tap mirror web 0",
  "clear tap mirror nosuch 0",
  // bridges
  "bridge trunk mega_bridge eth9",
  "bridge trunk mega_bridge admin",
  "bridge trunk all eth8",
  "bridge notrunk mega_bridge eth8",
  "bridge config mega_bridge novalue",
  "bridge patch mega_bridge mega_bridge",
  "bridge patch mega_bridge lab2",
  "bridge nopatch mega_bridge lab9",
  "bridge destroy nosuch",
  "bridge destroy mega_bridge",
  // captures
  "capture pcap snaplen x",
  "capture pcap vm nosuch 0 /tmp/x.pcap",
  "capture pcap vm web 9 /tmp/x.pcap",
  "capture pcap vm web x /tmp/x.pcap",
  "capture pcap bridge nosuch /tmp/x.pcap",
  "capture pcap delete vm nosuch",
  // ping
  "ping web:0 10.0.0.300",
  "ping web:0 10.0.0.2 0",
  "ping web:0 10.0.0.2 x",
  "ping db:0 10.0.0.1",
  "ping web:0 10.9.9.9",
  "ping nosuch:0 10.0.0.1",
  "ping nosuchtap 10.0.0.1",
  // routers
  "router nosuch",
  "router db",
  "router web interface x 1.2.3.4/24",
  "router web interface 5 1.2.3.4/24",
  "router web interface 0 1.2.3.4",
  "router web interface 0 10.0.0.1/24",
  "router web interface 0 dhcp lo",
  "router web interface 0 2001:1::1/64",
  "router web dhcp 1.2.3 range 1.2.3.5 1.2.3.6",
  "router web dhcp 10.0.0.1 range 10.0.0.9 10.0.0.5",
  "router web dhcp 10.0.0.1 router x",
  "router web dhcp 10.0.0.1 dns 1.2.3.4.5",
  "router web dhcp 10.0.0.1 static zz 10.0.0.5",
  "router web dns 1.1.1 foo",
  "router web dns 1.1.1.1 -bad-",
  "router web upstream x",
  "router web gw 10.0.0.300",
  "router web route static 10.9.0.0 10.0.0.9",
  "router web route static 10.9.0.0/24 x",
  "router web route ospf 0 1",
  "router web route ospf 0 1 cost 20",
  "router web route ospf 0 export 10.0.0.0/24",
  "router web route bgp p rrclient",
  "router web route bgp p local 1.2.3.4 100",
  "router web route bgp p export all 0",
  "router web ra 2001::",
  "router web rid x",
  "router web log level bogus",
  "router web fw default bogus",
  "router web fw accept in 0 1.2.3.4:x tcp",
  "router web fw accept in 5 1.2.3.4 tcp",
  "router web fw drop out 0 1.2.3 1.2.3.4 tcp",
  "router web fw accept in 0 1.2.3.4 bogus",
  "router web fw chain C apply in 0",
  "router web fw chain accept action drop 1.2.3.4 tcp",
  "router web fw chain C default action bogus",
  "router web fw chain C action accept 1.2.3.4.5 tcp",
  "router web fw chain C action accept 1.2.3.4 1.2.3.4:x tcp",
  "router web commit",
  "router db commit",
  "router nosuch commit",
  "clear router nosuch",
  "clear router db",
  "clear router web interface 9",
  "clear router web interface 0 1.2.3.4/24",
  "clear router web interface 0 1.2.3.4/24 lo",
  "clear router web dhcp 9.9.9.9",
  "clear router web dhcp 10.0.0.1 static 00:00:00:00:00:01",
  "clear router web dns 9.9.9.9",
  "clear router web route static 9.9.9.0/24",
  "clear router web route static all nosuch",
  "clear router web route ospf",
  "clear router web route bgp p",
  // dnsmasq (the rich lab's admin tap is 10.0.0.254/24)
  "dnsmasq start 10.9.9.9 10.9.9.10 10.9.9.20",
  "dnsmasq start 10.0.0.254 10.1.0.2 10.1.0.9",
  "dnsmasq start 10.0.0.254 10.0.0.9 10.0.0.2",
  "dnsmasq start /nonexistent/dnsmasq.conf",
  "dnsmasq kill x",
  "dnsmasq kill 9",
  "dnsmasq configure 9 ip",
  "dnsmasq configure x ip 00:11:22:33:44:55 10.0.0.7",
  // the way out (this simulator has no uplink eth0; bad values first)
  "nat DMZ 10.0.0.1 eth0",
  "nat DMZ 10.0.0.1/24 -x",
  "nat DMZ 10.0.0.1/24 eth0",
  "clear nat DMZ",
  // namespaces and the language
  "namespace all",
  "namespace bad/name vlans",
  "clear namespace nosuch",
  "namespace red vm launch container x,x[",
  "shell /nonexistent/program",
  "vlans bogus",
  "vm bogus",
  ".columns nosuch vm info",
  ".filter nosuch vm info",
];

/** Commands (by their first pattern) that never fail on a lab: listings, help, output settings, clearing. */
const NEVER_FAILS = new Set([
  ".annotate <true,false> (command)",
  ".annotate [true,false]",
  ".csv <true,false> (command)",
  ".csv [true,false]",
  ".headers <true,false> (command)",
  ".headers [true,false]",
  ".json <true,false> (command)",
  ".json [true,false]",
  ".sort <true,false> (command)",
  ".sort [true,false]",
  "help [command]...",
  "vm info",
  "vm flush",
  "clear all",
  "nuke",
  "clear vm config",
  "clear vlans [prefix]",
  "clear capture [netflow,pcap]",
  "clear tap",
]);

describe("a failed command leaves the lab as it was", () => {
  test("every command has failing lines here, and each one fails", () => {
    const registry = createRegistry();
    const interpreter = new Interpreter(registry, {} as Session);
    const covered = new Set<string>();
    for (const line of FAILING) {
      const compiled = interpreter.compile(line);
      if (compiled !== undefined && typeof compiled !== "string") {
        covered.add(compiled.handler.patterns[0]!);
        if (compiled.subcommand !== undefined) covered.add(compiled.subcommand.handler.patterns[0]!);
      }
    }
    const missing = registry.handlers
      .map((h) => h.patterns[0]!)
      .filter((p) => !covered.has(p) && !NEVER_FAILS.has(p));
    assert.deepEqual(missing, [], "commands without a failing line in this test");
  });

  test("each failing line leaves the lab in memory and its state file byte for byte as they were", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "labwire-failed-"));
    const state = path.join(dir, "lab.json");
    const lab = await Lab.open({ state, seed: "failed", onWarning: () => {} });
    try {
      for (const line of richLab(dir)) assert.deepEqual((await lab.execute(line)).errors, [], line);
      for (const line of FAILING) {
        const file = fs.readFileSync(state, "utf8");
        const memory = JSON.stringify(await lab.snapshot());
        const { errors } = await lab.execute(line);
        assert.notDeepEqual(errors, [], `${line} did not fail`);
        assert.equal(fs.readFileSync(state, "utf8"), file, `${line} changed the state file`);
        assert.equal(JSON.stringify(await lab.snapshot()), memory, `${line} changed the lab`);
      }
      // and the lab still works: a later process realises it and uses it
      const later = await Lab.open({ state, seed: "failed" });
      assert.equal(
        (await later.run("ping web:0 10.0.0.2 1")).rows[0]!.received,
        "0",
        "db is a mirror output",
      );
      assert.deepEqual((await later.execute("clear tap mirror db 0")).errors, []);
      assert.deepEqual((await later.execute("vm start db")).errors, []);
      assert.equal((await later.run("ping web:0 10.0.0.2 1")).rows[0]!.received, "1");
      await later.close();
    } finally {
      await lab.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test("a backend failing at any call of a command leaves the lab and the backend's ports as they were", async () => {
    const lines = [
      "vm config net DMZ lab2,CORE",
      "vm launch container a,b",
      "vm launch kvm k",
      "vm start all",
      "vm net ip a 0 10.0.0.1/24",
      "tap create DMZ ip 10.0.0.254/24 admin",
      "tap create DMZ dhcp",
      "tap mirror a 0 b 0",
      "vm net connect a 0 CORE",
      "vm net disconnect b 1",
      "vm net add k DMZ",
      "bridge trunk mega_bridge eth9",
      "bridge patch mega_bridge lab3",
      "bridge config lab3 stp_enable=true",
      "capture pcap vm a 0 /tmp/labwire-never.pcap",
      "capture pcap bridge lab2 /tmp/labwire-never2.pcap",
      "ping a:0 10.0.0.2 1",
      "vm stop b",
      "vm kill a",
      "vm start a",
      "clear capture",
      "clear tap mirror",
      "bridge nopatch mega_bridge lab3",
      "bridge notrunk mega_bridge eth9",
      "tap delete admin",
      "vm kill all",
      "vm flush",
      "clear namespace minimega",
      "clear all",
    ];
    const backend = new RecordingBackend();
    const lab = await Lab.open({ backend, seed: "faults", onWarning: () => {} });
    let injected = 0;
    for (const line of lines) {
      // how many backend calls the line makes when nothing fails
      const probe = new RecordingBackend();
      const twin = await Lab.open({ backend: probe, seed: "faults", onWarning: () => {} });
      for (const l of lines.slice(0, lines.indexOf(line))) await twin.execute(l);
      const callsBefore = probe.calls.length;
      await twin.execute(line);
      const calls = probe.calls.length - callsBefore;
      await twin.close();
      for (let k = 1; k <= calls; k++) {
        const memory = JSON.stringify(await lab.snapshot());
        const ports = [...backend.ports.keys()].sort().join(" ");
        backend.failCall(k);
        const { errors } = await lab.execute(line);
        assert.notDeepEqual(errors, [], `${line} with call ${k} failing did not fail`);
        assert.equal(
          JSON.stringify(await lab.snapshot()),
          memory,
          `${line} with call ${k} failing changed the lab`,
        );
        assert.equal(
          [...backend.ports.keys()].sort().join(" "),
          ports,
          `${line} with call ${k} failing left ports`,
        );
        injected++;
      }
      assert.deepEqual((await lab.execute(line)).errors, [], `${line} without a failure`);
    }
    assert.ok(injected > 40, `only ${injected} faults injected`);
    await lab.close();
  });

  test("typed calls that fail throw a LabError with a code and change nothing", async () => {
    await using lab = await Lab.open({ seed: "typed" });
    const ns = lab.namespace();
    const [web] = await ns.launch(["web"], { networks: ["DMZ"], start: true });
    await web!.nic(0).setAddress("10.0.0.1/24");
    await ns.createTap("DMZ", { name: "admin" });
    const calls: [string, () => Promise<unknown>, string][] = [
      ["launch an existing VM", () => ns.launch(["web"]), "vm-exists"],
      ["launch with a bad netspec", () => ns.launch(["x"], { networks: ["a,b,c,d,e,f"] }), "invalid-netspec"],
      ["launch a VM named all", () => ns.launch(["all"]), "invalid-name"],
      ["start an unknown VM", () => ns.vm("nosuch").start(), "vm-not-found"],
      ["a NIC the VM does not have", () => web!.nic(4).setAddress("10.0.0.9/24"), "nic-not-found"],
      ["a bad address", () => web!.nic(0).setAddress("10.0.0.300/24"), "invalid-address"],
      ["connect to a bad VLAN", () => web!.nic(0).connect(5000), "invalid-vlan"],
      ["connect to VLAN 0", () => web!.nic(0).connect(0), "invalid-vlan"],
      ["connect to VLAN 4095", () => web!.nic(0).connect(4095), "invalid-vlan"],
      ["launch on VLAN 0", () => ns.launch(["x"], { networks: ["NEW", "0"] }), "invalid-vlan"],
      ["a tap on VLAN 4095", () => ns.createTap(4095), "invalid-vlan"],
      ["an alias for VLAN 0", () => ns.vlans.add("ZERO", 0), "invalid-vlan"],
      ["a range from VLAN 0", () => ns.vlans.setRange(0, 10), "invalid-argument"],
      ["a range to VLAN 4095", () => ns.vlans.setRange(10, 4096), "invalid-argument"],
      [
        "a namespace with a range from 0",
        () => lab.createNamespace("red", { vlanRange: { min: 0, max: 9 } }),
        "invalid-argument",
      ],
      ["a tap name taken", () => ns.createTap("DMZ", { name: "admin" }), "port-exists"],
      ["a tap named like a bridge", () => ns.createTap("DMZ", { name: "mega_bridge" }), "port-exists"],
      ["DHCP on the simulator", () => ns.createTap("DMZ", { dhcp: true }), "backend-failed"],
      ["mirror to itself", () => ns.mirror(web!.nic(0), web!.nic(0)), "invalid-argument"],
      [
        "an unknown namespace",
        () => Promise.resolve().then(() => lab.namespace("minimga")),
        "namespace-not-found",
      ],
      ["a namespace twice", () => lab.createNamespace("minimega"), "namespace-exists"],
      ["a VLAN alias in use", () => ns.vlans.add("DMZ", 300), "alias-in-use"],
      ["a bad range", () => ns.vlans.setRange(10, 5), "invalid-argument"],
      ["no route", () => web!.nic(0).ping("10.9.9.9"), "network-unreachable"],
      ["an unknown bridge", () => lab.bridge("nosuch").destroy(), "bridge-not-found"],
      ["a bridge VM NICs use", () => lab.bridge("mega_bridge").destroy(), "bridge-in-use"],
      ["an unknown trunk", () => lab.bridge("mega_bridge").untrunk("eth0"), "trunk-not-found"],
      ["an invalid command", () => lab.run("vlans bogus"), "invalid-command"],
      ["a failing command", () => lab.run("vm start nosuch"), "vm-not-found"],
    ];
    for (const [what, call, code] of calls) {
      const before = JSON.stringify(await lab.snapshot());
      await assert.rejects(call(), (e) => e instanceof LabError && e.code === code, what);
      assert.equal(JSON.stringify(await lab.snapshot()), before, `${what} changed the lab`);
    }
  });
});
