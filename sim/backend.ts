/**
 * The simulator as a labwire {@linkcode Backend}: the lab model's bridges, ports and mirrors become
 * {@linkcode SimNetwork} bridges, VM NICs and host taps become {@linkcode SimHost}s that answer ARP and
 * ping (and are silent while their VM does not run), and captures keep what a port sees, in a pcap file
 * or in memory. Deterministic: everything runs on the network's virtual clock.
 *
 * A VM is one node ({@linkcode SimStack}): its NICs are the interfaces of one IPv4 stack, as on Open
 * vSwitch a container VM is one network namespace holding all its NICs, with one routing table; a host tap
 * is a node of its own. The backend implements {@linkcode RoutingBackend}: forwarding, static routes and
 * the default gateway of a VM, kept per VM id and applied to its node whenever it exists.
 *
 * Beyond the contract, for tests of your own code: {@linkcode SimBackend.send} puts any frame on the wire
 * from a port and says where it went and why it stopped, and {@linkcode SimBackend.attach} puts your own
 * endpoint behind a VM NIC or host tap in place of the lab's host.
 *
 * @module
 */

import type { MirrorSpec, PortSpec, RemovePortsOptions } from "../lib/backend/bridges.ts";
import type { Backend } from "../lib/backend/backend.ts";
import type { CaptureContents, CaptureSpec, RawFrame } from "../lib/backend/captures.ts";
import {
  type DhcpResult,
  PING_INTERVAL_MS,
  PING_WAIT_MS,
  type PingReport,
} from "../lib/backend/endpoints.ts";
import type { RoutedVm, Routing, RoutingBackend, StaticRoute } from "../lib/backend/routing.ts";
import type { VmSpec } from "../lib/backend/vms.ts";
import { LabError } from "../lib/errors.ts";
import { isMulticastMac } from "../lib/mac.ts";
import { compileFilter } from "../lib/wire/bpf.ts";
import type { PcapWriter } from "../lib/wire/pcap.ts";
import { openPcapFile, readPcapFile } from "../lib/wire/pcap_file.ts";
import { SimHost } from "./host.ts";
import { type SimForwarded, SimStack, type SimVerdict } from "./stack.ts";
import { fwFilters, fwVerdict, type RouterFw } from "../lib/lab/router_config.ts";
import { ipv4FromString, ipv4ToString } from "../lib/wire/frame.ts";
import type { Services, TapServices } from "../lib/backend/services.ts";
import type { UplinkBackend, UplinkSpec } from "../lib/backend/uplink.ts";
import { DhcpClient } from "./dhcp_client.ts";
import { DhcpServer } from "./dhcp_server.ts";
import { DnsServer } from "./dns_server.ts";
import {
  DROP_REASONS,
  type DropReason,
  type FrameDirection,
  type PortObserver,
  type SimBridge,
} from "./bridge.ts";
import { SimNetwork } from "./network.ts";
import type { FrameSink } from "./types.ts";

/**
 * An uplink of the simulated host (the device a way out masquerades through, as `eth0` is on a real
 * host) and the outside network behind it: hosts on one subnet that answer ARP and ping.
 */
export interface SimUplinkOptions {
  /** The host's address on the outside, with its subnet: `198.51.100.1/24`. */
  readonly address: string;
  /** The hosts outside, each an address in that subnet with its prefix: `198.51.100.7/24`. @default {[]} */
  readonly hosts?: readonly string[];
}

/** An uplink of the simulated host, as {@linkcode SimBackend.uplink} shows it. */
export interface SimUplink {
  /** Its name (`eth0`). */
  readonly name: string;
  /** The host's address on the outside. */
  readonly address: string;
  /** The hosts outside, in the order given. */
  readonly hosts: readonly SimHost[];
  /** The frames on the outside network so far (the newest 10,000), oldest first. */
  frames(): Uint8Array[];
}

/** Options for {@linkcode SimBackend}. */
export interface SimBackendOptions {
  /** The network to build in. @default {new SimNetwork()} */
  network?: SimNetwork;
  /**
   * The simulated host's uplinks, by name: what a way out (`nat <vlan> <gateway> <uplink>`) can go
   * through. @default {{}} (none: every way out is refused)
   */
  uplinks?: Readonly<Record<string, SimUplinkOptions>>;
  /** Opens a capture's pcap file. @default {openPcapFile} */
  openPcap?: (path: string, snaplen: number) => PcapWriter;
  /** Receives warnings, e.g. a loop in the lab. @default {() => {}} */
  onWarning?: (message: string) => void;
}

/** A frame a port transmitted while {@linkcode SimBackend.send} ran. */
export interface TraceDelivery {
  /** The bridge. */
  readonly bridge: string;
  /** The port that transmitted it. */
  readonly port: string;
  /** What is behind the port: `host` (the lab's endpoint), `custom` (yours), `device` (a trunk, capture or the bridge's local port), `patch`. */
  readonly to: "host" | "custom" | "device" | "patch";
  /** The bytes as the port transmitted them (tagged on a trunk, untagged on an access port). */
  readonly frame: Uint8Array;
}

/** A port that dropped the frame while {@linkcode SimBackend.send} ran. */
export interface TraceDrop {
  /** The bridge. */
  readonly bridge: string;
  /** The port. */
  readonly port: string;
  /** Why. */
  readonly reason: DropReason;
}

/** Where one frame went: every port that transmitted a copy, and every drop with its reason. */
export interface FrameTrace {
  /** The copies, in the order the ports transmitted them. */
  readonly deliveries: readonly TraceDelivery[];
  /** The drops. */
  readonly drops: readonly TraceDrop[];
}

/** Your own endpoint behind a port ({@linkcode SimBackend.attach}). */
export interface SimEndpoint {
  /**
   * Takes a frame the port transmitted: `frame` is a copy, yours to keep. Do not send from inside this call
   * straight away: schedule it (`clock.after(...)`), as hosts do.
   */
  receive(frame: Uint8Array, timeNs: number): void;
}

/** An endpoint of yours, attached. */
export interface AttachedEndpoint {
  /** The port it is behind. */
  readonly port: string;
  /** Sends a frame into the port now (from a scheduled event or outside any event). */
  send(frame: Uint8Array): FrameTrace;
  /** Gives the port back to the lab's own host (its addresses and ARP cache as they were). */
  detach(): void;
}

/**
 * A capture of a port's frames. It follows its port: while the port is unplugged (a VM NIC disconnected) it
 * waits, and it goes on when a port of that name is plugged into a bridge again, as tcpdump on a kept tap.
 */
