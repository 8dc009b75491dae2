/**
 * lib/wire/dhcp.ts: DHCP messages read and written, byte for byte against dhclient's and dnsmasq's own
 * (tests/_fixtures/dnsmasq.ts), and malformed input refused with RangeError or SyntaxError only.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  BOOTREPLY,
  BOOTREQUEST,
  decodeDhcp,
  DHCP_FLAG_BROADCAST,
  DHCPACK,
  DHCPDISCOVER,
  type DhcpMessage,
  dhcpMessageTypeName,
  DHCPNAK,
  DHCPOFFER,
  DHCPREQUEST,
  encodeDhcp,
} from "../lib/wire/dhcp.ts";
import {
  DNSMASQ_DHCPACK,
  DNSMASQ_DHCPDISCOVER,
  DNSMASQ_DHCPNAK,
  DNSMASQ_DHCPOFFER,
  DNSMASQ_DHCPREQUEST,
} from "./_fixtures/dnsmasq.ts";

function hex(s: string): Uint8Array {
  return Uint8Array.from(s.match(/../g)!, (b) => parseInt(b, 16));
}

/** Only RangeError and SyntaxError may come out of the decoder. */
function decodesOrThrowsCleanly(bytes: Uint8Array): void {
  try {
    decodeDhcp(bytes);
  } catch (e) {
    if (!(e instanceof RangeError || e instanceof SyntaxError)) throw e;
    assert.match(e.message, /^Cannot decode a DHCP message: /);
  }
}

describe("decodeDhcp reads what dhclient and dnsmasq sent", () => {
  test("dhclient's DHCPDISCOVER", () => {
    const m = decodeDhcp(hex(DNSMASQ_DHCPDISCOVER));
    assert.equal(m.op, BOOTREQUEST);
    assert.equal(m.xid, 0x346add4d);
    assert.equal(m.secs, 0);
    assert.equal(m.flags, 0);
    assert.equal(m.chaddr, "02:00:00:00:00:42");
    assert.equal(m.messageType, DHCPDISCOVER);
    assert.deepEqual(m.parameterRequestList, [1, 28, 2, 3, 15, 6, 12]);
    assert.deepEqual(m.optionOrder, [53, 55]);
    assert.equal(m.clientId, undefined);
    assert.equal(m.hostName, undefined);
  });

  test("dnsmasq's DHCPOFFER and DHCPACK", () => {
    for (const [fixture, type] of [[DNSMASQ_DHCPOFFER, DHCPOFFER], [DNSMASQ_DHCPACK, DHCPACK]] as const) {
      const m = decodeDhcp(hex(fixture));
      assert.equal(m.op, BOOTREPLY);
      assert.equal(m.messageType, type);
      assert.equal(m.yiaddr, "10.77.0.14");
      assert.equal(m.siaddr, "10.77.0.1");
      assert.equal(m.serverId, "10.77.0.1");
      assert.equal(m.leaseSeconds, 3600);
      assert.equal(m.renewalSeconds, 1800);
      assert.equal(m.rebindingSeconds, 3150);
      assert.equal(m.subnetMask, "255.255.255.0");
      assert.equal(m.broadcastAddress, "10.77.0.255");
      assert.deepEqual(m.routers, ["10.77.0.1"]);
      assert.deepEqual(m.dnsServers, ["10.77.0.1"]);
      assert.deepEqual(m.optionOrder, [53, 54, 51, 58, 59, 1, 28, 6, 3]);
    }
  });

  test("dhclient's DHCPREQUEST and dnsmasq's DHCPNAK", () => {
    const r = decodeDhcp(hex(DNSMASQ_DHCPREQUEST));
    assert.equal(r.messageType, DHCPREQUEST);
    assert.equal(r.serverId, "10.77.0.1");
    assert.equal(r.requestedIp, "10.77.0.14");
    assert.equal(r.secs, 1);
    assert.deepEqual(r.optionOrder, [53, 54, 50, 55]);
    const n = decodeDhcp(hex(DNSMASQ_DHCPNAK));
    assert.equal(n.messageType, DHCPNAK);
    assert.equal(n.flags, DHCP_FLAG_BROADCAST);
    assert.equal(n.yiaddr, "0.0.0.0");
    assert.equal(n.message, "address in use");
    assert.deepEqual(n.optionOrder, [53, 54, 56]);
  });

  test("encodeDhcp writes every captured message back byte for byte", () => {
    for (
      const fixture of [
        DNSMASQ_DHCPDISCOVER,
        DNSMASQ_DHCPOFFER,
        DNSMASQ_DHCPREQUEST,
        DNSMASQ_DHCPACK,
        DNSMASQ_DHCPNAK,
      ]
    ) {
      assert.deepEqual(encodeDhcp(decodeDhcp(hex(fixture))), hex(fixture));
    }
  });

  test("message type names are tshark's", () => {
    assert.deepEqual([1, 2, 3, 4, 5, 6, 7, 8, 9].map(dhcpMessageTypeName), [
      "Discover",
      "Offer",
      "Request",
      "Decline",
      "ACK",
      "NAK",
      "Release",
      "Inform",
      undefined,
    ]);
  });
});

