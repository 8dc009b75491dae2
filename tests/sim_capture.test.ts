/**
 * Captures on the simulator, end to end: the CLI's commands make the lab, pings make traffic, and
 * tshark reads the pcap files back. Needs tshark: skipped with a reason when it is missing, failed
 * instead when CI or LABWIRE_REQUIRE_REAL=1 is set.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import process from "node:process";
import { nodeRunner, which } from "../lib/exec.ts";
import { Lab } from "../lib/api/lab.ts";

const tshark = which("tshark");
const required = process.env.CI !== undefined && process.env.CI !== "" ||
  process.env.LABWIRE_REQUIRE_REAL === "1";
const skip = tshark === undefined && !required ? "tshark is not installed (apt-get install tshark)" : false;

async function fields(file: string, ...names: string[]): Promise<string[][]> {
  assert.ok(tshark !== undefined, "tshark is required (CI or LABWIRE_REQUIRE_REAL=1) but not installed");
  const args = [tshark, "-r", file, "-T", "fields", ...names.flatMap((n) => ["-e", n])];
  const r = await nodeRunner.run(args, { timeoutMs: 60_000 });
  assert.equal(r.code, 0, r.stderr);
  assert.doesNotMatch(r.stderr.replace(/^Running as user "root".*\n/m, ""), /\S/, "tshark complains");
  return r.stdout.trim().split("\n").filter((l) => l !== "").map((l) => l.split("\t"));
}

async function lab(dir: string, lines: string[]): Promise<void> {
  const runner = await Lab.open({ seed: "capture", host: "test" });
  for (const line of lines) {
    const { errors } = await runner.execute(line);
    assert.deepEqual(errors, [], line);
  }
  await runner.close();
  assert.ok(fs.existsSync(dir));
}

describe("captures on the simulator, read back by tshark", () => {
  test(
    "a VM capture sees the VM's ARP and ICMP untagged; a bridge capture sees every VLAN tagged",
    { skip },
    async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "labwire-capture-"));
      const vmPcap = path.join(dir, "web.pcap");
      const bridgePcap = path.join(dir, "bridge.pcap");
      await lab(dir, [
        "vm config net DMZ",
        "vm launch kvm web,mail",
        "vm config net CORE",
        "vm launch kvm db,app",
        "vm start all",
        "vm net ip web 0 10.0.1.10/24",
        "vm net ip mail 0 10.0.1.11/24",
        "vm net ip db 0 10.0.2.20/24",
        "vm net ip app 0 10.0.2.21/24",
        `capture pcap vm web 0 ${vmPcap}`,
        `capture pcap bridge mega_bridge ${bridgePcap}`,
        "ping web:0 10.0.1.11 2",
        "ping db:0 10.0.2.21 1",
        "capture pcap delete vm web",
        "capture pcap delete bridge mega_bridge",
      ]);
      const vm = await fields(
        vmPcap,
        "frame.number",
        "vlan.id",
        "arp.opcode",
        "icmp.type",
        "ip.src",
        "ip.dst",
      );
      // web's ARP request and the reply, then two echo requests and their replies: untagged (access port)
      assert.deepEqual(vm.map((r) => r.slice(1)), [
        ["", "1", "", "", ""],
        ["", "2", "", "", ""],
        ["", "", "8", "10.0.1.10", "10.0.1.11"],
        ["", "", "0", "10.0.1.11", "10.0.1.10"],
        ["", "", "8", "10.0.1.10", "10.0.1.11"],
        ["", "", "0", "10.0.1.11", "10.0.1.10"],
      ]);
      const bridge = await fields(bridgePcap, "vlan.id", "arp.opcode", "icmp.type");
      const vlans = new Set(bridge.map((r) => r[0]));
      assert.deepEqual([...vlans].sort(), ["101", "102"], "every frame carries its VLAN tag");
      assert.equal(bridge.filter((r) => r[2] === "8").length, 3, "three echo requests");
      assert.equal(bridge.filter((r) => r[2] === "0").length, 3, "three echo replies");
      assert.equal(bridge.filter((r) => r[1] !== "").length, 4, "two ARP exchanges");
      fs.rmSync(dir, { recursive: true });
    },
  );
  test("a capture filter and a snaplen apply to new captures", { skip }, async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "labwire-capture-"));
    const pcap = path.join(dir, "icmp.pcap");
    await lab(dir, [
      "vm config net LAN",
      "vm launch kvm a,b",
      "vm start all",
      "vm net ip a 0 10.0.0.1/24",
      "vm net ip b 0 10.0.0.2/24",
      'capture pcap filter "icmp"',
      "capture pcap snaplen 40",
      `capture pcap vm a 0 ${pcap}`,
      "ping a:0 10.0.0.2 1",
      "clear capture",
    ]);
    const rows = await fields(pcap, "frame.len", "frame.cap_len", "icmp.type");
    assert.deepEqual(rows.map((r) => r[1]), ["40", "40"], "cut at the snaplen");
    assert.deepEqual(rows.map((r) => Number(r[0]) > 40), [true, true], "the original length is kept");
    fs.rmSync(dir, { recursive: true });
  });
  test("an unknown filter word is refused when the capture starts", async () => {
    const runner = await Lab.open({ seed: "filter" });
    await runner.execute("vm config net LAN");
    await runner.execute("vm launch kvm a");
    await runner.execute('capture pcap filter "port 80"');
    const { errors } = await runner.execute("capture pcap vm a 0 /dev/null");
    assert.match(errors[0] ?? "", /^Cannot use capture filter 'port 80': .* 'port' is not one of them$/);
    assert.equal((await runner.execute("capture")).output, "");
    await runner.close();
  });
});
