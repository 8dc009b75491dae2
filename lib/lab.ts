// Runtime-neutral.
/**
 * The lab model: namespaces, VLAN aliases and VM network configs, with minimega's rules in one place
 * and independent of any backend. The CLI's commands and TypeScript scripts both drive a
 * {@linkcode Lab}; its state is plain JSON, so a lab can be kept in a file between runs.
 *
 * @module
 */

import {
  type Backend,
  NullBackend,
  type PingResult,
  type PortSpec,
  type RemovePortsOptions,
  type VmSpec,
} from "./backend.ts";
import { parseGoInt } from "./go_int.ts";
import { isMulticastMac, MacGenerator, parseMac } from "./mac.ts";
import { expandNames } from "./names.ts";
import { type Netspec, parseNetspec } from "./netspec.ts";
import { NIC_DRIVERS } from "./nic_drivers.ts";
import {
  DEFAULT_BRIDGE_NAME,
  portMode,
  type TapState,
  Topology,
  TopologyError,
  type TopologyState,
} from "./topology.ts";
import {
  DISCONNECTED,
  infoList,
  nicOf,
  parseNicIndex,
  type Vm,
  VmError,
  type VmNic,
  type VmType,
} from "./vms.ts";
import { DEFAULT_NAMESPACE, Vlans, type VlansState } from "./vlans.ts";

/** A VM NIC as configured: the netspec and the VLAN its token resolved to. */
export interface NicConfig extends Netspec {
  /** The VLAN number the alias or number resolved to when the NIC was configured. */
  readonly vlanId: number;
}

/** Options for {@linkcode Lab}. */
export interface LabOptions {
  /** The default VLAN range, half-open. @default {{ min: 101, max: 4096 }} */
  vlanRange?: { min: number; max: number };
  /** The NIC drivers netspecs recognise. @default {NIC_DRIVERS} */
  drivers?: ReadonlySet<string>;
  /** Receives warnings (a VLAN blacklisted on use, ...). @default {() => {}} */
  onWarning?: (message: string) => void;
  /** What carries the lab's frames. @default {new NullBackend()} */
  backend?: Backend;
  /** Makes generated MACs reproducible. @default {random} */
  macSeed?: number | string;
  /** The first octets of generated MACs, e.g. `52:54:00`. @default {a random locally administered octet} */
  macPrefix?: string;
}

/** A port to plug: its bridge and what the backend is told of it. */
interface Plug {
  readonly bridge: string;
  readonly spec: PortSpec;
}

/** Ports to plug in one go, and the bridges the topology had before their taps came. */
interface PlugPlan {
  readonly plugs: Plug[];
  readonly bridgesBefore: ReadonlySet<string>;
}

/** A packet capture. */
export interface CaptureRecord {
  /** Its id, never reused. */
  readonly id: number;
  /** The namespace it was started in. */
  readonly namespace: string;
  /** The bridge captured, or the bridge of the VM's NIC. */
  readonly bridge: string;
  /** The VM, for a VM capture. */
  readonly vm?: string;
  /** The NIC index, for a VM capture. */
  readonly nic?: number;
  /** The port whose frames are written: the VM's tap, or the capture tap of a bridge capture. */
  readonly port: string;
  /** The mirror feeding the capture tap of a bridge capture. */
  readonly mirror?: string;
  /** The pcap file. */
  readonly path: string;
}

/** A host tap to create (`tap create`). */
export interface CreateTapOptions {
  /** The bridge. @default {"mega_bridge"} */
  bridge?: string;
  /** The tap's name. @default {the next mega_tapN} */
  name?: string;
  /** An IPv4 address for it, `10.0.0.1/24` (a bare address is a /32, as `ip addr add` makes it). */
  ip?: string;
  /** Get an address by DHCP. */
  dhcp?: boolean;
}

/** A lab's state as plain JSON, for {@linkcode Lab.toJSON} and {@linkcode Lab.fromJSON}. */
export interface LabState {
  /** The format version. */
  readonly version: 1;
  /** The active namespace. */
  readonly active: string;
  /** The VLAN alias engine's state. */
  readonly vlans: VlansState;
  /** Per namespace, its VM config's networks, host taps, mirrors and capture settings. */
  readonly namespaces: Readonly<Record<string, NamespaceState>>;
  /** The bridges and their taps. */
  readonly topology: TopologyState;
  /** The VMs, by id order. */
  readonly vms: readonly Vm[];
  /** The captures running. */
  readonly captures: readonly CaptureRecord[];
  /** The next VM id. */
  readonly nextVmId: number;
  /** The next capture id. */
  readonly nextCaptureId: number;
  /** How many MACs the generator has made. */
  readonly macCount: number;
}

/**
 * Parses a VLAN range given as `MIN-MAX` (minimega's `-vlanrange` flag, e.g. `101-4096`): half-open,
 * so MAX itself is never allocated.
 *
 * @throws {RangeError} minimega's words: `invalid VLAN range provided`, `expected integer values for
 * VLAN range`, `expected min < max for VLAN range`.
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseVlanRange } from "labwire";
 * assert.deepEqual(parseVlanRange("200-300"), { min: 200, max: 300 });
 * ```
 */
export function parseVlanRange(s: string): { min: number; max: number } {
  const parts = s.split("-");
  if (parts.length !== 2) throw new RangeError("invalid VLAN range provided");
  const min = parseGoInt(parts[0]!);
  const max = parseGoInt(parts[1]!);
  if (min === undefined || max === undefined) throw new RangeError("expected integer values for VLAN range");
  if (min >= max) throw new RangeError("expected min < max for VLAN range");
  return { min, max };
}

/** A name that cannot be a namespace's. */
export class NamespaceError extends Error {
  override name = "NamespaceError";
}

const NAMESPACE_NAME = /^[A-Za-z0-9_.-]+$/;

/** What a namespace owns besides its VLAN aliases. */
export interface NamespaceState {
  /** The VM config's networks. */
  networks: NicConfig[];
  /** The VM config's other fields a guest needs: memory, vcpus, kernel, initrd, append, disk. */
  vmConfig: VmConfig;
  /** Its host taps. */
  hostTaps: string[];
  /** The destination taps of its mirrors. */
  mirrors: string[];
  /** `capture pcap snaplen`: 0 when unset (1600 is used). */
  snaplen: number;
  /** `capture pcap filter`. */
  filter: string;
}

/** The fields of a VM config besides its networks, as minimega's `vm config` sets them. */
export interface VmConfig {
  /** Memory in MiB. @default {"2048"} */
  memory: string;
  /** Virtual CPUs. @default {"1"} */
  vcpus: string;
  /** A kernel to boot directly, or "". */
  kernel: string;
  /** Its initrd, or "". */
  initrd: string;
  /** The kernel command line, or "". */
  append: string;
  /** Disk images. */
  disks: string[];
}

/** The fields `vm config` knows besides networks, with their defaults (minimega's). */
export const VM_CONFIG_DEFAULTS: Readonly<VmConfig> = Object.freeze({
  memory: "2048",
  vcpus: "1",
  kernel: "",
  initrd: "",
  append: "",
  disks: [],
});

function emptyNamespace(): NamespaceState {
  return {
    networks: [],
    vmConfig: structuredClone(VM_CONFIG_DEFAULTS) as VmConfig,
    hostTaps: [],
    mirrors: [],
    snaplen: 0,
    filter: "",
  };
}

/** The snaplen captures use when none is set, as minimega. */
export const DEFAULT_SNAPLEN = 1600;

/**
 * A lab: its namespaces, VLAN aliases and VM configs.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { Lab } from "labwire";
 * const lab = new Lab();
 * const nics = lab.configureNetworks("minimega", ["DMZ", "lab,CORE,de:ad:be:ef:00:01"]);
 * assert.deepEqual(nics.map((n) => n.vlanId), [101, 102]);
 * assert.equal(lab.vlans.format("minimega", 102), "CORE (102)");
 * ```
 */
