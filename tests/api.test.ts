/** The typed lab (lib/api/): handles, records, errors, captures, the simulator's controls, state files. */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import {
  arpRequest,
  CaptureError,
  encodeFrame,
  Lab,
  LabError,
  NamespaceError,
  readPcap,
  tcpSegment,
  TopologyError,
  udpDatagram,
  type VlanInfo,
  VmError,
} from "../mod.ts";
import {
  assertCaptured,
  assertReachability,
  assertReachable,
  assertUnreachable,
} from "../lib/testing/mod.ts";

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "labwire-api-"));
}

/** Two running VMs on LAN with addresses, a third on DMZ. */
async function smallLab() {
  const lab = await Lab.open({ seed: "api" });
  const ns = lab.namespace();
  const [a, b] = await ns.launch(["a", "b"], { networks: ["LAN"], start: true });
  const [c] = await ns.launch(["c"], { networks: ["DMZ"], start: true });
  await a!.nic(0).setAddress("10.0.0.1/24");
  await b!.nic(0).setAddress("10.0.0.2/24");
  await c!.nic(0).setAddress("10.0.0.3/24");
  return { lab, ns, a: a!, b: b!, c: c! };
}

describe("Lab", () => {
  test("open() makes a lab on the simulator, and close() ends it: later calls fail with code closed", async () => {
    const lab = await Lab.open();
    assert.equal(lab.backendName, "sim");
    await lab.close();
    await lab.close();
    await assert.rejects(lab.namespace().vms(), { code: "closed" });
  });
  test("namespace() finds one and never creates one; createNamespace() does, once", async () => {
    await using lab = await Lab.open();
    assert.equal(lab.namespace().name, "minimega");
    assert.throws(
      () => lab.namespace("minimga"),
      (e) =>
        e instanceof NamespaceError && e.code === "namespace-not-found" &&
        e.message === "unknown namespace: minimga",
    );
    assert.deepEqual((await lab.namespaces()).map((n) => n.name), ["minimega"]);
    const red = await lab.createNamespace("red", { vlanRange: { min: 500, max: 600 } });
    assert.equal(lab.namespace("red").name, "red");
    await assert.rejects(lab.createNamespace("red"), { code: "namespace-exists" });
    await assert.rejects(lab.createNamespace("bad name"), { code: "invalid-name" });
    assert.deepEqual(await red.vlans.range(), { min: 500, max: 600, next: 500 });
    assert.equal(await red.vlans.resolve("X"), 500);
    assert.deepEqual(await lab.namespaces(), [
      { name: "minimega", active: true, vlanRange: { min: 101, max: 4095 } },
      { name: "red", active: false, vlanRange: { min: 500, max: 600 } },
    ]);
    await red.destroy();
    assert.throws(() => lab.namespace("red"), { code: "namespace-not-found" });
  });
  test("run() gives minimega's text, typed rows and records, and throws the command's error", async () => {
    await using lab = await Lab.open();
    await lab.run("vm config net DMZ CORE");
    const vlans = await lab.run<VlanInfo>("vlans");
    assert.equal(vlans.text, "alias | vlan\nCORE  | 102\nDMZ   | 101");
    assert.deepEqual(vlans.header, ["alias", "vlan"]);
    assert.deepEqual(vlans.rows, [{ alias: "CORE", vlan: "102" }, { alias: "DMZ", vlan: "101" }]);
    assert.deepEqual(vlans.records, [{ alias: "DMZ", vlan: 101 }, { alias: "CORE", vlan: 102 }]);
    assert.deepEqual(await lab.run("vlans add X 300"), {
      line: "vlans add X 300",
      text: "",
      header: undefined,
      rows: [],
      records: [],
    });
    await assert.rejects(
      lab.run("vlans add X 301"),
      (e) => e instanceof LabError && e.code === "alias-in-use",
    );
    await assert.rejects(lab.run("vlans bogus"), { name: "CommandError", code: "invalid-command" });
    await assert.rejects(
      lab.run("vm start nosuch"),
      (e) => e instanceof VmError && e.message === "vm not found: nosuch",
    );
    const info = await lab.run(".columns name vm info");
    assert.deepEqual(info.rows, []);
    // the typed API and the command language see one lab
    await lab.namespace().launch(["web"]);
    assert.deepEqual((await lab.run(".columns name,state vm info")).rows, [{ name: "web", state: "PAUSED" }]);
  });
  test("execute() never throws: output and errors as the command line prints them", async () => {
    await using lab = await Lab.open();
    assert.deepEqual(await lab.execute("vlans add X 300"), { output: "", errors: [] });
    assert.deepEqual(await lab.execute("vlans add X 301"), { output: "", errors: ["alias already in use"] });
    assert.deepEqual(await lab.execute("# a comment"), { output: "", errors: [] });
  });
  test("calls made at once run one at a time, each whole", async () => {
    await using lab = await Lab.open();
    const ns = lab.namespace();
    const launched = await Promise.all(
      Array.from({ length: 20 }, (_, i) => ns.launch([`v${i}`], { networks: ["LAN"] })),
    );
    assert.equal(launched.length, 20);
    const taps = (await ns.vms()).map((vm) => vm.nics[0]!.tap);
    assert.equal(new Set(taps).size, 20);
  });
  test("snapshot() is the lab's state, as a state file holds it", async () => {
    await using lab = await Lab.open({ seed: 1 });
    await lab.namespace().launch(["web"], { networks: ["DMZ"] });
    const state = await lab.snapshot();
    assert.equal(state.version, 2);
    assert.deepEqual(state.vms.map((vm) => vm.name), ["web"]);
  });
});

