/**
 * UDP (RFC 768) and TCP (RFC 9293) in the frame codec: round trips (STYLE R14), checksums over the IPv4
 * pseudo-header checked against an RFC 1071 sum written here, precise errors, and tshark and tcpdump
 * reading what labwire writes.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { nodeRunner, which } from "../lib/exec.ts";
import {
  decodeFrame,
  describeFrame,
  encodeFrame,
  type Frame,
  frameLength,
  IPPROTO_TCP,
  IPPROTO_UDP,
  TCP_ACK,
  TCP_CWR,
  TCP_ECE,
  TCP_FIN,
  TCP_PSH,
  TCP_RST,
  TCP_SYN,
  TCP_URG,
  tcpSegment,
  udpDatagram,
  writeFrame,
} from "../lib/wire/frame.ts";
import { encodePcap } from "../lib/wire/pcap.ts";

function hex(s: string): Uint8Array {
  const clean = s.replace(/[\s|]/g, "");
  return new Uint8Array(clean.match(/../g)!.map((b) => parseInt(b, 16)));
}

/** RFC 1071, written separately from lib/wire/frame.ts so the tests do not check the code with itself. */
function checksum(bytes: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < bytes.length; i += 2) sum += (bytes[i]! << 8) + (bytes[i + 1] ?? 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return ~sum & 0xffff;
}

/**
 * The UDP or TCP checksum of the segment at `frame[at..end)` by RFC 768 / RFC 9293 3.1: RFC 1071 over
 * the pseudo-header (source and destination address from the IPv4 header 20 bytes before `at`, zero,
 * protocol, segment length) and the segment with its checksum field (`at + field`) zeroed.
 */
function transportChecksum(
  frame: Uint8Array,
  at: number,
  end: number,
  protocol: number,
  field: number,
): number {
  const segment = frame.slice(at, end);
  segment[field] = 0;
  segment[field + 1] = 0;
  const pseudo = new Uint8Array(12 + segment.length);
  pseudo.set(frame.subarray(at - 8, at), 0); // source and destination addresses
  pseudo[9] = protocol;
  pseudo[10] = segment.length >>> 8;
  pseudo[11] = segment.length & 0xff;
  pseudo.set(segment, 12);
  return checksum(pseudo);
}

const A = "52:54:00:12:34:56";
const B = "52:54:00:ab:cd:ef";
const IPS = { srcMac: A, dstMac: B, srcIp: "10.0.0.1", dstIp: "10.0.0.2" } as const;
const BACK = { srcMac: B, dstMac: A, srcIp: "10.0.0.2", dstIp: "10.0.0.1" } as const;
/** MSS 1460, SACK permitted, timestamps, NOP, window scale 7: the 20 option bytes of a Linux SYN. */
const LINUX_SYN_OPTIONS = hex("020405b4 0402080a 0001e240 00000000 01030307");

/** Every UDP and TCP shape, for the round trips. */
function samples(): Record<string, Frame> {
  return {
    "UDP, 7 bytes (odd length)": udpDatagram({
      ...IPS,
      srcPort: 40000,
      dstPort: 53,
      data: new TextEncoder().encode("labwire"),
    }),
    "UDP, empty": udpDatagram({ ...IPS, srcPort: 0, dstPort: 65535 }),
    "UDP, 1472 bytes, VLAN 100": udpDatagram({
      ...BACK,
      srcPort: 5201,
      dstPort: 40001,
      data: new Uint8Array(1472).map((_, i) => i * 13),
      vlans: [100],
      ttl: 1,
      ipId: 0xbeef,
    }),
    "UDP, no checksum, QinQ 802.1ad outer": udpDatagram({
      ...IPS,
      srcPort: 4789,
      dstPort: 4789,
      data: new Uint8Array(50).fill(0x11),
      noChecksum: true,
      vlans: [10, 100],
      tpids: [0x88a8, 0x8100],
    }),
    "TCP SYN with Linux options": tcpSegment({
      ...IPS,
      srcPort: 40000,
      dstPort: 80,
      seq: 0x01020304,
      options: LINUX_SYN_OPTIONS,
    }),
    "TCP SYN-ACK, 40 bytes of options, VLAN 4095": tcpSegment({
      ...BACK,
      srcPort: 80,
      dstPort: 40000,
      seq: 5000,
      ack: 0x01020305,
      flags: TCP_SYN | TCP_ACK,
      window: 65160,
      options: new Uint8Array(40).fill(1), // 40 NOPs: data offset 15
      vlans: [4095],
    }),
    "TCP PSH-ACK, 1460 bytes, QinQ 802.1Q outer": tcpSegment({
      ...IPS,
      srcPort: 40000,
      dstPort: 80,
      seq: 0xffffff00, // the data wraps the sequence space
      ack: 5001,
      flags: TCP_PSH | TCP_ACK,
      window: 502,
      data: new Uint8Array(1460).map((_, i) => i),
      vlans: [10, 100],
      tpids: [0x8100, 0x8100],
    }),
    "TCP every flag and reserved bit, urgent pointer": tcpSegment({
      ...IPS,
      srcPort: 1,
      dstPort: 2,
      seq: 0xffffffff,
      ack: 0xffffffff,
      flags: 0xfff,
      window: 0xffff,
      urgent: 0xffff,
      data: new Uint8Array(3).fill(0xff),
    }),
    "TCP ACK, no flags but ACK, no options": tcpSegment({
      ...IPS,
      srcPort: 40000,
      dstPort: 80,
      seq: 1001,
      ack: 5001,
      flags: TCP_ACK,
      window: 502,
    }),
  };
}

