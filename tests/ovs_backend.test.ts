import { test } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { createExec, FakeRunner } from "../lib/exec.ts";
import { LabModel } from "../lib/lab/model.ts";
import { OvsBackend } from "../lib/real/ovs_backend.ts";
import { withPath } from "./_fixtures/fake_path.ts";

test("OvsBackend.startCapture() says to install tcpdump when it is missing", async () => {
  const path = process.env.PATH;
  process.env.PATH = "/nonexistent";
  try {
    const backend = new OvsBackend();
    await assert.rejects(
      backend.startCapture({
        id: 0,
        bridge: "b",
        port: "p",
        path: "/dev/null",
        snaplen: 1600,
        filter: "",
        limit: 1,
      }),
      { message: "Cannot capture on the ovs backend: tcpdump is not installed (apt-get install tcpdump)" },
    );
  } finally {
    process.env.PATH = path;
  }
});

/**
 * A fake Open vSwitch for OvsBackend: answers the check, the datapath question and every interface check
 * (no error, an OpenFlow port), and records each program run.
 */
function fakeHost(datapathTypes = "[netdev]") {
  const runs: string[][] = [];
  const runner = new FakeRunner();
  runner.on("ovs-vsctl", (argv) => {
    runs.push([...argv]);
    if (argv.includes("datapath_types")) return { stdout: `${datapathTypes}\n` };
    const checks = argv.filter((a) => a === "Interface").length;
    if (argv.includes("get") && checks > 0) return { stdout: "[]\n1\n".repeat(checks) };
    return {};
  });
  for (const program of ["ip", "ethtool", "ping", "tcpdump", "sysctl"]) {
    runner.on(program, (argv) => {
      runs.push([...argv]);
      return {};
    });
  }
  return { runs, exec: createExec({ runner }) };
}

test("OvsBackend brings up 200 container VMs' NICs with six ovs-vsctl processes", async () => {
  await withPath(["ethtool", "nft"], async () => {
    const { runs, exec } = fakeHost();
    const lab = new LabModel({ backend: new OvsBackend({ exec, namespacePrefix: "lw-" }), macSeed: 1 });
    await lab.configureNetworks("minimega", ["LAN"]);
    await lab.launchVms("minimega", "container", "200");
    const count = (program: string) => runs.filter((argv) => argv[0] === program).length;
    // the check, the datapath, the bridge and its check, then all 200 ports in one transaction and one check
    assert.equal(count("ovs-vsctl"), 6);
    const ports = runs.filter((argv) => argv[0] === "ovs-vsctl" && argv.includes("add-port"));
    assert.equal(ports.length, 1);
    assert.equal(ports[0]!.filter((a) => a === "add-port").length, 200);
    // `ip netns list`, one batch for every pair, one batch in each namespace (ethtool runs inside it), and
    // one batch that makes the 200 new namespaces silent (nft), as the VMs launch paused
    assert.equal(count("ip"), 203);
    assert.equal(count("ethtool"), 0);
    // one sysctl: the host ends of the 200 veths are bridge ports, which answer no ARP
    assert.equal(count("sysctl"), 1);
    const sysctl = runs.find((argv) => argv[0] === "sysctl")!;
    assert.equal(sysctl.filter((a) => /^net\/ipv4\/conf\/mega_tap\d+\/arp_ignore=8$/.test(a)).length, 200);
  });
});

test("OvsBackend on the kernel datapath leaves checksum offload alone, and needs no ethtool", async () => {
  await withPath(["nft"], async () => {
    // OVS offers the system datapath, and the probe bridge gets an OpenFlow port: the kernel's is used
    const { runs, exec } = fakeHost("[netdev, system]");
    const lab = new LabModel({ backend: new OvsBackend({ exec, namespacePrefix: "lw-" }), macSeed: 1 });
    await lab.configureNetworks("minimega", ["LAN"]);
    await lab.launchVms("minimega", "container", "a");
    const all = runs.map((a) => a.join(" "));
    assert.ok(all.some((r) => r.includes("datapath_type=system")), all.join("\n"));
    assert.ok(all.every((r) => !r.includes("ethtool")), all.join("\n"));
  }, { only: true });
});