interface RunningCapture {
  readonly spec: CaptureSpec;
  readonly writer: PcapWriter | undefined;
  /**
   * Why its file could not be written (a full disk, an I/O error), naming the file: the capture stopped
   * keeping frames there, and the traffic went on.
   */
  failed: string | undefined;
  readonly ring: FrameRing | undefined;
  readonly observer: PortObserver;
  /** The bridge it observes now, and how to stop observing; none while its port is unplugged. */
  watching: { readonly bridge: string; readonly stop: () => void } | undefined;
}

/** Where a NIC's cable is plugged: a bridge and the port's index there, or nowhere. */
interface Cable {
  bridge: SimBridge | undefined;
  port: number;
}

/** What a VM's routing configuration says ({@linkcode RoutingBackend}). */
interface RouterConfig {
  forwarding: boolean;
  routes: readonly StaticRoute[];
  gateway: string | undefined;
  loopbacks: readonly string[];
}

/** An uplink of the simulated host: its node (with the ways out's taps), and the outside. */
interface Uplink {
  readonly name: string;
  readonly address: string;
  /** The host's node for this uplink: the uplink's interface and the taps of the ways out through it. */
  readonly node: SimStack;
  readonly iface: SimHost;
  readonly hosts: readonly SimHost[];
  readonly seen: Uint8Array[];
  /** The ways out through it, by tap: the subnet let out, and the standalone host the tap had before. */
  readonly ways: Map<string, { readonly subnet: string; readonly before: SimNic }>;
}

/** How many frames of an outside network {@linkcode SimBackend.uplink} keeps. */
const OUTSIDE_FRAMES = 10_000;

/** A host behind a VM NIC or host tap, and the bridge its cable is plugged into. */
interface SimNic {
  readonly host: SimHost;
  /** The uplink whose node the host is an interface of (a way out's tap), if any. */
  readonly uplink?: string;
  /** The VM whose node it is an interface of; undefined for a host tap (a node of its own). */
  readonly vm: number | undefined;
  readonly cable: Cable;
  /** Your endpoint in its place, if one is attached. */
  custom: FrameSink | undefined;
}

/** The far end of a capture tap or a trunk: an interface that is up and takes frames silently. */
const DEVICE = { receive(): void {} };

/** The newest frames of a capture without a file: a fixed number of slots, the oldest overwritten. */
class FrameRing {
  readonly #limit: number;
  readonly #slots: RawFrame[] = [];
  #head = 0;
  dropped = 0;

  constructor(limit: number) {
    this.#limit = limit;
  }

  push(frame: RawFrame): void {
    if (this.#slots.length < this.#limit) {
      this.#slots.push(frame);
      return;
    }
    this.#slots[this.#head] = frame;
    this.#head = (this.#head + 1) % this.#limit;
    this.dropped++;
  }

  frames(): RawFrame[] {
    return [...this.#slots.slice(this.#head), ...this.#slots.slice(0, this.#head)];
  }
}

/**
 * Realises a lab in the simulator.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { Lab } from "labwire";
 * await using lab = await Lab.open({ seed: 1 });
 * const ns = lab.namespace();
 * const [a, b] = await ns.launch(["a", "b"], { networks: ["LAN"], start: true });
 * await a!.nic(0).setAddress("10.0.0.1/24");
 * await b!.nic(0).setAddress("10.0.0.2/24");
 * assert.equal((await a!.nic(0).ping("10.0.0.2", { count: 2 })).received, 2);
 * ```
 */
export class SimBackend implements Backend, RoutingBackend, UplinkBackend {
  readonly name = "sim";
  /** The simulated network. */
  readonly network: SimNetwork;
  /** The hosts behind plugged ports, by port name (names are unique in a lab). */
  #nics = new Map<string, SimNic>();
  /** The bridge each plugged host's port is on. */
  #bridgeOf = new Map<string, string>();
  /** NICs kept unplugged (`removePorts(..., { keepNics: true })`), by port name. */
  #kept = new Map<string, SimNic>();
  /** Why a port has no host behind it. */
  #unreachable = new Map<string, string>();
  #captures = new Map<number, RunningCapture>();
  /** Each VM's node, by VM id, while it has NICs. */
  #stacks = new Map<number, SimStack>();
  /** Each VM's routing configuration, by VM id. */
  #routing = new Map<number, RouterConfig>();
  /** Each VM's firewall (a router's `fw`), by VM id, kept for a node made later. */
  #firewalls = new Map<number, RouterFw>();
  /** The NIC index of each VM NIC's interface, by its port's name. */
  #nicIndex = new Map<string, number>();
  /** What each VM serves (a router's DHCP and DNS), by VM id, kept for a node made later. */
  #services = new Map<number, Services>();
  /** The DHCP clients running on each node, by interface. */
  #dhcpClients = new Map<SimStack, Map<string, DhcpClient>>();
  #openPcap: (path: string, snaplen: number) => PcapWriter;
  #warn: (message: string) => void;
  /** The simulated host's uplinks, by name. */
  #uplinks = new Map<string, Uplink>();

  /**
   * Makes a backend over a new (or the given) network.
   *
   * @throws {RangeError} For an uplink whose address or hosts are not `a.b.c.d/n` on one subnet.
   */
  constructor(options: SimBackendOptions = {}) {
    this.network = options.network ?? new SimNetwork();
    this.#openPcap = options.openPcap ?? ((path, snaplen) => openPcapFile(path, { snaplen }));
    this.#warn = options.onWarning ?? (() => {});
    for (const [name, uplink] of Object.entries(options.uplinks ?? {})) this.#addUplink(name, uplink);
  }

  /** The uplink of that name (and what is outside it), or undefined. */
  uplink(name: string): SimUplink | undefined {
    const u = this.#uplinks.get(name);
    if (u === undefined) return undefined;
    return { name: u.name, address: u.address, hosts: u.hosts, frames: () => u.seen.map((f) => f.slice()) };
  }

