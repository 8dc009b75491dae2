// deno-lint-ignore-file no-console -- an example script prints its results
/**
 * A first lab script: two VLANs by alias, VMs on each, a router VM on both, a host tap, a mirror to a
 * monitoring VM, a capture in memory, and who reaches whom. On the simulator: no root, nothing installed.
 *
 *   deno run -A examples/first_lab.ts      (or: bun examples/first_lab.ts)
 *
 * @module
 */

import { Lab } from "labwire";

await using lab = await Lab.open({ seed: "first-lab" });
const ns = lab.namespace();

// VLANs by alias: DMZ and CORE get numbers on first use; VMs launch paused unless started
const [web, mail, ids] = await ns.launch(["web", "mail", "ids"], { networks: ["DMZ"], start: true });
const [db] = await ns.launch(["db"], { networks: ["CORE"], start: true });
const [router] = await ns.launch(["router"], { networks: ["DMZ", "CORE"], start: true });
await web!.nic(0).setAddress("10.0.1.10/24");
await mail!.nic(0).setAddress("10.0.1.11/24");
await db!.nic(0).setAddress("10.0.2.20/24");
await router!.nic(0).setAddress("10.0.1.1/24");
await router!.nic(1).setAddress("10.0.2.1/24");

// the host on DMZ, and a mirror of web's traffic to the monitoring VM
const admin = await ns.createTap("DMZ", { name: "admin", ip: "10.0.1.254/24" });
await ns.mirror(web!.nic(0), ids!.nic(0));
await using capture = await ns.capture(ids!.nic(0));

console.log("VLANs:", (await ns.vlans.list()).map((v) => `${v.alias}=${v.vlan}`).join(" "));
console.log(`admin pings web: ${(await admin.ping("10.0.1.10")).received}/3 replies`);

// who reaches whom: a matrix, printed as a table
const matrix = await ns.pingAll();
console.log(`\n${matrix}\n`);

// what the monitoring VM saw of web, frame by frame
for (const frame of (await capture.frames()).slice(0, 6)) {
  console.log(`${(frame.timeNs / 1e6).toFixed(3)} ms  ${frame.direction.padEnd(3)} ${frame.summary}`);
}

// minimega's command language on the same lab
console.log(`\n${(await lab.run(".columns name,state,vlan,ip vm info")).text}`);
