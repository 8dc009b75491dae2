// Runtime-neutral.
/**
 * The lab model: every rule of minimega's semantics, once, independent of the backend that carries the
 * frames. It is made of rooms, each with one responsibility and its own records: VLAN aliases
 * (`lib/vlans.ts`), namespaces, VM configs, VMs, ports and their plugging, host taps, mirrors, bridges
 * and patch links, captures; this class composes them and runs each change as one command: validated,
 * then made, or undone entirely when it fails (lib/lab/_journal.ts), so that a failed command leaves the
 * lab, and a state file, as they were.
 *
 * The command language (lib/commands/) and the typed API (lib/api/) both drive a `LabModel`; its state
 * is plain JSON ({@linkcode LabModel.toJSON}), kept in a state file between processes.
 *
 * @module
 */

import type { Backend } from "../backend/backend.ts";
import { RouterRoom } from "./routers.ts";
import { NatRoom, natTapName } from "./nat.ts";
import { DnsmasqRoom } from "./dnsmasq.ts";
import {
  addStaticRoute,
  clearRoutes,
  formatRouter,
  resetRouter,
  type RouterConfig,
  RouterError,
  setGateway,
} from "./router_config.ts";
import type { CaptureContents } from "../backend/captures.ts";
import { LabError, TopologyError, VmError } from "../errors.ts";
import { isMulticastMac, MacError, parseMac } from "../mac.ts";
import { NameListError } from "../names.ts";
import { NetspecError, parseNetspec } from "../netspec.ts";
import { NIC_DRIVERS } from "../nic_drivers.ts";
import { VlanError, Vlans, type VlansState } from "../vlans.ts";
import { Journal } from "./_journal.ts";
import { BridgeRoom } from "./bridges.ts";
import { CaptureRoom, type CaptureTarget } from "./captures.ts";
import { MacPool } from "./macs.ts";
import { MirrorRoom, mirrorSpec } from "./mirrors.ts";
import { NamespaceRoom } from "./namespaces.ts";
import { type PortOwner, PortRoom } from "./ports.ts";
import { checkPing, ping, type PingResult, pingSource } from "./reach.ts";
import type {
  CaptureRecord,
  LabState,
  MirrorRecord,
  NatRecord,
  NicConfig,
  TapRecord,
  VmConfigRecord,
  VmRecord,
  VmType,
} from "./records.ts";
import { DEFAULT_BRIDGE_NAME } from "./rules.ts";
import { type CreateTapOptions, TapRoom } from "./taps.ts";
import { type VmConfigField, VmConfigRoom } from "./vm_configs.ts";
import { nicOf, parseNicIndex, VmRoom } from "./vms.ts";
import { fromState, toState } from "./persistence.ts";

/** Options for {@linkcode LabModel}. */
export interface LabModelOptions {
  /** What carries the lab's frames. */
  backend: Backend;
  /** The default VLAN range, half-open, within VLANs 1..4094. @default {{ min: 101, max: 4095 }} */
  vlanRange?: { min: number; max: number };
  /** The NIC drivers netspecs recognise. @default {NIC_DRIVERS} */
  drivers?: ReadonlySet<string>;
  /** Receives warnings (a VLAN blacklisted on use, ...). @default {() => {}} */
  onWarning?: (message: string) => void;
  /** Makes generated MACs reproducible. @default {random} */
  macSeed?: number | string;
  /** The first octets of generated MACs, e.g. `52:54:00`. @default {a random locally administered octet} */
  macPrefix?: string;
}

/** A bridge as `bridge` lists it. */
export interface BridgeInfo {
  /** Its name. */
  readonly name: string;
  /** Whether the backend found it and did not make it (it is never deleted). */
  readonly preexisting: boolean;
  /** The VLANs of the ports on it, ascending. */
  readonly vlans: readonly number[];
  /** Its trunks and patch ports, sorted. */
  readonly trunks: readonly string[];
  /** Its `bridge config` settings. */
  readonly config: Readonly<Record<string, string>>;
}

/** The lab model. See the module doc. */
export class LabModel {
  readonly #journal: Journal;
  #vlans: Vlans;
  readonly #vlanRange: { min: number; max: number } | undefined;
  /** The NIC drivers netspecs recognise; the CLI refreshes it from QEMU when QEMU is installed. */
  drivers: ReadonlySet<string>;
  readonly #backend: Backend;
  readonly #warn: (message: string) => void;
  /** The namespaces and which is active. */
  readonly namespaces: NamespaceRoom;
  /** Each namespace's VM config. */
  readonly vmConfigs: VmConfigRoom;
  /** The bridges and patch links. */
  readonly bridges: BridgeRoom;
  /** Port names and plugging. */
  readonly ports: PortRoom;
  /** MACs generated and in use. */
  readonly macs: MacPool;
  /** The mirrors. */
  readonly mirrors: MirrorRoom;
  /** The captures. */
  readonly captures: CaptureRoom;
  /** The routers (`router`). */
  readonly routers: RouterRoom;
  /** The ways out to the host's uplink (`nat`). */
  readonly nat: NatRoom;
  /** The DHCP and DNS servers on host taps (`dnsmasq`). */
  readonly dnsmasq: DnsmasqRoom;
  /** The host taps. */
  readonly taps: TapRoom;
  /** The VMs. */
  readonly vms: VmRoom;

