/**
 * Capture throughput: records per second through a {@linkcode PcapWriter} whose sink discards the chunks,
 * against a baseline that only copies the same frame bytes into a 1 MiB buffer in a loop (the copy every
 * capture must do). The writer should stay within a small factor of the copy, and above 3 million
 * 64-byte records per second. `deno bench bench/pcap.bench.ts`, or medians with
 * `deno run -A scripts/bench_report.ts`.
 *
 * @module
 */
import { encodeFrame, icmpEcho } from "../lib/wire/frame.ts";
import { encodePcap, PcapWriter, readPcap } from "../lib/wire/pcap.ts";
import { bench } from "./_bench.ts";

const RECORDS = 10_000;

function echo(size: number): Uint8Array {
  return encodeFrame(icmpEcho({
    srcMac: "52:54:00:00:00:01",
    dstMac: "52:54:00:00:00:02",
    srcIp: "10.0.0.1",
    dstIp: "10.0.0.2",
    id: 1,
    seq: 1,
    data: new Uint8Array(Math.max(0, size - 42)),
  }));
}

const FRAME_1500 = echo(1500);
/** A 60-byte echo request and 4 bytes where the FCS would be: a 64-byte frame on the wire. */
const SMALL = new Uint8Array(64);
SMALL.set(echo(60));

// Results go here so that no work can be optimised away.
const sink: { value: number } = { value: 0 };
function discard(chunk: Uint8Array): void {
  sink.value += chunk.length;
}

/** The copy a capture cannot avoid: frame bytes into a 1 MiB buffer, wrapping around. */
function copyBaseline(frame: Uint8Array, len: number): (t: unknown) => void {
  const buf = new Uint8Array(1 << 20);
  let pos = 0;
  return () => {
    for (let r = 0; r < RECORDS; r++) {
      if (pos + len + 16 > buf.length) pos = 0;
      if (len <= 32) {
        for (let i = 0; i < len; i++) buf[pos + 16 + i] = frame[i]!;
      } else {
        buf.set(frame.subarray(0, len), pos + 16);
      }
      pos += len + 16;
    }
    sink.value += pos;
  };
}

function writerCase(frame: Uint8Array, len: number): (t: unknown) => void {
  const writer = new PcapWriter(discard, { snaplen: 1600 });
  let time = 0;
  return () => {
    for (let r = 0; r < RECORDS; r++) writer.write(frame, 0, len, time += 1_000);
  };
}

bench({
  name: "copy 64 bytes into a 1 MiB buffer",
  group: "pcap 64-byte records",
  baseline: true,
  ops: RECORDS,
  fn: copyBaseline(SMALL, 64),
});
bench({
  name: "PcapWriter.write() a 64-byte frame, sink discards",
  group: "pcap 64-byte records",
  ops: RECORDS,
  fn: writerCase(SMALL, 64),
});
bench({
  name: "copy 1500 bytes into a 1 MiB buffer",
  group: "pcap 1500-byte records",
  baseline: true,
  ops: RECORDS,
  fn: copyBaseline(FRAME_1500, FRAME_1500.length),
});
bench({
  name: "PcapWriter.write() a 1514-byte frame, sink discards",
  group: "pcap 1500-byte records",
  ops: RECORDS,
  fn: writerCase(FRAME_1500, FRAME_1500.length),
});

const FILE = encodePcap(
  Array.from({ length: RECORDS }, (_, i) => ({ timeNs: i * 1000, origLen: 64, data: SMALL })),
  { snaplen: 1600 },
);
bench({
  name: "readPcap() 10,000 64-byte records",
  group: "pcap read",
  baseline: true,
  ops: RECORDS,
  fn: () => sink.value += readPcap(FILE).records.length,
});
