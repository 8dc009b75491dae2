/**
 * Open vSwitch as a labwire {@linkcode Backend}: bridges and ports through {@linkcode Ovs} (one
 * transaction per step, every port checked), container VMs as network namespaces joined by veth pairs
 * ({@linkcode Netns}), host taps as internal ports with host addresses, mirrors in OVS's Mirror table,
 * captures with tcpdump, pings with ping(8), KVM VMs with QEMU on taps.
 *
 * A step costs a few processes whatever its size: the NICs of a whole `vm launch` are made by a few
 * `ip -batch` runs ({@linkcode IpBatch}), one `ethtool` per container NIC and one `ip` per namespace,
 * and go on the bridge in one `ovs-vsctl` transaction, checked by one more.
 *
 * Container NICs and host taps are quiet IPv4 endpoints like the simulator's hosts (no IPv6
 * autoconfiguration, no neighbour re-probing: {@linkcode quietEndpoint}); a host tap answers ARP only for
 * its own addresses (`arp_ignore=1`), as one endpoint on one VLAN should. The host side of every veth
 * and tap is a bridge port only: it makes no IPv6 chatter and answers no ARP (`arp_ignore=8`). So a lab's captures hold its traffic, the same on both backends.
 *
 * As on the simulator, a VM that does not run answers nothing and sends nothing: QEMU is paused, and a
 * container's namespace holds nftables tables that drop all its ARP and IPv4 (one `ip -force -batch` for
 * all containers of a step). A ping reaches only what its NIC routes to (each NIC is a host of its own,
 * `networkUnreachable` otherwise), and a capture without a file is tcpdump writing a temporary pcap file
 * in the backend's own run folder, read back whole records at a time.
 *
 * By default the lab's host side is the host's own network namespace. With an OVS namespace
 * ({@linkcode OvsBackendOptions.ovsNetns}: an Open vSwitch running in a network namespace of its own, as
 * `scripts/ovs-sandbox.sh start DIR --netns NAME` starts one) every program runs in that namespace, and
 * several labs, each on its own Open vSwitch, run side by side with the same names.
 *
 * @module
 */

import fs from "node:fs";
import { setTimeout } from "node:timers";
import os from "node:os";
import path from "node:path";
import process from "node:process";
import type { Backend } from "../backend/backend.ts";
import type { AddedBridge, MirrorSpec, PortSpec, RemovePortsOptions } from "../backend/bridges.ts";
import type { CaptureContents, CaptureSpec } from "../backend/captures.ts";
import type { DhcpResult, PingReport } from "../backend/endpoints.ts";
import type { Routing } from "../backend/routing.ts";
import type { UplinkSpec } from "../backend/uplink.ts";
import type { Services, TapServices } from "../backend/services.ts";
import { runningDnsmasq, setDnsmasq, stopDnsmasq } from "./dnsmasq.ts";
import { firewallScript } from "./nft_fw.ts";
import type { RouterFw } from "../lab/router_config.ts";
import type { VmSpec } from "../backend/vms.ts";
import type { AccelChoice } from "./accel.ts";
import { dhcpLease } from "./dhcp.ts";
import { type Cmd, createExec, ExecError, execInNetns, NETNS_RUN_DIR, which } from "../exec.ts";
import { IpBatch } from "./ip.ts";
import { Kvm, KvmError } from "./kvm.ts";
import {
  type InterfaceAddress,
  Netns,
  networkUnreachableReport,
  parsePingOutput,
  pingArgs,
  pingTimeoutMs,
  quietEndpoint,
  type VethNic,
} from "./netns.ts";
import { readPcapTail } from "./_pcap_tail.ts";
import { type LabwireObjects, type LabwirePort, Ovs, ovsFailure, type OvsPort } from "../ovs.ts";

/** Options for {@linkcode OvsBackend}. */
export interface OvsBackendOptions {
  /** Runs programs (and traces them with `--trace`). @default {createExec()} */
  exec?: (program: string) => Cmd;
  /** Variables for ovs-vsctl (`OVS_RUNDIR`, ...). @default {the process's} */
  env?: Record<string, string>;
  /**
   * The network namespace of the Open vSwitch (its ovs-vswitchd): every program the backend runs on the
   * host side (ip, ovs-vsctl, tcpdump, ping from host taps, QEMU, dhclient, ethtool, nft, sysctl) runs
   * in it ({@linkcode Cmd.inNetns}), so the lab's bridges, taps and captures live there, and two labs in
   * two namespaces, each with an OVS of its own, may use the same names. `undefined` is the host's own
   * namespace, where a lab is reachable from the host.
   * @default {`LABWIRE_OVS_NETNS` of `env` (of the process's environment without `env`), else the host's}
   */
  ovsNetns?: string;
  /**
   * The prefix of the namespaces labwire makes for container VMs. Namespace names are host-wide, so with
   * an `ovsNetns` the default is per OVS namespace.
   * @default {"labwire-", or `<ovsNetns>-` with an `ovsNetns`}
   */
  namespacePrefix?: string;
  /**
   * Where KVM VMs keep their QMP sockets, consoles and PID files, one folder per VM (`<namespace>-<name>`).
   * @default {a folder of this process in the temp dir, removed by {@linkcode OvsBackend.close}}
   */
  runDir?: string;
  /**
   * Keep KVM VMs when this process ends: QEMU runs detached (`-daemonize`) and a later process with the
   * same `runDir` drives the VMs by name ({@linkcode Kvm.attach}), as a lab kept in a state file needs
   * (LabRunner passes {@linkcode kvmRunDir} of the state file). Needs `runDir`. @default {false}
   */
  keepVms?: boolean;
  /** The accelerator of KVM VMs: `auto` takes KVM only where it is proven to work. @default {LABWIRE_ACCEL, else "auto"} */
  accel?: AccelChoice;
  /** Receives warnings (a trunk to an interface that does not exist yet). @default {() => {}} */
  onWarning?: (message: string) => void;
}

/** The variable that names the network namespace of the Open vSwitch ({@linkcode OvsBackendOptions.ovsNetns}). */
export const OVS_NETNS_ENV = "LABWIRE_OVS_NETNS";

/** The `external_ids` key of a container NIC's port that names its namespace. */
const NETNS_KEY = "labwire-netns";
/** The `external_ids` key of a container NIC's port that names its interface in the namespace. */
const IFNAME_KEY = "labwire-ifname";
/** The `external_ids` key of a KVM VM NIC's port: its tap device is labwire's to delete. */
const KVM_TAP_KEY = "labwire-kvm-tap";
/** How long tcpdump may take to start listening. */
const CAPTURE_START_MS = 10_000;
/** A capture's file holds every frame seen so far once its size has not changed for this long. */
const CAPTURE_QUIET_MS = 100;
/** The longest a flush waits for a capture's file that keeps growing. */
const CAPTURE_FLUSH_MAX_MS = 2000;
/** How often a flush looks at the file's size. */
const CAPTURE_POLL_MS = 10;

/** The messages of `ip addr del` for an address, device or namespace that is not there. */
const ADDRESS_GONE = /Address not found|Cannot find device|does not exist|Cannot open network namespace/;

/**
 * The nftables ruleset that makes a container VM that does not run (launched, stopped) silent, loaded in
 * its namespace: everything it would send or receive is dropped, ARP and IPv4 (and IPv4 forwarded
 * through it), before conntrack sees it (priority -300, `raw`).
 */
const PAUSE_RULESET = `table arp labwire_pause {
	chain input { type filter hook input priority 0; policy drop; }
	chain output { type filter hook output priority 0; policy drop; }
}
table inet labwire_pause {
	chain input { type filter hook input priority -300; policy drop; }
	chain output { type filter hook output priority -300; policy drop; }
	chain forward { type filter hook forward priority -300; policy drop; }
}
`;