  #addUplink(name: string, options: SimUplinkOptions): void {
    const clock = this.network.clock;
    const node = new SimStack({ scheduler: clock, name: "host" });
    const members: SimHost[] = [];
    const seen: Uint8Array[] = [];
    const wire = (self: () => SimHost) => (buf: Uint8Array, off: number, len: number): void => {
      if (seen.length >= OUTSIDE_FRAMES) seen.shift();
      seen.push(buf.slice(off, off + len));
      for (const m of members) if (m !== self()) m.receive(buf, off, len);
    };
    const macOf = (i: number) =>
      `02:00:5e:00:${(this.#uplinks.size + 1).toString(16).padStart(2, "0")}:${
        i.toString(16).padStart(2, "0")
      }`;
    const iface: SimHost = node.addInterface({ mac: macOf(0), name, transmit: wire(() => iface) });
    iface.addAddress(options.address);
    members.push(iface);
    checkSimUplink(name, options);
    const hosts = (options.hosts ?? []).map((cidr, i) => {
      const host: SimHost = new SimHost({
        mac: macOf(i + 1),
        name: `${name}-${i}`,
        scheduler: clock,
        transmit: wire(() => host),
      });
      host.addAddress(cidr);
      members.push(host);
      return host;
    });
    this.#uplinks.set(name, { name, address: options.address, node, iface, hosts, seen, ways: new Map() });
  }

  // ---- bridges and ports -----------------------------------------------------------------------

  /**
   * Creates a bridge unless it exists, with its local port as Open vSwitch makes one: a port named after
   * the bridge, an untagged trunk, whose device is down. Floods of every VLAN reach it, so a select-all
   * mirror (a bridge capture) sees them go out there, even a frame that came over a patch link and goes
   * nowhere else on the bridge.
   */
  addBridge(bridge: string): Promise<void> {
    if (!this.network.hasBridge(bridge)) {
      this.network.addBridge(bridge).addPort(bridge, { kind: "trunk" });
      this.network.bridge(bridge).attach(bridge, DEVICE);
    }
    return Promise.resolve();
  }

  /** Removes a bridge with its hosts, and stops its captures. */
  async removeBridge(bridge: string): Promise<void> {
    if (!this.network.hasBridge(bridge)) return;
    for (const [id, capture] of this.#captures) {
      if (capture.watching?.bridge === bridge) await this.stopCapture(id);
    }
    for (const [port, on] of [...this.#bridgeOf]) {
      if (on !== bridge) continue;
      this.#bridgeOf.delete(port);
      const nic = this.#nics.get(port);
      this.#nics.delete(port);
      if (nic !== undefined) this.#forget(nic);
    }
    this.network.removeBridge(bridge);
  }

  /** Adds ports; a VM NIC or a host tap gets a host behind it (paused when its VM does not run). */
  async addPorts(bridge: string, ports: readonly PortSpec[]): Promise<void> {
    await this.addBridge(bridge);
    const added: string[] = [];
    try {
      for (const port of ports) {
        this.#addPort(bridge, port);
        added.push(port.name);
      }
    } catch (error) {
      await this.removePorts(bridge, added);
      throw error;
    }
  }

  #addPort(bridge: string, port: PortSpec): void {
    const b = this.network.bridge(bridge);
    b.addPort(port.name, port.mode);
    for (const capture of this.#captures.values()) {
      if (capture.spec.port === port.name && capture.watching === undefined) {
        capture.watching = { bridge, stop: b.observe(port.name, capture.observer) };
      }
    }
    if (port.role === "patch") return; // its link comes with addPatch()
    if (port.role === "capture" || port.role === "trunk" || port.role === "tunnel") {
      // a device that is up but answers nothing: what the port transmits can be captured there
      b.attach(port.name, DEVICE);
      return;
    }
    if ((port.role === "vm" || port.role === "host") && port.mac !== undefined) {
      if (isMulticastMac(port.mac)) {
        // minimega accepts such a MAC (its tests use 13:37:...); no host can answer from it
        this.#unreachable.set(port.name, `its MAC ${port.mac} is a multicast address`);
        return;
      }
      // a NIC kept unplugged comes back with its addresses and ARP cache
      const kept = this.#kept.get(port.name);
      this.#kept.delete(port.name);
      const nic = kept ?? this.#newNic(port.name, port.mac, port.vm);
      if (port.vm !== undefined) nic.host.paused = !port.vm.running;
      nic.cable.bridge = b;
      nic.cable.port = b.portIndex(port.name);
      b.attach(port.name, nic.custom ?? nic.host);
      this.#nics.set(port.name, nic);
      this.#bridgeOf.set(port.name, bridge);
    }
  }