describe("Namespace, VmHandle, NicHandle", () => {
  test("launch() with names, a list or a count; VMs are paused unless started", async () => {
    await using lab = await Lab.open({ seed: 2 });
    const ns = lab.namespace();
    await ns.configure({ networks: ["DMZ"], memory: 512 });
    assert.equal((await ns.config()).memory, "512");
    const one = await ns.launch(["web"]);
    const list = await ns.launch("db[1-2]", { type: "kvm" });
    const count = await ns.launch("2", { start: true });
    assert.deepEqual([...one, ...list, ...count].map((v) => v.name), ["web", "db1", "db2", "vm-3", "vm-4"]);
    const info = await ns.vms();
    assert.deepEqual(info.map((vm) => [vm.name, vm.type, vm.state]), [
      ["web", "container", "PAUSED"],
      ["db1", "kvm", "PAUSED"],
      ["db2", "kvm", "PAUSED"],
      ["vm-3", "container", "RUNNING"],
      ["vm-4", "container", "RUNNING"],
    ]);
    assert.deepEqual(info[1]!.nics[0]!.driver, "e1000");
    await assert.rejects(ns.launch(["a,b"]), { code: "invalid-name" });
    await assert.rejects(ns.launch(["web"]), { code: "vm-exists", message: "vm already exists: web" });
  });
  test("a VM's info and its NICs by number, with VLANs as numbers and aliases apart", async () => {
    await using lab = await Lab.open({ seed: 3 });
    const ns = lab.namespace();
    const [vm] = await ns.launch(["web"], { networks: ["DMZ", "lab,100,qinq"] });
    const info = await vm!.info();
    assert.equal(info.nics.length, 2);
    const [dmz, other] = info.nics;
    assert.deepEqual({ ...dmz!, mac: "" }, {
      index: 0,
      tap: "mega_tap0",
      connected: true,
      bridge: "mega_bridge",
      vlan: 101,
      alias: "DMZ",
      mac: "",
      driver: "",
      qinq: false,
      ips: [],
    });
    assert.deepEqual([other!.bridge, other!.vlan, other!.alias, other!.qinq], ["lab", 100, undefined, true]);
    assert.equal((await vm!.nics()).length, 2);
    assert.equal(vm!.nic(1).label, "web:1");
    await vm!.nic(0).disconnect();
    assert.deepEqual((await vm!.nic(0).info()).connected, false);
    await vm!.nic(0).connect("CORE");
    assert.deepEqual([(await vm!.nic(0).info()).alias, (await vm!.nic(0).info()).vlan], ["CORE", 102]);
    await assert.rejects(vm!.nic(5).info(), {
      code: "nic-not-found",
      message: "no such interface 5 for web",
    });
    assert.throws(() => vm!.nic(-1), { code: "invalid-argument" });
    await vm!.kill();
    await ns.flush();
    await assert.rejects(vm!.info(), { code: "vm-not-found", message: "vm not found: web" });
  });
  test("a paused VM answers nothing, and a ping from it is refused", async () => {
    const { lab, a, b } = await smallLab();
    await using _ = lab;
    await assertReachable(a.nic(0), "10.0.0.2");
    await b.stop();
    const paused = await a.nic(0).ping("10.0.0.2", { count: 2 });
    assert.deepEqual([paused.sent, paused.received, paused.reason], [2, 0, "no-reply"]);
    await assert.rejects(b.nic(0).ping("10.0.0.1"), { code: "vm-not-running" });
    await b.start();
    const back = await a.nic(0).ping("10.0.0.2");
    assert.deepEqual([back.received, back.lost, back.rttMs.length, back.reason], [3, 0, 3, undefined]);
    assert.ok(back.rttMs.every((ms) => ms > 0 && ms < 1), "virtual round trips of microseconds");
  });
  test("ping results say why nothing came back", async () => {
    const { lab, a, c } = await smallLab();
    await using _ = lab;
    assert.equal((await a.nic(0).ping("10.0.0.3", { count: 1 })).reason, "no-reply");
    const long = await a.nic(0).ping("10.0.0.99", { count: 16 });
    assert.equal(long.reason, "host-unreachable", "ARP failed after 3 s: Destination Host Unreachable");
    await assert.rejects(
      c.nic(0).ping("192.168.0.1"),
      (e) =>
        e instanceof LabError && e.code === "network-unreachable" &&
        e.message === "Cannot ping 192.168.0.1 from c:0: connect: Network is unreachable",
    );
    await assert.rejects(a.nic(0).ping("10.0.0.2", { count: 0 }), { code: "invalid-argument" });
  });
  test("pingAll() is who reaches whom, and prints as a table", async () => {
    const { lab, ns } = await smallLab();
    await using _ = lab;
    await ns.createTap("LAN", { name: "admin", ip: "10.0.0.254/24" });
    const matrix = await ns.pingAll();
    assert.deepEqual(matrix.sources, ["a:0", "b:0", "c:0", "admin"]);
    assertReachability(matrix, {
      "a:0": ["10.0.0.2", "10.0.0.254"],
      "c:0": [],
      admin: ["10.0.0.1", "10.0.0.2"],
    });
    assert.equal(matrix.toString().split("\n")[0], "from  | 10.0.0.1 | 10.0.0.2 | 10.0.0.3 | 10.0.0.254");
    assert.throws(
      () => assertReachability(matrix, { "c:0": ["10.0.0.1"] }),
      /c:0 does not reach 10\.0\.0\.1/,
    );
  });
});

