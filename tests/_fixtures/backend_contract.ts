/**
 * The backend contract (lib/backend/) as one node:test suite, declared once and run over every backend:
 * {@linkcode backendContract} drives a {@linkcode Backend} only through the contract's methods and checks
 * what every backend must agree on, per concern: bridges and ports (access and trunk modes, unplugging with
 * and without `keepNics`, mirrors), endpoints (addresses, who a ping reaches), the VM runner (a VM that
 * does not run answers nothing) and captures (in memory with a `limit`, or in a pcap file; filters).
 *
 * Exact values are asserted wherever both backends must agree (ping counts, `networkUnreachable`, frame
 * counts and kinds, VLAN tags), never timings. Its traffic stays between the ports it makes, on its own
 * addresses in 10.91.0.0/16.
 *
 * @module
 */

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import process from "node:process";
import type { Backend } from "../../lib/backend/backend.ts";
import type { MirrorSpec, PortMode, PortSpec } from "../../lib/backend/bridges.ts";
import type { CaptureSpec, RawFrame } from "../../lib/backend/captures.ts";
import type { PingReport } from "../../lib/backend/endpoints.ts";
import type { VmSpec } from "../../lib/backend/vms.ts";
import { readPcap } from "../../lib/wire/pcap.ts";

/** What the contract's names are, for a backend's own checks of what is left. */
export interface ContractNames {
  /** The bridge. */
  readonly bridge: string;
  /** Every port the contract plugs. */
  readonly ports: readonly string[];
}

/** A backend to run the contract on, and how to take it down again. */
export interface ContractSubject {
  /** The backend, fresh. */
  readonly backend: Backend;
  /** Takes down what the backend needs besides the lab (a sandboxed Open vSwitch); runs after the suite. */
  readonly cleanup: () => Promise<void>;
  /**
   * What the backend still holds of the contract's lab once its last test removed the ports and the
   * bridge and closed the backend (its own words: `port x1 in OVS`, `namespace y`); none is expected.
   */
  readonly leftovers?: (names: ContractNames) => Promise<readonly string[]>;
}

/** Options for {@linkcode backendContract}. */
export interface BackendContractOptions {
  /** Skip the suite, with this reason. @default {false} */
  skip?: string | false;
  /**
   * The start of every port and bridge name, unique for the run and at most 10 bytes (Linux allows 15 for
   * a device name). @default {`lwc${process.pid % 100000}`}
   */
  id?: string;
  /** Each test's own limit in ms (Bun applies its 5 s default to every test, whatever describe() says). @default {60000} */
  timeout?: number;
  /** The limit of `make` in ms (a sandbox may wait for another one to stop). @default {timeout} */
  setupTimeout?: number;
}

/** VLAN A, 10.91.1.0/24: VMs a, b and n (no address), host tap ha. */
const VLAN_A = 101;
/** VLAN B, 10.91.2.0/24: VM c, host taps hb and hx (no address). */
const VLAN_B = 102;
/** The most bytes Linux allows in a network device's name. */
const IFNAMSIZ_MAX = 15;
/** An echo request or reply of ping(8) and the simulator (56 bytes of data) on the wire. */
const PING_FRAME_BYTES = 98;

const UNREACHABLE: PingReport = { sent: 0, received: 0, errors: 0, rttMs: [], networkUnreachable: true };

/** The report of a ping of one echo request that nothing answered: ARP had not given up yet. */
const NO_REPLY: PingReport = { sent: 1, received: 0, errors: 0, rttMs: [], networkUnreachable: false };

/** A ping report with its round trips counted, for an exact comparison without timings. */
function counted(report: PingReport): Omit<PingReport, "rttMs"> & { rttMs: number } {
  return { ...report, rttMs: report.rttMs.length };
}

/** What a ping of `count` requests that all got their reply looks like, {@linkcode counted}. */
function allReplies(count: number): Omit<PingReport, "rttMs"> & { rttMs: number } {
  return { sent: count, received: count, errors: 0, rttMs: count, networkUnreachable: false };
}

