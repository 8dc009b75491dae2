// Runtime-neutral.
/**
 * A simulated lab network: Open vSwitch bridges by name, the patch links between them, and the virtual
 * clock they share.
 *
 * A frame leaving a patch port enters the peer bridge at once, depth first, as OVS translates patch
 * ports inline. OVS bounds that translation, and so does the simulator: a frame may go at most 64 patch
 * links deep and cross 4096 patch links in all (OVS `MAX_DEPTH` and `MAX_RESUBMITS`). Past that budget,
 * the branch that went too far is dropped (what already reached endpoints stays delivered), the bridge
 * it would have entered counts a {@linkcode SimBridge.loopDrops} and describes it in
 * {@linkcode SimBridge.lastLoop}, e.g. `loop detected: frame from 02:00:00:00:00:01 on VLAN 100 crossed
 * bridges a -> b -> a`. Recursion is therefore at most 64 bridges deep, whatever the topology.
 *
 * @module
 */

import { Engine, JOIN_ENGINE, SET_PEER } from "./_engine.ts";
import { SimBridge, type SimBridgeOptions } from "./bridge.ts";
import { VirtualClock } from "./clock.ts";

/** Options for {@linkcode SimNetwork}. */
export interface SimNetworkOptions {
  /** The clock of the lab. @default {new VirtualClock()} */
  clock?: VirtualClock;
  /** How many patch links deep one frame may go (OVS `MAX_DEPTH`). @default {64} */
  maxPatchDepth?: number;
  /** How many patch links one frame may cross in all, every branch counted (OVS `MAX_RESUBMITS`). @default {4096} */
  maxPatchTraversals?: number;
}

/** Options for {@linkcode SimNetwork.addBridge}: those of a {@linkcode SimBridge}, but the clock is the network's. */
export type AddBridgeOptions = Omit<SimBridgeOptions, "clock">;

/**
 * Bridges by name, patched together, sharing one {@linkcode VirtualClock}.
 *
 * @example Two bridges joined by a trunk patch link
 * ```ts
 * import assert from "node:assert/strict";
 * import { SimNetwork } from "labwire/sim";
 *
 * const net = new SimNetwork();
 * const br0 = net.addBridge("br0");
 * const br1 = net.addBridge("br1");
 * br0.addPort("vm1", { kind: "access", tag: 100 });
 * br0.addPort("p0", { kind: "trunk", trunks: [100, 200] });
 * br1.addPort("p1", { kind: "trunk", trunks: [100, 200] });
 * br1.addPort("vm6", { kind: "access", tag: 100 });
 * net.patch("br0", "p0", "br1", "p1");
 * let got = 0;
 * br1.attach("vm6", { receive: () => got++ });
 * const frame = new Uint8Array(60).fill(0xff, 0, 6);
 * frame.set([2, 0, 0, 0, 0, 1], 6);
 * br0.transmitFrom("vm1", frame);
 * assert.equal(got, 1);
 * ```
 */
export class SimNetwork {
  #clock: VirtualClock;
  #engine: Engine;
  #bridges = new Map<string, SimBridge>();

  /**
   * @param options The clock and the patch-link budget.
   * @throws {RangeError} If a budget is not a positive integer.
   */
  constructor(options: SimNetworkOptions = {}) {
    const { clock = new VirtualClock(), maxPatchDepth = 64, maxPatchTraversals = 4096 } = options;
    for (
      const [name, value] of [["maxPatchDepth", maxPatchDepth], ["maxPatchTraversals", maxPatchTraversals]]
    ) {
      if (!(Number.isInteger(value) && (value as number) > 0 && (value as number) <= 1 << 20)) {
        throw new RangeError(
          `Cannot create network as '${name}' must be an integer 1-1048576: current value is ${value}`,
        );
      }
    }
    this.#clock = clock;
    this.#engine = new Engine(maxPatchDepth, maxPatchTraversals);
  }

  /** The lab's clock. */
  get clock(): VirtualClock {
    return this.#clock;
  }