/** STYLE R14: encode, decode, encode again; length helper; write at offset 10 of a larger buffer. */
function roundTrip(frame: Frame): Frame {
  const bytes = encodeFrame(frame);
  assert.equal(bytes.length, frameLength(frame));
  const decoded = decodeFrame(bytes);
  assert.deepEqual(encodeFrame(decoded), bytes, "re-encoding the decoded frame gives the same bytes");
  assert.equal(frameLength(decoded), bytes.length);
  const big = new Uint8Array(bytes.length + 30).fill(0xee);
  const end = writeFrame(frame, big, 10);
  assert.equal(end, 10 + bytes.length);
  assert.deepEqual(big.subarray(10, end), bytes);
  assert.ok(big.subarray(0, 10).every((b) => b === 0xee), "nothing written before the offset");
  assert.ok(big.subarray(end).every((b) => b === 0xee), "nothing written after the frame");
  assert.deepEqual(decodeFrame(big, 10, bytes.length), decoded);
  return decoded;
}

/** What decodeFrame adds to a built frame: the checksum verdicts (none for a UDP datagram without one). */
function withChecksums(frame: Frame): Frame {
  const ipv4 = frame.ipv4!;
  const out = { ...frame, ipv4: { ...ipv4, checksumOk: true } };
  if (ipv4.udp !== undefined && ipv4.udp.noChecksum !== true) {
    out.ipv4.udp = { ...ipv4.udp, checksumOk: true };
  }
  if (ipv4.tcp !== undefined) out.ipv4.tcp = { ...ipv4.tcp, checksumOk: true };
  return out;
}

/** Where a frame's UDP or TCP header starts: after the Ethernet header, its tags and a 20-byte IPv4 header. */
function transportAt(frame: Frame): number {
  return 14 + 4 * frame.vlans.length + 20;
}

/** Where the IPv4 packet of encoded `frame` ends (the padding excluded). */
function ipEnd(bytes: Uint8Array, frame: Frame): number {
  const ip = 14 + 4 * frame.vlans.length;
  return ip + (bytes[ip + 2]! << 8 | bytes[ip + 3]!);
}

/** Sets the IPv4 header's checksum of encoded `frame` right again after a test changed the header. */
function fixIpv4Checksum(bytes: Uint8Array, frame: Frame): void {
  const ip = 14 + 4 * frame.vlans.length;
  bytes[ip + 10] = 0;
  bytes[ip + 11] = 0;
  const sum = checksum(bytes.subarray(ip, ip + 20));
  bytes[ip + 10] = sum >>> 8;
  bytes[ip + 11] = sum & 0xff;
}

