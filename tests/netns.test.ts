/** lib/real/netns.ts through a fake `ip`: what plugging, unplugging and pinging run, and when. */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { createExec, FakeRunner, type RunResult } from "../lib/exec.ts";
import { Netns, parsePingOutput, parsePingSummary, pingArgs } from "../lib/real/netns.ts";
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

  test("pingFrom() asks the routes first and pings only through the NIC named", async () => {
    const ok = fakeIp((argv) =>
      argv.includes("route")
        ? {
          stdout: '[{"dst":"10.0.0.2","dev":"veth0","prefsrc":"10.0.0.1","flags":[],"uid":0,"cache":[]}]\n',
        }
        : argv.includes("ping")
        ? {
          stdout:
            "64 bytes from 10.0.0.2: icmp_seq=1 ttl=64 time=0.3 ms\n1 packets transmitted, 1 received\n",
        }
        : {}
    );
    assert.deepEqual(await ok.netns.pingFrom("lw-a", "veth0", "10.0.0.2", 1), {
      sent: 1,
      received: 1,
      errors: 0,
      rttMs: [0.3],
      networkUnreachable: false,
    });
    assert.deepEqual(ok.runs, [
      "ip -n lw-a -4 -j route get 10.0.0.2",
      `ip netns exec lw-a ping ${pingArgs("10.0.0.2", 1).join(" ")}`,
    ]);
    const elsewhere = fakeIp((argv) =>
      argv.includes("route") ? { stdout: '[{"dst":"10.0.0.2","dev":"veth1","flags":[],"uid":0}]\n' } : {}
    );
    assert.equal((await elsewhere.netns.pingFrom("lw-a", "veth0", "10.0.0.2", 1)).networkUnreachable, true);
    assert.equal(elsewhere.runs.length, 1, "no ping through veth1");
    const none = fakeIp((argv) =>
      argv.includes("route") ? { code: 2, stderr: "RTNETLINK answers: Network is unreachable\n" } : {}
    );
    assert.equal((await none.netns.pingFrom("lw-a", "veth0", "10.9.0.2", 1)).networkUnreachable, true);
    assert.equal(none.runs.length, 1);
  });

  test("pingFrom() reaches the namespace's own address only when this NIC holds it", async () => {
    const local = (argv: readonly string[]) =>
      argv.includes("route")
        ? {
          stdout: '[{"type":"local","dst":"10.0.0.1","dev":"lo","prefsrc":"10.0.0.1","flags":[],"uid":0}]\n',
        }
        : argv.includes("addr")
        ? {
          stdout: argv.includes("veth0")
            ? '[{"ifname":"veth0","addr_info":[{"family":"inet","local":"10.0.0.1","prefixlen":24}]}]\n'
            : "[]\n",
        }
        : argv.includes("ping")
        ? { stdout: "1 packets transmitted, 1 received, 0% packet loss\n" }
        : {};
    const mine = fakeIp(local);
    assert.equal((await mine.netns.pingFrom("lw-a", "veth0", "10.0.0.1", 1)).received, 1);
    assert.deepEqual(mine.runs.slice(0, 2), [
      "ip -n lw-a -4 -j route get 10.0.0.1",
      "ip -n lw-a -4 -j addr show dev veth0",
    ]);
    const other = fakeIp(local);
    assert.equal((await other.netns.pingFrom("lw-a", "veth1", "10.0.0.1", 1)).networkUnreachable, true);
  });

  test("pingFrom() fails with ip's words when the namespace is gone", async () => {
    const gone = fakeIp(() => ({
      code: 1,
      stderr: 'Cannot open network namespace "lw-a": No such file or directory\n',
    }));
    await assert.rejects(gone.netns.pingFrom("lw-a", "veth0", "10.0.0.2", 1), {
      name: "ExecError",
      message: 'Cannot run "ip -n lw-a -4 -j route get 10.0.0.2": exited with code 1\n\n' +
        'Cannot open network namespace "lw-a": No such file or directory',
    });
  });

  test("addresses() reads an interface's IPv4 addresses, in the host or a namespace", async () => {
    const { runs, netns } = fakeIp(() => ({
      stdout:
        '[{"ifindex":5,"ifname":"t0","addr_info":[{"family":"inet","local":"10.0.0.254","prefixlen":24},' +
        '{"family":"inet","local":"10.1.0.1","prefixlen":16}]}]\n',
    }));
    assert.deepEqual(await netns.addresses(undefined, "t0"), [
      { address: "10.0.0.254", prefixLength: 24 },
      { address: "10.1.0.1", prefixLength: 16 },
    ]);
    await netns.addresses("lw-a", "veth0");
    assert.deepEqual(runs, ["ip -4 -j addr show dev t0", "ip -n lw-a -4 -j addr show dev veth0"]);
  });
});

