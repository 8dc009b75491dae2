// Runtime-neutral.
/**
 * A backend that realises nothing and records every call, one line each: for tests of what the lab model
 * asks of a backend, or of code of your own that drives one. Pings get every reply but one; DHCP gives
 * `10.9.0.7/24`; a call whose line matches {@linkcode RecordingBackend.failOn} fails.
 *
 * @module
 */

import type { Backend } from "../backend/backend.ts";
import type { MirrorSpec, PortSpec } from "../backend/bridges.ts";
import type { CaptureContents, CaptureSpec } from "../backend/captures.ts";
import type { DhcpResult, PingReport } from "../backend/endpoints.ts";
import type { VmSpec } from "../backend/vms.ts";

/**
 * Records what a lab asks of its backend.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { Lab } from "labwire";
 * import { RecordingBackend } from "labwire/testing";
 * const backend = new RecordingBackend();
 * await using lab = await Lab.open({ backend, seed: 1 });
 * await lab.namespace().createTap("LAN", { name: "t0" });
 * assert.deepEqual(backend.calls, ["addBridge mega_bridge", 'addPorts mega_bridge t0 host {"kind":"access","tag":101}']);
 * ```
 */
export class RecordingBackend implements Backend {
  /** `recording`. */
  readonly name: string = "recording";
  /** Every call, in order. */
  readonly calls: string[] = [];
  /** The ports added and not removed, by name. */
  readonly ports: Map<string, PortSpec> = new Map();
  /** Bridges that exist already, not made by the backend (listed preexisting). */
  readonly preexisting: Set<string> = new Set();
  /** Whether its VMs outlive the process. */
  readonly keepsVms: boolean;
  /** Whether it keeps the lab between processes. */
  readonly persistent: boolean;
  /** Calls whose line matches this fail with `Cannot <line>: boom`. */
  failOn: RegExp | undefined = undefined;
  #failIn: number | undefined = undefined;

  /** Makes a backend; `persistent` and `keepsVms` make it look like Open vSwitch with a state file. */
  constructor(options: { persistent?: boolean; keepsVms?: boolean } = {}) {
    this.persistent = options.persistent ?? false;
    this.keepsVms = options.keepsVms ?? false;
  }