  /** Makes an empty lab on a backend. */
  constructor(options: LabModelOptions) {
    const { backend, vlanRange, drivers = NIC_DRIVERS, onWarning = () => {} } = options;
    this.#warn = onWarning;
    this.#journal = new Journal(onWarning);
    this.#vlanRange = vlanRange;
    this.#vlans = this.#newVlans();
    this.drivers = drivers;
    this.#backend = backend;
    const journal = this.#journal;
    this.namespaces = new NamespaceRoom(journal);
    this.vmConfigs = new VmConfigRoom(journal);
    this.bridges = new BridgeRoom(journal, backend);
    this.ports = new PortRoom(journal, backend, (name) => this.bridges.has(name));
    this.bridges.usePorts(this.ports);
    this.macs = new MacPool(journal, {
      ...(options.macSeed === undefined ? {} : { seed: options.macSeed }),
      ...(options.macPrefix === undefined ? {} : { prefix: options.macPrefix }),
    });
    this.mirrors = new MirrorRoom(journal, backend, this.ports);
    this.captures = new CaptureRoom(journal, backend, this.ports, this.bridges);
    this.taps = new TapRoom(journal, backend, {
      ports: this.ports,
      bridges: this.bridges,
      mirrors: this.mirrors,
      macs: this.macs,
    });
    this.vms = new VmRoom(journal, backend, {
      ports: this.ports,
      bridges: this.bridges,
      mirrors: this.mirrors,
      captures: this.captures,
      macs: this.macs,
      config: (ns) => this.vmConfigs.fields(ns),
    });
    this.routers = new RouterRoom(journal, backend, this.vms);
    this.nat = new NatRoom(journal, backend);
    this.dnsmasq = new DnsmasqRoom(journal, backend);
    this.taps.beforeDestroy = async (tap) => {
      await this.dnsmasq.stopOn(tap.name);
      const nat = this.nat.byTap(tap.name);
      if (nat !== undefined) await this.nat.close(nat);
    };
  }

  #newVlans(state?: VlansState): Vlans {
    const onWarning = this.#warn;
    const vlans = state === undefined
      ? new Vlans({ ...(this.#vlanRange === undefined ? {} : { range: this.#vlanRange }), onWarning })
      : Vlans.fromJSON(state, { onWarning });
    vlans.beforeChange = () =>
      this.#journal.once(this, () => {
        const saved = vlans.toJSON();
        return () => this.#vlans = this.#newVlans(saved);
      });
    return vlans;
  }

  /** The VLAN alias table. Read it anew after each command: an undone command replaces it. */
  get vlans(): Vlans {
    return this.#vlans;
  }

  /** What carries the lab's frames. */
  get backend(): Backend {
    return this.#backend;
  }

  /** Emits a warning through the lab's `onWarning`. */
  warn(message: string): void {
    this.#warn(message);
  }

  /**
   * Runs a change as one command: when it throws, everything it changed is undone (records exactly, the
   * backend as far as it can) and the error goes on, as a {@linkcode LabError} (a lower layer's error
   * becomes one with the same message and the original as its `cause`). Commands run inside one are
   * part of it.
   */
  async transaction<T>(fn: () => T | Promise<T>): Promise<T> {
    try {
      return await this.#journal.run(async () => await fn());
    } catch (error) {
      throw asLabError(error);
    }
  }

  // ---- namespaces ------------------------------------------------------------------------------

  /** The active namespace: commands run in it unless told otherwise. */
  get activeNamespace(): string {
    return this.namespaces.active;
  }

  /** Makes `name` the active namespace, creating it if needed. */
  setActiveNamespace(name: string): void {
    this.namespaces.setActive(name);
  }

  /** Creates a namespace if it does not exist yet. */
  ensureNamespace(name: string): void {
    this.namespaces.ensure(name);
  }

  /** The namespaces that exist, sorted. */
  namespaceNames(): string[] {
    return this.namespaces.names();
  }

  /**
   * Destroys a namespace, or every namespace with `all`: its captures, mirrors, host taps and VMs, its
   * VLAN aliases and range, and its VM config. The default namespace is emptied rather than removed; if
   * the active namespace goes, the default one becomes active.
   *
   * @throws {NamespaceError} `unknown namespace: x` (minimega's words) if it does not exist.
   */
  destroyNamespace(name: string): Promise<void> {
    return this.transaction(async () => {
      if (name === "all") {
        for (const ns of this.namespaceNames()) await this.destroyNamespace(ns);
        return;
      }
      this.namespaces.require(name);
      await this.captures.stopWhere((c) => c.namespace === name);
      await this.mirrors.clear(name);
      await this.taps.delete(name, "all");
      await this.vms.destroyAll(name);
      this.vlans.clearNamespace(name);
      this.vmConfigs.drop(name);
      this.captures.dropNamespace(name);
      this.routers.drop((r) => r.namespace === name);
      this.namespaces.remove(name);
    });
  }

