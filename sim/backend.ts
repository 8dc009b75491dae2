/**
 * The simulator as a labwire {@linkcode Backend}: the lab model's bridges, ports and mirrors become
 * {@linkcode SimNetwork} bridges, VM NICs and host taps become {@linkcode SimHost}s that answer ARP and
 * ping, and captures write what a port sees to pcap files. Deterministic: everything runs on the
 * network's virtual clock.
 *
 * @module
 */

import {
  type Backend,
  type CaptureSpec,
  type MirrorSpec,
  PING_INTERVAL_MS,
  PING_WAIT_MS,
  type PingResult,
  type PortSpec,
  type RemovePortsOptions,
} from "../lib/backend.ts";
import { compileFilter } from "../lib/wire/bpf.ts";
import { isMulticastMac } from "../lib/mac.ts";
import type { PcapWriter } from "../lib/wire/pcap.ts";
import { openPcapFile } from "../lib/wire/pcap_file.ts";
import { SimHost } from "./host.ts";
import type { PortObserver, SimBridge } from "./bridge.ts";
import { SimNetwork } from "./network.ts";

/** Options for {@linkcode SimBackend}. */
export interface SimBackendOptions {
  /** The network to build in. @default {new SimNetwork()} */
  network?: SimNetwork;
  /** Opens a capture's pcap file. @default {openPcapFile} */
  openPcap?: (path: string, snaplen: number) => PcapWriter;
  /** Receives warnings, e.g. a loop in the lab. @default {() => {}} */
  onWarning?: (message: string) => void;
}

/**
 * A capture of a port's frames. It follows its port: while the port is unplugged (a VM NIC disconnected) it
 * waits, and it goes on when a port of that name is plugged into a bridge again, as tcpdump on a kept tap.
 */
interface RunningCapture {
  readonly port: string;
  readonly writer: PcapWriter;
  readonly observer: PortObserver;
  /** The bridge it observes now, and how to stop observing; none while its port is unplugged. */
  watching: { readonly bridge: string; readonly stop: () => void } | undefined;
}

/** A host behind a VM NIC or host tap, and the bridge its cable is plugged into. */
interface SimNic {
  readonly host: SimHost;
  readonly cable: { bridge: SimBridge | undefined };
}

/** The far end of a capture tap or a trunk: an interface that is up and takes frames silently. */
const DEVICE = { receive(): void {} };

/**
 * Realises a lab in the simulator.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { Lab, SimBackend } from "labwire";
 * const lab = new Lab({ backend: new SimBackend(), macSeed: 1 });
 * lab.configureNetworks("minimega", ["LAN"]);
 * await lab.launchVms("minimega", "kvm", "a,b");
 * await lab.addVmAddress("minimega", "a", "0", "10.0.0.1/24");
 * await lab.addVmAddress("minimega", "b", "0", "10.0.0.2/24");
 * assert.deepEqual(await lab.ping("minimega", "a:0", "10.0.0.2", 2), { sent: 2, received: 2 });
 * ```
 */
export class SimBackend implements Backend {
  readonly name = "sim";
  /** The simulated network. */
  readonly network: SimNetwork;
  /** The hosts behind plugged ports, by `bridge/port`. */
  #hosts = new Map<string, SimNic>();
  /** NICs kept unplugged (`removePorts(..., { keepNics: true })`), by port name. */
  #kept = new Map<string, SimNic>();
  /** Why a port has no host behind it. */
  #unreachable = new Map<string, string>();
  #captures = new Map<number, RunningCapture>();
  #openPcap: (path: string, snaplen: number) => PcapWriter;
  #warn: (message: string) => void;