describe("encodeDhcp and decodeDhcp round trip", () => {
  test("every field and option, unknown options kept", () => {
    const msg: DhcpMessage = {
      op: BOOTREPLY,
      htype: 1,
      hlen: 6,
      hops: 1,
      xid: 0xffffffff,
      secs: 65535,
      flags: DHCP_FLAG_BROADCAST,
      ciaddr: "10.0.0.3",
      yiaddr: "10.0.0.4",
      siaddr: "10.0.0.5",
      giaddr: "10.0.0.6",
      chaddr: "52:54:00:12:34:56",
      sname: "srv",
      file: "boot/pxe",
      messageType: DHCPACK,
      subnetMask: "255.255.0.0",
      routers: ["10.0.0.1", "10.0.0.2"],
      dnsServers: ["10.0.0.53"],
      hostName: "web1",
      broadcastAddress: "10.0.255.255",
      requestedIp: "10.0.0.4",
      leaseSeconds: 0xffffffff,
      serverId: "10.0.0.1",
      parameterRequestList: [1, 3, 6],
      message: "ok",
      renewalSeconds: 100,
      rebindingSeconds: 175,
      clientId: Uint8Array.of(1, 0x52, 0x54, 0, 0x12, 0x34, 0x56),
      otherOptions: [{ code: 15, data: new TextEncoder().encode("lab") }],
    };
    const bytes = encodeDhcp(msg);
    const back = decodeDhcp(bytes);
    delete back.optionOrder;
    assert.deepEqual(back, msg);
  });

  test("a message longer than 300 bytes is not padded; minBytes 0 gives the shortest", () => {
    const big = encodeDhcp({ op: 1, xid: 1, chaddr: "02:00:00:00:00:01", hostName: "h".repeat(200) });
    assert.equal(big.length, 240 + 202 + 1);
    assert.equal(encodeDhcp({ op: 1, xid: 1, chaddr: "02:00:00:00:00:01" }, { minBytes: 0 }).length, 241);
  });

  test("an option given twice is concatenated (RFC 3396)", () => {
    const bytes = encodeDhcp({
      op: 2,
      xid: 1,
      chaddr: "02:00:00:00:00:01",
      otherOptions: [{ code: 3, data: Uint8Array.of(10, 0, 0, 1) }, {
        code: 3,
        data: Uint8Array.of(10, 0, 0, 2),
      }],
    });
    assert.deepEqual(decodeDhcp(bytes).routers, ["10.0.0.1", "10.0.0.2"]);
  });

  test("property: random messages round trip", () => {
    const ip = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((o) => o.join("."));
    const mac = fc.uint8Array({ minLength: 6, maxLength: 6 }).map((b) =>
      [...b].map((x) => x.toString(16).padStart(2, "0")).join(":")
    );
    fc.assert(fc.property(
      fc.record({
        op: fc.constantFrom(1, 2),
        xid: fc.nat(0xffffffff),
        secs: fc.nat(0xffff),
        flags: fc.nat(0xffff),
        yiaddr: ip,
        chaddr: mac,
        messageType: fc.integer({ min: 1, max: 8 }),
        routers: fc.array(ip, { minLength: 1, maxLength: 5 }),
        leaseSeconds: fc.nat(0xffffffff),
        parameterRequestList: fc.array(fc.nat(255), { minLength: 1, maxLength: 20 }),
      }),
      (msg) => {
        const back = decodeDhcp(encodeDhcp(msg));
        for (const key of Object.keys(msg) as (keyof typeof msg)[]) assert.deepEqual(back[key], msg[key]);
      },
    ));
  });
});

