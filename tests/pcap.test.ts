import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { nodeRunner, which } from "../lib/exec.ts";
import {
  arpReply,
  arpRequest,
  decodeFrame,
  encodeFrame,
  type Frame,
  icmpEcho,
  writeFrame,
} from "../lib/wire/frame.ts";
import {
  encodePcap,
  type PcapRecord,
  pcapRecordLength,
  PcapWriter,
  type PcapWriterOptions,
  readPcap,
  writePcapHeader,
  writePcapRecord,
} from "../lib/wire/pcap.ts";
import { openPcapFile } from "../lib/wire/pcap_file.ts";

const A = "52:54:00:00:00:01";
const B = "52:54:00:00:00:02";
const DATA = new Uint8Array(56).map((_, i) => i);

/** The capture the real-tool tests read: ARP, ICMP on VLAN 100, and two QinQ frames. */
function labFrames(): Frame[] {
  return [
    arpRequest({ srcMac: A, srcIp: "10.0.0.1", targetIp: "10.0.0.2" }),
    arpReply({ srcMac: B, srcIp: "10.0.0.2", dstMac: A, dstIp: "10.0.0.1" }),
    icmpEcho({
      srcMac: A,
      dstMac: B,
      srcIp: "10.0.0.1",
      dstIp: "10.0.0.2",
      id: 1,
      seq: 1,
      data: DATA,
      vlans: [100],
    }),
    icmpEcho({
      srcMac: B,
      dstMac: A,
      srcIp: "10.0.0.2",
      dstIp: "10.0.0.1",
      id: 1,
      seq: 1,
      data: DATA,
      vlans: [100],
      reply: true,
    }),
    icmpEcho({
      srcMac: A,
      dstMac: B,
      srcIp: "10.0.0.1",
      dstIp: "10.0.0.2",
      id: 1,
      seq: 2,
      data: DATA,
      vlans: [10, 100],
      tpids: [0x88a8, 0x8100],
    }),
    arpRequest({ srcMac: A, srcIp: "10.0.1.1", targetIp: "10.0.1.2", vlans: [20, 200] }),
  ];
}

/** Concatenates what a sink received. */
function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** A writer whose sink keeps copies of the chunks. */
function capture(options: PcapWriterOptions = {}): { writer: PcapWriter; parts: Uint8Array[] } {
  const parts: Uint8Array[] = [];
  const writer = new PcapWriter((chunk) => parts.push(chunk.slice()), options);
  return { writer, parts };
}

function records(): PcapRecord[] {
  return labFrames().map((f, i) => {
    const data = encodeFrame(f);
    return { timeNs: i * 1_000_000 + 123_000, origLen: data.length, data };
  });
}