  /** Makes a backend over a new (or the given) network. */
  constructor(options: SimBackendOptions = {}) {
    this.network = options.network ?? new SimNetwork();
    this.#openPcap = options.openPcap ?? ((path, snaplen) => openPcapFile(path, { snaplen }));
    this.#warn = options.onWarning ?? (() => {});
  }

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
    for (const key of [...this.#hosts.keys()]) if (key.startsWith(`${bridge}/`)) this.#hosts.delete(key);
    this.network.removeBridge(bridge);
  }

  /** Adds ports; a VM NIC or a host tap gets a host behind it. */
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
      if (capture.port === port.name && capture.watching === undefined) {
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
        this.#unreachable.set(`${bridge}/${port.name}`, `its MAC ${port.mac} is a multicast address`);
        return;
      }
      // a NIC kept unplugged comes back with its addresses and ARP cache
      const kept = this.#kept.get(port.name);
      this.#kept.delete(port.name);
      const nic = kept ?? this.#newNic(port.name, port.mac);
      nic.cable.bridge = b;
      b.attach(port.name, nic.host);
      this.#hosts.set(`${bridge}/${port.name}`, nic);
    }
  }

  /** A host behind a NIC, sending through whichever bridge its cable is plugged into (none: frames lost). */
  #newNic(name: string, mac: string): SimNic {
    const cable: { bridge: SimBridge | undefined } = { bridge: undefined };
    const host = new SimHost({
      mac,
      name,
      scheduler: this.network.clock,
      transmit: (buf, off, len) => cable.bridge?.transmitFrom(name, buf, off, len),
    });
    return { host, cable };
  }

  /** Removes ports and their hosts; with `keepNics`, the hosts stay, unplugged, for a later `addPorts`. */
  removePorts(bridge: string, ports: readonly string[], options: RemovePortsOptions = {}): Promise<void> {
    for (const port of ports) {
      if (this.network.hasBridge(bridge)) {
        const b = this.network.bridge(bridge);
        if (b.ports().some((p) => p.name === port && p.patch !== undefined)) {
          this.network.unpatch(bridge, port);
        }
        b.removePort(port);
      }
      for (const capture of this.#captures.values()) {
        if (capture.port !== port || capture.watching?.bridge !== bridge) continue;
        capture.watching.stop();
        capture.watching = undefined;
      }
      const nic = this.#hosts.get(`${bridge}/${port}`);
      this.#hosts.delete(`${bridge}/${port}`);
      this.#unreachable.delete(`${bridge}/${port}`);
      if (nic !== undefined && options.keepNics === true) {
        nic.cable.bridge = undefined;
        this.#kept.set(port, nic);
      }
    }
    return Promise.resolve();
  }

  /** Forgets hosts kept unplugged. */
  destroyNics(nics: readonly PortSpec[]): Promise<void> {
    for (const nic of nics) this.#kept.delete(nic.name);
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
    if (this.network.hasBridge(bridge)) this.network.bridge(bridge).removeMirror(mirror);
    return Promise.resolve();
  }

  /** Gives the host behind a port an address (one it has already is no error). */
  addAddress(bridge: string, port: string, cidr: string): Promise<void> {
    const host = this.#host(bridge, port);
    if (!host.addresses().includes(cidr)) host.addAddress(cidr);
    return Promise.resolve();
  }

  /** Fails: the simulator runs no DHCP server. */
  dhcp(_bridge: string, port: string): Promise<string> {
    return Promise.reject(
      new Error(
        `Cannot get an address by DHCP for tap ${port}: the simulator runs no DHCP server; use ip <addr>`,
      ),
    );
  }

  /** Starts writing what a port sees (both ways) to a pcap file, through the capture's filter. */
  startCapture(capture: CaptureSpec): Promise<void> {
    const filter = compileFilter(capture.filter);
    const bridge = this.network.bridge(capture.bridge);
    const writer = this.#openPcap(capture.path, capture.snaplen);
    const clock = this.network.clock;
    const observer: PortObserver = (_direction, buf, off, len) => {
      if (filter(buf, off, len)) writer.write(buf, off, len, clock.now());
    };
    const stop = bridge.observe(capture.port, observer);
    this.#captures.set(capture.id, {
      port: capture.port,
      writer,
      observer,
      watching: { bridge: capture.bridge, stop },
    });
    return Promise.resolve();
  }

  /** Stops a capture and completes its file. */
  stopCapture(id: number): Promise<void> {
    const capture = this.#captures.get(id);
    if (capture !== undefined) {
      capture.watching?.stop();
      capture.writer.close();
      this.#captures.delete(id);
    }
    return Promise.resolve();
  }

  /**
   * Pings from the host behind a port as labwire's `ping` does on every backend: `count` echo requests
   * {@linkcode PING_INTERVAL_MS} apart, waiting {@linkcode PING_WAIT_MS} after the last when nothing has
   * answered (see {@linkcode SimHost.ping}), running virtual time until the run ends. A ping nothing
   * answered leaves no neighbour entry behind.
   */
  ping(bridge: string, port: string, ip: string, count: number): Promise<PingResult> {
    const intervalNs = PING_INTERVAL_MS * 1_000_000;
    const waitNs = PING_WAIT_MS * 1_000_000;
    const run = this.#host(bridge, port).ping(ip, { count, intervalNs, waitNs });
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
    return Promise.resolve({ sent: run.sent, received: run.received });
  }

  /** Completes every capture's file. */
  async close(): Promise<void> {
    for (const id of [...this.#captures.keys()]) await this.stopCapture(id);
  }

  #host(bridge: string, port: string): SimHost {
    const host = this.#hosts.get(`${bridge}/${port}`)?.host;
    if (host === undefined) {
      throw new Error(`Cannot reach the endpoint behind ${bridge}/${port}: nothing is plugged in`);
    }
    return host;
  }
}
