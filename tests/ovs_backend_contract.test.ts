/**
 * OvsBackend against the backend contract (lib/backend/), driven directly through fake programs: how
 * container VMs go silent and come back, addresses taken away, pings read and cut short when nothing
 * routes there, captures started, flushed and read.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { PortSpec } from "../lib/backend/bridges.ts";
import type { VmSpec } from "../lib/backend/vms.ts";
import { createExec, FakeRunner, type RunOptions, type RunResult } from "../lib/exec.ts";
import { OvsBackend } from "../lib/real/ovs_backend.ts";
import { pingArgs } from "../lib/real/netns.ts";
import { encodePcap } from "../lib/wire/pcap.ts";
import { withPath } from "./_fixtures/fake_path.ts";

type Answer = (argv: readonly string[], stdin: string, options: RunOptions) =>
  | Partial<RunResult>
  | Promise<Partial<RunResult>>
  | undefined;

/**
 * A fake host for OvsBackend: an Open vSwitch that answers the check, the datapath question and every
 * interface check, and `ip`, `ping`, `tcpdump`, `nft`, `ethtool` answered by `answer` (success by
 * default). `runs` has every program run but ovs-vsctl as one string, a batch's lines indented below it;
 * `all` has every run, ovs-vsctl included, in order.
 */
function fakeHost(answer: Answer = () => undefined) {
  const runs: string[] = [];
  const all: string[] = [];
  const runner = new FakeRunner();
  runner.on("ovs-vsctl", (argv) => {
    all.push(argv.join(" "));
    if (argv.includes("datapath_types")) return { stdout: "[netdev]\n" };
    const checks = argv.filter((a) => a === "Interface").length;
    if (argv.includes("get") && checks > 0) return { stdout: "[]\n1\n".repeat(checks) };
    return {};
  });
  for (const program of ["ip", "ping", "tcpdump", "nft", "ethtool", "sysctl"]) {
    runner.on(program, (argv, options) => {
      const stdin = options.stdin ?? "";
      const run = [argv.join(" "), ...stdin.split("\n").filter((l) => l !== "").map((l) => `  ${l}`)].join(
        "\n",
      );
      runs.push(run);
      all.push(run);
      return answer(argv, stdin, options) ?? {};
    });
  }
  const backend = new OvsBackend({ exec: createExec({ runner }), namespacePrefix: "lw-" });
  return { runs, all, backend };
}

/** A VM of lab namespace `minimega` with NICs on the given taps. */
function vm(name: string, type: "kvm" | "container", taps: readonly string[] = []): VmSpec {
  return {
    name,
    namespace: "minimega",
    id: 0,
    type,
    nics: taps.map((tap, i) => ({ tap, driver: "e1000", mac: `02:00:00:00:00:0${i + 1}` })),
    memory: 64,
    vcpus: 1,
    kernel: "",
    initrd: "",
    append: "",
    disks: [],
  };
}

/** A container VM's NIC port on VLAN 100. */
function containerPort(name: string, vmName: string, nic: number, running: boolean): PortSpec {
  return {
    name,
    mode: { kind: "access", tag: 100 },
    role: "vm",
    mac: `02:00:00:00:01:0${nic + 1}`,
    vm: { name: vmName, namespace: "minimega", id: 0, nic, type: "container", running },
  };
}

/** `ip netns list` as iproute2 prints it. */
const NAMESPACES = "lw-minimega-a (id: 0)\nlw-minimega-b (id: 1)\nlw-minimega-c\n";

/** What ping printed on the real kernel (iputils 20221126), measured: three replies. */
const PING_OK = [
  "PING 10.66.0.2 (10.66.0.2) 56(84) bytes of data.",
  "64 bytes from 10.66.0.2: icmp_seq=1 ttl=64 time=0.265 ms",
  "64 bytes from 10.66.0.2: icmp_seq=2 ttl=64 time=0.047 ms",
  "64 bytes from 10.66.0.2: icmp_seq=3 ttl=64 time=0.048 ms",
  "",
  "--- 10.66.0.2 ping statistics ---",
  "3 packets transmitted, 3 received, 0% packet loss, time 407ms",
  "rtt min/avg/max/mdev = 0.047/0.120/0.265/0.102 ms",
  "",
].join("\n");

