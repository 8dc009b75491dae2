import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { qemuArgs, type QemuNic, qemuNicArgs } from "../lib/qemu.ts";

function nics(n: number): QemuNic[] {
  return Array.from(
    { length: n },
    (_, i) => ({ tap: `mega_tap${i}`, driver: "e1000", mac: `02:00:00:00:00:${i}` }),
  );
}

describe("qemuNicArgs()", () => {
  test("always makes one pci-bridge, even without NICs", () => {
    assert.deepEqual(qemuNicArgs([]), {
      args: ["-device", "pci-bridge,id=pci.1,chassis_nr=1"],
      next: { bus: 1, addr: 1 },
    });
  });
  test("gives two NICs slots 0x1 and 0x2 on pci.1, as minimega's vm_config_net test shows", () => {
    const { args, next } = qemuNicArgs(
      [
        { tap: "mega_tap0", driver: "e1000", mac: "13:37:13:37:00:03" },
        { tap: "mega_tap1", driver: "virtio-net-pci", mac: "13:37:13:37:00:04" },
      ],
      { vnetHdrOff: false },
    );
    assert.deepEqual(args, [
      "-device",
      "pci-bridge,id=pci.1,chassis_nr=1",
      "-netdev",
      "tap,id=mega_tap0,script=no,ifname=mega_tap0",
      "-device",
      "driver=e1000,netdev=mega_tap0,mac=13:37:13:37:00:03,bus=pci.1,addr=0x1",
      "-netdev",
      "tap,id=mega_tap1,script=no,ifname=mega_tap1",
      "-device",
      "driver=virtio-net-pci,netdev=mega_tap1,mac=13:37:13:37:00:04,bus=pci.1,addr=0x2",
    ]);
    assert.deepEqual(next, { bus: 1, addr: 3 }, "the virtio-serial controller goes next, at 0x3");
  });
  test("adds a bridge when the slot reaches 32, with lower-case hex slots", () => {
    const { args, next } = qemuNicArgs(nics(33));
    const devices = args.filter((_, i) => args[i - 1] === "-device");
    assert.equal(devices[1], "driver=e1000,netdev=mega_tap0,mac=02:00:00:00:00:0,bus=pci.1,addr=0x1");
    assert.equal(devices[31], "driver=e1000,netdev=mega_tap30,mac=02:00:00:00:00:30,bus=pci.1,addr=0x1f");
    assert.equal(devices[32], "pci-bridge,id=pci.2,chassis_nr=2");
    assert.equal(devices[33], "driver=e1000,netdev=mega_tap31,mac=02:00:00:00:00:31,bus=pci.2,addr=0x1");
    assert.equal(devices[34], "driver=e1000,netdev=mega_tap32,mac=02:00:00:00:00:32,bus=pci.2,addr=0x2");
    assert.deepEqual(next, { bus: 2, addr: 3 });
  });
  test("adds vnet_hdr=off by default (TCP through the userspace datapath)", () => {
    assert.equal(qemuNicArgs(nics(1)).args[3], "tap,id=mega_tap0,script=no,ifname=mega_tap0,vnet_hdr=off");
  });
});

describe("qemuArgs()", () => {
  test("starts paused, with KVM where it can and TCG otherwise, and the NICs last", () => {
    const args = qemuArgs({
      name: "web",
      memory: 256,
      kernel: "/k",
      initrd: "/i",
      append: "console=ttyS0",
      qmp: "/run/web.qmp",
      serial: "/run/web.log",
      nics: nics(1),
      kvm: true,
    });
    assert.deepEqual(args.slice(0, 14), [
      "-name",
      "web",
      "-accel",
      "kvm",
      "-m",
      "256",
      "-smp",
      "1",
      "-nographic",
      "-nodefaults",
      "-no-user-config",
      "-net",
      "none",
      "-S",
    ]);
    assert.deepEqual(args.slice(14, 24), [
      "-qmp",
      "unix:/run/web.qmp,server=on,wait=off",
      "-serial",
      "file:/run/web.log",
      "-kernel",
      "/k",
      "-initrd",
      "/i",
      "-append",
      "console=ttyS0",
    ]);
    assert.equal(args[25], "pci-bridge,id=pci.1,chassis_nr=1");
    assert.equal(qemuArgs({ name: "x", nics: [], kvm: false })[3], "tcg");
  });
  test("daemonize detaches with -display none instead of -nographic, and the PID file follows -S", () => {
    const args = qemuArgs({
      name: "web",
      qmp: "/run/web/qmp.sock",
      serial: "/run/web/serial.log",
      pidfile: "/run/web/qemu.pid",
      nics: [],
      kvm: false,
      daemonize: true,
    });
    assert.deepEqual(args.slice(8, 24), [
      "-display",
      "none",
      "-nodefaults",
      "-no-user-config",
      "-net",
      "none",
      "-S",
      "-daemonize",
      "-pidfile",
      "/run/web/qemu.pid",
      "-qmp",
      "unix:/run/web/qmp.sock,server=on,wait=off",
      "-serial",
      "file:/run/web/serial.log",
      "-device",
      "pci-bridge,id=pci.1,chassis_nr=1",
    ]);
    assert.ok(
      !args.includes("-nographic"),
      "QEMU refuses -nographic with -daemonize when a default device is on",
    );
    const attached = qemuArgs({ name: "web", nics: [], kvm: false, pidfile: "/run/web/qemu.pid" });
    assert.ok(
      attached.includes("-nographic") && !attached.includes("-daemonize") && !attached.includes("-display"),
    );
  });
});
