import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  arpRequest,
  encodeFrame,
  icmpEcho,
  TCP_ACK,
  TCP_FIN,
  TCP_PSH,
  TCP_SYN,
  tcpSegment,
  udpDatagram,
} from "../lib/wire/frame.ts";
import { firstDifference, observePcap } from "../lib/wire/observe.ts";
import { encodePcap } from "../lib/wire/pcap.ts";

const A = "02:00:00:00:00:0a";
const B = "02:00:00:00:00:0b";
const AB = { srcMac: A, dstMac: B, srcIp: "10.0.0.1", dstIp: "10.0.0.2" } as const;
const BA = { srcMac: B, dstMac: A, srcIp: "10.0.0.2", dstIp: "10.0.0.1" } as const;

function pcap(frames: Uint8Array[]): Uint8Array {
  return encodePcap(frames.map((data, i) => ({ timeNs: i * 1000, origLen: data.length, data })));
}

/**
 * One run of a short TCP exchange and a UDP query, as a stack would send it: `isn` and `window` are what
 * differs between two stacks (or two runs of one), `data` the bytes the application sent.
 */
function exchange(isn: number, peerIsn: number, window: number, data: Uint8Array): Uint8Array[] {
  const n = data.length;
  const seq = (s: number) => s >>> 0; // sequence numbers wrap at 2^32
  return [
    tcpSegment({ ...AB, srcPort: 40000, dstPort: 80, seq: isn, window, vlans: [101] }),
    tcpSegment({
      ...BA,
      srcPort: 80,
      dstPort: 40000,
      seq: peerIsn,
      ack: seq(isn + 1),
      flags: TCP_SYN | TCP_ACK,
      window,
      vlans: [101],
    }),
    tcpSegment({
      ...AB,
      srcPort: 40000,
      dstPort: 80,
      seq: seq(isn + 1),
      ack: seq(peerIsn + 1),
      flags: TCP_PSH | TCP_ACK,
      window,
      data,
      vlans: [101],
    }),
    tcpSegment({
      ...AB,
      srcPort: 40000,
      dstPort: 80,
      seq: seq(isn + 1 + n),
      ack: seq(peerIsn + 1),
      flags: TCP_FIN | TCP_ACK,
      window,
      vlans: [101],
    }),
    udpDatagram({ ...AB, srcPort: 5353, dstPort: 53, data, vlans: [10, 101], tpids: [0x88a8, 0x8100] }),
  ].map(encodeFrame);
}

describe("observePcap() on UDP and TCP", () => {
  test("shows the ports and TCP flags, without sequence numbers, windows, lengths or payload", () => {
    const seen = observePcap(pcap(exchange(1000, 5000, 64240, new Uint8Array(10))));
    assert.deepEqual(seen, [
      `${A} > ${B}, vlan 101, IPv4 10.0.0.1.40000 > 10.0.0.2.80: Flags [S], ttl 64`,
      `${B} > ${A}, vlan 101, IPv4 10.0.0.2.80 > 10.0.0.1.40000: Flags [S.], ttl 64`,
      `${A} > ${B}, vlan 101, IPv4 10.0.0.1.40000 > 10.0.0.2.80: Flags [P.], ttl 64`,
      `${A} > ${B}, vlan 101, IPv4 10.0.0.1.40000 > 10.0.0.2.80: Flags [F.], ttl 64`,
      `${A} > ${B}, vlan 10 (802.1ad), vlan 101, IPv4 10.0.0.1.5353 > 10.0.0.2.53: UDP, ttl 64`,
    ]);
    // another stack: other initial sequence numbers, window and data, the same observations
    const other = observePcap(pcap(exchange(0xfffffff0, 7, 29200, new Uint8Array(300).fill(0x61))));
    assert.equal(firstDifference(seen, other), undefined);
  });

  test("leaves UDP and TCP checksums aside, as offload leaves them in a real kernel's captures", () => {
    const [syn] = exchange(1000, 5000, 64240, new Uint8Array(0));
    const udp = encodeFrame(udpDatagram({ ...AB, srcPort: 68, dstPort: 67, data: new Uint8Array(8) }));
    const seen = observePcap(pcap([syn!, udp]));
    const partial = [syn!.slice(), udp.slice()];
    partial[0]![18 + 20 + 16] = 0x12; // TCP checksum, behind one tag: a partial checksum
    partial[1]![14 + 20 + 6] = 0x34; // UDP checksum
    assert.deepEqual(observePcap(pcap(partial)), seen);
    const none = udp.slice();
    none[40] = 0;
    none[41] = 0;
    assert.deepEqual(observePcap(pcap([none])), [seen[1]]);
  });

  test("tells the ports and the flags apart", () => {
    const syn = (srcPort: number, flags: number) =>
      encodeFrame(tcpSegment({ ...AB, srcPort, dstPort: 80, flags, seq: 1 }));
    const [a, b, c] = observePcap(
      pcap([syn(40000, TCP_SYN), syn(40001, TCP_SYN), syn(40000, TCP_SYN | TCP_ACK)]),
    );
    assert.notEqual(a, b);
    assert.notEqual(a, c);
  });

  test("keeps ARP and ICMP observations as they were", () => {
    assert.deepEqual(
      observePcap(pcap([
        encodeFrame(arpRequest({ srcMac: A, srcIp: "10.0.0.1", targetIp: "10.0.0.2", vlans: [101] })),
        encodeFrame(icmpEcho({ ...AB, id: 4242, seq: 1, data: new Uint8Array([1, 2, 3]) })),
      ])),
      [
        `${A} > ff:ff:ff:ff:ff:ff, vlan 101, ARP, Request who-has 10.0.0.2 tell 10.0.0.1`,
        `${A} > ${B}, IPv4 10.0.0.1 > 10.0.0.2: ICMP echo request, seq 1, ttl 64`,
      ],
    );
  });
});
