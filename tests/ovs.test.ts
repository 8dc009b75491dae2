/**
 * lib/ovs.ts against a fake ovs-vsctl: every argv exactly, error mapping, interface checks.
 * tests/ovs_real.test.ts runs the same calls on a real Open vSwitch.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { createExec, FakeRunner, type RunResult } from "../lib/exec.ts";
import { LABWIRE_KEY, Ovs, OvsError, ovsErrorMessage, ovsFailure, type OvsPort } from "../lib/ovs.ts";

const T = "--timeout=5";

/** A fake ovs-vsctl: `get Interface X error ofport` answers from `states` (default: fine), the rest from `answer`. */
function fakeOvs(
  answer: (args: readonly string[]) => Partial<RunResult> = () => ({}),
  states: Record<string, [string, string]> = {},
): { runner: FakeRunner; ovs: Ovs } {
  const runner = new FakeRunner().on("ovs-vsctl", (argv) => {
    const args = argv.slice(2);
    if (args[1] === "get" && args[2] === "Interface") {
      let out = "";
      for (let i = 0; i < args.length; i += 6) {
        const [error, ofport] = states[args[i + 3]!] ?? ["[]", "1"];
        out += `${error}\n${ofport}\n`;
      }
      return { stdout: out };
    }
    return answer(args);
  });
  return { runner, ovs: new Ovs({ exec: createExec({ runner }), datapathType: "netdev" }) };
}