  /**
   * Clears everything of this lab: every namespace, the bridges left, then all VLAN state (`clear all`).
   * Other labs sharing the backend (another state file on the same Open vSwitch) are left alone.
   */
  clearAll(): Promise<void> {
    return this.transaction(async () => {
      await this.dnsmasq.kill("all");
      await this.destroyNamespace("all");
      for (const name of this.bridges.names()) await this.#teardownBridge(name);
      this.vlans.reset();
    });
  }

  /**
   * Clears this lab, then removes whatever labwire made in the backend for any lab, made by this process
   * or by one that crashed (`nuke`, as minimega's).
   */
  async nuke(): Promise<void> {
    await this.clearAll();
    await this.#backend.nuke?.();
  }

  // ---- VLANs and VM configs --------------------------------------------------------------------

  /**
   * Resolves a VLAN token in a namespace the way every minimega command does (`lookupVLAN`): a number is
   * used as it is (and blacklisted for allocation), an alias gets a VLAN on first use.
   */
  lookupVlan(namespace: string, token: string): { vlan: number; created: boolean } {
    this.namespaces.ensure(namespace);
    return this.vlans.lookup(namespace, token);
  }

  /**
   * Parses netspecs and resolves their VLANs in order (aliases allocated on first use).
   *
   * @throws {LabError} `malformed netspec` (code `invalid-netspec`), MAC errors (`invalid-mac`), VLAN errors.
   */
  parseNics(namespace: string, specs: readonly string[]): NicConfig[] {
    this.namespaces.ensure(namespace);
    const nics: NicConfig[] = [];
    for (const spec of specs) {
      const parsed = parseNetspec(spec, { drivers: this.drivers });
      if (parsed.mac !== "") this.#checkNicMac(parsed.mac);
      const { vlan } = this.vlans.lookup(namespace, parsed.vlan);
      nics.push({ ...parsed, vlanId: vlan });
    }
    return nics;
  }

  /**
   * Replaces a namespace's VM network config (`vm config networks <spec>...`); when a spec is wrong, the
   * command fails and nothing changes.
   */
  configureNetworks(namespace: string, specs: readonly string[]): Promise<readonly NicConfig[]> {
    return this.transaction(() => {
      const nics = this.parseNics(namespace, specs);
      this.vmConfigs.setNetworks(namespace, nics);
      return nics;
    });
  }

  /** A namespace's VM network config. */
  networks(namespace: string): readonly NicConfig[] {
    return this.vmConfigs.get(namespace).networks;
  }

  /** A namespace's whole VM config. */
  vmConfig(namespace: string): VmConfigRecord {
    return this.vmConfigs.get(namespace);
  }

  /** Sets a VM config field (`vm config memory 512`, ...). */
  setVmConfig(namespace: string, field: VmConfigField, value: string): Promise<void> {
    return this.transaction(() => {
      this.namespaces.ensure(namespace);
      this.vmConfigs.set(namespace, field, value);
    });
  }

  /** Sets a VM config's disks (`vm config disks <path>...`). */
  setVmDisks(namespace: string, disks: readonly string[]): Promise<void> {
    return this.transaction(() => {
      this.namespaces.ensure(namespace);
      this.vmConfigs.setDisks(namespace, disks);
    });
  }

  /** Resets a namespace's whole VM config (`clear vm config`), networks included. */
  clearVmConfig(namespace: string): Promise<void> {
    return this.transaction(() => this.vmConfigs.clear(namespace));
  }

  /** Empties a namespace's VM network config; VLAN aliases stay allocated. */
  clearNetworks(namespace: string): Promise<void> {
    return this.transaction(() => {
      if (this.networks(namespace).length > 0) this.vmConfigs.setNetworks(namespace, []);
    });
  }

  // ---- VMs -------------------------------------------------------------------------------------

  /**
   * Launches VMs with the namespace's VM config (or the NICs given), paused, as minimega's are.
   *
   * @param names A name list (`a,b`, `vm[1-3]`) or a count (`3` launches vm-<id> VMs).
   */
  launchVms(
    namespace: string,
    type: VmType,
    names: string,
    networks?: readonly NicConfig[],
  ): Promise<VmRecord[]> {
    return this.transaction(() => {
      this.namespaces.ensure(namespace);
      return this.vms.launch(namespace, type, names, networks ?? this.networks(namespace));
    });
  }

