/**
 * Frame handling. The hot path (reading the forwarding keys, tagging and untagging) is compared with a
 * plain copy of the same frame, which every forwarded frame costs anyway; the codec (off the hot path:
 * hosts, tests, captures being read) is compared with {@linkcode writeFrame} into a reused buffer.
 * `deno bench bench/frame.bench.ts`, or medians with `deno run -A scripts/bench_report.ts`.
 *
 * @module
 */
import {
  decodeFrame,
  describeFrame,
  encodeFrame,
  frameVlan,
  icmpEcho,
  mac48,
  popVlanTag,
  pushVlanTag,
  writeFrame,
} from "../lib/wire/frame.ts";
import { bench } from "./_bench.ts";

const OPS = 1000;

function echo(size: number, vlans: number[] = []): Uint8Array {
  return encodeFrame(icmpEcho({
    srcMac: "52:54:00:00:00:01",
    dstMac: "52:54:00:00:00:02",
    srcIp: "10.0.0.1",
    dstIp: "10.0.0.2",
    id: 1,
    seq: 1,
    data: new Uint8Array(Math.max(0, size - 42 - 4 * vlans.length)),
    vlans,
  }));
}

const SMALL = echo(64);
const SMALL_TAGGED = echo(68, [100]);
const BIG = echo(1514);
const BIG_TAGGED = echo(1518, [100]);
const OUT = new Uint8Array(2048);
/** Frame at offset 4 with 4 bytes of headroom, for the in-place cases. */
const ROOM = new Uint8Array(2048);

// Results go here so that no work can be optimised away.
const sink: { value: number } = { value: 0 };

function copy(frame: Uint8Array): () => void {
  const len = frame.length;
  return () => {
    for (let r = 0; r < OPS; r++) OUT.set(frame.subarray(0, len), r & 7);
    sink.value += OUT[9]!;
  };
}

for (
  const [label, plain, tagged] of [["64-byte", SMALL, SMALL_TAGGED], ["1514-byte", BIG, BIG_TAGGED]] as const
) {
  const group = `frame hot path, ${label} frame`;
  bench({ name: `copy the frame (set + subarray)`, group, baseline: true, ops: OPS, fn: copy(plain) });
  bench({
    name: "mac48() of dst and src, frameVlan()",
    group,
    ops: OPS,
    fn() {
      let x = 0;
      for (let r = 0; r < OPS; r++) {
        x += mac48(tagged, 0) + mac48(tagged, 6) + frameVlan(tagged, 0, tagged.length);
      }
      sink.value += x;
    },
  });
  bench({
    name: "pushVlanTag() into another buffer",
    group,
    ops: OPS,
    fn() {
      let n = 0;
      for (let r = 0; r < OPS; r++) n += pushVlanTag(plain, 0, plain.length, OUT, r & 7, 100);
      sink.value += n;
    },
  });
  bench({
    name: "popVlanTag() into another buffer",
    group,
    ops: OPS,
    fn() {
      let n = 0;
      for (let r = 0; r < OPS; r++) n += popVlanTag(tagged, 0, tagged.length, OUT, r & 7);
      sink.value += n;
    },
  });
  bench({
    name: "pushVlanTag() then popVlanTag() in place (headroom)",
    group,
    ops: OPS,
    fn(t) {
      ROOM.set(plain, 4);
      t.start();
      let n = 0;
      for (let r = 0; r < OPS; r++) {
        n += pushVlanTag(ROOM, 4, plain.length, ROOM, 0, 100);
        n += popVlanTag(ROOM, 0, plain.length + 4, ROOM, 4);
      }
      t.end();
      sink.value += n;
    },
  });
}

const ECHO = icmpEcho({
  srcMac: "52:54:00:00:00:01",
  dstMac: "52:54:00:00:00:02",
  srcIp: "10.0.0.1",
  dstIp: "10.0.0.2",
  id: 1,
  seq: 1,
  data: new Uint8Array(56),
  vlans: [100],
});
const ECHO_BYTES = encodeFrame(ECHO);

/**
 * Runs `fn` CODEC_OPS times per call: the report sizes its batches from one cold first call, and a
 * single cold call of a codec (compiling it) would make the batches too small to warm it up.
 */
const CODEC_OPS = 100;
function repeat(fn: () => number): () => void {
  return () => {
    let n = 0;
    for (let r = 0; r < CODEC_OPS; r++) n += fn();
    sink.value += n;
  };
}

bench({
  name: "writeFrame() an ICMP echo (102 bytes) into a reused buffer",
  group: "frame codec",
  baseline: true,
  ops: CODEC_OPS,
  fn: repeat(() => writeFrame(ECHO, OUT, 0)),
});
bench({
  name: "icmpEcho() + writeFrame(), what a SimHost does per frame",
  group: "frame codec",
  ops: CODEC_OPS,
  fn: repeat(() =>
    writeFrame(
      icmpEcho({
        srcMac: "52:54:00:00:00:01",
        dstMac: "52:54:00:00:00:02",
        srcIp: "10.0.0.1",
        dstIp: "10.0.0.2",
        id: 1,
        seq: 1,
        data: ECHO.ipv4!.icmp!.data,
      }),
      OUT,
      0,
    )
  ),
});
bench({
  name: "encodeFrame() an ICMP echo (allocates)",
  group: "frame codec",
  ops: CODEC_OPS,
  fn: repeat(() => encodeFrame(ECHO).length),
});
bench({
  name: "decodeFrame() an ICMP echo (copies the data)",
  group: "frame codec",
  ops: CODEC_OPS,
  fn: repeat(() => decodeFrame(ECHO_BYTES).vlans.length),
});
bench({
  name: "describeFrame() an ICMP echo",
  group: "frame codec",
  ops: CODEC_OPS,
  fn: repeat(() => describeFrame(ECHO).length),
});
