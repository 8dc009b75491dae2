// Runtime-neutral.
/**
 * The VMs room: VMs as the networking half of minimega sees them, their lifecycle (launch paused, start,
 * stop, kill, flush) and their NICs at run time (add, connect, disconnect, addresses). Each NIC is a tap
 * on a bridge with a VLAN and a MAC; a VM and its NICs are one record. Lookups by id, by namespace and
 * name, and launches, cost O(1) per VM and NIC.
 *
 * @module
 */

import type { PortMode, PortSpec } from "../backend/bridges.ts";
import type { Backend } from "../backend/backend.ts";
import type { VmSpec } from "../backend/vms.ts";
import type { DhcpResult } from "../backend/endpoints.ts";
import { LabError, VmError } from "../errors.ts";
import { expandNames } from "../names.ts";
import type { Journal } from "./_journal.ts";
import type { BridgeRoom } from "./bridges.ts";
import type { CaptureRoom } from "./captures.ts";
import type { MacPool } from "./macs.ts";
import type { MirrorRoom } from "./mirrors.ts";
import type { Plug, PortRoom } from "./ports.ts";
import {
  DISCONNECTED,
  type NicConfig,
  type NicRecord,
  type VmConfigFields,
  type VmRecord,
  type VmState,
  type VmType,
} from "./records.ts";
import { checkCidr, checkVmName, DEFAULT_BRIDGE_NAME } from "./rules.ts";

/** The mode a port gets for a VLAN: untagged trunk for 0 (as minimega adds no `tag=`), dot1q-tunnel for QinQ, else access. */
export function portMode(vlan: number, qinq: boolean): PortMode {
  if (vlan === 0) return { kind: "trunk" };
  return qinq ? { kind: "dot1q-tunnel", tag: vlan } : { kind: "access", tag: vlan };
}

/**
 * Reads a NIC index the way minimega does (Go's Atoi).
 *
 * @throws {VmError} `` invalid interface number: `x` `` (or `invalid interface: ...` with `short`).
 */
export function parseNicIndex(s: string, options: { short?: boolean } = {}): number {
  if (!/^[+-]?\d+$/.test(s) || !Number.isSafeInteger(Number(s))) {
    throw new VmError("invalid-argument", `invalid interface${options.short ? "" : " number"}: \`${s}\``);
  }
  return Number(s);
}

/**
 * A VM's NIC by index.
 *
 * @throws {VmError} `no such interface N for <vm>` (minimega's words).
 */
export function nicOf(vm: VmRecord, index: number): NicRecord {
  const nic = vm.nics[index];
  if (nic === undefined || index < 0) {
    throw new VmError("nic-not-found", `no such interface ${index} for ${vm.name}`);
  }
  return nic;
}

/** The rooms and backend the VMs room works with. */
export interface VmRoomDeps {
  readonly ports: PortRoom;
  readonly bridges: BridgeRoom;
  readonly mirrors: MirrorRoom;
  readonly captures: CaptureRoom;
  readonly macs: MacPool;
  /** A namespace's VM config fields (memory, CPUs, kernel, ...). */
  readonly config: (namespace: string) => VmConfigFields;
}

/** The lab's VMs. */
export class VmRoom {
  #journal: Journal;
  #backend: Backend;
  #deps: VmRoomDeps;
  #byId = new Map<number, VmRecord>();
  #byName = new Map<string, Map<string, VmRecord>>();
  #nextId = 0;

  /** Makes the room. */
  constructor(journal: Journal, backend: Backend, deps: VmRoomDeps) {
    this.#journal = journal;
    this.#backend = backend;
    this.#deps = deps;
  }

  /** The next VM id (saved with the lab). */
  get nextId(): number {
    return this.#nextId;
  }

  /** Restores the id counter (loading a lab). */
  set nextId(n: number) {
    this.#nextId = n;
  }

  /** A VM by id, or undefined. */
  byId(id: number): VmRecord | undefined {
    return this.#byId.get(id);
  }