  /**
   * Starts VMs (`vm start`); the DHCP clients of routers committed while their VMs were paused then take
   * their leases (a client that gets none is a warning: its VM runs without the address).
   */
  startVms(namespace: string, target: string): Promise<void> {
    return this.transaction(async () => {
      const started = await this.vms.start(namespace, target);
      for (const warning of await this.routers.started(started)) this.warn(warning);
    });
  }

  /** Pauses VMs (`vm stop`). */
  stopVms(namespace: string, target: string): Promise<void> {
    return this.transaction(() => this.vms.stop(namespace, target));
  }

  /** Kills VMs (`vm kill`). */
  killVms(namespace: string, target: string): Promise<void> {
    return this.transaction(() => this.vms.kill(namespace, target));
  }

  /**
   * Marks `ERROR` the VMs of a namespace (or all) whose process ended without being asked, such as a
   * QEMU that crashed, with a warning saying why (`vm info` does this first, as minimega's shows them).
   */
  refreshVms(namespace?: string): Promise<void> {
    return this.transaction(async () => {
      for (const { vm, why } of await this.vms.findExited(namespace)) {
        this.warn(`VM ${vm.name} is in state ERROR: ${why}`);
      }
    });
  }

  /** Forgets VMs that quit or failed (`vm flush`), and their routers. */
  flushVms(namespace: string): Promise<void> {
    return this.transaction(async () => {
      await this.vms.flush(namespace);
      this.routers.drop((r) => this.vms.byId(r.vm) === undefined);
    });
  }

  // ---- the way out ---------------------------------------------------------------------------------

  /**
   * Gives the VMs of a VLAN the host's uplink (`nat <vlan> <gateway ip/mask> <uplink>`): a host tap
   * `lwnat<vlan>` on the VLAN with the gateway address, and the backend's masquerading of the VLAN's
   * subnet out of the uplink. The VMs use the gateway as their default route (`vm net route`).
   *
   * @throws {LabError} For a gateway without its subnet, an uplink that cannot be a device, a VLAN that
   * has a way out or a subnet that overlaps another's, and an uplink the backend does not have.
   */
  openNat(namespace: string, vlanToken: string, gateway: string, uplink: string): Promise<NatRecord> {
    return this.transaction(async () => {
      const vlan = this.lookupVlan(namespace, vlanToken).vlan;
      this.nat.check(vlan, gateway, uplink);
      const tap = await this.taps.create(namespace, () => vlan, { name: natTapName(vlan), ip: gateway });
      const record: NatRecord = { namespace, vlan, tap: tap.name, gateway, uplink };
      await this.nat.open(record);
      return record;
    });
  }

  /**
   * Closes the ways out of a namespace, or of one VLAN (`clear nat [vlan]`): their tables go, their taps
   * too, and the host's forwarding is as it was before the first.
   *
   * @throws {LabError} `no way out of VLAN X`.
   */
  closeNat(namespace: string, vlanToken?: string): Promise<void> {
    return this.transaction(async () => {
      let nats = this.nat.list(namespace);
      if (vlanToken !== undefined) {
        const vlan = this.vlans.get(namespace, vlanToken) ??
          (/^\d+$/.test(vlanToken) ? Number(vlanToken) : undefined);
        nats = nats.filter((n) => n.vlan === vlan);
        if (nats.length === 0) throw new LabError("tap-not-found", `no way out of VLAN ${vlanToken}`);
      }
      for (const nat of nats) await this.taps.delete(namespace, nat.tap);
    });
  }

  // ---- routers ---------------------------------------------------------------------------------

  /**
   * Changes the router of a VM (`router <vm> ...`), made on first use. Unlike minimega, a change that
   * fails makes no router.
   *
   * @throws {VmError} `vm not found: X`.
   * @throws {LabError} What the change refuses, in minimega's words where it has them.
   */
  editRouter(namespace: string, vm: string, change: (config: RouterConfig) => RouterConfig): Promise<void> {
    return this.transaction(() => void this.routers.edit(this.vms.require(namespace, vm), change));
  }

  /**
   * The summary of a VM's router (`router <vm>`), as minimega prints it.
   *
   * @throws {VmError} `vm not found: X`.
   * @throws {RouterError} `vm X not a router`.
   */
  routerSummary(namespace: string, vm: string): string {
    const record = this.vms.require(namespace, vm);
    return formatRouter(this.routers.require(record).config);
  }

  /**
   * Clears routers (`clear router`): every router of the namespace; or, of one VM's, all but its log
   * level, upstream and gateway (minimega's), or what `change` clears.
   *
   * @throws {VmError} `vm not found: X`.
   * @throws {RouterError} `no such router X` (minimega's words).
   */
  clearRouter(
    namespace: string,
    vm?: string,
    change?: (config: RouterConfig) => RouterConfig,
  ): Promise<void> {
    return this.transaction(() => {
      if (vm === undefined) return this.routers.drop((r) => r.namespace === namespace);
      const record = this.vms.require(namespace, vm);
      if (this.routers.get(record.id) === undefined) {
        throw new RouterError("router-not-found", `no such router ${vm}`);
      }
      this.routers.edit(record, change ?? resetRouter);
    });
  }

