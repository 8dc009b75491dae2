// Runtime-neutral.
/**
 * Classic pcap files (libpcap's savefile format, not pcapng), as tcpdump writes them and tcpdump and
 * tshark read them: a 24-byte global header (magic, version 2.4, snaplen, link type), then records of a
 * 16-byte header (seconds, microseconds or nanoseconds, `incl_len`, `orig_len`) and the captured bytes.
 *
 * {@linkcode PcapWriter} is the capture path: it copies records into one preallocated chunk and hands
 * full chunks to a sink, allocating nothing per record. {@linkcode writePcapHeader},
 * {@linkcode writePcapRecord} and {@linkcode encodePcap} are the same format as codecs (STYLE R13);
 * {@linkcode readPcap} reads files in either byte order and either timestamp precision. Files are
 * written little-endian. Writing to a file is `openPcapFile` in `lib/pcap_file.ts`, which keeps this
 * module free of file-system access.
 *
 * Times are nanoseconds as a `number`: exact up to 2^53 ns (104 days), which covers a lab's virtual
 * clock; give wall-clock seconds separately with `originSec` rather than adding them in.
 *
 * @example Write two frames and read them back
 * ```ts
 * import assert from "node:assert/strict";
 * import { arpRequest, encodeFrame, PcapWriter, readPcap } from "labwire";
 *
 * const chunks: Uint8Array[] = [];
 * const writer = new PcapWriter((chunk) => chunks.push(chunk.slice()), { snaplen: 1600 });
 * const frame = encodeFrame(arpRequest({ srcMac: "52:54:00:00:00:01", srcIp: "10.0.0.1", targetIp: "10.0.0.2" }));
 * writer.write(frame, 0, frame.length, 0);
 * writer.write(frame, 0, frame.length, 1_500_000);
 * writer.close();
 *
 * const file = readPcap(new Uint8Array(chunks.flatMap((c) => [...c])));
 * assert.equal(file.snaplen, 1600);
 * assert.deepEqual(file.records.map((r) => r.timeNs), [0, 1_500_000]);
 * assert.deepEqual(file.records[1]!.data, frame);
 * ```
 *
 * @module
 */

import {
  LINKTYPE_ETHERNET,
  PCAP_DEFAULT_SNAPLEN,
  PCAP_HEADER_BYTES,
  PCAP_MAGIC_MICROS,
  PCAP_MAGIC_NANOS,
  PCAP_RECORD_HEADER_BYTES,
  PCAP_VERSION_MAJOR,
  PCAP_VERSION_MINOR,
  PCAPNG_MAGIC,
} from "./_wire.ts";

export { LINKTYPE_ETHERNET, PCAP_HEADER_BYTES, PCAP_RECORD_HEADER_BYTES } from "./_wire.ts";

/** Timestamp precision of a pcap file: the fraction of a second is in microseconds or nanoseconds. */
export type PcapPrecision = "us" | "ns";

/** One captured frame. */
export interface PcapRecord {
  /** When it was captured, in nanoseconds (plus `originSec` seconds, when written). */
  timeNs: number;
  /** Its length on the wire (`orig_len`); `data` is shorter when the snaplen cut it. */
  origLen: number;
  /** The bytes captured (`incl_len` of them). */
  data: Uint8Array;
}

/** A pcap file as {@linkcode readPcap} reads it. */
export interface PcapFile {
  /** The snapshot length in the global header. */
  snaplen: number;
  /** The link type: 1 ({@linkcode LINKTYPE_ETHERNET}) for Ethernet. */
  linkType: number;
  /** Whether timestamps carry microseconds or nanoseconds. */
  precision: PcapPrecision;
  /** Whether the file is little-endian. */
  littleEndian: boolean;
  /** The records, in file order. */
  records: PcapRecord[];
}