describe("TapHandle, MirrorHandle, BridgeHandle", () => {
  test("a host tap pings, is listed, and goes", async () => {
    const { lab, ns } = await smallLab();
    await using _ = lab;
    const admin = await ns.createTap("LAN", { name: "admin", ip: "10.0.0.254/24" });
    assert.deepEqual({ ...(await admin.info()), mac: "" }, {
      name: "admin",
      namespace: "minimega",
      bridge: "mega_bridge",
      vlan: 101,
      alias: "LAN",
      mac: "",
      ips: ["10.0.0.254/24"],
    });
    await assertReachable(admin, "10.0.0.1");
    await assertUnreachable(admin, "10.0.0.3");
    assert.deepEqual((await ns.taps()).map((t) => t.name), ["admin"]);
    const generated = await ns.createTap(200);
    assert.equal(generated.name, "mega_tap3");
    await admin.delete();
    await assert.rejects(admin.info(), (e) => e instanceof TopologyError && e.code === "tap-not-found");
  });
  test("a mirror copies a NIC's traffic to another, whose port then only watches", async () => {
    const { lab, ns, a, b } = await smallLab();
    await using _ = lab;
    const [ids] = await ns.launch(["ids"], { networks: ["LAN"], start: true });
    const mirror = await ns.mirror(a.nic(0), ids!.nic(0));
    assert.deepEqual(await mirror.info(), {
      name: `mirror-${(await ids!.nic(0).info()).tap}`,
      namespace: "minimega",
      bridge: "mega_bridge",
      source: "mega_tap0",
      output: (await ids!.nic(0).info()).tap,
    });
    await using capture = await ns.capture(ids!.nic(0));
    await assertReachable(a.nic(0), "10.0.0.2");
    await assertCaptured(capture, (f) => f.frame?.ipv4?.icmp?.type === 8, "ids saw a's echo request");
    await assert.rejects(ns.mirror(b.nic(0), ids!.nic(0)), { code: "mirror-exists" });
    await mirror.delete();
    assert.deepEqual(await ns.mirrors(), []);
  });
  test("a bridge: trunks, settings, patch links, destroy", async () => {
    await using lab = await Lab.open();
    const br = lab.bridge("lab");
    await assert.rejects(br.info(), { code: "bridge-not-found" });
    await br.trunk("eth9");
    await br.configure("stp_enable", "true");
    await br.patch("lab2");
    assert.deepEqual(await br.info(), {
      name: "lab",
      preexisting: false,
      vlans: [],
      trunks: ["eth9", "patch-lab2"],
      config: { stp_enable: "true" },
    });
    await assert.rejects(br.trunk("eth9"), {
      code: "trunk-exists",
      message: "bridge already trunking to eth9",
    });
    await br.unpatch("lab2");
    await br.untrunk("eth9");
    await br.destroy();
    assert.deepEqual((await lab.bridges()).map((b) => b.name), ["lab2"]);
  });
});