  /**
   * Gives VMs a route (`vm net route <vm> <network|default> <next-hop>`): a static route, or the default
   * gateway, of each VM's router (made on first use), committed at once. `none` as the next hop removes it.
   *
   * @throws {VmError} `vm not found: X`.
   * @throws {LabError} For a network or next hop that is not IPv4, or one the commit refuses.
   */
  routeVms(namespace: string, target: string, network: string, via: string): Promise<void> {
    return this.transaction(async () => {
      for (const vm of this.vms.targets(namespace, target)) {
        const id = String(vm.id);
        await this.editRouter(namespace, id, (config) => {
          if (network === "default") return setGateway(config, via === "none" ? "" : via);
          return via === "none"
            ? clearRoutes(config, "static", network)
            : addStaticRoute(config, network, via);
        });
        await this.commitRouter(namespace, id);
      }
    });
  }

  /**
   * Applies a VM's router (`router <vm> commit`): see {@linkcode RouterRoom.commit}.
   *
   * @throws {VmError} `vm not found: X`.
   * @throws {RouterError} `vm X not a router`.
   * @throws {LabError} What the configuration or the backend cannot do.
   */
  commitRouter(namespace: string, vm: string): Promise<void> {
    return this.transaction(async () => void await this.routers.commit(this.vms.require(namespace, vm)));
  }

  /** Adds NICs to KVM VMs (`vm net add`). */
  addVmNics(namespace: string, target: string, specs: readonly string[]): Promise<void> {
    return this.transaction(() =>
      this.vms.addNics(namespace, target, () => this.parseNics(namespace, specs))
    );
  }

  /** Moves a VM NIC to a VLAN (`vm net connect`). */
  connectVmNic(
    namespace: string,
    target: string,
    position: string,
    vlan: string,
    bridge?: string,
  ): Promise<void> {
    return this.transaction(() =>
      this.vms.connect(namespace, target, position, () => this.lookupVlan(namespace, vlan).vlan, bridge)
    );
  }

  /** Takes a VM NIC off its bridge (`vm net disconnect`). */
  disconnectVmNic(namespace: string, target: string, position: string): Promise<void> {
    return this.transaction(() => this.vms.disconnect(namespace, target, position));
  }

  /** Gives a VM NIC an address (`vm net ip`). */
  addVmAddress(namespace: string, target: string, position: string, cidr: string): Promise<void> {
    return this.transaction(() => this.vms.addAddress(namespace, target, position, cidr));
  }

  // ---- host taps and mirrors -------------------------------------------------------------------

  /** Creates a host tap on a VLAN (`tap create`). */
  createTap(namespace: string, vlan: string, options: CreateTapOptions = {}): Promise<TapRecord> {
    return this.transaction(() => {
      this.namespaces.ensure(namespace);
      return this.taps.create(namespace, () => this.lookupVlan(namespace, vlan).vlan, options);
    });
  }

  /** Deletes a host tap, or all the namespace's (`tap delete`). */
  deleteTap(namespace: string, name: string): Promise<void> {
    return this.transaction(() => this.taps.delete(namespace, name));
  }

  /** `clear tap`: the namespace's mirrors, then its host taps. */
  clearTaps(namespace: string): Promise<void> {
    return this.transaction(async () => {
      await this.mirrors.clear(namespace);
      await this.taps.delete(namespace, "all");
    });
  }

  /** Mirrors one tap's traffic to another on a bridge (`tap mirror <src> <dst> [bridge]`). */
  mirrorTaps(
    namespace: string,
    src: string,
    dst: string,
    bridge = DEFAULT_BRIDGE_NAME,
  ): Promise<MirrorRecord> {
    return this.transaction(() => this.mirrors.create(namespace, src, dst, bridge));
  }

  /**
   * Mirrors a VM NIC to another VM's NIC (`tap mirror <vm> <i> <vm2> <i2>`).
   *
   * @throws {VmError} `vm not found: X`, `vms are not colocated or invalid vm name: X`,
   * `no such interface N for X`, `interfaces on different bridges: A and B` (minimega's words).
   */
  mirrorVms(namespace: string, vm1: string, i1: string, vm2: string, i2: string): Promise<MirrorRecord> {
    return this.transaction(() => {
      const index1 = parseNicIndex(i1);
      const index2 = parseNicIndex(i2);
      const a = this.vms.find(namespace, vm1);
      const b = this.vms.find(namespace, vm2);
      if (a === undefined && b === undefined) throw new VmError("vm-not-found", `vm not found: ${vm1}`);
      if (a === undefined || b === undefined) {
        throw new VmError(
          "vm-not-found",
          `vms are not colocated or invalid vm name: ${a === undefined ? vm1 : vm2}`,
        );
      }
      const nic1 = nicOf(a, index1);
      const nic2 = nicOf(b, index2);
      if (nic1.bridge !== nic2.bridge) {
        throw new VmError(
          "invalid-argument",
          `interfaces on different bridges: ${nic1.bridge} and ${nic2.bridge}`,
        );
      }
      return this.mirrors.create(namespace, nic1.tap, nic2.tap, nic1.bridge);
    });
  }

