import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { arpReply, arpRequest, encodeFrame, icmpEcho } from "../lib/wire/frame.ts";
import { explainDifference, firstDifference, observePcap } from "../lib/wire/observe.ts";
import { encodePcap } from "../lib/wire/pcap.ts";

const A = "02:00:00:00:00:0a";
const B = "02:00:00:00:00:0b";

function pcap(frames: Uint8Array[]): Uint8Array {
  return encodePcap(frames.map((data, i) => ({ timeNs: i * 1000, origLen: data.length, data })));
}

describe("observePcap()", () => {
  test("describes each frame with its tags, without ICMP ids, timestamps or payload", () => {
    const echo = (id: number, data: Uint8Array) =>
      encodeFrame(icmpEcho({ srcMac: A, dstMac: B, srcIp: "10.0.0.1", dstIp: "10.0.0.2", id, seq: 1, data }));
    const one = observePcap(pcap([
      encodeFrame(arpRequest({ srcMac: A, srcIp: "10.0.0.1", targetIp: "10.0.0.2", vlans: [101] })),
      encodeFrame(arpReply({ srcMac: B, srcIp: "10.0.0.2", dstMac: A, dstIp: "10.0.0.1" })),
      echo(4242, new Uint8Array([1, 2, 3])),
    ]));
    assert.deepEqual(one, [
      `${A} > ff:ff:ff:ff:ff:ff, vlan 101, ARP, Request who-has 10.0.0.2 tell 10.0.0.1`,
      `${B} > ${A}, ARP, Reply 10.0.0.2 is-at ${B}`,
      `${A} > ${B}, IPv4 10.0.0.1 > 10.0.0.2: ICMP echo request, seq 1, ttl 64`,
    ]);
    // another run of the same ping: another id and payload, the same observation
    assert.deepEqual(observePcap(pcap([echo(7, new Uint8Array([9]))])), [one[2]]);
  });

  test("names a frame it cannot decode instead of failing", () => {
    assert.deepEqual(observePcap(pcap([new Uint8Array(10)])), ["undecodable frame, 10 bytes"]);
  });
});

describe("firstDifference() and explainDifference()", () => {
  test("find the first frame that differs, or nothing", () => {
    assert.equal(firstDifference(["x", "y"], ["x", "y"]), undefined);
    assert.deepEqual(firstDifference(["x", "y"], ["x", "z"]), { index: 1, a: "y", b: "z" });
    assert.deepEqual(firstDifference(["x", "y"], ["x"]), { index: 1, a: "y" });
    assert.deepEqual(firstDifference([], ["w"]), { index: 0, b: "w" });
    assert.equal(explainDifference(["x"], ["x"]), "");
  });

  test("explainDifference() names the frame, both sides and both listings", () => {
    assert.equal(
      explainDifference(["arp", "echo"], ["arp"], ["sim", "ovs"]),
      [
        "frame 2 differs:",
        "  sim: echo",
        "  ovs: (nothing: it saw 1 frames)",
        "sim saw 2 frames:",
        "    1 arp",
        "    2 echo",
        "ovs saw 1 frames:",
        "    1 arp",
      ].join("\n"),
    );
  });
});
