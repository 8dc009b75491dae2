/**
 * Handles of a typed lab: a VM, a VM NIC (by number), a host tap and a mirror. A handle names its thing
 * (namespace and name, NIC index); each call finds it anew, so a handle of a VM that was flushed fails
 * with `vm-not-found` rather than acting on something stale.
 *
 * @module
 */

import { TopologyError, VmError } from "../errors.ts";
import type { LabModel } from "../lab/model.ts";
import { type NicInfo, type TapInfo, tapInfo, type VmInfo, vmInfo } from "../lab/info.ts";
import type { PingResult } from "../lab/reach.ts";
import type { MirrorRecord } from "../lab/records.ts";
import { mirrorName } from "../lab/rules.ts";
import type { LabCore } from "./_core.ts";
import { RouterHandle } from "./router.ts";

/** Options for pings from the typed API. */
export interface PingOptions {
  /** Echo requests to send, 200 ms apart. @default {3} */
  count?: number;
}

/** Where an endpoint's port is. */
export interface PortRef {
  /** Its bridge. */
  readonly bridge: string;
  /** Its port (tap) name. */
  readonly port: string;
}

/** A VM of a namespace. */
export class VmHandle {
  /** Its namespace. */
  readonly namespace: string;
  /** Its name. */
  readonly name: string;
  readonly #core: LabCore;

  /** @internal */
  constructor(core: LabCore, namespace: string, name: string) {
    this.#core = core;
    this.namespace = namespace;
    this.name = name;
  }

  /** Its record, as `vm info` shows it. @throws {VmError} `vm not found: web`. */
  info(): Promise<VmInfo> {
    return this.#core.read(async (model) => {
      model.vms.require(this.namespace, this.name);
      await model.refreshVms(this.namespace);
      return this.#info(model);
    });
  }

  #info(model: LabModel): VmInfo {
    model.vms.require(this.namespace, this.name);
    return vmInfo(model, this.namespace).find((vm) => vm.name === this.name)!;
  }

  /** Its router (`router <vm>`): made on its first change. */
  router(): RouterHandle {
    return new RouterHandle(this.#core, this.namespace, this.name);
  }

  /** Its NIC number `index` (0 is the first). */
  nic(index: number): NicHandle {
    return new NicHandle(this.#core, this, index);
  }

  /** Its NICs, in order. */
  async nics(): Promise<NicHandle[]> {
    return (await this.info()).nics.map((n) => this.nic(n.index));
  }

  /** Runs it (`vm start`): a paused VM answers nothing. */
  start(): Promise<void> {
    return this.#core.op((model) => model.startVms(this.namespace, this.#target(model)));
  }

  /** Pauses it (`vm stop`). */
  stop(): Promise<void> {
    return this.#core.op((model) => model.stopVms(this.namespace, this.#target(model)));
  }

  /** Kills it (`vm kill`). */
  kill(): Promise<void> {
    return this.#core.op((model) => model.killVms(this.namespace, this.#target(model)));
  }

  /** Adds NICs, as netspecs (`vm net add`, KVM VMs only). */
  addNics(networks: readonly string[]): Promise<void> {
    return this.#core.op((model) => model.addVmNics(this.namespace, this.#target(model), networks));
  }

  /** The VM as a target of the model's calls: by id, so a name that reads as a list stays one VM. */
  #target(model: LabModel): string {
    return String(model.vms.require(this.namespace, this.name).id);
  }

  /** @internal The model's target for this VM. */
  target(model: LabModel): string {
    return this.#target(model);
  }
}

/** A VM's NIC, by its position. */
export class NicHandle {
  /** Its VM. */
  readonly vm: VmHandle;
  /** Its position in the VM. */
  readonly index: number;
  readonly #core: LabCore;

  /** @internal */
  constructor(core: LabCore, vm: VmHandle, index: number) {
    if (!Number.isSafeInteger(index) || index < 0) {
      throw new VmError("invalid-argument", `Cannot use NIC ${index}: a NIC index is a whole number from 0`);
    }
    this.#core = core;
    this.vm = vm;
    this.index = index;
  }

  /** `web:0`, as `ping` names a NIC. */
  get label(): string {
    return `${this.vm.name}:${this.index}`;
  }

  /** Its record. @throws {VmError} `no such interface 3 for web`. */
  info(): Promise<NicInfo> {
    return this.#core.read((model) => this.#info(model));
  }

