/** lib/real/netns.ts through a fake `ip`: what plugging, unplugging and pinging run, and when. */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { createExec, FakeRunner, type RunResult } from "../lib/exec.ts";
import { Netns, pingArgs } from "../lib/real/netns.ts";
import { withPath } from "./_fixtures/fake_path.ts";

/** A fake `ip` (and `ping`) that records each run with its standard input. */
function fakeIp(answer: (argv: readonly string[], stdin: string) => Partial<RunResult> = () => ({})) {
  const runs: string[] = [];
  const runner = new FakeRunner();
  for (const program of ["ip", "ping"]) {
    runner.on(program, (argv, options) => {
      const stdin = options.stdin ?? "";
      runs.push(
        [argv.join(" "), ...stdin.split("\n").filter((l) => l !== "").map((l) => `  ${l}`)].join("\n"),
      );
      return answer(argv, stdin);
    });
  }
  return { runs, netns: new Netns({ exec: createExec({ runner }) }) };
}

const NICS = [
  { hostEnd: "mega_tap0", namespace: "lw-a", ifname: "veth0", mac: "02:00:00:00:00:01" },
  { hostEnd: "mega_tap1", namespace: "lw-a", ifname: "veth1", mac: "02:00:00:00:00:02" },
  { hostEnd: "mega_tap2", namespace: "lw-b", ifname: "veth0", mac: "02:00:00:00:00:03" },
];

describe("Netns", () => {
  test("plug() makes namespaces and pairs in one batch, then one batch per namespace", async () => {
    await withPath(["ethtool"], async () => {
      const { runs, netns } = fakeIp((argv) => argv[1] === "netns" ? { stdout: "lw-b (id: 3)\n" } : {});
      assert.deepEqual(await netns.plug(NICS), ["lw-a"]);
      const quiet = (dev: string) => [
        `  link set dev ${dev} addrgenmode none`,
        `  ntable change name arp_cache dev ${dev} delay_probe 86400000 base_reachable 86400000`,
        `  link set dev ${dev} up`,
      ];
      assert.deepEqual(runs, [
        "ip netns list",
        [
          "ip -batch -",
          "  netns add lw-a",
          "  link add mega_tap0 type veth peer name veth0 netns lw-a address 02:00:00:00:00:01",
          "  link set dev mega_tap0 addrgenmode none",
          "  link set dev mega_tap0 up",
          "  netns exec lw-a ethtool -K veth0 tx off",
          "  link add mega_tap1 type veth peer name veth1 netns lw-a address 02:00:00:00:00:02",
          "  link set dev mega_tap1 addrgenmode none",
          "  link set dev mega_tap1 up",
          "  netns exec lw-a ethtool -K veth1 tx off",
          "  link add mega_tap2 type veth peer name veth0 netns lw-b address 02:00:00:00:00:03",
          "  link set dev mega_tap2 addrgenmode none",
          "  link set dev mega_tap2 up",
          "  netns exec lw-b ethtool -K veth0 tx off",
        ].join("\n"),
        ["ip -n lw-a -batch -", "  link set dev lo up", ...quiet("veth0"), ...quiet("veth1")].join("\n"),
        ["ip -n lw-b -batch -", ...quiet("veth0")].join("\n"),
      ]);
    });
  });

  test("plug() leaves checksum offload alone when told to, and needs no ethtool then", async () => {
    await withPath([], async () => {
      const { runs, netns } = fakeIp();
      await netns.plug([NICS[0]!], { checksumOffloadOff: false });
      assert.ok(runs.every((r) => !r.includes("ethtool")), runs.join("\n"));
    }, { only: true });
  });

  test("plug() says to install ethtool before it makes anything", async () => {
    await withPath([], async () => {
      const { runs, netns } = fakeIp();
      await assert.rejects(netns.plug(NICS), {
        message: "Cannot plug container NICs: ethtool is not installed, and TCP through Open vSwitch's " +
          "userspace datapath stalls without it (apt-get install ethtool)",
      });
      assert.deepEqual(runs, []);
    }, { only: true });
  });

  test("plug() removes what it made when a namespace's batch fails", async () => {
    await withPath(["ethtool"], async () => {
      const { runs, netns } = fakeIp((argv) =>
        argv.includes("lw-b") && argv.includes("-batch")
          ? { code: 1, stderr: "Error: ntable change failed\nCommand failed -:3\n" }
          : {}
      );
      await assert.rejects(netns.plug(NICS), {
        name: "IpBatchError",
        message:
          'Cannot run "ip ntable change name arp_cache dev veth0 delay_probe 86400000 base_reachable ' +
          '86400000" in network namespace lw-b: Error: ntable change failed',
      });
      const undo = runs.at(-1)!.split("\n");
      assert.equal(undo[0], "ip -force -batch -");
      const group = /^ {2}link set dev mega_tap0 group (\d+)$/.exec(undo[1]!)?.[1];
      assert.ok(group !== undefined && Number(group) >= 0x6c00_0000, undo.join("\n"));
      assert.deepEqual(undo.slice(1), [
        `  link set dev mega_tap0 group ${group}`,
        `  link set dev mega_tap1 group ${group}`,
        `  link set dev mega_tap2 group ${group}`,
        `  link delete group ${group}`,
        "  netns delete lw-a",
        "  netns delete lw-b",
      ]);
    });
  });

  test("unplug() takes a device or namespace that is gone already in its stride, not other failures", async () => {
    const gone = fakeIp(() => ({ code: 1, stderr: 'Cannot find device "t0"\nCommand failed -:1\n' }));
    await gone.netns.unplug(["t0"], ["lw-a"]);
    // the link group is empty when the pair went with its namespace already
    const empty = fakeIp(() => ({
      code: 1,
      stderr: "RTNETLINK answers: No such device\nCommand failed -:2\n",
    }));
    await empty.netns.unplug(["t0"]);
    const denied = fakeIp(() => ({
      code: 1,
      stderr: 'Cannot remove namespace file "/run/netns/lw-a": Permission denied\nCommand failed -:3\n',
    }));
    await assert.rejects(denied.netns.unplug(["t0"], ["lw-a"]), {
      name: "IpBatchError",
      message:
        'Cannot run "ip netns delete lw-a": Cannot remove namespace file "/run/netns/lw-a": Permission denied',
    });
  });

  test("ping() paces as labwire's ping does, and forgets an address nobody answered", async () => {
    const summary = (received: number) => ({
      stdout: `2 packets transmitted, ${received} received, ${received === 2 ? 0 : 100}% packet loss\n`,
    });
    const answered = fakeIp((argv) => argv.includes("ping") ? summary(2) : {});
    assert.deepEqual(await answered.netns.ping("lw-a", "10.0.0.2", 2), { sent: 2, received: 2 });
    assert.deepEqual(answered.runs, [`ip netns exec lw-a ping ${pingArgs("10.0.0.2", 2).join(" ")}`]);
    const silent = fakeIp((argv) => argv.includes("ping") ? summary(0) : {});
    assert.deepEqual(await silent.netns.ping("lw-a", "10.0.0.3", 2), { sent: 2, received: 0 });
    assert.deepEqual(silent.runs.slice(1), ["ip -n lw-a -batch -\n  neigh flush to 10.0.0.3"]);
  });
});
