/**
 * A namespace of a typed lab: its VLAN aliases, VM config, VMs, host taps, mirrors and captures, and the
 * pings between them. Every call is one command of the lab (undone when it fails).
 *
 * @module
 */

import { LabError } from "../errors.ts";
import {
  type CaptureInfo,
  captureInfo,
  type TapInfo,
  tapInfo,
  type VlanInfo,
  vlanInfo,
  type VmInfo,
  vmInfo,
} from "../lab/info.ts";
import type { PingResult } from "../lab/reach.ts";
import type { MirrorRecord, NatRecord, VmConfigRecord, VmType } from "../lab/records.ts";
import { checkVmName } from "../lab/rules.ts";
import type { VmConfigField } from "../lab/vm_configs.ts";
import type { LabCore } from "./_core.ts";
import { BridgeHandle } from "./bridge.ts";
import { CaptureHandle, type CaptureOptions } from "./capture.ts";
import { MirrorHandle, NicHandle, TapHandle, VmHandle } from "./handles.ts";
import { pingAll, type PingAllOptions, type Reachability } from "./reach.ts";

/** Options for {@linkcode Namespace.launch}. */
export interface LaunchOptions {
  /** `container` (a network namespace on Open vSwitch) or `kvm` (QEMU). @default {"container"} */
  type?: VmType;
  /**
   * The VMs' NICs, as netspecs (`[bridge,]vlan[,mac][,driver][,qinq]`); aliases get VLANs on first use.
   * @default {the namespace's VM config networks}
   */
  networks?: readonly string[];
  /** Start them at once (VMs launch paused, as minimega's, and a paused VM answers nothing). @default {false} */
  start?: boolean;
}

/** Options for {@linkcode Namespace.configure}: the fields of minimega's `vm config`. */
export interface VmConfigOptions {
  /** The NICs of the VMs launched next, as netspecs. */
  networks?: readonly string[];
  /** Memory in MiB. */
  memory?: number;
  /** Virtual CPUs. */
  vcpus?: number;
  /** A kernel to boot directly (KVM VMs). */
  kernel?: string;
  /** Its initrd. */
  initrd?: string;
  /** The kernel command line. */
  append?: string;
  /** Disk images. */
  disks?: readonly string[];
}

/** Options for {@linkcode Namespace.createTap}. */
export interface TapOptions {
  /** The bridge. @default {"mega_bridge"} */
  bridge?: string;
  /** The tap's name. @default {the next mega_tapN} */
  name?: string;
  /** An IPv4 address, `10.0.0.254/24`. */
  ip?: string;
  /** Get an address by DHCP. @default {false} */
  dhcp?: boolean;
}

/** Something that sends and receives: a VM NIC or a host tap. */
export type Endpoint = NicHandle | TapHandle;

/** A namespace's VLAN aliases (`vlans`). */
export class NamespaceVlans {
  readonly #core: LabCore;
  readonly #ns: string;

  /** @internal */
  constructor(core: LabCore, ns: string) {
    this.#core = core;
    this.#ns = ns;
  }

  /** The namespace's aliases and their VLANs, as `vlans` lists them. */
  list(): Promise<VlanInfo[]> {
    return this.#core.read((model) => vlanInfo(model, this.#ns));
  }

  /**
   * The VLAN of an alias (or a number, used as it is), given one on first use as every minimega command
   * does.
   *
   * @throws {VlanError} `out of VLANs`, `invalid VLAN (0 <= vlan < 4096)`, `invalid VLAN 0: labwire uses
   * 1 <= vlan <= 4094 (...)` (also for 4095).
   */
  resolve(alias: string | number): Promise<number> {
    return this.#core.op((model) => model.lookupVlan(this.#ns, String(alias)).vlan);
  }

  /**
   * Gives an alias a VLAN of your choice, 1 to 4094 (`vlans add`).
   *
   * @throws {VlanError} `alias-in-use`, `vlan-in-use`, `invalid-vlan`.
   */
  add(alias: string, vlan: number): Promise<void> {
    return this.#core.op((model) => model.vlans.add(this.#ns, alias, vlan));
  }