/** The IPv4 header's offset in a frame: after the 802.1Q tag when there is one, or -1 when it is not IPv4. */
function ipv4Offset(data: Uint8Array): number {
  if (data[12] === 0x81 && data[13] === 0x00) return data[16] === 0x08 && data[17] === 0x00 ? 18 : -1;
  return data[12] === 0x08 && data[13] === 0x00 ? 14 : -1;
}

/** The ICMP type of a frame (8 echo request, 0 echo reply), or undefined when it is not ICMP. */
function icmpType(frame: { readonly data: Uint8Array }): number | undefined {
  const ip = ipv4Offset(frame.data);
  if (ip < 0 || frame.data[ip + 9] !== 1) return undefined;
  return frame.data[ip + ((frame.data[ip]! & 0x0f) * 4)];
}

/** The VLAN ID of an 802.1Q-tagged frame, or undefined when it is untagged. */
function vlanOf(frame: { readonly data: Uint8Array }): number | undefined {
  const d = frame.data;
  return d[12] === 0x81 && d[13] === 0x00 ? ((d[14]! & 0x0f) << 8) | d[15]! : undefined;
}

/** Whether a frame is an untagged ARP request for `ip`. */
function isArpRequestFor(frame: RawFrame, ip: string): boolean {
  const d = frame.data;
  if (d[12] !== 0x08 || d[13] !== 0x06 || d[20] !== 0 || d[21] !== 1) return false;
  return [...d.subarray(38, 42)].join(".") === ip;
}

/** A frame's IPv4 source and destination, `10.91.1.1>10.91.1.2`. */
function ipPair(frame: { readonly data: Uint8Array }): string {
  const ip = ipv4Offset(frame.data);
  return `${[...frame.data.subarray(ip + 12, ip + 16)].join(".")}>${
    [...frame.data.subarray(ip + 16, ip + 20)].join(".")
  }`;
}

/**
 * Declares the contract suite for one backend: a `describe` block of tests that run in order on one lab
 * (each builds on the ones before), made by `make` before the first and taken down after the last.
 *
 * @param name The backend's name in the test names (`sim`, `ovs`).
 * @param make Makes the backend (and whatever it needs, a sandbox).
 * @param options Skipping, names and limits.
 */