/** Options for {@linkcode writePcapHeader} and {@linkcode encodePcap}. */
export interface PcapHeaderOptions {
  /** The snapshot length: records keep at most this many bytes of each frame. @default {262144} */
  snaplen?: number;
  /** The link type. @default {1} */
  linkType?: number;
  /** Timestamp precision. @default {"us"} */
  precision?: PcapPrecision;
}

/** Options for {@linkcode writePcapRecord} and {@linkcode pcapRecordLength}. */
export interface PcapRecordOptions {
  /** Keep at most this many bytes of the record's data. @default {262144} */
  snaplen?: number;
  /** Timestamp precision. @default {"us"} */
  precision?: PcapPrecision;
  /** Whole seconds added to every timestamp, e.g. the wall-clock second a lab started. @default {0} */
  originSec?: number;
}

/** Options for {@linkcode PcapWriter}. */
export interface PcapWriterOptions extends PcapHeaderOptions {
  /** Bytes of the chunk buffer; the sink gets chunks of at most this size. At least 64. @default {1048576} */
  chunkBytes?: number;
  /** Whole seconds added to every timestamp, e.g. the wall-clock second a lab started. @default {0} */
  originSec?: number;
  /** Called once by {@linkcode PcapWriter.close}, after the last chunk went to the sink. */
  onClose?: () => void;
}

/** Receives the bytes of a pcap file in order; `chunk` is reused after the call returns. */
export type PcapSink = (chunk: Uint8Array) => void;

const MAX_U32 = 0xffff_ffff;

function checkSnaplen(snaplen: number): void {
  if (!(Number.isInteger(snaplen) && snaplen > 0 && snaplen <= 0x7fff_ffff)) {
    throw new RangeError(
      `Cannot write pcap as 'snaplen' must be a positive integer: current value is ${snaplen}`,
    );
  }
}

function checkOriginSec(originSec: number): void {
  if (!(Number.isInteger(originSec) && originSec >= 0 && originSec <= MAX_U32)) {
    throw new RangeError(
      `Cannot write pcap as 'originSec' must be an integer 0-4294967295: current value is ${originSec}`,
    );
  }
}

function checkLinkType(linkType: number): void {
  if (!(Number.isInteger(linkType) && linkType >= 0 && linkType <= MAX_U32)) {
    throw new RangeError(
      `Cannot write pcap as 'linkType' must be a 32-bit unsigned integer: current value is ${linkType}`,
    );
  }
}

function checkPrecision(precision: string): void {
  if (precision !== "us" && precision !== "ns") {
    throw new RangeError(
      `Cannot write pcap as 'precision' must be "us" or "ns": current value is "${precision}"`,
    );
  }
}

/** Stores a little-endian 32-bit value. */
function put32le(buf: Uint8Array, o: number, v: number): void {
  buf[o] = v;
  buf[o + 1] = v >>> 8;
  buf[o + 2] = v >>> 16;
  buf[o + 3] = v >>> 24;
}

/**
 * Writes a record header: the timestamp split into seconds and the fraction, rounded to the precision
 * (so that microsecond times read back as nanosecond doubles round-trip).
 */
function putRecordHeader(
  buf: Uint8Array,
  o: number,
  timeNs: number,
  originSec: number,
  nanos: boolean,
  incl: number,
  orig: number,
): void {
  if (!(timeNs >= 0)) {
    throw new RangeError(
      `Cannot write pcap record as 'timeNs' must be at least 0: current value is ${timeNs}`,
    );
  }
  let sec = Math.floor(timeNs / 1e9);
  const rest = timeNs - sec * 1e9;
  let frac = nanos ? Math.round(rest) : Math.round(rest / 1000);
  if (frac >= (nanos ? 1e9 : 1e6)) {
    sec++;
    frac = 0;
  }
  sec += originSec;
  if (sec > MAX_U32) {
    throw new RangeError(
      `Cannot write pcap record as its time is past 2^32 seconds: current value is ${timeNs} ns + ${originSec} s`,
    );
  }
  put32le(buf, o, sec);
  put32le(buf, o + 4, frac);
  put32le(buf, o + 8, incl);
  put32le(buf, o + 12, orig);
}