describe("pcap codecs", () => {
  test("encodePcap()/readPcap() round-trip; lengths agree; records write at offset 10 (R14)", () => {
    for (const precision of ["us", "ns"] as const) {
      const recs = records();
      const bytes = encodePcap(recs, { snaplen: 1600, precision });
      assert.equal(bytes.length, 24 + recs.reduce((n, r) => n + pcapRecordLength(r), 0));
      const file = readPcap(bytes);
      assert.deepEqual(file, { snaplen: 1600, linkType: 1, precision, littleEndian: true, records: recs });
      assert.deepEqual(encodePcap(file.records, { snaplen: 1600, precision }), bytes);
      for (const r of recs) {
        const big = new Uint8Array(pcapRecordLength(r) + 30).fill(0xee);
        const end = writePcapRecord(r, big, 10, { precision });
        assert.equal(end, 10 + pcapRecordLength(r));
        assert.ok(big.subarray(0, 10).every((b) => b === 0xee) && big.subarray(end).every((b) => b === 0xee));
        const header = new Uint8Array(24);
        writePcapHeader(header, 0, { snaplen: 1600, precision });
        assert.deepEqual(readPcap(concat([header, big.subarray(10, end)])).records, [r]);
      }
      const headerAt10 = new Uint8Array(40);
      assert.equal(writePcapHeader(headerAt10, 10, { snaplen: 1600, precision }), 34);
      assert.deepEqual(headerAt10.subarray(10, 34), bytes.subarray(0, 24));
    }
  });

  test("writePcapHeader() writes libpcap's little-endian header, version 2.4", () => {
    const buf = new Uint8Array(24);
    writePcapHeader(buf, 0, { snaplen: 1600 });
    assert.deepEqual(
      [...buf],
      [0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x40, 0x06, 0, 0, 1, 0, 0, 0],
    );
    writePcapHeader(buf, 0, { precision: "ns", linkType: 228 });
    assert.deepEqual([...buf.subarray(0, 4)], [0x4d, 0x3c, 0xb2, 0xa1]);
    assert.deepEqual([...buf.subarray(16)], [0, 0, 4, 0, 228, 0, 0, 0]);
  });

  test("writePcapRecord() cuts data to the snaplen: incl_len < orig_len", () => {
    const data = new Uint8Array(1500).fill(7);
    const record = { timeNs: 5, origLen: 1500, data };
    assert.equal(pcapRecordLength(record, { snaplen: 96 }), 112);
    const bytes = encodePcap([record], { snaplen: 96 });
    const [read] = readPcap(bytes).records;
    assert.equal(read!.origLen, 1500);
    assert.equal(read!.data.length, 96);
    assert.deepEqual([...bytes.subarray(24 + 8, 24 + 16)], [96, 0, 0, 0, 0xdc, 0x05, 0, 0]);
  });

  test("writePcapRecord() rounds to the microsecond, carrying into the seconds, and adds originSec", () => {
    const buf = new Uint8Array(16);
    writePcapRecord({ timeNs: 1_999_999_999_600, origLen: 0, data: new Uint8Array(0) }, buf, 0);
    assert.deepEqual([...buf.subarray(0, 8)], [0xd0, 0x07, 0, 0, 0, 0, 0, 0]); // 2000 s, 0 us
    writePcapRecord({ timeNs: 1_500, origLen: 0, data: new Uint8Array(0) }, buf, 0, {
      originSec: 1_700_000_000,
    });
    assert.deepEqual([...buf.subarray(0, 8)], [0x00, 0xf1, 0x53, 0x65, 2, 0, 0, 0]); // 1700000000 s, 2 us
    writePcapRecord({ timeNs: 1_500, origLen: 0, data: new Uint8Array(0) }, buf, 0, { precision: "ns" });
    assert.deepEqual([...buf.subarray(0, 8)], [0, 0, 0, 0, 0xdc, 0x05, 0, 0]);
  });

  test("readPcap() reads big-endian files", () => {
    const le = encodePcap(records(), { snaplen: 1600 });
    const be = le.slice();
    const swap = (o: number, n: number) => be.set(le.subarray(o, o + n).reverse(), o);
    swap(0, 4);
    swap(4, 2);
    swap(6, 2);
    for (const o of [8, 12, 16, 20]) swap(o, 4);
    for (let o = 24; o < be.length;) {
      const incl = le[o + 8]! | le[o + 9]! << 8;
      for (let i = 0; i < 4; i++) swap(o + 4 * i, 4);
      o += 16 + incl;
    }
    assert.deepEqual([...be.subarray(0, 4)], [0xa1, 0xb2, 0xc3, 0xd4]);
    const file = readPcap(be);
    assert.equal(file.littleEndian, false);
    assert.deepEqual(file.records, readPcap(le).records);
    assert.equal(file.snaplen, 1600);
  });

  test("readPcap() throws precise errors for truncated or foreign files", () => {
    const good = encodePcap(records(), { snaplen: 1600 });
    const cases: [Uint8Array, string, string][] = [
      [good.subarray(0, 23), "RangeError", "Cannot read pcap global header: file has 23 bytes, needs 24"],
      [
        good.subarray(0, 30),
        "RangeError",
        "Cannot read pcap record 1 header at offset 24: file has 30 bytes, needs 40",
      ],
      [
        good.subarray(0, 24 + 16 + 59),
        "RangeError",
        "Cannot read pcap record 1 data at offset 40: incl_len is 60 bytes, file has 59 from there",
      ],
      [
        good.subarray(0, 24 + 76 + 76 + 20),
        "RangeError",
        "Cannot read pcap record 3 data at offset 192: incl_len is 102 bytes, file has 4 from there",
      ],
      [
        new Uint8Array([0x0a, 0x0d, 0x0d, 0x0a, ...new Uint8Array(20)]),
        "SyntaxError",
        "Cannot read pcap file: it is pcapng (magic 0x0a0d0d0a), which is not supported",
      ],
      [
        new Uint8Array(24).fill(0x11),
        "SyntaxError",
        "Cannot read pcap file: unknown magic number 0x11111111",
      ],
    ];
    const v1 = good.slice(0, 24);
    v1[4] = 1;
    cases.push([v1, "SyntaxError", "Cannot read pcap file: version 1.4 is not 2.x"]);
    for (const [bytes, name, message] of cases) assert.throws(() => readPcap(bytes), { name, message });
  });

  test("pcap codecs throw precise errors for values they cannot write", () => {
    const buf = new Uint8Array(100);
    const data = new Uint8Array(10);
    const cases: [() => unknown, string][] = [
      [
        () => writePcapHeader(buf, 0, { snaplen: 0 }),
        "Cannot write pcap as 'snaplen' must be a positive integer: current value is 0",
      ],
      [
        () => writePcapHeader(buf, 0, { linkType: -1 }),
        "Cannot write pcap as 'linkType' must be a 32-bit unsigned integer: current value is -1",
      ],
      [
        () => writePcapHeader(buf, 0, { precision: "ms" as "us" }),
        `Cannot write pcap as 'precision' must be "us" or "ns": current value is "ms"`,
      ],
      [
        () => writePcapHeader(buf, 80),
        "Cannot write pcap header of 24 bytes at offset 80: buffer has 100 bytes",
      ],
      [
        () => writePcapRecord({ timeNs: 0, origLen: 10, data }, buf, 80),
        "Cannot write pcap record of 26 bytes at offset 80: buffer has 100 bytes",
      ],
      [
        () => writePcapRecord({ timeNs: 0, origLen: 9, data }, buf, 0),
        "Cannot write pcap record as 'origLen' must be an integer from data.length (10) to 2^32-1: current value is 9",
      ],
      [
        () => writePcapRecord({ timeNs: -1, origLen: 10, data }, buf, 0),
        "Cannot write pcap record as 'timeNs' must be at least 0: current value is -1",
      ],
      [
        () => writePcapRecord({ timeNs: 2 ** 32 * 1e9, origLen: 10, data }, buf, 0),
        "Cannot write pcap record as its time is past 2^32 seconds: current value is 4294967296000000000 ns + 0 s",
      ],
      [
        () => writePcapRecord({ timeNs: 0, origLen: 10, data }, buf, 0, { originSec: 1.5 }),
        "Cannot write pcap as 'originSec' must be an integer 0-4294967295: current value is 1.5",
      ],
    ];
    for (const [fn, message] of cases) assert.throws(fn, { name: "RangeError", message });
  });
});