export class Lab {
  #vlans: Vlans;
  /** The NIC drivers netspecs recognise; the CLI refreshes it from QEMU when QEMU is installed. */
  drivers: ReadonlySet<string>;
  #active = DEFAULT_NAMESPACE;
  #namespaces = new Map<string, NamespaceState>([[DEFAULT_NAMESPACE, emptyNamespace()]]);
  #topology = new Topology();
  #vms = new Map<number, Vm>();
  #captures: CaptureRecord[] = [];
  #nextVmId = 0;
  #nextCaptureId = 0;
  #macs: MacGenerator;
  #macOptions: { seed?: number | string; prefix?: string };
  #backend: Backend;
  #warn: (message: string) => void;

  /** Makes an empty lab. */
  constructor(options: LabOptions = {}) {
    const { vlanRange, drivers = NIC_DRIVERS, onWarning = () => {}, backend = new NullBackend() } = options;
    this.#warn = onWarning;
    this.#vlans = new Vlans({ ...(vlanRange === undefined ? {} : { range: vlanRange }), onWarning });
    this.drivers = drivers;
    this.#backend = backend;
    this.#macOptions = {
      ...(options.macSeed === undefined ? {} : { seed: options.macSeed }),
      ...(options.macPrefix === undefined ? {} : { prefix: options.macPrefix }),
    };
    this.#macs = new MacGenerator(this.#macOptions);
    this.#topology.isNameTaken = (name) => this.#backend.nameInUse?.(name) ?? false;
  }

  /**
   * Restores a lab from {@linkcode Lab.toJSON}'s output. Its backend is told nothing: call
   * {@linkcode Lab.realise} to build the bridges, ports and mirrors in a new backend.
   */
  static fromJSON(state: LabState, options: LabOptions = {}): Lab {
    if (state?.version !== 1) {
      throw new TypeError(`Cannot load lab state: expected version 1, got ${JSON.stringify(state?.version)}`);
    }
    const lab = new Lab(options);
    lab.#vlans = Vlans.fromJSON(
      state.vlans,
      options.onWarning === undefined ? {} : { onWarning: options.onWarning },
    );
    lab.#namespaces.clear();
    for (const [name, ns] of Object.entries(state.namespaces)) {
      lab.#namespaces.set(name, {
        ...emptyNamespace(),
        ...structuredClone(ns),
      });
    }
    if (!lab.#namespaces.has(DEFAULT_NAMESPACE)) lab.#namespaces.set(DEFAULT_NAMESPACE, emptyNamespace());
    lab.#active = lab.#namespaces.has(state.active) ? state.active : DEFAULT_NAMESPACE;
    lab.#topology = Topology.fromJSON(state.topology ?? { bridges: {}, nextTap: 0 });
    lab.#topology.isNameTaken = (name) => lab.#backend.nameInUse?.(name) ?? false;
    for (const vm of state.vms ?? []) lab.#vms.set(vm.id, structuredClone(vm));
    lab.#captures = structuredClone([...(state.captures ?? [])]);
    lab.#nextVmId = state.nextVmId ?? 0;
    lab.#nextCaptureId = state.nextCaptureId ?? 0;
    lab.#macs = new MacGenerator({ ...lab.#macOptions, start: state.macCount ?? 0 });
    return lab;
  }

  /** The lab's state as plain JSON. */
  toJSON(): LabState {
    const namespaces: Record<string, NamespaceState> = {};
    for (const [name, ns] of [...this.#namespaces].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      namespaces[name] = structuredClone(ns);
    }
    return {
      version: 1,
      active: this.#active,
      vlans: this.vlans.toJSON(),
      namespaces,
      topology: this.#topology.toJSON(),
      vms: [...this.#vms.values()].map((vm) => structuredClone(vm)),
      captures: structuredClone(this.#captures),
      nextVmId: this.#nextVmId,
      nextCaptureId: this.#nextCaptureId,
      macCount: this.#macs.count,
    };
  }

  /**
   * Builds the lab's bridges, ports, mirrors, addresses and captures in its backend: for a lab
   * restored with {@linkcode Lab.fromJSON} on a backend that keeps nothing between runs (the simulator).
   */
  async realise(): Promise<void> {
    const b = this.#backend;
    for (const name of this.#topology.bridgeNames()) {
      const bridge = this.#topology.bridge(name)!;
      await this.#makeBridge(name);
      await b.addPorts(name, [
        ...[...bridge.taps.values()].map((tap) => this.#portSpec(tap)),
        ...bridge.trunks.map((trunk): PortSpec => ({ name: trunk, mode: { kind: "trunk" }, role: "trunk" })),
      ]);
      for (const tap of bridge.taps.values()) {
        for (const cidr of tap.addresses) await b.addAddress(name, tap.name, cidr);
      }
    }
    for (const name of this.#topology.bridgeNames()) {
      for (const tap of this.#topology.bridge(name)!.taps.values()) {
        // each link once, from the end whose bridge sorts first
        if (tap.peer !== undefined && name < tap.peer.bridge) {
          await b.addPatch(name, tap.name, tap.peer.bridge, tap.peer.port);
        }
      }
    }
    for (const name of this.#topology.bridgeNames()) {
      for (const mirror of this.#topology.bridge(name)!.mirrors.values()) await b.addMirror(name, mirror);
    }
  }

  /** The VLAN alias engine. */
  get vlans(): Vlans {
    return this.#vlans;
  }

  /** The bridges and their taps. */
  get topology(): Topology {
    return this.#topology;
  }

  /** What carries the lab's frames. */
  get backend(): Backend {
    return this.#backend;
  }

  /** The active namespace: commands run in it unless told otherwise. */
  get activeNamespace(): string {
    return this.#active;
  }

  /**
   * Makes `name` the active namespace, creating it if needed.
   *
   * @throws {NamespaceError} If the name is not a valid namespace name.
   */
  setActiveNamespace(name: string): void {
    this.ensureNamespace(name);
    this.#active = name;
  }

  /**
   * Creates a namespace if it does not exist yet.
   *
   * @throws {NamespaceError} If the name is empty, `all`, or has characters other than letters,
   * digits, `-`, `_` and `.`.
   */
  ensureNamespace(name: string): void {
    if (this.#namespaces.has(name)) return;
    if (name === "all" || !NAMESPACE_NAME.test(name)) {
      throw new NamespaceError(
        `invalid namespace name \`${name}\`: use letters, digits, '-', '_' and '.', and not \`all\``,
      );
    }
    this.#namespaces.set(name, emptyNamespace());
  }

  /** The namespaces that exist, sorted. */
  namespaceNames(): string[] {
    return [...this.#namespaces.keys()].sort();
  }

  #ns(name: string): NamespaceState {
    this.ensureNamespace(name);
    return this.#namespaces.get(name)!;
  }

  /**
   * Destroys a namespace, or every namespace with `all`: its VMs, host taps, mirrors and captures,
   * its VLAN aliases and range, and its VM config. The default namespace is emptied rather than
   * removed; if the active namespace goes, the default one becomes active.
   *
   * @throws {NamespaceError} `unknown namespace: x` (minimega's words) if it does not exist.
   */
  async destroyNamespace(name: string): Promise<void> {
    if (name === "all") {
      for (const ns of this.namespaceNames()) await this.destroyNamespace(ns);
      return;
    }
    if (!this.#namespaces.has(name)) throw new NamespaceError(`unknown namespace: ${name}`);
    await this.clearCaptures(name);
    await this.clearTaps(name);
    const vms = this.#vmsIn(name);
    for (const vm of vms) {
      if (vm.state !== "QUIT") await this.#backend.killVm?.(this.#vmSpec(vm));
      vm.state = "QUIT";
    }
    await this.#flush(vms);
    this.vlans.clearNamespace(name);
    if (name === DEFAULT_NAMESPACE) this.#namespaces.set(name, emptyNamespace());
    else this.#namespaces.delete(name);
    if (this.#active === name) this.#active = DEFAULT_NAMESPACE;
  }

  /**
   * Clears everything of this lab: every namespace, the bridges left, then all VLAN state (`clear all`).
   * Other labs sharing the backend (another state file on the same Open vSwitch) are left alone.
   */
  async clearAll(): Promise<void> {
    await this.destroyNamespace("all");
    for (const name of this.#topology.bridgeNames()) await this.#teardownBridge(name);
    this.vlans.reset();
  }

  /**
   * Clears this lab, then removes whatever labwire made in the backend for any lab, made by this process
   * or by one that crashed (`nuke`, as minimega's).
   */
  async nuke(): Promise<void> {
    await this.clearAll();
    await this.#backend.nuke?.();
  }

  /**
   * Resolves a VLAN token in a namespace the way every minimega command does (`lookupVLAN`): a
   * number is used as it is (and blacklisted for allocation), an alias gets a VLAN on first use.
   *
   * @returns The VLAN number, and whether an alias was created.
   * @throws {RangeError} `out of VLANs`, `invalid VLAN (0 <= vlan < 4096)`.
   * @throws {Error} `VLAN must be non-empty string`.
   */
  lookupVlan(namespace: string, token: string): { vlan: number; created: boolean } {
    this.ensureNamespace(namespace);
    return this.vlans.lookup(namespace, token);
  }

  /**
   * Replaces a namespace's VM network config (`vm config networks <spec>...`). Each spec is parsed
   * and its VLAN resolved in order; on the first error the list is emptied and the error thrown.
   * Aliases allocated for earlier specs stay allocated, as in minimega.
   *
   * @param namespace The namespace whose VM config to change.
   * @param specs Netspecs, `[bridge,]vlan[,mac][,driver][,qinq]`.
   * @returns The new list.
   * @throws {NetspecError} `malformed netspec`.
   * @throws {RangeError} For a MAC that is not a 6-octet unicast address, and VLAN errors.
   */
  configureNetworks(namespace: string, specs: readonly string[]): readonly NicConfig[] {
    const ns = this.#ns(namespace);
    ns.networks = [];
    ns.networks = this.#parseNics(namespace, specs);
    return ns.networks;
  }

  #parseNics(namespace: string, specs: readonly string[]): NicConfig[] {
    const nics: NicConfig[] = [];
    for (const spec of specs) {
      const parsed = parseNetspec(spec, { drivers: this.drivers });
      if (parsed.mac !== "") this.#checkNicMac(parsed.mac);
      const { vlan } = this.vlans.lookup(namespace, parsed.vlan);
      nics.push({ ...parsed, vlanId: vlan });
    }
    return nics;
  }

  /** A namespace's VM network config. */
  networks(namespace: string): readonly NicConfig[] {
    return this.#namespaces.get(namespace)?.networks ?? [];
  }

  /** A namespace's VM config fields (memory, vcpus, kernel, initrd, append, disks). */
  vmConfig(namespace: string): Readonly<VmConfig> {
    return this.#ns(namespace).vmConfig;
  }

  /**
   * Sets a VM config field (`vm config memory 512`, ...).
   *
   * @throws {RangeError} For memory or vcpus that are not whole numbers above 0.
   */
  setVmConfig(namespace: string, field: Exclude<keyof VmConfig, "disks">, value: string): void {
    if ((field === "memory" || field === "vcpus") && !/^[1-9]\d*$/.test(value)) {
      throw new RangeError(
        `Cannot set vm config ${field} as it must be a whole number above 0: current value is ${value}`,
      );
    }
    this.#ns(namespace).vmConfig[field] = value;
  }

  /** Sets a VM config's disks (`vm config disks <path>...`). */
  setVmDisks(namespace: string, disks: readonly string[]): void {
    this.#ns(namespace).vmConfig.disks = [...disks];
  }

  /** Resets a namespace's whole VM config (`clear vm config`), networks included. */
  clearVmConfig(namespace: string): void {
    const ns = this.#ns(namespace);
    ns.networks = [];
    ns.vmConfig = structuredClone(VM_CONFIG_DEFAULTS) as VmConfig;
  }

  /** Empties a namespace's VM network config; VLAN aliases stay allocated. */
  clearNetworks(namespace: string): void {
    const ns = this.#namespaces.get(namespace);
    if (ns !== undefined) ns.networks = [];
  }

  // ---- VMs --------------------------------------------------------------------------------------

  /**
   * Launches VMs with the namespace's VM config: each NIC gets a tap (`mega_tapN`) on its bridge,
   * with its VLAN, and a generated MAC unless the config has one. The VMs start paused, as
   * minimega's do.
   *
   * @param names A name list (`a,b`, `vm[1-3]`) or a count (`3` launches vm-<id> VMs).
   * @throws {VmError} `vm already exists: <name>`, or for a name that is a number or `all`.
   */
  async launchVms(namespace: string, type: VmType, names: string): Promise<Vm[]> {
    this.ensureNamespace(namespace);
    let list: string[];
    if (/^\d+$/.test(names)) {
      list = Array.from({ length: Number(names) }, (_, i) => `vm-${this.#nextVmId + i}`);
    } else {
      list = expandNames(names);
    }
    for (const name of list) {
      if (name === "all") throw new VmError("`all` is a reserved word -- cannot use for vm name");
      if (/^\d+$/.test(name)) throw new VmError(`vm name cannot be an integer: ${name}`);
      if (this.#vmsIn(namespace).some((vm) => vm.name === name)) {
        throw new VmError(`vm already exists: ${name}`);
      }
    }
    // a launch comes up whole or not at all: every NIC of every VM is plugged in one go per bridge
    const vms = list.map((name): Vm => {
      const vm: Vm = { id: this.#nextVmId++, name, namespace, type, state: "BUILDING", nics: [] };
      this.#vms.set(vm.id, vm);
      return vm;
    });
    const launched: Vm[] = [];
    try {
      const plan = this.#newPlan();
      for (const vm of vms) {
        for (const config of this.networks(namespace)) {
          vm.nics.push(this.#newNic(vm, config, config.mac, plan));
        }
      }
      await this.#plug(plan);
      for (const vm of vms) {
        await this.#backend.launchVm?.(this.#vmSpec(vm));
        launched.push(vm);
      }
    } catch (error) {
      // the VMs launched before the failure end too (a backend's VMs may outlive the process)
      for (const vm of launched) await this.#backend.killVm?.(this.#vmSpec(vm)).catch(() => {});
      await this.#flush(vms);
      throw error;
    }
    for (const vm of vms) vm.state = "PAUSED";
    return vms;
  }

  /**
   * Makes a VM NIC: its tap in the topology, on its bridge and VLAN, and what the backend must plug
   * (added to the plan, for `#plug`).
   */
  #newNic(vm: Vm, config: NicConfig | Netspec & { vlanId: number }, mac: string, plan: PlugPlan): VmNic {
    const nicMac = mac !== "" ? mac : this.#generateMac();
    const tap = this.#topology.addTap(config.bridge, {
      role: "vm",
      vlan: config.vlanId,
      qinq: config.qinq,
      mac: nicMac,
      namespace: vm.namespace,
    });
    plan.plugs.push({ bridge: config.bridge, spec: this.#portSpec(tap, { vm, index: vm.nics.length }) });
    return {
      bridge: config.bridge,
      vlan: config.vlanId,
      mac: nicMac,
      driver: vm.type === "container" ? "" : config.driver,
      qinq: config.qinq,
      tap: tap.name,
      ips: [],
    };
  }

  /**
   * Makes a bridge of the topology in the backend; one the backend found and did not make is marked
   * preexisting (listed so, and never deleted).
   */
  async #makeBridge(name: string): Promise<void> {
    const made = await this.#backend.addBridge(name);
    const bridge = this.#topology.bridge(name);
    if (made?.preexisting === true && bridge !== undefined) bridge.preexisting = true;
  }

  /** A plan for `#plug`, remembering the bridges the topology has before the plan's taps come. */
  #newPlan(): PlugPlan {
    return { plugs: [], bridgesBefore: new Set(this.#topology.bridgeNames()) };
  }

  /**
   * Plugs ports whose taps are in the topology already: per bridge, in the order the bridges first come,
   * the bridge is made and all its ports added in one backend call. All or nothing: on a failure, the
   * taps of every plug are taken out of the topology again, the ports already added are removed, and a
   * bridge the plan brought into the topology goes too unless the backend made it.
   */
  async #plug(plan: PlugPlan): Promise<void> {
    const byBridge = Map.groupBy(plan.plugs, (p) => p.bridge);
    const made: string[] = [];
    const added: string[] = [];
    try {
      for (const [bridge, ports] of byBridge) {
        await this.#makeBridge(bridge);
        made.push(bridge);
        await this.#backend.addPorts(bridge, ports.map((p) => p.spec));
        added.push(bridge);
      }
    } catch (error) {
      for (const [bridge, ports] of byBridge) {
        if (added.includes(bridge)) await this.#backend.removePorts(bridge, ports.map((p) => p.spec.name));
        for (const p of ports) this.#topology.removeTap(bridge, p.spec.name);
        if (!plan.bridgesBefore.has(bridge) && !made.includes(bridge)) this.#topology.deleteBridge(bridge);
      }
      throw error;
    }
  }

  /** What the backend is told of a tap: its name, VLAN mode, role, MAC, and VM if it is a VM NIC. */
  #portSpec(tap: TapState, owner?: { vm: Vm; index: number }): PortSpec {
    let vm = owner;
    if (vm === undefined && tap.role === "vm") {
      for (const candidate of this.#vms.values()) {
        const index = candidate.nics.findIndex((n) => n.tap === tap.name);
        if (index >= 0) vm = { vm: candidate, index };
      }
    }
    return {
      name: tap.name,
      mode: portMode(tap.vlan, tap.qinq),
      role: tap.role,
      ...macOf(tap),
      ...(vm === undefined ? {} : {
        vm: { name: vm.vm.name, namespace: vm.vm.namespace, id: vm.vm.id, nic: vm.index, type: vm.vm.type },
      }),
    };
  }

  #generateMac(): string {
    const used = new Set<string>();
    for (const vm of this.#vms.values()) for (const nic of vm.nics) used.add(nic.mac);
    return this.#macs.next((mac) => used.has(mac));
  }

  #vmsIn(namespace: string): Vm[] {
    return [...this.#vms.values()].filter((vm) => vm.namespace === namespace);
  }

  /** A namespace's VMs, by id. */
  vms(namespace: string): readonly Vm[] {
    return this.#vmsIn(namespace);
  }

  /** A VM of a namespace by name or id, or undefined. */
  findVm(namespace: string, nameOrId: string): Vm | undefined {
    const vms = this.#vmsIn(namespace);
    return vms.find((vm) => vm.name === nameOrId) ??
      (/^\d+$/.test(nameOrId) ? vms.find((vm) => vm.id === Number(nameOrId)) : undefined);
  }

  /**
   * The VMs a target names: `all`, a name or id, or a name list.
   *
   * @throws {VmError} `vm not found: <name>`.
   */
  vmTargets(namespace: string, target: string): Vm[] {
    if (target === "all") return this.#vmsIn(namespace);
    return expandNames(target).map((name) => {
      const vm = this.findVm(namespace, name);
      if (vm === undefined) throw new VmError(`vm not found: ${name}`);
      return vm;
    });
  }

  /** Starts VMs (`vm start`): paused or quit VMs run. Containers get their taps back. */
  async startVms(namespace: string, target: string): Promise<void> {
    for (const vm of this.vmTargets(namespace, target)) {
      if (vm.state === "RUNNING" || vm.state === "ERROR") continue;
      if (vm.state === "QUIT" && vm.type === "container") await this.#replugContainer(vm);
      if (vm.state === "QUIT") await this.#backend.launchVm?.(this.#vmSpec(vm));
      await this.#backend.startVm?.(this.#vmSpec(vm));
      vm.state = "RUNNING";
    }
  }

  /** Pauses running VMs (`vm stop`). */
  async stopVms(namespace: string, target: string): Promise<void> {
    for (const vm of this.vmTargets(namespace, target)) {
      if (vm.state !== "RUNNING") continue;
      await this.#backend.stopVm?.(this.#vmSpec(vm));
      vm.state = "PAUSED";
    }
  }

  /** What a backend that runs VMs is told of one. */
  #vmSpec(vm: Vm): VmSpec {
    const config = this.#ns(vm.namespace).vmConfig;
    return {
      name: vm.name,
      namespace: vm.namespace,
      id: vm.id,
      type: vm.type,
      nics: vm.nics.map((n) => ({ tap: n.tap, driver: n.driver, mac: n.mac })),
      memory: Number(config.memory),
      vcpus: Number(config.vcpus),
      kernel: config.kernel,
      initrd: config.initrd,
      append: config.append,
      disks: [...config.disks],
    };
  }

  /**
   * Kills VMs (`vm kill`): they QUIT. A KVM VM keeps its taps (a restart reuses them); a container's
   * taps are destroyed and made again, with the same names, when it starts.
   */
  async killVms(namespace: string, target: string): Promise<void> {
    const unplug: { bridge: string; tap: string }[] = [];
    const containers: Vm[] = [];
    for (const vm of this.vmTargets(namespace, target)) {
      if (vm.state === "QUIT") continue;
      await this.#backend.killVm?.(this.#vmSpec(vm));
      vm.state = "QUIT";
      if (vm.type === "container") {
        containers.push(vm);
        for (const nic of vm.nics) if (nic.bridge !== "") unplug.push({ bridge: nic.bridge, tap: nic.tap });
      }
    }
    await this.#unplug(unplug);
    await this.#destroyUnplugged(containers);
  }

  /** Destroys the VMs' NICs that were kept unplugged (disconnected): they are on no bridge. */
  async #destroyUnplugged(vms: readonly Vm[]): Promise<void> {
    const specs: PortSpec[] = [];
    for (const vm of vms) {
      for (const [index, nic] of vm.nics.entries()) {
        if (nic.bridge !== "") continue;
        const tap: TapState = {
          name: nic.tap,
          role: "vm",
          vlan: 0,
          qinq: false,
          mac: nic.mac,
          namespace: vm.namespace,
          addresses: [],
        };
        specs.push(this.#portSpec(tap, { vm, index }));
      }
    }
    if (specs.length > 0) await this.#backend.destroyNics?.(specs);
  }

  async #replugContainer(vm: Vm): Promise<void> {
    const plan = this.#newPlan();
    for (const [i, nic] of vm.nics.entries()) {
      if (nic.bridge === "" || this.#topology.findTap(nic.tap) !== undefined) continue;
      this.#restoreNic(vm, i, nic.bridge, nic.vlan, nic.qinq, plan);
    }
    await this.#plugWithAddresses(plan);
  }

  /**
   * Puts a VM NIC's existing tap on a bridge and VLAN again in the topology, with its addresses, and
   * adds what the backend must plug to the plan.
   */
  #restoreNic(vm: Vm, index: number, bridge: string, vlan: number, qinq: boolean, plan: PlugPlan): void {
    const nic = vm.nics[index]!;
    this.#topology.ensureBridge(bridge);
    const tap: TapState = {
      name: nic.tap,
      role: "vm",
      vlan,
      qinq,
      mac: nic.mac,
      namespace: vm.namespace,
      addresses: [...nic.ips],
    };
    this.#topology.bridge(bridge)!.taps.set(nic.tap, tap);
    plan.plugs.push({ bridge, spec: this.#portSpec(tap, { vm, index }) });
  }

  /** {@linkcode Lab.#plug}, then the addresses the plugged taps have in the topology. */
  async #plugWithAddresses(plan: PlugPlan): Promise<void> {
    await this.#plug(plan);
    for (const { bridge, spec } of plan.plugs) {
      for (const cidr of this.#topology.findTap(spec.name)?.tap.addresses ?? []) {
        await this.#backend.addAddress(bridge, spec.name, cidr);
      }
    }
  }

  /**
   * A VM's NIC by position, for `vm net connect` and `disconnect`.
   *
   * @throws {VmError} `no network N, VM only has M networks`.
   */
  #network(vm: Vm, index: number): VmNic {
    const nic = vm.nics[index];
    if (nic === undefined || index < 0) {
      throw new VmError(`no network ${index}, VM only has ${vm.nics.length} networks`);
    }
    return nic;
  }

  /**
   * Forgets the namespace's VMs that quit or failed (`vm flush`), destroying their taps. A tap that
   * is a mirror's destination loses its mirror and is destroyed too (minimega leaks it).
   */
  async flushVms(namespace: string): Promise<void> {
    await this.#flush(this.#vmsIn(namespace).filter((vm) => vm.state === "QUIT" || vm.state === "ERROR"));
  }

  async #flush(vms: readonly Vm[]): Promise<void> {
    const unplug: { bridge: string; tap: string }[] = [];
    for (const vm of vms) {
      for (const capture of this.#captures.filter((c) => c.namespace === vm.namespace && c.vm === vm.name)) {
        await this.#stopCapture(capture);
      }
      for (const nic of vm.nics) if (nic.bridge !== "") unplug.push({ bridge: nic.bridge, tap: nic.tap });
    }
    await this.#unplug(unplug);
    await this.#destroyUnplugged(vms);
    const taps = new Set(vms.flatMap((vm) => vm.nics.map((nic) => nic.tap)));
    for (const ns of this.#namespaces.values()) ns.mirrors = ns.mirrors.filter((m) => !taps.has(m));
    for (const vm of vms) this.#vms.delete(vm.id);
  }

  /**
   * Removes taps from their bridges, with the mirrors that use them: per bridge, the mirrors first, then
   * all the ports in one backend call. Taps no longer in the topology are skipped. With `keepNics`, the
   * VM NICs behind them stay, unplugged (disconnect, connect elsewhere).
   */
  async #unplug(
    taps: readonly { bridge: string; tap: string }[],
    options: RemovePortsOptions = {},
  ): Promise<void> {
    for (const [bridge, items] of Map.groupBy(taps, (t) => t.bridge)) {
      const names = items.map((t) => t.tap).filter((tap) =>
        this.#topology.bridge(bridge)?.taps.has(tap) === true
      );
      for (const tap of names) {
        for (const mirror of this.#topology.removeTap(bridge, tap)) {
          await this.#backend.removeMirror(bridge, mirror.name);
          for (const ns of this.#namespaces.values()) {
            ns.mirrors = ns.mirrors.filter((m) => `mirror-${m}` !== mirror.name);
          }
        }
      }
      if (names.length > 0) await this.#backend.removePorts(bridge, names, options);
    }
  }

  /**
   * Adds NICs to VMs (`vm net add`): KVM VMs only, as in minimega. The ports are plugged (all or
   * nothing), then a VM that runs gets the NICs hot-plugged by the backend (QEMU: `netdev_add`,
   * `device_add`).
   */
  async addVmNics(namespace: string, target: string, specs: readonly string[]): Promise<void> {
    const vms = this.vmTargets(namespace, target);
    for (const vm of vms) if (vm.type !== "kvm") throw new VmError("unable to get Kvm");
    const configs = this.#parseNics(namespace, specs);
    const before = vms.map((vm) => vm.nics.length);
    const plan = this.#newPlan();
    for (const vm of vms) {
      for (const config of configs) vm.nics.push(this.#newNic(vm, config, config.mac, plan));
    }
    try {
      await this.#plug(plan);
    } catch (error) {
      for (const [i, vm] of vms.entries()) vm.nics.length = before[i]!;
      throw error;
    }
    // a VM that runs gets its new NICs now (QEMU hot-plug); one that quit gets them when it starts again
    for (const [i, vm] of vms.entries()) {
      if (vm.state === "QUIT") continue;
      const added = Array.from({ length: vm.nics.length - before[i]! }, (_, k) => before[i]! + k);
      try {
        await this.#backend.hotplugNics?.(this.#vmSpec(vm), added);
      } catch (error) {
        // this VM's new NICs go again; the VMs before it keep theirs
        const nics = vm.nics.slice(before[i]!);
        await this.#unplug(nics.map((nic) => ({ bridge: nic.bridge, tap: nic.tap })));
        vm.nics.length = before[i]!;
        throw error;
      }
    }
  }

  /**
   * Moves a VM NIC to a VLAN (`vm net connect`): on the given bridge, else the NIC's bridge, else
   * mega_bridge. QinQ is not re-applied, as in minimega.
   *
   * @throws {VmError} `no network N, VM only has M networks`.
   */
  async connectVmNic(
    namespace: string,
    target: string,
    position: string,
    vlanToken: string,
    bridge?: string,
  ): Promise<void> {
    const index = parseNicIndex(position);
    const vms = this.vmTargets(namespace, target);
    for (const vm of vms) this.#network(vm, index);
    const { vlan } = this.vlans.lookup(namespace, vlanToken);
    for (const vm of vms) {
      const nic = this.#network(vm, index);
      const to = bridge ?? (nic.bridge !== "" ? nic.bridge : DEFAULT_BRIDGE_NAME);
      if (nic.bridge !== "") await this.#unplug([{ bridge: nic.bridge, tap: nic.tap }], { keepNics: true });
      const plan = this.#newPlan();
      this.#restoreNic(vm, index, to, vlan, false, plan);
      await this.#plugWithAddresses(plan);
      vm.nics[index] = { ...nic, bridge: to, vlan, qinq: false };
    }
  }

  /** Takes a VM NIC off its bridge (`vm net disconnect`); a disconnected NIC is left alone. */
  async disconnectVmNic(namespace: string, target: string, position: string): Promise<void> {
    const index = parseNicIndex(position);
    const vms = this.vmTargets(namespace, target);
    for (const vm of vms) {
      const nic = this.#network(vm, index);
      if (nic.bridge === "") continue;
      // the NIC stays (a KVM VM's QEMU holds its tap), unplugged, until it is connected again or flushed
      await this.#unplug([{ bridge: nic.bridge, tap: nic.tap }], { keepNics: true });
      vm.nics[index] = { ...nic, bridge: "", vlan: DISCONNECTED };
    }
  }

  /** Gives a VM NIC an IPv4 address in the guest (`vm net ip`, a labwire extension). */
  async addVmAddress(namespace: string, target: string, position: string, cidr: string): Promise<void> {
    const index = parseNicIndex(position);
    const normalized = checkCidr(cidr);
    for (const vm of this.vmTargets(namespace, target)) {
      const nic = nicOf(vm, index);
      if (nic.bridge !== "") {
        // the backend first: what it refuses is not recorded
        await this.#backend.addAddress(nic.bridge, nic.tap, normalized);
        const found = this.#topology.findTap(nic.tap);
        if (found) {
          this.#topology.updateTap(nic.bridge, {
            ...found.tap,
            addresses: [...found.tap.addresses, normalized],
          });
        }
      }
      vm.nics[index] = { ...nic, ips: [...nic.ips, normalized] };
    }
  }

  /** The rows of `vm info`, networking columns, for a namespace. */
  vmInfo(namespace: string): string[][] {
    return this.#vmsIn(namespace).map((vm) => {
      const qinq = vm.nics.filter((n) => n.qinq && n.bridge !== "").map((n) => `${n.tap} (${n.vlan})`);
      return [
        String(vm.id),
        vm.name,
        vm.state,
        vm.type,
        infoList(
          vm.nics.map((n) =>
            n.vlan === DISCONNECTED ? "disconnected" : this.vlans.format(vm.namespace, n.vlan)
          ),
        ),
        infoList(vm.nics.map((n) => n.bridge)),
        infoList(vm.nics.map((n) => n.tap)),
        infoList(vm.nics.map((n) => n.mac)),
        infoList(vm.nics.map((n) => n.ips.map((ip) => ip.split("/")[0]).join(" "))),
        infoList(vm.nics.map(() => "")),
        "[]",
        infoList(qinq),
        "[]",
      ];
    });
  }

  // ---- host taps ---------------------------------------------------------------------------------

  /**
   * Creates a host tap on a VLAN (`tap create`), with an address or DHCP. Unlike minimega, an
   * address or DHCP failure is reported, and the tap removed.
   *
   * @returns The tap's name.
   * @throws {TopologyError} `tap already on bridge`, reserved-word errors.
   */
  async createTap(namespace: string, vlanToken: string, options: CreateTapOptions = {}): Promise<string> {
    const { bridge = DEFAULT_BRIDGE_NAME, name, ip, dhcp = false } = options;
    if (name !== undefined && name === "all") {
      throw new TopologyError("`all` is a reserved word -- cannot use for tap name");
    }
    if (bridge === "all") throw new TopologyError("`all` is a reserved word -- cannot use for bridge name");
    const cidr = ip === undefined ? undefined : checkCidr(ip);
    const { vlan } = this.lookupVlan(namespace, vlanToken);
    const ns = this.#ns(namespace);
    const tap = this.#topology.addTap(bridge, {
      ...(name === undefined ? {} : { name }),
      role: "host",
      vlan,
      mac: this.#generateMac(),
      namespace,
    });
    await this.#makeBridge(bridge);
    await this.#backend.addPorts(bridge, [this.#portSpec(tap)]);
    ns.hostTaps.push(tap.name);
    try {
      if (dhcp) {
        const lease = await this.#backend.dhcp(bridge, tap.name);
        this.#topology.updateTap(bridge, { ...tap, addresses: [lease] });
      } else if (cidr !== undefined) {
        await this.#backend.addAddress(bridge, tap.name, cidr);
        this.#topology.updateTap(bridge, { ...tap, addresses: [cidr] });
      }
    } catch (error) {
      await this.#destroyHostTap(namespace, bridge, tap.name);
      throw error;
    }
    return tap.name;
  }

  /** The host taps of a namespace, as `tap` lists them: bridge, tap, VLAN. */
  tapRows(namespace: string): string[][] {
    const rows: string[][] = [];
    for (const name of this.#namespaces.get(namespace)?.hostTaps ?? []) {
      const found = this.#topology.findTap(name);
      if (found) rows.push([found.bridge.name, name, this.vlans.format(namespace, found.tap.vlan)]);
    }
    return rows;
  }

  /**
   * Deletes a host tap, or all the namespace's (`tap delete`).
   *
   * @throws {TopologyError} `unknown tap`, `not a host tap`, `not a host tap in active namespace`.
   */
  async deleteTap(namespace: string, name: string): Promise<void> {
    const ns = this.#ns(namespace);
    if (name === "all") {
      for (const tap of [...ns.hostTaps]) {
        const found = this.#topology.findTap(tap);
        if (found) await this.#destroyHostTap(namespace, found.bridge.name, tap);
      }
      return;
    }
    const found = this.#topology.findTap(name);
    if (found === undefined) throw new TopologyError("unknown tap");
    if (found.tap.role !== "host") throw new TopologyError("not a host tap");
    if (!ns.hostTaps.includes(name)) throw new TopologyError("not a host tap in active namespace");
    await this.#destroyHostTap(namespace, found.bridge.name, name);
  }

  async #destroyHostTap(namespace: string, bridge: string, tap: string): Promise<void> {
    await this.#unplug([{ bridge, tap }]);
    const ns = this.#ns(namespace);
    ns.hostTaps = ns.hostTaps.filter((t) => t !== tap);
    ns.mirrors = ns.mirrors.filter((t) => t !== tap);
  }

  /** `clear tap`: the namespace's mirrors, then its host taps. */
  async clearTaps(namespace: string): Promise<void> {
    await this.clearMirror(namespace);
    await this.deleteTap(namespace, "all");
  }

  // ---- mirrors -----------------------------------------------------------------------------------

  /**
   * Mirrors one tap's traffic to another on a bridge (`tap mirror <src> <dst> [bridge]`).
   *
   * @throws {TopologyError} `cannot mirror tap to itself`, `source tap is not on bridge`,
   * `destination tap is not on bridge`, `destination tap is already a mirror`.
   */
  async mirrorTaps(
    namespace: string,
    src: string,
    dst: string,
    bridgeName = DEFAULT_BRIDGE_NAME,
  ): Promise<void> {
    const ns = this.#ns(namespace);
    if (src === dst) throw new TopologyError("cannot mirror tap to itself");
    const bridge = this.#topology.bridge(bridgeName);
    if (bridge === undefined || !bridge.taps.has(src)) throw new TopologyError("source tap is not on bridge");
    if (!bridge.taps.has(dst)) throw new TopologyError("destination tap is not on bridge");
    if (bridge.isMirrorOutput(dst)) throw new TopologyError("destination tap is already a mirror");
    const mirror = {
      name: `mirror-${dst}`,
      selectAll: false,
      selectSrc: [src],
      selectDst: [src],
      output: dst,
    };
    bridge.mirrors.set(mirror.name, mirror);
    await this.#backend.addMirror(bridgeName, mirror);
    ns.mirrors.push(dst);
  }

  /**
   * Mirrors a VM NIC to another VM's NIC (`tap mirror <vm> <i> <vm2> <i2>`).
   *
   * @throws {VmError} `vm not found: X`, `vms are not colocated or invalid vm name: X`,
   * `no such interface N for X`, `interfaces on different bridges: A and B`.
   */
  async mirrorVms(namespace: string, vm1: string, i1: string, vm2: string, i2: string): Promise<void> {
    const index1 = parseNicIndex(i1);
    const index2 = parseNicIndex(i2);
    const a = this.findVm(namespace, vm1);
    const b = this.findVm(namespace, vm2);
    if (a === undefined && b === undefined) throw new VmError(`vm not found: ${vm1}`);
    if (a === undefined || b === undefined) {
      throw new VmError(`vms are not colocated or invalid vm name: ${a === undefined ? vm1 : vm2}`);
    }
    const nic1 = nicOf(a, index1);
    const nic2 = nicOf(b, index2);
    if (nic1.bridge !== nic2.bridge) {
      throw new VmError(`interfaces on different bridges: ${nic1.bridge} and ${nic2.bridge}`);
    }
    await this.mirrorTaps(namespace, nic1.tap, nic2.tap, nic1.bridge);
  }

  /**
   * Removes a mirror by its destination tap, or all the namespace's (`clear tap mirror [name]`).
   *
   * @throws {TopologyError} `not a valid mirror`, `unknown tap`.
   */
  async clearMirror(namespace: string, dst?: string): Promise<void> {
    const ns = this.#ns(namespace);
    const targets = dst === undefined || dst === "all" ? [...ns.mirrors] : [dst];
    for (const tap of targets) {
      if (!ns.mirrors.includes(tap)) throw new TopologyError("not a valid mirror");
      const found = this.#topology.findTap(tap);
      if (found === undefined) throw new TopologyError("unknown tap");
      const name = `mirror-${tap}`;
      if (!found.bridge.mirrors.delete(name)) {
        throw new TopologyError(`tap is not a mirror on bridge ${found.bridge.name}: ${tap}`);
      }
      await this.#backend.removeMirror(found.bridge.name, name);
      ns.mirrors = ns.mirrors.filter((t) => t !== tap);
    }
  }

  /**
   * Removes the mirror whose destination is a VM's NIC (`clear tap mirror <vm> <i|all>`).
   *
   * @throws {VmError} `vm not found: X`, `invalid interface number: ...`, `no such interface ...`.
   * @throws {TopologyError} `not a valid mirror`.
   */
  async clearVmMirror(namespace: string, vmName: string, position: string): Promise<void> {
    const vm = this.findVm(namespace, vmName);
    if (vm === undefined) throw new VmError(`vm not found: ${vmName}`);
    const ns = this.#ns(namespace);
    if (position === "all") {
      for (const nic of vm.nics) if (ns.mirrors.includes(nic.tap)) await this.clearMirror(namespace, nic.tap);
      return;
    }
    await this.clearMirror(namespace, nicOf(vm, parseNicIndex(position)).tap);
  }

  // ---- bridges -----------------------------------------------------------------------------------

  /** The rows of `bridge`: bridge, preexisting, vlans, trunks, tunnels, bonds, config. */
  bridgeRows(namespace: string): string[][] {
    return this.#topology.bridgeNames().map((name) => {
      const bridge = this.#topology.bridge(name)!;
      const vlans = [
        ...new Set([...bridge.taps.values()].filter((t) => t.role !== "patch").map((t) => t.vlan)),
      ]
        .map((v) => this.vlans.format(namespace, v)).sort();
      const config = Object.fromEntries([...bridge.config].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
      const patches = [...bridge.taps.values()].filter((t) => t.role === "patch").map((t) => t.name);
      return [
        name,
        String(bridge.preexisting),
        `[${vlans.join(" ")}]`,
        `[${[...bridge.trunks, ...patches].sort().join(" ")}]`,
        "[]",
        "[]",
        JSON.stringify(config),
      ];
    });
  }

  /**
   * Trunks an interface into a bridge (`bridge trunk`): an untagged port carrying all VLANs.
   *
   * @throws {TopologyError} `bridge already trunking to <iface>`, `already exists`.
   */
  async trunk(bridgeName: string, iface: string): Promise<void> {
    const { bridge } = this.#topology.ensureBridge(bridgeName);
    await this.#makeBridge(bridgeName);
    if (bridge.trunks.includes(iface)) throw new TopologyError(`bridge already trunking to ${iface}`);
    if (this.#topology.findTap(iface) !== undefined) throw new TopologyError("already exists");
    bridge.trunks.push(iface);
    await this.#backend.addPorts(bridgeName, [{ name: iface, mode: { kind: "trunk" }, role: "trunk" }]);
  }

  /**
   * Removes a trunk (`bridge notrunk`).
   *
   * @throws {TopologyError} `unknown trunk: <iface>`.
   */
  async notrunk(bridgeName: string, iface: string): Promise<void> {
    const bridge = this.#topology.bridge(bridgeName);
    const i = bridge?.trunks.indexOf(iface) ?? -1;
    if (bridge === undefined || i < 0) throw new TopologyError(`unknown trunk: ${iface}`);
    bridge.trunks.splice(i, 1);
    await this.#backend.removePorts(bridgeName, [iface]);
  }

  /**
   * Sets a bridge setting (`bridge config <bridge> <key=value>`): the backend applies it (Open vSwitch:
   * `ovs-vsctl set bridge <bridge> <key=value>`), then the lab records it for the listing.
   *
   * @throws {TopologyError} `expected key=value`.
   * @throws {Error} `set config failed: ...` when the backend refuses it (then nothing is recorded).
   */
  async configureBridge(bridgeName: string, setting: string): Promise<void> {
    const eq = setting.indexOf("=");
    if (eq < 0) throw new TopologyError("expected key=value");
    const { bridge } = this.#topology.ensureBridge(bridgeName);
    await this.#makeBridge(bridgeName);
    const key = setting.slice(0, eq);
    const value = setting.slice(eq + 1);
    await this.#backend.configureBridge?.(bridgeName, key, value);
    bridge.config.set(key, value);
  }

  /**
   * Joins two bridges with a patch link (`bridge patch`, a labwire extension): a port `patch-<b>` on
   * bridge a and `patch-<a>` on bridge b, untagged trunks carrying every VLAN, as Open vSwitch patch
   * ports. The bridges are made if needed.
   *
   * @throws {TopologyError} `Cannot patch bridge a to itself`, `bridge a already patched to b`.
   */
  async patchBridges(a: string, b: string): Promise<void> {
    if (a === b) throw new TopologyError(`Cannot patch bridge ${a} to itself`);
    const portA = `patch-${b}`;
    const portB = `patch-${a}`;
    this.#topology.ensureBridge(a);
    this.#topology.ensureBridge(b);
    if (this.#topology.bridge(a)!.taps.has(portA)) {
      throw new TopologyError(`bridge ${a} already patched to ${b}`);
    }
    this.#topology.addTap(a, { name: portA, role: "patch", vlan: 0, peer: { bridge: b, port: portB } });
    this.#topology.addTap(b, { name: portB, role: "patch", vlan: 0, peer: { bridge: a, port: portA } });
    for (const [bridge, port] of [[a, portA], [b, portB]] as const) {
      await this.#makeBridge(bridge);
      await this.#backend.addPorts(bridge, [{ name: port, mode: { kind: "trunk" }, role: "patch" }]);
    }
    await this.#backend.addPatch(a, portA, b, portB);
  }

  /**
   * Removes a patch link (`bridge nopatch`).
   *
   * @throws {TopologyError} `unknown patch: a to b`.
   */
  async unpatchBridges(a: string, b: string): Promise<void> {
    const tap = this.#topology.bridge(a)?.taps.get(`patch-${b}`);
    if (tap?.peer === undefined) throw new TopologyError(`unknown patch: ${a} to ${b}`);
    await this.#unplug([{ bridge: a, tap: tap.name }, { bridge: tap.peer.bridge, tap: tap.peer.port }]);
  }

  /**
   * Destroys a bridge (`bridge destroy`): its host taps, trunks, mirrors and captures. A bridge VM NICs
   * are plugged into is not destroyed (minimega destroys their taps under them).
   *
   * @throws {TopologyError} `bridge not found: X`, or which VMs still use it.
   */
  async destroyBridge(bridgeName: string): Promise<void> {
    const bridge = this.#topology.bridge(bridgeName);
    if (bridge === undefined) throw new TopologyError(`bridge not found: ${bridgeName}`);
    const users = [...this.#vms.values()].filter((vm) => vm.nics.some((n) => n.bridge === bridgeName));
    if (users.length > 0) {
      throw new TopologyError(
        `Cannot destroy bridge ${bridgeName}: VM NICs are on it (${
          users.map((vm) => vm.name).join(", ")
        }); ` +
          "flush the VMs or disconnect their NICs first",
      );
    }
    await this.#teardownBridge(bridgeName);
  }

  /**
   * Takes everything of the lab off a bridge (captures, patch links, host taps, trunks, any other port),
   * then asks the backend to remove the bridge, which it keeps when something else still uses it (another
   * lab's ports) or it was there before; and forgets it.
   */
  async #teardownBridge(bridgeName: string): Promise<void> {
    const bridge = this.#topology.bridge(bridgeName);
    if (bridge === undefined) return;
    for (const capture of this.#captures.filter((c) => c.bridge === bridgeName)) {
      await this.#stopCapture(capture);
    }
    for (const tap of [...bridge.taps.values()]) {
      if (tap.peer !== undefined) await this.unpatchBridges(bridgeName, tap.peer.bridge);
    }
    for (const [name, ns] of this.#namespaces) {
      for (const tap of ns.hostTaps.filter((t) => bridge.taps.has(t))) {
        await this.#destroyHostTap(name, bridgeName, tap);
      }
    }
    await this.#unplug([...bridge.taps.keys()].map((tap) => ({ bridge: bridgeName, tap })));
    if (bridge.trunks.length > 0) await this.#backend.removePorts(bridgeName, [...bridge.trunks]);
    bridge.trunks.length = 0;
    await this.#backend.removeBridge(bridgeName);
    this.#topology.deleteBridge(bridgeName);
  }

  // ---- captures ----------------------------------------------------------------------------------

  /** A namespace's capture settings. */
  captureSettings(namespace: string): { snaplen: number; filter: string } {
    const ns = this.#ns(namespace);
    return { snaplen: ns.snaplen, filter: ns.filter };
  }

  /**
   * Sets the snaplen of new captures (`capture pcap snaplen <size>`).
   *
   * @throws {RangeError} Go's parse error for a value that is not a uint32.
   */
  setSnaplen(namespace: string, size: string): void {
    const n = parseGoInt(size);
    if (n === undefined || n < 0 || n > 0xffffffff) {
      throw new RangeError(`strconv.ParseUint: parsing ${JSON.stringify(size)}: invalid syntax`);
    }
    this.#ns(namespace).snaplen = n;
  }

  /** Sets the BPF filter of new captures (`capture pcap filter <bpf>`). */
  setFilter(namespace: string, filter: string): void {
    this.#ns(namespace).filter = filter;
  }

  /**
   * Captures a VM NIC's frames to a pcap file (`capture pcap vm`).
   *
   * @throws {VmError} `` invalid interface: `x` ``, `vm not found: X`, `no such interface N for X`.
   */
  async captureVm(namespace: string, vmName: string, position: string, path: string): Promise<void> {
    const index = parseNicIndex(position, { short: true });
    const vm = this.findVm(namespace, vmName);
    if (vm === undefined) throw new VmError(`vm not found: ${vmName}`);
    const nic = nicOf(vm, index);
    if (nic.bridge === "") throw new VmError(`unknown tap on bridge : ${nic.tap}`);
    await this.#startCapture({ namespace, bridge: nic.bridge, vm: vm.name, nic: index, port: nic.tap, path });
  }

  /**
   * Captures everything on a bridge to a pcap file (`capture pcap bridge`): a capture tap, untagged,
   * gets a copy of every frame through a select-all mirror, so frames keep their VLAN tags.
   *
   * @throws {TopologyError} `bridge not found: X`.
   */
  async captureBridge(namespace: string, bridgeName: string, path: string): Promise<void> {
    if (this.#topology.bridge(bridgeName) === undefined) {
      throw new TopologyError(`bridge not found: ${bridgeName}`);
    }
    const tap = this.#topology.addTap(bridgeName, { role: "capture", vlan: 0, namespace });
    await this.#backend.addPorts(bridgeName, [{ name: tap.name, mode: { kind: "trunk" }, role: "capture" }]);
    const mirror = {
      name: `mirror-${tap.name}`,
      selectAll: true,
      selectSrc: [],
      selectDst: [],
      output: tap.name,
    };
    this.#topology.bridge(bridgeName)!.mirrors.set(mirror.name, mirror);
    await this.#backend.addMirror(bridgeName, mirror);
    await this.#startCapture({ namespace, bridge: bridgeName, port: tap.name, mirror: mirror.name, path });
  }

  async #startCapture(fields: Omit<CaptureRecord, "id">): Promise<void> {
    const settings = this.#ns(fields.namespace);
    const record: CaptureRecord = { id: this.#nextCaptureId++, ...fields };
    await this.#backend.startCapture({
      id: record.id,
      bridge: record.bridge,
      port: record.port,
      path: record.path,
      snaplen: settings.snaplen === 0 ? DEFAULT_SNAPLEN : settings.snaplen,
      filter: settings.filter,
    });
    this.#captures.push(record);
  }

  /** Stops a capture; a bridge capture's mirror and tap go with it (minimega leaves the tap). */
  async #stopCapture(capture: CaptureRecord): Promise<void> {
    await this.#backend.stopCapture(capture.id);
    this.#captures = this.#captures.filter((c) => c.id !== capture.id);
    if (capture.mirror !== undefined) await this.#unplug([{ bridge: capture.bridge, tap: capture.port }]);
  }

  /** The rows of `capture`: bridge, type, interface, mode, compress, path. */
  captureRows(namespace: string): string[][] {
    return this.#captures.filter((c) => c.namespace === namespace).map((c) => [
      c.bridge,
      "pcap",
      c.vm === undefined ? "" : `${c.vm}:${c.nic}`,
      "",
      "",
      c.path,
    ]);
  }

  /**
   * Stops a VM's pcap captures, or every VM capture's with `all` (`capture pcap delete vm`).
   *
   * @throws {VmError} `vm not found: X` when nothing matched.
   */
  async deleteVmCaptures(namespace: string, vmName: string): Promise<void> {
    const matched = this.#captures.filter((c) =>
      c.namespace === namespace && c.vm !== undefined && (vmName === "all" || c.vm === vmName)
    );
    if (matched.length === 0 && (vmName !== "all" || this.findVm(namespace, vmName) !== undefined)) {
      if (vmName !== "all") throw new VmError(`vm not found: ${vmName}`);
    }
    for (const capture of matched) await this.#stopCapture(capture);
  }

  /** Stops a bridge's captures, or every bridge capture's with `all` (`capture pcap delete bridge`). */
  async deleteBridgeCaptures(namespace: string, bridgeName: string): Promise<void> {
    for (const capture of this.#captures) {
      if (capture.namespace !== namespace || capture.vm !== undefined) continue;
      if (bridgeName === "all" || capture.bridge === bridgeName) await this.#stopCapture(capture);
    }
  }

  /** Stops all the namespace's captures (`clear capture`). */
  async clearCaptures(namespace: string): Promise<void> {
    for (const capture of this.#captures.filter((c) => c.namespace === namespace)) {
      await this.#stopCapture(capture);
    }
  }

  // ---- reachability ------------------------------------------------------------------------------

  /**
   * Sends echo requests from a VM NIC (`vm:index`) or a host tap to an IPv4 address (`ping`, a
   * labwire extension).
   *
   * @throws {VmError} For an unknown VM, NIC or tap.
   */
  async ping(namespace: string, from: string, ip: string, count = 3): Promise<PingResult> {
    if (!Number.isSafeInteger(count) || count < 1 || count > 10_000) {
      throw new RangeError(`Cannot ping as count must be 1 to 10000: current value is ${count}`);
    }
    checkCidr(ip);
    const colon = from.lastIndexOf(":");
    let bridge: string;
    let port: string;
    if (colon > 0) {
      const vm = this.findVm(namespace, from.slice(0, colon));
      if (vm === undefined) throw new VmError(`vm not found: ${from.slice(0, colon)}`);
      const nic = nicOf(vm, parseNicIndex(from.slice(colon + 1)));
      if (nic.bridge === "") throw new VmError(`Cannot ping from ${from}: the NIC is disconnected`);
      bridge = nic.bridge;
      port = nic.tap;
    } else {
      if (!this.#ns(namespace).hostTaps.includes(from)) {
        throw new TopologyError(
          `Cannot ping from ${from}: not a VM NIC (vm:index) or a host tap of this namespace`,
        );
      }
      bridge = this.#topology.findTap(from)!.bridge.name;
      port = from;
    }
    return await this.#backend.ping(bridge, port, ip, count);
  }

  /**
   * Ends the lab's work in this process: stops every capture (completing its file; a bridge capture's
   * tap and mirror go too), kills the KVM VMs the backend runs itself and marks them QUIT, unless the
   * backend keeps them ({@linkcode Backend.keepsVms}: they stay RUNNING or PAUSED, for a later process),
   * then lets the backend finish.
   */
  async close(): Promise<void> {
    for (const capture of [...this.#captures]) await this.#stopCapture(capture);
    if (this.#backend.launchVm !== undefined && this.#backend.keepsVms !== true) {
      // VMs the backend runs itself (QEMU) end with the process, as captures do
      for (const vm of this.#vms.values()) {
        if (vm.type !== "kvm" || vm.state === "QUIT") continue;
        await this.#backend.killVm?.(this.#vmSpec(vm));
        vm.state = "QUIT";
      }
    }
    await this.#backend.close?.();
  }

  /** Emits a warning through the lab's `onWarning`. */
  warn(message: string): void {
    this.#warn(message);
  }

  /**
   * Checks that a configured MAC can be a NIC's: 6 octets (minimega accepts the 8- and 20-octet
   * forms here and fails later, in QEMU; labwire says so at once). A multicast MAC is allowed, as in
   * minimega, whose own tests use `13:37:...` MACs, but warned about: switches do not learn it.
   */
  #checkNicMac(mac: string): void {
    const octets = parseMac(mac);
    if (octets.length !== 6) {
      throw new RangeError(
        `Cannot use MAC '${mac}' for a NIC: it has ${octets.length} octets, an Ethernet MAC has 6`,
      );
    }
    if (isMulticastMac(octets)) {
      this.#warn(
        `MAC ${mac} is a multicast address: switches will not learn it, and guests may drop its frames`,
      );
    }
  }
}

function macOf(tap: TapState): { mac?: string } {
  return tap.mac === "" ? {} : { mac: tap.mac };
}

/**
 * Checks an IPv4 address with an optional prefix length; a bare address is a /32.
 *
 * @returns The address as `a.b.c.d/n`.
 * @throws {SyntaxError} `Cannot use address 'x': expected an IPv4 address like 10.0.0.1/24`.
 */
export function checkCidr(s: string): string {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?:\/(\d{1,2}))?$/.exec(s);
  const ok = m !== null && m.slice(1, 5).every((o) => Number(o) <= 255) &&
    (m[5] === undefined || Number(m[5]) <= 32);
  if (!ok) throw new SyntaxError(`Cannot use address '${s}': expected an IPv4 address like 10.0.0.1/24`);
  return m[5] === undefined ? `${s}/32` : s;
}