/**
 * Writes a pcap global header (little-endian) into `buf` at `offset`.
 *
 * @param buf Where it goes.
 * @param offset Where in `buf` it starts.
 * @param options Snaplen, link type, precision.
 * @returns The offset after it, `offset + 24`.
 * @throws {RangeError} If an option is out of range or the header does not fit.
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { readPcap, writePcapHeader } from "labwire";
 * const buf = new Uint8Array(24);
 * assert.equal(writePcapHeader(buf, 0, { snaplen: 1600 }), 24);
 * assert.deepEqual(readPcap(buf), { snaplen: 1600, linkType: 1, precision: "us", littleEndian: true, records: [] });
 * ```
 */
export function writePcapHeader(buf: Uint8Array, offset: number, options: PcapHeaderOptions = {}): number {
  const { snaplen = PCAP_DEFAULT_SNAPLEN, linkType = LINKTYPE_ETHERNET, precision = "us" } = options;
  checkSnaplen(snaplen);
  checkLinkType(linkType);
  checkPrecision(precision);
  if (!(Number.isInteger(offset) && offset >= 0 && offset + PCAP_HEADER_BYTES <= buf.length)) {
    throw new RangeError(
      `Cannot write pcap header of ${PCAP_HEADER_BYTES} bytes at offset ${offset}: buffer has ${buf.length} bytes`,
    );
  }
  put32le(buf, offset, precision === "ns" ? PCAP_MAGIC_NANOS : PCAP_MAGIC_MICROS);
  buf[offset + 4] = PCAP_VERSION_MAJOR;
  buf[offset + 5] = 0;
  buf[offset + 6] = PCAP_VERSION_MINOR;
  buf[offset + 7] = 0;
  put32le(buf, offset + 8, 0); // thiszone: GMT
  put32le(buf, offset + 12, 0); // sigfigs
  put32le(buf, offset + 16, snaplen);
  put32le(buf, offset + 20, linkType);
  return offset + PCAP_HEADER_BYTES;
}

/**
 * How many bytes {@linkcode writePcapRecord} writes for `record`: 16 plus its data, cut to the snaplen.
 *
 * @param record The record.
 * @param options The snaplen.
 * @returns The record's length in the file.
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { pcapRecordLength } from "labwire";
 * const record = { timeNs: 0, origLen: 1500, data: new Uint8Array(1500) };
 * assert.equal(pcapRecordLength(record), 1516);
 * assert.equal(pcapRecordLength(record, { snaplen: 96 }), 112);
 * ```
 */
export function pcapRecordLength(record: PcapRecord, options: PcapRecordOptions = {}): number {
  const { snaplen = PCAP_DEFAULT_SNAPLEN } = options;
  return PCAP_RECORD_HEADER_BYTES + Math.min(record.data.length, snaplen);
}

/**
 * Writes one record (little-endian) into `buf` at `offset`: `incl_len` is the data's length cut to the
 * snaplen, `orig_len` is `record.origLen`.
 *
 * @param record The record; `origLen` must be at least `data.length`.
 * @param buf Where it goes.
 * @param offset Where in `buf` it starts.
 * @param options Snaplen, precision, origin.
 * @returns The offset after the record.
 * @throws {RangeError} If a value is out of range or the record does not fit.
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { writePcapRecord } from "labwire";
 * const buf = new Uint8Array(100);
 * const end = writePcapRecord({ timeNs: 2_000_003_000, origLen: 60, data: new Uint8Array(60) }, buf, 0);
 * assert.equal(end, 76);
 * assert.deepEqual([...buf.subarray(0, 16)], [2, 0, 0, 0, 3, 0, 0, 0, 60, 0, 0, 0, 60, 0, 0, 0]);
 * ```
 */