describe("PcapWriter", () => {
  test("PcapWriter writes the same bytes as encodePcap() whatever the chunk size", () => {
    const recs = records();
    for (const precision of ["us", "ns"] as const) {
      const want = encodePcap(recs, { snaplen: 1600, precision });
      for (const chunkBytes of [64, 100, 200, 1 << 20]) {
        const { writer, parts } = capture({ snaplen: 1600, precision, chunkBytes });
        for (const r of recs) writer.write(r.data, 0, r.data.length, r.timeNs);
        assert.equal(writer.records, recs.length);
        assert.equal(writer.bytes, want.length);
        writer.close();
        assert.deepEqual(concat(parts), want, `chunk ${chunkBytes}`);
        // records that fit (the largest is 16 + 106 bytes) never make a chunk bigger than asked
        if (chunkBytes >= 122) assert.ok(parts.every((p) => p.length <= chunkBytes));
      }
    }
  });

  test("PcapWriter hands the sink one chunk for many records, never one write per frame", () => {
    const { writer, parts } = capture();
    const frame = encodeFrame(labFrames()[0]!);
    for (let i = 0; i < 1000; i++) writer.write(frame, 0, frame.length, i);
    assert.equal(parts.length, 0, "nothing reaches the sink before the chunk fills");
    writer.flush();
    assert.equal(parts.length, 1);
    assert.equal(parts[0]!.length, 24 + 1000 * 76);
    writer.flush();
    assert.equal(parts.length, 1, "an empty flush writes nothing");
    const small = capture({ chunkBytes: 1000 });
    for (let i = 0; i < 100; i++) small.writer.write(frame, 0, frame.length, i);
    small.writer.close();
    assert.equal(small.parts.length, Math.ceil((24 + 100 * 76) / (13 * 76)));
    assert.equal(readPcap(concat(small.parts)).records.length, 100);
  });

  test("PcapWriter writes a record larger than its chunk as a header then the data", () => {
    const { writer, parts } = capture({ chunkBytes: 64 });
    const big = new Uint8Array(300).map((_, i) => i);
    writer.write(big, 50, 200, 7_000);
    writer.write(big, 0, 10, 8_000);
    writer.close();
    assert.deepEqual(parts.map((p) => p.length), [24, 16, 200, 26]);
    const file = readPcap(concat(parts));
    assert.deepEqual(file.records.map((r) => [r.timeNs, r.origLen, r.data.length]), [[7_000, 200, 200], [
      8_000,
      10,
      10,
    ]]);
    assert.deepEqual(file.records[0]!.data, big.subarray(50, 250));
  });

  test("PcapWriter cuts records to the snaplen and keeps orig_len", () => {
    const { writer, parts } = capture({ snaplen: 64 });
    const frame = encodeFrame(labFrames()[2]!);
    writer.write(frame, 0, frame.length, 0);
    writer.close();
    const [record] = readPcap(concat(parts)).records;
    assert.deepEqual([record!.origLen, record!.data.length], [102, 64]);
    assert.deepEqual(record!.data, frame.subarray(0, 64));
  });

  test("PcapWriter round-trips frames with their timestamps", () => {
    const { writer, parts } = capture({ precision: "ns" });
    const frames = labFrames();
    const buf = new Uint8Array(2000);
    frames.forEach((f, i) => {
      const end = writeFrame(f, buf, 100);
      writer.write(buf, 100, end - 100, 1_000_000_007 * i);
    });
    writer.close();
    const file = readPcap(concat(parts));
    assert.deepEqual(file.records.map((r) => r.timeNs), frames.map((_, i) => 1_000_000_007 * i));
    assert.deepEqual(
      file.records.map((r) => decodeFrame(r.data)),
      frames.map((f) => decodeFrame(encodeFrame(f))),
    );
  });

  test("PcapWriter.close() flushes, calls onClose once, and later writes throw", () => {
    let closes = 0;
    const parts: Uint8Array[] = [];
    const writer = new PcapWriter((c) => parts.push(c.slice()), { onClose: () => closes++ });
    writer.close();
    writer.close();
    assert.equal(closes, 1);
    assert.equal(writer.closed, true);
    assert.deepEqual(readPcap(concat(parts)).records, [], "an empty capture is a valid file");
    assert.throws(() => writer.write(new Uint8Array(60), 0, 60, 0), {
      name: "TypeError",
      message: "Cannot write pcap record: the writer is closed",
    });
    {
      using disposed = new PcapWriter(() => {}, { onClose: () => closes++ });
      assert.equal(disposed.closed, false);
    }
    assert.equal(closes, 2);
  });

  test("PcapWriter throws precise errors for bad options and bad frames", () => {
    assert.throws(() => new PcapWriter(() => {}, { chunkBytes: 63 }), {
      name: "RangeError",
      message: "Cannot make pcap writer as 'chunkBytes' must be an integer >= 64: current value is 63",
    });
    assert.throws(() => new PcapWriter(() => {}, { snaplen: -5 }), {
      name: "RangeError",
      message: "Cannot write pcap as 'snaplen' must be a positive integer: current value is -5",
    });
    assert.throws(() => new PcapWriter(() => {}, { originSec: -1 }), {
      name: "RangeError",
      message: "Cannot write pcap as 'originSec' must be an integer 0-4294967295: current value is -1",
    });
    const writer = new PcapWriter(() => {});
    assert.throws(() => writer.write(new Uint8Array(60), 10, 60, 0), {
      name: "RangeError",
      message: "Cannot write pcap record of 60 bytes at offset 10: buffer has 60 bytes",
    });
    assert.throws(() => writer.write(new Uint8Array(60), 0, 60, Number.NaN), {
      name: "RangeError",
      message: "Cannot write pcap record as 'timeNs' must be at least 0: current value is NaN",
    });
  });
});

