// Runtime-neutral.
/**
 * Reading a pcap file that tcpdump is still writing: only the records it has written whole count (the
 * last one may be half there), and only the newest few are decoded, so a capture's reader copies no more
 * than it returns, however long the file has grown.
 *
 * @module
 */

import { PCAP_HEADER_BYTES, PCAP_RECORD_HEADER_BYTES, type PcapRecord, readPcap } from "../wire/pcap.ts";

/** The newest whole records of a pcap file, and how many whole records it holds in all. */
export interface PcapTail {
  /** The newest `limit` whole records, oldest first. */
  readonly records: readonly PcapRecord[];
  /** Whole records in the file, the ones left out included. */
  readonly total: number;
}

/**
 * Reads the newest `limit` whole records of a pcap file that may still be growing: a file shorter than
 * its global header holds no records, and a last record cut short is left out (the writer has not
 * finished it).
 *
 * @param bytes The file as it is now.
 * @param limit How many of the newest records to return. @default {Infinity}
 * @returns The records and the count of whole records.
 * @throws {SyntaxError} If the file is not pcap, as {@linkcode readPcap} says.
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodePcap } from "labwire";
 * import { readPcapTail } from "./_pcap_tail.ts";
 * const data = new Uint8Array(60);
 * const file = encodePcap([1, 2, 3].map((i) => ({ timeNs: i * 1000, origLen: 60, data })));
 * const tail = readPcapTail(file.subarray(0, file.length - 10), 1);
 * assert.equal(tail.total, 2);
 * assert.deepEqual(tail.records.map((r) => r.timeNs), [2000]);
 * ```
 */
export function readPcapTail(bytes: Uint8Array, limit: number = Infinity): PcapTail {
  if (bytes.length < PCAP_HEADER_BYTES) return { records: [], total: 0 };
  // the global header alone: its magic number and version checked, its byte order
  const le = readPcap(bytes.subarray(0, PCAP_HEADER_BYTES)).littleEndian;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const size = bytes.length;
  // first pass: where the whole records end, and how many there are
  let total = 0;
  let end = PCAP_HEADER_BYTES;
  while (end + PCAP_RECORD_HEADER_BYTES <= size) {
    const next = end + PCAP_RECORD_HEADER_BYTES + view.getUint32(end + 8, le);
    if (next > size) break;
    end = next;
    total++;
  }
  const keep = Math.max(0, Math.min(total, limit));
  // second pass: skip the older records
  let start = PCAP_HEADER_BYTES;
  for (let i = 0; i < total - keep; i++) start += PCAP_RECORD_HEADER_BYTES + view.getUint32(start + 8, le);
  if (start === PCAP_HEADER_BYTES) return { records: readPcap(bytes.subarray(0, end)).records, total };
  const tail = new Uint8Array(PCAP_HEADER_BYTES + end - start);
  tail.set(bytes.subarray(0, PCAP_HEADER_BYTES), 0);
  tail.set(bytes.subarray(start, end), PCAP_HEADER_BYTES);
  return { records: readPcap(tail).records, total };
}
