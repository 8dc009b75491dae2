/**
 * The main job's demo: a lab's VLAN aliases and VM networks built with minimega's commands, then
 * the same from TypeScript. Run with `npx deno task demo` (or `bun scripts/demo.ts`).
 *
 * @module
 */

import process from "node:process";
import { formatTable } from "../lib/cli/table.ts";
import { MacGenerator } from "../lib/mac.ts";
import { parseNetspec } from "../lib/netspec.ts";
import { LabRunner } from "../lib/runner.ts";
import { runScript } from "../lib/script.ts";

const out = (text: string) => process.stdout.write(text);

out(`labwire demo: VLAN aliases and netspecs, as minimega does them (no root, nothing installed)

1. How netspecs [bridge,]vlan[,mac][,driver][,qinq] are read (minimega's table, field by field)

`);
const specs = [
  "DMZ",
  "100",
  "lab,CORE",
  "CORE,13:37:13:37:00:01",
  "DMZ,virtio-net-pci",
  "lab,DMZ,13-37-13-37-00-02,virtio-net-pci,qinq",
  "A,i82559c,13:37:13:37:00:03",
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
out(`(the last one is minimega issue #914: a driver before the MAC makes "A" a bridge)

2. A lab, with minimega's commands (this is what "labwire --transcript" prints)

`);
const script = `# the VMs' NICs: VLANs by alias get numbers on first use, from 101
vm config net DMZ CORE
vlans
# a NIC on bridge lab with a fixed MAC and a virtio NIC, a QinQ NIC, and VLAN 100 by number
vm config net lab,DMZ,13:37:13:37:00:01,virtio-net-pci CORE,qinq 100
vm config net
# a VLAN used by number is blacklisted: no alias will ever get it
vlans blacklist
# namespaces have their own aliases; red's DMZ is not the default namespace's DMZ
namespace red vm config net DMZ minimega//DMZ
namespace red vlans
# and may have their own VLAN range
namespace blue vlans range 2000 2100
namespace blue vm config net DMZ OT
namespace blue vlans
namespace
# mistakes get minimega's error messages
vm config net lab,DMZ,bogus
vlans add DMZ 5
vm config net 4096`;
await runScript(new LabRunner({ onWarning: () => {} }), script.split("\n"), {
  transcript: true,
  stdout: out,
  stderr: out,
});

out(`
3. MACs for NICs that have none: locally administered unicast, reproducible with a seed

`);
const macs = new MacGenerator({ seed: "demo" });
out(formatTable([["nic", "mac"], ...[0, 1, 2].map((i) => [`vm${i}:0`, macs.next()])]) + "\n");
out(`
Next: "npx deno task test" runs the whole test suite; "deno run -A cli.ts" gives a prompt
(type "help"); docs/commands.md lists every command.
`);
