// Runtime-neutral.
/**
 * What a lab's captures saw, in a form two runs can be compared by: one line per frame with its MACs,
 * VLAN tags, IPv4 TTL and protocol fields ({@linkcode describeFrame} without ICMP identifiers, and of UDP and TCP
 * only the ports and TCP flags), and no timestamps, checksums, TCP sequence numbers, windows, lengths or
 * payload bytes, which differ between the simulator and a real kernel without the lab behaving
 * differently. labwire's scenario suite runs the same lab on the simulator and on Open vSwitch
 * and requires the observations of every capture to be identical; the first frame that differs is named.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { arpRequest, encodeFrame, encodePcap } from "labwire";
 * import { firstDifference, observePcap } from "labwire/testing";
 * const frame = encodeFrame(arpRequest({ srcMac: "02:00:00:00:00:01", srcIp: "10.0.0.1", targetIp: "10.0.0.2" }));
 * const seen = observePcap(encodePcap([{ timeNs: 0, origLen: frame.length, data: frame }]));
 * assert.deepEqual(seen, ["02:00:00:00:00:01 > ff:ff:ff:ff:ff:ff, ARP, Request who-has 10.0.0.2 tell 10.0.0.1"]);
 * assert.equal(firstDifference(seen, seen), undefined);
 * ```
 *
 * @module
 */

import { decodeFrame, describeFrame } from "./frame.ts";
import { readPcap } from "./pcap.ts";

/**
 * The observations of a pcap file's frames, in order: one line each, as {@linkcode describeFrame}
 * writes it without ICMP identifiers and UDP and TCP details, with IPv4's TTL (`IPv4 10.0.0.1.40000 >
 * 10.0.0.2.80: Flags [S], ttl 64`, `IPv4 10.0.0.1.68 > 255.255.255.255.67: UDP, ttl 64`, so that a
 * router's hop shows); a frame that cannot be decoded is
 * `undecodable frame, N bytes`.
 *
 * @param bytes The whole pcap file.
 * @returns One line per record.
 * @throws {SyntaxError} If the file is not pcap (see {@linkcode readPcap}).
 * @example A TCP handshake's first segment
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeFrame, encodePcap, tcpSegment } from "labwire";
 * import { observePcap } from "labwire/testing";
 * const syn = encodeFrame(tcpSegment({
 *   srcMac: "02:00:00:00:00:01", dstMac: "02:00:00:00:00:02", srcIp: "10.0.0.1", dstIp: "10.0.0.2",
 *   srcPort: 40000, dstPort: 80, seq: 123456789,
 * }));
 * assert.deepEqual(observePcap(encodePcap([{ timeNs: 0, origLen: syn.length, data: syn }])), [
 *   "02:00:00:00:00:01 > 02:00:00:00:00:02, IPv4 10.0.0.1.40000 > 10.0.0.2.80: Flags [S], ttl 64",
 * ]);
 * ```
 */
export function observePcap(bytes: Uint8Array): string[] {
  return readPcap(bytes).records.map((record) => {
    try {
      return describeFrame(decodeFrame(record.data), { ids: false, transportDetails: false, ttl: true });
    } catch {
      return `undecodable frame, ${record.data.length} bytes`;
    }
  });
}

/** Where two lists of observations part: the position, and what each had there (nothing past its end). */
export interface Difference {
  /** The position, from 0. */
  readonly index: number;
  /** The first list's line there, if it is that long. */
  readonly a?: string;
  /** The second list's line there, if it is that long. */
  readonly b?: string;
}

/**
 * The first position where two lists of observations differ, or `undefined` when they are the same.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { firstDifference } from "labwire/testing";
 * assert.deepEqual(firstDifference(["x", "y"], ["x", "z", "w"]), { index: 1, a: "y", b: "z" });
 * assert.deepEqual(firstDifference(["x"], ["x", "w"]), { index: 1, b: "w" });
 * ```
 */
export function firstDifference(a: readonly string[], b: readonly string[]): Difference | undefined {
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) {
    if (a[i] !== b[i]) {
      return { index: i, ...(i < a.length ? { a: a[i]! } : {}), ...(i < b.length ? { b: b[i]! } : {}) };
    }
  }
  return undefined;
}

/**
 * Says how two lists of observations differ, for a failing test: the first differing frame (counted
 * from 1) as each side saw it, then both lists, numbered. "" when they are the same.
 *
 * @param names What each list is, e.g. `["sim", "ovs"]`.
 */
export function explainDifference(
  a: readonly string[],
  b: readonly string[],
  names: readonly [string, string] = ["a", "b"],
): string {
  const d = firstDifference(a, b);
  if (d === undefined) return "";
  const width = Math.max(names[0].length, names[1].length);
  const side = (name: string, line: string | undefined, count: number) =>
    `  ${name.padEnd(width)}: ${line ?? `(nothing: it saw ${count} frames)`}`;
  const listing = (
    name: string,
    lines: readonly string[],
  ) => [`${name} saw ${lines.length} frames:`, ...lines.map((l, i) => `  ${String(i + 1).padStart(3)} ${l}`)];
  return [
    `frame ${d.index + 1} differs:`,
    side(names[0], d.a, a.length),
    side(names[1], d.b, b.length),
    ...listing(names[0], a),
    ...listing(names[1], b),
  ].join("\n");
}
