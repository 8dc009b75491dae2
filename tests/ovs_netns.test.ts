/**
 * The OVS namespace (`ovsNetns`, `--ovs-netns`, `LABWIRE_OVS_NETNS`) with fake programs: every host-side
 * command of the ovs backend runs in the namespace (`nsenter --net=/run/netns/NS -- ...`), the commands that
 * target a container VM's namespace (`ip -n X`, `ip netns exec X`) are still right inside it, container
 * namespaces are named after the OVS namespace, and `Cmd.inNetns` itself.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  Cmd,
  createExec,
  ExecError,
  execInNetns,
  FakeRunner,
  netnsArgv,
  type RunOptions,
  type RunResult,
} from "../lib/exec.ts";
import { LabModel } from "../lib/lab/model.ts";
import { OvsBackend } from "../lib/real/ovs_backend.ts";
import { withPath } from "./_fixtures/fake_path.ts";

const NS = "lwtest1";
/** A PID that does not exist: the namespace's processes, as the fake `ip netns pids` lists them. */
const NO_PID = "1073741823";

/** What one fake command ran: where (`NS` or the host) and its argv there, with its standard input. */
interface Ran {
  readonly where: string;
  readonly argv: readonly string[];
  readonly stdin: string | undefined;
}

/**
 * A fake host with an Open vSwitch: answers ovs-vsctl like a working netdev OVS, `ip netns pids`, and every
 * other program with success; nsenter runs its program as the same fake, noting the namespace.
 */
function fakeHost() {
  const ran: Ran[] = [];
  const runner = new FakeRunner();
  function program(
    where: string,
    argv: readonly string[],
    options: RunOptions,
  ): Partial<RunResult> | Promise<Partial<RunResult>> {
    ran.push({ where, argv: [...argv], stdin: options.stdin });
    switch (argv[0]) {
      case "ovs-vsctl": {
        if (argv.includes("datapath_types")) return { stdout: "[netdev]\n" };
        const checks = argv.filter((a) => a === "Interface").length;
        if (argv.includes("get") && checks > 0) return { stdout: "[]\n1\n".repeat(checks) };
        return {};
      }
      case "ip":
        if (argv[1] === "netns" && argv[2] === "pids") return { stdout: `${NO_PID}\n` };
        if (argv.includes("-j")) return { stdout: "[]" };
        return {};
      case "tcpdump":
        // listens until stopped
        options.onStderr?.(`tcpdump: listening on ${argv[argv.indexOf("-i") + 1]}\n`);
        return new Promise<Partial<RunResult>>((resolve) =>
          options.signal?.addEventListener("abort", () => resolve({}))
        );
      default:
        return {};
    }
  }
  runner.on("nsenter", (argv, options) => {
    const m = /^--net=\/run\/netns\/(.+)$/.exec(argv[1] ?? "");
    assert.ok(m !== null && argv[2] === "--", `nsenter ${argv.join(" ")}`);
    return program(m[1]!, argv.slice(3), options);
  });
  for (const name of ["ovs-vsctl", "ovs-appctl", "ip", "ethtool", "ping", "tcpdump", "nft", "sysctl"]) {
    runner.on(name, (argv, options) => program("host", argv, options));
  }
  return { ran, runner, exec: createExec({ runner }) };
}

test("Cmd.inNetns() runs argv under nsenter in the namespace, and keeps the logical argv", async () => {
  const runner = new FakeRunner().on("nsenter", () => ({ stdout: "hi\n" }));
  const cmd = new Cmd("ip", { runner }).args("link").inNetns("lab1");
  assert.deepEqual([cmd.argv, cmd.netns], [["ip", "link"], "lab1"]);
  assert.equal(await cmd.text(), "hi");
  assert.deepEqual(runner.calls, [["nsenter", "--net=/run/netns/lab1", "--", "ip", "link"]]);
  assert.deepEqual(netnsArgv("lab1", ["a"]), ["nsenter", "--net=/run/netns/lab1", "--", "a"]);
  assert.equal(execInNetns(createExec({ runner }), undefined)("ip").netns, undefined);
});

test("Cmd.inNetns(): a program nsenter cannot find is not found, and a failure names what ran", async () => {
  const runner = new FakeRunner().on(
    "nsenter",
    (argv) =>
      argv[3] === "dhclient"
        ? { code: 127, stderr: "nsenter: failed to execute dhclient: No such file or directory\n" }
        : { code: 2, stderr: "oops\n" },
  );
  const exec = execInNetns(createExec({ runner }), "lab1");
  await assert.rejects(exec("dhclient").args("eth0").run(), (error: unknown) => {
    assert.ok(error instanceof ExecError);
    assert.deepEqual([error.notFound, error.code, error.argv], [true, 127, ["dhclient", "eth0"]]);
    return true;
  });
  await assert.rejects(exec("ip").args("link").run(), {
    message: 'Cannot run "nsenter --net=/run/netns/lab1 -- ip link": exited with code 2\n\noops',
  });
});

