/**
 * labwire's simulator: Open vSwitch bridges on real 802.1Q frames, hosts that answer ARP and ping, and a
 * virtual clock, deterministic and without root. A typed lab runs on it by default; `lab.sim` gives its
 * controls: frames of your own with where they went and why they were dropped, endpoints of your own
 * behind a NIC or tap, the clock.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { Lab, tcpSegment } from "labwire";
 * import type { FrameTrace } from "labwire/sim";
 *
 * await using lab = await Lab.open();
 * const ns = lab.namespace();
 * const [a, b] = await ns.launch(["a", "b"], { networks: ["LAN"], start: true });
 * const got: Uint8Array[] = [];
 * await lab.sim.attach(b!.nic(0), (frame) => got.push(frame));
 * const trace: FrameTrace = await lab.sim.send(a!.nic(0), tcpSegment({
 *   srcMac: (await a!.nic(0).info()).mac,
 *   dstMac: (await b!.nic(0).info()).mac,
 *   srcIp: "10.0.0.1",
 *   dstIp: "10.0.0.2",
 *   srcPort: 40000,
 *   dstPort: 80,
 * }));
 * assert.equal(got.length, 1);
 * // not learnt yet: flooded on LAN, to b and to the bridge's own port
 * assert.deepEqual(trace.deliveries.map((d) => d.to).sort(), ["custom", "device"]);
 * ```
 *
 * @module
 */
export * from "./backend.ts";
export * from "./bridge.ts";
export * from "./clock.ts";
export * from "./host.ts";
export * from "./network.ts";
export * from "./stack.ts";
export type * from "./types.ts";
export { SimLab, type SimPort } from "../lib/api/sim.ts";