  /** The VMs, of one namespace or of all, by id. */
  list(namespace?: string): VmRecord[] {
    const vms = namespace === undefined
      ? [...this.#byId.values()]
      : [...(this.#byName.get(namespace)?.values() ?? [])];
    return vms.sort((a, b) => a.id - b.id);
  }

  /** How many VMs the lab has. */
  get size(): number {
    return this.#byId.size;
  }

  /** A VM of a namespace by name or id, or undefined. */
  find(namespace: string, nameOrId: string): VmRecord | undefined {
    const named = this.#byName.get(namespace)?.get(nameOrId);
    if (named !== undefined) return named;
    if (!/^\d+$/.test(nameOrId)) return undefined;
    const vm = this.#byId.get(Number(nameOrId));
    return vm?.namespace === namespace ? vm : undefined;
  }

  /**
   * A VM of a namespace by name or id.
   *
   * @throws {VmError} `vm not found: <name>` (minimega's words).
   */
  require(namespace: string, nameOrId: string): VmRecord {
    const vm = this.find(namespace, nameOrId);
    if (vm === undefined) throw new VmError("vm-not-found", `vm not found: ${nameOrId}`);
    return vm;
  }

  /**
   * The VMs a target names: `all`, a name or id, or a name list (`a,b`, `vm[1-3]`).
   *
   * @throws {VmError} `vm not found: <name>`.
   */
  targets(namespace: string, target: string): VmRecord[] {
    if (target === "all") return this.list(namespace);
    return expandNames(target).map((name) => this.require(namespace, name));
  }

  #put(vm: VmRecord): void {
    const before = this.#byId.get(vm.id);
    this.#index(vm);
    this.#journal.record(() => {
      if (before === undefined) this.#unindex(vm);
      else this.#index(before);
    });
  }

