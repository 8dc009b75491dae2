import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  arpReply,
  arpRequest,
  decodeFrame,
  describeFrame,
  encodeFrame,
  type Frame,
  frameLength,
  frameVlan,
  icmpEcho,
  ipv4FromString,
  ipv4ToString,
  isBroadcastMac48,
  isMulticastMac48,
  mac48,
  macFromString,
  macToString,
  popVlanTag,
  pushVlanTag,
  writeFrame,
  writeMac48,
} from "../lib/wire/frame.ts";

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

const A = "52:54:00:12:34:56";
const B = "52:54:00:ab:cd:ef";

/** Every shape the codec knows, for the round trips. */
function samples(): Record<string, Frame> {
  const data56 = new Uint8Array(56).map((_, i) => i);
  return {
    "ARP request": arpRequest({ srcMac: A, srcIp: "10.0.0.1", targetIp: "10.0.0.2" }),
    "ARP reply, VLAN 100": arpReply({
      srcMac: B,
      srcIp: "10.0.0.2",
      dstMac: A,
      dstIp: "10.0.0.1",
      vlans: [100],
    }),
    "ICMP echo request": icmpEcho({
      srcMac: A,
      dstMac: B,
      srcIp: "10.0.0.1",
      dstIp: "10.0.0.2",
      id: 1,
      seq: 1,
    }),
    "ICMP echo reply, 56 bytes, VLAN 4095": icmpEcho({
      srcMac: B,
      dstMac: A,
      srcIp: "10.0.0.2",
      dstIp: "10.0.0.1",
      id: 0xffff,
      seq: 0xfffe,
      reply: true,
      data: data56,
      ttl: 1,
      ipId: 0xbeef,
      vlans: [4095],
    }),
    "QinQ 802.1ad outer": icmpEcho({
      srcMac: A,
      dstMac: B,
      srcIp: "10.0.0.1",
      dstIp: "10.0.0.2",
      id: 9,
      seq: 2,
      data: data56,
      vlans: [10, 100],
      tpids: [0x88a8, 0x8100],
    }),
    "QinQ 802.1Q outer": arpRequest({
      srcMac: A,
      srcIp: "10.0.0.1",
      targetIp: "10.0.0.2",
      vlans: [10, 100],
      tpids: [0x8100, 0x8100],
    }),
    "IPv4 UDP with TOS, DF": {
      dst: B,
      src: A,
      vlans: [],
      tpids: [],
      etherType: 0x0800,
      ipv4: {
        src: "192.168.0.1",
        dst: "192.168.0.199",
        protocol: 17,
        ttl: 64,
        id: 7,
        tos: 0xb8,
        flags: 2,
        payload: new Uint8Array(95).fill(0x5a),
      },
    },
    "IPv4 ICMP fragment": {
      dst: B,
      src: A,
      vlans: [],
      tpids: [],
      etherType: 0x0800,
      ipv4: {
        src: "10.0.0.1",
        dst: "10.0.0.2",
        protocol: 1,
        ttl: 64,
        id: 8,
        flags: 1,
        fragmentOffset: 185,
        payload: new Uint8Array(100).fill(1),
      },
    },
    "IPv4 empty payload": {
      dst: B,
      src: A,
      vlans: [],
      tpids: [],
      etherType: 0x0800,
      ipv4: { src: "10.0.0.1", dst: "10.0.0.2", protocol: 253, ttl: 64, id: 0 },
    },
    "ICMP unreachable": {
      dst: A,
      src: B,
      vlans: [],
      tpids: [],
      etherType: 0x0800,
      ipv4: {
        src: "10.0.0.2",
        dst: "10.0.0.1",
        protocol: 1,
        ttl: 64,
        id: 0,
        icmp: { type: 3, code: 1, id: 0, seq: 1500, data: new Uint8Array(28).fill(0x45) },
      },
    },
    "IPv6 payload, 1500 bytes": {
      dst: "33:33:00:00:00:01",
      src: A,
      vlans: [200],
      tpids: [0x8100],
      etherType: 0x86dd,
      payload: new Uint8Array(1500).map((_, i) => i * 7),
    },
    "LLDP, no payload": { dst: "01:80:c2:00:00:0e", src: A, vlans: [], tpids: [], etherType: 0x88cc },
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

/** What decodeFrame adds to a built frame: the checksum verdicts. */
function withChecksums(frame: Frame): Frame {
  const ipv4 = frame.ipv4;
  if (ipv4 === undefined) return frame;
  const out = { ...frame, ipv4: { ...ipv4, checksumOk: true } };
  if (ipv4.icmp !== undefined) out.ipv4.icmp = { ...ipv4.icmp, checksumOk: true };
  return out;
}

describe("MAC helpers", () => {
  test("mac48() and writeMac48() round-trip, macToString() and macFromString() agree", () => {
    const buf = new Uint8Array(16);
    for (
      const mac of [0, 1, 0xffffffffffff, 0x525400abcdef, 0x01005e000001, 0x800000000000, 0x00ff00ff00ff]
    ) {
      assert.equal(writeMac48(buf, 3, mac), 9);
      assert.equal(mac48(buf, 3), mac);
      assert.equal(macFromString(macToString(mac)), mac);
    }
    assert.equal(macToString(0x525400abcdef), "52:54:00:ab:cd:ef");
    assert.equal(macToString(0), "00:00:00:00:00:00");
    assert.equal(macFromString("52-54-00-AB-CD-EF"), 0x525400abcdef);
    assert.equal(macFromString("5254.00ab.cdef"), 0x525400abcdef);
  });

  test("isBroadcastMac48() and isMulticastMac48() read the I/G bit", () => {
    assert.equal(isBroadcastMac48(0xffffffffffff), true);
    assert.equal(isBroadcastMac48(0xfffffffffffe), false);
    assert.equal(isMulticastMac48(0xffffffffffff), true);
    assert.equal(isMulticastMac48(0x333300000001), true);
    assert.equal(isMulticastMac48(0x01005e7f0001), true);
    assert.equal(isMulticastMac48(0x525400000001), false);
    assert.equal(isMulticastMac48(0x020000000000), false);
  });

  test("MAC helpers throw precise errors", () => {
    assert.throws(() => mac48(new Uint8Array(12), 7), {
      name: "RangeError",
      message: "Cannot read MAC address at offset 7: buffer has 12 bytes",
    });
    assert.throws(() => mac48(new Uint8Array(12), -1), {
      name: "RangeError",
      message: "Cannot read MAC address at offset -1: buffer has 12 bytes",
    });
    assert.throws(() => writeMac48(new Uint8Array(6), 1, 0), {
      name: "RangeError",
      message: "Cannot write MAC address at offset 1: buffer has 6 bytes",
    });
    assert.throws(() => writeMac48(new Uint8Array(6), 0, 2 ** 48), {
      name: "RangeError",
      message:
        "Cannot write MAC address as it must be an integer in [0, 2^48): current value is 281474976710656",
    });
    assert.throws(() => macToString(-1), {
      name: "RangeError",
      message: "Cannot format MAC address as it must be an integer in [0, 2^48): current value is -1",
    });
    assert.throws(() => macFromString("52:54:00:ab:cd:ef:00:01"), {
      name: "RangeError",
      message: "Cannot use MAC address '52:54:00:ab:cd:ef:00:01' on Ethernet as it has 8 octets: expected 6",
    });
    assert.throws(() => macFromString("52:54:00"), { name: "MacError" });
  });
});

describe("IPv4 addresses", () => {
  test("ipv4FromString() and ipv4ToString() round-trip", () => {
    for (const s of ["0.0.0.0", "10.0.0.1", "255.255.255.255", "192.168.100.7", "1.2.3.4"]) {
      assert.equal(ipv4ToString(ipv4FromString(s)), s);
    }
    assert.equal(ipv4FromString("255.255.255.255"), 0xffffffff);
    assert.equal(ipv4FromString("10.0.0.1"), 0x0a000001);
  });

  test("ipv4FromString() refuses anything but four plain decimal octets", () => {
    for (
      const s of [
        "",
        "1.2.3",
        "1.2.3.4.5",
        "256.0.0.1",
        "01.0.0.1",
        "1..2.3",
        "1.2.3.4 ",
        "a.b.c.d",
        "1.2.3.",
        ".1.2.3",
        "1.2.3.1000",
      ]
    ) {
      assert.throws(() => ipv4FromString(s), {
        name: "SyntaxError",
        message: `Cannot parse IPv4 address '${s}': expected four decimal octets 0-255 as a.b.c.d`,
      }, s);
    }
    assert.throws(() => ipv4ToString(2 ** 32), {
      name: "RangeError",
      message:
        "Cannot format IPv4 address as it must be an integer in [0, 2^32): current value is 4294967296",
    });
  });
});

describe("frameVlan()", () => {
  test("frameVlan() reads the outer VID of 802.1Q and 802.1ad tags, -1 when untagged", () => {
    const s = samples();
    const untagged = encodeFrame(s["ARP request"]!);
    assert.equal(frameVlan(untagged, 0, untagged.length), -1);
    const tagged = encodeFrame(s["ARP reply, VLAN 100"]!);
    assert.equal(frameVlan(tagged, 0, tagged.length), 100);
    const qinqAd = encodeFrame(s["QinQ 802.1ad outer"]!);
    assert.equal(frameVlan(qinqAd, 0, qinqAd.length), 10);
    const qinqQ = encodeFrame(s["QinQ 802.1Q outer"]!);
    assert.equal(frameVlan(qinqQ, 0, qinqQ.length), 10);
    const max = encodeFrame(s["ICMP echo reply, 56 bytes, VLAN 4095"]!);
    assert.equal(frameVlan(max, 0, max.length), 4095);
  });

  test("frameVlan() ignores the PCP and DEI bits and reads at an offset", () => {
    const frame = encodeFrame(samples()["ARP reply, VLAN 100"]!);
    const buf = new Uint8Array(frame.length + 5);
    buf.set(frame, 5);
    buf[5 + 14] = 0xe0 | buf[5 + 14]!; // PCP 7
    buf[5 + 14] = 0x10 | buf[5 + 14]!; // DEI
    assert.equal(frameVlan(buf, 5, frame.length), 100);
  });

  test("frameVlan() throws precise errors", () => {
    const frame = encodeFrame(samples()["ARP reply, VLAN 100"]!);
    assert.throws(() => frameVlan(frame, 0, 13), {
      name: "RangeError",
      message: "Cannot read Ethernet header: frame has 13 bytes, needs 14",
    });
    assert.throws(() => frameVlan(frame, 0, 14), {
      name: "RangeError",
      message: "Cannot read 802.1Q tag at offset 12: frame has 14 bytes, needs 18",
    });
    const ad = encodeFrame(samples()["QinQ 802.1ad outer"]!);
    assert.throws(() => frameVlan(ad, 0, 17), {
      name: "RangeError",
      message: "Cannot read 802.1ad tag at offset 12: frame has 17 bytes, needs 18",
    });
    assert.throws(() => frameVlan(frame, 10, frame.length), {
      name: "RangeError",
      message: "Cannot read frame of 60 bytes at offset 10: buffer has 60 bytes",
    });
  });
});

describe("pushVlanTag() and popVlanTag()", () => {
  const echo = (vlans: number[], tpids?: number[]) =>
    encodeFrame(icmpEcho({
      srcMac: A,
      dstMac: B,
      srcIp: "10.0.0.1",
      dstIp: "10.0.0.2",
      id: 1,
      seq: 1,
      data: new Uint8Array(56).fill(0x61),
      vlans,
      ...(tpids ? { tpids } : {}),
    }));

  test("pushVlanTag() inserts an 802.1Q tag after the MACs, popVlanTag() removes it", () => {
    const untagged = echo([]);
    const tagged = new Uint8Array(untagged.length + 4);
    assert.equal(pushVlanTag(untagged, 0, untagged.length, tagged, 0, 100), untagged.length + 4);
    assert.deepEqual(tagged, echo([100]));
    const back = new Uint8Array(untagged.length);
    assert.equal(popVlanTag(tagged, 0, tagged.length, back, 0), untagged.length);
    assert.deepEqual(back, untagged);
  });

  test("pushVlanTag() on a tagged frame makes QinQ with the TPID given", () => {
    const inner = echo([100]);
    const qinq = new Uint8Array(inner.length + 4);
    pushVlanTag(inner, 0, inner.length, qinq, 0, 10, 0x88a8);
    assert.deepEqual(qinq, echo([10, 100], [0x88a8, 0x8100]));
    assert.deepEqual(decodeFrame(qinq).tpids, [0x88a8, 0x8100]);
    const back = new Uint8Array(inner.length);
    popVlanTag(qinq, 0, qinq.length, back, 0);
    assert.deepEqual(back, inner);
  });

  test("pushVlanTag() and popVlanTag() work in place with headroom, moving only the MACs", () => {
    const untagged = echo([]);
    const buf = new Uint8Array(untagged.length + 4);
    buf.set(untagged, 4);
    assert.equal(pushVlanTag(buf, 4, untagged.length, buf, 0, 100), untagged.length + 4);
    assert.deepEqual(buf, echo([100]));
    assert.equal(popVlanTag(buf, 0, buf.length, buf, 4), untagged.length);
    assert.deepEqual(buf.subarray(4), untagged);
  });

  test("pushVlanTag() and popVlanTag() move overlapping frames within one array like memmove", () => {
    const untagged = echo([]);
    const tagged = echo([7]);
    for (const shift of [-30, -6, -4, -1, 0, 1, 3, 4, 5, 8, 30]) {
      const buf = new Uint8Array(untagged.length + 80);
      buf.set(untagged, 40);
      pushVlanTag(buf, 40, untagged.length, buf, 40 + shift, 7);
      assert.deepEqual(buf.subarray(40 + shift, 40 + shift + tagged.length), tagged, `push, shift ${shift}`);
      const buf2 = new Uint8Array(tagged.length + 80);
      buf2.set(tagged, 40);
      popVlanTag(buf2, 40, tagged.length, buf2, 40 + shift);
      assert.deepEqual(
        buf2.subarray(40 + shift, 40 + shift + untagged.length),
        untagged,
        `pop, shift ${shift}`,
      );
    }
  });

  test("pushVlanTag() and popVlanTag() move short frames (copied byte by byte) like memmove too", () => {
    // 40 bytes: the 28 after the MACs are under the loop-copy threshold
    const untagged = new Uint8Array(40).map((_, i) => i + 1);
    untagged.set([0x88, 0xb5], 12);
    const tagged = new Uint8Array(44);
    pushVlanTag(untagged, 0, 40, tagged, 0, 9);
    assert.deepEqual([...tagged.subarray(12, 18)], [0x81, 0x00, 0x00, 0x09, 0x88, 0xb5]);
    for (let shift = -20; shift <= 20; shift++) {
      const buf = new Uint8Array(100);
      buf.set(untagged, 30);
      assert.equal(pushVlanTag(buf, 30, 40, buf, 30 + shift, 9), 44);
      assert.deepEqual(buf.subarray(30 + shift, 74 + shift), tagged, `push, shift ${shift}`);
      const buf2 = new Uint8Array(100);
      buf2.set(tagged, 30);
      assert.equal(popVlanTag(buf2, 30, 44, buf2, 30 + shift), 40);
      assert.deepEqual(buf2.subarray(30 + shift, 70 + shift), untagged, `pop, shift ${shift}`);
    }
  });

  test("pushVlanTag() and popVlanTag() copy 1500-byte frames", () => {
    const frame = encodeFrame(samples()["IPv6 payload, 1500 bytes"]!);
    const out = new Uint8Array(frame.length + 4);
    pushVlanTag(frame, 0, frame.length, out, 0, 300, 0x88a8);
    const decoded = decodeFrame(out);
    assert.deepEqual([decoded.vlans, decoded.tpids], [[300, 200], [0x88a8, 0x8100]]);
    assert.deepEqual(decoded.payload, samples()["IPv6 payload, 1500 bytes"]!.payload);
    const back = new Uint8Array(frame.length);
    popVlanTag(out, 0, out.length, back, 0);
    assert.deepEqual(back, frame);
  });

  test("popVlanTag() does not pad: a 60-byte tagged frame becomes 56 bytes", () => {
    const tagged = encodeFrame(
      arpRequest({ srcMac: A, srcIp: "10.0.0.1", targetIp: "10.0.0.2", vlans: [5] }),
    );
    assert.equal(tagged.length, 60);
    const out = new Uint8Array(60);
    assert.equal(popVlanTag(tagged, 0, 60, out, 0), 56);
    assert.deepEqual(decodeFrame(out, 0, 56).arp, decodeFrame(tagged).arp);
  });

  test("pushVlanTag() and popVlanTag() throw precise errors", () => {
    const untagged = echo([]);
    const tagged = echo([100]);
    const dst = new Uint8Array(200);
    assert.throws(() => pushVlanTag(untagged, 0, untagged.length, dst, 0, 4096), {
      name: "RangeError",
      message: "Cannot push 802.1Q tag as VLAN ID must be 0-4095: current value is 4096",
    });
    assert.throws(() => pushVlanTag(untagged, 0, untagged.length, dst, 0, -1, 0x88a8), {
      name: "RangeError",
      message: "Cannot push 802.1ad tag as VLAN ID must be 0-4095: current value is -1",
    });
    assert.throws(() => pushVlanTag(untagged, 0, untagged.length, dst, 0, 1.5), {
      name: "RangeError",
      message: "Cannot push 802.1Q tag as VLAN ID must be 0-4095: current value is 1.5",
    });
    assert.throws(() => pushVlanTag(untagged, 0, untagged.length, dst, 0, 1, 0x9100), {
      name: "RangeError",
      message: "Cannot push VLAN tag as TPID must be 0x8100 or 0x88a8: current value is 0x9100",
    });
    assert.throws(() => pushVlanTag(untagged, 1, untagged.length, dst, 0, 1), {
      name: "RangeError",
      message: "Cannot read frame of 98 bytes at offset 1: buffer has 98 bytes",
    });
    assert.throws(() => pushVlanTag(untagged, 0, 10, dst, 0, 1), {
      name: "RangeError",
      message: "Cannot read Ethernet header: frame has 10 bytes, needs 14",
    });
    assert.throws(() => pushVlanTag(untagged, 0, untagged.length, new Uint8Array(101), 0, 1), {
      name: "RangeError",
      message: "Cannot write frame of 102 bytes at offset 0: buffer has 101 bytes",
    });
    assert.throws(() => pushVlanTag(untagged, 0, untagged.length, dst, 99, 1), {
      name: "RangeError",
      message: "Cannot write frame of 102 bytes at offset 99: buffer has 200 bytes",
    });
    assert.throws(() => popVlanTag(untagged, 0, untagged.length, dst, 0), {
      name: "TypeError",
      message: "Cannot pop VLAN tag: frame is untagged (EtherType 0x0800)",
    });
    assert.throws(() => popVlanTag(tagged, 0, 16, dst, 0), {
      name: "RangeError",
      message: "Cannot read 802.1Q tag at offset 12: frame has 16 bytes, needs 18",
    });
    assert.throws(() => popVlanTag(tagged, 0, tagged.length, new Uint8Array(97), 0), {
      name: "RangeError",
      message: "Cannot write frame of 98 bytes at offset 0: buffer has 97 bytes",
    });
  });
});

describe("frame codec", () => {
  for (const [name, frame] of Object.entries(samples())) {
    test(`writeFrame()/decodeFrame() round-trip: ${name}`, () => {
      roundTrip(frame);
    });
  }

  test("decodeFrame() gives back what the builders made, plus checksum verdicts", () => {
    const s = samples();
    for (const name of ["ARP request", "ARP reply, VLAN 100", "ICMP echo request", "QinQ 802.1ad outer"]) {
      assert.deepEqual(decodeFrame(encodeFrame(s[name]!)), withChecksums(s[name]!), name);
    }
  });

  test("decodeFrame() reads IPv4 flags and fragments without decoding a fragment as ICMP", () => {
    const decoded = decodeFrame(encodeFrame(samples()["IPv4 ICMP fragment"]!));
    assert.equal(decoded.ipv4?.icmp, undefined);
    assert.equal(decoded.ipv4?.flags, 1);
    assert.equal(decoded.ipv4?.fragmentOffset, 185);
    assert.equal(decoded.ipv4?.payload?.length, 100);
  });

  test("encodeFrame() pads to 60 bytes with zeros and decodeFrame() drops the padding after ARP and IPv4", () => {
    const arp = samples()["ARP request"]!;
    const buf = new Uint8Array(80).fill(0xff);
    assert.equal(writeFrame(arp, buf, 0), 60);
    assert.ok(buf.subarray(42, 60).every((b) => b === 0), "padding is zeros even in a dirty buffer");
    assert.deepEqual(decodeFrame(buf, 0, 60), arp);
    const empty = samples()["IPv4 empty payload"]!;
    assert.equal(frameLength(empty), 60);
    assert.equal(decodeFrame(encodeFrame(empty)).ipv4?.payload, undefined);
    const lldp = decodeFrame(encodeFrame(samples()["LLDP, no payload"]!));
    assert.deepEqual(lldp.payload, new Uint8Array(46), "other EtherTypes keep the padding as payload");
  });

  test("encodeFrame() writes an ARP request byte for byte as RFC 826 lays it out", () => {
    const want = hex(`
      ffffffffffff 525400123456 0806
      0001 0800 06 04 0001 525400123456 0a000001 000000000000 0a000002
      000000000000000000000000000000000000`);
    assert.deepEqual(encodeFrame(arpRequest({ srcMac: A, srcIp: "10.0.0.1", targetIp: "10.0.0.2" })), want);
    const reply = hex(`
      525400123456 525400abcdef 8100 0064 0806
      0001 0800 06 04 0002 525400abcdef 0a000002 525400123456 0a000001
      0000000000000000000000000000`);
    assert.deepEqual(encodeFrame(samples()["ARP reply, VLAN 100"]!), reply);
  });

  test("encodeFrame() writes an ICMP echo request with the checksums of a real Windows ping", () => {
    // Windows' `ping` sends 32 bytes "abcdefghijklmnopqrstuvwabcdefghi"; id 1, seq 1 has ICMP checksum 0x4d5a
    const data = new TextEncoder().encode("abcdefghijklmnopqrstuvwabcdefghi");
    const frame = icmpEcho({
      srcMac: A,
      dstMac: B,
      srcIp: "192.168.0.1",
      dstIp: "192.168.0.199",
      id: 1,
      seq: 1,
      data,
      ttl: 128,
      ipId: 0x1234,
    });
    const want = hex(`
      525400abcdef 525400123456 0800
      4500 003c 1234 0000 80 01 a674 c0a80001 c0a800c7
      08 00 4d5a 0001 0001 6162636465666768696a6b6c6d6e6f7071727374757677616263646566676869`);
    assert.deepEqual(encodeFrame(frame), want);
    assert.equal(checksum(want.subarray(14, 34)), 0, "IPv4 header sums to zero");
    assert.equal(checksum(want.subarray(34)), 0, "ICMP message sums to zero");
    assert.equal(
      describeFrame(decodeFrame(want)),
      "52:54:00:12:34:56 > 52:54:00:ab:cd:ef, IPv4 192.168.0.1 > 192.168.0.199: ICMP echo request, id 1, seq 1",
    );
  });

  test("encodeFrame() computes the IPv4 header checksum of RFC 1071's usual example (0xb861)", () => {
    const frame = samples()["IPv4 UDP with TOS, DF"]!;
    frame.ipv4!.tos = 0;
    frame.ipv4!.id = 0;
    const bytes = encodeFrame(frame);
    assert.deepEqual(bytes.subarray(14, 34), hex("4500 0073 0000 4000 4011 b861 c0a80001 c0a800c7"));
  });

  test("decodeFrame() reports wrong checksums in checksumOk instead of throwing", () => {
    const bytes = encodeFrame(samples()["ICMP echo request"]!);
    bytes[22] = 63; // TTL: breaks the IPv4 header checksum only
    let decoded = decodeFrame(bytes);
    assert.deepEqual([decoded.ipv4?.checksumOk, decoded.ipv4?.icmp?.checksumOk], [false, true]);
    bytes[22] = 64;
    bytes[41] = bytes[41]! ^ 0xff; // ICMP sequence number, low byte
    decoded = decodeFrame(bytes);
    assert.deepEqual([decoded.ipv4?.checksumOk, decoded.ipv4?.icmp?.checksumOk], [true, false]);
    assert.equal(
      describeFrame(decoded),
      "52:54:00:12:34:56 > 52:54:00:ab:cd:ef, IPv4 10.0.0.1 > 10.0.0.2: ICMP echo request, id 1, seq 254, bad ICMP checksum",
    );
    bytes[22] = 1;
    assert.match(describeFrame(decodeFrame(bytes)), /, bad IPv4 checksum, bad ICMP checksum$/);
  });

  test("decodeFrame() skips IPv4 options", () => {
    const plain = encodeFrame(samples()["ICMP echo request"]!);
    // insert 4 bytes of options (NOP NOP NOP EOL) after the 20-byte header
    const bytes = new Uint8Array(plain.length + 4);
    bytes.set(plain.subarray(0, 34), 0);
    bytes.set([1, 1, 1, 0], 34);
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
    assert.equal(decoded.ipv4?.icmp?.checksumOk, true);
    assert.equal(decoded.ipv4?.icmp?.seq, 1);
  });

  test("decodeFrame() reads ARP that is not IPv4 over Ethernet as payload", () => {
    const bytes = encodeFrame(samples()["ARP request"]!);
    bytes[17] = 6; // ptype 0x0806: not IPv4
    const decoded = decodeFrame(bytes);
    assert.equal(decoded.arp, undefined);
    assert.equal(decoded.payload?.length, 46);
  });

  test("decodeFrame() copies: the frame outlives the buffer", () => {
    const bytes = encodeFrame(samples()["ICMP echo reply, 56 bytes, VLAN 4095"]!);
    const decoded = decodeFrame(bytes);
    bytes.fill(0);
    assert.equal(decoded.ipv4?.icmp?.data[5], 5);
  });

  test("decodeFrame() throws precise errors for frames cut short", () => {
    const s = samples();
    const cases: [Uint8Array, number, string][] = [
      [encodeFrame(s["ARP request"]!), 13, "Cannot read Ethernet header: frame has 13 bytes, needs 14"],
      [
        encodeFrame(s["ARP reply, VLAN 100"]!),
        14,
        "Cannot read 802.1Q tag at offset 12: frame has 14 bytes, needs 18",
      ],
      [
        encodeFrame(s["QinQ 802.1ad outer"]!),
        17,
        "Cannot read 802.1ad tag at offset 12: frame has 17 bytes, needs 18",
      ],
      [
        encodeFrame(s["QinQ 802.1ad outer"]!),
        20,
        "Cannot read 802.1Q tag at offset 16: frame has 20 bytes, needs 22",
      ],
      [
        encodeFrame(s["ARP request"]!),
        41,
        "Cannot read ARP packet at offset 14: frame has 41 bytes, needs 42",
      ],
      [
        encodeFrame(s["ICMP echo request"]!),
        33,
        "Cannot read IPv4 header at offset 14: frame has 33 bytes, needs 34",
      ],
      [
        encodeFrame(s["ICMP echo request"]!),
        40,
        "Cannot read IPv4 packet at offset 14: total length is 28 bytes, frame has 26 from there",
      ],
    ];
    for (const [bytes, length, message] of cases) {
      assert.throws(() => decodeFrame(bytes, 0, length), { name: "RangeError", message });
    }
    assert.throws(() => decodeFrame(new Uint8Array(60), 10, 60), {
      name: "RangeError",
      message: "Cannot read frame of 60 bytes at offset 10: buffer has 60 bytes",
    });
    const shortIcmp = encodeFrame(s["ICMP echo request"]!);
    shortIcmp[17] = 24; // total length: 20-byte header + 4 bytes
    assert.throws(() => decodeFrame(shortIcmp), {
      name: "RangeError",
      message: "Cannot read ICMP header at offset 34: IPv4 payload has 4 bytes, needs 8",
    });
  });

  test("decodeFrame() throws SyntaxError for malformed IPv4 headers", () => {
    const good = encodeFrame(samples()["ICMP echo request"]!);
    const v6 = good.slice();
    v6[14] = 0x65;
    assert.throws(() => decodeFrame(v6), {
      name: "SyntaxError",
      message: "Cannot read IPv4 header at offset 14: version is 6, expected 4",
    });
    const ihl = good.slice();
    ihl[14] = 0x44;
    assert.throws(() => decodeFrame(ihl), {
      name: "SyntaxError",
      message: "Cannot read IPv4 header at offset 14: header length is 16 bytes, at least 20",
    });
    const total = good.slice();
    total[17] = 19;
    assert.throws(() => decodeFrame(total), {
      name: "SyntaxError",
      message: "Cannot read IPv4 header at offset 14: total length 19 is less than the header length 20",
    });
  });

  test("writeFrame() throws precise errors for frames it cannot write", () => {
    const s = samples();
    const arp = s["ARP request"]!;
    const echo = s["ICMP echo request"]!;
    const cases: [Frame, string, string][] = [
      [
        { ...arp, payload: new Uint8Array(1) },
        "TypeError",
        "Cannot encode frame as it has more than one of 'arp', 'ipv4' and 'payload'",
      ],
      [
        { ...arp, etherType: 0x0800 },
        "TypeError",
        "Cannot encode frame as 'arp' needs EtherType 0x0806: current value is 0x0800",
      ],
      [
        { ...echo, etherType: 0x0806 },
        "TypeError",
        "Cannot encode frame as 'ipv4' needs EtherType 0x0800: current value is 0x0806",
      ],
      [
        { ...arp, arp: undefined, etherType: 0x8100 } as unknown as Frame,
        "TypeError",
        "Cannot encode frame as 'etherType' 0x8100 is a VLAN TPID: put tags in 'vlans'",
      ],
      [
        { ...arp, etherType: 0x10000 },
        "RangeError",
        "Cannot encode frame as 'etherType' must be an integer 0-65535: current value is 65536",
      ],
      [
        { ...arp, vlans: [1, 2], tpids: [0x8100] },
        "TypeError",
        "Cannot encode frame as it has 2 VLANs and 1 TPIDs: expected one TPID per VLAN",
      ],
      [
        { ...arp, vlans: [4096], tpids: [0x8100] },
        "RangeError",
        "Cannot encode frame as VLAN ID must be 0-4095: current value is 4096",
      ],
      [
        { ...arp, vlans: [1], tpids: [0x9100] },
        "RangeError",
        "Cannot encode frame as TPID must be 0x8100 or 0x88a8: current value is 0x9100",
      ],
      [
        { ...arp, arp: { ...arp.arp!, op: -1 } },
        "RangeError",
        "Cannot encode frame as 'arp.op' must be an integer 0-65535: current value is -1",
      ],
      [
        { ...echo, ipv4: { ...echo.ipv4!, ttl: 256 } },
        "RangeError",
        "Cannot encode frame as 'ipv4.ttl' must be an integer 0-255: current value is 256",
      ],
      [
        { ...echo, ipv4: { ...echo.ipv4!, protocol: 17 } },
        "TypeError",
        "Cannot encode frame as 'ipv4.icmp' needs protocol 1: current value is 17",
      ],
      [
        { ...echo, ipv4: { ...echo.ipv4!, payload: new Uint8Array(1) } },
        "TypeError",
        "Cannot encode frame as 'ipv4' has both 'icmp' and 'payload'",
      ],
      [
        { ...echo, ipv4: { ...echo.ipv4!, icmp: { ...echo.ipv4!.icmp!, seq: 65536 } } },
        "RangeError",
        "Cannot encode frame as 'ipv4.icmp.seq' must be an integer 0-65535: current value is 65536",
      ],
      [
        { ...echo, ipv4: { ...echo.ipv4!, icmp: { ...echo.ipv4!.icmp!, data: new Uint8Array(65508) } } },
        "RangeError",
        "Cannot encode frame as the IPv4 packet would have 65536 bytes: at most 65535",
      ],
      [
        { ...echo, ipv4: { ...echo.ipv4!, src: "10.0.0" } },
        "SyntaxError",
        "Cannot parse IPv4 address '10.0.0': expected four decimal octets 0-255 as a.b.c.d",
      ],
    ];
    for (const [frame, name, message] of cases) {
      assert.throws(() => encodeFrame(frame), { name, message }, message);
    }
    assert.throws(() => encodeFrame({ ...arp, dst: "nope" }), { name: "MacError" });
    assert.throws(() => writeFrame(arp, new Uint8Array(69), 10), {
      name: "RangeError",
      message: "Cannot write frame of 60 bytes at offset 10: buffer has 69 bytes",
    });
  });
});

describe("builders and describeFrame()", () => {
  test("arpRequest(), arpReply() and icmpEcho() normalise addresses and default the TPIDs to 802.1Q", () => {
    const frame = arpRequest({
      srcMac: "52-54-00-AB-CD-EF",
      srcIp: "10.0.0.1",
      targetIp: "10.0.0.2",
      vlans: [1, 2],
    });
    assert.equal(frame.src, "52:54:00:ab:cd:ef");
    assert.equal(frame.arp!.senderMac, "52:54:00:ab:cd:ef");
    assert.deepEqual(frame.tpids, [0x8100, 0x8100]);
    const echo = icmpEcho({
      srcMac: A,
      dstMac: "5254.00AB.CDEF",
      srcIp: "10.0.0.1",
      dstIp: "10.0.0.2",
      id: 1,
      seq: 1,
    });
    assert.equal(echo.dst, B);
    assert.deepEqual([echo.ipv4!.ttl, echo.ipv4!.id, echo.ipv4!.icmp!.type], [64, 0, 8]);
    assert.throws(
      () => arpReply({ srcMac: A, srcIp: "10.0.0.256", dstMac: B, dstIp: "10.0.0.1" }),
      SyntaxError,
    );
  });

  test("describeFrame() says what tcpdump -e would, in one line", () => {
    const s = samples();
    const lines = Object.values(s).map((f) => describeFrame(decodeFrame(encodeFrame(f))));
    assert.deepEqual(lines, [
      "52:54:00:12:34:56 > ff:ff:ff:ff:ff:ff, ARP, Request who-has 10.0.0.2 tell 10.0.0.1",
      "52:54:00:ab:cd:ef > 52:54:00:12:34:56, vlan 100, ARP, Reply 10.0.0.2 is-at 52:54:00:ab:cd:ef",
      "52:54:00:12:34:56 > 52:54:00:ab:cd:ef, IPv4 10.0.0.1 > 10.0.0.2: ICMP echo request, id 1, seq 1",
      "52:54:00:ab:cd:ef > 52:54:00:12:34:56, vlan 4095, IPv4 10.0.0.2 > 10.0.0.1: ICMP echo reply, id 65535, seq 65534",
      "52:54:00:12:34:56 > 52:54:00:ab:cd:ef, vlan 10 (802.1ad), vlan 100, IPv4 10.0.0.1 > 10.0.0.2: ICMP echo request, id 9, seq 2",
      "52:54:00:12:34:56 > ff:ff:ff:ff:ff:ff, vlan 10, vlan 100, ARP, Request who-has 10.0.0.2 tell 10.0.0.1",
      "52:54:00:12:34:56 > 52:54:00:ab:cd:ef, IPv4 192.168.0.1 > 192.168.0.199: UDP, length 95",
      "52:54:00:12:34:56 > 52:54:00:ab:cd:ef, IPv4 10.0.0.1 > 10.0.0.2: ICMP fragment, length 100",
      "52:54:00:12:34:56 > 52:54:00:ab:cd:ef, IPv4 10.0.0.1 > 10.0.0.2: ip-proto-253, length 0",
      "52:54:00:ab:cd:ef > 52:54:00:12:34:56, IPv4 10.0.0.2 > 10.0.0.1: ICMP unreachable, code 1",
      "52:54:00:12:34:56 > 33:33:00:00:00:01, vlan 200, IPv6, length 1500",
      "52:54:00:12:34:56 > 01:80:c2:00:00:0e, ethertype 0x88cc, length 46",
    ]);
    const odd = { ...s["ARP request"]!, arp: { ...s["ARP request"]!.arp!, op: 3 } };
    assert.equal(
      describeFrame(odd),
      "52:54:00:12:34:56 > ff:ff:ff:ff:ff:ff, ARP, opcode 3, 10.0.0.1 > 10.0.0.2",
    );
  });
});
