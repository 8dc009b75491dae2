/**
 * pcap files on disk: a {@linkcode PcapWriter} whose sink is `node:fs` `writeSync` on a file descriptor.
 * It is kept apart from `lib/pcap.ts` so that the codecs and the writer stay runtime-neutral (no file
 * system); `node:fs` itself runs under Deno, Bun and Node alike.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { mkdtempSync, readFileSync, rmSync } from "node:fs";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 * import { arpRequest, encodeFrame, openPcapFile, readPcap } from "labwire";
 *
 * const dir = mkdtempSync(join(tmpdir(), "labwire-"));
 * const path = join(dir, "lab.pcap");
 * const writer = openPcapFile(path, { snaplen: 1600 });
 * const frame = encodeFrame(arpRequest({ srcMac: "52:54:00:00:00:01", srcIp: "10.0.0.1", targetIp: "10.0.0.2" }));
 * writer.write(frame, 0, frame.length, 1_000);
 * writer.close();
 * assert.equal(readPcap(readFileSync(path)).records.length, 1);
 * rmSync(dir, { recursive: true });
 * ```
 *
 * @module
 */

import { closeSync, openSync, readFileSync, writeSync } from "node:fs";
import { type PcapFile, PcapWriter, type PcapWriterOptions, readPcap } from "./pcap.ts";

/** Options for {@linkcode openPcapFile}: those of {@linkcode PcapWriter} but `onClose`, which closes the file. */
export type PcapFileOptions = Omit<PcapWriterOptions, "onClose">;

/** Writes all of `chunk`: `writeSync` may write less than asked. */
function writeAll(fd: number, chunk: Uint8Array): void {
  let done = 0;
  while (done < chunk.length) done += writeSync(fd, chunk, done, chunk.length - done);
}

/**
 * Creates (or truncates) a pcap file and returns a writer for it. Chunks are written with `writeSync`
 * as they fill (1 MiB by default); {@linkcode PcapWriter.close} writes the rest and closes the file.
 *
 * @param path The file.
 * @param options Snaplen, precision, chunk size, origin.
 * @returns The writer.
 * @throws {RangeError} If an option is out of range (before the file is touched).
 * @throws {Error} What `openSync` throws (`ENOENT`, `EACCES`, ...).
 */
export function openPcapFile(path: string, options: PcapFileOptions = {}): PcapWriter {
  let fd = -1;
  const writer = new PcapWriter((chunk) => writeAll(fd, chunk), {
    ...options,
    onClose: () => closeSync(fd),
  });
  fd = openSync(path, "w");
  return writer;
}

/**
 * Reads a whole pcap file (what {@linkcode openPcapFile} wrote, or tcpdump) with {@linkcode readPcap}.
 *
 * @throws {Error} What `readFileSync` throws (`ENOENT`, ...), or readPcap's errors for a file that is not pcap.
 */
export function readPcapFile(path: string): PcapFile {
  return readPcap(readFileSync(path));
}