  #index(vm: VmRecord): void {
    this.#byId.set(vm.id, vm);
    let names = this.#byName.get(vm.namespace);
    if (names === undefined) this.#byName.set(vm.namespace, names = new Map());
    names.set(vm.name, vm);
  }

  #unindex(vm: VmRecord): void {
    this.#byId.delete(vm.id);
    const names = this.#byName.get(vm.namespace);
    names?.delete(vm.name);
    if (names?.size === 0) this.#byName.delete(vm.namespace);
  }

  #forget(vm: VmRecord): void {
    this.#unindex(vm);
    this.#journal.record(() => this.#index(vm));
  }

  /** What a backend that runs VMs is told of one. */
  spec(vm: VmRecord): VmSpec {
    const config = this.#deps.config(vm.namespace);
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

  /** What the backend is told of a NIC's port. */
  #portSpec(vm: VmRecord, index: number, nic: NicRecord, state: VmState = vm.state): PortSpec {
    return {
      name: nic.tap,
      mode: portMode(nic.vlan, nic.qinq),
      role: "vm",
      mac: nic.mac,
      vm: {
        name: vm.name,
        namespace: vm.namespace,
        id: vm.id,
        nic: index,
        type: vm.type,
        running: state === "RUNNING",
      },
    };
  }

  /** A plug of a NIC's port on its bridge, with its addresses. */
  #plugOf(vm: VmRecord, index: number, nic: NicRecord): Plug {
    return { bridge: nic.bridge, spec: this.#portSpec(vm, index, nic), addresses: nic.ips };
  }

  /** The plugs of every NIC on a bridge now, with their addresses (a lab rebuilt in a new backend). */
  plugs(): Plug[] {
    const plugs: Plug[] = [];
    for (const vm of this.list()) {
      for (const [index, nic] of vm.nics.entries()) {
        if (this.#deps.ports.get(nic.tap)?.bridge !== undefined) plugs.push(this.#plugOf(vm, index, nic));
      }
    }
    return plugs;
  }

  /** A new NIC: a tap name, a MAC (configured or generated), its VLAN; the name is claimed. */
  #newNic(vm: { id: number; type: VmType }, index: number, config: NicConfig): NicRecord {
    const tap = this.#deps.ports.nextTapName();
    this.#deps.ports.claim(tap, { kind: "nic", vm: vm.id, index });
    const mac = config.mac !== "" ? config.mac : this.#deps.macs.generate();
    if (config.mac !== "") this.#deps.macs.use(mac);
    this.#deps.bridges.ensure(config.bridge);
    return {
      tap,
      bridge: config.bridge,
      vlan: config.vlanId,
      mac,
      driver: vm.type === "container" ? "" : config.driver,
      qinq: config.qinq,
      ips: [],
    };
  }

  /**
   * Launches VMs with a VM config's NICs: each NIC gets a tap (`mega_tapN`) on its bridge, with its VLAN,
   * and a generated MAC unless the config has one. The VMs start paused, as minimega's do: they answer
   * nothing until started. All or nothing.
   *
   * @param names A name list (`a,b`, `vm[1-3]`) or a count (`3` launches vm-<id> VMs).
   * @throws {VmError} `vm already exists: <name>`, or for a name that is a number or `all`.
   */
  async launch(
    namespace: string,
    type: VmType,
    names: string,
    networks: readonly NicConfig[],
  ): Promise<VmRecord[]> {
    const list = /^\d+$/.test(names)
      ? Array.from({ length: Number(names) }, (_, i) => `vm-${this.#nextId + i}`)
      : expandNames(names);
    for (const name of list) {
      checkVmName(name);
      if (this.#byName.get(namespace)?.has(name)) {
        throw new VmError("vm-exists", `vm already exists: ${name}`);
      }
    }
    const firstId = this.#nextId;
    this.#journal.record(() => this.#nextId = firstId);
    const vms: VmRecord[] = [];
    const plugs: Plug[] = [];
    for (const name of list) {
      const id = this.#nextId++;
      const nics = networks.map((config, index) => this.#newNic({ id, type }, index, config));
      const vm: VmRecord = { id, name, namespace, type, state: "BUILDING", nics };
      this.#put(vm);
      vms.push(vm);
      for (const [index, nic] of nics.entries()) plugs.push(this.#plugOf(vm, index, nic));
    }
    await this.#deps.ports.plug(plugs, (b) => this.#deps.bridges.make(b));
    const specs = vms.map((vm) => this.spec(vm));
    await this.#backend.launchVms(specs);
    this.#journal.compensate(`launching ${list.length} VMs`, () => this.#backend.killVms(specs));
    const launched = vms.map((vm): VmRecord => ({ ...vm, state: "PAUSED" }));
    for (const vm of launched) this.#put(vm);
    return launched;
  }

  /**
   * Starts VMs (`vm start`): paused or quit VMs run. Containers that quit get their NICs back.
   *
   * @returns The VMs that started, as they are now.
   */
  async start(namespace: string, target: string): Promise<VmRecord[]> {
    const vms = this.targets(namespace, target).filter((vm) =>
      vm.state !== "RUNNING" && vm.state !== "ERROR"
    );
    const quit = vms.filter((vm) => vm.state === "QUIT");
    const replug: Plug[] = [];
    for (const vm of quit) {
      if (vm.type !== "container") continue;
      for (const [index, nic] of vm.nics.entries()) {
        if (nic.bridge !== "" && this.#deps.ports.get(nic.tap)?.bridge === undefined) {
          replug.push(this.#plugOf(vm, index, nic));
        }
      }
    }
    await this.#deps.ports.plug(replug, (b) => this.#deps.bridges.make(b));
    if (quit.length > 0) {
      const specs = quit.map((vm) => this.spec(vm));
      await this.#backend.launchVms(specs);
      this.#journal.compensate(`launching ${quit.length} VMs`, () => this.#backend.killVms(specs));
    }
    if (vms.length === 0) return [];
    const specs = vms.map((vm) => this.spec(vm));
    await this.#backend.startVms(specs);
    this.#journal.compensate(`starting ${vms.length} VMs`, () => this.#backend.stopVms(specs));
    const started = vms.map((vm): VmRecord => ({ ...this.#byId.get(vm.id)!, state: "RUNNING" }));
    for (const vm of started) this.#put(vm);
    return started;
  }

  /**
   * Finds the VMs whose process ended without being asked (a crashed QEMU) and marks them `ERROR`, as
   * minimega does; returns them with why. Backends that cannot tell are not asked.
   */
  async findExited(namespace?: string): Promise<{ vm: VmRecord; why: string }[]> {
    if (this.#backend.exitedVms === undefined) return [];
    const live = this.list(namespace).filter((vm) => vm.state === "RUNNING" || vm.state === "PAUSED");
    if (live.length === 0) return [];
    const exited = await this.#backend.exitedVms(live.map((vm) => this.spec(vm)));
    const found: { vm: VmRecord; why: string }[] = [];
    for (const vm of live) {
      const why = exited.get(vm.name);
      if (why === undefined) continue;
      const failed: VmRecord = { ...vm, state: "ERROR" };
      this.#put(failed);
      found.push({ vm: failed, why });
    }
    return found;
  }

  /** Pauses running VMs (`vm stop`): they answer nothing and forward nothing until started again. */
  async stop(namespace: string, target: string): Promise<void> {
    const vms = this.targets(namespace, target).filter((vm) => vm.state === "RUNNING");
    if (vms.length === 0) return;
    const specs = vms.map((vm) => this.spec(vm));
    await this.#backend.stopVms(specs);
    this.#journal.compensate(`pausing ${vms.length} VMs`, () => this.#backend.startVms(specs));
    for (const vm of vms) this.#put({ ...vm, state: "PAUSED" });
  }

  /**
   * Kills VMs (`vm kill`): they QUIT. A KVM VM keeps its taps (a restart reuses them); a container's
   * taps are destroyed and made again, with the same names, when it starts.
   */
  async kill(namespace: string, target: string): Promise<void> {
    await this.#kill(this.targets(namespace, target));
  }

  async #kill(targets: readonly VmRecord[]): Promise<void> {
    const vms = targets.filter((vm) => vm.state !== "QUIT");
    if (vms.length === 0) return;
    await this.#backend.killVms(vms.map((vm) => this.spec(vm)));
    const containers = vms.filter((vm) => vm.type === "container");
    await this.#unplugNics(containers);
    await this.#destroyUnplugged(containers);
    for (const vm of vms) this.#put({ ...this.#byId.get(vm.id)!, state: "QUIT" });
  }

  /** Ends every VM that runs (a namespace or the lab going). */
  async killAll(namespace?: string): Promise<void> {
    await this.#kill(this.list(namespace));
  }

  /** Ends the VMs a predicate picks, in one backend call. */
  async killWhere(pick: (vm: VmRecord) => boolean): Promise<void> {
    await this.#kill(this.list().filter(pick));
  }

  /** Takes the connected NICs of VMs off their bridges (with the mirrors that use them). */
  async #unplugNics(vms: readonly VmRecord[], options: { keepNics?: boolean } = {}): Promise<void> {
    const names: string[] = [];
    const ips = new Map<string, readonly string[]>();
    for (const vm of vms) {
      for (const nic of vm.nics) {
        if (this.#deps.ports.get(nic.tap)?.bridge === undefined) continue;
        names.push(nic.tap);
        ips.set(nic.tap, nic.ips);
      }
    }
    if (names.length === 0) return;
    await this.#deps.mirrors.dropUsing(names);
    await this.#deps.ports.unplug(names, { ...options, addresses: (name) => ips.get(name) ?? [] });
  }

  /** Destroys the VMs' NICs that were kept unplugged (disconnected): they are on no bridge. */
  async #destroyUnplugged(vms: readonly VmRecord[]): Promise<void> {
    const specs: PortSpec[] = [];
    for (const vm of vms) {
      for (const [index, nic] of vm.nics.entries()) {
        if (nic.bridge !== "") continue;
        specs.push(this.#portSpec(vm, index, { ...nic, vlan: 0 }));
      }
    }
    if (specs.length > 0) await this.#backend.destroyNics?.(specs);
  }

  /**
   * Forgets the namespace's VMs that quit or failed (`vm flush`), destroying their taps. A tap that
   * is a mirror's output loses its mirror and is destroyed too (minimega leaks it).
   */
  async flush(namespace: string): Promise<void> {
    await this.#flush(this.list(namespace).filter((vm) => vm.state === "QUIT" || vm.state === "ERROR"));
  }

  /** Kills and forgets every VM of a namespace, or of the lab. */
  async destroyAll(namespace?: string): Promise<void> {
    await this.killAll(namespace);
    await this.#flush(this.list(namespace));
  }

  async #flush(vms: readonly VmRecord[]): Promise<void> {
    if (vms.length === 0) return;
    const names = new Set(vms.map((vm) => `${vm.namespace}\u0000${vm.name}`));
    await this.#deps.captures.stopWhere((c) =>
      c.vm !== undefined && names.has(`${c.namespace}\u0000${c.vm}`)
    );
    await this.#unplugNics(vms);
    await this.#destroyUnplugged(vms);
    for (const vm of vms) {
      for (const nic of vm.nics) {
        this.#deps.ports.release(nic.tap);
        this.#deps.macs.release(nic.mac);
      }
      this.#forget(vm);
    }
  }

  /**
   * Adds NICs to VMs (`vm net add`): KVM VMs only, as in minimega. The ports are plugged (all or
   * nothing), then a VM that runs gets the NICs hot-plugged by the backend (QEMU: `netdev_add`,
   * `device_add`).
   *
   * @throws {VmError} `unable to get Kvm` for a container (minimega's words).
   */
  async addNics(namespace: string, target: string, configs: () => readonly NicConfig[]): Promise<void> {
    const vms = this.targets(namespace, target);
    for (const vm of vms) if (vm.type !== "kvm") throw new VmError("unsupported", "unable to get Kvm");
    const parsed = configs();
    const plugs: Plug[] = [];
    const grown: [VmRecord, number][] = [];
    for (const vm of vms) {
      const before = vm.nics.length;
      const nics = [...vm.nics, ...parsed.map((c, i) => this.#newNic(vm, before + i, c))];
      const next = { ...vm, nics };
      this.#put(next);
      grown.push([next, before]);
      for (let i = before; i < nics.length; i++) plugs.push(this.#plugOf(next, i, nics[i]!));
    }
    await this.#deps.ports.plug(plugs, (b) => this.#deps.bridges.make(b));
    // a VM that runs gets its new NICs now (QEMU hot-plug); one that quit gets them when it starts again
    for (const [vm, before] of grown) {
      if (vm.state === "QUIT") continue;
      const added = Array.from({ length: vm.nics.length - before }, (_, k) => before + k);
      await this.#backend.hotplugNics(this.spec(vm), added);
    }
  }

  /**
   * A VM's NIC by position, for `vm net connect` and `disconnect`.
   *
   * @throws {VmError} `no network N, VM only has M networks` (minimega's words).
   */
  #network(vm: VmRecord, index: number): NicRecord {
    const nic = vm.nics[index];
    if (nic === undefined || index < 0) {
      throw new VmError("nic-not-found", `no network ${index}, VM only has ${vm.nics.length} networks`);
    }
    return nic;
  }

  #withNic(vm: VmRecord, index: number, nic: NicRecord): VmRecord {
    const nics = [...vm.nics];
    nics[index] = nic;
    const next = { ...vm, nics };
    this.#put(next);
    return next;
  }

  /**
   * Moves a VM NIC to a VLAN (`vm net connect`): on the given bridge, else the NIC's bridge, else
   * mega_bridge. QinQ is not re-applied, as in minimega. The NIC keeps its device, addresses and ARP cache.
   *
   * @throws {VmError} `no network N, VM only has M networks`.
   */
  async connect(
    namespace: string,
    target: string,
    position: string,
    resolveVlan: () => number,
    bridge?: string,
  ): Promise<void> {
    const index = parseNicIndex(position);
    const vms = this.targets(namespace, target);
    for (const vm of vms) this.#network(vm, index);
    const vlan = resolveVlan();
    for (const target of vms) {
      const vm = this.#byId.get(target.id)!;
      const nic = this.#network(vm, index);
      const to = bridge ?? (nic.bridge !== "" ? nic.bridge : DEFAULT_BRIDGE_NAME);
      this.#deps.bridges.ensure(to);
      if (nic.bridge !== "") await this.#unplugNics([{ ...vm, nics: [nic] }], { keepNics: true });
      const moved = this.#withNic(vm, index, { ...nic, bridge: to, vlan, qinq: false });
      await this.#deps.ports.plug(
        [this.#plugOf(moved, index, moved.nics[index]!)],
        (b) => this.#deps.bridges.make(b),
      );
    }
  }

  /** Takes a VM NIC off its bridge (`vm net disconnect`); a disconnected NIC is left alone. */
  async disconnect(namespace: string, target: string, position: string): Promise<void> {
    const index = parseNicIndex(position);
    const vms = this.targets(namespace, target);
    for (const vm of vms) this.#network(vm, index);
    for (const target of vms) {
      const vm = this.#byId.get(target.id)!;
      const nic = this.#network(vm, index);
      if (nic.bridge === "") continue;
      // the NIC stays (a KVM VM's QEMU holds its tap), unplugged, until it is connected again or flushed
      await this.#unplugNics([{ ...vm, nics: [nic] }], { keepNics: true });
      this.#withNic(vm, index, { ...nic, bridge: "", vlan: DISCONNECTED });
    }
  }

  /** Gives a VM NIC an IPv4 address in the guest (`vm net ip`, a labwire extension). */
  async addAddress(namespace: string, target: string, position: string, cidr: string): Promise<void> {
    const index = parseNicIndex(position);
    if (cidr === "dhcp") {
      // `vm net ip <vm> <nic> dhcp`: a DHCP client on the NIC (dhclient in the VM's namespace)
      const vms = this.targets(namespace, target);
      for (const vm of vms) {
        nicOf(vm, index);
        if (vm.state !== "RUNNING") {
          throw new VmError(
            "vm-not-running",
            `Cannot get an address by DHCP for ${vm.name}:${index}: the VM is not running (state ${vm.state}): vm start it first`,
          );
        }
      }
      for (const vm of vms) await this.dhcp(vm.id, index);
      return;
    }
    const normalized = checkCidr(cidr);
    const vms = this.targets(namespace, target);
    for (const vm of vms) nicOf(vm, index);
    for (const target of vms) {
      const vm = this.#byId.get(target.id)!;
      const nic = nicOf(vm, index);
      if (nic.ips.includes(normalized)) continue;
      if (this.#deps.ports.get(nic.tap)?.bridge !== undefined) {
        // the backend first: what it refuses is not recorded
        await this.#backend.addAddress(nic.bridge, nic.tap, normalized);
        this.#journal.compensate(
          `adding address ${normalized} to ${nic.tap}`,
          () => this.#backend.removeAddress(nic.bridge, nic.tap, normalized),
        );
      }
      this.#withNic(vm, index, { ...nic, ips: [...nic.ips, normalized] });
    }
  }

  /**
   * Gets a VM's NIC an address by DHCP (a router's `interface N dhcp`), recorded as the NIC's; one the NIC
   * has already is kept once.
   *
   * @throws {VmError} `no such interface N for X`, or a NIC that is not on a bridge.
   * @throws {Error} What the backend's DHCP client says (no lease in time).
   */
  async dhcp(id: number, index: number): Promise<DhcpResult> {
    const vm = this.#byId.get(id)!;
    const nic = nicOf(vm, index);
    if (this.#deps.ports.get(nic.tap)?.bridge === undefined) {
      throw new VmError(
        "nic-disconnected",
        `Cannot get an address by DHCP for ${vm.name}:${index}: it is disconnected`,
      );
    }
    let lease: DhcpResult;
    try {
      lease = await this.#backend.dhcp(nic.bridge, nic.tap);
    } catch (error) {
      // the backend names the port: the user named the VM and the NIC
      const prefix = `Cannot get an address by DHCP for ${nic.tap}: `;
      if (!(error instanceof Error) || !error.message.startsWith(prefix)) throw error;
      throw new LabError(
        "backend-failed",
        `Cannot get an address by DHCP for ${vm.name}:${index} (${nic.tap}): ${
          error.message.slice(prefix.length)
        }`,
        error,
      );
    }
    const address = lease.address;
    this.#journal.compensate(
      `the address ${address} of ${nic.tap}`,
      () => this.#backend.removeAddress(nic.bridge, nic.tap, address),
    );
    if (!nic.ips.includes(address)) this.#withNic(vm, index, { ...nic, ips: [...nic.ips, address] });
    return lease;
  }

  /**
   * Takes an address away from a VM's NIC (what a router's commit added and no longer has); one the NIC
   * does not have is no error.
   */
  async removeAddress(id: number, index: number, cidr: string): Promise<void> {
    const vm = this.#byId.get(id);
    const nic = vm?.nics[index];
    if (vm === undefined || nic === undefined || !nic.ips.includes(cidr)) return;
    if (this.#deps.ports.get(nic.tap)?.bridge !== undefined) {
      await this.#backend.removeAddress(nic.bridge, nic.tap, cidr);
      this.#journal.compensate(
        `removing address ${cidr} from ${nic.tap}`,
        () => this.#backend.addAddress(nic.bridge, nic.tap, cidr),
      );
    }
    this.#withNic(vm, index, { ...nic, ips: nic.ips.filter((ip) => ip !== cidr) });
  }

  /** Restores the room (loading a lab). */
  load(vms: readonly VmRecord[]): void {
    this.#byId.clear();
    this.#byName.clear();
    for (const vm of vms) this.#index(vm);
  }
}