// ---- the proof: tcpdump and tshark read what labwire writes ----

const requireReal = (process.env.CI ?? "") !== "" || process.env.LABWIRE_REQUIRE_REAL === "1";
const hasTshark = which("tshark") !== undefined;
const hasTcpdump = which("tcpdump") !== undefined;
function skipReason(program: string, present: boolean): string | false {
  if (present || requireReal) return false;
  const reason = `needs ${program} (apt-get install ${program}); set LABWIRE_REQUIRE_REAL=1 to fail instead`;
  process.stderr.write(`SKIP pcap.test.ts: ${reason}\n`);
  return reason;
}
const tsharkSkip = skipReason("tshark", hasTshark);
const tcpdumpSkip = skipReason("tcpdump", hasTcpdump);

/** tshark's one harmless complaint when run as root (recipes/environment.md 2.7). */
function unexpectedStderr(stderr: string): string[] {
  return stderr.split("\n").filter((l) => l !== "" && !l.startsWith('Running as user "root"'));
}

describe("pcap files read by tshark and tcpdump", () => {
  let dir = "";
  let file = "";
  let truncated = "";

  before(() => {
    dir = mkdtempSync(join(tmpdir(), "labwire-pcap-"));
    file = join(dir, "lab.pcap");
    const writer = openPcapFile(file, { snaplen: 1600, originSec: 1_700_000_000 });
    labFrames().forEach((f, i) => {
      const bytes = encodeFrame(f);
      writer.write(bytes, 0, bytes.length, i * 1_000_000);
    });
    writer.close();
    truncated = join(dir, "snap64.pcap");
    const short = openPcapFile(truncated, { snaplen: 64 });
    const big = encodeFrame(icmpEcho({
      srcMac: A,
      dstMac: B,
      srcIp: "10.0.0.1",
      dstIp: "10.0.0.2",
      id: 3,
      seq: 4,
      data: new Uint8Array(1472),
    }));
    short.write(big, 0, big.length, 0);
    short.close();
  });

  after(() => {
    if (dir !== "") rmSync(dir, { recursive: true, force: true });
  });

  test("openPcapFile() writes a file readPcap() reads back", () => {
    const read = readPcap(readFileSync(file));
    assert.equal(read.snaplen, 1600);
    assert.deepEqual(
      read.records.map((r) => r.timeNs),
      [0, 1, 2, 3, 4, 5].map((i) => 1_700_000_000e9 + i * 1e6),
    );
    assert.deepEqual(
      read.records.map((r) => decodeFrame(r.data)),
      labFrames().map((f) => decodeFrame(encodeFrame(f))),
    );
  });

  test("openPcapFile() checks its options before creating the file, and reports fs errors", () => {
    const path = join(dir, "never.pcap");
    assert.throws(() => openPcapFile(path, { snaplen: 0 }), { name: "RangeError" });
    assert.equal(existsSync(path), false);
    assert.throws(() => openPcapFile(join(dir, "no", "such", "dir.pcap")), { code: "ENOENT" });
  });

  test(
    "tshark reads every frame, VLAN and QinQ tag, ARP and ICMP with good checksums",
    { skip: tsharkSkip },
    async () => {
      const fields = [
        "frame.number",
        "frame.time_epoch",
        "ieee8021ad.id",
        "vlan.id",
        "ip.src",
        "ip.dst",
        "icmp.type",
      ];
      fields.push("arp.opcode", "ip.checksum.status", "icmp.checksum.status");
      const result = await nodeRunner.run(
        [
          "tshark",
          "-r",
          file,
          "-o",
          "ip.check_checksum:TRUE",
          "-T",
          "fields",
          ...fields.flatMap((f) => ["-e", f]),
        ],
        { timeoutMs: 60_000 },
      );
      assert.equal(result.code, 0, result.stderr);
      assert.deepEqual(unexpectedStderr(result.stderr), []);
      // checksum status 1 is "Good"; tshark reads an 802.1ad tag as ieee8021ad.id, 802.1Q tags as vlan.id
      assert.deepEqual(result.stdout.split("\n").slice(0, -1), [
        "1\t1700000000.000000000\t\t\t\t\t\t1\t\t",
        "2\t1700000000.001000000\t\t\t\t\t\t2\t\t",
        "3\t1700000000.002000000\t\t100\t10.0.0.1\t10.0.0.2\t8\t\t1\t1",
        "4\t1700000000.003000000\t\t100\t10.0.0.2\t10.0.0.1\t0\t\t1\t1",
        "5\t1700000000.004000000\t10\t100\t10.0.0.1\t10.0.0.2\t8\t\t1\t1",
        "6\t1700000000.005000000\t\t20,200\t\t\t\t1\t\t",
      ]);
    },
  );

  test("tshark's protocol hierarchy counts the frames with no complaint", { skip: tsharkSkip }, async () => {
    const result = await nodeRunner.run(["tshark", "-r", file, "-q", "-z", "io,phs"], { timeoutMs: 60_000 });
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(unexpectedStderr(result.stderr), []);
    const counts = result.stdout.split("\n").filter((l) => l.includes("frames:")).map((l) =>
      l.trim().replace(/\s+/g, " ")
    );
    assert.deepEqual(counts, [
      "eth frames:6 bytes:490",
      "arp frames:2 bytes:120",
      "vlan frames:3 bytes:264",
      "ip frames:2 bytes:204",
      "icmp frames:2 bytes:204",
      "vlan frames:1 bytes:60",
      "arp frames:1 bytes:60",
      "ieee8021ad frames:1 bytes:106",
      "vlan frames:1 bytes:106",
      "ip frames:1 bytes:106",
      "icmp frames:1 bytes:106",
    ]);
    assert.doesNotMatch(result.stdout, /malformed|_ws\.expert/i);
  });

  test("tshark sees incl_len and orig_len of a record cut by the snaplen", { skip: tsharkSkip }, async () => {
    const result = await nodeRunner.run(
      ["tshark", "-r", truncated, "-T", "fields", "-e", "frame.len", "-e", "frame.cap_len", "-e", "ip.src"],
      { timeoutMs: 60_000 },
    );
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(unexpectedStderr(result.stderr), []);
    assert.equal(result.stdout, "1514\t64\t10.0.0.1\n");
  });

  test("tcpdump reads the file, tags and checksums included", { skip: tcpdumpSkip }, async () => {
    const result = await nodeRunner.run(["tcpdump", "-r", file, "-nn", "-e", "-vv"], {
      timeoutMs: 60_000,
      env: { TZ: "UTC" },
    });
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(
      result.stderr.trim().split("\n"),
      [`reading from file ${file}, link-type EN10MB (Ethernet), snapshot length 1600`],
    );
    const lines = result.stdout.trimEnd().split("\n").filter((l) => !l.startsWith(" "));
    assert.equal(lines.length, 6);
    assert.match(
      lines[0]!,
      /^22:13:20\.000000 52:54:00:00:00:01 > ff:ff:ff:ff:ff:ff, ethertype ARP \(0x0806\), length 60: .*Request who-has 10\.0\.0\.2 tell 10\.0\.0\.1/,
    );
    assert.match(lines[1]!, /Reply 10\.0\.0\.2 is-at 52:54:00:00:00:02/);
    assert.match(lines[2]!, /ethertype 802\.1Q \(0x8100\), length 102: vlan 100, p 0, ethertype IPv4/);
    assert.match(
      lines[4]!,
      /ethertype 802\.1Q-QinQ \(0x88a8\), length 106: vlan 10, p 0, ethertype 802\.1Q \(0x8100\), vlan 100/,
    );
    assert.match(lines[5]!, /vlan 20, p 0, ethertype 802\.1Q \(0x8100\), vlan 200, p 0, ethertype ARP/);
    assert.match(result.stdout, /10\.0\.0\.1 > 10\.0\.0\.2: ICMP echo request, id 1, seq 1, length 64/);
    assert.match(result.stdout, /10\.0\.0\.2 > 10\.0\.0\.1: ICMP echo reply, id 1, seq 1, length 64/);
    assert.doesNotMatch(result.stdout, /bad cksum|truncated|\[\|/);
  });
});
