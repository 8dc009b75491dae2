/**
 * labwire: the networks of virtual-machine labs, the way minimega wires them, as a toolkit for TypeScript
 * scripts and tests under Deno and Bun. Open a lab on the simulator in one line (or on Open vSwitch with
 * one option), launch VMs whose NICs are netspecs on VLANs by alias, add host taps, mirrors and captures,
 * and see who reaches whom; every failure is a {@linkcode LabError} with a stable `code`.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { Lab } from "labwire";
 *
 * await using lab = await Lab.open();
 * const ns = lab.namespace();
 * const [web, db] = await ns.launch(["web", "db"], { networks: ["DMZ"], start: true });
 * await web!.nic(0).setAddress("10.0.0.1/24");
 * await db!.nic(0).setAddress("10.0.0.2/24");
 * assert.equal((await web!.nic(0).ping("10.0.0.2")).received, 3);
 * assert.equal((await lab.run("vlans")).text, "alias | vlan\nDMZ   | 101");
 * ```
 *
 * Other entry points: `labwire/sim` (the simulator: frames of your own, endpoints of your own, the
 * virtual clock), `labwire/ovs` (Open vSwitch, QEMU and the processes labwire runs), `labwire/cli` (the
 * command language, to embed), `labwire/testing` (assertions and fakes for tests).
 *
 * @module
 */
export * from "./lib/api/lab.ts";
export * from "./lib/api/namespace.ts";
export * from "./lib/api/handles.ts";
export * from "./lib/api/bridge.ts";
export * from "./lib/api/capture.ts";
export * from "./lib/api/router.ts";
export { type PingAllOptions, Reachability, type ReachPair } from "./lib/api/reach.ts";
export type { SimLab, SimPort } from "./lib/api/sim.ts";
export type * from "./lib/lab/info.ts";
export type { PingFailure, PingResult } from "./lib/lab/reach.ts";
export type {
  BridgeRecord,
  CaptureRecord,
  LabCounters,
  LabState,
  MirrorRecord,
  NamespaceRecord,
  NatRecord,
  NicConfig,
  NicRecord,
  PatchRecord,
  RouterRecord,
  TapRecord,
  VmConfigFields,
  VmConfigRecord,
  VmRecord,
  VmState,
  VmType,
} from "./lib/lab/records.ts";
export type { BridgeInfo } from "./lib/lab/model.ts";
export {
  type DhcpServerPlan,
  type RouterConfig,
  type RouterDhcp,
  RouterError,
  type RouterFw,
  type RouterFwRule,
  type RouterNicRule,
  type RouterPlan,
} from "./lib/lab/router_config.ts";
export { checkCidr, DEFAULT_BRIDGE_NAME, DEFAULT_SNAPLEN } from "./lib/lab/rules.ts";
export * from "./lib/errors.ts";
export * from "./lib/netspec.ts";
export * from "./lib/vlans.ts";
export * from "./lib/mac.ts";
export * from "./lib/names.ts";
export { NIC_DRIVERS } from "./lib/nic_drivers.ts";
export * from "./lib/wire/frame.ts";
export * from "./lib/wire/pcap.ts";
export * from "./lib/wire/pcap_file.ts";
export * from "./lib/wire/bpf.ts";