/**
 * The ruleset that lets a container VM answer again: its pause tables go. Declaring each table first (an
 * empty `table` line adds it when it is missing and changes nothing otherwise) makes the deletes succeed
 * in one transaction whether or not the container was paused, with one `nft` per namespace.
 */
const START_RULESET = `table arp labwire_pause
delete table arp labwire_pause
table inet labwire_pause
delete table inet labwire_pause
`;

/** What is behind a VM NIC's port. */
type NicDevice =
  | { readonly kind: "container"; readonly namespace: string; readonly ifname: string }
  | { readonly kind: "kvm" };

interface RunningCapture {
  readonly done: Promise<unknown>;
  readonly stop: AbortController;
  /** The pcap file tcpdump writes: the capture's own, or a temporary one in the backend's run folder. */
  readonly file: string;
  /** Whether the file is temporary (the capture has no path): removed when the capture stops. */
  readonly temporary: boolean;
  /** The most frames {@linkcode OvsBackend.readCapture} returns of a capture without a path. */
  readonly limit: number;
  /** Why tcpdump stopped writing before it was asked to (a full disk), naming the file. */
  failed?: string;
}

/** Realises a lab in Open vSwitch. */
export class OvsBackend implements Backend {
  readonly name = "ovs";
  readonly persistent = true;
  /** Whether KVM VMs outlive this process (`keepVms`). */
  readonly keepsVms: boolean;
  /** The OVS client. */
  readonly ovs: Ovs;
  #netns: Netns;
  #exec: (program: string) => Cmd;
  #prefix: string;
  /** The variables for Open vSwitch's programs (`OVS_RUNDIR`, ...), if given. */
  #env: Record<string, string> | undefined;
  #warn: (message: string) => void;
  /** VM NICs' devices by port name: made here, or read back from OVS's external_ids. */
  #nics = new Map<string, NicDevice>();
  #captures = new Map<number, RunningCapture>();
  #checked: Promise<void> | undefined;
  #kvm: Kvm;
  #runDir: string;
  #ownRunDir: boolean;
  /** The backend's own run folder (nft rulesets, captures' temporary pcap files) while something uses it. */
  #workDir: string | undefined;
  #workDirUsers = 0;
  #workFiles = 0;
  /** The addresses of host taps taken off their bridge with `keepNics`, given back when plugged again. */
  #keptAddresses = new Map<string, string[]>();
  /** Namespaces this process made silent and has not let answer since (so a launch pauses them once). */
  #silent = new Set<string>();
  /** The network namespace of the Open vSwitch, if not the host's. */
  readonly ovsNetns: string | undefined;
  /** Runs host-side programs of this process's own namespace (`ip netns pids`). */
  #hostExec: (program: string) => Cmd;
  /** A process in {@linkcode OvsBackend.ovsNetns} (its ovs-vswitchd), whose /proc/PID/net shows its devices. */
  #netnsPid: number | undefined;
  /** The OVS namespace's devices while one synchronous run of {@linkcode OvsBackend.nameInUse} lasts. */
  #devices: Set<string> | undefined;

  /** Makes a backend for the OVS the environment (or `env`) points at. */
  constructor(options: OvsBackendOptions = {}) {
    this.#hostExec = options.exec ?? createExec();
    const ovsNetns = options.ovsNetns ?? ((options.env ?? process.env)[OVS_NETNS_ENV] || undefined);
    this.ovsNetns = ovsNetns;
    this.#exec = execInNetns(this.#hostExec, ovsNetns);
    this.ovs = new Ovs({ exec: this.#exec, ...(options.env === undefined ? {} : { env: options.env }) });
    this.#env = options.env;
    this.#netns = new Netns({ exec: this.#exec });
    this.#prefix = options.namespacePrefix ?? (ovsNetns === undefined ? "labwire-" : `${ovsNetns}-`);
    this.#warn = options.onWarning ?? (() => {});
    this.keepsVms = options.keepVms ?? false;
    if (this.keepsVms && options.runDir === undefined) {
      throw new TypeError("Cannot make OvsBackend as 'keepVms' needs a 'runDir' that later processes find");
    }
    this.#runDir = options.runDir ??
      path.join(os.tmpdir(), `labwire-kvm-${process.pid}${ovsNetns === undefined ? "" : `-${ovsNetns}`}`);
    this.#ownRunDir = options.runDir === undefined;
    this.#kvm = new Kvm({
      exec: this.#exec,
      runDir: this.#runDir,
      detach: this.keepsVms,
      ...(options.accel === undefined ? {} : { accel: options.accel }),
    });
  }

  /**
   * Creates a bridge (datapath netdev where the kernel has no OVS module); a bridge that exists and that
   * labwire did not make is preexisting.
   */
  async addBridge(bridge: string): Promise<AddedBridge> {
    await this.#ready();
    return await this.ovs.addBridge(bridge);
  }

