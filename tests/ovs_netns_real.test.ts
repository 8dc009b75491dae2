/**
 * Labs in OVS namespaces (the ovs backend's `ovsNetns`) on real Open vSwitch: two labs at once, each with an
 * Open vSwitch of its own in a network namespace of its own, with the same bridge, VM and tap names, the
 * same addresses and the same MACs, ping inside each with no cross-talk (each capture holds its own lab's
 * frames only) and are both removed; and an Open vSwitch left running on the host, with a bridge of the
 * lab's name, does not break a lab in a namespace. Needs root, Open vSwitch, nsenter, ping, tcpdump,
 * ethtool and nft: skipped with the reason otherwise, failed instead when CI or LABWIRE_REQUIRE_REAL=1 is
 * set.
 */
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createExec, nodeRunner } from "../lib/exec.ts";
import { LabModel } from "../lib/lab/model.ts";
import { OvsBackend } from "../lib/real/ovs_backend.ts";
import { isAlive, type Sandbox, skipUnless, startSandbox } from "./_fixtures/real.ts";

const PROGRAMS = [
  "ovs-vsctl",
  "ovsdb-server",
  "ovs-vswitchd",
  "ip",
  "nsenter",
  "ping",
  "tcpdump",
  "ethtool",
  "nft",
];
const skip = skipUnless("ovs_netns_real.test.ts", PROGRAMS);
const exec = createExec();
/** The one tap name both labs use. */
const TAP = "lwnstap";

/** A lab on an Open vSwitch in a namespace of its own. */
interface NsLab {
  readonly sandbox: Sandbox;
  readonly lab: LabModel;
  readonly backend: OvsBackend;
}

/** Starts a sandbox in a new namespace and a lab on it; every lab made here has the same MACs. */
async function nsLab(): Promise<NsLab> {
  const sandbox = await startSandbox(PROGRAMS);
  assert.notEqual(sandbox.netns, undefined);
  const backend = new OvsBackend({ env: sandbox.env });
  const lab = new LabModel({ backend, macSeed: "netns" });
  return { sandbox, lab, backend };
}

/** Makes the same lab: VMs a (10.77.9.1) and b (10.77.9.2) on LAN, the host tap 10.77.9.254, a started. */
async function build(lab: LabModel): Promise<void> {
  await lab.configureNetworks("minimega", ["LAN"]);
  await lab.launchVms("minimega", "container", "a,b");
  await lab.startVms("minimega", "all");
  await lab.addVmAddress("minimega", "a", "0", "10.77.9.1/24");
  await lab.addVmAddress("minimega", "b", "0", "10.77.9.2/24");
  await lab.createTap("minimega", "LAN", { name: TAP, ip: "10.77.9.254/24" });
}

/** The ICMP echo requests and replies in a pcap file, as tcpdump reads them. */
async function echoes(pcap: string): Promise<{ requests: number; replies: number; text: string }> {
  const r = await nodeRunner.run(["tcpdump", "-r", pcap, "-nn", "icmp"], { timeoutMs: 30_000 });
  assert.equal(r.code, 0, r.stderr);
  return {
    requests: (r.stdout.match(/ICMP echo request/g) ?? []).length,
    replies: (r.stdout.match(/ICMP echo reply/g) ?? []).length,
    text: r.stdout,
  };
}

/** Removes a lab and its sandbox; the namespace goes with the sandbox. */
async function remove(l: NsLab | undefined): Promise<void> {
  if (l === undefined) return;
  try {
    await l.lab.clearAll();
    await l.lab.close();
  } finally {
    await l.sandbox.stop();
  }
}

/** The namespaces whose name starts with `prefix`. */
async function namespacesOf(prefix: string): Promise<string[]> {
  return (await exec("ip").args("netns", "list").lines()).map((l) => l.split(" ")[0]!).filter((n) =>
    n.startsWith(prefix)
  );
}