  /** Removes a mirror by its output, or all the namespace's (`clear tap mirror [name]`). */
  clearMirror(namespace: string, output?: string): Promise<void> {
    return this.transaction(() => this.mirrors.clear(namespace, output));
  }

  /** Removes the mirror whose output is a VM's NIC (`clear tap mirror <vm> <i|all>`). */
  clearVmMirror(namespace: string, vmName: string, position: string): Promise<void> {
    return this.transaction(async () => {
      const vm = this.vms.require(namespace, vmName);
      if (position === "all") {
        for (const nic of vm.nics) {
          if (this.mirrors.byOutput(nic.tap)?.namespace === namespace) {
            await this.mirrors.clear(namespace, nic.tap);
          }
        }
        return;
      }
      await this.mirrors.clear(namespace, nicOf(vm, parseNicIndex(position)).tap);
    });
  }

  // ---- bridges ---------------------------------------------------------------------------------

  /** The bridges as `bridge` lists them, by name. */
  bridgeInfo(): BridgeInfo[] {
    const patches = new Map<string, string[]>();
    for (const p of this.bridges.patches()) {
      for (const end of [p.a, p.b]) patches.set(end.bridge, [...(patches.get(end.bridge) ?? []), end.port]);
    }
    return this.bridges.names().map((name) => {
      const bridge = this.bridges.get(name)!;
      const vlans = new Set<number>();
      for (const port of this.ports.on(name)) {
        const entry = this.ports.get(port)!;
        const vlan = this.#portVlan(entry.owner, port);
        if (vlan !== undefined) vlans.add(vlan);
      }
      return {
        name,
        preexisting: bridge.preexisting,
        vlans: [...vlans].sort((a, b) => a - b),
        trunks: [...bridge.trunks, ...(patches.get(name) ?? [])].sort(),
        config: Object.fromEntries(
          Object.entries(bridge.config).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
        ),
      };
    });
  }

