/**
 * Open vSwitch as a labwire {@linkcode Backend} (issue 4, in progress): bridges and ports through
 * {@linkcode Ovs} (one transaction per step, every port checked), container VMs as network namespaces
 * joined by veth pairs ({@linkcode Netns}), host taps as internal ports with host addresses, mirrors in
 * OVS's Mirror table, captures with tcpdump, pings with ping(8), KVM VMs with QEMU on taps (they end
 * with the labwire process).
 *
 * @module
 */

import { existsSync, rmSync, statSync } from "node:fs";
import { setTimeout } from "node:timers";
import os from "node:os";
import path from "node:path";
import process from "node:process";
import type { Backend, CaptureSpec, MirrorSpec, PingResult, PortSpec, VmSpec } from "./backend.ts";
import { Kvm } from "./kvm.ts";
import { type Cmd, createExec, which } from "./exec.ts";
import { Netns, parsePingSummary } from "./netns.ts";
import { Ovs } from "./ovs.ts";

/** Options for {@linkcode OvsBackend}. */
export interface OvsBackendOptions {
  /** Runs programs (and traces them with `--trace`). @default {createExec()} */
  exec?: (program: string) => Cmd;
  /** Variables for ovs-vsctl (`OVS_RUNDIR`, ...). @default {the process's} */
  env?: Record<string, string>;
  /** The prefix of the namespaces labwire makes for container VMs. @default {"labwire-"} */
  namespacePrefix?: string;
  /** Where KVM VMs keep their QMP sockets, consoles and pids. @default {a folder in the temp dir} */
  runDir?: string;
}

/** The `external_ids` key of a container NIC's port that names its namespace. */
const NETNS_KEY = "labwire-netns";
/** The `external_ids` key of a container NIC's port that names its interface in the namespace. */
const IFNAME_KEY = "labwire-ifname";
/** The `external_ids` key of a KVM VM NIC's port: its tap device is labwire's to delete. */
const KVM_TAP_KEY = "labwire-kvm-tap";

interface RunningCapture {
  readonly done: Promise<unknown>;
  readonly stop: AbortController;
}

/** Realises a lab in Open vSwitch. */
export class OvsBackend implements Backend {
  readonly name = "ovs";
  readonly persistent = true;
  /** The OVS client. */
  readonly ovs: Ovs;
  #netns: Netns;
  #exec: (program: string) => Cmd;
  #prefix: string;
  /** Container NICs: port name to its namespace and interface. */
  #containerNics = new Map<string, { namespace: string; ifname: string }>();
  #captures = new Map<number, RunningCapture>();
  #checked: Promise<void> | undefined;
  #kvm: Kvm;
  #kvmTaps = new Set<string>();
  #runDir: string;
  #ownRunDir: boolean;