  #call(line: string): Promise<void> {
    if (this.#failIn !== undefined && --this.#failIn === 0) {
      this.#failIn = undefined;
      return Promise.reject(new Error(`Cannot ${line}: boom`));
    }
    if (this.failOn?.test(line)) return Promise.reject(new Error(`Cannot ${line}: boom`));
    this.calls.push(line);
    return Promise.resolve();
  }

  /** Makes the `n`-th call from now (1: the next one) fail once with `Cannot <line>: boom`. */
  failCall(n: number): void {
    this.#failIn = n;
  }

  /** Records `addBridge B`. */
  async addBridge(bridge: string): Promise<{ preexisting: boolean }> {
    await this.#call(`addBridge ${bridge}`);
    return { preexisting: this.preexisting.has(bridge) };
  }
  /** Records `configureBridge B k=v`. */
  configureBridge(bridge: string, key: string, value: string): Promise<void> {
    return this.#call(`configureBridge ${bridge} ${key}=${value}`);
  }
  /** Records `removeBridge B`. */
  removeBridge(bridge: string): Promise<void> {
    return this.#call(`removeBridge ${bridge}`);
  }
  /** Records `addPorts B name role mode, ...`. */
  async addPorts(bridge: string, ports: readonly PortSpec[]): Promise<void> {
    const shown = ports.map((port) => `${port.name} ${port.role} ${JSON.stringify(port.mode)}`);
    await this.#call(`addPorts ${bridge} ${shown.join(", ")}`);
    for (const port of ports) this.ports.set(port.name, port);
  }
  /** Records `removePorts B names [(keep the NICs)]`. */
  async removePorts(
    bridge: string,
    ports: readonly string[],
    options: { keepNics?: boolean } = {},
  ): Promise<void> {
    await this.#call(
      `removePorts ${bridge} ${ports.join(" ")}${options.keepNics === true ? " (keep the NICs)" : ""}`,
    );
    for (const port of ports) this.ports.delete(port);
  }
  /** Records `destroyNics name vm:nic, ...`. */
  destroyNics(nics: readonly PortSpec[]): Promise<void> {
    return this.#call(`destroyNics ${nics.map((n) => `${n.name} ${n.vm?.name}:${n.vm?.nic}`).join(", ")}`);
  }
  /** Records `addPatch A a B b`. */
  addPatch(bridgeA: string, portA: string, bridgeB: string, portB: string): Promise<void> {
    return this.#call(`addPatch ${bridgeA} ${portA} ${bridgeB} ${portB}`);
  }
  /** Records `addMirror B {spec}`. */
  addMirror(bridge: string, mirror: MirrorSpec): Promise<void> {
    return this.#call(`addMirror ${bridge} ${JSON.stringify(mirror)}`);
  }
  /** Records `removeMirror B name`. */
  removeMirror(bridge: string, mirror: string): Promise<void> {
    return this.#call(`removeMirror ${bridge} ${mirror}`);
  }
  /** Records `addAddress B port cidr`. */
  addAddress(bridge: string, port: string, cidr: string): Promise<void> {
    return this.#call(`addAddress ${bridge} ${port} ${cidr}`);
  }
  /** Records `removeAddress B port cidr`. */
  removeAddress(bridge: string, port: string, cidr: string): Promise<void> {
    return this.#call(`removeAddress ${bridge} ${port} ${cidr}`);
  }
  /** Records `dhcp port` and gives 10.9.0.7/24. */
  async dhcp(_bridge: string, port: string): Promise<DhcpResult> {
    await this.#call(`dhcp ${port}`);
    return { address: "10.9.0.7/24" };
  }
  /** Records `ping B port ip count`: every reply but one. */
  async ping(bridge: string, port: string, ip: string, count: number): Promise<PingReport> {
    await this.#call(`ping ${bridge} ${port} ${ip} ${count}`);
    return {
      sent: count,
      received: count - 1,
      errors: 0,
      rttMs: Array(count - 1).fill(1),
      networkUnreachable: false,
    };
  }
  /** Records `launchVms a, b`. */
  launchVms(vms: readonly VmSpec[]): Promise<void> {
    return this.#call(`launchVms ${vms.map((v) => v.name).join(", ")}`);
  }
  /** Records `startVms a, b`. */
  startVms(vms: readonly VmSpec[]): Promise<void> {
    return this.#call(`startVms ${vms.map((v) => v.name).join(", ")}`);
  }
  /** Records `stopVms a, b`. */
  stopVms(vms: readonly VmSpec[]): Promise<void> {
    return this.#call(`stopVms ${vms.map((v) => v.name).join(", ")}`);
  }
  /** Records `killVms a, b`. */
  killVms(vms: readonly VmSpec[]): Promise<void> {
    return this.#call(`killVms ${vms.map((v) => v.name).join(", ")}`);
  }
  /** Records `hotplugNics a 1 2`. */
  hotplugNics(vm: VmSpec, nics: readonly number[]): Promise<void> {
    return this.#call(`hotplugNics ${vm.name} ${nics.join(" ")}`);
  }
  /** Records `startCapture {spec}`. */
  startCapture(capture: CaptureSpec): Promise<void> {
    return this.#call(`startCapture ${JSON.stringify(capture)}`);
  }
  /** Records `flushCapture id`. */
  flushCapture(id: number): Promise<void> {
    return this.#call(`flushCapture ${id}`);
  }
  /** Records `readCapture id`: nothing kept. */
  async readCapture(id: number): Promise<CaptureContents> {
    await this.#call(`readCapture ${id}`);
    return { frames: [], dropped: 0 };
  }
  /** Records `stopCapture id`. */
  stopCapture(id: number): Promise<void> {
    return this.#call(`stopCapture ${id}`);
  }
  /** Records `close`. */
  close(): Promise<void> {
    return this.#call("close");
  }
}