describe("UDP and TCP in the frame codec", () => {
  for (const [name, frame] of Object.entries(samples())) {
    test(`writeFrame()/decodeFrame() round-trip: ${name}`, () => {
      roundTrip(frame);
    });
  }

  test("decodeFrame() gives back what udpDatagram() and tcpSegment() made, plus checksum verdicts", () => {
    for (const [name, frame] of Object.entries(samples())) {
      assert.deepEqual(decodeFrame(encodeFrame(frame)), withChecksums(frame), name);
    }
  });

  test("encodeFrame() writes a UDP datagram byte for byte as RFC 768 lays it out", () => {
    const frame = samples()["UDP, 7 bytes (odd length)"]!;
    const want = hex(`
      525400abcdef 525400123456 0800
      4500 0023 0000 0000 40 11 66c8 0a000001 0a000002
      9c40 0035 000f b20c 6c616277697265
      0000000000000000000000`);
    assert.deepEqual(encodeFrame(frame), want);
    assert.equal(checksum(want.subarray(14, 34)), 0, "IPv4 header sums to zero");
    assert.equal(transportChecksum(want, 34, 49, 17, 6), 0xb20c, "UDP checksum over the pseudo-header");
  });

  test("encodeFrame() writes a TCP SYN byte for byte as RFC 9293 lays it out", () => {
    const frame = tcpSegment({
      ...IPS,
      srcPort: 40000,
      dstPort: 80,
      seq: 0x01020304,
      options: hex("020405b4"),
    });
    const want = hex(`
      525400abcdef 525400123456 0800
      4500 002c 0000 0000 40 06 66ca 0a000001 0a000002
      9c40 0050 01020304 00000000 60 02 faf0 e89c 0000 020405b4
      0000`);
    assert.deepEqual(encodeFrame(frame), want);
    assert.equal(checksum(want.subarray(14, 34)), 0, "IPv4 header sums to zero");
    assert.equal(transportChecksum(want, 34, 58, 6, 16), 0xe89c, "TCP checksum over the pseudo-header");
  });

  test("encodeFrame() computes UDP and TCP checksums over the pseudo-header, tagged or not", () => {
    for (const [name, frame] of Object.entries(samples())) {
      const bytes = encodeFrame(frame);
      const at = transportAt(frame);
      const end = ipEnd(bytes, frame);
      const tcp = frame.ipv4!.tcp !== undefined;
      const field = tcp ? 16 : 6;
      const written = bytes[at + field]! << 8 | bytes[at + field + 1]!;
      if (frame.ipv4!.udp?.noChecksum === true) {
        assert.equal(written, 0, name);
      } else {
        const want = transportChecksum(bytes, at, end, tcp ? 6 : 17, field);
        assert.equal(written, want === 0 ? 0xffff : want, name);
      }
    }
  });

  test("encodeFrame() sends a computed UDP checksum of 0 as 0xffff (RFC 768)", () => {
    // choose the 2 data bytes so that everything else sums to their complement: the checksum is then 0
    const probe = udpDatagram({ ...IPS, srcPort: 1234, dstPort: 5678, data: new Uint8Array(2) });
    const c = transportChecksum(encodeFrame(probe), 34, 44, 17, 6);
    const frame = udpDatagram({
      ...IPS,
      srcPort: 1234,
      dstPort: 5678,
      data: new Uint8Array([c >>> 8, c & 0xff]),
    });
    const bytes = encodeFrame(frame);
    assert.equal(transportChecksum(bytes, 34, 44, 17, 6), 0, "the checksum this datagram computes to");
    assert.deepEqual([...bytes.subarray(40, 42)], [0xff, 0xff]);
    assert.equal(decodeFrame(bytes).ipv4?.udp?.checksumOk, true);
    roundTrip(frame);
  });

  test("decodeFrame() reads a UDP checksum of 0 as none: noChecksum, and no checksumOk", () => {
    const frame = samples()["UDP, 7 bytes (odd length)"]!;
    const bytes = encodeFrame(frame);
    bytes[40] = 0;
    bytes[41] = 0;
    const udp = decodeFrame(bytes).ipv4!.udp!;
    assert.equal(udp.noChecksum, true);
    assert.equal("checksumOk" in udp, false);
    assert.deepEqual(encodeFrame(decodeFrame(bytes)), bytes, "and writes it back without one");
    assert.equal(
      describeFrame(decodeFrame(bytes)),
      "52:54:00:12:34:56 > 52:54:00:ab:cd:ef, IPv4 10.0.0.1.40000 > 10.0.0.2.53: UDP, length 7",
    );
  });

  test("decodeFrame() reports wrong UDP and TCP checksums in checksumOk instead of throwing", () => {
    const s = samples();
    const udpFrame = s["UDP, 1472 bytes, VLAN 100"]!;
    const udp = encodeFrame(udpFrame);
    udp[38 + 8 + 100] = udp[38 + 8 + 100]! ^ 0x01; // a data byte
    let decoded = decodeFrame(udp);
    assert.deepEqual([decoded.ipv4?.checksumOk, decoded.ipv4?.udp?.checksumOk], [true, false]);
    assert.equal(
      describeFrame(decoded),
      "52:54:00:ab:cd:ef > 52:54:00:12:34:56, vlan 100, IPv4 10.0.0.2.5201 > 10.0.0.1.40001: UDP, length 1472, bad UDP checksum",
    );

    const tcpFrame = s["TCP SYN with Linux options"]!;
    const tcp = encodeFrame(tcpFrame);
    tcp[34 + 14] = 0x01; // window: 0x01f0
    decoded = decodeFrame(tcp);
    assert.deepEqual([decoded.ipv4?.checksumOk, decoded.ipv4?.tcp?.checksumOk], [true, false]);
    assert.match(describeFrame(decoded), /: Flags \[S\], seq 16909060, win 496, length 0, bad TCP checksum$/);

    // the pseudo-header counts: another source address (IPv4 checksum made right) breaks the TCP checksum
    const moved = encodeFrame(tcpFrame);
    moved[29] = 9; // 10.0.0.9
    fixIpv4Checksum(moved, tcpFrame);
    decoded = decodeFrame(moved);
    assert.deepEqual([decoded.ipv4?.src, decoded.ipv4?.checksumOk, decoded.ipv4?.tcp?.checksumOk], [
      "10.0.0.9",
      true,
      false,
    ]);
    moved[26] = 0x40; // and the IPv4 header checksum too: the IPv4 verdict comes first
    assert.match(describeFrame(decodeFrame(moved)), /, bad IPv4 checksum, bad TCP checksum$/);
  });

  test("decodeFrame() keeps UDP whose length field disagrees, and UDP and TCP fragments, as payload", () => {
    const s = samples();
    const frame = s["UDP, 7 bytes (odd length)"]!;
    for (const length of [16, 14, 7, 0]) {
      const bytes = encodeFrame(frame);
      bytes[38] = 0;
      bytes[39] = length;
      const decoded = roundTrip(decodeFrame(bytes));
      assert.equal(decoded.ipv4?.udp, undefined, `length field ${length}`);
      assert.equal(decoded.ipv4?.payload?.length, 15);
      assert.equal(
        describeFrame(decoded),
        "52:54:00:12:34:56 > 52:54:00:ab:cd:ef, IPv4 10.0.0.1 > 10.0.0.2: UDP, length 15",
      );
    }
    for (const name of ["UDP, 1472 bytes, VLAN 100", "TCP PSH-ACK, 1460 bytes, QinQ 802.1Q outer"]) {
      const f = s[name]!;
      const { udp: _udp, tcp: _tcp, ...ip } = f.ipv4!;
      const fragment: Frame = { ...f, ipv4: { ...ip, flags: 1, payload: new Uint8Array(1480) } };
      const decoded = roundTrip(fragment);
      assert.deepEqual([decoded.ipv4?.udp, decoded.ipv4?.tcp, decoded.ipv4?.payload?.length], [
        undefined,
        undefined,
        1480,
      ]);
      assert.match(describeFrame(decoded), /: (UDP|TCP) fragment, length 1480$/);
    }
  });

  test("decodeFrame() reads TCP options, the reserved bits and the data offset", () => {
    const s = samples();
    const syn = decodeFrame(encodeFrame(s["TCP SYN with Linux options"]!)).ipv4!.tcp!;
    assert.deepEqual(syn.options, LINUX_SYN_OPTIONS);
    assert.equal(syn.data.length, 0);
    const bytes = encodeFrame(s["TCP every flag and reserved bit, urgent pointer"]!);
    assert.deepEqual([...bytes.subarray(34 + 12, 34 + 14)], [0x5f, 0xff], "data offset 5, all 12 flag bits");
    const all = decodeFrame(bytes).ipv4!.tcp!;
    assert.deepEqual([all.flags, all.seq, all.ack, all.urgent], [0xfff, 0xffffffff, 0xffffffff, 0xffff]);
    const most = encodeFrame(s["TCP SYN-ACK, 40 bytes of options, VLAN 4095"]!);
    assert.equal(most[38 + 12], 0xf0, "data offset 15: 60 bytes");
  });

  test("decodeFrame() skips IPv4 options before a UDP datagram", () => {
    const frame = samples()["UDP, 7 bytes (odd length)"]!;
    const plain = encodeFrame(frame);
    const bytes = new Uint8Array(plain.length + 4);
    bytes.set(plain.subarray(0, 34), 0);
    bytes.set([1, 1, 1, 0], 34); // NOP NOP NOP EOL
    bytes.set(plain.subarray(34), 38);
    bytes[14] = 0x46;
    bytes[17] = bytes[17]! + 4;
    bytes[24] = 0;
    bytes[25] = 0;
    const sum = checksum(bytes.subarray(14, 38));
    bytes[24] = sum >>> 8;
    bytes[25] = sum & 0xff;
    const decoded = decodeFrame(bytes);
    assert.equal(decoded.ipv4?.checksumOk, true);
    assert.equal(
      decoded.ipv4?.udp?.checksumOk,
      true,
      "the pseudo-header holds the UDP length, not the options",
    );
    assert.deepEqual(decoded.ipv4?.udp?.data, new TextEncoder().encode("labwire"));
  });

  test("decodeFrame() copies: the datagram and segment outlive the buffer", () => {
    const s = samples();
    const udpBytes = encodeFrame(s["UDP, 1472 bytes, VLAN 100"]!);
    const tcpBytes = encodeFrame(s["TCP SYN with Linux options"]!);
    const udp = decodeFrame(udpBytes).ipv4!.udp!;
    const tcp = decodeFrame(tcpBytes).ipv4!.tcp!;
    udpBytes.fill(0);
    tcpBytes.fill(0);
    assert.equal(udp.data[5], 5 * 13);
    assert.deepEqual(tcp.options, LINUX_SYN_OPTIONS);
  });

  test("decodeFrame() throws precise errors for UDP and TCP headers cut short", () => {
    const s = samples();
    /** The frame with the IPv4 total length set so that `payload` bytes follow the IPv4 header. */
    const cut = (name: string, payload: number): Uint8Array => {
      const frame = s[name]!;
      const bytes = encodeFrame(frame);
      const ip = 14 + 4 * frame.vlans.length;
      bytes[ip + 2] = 0;
      bytes[ip + 3] = 20 + payload;
      return bytes;
    };
    const ranges: [Uint8Array, string][] = [
      [
        cut("UDP, 7 bytes (odd length)", 4),
        "Cannot read UDP header at offset 34: IPv4 payload has 4 bytes, needs 8",
      ],
      [
        cut("UDP, 1472 bytes, VLAN 100", 0),
        "Cannot read UDP header at offset 38: IPv4 payload has 0 bytes, needs 8",
      ],
      [
        cut("UDP, no checksum, QinQ 802.1ad outer", 7),
        "Cannot read UDP header at offset 42: IPv4 payload has 7 bytes, needs 8",
      ],
      [
        cut("TCP ACK, no flags but ACK, no options", 19),
        "Cannot read TCP header at offset 34: IPv4 payload has 19 bytes, needs 20",
      ],
      [
        cut("TCP SYN-ACK, 40 bytes of options, VLAN 4095", 8),
        "Cannot read TCP header at offset 38: IPv4 payload has 8 bytes, needs 20",
      ],
      [
        cut("TCP SYN with Linux options", 39),
        "Cannot read TCP header at offset 34: header length is 40 bytes, IPv4 payload has 39",
      ],
      [
        cut("TCP SYN-ACK, 40 bytes of options, VLAN 4095", 59),
        "Cannot read TCP header at offset 38: header length is 60 bytes, IPv4 payload has 59",
      ],
    ];
    for (const [bytes, message] of ranges) {
      assert.throws(() => decodeFrame(bytes), { name: "RangeError", message }, message);
    }
    const low = encodeFrame(s["TCP ACK, no flags but ACK, no options"]!);
    low[34 + 12] = 0x4f; // data offset 4, reserved bits set
    assert.throws(() => decodeFrame(low), {
      name: "SyntaxError",
      message: "Cannot read TCP header at offset 34: header length is 16 bytes, at least 20",
    });
    // the IPv4 total length is checked first, as for ICMP
    const udp = encodeFrame(s["UDP, 1472 bytes, VLAN 100"]!);
    assert.throws(() => decodeFrame(udp, 0, 100), {
      name: "RangeError",
      message: "Cannot read IPv4 packet at offset 18: total length is 1500 bytes, frame has 82 from there",
    });
  });

  test("writeFrame() throws precise errors for UDP and TCP it cannot write", () => {
    const s = samples();
    const udp = s["UDP, 7 bytes (odd length)"]!;
    const tcp = s["TCP ACK, no flags but ACK, no options"]!;
    const u = udp.ipv4!;
    const t = tcp.ipv4!;
    const cases: [Frame, string, string][] = [
      [
        { ...udp, ipv4: { ...u, protocol: 6 } },
        "TypeError",
        "Cannot encode frame as 'ipv4.udp' needs protocol 17: current value is 6",
      ],
      [
        { ...tcp, ipv4: { ...t, protocol: 17 } },
        "TypeError",
        "Cannot encode frame as 'ipv4.tcp' needs protocol 6: current value is 17",
      ],
      [
        { ...udp, ipv4: { ...u, payload: new Uint8Array(1) } },
        "TypeError",
        "Cannot encode frame as 'ipv4' has both 'udp' and 'payload'",
      ],
      [
        { ...tcp, ipv4: { ...t, udp: u.udp! } },
        "TypeError",
        "Cannot encode frame as 'ipv4' has both 'udp' and 'tcp'",
      ],
      [
        { ...tcp, ipv4: { ...t, udp: u.udp!, payload: new Uint8Array(1) } },
        "TypeError",
        "Cannot encode frame as 'ipv4' has more than one of 'icmp', 'udp', 'tcp' and 'payload'",
      ],
      [
        { ...udp, ipv4: { ...u, udp: { ...u.udp!, dstPort: 65536 } } },
        "RangeError",
        "Cannot encode frame as 'ipv4.udp.dstPort' must be an integer 0-65535: current value is 65536",
      ],
      [
        { ...udp, ipv4: { ...u, udp: { ...u.udp!, srcPort: -1 } } },
        "RangeError",
        "Cannot encode frame as 'ipv4.udp.srcPort' must be an integer 0-65535: current value is -1",
      ],
      [
        { ...tcp, ipv4: { ...t, tcp: { ...t.tcp!, seq: 2 ** 32 } } },
        "RangeError",
        "Cannot encode frame as 'ipv4.tcp.seq' must be an integer 0-4294967295: current value is 4294967296",
      ],
      [
        { ...tcp, ipv4: { ...t, tcp: { ...t.tcp!, ack: 1.5 } } },
        "RangeError",
        "Cannot encode frame as 'ipv4.tcp.ack' must be an integer 0-4294967295: current value is 1.5",
      ],
      [
        { ...tcp, ipv4: { ...t, tcp: { ...t.tcp!, flags: 0x1000 } } },
        "RangeError",
        "Cannot encode frame as 'ipv4.tcp.flags' must be an integer 0-4095: current value is 4096",
      ],
      [
        { ...tcp, ipv4: { ...t, tcp: { ...t.tcp!, window: 65536 } } },
        "RangeError",
        "Cannot encode frame as 'ipv4.tcp.window' must be an integer 0-65535: current value is 65536",
      ],
      [
        { ...tcp, ipv4: { ...t, tcp: { ...t.tcp!, urgent: -1 } } },
        "RangeError",
        "Cannot encode frame as 'ipv4.tcp.urgent' must be an integer 0-65535: current value is -1",
      ],
      [
        { ...tcp, ipv4: { ...t, tcp: { ...t.tcp!, options: new Uint8Array(3) } } },
        "RangeError",
        "Cannot encode frame as 'ipv4.tcp.options' must be a multiple of 4 bytes, at most 40: current length is 3",
      ],
      [
        { ...tcp, ipv4: { ...t, tcp: { ...t.tcp!, options: new Uint8Array(44) } } },
        "RangeError",
        "Cannot encode frame as 'ipv4.tcp.options' must be a multiple of 4 bytes, at most 40: current length is 44",
      ],
      [
        { ...udp, ipv4: { ...u, udp: { ...u.udp!, data: new Uint8Array(65508) } } },
        "RangeError",
        "Cannot encode frame as the IPv4 packet would have 65536 bytes: at most 65535",
      ],
      [
        {
          ...tcp,
          ipv4: { ...t, tcp: { ...t.tcp!, options: new Uint8Array(40), data: new Uint8Array(65456) } },
        },
        "RangeError",
        "Cannot encode frame as the IPv4 packet would have 65536 bytes: at most 65535",
      ],
    ];
    for (const [frame, name, message] of cases) {
      assert.throws(() => encodeFrame(frame), { name, message }, message);
    }
    // the largest datagram and segment do fit
    assert.equal(
      encodeFrame({ ...udp, ipv4: { ...u, udp: { ...u.udp!, data: new Uint8Array(65507) } } }).length,
      65549,
    );
    assert.throws(() => writeFrame(udp, new Uint8Array(69), 10), {
      name: "RangeError",
      message: "Cannot write frame of 60 bytes at offset 10: buffer has 69 bytes",
    });
  });
});