export function writePcapRecord(
  record: PcapRecord,
  buf: Uint8Array,
  offset: number,
  options: PcapRecordOptions = {},
): number {
  const { snaplen = PCAP_DEFAULT_SNAPLEN, precision = "us", originSec = 0 } = options;
  checkSnaplen(snaplen);
  checkPrecision(precision);
  checkOriginSec(originSec);
  const { data, origLen } = record;
  if (!(Number.isInteger(origLen) && origLen >= data.length && origLen <= MAX_U32)) {
    throw new RangeError(
      `Cannot write pcap record as 'origLen' must be an integer from data.length (${data.length}) to 2^32-1: current value is ${origLen}`,
    );
  }
  const incl = Math.min(data.length, snaplen);
  const n = PCAP_RECORD_HEADER_BYTES + incl;
  if (!(Number.isInteger(offset) && offset >= 0 && offset + n <= buf.length)) {
    throw new RangeError(
      `Cannot write pcap record of ${n} bytes at offset ${offset}: buffer has ${buf.length} bytes`,
    );
  }
  putRecordHeader(buf, offset, record.timeNs, originSec, precision === "ns", incl, origLen);
  buf.set(incl === data.length ? data : data.subarray(0, incl), offset + PCAP_RECORD_HEADER_BYTES);
  return offset + n;
}

/**
 * Encodes a whole pcap file into a new array of exactly the bytes needed.
 *
 * @param records The records, in order.
 * @param options Snaplen, link type, precision.
 * @returns The file's bytes.
 * @throws {RangeError} As {@linkcode writePcapHeader} and {@linkcode writePcapRecord}.
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodePcap, readPcap } from "labwire";
 * const bytes = encodePcap([{ timeNs: 1000, origLen: 3, data: new Uint8Array([1, 2, 3]) }], { precision: "ns" });
 * assert.equal(bytes.length, 24 + 16 + 3);
 * assert.deepEqual(readPcap(bytes).records, [{ timeNs: 1000, origLen: 3, data: new Uint8Array([1, 2, 3]) }]);
 * ```
 */
export function encodePcap(records: readonly PcapRecord[], options: PcapHeaderOptions = {}): Uint8Array {
  let n = PCAP_HEADER_BYTES;
  for (const r of records) n += pcapRecordLength(r, options);
  const buf = new Uint8Array(n);
  let o = writePcapHeader(buf, 0, options);
  const recordOptions: PcapRecordOptions = {};
  if (options.snaplen !== undefined) recordOptions.snaplen = options.snaplen;
  if (options.precision !== undefined) recordOptions.precision = options.precision;
  for (const r of records) o = writePcapRecord(r, buf, o, recordOptions);
  return buf;
}

/**
 * Reads a classic pcap file: either byte order, microsecond (0xa1b2c3d4) or nanosecond (0xa1b23c4d)
 * timestamps. Record data are views into `bytes`, not copies.
 *
 * @param bytes The whole file.
 * @returns The header's fields and the records.
 * @throws {SyntaxError} If the magic number is not pcap's (pcapng included) or the version is not 2.x.
 * @throws {RangeError} If the file is cut short: `Cannot read pcap record 3 data at offset 1016: incl_len
 * is 60 bytes, file has 20 from there`.
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { readPcap } from "labwire";
 * assert.throws(() => readPcap(new Uint8Array(10)), {
 *   name: "RangeError",
 *   message: "Cannot read pcap global header: file has 10 bytes, needs 24",
 * });
 * ```
 */