export function backendContract(
  name: string,
  make: () => Promise<ContractSubject>,
  options: BackendContractOptions = {},
): void {
  const {
    skip = false,
    id = `lwc${process.pid % 100000}`,
    timeout = 60_000,
    setupTimeout = timeout,
  } = options;
  const step = { timeout };

  const bridge = `${id}br`;
  const [pA, pB, pC, pN, pHA, pHB, pHX, pCap] = ["a", "b", "c", "n", "ha", "hb", "hx", "m"].map((s) =>
    `${id}${s}`
  ) as [string, string, string, string, string, string, string, string];
  const allPorts = [pA, pB, pC, pN, pHA, pHB, pHX, pCap];
  for (const n of [bridge, ...allPorts]) {
    if (new TextEncoder().encode(n).length > IFNAMSIZ_MAX) {
      throw new RangeError(
        `Cannot declare the backend contract as a device name must have at most ${IFNAMSIZ_MAX} bytes: current value is '${n}'`,
      );
    }
  }
  const access = (tag: number): PortMode => ({ kind: "access", tag });

  /** A container VM of lab namespace `contract` with one NIC. */
  function container(vmName: string, vmId: number, tap: string): VmSpec {
    return {
      name: vmName,
      namespace: "contract",
      id: vmId,
      type: "container",
      nics: [{ tap, driver: "e1000", mac: `02:00:00:91:00:0${vmId}` }],
      memory: 0,
      vcpus: 1,
      kernel: "",
      initrd: "",
      append: "",
      disks: [],
    };
  }
  const vmA = container("a", 1, pA);
  const vmB = container("b", 2, pB);
  const vmC = container("c", 3, pC);
  const vmN = container("n", 4, pN);
  const vms = [vmA, vmB, vmC, vmN];

  /** The port of a VM's NIC, as the lab plugs it: a VM whose `running` is true. */
  function nicPort(vm: VmSpec, tag: number): PortSpec {
    const nic = vm.nics[0]!;
    return {
      name: nic.tap,
      mode: access(tag),
      role: "vm",
      mac: nic.mac,
      vm: { name: vm.name, namespace: vm.namespace, id: vm.id, nic: 0, type: "container", running: true },
    };
  }
  const portA = nicPort(vmA, VLAN_A);
  const portB = nicPort(vmB, VLAN_A);
  const portC = nicPort(vmC, VLAN_B);
  const portN = nicPort(vmN, VLAN_A);
  const portHA: PortSpec = { name: pHA, mode: access(VLAN_A), role: "host", mac: "02:00:00:91:01:01" };
  const portHB: PortSpec = { name: pHB, mode: access(VLAN_B), role: "host", mac: "02:00:00:91:01:02" };
  const portHX: PortSpec = { name: pHX, mode: access(VLAN_B), role: "host", mac: "02:00:00:91:01:03" };
  const portCap: PortSpec = { name: pCap, mode: { kind: "trunk" }, role: "capture" };

  const IP_A = "10.91.1.1";
  const IP_B = "10.91.1.2";
  /** VM c's address in VLAN A's subnet, though c is on VLAN B: what only a VLAN leak would reach. */
  const IP_C_ON_A = "10.91.1.3";
  const IP_C = "10.91.2.3";
  const IP_HA = "10.91.1.254";
  const IP_HB = "10.91.2.254";
  /** In VLAN A's subnet, nobody's. */
  const NOBODY = "10.91.1.99";
  /** In no subnet of the lab. */
  const ELSEWHERE = "10.92.0.1";

  /** A mirror of port a, both ways, to `output`. */
  function mirrorOfA(mirrorName: string, output: string): MirrorSpec {
    return { name: mirrorName, selectAll: false, selectSrc: [pA], selectDst: [pA], output };
  }

  describe(`${name}: the Backend contract`, { skip }, () => {
    let subject: ContractSubject | undefined;
    let backend: Backend;
    let dir: string | undefined;

    before(async () => {
      subject = await make();
      backend = subject.backend;
      dir = fs.mkdtempSync(path.join(os.tmpdir(), "labwire-contract-"));
    }, { timeout: setupTimeout });

    after(async () => {
      try {
        // whatever a failed test left, through the contract
        if (subject !== undefined) {
          for (const capture of [1, 2, 3, 4]) await backend.stopCapture(capture).catch(() => {});
          await backend.killVms(vms).catch(() => {});
          await backend.removePorts(bridge, allPorts).catch(() => {});
          await backend.removeBridge(bridge).catch(() => {});
          await backend.close?.().catch(() => {});
        }
        if (dir !== undefined) fs.rmSync(dir, { recursive: true, force: true });
      } finally {
        await subject?.cleanup();
      }
    }, { timeout: setupTimeout });

    test("addBridge() makes the bridge, and a second call is no error", step, async () => {
      await backend.addBridge(bridge);
      await backend.addBridge(bridge);
    });

    test(
      "addPorts() plugs container VM NICs, host taps and a trunk capture port; addAddress() twice is no error",
      step,
      async () => {
        await backend.addPorts(bridge, [portA, portB, portC, portN, portHA, portHB, portHX, portCap]);
        await backend.addAddress(bridge, pA, `${IP_A}/24`);
        await backend.addAddress(bridge, pA, `${IP_A}/24`);
        await backend.addAddress(bridge, pB, `${IP_B}/24`);
        await backend.addAddress(bridge, pC, `${IP_C}/24`);
        await backend.addAddress(bridge, pC, `${IP_C_ON_A}/24`);
        await backend.addAddress(bridge, pHA, `${IP_HA}/24`);
        await backend.addAddress(bridge, pHB, `${IP_HB}/24`);
        await backend.addAddress(bridge, pHB, `${IP_HB}/24`);
        // the NICs of VMs that run answer at once
        assert.deepEqual(counted(await backend.ping(bridge, pA, IP_B, 2)), allReplies(2));
      },
    );

    test("launchVms() launches VMs paused: their NICs answer nothing", step, async () => {
      await backend.launchVms(vms);
      assert.deepEqual(await backend.ping(bridge, pHA, IP_A, 1), NO_REPLY);
      assert.deepEqual(await backend.ping(bridge, pHB, IP_C, 1), NO_REPLY);
    });

    test("startVms() runs the VMs: every echo request gets its reply", step, async () => {
      await backend.startVms(vms);
      assert.deepEqual(counted(await backend.ping(bridge, pHA, IP_A, 3)), allReplies(3));
      assert.deepEqual(counted(await backend.ping(bridge, pHB, IP_C, 2)), allReplies(2));
    });

    test("stopVms() silences a VM, and startVms() again lets it answer", step, async () => {
      await backend.stopVms([vmA]);
      assert.deepEqual(await backend.ping(bridge, pHA, IP_A, 1), NO_REPLY);
      assert.deepEqual(await backend.ping(bridge, pB, IP_A, 1), NO_REPLY);
      await backend.startVms([vmA]);
      assert.deepEqual(counted(await backend.ping(bridge, pHA, IP_A, 2)), allReplies(2));
    });

    test("hotplugNics() on a container VM is no error", step, async () => {
      await backend.hotplugNics(vmA, [0]);
      assert.deepEqual(counted(await backend.ping(bridge, pB, IP_A, 1)), allReplies(1));
    });

    test("ping() between two ports of one VLAN gets every reply, with a round trip each", step, async () => {
      assert.deepEqual(counted(await backend.ping(bridge, pA, IP_B, 3)), allReplies(3));
      assert.deepEqual(counted(await backend.ping(bridge, pB, IP_A, 3)), allReplies(3));
      assert.deepEqual(counted(await backend.ping(bridge, pHA, IP_B, 2)), allReplies(2));
      assert.deepEqual(counted(await backend.ping(bridge, pHB, IP_C, 2)), allReplies(2));
      assert.deepEqual(counted(await backend.ping(bridge, pC, IP_HB, 2)), allReplies(2));
    });

    test("ping() across VLANs gets no reply, and no error for one echo request", step, async () => {
      // c holds IP_C_ON_A, but on VLAN B: a's and ha's ARP requests never reach it
      assert.deepEqual(await backend.ping(bridge, pA, IP_C_ON_A, 1), NO_REPLY);
      assert.deepEqual(await backend.ping(bridge, pHA, IP_C_ON_A, 1), NO_REPLY);
    });

    test("ping() to an address nobody has in the subnet gets no reply", step, async () => {
      assert.deepEqual(await backend.ping(bridge, pA, NOBODY, 1), NO_REPLY);
    });

    test(
      "ping() from a port without an address, or to an address outside its subnets, is networkUnreachable and sends nothing",
      step,
      async () => {
        assert.deepEqual(await backend.ping(bridge, pN, IP_A, 1), UNREACHABLE);
        assert.deepEqual(await backend.ping(bridge, pHX, IP_C, 1), UNREACHABLE);
        assert.deepEqual(await backend.ping(bridge, pA, ELSEWHERE, 1), UNREACHABLE);
        assert.deepEqual(await backend.ping(bridge, pA, IP_C, 1), UNREACHABLE);
        // hb's subnet is another port's: ha reaches only its own
        assert.deepEqual(await backend.ping(bridge, pHA, IP_C, 1), UNREACHABLE);
      },
    );

    test(
      "addMirror() reserves its output port: pings to it get no reply until removeMirror()",
      step,
      async () => {
        await backend.addMirror(bridge, mirrorOfA("mirror-b", pB));
        let removed = false;
        try {
          // b gets copies of a's requests, but what b sends is dropped
          assert.deepEqual(await backend.ping(bridge, pA, IP_B, 1), NO_REPLY);
          assert.deepEqual(await backend.ping(bridge, pHA, IP_B, 1), NO_REPLY);
          await backend.removeMirror(bridge, "mirror-b");
          removed = true;
        } finally {
          if (!removed) await backend.removeMirror(bridge, "mirror-b");
        }
        assert.deepEqual(counted(await backend.ping(bridge, pA, IP_B, 3)), allReplies(3));
        assert.deepEqual(counted(await backend.ping(bridge, pHA, IP_B, 2)), allReplies(2));
      },
    );

    test(
      "startCapture() without a path keeps a port's frames, read while it runs, the newest `limit` of them",
      step,
      async () => {
        const base = { bridge, port: pB, snaplen: 1600 } as const;
        await backend.startCapture({ ...base, id: 1, filter: "", limit: 1000 });
        await backend.startCapture({ ...base, id: 2, filter: "icmp", limit: 2 });
        try {
          assert.deepEqual(counted(await backend.ping(bridge, pA, IP_B, 3)), allReplies(3));
          await backend.flushCapture(1);
          await backend.flushCapture(2);
          const all = await backend.readCapture(1);
          const icmp = all.frames.filter((f) => icmpType(f) !== undefined);
          assert.deepEqual(
            icmp.map((f) => [icmpType(f), ipPair(f), vlanOf(f), f.origLen, f.data.length]),
            [8, 0, 8, 0, 8, 0].map((type) => [
              type,
              type === 8 ? `${IP_A}>${IP_B}` : `${IP_B}>${IP_A}`,
              undefined,
              PING_FRAME_BYTES,
              PING_FRAME_BYTES,
            ]),
          );
          assert.equal(all.dropped, 0);
          const newest = await backend.readCapture(2);
          assert.deepEqual([newest.frames.length, newest.dropped], [2, 4]);
          assert.deepEqual(newest.frames.map((f) => [...f.data]), icmp.slice(4).map((f) => [...f.data]));

          // a's ARP requests for an address nobody has flood VLAN A: the unfiltered capture sees all three
          assert.deepEqual(await backend.ping(bridge, pA, NOBODY, 1), NO_REPLY);
          await backend.flushCapture(1);
          await backend.flushCapture(2);
          const arp = (await backend.readCapture(1)).frames.filter((f) => isArpRequestFor(f, NOBODY));
          assert.equal(arp.length, 3);
          const filtered = await backend.readCapture(2);
          assert.deepEqual([filtered.frames.length, filtered.dropped], [2, 4], "the filter kept ARP out");
        } finally {
          await backend.stopCapture(1);
          await backend.stopCapture(2);
        }
        assert.deepEqual(await backend.readCapture(1), { frames: [], dropped: 0 });
      },
    );

    test(
      "startCapture() with a path writes a pcap file that is complete after flushCapture() and stopCapture()",
      step,
      async () => {
        const file = path.join(dir!, "b.pcap");
        const capture: CaptureSpec = {
          id: 3,
          bridge,
          port: pB,
          path: file,
          snaplen: 64,
          filter: "icmp",
          limit: 1,
        };
        await backend.startCapture(capture);
        let stopped = false;
        try {
          assert.deepEqual(counted(await backend.ping(bridge, pA, IP_B, 3)), allReplies(3));
          await backend.flushCapture(3);
          const flushed = readPcap(fs.readFileSync(file));
          assert.deepEqual([flushed.linkType, flushed.snaplen], [1, 64]);
          const kinds = [8, 0, 8, 0, 8, 0].map((type) => [type, PING_FRAME_BYTES, 64]);
          assert.deepEqual(flushed.records.map((r) => [icmpType(r), r.origLen, r.data.length]), kinds);
          const read = await backend.readCapture(3);
          assert.deepEqual(read.frames.map((f) => [icmpType(f), f.origLen, f.data.length]), kinds);
          assert.equal(read.dropped, 0, "a capture with a file keeps every frame, whatever its limit");
          await backend.stopCapture(3);
          stopped = true;
          const complete = readPcap(fs.readFileSync(file));
          assert.deepEqual(complete.records.map((r) => [icmpType(r), r.origLen, r.data.length]), kinds);
        } finally {
          if (!stopped) await backend.stopCapture(3);
        }
      },
    );

    test(
      "a mirror to the trunk capture port gets the selected port's frames both ways, tagged with its VLAN",
      step,
      async () => {
        await backend.addMirror(bridge, mirrorOfA("mirror-cap", pCap));
        await backend.startCapture({ id: 4, bridge, port: pCap, snaplen: 1600, filter: "", limit: 1000 });
        try {
          assert.deepEqual(counted(await backend.ping(bridge, pA, IP_B, 3)), allReplies(3));
          await backend.flushCapture(4);
          const icmp = (await backend.readCapture(4)).frames.filter((f) => icmpType(f) !== undefined);
          assert.deepEqual(
            icmp.map((f) => [icmpType(f), ipPair(f), vlanOf(f), f.origLen]),
            [8, 0, 8, 0, 8, 0].map((type) => [
              type,
              type === 8 ? `${IP_A}>${IP_B}` : `${IP_B}>${IP_A}`,
              VLAN_A,
              PING_FRAME_BYTES + 4,
            ]),
          );
        } finally {
          await backend.stopCapture(4);
          await backend.removeMirror(bridge, "mirror-cap");
        }
      },
    );

    test(
      "removePorts() with keepNics unplugs a VM NIC; addPorts() again brings it back with its address",
      step,
      async () => {
        await backend.removePorts(bridge, [pB], { keepNics: true });
        assert.deepEqual(await backend.ping(bridge, pA, IP_B, 1), NO_REPLY);
        await backend.addPorts(bridge, [portB]);
        assert.deepEqual(counted(await backend.ping(bridge, pA, IP_B, 3)), allReplies(3));
      },
    );

    test(
      "removePorts() with keepNics unplugs a host tap; addPorts() again brings it back with its address",
      step,
      async () => {
        await backend.removePorts(bridge, [pHB], { keepNics: true });
        assert.deepEqual(await backend.ping(bridge, pC, IP_HB, 1), NO_REPLY);
        await backend.addPorts(bridge, [portHB]);
        assert.deepEqual(counted(await backend.ping(bridge, pHB, IP_C, 2)), allReplies(2));
      },
    );

    test(
      "removePorts() without keepNics removes the NIC: plugged again, it has no address",
      step,
      async () => {
        // hb has its address (the test before checks that it kept it; this one must not depend on that)
        await backend.addAddress(bridge, pHB, `${IP_HB}/24`);
        await backend.removePorts(bridge, [pC]);
        assert.deepEqual(await backend.ping(bridge, pHB, IP_C, 1), NO_REPLY);
        await backend.addPorts(bridge, [portC]);
        assert.deepEqual(await backend.ping(bridge, pHB, IP_C, 1), NO_REPLY);
        assert.deepEqual(await backend.ping(bridge, pC, IP_HB, 1), UNREACHABLE);
        await backend.addAddress(bridge, pC, `${IP_C}/24`);
        assert.deepEqual(counted(await backend.ping(bridge, pHB, IP_C, 2)), allReplies(2));
      },
    );

    test("removeAddress() takes an address away: pings from it are networkUnreachable", step, async () => {
      await backend.removeAddress(bridge, pA, `${IP_A}/24`);
      assert.deepEqual(await backend.ping(bridge, pA, IP_B, 1), UNREACHABLE);
      assert.deepEqual(await backend.ping(bridge, pHA, IP_A, 1), NO_REPLY);
      await backend.removeAddress(bridge, pA, `${IP_A}/24`); // not there: no error
      await backend.removeAddress(bridge, pHA, `${IP_HA}/24`);
      assert.deepEqual(await backend.ping(bridge, pHA, IP_B, 1), UNREACHABLE);
      await backend.removeAddress(bridge, pHA, `${IP_HA}/24`);
      assert.deepEqual(counted(await backend.ping(bridge, pHB, IP_C, 1)), allReplies(1));
    });

    test("killVms() ends the VMs: their NICs answer nothing", step, async () => {
      await backend.killVms(vms);
      assert.deepEqual(await backend.ping(bridge, pHB, IP_C, 1), NO_REPLY);
    });

    test("removePorts() and removeBridge() take the whole lab away", step, async () => {
      await backend.removePorts(bridge, allPorts);
      await backend.removeBridge(bridge);
      await backend.close?.();
      assert.deepEqual(await subject!.leftovers?.({ bridge, ports: allPorts }) ?? [], []);
    });
  });
}