/** Measured: 10 requests to an address in the subnet nobody has (ARP failed for each). */
const PING_ERRORS = [
  "PING 10.66.0.9 (10.66.0.9) 56(84) bytes of data.",
  ...Array.from({ length: 10 }, (_, i) => `From 10.66.0.1 icmp_seq=${i + 1} Destination Host Unreachable`),
  "",
  "--- 10.66.0.9 ping statistics ---",
  "10 packets transmitted, 0 received, +10 errors, 100% packet loss, time 1834ms",
  "pipe 10",
  "",
].join("\n");

/** The run of a batch with its lines. */
function batchRun(head: string, lines: readonly string[]): string {
  return [head, ...lines.map((l) => `  ${l}`)].join("\n");
}

describe("OvsBackend VMs", () => {
  /** A fake whose nft batches record the ruleset file each line loads, read while the batch runs. */
  function recordingRulesets() {
    const rulesets: string[] = [];
    const host = fakeHost((argv, stdin) => {
      if (argv.join(" ") === "ip netns list") return { stdout: NAMESPACES };
      for (const line of stdin.split("\n")) {
        const file = /nft -f (\S+)$/.exec(line)?.[1];
        if (file !== undefined) rulesets.push(fs.readFileSync(file, "utf8"));
      }
      return undefined;
    });
    return { ...host, rulesets };
  }

  /** The ruleset file a batch run's lines load (one file for all of them). */
  function rulesetFile(run: string): string {
    const files = new Set([...run.matchAll(/nft -f (\S+)/g)].map((m) => m[1]!));
    assert.equal(files.size, 1, run);
    return [...files][0]!;
  }

  test("launchVms() silences 3 containers in one `ip -force -batch`, skipping one without a namespace", async () => {
    await withPath(["nft"], async () => {
      const { runs, rulesets, backend } = recordingRulesets();
      const vms = [vm("a", "container", ["t0"]), vm("b", "container", ["t1"]), vm("c", "container", ["t2"])];
      await backend.launchVms([...vms, vm("d", "container")]);
      assert.equal(runs.length, 2, runs.join("\n"));
      const file = rulesetFile(runs[1]!);
      assert.deepEqual(runs, [
        "ip netns list",
        batchRun("ip -force -batch -", [
          `netns exec lw-minimega-a nft -f ${file}`,
          `netns exec lw-minimega-b nft -f ${file}`,
          `netns exec lw-minimega-c nft -f ${file}`,
        ]),
      ]);
      assert.deepEqual(
        rulesets,
        [
          [
            "table arp labwire_pause {",
            "\tchain input { type filter hook input priority 0; policy drop; }",
            "\tchain output { type filter hook output priority 0; policy drop; }",
            "}",
            "table inet labwire_pause {",
            "\tchain input { type filter hook input priority -300; policy drop; }",
            "\tchain output { type filter hook output priority -300; policy drop; }",
            "\tchain forward { type filter hook forward priority -300; policy drop; }",
            "}",
            "",
          ].join("\n"),
        ].flatMap((r) => [r, r, r]),
      );
      assert.equal(fs.existsSync(path.dirname(file)), false, "the run folder is gone");
    });
  });

  test("startVms() deletes the pause tables of every container in one batch; stopVms() brings them back", async () => {
    await withPath(["nft"], async () => {
      const { runs, rulesets, backend } = recordingRulesets();
      const vms = [vm("a", "container", ["t0"]), vm("b", "container", ["t1"]), vm("c", "container", ["t2"])];
      await backend.startVms(vms);
      const file = rulesetFile(runs[1]!);
      assert.deepEqual(runs, [
        "ip netns list",
        batchRun("ip -force -batch -", [
          `netns exec lw-minimega-a nft -f ${file}`,
          `netns exec lw-minimega-b nft -f ${file}`,
          `netns exec lw-minimega-c nft -f ${file}`,
        ]),
      ]);
      const start = [
        "table arp labwire_pause",
        "delete table arp labwire_pause",
        "table inet labwire_pause",
        "delete table inet labwire_pause",
        "",
      ].join("\n");
      assert.deepEqual(rulesets, [start, start, start]);
      await backend.stopVms(vms);
      assert.equal(runs.length, 4);
      assert.match(rulesets[3]!, /^table arp labwire_pause \{/);
      assert.equal(rulesets.length, 6);
    });
  });

  test("killVms() of containers silences them as stopVms() does: a killed VM answers nothing", async () => {
    await withPath(["nft"], async () => {
      const { runs, rulesets, backend } = recordingRulesets();
      await backend.killVms([vm("a", "container", ["t0"]), vm("b", "container", ["t1"])]);
      const file = rulesetFile(runs[1]!);
      assert.deepEqual(runs, [
        "ip netns list",
        batchRun("ip -force -batch -", [
          `netns exec lw-minimega-a nft -f ${file}`,
          `netns exec lw-minimega-b nft -f ${file}`,
        ]),
      ]);
      assert.equal(rulesets.length, 2);
      assert.match(rulesets[0]!, /^table arp labwire_pause \{/);
    });
  });

  test("launchVms() says to install nft, in one sentence, before it changes anything", async () => {
    await withPath([], async () => {
      const { runs, backend } = recordingRulesets();
      await assert.rejects(backend.launchVms([vm("d", "container"), vm("b", "container", ["t1"])]), {
        name: "Error",
        message: "Cannot pause container VM b: nft is not installed (apt-get install nftables)",
      });
      assert.deepEqual(runs, ["ip netns list"]);
      // a container without NICs has nothing to silence, and needs no nft
      await backend.stopVms([vm("d", "container")]);
    }, { only: true });
  });

  test("addPorts() silences the new namespace of a container that does not run, before its port is on the bridge", async () => {
    await withPath(["ethtool", "nft"], async () => {
      const { all, backend } = fakeHost();
      await backend.addPorts("mega_bridge", [
        containerPort("mega_tap0", "a", 0, false),
        containerPort("mega_tap1", "b", 0, true),
      ]);
      const pause = all.findIndex((r) => r.startsWith("ip -force -batch -") && r.includes("nft -f"));
      const addPort = all.findIndex((r) => r.includes("add-port"));
      assert.ok(pause >= 0 && addPort > pause, all.join("\n"));
      const lines = all[pause]!.split("\n").slice(1);
      assert.equal(lines.length, 1, "only the container that does not run");
      assert.match(lines[0]!, /^ {2}netns exec lw-minimega-a nft -f \S+\/pause-\d+\.nft$/);
    });
  });
});

describe("OvsBackend addresses", () => {
  test("removeAddress() deletes a host tap's or a container NIC's address; one not there is no error", async () => {
    await withPath(["ethtool"], async () => {
      let missing = false;
      const { runs, backend } = fakeHost((argv) =>
        missing && argv.includes("del") ? { code: 2, stderr: "Error: ipv4: Address not found.\n" } : undefined
      );
      await backend.addPorts("mega_bridge", [containerPort("mega_tap0", "a", 0, true)]);
      runs.length = 0;
      await backend.removeAddress("mega_bridge", "mega_tap9", "10.0.0.254/24");
      await backend.removeAddress("mega_bridge", "mega_tap0", "10.0.0.1/24");
      assert.deepEqual(runs, [
        "ip addr del 10.0.0.254/24 dev mega_tap9",
        "ip -n lw-minimega-a addr del 10.0.0.1/24 dev veth0",
      ]);
      missing = true;
      await backend.removeAddress("mega_bridge", "mega_tap0", "10.0.0.1/24");
      await backend.removeAddress("mega_bridge", "mega_tap9", "10.0.0.254/24");
    });
  });

  test("removeAddress() fails on other errors, and on a KVM VM NIC as addAddress() does", async () => {
    const { backend } = fakeHost((argv) =>
      argv.includes("del") ? { code: 2, stderr: "RTNETLINK answers: Operation not permitted\n" } : undefined
    );
    await assert.rejects(backend.removeAddress("b", "mega_tap9", "10.0.0.254/24"), {
      name: "ExecError",
      message:
        'Cannot run "ip addr del 10.0.0.254/24 dev mega_tap9": exited with code 2\n\nRTNETLINK answers: Operation not permitted',
    });
    await backend.addPorts("mega_bridge", [{
      name: "mega_tap5",
      mode: { kind: "access", tag: 100 },
      role: "vm",
      mac: "02:00:00:00:05:01",
      vm: { name: "k", namespace: "minimega", id: 1, nic: 0, type: "kvm", running: false },
    }]);
    await assert.rejects(backend.removeAddress("mega_bridge", "mega_tap5", "10.0.0.5/24"), {
      message:
        "Cannot remove 10.0.0.5/24 from KVM VM NIC mega_tap5 from outside the guest: configure it in " +
        "the guest (the test guest of scripts/guest-image.sh takes labwire_ip= on its kernel command line)",
    });
  });
});

describe("OvsBackend ping", () => {
  /** A backend with container VM a's NIC mega_tap0 (veth0) and host tap mega_tap9 (10.0.0.254/24). */
  async function withNics(answer: Answer) {
    const host = fakeHost((argv, stdin, options) => {
      const words = argv.join(" ");
      if (words === "ip -4 -j addr show dev mega_tap9") {
        return {
          stdout: '[{"ifindex":9,"ifname":"mega_tap9","addr_info":[{"family":"inet","local":"10.0.0.254",' +
            '"prefixlen":24,"scope":"global"}]}]\n',
        };
      }
      return answer(argv, stdin, options);
    });
    await withPath(
      ["ethtool"],
      () => host.backend.addPorts("mega_bridge", [containerPort("mega_tap0", "a", 0, true)]),
    );
    host.runs.length = 0;
    return host;
  }

  const ROUTE_VETH0 = {
    stdout: '[{"dst":"10.66.0.2","dev":"veth0","prefsrc":"10.66.0.1","flags":[],"uid":0}]\n',
  };

  test("ping() reads every reply's round trip from a container NIC", async () => {
    const { runs, backend } = await withNics((argv) =>
      argv.includes("route") ? ROUTE_VETH0 : argv.includes("ping") ? { stdout: PING_OK } : undefined
    );
    assert.deepEqual(await backend.ping("mega_bridge", "mega_tap0", "10.66.0.2", 3), {
      sent: 3,
      received: 3,
      errors: 0,
      rttMs: [0.265, 0.047, 0.048],
      networkUnreachable: false,
    });
    assert.deepEqual(runs, [
      "ip -n lw-minimega-a -4 -j route get 10.66.0.2",
      `ip netns exec lw-minimega-a ping ${pingArgs("10.66.0.2", 3).join(" ")}`,
    ]);
  });

  test("ping() counts the summary's errors, and forgets the neighbour nobody answered", async () => {
    const { runs, backend } = await withNics((argv) =>
      argv.includes("route")
        ? { stdout: '[{"dst":"10.66.0.9","dev":"veth0","prefsrc":"10.66.0.1","flags":[],"uid":0}]\n' }
        : argv.includes("ping")
        ? { code: 1, stdout: PING_ERRORS }
        : undefined
    );
    assert.deepEqual(await backend.ping("mega_bridge", "mega_tap0", "10.66.0.9", 10), {
      sent: 10,
      received: 0,
      errors: 10,
      rttMs: [],
      networkUnreachable: false,
    });
    assert.deepEqual(runs.at(-1), batchRun("ip -n lw-minimega-a -batch -", ["neigh flush to 10.66.0.9"]));
  });

  test("ping() sends nothing when the container has no route, or routes through another NIC", async () => {
    const unreachable = { sent: 0, received: 0, errors: 0, rttMs: [], networkUnreachable: true };
    const none = await withNics((argv) =>
      argv.includes("route") ? { code: 2, stderr: "RTNETLINK answers: Network is unreachable\n" } : undefined
    );
    assert.deepEqual(await none.backend.ping("mega_bridge", "mega_tap0", "10.67.0.2", 3), unreachable);
    assert.deepEqual(none.runs, ["ip -n lw-minimega-a -4 -j route get 10.67.0.2"]);
    const other = await withNics((argv) =>
      argv.includes("route")
        ? { stdout: '[{"dst":"10.66.0.2","dev":"veth1","flags":[],"uid":0}]\n' }
        : undefined
    );
    assert.deepEqual(await other.backend.ping("mega_bridge", "mega_tap0", "10.66.0.2", 3), unreachable);
    assert.deepEqual(other.runs, ["ip -n lw-minimega-a -4 -j route get 10.66.0.2"]);
  });

  test("ping() maps ping's own `connect: Network is unreachable` to networkUnreachable", async () => {
    const { runs, backend } = await withNics((argv) =>
      argv.includes("route")
        ? ROUTE_VETH0
        : argv.includes("ping")
        ? { code: 2, stderr: "ping: connect: Network is unreachable\n" }
        : undefined
    );
    assert.deepEqual(await backend.ping("mega_bridge", "mega_tap0", "10.66.0.2", 3), {
      sent: 0,
      received: 0,
      errors: 0,
      rttMs: [],
      networkUnreachable: true,
    });
    assert.equal(runs.length, 2, "no neighbour flush after a ping that sent nothing");
  });

  test("ping() from a host tap reaches its own subnets only", async () => {
    const { runs, backend } = await withNics((argv) => argv[0] === "ping" ? { stdout: PING_OK } : undefined);
    assert.deepEqual(await backend.ping("mega_bridge", "mega_tap9", "10.1.0.1", 3), {
      sent: 0,
      received: 0,
      errors: 0,
      rttMs: [],
      networkUnreachable: true,
    });
    assert.deepEqual(runs, ["ip -4 -j addr show dev mega_tap9"]);
    assert.equal((await backend.ping("mega_bridge", "mega_tap9", "10.0.0.2", 3)).received, 3);
    assert.deepEqual(runs.slice(1), [
      "ip -4 -j addr show dev mega_tap9",
      `ping ${pingArgs("10.0.0.2", 3, "mega_tap9").join(" ")}`,
    ]);
  });

  test("ping() refuses an address that is not IPv4", async () => {
    const { backend } = await withNics(() => undefined);
    await assert.rejects(backend.ping("mega_bridge", "mega_tap9", "10.0.0", 1), {
      name: "SyntaxError",
      message: "Cannot ping from mega_tap9: '10.0.0' is not an IPv4 address",
    });
  });
});

describe("OvsBackend captures", () => {
  const FRAME = new Uint8Array(60).map((_, i) => i);
  /** A pcap file of `n` 60-byte frames, 1 ms apart. */
  function pcap(n: number): Uint8Array {
    return encodePcap(
      Array.from({ length: n }, (_, i) => ({ timeNs: (i + 1) * 1_000_000, origLen: 60, data: FRAME })),
    );
  }
  /** Bytes of one record of {@linkcode pcap}. */
  const RECORD = 16 + 60;

  /**
   * A fake tcpdump: says it is listening, calls `onStart` with the file it writes, and runs until it is
   * stopped (SIGINT, through the abort signal), exiting 0.
   */
  function fakeTcpdump(onStart: (file: string, argv: readonly string[]) => void = () => {}) {
    const started: string[][] = [];
    const host = fakeHost((argv, _stdin, options) => {
      if (argv[0] !== "tcpdump") return undefined;
      started.push([...argv]);
      onStart(argv[argv.indexOf("-w") + 1]!, argv);
      options.onStderr?.(
        "tcpdump: listening on mega_tap0, link-type EN10MB (Ethernet), snapshot length 1600 bytes\n",
      );
      return new Promise<Partial<RunResult>>((resolve) => {
        options.signal?.addEventListener("abort", () => resolve({ code: 0 }), { once: true });
      });
    });
    return { ...host, started };
  }

  const SPEC = { id: 1, bridge: "mega_bridge", port: "mega_tap0", snaplen: 1600, filter: "", limit: 1000 };

  test("startCapture() puts `--` before the filter, so no filter word becomes an option", async () => {
    await withPath(["tcpdump"], async () => {
      const { started, backend } = fakeTcpdump();
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "labwire-t-"));
      try {
        const file = path.join(dir, "a.pcap");
        await backend.startCapture({ ...SPEC, path: file, filter: "icmp or (vlan and icmp)" });
        await backend.startCapture({ ...SPEC, id: 2, path: file });
        assert.deepEqual(started, [
          [
            "tcpdump",
            "-i",
            "mega_tap0",
            "-U",
            "--immediate-mode",
            "-s",
            "1600",
            "-w",
            file,
            "--",
            "icmp or (vlan and icmp)",
          ],
          ["tcpdump", "-i", "mega_tap0", "-U", "--immediate-mode", "-s", "1600", "-w", file],
        ]);
        await backend.close();
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  test("a tcpdump that ends by itself (a full disk) fails its capture alone, naming the file, once", async () => {
    await withPath(["tcpdump"], async () => {
      const warnings: string[] = [];
      let exit!: () => void;
      const runner = new FakeRunner().on("tcpdump", (_argv, options) => {
        options.onStderr?.(
          "tcpdump: listening on mega_tap0, link-type EN10MB (Ethernet), snapshot length 1600 bytes\n",
        );
        return new Promise<Partial<RunResult>>((resolve) => {
          exit = () => resolve({ code: 1, stderr: "tcpdump: /data/a.pcap: No space left on device\n" });
          options.signal?.addEventListener("abort", () => resolve({ code: 0, aborted: true }), {
            once: true,
          });
        });
      });
      const backend = new OvsBackend({ exec: createExec({ runner }), onWarning: (w) => warnings.push(w) });
      await backend.startCapture({ ...SPEC, path: "/data/a.pcap" });
      exit();
      await new Promise((resolve) => setTimeout(resolve, 10));
      const failure =
        "Cannot write capture file '/data/a.pcap': tcpdump exited with status 1: tcpdump: /data/a.pcap: No space left on device";
      assert.deepEqual(warnings, [`${failure}; the capture keeps no more frames (the traffic goes on)`]);
      await assert.rejects(backend.flushCapture(SPEC.id), { message: failure });
      await assert.rejects(backend.readCapture(SPEC.id), { message: failure });
      await backend.stopCapture(SPEC.id); // stops all the same
      assert.equal(warnings.length, 1);
      await backend.close();
    });
  });

  test("readCapture() of a capture without a path reads whole records of its temporary file, the newest `limit`", async () => {
    await withPath(["tcpdump"], async () => {
      const bytes = pcap(5);
      let temp = "";
      const { backend } = fakeTcpdump((file) => {
        temp = file;
        fs.writeFileSync(file, bytes.subarray(0, bytes.length - 30)); // the 5th record half written
      });
      await backend.startCapture({ ...SPEC, limit: 3 });
      assert.ok(temp.startsWith(os.tmpdir()), temp);
      const read = await backend.readCapture(1);
      assert.equal(read.dropped, 1);
      assert.deepEqual(read.frames.map((f) => [f.timeNs, f.direction, f.origLen, f.data.length]), [
        [2_000_000, undefined, 60, 60],
        [3_000_000, undefined, 60, 60],
        [4_000_000, undefined, 60, 60],
      ]);
      assert.deepEqual([...read.frames[0]!.data], [...FRAME]);
      fs.writeFileSync(temp, bytes);
      await backend.flushCapture(1);
      const again = await backend.readCapture(1);
      assert.deepEqual([again.frames.map((f) => f.timeNs), again.dropped], [[3e6, 4e6, 5e6], 2]);
      await backend.stopCapture(1);
      assert.equal(fs.existsSync(temp), false, "the temporary file is gone");
      assert.equal(fs.existsSync(path.dirname(temp)), false, "and so is the run folder");
      assert.deepEqual(await backend.readCapture(1), { frames: [], dropped: 0 });
    });
  });

  test("flushCapture() waits until the file stops growing; readCapture() of a file capture keeps every frame", async () => {
    await withPath(["tcpdump"], async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "labwire-t-"));
      const file = path.join(dir, "a.pcap");
      const bytes = pcap(10);
      let timer: ReturnType<typeof setInterval> | undefined;
      const { backend } = fakeTcpdump((f) => fs.writeFileSync(f, bytes.subarray(0, 24)));
      try {
        await backend.startCapture({ ...SPEC, path: file, limit: 2 });
        assert.deepEqual(await backend.readCapture(1), { frames: [], dropped: 0 });
        // tcpdump writes a record every 30 ms for 300 ms
        let written = 0;
        timer = setInterval(() => {
          if (written === 10) return clearInterval(timer);
          written++;
          fs.writeFileSync(file, bytes.subarray(0, 24 + written * RECORD));
        }, 30);
        const begin = Date.now();
        await backend.flushCapture(1);
        const waited = Date.now() - begin;
        assert.ok(waited >= 300 && waited < 2500, `flushCapture() took ${waited} ms`);
        const read = await backend.readCapture(1);
        assert.equal(read.frames.length, 10, "a file capture keeps every frame, whatever its limit");
        assert.equal(read.dropped, 0);
        await backend.stopCapture(1);
        assert.equal(fs.existsSync(file), true, "a capture's own file stays");
      } finally {
        clearInterval(timer);
        await backend.close();
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  test("startCapture() without a path says which port tcpdump failed on, and leaves no file behind", async () => {
    await withPath(["tcpdump"], async () => {
      let temp = "";
      const { backend } = fakeHost((argv) => {
        if (argv[0] !== "tcpdump") return undefined;
        temp = argv[argv.indexOf("-w") + 1]!;
        return {
          code: 1,
          stderr: "tcpdump: mega_tap0: No such device exists\n(SIOCGIFHWADDR: No such device)\n",
        };
      });
      await assert.rejects(backend.startCapture(SPEC), {
        message:
          "Cannot capture port mega_tap0: tcpdump exited: tcpdump: mega_tap0: No such device exists (SIOCGIFHWADDR: No such device)",
      });
      assert.notEqual(temp, "");
      assert.equal(fs.existsSync(path.dirname(temp)), false);
    });
  });
});
