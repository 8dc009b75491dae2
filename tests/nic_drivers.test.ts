import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { discoverNicDrivers, NIC_DRIVERS, parseQemuNicList, type QemuRunResult } from "../lib/nic_drivers.ts";

/** Output in the shape of `qemu-system-x86_64 -device ?` (QEMU 7.x): other sections cut down, Network devices whole. */
const QEMU_DEVICE_HELP = `Controller/Bridge/Hub devices:
name "cxl-downstream", bus PCI, desc "CXL Switch Downstream Port"
name "i82801b11-bridge", bus PCI
name "pci-bridge", bus PCI, desc "Standard PCI Bridge"
name "usb-hub", bus usb-bus

USB devices:
name "ich9-usb-ehci1", bus PCI
name "qemu-xhci", bus PCI

Storage devices:
name "ide-cd", bus IDE, desc "virtual IDE CD-ROM"
name "virtio-blk-pci", bus PCI, alias "virtio-blk"

Network devices:
name "e1000", bus PCI, alias "e1000-82540em", desc "Intel Gigabit Ethernet"
name "e1000-82544gc", bus PCI, desc "Intel Gigabit Ethernet"
name "e1000-82545em", bus PCI, desc "Intel Gigabit Ethernet"
name "e1000e", bus PCI, desc "Intel 82574L GbE Controller"
name "i82550", bus PCI, desc "Intel i82550 Ethernet"
name "i82551", bus PCI, desc "Intel i82551 Ethernet"
name "i82557a", bus PCI, desc "Intel i82557A Ethernet"
name "i82557b", bus PCI, desc "Intel i82557B Ethernet"
name "i82557c", bus PCI, desc "Intel i82557C Ethernet"
name "i82558a", bus PCI, desc "Intel i82558A Ethernet"
name "i82558b", bus PCI, desc "Intel i82558B Ethernet"
name "i82559a", bus PCI, desc "Intel i82559A Ethernet"
name "i82559b", bus PCI, desc "Intel i82559B Ethernet"
name "i82559c", bus PCI, desc "Intel i82559C Ethernet"
name "i82559er", bus PCI, desc "Intel i82559ER Ethernet"
name "i82562", bus PCI, desc "Intel i82562 Ethernet"
name "i82801", bus PCI, desc "Intel i82801 Ethernet"
name "ne2k_isa", bus ISA
name "ne2k_pci", bus PCI
name "pcnet", bus PCI
name "pvrdma", bus PCI, desc "RDMA Device"
name "rocker", bus PCI, desc "Rocker Switch"
name "rtl8139", bus PCI
name "tulip", bus PCI
name "usb-net", bus usb-bus
name "virtio-net-device", bus virtio-bus
name "virtio-net-pci", bus PCI, alias "virtio-net"
name "virtio-net-pci-non-transitional", bus PCI
name "virtio-net-pci-transitional", bus PCI
name "vmxnet3", bus PCI, desc "VMWare Paravirtualized Ethernet v3"

Input devices:
name "i8042", bus ISA
name "usb-kbd", bus usb-bus

Display devices:
name "VGA", bus PCI
name "virtio-vga", bus PCI
`;

const QEMU_NICS = [
  "e1000",
  "e1000-82544gc",
  "e1000-82545em",
  "e1000e",
  "i82550",
  "i82551",
  "i82557a",
  "i82557b",
  "i82557c",
  "i82558a",
  "i82558b",
  "i82559a",
  "i82559b",
  "i82559c",
  "i82559er",
  "i82562",
  "i82801",
  "ne2k_isa",
  "ne2k_pci",
  "pcnet",
  "pvrdma",
  "rocker",
  "rtl8139",
  "tulip",
  "usb-net",
  "virtio-net-device",
  "virtio-net-pci",
  "virtio-net-pci-non-transitional",
  "virtio-net-pci-transitional",
  "vmxnet3",
];

describe("NIC_DRIVERS", () => {
  test("NIC_DRIVERS holds QEMU's canonical x86_64 NIC names", () => {
    assert.deepEqual(
      [...NIC_DRIVERS].sort(),
      [...QEMU_NICS.filter((n) => n !== "pvrdma"), "usb-bt-dongle"].sort(),
    );
  });

  test("NIC_DRIVERS holds no alias", () => {
    for (const alias of ["virtio-net", "e1000-82540em", "virtio", "E1000"]) {
      assert.equal(NIC_DRIVERS.has(alias), false);
    }
  });
});

describe("parseQemuNicList()", () => {
  test("parseQemuNicList() reads the canonical names of the Network devices section only", () => {
    assert.deepEqual(parseQemuNicList(QEMU_DEVICE_HELP), new Set(QEMU_NICS));
  });

  test("parseQemuNicList() stops at the first line with fewer than two fields", () => {
    const output = 'Network devices:\nname "e1000", bus PCI\nsingleword\nname "rtl8139", bus PCI\n';
    assert.deepEqual(parseQemuNicList(output), new Set(["e1000"]));
  });

  test("parseQemuNicList() reads to the end when the section has no blank line after it", () => {
    assert.deepEqual(
      parseQemuNicList('Network devices:\nname "e1000", bus PCI\nname "pcnet", bus PCI'),
      new Set(["e1000", "pcnet"]),
    );
  });

  test("parseQemuNicList() finds the header anywhere in a line and takes the second field whatever the first", () => {
    const output = '== Network devices: ==\n  name  "tulip",\tbus PCI\nx "a,b", y\nx ",", y\n\n';
    // `"a,b",` keeps its inner comma; `",",` strips to nothing and is left out.
    assert.deepEqual(parseQemuNicList(output), new Set(["tulip", "a,b"]));
  });

  test("parseQemuNicList() handles CRLF line ends", () => {
    const output = QEMU_DEVICE_HELP.replaceAll("\n", "\r\n");
    assert.deepEqual(parseQemuNicList(output), new Set(QEMU_NICS));
  });

  test("parseQemuNicList() returns an empty set without a Network devices section", () => {
    assert.deepEqual(parseQemuNicList('Storage devices:\nname "ide-cd", bus IDE\n'), new Set());
    assert.deepEqual(parseQemuNicList(""), new Set());
    assert.deepEqual(parseQemuNicList("Network devices:"), new Set());
  });
});