  /** The range aliases are allocated from, half-open, with the next candidate (`vlans range`). */
  range(): Promise<{ min: number; max: number; next: number } | undefined> {
    return this.#core.op((model) => {
      const r = model.vlans.range(this.#ns);
      return r === undefined ? undefined : { min: r.min, max: r.max, next: r.next };
    });
  }

  /**
   * Sets the range, `[min, max)` (`vlans range <min> <max>`), within VLANs 1 to 4094: `1 <= min < max <= 4095`.
   *
   * @throws {VlanError} `range-overlap`.
   * @throws {LabError} `invalid-argument`: `expected min > max`, `Cannot set VLAN range as min must be 1 to
   * 4094: current value is 0`, `Cannot set VLAN range as max must be at most 4095, ...`.
   */
  setRange(min: number, max: number): Promise<void> {
    return this.#core.op((model) => {
      if (max <= min) throw new LabError("invalid-argument", "expected min > max");
      model.vlans.setRange(this.#ns, min, max);
    });
  }

  /** Keeps a VLAN from ever being allocated (`vlans blacklist <vlan>`). */
  blacklist(vlan: number): Promise<void> {
    return this.#core.op((model) => model.vlans.blacklist(vlan));
  }

  /** The VLANs never allocated, of every namespace (`vlans blacklist`). */
  blacklisted(): Promise<number[]> {
    return this.#core.read((model) => model.vlans.blacklisted());
  }

  /** Frees the namespace's aliases, or those starting with a prefix (`clear vlans [prefix]`). */
  clear(prefix = ""): Promise<void> {
    return this.#core.op((model) => model.vlans.clear(this.#ns, prefix));
  }
}

/**
 * A namespace. Get one with {@linkcode Lab.namespace} (it must exist) or {@linkcode Lab.createNamespace}.
 *
 * @example VMs, a host tap, a capture and who reaches whom
 * ```ts
 * import assert from "node:assert/strict";
 * import { Lab } from "labwire";
 *
 * await using lab = await Lab.open();
 * const ns = lab.namespace();
 * const [a, b] = await ns.launch(["a", "b"], { networks: ["LAN"], start: true });
 * await a!.nic(0).setAddress("10.0.0.1/24");
 * await b!.nic(0).setAddress("10.0.0.2/24");
 * const admin = await ns.createTap("LAN", { name: "admin", ip: "10.0.0.254/24" });
 * await using capture = await ns.capture(a!.nic(0));
 * assert.equal((await admin.ping("10.0.0.1", { count: 1 })).received, 1);
 * assert.ok((await capture.frames()).some((f) => f.frame?.ipv4?.icmp !== undefined));
 * const matrix = await ns.pingAll();
 * assert.equal(matrix.reachable("a:0", "10.0.0.2"), true);
 * ```
 */
export class Namespace {
  /** The namespace's name. */
  readonly name: string;
  /** Its VLAN aliases. */
  readonly vlans: NamespaceVlans;
  readonly #core: LabCore;

  /** @internal */
  constructor(core: LabCore, name: string) {
    this.#core = core;
    this.name = name;
    this.vlans = new NamespaceVlans(core, name);
  }

  /** Its VM config, as `vm config` shows it. */
  config(): Promise<VmConfigRecord> {
    return this.#core.read((model) => model.vmConfig(this.name));
  }

