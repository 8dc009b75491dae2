// deno-lint-ignore-file no-console -- an example script prints its results
/**
 * Light lab automation with a state file: each run changes the lab the file holds, under its lock, so
 * several scripts (and `labwire --state lab.json`) can share one lab.
 *
 *   deno run -A examples/automation.ts lab.json up       # build the lab (again: nothing to do)
 *   deno run -A examples/automation.ts lab.json status   # what is there, who reaches whom
 *   deno run -A examples/automation.ts lab.json down     # remove it
 *   labwire --state lab.json -e "vm info"                # the same lab from the command line
 *
 * On the simulator a lab in a file is rebuilt in each process; with `--backend ovs` semantics (as root,
 * `backend: "ovs"` below) it stays up on Open vSwitch between runs.
 *
 * @module
 */

import process from "node:process";
import { Lab } from "labwire";

const [file = "lab.json", verb = "status"] = process.argv.slice(2);

await using lab = await Lab.open({ state: file, seed: "automation" });
const ns = lab.namespace();

switch (verb) {
  case "up": {
    const have = new Set((await ns.vms()).map((vm) => vm.name));
    const wanted: [string, string, string][] = [["web", "DMZ", "10.0.1.10/24"], [
      "db",
      "DMZ",
      "10.0.1.20/24",
    ]];
    for (const [name, vlan, ip] of wanted) {
      if (have.has(name)) continue;
      const [vm] = await ns.launch([name], { networks: [vlan], start: true });
      await vm!.nic(0).setAddress(ip);
      console.log(`launched ${name} on ${vlan} with ${ip}`);
    }
    if (!(await ns.taps()).some((t) => t.name === "admin")) {
      await ns.createTap("DMZ", { name: "admin", ip: "10.0.1.254/24" });
      console.log("made host tap admin on DMZ");
    }
    break;
  }
  case "status": {
    for (const vm of await ns.vms()) {
      const nics = vm.nics.map((n) => `${n.alias ?? n.vlan}:${n.ips.join(",") || "-"}`).join(" ");
      console.log(`${vm.name.padEnd(6)} ${vm.state.padEnd(8)} ${nics}`);
    }
    console.log(`\n${await ns.pingAll()}`);
    break;
  }
  case "down":
    await lab.clearAll();
    console.log("lab cleared");
    break;
  default:
    console.error(`Cannot run '${verb}': choose up, status or down`);
    process.exitCode = 2;
}