  /** Checks once that OVS answers, so that the first step fails with one clear sentence if it does not. */
  #ready(): Promise<void> {
    this.#checked ??= this.#findNetns().then(() => this.ovs.check()).catch((error) => {
      this.#checked = undefined;
      throw error;
    });
    return this.#checked;
  }

  /**
   * With an {@linkcode OvsBackend.ovsNetns}: checks that it exists.
   *
   * @throws {Error} `Cannot use Open vSwitch in network namespace NS: ...` when it does not exist.
   */
  async #findNetns(): Promise<void> {
    this.#checkVswitchdNetns();
    if (this.ovsNetns === undefined) return;
    const r = await this.#hostExec("ip").args("netns", "pids", this.ovsNetns).timeout(10_000).noThrow().run();
    if (r.code !== 0) {
      const why = r.stderr.trim() || `ip exited with code ${r.code}`;
      throw new Error(
        `Cannot use Open vSwitch in network namespace ${this.ovsNetns}: ${why} (start one there with: ` +
          `scripts/ovs-sandbox.sh start DIR --netns ${this.ovsNetns})`,
      );
    }
  }

  /**
   * Checks that the ovs-vswitchd of `OVS_RUNDIR` (its pidfile), when there is one, runs in the namespace
   * the backend runs its programs in: the bridges' and ports' devices are made where it runs, and the
   * backend would not find them elsewhere. Nothing is checked when there is no pidfile to read.
   *
   * @throws {Error} `Cannot use Open vSwitch (ovs-vswitchd PID N) in ...: it runs in network namespace X;
   * give --ovs-netns X (LABWIRE_OVS_NETNS)`, or `... it runs in the host's own network namespace; ...`.
   */
  #checkVswitchdNetns(): void {
    const rundir = (this.#env ?? process.env).OVS_RUNDIR || "/var/run/openvswitch";
    let pid: number;
    let theirs: string;
    try {
      pid = Number(fs.readFileSync(path.join(rundir, "ovs-vswitchd.pid"), "utf8").trim());
      theirs = fs.readlinkSync(`/proc/${pid}/ns/net`);
    } catch {
      return; // no pidfile, or a daemon that is gone: check() says what is wrong
    }
    let ours: string;
    try {
      ours = this.ovsNetns === undefined
        ? fs.readlinkSync("/proc/self/ns/net")
        : `net:[${fs.statSync(`${NETNS_RUN_DIR}/${this.ovsNetns}`).ino}]`;
    } catch {
      return; // no such namespace: #findNetns() says so
    }
    if (theirs === ours) return;
    const named = (() => {
      try {
        return fs.readdirSync(NETNS_RUN_DIR).find((n) =>
          `net:[${fs.statSync(`${NETNS_RUN_DIR}/${n}`).ino}]` === theirs
        );
      } catch {
        return undefined;
      }
    })();
    const host = (() => {
      try {
        return fs.readlinkSync("/proc/self/ns/net") === theirs;
      } catch {
        return false;
      }
    })();
    const where = this.ovsNetns === undefined
      ? "the host's own network namespace"
      : `network namespace ${this.ovsNetns}`;
    const fix = named !== undefined
      ? `give --ovs-netns ${named} (LABWIRE_OVS_NETNS=${named})`
      : host
      ? "run labwire without --ovs-netns (and LABWIRE_OVS_NETNS)"
      : "start it where labwire runs, or give --ovs-netns with its namespace";
    const theirWhere = named !== undefined
      ? `network namespace ${named}`
      : host
      ? "the host's own network namespace"
      : `another network namespace (${theirs})`;
    throw new Error(
      `Cannot use Open vSwitch (ovs-vswitchd PID ${pid}) from ${where}: it runs in ${theirWhere}; ${fix}`,
    );
  }

  /**
   * A process in the OVS namespace: the one found last while it is still there, else the first of /proc
   * whose network namespace is the one `/run/netns/NAME` holds; `undefined` when there is none.
   */
  #processInNetns(): number | undefined {
    let want: string;
    try {
      want = `net:[${fs.statSync(`${NETNS_RUN_DIR}/${this.ovsNetns}`).ino}]`;
    } catch {
      return undefined; // no such namespace
    }
    const inNetns = (pid: number | string) => {
      try {
        return fs.readlinkSync(`/proc/${pid}/ns/net`) === want;
      } catch {
        return false; // gone, or not ours to read
      }
    };
    if (this.#netnsPid !== undefined && inNetns(this.#netnsPid)) return this.#netnsPid;
    const found = fs.readdirSync("/proc").find((entry) => /^\d+$/.test(entry) && inNetns(entry));
    this.#netnsPid = found === undefined ? undefined : Number(found);
    return this.#netnsPid;
  }

  /**
   * Deletes a bridge the lab no longer uses, unless something still uses it: another lab's ports (two
   * labs on one Open vSwitch may share `mega_bridge`), or the bridge was there before labwire (a
   * preexisting bridge is never deleted, as in minimega).
   */
  async removeBridge(bridge: string): Promise<void> {
    if (!(await this.ovs.listLabwire()).bridges.includes(bridge)) return;
    const ports = await this.ovs.transaction().add("list-ports", bridge).run();
    if (ports.trim() === "") await this.ovs.deleteBridge(bridge);
  }

  /**
   * Adds ports in one go: the devices behind them first (KVM taps and container veth pairs, in
   * batches), then every port in one OVS transaction, then the host taps' and capture ports' settings in
   * one `ip -batch`. When a step fails, what the call made is removed again.
   */
  async addPorts(bridge: string, ports: readonly PortSpec[]): Promise<void> {
    await this.#ready();
    const taps: string[] = [];
    const veths: VethNic[] = [];
    const ovsPorts: OvsPort[] = [];
    const internal: PortSpec[] = [];
    for (const port of ports) {
      switch (port.role) {
        case "patch":
          continue; // both ends come with addPatch()
        case "vm": {
          if (port.vm === undefined) throw new TypeError(`Cannot plug ${port.name}: a VM port names no VM`);
          if (port.vm.type === "kvm") {
            taps.push(port.name);
            // recorded in OVS, so that a later process removes the tap device too
            ovsPorts.push({
              name: port.name,
              mode: port.mode,
              type: "system",
              externalIds: { [KVM_TAP_KEY]: "1" },
            });
            continue;
          }
          const namespace = this.#namespaceOf(port.vm);
          const ifname = `veth${port.vm.nic}`;
          veths.push({ hostEnd: port.name, namespace, ifname, mac: port.mac ?? "" });
          // recorded in OVS, so that a later process finds the namespace behind the port
          const externalIds = { [NETNS_KEY]: namespace, [IFNAME_KEY]: ifname };
          ovsPorts.push({ name: port.name, mode: port.mode, type: "system", externalIds });
          continue;
        }
        case "host":
        case "capture":
          internal.push(port);
          ovsPorts.push({ name: port.name, mode: port.mode, type: "internal" });
          continue;
        case "trunk":
        case "tunnel":
          ovsPorts.push({ name: port.name, mode: port.mode, mayBeMissing: port.role === "trunk" });
          continue;
        default: {
          const never: never = port.role;
          throw new TypeError(`Cannot add port: unknown role ${String(never)}`);
        }
      }
    }
    // a NIC kept unplugged (vm net disconnect) comes back as it is: only new devices are made
    const newTaps = taps.filter((tap) => !this.nameInUse(tap));
    const newVeths = veths.filter((v) => !this.nameInUse(v.hostEnd));
    const tapBatch = this.#batch();
    for (const tap of newTaps) {
      tapBatch.add("tuntap", "add", "dev", tap, "mode", "tap")
        .add("link", "set", "dev", tap, "addrgenmode", "none")
        .add("link", "set", "dev", tap, "up");
    }
    let created: string[] = [];
    try {
      await tapBatch.run();
      created = await this.#netns.plug(newVeths, {
        checksumOffloadOff: (await this.ovs.datapathType()) === "netdev",
      });
      await this.#answerNoArp([...newTaps, ...newVeths.map((v) => v.hostEnd)]);
      // a container that does not run is silent from its first NIC on, before that NIC is on the bridge
      const silent = new Map<string, string>();
      for (const port of ports) {
        const vm = port.vm;
        if (vm?.type !== "container" || vm.running) continue;
        const namespace = this.#namespaceOf(vm);
        if (created.includes(namespace)) silent.set(namespace, vm.name);
      }
      await this.#loadRuleset(silent, true);
      const { missing } = await this.ovs.addPorts(bridge, ovsPorts);
      for (const name of missing) {
        this.#warn(`interface ${name} does not exist (yet): bridge ${bridge} trunks to it once it appears`);
      }
    } catch (error) {
      await this.#netns.unplug([...newTaps, ...newVeths.map((v) => v.hostEnd)], created).catch(() => {});
      throw error;
    }
    for (const tap of taps) this.#nics.set(tap, { kind: "kvm" });
    for (const v of veths) {
      this.#nics.set(v.hostEnd, { kind: "container", namespace: v.namespace, ifname: v.ifname });
    }
    await this.#configureInternal(internal);
    for (const port of internal) {
      const kept = this.#keptAddresses.get(port.name);
      this.#keptAddresses.delete(port.name);
      for (const cidr of kept ?? []) await this.addAddress(bridge, port.name, cidr);
    }
  }

  /**
   * Sets up host taps and capture ports, which OVS made: the MAC of a host tap, no IPv6 chatter, a host
   * tap a quiet endpoint answering ARP for its own addresses only, and up.
   */
  async #configureInternal(ports: readonly PortSpec[]): Promise<void> {
    if (ports.length === 0) return;
    const batch = this.#batch();
    for (const port of ports) {
      if (port.mac !== undefined) batch.add("link", "set", "dev", port.name, "address", port.mac);
      if (port.role === "host") quietEndpoint(batch, port.name);
      else batch.add("link", "set", "dev", port.name, "addrgenmode", "none");
      batch.add("link", "set", "dev", port.name, "up");
    }
    await batch.run();
    // one endpoint on one VLAN: no answers for the host's other addresses (Linux's weak host model)
    await this.#answerOwnArp(ports.filter((p) => p.role === "host").map((p) => p.name));
  }

  /** Makes host taps answer ARP only for their own addresses (`arp_ignore=1`, `arp_announce=2`). */
  async #answerOwnArp(devices: readonly string[]): Promise<void> {
    await this.#setIpv4Conf(devices, [["arp_ignore", "1"], ["arp_announce", "2"]]);
  }

  /**
   * Makes the host side of VM NICs (veth host ends, KVM taps) bridge ports only: they answer no ARP
   * (`arp_ignore=8`). Linux answers ARP for any of its addresses on any interface, so without this the
   * host end of a VM's own veth answered the VM's ARP for a host tap's address first, with its own MAC.
   */
  async #answerNoArp(devices: readonly string[]): Promise<void> {
    await this.#setIpv4Conf(devices, [["arp_ignore", "8"]]);
  }

  /** Sets `net.ipv4.conf.<device>.<key>` for every device, in the lab's host-side namespace. */
  async #setIpv4Conf(
    devices: readonly string[],
    values: readonly (readonly [string, string])[],
  ): Promise<void> {
    const settings = devices.flatMap((name) =>
      values.map(([key, value]) => [`net/ipv4/conf/${name}/${key}`, value] as const)
    );
    if (settings.length === 0) return;
    // one sysctl for all, in the lab's host-side namespace (where /proc/sys/net is the devices')
    try {
      await this.#exec("sysctl").args("-q", "-w", ...settings.map(([key, value]) => `${key}=${value}`))
        .timeout(10_000).run();
    } catch (error) {
      if (!(error instanceof ExecError) || !error.notFound) throw error;
      throw new Error(
        `Cannot set up ${devices.join(", ")}: sysctl is not installed (apt-get install procps)`,
        { cause: error },
      );
    }
  }

  /**
   * Removes ports in one transaction, then the devices behind VM NICs (veth pairs, taps) and the
   * namespaces left without NICs, in one `ip -batch`. With `keepNics`, only the ports go: the devices
   * stay, addresses and all, for a later `addPorts` (`vm net disconnect`, `vm net connect`).
   */
  async removePorts(
    bridge: string,
    ports: readonly string[],
    options: RemovePortsOptions = {},
  ): Promise<void> {
    if (ports.length === 0) return;
    if (options.keepNics === true) {
      // a host tap is an OVS internal port: its device goes with the port, so its addresses are kept here
      // and given back when it is plugged again (a VM NIC's device stays, addresses and all)
      for (const port of ports) {
        if (this.#nics.has(port)) continue;
        const addresses = await this.#netns.addresses(undefined, port).catch(() => []);
        if (addresses.length > 0) {
          this.#keptAddresses.set(port, addresses.map((a) => `${a.address}/${a.prefixLength}`));
        }
      }
      return await this.ovs.deletePorts(bridge, ports);
    }
    const made = await this.ovs.listLabwire();
    await this.ovs.deletePorts(bridge, ports);
    await this.#dropDevices(made, ports);
  }

  /**
   * Destroys VM NICs kept unplugged: KVM taps, container veth pairs, and the namespaces no labwire port
   * needs any more; what is gone already is no error.
   */
  async destroyNics(nics: readonly PortSpec[]): Promise<void> {
    if (nics.length === 0) return;
    const namespaces = new Set<string>();
    for (const nic of nics) {
      if (nic.vm?.type === "container") namespaces.add(this.#namespaceOf(nic.vm));
      this.#nics.delete(nic.name);
    }
    await this.#destroy(nics.map((n) => n.name), namespaces, (await this.ovs.listLabwire()).ports);
  }

  /**
   * Deletes the devices behind the named VM NICs' ports and the namespaces no other labwire port needs,
   * given what OVS held before the ports went.
   */
  async #dropDevices(made: LabwireObjects, ports: readonly string[]): Promise<void> {
    const gone = new Set(ports);
    const links: string[] = [];
    const namespaces = new Set<string>();
    for (const port of made.ports) {
      if (!gone.has(port.name)) continue;
      const device = deviceOf(port.externalIds) ?? this.#nics.get(port.name);
      if (device === undefined) continue;
      links.push(port.name);
      if (device.kind === "container") namespaces.add(device.namespace);
      this.#nics.delete(port.name);
    }
    await this.#destroy(links, namespaces, made.ports.filter((port) => !gone.has(port.name)));
  }

  /**
   * Deletes links (veth host ends, taps), and the namespaces among `namespaces` that no port left in OVS
   * still needs (a container VM's other NICs).
   */
  async #destroy(
    links: readonly string[],
    namespaces: Set<string>,
    left: readonly LabwirePort[],
  ): Promise<void> {
    for (const port of left) namespaces.delete(port.externalIds[NETNS_KEY] ?? "");
    // a server running in a namespace would keep it alive: it goes first
    for (const namespace of namespaces) await stopDnsmasq(this.#servicesDir(namespace));
    await this.#netns.unplug(links, [...namespaces]);
    for (const namespace of namespaces) this.#silent.delete(namespace);
  }

  /**
   * Makes what a container VM serves exactly `services` ({@linkcode ServicesBackend.setServices}): one
   * dnsmasq in its namespace (lib/real/dnsmasq.ts), with its files in the run folder, so that a later
   * process finds it by its PID file.
   *
   * @throws {Error} For a KVM VM, or when dnsmasq is missing or refuses to start.
   */
  async setServices(vm: VmSpec, services: Services): Promise<void> {
    if (vm.type !== "container") {
      throw new Error(`Cannot serve DHCP or DNS from KVM VM ${vm.name}: that is its guest's own`);
    }
    const namespace = this.#namespaceOf(vm);
    await setDnsmasq(this.#exec, namespace, this.#servicesDir(namespace), services);
  }

  /**
   * Makes a container VM's firewall exactly `fw` ({@linkcode FirewallBackend.setFirewall}): nftables
   * table `ip labwire_fw` in its namespace (lib/real/nft_fw.ts), replaced whole in one `nft -f -`.
   *
   * @throws {Error} For a KVM VM, when nft is missing, or what nft refuses.
   */
  async setFirewall(vm: VmSpec, fw: RouterFw): Promise<void> {
    if (vm.type !== "container") {
      throw new Error(`Cannot set the firewall of KVM VM ${vm.name}: it is its guest's own`);
    }
    if (which("nft") === undefined) {
      throw new Error(
        `Cannot set the firewall of ${vm.name}: nft is not installed (apt-get install nftables)`,
      );
    }
    await this.#exec("ip").args("netns", "exec", this.#namespaceOf(vm), "nft", "-f", "-").stdin(
      firewallScript(fw),
    )
      .run();
  }

  /**
   * Makes what the host serves on a host tap exactly `services` (`dnsmasq start`,
   * {@linkcode ServicesBackend.setTapServices}): one dnsmasq bound to the tap, its files in the run folder.
   *
   * @throws {Error} When dnsmasq is missing or refuses to start.
   */
  async setTapServices(
    _bridge: string,
    tap: string,
    services: TapServices,
  ): Promise<{ path: string; pid: number }> {
    const dir = this.#servicesDir(`tap-${tap}`);
    await setDnsmasq(this.#exec, { iface: tap }, dir, services);
    return { path: dir, pid: runningDnsmasq(dir) ?? -1 };
  }

  /** Where the servers of a container VM's namespace keep their files. */
  #servicesDir(namespace: string): string {
    return path.join(this.#runDir, "services", namespace);
  }

  /** The network namespace of a container VM. */
  #namespaceOf(vm: { readonly namespace: string; readonly name: string }): string {
    return `${this.#prefix}${vm.namespace}-${vm.name}`;
  }

  /** Sets a bridge column (`bridge config`): `set config failed: ...` when OVS refuses it. */
  async configureBridge(bridge: string, key: string, value: string): Promise<void> {
    try {
      await this.ovs.setBridgeConfig(bridge, key, value);
    } catch (error) {
      throw ovsFailure("set config", error);
    }
  }

  /** Joins two patch ports. */
  async addPatch(bridgeA: string, portA: string, bridgeB: string, portB: string): Promise<void> {
    await this.ovs.addPatch(bridgeA, portA, bridgeB, portB);
  }

  /** Adds a mirror to OVS's Mirror table, in effect at once, for flows that exist already too. */
  async addMirror(bridge: string, mirror: MirrorSpec): Promise<void> {
    await this.ovs.addMirror(bridge, mirror);
    await this.#purgeFlows();
  }

  /** Removes a mirror, in effect for flows that exist already. */
  async removeMirror(bridge: string, mirror: string): Promise<void> {
    await this.ovs.deleteMirror(bridge, mirror);
    await this.#purgeFlows();
  }

  /**
   * Makes ovs-vswitchd drop its datapath flows (`ovs-appctl revalidator/purge`), so that the next frame of
   * every flow is translated with the bridges as they are now. Open vSwitch (3.1, userspace datapath)
   * does not revalidate its datapath flows when a mirror changes: after `addMirror`, a flow that existed
   * before went on to and from the output port as if there were no mirror, for as long as traffic kept it
   * alive. A purge that fails is a warning: the change still holds for new flows.
   */
  async #purgeFlows(): Promise<void> {
    const seconds = this.ovs.timeoutSeconds;
    let cmd = this.#exec("ovs-appctl").args(`--timeout=${seconds}`, "revalidator/purge")
      .timeout((seconds + 5) * 1000).noThrow();
    if (this.#env !== undefined) cmd = cmd.env(this.#env);
    const r = await cmd.run().catch((error: Error) => ({ code: -1, stderr: error.message }));
    if (r.code !== 0) {
      this.#warn(
        `mirror changes may miss existing flows: ovs-appctl revalidator/purge failed: ${r.stderr.trim()}`,
      );
    }
  }

  /** Gives a container NIC (in its namespace) or a host tap (in the host) an address. */
  async addAddress(_bridge: string, port: string, cidr: string): Promise<void> {
    const device = await this.#device(port);
    if (device?.kind === "kvm") {
      throw new Error(
        `Cannot set ${cidr} on KVM VM NIC ${port} from outside the guest: configure it in the guest ` +
          "(the test guest of scripts/guest-image.sh takes labwire_ip= on its kernel command line)",
      );
    }
    if (device !== undefined) return await this.#netns.addAddress(device.namespace, device.ifname, cidr);
    await this.#batch().add("addr", "replace", cidr, "dev", port).run();
  }

  /**
   * Takes an address from a container NIC (`ip -n NS addr del CIDR dev IF`) or a host tap (`ip addr del
   * CIDR dev TAP`); one it does not have, or a NIC that is gone, is no error.
   *
   * @throws {Error} For a KVM VM NIC: its addresses are the guest's.
   */
  async removeAddress(_bridge: string, port: string, cidr: string): Promise<void> {
    const device = await this.#device(port);
    if (device?.kind === "kvm") {
      throw new Error(
        `Cannot remove ${cidr} from KVM VM NIC ${port} from outside the guest: configure it in the guest ` +
          "(the test guest of scripts/guest-image.sh takes labwire_ip= on its kernel command line)",
      );
    }
    const argv = device === undefined
      ? ["addr", "del", cidr, "dev", port]
      : ["-n", device.namespace, "addr", "del", cidr, "dev", device.ifname];
    const r = await this.#exec("ip").args(...argv).noThrow().run();
    if (r.code === 0 || ADDRESS_GONE.test(r.stderr)) return;
    throw new ExecError({ argv: ["ip", ...argv], code: r.code, stdout: r.stdout, stderr: r.stderr });
  }

  /**
   * Gets a host tap (or a container NIC) an address by DHCP with dhclient ({@linkcode dhcpLease}: within
   * 10 s, or one sentence saying why not), and gives it that address. The lease is not renewed: the
   * address stays for the tap's life.
   */
  async dhcp(bridge: string, port: string): Promise<DhcpResult> {
    const device = await this.#device(port);
    if (device?.kind === "kvm") {
      throw new Error(
        `Cannot get an address by DHCP for KVM VM NIC ${port}: run the DHCP client in the guest`,
      );
    }
    const lease = device === undefined
      ? await dhcpLease(port, { exec: this.#exec })
      : await dhcpLease(device.ifname, { exec: this.#exec, namespace: device.namespace });
    await this.addAddress(bridge, port, lease.address);
    return { address: lease.address, ...(lease.router === undefined ? {} : { router: lease.router }) };
  }

  /**
   * Starts tcpdump on the port (`--immediate-mode`, `-U`, the snaplen, the filter after `--`, so that no
   * filter word is read as an option), stopped with SIGINT; resolves once tcpdump says it is listening,
   * so no frame sent after this is missed. A capture without a path writes a temporary pcap file in the
   * backend's run folder, which {@linkcode OvsBackend.readCapture} reads and stopping it removes.
   *
   * @throws {Error} `Cannot capture on the ovs backend: tcpdump is not installed ...`; or when tcpdump
   * exits or does not listen within 10 s: `Cannot capture to FILE: tcpdump exited: ...` (`Cannot capture
   * port P: ...` without a path).
   */
  async startCapture(capture: CaptureSpec): Promise<void> {
    if (which("tcpdump") === undefined) {
      throw new Error(
        "Cannot capture on the ovs backend: tcpdump is not installed (apt-get install tcpdump)",
      );
    }
    const temporary = capture.path === undefined;
    const file = capture.path ??
      path.join(this.#acquireWorkDir(), `capture-${capture.id}-${++this.#workFiles}.pcap`);
    const stop = new AbortController();
    const argv = [
      "-i",
      capture.port,
      "-U",
      "--immediate-mode",
      "-s",
      String(capture.snaplen),
      "-w",
      file,
      ...(capture.filter === "" ? [] : ["--", capture.filter]),
    ];
    let said = "";
    let listening: () => void = () => {};
    const ready = new Promise<void>((resolve) => (listening = resolve));
    const done = this.#exec("tcpdump").args(...argv).timeout(Infinity).signal(stop.signal).killSignal(
      "SIGINT",
    )
      .onStderr((text) => {
        said += text;
        if (said.includes("listening on")) listening();
      })
      .noThrow().run();
    const running: RunningCapture = { done, stop, file, temporary, limit: capture.limit };
    this.#captures.set(capture.id, running);
    const what = capture.path === undefined ? `port ${capture.port}` : `to ${capture.path}`;
    try {
      await waitForListening(what, ready, done, stop);
    } catch (error) {
      await this.stopCapture(capture.id);
      throw error;
    }
    // tcpdump ending by itself later (a full disk, the port gone) fails the capture alone: said once,
    // with the file's name, and by every later flush or read of it
    done.then((result) => {
      if (result.aborted || !this.#captures.has(capture.id)) return;
      const why = result.stderr.trim().split("\n").filter((l) => !l.startsWith("tcpdump: listening")).join(
        "; ",
      );
      running.failed = `Cannot write capture file '${
        capture.path ?? file
      }': tcpdump exited with status ${result.code}${why === "" ? "" : `: ${why}`}`;
      this.#warn(`${running.failed}; the capture keeps no more frames (the traffic goes on)`);
    }, () => {});
  }

  /**
   * Waits until a capture's file holds every frame tcpdump has seen: tcpdump (`-U`) writes each packet
   * as it gets it, so the file is complete once its size has not changed for 100 ms (waiting 2 s at
   * most on a port that never goes quiet). Works on a capture without a path too (its temporary file).
   *
   * @throws {Error} `Cannot write capture file 'PATH': tcpdump exited ...` when tcpdump ended by itself.
   */
  async flushCapture(id: number): Promise<void> {
    const capture = this.#captures.get(id);
    if (capture?.failed !== undefined) throw new Error(capture.failed);
    if (capture !== undefined) await settle(capture.file);
  }

  /**
   * The frames a capture kept, once its file holds every frame seen so far
   * ({@linkcode OvsBackend.flushCapture}): every whole record of its pcap file (tcpdump may be writing
   * the last one), or for a capture without a path the newest `limit` of them, `dropped` counting the
   * others. A pcap file holds no direction, so `direction` is undefined.
   */
  async readCapture(id: number): Promise<CaptureContents> {
    const capture = this.#captures.get(id);
    if (capture === undefined) return { frames: [], dropped: 0 };
    if (capture.failed !== undefined) throw new Error(capture.failed);
    await settle(capture.file);
    const { records, total } = readPcapTail(
      readIfThere(capture.file),
      capture.temporary ? capture.limit : Infinity,
    );
    return {
      frames: records.map((r) => ({
        timeNs: r.timeNs,
        direction: undefined,
        data: r.data,
        origLen: r.origLen,
      })),
      dropped: total - records.length,
    };
  }

  /** Stops a capture with SIGINT, so tcpdump completes its file; a capture without a path loses its file. */
  async stopCapture(id: number): Promise<void> {
    const capture = this.#captures.get(id);
    if (capture === undefined) return;
    this.#captures.delete(id);
    // let tcpdump write what the kernel has handed it already: SIGINT ends its loop, and frames it has not
    // read yet are lost (a loaded machine showed the last three of a ping missing)
    await settle(capture.file);
    capture.stop.abort();
    await capture.done.catch(() => {}); // a tcpdump that failed has said so when the capture started
    if (!capture.temporary) return;
    fs.rmSync(capture.file, { force: true });
    this.#releaseWorkDir();
  }

  /**
   * Pings from a container NIC's namespace ({@linkcode Netns.pingFrom}), or from the host through a host
   * tap ({@linkcode pingArgs} with `-I TAP`), reaching only what that NIC routes to, as on the simulator,
   * where each NIC is a host of its own: a host tap reaches its own subnets only (`ip -4 -j addr show dev
   * TAP`; Linux would send from a bound socket to any address, ARPing on the tap). An address out of
   * reach sends nothing and gives `networkUnreachable`, as ping's own `connect: Network is unreachable`
   * does. A ping nothing answered leaves no neighbour entry behind, as on the simulator.
   *
   * @throws {SyntaxError} If `ip` is not an IPv4 address.
   * @throws {Error} For a KVM VM NIC: labwire has no agent in the guest.
   */
  async ping(_bridge: string, port: string, ip: string, count: number): Promise<PingReport> {
    await this.#ready();
    const device = await this.#device(port);
    if (device?.kind === "kvm") {
      throw new Error(
        `Cannot ping from KVM VM NIC ${port}: labwire has no agent in the guest; ping it from a host tap`,
      );
    }
    const dst = ipv4Number(ip);
    if (dst === undefined) throw new SyntaxError(`Cannot ping from ${port}: '${ip}' is not an IPv4 address`);
    if (device !== undefined) return await this.#netns.pingFrom(device.namespace, device.ifname, ip, count);
    const own = await this.#netns.addresses(undefined, port);
    if (!own.some((a) => inSubnet(dst, a))) return networkUnreachableReport();
    const r = await this.#exec("ping").args(...pingArgs(ip, count, port)).timeout(pingTimeoutMs(count))
      .noThrow().run();
    const report = parsePingOutput(`${r.stdout}\n${r.stderr}`);
    if (!report.networkUnreachable && report.received === 0) {
      await this.#batch().add("neigh", "flush", "to", ip, "dev", port).run();
    }
    return report;
  }

  /** What is behind a VM NIC's port: known here, or read back from OVS; `undefined` for other ports. */
  async #device(port: string): Promise<NicDevice | undefined> {
    const known = this.#nics.get(port);
    if (known !== undefined) return known;
    const ids = (await this.ovs.listLabwire()).ports.find((p) => p.name === port)?.externalIds;
    const device = ids === undefined ? undefined : deviceOf(ids);
    if (device !== undefined) this.#nics.set(port, device);
    return device;
  }

  /**
   * Removes everything labwire made in this OVS, for any lab, by this process or an earlier one (`nuke`):
   * first the QEMUs of this backend's KVM VMs (with `keepVms`, every one whose PID file is in `runDir`),
   * then the bridges and ports marked `external_ids:labwire` in one transaction, then the VM NICs' devices
   * and the namespaces of container VMs in one `ip -batch`.
   */
  async nuke(): Promise<void> {
    // QEMU first: it holds its taps; a QEMU that outlives SIGKILL fails nuke once the rest is done
    const killed = await this.#kvm.killAll().then(() => undefined, (error: unknown) => error);
    await this.#ready();
    const made = await this.ovs.listLabwire();
    const tx = this.ovs.transaction();
    for (const bridge of made.bridges) tx.add("--if-exists", "del-br", bridge);
    for (const port of made.ports) {
      if (port.bridge !== "" && !made.bridges.includes(port.bridge)) {
        tx.add("--if-exists", "del-port", port.bridge, port.name);
      }
    }
    await tx.run();
    const links = made.ports.filter((p) => deviceOf(p.externalIds) !== undefined).map((p) => p.name);
    const namespaces = (await this.#netns.list()).filter((ns) => ns.startsWith(this.#prefix));
    await this.#netns.unplug(links, namespaces);
    this.#nics.clear();
    if (killed !== undefined) throw killed;
  }

  /**
   * Whether the host (the OVS namespace, with an {@linkcode OvsBackend.ovsNetns}) has a network device of
   * that name (minimega's tap names skip them). The devices of an OVS namespace are read from
   * /proc/PID/net/dev of a process in it (its ovs-vswitchd); with no process there, no name is in use.
   */
  nameInUse(name: string): boolean {
    if (this.ovsNetns === undefined) return fs.existsSync(`/sys/class/net/${name}`);
    if (this.#devices === undefined) {
      // read once for a whole run of questions (a launch naming many taps), again after it
      this.#devices = this.#netnsDevices();
      queueMicrotask(() => this.#devices = undefined);
    }
    return this.#devices.has(name);
  }

  /** The network devices of the OVS namespace, from /proc/PID/net/dev of a process in it; none without one. */
  #netnsDevices(): Set<string> {
    const pid = this.#processInNetns();
    if (pid === undefined) return new Set();
    let text: string;
    try {
      text = fs.readFileSync(`/proc/${pid}/net/dev`, "utf8");
    } catch {
      return new Set(); // it exited meanwhile
    }
    // two heading lines, then "  name: counters..."
    return new Set(
      text.split("\n").slice(2).map((line) => line.split(":")[0]!.trim()).filter((n) => n !== ""),
    );
  }

  /**
   * Launches VMs, paused. A KVM VM gets QEMU, KVM where /dev/kvm can be used, TCG otherwise; with
   * `keepVms`, QEMU is detached, and a QEMU of that VM still running from an earlier process is an error
   * (it is not reused: `Cannot launch KVM VM web: an earlier QEMU of it is still running (PID 1234);
   * ...`). A container VM is its namespace: it goes silent ({@linkcode OvsBackend.stopVms}).
   */
  async launchVms(vms: readonly VmSpec[]): Promise<void> {
    const kvms = vms.filter((vm) => vm.type === "kvm");
    if (kvms.length > 0) {
      const kvm = await this.#kvm.kvmAvailable();
      for (const vm of kvms) {
        await this.#onKvm(vm, (name) =>
          this.#kvm.launch({
            name,
            memory: vm.memory,
            vcpus: vm.vcpus,
            ...(vm.kernel === "" ? {} : { kernel: vm.kernel }),
            ...(vm.initrd === "" ? {} : { initrd: vm.initrd }),
            ...(vm.append === "" ? {} : { append: vm.append }),
            ...(vm.disks[0] === undefined ? {} : { disk: vm.disks[0] }),
            nics: vm.nics,
            kvm,
          }));
      }
    }
    await this.#silence(vms, true);
  }

  /** Hot-plugs NICs into a KVM VM's QEMU (QMP `netdev_add`, `device_add` on `pci.0`), as minimega does. */
  async hotplugNics(vm: VmSpec, nics: readonly number[]): Promise<void> {
    if (vm.type !== "kvm") return;
    for (const i of nics) {
      const nic = vm.nics[i];
      if (nic !== undefined) await this.#onKvm(vm, (name) => this.#kvm.addNic(name, nic));
    }
  }

  /**
   * Runs paused VMs: a KVM VM's QEMU continues (QMP `cont`; with `keepVms`, one launched by another
   * process is found by its name first, {@linkcode Kvm.attach}: `Cannot start KVM VM web: its QEMU (PID
   * 1234) is not running` when it is gone); a container VM's pause tables go, all containers' in one
   * `ip -force -batch`.
   */
  async startVms(vms: readonly VmSpec[]): Promise<void> {
    for (const vm of vms) if (vm.type === "kvm") await this.#onKvm(vm, (name) => this.#kvm.start(name));
    await this.#silence(vms, false);
  }

  /**
   * Pauses running VMs: a KVM VM's QEMU stops (QMP `stop`), found as {@linkcode OvsBackend.startVms}
   * finds it. A container VM gets nftables tables in its namespace that drop everything it would send or
   * receive (`table arp labwire_pause`, `table inet labwire_pause`), all containers' in one `ip -force
   * -batch` of `netns exec NS nft -f FILE` lines; one without NICs yet (no namespace) is skipped.
   *
   * @throws {Error} `Cannot pause container VM web: nft is not installed (apt-get install nftables)`.
   */
  async stopVms(vms: readonly VmSpec[]): Promise<void> {
    for (const vm of vms) if (vm.type === "kvm") await this.#onKvm(vm, (name) => this.#kvm.stop(name));
    await this.#silence(vms, true);
  }

  /**
   * Ends VMs: a KVM VM's QEMU goes, its taps stay, as minimega's do (with `keepVms`, one launched by
   * another process is found by its PID file and killed by PID; a VM whose QEMU is gone already is no
   * error). A container goes silent at once, as a paused one (the lab removes its NICs next, and its
   * namespace goes with the last).
   */
  async killVms(vms: readonly VmSpec[]): Promise<void> {
    for (const vm of vms) {
      if (vm.type !== "kvm") continue;
      if (!this.keepsVms && this.#kvm.get(kvmName(vm)) === undefined) continue;
      await this.#onKvm(vm, (name) => this.#kvm.kill(name));
    }
    // a killed container answers nothing from now on, as a killed KVM VM: the lab removes its NICs next
    await this.#silence(vms, true);
  }

  /**
   * Makes container VMs silent, or lets them answer again; those without a namespace (no NICs) are skipped,
   * and so are those this process made silent already (their first NIC's {@linkcode OvsBackend.addPorts}).
   */
  async #silence(vms: readonly VmSpec[], silent: boolean): Promise<void> {
    const containers = vms.filter((vm) =>
      vm.type === "container" && !(silent && this.#silent.has(this.#namespaceOf(vm)))
    );
    if (containers.length === 0) return;
    // a line for a namespace that is missing would run the rest of the batch twice (iproute2 6.1: the
    // child forked for `netns exec` goes on reading the batch when it cannot enter the namespace)
    const existing = new Set(await this.#netns.list());
    const namespaces = new Map<string, string>();
    for (const vm of containers) {
      const namespace = this.#namespaceOf(vm);
      if (existing.has(namespace) && !namespaces.has(namespace)) namespaces.set(namespace, vm.name);
    }
    await this.#loadRuleset(namespaces, silent);
  }

  /**
   * Loads the pause ruleset (or the one removing it) in each namespace, in one `ip -force -batch` of
   * `netns exec NS nft -f FILE` lines, the file written in the backend's run folder and removed after.
   *
   * @param namespaces The namespaces, each with the name of its VM for the error.
   */
  async #loadRuleset(namespaces: ReadonlyMap<string, string>, silent: boolean): Promise<void> {
    if (namespaces.size === 0) return;
    if (which("nft") === undefined) {
      const [vm] = namespaces.values();
      throw new Error(
        `Cannot ${
          silent ? "pause" : "start"
        } container VM ${vm}: nft is not installed (apt-get install nftables)`,
      );
    }
    const file = path.join(this.#acquireWorkDir(), `${silent ? "pause" : "start"}-${++this.#workFiles}.nft`);
    try {
      fs.writeFileSync(file, silent ? PAUSE_RULESET : START_RULESET);
      const batch = new IpBatch({ exec: this.#exec, force: true });
      for (const namespace of namespaces.keys()) batch.add("netns", "exec", namespace, "nft", "-f", file);
      await batch.run();
      for (const namespace of namespaces.keys()) {
        if (silent) this.#silent.add(namespace);
        else this.#silent.delete(namespace);
      }
    } finally {
      fs.rmSync(file, { force: true });
      this.#releaseWorkDir();
    }
  }

  /** The backend's run folder, made when the first user needs it. */
  #acquireWorkDir(): string {
    this.#workDirUsers++;
    this.#workDir ??= fs.mkdtempSync(path.join(os.tmpdir(), `labwire-ovs-${process.pid}-`));
    return this.#workDir;
  }

  /** Removes the run folder when its last user is done with it. */
  #releaseWorkDir(): void {
    this.#workDirUsers = Math.max(0, this.#workDirUsers - 1);
    if (this.#workDirUsers > 0 || this.#workDir === undefined) return;
    fs.rmSync(this.#workDir, { recursive: true, force: true });
    this.#workDir = undefined;
  }

  /** Runs a {@linkcode Kvm} call on a VM; its errors name the VM as the lab does (`web`, not `minimega-web`). */
  /**
   * Sets a container VM's forwarding and routes, in its namespace only (the host's sysctls are never
   * touched): `net.ipv4.ip_forward` with `sysctl`, then one `ip -batch` in the namespace that flushes the
   * routes labwire set before (`proto static`) and adds `routing`'s, the default route included.
   *
   * @throws {Error} For a KVM VM (its routing is its guest's), or what `sysctl` or `ip` refuse.
   */
  async setRouting(vm: VmSpec, routing: Routing): Promise<void> {
    if (vm.type !== "container") {
      throw new Error(`Cannot set the routing of KVM VM ${vm.name}: it is its guest's own`);
    }
    const namespace = this.#namespaceOf(vm);
    await this.#exec("ip")
      .args(
        "netns",
        "exec",
        namespace,
        "sysctl",
        "-q",
        "-w",
        `net.ipv4.ip_forward=${routing.forwarding ? 1 : 0}`,
      )
      .run();
    const batch = new IpBatch({ exec: this.#exec, namespace });
    // the loopback's own addresses (lo keeps 127.0.0.1, which is scope host)
    batch.add("addr", "flush", "dev", "lo", "scope", "global");
    for (const cidr of routing.loopbacks) batch.add("addr", "add", cidr, "dev", "lo");
    batch.add("route", "flush", "proto", "static");
    for (const route of routing.routes) {
      batch.add("route", "replace", route.network, "via", route.via, "proto", "static");
    }
    if (routing.gateway !== "") {
      batch.add("route", "replace", "default", "via", routing.gateway, "proto", "static");
    }
    await batch.run();
  }

  /**
   * Opens a way out: forwarding on in the host's namespace (labwire's tables remember the setting it
   * had before the first way out, in their names: `labwire_nat_f0_<tap>`), then one nftables table of its
   * own (`nft -f -`, so all of it or nothing): the subnet masqueraded out of the uplink; forwarding
   * between the tap and the uplink only, answers back; from the lab to the host only answers and ICMP.
   *
   * @throws {Error} `Cannot open a way out through X: no such interface`, `nft is not installed`, or what
   * nft or sysctl refuse (then nothing stays changed).
   */
  async openUplink(spec: UplinkSpec): Promise<void> {
    if (which("nft") === undefined) {
      throw new Error("Cannot open a way out: nft is not installed (apt-get install nftables)");
    }
    const link = await this.#exec("ip").args("-j", "link", "show", "dev", spec.uplink).noThrow().run();
    if (link.code !== 0) throw new Error(`Cannot open a way out through ${spec.uplink}: no such interface`);
    const tables = await this.#natTables();
    const was = tables[0]?.forwarding ??
      (await this.#exec("sysctl").args("-n", "net.ipv4.ip_forward").text()).trim();
    const table = `labwire_nat_f${was === "1" ? 1 : 0}_${spec.tap}`;
    const q = (s: string) => JSON.stringify(s);
    const ruleset = [
      `table ip ${table} {`,
      "  chain postrouting {",
      "    type nat hook postrouting priority srcnat; policy accept;",
      `    ip saddr ${spec.subnet} oifname ${q(spec.uplink)} masquerade`,
      "  }",
      "  chain forward {",
      "    type filter hook forward priority filter; policy accept;",
      `    iifname ${q(spec.tap)} oifname ${q(spec.uplink)} ip saddr ${spec.subnet} accept`,
      `    iifname ${q(spec.uplink)} oifname ${q(spec.tap)} ct state established,related accept`,
      `    iifname ${q(spec.tap)} drop`,
      `    oifname ${q(spec.tap)} drop`,
      "  }",
      "  chain input {",
      "    type filter hook input priority filter; policy accept;",
      `    iifname ${q(spec.tap)} ct state established,related accept`,
      `    iifname ${q(spec.tap)} ip protocol icmp accept`,
      `    iifname ${q(spec.tap)} drop`,
      "  }",
      "}",
      "",
    ].join("\n");
    await this.#exec("nft").args("-f", "-").stdin(ruleset).run();
    try {
      await this.#exec("sysctl").args("-q", "-w", "net.ipv4.ip_forward=1").run();
    } catch (error) {
      await this.#exec("nft").args("delete", "table", "ip", table).noThrow().run();
      throw error;
    }
  }

  /**
   * Closes a way out: its table goes, and when it was labwire's last, the host's forwarding gets back the
   * setting it had before the first (from the table's name).
   */
  async closeUplink(spec: UplinkSpec): Promise<void> {
    if (which("nft") === undefined) return;
    const tables = await this.#natTables();
    const mine = tables.filter((t) => t.tap === spec.tap);
    for (const t of mine) await this.#exec("nft").args("delete", "table", "ip", t.name).noThrow().run();
    const left = tables.filter((t) => t.tap !== spec.tap);
    if (left.length === 0 && mine[0] !== undefined) {
      await this.#exec("sysctl").args("-q", "-w", `net.ipv4.ip_forward=${mine[0].forwarding}`).run();
    }
  }

  /** labwire's way-out tables in the host's nftables, with the forwarding setting each remembers. */
  async #natTables(): Promise<{ name: string; tap: string; forwarding: string }[]> {
    const r = await this.#exec("nft").args("-j", "list", "tables", "ip").noThrow().run();
    if (r.code !== 0) return [];
    const found: { name: string; tap: string; forwarding: string }[] = [];
    try {
      for (
        const item of (JSON.parse(r.stdout) as { nftables?: { table?: { name?: string } }[] }).nftables ?? []
      ) {
        const m = /^labwire_nat_f([01])_(.+)$/.exec(item.table?.name ?? "");
        if (m !== null) found.push({ name: m[0], tap: m[2]!, forwarding: m[1]! });
      }
    } catch {
      // not JSON: no tables to speak of
    }
    return found;
  }

  /** The KVM VMs among `vms` whose QEMU is gone though nobody killed it, each with why. */
  exitedVms(vms: readonly VmSpec[]): Promise<Map<string, string>> {
    const exited = new Map<string, string>();
    for (const vm of vms) {
      if (vm.type !== "kvm") continue;
      const why = this.#kvm.exited(kvmName(vm));
      if (why !== undefined) exited.set(vm.name, why);
    }
    return Promise.resolve(exited);
  }

  async #onKvm<T>(vm: VmSpec, call: (name: string) => Promise<T>): Promise<T> {
    try {
      return await call(kvmName(vm));
    } catch (error) {
      throw error instanceof KvmError && error.vm === kvmName(vm) ? error.withVm(vm.name) : error;
    }
  }

  /**
   * Stops every capture this process runs, and the QEMUs it runs unless they are kept (`keepVms`): bridges,
   * ports and namespaces stay in OVS, kept KVM VMs in `runDir`.
   */
  async close(): Promise<void> {
    for (const id of [...this.#captures.keys()]) await this.stopCapture(id);
    if (!this.keepsVms) await this.#kvm.killAll();
    if (this.#ownRunDir) fs.rmSync(this.#runDir, { recursive: true, force: true });
    if (this.#workDir !== undefined) fs.rmSync(this.#workDir, { recursive: true, force: true });
    this.#workDir = undefined;
    this.#workDirUsers = 0;
  }

  #batch(): IpBatch {
    return new IpBatch({ exec: this.#exec });
  }
}

/** What a VM NIC port's `external_ids` say is behind it. */
function deviceOf(ids: Readonly<Record<string, string>>): NicDevice | undefined {
  if (ids[KVM_TAP_KEY] !== undefined) return { kind: "kvm" };
  const namespace = ids[NETNS_KEY];
  const ifname = ids[IFNAME_KEY];
  return namespace === undefined || ifname === undefined
    ? undefined
    : { kind: "container", namespace, ifname };
}

/**
 * Waits until tcpdump says it is listening.
 *
 * @throws {Error} If tcpdump exits first (with its error), or after {@linkcode CAPTURE_START_MS} (tcpdump
 * is stopped then).
 */
async function waitForListening(
  what: string,
  ready: Promise<void>,
  done: Promise<{ stderr: string }>,
  stop: AbortController,
): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const outcome = await Promise.race([
    ready.then(() => "listening" as const),
    done.then((r) => r, (error: Error) => ({ stderr: error.message })),
    new Promise<"late">((resolve) => (timer = setTimeout(() => resolve("late"), CAPTURE_START_MS))),
  ]);
  clearTimeout(timer);
  if (outcome === "listening") return;
  if (outcome === "late") {
    stop.abort();
    throw new Error(
      `Cannot capture ${what}: tcpdump did not start listening within ${CAPTURE_START_MS / 1000} s`,
    );
  }
  const stderr = outcome.stderr.trim().split("\n").filter((l) => !l.startsWith("tcpdump: listening")).join(
    " ",
  );
  throw new Error(`Cannot capture ${what}: tcpdump exited${stderr === "" ? "" : `: ${stderr}`}`);
}

/** The QEMU name of a KVM VM: its lab namespace and name. */
function kvmName(vm: VmSpec): string {
  return `${vm.namespace}-${vm.name}`;
}

/**
 * Waits until a file's size has not changed for {@linkcode CAPTURE_QUIET_MS}, at most
 * {@linkcode CAPTURE_FLUSH_MAX_MS}.
 */
async function settle(file: string): Promise<void> {
  const begin = Date.now();
  let size = sizeOf(file);
  let since = begin;
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, CAPTURE_POLL_MS));
    const now = Date.now();
    const next = sizeOf(file);
    if (next !== size) {
      size = next;
      since = now;
    } else if (now - since >= CAPTURE_QUIET_MS) return;
    if (now - begin >= CAPTURE_FLUSH_MAX_MS) return;
  }
}

/** A file's size, -1 while it does not exist. */
function sizeOf(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch {
    return -1;
  }
}

/** A file's bytes; none while it does not exist (tcpdump has not made it yet). */
function readIfThere(file: string): Uint8Array {
  try {
    return fs.readFileSync(file);
  } catch (error) {
    if ((error as { code?: unknown }).code === "ENOENT") return new Uint8Array(0);
    throw error;
  }
}

/** An IPv4 address as a 32-bit number, or undefined when it is not one. */
function ipv4Number(ip: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(ip);
  if (m === null) return undefined;
  let n = 0;
  for (const part of m.slice(1)) {
    const byte = Number(part);
    if (byte > 255) return undefined;
    n = n * 256 + byte;
  }
  return n;
}

/** Whether an address lies in the subnet of an interface's address. */
function inSubnet(ip: number, own: InterfaceAddress): boolean {
  const base = ipv4Number(own.address);
  if (base === undefined) return false;
  const bits = Math.max(0, Math.min(32, own.prefixLength));
  const size = 2 ** (32 - bits);
  return Math.floor(base / size) === Math.floor(ip / size);
}