describe("CaptureHandle", () => {
  test("a capture without a file keeps frames in memory, readable while it runs, with port, direction, time and headers", async () => {
    const { lab, ns, a, b } = await smallLab();
    await using _ = lab;
    const capture = await ns.capture(a.nic(0));
    assert.equal(capture.file, undefined);
    await a.nic(0).ping("10.0.0.2", { count: 1 });
    const frames = await capture.frames();
    assert.deepEqual(
      frames.map((f) => `${f.direction} ${f.frame?.arp !== undefined ? "arp" : f.frame?.ipv4?.icmp?.type}`),
      [
        "in arp",
        "out arp",
        "in 8",
        "out 0",
      ],
    );
    const tap = (await a.nic(0).info()).tap;
    assert.ok(frames.every((f) => f.port === tap && f.length >= 60 && f.bytes.length === f.length));
    assert.ok(frames[1]!.timeNs > frames[0]!.timeNs, "virtual time moves");
    assert.match(frames[2]!.summary, /ICMP echo request/);
    // still running: more frames come
    await b.nic(0).ping("10.0.0.1", { count: 1 });
    assert.equal((await capture.frames()).length, 6);
    assert.deepEqual((await ns.captures()).map((c) => [c.kind, c.vm, c.nic, c.path]), [[
      "vm",
      "a",
      0,
      undefined,
    ]]);
    await capture.stop();
    assert.equal((await capture.frames()).length, 6, "readable after it stopped");
    assert.deepEqual(await ns.captures(), []);
    await assert.rejects(capture.info(), (e) => e instanceof CaptureError && e.code === "capture-not-found");
  });
  test("a capture keeps at most its limit of frames, the newest", async () => {
    const { lab, ns, a } = await smallLab();
    await using _ = lab;
    await using capture = await ns.capture(a.nic(0), { limit: 3 });
    await a.nic(0).ping("10.0.0.2", { count: 2 });
    const frames = await capture.frames();
    assert.equal(frames.length, 3);
    assert.equal(frames[2]!.frame?.ipv4?.icmp?.type, 0, "the newest is kept");
  });
  test("a file capture is a complete pcap after every flush, and a bridge capture sees tags", async () => {
    const dir = tempDir();
    try {
      const { lab, ns, a } = await smallLab();
      const file = path.join(dir, "bridge.pcap");
      const capture = await ns.capture(lab.bridge("mega_bridge"), { file });
      await a.nic(0).ping("10.0.0.2", { count: 1 });
      await capture.flush();
      const records = readPcap(fs.readFileSync(file)).records;
      assert.equal(records.length, 4);
      const frames = await capture.frames();
      assert.deepEqual(frames.map((f) => f.frame?.vlans), [[101], [101], [101], [101]]);
      await a.nic(0).ping("10.0.0.2", { count: 1 });
      await capture.flush();
      assert.equal(readPcap(fs.readFileSync(file)).records.length, 6);
      // await using / close() completes every capture's file
      await a.nic(0).ping("10.0.0.2", { count: 1 });
      await lab.close();
      assert.equal(readPcap(fs.readFileSync(file)).records.length, 8);
      assert.equal((await capture.frames()).length, 8, "a file capture reads its file once stopped");
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("SimLab (lab.sim)", () => {
  test("send() puts any frame on the wire and says where it went and why it was dropped", async () => {
    const { lab, a, b } = await smallLab();
    await using _ = lab;
    const aMac = (await a.nic(0).info()).mac;
    const bTap = (await b.nic(0).info()).tap;
    const broadcast = udpDatagram({
      srcMac: aMac,
      dstMac: "ff:ff:ff:ff:ff:ff",
      srcIp: "10.0.0.1",
      dstIp: "10.0.0.255",
      srcPort: 5000,
      dstPort: 5000,
    });
    const trace = await lab.sim.send(a.nic(0), broadcast);
    assert.deepEqual(trace.deliveries.filter((d) => d.to === "host").map((d) => d.port), [bTap]);
    assert.deepEqual(trace.drops, []);
    // a tagged frame on an access port is dropped there, and the trace says why
    const tagged = encodeFrame(
      arpRequest({ srcMac: aMac, srcIp: "10.0.0.1", targetIp: "10.0.0.2", vlans: [101] }),
    );
    const refused = await lab.sim.send(a.nic(0), tagged);
    assert.deepEqual(refused.deliveries, []);
    assert.deepEqual(refused.drops.map((d) => d.reason), ["vlan"]);
  });
  test("attach() puts your endpoint behind a NIC, known to the lab, with the virtual clock at hand", async () => {
    const { lab, a, b } = await smallLab();
    await using _ = lab;
    const seen: { frame: Uint8Array; timeNs: number }[] = [];
    const mine = await lab.sim.attach(b.nic(0), (frame, timeNs) => seen.push({ frame, timeNs }));
    const aMac = (await a.nic(0).info()).mac;
    const bMac = (await b.nic(0).info()).mac;
    // a's host asks for 10.0.0.2: your endpoint gets the ARP request, and nobody answers for you
    const lost = await a.nic(0).ping("10.0.0.2", { count: 1 });
    assert.equal(lost.received, 0);
    assert.ok(seen.some((s) => s.frame[12] === 0x08 && s.frame[13] === 0x06), "the ARP request reached you");
    await assert.rejects(b.nic(0).ping("10.0.0.1"), { code: "custom-endpoint" });
    // you send a TCP SYN: it reaches a's host (which ignores TCP)
    const trace = mine.send(encodeFrame(tcpSegment({
      srcMac: bMac,
      dstMac: aMac,
      srcIp: "10.0.0.2",
      dstIp: "10.0.0.1",
      srcPort: 40000,
      dstPort: 22,
    })));
    assert.deepEqual(trace.deliveries.map((d) => d.to), ["host"]);
    const before = lab.sim.clock.now();
    lab.sim.advance(1000);
    assert.equal(lab.sim.clock.now(), before + 1_000_000_000);
    // detached: the lab's own host is back, with its address
    mine.detach();
    assert.equal((await a.nic(0).ping("10.0.0.2", { count: 1 })).received, 1);
    assert.deepEqual((await lab.sim.host(b.nic(0))).addresses(), ["10.0.0.2/24"]);
  });
  test("is refused on another backend", async () => {
    const { RecordingBackend } = await import("../lib/testing/recording_backend.ts");
    await using lab = await Lab.open({ backend: new RecordingBackend() });
    assert.throws(() => lab.sim, { code: "unsupported" });
  });
});

describe("a lab in a state file, from the API", () => {
  test("every change, typed or command line, is made under the file's lock on the lab the file holds", async () => {
    const dir = tempDir();
    const state = path.join(dir, "lab.json");
    try {
      const one = await Lab.open({ state, seed: "s" });
      const two = await Lab.open({ state, seed: "s" });
      await one.namespace().launch(["web"], { networks: ["DMZ"] });
      await two.run("vm config net CORE");
      await two.namespace().launch(["db"]);
      // one sees what two did, and the other way round
      assert.deepEqual((await one.namespace().vms()).map((vm) => [vm.name, vm.nics[0]!.alias]), [
        ["web", "DMZ"],
        ["db", "CORE"],
      ]);
      assert.equal(JSON.parse(fs.readFileSync(state, "utf8")).vms.length, 2);
      // concurrent changes from both, none lost
      await Promise.all([
        ...Array.from({ length: 10 }, (_, i) => one.namespace().vlans.resolve(`A${i}`)),
        ...Array.from({ length: 10 }, (_, i) => two.namespace().vlans.resolve(`B${i}`)),
      ]);
      const vlans = await one.namespace().vlans.list();
      assert.equal(vlans.length, 22);
      assert.equal(new Set(vlans.map((v) => v.vlan)).size, 22);
      // a failed call writes nothing
      const before = fs.readFileSync(state, "utf8");
      await assert.rejects(two.namespace().launch(["web"]), { code: "vm-exists" });
      assert.equal(fs.readFileSync(state, "utf8"), before);
      await one.close();
      await two.close();
      const later = await Lab.open({ state });
      assert.deepEqual((await later.namespace().vms()).map((vm) => vm.name), ["web", "db"]);
      await later.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
  test("a state file that is not a lab's is one error, and is left alone", async () => {
    const dir = tempDir();
    try {
      const state = path.join(dir, "lab.json");
      fs.writeFileSync(state, "{not json");
      await assert.rejects(Lab.open({ state }), {
        name: "StateError",
        code: "state-failed",
        message: /^Cannot read state file/,
      });
      assert.equal(fs.readFileSync(state, "utf8"), "{not json");
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