export function readPcap(bytes: Uint8Array): PcapFile {
  const size = bytes.length;
  if (size < PCAP_HEADER_BYTES) {
    throw new RangeError(
      `Cannot read pcap global header: file has ${size} bytes, needs ${PCAP_HEADER_BYTES}`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magicLe = view.getUint32(0, true);
  const magicBe = view.getUint32(0, false);
  let littleEndian: boolean;
  let precision: PcapPrecision;
  if (magicLe === PCAP_MAGIC_MICROS || magicLe === PCAP_MAGIC_NANOS) {
    littleEndian = true;
    precision = magicLe === PCAP_MAGIC_NANOS ? "ns" : "us";
  } else if (magicBe === PCAP_MAGIC_MICROS || magicBe === PCAP_MAGIC_NANOS) {
    littleEndian = false;
    precision = magicBe === PCAP_MAGIC_NANOS ? "ns" : "us";
  } else if (magicBe === PCAPNG_MAGIC) {
    throw new SyntaxError("Cannot read pcap file: it is pcapng (magic 0x0a0d0d0a), which is not supported");
  } else {
    throw new SyntaxError(
      `Cannot read pcap file: unknown magic number 0x${magicBe.toString(16).padStart(8, "0")}`,
    );
  }
  const le = littleEndian;
  const major = view.getUint16(4, le);
  const minor = view.getUint16(6, le);
  if (major !== PCAP_VERSION_MAJOR) {
    throw new SyntaxError(`Cannot read pcap file: version ${major}.${minor} is not 2.x`);
  }
  const snaplen = view.getUint32(16, le);
  const linkType = view.getUint32(20, le);
  const fracNs = precision === "ns" ? 1 : 1000;
  const records: PcapRecord[] = [];
  let o = PCAP_HEADER_BYTES;
  while (o < size) {
    const number = records.length + 1;
    if (size - o < PCAP_RECORD_HEADER_BYTES) {
      throw new RangeError(
        `Cannot read pcap record ${number} header at offset ${o}: file has ${size} bytes, needs ${
          o + PCAP_RECORD_HEADER_BYTES
        }`,
      );
    }
    const sec = view.getUint32(o, le);
    const frac = view.getUint32(o + 4, le);
    const incl = view.getUint32(o + 8, le);
    const origLen = view.getUint32(o + 12, le);
    const at = o + PCAP_RECORD_HEADER_BYTES;
    if (incl > size - at) {
      throw new RangeError(
        `Cannot read pcap record ${number} data at offset ${at}: incl_len is ${incl} bytes, file has ${
          size - at
        } from there`,
      );
    }
    // a plain Uint8Array view even when `bytes` is a Node Buffer
    const data = new Uint8Array(bytes.buffer, bytes.byteOffset + at, incl);
    records.push({ timeNs: sec * 1e9 + frac * fracNs, origLen, data });
    o = at + incl;
  }
  return { snaplen, linkType, precision, littleEndian, records };
}

/**
 * Writes a pcap file through a chunk buffer: records are copied into one preallocated chunk (1 MiB by
 * default) and the sink gets a chunk only when it is full, on {@linkcode PcapWriter.flush} and on
 * {@linkcode PcapWriter.close}: never one write per frame, and no allocation per record. A record
 * larger than the chunk goes to the sink in two calls (its header, then its data straight from the
 * caller's buffer).
 *
 * The sink must use or copy the chunk before it returns: the writer reuses it. Errors the sink throws
 * reach the caller of `write`, `flush` or `close`.
 *
 * @example A capture that discards nothing
 * ```ts
 * import assert from "node:assert/strict";
 * import { PcapWriter, readPcap } from "labwire";
 * const parts: Uint8Array[] = [];
 * const writer = new PcapWriter((chunk) => parts.push(chunk.slice()), { snaplen: 64, chunkBytes: 4096 });
 * const frame = new Uint8Array(100).fill(0xab);
 * for (let i = 0; i < 100; i++) writer.write(frame, 0, frame.length, i * 1000);
 * writer.close();
 * assert.ok(parts.length > 1);
 * const file = readPcap(new Uint8Array(parts.flatMap((p) => [...p])));
 * assert.equal(file.records.length, 100);
 * assert.deepEqual([file.records[99]!.origLen, file.records[99]!.data.length], [100, 64]);
 * ```
 */
export class PcapWriter {
  #sink: PcapSink;
  #chunk: Uint8Array;
  #pos: number;
  #snaplen: number;
  #nanos: boolean;
  #originSec: number;
  #onClose: (() => void) | undefined;
  #closed = false;
  #records = 0;
  #bytes = PCAP_HEADER_BYTES;

  /**
   * Makes a writer; the global header goes to the sink with the first chunk.
   *
   * @param sink Receives the file's bytes in order.
   * @param options Snaplen, link type, precision, chunk size, origin, close hook.
   * @throws {RangeError} If an option is out of range.
   */
  constructor(sink: PcapSink, options: PcapWriterOptions = {}) {
    const { chunkBytes = 1 << 20, originSec = 0, snaplen = PCAP_DEFAULT_SNAPLEN, precision = "us" } = options;
    if (!(Number.isInteger(chunkBytes) && chunkBytes >= 64)) {
      throw new RangeError(
        `Cannot make pcap writer as 'chunkBytes' must be an integer >= 64: current value is ${chunkBytes}`,
      );
    }
    checkOriginSec(originSec);
    this.#chunk = new Uint8Array(chunkBytes);
    this.#pos = writePcapHeader(this.#chunk, 0, options);
    this.#sink = sink;
    this.#snaplen = snaplen;
    this.#nanos = precision === "ns";
    this.#originSec = originSec;
    this.#onClose = options.onClose;
  }

  /** Records written so far. */
  get records(): number {
    return this.#records;
  }

  /** Bytes of the file so far, header included, whether or not they reached the sink yet. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Whether {@linkcode PcapWriter.close} was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Appends a record of the frame at `buf[off..off+len)`, cut to the snaplen.
   *
   * @param buf The frame's bytes.
   * @param off Where the frame starts.
   * @param len The frame's length (`orig_len`).
   * @param timeNs When it was seen, in nanoseconds.
   * @throws {TypeError} If the writer is closed.
   * @throws {RangeError} If the frame is not inside `buf` or `timeNs` is negative.
   */
  write(buf: Uint8Array, off: number, len: number, timeNs: number): void {
    if (this.#closed) throw new TypeError("Cannot write pcap record: the writer is closed");
    if (!(off >= 0 && len >= 0 && off + len <= buf.length)) {
      throw new RangeError(
        `Cannot write pcap record of ${len} bytes at offset ${off}: buffer has ${buf.length} bytes`,
      );
    }
    const chunk = this.#chunk;
    const incl = len < this.#snaplen ? len : this.#snaplen;
    const need = PCAP_RECORD_HEADER_BYTES + incl;
    let pos = this.#pos;
    if (pos + need > chunk.length) {
      this.flush();
      pos = 0;
    }
    putRecordHeader(chunk, pos, timeNs, this.#originSec, this.#nanos, incl, len);
    pos += PCAP_RECORD_HEADER_BYTES;
    if (need > chunk.length) {
      // bigger than the chunk: the header, then the data straight from the caller's buffer
      this.#pos = pos;
      this.flush();
      this.#sink(buf.subarray(off, off + incl));
    } else {
      if (incl <= 32) {
        // a subarray view costs more than copying this few bytes (lib/frame.ts LOOP_COPY_MAX)
        for (let i = 0; i < incl; i++) chunk[pos + i] = buf[off + i]!;
      } else {
        chunk.set(buf.subarray(off, off + incl), pos);
      }
      this.#pos = pos + incl;
    }
    this.#records++;
    this.#bytes += need;
  }

  /** Hands the bytes buffered so far to the sink. */
  flush(): void {
    const pos = this.#pos;
    if (pos === 0) return;
    this.#pos = 0;
    this.#sink(this.#chunk.subarray(0, pos));
  }

  /** Flushes, then calls `onClose` once; later calls do nothing. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.flush();
    } finally {
      this.#onClose?.();
    }
  }

  /** Closes the writer (`using writer = ...`). */
  [Symbol.dispose](): void {
    this.close();
  }
}
