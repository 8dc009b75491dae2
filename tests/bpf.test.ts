import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { compileFilter } from "../lib/wire/bpf.ts";

/** A minimal frame: MACs, optional 802.1Q tags, then an IPv4 (with protocol) or ARP header. */
function frame(
  options: { vlans?: number[]; type: "ip" | "arp"; proto?: number; src?: number[]; dst?: number[] },
) {
  const bytes: number[] = [2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1];
  for (const vid of options.vlans ?? []) bytes.push(0x81, 0x00, vid >> 8, vid & 0xff);
  const src = options.src ?? [10, 0, 0, 1];
  const dst = options.dst ?? [10, 0, 0, 2];
  if (options.type === "ip") {
    bytes.push(0x08, 0x00, 0x45, 0, 0, 28, 0, 0, 0, 0, 64, options.proto ?? 1, 0, 0, ...src, ...dst);
  } else {
    bytes.push(0x08, 0x06, 0, 1, 8, 0, 6, 4, 0, 1, 2, 0, 0, 0, 0, 1, ...src, 0, 0, 0, 0, 0, 0, ...dst);
  }
  while (bytes.length < 60) bytes.push(0);
  return Uint8Array.from(bytes);
}

function matches(filter: string, f: Uint8Array): boolean {
  return compileFilter(filter)(f, 0, f.length);
}

describe("compileFilter()", () => {
  const icmp = frame({ type: "ip", proto: 1 });
  const tagged = frame({ type: "ip", proto: 1, vlans: [100] });
  const arp = frame({ type: "arp" });
  const udp = frame({ type: "ip", proto: 17, src: [10, 0, 0, 9] });
  test("the empty filter matches everything", () => assert.equal(matches("", arp), true));
  test("protocols", () => {
    assert.deepEqual(["icmp", "ip", "arp", "udp", "tcp"].map((f) => matches(f, icmp)), [
      true,
      true,
      false,
      false,
      false,
    ]);
    assert.equal(matches("arp", arp), true);
    assert.equal(matches("udp", udp), true);
  });
  test("a tagged frame needs vlan first, as in libpcap", () => {
    assert.equal(matches("icmp", tagged), false);
    assert.equal(matches("vlan and icmp", tagged), true);
    assert.equal(matches("vlan 100 and icmp", tagged), true);
    assert.equal(matches("vlan 200 and icmp", tagged), false);
    assert.equal(matches("icmp or (vlan and icmp)", tagged), true);
    assert.equal(matches("icmp or (vlan and icmp)", icmp), true);
    assert.equal(matches("vlan", icmp), false);
  });
  test("hosts: IPv4 source or destination, ARP sender or target", () => {
    assert.equal(matches("host 10.0.0.2", icmp), true);
    assert.equal(matches("src host 10.0.0.2", icmp), false);
    assert.equal(matches("dst host 10.0.0.2", icmp), true);
    assert.equal(matches("host 10.0.0.2", arp), true);
    assert.equal(matches("host 10.0.0.3", arp), false);
    assert.equal(matches("ether src host 02:00:00:00:00:01", icmp), true);
    assert.equal(matches("ether dst host 02:00:00:00:00:01", icmp), false);
    assert.equal(matches("ether host 2:0:0:0:0:2", icmp), true);
  });
  test("not, and, or, parentheses, && || !", () => {
    assert.equal(matches("not arp", icmp), true);
    assert.equal(matches("!arp && (icmp || udp)", udp), true);
    assert.equal(matches("arp or udp and host 10.0.0.9", udp), true);
    assert.equal(matches("not (icmp or arp)", arp), false);
  });
  test("says what it does not understand", () => {
    const message = (word: string, f: string) =>
      `Cannot use capture filter '${f}': the simulator understands vlan [id], arp, ip, icmp, tcp, udp, ` +
      `[src|dst] host <ip>, ether [src|dst] host <mac>, not, and, or and parentheses; '${word}' is not one of them`;
    for (
      const [f, word] of [
        ["port 80", "port"],
        ["host 10.0.0.300", "10.0.0.300"],
        ["(icmp", "(end of filter)"],
        [
          "icmp)",
          ")",
        ],
        ["vlan 5000", "5000"],
        ["ether host nope", "nope"],
      ]
    ) {
      assert.throws(() => compileFilter(f!), { name: "FilterError", message: message(word!, f!) }, f);
    }
  });
  test("never reads past the frame", () => {
    const short = Uint8Array.from([1, 2, 3]);
    for (const f of ["icmp", "arp", "vlan", "host 1.2.3.4", "ether host 1:2:3:4:5:6"]) {
      assert.equal(compileFilter(f)(short, 0, 3), false, f);
    }
  });
});
