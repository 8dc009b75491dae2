// Runtime-neutral.
/**
 * QEMU command lines for KVM VMs (issue 4, first piece): the NIC arguments exactly as minimega builds
 * them (spec section 7), the accelerator, and the rest of a launch. Pure functions: launching lives in
 * the backend.
 *
 * @module
 */

/** A NIC as QEMU is told of it: its tap (made beforehand), model and MAC. */
export interface QemuNic {
  /** The tap device, e.g. `mega_tap3`; also the netdev id. */
  readonly tap: string;
  /** The NIC model, e.g. `e1000` or `virtio-net-pci`. */
  readonly driver: string;
  /** The MAC, lower-case colons. */
  readonly mac: string;
}

/** Where the next PCI device goes after the NICs (virtio-serial controllers continue there). */
export interface PciSlot {
  /** The bridge number: the device goes on `pci.<bus>`. */
  readonly bus: number;
  /** The slot on that bridge, 1 to 31. */
  readonly addr: number;
}

/** Options for {@linkcode qemuNicArgs}. */
export interface QemuNicArgsOptions {
  /**
   * Add `vnet_hdr=off` to each tap netdev: without it TCP stalls through Open vSwitch's userspace
   * datapath (recipes/environment.md 4.5); minimega does not add it. @default {true}
   */
  vnetHdrOff?: boolean;
}

/**
 * The NIC part of a QEMU command line, as minimega builds it: always one `pci-bridge` (`pci.1`), then
 * per NIC a tap `-netdev` (`script=no`, QEMU never makes the tap) and a `-device` on the bridge; the
 * slot counts from 1 and a new bridge is added each time it reaches 32.
 *
 * @returns The arguments, and the slot where the next device goes.
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { qemuNicArgs } from "labwire/ovs";
 * const { args, next } = qemuNicArgs([{ tap: "mega_tap0", driver: "e1000", mac: "02:00:00:00:00:01" }]);
 * assert.deepEqual(args, [
 *   "-device", "pci-bridge,id=pci.1,chassis_nr=1",
 *   "-netdev", "tap,id=mega_tap0,script=no,ifname=mega_tap0,vnet_hdr=off",
 *   "-device", "driver=e1000,netdev=mega_tap0,mac=02:00:00:00:00:01,bus=pci.1,addr=0x1",
 * ]);
 * assert.deepEqual(next, { bus: 1, addr: 2 });
 * ```
 */
export function qemuNicArgs(
  nics: readonly QemuNic[],
  options: QemuNicArgsOptions = {},
): { args: string[]; next: PciSlot } {
  const { vnetHdrOff = true } = options;
  const args = ["-device", "pci-bridge,id=pci.1,chassis_nr=1"];
  let bus = 1;
  let addr = 1;
  for (const nic of nics) {
    args.push("-netdev", `tap,id=${nic.tap},script=no,ifname=${nic.tap}${vnetHdrOff ? ",vnet_hdr=off" : ""}`);
    args.push(
      "-device",
      `driver=${nic.driver},netdev=${nic.tap},mac=${nic.mac},bus=pci.${bus},addr=0x${addr.toString(16)}`,
    );
    addr++;
    if (addr === 32) {
      bus++;
      addr = 1;
      args.push("-device", `pci-bridge,id=pci.${bus},chassis_nr=${bus}`);
    }
  }
  return { args, next: { bus, addr } };
}

/** What a KVM VM is launched with. */
export interface QemuLaunch {
  /** The VM's name. */
  readonly name: string;
  /** Memory in MiB. @default {512} */
  readonly memory?: number;
  /** Virtual CPUs. @default {1} */
  readonly vcpus?: number;
  /** A kernel to boot directly. */
  readonly kernel?: string;
  /** Its initrd. */
  readonly initrd?: string;
  /** The kernel command line. */
  readonly append?: string;
  /** A disk image. */
  readonly disk?: string;
  /** The NICs. */
  readonly nics: readonly QemuNic[];
  /** Whether /dev/kvm can be used; TCG otherwise. */
  readonly kvm: boolean;
  /** A QMP socket path. */
  readonly qmp?: string;
  /** A file for the serial console. */
  readonly serial?: string;
  /**
   * Detach from the launching process (`-daemonize`): QEMU's first process exits once the VM is set up,
   * and the VM outlives whoever launched it. The display is then `-display none`, not `-nographic`
   * (QEMU refuses `-nographic` with `-daemonize` unless every default device is off). @default {false}
   */
  readonly daemonize?: boolean;
  /** A file QEMU writes its PID to (and locks) once it runs; with `daemonize`, the detached QEMU's PID. */
  readonly pidfile?: string;
}

/**
 * A whole QEMU command line (after the program name), started paused (`-S`) as minimega starts its VMs.
 * With `daemonize`, `-display none` takes the place of `-nographic` and `-daemonize` follows `-S`.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { qemuArgs } from "labwire/ovs";
 * const args = qemuArgs({ name: "web", nics: [], kvm: false });
 * assert.deepEqual(args.slice(0, 4), ["-name", "web", "-accel", "tcg"]);
 * assert.ok(args.includes("-S"));
 * const detached = qemuArgs({ name: "web", nics: [], kvm: false, daemonize: true, pidfile: "/run/web.pid" });
 * assert.deepEqual(detached.slice(8, 17), [
 *   "-display", "none", "-nodefaults", "-no-user-config", "-net", "none", "-S", "-daemonize", "-pidfile",
 * ]);
 * ```
 */
export function qemuArgs(launch: QemuLaunch): string[] {
  const args = [
    "-name",
    launch.name,
    "-accel",
    launch.kvm ? "kvm" : "tcg",
    "-m",
    String(launch.memory ?? 512),
    "-smp",
    String(launch.vcpus ?? 1),
    ...(launch.daemonize === true ? ["-display", "none"] : ["-nographic"]),
    "-nodefaults",
    "-no-user-config",
    "-net",
    "none",
    "-S",
  ];
  if (launch.daemonize === true) args.push("-daemonize");
  if (launch.pidfile !== undefined) args.push("-pidfile", launch.pidfile);
  if (launch.qmp !== undefined) args.push("-qmp", `unix:${launch.qmp},server=on,wait=off`);
  args.push("-serial", launch.serial === undefined ? "none" : `file:${launch.serial}`);
  if (launch.disk !== undefined) args.push("-drive", `file=${launch.disk},media=disk`);
  if (launch.kernel !== undefined) args.push("-kernel", launch.kernel);
  if (launch.initrd !== undefined) args.push("-initrd", launch.initrd);
  if (launch.append !== undefined) args.push("-append", launch.append);
  args.push(...qemuNicArgs(launch.nics).args);
  return args;
}
