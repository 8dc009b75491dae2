// Runtime-neutral.
/**
 * Reachability: `ping` from a VM NIC or a host tap, with Linux's answers. A VM that does not run cannot
 * ping; a NIC with no route to the address gets `connect: Network is unreachable`, as ping(8) says; what
 * came back is a typed result with the round trips and, when nothing did, why.
 *
 * @module
 */

import type { EndpointBackend, PingReport } from "../backend/endpoints.ts";
import { PingError, TopologyError, VmError } from "../errors.ts";
import type { TapRoom } from "./taps.ts";
import { checkCidr, cidrAddress } from "./rules.ts";
import { nicOf, parseNicIndex, type VmRoom } from "./vms.ts";

/** The most echo requests one ping sends. */
export const MAX_PING_COUNT = 10_000;

/** Why a ping got no reply. */
export type PingFailure =
  /** Echo requests left, nothing came back. */
  | "no-reply"
  /** ARP for the address got no answer: Linux's "Destination Host Unreachable". */
  | "host-unreachable";

/** What a ping saw. */
export interface PingResult {
  /** The source as given: `vm:nic` or a host tap's name. */
  readonly from: string;
  /** The address pinged. */
  readonly to: string;
  /** Echo requests sent. */
  readonly sent: number;
  /** Echo replies received. */
  readonly received: number;
  /** `sent - received`. */
  readonly lost: number;
  /** The round trip of each reply, in milliseconds (virtual time on the simulator). */
  readonly rttMs: readonly number[];
  /** Why nothing came back, when nothing did; undefined when a reply came. */
  readonly reason: PingFailure | undefined;
}

/** Where a ping starts: the bridge and port of a VM NIC or host tap. */
export interface PingSource {
  readonly bridge: string;
  readonly port: string;
}

/**
 * Finds the port a ping source names: `vm:index` (the VM must run, the NIC be connected) or a host tap of
 * the namespace.
 *
 * @throws {VmError} `vm not found: X`, `no such interface N for X`, `Cannot ping from X: ...`.
 * @throws {TopologyError} For a name that is neither.
 */
export function pingSource(vms: VmRoom, taps: TapRoom, namespace: string, from: string): PingSource {
  const colon = from.lastIndexOf(":");
  if (colon > 0) {
    const vm = vms.require(namespace, from.slice(0, colon));
    const nic = nicOf(vm, parseNicIndex(from.slice(colon + 1)));
    if (nic.bridge === "") {
      throw new VmError("nic-disconnected", `Cannot ping from ${from}: the NIC is disconnected`);
    }
    if (vm.state !== "RUNNING") {
      throw new VmError(
        "vm-not-running",
        `Cannot ping from ${from}: vm ${vm.name} is ${vm.state}; a VM that does not run sends nothing (vm start ${vm.name})`,
      );
    }
    return { bridge: nic.bridge, port: nic.tap };
  }
  const tap = taps.get(from);
  if (tap === undefined || tap.namespace !== namespace) {
    throw new TopologyError(
      "tap-not-found",
      `Cannot ping from ${from}: not a VM NIC (vm:index) or a host tap of this namespace`,
    );
  }
  return { bridge: tap.bridge, port: tap.name };
}

/**
 * Checks a ping's count and address.
 *
 * @throws {PingError} `Cannot ping as count must be 1 to 10000: current value is 0`, or for an address
 * that is not IPv4 (code `invalid-address`).
 */
export function checkPing(ip: string, count: number): void {
  if (!Number.isSafeInteger(count) || count < 1 || count > MAX_PING_COUNT) {
    throw new PingError(
      "invalid-argument",
      `Cannot ping as count must be 1 to ${MAX_PING_COUNT}: current value is ${count}`,
    );
  }
  try {
    checkCidr(ip);
  } catch (error) {
    throw new PingError("invalid-address", (error as Error).message, { cause: error });
  }
}

/**
 * Pings from a source and reads what came back.
 *
 * @throws {PingError} `Cannot ping 10.0.2.1 from web:0: connect: Network is unreachable` (code
 * `network-unreachable`) when the source has no route to the address.
 */
export async function ping(
  backend: EndpointBackend,
  source: PingSource,
  from: string,
  ip: string,
  count: number,
): Promise<PingResult> {
  const to = cidrAddress(ip);
  const report: PingReport = await backend.ping(source.bridge, source.port, to, count);
  if (report.networkUnreachable) {
    throw new PingError(
      "network-unreachable",
      `Cannot ping ${to} from ${from}: connect: Network is unreachable`,
    );
  }
  return {
    from,
    to,
    sent: report.sent,
    received: report.received,
    lost: report.sent - report.received,
    rttMs: report.rttMs,
    reason: report.received > 0 ? undefined : report.errors > 0 ? "host-unreachable" : "no-reply",
  };
}
