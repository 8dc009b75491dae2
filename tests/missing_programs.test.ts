/**
 * A program the ovs backend needs and the host lacks is one clear error naming it and the Debian package
 * that has it, and the lab stays as it was. The programs are fakes on a PATH of their own: each case
 * leaves one out.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createExec } from "../lib/exec.ts";
import { Lab } from "../lib/api/lab.ts";
import { OvsBackend } from "../lib/real/ovs_backend.ts";
import { fakeOvsHost } from "./_fixtures/fake_host.ts";
import { withPath } from "./_fixtures/fake_path.ts";

const PROGRAMS = [
  "ovs-vsctl",
  "ip",
  "ethtool",
  "nft",
  "sysctl",
  "tcpdump",
  "qemu-system-x86_64",
  "dhclient",
  "ping",
];

/** A host with every program but `missing`, each answering success (ovs-vsctl as Open vSwitch would). */
function host(missing: string) {
  return fakeOvsHost(PROGRAMS.filter((p) => p !== missing)).runner;
}

/** The lines that set the lab up, and the one that needs `program`, with the error it must give. */
const CASES: { program: string; setup: string[]; line: string; error: RegExp }[] = [
  {
    program: "ovs-vsctl",
    setup: [],
    line: "vm launch container c",
    error: /ovs-vsctl is not installed; install openvswitch-switch/,
  },
  {
    program: "qemu-system-x86_64",
    setup: ["vm config kernel /boot/k"],
    line: "vm launch kvm k",
    error:
      /^Cannot launch KVM VM k: qemu-system-x86_64 is not installed \(apt-get install qemu-system-x86\)$/,
  },
  {
    program: "ethtool",
    setup: [],
    line: "vm launch container c",
    error: /ethtool is not installed.*\(apt-get install ethtool\)$/,
  },
  {
    program: "nft",
    setup: [],
    line: "vm launch container c",
    error: /nft is not installed \(apt-get install nftables\)$/,
  },
  {
    program: "sysctl",
    setup: [],
    line: "vm launch container c",
    error: /^Cannot set up mega_tap0: sysctl is not installed \(apt-get install procps\)$/,
  },
  {
    program: "tcpdump",
    setup: ["vm launch container c"],
    line: "capture pcap vm c 0 /tmp/labwire-missing.pcap",
    error: /^Cannot capture on the ovs backend: tcpdump is not installed \(apt-get install tcpdump\)$/,
  },
];

for (const { program, setup, line, error } of CASES) {
  test(`without ${program}, '${line}' says which program to install and changes nothing`, async () => {
    await withPath(PROGRAMS.filter((p) => p !== program), async () => {
      const backend = new OvsBackend({ exec: createExec({ runner: host(program) }), namespacePrefix: "lw-" });
      await using lab = await Lab.open({ backend, seed: 1 });
      for (const l of ["vm config net DMZ", ...setup]) {
        const r = await lab.execute(l);
        assert.deepEqual(r.errors, [], l);
      }
      const before = await lab.snapshot();
      const r = await lab.execute(line);
      assert.equal(r.errors.length, 1, JSON.stringify(r.errors));
      assert.match(r.errors[0]!, error);
      assert.deepEqual(await lab.snapshot(), before);
    }, { only: true });
  });
}