  /**
   * Adds a bridge.
   *
   * @param name The bridge's name, unique in the network.
   * @param options The bridge's MAC table settings.
   * @returns The bridge.
   * @throws {Error} If the name is taken, or a frame is being forwarded.
   */
  addBridge(name: string, options: AddBridgeOptions = {}): SimBridge {
    const action = `add bridge "${name}"`;
    this.#checkIdle(action);
    if (this.#bridges.has(name)) throw new Error(`Cannot ${action}: a bridge with that name already exists`);
    const bridge = new SimBridge(name, { ...options, clock: this.#clock });
    bridge[JOIN_ENGINE](this.#engine);
    this.#bridges.set(name, bridge);
    return bridge;
  }

  /**
   * The bridge named `name`.
   * @throws {RangeError} If there is none.
   */
  bridge(name: string): SimBridge {
    const bridge = this.#bridges.get(name);
    if (bridge === undefined) throw new RangeError(`Cannot find bridge "${name}": no such bridge`);
    return bridge;
  }

  /** Whether a bridge named `name` exists. */
  hasBridge(name: string): boolean {
    return this.#bridges.has(name);
  }

  /** The bridges' names, in the order they were added. */
  bridges(): string[] {
    return [...this.#bridges.keys()];
  }

  /**
   * Removes a bridge; the ports patched to it become unpatched (they drop what they would send).
   * The removed bridge keeps working on its own, outside the network.
   *
   * @throws {RangeError} If there is no such bridge.
   * @throws {Error} If a frame is being forwarded.
   */
  removeBridge(name: string): void {
    const action = `remove bridge "${name}"`;
    this.#checkIdle(action);
    const bridge = this.#bridges.get(name);
    if (bridge === undefined) throw new RangeError(`Cannot ${action}: no such bridge`);
    for (const port of bridge.ports()) {
      if (port.patch === undefined) continue;
      const peer = this.#bridges.get(port.patch.bridge)!;
      peer[SET_PEER](peer.portIndex(port.patch.port), undefined, 0);
      bridge[SET_PEER](port.index, undefined, 0);
    }
    this.#bridges.delete(name);
    bridge[JOIN_ENGINE](new Engine(this.#engine.maxDepth, this.#engine.maxTraversals));
  }

  /**
   * Joins two existing ports of two bridges with a patch link (OVS `type=patch options:peer=...` on both):
   * frames one port transmits enter the bridge of the other, on that port, with that port's VLAN mode.
   * The two ports may be on the same bridge.
   *
   * @throws {RangeError} If a bridge or port does not exist.
   * @throws {Error} If it is the same port twice, a port already has a patch link or an endpoint, or a
   * frame is being forwarded.
   */
  patch(bridgeA: string, portA: string, bridgeB: string, portB: string): void {
    const action = `patch "${bridgeA}:${portA}" to "${bridgeB}:${portB}"`;
    this.#checkIdle(action);
    const a = this.#bridgeFor(bridgeA, action);
    const b = this.#bridgeFor(bridgeB, action);
    if (a === b && portA === portB) throw new Error(`Cannot ${action}: a port cannot be patched to itself`);
    const pa = this.#freePort(a, portA, action);
    const pb = this.#freePort(b, portB, action);
    a[SET_PEER](pa, b, pb);
    b[SET_PEER](pb, a, pa);
  }

  /**
   * Removes the patch link of a port (both ends become plain ports with nothing attached).
   *
   * @throws {RangeError} If the bridge or port does not exist, or the port has no patch link.
   * @throws {Error} If a frame is being forwarded.
   */
  unpatch(bridge: string, port: string): void {
    const action = `unpatch "${bridge}:${port}"`;
    this.#checkIdle(action);
    const b = this.#bridgeFor(bridge, action);
    const info = b.ports().find((p) => p.name === port);
    if (info === undefined) {
      throw new RangeError(`Cannot ${action}: bridge "${bridge}" has no port "${port}"`);
    }
    if (info.patch === undefined) throw new RangeError(`Cannot ${action}: the port has no patch link`);
    const peer = this.#bridges.get(info.patch.bridge)!;
    peer[SET_PEER](peer.portIndex(info.patch.port), undefined, 0);
    b[SET_PEER](info.index, undefined, 0);
  }

  /** Frames dropped for crossing too many patch links, over every bridge. */
  get loopDrops(): number {
    let n = 0;
    for (const b of this.#bridges.values()) n += b.loopDrops;
    return n;
  }

  /** The description of the last frame dropped for crossing too many patch links, on any bridge. */
  get lastLoop(): string | undefined {
    return this.#engine.lastLoop;
  }

  #bridgeFor(name: string, action: string): SimBridge {
    const bridge = this.#bridges.get(name);
    if (bridge === undefined) throw new RangeError(`Cannot ${action}: no bridge "${name}"`);
    return bridge;
  }

  #freePort(bridge: SimBridge, port: string, action: string): number {
    const info = bridge.ports().find((p) => p.name === port);
    if (info === undefined) {
      throw new RangeError(`Cannot ${action}: bridge "${bridge.name}" has no port "${port}"`);
    }
    if (info.patch !== undefined) {
      throw new Error(
        `Cannot ${action}: port "${bridge.name}:${port}" is already patched to "${info.patch.bridge}:${info.patch.port}"`,
      );
    }
    if (info.attached) {
      throw new Error(`Cannot ${action}: port "${bridge.name}:${port}" has an endpoint attached`);
    }
    return info.index;
  }

  #checkIdle(action: string): void {
    if (this.#engine.busy) {
      throw new Error(
        `Cannot ${action}: a frame is being forwarded (change the lab from a scheduled event, not from inside receive())`,
      );
    }
  }
}
