/**
 * The main job's demo: a lab on the simulator, built with minimega's commands: VLANs DMZ and CORE by
 * alias, VMs on each, a router on both, a host tap with an address on DMZ, a mirror to a monitoring VM,
 * a trunk and a bridge capture. It shows the tables, which pings pass and which are isolated, and
 * reads the pcap files back; then the same kind of lab from TypeScript, with the typed API: handles,
 * a capture read while it runs, a frame of your own on the wire, and who reaches whom; then an experiment
 * network: a router between VLANs with DHCP, DNS and a firewall rule, and a way out. Run with
 * `npx deno task demo` (or `bun scripts/demo.ts`).
 *
 * @module
 */

import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import process from "node:process";
import { formatTable } from "../lib/cli/table.ts";
import { decodeFrame, describeFrame, udpDatagram } from "../lib/wire/frame.ts";
import { LabError } from "../lib/errors.ts";
import { parseNetspec } from "../lib/netspec.ts";
import { readPcap } from "../lib/wire/pcap.ts";
import { Lab } from "../lib/api/lab.ts";
import { runScript } from "../lib/cli/script.ts";

const out = (text: string) => process.stdout.write(text);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "labwire-demo-"));
const bridgePcap = path.join(dir, "mega_bridge.pcap");
const idsPcap = path.join(dir, "ids.pcap");

out(`labwire demo: a lab on the simulator (no root, nothing installed), with minimega's commands

1. Netspecs [bridge,]vlan[,mac][,driver][,qinq], read as minimega reads them

`);
const specs = [
  "DMZ",
  "100",
  "lab,CORE",
  "CORE,13:37:13:37:00:01",
  "DMZ,virtio-net-pci",
  "lab,DMZ,13-37-13-37-00-02,virtio-net-pci,qinq",
];
out(
  formatTable([
    ["netspec", "bridge", "vlan", "mac", "driver", "qinq"],
    ...specs.map((s) => {
      const n = parseNetspec(s);
      return [s, n.bridge, n.vlan, n.mac, n.driver, String(n.qinq)];
    }),
  ]) + "\n",
);

out(`
2. The lab (this is what "labwire --transcript" prints)

`);
const script = `# VLANs by alias: DMZ and CORE get numbers on first use
vm config net DMZ
vm launch kvm web,mail,ids
vm config net CORE
vm launch kvm db
# a VM on both VLANs (it forwards nothing: 5. makes one a router), and a stray VM on CORE with a DMZ address
vm config net DMZ CORE
vm launch kvm router
vm config net CORE
vm launch kvm stray
vm start all
vm net ip web 0 10.0.1.10/24
vm net ip mail 0 10.0.1.11/24
vm net ip ids 0 10.0.1.99/24
vm net ip router 0 10.0.1.1/24
vm net ip router 1 10.0.2.1/24
vm net ip db 0 10.0.2.20/24
vm net ip stray 0 10.0.1.66/24
# the host on DMZ, a mirror of web to the monitoring VM, a trunk to another host
tap create DMZ ip 10.0.1.254/24 admin
tap mirror web 0 ids 0
bridge trunk mega_bridge uplink0
# captures: the whole bridge, and what the monitoring VM sees
capture pcap bridge mega_bridge ${bridgePcap}
capture pcap vm ids 0 ${idsPcap}
vlans
.columns name,state,vlan,tap,ip vm info
tap
bridge
capture
# who reaches whom
ping web:0 10.0.1.11
ping admin 10.0.1.10
ping router:0 10.0.1.10
ping router:1 10.0.2.20
ping web:0 10.0.1.66
ping db:0 10.0.1.10
ping web:0 10.0.1.99
clear capture
# mistakes get minimega's error messages
vm config net lab,DMZ,bogus
tap mirror web 0 ids 0
vm net connect web 3 DMZ`;
const runner = await Lab.open({ onWarning: () => {}, seed: "demo" });
await runScript(runner, script.split("\n"), { transcript: true, stdout: out, stderr: out });
await runner.close();