/** What ping(8) printed on the real kernel (iputils 20221126, Linux 6.18), measured. */
const MEASURED = {
  replies: [
    "PING 10.66.0.2 (10.66.0.2) 56(84) bytes of data.",
    "64 bytes from 10.66.0.2: icmp_seq=1 ttl=64 time=0.265 ms",
    "64 bytes from 10.66.0.2: icmp_seq=2 ttl=64 time=0.047 ms",
    "64 bytes from 10.66.0.2: icmp_seq=3 ttl=64 time=0.048 ms",
    "",
    "--- 10.66.0.2 ping statistics ---",
    "3 packets transmitted, 3 received, 0% packet loss, time 407ms",
    "rtt min/avg/max/mdev = 0.047/0.120/0.265/0.102 ms",
  ].join("\n"),
  /** `-c 10` to an address in the subnet nobody has: ARP gave up on each request. */
  errors: [
    "PING 10.66.0.9 (10.66.0.9) 56(84) bytes of data.",
    ...Array.from({ length: 10 }, (_, i) => `From 10.66.0.1 icmp_seq=${i + 1} Destination Host Unreachable`),
    "",
    "--- 10.66.0.9 ping statistics ---",
    "10 packets transmitted, 0 received, +10 errors, 100% packet loss, time 1834ms",
    "pipe 10",
  ].join("\n"),
  /** `-c 3` to the same: the run ends (2.5 s wait) before ARP gives up, so no errors. */
  silent: [
    "PING 10.66.0.9 (10.66.0.9) 56(84) bytes of data.",
    "",
    "--- 10.66.0.9 ping statistics ---",
    "3 packets transmitted, 0 received, 100% packet loss, time 407ms",
  ].join("\n"),
  /** From a NIC with no address, or to an address off every subnet: exit code 2, on standard error. */
  unreachable: "ping: connect: Network is unreachable\n",
};

describe("parsePingOutput()", () => {
  test("reads each reply's round trip in order, and the summary's counts", () => {
    assert.deepEqual(parsePingOutput(MEASURED.replies), {
      sent: 3,
      received: 3,
      errors: 0,
      rttMs: [0.265, 0.047, 0.048],
      networkUnreachable: false,
    });
  });

  test("reads the summary's `+N errors`", () => {
    assert.deepEqual(parsePingOutput(MEASURED.errors), {
      sent: 10,
      received: 0,
      errors: 10,
      rttMs: [],
      networkUnreachable: false,
    });
    assert.deepEqual(parsePingOutput(MEASURED.silent), {
      sent: 3,
      received: 0,
      errors: 0,
      rttMs: [],
      networkUnreachable: false,
    });
  });

  test("reads `connect: Network is unreachable` as networkUnreachable, nothing sent", () => {
    assert.deepEqual(parsePingOutput(`\n${MEASURED.unreachable}`), {
      sent: 0,
      received: 0,
      errors: 0,
      rttMs: [],
      networkUnreachable: true,
    });
  });

  test("leaves duplicates out, as the summary does, and reads busybox's lines", () => {
    const dup = [
      "64 bytes from 10.0.0.2: icmp_seq=1 ttl=64 time=0.120 ms",
      "64 bytes from 10.0.0.2: icmp_seq=1 ttl=64 time=0.130 ms (DUP!)",
      "64 bytes from 10.0.0.2: icmp_seq=2 ttl=64 time=105 ms",
      "2 packets transmitted, 2 received, +1 duplicates, +1 errors, 0% packet loss, time 201ms",
    ].join("\n");
    assert.deepEqual(parsePingOutput(dup), {
      sent: 2,
      received: 2,
      errors: 1,
      rttMs: [0.12, 105],
      networkUnreachable: false,
    });
    const busybox = "64 bytes from 10.0.0.1: seq=0 ttl=64 time=12.725 ms\n" +
      "--- 10.0.0.1 ping statistics ---\n2 packets transmitted, 1 packets received, 50% packet loss\n";
    assert.deepEqual(parsePingOutput(busybox).rttMs, [12.725]);
    assert.equal(parsePingOutput(busybox).received, 1);
  });

  test("throws as parsePingSummary() does for output with neither", () => {
    assert.throws(() => parsePingOutput("ping: mega_tap9: No such device\n"), {
      name: "SyntaxError",
      message:
        "Cannot read ping's summary: no 'packets transmitted' line in: ping: mega_tap9: No such device",
    });
    assert.deepEqual(parsePingSummary(MEASURED.errors), { sent: 10, received: 0 });
  });
});
