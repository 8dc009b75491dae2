/**
 * labwire's real backend: Open vSwitch bridges and ports (`ovs-vsctl`, one transaction per step),
 * container VMs as network namespaces joined by veth pairs, KVM VMs in QEMU (KVM only where it is proven
 * to work, TCG otherwise), host taps, tcpdump captures, DHCP leases with dhclient, and the one place that
 * spawns processes. Open a lab on it with `Lab.open({ backend: "ovs" })` (root; a private Open vSwitch
 * with `scripts/ovs-sandbox.sh`).
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { qemuArgs } from "labwire/ovs";
 * assert.deepEqual(qemuArgs({ name: "web", nics: [], kvm: false }).slice(0, 4), ["-name", "web", "-accel", "tcg"]);
 * ```
 *
 * @module
 */
export * from "./ovs_backend.ts";
export * from "../ovs.ts";
export * from "../qemu.ts";
export * from "./kvm.ts";
export * from "./accel.ts";
export * from "./netns.ts";
export * from "./ip.ts";
export * from "./dhcp.ts";
export * from "../exec.ts";
export * from "../nic_drivers.ts";
