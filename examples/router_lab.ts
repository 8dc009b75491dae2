// deno-lint-ignore-file no-console -- an example script prints its results
/**
 * The experiment network on the simulator: DMZ and CORE joined by a router that serves DHCP and DNS,
 * clients that get their addresses from it, who reaches whom, the TTL drop a capture shows, a firewall
 * rule that blocks one flow, and a way out for DMZ through the host's uplink (the simulated host's: a host
 * outside it answers pings). No root, nothing installed.
 *
 *   deno run -A examples/router_lab.ts      (or: bun examples/router_lab.ts)
 *
 * @module
 */

import { Lab } from "labwire";
import { SimBackend } from "labwire/sim";
import { decodeFrame } from "labwire";

// the simulated host has an uplink, eth0, with a host outside it
const sim = new SimBackend({ uplinks: { eth0: { address: "198.51.100.1/24", hosts: ["198.51.100.7/24"] } } });
await using lab = await Lab.open({ backend: sim, seed: "router-lab" });
const ns = lab.namespace();
const [router] = await ns.launch(["router"], { networks: ["DMZ", "CORE"], start: true });
const [web] = await ns.launch(["web"], { networks: ["DMZ"], start: true });
const [db] = await ns.launch(["db"], { networks: ["CORE"], start: true });

// the router: an address on each VLAN, a DHCP server on each, a DNS record
await router!.router().configure({
  interfaces: [["10.0.1.1/24"], ["10.0.2.1/24"]],
  dhcp: [
    { listen: "10.0.1.1", range: ["10.0.1.100", "10.0.1.150"], router: "10.0.1.1", dns: "10.0.1.1" },
    { listen: "10.0.2.1", range: ["10.0.2.100", "10.0.2.150"], router: "10.0.2.1", dns: "10.0.2.1" },
  ],
  dns: { "router.lab": "10.0.1.1" },
});
// the clients ask for their addresses by DHCP, with the router as their gateway
for (const [vm, gateway] of [[web!, "10.0.1.1"], [db!, "10.0.2.1"]] as const) {
  await vm.router().configure({ interfaces: [["dhcp"]], gateway });
  console.log(`${vm.name} got ${(await vm.nic(0).info()).ips.join(", ")} by DHCP`);
}

const dbIp = (await db!.nic(0).info()).ips[0]!.split("/")[0]!;
const webIp = (await web!.nic(0).info()).ips[0]!.split("/")[0]!;

// who reaches whom, and the hop on the way: web's capture sees db's answers one TTL lower
await using capture = await ns.capture(web!.nic(0));
console.log((await ns.pingAll()).toString());
const answers = (await capture.frames()).filter((f) =>
  f.frame?.ipv4?.src === dbIp && f.frame?.ipv4?.icmp?.type === 0
);
console.log(`db's answers reach web with TTL ${answers[0]?.frame?.ipv4?.ttl} (sent with 64)`);

// a firewall rule on the router: web's pings to db are dropped; db's pings to web (and their answers) pass
await router!.router().edit((config) => ({
  ...config,
  fw: {
    ...config.fw,
    rules: [{ nic: 0, direction: "in", action: "drop", src: "", dst: dbIp, proto: "icmp" }],
  },
}));
await router!.router().commit();
console.log(
  `with the rule: web -> db ${(await web!.nic(0).ping(dbIp)).received}/3, db -> web ${
    (await db!.nic(0).ping(webIp)).received
  }/3`,
);

// a way out for DMZ: a second gateway on DMZ, which the outside sees web's pings come from
await ns.openWayOut("DMZ", { gateway: "10.0.1.254/24", uplink: "eth0" });
await lab.run("vm net route web default 10.0.1.254");
const out = await web!.nic(0).ping("198.51.100.7");
const seen = new Set(
  sim.uplink("eth0")!.frames().flatMap((bytes) => {
    const src = decodeFrame(bytes).ipv4?.src;
    return src === undefined || src === "198.51.100.7" ? [] : [src];
  }),
);
console.log(`web -> outside ${out.received}/3, seen outside as ${[...seen].join(", ")}`);