  /**
   * A host behind a NIC, sending through whichever bridge its cable is plugged into (none: frames lost):
   * an interface of its VM's node, or (a host tap) a node of its own.
   */
  #newNic(name: string, mac: string, vm: PortSpec["vm"]): SimNic {
    const cable: Cable = { bridge: undefined, port: -1 };
    const transmit = (buf: Uint8Array, off: number, len: number): void => {
      const bridge = cable.bridge;
      if (bridge !== undefined) bridge.transmitFrom(cable.port, buf, off, len);
    };
    if (vm === undefined) {
      const host = new SimHost({ mac, name, scheduler: this.network.clock, transmit });
      return { host, vm: undefined, cable, custom: undefined };
    }
    let stack = this.#stacks.get(vm.id);
    if (stack === undefined) {
      stack = new SimStack({ scheduler: this.network.clock, name: vm.name });
      this.#stacks.set(vm.id, stack);
      const config = this.#routing.get(vm.id);
      if (config !== undefined) applyRouting(stack, config);
      const fw = this.#firewalls.get(vm.id);
      if (fw !== undefined) stack.firewall = this.#filter(fw);
      const services = this.#services.get(vm.id);
      if (services !== undefined) this.#serve(stack, services);
    }
    this.#nicIndex.set(name, vm.nic);
    return { host: stack.addInterface({ mac, name, transmit }), vm: vm.id, cable, custom: undefined };
  }

  /** Forgets a NIC for good: its interface leaves its VM's node, and a node left without any goes. */
  #forget(nic: SimNic): void {
    if (nic.uplink !== undefined) {
      const u = this.#uplinks.get(nic.uplink)!;
      u.ways.delete(nic.host.name); // the tap's name
      u.node.removeInterface(nic.host);
      this.#applyWays(u);
      return;
    }
    if (nic.vm === undefined) return;
    const stack = nic.host.stack;
    stack.removeInterface(nic.host);
    if (stack.interfaces().length === 0 && this.#stacks.get(nic.vm) === stack) this.#stacks.delete(nic.vm);
  }

  /** Removes ports and their hosts; with `keepNics`, the hosts stay, unplugged, for a later `addPorts`. */
  removePorts(bridge: string, ports: readonly string[], options: RemovePortsOptions = {}): Promise<void> {
    for (const port of ports) {
      if (this.network.hasBridge(bridge)) {
        const b = this.network.bridge(bridge);
        if (b.ports().some((p) => p.name === port && p.patch !== undefined)) {
          this.network.unpatch(bridge, port);
        }
        if (b.ports().some((p) => p.name === port)) b.removePort(port);
      }
      for (const capture of this.#captures.values()) {
        if (capture.spec.port !== port || capture.watching?.bridge !== bridge) continue;
        capture.watching.stop();
        capture.watching = undefined;
      }
      const nic = this.#bridgeOf.get(port) === bridge ? this.#nics.get(port) : undefined;
      if (nic !== undefined) {
        this.#nics.delete(port);
        this.#bridgeOf.delete(port);
        nic.cable.bridge = undefined;
        nic.cable.port = -1;
        if (options.keepNics === true) this.#kept.set(port, nic);
        else this.#forget(nic);
      }
      this.#unreachable.delete(port);
    }
    return Promise.resolve();
  }

  /** Forgets hosts kept unplugged. */
  destroyNics(nics: readonly PortSpec[]): Promise<void> {
    for (const spec of nics) {
      const nic = this.#kept.get(spec.name);
      this.#kept.delete(spec.name);
      if (nic !== undefined) this.#forget(nic);
    }
    return Promise.resolve();
  }

  /** Joins two patch ports. */
  addPatch(bridgeA: string, portA: string, bridgeB: string, portB: string): Promise<void> {
    this.network.patch(bridgeA, portA, bridgeB, portB);
    return Promise.resolve();
  }

  /** Adds a mirror. */
  addMirror(bridge: string, mirror: MirrorSpec): Promise<void> {
    this.network.bridge(bridge).addMirror(mirror.name, {
      selectAll: mirror.selectAll,
      selectSrc: mirror.selectSrc,
      selectDst: mirror.selectDst,
      output: mirror.output,
    });
    return Promise.resolve();
  }

  /** Removes a mirror. */
  removeMirror(bridge: string, mirror: string): Promise<void> {
    if (this.network.hasBridge(bridge)) {
      const b = this.network.bridge(bridge);
      if (b.mirrors().some((m) => m.name === mirror)) b.removeMirror(mirror);
    }
    return Promise.resolve();
  }

  // ---- endpoints -------------------------------------------------------------------------------

  /** Gives the host behind a port an address (one it has already is no error; your own endpoint keeps its own). */
  addAddress(_bridge: string, port: string, cidr: string): Promise<void> {
    const nic = this.#nic(port);
    if (nic.custom === undefined && !nic.host.addresses().includes(cidr)) nic.host.addAddress(cidr);
    return Promise.resolve();
  }

  /** Takes an address from the host behind a port (one it does not have is no error). */
  removeAddress(_bridge: string, port: string, cidr: string): Promise<void> {
    const nic = this.#nics.get(port) ?? this.#kept.get(port);
    if (nic !== undefined && nic.host.addresses().includes(cidr)) nic.host.removeAddress(cidr);
    return Promise.resolve();
  }

  /**
   * Gets the endpoint behind a port an address by DHCP, as labwire's dhclient does on Open vSwitch
   * (sim/dhcp_client.ts: its messages, its backoff, 10 s at most), on the virtual clock, and gives it the
   * address.
   *
   * @throws {Error} `Cannot get an address by DHCP for X: no answer from a DHCP server in 10 s`, and the
   * like (what the client says).
   */
  dhcp(_bridge: string, port: string): Promise<DhcpResult> {
    const nic = this.#nic(port);
    const host = nic.host;
    const stack = host.stack;
    let outcome: DhcpResult | { error: Error } | undefined;
    const client = new DhcpClient({
      mac: host.mac,
      name: port,
      scheduler: this.network.clock,
      send: (d) => stack.sendUdp(port, d),
      onBound: (lease) =>
        outcome = { address: lease.address, ...(lease.router === undefined ? {} : { router: lease.router }) },
      onFailed: (error) => outcome = { error },
    });
    // a node's DHCP clients share its port 68: each takes what comes in through its interface
    const clients = this.#dhcpClients.get(stack) ?? new Map<string, DhcpClient>();
    if (clients.size === 0) {
      stack.bindUdp(68, (d) => clients.get(d.iface)?.receive(d.payload), { raw: true });
      this.#dhcpClients.set(stack, clients);
    }
    clients.set(port, client);
    try {
      client.start();
      const clock = this.network.clock;
      if (!clock.runUntil(() => outcome !== undefined, clock.now() + 60_000_000_000)) {
        throw new Error(`Cannot get an address by DHCP for ${port}: the client never finished`);
      }
    } finally {
      client.stop();
      clients.delete(port);
      if (clients.size === 0) {
        stack.unbindUdp(68);
        this.#dhcpClients.delete(stack);
      }
    }
    if ("error" in outcome!) return Promise.reject(outcome.error);
    if (!host.addresses().includes(outcome!.address)) host.addAddress(outcome!.address);
    return Promise.resolve(outcome!);
  }

  /**
   * Makes what a VM serves exactly `services` ({@linkcode ServicesBackend.setServices}): on its node, a
   * DHCP server per subnet on UDP port 67 (sim/dhcp_server.ts: dnsmasq's choices) and a DNS responder on
   * port 53 (sim/dns_server.ts) answering the records, as dnsmasq with `no-resolv` does (an upstream is
   * not asked: the simulator has no outside).
   */
  setServices(vm: VmSpec, services: Services): Promise<void> {
    this.#services.set(vm.id, services);
    const stack = this.#stacks.get(vm.id);
    if (stack !== undefined) this.#serve(stack, services);
    return Promise.resolve();
  }

  /**
   * Makes what the host serves on a host tap exactly `services` (`dnsmasq start`,
   * {@linkcode ServicesBackend.setTapServices}), on the tap's node; the options the simulator knows are
   * the router and the DNS server (`option:router,IP`, `option:dns-server,IP`, or 3 and 6).
   *
   * @throws {LabError} For a configuration file or another option (`unsupported`: the simulator is no
   * dnsmasq).
   */
  setTapServices(
    _bridge: string,
    tap: string,
    services: TapServices,
  ): Promise<{ path: string; pid: number }> {
    if (services.configFile !== "") {
      return Promise.reject(
        new LabError(
          "unsupported",
          "Cannot start dnsmasq from a configuration file on the simulator: use --backend ovs",
        ),
      );
    }
    let router = "";
    let dns = "";
    for (const option of services.options) {
      const m = /^(?:option:)?(router|dns-server|3|6),(\d{1,3}(?:\.\d{1,3}){3})$/.exec(option);
      if (m === null) {
        return Promise.reject(
          new LabError(
            "unsupported",
            `Cannot use dnsmasq option '${option}' on the simulator: it knows router and dns-server`,
          ),
        );
      }
      if (m[1] === "router" || m[1] === "3") router = m[2]!;
      else dns = m[2]!;
    }
    const stack = this.#nic(tap).host.stack;
    const dhcp = services.dhcp.map((d) => ({ ...d, router: d.router || router, dns: d.dns || dns }));
    this.#serve(stack, { ...services, dhcp }, () => 0);
    return Promise.resolve({ path: "", pid: -1 });
  }

  /** Binds (or unbinds) a node's DHCP and DNS ports for `services`; `nicOf` names the NIC of an interface. */
  #serve(
    stack: SimStack,
    services: Services,
    nicOf: (iface: string) => number | undefined = (iface) => this.#nicIndex.get(iface),
  ): void {
    stack.unbindUdp(67);
    stack.unbindUdp(53);
    const clock = this.network.clock;
    const servers = services.dhcp.map((plan) => ({
      nic: plan.nic,
      server: new DhcpServer({
        clock,
        serverIp: plan.serverIp,
        subnet: plan.subnet,
        ...(plan.range === undefined ? {} : { range: { start: plan.range.low, end: plan.range.high } }),
        // unset, dnsmasq sends its own address as the router and the DNS server (it serves DNS too)
        router: plan.router === "" ? plan.serverIp : plan.router,
        dns: [plan.dns === "" ? plan.serverIp : plan.dns],
        statics: plan.statics,
        // a server started again (a state file's later process): what the lab's NICs hold, its leases
        leases: Object.fromEntries((services.held ?? []).map((h) => [h.mac, h.ip])),
      }),
    }));
    if (servers.length > 0) {
      stack.bindUdp(67, (d) => {
        const nic = nicOf(d.iface);
        const server = servers.find((s) => s.nic === nic)?.server;
        for (const reply of server?.receive(d.payload, { mac: d.srcMac, ip: d.srcIp }) ?? []) {
          // dnsmasq enters a client it answers by unicast in the ARP table (it cannot answer ARP yet)
          if (reply.dstMac !== "ff:ff:ff:ff:ff:ff") stack.learnNeighbour(d.iface, reply.dstIp, reply.dstMac);
          stack.sendUdp(d.iface, reply);
        }
      });
    }
    if (services.dhcp.length > 0 || services.dns.length > 0) {
      const dns = new DnsServer({ records: Object.fromEntries(services.dns.map((r) => [r.host, r.ips])) });
      stack.bindUdp(53, (d) => {
        const answer = dns.answer(d.payload);
        if (answer === undefined) return;
        stack.sendUdp(d.iface, {
          dstMac: d.srcMac,
          srcIp: d.dstIp,
          dstIp: d.srcIp,
          srcPort: 53,
          dstPort: d.srcPort,
          payload: answer.payload,
        });
      });
    }
  }

  /**
   * Pings from the host behind a port as labwire's `ping` does on every backend: `count` echo requests
   * {@linkcode PING_INTERVAL_MS} apart, waiting {@linkcode PING_WAIT_MS} after the last when nothing has
   * answered (see {@linkcode SimHost.ping}), running virtual time until the run ends. A ping nothing
   * answered leaves no neighbour entry behind.
   */
  ping(bridge: string, port: string, ip: string, count: number): Promise<PingReport> {
    const nic = this.#nic(port);
    if (nic.custom !== undefined) {
      throw new LabError(
        "custom-endpoint",
        `Cannot ping from ${port}: your own endpoint is attached there; send frames with it instead`,
      );
    }
    const intervalNs = PING_INTERVAL_MS * 1_000_000;
    const waitNs = PING_WAIT_MS * 1_000_000;
    const run = nic.host.ping(ip, { count, intervalNs, waitNs });
    const empty = { sent: 0, received: 0, errors: 0, rttMs: [] };
    if (run.networkUnreachable) return Promise.resolve({ ...empty, networkUnreachable: true });
    const clock = this.network.clock;
    const loops = this.network.loopDrops;
    // A run ends by itself at the latest when its linger after the last request runs out: the wait, or
    // twice a round trip measured before the last request (so shorter than the run so far). Beyond this
    // bound something is wrong in the simulator.
    const lastNs = (count - 1) * intervalNs;
    const limitNs = clock.now() + 3 * lastNs + intervalNs + waitNs + 1_000_000_000;
    if (!clock.runUntil(() => run.done, limitNs)) {
      throw new Error(`Cannot finish ping from ${bridge}/${port} to ${ip}: still running at ${limitNs} ns`);
    }
    const dropped = this.network.loopDrops - loops;
    if (dropped > 0) this.#warn(`${this.network.lastLoop} (${dropped} frames dropped by the loop guard)`);
    return Promise.resolve({
      sent: run.sent,
      received: run.received,
      errors: run.errors,
      rttMs: run.rttNs.map((ns) => ns / 1e6),
      networkUnreachable: false,
    });
  }

  #nic(port: string): SimNic {
    const nic = this.#nics.get(port);
    if (nic === undefined) {
      const why = this.#unreachable.get(port) ?? "nothing is plugged in";
      throw new Error(`Cannot reach the endpoint behind ${port}: ${why}`);
    }
    return nic;
  }

  // ---- VMs -------------------------------------------------------------------------------------

  #setPaused(vms: readonly VmSpec[], paused: boolean): Promise<void> {
    for (const vm of vms) {
      for (const { tap } of vm.nics) {
        const nic = this.#nics.get(tap) ?? this.#kept.get(tap);
        if (nic !== undefined) nic.host.paused = paused;
      }
    }
    return Promise.resolve();
  }

  /** Launches VMs: their hosts are there already, paused. */
  launchVms(vms: readonly VmSpec[]): Promise<void> {
    return this.#setPaused(vms, true);
  }

  /** Runs VMs: their hosts answer. */
  startVms(vms: readonly VmSpec[]): Promise<void> {
    return this.#setPaused(vms, false);
  }

  /** Pauses VMs: their hosts neither answer nor send. */
  stopVms(vms: readonly VmSpec[]): Promise<void> {
    return this.#setPaused(vms, true);
  }

  /** Ends VMs: their hosts are silent (a KVM VM's taps stay on their bridges). */
  killVms(vms: readonly VmSpec[]): Promise<void> {
    return this.#setPaused(vms, true);
  }

  /** Adds NICs to a running VM: their hosts came with their ports. */
  hotplugNics(): Promise<void> {
    return Promise.resolve();
  }

  // ---- the way out -----------------------------------------------------------------------------

  /**
   * Opens a way out ({@linkcode UplinkBackend.openUplink}) as Open vSwitch's does on a real host: the tap
   * becomes an interface of the host's node for that uplink (its MAC and addresses kept, answering ARP for
   * its own addresses only), which forwards between the tap and the uplink only, answers back, and
   * masquerades the subnet as the uplink's address.
   *
   * @throws {Error} `Cannot open a way out through X: the simulator has no uplink X ...`.
   */
  openUplink(spec: UplinkSpec): Promise<void> {
    const u = this.#uplinks.get(spec.uplink);
    if (u === undefined) {
      const known = [...this.#uplinks.keys()];
      return Promise.reject(
        new Error(
          `Cannot open a way out through ${spec.uplink}: the simulator has no uplink ${spec.uplink} (${
            known.length === 0 ? "it has none" : `it has ${known.join(", ")}`
          }; give one with SimBackend's uplinks, or --sim-uplink ${spec.uplink}=ADDRESS/PREFIX[,HOST/PREFIX...])`,
        ),
      );
    }
    const before = this.#nic(spec.tap);
    const cable = before.cable;
    const host = u.node.addInterface({
      mac: before.host.mac,
      name: spec.tap,
      arpOwnOnly: true,
      transmit: (buf, off, len) => {
        if (cable.bridge !== undefined) cable.bridge.transmitFrom(cable.port, buf, off, len);
      },
    });
    for (const cidr of before.host.addresses()) host.addAddress(cidr);
    const nic: SimNic = { host, uplink: u.name, vm: undefined, cable, custom: before.custom };
    this.#nics.set(spec.tap, nic);
    cable.bridge?.detach(spec.tap);
    cable.bridge?.attach(spec.tap, nic.custom ?? host);
    u.ways.set(spec.tap, { subnet: spec.subnet, before });
    this.#applyWays(u);
    return Promise.resolve();
  }

  /** Closes a way out: the tap is a host of its own again, and the host's node forgets its connections. */
  closeUplink(spec: UplinkSpec): Promise<void> {
    const u = this.#uplinks.get(spec.uplink);
    const way = u?.ways.get(spec.tap);
    if (u === undefined || way === undefined) return Promise.resolve();
    const nic = this.#nics.get(spec.tap);
    u.ways.delete(spec.tap);
    if (nic !== undefined && nic.uplink === u.name) {
      const host = way.before.host;
      for (const cidr of host.addresses()) if (!nic.host.addresses().includes(cidr)) host.removeAddress(cidr);
      for (const cidr of nic.host.addresses()) if (!host.addresses().includes(cidr)) host.addAddress(cidr);
      u.node.removeInterface(nic.host);
      const back: SimNic = { ...way.before, custom: nic.custom };
      this.#nics.set(spec.tap, back);
      nic.cable.bridge?.detach(spec.tap);
      nic.cable.bridge?.attach(spec.tap, back.custom ?? host);
    }
    this.#applyWays(u);
    return Promise.resolve();
  }

  /** The host's node of an uplink as its ways out make it: forwarding, masquerading, the forward filter. */
  #applyWays(u: Uplink): void {
    const ways = [...u.ways];
    u.node.forwarding = ways.length > 0;
    u.node.setMasquerade(ways.map(([, way]) => ({ out: u.name, source: way.subnet })));
    if (ways.length === 0) u.node.forgetConnections();
    const from = new Map(ways.map(([tap, way]) => [tap, way.subnet]));
    // labwire's nftables forward chain on a real host: out from a tap's subnet, answers back, nothing else
    u.node.firewall = (p) => {
      const subnet = from.get(p.in);
      if (subnet !== undefined && p.out === u.name && inSubnet(p.src, subnet)) return "accept";
      return from.has(p.in) || from.has(p.out) ? "drop" : "accept";
    };
  }

  // ---- routing ---------------------------------------------------------------------------------

  #config(vm: RoutedVm): RouterConfig {
    let config = this.#routing.get(vm.id);
    if (config === undefined) {
      config = { forwarding: false, routes: [], gateway: undefined, loopbacks: [] };
      this.#routing.set(vm.id, config);
    }
    return config;
  }

  /**
   * Makes a VM's forwarding and routes exactly `routing` ({@linkcode RoutingBackend.setRouting}): all of
   * it is checked first, so a refused call changes nothing.
   */
  async setRouting(vm: RoutedVm, routing: Routing): Promise<void> {
    const check = new SimStack({ scheduler: this.network.clock, name: vm.name });
    check.setRoutes(routing.routes);
    check.setDefaultGateway(routing.gateway === "" ? undefined : routing.gateway);
    await this.setForwarding(vm, routing.forwarding);
    await this.setRoutes(vm, routing.routes);
    await this.setDefaultGateway(vm, routing.gateway === "" ? undefined : routing.gateway);
    this.#config(vm).loopbacks = [...routing.loopbacks];
    this.#stacks.get(vm.id)?.setLoopbacks(routing.loopbacks);
  }

  /**
   * Makes a VM's firewall exactly `fw` ({@linkcode FirewallBackend.setFirewall}): its node asks
   * {@linkcode fwVerdict} about each packet it forwards that belongs to no connection let through before.
   */
  setFirewall(vm: VmSpec, fw: RouterFw): Promise<void> {
    const open = !fwFilters(fw);
    if (open) this.#firewalls.delete(vm.id);
    else this.#firewalls.set(vm.id, fw);
    const stack = this.#stacks.get(vm.id);
    if (stack !== undefined) {
      stack.forgetConnections();
      stack.firewall = open ? undefined : this.#filter(fw);
    }
    return Promise.resolve();
  }

  /** The node's firewall function for `fw`: NIC indexes by interface, protocols by name. */
  #filter(fw: RouterFw): (packet: SimForwarded) => SimVerdict {
    const names: Readonly<Record<number, string>> = { 1: "icmp", 6: "tcp", 17: "udp" };
    return (p) => {
      const ports = p.proto === 6 || p.proto === 17;
      return fwVerdict(fw, {
        inNic: this.#nicIndex.get(p.in) ?? -1,
        outNic: this.#nicIndex.get(p.out) ?? -1,
        src: ipv4ToString(p.src),
        dst: ipv4ToString(p.dst),
        proto: names[p.proto] ?? String(p.proto),
        srcPort: ports ? p.srcPort : 0,
        dstPort: ports ? p.dstPort : 0,
      });
    };
  }

  /** Turns forwarding between the VM's NICs on or off (a part of {@linkcode SimBackend.setRouting}). */
  setForwarding(vm: RoutedVm, on: boolean): Promise<void> {
    this.#config(vm).forwarding = on;
    const stack = this.#stacks.get(vm.id);
    if (stack !== undefined) stack.forwarding = on;
    return Promise.resolve();
  }

  /**
   * Replaces the VM's static routes (a part of {@linkcode SimBackend.setRouting}); they are checked even
   * while the VM has no NICs.
   */
  setRoutes(vm: RoutedVm, routes: readonly StaticRoute[]): Promise<void> {
    try {
      new SimStack({ scheduler: this.network.clock, name: vm.name }).setRoutes(routes); // checks them
      const copy = routes.map((r) => ({ network: r.network, via: r.via }));
      this.#stacks.get(vm.id)?.setRoutes(copy);
      this.#config(vm).routes = copy;
      return Promise.resolve();
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Sets or removes the VM's default gateway (a part of {@linkcode SimBackend.setRouting}). */
  setDefaultGateway(vm: RoutedVm, gateway: string | undefined): Promise<void> {
    try {
      new SimStack({ scheduler: this.network.clock, name: vm.name }).setDefaultGateway(gateway); // checks it
      this.#stacks.get(vm.id)?.setDefaultGateway(gateway);
      this.#config(vm).gateway = gateway;
      return Promise.resolve();
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** A VM's node (all its NICs' interfaces, its routes), while it has NICs; by VM id. */
  stack(vmId: number): SimStack | undefined {
    return this.#stacks.get(vmId);
  }

  // ---- captures --------------------------------------------------------------------------------

  /**
   * Starts keeping what a port sees (both ways), through the capture's filter: in a pcap file, or in a
   * ring of the newest `limit` frames.
   */
  startCapture(spec: CaptureSpec): Promise<void> {
    const filter = compileFilter(spec.filter);
    const bridge = this.network.bridge(spec.bridge);
    const writer = spec.path === undefined ? undefined : this.#openPcap(spec.path, spec.snaplen);
    const ring = spec.path === undefined ? new FrameRing(spec.limit) : undefined;
    const clock = this.network.clock;
    const snaplen = spec.snaplen;
    const observer: PortObserver = writer !== undefined
      ? (_direction, buf, off, len) => {
        if (capture.failed !== undefined || !filter(buf, off, len)) return;
        try {
          writer.write(buf, off, len, clock.now());
        } catch (error) {
          this.#fail(capture, error); // the capture fails, not the frame's journey
        }
      }
      : (direction: FrameDirection, buf, off, len) => {
        if (!filter(buf, off, len)) return;
        const incl = len < snaplen ? len : snaplen;
        ring!.push({ timeNs: clock.now(), direction, data: buf.slice(off, off + incl), origLen: len });
      };
    const capture: RunningCapture = { spec, writer, ring, failed: undefined, observer, watching: undefined };
    capture.watching = { bridge: spec.bridge, stop: bridge.observe(spec.port, observer) };
    this.#captures.set(spec.id, capture);
    return Promise.resolve();
  }

  /** Marks a file capture failed by `error`, warns once, and lets its file go. */
  #fail(capture: RunningCapture, error: unknown): void {
    if (capture.failed !== undefined) return;
    const code = (error as { code?: string }).code;
    const why = code === "ENOSPC" ? "no space left on device" : (error as Error).message;
    capture.failed = `Cannot write capture file '${capture.spec.path}': ${why}`;
    this.#warn(`${capture.failed}; the capture keeps no more frames (the traffic goes on)`);
    try {
      capture.writer?.close(); // the rest of the chunk cannot be written either
    } catch {
      // the file descriptor is closed all the same
    }
  }

  /**
   * Writes a file capture's buffered frames to its file.
   *
   * @throws {Error} `Cannot write capture file 'PATH': ...` when its file could not be written.
   */
  flushCapture(id: number): Promise<void> {
    const capture = this.#captures.get(id);
    if (capture?.writer === undefined) return Promise.resolve();
    if (capture.failed === undefined) {
      try {
        capture.writer.flush();
      } catch (error) {
        this.#fail(capture, error);
      }
    }
    return capture.failed === undefined ? Promise.resolve() : Promise.reject(new Error(capture.failed));
  }

  /** The frames a capture kept: its ring, or its file (flushed first). */
  readCapture(id: number): Promise<CaptureContents> {
    const capture = this.#captures.get(id);
    if (capture === undefined) return Promise.resolve({ frames: [], dropped: 0 });
    if (capture.ring !== undefined) {
      return Promise.resolve({ frames: capture.ring.frames(), dropped: capture.ring.dropped });
    }
    if (capture.failed !== undefined) return Promise.reject(new Error(capture.failed));
    try {
      capture.writer!.flush();
    } catch (error) {
      this.#fail(capture, error);
      return Promise.reject(new Error(capture.failed));
    }
    const file = readPcapFile(capture.spec.path!);
    return Promise.resolve({
      frames: file.records.map((r) => ({
        timeNs: r.timeNs,
        direction: undefined,
        data: r.data,
        origLen: r.origLen,
      })),
      dropped: 0,
    });
  }

  /** Stops a capture and completes its file. */
  stopCapture(id: number): Promise<void> {
    const capture = this.#captures.get(id);
    if (capture !== undefined) {
      capture.watching?.stop();
      this.#captures.delete(id);
      if (capture.failed === undefined) {
        try {
          capture.writer?.close();
        } catch (error) {
          this.#fail(capture, error); // stopped all the same: warned, the file named
        }
      }
    }
    return Promise.resolve();
  }

  /** Completes every capture's file. */
  async close(): Promise<void> {
    for (const id of [...this.#captures.keys()]) await this.stopCapture(id);
  }

  // ---- your code on the wire -------------------------------------------------------------------

  /** The lab's host behind a VM NIC or host tap (plugged or kept unplugged), or undefined. */
  host(port: string): SimHost | undefined {
    return (this.#nics.get(port) ?? this.#kept.get(port))?.host;
  }

  /** The bridge a port is on, or undefined. */
  bridgeOf(port: string): string | undefined {
    return this.#bridgeOf.get(port) ?? this.#deviceBridge(port);
  }

  #deviceBridge(port: string): string | undefined {
    for (const name of this.network.bridges()) {
      if (this.network.bridge(name).ports().some((p) => p.name === port)) return name;
    }
    return undefined;
  }

  /** Whether your own endpoint is attached behind a port. */
  hasCustomEndpoint(port: string): boolean {
    return (this.#nics.get(port) ?? this.#kept.get(port))?.custom !== undefined;
  }

  /**
   * Sends a frame into the network from a port, as the endpoint behind it would, and says where it went:
   * every port that transmitted a copy (and what is behind it), every port that dropped it and why.
   * Answers the frame provokes are scheduled: run the clock to see them.
   *
   * @throws {LabError} `Cannot send from X: no such port` (code `tap-not-found`).
   */
  send(port: string, frame: Uint8Array): FrameTrace {
    const bridge = this.bridgeOf(port);
    if (bridge === undefined) {
      throw new LabError("tap-not-found", `Cannot send from ${port}: no such port on any bridge`);
    }
    const net = this.network;
    const deliveries: TraceDelivery[] = [];
    const before = new Map<string, number[]>();
    const stops: (() => void)[] = [];
    for (const name of net.bridges()) {
      const b = net.bridge(name);
      for (const p of b.ports()) {
        const counters = b.counters(p.name);
        before.set(`${name}\u0000${p.name}`, DROP_REASONS.map((r) => counters.drops[r]));
        const to = p.patch !== undefined
          ? "patch"
          : this.#bridgeOf.get(p.name) === name
          ? (this.#nics.get(p.name)?.custom !== undefined ? "custom" : "host")
          : "device";
        stops.push(b.observe(p.name, (direction, buf, off, len) => {
          if (direction === "tx") {
            deliveries.push({ bridge: name, port: p.name, to, frame: buf.slice(off, off + len) });
          }
        }));
      }
    }
    try {
      net.bridge(bridge).transmitFrom(port, frame);
    } finally {
      for (const stop of stops) stop();
    }
    const drops: TraceDrop[] = [];
    for (const name of net.bridges()) {
      const b = net.bridge(name);
      for (const p of b.ports()) {
        const was = before.get(`${name}\u0000${p.name}`);
        const now = b.counters(p.name).drops;
        DROP_REASONS.forEach((reason, i) => {
          const n = now[reason] - (was?.[i] ?? 0);
          for (let k = 0; k < n; k++) drops.push({ bridge: name, port: p.name, reason });
        });
      }
    }
    return { deliveries, drops };
  }

  /**
   * Puts your own endpoint behind a VM NIC or host tap, in place of the lab's host: it gets what the port
   * transmits, and sends what you give it. The lab's host is set aside, addresses and ARP cache kept, and
   * comes back on {@linkcode AttachedEndpoint.detach}. While yours is attached, the lab cannot ping from
   * that port (code `custom-endpoint`).
   *
   * @throws {LabError} When nothing of the lab's is plugged there, or an endpoint is attached already.
   */
  attach(port: string, endpoint: SimEndpoint): AttachedEndpoint {
    const nic = this.#nics.get(port) ?? this.#kept.get(port);
    if (nic === undefined) {
      throw new LabError(
        "tap-not-found",
        `Cannot attach to ${port}: it is not a VM NIC or host tap of the lab`,
      );
    }
    if (nic.custom !== undefined) {
      throw new LabError(
        "custom-endpoint",
        `Cannot attach to ${port}: an endpoint of yours is attached already`,
      );
    }
    const clock = this.network.clock;
    const sink: FrameSink = {
      receive: (buf, off, len) => endpoint.receive(buf.slice(off, off + len), clock.now()),
    };
    nic.custom = sink;
    const bridge = nic.cable.bridge;
    if (bridge !== undefined) {
      bridge.detach(port);
      bridge.attach(port, sink);
    }
    let attached = true;
    return {
      port,
      send: (frame) => {
        if (!attached) {
          throw new LabError("custom-endpoint", `Cannot send from ${port}: the endpoint was detached`);
        }
        return this.send(port, frame);
      },
      detach: () => {
        if (!attached) return;
        attached = false;
        nic.custom = undefined;
        const now = nic.cable.bridge;
        if (now !== undefined) {
          now.detach(port);
          now.attach(port, nic.host);
        }
      },
    };
  }
}

/** Gives a VM's new node the routing its configuration says. */
function applyRouting(stack: SimStack, config: RouterConfig): void {
  stack.forwarding = config.forwarding;
  stack.setRoutes(config.routes);
  stack.setDefaultGateway(config.gateway);
  stack.setLoopbacks(config.loopbacks);
}

/**
 * Checks an uplink of the simulated host ({@linkcode SimBackendOptions.uplinks}): its address and each host's
 * an IPv4 address with its prefix, the hosts on the uplink's subnet.
 *
 * @throws {RangeError} `Cannot put host H outside uplink X: it is not on A's subnet`, and the like.
 */
export function checkSimUplink(name: string, options: SimUplinkOptions): void {
  const cidr = /^(\d{1,3}(?:\.\d{1,3}){3})\/(\d{1,2})$/;
  const address = cidr.exec(options.address);
  if (address === null || Number(address[2]) > 32) {
    throw new RangeError(`Cannot use uplink ${name}: '${options.address}' is not an address with its prefix`);
  }
  ipv4FromString(address[1]!);
  for (const host of options.hosts ?? []) {
    const m = cidr.exec(host);
    if (m === null || m[2] !== address[2] || !inSubnet(ipv4FromString(m[1]!), options.address)) {
      throw new RangeError(
        `Cannot put host ${host} outside uplink ${name}: it is not on ${options.address}'s subnet`,
      );
    }
  }
}

/** Whether address `ip` (a number) is in `subnet` (`10.0.0.0/24`). */
function inSubnet(ip: number, subnet: string): boolean {
  const [network, prefixText] = subnet.split("/");
  const prefix = Number(prefixText);
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  const net = network!.split(".").reduce((n, octet) => n * 256 + Number(octet), 0);
  return ((ip & mask) >>> 0) === ((net & mask) >>> 0);
}
