/**
 * labwire: the networks of virtual-machine labs, the way minimega wires them. Netspecs
 * (`[bridge,]vlan[,mac][,driver][,qinq]`), VLAN aliases allocated on first use, namespaces, and
 * minimega's command language with its tables, for scripts in Deno or Bun.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { Lab, LabRunner, parseNetspec } from "labwire";
 *
 * assert.equal(parseNetspec("lab,DMZ,virtio-net-pci").bridge, "lab");
 *
 * const lab = new Lab();
 * lab.configureNetworks("minimega", ["DMZ", "CORE"]);
 * assert.deepEqual(lab.vlans.aliases("minimega"), [{ alias: "DMZ", vlan: 101 }, { alias: "CORE", vlan: 102 }]);
 *
 * const runner = new LabRunner();
 * await runner.execute("vm config net DMZ CORE");
 * assert.equal((await runner.execute("vm config net")).output, "[DMZ CORE]");
 * ```
 *
 * @module
 */
export * from "./lib/mac.ts";
export * from "./lib/netspec.ts";
export * from "./lib/nic_drivers.ts";
export * from "./lib/go_int.ts";
export * from "./lib/vlans.ts";
export * from "./lib/lab.ts";
export * from "./lib/backend.ts";
export * from "./lib/topology.ts";
export * from "./lib/vms.ts";
export * from "./lib/names.ts";
export * from "./lib/wire/bpf.ts";
export * from "./lib/wire/frame.ts";
export * from "./lib/wire/pcap.ts";
export * from "./lib/wire/pcap_file.ts";
export * from "./lib/wire/observe.ts";
export * from "./sim/host.ts";
export * from "./sim/clock.ts";
export * from "./sim/bridge.ts";
export * from "./sim/network.ts";
export * from "./sim/backend.ts";
export type * from "./sim/types.ts";
export * from "./lib/exec.ts";
export * from "./lib/real/ip.ts";
export * from "./lib/real/netns.ts";
export * from "./lib/real/dhcp.ts";
export * from "./lib/ovs.ts";
export * from "./lib/real/ovs_backend.ts";
export * from "./lib/qemu.ts";
export * from "./lib/real/kvm.ts";
export * from "./lib/real/accel.ts";
export * from "./lib/state_store.ts";
export * from "./lib/runner.ts";
export * from "./lib/cli/script.ts";
export * from "./lib/cli/lex.ts";
export * from "./lib/cli/pattern.ts";
export * from "./lib/cli/registry.ts";
export * from "./lib/cli/response.ts";
export * from "./lib/cli/table.ts";
export * from "./lib/cli/builtins.ts";
export * from "./lib/cli/help.ts";
export * from "./lib/cli/interpreter.ts";
export * from "./lib/commands/registry.ts";
export type * from "./lib/commands/session.ts";