  /**
   * Sets fields of the VM config, for the VMs launched next (`vm config networks ...`, `memory`, ...).
   * All of them, or none when one is wrong.
   */
  configure(options: VmConfigOptions): Promise<void> {
    return this.#core.op(async (model) => {
      if (options.networks !== undefined) await model.configureNetworks(this.name, options.networks);
      const fields: [VmConfigField, string | number | undefined][] = [
        ["memory", options.memory],
        ["vcpus", options.vcpus],
        ["kernel", options.kernel],
        ["initrd", options.initrd],
        ["append", options.append],
      ];
      for (const [field, value] of fields) {
        if (value !== undefined) await model.setVmConfig(this.name, field, String(value));
      }
      if (options.disks !== undefined) await model.setVmDisks(this.name, options.disks);
    });
  }

  /**
   * Launches VMs, paused as minimega's are (or started, with `start`), each NIC a tap on its bridge and
   * VLAN with a generated MAC unless its netspec has one.
   *
   * @param names Names (`["web", "db"]`), or a minimega list (`"web[1-3]"`) or count (`"3"`).
   * @returns The VMs, in order.
   * @throws {VmError} `vm already exists: web`, `invalid-name`; netspec and VLAN errors.
   */
  async launch(names: string | readonly string[], options: LaunchOptions = {}): Promise<VmHandle[]> {
    const { type = "container", networks, start = false } = options;
    if (typeof names !== "string") {
      for (const name of names) {
        checkVmName(name);
        if (/[,[\]]/.test(name)) {
          throw new LabError("invalid-name", `Cannot launch vm '${name}': a name has no ',', '[' or ']'`);
        }
      }
    }
    const list = typeof names === "string" ? names : names.join(",");
    const vms = await this.#core.op(async (model) => {
      const nics = networks === undefined ? undefined : model.parseNics(this.name, networks);
      const launched = await model.launchVms(this.name, type, list, nics);
      if (start) await model.startVms(this.name, launched.map((vm) => vm.name).join(","));
      return launched;
    });
    return vms.map((vm) => new VmHandle(this.#core, this.name, vm.name));
  }

  /** A VM of the namespace, by name (calls fail with `vm-not-found` when it has none of that name). */
  vm(name: string): VmHandle {
    return new VmHandle(this.#core, this.name, name);
  }

  /** The namespace's VMs, by id, as `vm info` lists them. */
  vms(): Promise<VmInfo[]> {
    return this.#core.read(async (model) => {
      await model.refreshVms(this.name);
      return vmInfo(model, this.name);
    });
  }

  /** Starts VMs: all of the namespace's, or a name list (`vm start`). */
  start(names = "all"): Promise<void> {
    return this.#core.op((model) => model.startVms(this.name, names));
  }

  /** Pauses VMs (`vm stop`). */
  stop(names = "all"): Promise<void> {
    return this.#core.op((model) => model.stopVms(this.name, names));
  }

  /** Kills VMs (`vm kill`). */
  kill(names = "all"): Promise<void> {
    return this.#core.op((model) => model.killVms(this.name, names));
  }

  /** Forgets the VMs that quit or failed, and their taps (`vm flush`). */
  flush(): Promise<void> {
    return this.#core.op((model) => model.flushVms(this.name));
  }

  /**
   * Creates a host tap on a VLAN (`tap create`): the host on that VLAN, with an address or one by DHCP.
   *
   * @throws {TopologyError} `tap already on bridge`, `invalid-name`; `Cannot get an address by DHCP ...`.
   */
  async createTap(vlan: string | number, options: TapOptions = {}): Promise<TapHandle> {
    const tap = await this.#core.op((model) =>
      model.createTap(this.name, String(vlan), {
        ...(options.bridge === undefined ? {} : { bridge: options.bridge }),
        ...(options.name === undefined ? {} : { name: options.name }),
        ...(options.ip === undefined ? {} : { ip: options.ip }),
        dhcp: options.dhcp ?? false,
      })
    );
    return new TapHandle(this.#core, this.name, tap.name);
  }

  /** A host tap of the namespace, by name. */
  tap(name: string): TapHandle {
    return new TapHandle(this.#core, this.name, name);
  }

  /** The namespace's host taps, by name, as `tap` lists them. */
  taps(): Promise<TapInfo[]> {
    return this.#core.read((model) => tapInfo(model, this.name));
  }

  /**
   * Mirrors one endpoint's traffic (both ways) to another on the same bridge (`tap mirror`): the output
   * gets copies and nothing else, as an Open vSwitch mirror output port.
   *
   * @throws {TopologyError} `destination tap is already a mirror`, `source tap is not on bridge`, ...
   */
  async mirror(source: Endpoint, output: Endpoint): Promise<MirrorHandle> {
    const mirror = await this.#core.op(async (model) => {
      const src = await source.port(model);
      const dst = await output.port(model);
      return await model.mirrorTaps(this.name, src.port, dst.port, src.bridge);
    });
    return new MirrorHandle(this.#core, this.name, mirror.output);
  }

  /** The namespace's mirrors, by name. */
  mirrors(): Promise<MirrorRecord[]> {
    return this.#core.read((model) => model.mirrors.list(this.name));
  }

  /**
   * Captures what a VM NIC sees, or every frame on a bridge with its VLAN tag: kept in memory (read with
   * {@linkcode CaptureHandle.frames} while it runs) or in a pcap file.
   */
  capture(target: NicHandle | BridgeHandle, options: CaptureOptions = {}): Promise<CaptureHandle> {
    return CaptureHandle.start(this.#core, this.name, target, options);
  }

  /** The namespace's captures, by id, as `capture` lists them. */
  captures(): Promise<CaptureInfo[]> {
    return this.#core.read((model) => captureInfo(model, this.name));
  }

  /**
   * Gives the VMs of a VLAN the host's uplink (`nat <vlan> <gateway> <uplink>`, Open vSwitch only): a
   * host tap on the VLAN holds `gateway` (`10.0.0.1/24`), and the VLAN's subnet is masqueraded out of
   * `uplink`. The VMs route through the gateway ({@linkcode NicHandle.vm}`.router()`, or `vm net route`).
   *
   * @throws {LabError} As the command: a bad gateway or uplink, a VLAN that has a way out, an
   * overlapping subnet, or the simulator (`unsupported`).
   */
  openWayOut(vlan: string | number, options: { gateway: string; uplink: string }): Promise<NatRecord> {
    return this.#core.op((model) => model.openNat(this.name, String(vlan), options.gateway, options.uplink));
  }

  /** Closes the namespace's ways out, or one VLAN's (`clear nat [vlan]`): the host is as it was. */
  closeWayOut(vlan?: string | number): Promise<void> {
    return this.#core.op((model) => model.closeNat(this.name, vlan === undefined ? undefined : String(vlan)));
  }

  /** The namespace's ways out, by VLAN, as `nat` lists them. */
  waysOut(): Promise<NatRecord[]> {
    return this.#core.read((model) => model.nat.list(this.name));
  }

  /** Sets the snaplen and BPF filter of the namespace's new captures (`capture pcap snaplen|filter`). */
  setCaptureDefaults(options: { snaplen?: number; filter?: string }): Promise<void> {
    return this.#core.op(async (model) => {
      if (options.snaplen !== undefined) await model.setSnaplen(this.name, String(options.snaplen));
      if (options.filter !== undefined) await model.setFilter(this.name, options.filter);
    });
  }

  /**
   * Sends echo requests from a running VM's NIC or a host tap to an address, as `ping` does.
   *
   * @throws {PingError} `network-unreachable` (no route from there), `vm-not-running`, ...
   */
  ping(from: Endpoint, to: string, options: { count?: number } = {}): Promise<PingResult> {
    return from.ping(to, options);
  }

  /**
   * Who reaches whom: every running VM NIC and host tap with an address pings every address of the
   * namespace's VM NICs and host taps (a VM that does not run answers nothing); the matrix prints as a table.
   */
  pingAll(options: PingAllOptions = {}): Promise<Reachability> {
    return pingAll(this.#core, this.name, options);
  }

  /** A bridge (bridges are not namespace aware). */
  bridge(name: string): BridgeHandle {
    return new BridgeHandle(this.#core, name);
  }

  /** Destroys the namespace: its VMs, taps, mirrors, captures, aliases and VM config (`clear namespace`). */
  destroy(): Promise<void> {
    return this.#core.op((model) => model.destroyNamespace(this.name));
  }
}