describe("decodeDhcp refuses malformed messages", () => {
  const good = hex(DNSMASQ_DHCPOFFER);
  const withOptions = (...opts: number[]) => {
    const b = new Uint8Array(240 + opts.length);
    b.set(good.subarray(0, 240));
    b.set(opts, 240);
    return b;
  };

  test("too short, wrong op, hlen, magic cookie, slice out of the buffer", () => {
    assert.throws(() => decodeDhcp(good.subarray(0, 239)), {
      name: "RangeError",
      message: "Cannot decode a DHCP message: 239 bytes, at least 240 needed (BOOTP header and magic cookie)",
    });
    const op = good.slice();
    op[0] = 3;
    assert.throws(() => decodeDhcp(op), { name: "SyntaxError", message: /op 3 is neither 1/ });
    const hlen = good.slice();
    hlen[2] = 17;
    assert.throws(() => decodeDhcp(hlen), { name: "SyntaxError", message: /hlen 17/ });
    const cookie = good.slice();
    cookie[236] = 0;
    assert.throws(() => decodeDhcp(cookie), {
      name: "SyntaxError",
      message: "Cannot decode a DHCP message: magic cookie 0x00825363 is not 0x63825363",
    });
    assert.throws(() => decodeDhcp(good, 10, 300), RangeError);
  });

  test("options: overrun, missing length, missing end, bad lengths and values", () => {
    assert.throws(() => decodeDhcp(withOptions(53, 5, 1)), {
      name: "RangeError",
      message: "Cannot decode a DHCP message: option 53 at byte 240 says 5 bytes, only 1 left",
    });
    assert.throws(() => decodeDhcp(withOptions(0, 0, 53)), {
      name: "RangeError",
      message: /has no length byte/,
    });
    assert.throws(() => decodeDhcp(withOptions(53, 1, 1)), {
      name: "SyntaxError",
      message: "Cannot decode a DHCP message: the options have no end option (255)",
    });
    assert.throws(() => decodeDhcp(withOptions(53, 1, 9, 255)), {
      name: "SyntaxError",
      message: /message type 9/,
    });
    assert.throws(() => decodeDhcp(withOptions(53, 2, 1, 1, 255)), {
      name: "SyntaxError",
      message: "Cannot decode a DHCP message: option 53 has 2 bytes, 1 expected",
    });
    assert.throws(() => decodeDhcp(withOptions(3, 3, 1, 2, 3, 255)), {
      name: "SyntaxError",
      message: /multiple of 4/,
    });
    assert.throws(() => decodeDhcp(withOptions(51, 2, 1, 2, 255)), SyntaxError);
    assert.throws(() => decodeDhcp(withOptions(55, 0, 255)), {
      name: "SyntaxError",
      message: /option 55 is empty/,
    });
    assert.throws(() => decodeDhcp(withOptions(61, 1, 1, 255)), {
      name: "SyntaxError",
      message: /option 61/,
    });
    // pad bytes anywhere are fine, and bytes after the end option are ignored (they are padding)
    assert.equal(decodeDhcp(withOptions(0, 53, 1, 1, 0, 255, 7, 7)).messageType, 1);
  });

  test("property: any bytes decode or throw RangeError/SyntaxError", () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 400 }), (b) => decodesOrThrowsCleanly(b)), {
      numRuns: 2000,
    });
  });

  test("property: any message with a valid header and random options decodes or throws cleanly", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 120 }), (opts) => decodesOrThrowsCleanly(withOptions(...opts))),
      { numRuns: 5000 },
    );
  });

  test("property: dnsmasq's offer with random bytes changed decodes or throws cleanly", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(299), fc.nat(255)), { maxLength: 8 }), (changes) => {
        const b = good.slice();
        for (const [at, v] of changes) b[at] = v;
        decodesOrThrowsCleanly(b);
      }),
      { numRuns: 3000 },
    );
  });
});

describe("encodeDhcp refuses what does not fit", () => {
  test("fields out of range, a wrong chaddr, a long option, a bad address", () => {
    const base = { op: 1, xid: 1, chaddr: "02:00:00:00:00:01" };
    assert.throws(() => encodeDhcp({ ...base, xid: 2 ** 32 }), {
      name: "RangeError",
      message:
        "Cannot encode a DHCP message: 'xid' must be an integer in [0, 4294967295]: current value is 4294967296",
    });
    assert.throws(() => encodeDhcp({ ...base, secs: -1 }), RangeError);
    assert.throws(() => encodeDhcp({ ...base, chaddr: "02:00" }), {
      name: "RangeError",
      message: /chaddr '02:00'/,
    });
    assert.throws(() => encodeDhcp({ ...base, hostName: "x".repeat(256) }), RangeError);
    assert.throws(() => encodeDhcp({ ...base, sname: "x".repeat(64) }), RangeError);
    assert.throws(() => encodeDhcp({ ...base, routers: ["10.0.0.256"] }), SyntaxError);
    assert.throws(
      () => encodeDhcp({ ...base, otherOptions: [{ code: 255, data: new Uint8Array(0) }] }),
      RangeError,
    );
  });
});