/** A fake `run` that records every argv and answers with `result`. */
function fakeRun(result: QemuRunResult | Error): {
  calls: string[][];
  run: (argv: readonly string[]) => Promise<QemuRunResult>;
} {
  const calls: string[][] = [];
  return {
    calls,
    run(argv) {
      calls.push([...argv]);
      return result instanceof Error ? Promise.reject(result) : Promise.resolve(result);
    },
  };
}

/** An error like the one `node:child_process` gives for a missing program. */
function spawnError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code, errno: -2, syscall: "spawn qemu-system-x86_64" });
}

describe("discoverNicDrivers()", () => {
  test("discoverNicDrivers() runs `qemu-system-x86_64 -device ?` by default", async () => {
    const fake = fakeRun({ code: 0, stdout: QEMU_DEVICE_HELP, stderr: "" });
    await discoverNicDrivers({ run: fake.run });
    assert.deepEqual(fake.calls, [["qemu-system-x86_64", "-device", "?"]]);
  });

  test("discoverNicDrivers() passes -M only for a non-empty machine", async () => {
    const fake = fakeRun({ code: 0, stdout: QEMU_DEVICE_HELP, stderr: "" });
    await discoverNicDrivers({ run: fake.run, qemu: "kvm", machine: "pc-q35-7.2" });
    await discoverNicDrivers({ run: fake.run, qemu: "kvm", machine: "" });
    assert.deepEqual(fake.calls, [["kvm", "-M", "pc-q35-7.2", "-device", "?"], ["kvm", "-device", "?"]]);
  });

  test("discoverNicDrivers() returns the built-in list when run rejects with ENOENT", async () => {
    const drivers = await discoverNicDrivers(
      fakeRun(spawnError("ENOENT", "spawn qemu-system-x86_64 ENOENT")),
    );
    assert.deepEqual(drivers, NIC_DRIVERS);
    assert.notEqual(drivers, NIC_DRIVERS);
  });

  test("discoverNicDrivers() returns the built-in list when the program exits with 127", async () => {
    const drivers = await discoverNicDrivers(
      fakeRun({ code: 127, stdout: "", stderr: "sh: 1: qemu-system-x86_64: not found\n" }),
    );
    assert.deepEqual(drivers, NIC_DRIVERS);
  });

  test("discoverNicDrivers() returns the built-in list united with what QEMU reports", async () => {
    const stdout = 'Network devices:\nname "e1000", bus PCI\nname "igb", bus PCI, desc "Intel 82576"\n\n';
    const drivers = await discoverNicDrivers(fakeRun({ code: 0, stdout, stderr: "" }));
    assert.deepEqual(drivers, new Set([...NIC_DRIVERS, "igb"]));
  });

  test("discoverNicDrivers() reads standard error as well as standard output", async () => {
    const stderr = 'Network devices:\nname "xen-net-device", bus xen-bus\n';
    const drivers = await discoverNicDrivers(fakeRun({ code: 0, stdout: "Storage devices:\n", stderr }));
    assert.ok(drivers.has("xen-net-device"));
    assert.ok(drivers.has("e1000"));
  });

  test("discoverNicDrivers() throws minimega's error with the stderr tail when QEMU fails", async () => {
    const stderr =
      "qemu-system-x86_64: -M bogus: unsupported machine type\nUse -machine help to list supported machines\n";
    await assert.rejects(
      discoverNicDrivers({ ...fakeRun({ code: 1, stdout: "", stderr }), machine: "bogus" }),
      {
        name: "Error",
        message:
          "unable to determine valid QEMU nics -- qemu-system-x86_64: -M bogus: unsupported machine type\n" +
          "Use -machine help to list supported machines",
      },
    );
  });

  test("discoverNicDrivers() keeps only the last five lines of stderr", async () => {
    const stderr = Array.from({ length: 9 }, (_, i) => `line ${i}`).join("\n");
    await assert.rejects(discoverNicDrivers(fakeRun({ code: 1, stdout: "", stderr })), {
      message: "unable to determine valid QEMU nics -- line 4\nline 5\nline 6\nline 7\nline 8",
    });
  });

  test("discoverNicDrivers() names the exit code when QEMU fails silently", async () => {
    await assert.rejects(discoverNicDrivers(fakeRun({ code: 134, stdout: "", stderr: "" })), {
      message: "unable to determine valid QEMU nics -- exited with code 134",
    });
  });

  test("discoverNicDrivers() throws when run rejects for another reason, keeping the cause", async () => {
    const cause = spawnError("EACCES", "spawn qemu-system-x86_64 EACCES");
    await assert.rejects(discoverNicDrivers(fakeRun(cause)), (err: unknown) => {
      assert.ok(err instanceof Error);
      assert.equal(err.message, "unable to determine valid QEMU nics -- spawn qemu-system-x86_64 EACCES");
      assert.equal(err.cause, cause);
      return true;
    });
  });
});
