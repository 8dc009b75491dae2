/**
 * The simulator's controls on a typed lab (`lab.sim`): its virtual clock, frames of your own sent from a
 * VM NIC or host tap with where they went and why they were dropped, and endpoints of your own put behind
 * a NIC or tap in place of the lab's host, known to the lab (it will not ping from there).
 *
 * @module
 */

import type { LabModel } from "../lab/model.ts";
import { LabError } from "../errors.ts";
import { encodeFrame, type Frame } from "../wire/frame.ts";
import type { AttachedEndpoint, FrameTrace, SimBackend, SimEndpoint, SimUplink } from "../../sim/backend.ts";
import type { SimHost } from "../../sim/host.ts";
import type { SimNetwork } from "../../sim/network.ts";
import type { VirtualClock } from "../../sim/clock.ts";
import type { LabCore } from "./_core.ts";
import type { NicHandle, TapHandle } from "./handles.ts";

/** A VM NIC or host tap, or a port by name. */
export type SimPort = NicHandle | TapHandle | string;

/**
 * The simulator under a typed lab.
 *
 * @example A frame of your own, and where it went
 * ```ts
 * import assert from "node:assert/strict";
 * import { Lab, udpDatagram } from "labwire";
 * await using lab = await Lab.open();
 * const ns = lab.namespace();
 * const [a, b] = await ns.launch(["a", "b"], { networks: ["LAN"], start: true });
 * const [c] = await ns.launch(["c"], { networks: ["DMZ"], start: true });
 * const frame = udpDatagram({
 *   srcMac: (await a!.nic(0).info()).mac,
 *   dstMac: "ff:ff:ff:ff:ff:ff",
 *   srcIp: "10.0.0.1",
 *   dstIp: "10.0.0.255",
 *   srcPort: 5000,
 *   dstPort: 5000,
 *   data: new TextEncoder().encode("hello"),
 * });
 * const trace = await lab.sim.send(a!.nic(0), frame);
 * const reached = trace.deliveries.filter((d) => d.to === "host").map((d) => d.port);
 * assert.deepEqual(reached, [(await b!.nic(0).info()).tap]); // not c: another VLAN
 * ```
 */
export class SimLab {
  readonly #core: LabCore;

  /** @internal */
  constructor(core: LabCore) {
    this.#core = core;
  }

  #backend(): SimBackend {
    return this.#core.backend as SimBackend;
  }

  /** The lab's virtual clock: ns since the lab started; run it to let answers and timers happen. */
  get clock(): VirtualClock {
    return this.#backend().network.clock;
  }

  /** The simulated network: its bridges, their ports, counters and MAC tables. */
  get network(): SimNetwork {
    return this.#backend().network;
  }

  /**
   * An uplink of the simulated host (`Lab.open`'s `simUplinks`, `--sim-uplink`): its hosts outside and the
   * frames the outside saw, or undefined when the lab has no uplink of that name.
   */
  uplink(name: string): SimUplink | undefined {
    return this.#backend().uplink(name);
  }

  /** Runs the virtual clock `ms` milliseconds on (every event due by then happens). */
  advance(ms: number): void {
    const clock = this.clock;
    clock.run(clock.now() + ms * 1_000_000);
  }

  /** The port name of a NIC, tap or name, read inside an operation. */
  #port(model: LabModel, port: SimPort): string {
    if (typeof port === "string") return port;
    if ("vm" in port) return port.infoIn(model).tap;
    const tap = model.taps.get(port.name);
    if (tap === undefined || tap.namespace !== port.namespace) {
      throw new LabError("tap-not-found", "unknown tap");
    }
    return tap.name;
  }

  /**
   * Sends a frame into the network from a VM NIC or host tap, as its endpoint would, and says where it
   * went: every port that transmitted a copy (and what is behind it: the lab's host, yours, a device or a
   * patch link), and every port that dropped it, with the reason. Answers it provokes are scheduled: run
   * the clock ({@linkcode SimLab.advance}) to see them.
   */
  send(from: SimPort, frame: Uint8Array | Frame): Promise<FrameTrace> {
    const bytes = frame instanceof Uint8Array ? frame : encodeFrame(frame);
    return this.#core.op((model) => this.#backend().send(this.#port(model, from), bytes));
  }

  /**
   * Puts your own endpoint behind a VM NIC or host tap, in place of the lab's host (which is set aside,
   * addresses and ARP cache kept, until you detach yours): it gets a copy of every frame the port
   * transmits, with the virtual time; {@linkcode AttachedEndpoint.send} puts frames on the wire from there.
   * While it is attached, the lab does not ping from that port (code `custom-endpoint`).
   */
  attach(
    to: SimPort,
    endpoint: SimEndpoint | ((frame: Uint8Array, timeNs: number) => void),
  ): Promise<AttachedEndpoint> {
    const sink: SimEndpoint = typeof endpoint === "function" ? { receive: endpoint } : endpoint;
    return this.#core.op((model) => this.#backend().attach(this.#port(model, to), sink));
  }

  /** The lab's own simulated host behind a VM NIC or host tap: its addresses, ARP table and counters. */
  host(of: SimPort): Promise<SimHost> {
    return this.#core.op((model) => {
      const port = this.#port(model, of);
      const host = this.#backend().host(port);
      if (host === undefined) {
        throw new LabError("tap-not-found", `Cannot find the host behind ${port}: nothing is plugged in`);
      }
      return host;
    });
  }
}