describe("udpDatagram(), tcpSegment() and describeFrame()", () => {
  test("udpDatagram() and tcpSegment() normalise addresses and apply their defaults", () => {
    const udp = udpDatagram({
      srcMac: "52-54-00-12-34-56",
      dstMac: "5254.00AB.CDEF",
      srcIp: "10.0.0.1",
      dstIp: "10.0.0.2",
      srcPort: 68,
      dstPort: 67,
      vlans: [5],
    });
    assert.deepEqual(udp, {
      dst: B,
      src: A,
      vlans: [5],
      tpids: [0x8100],
      etherType: 0x0800,
      ipv4: {
        src: "10.0.0.1",
        dst: "10.0.0.2",
        protocol: IPPROTO_UDP,
        ttl: 64,
        id: 0,
        udp: { srcPort: 68, dstPort: 67, data: new Uint8Array(0) },
      },
    });
    const tcp = tcpSegment({ ...IPS, srcPort: 40000, dstPort: 22 });
    assert.deepEqual(tcp.ipv4, {
      src: "10.0.0.1",
      dst: "10.0.0.2",
      protocol: IPPROTO_TCP,
      ttl: 64,
      id: 0,
      tcp: {
        srcPort: 40000,
        dstPort: 22,
        seq: 0,
        ack: 0,
        flags: TCP_SYN,
        window: 64240,
        urgent: 0,
        options: new Uint8Array(0),
        data: new Uint8Array(0),
      },
    });
    assert.deepEqual(tcp.tpids, []);
    assert.throws(() => tcpSegment({ ...IPS, srcIp: "10.0.0.256", srcPort: 1, dstPort: 2 }), SyntaxError);
    assert.throws(() => udpDatagram({ ...IPS, dstMac: "nope", srcPort: 1, dstPort: 2 }), {
      name: "MacError",
    });
  });

  test("TCP flag constants are the RFC 9293 and RFC 3168 control bits", () => {
    assert.deepEqual(
      [TCP_FIN, TCP_SYN, TCP_RST, TCP_PSH, TCP_ACK, TCP_URG, TCP_ECE, TCP_CWR],
      [0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80],
    );
  });

  test("describeFrame() prints UDP and TCP as tcpdump -nn -S does, tags first", () => {
    const lines = Object.values(samples()).map((f) => describeFrame(decodeFrame(encodeFrame(f))));
    assert.deepEqual(lines, [
      "52:54:00:12:34:56 > 52:54:00:ab:cd:ef, IPv4 10.0.0.1.40000 > 10.0.0.2.53: UDP, length 7",
      "52:54:00:12:34:56 > 52:54:00:ab:cd:ef, IPv4 10.0.0.1.0 > 10.0.0.2.65535: UDP, length 0",
      "52:54:00:ab:cd:ef > 52:54:00:12:34:56, vlan 100, IPv4 10.0.0.2.5201 > 10.0.0.1.40001: UDP, length 1472",
      "52:54:00:12:34:56 > 52:54:00:ab:cd:ef, vlan 10 (802.1ad), vlan 100, IPv4 10.0.0.1.4789 > 10.0.0.2.4789: UDP, length 50",
      "52:54:00:12:34:56 > 52:54:00:ab:cd:ef, IPv4 10.0.0.1.40000 > 10.0.0.2.80: Flags [S], seq 16909060, win 64240, length 0",
      "52:54:00:ab:cd:ef > 52:54:00:12:34:56, vlan 4095, IPv4 10.0.0.2.80 > 10.0.0.1.40000: Flags [S.], seq 5000, ack 16909061, win 65160, length 0",
      "52:54:00:12:34:56 > 52:54:00:ab:cd:ef, vlan 10, vlan 100, IPv4 10.0.0.1.40000 > 10.0.0.2.80: Flags [P.], seq 4294967040:1204, ack 5001, win 502, length 1460",
      "52:54:00:12:34:56 > 52:54:00:ab:cd:ef, IPv4 10.0.0.1.1 > 10.0.0.2.2: Flags [FSRP.UEW], seq 4294967295:2, ack 4294967295, win 65535, urg 65535, length 3",
      "52:54:00:12:34:56 > 52:54:00:ab:cd:ef, IPv4 10.0.0.1.40000 > 10.0.0.2.80: Flags [.], ack 5001, win 502, length 0",
    ]);
    const none = tcpSegment({ ...IPS, srcPort: 1, dstPort: 2, flags: 0, seq: 9 });
    assert.equal(
      describeFrame(none),
      "52:54:00:12:34:56 > 52:54:00:ab:cd:ef, IPv4 10.0.0.1.1 > 10.0.0.2.2: Flags [none], win 64240, length 0",
    );
    const reset = tcpSegment({ ...IPS, srcPort: 1, dstPort: 2, flags: TCP_RST, seq: 9 });
    assert.match(describeFrame(reset), /: Flags \[R\], seq 9, win 64240, length 0$/);
  });

  test("describeFrame() with transportDetails false keeps only ports and TCP flags", () => {
    const lines = Object.values(samples()).map((f) =>
      describeFrame(decodeFrame(encodeFrame(f)), { transportDetails: false }).replace(/^.*IPv4 /, "")
    );
    assert.deepEqual(lines, [
      "10.0.0.1.40000 > 10.0.0.2.53: UDP",
      "10.0.0.1.0 > 10.0.0.2.65535: UDP",
      "10.0.0.2.5201 > 10.0.0.1.40001: UDP",
      "10.0.0.1.4789 > 10.0.0.2.4789: UDP",
      "10.0.0.1.40000 > 10.0.0.2.80: Flags [S]",
      "10.0.0.2.80 > 10.0.0.1.40000: Flags [S.]",
      "10.0.0.1.40000 > 10.0.0.2.80: Flags [P.]",
      "10.0.0.1.1 > 10.0.0.2.2: Flags [FSRP.UEW]",
      "10.0.0.1.40000 > 10.0.0.2.80: Flags [.]",
    ]);
  });
});

