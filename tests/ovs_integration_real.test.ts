/**
 * The lab model on a private real Open vSwitch, end to end (issue 4): a trunk between two bridges carries
 * the VLAN tags, a mirror's output sees a VM's traffic with its tag, a bridge capture and a VM capture are
 * read back by tshark, and TCP (not only ping) crosses a bridge intact. Each test pins what was seen: echo
 * requests and replies counted per VLAN and address pair, with their VLAN ids (or none).
 *
 * Needs root, Open vSwitch, ping, tcpdump, tshark, ethtool and sysctl: skipped with a reason otherwise,
 * failed instead when CI or LABWIRE_REQUIRE_REAL=1 is set. Addresses are in 10.78.0.0/16 and traffic stays
 * between the namespaces and taps the test makes; everything it makes is removed in after().
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import process from "node:process";
import { setTimeout as sleep } from "node:timers/promises";
import { createExec, type RunResult } from "../lib/exec.ts";
import { LabModel as Lab } from "../lib/lab/model.ts";
import { OvsBackend } from "../lib/real/ovs_backend.ts";
import { ROOT, type Sandbox, skipUnless, startSandbox } from "./_fixtures/real.ts";

const PROGRAMS = [
  "ovs-vsctl",
  "ovsdb-server",
  "ovs-vswitchd",
  "nft",
  "ip",
  "ping",
  "tcpdump",
  "tshark",
  "ethtool",
  "sysctl",
  "dhclient",
  "dnsmasq",
];
/** What a ping's sent and received were, for comparing. */
function sentReceived(r: { sent: number; received: number }): { sent: number; received: number } {
  return { sent: r.sent, received: r.received };
}

const skip = skipUnless("ovs_integration_real.test.ts", PROGRAMS);

/** The lab namespace every VM and tap of these tests lives in. */
const NS = "minimega";
/** The prefix of the network namespaces the backend makes for container VMs. */
const PREFIX = `lwi${process.pid}-`;
/** Short, per-run names: interface names have 15 characters at most. */
const TRUNK_A = `lwi${process.pid}ta`;
const TRUNK_B = `lwi${process.pid}tb`;
const MIRROR_TAP = `lwi${process.pid}m`;
/** The fixture that moves bytes over TCP, run by this test's own runtime. */
const TCP_SCRIPT = path.join(ROOT, "tests", "_fixtures", "tcp_transfer.ts");
const RUNTIME = process.versions.bun !== undefined
  ? [process.execPath, TCP_SCRIPT]
  : [process.execPath, "run", "-A", TCP_SCRIPT];

/** Runs commands on the lab's host side: in the sandbox's namespace once before() started it. */
let hostExec = createExec();
const exec = (program: string) => hostExec(program);

/** One frame as tshark reads it: its VLAN ids ("" when untagged), IPv4 and ICMP, or ARP fields. */
interface Frame {
  readonly vlan: string;
  readonly ipSrc: string;
  readonly ipDst: string;
  readonly icmpType: string;
  readonly arpOpcode: string;
  readonly arpSender: string;
  readonly arpTarget: string;
}

const TSHARK_FIELDS = [
  "vlan.id",
  "ip.src",
  "ip.dst",
  "icmp.type",
  "arp.opcode",
  "arp.src.proto_ipv4",
  "arp.dst.proto_ipv4",
];

/** Every frame of a pcap file, read by tshark. */
async function readPcap(file: string): Promise<Frame[]> {
  const fields = TSHARK_FIELDS.flatMap((f) => ["-e", f]);
  const out = await exec("tshark").args("-r", file, "-T", "fields", ...fields).timeout(60_000).text();
  return out.split("\n").filter((line) => line !== "").map((line) => {
    const [vlan = "", ipSrc = "", ipDst = "", icmpType = "", arpOpcode = "", arpSender = "", arpTarget = ""] =
      line.split("\t");
    return { vlan, ipSrc, ipDst, icmpType, arpOpcode, arpSender, arpTarget };
  });
}

/**
 * The IPv4 ICMP frames of a capture, counted by `"<vlan> <src> > <dst> <request|reply>"` (`untagged` when
 * the frame has no 802.1Q tag), so that one deepEqual pins the counts, the VLAN ids and that nothing else
 * was seen.
 */