describe("Ovs", () => {
  test("constructor rejects a timeout that is not a positive integer", () => {
    assert.throws(() => new Ovs({ timeoutSeconds: 0 }), {
      name: "RangeError",
      message: "Cannot make Ovs as 'timeoutSeconds' must be a positive integer: current value is 0",
    });
  });

  test("transaction() runs its commands as one ovs-vsctl with --timeout and -- separators", async () => {
    const runner = new FakeRunner().on("ovs-vsctl", () => ({ stdout: "out\n" }));
    const ovs = new Ovs({ exec: createExec({ runner }), timeoutSeconds: 2 });
    const tx = ovs.transaction().add("add-port", "br", "p", "tag=101").add(
      "set",
      "Interface",
      "p",
      "type=internal",
    )
      .add("set", "Port", "p", "external_ids:labwire=1");
    assert.equal(tx.size, 3);
    assert.equal(await tx.run(), "out\n");
    assert.deepEqual(runner.calls, [[
      "ovs-vsctl",
      "--timeout=2",
      "--",
      "add-port",
      "br",
      "p",
      "tag=101",
      "--",
      "set",
      "Interface",
      "p",
      "type=internal",
      "--",
      "set",
      "Port",
      "p",
      "external_ids:labwire=1",
    ]]);
    assert.equal(await ovs.transaction().run(), "");
    assert.equal(runner.calls.length, 1);
    assert.throws(() => ovs.transaction().add(), { name: "TypeError" });
  });

  test("vsctl() passes env (OVS_RUNDIR) to every run", async () => {
    const envs: Record<string, string>[] = [];
    const runner = new FakeRunner().on("ovs-vsctl", (_argv, options) => {
      envs.push(options.env ?? {});
      return {};
    });
    const ovs = new Ovs({ exec: createExec({ runner }), env: { OVS_RUNDIR: "/tmp/sb" } });
    await ovs.check();
    assert.deepEqual(envs, [{ OVS_RUNDIR: "/tmp/sb" }]);
    assert.deepEqual(runner.calls, [[
      "ovs-vsctl",
      T,
      "--",
      "set",
      "Open_vSwitch",
      ".",
      "other_config:vlan-limit=2",
    ]]);
  });

  test("datapathType() is netdev when datapath_types does not list system, detected once", async () => {
    const runner = new FakeRunner().on("ovs-vsctl", () => ({ stdout: "[netdev]\n" }));
    const ovs = new Ovs({ exec: createExec({ runner }) });
    assert.equal(await ovs.datapathType(), "netdev");
    assert.equal(await ovs.datapathType(), "netdev");
    assert.deepEqual(runner.calls, [["ovs-vsctl", T, "--", "get", "Open_vSwitch", ".", "datapath_types"]]);
  });

  test("datapathType() probes a system bridge and falls back to netdev when its setup failed", async () => {
    const runner = new FakeRunner().on("ovs-vsctl", (argv) => {
      if (argv.includes("datapath_types")) return { stdout: "[netdev, system]\n" };
      if (argv.includes("add-br")) {
        return {
          stderr: "ovs-vsctl: Error detected while setting up 'x'.  See ovs-vswitchd log for details.\n",
        };
      }
      return {};
    });
    const ovs = new Ovs({ exec: createExec({ runner }) });
    assert.equal(await ovs.datapathType(), "netdev");
    const probe = runner.calls[1]![5]!;
    assert.match(probe, /^lwprobe\d+$/);
    assert.deepEqual(runner.calls.slice(1), [
      [
        "ovs-vsctl",
        T,
        "--",
        "--may-exist",
        "add-br",
        probe,
        "--",
        "set",
        "bridge",
        probe,
        "datapath_type=system",
        `external_ids:labwire=probe`,
      ],
      ["ovs-vsctl", T, "--", "--if-exists", "del-br", probe],
    ]);
  });

  test("datapathType() is system when the probe bridge's interface gets an OpenFlow port", async () => {
    const runner = new FakeRunner().on("ovs-vsctl", (argv) => {
      if (argv.includes("datapath_types")) return { stdout: "[netdev, system]\n" };
      if (argv.includes("ofport")) return { stdout: "[]\n65534\n" };
      return {};
    });
    const ovs = new Ovs({ exec: createExec({ runner }) });
    assert.equal(await ovs.datapathType(), "system");
    assert.equal(runner.calls.length, 4);
    // a probe whose interface has no ofport means netdev
    const runner2 = new FakeRunner().on("ovs-vsctl", (argv) => {
      if (argv.includes("datapath_types")) return { stdout: "[netdev, system]\n" };
      if (argv.includes("ofport")) return { stdout: "[]\n[]\n" };
      return {};
    });
    assert.equal(await new Ovs({ exec: createExec({ runner: runner2 }) }).datapathType(), "netdev");
  });

  test("addBridge() makes a marked bridge of the datapath type in one transaction and checks it", async () => {
    const { runner, ovs } = fakeOvs();
    assert.deepEqual(await ovs.addBridge("lab0"), { preexisting: false });
    assert.deepEqual(runner.calls, [
      [
        "ovs-vsctl",
        T,
        "--",
        "add-br",
        "lab0",
        "--",
        "set",
        "bridge",
        "lab0",
        "datapath_type=netdev",
        "external_ids:labwire=1",
      ],
      ["ovs-vsctl", T, "--", "get", "Interface", "lab0", "error", "ofport"],
    ]);
  });

  test("addBridge() says preexisting for a bridge labwire did not make, not for its own", async () => {
    for (const [mark, preexisting] of [["", true], ['"1"', false]] as const) {
      const { runner, ovs } = fakeOvs((args) =>
        args.includes("add-br")
          ? {
            code: 1,
            stderr:
              "ovs-vsctl: cannot create a bridge named lab0 because a bridge named lab0 already exists\n",
          }
          : { stdout: `${mark}\n` }
      );
      assert.deepEqual(await ovs.addBridge("lab0"), { preexisting });
      assert.deepEqual(runner.calls[1], [
        "ovs-vsctl",
        T,
        "--",
        "--if-exists",
        "get",
        "bridge",
        "lab0",
        "external_ids:labwire",
      ]);
    }
  });

  test("addBridge() throws 'already exists' when a port holds the name", async () => {
    const { ovs } = fakeOvs((args) => {
      if (args.includes("add-br")) {
        return {
          code: 1,
          stderr: "ovs-vsctl: cannot create a bridge named p because a port named p already exists\n",
        };
      }
      if (args.includes("br-exists")) return { code: 2 };
      return {};
    });
    await assert.rejects(ovs.addBridge("p"), { name: "OvsError", message: "already exists", kind: "exists" });
  });

  test("addBridge() removes a bridge whose datapath failed and names the error", async () => {
    const { runner, ovs } = fakeOvs(() => ({}), { lab0: ["[]", "[]"] });
    await assert.rejects(ovs.addBridge("lab0"), {
      message:
        "bridge lab0 is not working: its netdev datapath could not be made (see the ovs-vswitchd log; only one Open vSwitch per network namespace can use the userspace datapath)",
      kind: "interface",
      port: "lab0",
    });
    assert.deepEqual(runner.calls.at(-1), ["ovs-vsctl", T, "--", "--if-exists", "del-br", "lab0"]);
  });

  test("deleteBridge() runs --if-exists del-br", async () => {
    const { runner, ovs } = fakeOvs();
    await ovs.deleteBridge("lab0");
    assert.deepEqual(runner.calls, [["ovs-vsctl", T, "--", "--if-exists", "del-br", "lab0"]]);
  });

  test("addPorts() writes each VLAN mode and type as minimega does, in one transaction", async () => {
    const { runner, ovs } = fakeOvs();
    const ports: OvsPort[] = [
      { name: "t0", mode: { kind: "access", tag: 0 } },
      { name: "t1", mode: { kind: "access", tag: 101 }, type: "internal" },
      { name: "t2", mode: { kind: "trunk" }, type: "tap" },
      { name: "t3", mode: { kind: "trunk", trunks: [100, 200] }, type: "system" },
      {
        name: "t4",
        mode: { kind: "dot1q-tunnel", tag: 300 },
        type: "internal",
        externalIds: { vm: "a b", nic: "0" },
      },
      { name: "t5", mode: { kind: "trunk" }, type: "patch", peer: "t6" },
    ];
    await ovs.addPorts("br", ports);
    assert.deepEqual(runner.calls, [
      [
        ...["ovs-vsctl", T],
        ...["--", "add-port", "br", "t0", "--", "set", "Port", "t0", "external_ids:labwire=1"],
        ...["--", "add-port", "br", "t1", "tag=101", "--", "set", "Interface", "t1", "type=internal"],
        ...["--", "set", "Port", "t1", "external_ids:labwire=1"],
        ...["--", "add-port", "br", "t2", "--", "set", "Interface", "t2", "type=tap"],
        ...["--", "set", "Port", "t2", "external_ids:labwire=1"],
        ...[
          "--",
          "add-port",
          "br",
          "t3",
          "trunks=100,200",
          "--",
          "set",
          "Port",
          "t3",
          "external_ids:labwire=1",
        ],
        ...[
          "--",
          "add-port",
          "br",
          "t4",
          "vlan_mode=dot1q-tunnel",
          "tag=300",
          "--",
          "set",
          "Interface",
          "t4",
        ],
        ...["type=internal", "--", "set", "Port", "t4", "external_ids:labwire=1", 'external_ids:vm="a b"'],
        "external_ids:nic=0",
        ...["--", "add-port", "br", "t5", "--", "set", "Interface", "t5", "type=patch", "options:peer=t6"],
        ...["--", "set", "Port", "t5", "external_ids:labwire=1"],
      ],
      [
        ...["ovs-vsctl", T],
        ...ports.flatMap((p) => ["--", "get", "Interface", p.name, "error", "ofport"]),
      ],
    ]);
  });

  test("addPorts() adds 200 ports with two ovs-vsctl processes", async () => {
    const { runner, ovs } = fakeOvs();
    const ports = Array.from({ length: 200 }, (_, i) => ({
      name: `p${i}`,
      mode: { kind: "access", tag: 100 + (i % 3) } as const,
      type: "internal" as const,
    }));
    await ovs.addPorts("br", ports);
    assert.equal(runner.calls.length, 2);
    assert.equal(runner.calls[0]!.filter((a) => a === "add-port").length, 200);
    assert.equal(runner.calls[1]!.filter((a) => a === "get").length, 200);
    assert.ok(runner.calls.every((argv) => argv[1] === T));
  });

  test("addPorts() rejects bad VLANs and a patch without a peer before running anything", async () => {
    const { runner, ovs } = fakeOvs();
    await assert.rejects(ovs.addPorts("br", [{ name: "p", mode: { kind: "access", tag: 4096 } }]), {
      name: "RangeError",
      message: "Cannot set tag as a VLAN must be 0-4095: current value is 4096",
    });
    await assert.rejects(ovs.addPorts("br", [{ name: "p", mode: { kind: "trunk" }, type: "patch" }]), {
      name: "RangeError",
      message: "Cannot add patch port p as it has no peer",
    });
    await ovs.addPorts("br", []);
    assert.equal(runner.calls.length, 0);
  });

  test("addPorts() reports a missing device by its Interface.error and removes the ports of the call", async () => {
    const { runner, ovs } = fakeOvs(() => ({}), {
      nosuchdev0: ['"could not open network device nosuchdev0 (No such device)"', "-1"],
    });
    await assert.rejects(
      ovs.addPorts("br", [{ name: "ok0", mode: { kind: "access", tag: 5 } }, {
        name: "nosuchdev0",
        mode: { kind: "access", tag: 5 },
      }]),
      {
        name: "OvsError",
        kind: "interface",
        port: "nosuchdev0",
        message: "port nosuchdev0 is not working: could not open network device nosuchdev0 (No such device)",
      },
    );
    assert.deepEqual(runner.calls.at(-1), [
      ...["ovs-vsctl", T, "--", "--if-exists", "del-port", "br", "ok0"],
      ...["--", "--if-exists", "del-port", "br", "nosuchdev0"],
    ]);
  });

  test("addPorts() reports ofport -1 without an error, and tolerates a patch peer still missing", async () => {
    const { ovs } = fakeOvs(() => ({}), { p: ["[]", "-1"] });
    await assert.rejects(ovs.addPorts("br", [{ name: "p", mode: { kind: "trunk" } }]), {
      message: "port p is not working: it has no OpenFlow port (ofport -1)",
    });
    const { ovs: ovs2 } = fakeOvs(() => ({}), {
      pa: ["\"No usable peer 'pb' exists in 'netdev' datapath.\"", "1"],
    });
    await ovs2.addPorts("br", [{ name: "pa", mode: { kind: "trunk" }, type: "patch", peer: "pb" }]);
  });

  test("addPorts() maps a duplicate port to 'already exists'", async () => {
    const { ovs } = fakeOvs(() => ({
      code: 1,
      stderr: "ovs-vsctl: cannot create a port named p because a port named p already exists on bridge br\n",
    }));
    await assert.rejects(ovs.addPorts("br", [{ name: "p", mode: { kind: "access", tag: 0 } }]), {
      message: "already exists",
      kind: "exists",
    });
  });

  test("addPatch() makes both patch ports in one transaction", async () => {
    const { runner, ovs } = fakeOvs();
    await ovs.addPatch("a", "pa", "b", "pb");
    assert.deepEqual(runner.calls, [
      [
        ...[
          "ovs-vsctl",
          T,
          "--",
          "add-port",
          "a",
          "pa",
          "--",
          "set",
          "Interface",
          "pa",
          "type=patch",
          "options:peer=pb",
        ],
        ...["--", "set", "Port", "pa", "external_ids:labwire=1"],
        ...["--", "add-port", "b", "pb", "--", "set", "Interface", "pb", "type=patch", "options:peer=pa"],
        ...["--", "set", "Port", "pb", "external_ids:labwire=1"],
      ],
      [
        "ovs-vsctl",
        T,
        "--",
        "get",
        "Interface",
        "pa",
        "error",
        "ofport",
        "--",
        "get",
        "Interface",
        "pb",
        "error",
        "ofport",
      ],
    ]);
  });

  test("deletePorts() deletes in one transaction and maps 'no port named' to 'no such port'", async () => {
    const { runner, ovs } = fakeOvs((args) =>
      args.includes("zz") ? { code: 1, stderr: "ovs-vsctl: no port named zz\n" } : {}
    );
    await ovs.deletePorts("br", ["a", "b"]);
    assert.deepEqual(runner.calls, [[
      "ovs-vsctl",
      T,
      "--",
      "del-port",
      "br",
      "a",
      "--",
      "del-port",
      "br",
      "b",
    ]]);
    await assert.rejects(ovs.deletePorts("br", ["zz"]), { message: "no such port", kind: "no-port" });
  });

  test("addMirror() uses minimega's transaction, each port looked up once", async () => {
    const { runner, ovs } = fakeOvs();
    await ovs.addMirror("br", {
      name: "m1",
      selectAll: false,
      selectSrc: ["a", "b"],
      selectDst: ["b"],
      output: "o",
    });
    await ovs.addMirror("br", { name: "m2", selectAll: true, selectSrc: [], selectDst: [], output: "o" });
    assert.deepEqual(runner.calls, [
      [
        ...["ovs-vsctl", T, "--", "--id=@o", "get", "port", "o", "--", "--id=@p0", "get", "port", "a"],
        ...["--", "--id=@p1", "get", "port", "b", "--", "--id=@m", "create", "mirror", "name=m1"],
        ...["select_src_port=@p0,@p1", "select_dst_port=@p1", "output_port=@o", "external_ids:labwire=1"],
        ...["--", "add", "bridge", "br", "mirrors", "@m"],
      ],
      [
        ...[
          "ovs-vsctl",
          T,
          "--",
          "--id=@o",
          "get",
          "port",
          "o",
          "--",
          "--id=@m",
          "create",
          "mirror",
          "name=m2",
        ],
        ...[
          "select_all=true",
          "output_port=@o",
          "external_ids:labwire=1",
          "--",
          "add",
          "bridge",
          "br",
          "mirrors",
          "@m",
        ],
      ],
    ]);
  });

  test("deleteMirror() gets the mirror and removes it from the bridge", async () => {
    const { runner, ovs } = fakeOvs();
    await ovs.deleteMirror("br", "m1");
    assert.deepEqual(runner.calls, [
      [
        "ovs-vsctl",
        T,
        "--",
        "--id=@m",
        "get",
        "mirror",
        "m1",
        "--",
        "remove",
        "bridge",
        "br",
        "mirrors",
        "@m",
      ],
    ]);
  });

  test("setBridgeConfig() sets key=value; failures read 'ovs cmd failed: [args] output'", async () => {
    const { runner, ovs } = fakeOvs((args) =>
      args.includes("bogus=1")
        ? { code: 1, stderr: 'ovs-vsctl: Bridge does not contain a column whose name matches "bogus"\n' }
        : {}
    );
    await ovs.setBridgeConfig("br", "rstp_enable", "true");
    assert.deepEqual(runner.calls, [["ovs-vsctl", T, "--", "set", "bridge", "br", "rstp_enable=true"]]);
    const error = await ovs.setBridgeConfig("br", "bogus", "1").catch((e: unknown) => e);
    assert.ok(error instanceof OvsError);
    assert.equal(
      error.message,
      'ovs cmd failed: [set bridge br bogus=1] ovs-vsctl: Bridge does not contain a column whose name matches "bogus"',
    );
    assert.equal(
      ovsFailure("set config", error).message,
      'set config failed: ovs cmd failed: [set bridge br bogus=1] ovs-vsctl: Bridge does not contain a column whose name matches "bogus"',
    );
  });

  test("listLabwire() reads bridges, ports and mirrors in one call and keeps the marked ones", async () => {
    const bridges = {
      data: [
        ["lab0", ["set", [["uuid", "u1"], ["uuid", "u2"]]], ["uuid", "m1"], ["map", [["labwire", "1"]]]],
        ["user0", ["uuid", "u3"], ["set", []], ["map", []]],
      ],
      headings: ["name", "ports", "mirrors", "external_ids"],
    };
    const ports = {
      data: [
        [["uuid", "u1"], "lab0", ["map", []]],
        [["uuid", "u2"], "p1", ["map", [["labwire", "1"], ["vm", "a"]]]],
        [["uuid", "u3"], "p0", ["map", [["labwire", "1"]]]],
      ],
      headings: ["_uuid", "name", "external_ids"],
    };
    const mirrors = {
      data: [[["uuid", "m1"], "mir", ["map", [["labwire", "1"]]]]],
      headings: ["_uuid", "name", "external_ids"],
    };
    const { runner, ovs } = fakeOvs(() => ({
      stdout: [bridges, ports, mirrors].map((t) => JSON.stringify(t)).join("\n") + "\n",
    }));
    assert.deepEqual(await ovs.listLabwire(), {
      bridges: ["lab0"],
      ports: [
        { bridge: "lab0", name: "p1", externalIds: { labwire: "1", vm: "a" } },
        { bridge: "user0", name: "p0", externalIds: { labwire: "1" } },
      ],
      mirrors: [{ bridge: "lab0", name: "mir" }],
    });
    assert.deepEqual(runner.calls, [[
      ...[
        "ovs-vsctl",
        T,
        "--format=json",
        "--",
        "--columns=name,ports,mirrors,external_ids",
        "find",
        "Bridge",
      ],
      ...["--", "--columns=_uuid,name,external_ids", "find", "Port"],
      ...["--", "--columns=_uuid,name,external_ids", "find", "Mirror"],
    ]]);
    assert.equal(LABWIRE_KEY, "labwire");
  });

  test("check() and ping() say how to start OVS when ovs-vsctl times out (exit 142)", async () => {
    const runner = new FakeRunner().on("ovs-vsctl", () => ({
      code: 142,
      signal: "SIGALRM",
      stderr: "2026-01-01T00:00:00Z|00002|fatal_signal|WARN|terminating with signal 14 (Alarm clock)\n",
    }));
    const ovs = new Ovs({ exec: createExec({ runner }) });
    await assert.rejects(ovs.check(), {
      name: "OvsError",
      kind: "unreachable",
      message:
        "Cannot reach Open vSwitch: ovs-vsctl timed out after 5 s; start it (scripts/ovs-sandbox.sh start DIR, then eval its exports) or install openvswitch-switch",
    });
    assert.equal(await ovs.ping(), false);
  });

  test("check() reports a missing database socket and a missing ovs-vsctl", async () => {
    const runner = new FakeRunner().on("ovs-vsctl", () => ({
      code: 1,
      stderr: "ovs-vsctl: unix:/tmp/x/db.sock: database connection failed (No such file or directory)\n",
    }));
    await assert.rejects(new Ovs({ exec: createExec({ runner }) }).check(), {
      kind: "unreachable",
      message:
        "Cannot reach Open vSwitch: unix:/tmp/x/db.sock: No such file or directory; start it (scripts/ovs-sandbox.sh start DIR, then eval its exports) or install openvswitch-switch",
    });
    const none = new Ovs({ exec: createExec({ runner: new FakeRunner() }) });
    await assert.rejects(none.check(), {
      kind: "unreachable",
      message: "Cannot reach Open vSwitch: ovs-vsctl is not installed; install openvswitch-switch",
    });
    assert.equal(await none.ping(), false);
  });

  test("ping() is true when OVS answers", async () => {
    const { ovs } = fakeOvs();
    assert.equal(await ovs.ping(), true);
  });

  test("ovsErrorMessage() maps output to minimega's texts", () => {
    assert.equal(ovsErrorMessage(["add-br", "b"], "... a bridge named b already exists"), "already exists");
    assert.equal(ovsErrorMessage(["del-port", "b", "p"], "ovs-vsctl: no port named p"), "no such port");
    assert.equal(
      ovsErrorMessage(["add-br", "b"], "ovs-vsctl: oops\n"),
      "ovs cmd failed: [add-br b] ovs-vsctl: oops",
    );
  });

  test("ovsFailure() wraps with minimega's prefix and keeps the kind", () => {
    const inner = new OvsError("no such port", { kind: "no-port", argv: ["ovs-vsctl"], output: "x" });
    const wrapped = ovsFailure("remove port", inner);
    assert.equal(wrapped.message, "remove port failed: no such port");
    assert.equal(wrapped.kind, "no-port");
    assert.equal(wrapped.cause, inner);
    assert.equal(ovsFailure("add port", new Error("boom")).message, "add port failed: boom");
  });
});