  /** The VLAN a port is on, as the bridge listing counts it (capture taps count as VLAN 0; patches none). */
  #portVlan(owner: PortOwner, port: string): number | undefined {
    switch (owner.kind) {
      case "nic": {
        const vm = this.vms.byId(owner.vm);
        const nic = vm?.nics[owner.index];
        return nic?.tap === port ? nic.vlan : vm?.nics.find((n) => n.tap === port)?.vlan;
      }
      case "tap":
        return this.taps.get(port)?.vlan;
      case "capture":
        return 0;
      case "patch":
      case "trunk":
        return undefined;
    }
  }

  /** Trunks an interface into a bridge (`bridge trunk`). */
  trunk(bridge: string, iface: string): Promise<void> {
    return this.transaction(() => this.bridges.trunk(bridge, iface));
  }

  /** Removes a trunk (`bridge notrunk`). */
  notrunk(bridge: string, iface: string): Promise<void> {
    return this.transaction(() => this.bridges.notrunk(bridge, iface));
  }

  /** Sets a bridge setting (`bridge config <bridge> <key=value>`). */
  configureBridge(bridge: string, setting: string): Promise<void> {
    return this.transaction(() => this.bridges.configure(bridge, setting));
  }

  /** Joins two bridges with a patch link (`bridge patch`). */
  patchBridges(a: string, b: string): Promise<void> {
    return this.transaction(() => this.bridges.patch(a, b));
  }

  /** Removes a patch link (`bridge nopatch`). */
  unpatchBridges(a: string, b: string): Promise<void> {
    return this.transaction(() => this.bridges.unpatch(a, b));
  }

  /**
   * Destroys a bridge (`bridge destroy`): its host taps, trunks, mirrors and captures. A bridge VM NICs
   * are plugged into is not destroyed (minimega destroys their taps under them).
   *
   * @throws {TopologyError} `bridge not found: X`, or which VMs still use it.
   */
  destroyBridge(name: string): Promise<void> {
    return this.transaction(async () => {
      if (!this.bridges.has(name)) throw new TopologyError("bridge-not-found", `bridge not found: ${name}`);
      const users = this.vms.list().filter((vm) => vm.nics.some((n) => n.bridge === name));
      if (users.length > 0) {
        throw new TopologyError(
          "bridge-in-use",
          `Cannot destroy bridge ${name}: VM NICs are on it (${users.map((vm) => vm.name).join(", ")}); ` +
            "flush the VMs or disconnect their NICs first",
        );
      }
      await this.#teardownBridge(name);
    });
  }

  /**
   * Takes everything of the lab off a bridge (captures, patch links, mirrors, host taps, trunks, any other
   * port), then asks the backend to remove the bridge, which it keeps when something else still uses it
   * (another lab's ports) or it was there before; and forgets it.
   */
  async #teardownBridge(name: string): Promise<void> {
    await this.captures.stopWhere((c) => c.bridge === name);
    for (const link of [...this.bridges.patches()]) {
      if (link.a.bridge === name || link.b.bridge === name) {
        await this.bridges.unpatch(name, link.a.bridge === name ? link.b.bridge : link.a.bridge);
      }
    }
    await this.taps.deleteOn(name);
    const rest = this.ports.on(name).filter((p) => this.ports.get(p)?.owner.kind !== "trunk");
    await this.mirrors.dropUsing(rest);
    await this.ports.unplug(rest);
    await this.bridges.dropTrunks(name);
    await this.bridges.remove(name);
  }

  // ---- captures --------------------------------------------------------------------------------

  /** Sets the snaplen of new captures (`capture pcap snaplen <size>`). */
  setSnaplen(namespace: string, size: string): Promise<void> {
    return this.transaction(() => {
      this.namespaces.ensure(namespace);
      this.captures.setSnaplen(namespace, size);
    });
  }

  /** Sets the BPF filter of new captures (`capture pcap filter <bpf>`). */
  setFilter(namespace: string, filter: string): Promise<void> {
    return this.transaction(() => {
      this.namespaces.ensure(namespace);
      this.captures.setFilter(namespace, filter);
    });
  }

  /**
   * Captures a VM NIC's frames (`capture pcap vm`): to a file, or kept for reading without one.
   *
   * @throws {VmError} `` invalid interface: `x` ``, `vm not found: X`, `no such interface N for X`.
   */
  captureVm(
    namespace: string,
    vmName: string,
    position: string,
    target: Omit<CaptureTarget, "namespace"> = {},
  ): Promise<CaptureRecord> {
    return this.transaction(() => {
      const index = parseNicIndex(position, { short: true });
      const vm = this.vms.require(namespace, vmName);
      const nic = nicOf(vm, index);
      if (nic.bridge === "") throw new VmError("nic-disconnected", `unknown tap on bridge : ${nic.tap}`);
      return this.captures.startPort(
        { ...target, namespace },
        { bridge: nic.bridge, port: nic.tap, vm: vm.name, nic: index },
      );
    });
  }

  /** Captures everything on a bridge (`capture pcap bridge`). */
  captureBridge(
    namespace: string,
    bridge: string,
    target: Omit<CaptureTarget, "namespace"> = {},
  ): Promise<CaptureRecord> {
    return this.transaction(() => this.captures.startBridge({ ...target, namespace }, bridge));
  }

  /**
   * Stops a VM's captures, or every VM capture's with `all` (`capture pcap delete vm`).
   *
   * @throws {VmError} `vm not found: X` when nothing matched (minimega's words).
   */
  deleteVmCaptures(namespace: string, vmName: string): Promise<void> {
    return this.transaction(async () => {
      const matched = this.captures.list(namespace).filter((c) =>
        c.vm !== undefined && (vmName === "all" || c.vm === vmName)
      );
      if (matched.length === 0 && vmName !== "all") {
        throw new VmError("vm-not-found", `vm not found: ${vmName}`);
      }
      for (const capture of matched) await this.captures.stop(capture.id);
    });
  }

  /** Stops a bridge's captures, or every bridge capture's with `all` (`capture pcap delete bridge`). */
  deleteBridgeCaptures(namespace: string, bridge: string): Promise<void> {
    return this.transaction(() =>
      this.captures.stopWhere((c) =>
        c.namespace === namespace && c.vm === undefined && (bridge === "all" || c.bridge === bridge)
      )
    );
  }

  /** Stops all the namespace's captures (`clear capture`). */
  clearCaptures(namespace: string): Promise<void> {
    return this.transaction(() => this.captures.stopWhere((c) => c.namespace === namespace));
  }

  /** Stops one capture. */
  stopCapture(id: number): Promise<void> {
    return this.transaction(() => this.captures.stop(id));
  }

  /** The frames a capture kept so far. */
  readCapture(id: number): Promise<CaptureContents> {
    return this.captures.read(id);
  }

  /** Makes a capture's file complete up to now. */
  flushCapture(id: number): Promise<void> {
    return this.captures.flush(id);
  }

  // ---- reachability ----------------------------------------------------------------------------

  /**
   * Sends echo requests from a VM NIC (`vm:index`) or a host tap to an IPv4 address (`ping`, a labwire
   * extension).
   */
  ping(namespace: string, from: string, ip: string, count = 3): Promise<PingResult> {
    return this.transaction(() => {
      checkPing(ip, count);
      const source = pingSource(this.vms, this.taps, namespace, from);
      return ping(this.#backend, source, from, ip, count);
    });
  }

  // ---- lifetime and state ----------------------------------------------------------------------

  /**
   * Ends the lab's work in this process: stops every capture (completing its file; a bridge capture's tap
   * and mirror go too), kills the KVM VMs the backend runs itself and marks them QUIT, unless the backend
   * keeps them ({@linkcode Backend.keepsVms}: they stay RUNNING or PAUSED, for a later process), then lets
   * the backend finish.
   */
  async close(): Promise<void> {
    await this.transaction(async () => {
      await this.captures.stopWhere(() => true);
      if (this.#backend.keepsVms !== true && this.#backend.persistent === true) {
        // VMs the backend runs itself (QEMU) end with the process, as captures do
        await this.vms.killWhere((vm) => vm.type === "kvm");
      }
    });
    await this.#backend.close?.();
  }

  /** The lab's state as plain JSON. */
  toJSON(): LabState {
    return toState(this);
  }

  /**
   * Restores a lab from {@linkcode LabModel.toJSON}'s output (or a version 1 state file). Its backend is
   * told nothing: call {@linkcode LabModel.realise} to build the lab in a backend that keeps nothing
   * between processes (the simulator).
   *
   * @throws {StateError} For a state that is not a lab's.
   */
  static fromJSON(state: unknown, options: LabModelOptions): LabModel {
    const model = new LabModel(options);
    fromState(model, state, (vlans) => model.#vlans = model.#newVlans(vlans));
    return model;
  }

  /**
   * Builds the lab's bridges, ports, mirrors, patch links and addresses in its backend, and applies its
   * routers (routes, servers, firewalls) and host-tap DHCP servers again: for a lab restored
   * with {@linkcode LabModel.fromJSON} on a backend that keeps nothing between runs (the simulator).
   */
  async realise(): Promise<void> {
    const b = this.#backend;
    this.bridges.forgetMade();
    for (const name of this.bridges.names()) await this.bridges.make(name);
    const captures = this.captures.plugs();
    const plugs = [...this.vms.plugs(), ...this.taps.plugs(), ...captures.plugs, ...this.bridges.plugs()];
    for (const [bridge, items] of Map.groupBy(plugs, (p) => p.bridge)) {
      await b.addPorts(bridge, items.map((p) => p.spec));
      for (const p of items) {
        for (const cidr of p.addresses ?? []) await b.addAddress(bridge, p.spec.name, cidr);
      }
      for (const p of items) {
        this.ports.place(p.spec.name, this.ports.get(p.spec.name)!.owner, bridge, p.spec);
      }
    }
    for (const link of this.bridges.patches()) {
      await b.addPatch(link.a.bridge, link.a.port, link.b.bridge, link.b.port);
    }
    for (const mirror of this.mirrors.list()) await b.addMirror(mirror.bridge, mirrorSpec(mirror));
    for (const [bridge, mirror] of captures.mirrors) await b.addMirror(bridge, mirror);
    // what the lab's NICs and taps hold: a DHCP server started again takes it as its leases
    const held = [
      ...this.vms.list().flatMap((vm) => vm.nics),
      ...this.taps.list(),
    ].flatMap((nic) => nic.ips.map((cidr) => ({ mac: nic.mac, ip: cidr.split("/")[0]! })));
    await this.routers.realise(held);
    await this.dnsmasq.realise(held);
    for (const warning of await this.nat.realise()) this.#warn(warning);
  }

  /**
   * Checks that a configured MAC can be a NIC's: 6 octets (minimega accepts the 8- and 20-octet forms here
   * and fails later, in QEMU; labwire says so at once). A multicast MAC is allowed, as in minimega, whose
   * own tests use `13:37:...` MACs, but warned about: switches do not learn it.
   */
  #checkNicMac(mac: string): void {
    const octets = parseMac(mac);
    if (octets.length !== 6) {
      throw new LabError(
        "invalid-mac",
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

/**
 * A lower layer's error as a {@linkcode LabError}: the same message, a code, the original as `cause`.
 * A {@linkcode LabError} is returned as it is.
 */
export function asLabError(error: unknown): LabError {
  if (error instanceof LabError) return error;
  if (!(error instanceof Error)) {
    return new LabError("backend-failed", `internal error: ${String(error)}`, { cause: error });
  }
  const cause = { cause: error };
  if (error instanceof NetspecError) return new LabError("invalid-netspec", error.message, cause);
  if (error instanceof MacError) return new LabError("invalid-mac", error.message, cause);
  if (error instanceof NameListError) return new VmError("invalid-name", error.message, cause);
  if (error.message === "out of VLANs") return new VlanError("out-of-vlans", { namespace: "" }, cause);
  if (error.message.startsWith("invalid VLAN")) {
    return new VlanError("invalid-vlan", { namespace: "", message: error.message }, cause);
  }
  if (error.message === "VLAN must be non-empty string") {
    return new LabError("invalid-argument", error.message, cause);
  }
  if (error instanceof RangeError || error instanceof TypeError || error instanceof SyntaxError) {
    return new LabError("invalid-argument", error.message, cause);
  }
  return new LabError("backend-failed", error.message, cause);
}