describe("labs in OVS namespaces", { skip, timeout: 240_000 }, () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "labwire-netns-"));
  const made: (NsLab | undefined)[] = [];
  let host: Sandbox | undefined;

  after(async () => {
    try {
      for (const l of made) await remove(l).catch(() => {});
      await host?.stop();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test("two labs with the same names, addresses and MACs ping at once, each seeing only its own", async () => {
    const [one, two] = await Promise.all([nsLab(), nsLab()]);
    made.push(one, two);
    await Promise.all([build(one.lab), build(two.lab)]);
    // the very same names and MACs, in two namespaces
    const macs = (l: LabModel) =>
      l.vms.list("minimega").flatMap((vm) => vm.nics.map((n) => `${n.tap} ${n.mac}`));
    assert.deepEqual(macs(one.lab), macs(two.lab));
    assert.deepEqual(macs(one.lab).map((m) => m.split(" ")[0]), ["mega_tap0", "mega_tap1"]);
    for (const { sandbox, backend } of [one, two]) {
      assert.equal(backend.ovsNetns, sandbox.netns);
      // the names in use are the namespace's (minimega's tap names skip them)
      assert.deepEqual([backend.nameInUse("mega_tap1"), backend.nameInUse("mega_tap2")], [true, false]);
      const links = await sandbox.exec("ip").args("-o", "link", "show").text();
      for (const dev of ["mega_bridge", "mega_tap0", "mega_tap1", TAP]) {
        assert.match(links, new RegExp(`: ${dev}[@:]`));
      }
      assert.deepEqual(
        (await namespacesOf(`${sandbox.netns}-`)).sort(),
        [`${sandbox.netns}-minimega-a`, `${sandbox.netns}-minimega-b`],
      );
    }

    // a backend told another namespace than its Open vSwitch's says so before it makes anything
    const pidOne = fs.readFileSync(path.join(one.sandbox.dir, "ovs-vswitchd.pid"), "utf8").trim();
    await assert.rejects(
      new OvsBackend({ env: { ...one.sandbox.env, LABWIRE_OVS_NETNS: "" } }).addBridge("lwx"),
      {
        message:
          `Cannot use Open vSwitch (ovs-vswitchd PID ${pidOne}) from the host's own network namespace: it ` +
          `runs in network namespace ${one.sandbox.netns}; give --ovs-netns ${one.sandbox.netns} ` +
          `(LABWIRE_OVS_NETNS=${one.sandbox.netns})`,
      },
    );
    await assert.rejects(
      new OvsBackend({ env: one.sandbox.env, ovsNetns: two.sandbox.netns! }).addBridge("lwx"),
      {
        message:
          `Cannot use Open vSwitch (ovs-vswitchd PID ${pidOne}) from network namespace ${two.sandbox.netns}: ` +
          `it runs in network namespace ${one.sandbox.netns}; give --ovs-netns ${one.sandbox.netns} ` +
          `(LABWIRE_OVS_NETNS=${one.sandbox.netns})`,
      },
    );

    // lab one: 2 pings a -> b, 1 from the tap; lab two: 3 and 2. Cross-talk would add the other's frames.
    const pcaps = [path.join(dir, "one.pcap"), path.join(dir, "two.pcap")];
    await Promise.all([one, two].map((l, i) => l.lab.captureVm("minimega", "a", "0", { path: pcaps[i]! })));
    const counts = [[2, 1], [3, 2]] as const;
    const results = await Promise.all([one, two].map(async (l, i) => {
      const [vmPings, tapPings] = counts[i]!;
      const fromVm = await l.lab.ping("minimega", "a:0", "10.77.9.2", vmPings);
      const fromTap = await l.lab.ping("minimega", TAP, "10.77.9.1", tapPings);
      return [fromVm.received, fromTap.received];
    }));
    assert.deepEqual(results, [[2, 1], [3, 2]]);
    await Promise.all([one, two].map((l) => l.lab.clearCaptures("minimega")));
    for (const [i, pcap] of pcaps.entries()) {
      const seen = await echoes(pcap);
      const want = counts[i]![0] + counts[i]![1];
      assert.deepEqual([seen.requests, seen.replies], [want, want], `lab ${i + 1}:\n${seen.text}`);
    }

    // both go, and their namespaces (the OVS's and the VMs') with them
    await remove(made.shift());
    await remove(made.shift());
    for (const { sandbox } of [one, two]) {
      assert.deepEqual(await namespacesOf(sandbox.netns!), [], `${sandbox.netns} is gone`);
      assert.equal(fs.existsSync(sandbox.dir), false);
    }
  });

  test("a host tap in the OVS namespace gets its address by DHCP (dhclient there) from a container VM", {
    skip: skipUnless("ovs_netns_real.test.ts (DHCP)", [...PROGRAMS, "dhclient", "dnsmasq"]),
  }, async () => {
    const l = await nsLab();
    made.push(l);
    await l.lab.configureNetworks("minimega", ["LAN"]);
    await l.lab.launchVms("minimega", "container", "srv");
    await l.lab.startVms("minimega", "srv");
    await l.lab.addVmAddress("minimega", "srv", "0", "10.77.9.1/24");
    const pidFile = path.join(dir, "dnsmasq.pid");
    const stop = new AbortController();
    const served = exec("ip").args(
      "netns",
      "exec",
      `${l.sandbox.netns}-minimega-srv`,
      "dnsmasq",
      "--keep-in-foreground",
      "--log-facility=-",
      "--conf-file=/dev/null",
      "--port=0",
      "--no-resolv",
      "--no-hosts",
      "--bind-interfaces",
      "--interface=veth0",
      "--dhcp-range=10.77.9.50,10.77.9.60,255.255.255.0,1h",
      `--dhcp-leasefile=${path.join(dir, "dnsmasq.leases")}`,
      `--pid-file=${pidFile}`,
      "--no-ping",
    ).signal(stop.signal).timeout(120_000).noThrow().run();
    try {
      const deadline = Date.now() + 10_000;
      while (!fs.existsSync(pidFile) || fs.readFileSync(pidFile, "utf8").trim() === "") {
        assert.ok(Date.now() < deadline, "dnsmasq wrote no PID file within 10 s");
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const tap = await l.lab.createTap("minimega", "LAN", { name: TAP, dhcp: true });
      assert.match(tap.ips[0] ?? "", /^10\.77\.9\.(5\d|60)\/24$/);
      const shown = await l.sandbox.exec("ip").args("-4", "-o", "addr", "show", "dev", TAP).text();
      assert.ok(shown.includes(` ${tap.ips[0]} `), shown);
      assert.equal((await l.lab.ping("minimega", TAP, "10.77.9.1", 2)).received, 2);
    } finally {
      stop.abort();
      await served;
    }
    await remove(made.pop());
  });

  test("an Open vSwitch left running on the host, with the lab's bridge name, does not break a lab in a namespace", async () => {
    // an Open vSwitch on the host holds its ovs-netdev: one running already (a developer's sandbox left
    // running, another CI job) is the very case; else one of ours, as such a sandbox would be, with the
    // lab's bridge name (the host-wide lock: only while no other one runs on the host)
    const busy = fs.existsSync("/sys/class/net/ovs-netdev");
    if (!busy) {
      host = await startSandbox(PROGRAMS, { netns: false });
      assert.equal(host.netns, undefined);
      const vsctl = exec("ovs-vsctl").args("--timeout=5").env(host.env);
      await vsctl.args("add-br", "mega_bridge", "--", "set", "bridge", "mega_bridge", "datapath_type=netdev")
        .run();
      assert.equal(await vsctl.args("get", "interface", "mega_bridge", "error").text(), "[]");
    }
    assert.ok(fs.existsSync("/sys/class/net/ovs-netdev"), "a userspace Open vSwitch runs on the host");

    const l = await nsLab();
    made.push(l);
    if (host !== undefined) {
      const hostPid = fs.readFileSync(path.join(host.dir, "ovs-vswitchd.pid"), "utf8").trim();
      await assert.rejects(new OvsBackend({ env: host.env, ovsNetns: l.sandbox.netns! }).addBridge("lwx"), {
        message:
          `Cannot use Open vSwitch (ovs-vswitchd PID ${hostPid}) from network namespace ${l.sandbox.netns}: ` +
          "it runs in the host's own network namespace; run labwire without --ovs-netns (and LABWIRE_OVS_NETNS)",
      });
    }
    await build(l.lab);
    assert.equal((await l.lab.ping("minimega", "a:0", "10.77.9.2", 2)).received, 2);
    assert.equal((await l.lab.ping("minimega", TAP, "10.77.9.1", 2)).received, 2);
    const vsctlNs = exec("ovs-vsctl").args("--timeout=5").env(l.sandbox.env);
    assert.equal(await vsctlNs.args("get", "interface", "mega_bridge", "error").text(), "[]");
    await remove(made.pop());
    if (host !== undefined) {
      // the host's bridge is untouched by the lab
      const vsctl = exec("ovs-vsctl").args("--timeout=5").env(host.env);
      assert.equal(await vsctl.args("get", "interface", "mega_bridge", "error").text(), "[]");
      await vsctl.args("del-br", "mega_bridge").run();
      await host.stop();
      host = undefined;
    }
  });

  test("a sandbox's stop ends what a test left in its namespace and the lab's, by PID, and deletes those", async () => {
    const sandbox = await startSandbox(PROGRAMS);
    const child = `${sandbox.netns}-minimega-x`;
    const pids: number[] = [];
    try {
      await nodeRunner.run(["ip", "netns", "add", child], { timeoutMs: 10_000 });
      // a process in each, as a CLI stopped at a test's timeout leaves its tcpdumps and dhclients
      for (const ns of [sandbox.netns!, child]) {
        const r = await nodeRunner.run(
          ["ip", "netns", "exec", ns, "sh", "-c", "sleep 600 >/dev/null 2>&1 & echo $!"],
          { timeoutMs: 10_000 },
        );
        pids.push(Number(r.stdout.trim()));
      }
      assert.ok(pids.every((pid) => pid > 0 && isAlive(pid)), `${pids}`);
    } finally {
      await sandbox.stop();
    }
    assert.deepEqual(pids.filter(isAlive), [], "the processes left are gone");
    assert.ok(!fs.existsSync(`/run/netns/${child}`), "the lab's namespace is gone");
    assert.ok(!fs.existsSync(`/run/netns/${sandbox.netns}`), "the sandbox's namespace is gone");
  });
});