// ---- the proof: tshark and tcpdump read what labwire writes ----

const requireReal = (process.env.CI ?? "") !== "" || process.env.LABWIRE_REQUIRE_REAL === "1";
function skipReason(program: string): string | false {
  if (which(program) !== undefined || requireReal) return false;
  const reason = `needs ${program} (apt-get install ${program}); set LABWIRE_REQUIRE_REAL=1 to fail instead`;
  process.stderr.write(`SKIP frame_transport.test.ts: ${reason}\n`);
  return reason;
}
const tsharkSkip = skipReason("tshark");
const tcpdumpSkip = skipReason("tcpdump");

/** tshark's one harmless complaint when run as root (recipes/environment.md 2.7). */
function unexpectedStderr(stderr: string): string[] {
  return stderr.split("\n").filter((l) => l !== "" && !l.startsWith('Running as user "root"'));
}

/** The capture the real tools read: every sample, then a UDP datagram whose checksum computes to 0. */
function captureFrames(): Frame[] {
  const probe = udpDatagram({ ...IPS, srcPort: 1234, dstPort: 5678, data: new Uint8Array(2) });
  const c = transportChecksum(encodeFrame(probe), 34, 44, 17, 6);
  return [
    ...Object.values(samples()),
    udpDatagram({ ...IPS, srcPort: 1234, dstPort: 5678, data: new Uint8Array([c >>> 8, c & 0xff]) }),
  ];
}