function icmpCounts(frames: readonly Frame[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const f of frames) {
    if (f.icmpType === "") continue;
    const kind = f.icmpType === "8" ? "request" : f.icmpType === "0" ? "reply" : `type ${f.icmpType}`;
    const key = `${f.vlan === "" ? "untagged" : f.vlan} ${f.ipSrc} > ${f.ipDst} ${kind}`;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

/** The distinct ARP frames of a capture, as `"<vlan> who-has <target>"` / `"<vlan> <sender> is-at"`. */
function arpKinds(frames: readonly Frame[]): Set<string> {
  const kinds = new Set<string>();
  for (const f of frames) {
    if (f.arpOpcode === "") continue;
    const vlan = f.vlan === "" ? "untagged" : f.vlan;
    kinds.add(f.arpOpcode === "1" ? `${vlan} who-has ${f.arpTarget}` : `${vlan} ${f.arpSender} is-at`);
  }
  return kinds;
}

/** A tcpdump writing an interface's frames to a file until {@linkcode Tcpdump.stop}. */
interface Tcpdump {
  /** Stops it with SIGINT (it completes the file) and returns its result. */
  stop(): Promise<RunResult>;
}

/** Aborts the background processes still running when after() comes (a test that failed half way). */
const running = new Set<AbortController>();

/**
 * Starts `tcpdump -i <iface> -e -nn --immediate-mode -U -w <file>` without a filter (a BPF filter misses the
 * tagged frames OVS transmits: environment.md 2.5), and waits until it listens (the pcap header is written).
 */
async function startTcpdump(iface: string, file: string): Promise<Tcpdump> {
  const abort = new AbortController();
  running.add(abort);
  const done = exec("tcpdump").args("-i", iface, "-e", "-nn", "--immediate-mode", "-U", "-w", file)
    .timeout(120_000).signal(abort.signal).killSignal("SIGINT").noThrow().run();
  let exited: RunResult | undefined;
  done.then((r) => exited = r, () => {});
  const deadline = Date.now() + 10_000;
  while (!(fs.existsSync(file) && fs.statSync(file).size >= 24)) {
    if (exited !== undefined) assert.fail(`tcpdump on ${iface} exited (${exited.code}): ${exited.stderr}`);
    if (Date.now() > deadline) assert.fail(`tcpdump on ${iface} did not start listening within 10 s`);
    await sleep(20);
  }
  return {
    async stop() {
      await sleep(200); // the last replies reach the capture
      abort.abort();
      const r = await done;
      running.delete(abort);
      assert.equal(r.timedOut, undefined, `tcpdump on ${iface} ran into its timeout: ${r.stderr}`);
      assert.equal(r.code, 0, `tcpdump on ${iface} failed: ${r.stderr}`);
      return r;
    },
  };
}

/** A namespace's `veth0` transmit checksum offload, as ethtool shows it (for failure messages). */
async function txChecksumming(namespace: string): Promise<string | undefined> {
  const r = await exec("ip").args("netns", "exec", namespace, "ethtool", "-k", "veth0").timeout(10_000)
    .noThrow().run();
  return /^tx-checksumming: .*$/m.exec(r.stdout)?.[0];
}

/** Runs argv (an `ip` command) and fails the test with its stderr when it fails. */
async function ip(...args: string[]): Promise<void> {
  await exec("ip").args(...args).timeout(10_000).run();
}

describe("the lab on a real Open vSwitch, end to end", { skip, timeout: 300_000 }, () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "labwire-integration-"));
  let sandbox: Sandbox | undefined;
  let lab: Lab | undefined;

  /** The lab, once before() made it. */
  function theLab(): Lab {
    assert.ok(lab !== undefined, "the lab was not made: see before()");
    return lab;
  }

  /** The host-side port of a VM's first NIC (`mega_tapN`). */
  function tapOf(vm: string): string {
    const nic = theLab().vms.find(NS, vm)?.nics[0];
    assert.ok(nic !== undefined, `vm ${vm} has no NIC`);
    return nic.tap;
  }

  /** Launches container VMs with one NIC `bridge,vlan` each, gives them addresses, returns the VLAN id. */
  async function launch(bridge: string, vlan: string, vms: Record<string, string>): Promise<number> {
    const l = theLab();
    const [nic] = await l.configureNetworks(NS, [`${bridge},${vlan}`]);
    assert.ok(nic !== undefined);
    await l.launchVms(NS, "container", Object.keys(vms).join(","));
    await l.startVms(NS, Object.keys(vms).join(","));
    for (const [vm, cidr] of Object.entries(vms)) await l.addVmAddress(NS, vm, "0", cidr);
    return nic.vlanId;
  }

  before(async () => {
    sandbox = await startSandbox(PROGRAMS);
    hostExec = sandbox.exec;
    lab = new Lab({
      backend: new OvsBackend({ env: sandbox.env, namespacePrefix: PREFIX }),
      macSeed: "integration",
    });
  });

  after(async () => {
    for (const abort of running) abort.abort();
    try {
      if (lab !== undefined) {
        try {
          await lab.clearAll();
        } finally {
          await lab.close();
        }
      }
    } finally {
      try {
        // the trunk's veth pair is the test's own; deleting one end deletes both
        await exec("ip").args("link", "delete", TRUNK_A).timeout(10_000).noThrow().run();
      } finally {
        try {
          await sandbox?.stop();
        } finally {
          fs.rmSync(dir, { recursive: true, force: true });
        }
      }
    }
  });

  test("a trunk between two bridges carries tags", async () => {
    const l = theLab();
    // VLAN X on both bridges, VLAN Y on both bridges; one subnet, so that only the VLAN keeps Y from X
    const x = await launch("lwibr0", "TRUNKX", { ta: "10.78.1.1/24" });
    const y = await launch("lwibr0", "TRUNKY", { td: "10.78.1.4/24" });
    assert.equal(await launch("lwibr1", "TRUNKX", { tb: "10.78.1.2/24" }), x);
    assert.equal(await launch("lwibr1", "TRUNKY", { tc: "10.78.1.3/24" }), y);
    assert.notEqual(x, y);

    await ip("link", "add", TRUNK_A, "type", "veth", "peer", "name", TRUNK_B);
    try {
      for (const end of [TRUNK_A, TRUNK_B]) {
        await exec("sysctl").args("-qw", `net.ipv6.conf.${end}.disable_ipv6=1`).timeout(10_000).run();
        await ip("link", "set", "dev", end, "up");
      }
      await l.trunk("lwibr0", TRUNK_A);
      await l.trunk("lwibr1", TRUNK_B);

      const pcap = path.join(dir, "trunk.pcap");
      const tcpdump = await startTcpdump(TRUNK_B, pcap);
      assert.deepEqual(
        sentReceived(await l.ping(NS, "ta:0", "10.78.1.2", 3)),
        { sent: 3, received: 3 },
        "X to X",
      );
      assert.deepEqual(
        sentReceived(await l.ping(NS, "tc:0", "10.78.1.4", 3)),
        { sent: 3, received: 3 },
        "Y to Y",
      );
      assert.deepEqual(
        sentReceived(await l.ping(NS, "tc:0", "10.78.1.1", 2)),
        { sent: 2, received: 0 },
        "Y to X",
      );
      await tcpdump.stop();

      const frames = await readPcap(pcap);
      assert.deepEqual(icmpCounts(frames), {
        [`${x} 10.78.1.1 > 10.78.1.2 request`]: 3,
        [`${x} 10.78.1.2 > 10.78.1.1 reply`]: 3,
        [`${y} 10.78.1.3 > 10.78.1.4 request`]: 3,
        [`${y} 10.78.1.4 > 10.78.1.3 reply`]: 3,
      });
      const arp = arpKinds(frames);
      // the ARP of each ping crosses the trunk tagged with its VLAN; on Y nobody answers for 10.78.1.1
      const expected = [
        `${x} who-has 10.78.1.2`,
        `${x} 10.78.1.2 is-at`,
        `${y} who-has 10.78.1.4`,
        `${y} 10.78.1.4 is-at`,
        `${y} who-has 10.78.1.1`,
      ];
      for (const kind of expected) assert.ok(arp.has(kind), `no "${kind}" in ${[...arp].join(", ")}`);
      assert.ok(!arp.has(`${y} 10.78.1.1 is-at`), `10.78.1.1 answered on VLAN Y: ${[...arp].join(", ")}`);
      const untagged = frames.filter((f) => f.vlan !== String(x) && f.vlan !== String(y));
      assert.deepEqual(untagged, [], "every frame on the trunk carries VLAN X or Y");
    } finally {
      await l.notrunk("lwibr0", TRUNK_A).catch(() => {});
      await l.notrunk("lwibr1", TRUNK_B).catch(() => {});
      await exec("ip").args("link", "delete", TRUNK_A).timeout(10_000).noThrow().run();
    }
  });

  test("a mirror's output on another VLAN's access port sees the traffic, untagged", async () => {
    const l = theLab();
    await launch("lwibr2", "MIRROR", {
      ma: "10.78.2.1/24",
      mb: "10.78.2.2/24",
      mc: "10.78.2.3/24",
    });
    // labwire refuses a tap on VLAN 0 (an untagged trunk, that kept the copies' tags): an access port
    // on a VLAN of its own gets the copies untagged
    const tap = await l.createTap(NS, "MIRROROUT", { bridge: "lwibr2", name: MIRROR_TAP });
    assert.equal(tap.name, MIRROR_TAP);
    const vsctl = exec("ovs-vsctl").env(sandbox?.env ?? {});
    assert.equal(
      await vsctl.args("--timeout=5", "get", "port", tap.name, "tag").text(),
      String(tap.vlan),
    );
    await l.mirrorTaps(NS, tapOf("ma"), tap.name, "lwibr2");

    const pcap = path.join(dir, "mirror.pcap");
    const tcpdump = await startTcpdump(tap.name, pcap);
    assert.deepEqual(sentReceived(await l.ping(NS, "mb:0", "10.78.2.1", 3)), { sent: 3, received: 3 });
    // mb to mc does not pass ma's port: the mirror does not see it
    assert.deepEqual(sentReceived(await l.ping(NS, "mb:0", "10.78.2.3", 2)), { sent: 2, received: 2 });
    await tcpdump.stop();

    assert.deepEqual(icmpCounts(await readPcap(pcap)), {
      "untagged 10.78.2.2 > 10.78.2.1 request": 3,
      "untagged 10.78.2.1 > 10.78.2.2 reply": 3,
    });
  });

  test("a bridge capture and a VM capture, read back by tshark", async () => {
    const l = theLab();
    const p = await launch("lwibr3", "CAPP", { pa: "10.78.3.1/24", pb: "10.78.3.2/24" });
    const q = await launch("lwibr3", "CAPQ", { qa: "10.78.3.11/24", qb: "10.78.3.12/24" });
    assert.notEqual(p, q);
    const bridgePcap = path.join(dir, "bridge.pcap");
    const vmPcap = path.join(dir, "vm.pcap");
    await l.captureBridge(NS, "lwibr3", { path: bridgePcap });
    await l.captureVm(NS, "pa", "0", { path: vmPcap });
    assert.deepEqual(sentReceived(await l.ping(NS, "pb:0", "10.78.3.1", 3)), { sent: 3, received: 3 });
    assert.deepEqual(sentReceived(await l.ping(NS, "qb:0", "10.78.3.11", 3)), { sent: 3, received: 3 });
    await sleep(200); // the last replies reach the captures
    await l.clearCaptures(NS);

    const bridge = await readPcap(bridgePcap);
    assert.deepEqual(icmpCounts(bridge), {
      [`${p} 10.78.3.2 > 10.78.3.1 request`]: 3,
      [`${p} 10.78.3.1 > 10.78.3.2 reply`]: 3,
      [`${q} 10.78.3.12 > 10.78.3.11 request`]: 3,
      [`${q} 10.78.3.11 > 10.78.3.12 reply`]: 3,
    });
    const arp = arpKinds(bridge);
    const expected = [
      `${p} who-has 10.78.3.1`,
      `${p} 10.78.3.1 is-at`,
      `${q} who-has 10.78.3.11`,
      `${q} 10.78.3.11 is-at`,
    ];
    for (const kind of expected) {
      assert.ok(arp.has(kind), `no "${kind}" in the bridge capture: ${[...arp].join(", ")}`);
    }
    assert.ok(
      [...arp].every((k) => k.startsWith(`${p} `) || k.startsWith(`${q} `)),
      `ARP without VLAN P or Q: ${[...arp].join(", ")}`,
    );

    const vm = await readPcap(vmPcap);
    assert.deepEqual(icmpCounts(vm), {
      "untagged 10.78.3.2 > 10.78.3.1 request": 3,
      "untagged 10.78.3.1 > 10.78.3.2 reply": 3,
    });
    assert.deepEqual(vm.filter((f) => f.vlan !== ""), [], "the VM capture has no 802.1Q tag");
    assert.ok(arpKinds(vm).has("untagged who-has 10.78.3.1"), [...arpKinds(vm)].join(", "));
    const otherVlan = vm.filter((f) =>
      [f.ipSrc, f.ipDst, f.arpSender, f.arpTarget].some((a) => /\.1[12]$/.test(a))
    );
    assert.deepEqual(otherVlan, [], "the VM capture has nothing of VLAN Q");
  });

  test("TCP through the bridge, not only ping", async () => {
    await launch("lwibr4", "TCP", { sa: "10.78.4.1/24", sb: "10.78.4.2/24" });
    const server = `${PREFIX}${NS}-sa`;
    const client = `${PREFIX}${NS}-sb`;
    const namespaces = await exec("ip").args("netns", "list").text();
    for (const ns of [server, client]) assert.match(namespaces, new RegExp(`^${ns}\\b`, "m"));

    const abort = new AbortController();
    running.add(abort);
    try {
      const env = { DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1" };
      // the client retries while the server is not listening yet (tcp_transfer.ts); both end within 20 s
      const served = exec("ip").args("netns", "exec", server, ...RUNTIME, "serve", "10.78.4.1", "5001")
        .env(env).timeout(60_000).signal(abort.signal).noThrow().run();
      const sendArgs = ["send", "10.78.4.1", "5001", String(1024 * 1024)];
      const sent = exec("ip").args("netns", "exec", client, ...RUNTIME, ...sendArgs)
        .env(env).timeout(60_000).signal(abort.signal).noThrow().run();
      const [s, c] = await Promise.all([served, sent]);
      const why = `server ${s.code}: ${s.stdout}${s.stderr}\nclient ${c.code}: ${c.stdout}${c.stderr}\n` +
        `${server} ${await txChecksumming(server)}, ${client} ${await txChecksumming(client)}`;
      assert.equal(s.code, 0, why);
      assert.equal(c.code, 0, why);
      const received = /^listening 10\.78\.4\.1 5001\nreceived ([0-9a-f]{64}) (\d+)\n$/.exec(s.stdout);
      const wrote = /^sent ([0-9a-f]{64}) (\d+)\n$/.exec(c.stdout);
      assert.ok(received !== null && wrote !== null, why);
      assert.equal(wrote[2], "1048576");
      assert.equal(received[2], "1048576", why);
      assert.equal(received[1], wrote[1], "the server received other bytes than the client sent");
    } finally {
      abort.abort();
      running.delete(abort);
    }
  });

  test("a host tap gets its address by DHCP from a server on its VLAN, and fails clearly on another", async () => {
    const l = theLab();
    await launch("lwibr5", "DHCP", { dh: "10.78.5.1/24" });
    const abort = new AbortController();
    running.add(abort);
    const pidFile = path.join(dir, "dnsmasq.pid");
    // a DHCP server in the VM: dnsmasq bound to its NIC only, no DNS
    const served = exec("ip").args(
      "netns",
      "exec",
      `${PREFIX}${NS}-dh`,
      "dnsmasq",
      "--keep-in-foreground",
      "--conf-file=/dev/null",
      "--port=0",
      "--no-resolv",
      "--no-hosts",
      "--bind-interfaces",
      "--interface=veth0",
      "--dhcp-range=10.78.5.50,10.78.5.60,255.255.255.0,1h",
      `--dhcp-leasefile=${path.join(dir, "dnsmasq.leases")}`,
      `--pid-file=${pidFile}`,
      "--no-ping",
    ).timeout(120_000).signal(abort.signal).noThrow().run();
    try {
      for (
        let waited = 0;
        !(fs.existsSync(pidFile) && fs.readFileSync(pidFile, "utf8").trim() !== "");
        waited++
      ) {
        assert.ok(waited < 500, "dnsmasq wrote no PID file within 10 s");
        await sleep(20);
      }
      const tap =
        (await l.createTap(NS, "DHCP", { bridge: "lwibr5", name: `lwi${process.pid}d`, dhcp: true })).name;
      const [address] = l.taps.get(tap)!.ips;
      assert.match(address ?? "", /^10\.78\.5\.(5\d|60)\/24$/);
      const shown = await exec("ip").args("-o", "-4", "addr", "show", "dev", tap).text();
      assert.match(shown, new RegExp(`inet ${address!.replace(/\./g, "\\.")} `));
      assert.deepEqual(sentReceived(await l.ping(NS, tap, "10.78.5.1", 2)), { sent: 2, received: 2 });
      await l.deleteTap(NS, tap);
      // on another VLAN nobody answers: one sentence after the timeout, and no tap is left
      const started = Date.now();
      await assert.rejects(
        l.createTap(NS, "NODHCP", { bridge: "lwibr5", name: `lwi${process.pid}e`, dhcp: true }),
        {
          message:
            `Cannot get an address by DHCP for lwi${process.pid}e: no DHCP server answered within 10 s`,
        },
      );
      assert.ok(Date.now() - started < 20_000, `took ${Date.now() - started} ms`);
      assert.equal(fs.existsSync(`/sys/class/net/lwi${process.pid}e`), false, "the tap was removed");
    } finally {
      abort.abort();
      running.delete(abort);
      await served;
    }
  });
});