test("Cmd.inNetns() refuses what is not a namespace name", () => {
  for (const bad of ["", ".", "..", "a/b"]) {
    assert.throws(() => new Cmd("ip").inNetns(bad), {
      name: "TypeError",
      message:
        `Cannot use network namespace '${bad}' as it is not a namespace name (empty, '.', '..' or with a '/')`,
    });
    assert.throws(() => execInNetns(createExec(), bad), TypeError);
  }
});

test("OvsBackend with ovsNetns runs every host-side program in it, container commands inside it", async () => {
  await withPath(["ethtool", "nft", "tcpdump"], async () => {
    const { ran, exec } = fakeHost();
    const backend = new OvsBackend({ exec, ovsNetns: NS });
    assert.equal(backend.ovsNetns, NS);
    const lab = new LabModel({ backend, macSeed: 1 });
    await lab.configureNetworks("minimega", ["LAN"]);
    await lab.launchVms("minimega", "container", "a,b");
    await lab.startVms("minimega", "all");
    await lab.addVmAddress("minimega", "a", "0", "10.0.0.1/24");
    const tap = await lab.createTap("minimega", "LAN", { name: "lwtap", ip: "10.0.0.254/24" });
    await lab.captureVm("minimega", "a", "0", { path: "/dev/null" });
    await lab.clearCaptures("minimega");
    await lab.deleteTap("minimega", tap.name);
    await lab.clearAll();

    // the one command of the host's own namespace: whether the OVS's exists
    const host = ran.filter((r) => r.where === "host").map((r) => r.argv);
    assert.deepEqual(host, [["ip", "netns", "pids", NS]]);
    const inside = ran.filter((r) => r.where === NS).map((r) => r.argv);
    const programs = new Set(inside.map((argv) => argv[0]));
    for (const p of ["ovs-vsctl", "ip", "tcpdump", "sysctl"]) assert.ok(programs.has(p), `${p} ran in ${NS}`);
    assert.ok(ran.every((r) => r.where === "host" || r.where === NS));

    // container VMs' namespaces are named after the OVS namespace, made and entered from inside it
    const batches = ran.filter((r) => r.where === NS && r.stdin !== undefined).map((r) => r.stdin!).join("");
    assert.match(batches, new RegExp(`^netns add ${NS}-minimega-a$`, "m"));
    assert.match(
      batches,
      new RegExp(`^link add mega_tap0 type veth peer name veth0 netns ${NS}-minimega-a `, "m"),
    );
    assert.match(batches, new RegExp(`^netns exec ${NS}-minimega-a ethtool -K veth0 tx off$`, "m"));
    assert.ok(inside.some((argv) => argv.join(" ") === `ip -n ${NS}-minimega-a -batch -`));
    // the host tap's ARP settings go through sysctl in the namespace, not this process's /proc/sys
    assert.ok(
      inside.some((argv) =>
        argv.join(" ") === "sysctl -q -w net/ipv4/conf/lwtap/arp_ignore=1 net/ipv4/conf/lwtap/arp_announce=2"
      ),
      inside.map((a) => a.join(" ")).join("\n"),
    );
    assert.ok(inside.some((argv) => argv[0] === "tcpdump" && argv.includes("mega_tap0")));
    await lab.close();
  });
});

test("OvsBackend takes its OVS namespace from LABWIRE_OVS_NETNS of its env, and says when it is missing", async () => {
  const runner = new FakeRunner().on("ip", () => ({
    code: 1,
    stderr: `Cannot open network namespace "${NS}": No such file or directory\n`,
  }));
  const backend = new OvsBackend({ exec: createExec({ runner }), env: { LABWIRE_OVS_NETNS: NS } });
  assert.equal(backend.ovsNetns, NS);
  await assert.rejects(backend.addBridge("b"), {
    message: `Cannot use Open vSwitch in network namespace ${NS}: Cannot open network namespace "${NS}": ` +
      `No such file or directory (start one there with: scripts/ovs-sandbox.sh start DIR --netns ${NS})`,
  });
  assert.deepEqual(runner.calls, [["ip", "netns", "pids", NS]]);
  assert.equal(new OvsBackend({ env: {} }).ovsNetns, undefined);
  assert.equal(new OvsBackend({ env: { LABWIRE_OVS_NETNS: "" } }).ovsNetns, undefined);
});

test("OvsBackend without ovsNetns runs nothing under nsenter, and names namespaces labwire-", async () => {
  await withPath(["ethtool", "nft"], async () => {
    const { ran, exec } = fakeHost();
    const lab = new LabModel({ backend: new OvsBackend({ exec, env: {} }), macSeed: 1 });
    await lab.configureNetworks("minimega", ["LAN"]);
    await lab.launchVms("minimega", "container", "a");
    assert.ok(ran.length > 0 && ran.every((r) => r.where === "host"));
    assert.ok(ran.some((r) => r.stdin?.includes("netns add labwire-minimega-a") === true));
    await lab.close();
  });
});