  #info(model: LabModel): NicInfo {
    const vm = model.vms.require(this.vm.namespace, this.vm.name);
    if (vm.nics[this.index] === undefined) {
      throw new VmError("nic-not-found", `no such interface ${this.index} for ${vm.name}`);
    }
    return vmInfo(model, this.vm.namespace).find((v) => v.id === vm.id)!.nics[this.index]!;
  }

  /** @internal Its record, read inside an operation. */
  infoIn(model: LabModel): NicInfo {
    return this.#info(model);
  }

  /** @internal Its port, for mirrors and captures. */
  port(model: LabModel): Promise<PortRef> {
    const nic = this.#info(model);
    if (!nic.connected) {
      throw new VmError("nic-disconnected", `Cannot use ${this.label}: the NIC is disconnected`);
    }
    return Promise.resolve({ bridge: nic.bridge!, port: nic.tap });
  }

  /** Gives it an IPv4 address in the guest (`vm net ip`). */
  setAddress(cidr: string): Promise<void> {
    return this.#core.op((model) =>
      model.addVmAddress(this.vm.namespace, this.vm.target(model), String(this.index), cidr)
    );
  }

  /**
   * Moves it to a VLAN (`vm net connect`): on `bridge`, else its bridge, else mega_bridge. It keeps its
   * device, addresses and ARP cache.
   */
  connect(vlan: string | number, options: { bridge?: string } = {}): Promise<void> {
    return this.#core.op((model) =>
      model.connectVmNic(
        this.vm.namespace,
        this.vm.target(model),
        String(this.index),
        String(vlan),
        options.bridge,
      )
    );
  }

  /** Takes it off its bridge (`vm net disconnect`). */
  disconnect(): Promise<void> {
    return this.#core.op((model) =>
      model.disconnectVmNic(this.vm.namespace, this.vm.target(model), String(this.index))
    );
  }

  /**
   * Sends echo requests from it (its VM must run).
   *
   * @throws {PingError} `network-unreachable`; {@linkcode VmError} `vm-not-running`, `nic-disconnected`.
   */
  ping(to: string, options: PingOptions = {}): Promise<PingResult> {
    return this.#core.op((model) => model.ping(this.vm.namespace, this.label, to, options.count ?? 3));
  }
}

/** A host tap of a namespace. */
export class TapHandle {
  /** Its namespace. */
  readonly namespace: string;
  /** Its name. */
  readonly name: string;
  readonly #core: LabCore;

  /** @internal */
  constructor(core: LabCore, namespace: string, name: string) {
    this.#core = core;
    this.namespace = namespace;
    this.name = name;
  }

  /** `ping` names a tap by its name. */
  get label(): string {
    return this.name;
  }

  /** Its record, as `tap` shows it. @throws {TopologyError} `unknown tap` (code `tap-not-found`). */
  info(): Promise<TapInfo> {
    return this.#core.read((model) => this.#info(model));
  }

  #info(model: LabModel): TapInfo {
    const tap = tapInfo(model, this.namespace).find((t) => t.name === this.name);
    if (tap === undefined) throw new TopologyError("tap-not-found", "unknown tap");
    return tap;
  }

  /** @internal Its port, for mirrors and captures. */
  port(model: LabModel): Promise<PortRef> {
    const tap = this.#info(model);
    return Promise.resolve({ bridge: tap.bridge, port: tap.name });
  }

  /** Sends echo requests from it. @throws {PingError} `network-unreachable`. */
  ping(to: string, options: PingOptions = {}): Promise<PingResult> {
    return this.#core.op((model) => model.ping(this.namespace, this.name, to, options.count ?? 3));
  }

  /** Deletes it (`tap delete`). */
  delete(): Promise<void> {
    return this.#core.op((model) => model.deleteTap(this.namespace, this.name));
  }
}

/** A mirror of a namespace, named after its output. */
export class MirrorHandle {
  /** Its namespace. */
  readonly namespace: string;
  /** Its output port. */
  readonly output: string;
  readonly #core: LabCore;

  /** @internal */
  constructor(core: LabCore, namespace: string, output: string) {
    this.#core = core;
    this.namespace = namespace;
    this.output = output;
  }

  /** `mirror-<output>`. */
  get name(): string {
    return mirrorName(this.output);
  }

  /** Its record. @throws {TopologyError} `not a valid mirror` (code `mirror-not-found`). */
  info(): Promise<MirrorRecord> {
    return this.#core.op((model) => {
      const mirror = model.mirrors.byOutput(this.output);
      if (mirror === undefined || mirror.namespace !== this.namespace) {
        throw new TopologyError("mirror-not-found", "not a valid mirror");
      }
      return mirror;
    });
  }

  /** Removes it (`clear tap mirror <output>`). */
  delete(): Promise<void> {
    return this.#core.op((model) => model.clearMirror(this.namespace, this.output));
  }
}