/**
 * The frame with the ports whose payload tcpdump would decode (53 DNS, 80 HTTP, 4789 VXLAN) moved to
 * 40080, so that tcpdump prints only what describeFrame() does.
 */
function plainPorts(frame: Frame): Frame {
  const plain = (port: number) => port === 53 || port === 80 || port === 4789 ? 40080 : port;
  const { udp, tcp, ...ip } = frame.ipv4!;
  if (udp !== undefined) {
    return {
      ...frame,
      ipv4: { ...ip, udp: { ...udp, srcPort: plain(udp.srcPort), dstPort: plain(udp.dstPort) } },
    };
  }
  return {
    ...frame,
    ipv4: { ...ip, tcp: { ...tcp!, srcPort: plain(tcp!.srcPort), dstPort: plain(tcp!.dstPort) } },
  };
}

function writeCapture(file: string, frames: Frame[]): void {
  const records = frames.map((f, i) => {
    const data = encodeFrame(f);
    return { timeNs: i * 1_000_000, origLen: data.length, data };
  });
  writeFileSync(file, encodePcap(records));
}

describe("UDP and TCP read by tshark and tcpdump", () => {
  let dir = "";
  let file = "";
  let plainFile = "";

  before(() => {
    dir = mkdtempSync(join(tmpdir(), "labwire-transport-"));
    file = join(dir, "transport.pcap");
    writeCapture(file, captureFrames());
    plainFile = join(dir, "plain-ports.pcap");
    writeCapture(plainFile, captureFrames().map(plainPorts));
  });

  after(() => {
    if (dir !== "") rmSync(dir, { recursive: true, force: true });
  });

  test(
    "tshark reads the ports, flags, lengths and tags, and finds every checksum good",
    { skip: tsharkSkip },
    async () => {
      const fields = [
        "vlan.id",
        "ip.checksum.status",
        "udp.srcport",
        "udp.dstport",
        "udp.length",
        "udp.checksum.status",
        "tcp.srcport",
        "tcp.dstport",
        "tcp.seq_raw",
        "tcp.ack_raw",
        "tcp.flags",
        "tcp.hdr_len",
        "tcp.len",
        "tcp.checksum.status",
      ];
      const result = await nodeRunner.run(
        [
          "tshark",
          "-r",
          file,
          "-o",
          "ip.check_checksum:TRUE",
          "-o",
          "udp.check_checksum:TRUE",
          "-o",
          "tcp.check_checksum:TRUE",
          "-T",
          "fields",
          ...fields.flatMap((f) => ["-e", f]),
        ],
        { timeoutMs: 60_000 },
      );
      assert.equal(result.code, 0, result.stderr);
      assert.deepEqual(unexpectedStderr(result.stderr), []);
      // checksum status 1 is "Good", 3 "Not present" (UDP checksum 0)
      assert.deepEqual(result.stdout.split("\n").slice(0, -1), [
        "\t1\t40000\t53\t15\t1\t\t\t\t\t\t\t\t",
        "\t1\t0\t65535\t8\t1\t\t\t\t\t\t\t\t",
        "100\t1\t5201\t40001\t1480\t1\t\t\t\t\t\t\t\t",
        "100\t1\t4789\t4789\t58\t3\t\t\t\t\t\t\t\t",
        "\t1\t\t\t\t\t40000\t80\t16909060\t0\t0x0002\t40\t0\t1",
        "4095\t1\t\t\t\t\t80\t40000\t5000\t16909061\t0x0012\t60\t0\t1",
        "10,100\t1\t\t\t\t\t40000\t80\t4294967040\t5001\t0x0018\t20\t1460\t1",
        "\t1\t\t\t\t\t1\t2\t4294967295\t4294967295\t0x0fff\t20\t3\t1",
        "\t1\t\t\t\t\t40000\t80\t1001\t5001\t0x0010\t20\t0\t1",
        "\t1\t1234\t5678\t10\t1\t\t\t\t\t\t\t\t",
      ]);
      // and the datagram whose checksum computes to 0 carries 0xffff
      const sums = await nodeRunner.run(
        ["tshark", "-r", file, "-Y", "frame.number == 10", "-T", "fields", "-e", "udp.checksum"],
        { timeoutMs: 60_000 },
      );
      assert.equal(sums.code, 0, sums.stderr);
      assert.equal(sums.stdout, "0xffff\n");
    },
  );

  test("tcpdump prints UDP and TCP as describeFrame() does", { skip: tcpdumpSkip }, async () => {
    const result = await nodeRunner.run(["tcpdump", "-r", plainFile, "-nn", "-S", "-t"], {
      timeoutMs: 60_000,
    });
    assert.equal(result.code, 0, result.stderr);
    // tcpdump says "IP" and lists TCP options, which describeFrame() leaves out; the rest is the same
    const theirs = result.stdout.trimEnd().split("\n").map((l) =>
      l.replace(/^IP /, "").replace(/, options \[[^\]]*\]/, "")
    );
    const ours = captureFrames().map((f) =>
      describeFrame(decodeFrame(encodeFrame(plainPorts(f)))).replace(/^.*?IPv4 /, "")
    );
    assert.deepEqual(theirs, ours);
    assert.doesNotMatch(result.stdout, /bad|truncated|\[\|/);
  });
});