  /** Makes a backend for the OVS the environment (or `env`) points at. */
  constructor(options: OvsBackendOptions = {}) {
    this.#exec = options.exec ?? createExec();
    this.ovs = new Ovs({ exec: this.#exec, ...(options.env === undefined ? {} : { env: options.env }) });
    this.#netns = new Netns({ exec: this.#exec });
    this.#prefix = options.namespacePrefix ?? "labwire-";
    this.#runDir = options.runDir ?? path.join(os.tmpdir(), `labwire-kvm-${process.pid}`);
    this.#ownRunDir = options.runDir === undefined;
    this.#kvm = new Kvm({ exec: this.#exec, runDir: this.#runDir });
  }

  /** Creates a bridge (datapath netdev where the kernel has no OVS module). */
  async addBridge(bridge: string): Promise<void> {
    await this.#ready();
    await this.ovs.addBridge(bridge);
  }

  /** Checks once that OVS answers, so that the first step fails with one clear sentence if it does not. */
  #ready(): Promise<void> {
    this.#checked ??= this.ovs.check().catch((error) => {
      this.#checked = undefined;
      throw error;
    });
    return this.#checked;
  }

  /** Deletes a bridge and the namespaces of container NICs on it. */
  async removeBridge(bridge: string): Promise<void> {
    await this.ovs.deleteBridge(bridge);
  }

  /** Adds a port: a container NIC's veth, a host tap's internal port, a capture port, a trunk. */
  async addPort(bridge: string, port: PortSpec): Promise<void> {
    switch (port.role) {
      case "patch":
        return; // both ends come with addPatch()
      case "vm": {
        if (port.vm?.type === "kvm") {
          await this.#kvm.createTap(port.name);
          this.#kvmTaps.add(port.name);
          // recorded in OVS, so that a later process removes the tap device too
          const externalIds = { [KVM_TAP_KEY]: "1" };
          await this.ovs.addPorts(bridge, [{
            name: port.name,
            mode: port.mode,
            type: "system",
            externalIds,
          }]);
          return;
        }
        if (port.vm === undefined) throw new TypeError(`Cannot plug ${port.name}: a VM port names no VM`);
        const namespace = `${this.#prefix}${port.vm.namespace}-${port.vm.name}`;
        if (!(await this.#netns.list()).includes(namespace)) await this.#netns.create(namespace);
        const ifname = `veth${port.vm.nic}`;
        await this.#netns.addVeth(port.name, namespace, ifname, port.mac ?? "");
        this.#containerNics.set(port.name, { namespace, ifname });
        // recorded in OVS, so that a later process finds the namespace behind the port
        const externalIds = { [NETNS_KEY]: namespace, [IFNAME_KEY]: ifname };
        await this.ovs.addPorts(bridge, [{ name: port.name, mode: port.mode, type: "system", externalIds }]);
        return;
      }
      case "host":
      case "capture":
        await this.ovs.addPorts(bridge, [{ name: port.name, mode: port.mode, type: "internal" }]);
        await this.#exec("ip").args("link", "set", "dev", port.name, "up").run();
        if (port.mac !== undefined) {
          await this.#exec("ip").args("link", "set", "dev", port.name, "address", port.mac).run();
        }
        return;
      case "trunk":
      case "tunnel":
        await this.ovs.addPorts(bridge, [{ name: port.name, mode: port.mode }]);
        return;
      default: {
        const never: never = port.role;
        throw new TypeError(`Cannot add port: unknown role ${String(never)}`);
      }
    }
  }

  /** Removes a port, and a container NIC's veth (and its namespace with its last NIC). */
  async removePort(bridge: string, port: string): Promise<void> {
    const kvmTap = this.#kvmTaps.delete(port) ||
      (await this.ovs.listLabwire()).ports.some((p) =>
        p.name === port && p.externalIds[KVM_TAP_KEY] !== undefined
      );
    await this.ovs.deletePorts(bridge, [port]);
    if (kvmTap) return await this.#kvm.deleteTap(port);
    const nic = await this.#containerNic(port);
    if (nic === undefined) return;
    this.#containerNics.delete(port);
    await this.#netns.deleteLink(port);
    if (![...this.#containerNics.values()].some((n) => n.namespace === nic.namespace)) {
      await this.#netns.delete(nic.namespace);
    }
  }

  /** Joins two patch ports. */
  async addPatch(bridgeA: string, portA: string, bridgeB: string, portB: string): Promise<void> {
    await this.ovs.addPatch(bridgeA, portA, bridgeB, portB);
  }

  /** Adds a mirror to OVS's Mirror table. */
  async addMirror(bridge: string, mirror: MirrorSpec): Promise<void> {
    await this.ovs.addMirror(bridge, mirror);
  }

  /** Removes a mirror. */
  async removeMirror(bridge: string, mirror: string): Promise<void> {
    await this.ovs.deleteMirror(bridge, mirror);
  }

  /** Gives a container NIC (in its namespace) or a host tap (in the host) an address. */
  async addAddress(_bridge: string, port: string, cidr: string): Promise<void> {
    if (this.#kvmTaps.has(port)) {
      throw new Error(
        `Cannot set ${cidr} on KVM VM NIC ${port} from outside the guest: configure it in the guest ` +
          "(the test guest of scripts/guest-image.sh takes labwire_ip= on its kernel command line)",
      );
    }
    const nic = await this.#containerNic(port);
    if (nic !== undefined) return await this.#netns.addAddress(nic.namespace, nic.ifname, cidr);
    await this.#exec("ip").args("addr", "add", cidr, "dev", port).run();
  }

  /** Not supported yet: fails at once rather than hanging as minimega's dhclient can. */
  dhcp(_bridge: string, port: string): Promise<string> {
    return Promise.reject(
      new Error(`Cannot get an address by DHCP for tap ${port}: not supported on the ovs backend yet`),
    );
  }

  /**
   * Starts tcpdump on the port (`--immediate-mode`, the snaplen, the filter), stopped with SIGINT; resolves
   * once tcpdump captures (it writes the file's header when it starts listening).
   */
  startCapture(capture: CaptureSpec): Promise<void> {
    if (which("tcpdump") === undefined) {
      return Promise.reject(
        new Error("Cannot capture on the ovs backend: tcpdump is not installed (apt-get install tcpdump)"),
      );
    }
    const stop = new AbortController();
    const argv = [
      "-i",
      capture.port,
      "-U",
      "--immediate-mode",
      "-s",
      String(capture.snaplen),
      "-w",
      capture.path,
    ];
    if (capture.filter !== "") argv.push(capture.filter);
    const done = this.#exec("tcpdump").args(...argv).timeout(Infinity).signal(stop.signal).killSignal(
      "SIGINT",
    )
      .noThrow().run();
    this.#captures.set(capture.id, { done, stop });
    return waitForPcapHeader(capture.path, done);
  }

  /** Stops a capture with SIGINT, so tcpdump completes its file. */
  async stopCapture(id: number): Promise<void> {
    const capture = this.#captures.get(id);
    if (capture === undefined) return;
    capture.stop.abort();
    await capture.done.catch(() => {}); // a tcpdump that failed has said so when the capture started
    this.#captures.delete(id);
  }

  /** Pings from a container NIC's namespace, or from the host through a host tap. */
  async ping(_bridge: string, port: string, ip: string, count: number): Promise<PingResult> {
    await this.#ready();
    if (this.#kvmTaps.has(port)) {
      throw new Error(
        `Cannot ping from KVM VM NIC ${port}: labwire has no agent in the guest; ping it from a host tap`,
      );
    }
    const nic = await this.#containerNic(port);
    if (nic !== undefined) return await this.#netns.ping(nic.namespace, ip, count);
    const r = await this.#exec("ping").args("-n", "-I", port, "-c", String(count), "-i", "0.2", "-W", "1", ip)
      .timeout(10_000 + count * 1_500).noThrow().run();
    return parsePingSummary(r.stdout);
  }

  /** The namespace and interface behind a container NIC's port: known here, or read back from OVS. */
  async #containerNic(port: string): Promise<{ namespace: string; ifname: string } | undefined> {
    const known = this.#containerNics.get(port);
    if (known !== undefined) return known;
    const ids = (await this.ovs.listLabwire()).ports.find((p) => p.name === port)?.externalIds;
    const namespace = ids?.[NETNS_KEY];
    const ifname = ids?.[IFNAME_KEY];
    if (namespace === undefined || ifname === undefined) return undefined;
    this.#containerNics.set(port, { namespace, ifname });
    return { namespace, ifname };
  }

  /**
   * Removes everything labwire made in this OVS, by this process or an earlier one (`clear all`): the
   * bridges and ports marked `external_ids:labwire`, and the namespaces of container VMs.
   */
  async reset(): Promise<void> {
    await this.#ready();
    const made = await this.ovs.listLabwire();
    for (const bridge of made.bridges) await this.ovs.deleteBridge(bridge);
    const left = made.ports.filter((p) => p.bridge !== "" && !made.bridges.includes(p.bridge));
    for (const port of left) await this.ovs.deletePorts(port.bridge, [port.name]);
    for (const port of made.ports) {
      if (port.externalIds[NETNS_KEY] !== undefined) await this.#netns.deleteLink(port.name);
      if (port.externalIds[KVM_TAP_KEY] !== undefined) await this.#kvm.deleteTap(port.name).catch(() => {});
    }
    for (const ns of await this.#netns.list()) if (ns.startsWith(this.#prefix)) await this.#netns.delete(ns);
    this.#containerNics.clear();
  }

  /** Whether the host has a network device of that name (minimega's tap names skip them). */
  nameInUse(name: string): boolean {
    return existsSync(`/sys/class/net/${name}`);
  }

  /** Launches a KVM VM with QEMU, paused; KVM where /dev/kvm can be used, TCG otherwise. */
  async launchVm(vm: VmSpec): Promise<void> {
    if (vm.type !== "kvm") return;
    await this.#kvm.launch({
      name: kvmName(vm),
      memory: vm.memory,
      vcpus: vm.vcpus,
      ...(vm.kernel === "" ? {} : { kernel: vm.kernel }),
      ...(vm.initrd === "" ? {} : { initrd: vm.initrd }),
      ...(vm.append === "" ? {} : { append: vm.append }),
      ...(vm.disks[0] === undefined ? {} : { disk: vm.disks[0] }),
      nics: vm.nics,
      kvm: Kvm.kvmAvailable(),
    });
  }

  /** Runs a paused KVM VM (QMP `cont`). */
  async startVm(vm: VmSpec): Promise<void> {
    if (vm.type === "kvm") await this.#kvm.start(kvmName(vm));
  }

  /** Pauses a KVM VM (QMP `stop`). */
  async stopVm(vm: VmSpec): Promise<void> {
    if (vm.type === "kvm") await this.#kvm.stop(kvmName(vm));
  }

  /** Ends a KVM VM's QEMU; its taps stay, as minimega's do. */
  async killVm(vm: VmSpec): Promise<void> {
    if (vm.type === "kvm" && this.#kvm.get(kvmName(vm)) !== undefined) await this.#kvm.kill(kvmName(vm));
  }

  /** Stops every capture (bridges, ports and namespaces stay: Open vSwitch keeps the lab). */
  async close(): Promise<void> {
    for (const id of [...this.#captures.keys()]) await this.stopCapture(id);
    await this.#kvm.killAll();
    if (this.#ownRunDir) rmSync(this.#runDir, { recursive: true, force: true });
  }
}

/**
 * Waits until tcpdump has written a pcap file's 24-byte header: it is listening then.
 *
 * @throws {Error} If tcpdump exits first (with its error), or after 10 s.
 */
async function waitForPcapHeader(path: string, done: Promise<unknown>): Promise<void> {
  let exited: unknown;
  done.then((r) => exited = r ?? "exited", (error: Error) => exited = { stderr: error.message });
  for (let waited = 0; waited < 10_000; waited += 20) {
    if (exited !== undefined) {
      const stderr = (exited as { stderr?: string }).stderr?.trim() ?? "";
      throw new Error(`Cannot capture to ${path}: tcpdump exited${stderr === "" ? "" : `: ${stderr}`}`);
    }
    try {
      if (statSync(path).size >= 24) return;
    } catch {
      // not created yet
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`Cannot capture to ${path}: tcpdump did not start listening within 10 s`);
}

/** The QEMU name of a KVM VM: its lab namespace and name. */
function kvmName(vm: VmSpec): string {
  return `${vm.namespace}-${vm.name}`;
}