out(`
   web, mail, the router and the admin tap share DMZ; db and the router share CORE. The stray VM has a DMZ
   address but sits on CORE: isolated. ids is a mirror destination: it only watches (Open vSwitch's rule).

3. The captures, read back (tcpdump -r and tshark -r read them too)

`);
for (const file of [bridgePcap, idsPcap]) {
  const pcap = readPcap(fs.readFileSync(file));
  const vlans = new Map<string, number>();
  for (const r of pcap.records) {
    const f = decodeFrame(r.data);
    const key = f.vlans.length === 0 ? "untagged" : `vlan ${f.vlans.join("/")}`;
    vlans.set(key, (vlans.get(key) ?? 0) + 1);
  }
  const summary = [...vlans].map(([k, n]) => `${n} ${k}`).join(", ");
  out(`${file}: ${pcap.records.length} frames (${summary})\n`);
  for (const r of pcap.records.slice(0, 4)) {
    out(`    ${(r.timeNs / 1e9).toFixed(6)}  ${describeFrame(decodeFrame(r.data))}\n`);
  }
}
out(`
4. The same kind of lab from TypeScript (docs/api.md; examples/ has whole scripts)

    await using lab = await Lab.open();
    const ns = lab.namespace();
    const [web, mail] = await ns.launch(["web", "mail"], { networks: ["DMZ"], start: true });
    const [db] = await ns.launch(["db"], { networks: ["DMZ"], start: true });
    ... setAddress(), createTap("DMZ", { ip }), capture(web.nic(0)), lab.sim.send(...), ns.pingAll()

`);
{
  await using lab = await Lab.open({ seed: "demo-api" });
  const ns = lab.namespace();
  const [web, mail] = await ns.launch(["web", "mail"], { networks: ["DMZ"], start: true });
  const [db] = await ns.launch(["db"], { networks: ["DMZ"], start: true });
  await web!.nic(0).setAddress("10.0.1.10/24");
  await mail!.nic(0).setAddress("10.0.1.11/24");
  await db!.nic(0).setAddress("10.0.1.20/24");
  const admin = await ns.createTap("DMZ", { name: "admin", ip: "10.0.1.254/24" });
  await using capture = await ns.capture(web!.nic(0));
  const ping = await admin.ping("10.0.1.10", { count: 2 });
  out(
    `admin -> web: ${ping.received}/${ping.sent} replies, round trips ${
      ping.rttMs.map((ms) => `${ms} ms`).join(", ")
    }`,
  );
  out(" (virtual time)\n");
  out(`web's NIC saw, while the capture runs:\n`);
  for (const f of await capture.frames()) out(`    ${f.direction.padEnd(3)} ${f.summary}\n`);
  const frame = udpDatagram({
    srcMac: (await mail!.nic(0).info()).mac,
    dstMac: "ff:ff:ff:ff:ff:ff",
    srcIp: "10.0.1.11",
    dstIp: "10.0.1.255",
    srcPort: 5353,
    dstPort: 5353,
  });
  const trace = await lab.sim.send(mail!.nic(0), frame);
  out(
    `a UDP broadcast of your own from mail reached: ${
      trace.deliveries.map((d) => `${d.port} (${d.to})`).join(", ")
    }\n`,
  );
  await db!.stop();
  out(`\nwho reaches whom (db is paused: it answers nothing):\n${await ns.pingAll()}\n`);
  try {
    await web!.nic(0).ping("10.9.9.9");
  } catch (error) {
    if (!(error instanceof LabError)) throw error;
    out(`\nmistakes are errors with a code: ${error.code}: ${error.message}\n`);
  }
}

out(`
5. An experiment network: DMZ and CORE joined by a router (minimega's "router"), clients that get their
   addresses by DHCP, a firewall rule, and a way out through the host's uplink (here the simulated host's:
   "labwire --sim-uplink up0=198.51.100.1/24,198.51.100.7/24")

`);
const routerPcap = path.join(dir, "web.pcap");
const experiment = `vm config net DMZ CORE
vm launch container r
vm config net DMZ
vm launch container web
vm config net CORE,00:1f:53:00:00:20
vm launch container db
router r interface 0 10.0.1.1/24
router r interface 1 10.0.2.1/24
router r dhcp 10.0.1.1 range 10.0.1.100 10.0.1.150
router r dhcp 10.0.2.1 static 00:1f:53:00:00:20 10.0.2.20
router r dns 10.0.2.20 db.lab
router r commit
router web interface 0 dhcp
router web commit
router db interface 0 dhcp
router db commit
# the clients take their leases when they start, as a guest's dhclient at boot
vm start all
.columns name,ip vm info
capture pcap vm web 0 ${routerPcap}
ping web:0 10.0.2.20 2
clear capture
# the router drops ICMP from DMZ to db
router r fw drop in 0 10.0.2.20 icmp
router r commit
ping web:0 10.0.2.20 1
clear router r fw
router r commit
# DMZ's way out: a gateway of the host on DMZ, masquerading out of up0
nat DMZ 10.0.1.254/24 up0
vm net route web default 10.0.1.254
ping web:0 198.51.100.7 2
clear nat`;
{
  const lab = await Lab.open({
    onWarning: () => {},
    seed: "demo-router",
    simUplinks: { up0: { address: "198.51.100.1/24", hosts: ["198.51.100.7/24"] } },
  });
  await runScript(lab, experiment.split("\n"), { transcript: true, stdout: out, stderr: out });
  await lab.close();
  const replies = readPcap(fs.readFileSync(routerPcap)).records.map((r) => decodeFrame(r.data).ipv4)
    .filter((ip) => ip?.src === "10.0.2.20" && ip.icmp?.type === 0);
  out(`\n   db's replies reach web with TTL ${replies[0]?.ttl} (sent with 64): one router on the way.\n`);
}

out(`
Next: "npx deno task test" runs the whole test suite; "deno run -A cli.ts" gives a prompt (type "help");
docs/commands.md lists every command, docs/api.md the typed API; with "--backend ovs" (as root, docs/ovs.md) the
same commands build the lab on real Open vSwitch, and the test suite checks that both give the same pings and
captures.
`);
