/**
 * lib/wire/dns.ts: DNS messages read and written, against dnsmasq's own answers (tests/_fixtures/dnsmasq.ts),
 * compression pointers followed without loops, and malformed input refused with RangeError or SyntaxError.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  decodeDns,
  DNS_RCODE_NXDOMAIN,
  DNS_RCODE_REFUSED,
  DNS_TYPE_A,
  DNS_TYPE_AAAA,
  DNS_TYPE_OPT,
  type DnsMessage,
  dnsNameLabels,
  dnsRcodeName,
  encodeDns,
} from "../lib/wire/dns.ts";
import { DNSMASQ_DNS } from "./_fixtures/dnsmasq.ts";

function hex(s: string): Uint8Array {
  return Uint8Array.from(s.match(/../g)!, (b) => parseInt(b, 16));
}

function decodesOrThrowsCleanly(bytes: Uint8Array): void {
  try {
    decodeDns(bytes);
  } catch (e) {
    if (!(e instanceof RangeError || e instanceof SyntaxError)) throw e;
    assert.match(e.message, /^Cannot decode a DNS message: /);
  }
}

describe("decodeDns reads dnsmasq's answers", () => {
  test("an A answer: flags, question, a compressed owner name, TTL 0", () => {
    const m = decodeDns(hex(DNSMASQ_DNS.A));
    assert.deepEqual(m, {
      id: 0x1234,
      qr: true,
      opcode: 0,
      aa: true,
      tc: false,
      rd: true,
      ra: true,
      z: false,
      ad: false,
      cd: false,
      rcode: 0,
      questions: [{ name: "web.lab", type: DNS_TYPE_A, class: 1 }],
      answers: [{
        name: "web.lab",
        type: 1,
        class: 1,
        ttl: 0,
        data: Uint8Array.of(10, 77, 0, 5),
        address: "10.77.0.5",
      }],
      authorities: [],
      additionals: [],
    });
    assert.equal(decodeDns(hex(DNSMASQ_DNS.A_CASE)).answers![0]!.name, "WEB.Lab");
  });

  test("REFUSED and NXDOMAIN answers", () => {
    const refused = decodeDns(hex(DNSMASQ_DNS.AAAA_REFUSED));
    assert.equal(refused.rcode, DNS_RCODE_REFUSED);
    assert.equal(refused.aa, false);
    assert.deepEqual(refused.questions, [{ name: "web.lab", type: DNS_TYPE_AAAA, class: 1 }]);
    assert.equal(decodeDns(hex(DNSMASQ_DNS.LOCAL_NXDOMAIN)).rcode, DNS_RCODE_NXDOMAIN);
    assert.equal(dnsRcodeName(3), "No such name");
    assert.equal(dnsRcodeName(5), "Refused");
  });

  test("encodeDns writes each answer back byte for byte, compression included", () => {
    for (const fixture of Object.values(DNSMASQ_DNS)) {
      assert.deepEqual(encodeDns(decodeDns(hex(fixture))), hex(fixture));
    }
  });
});

describe("names", () => {
  test("escapes round trip; a final dot and the root", () => {
    const msg: DnsMessage = {
      id: 1,
      questions: [{ name: "a\\.b.c\\092d.\\000x", type: 1 }, { name: "", type: 2 }],
    };
    const back = decodeDns(encodeDns(msg));
    // "\\." is read as the byte 46 and given back as dig prints it
    assert.deepEqual(back.questions!.map((q) => q.name), ["a\\046b.c\\092d.\\000x", ""]);
    assert.deepEqual(dnsNameLabels("web.lab."), dnsNameLabels("web.lab"));
    assert.deepEqual(dnsNameLabels("."), []);
  });

  test("bad names are refused on write", () => {
    assert.throws(() => dnsNameLabels("a..b"), {
      name: "RangeError",
      message: "Cannot encode DNS name 'a..b': it has an empty label",
    });
    assert.throws(() => dnsNameLabels("x".repeat(64)), RangeError);
    assert.throws(() => dnsNameLabels(Array(128).fill("ab").join(".")), {
      name: "RangeError",
      message: /longer than 255/,
    });
    assert.throws(() => dnsNameLabels("a\\99"), SyntaxError);
    assert.throws(() => dnsNameLabels("a\\300"), SyntaxError);
    assert.throws(() => dnsNameLabels("x\u0100"), SyntaxError);
  });

  test("a repeated suffix becomes a pointer", () => {
    const bytes = encodeDns({
      id: 1,
      questions: [{ name: "www.example.com", type: 1 }],
      answers: [{ name: "mail.example.com", type: 1, address: "10.0.0.1" }],
    });
    // the answer's name: 4 "mail", then a pointer to "example.com" at 12 + 4
    const at = 12 + 17 + 4;
    assert.deepEqual([...bytes.subarray(at, at + 7)], [4, 109, 97, 105, 108, 0xc0, 16]);
    assert.equal(decodeDns(bytes).answers![0]!.name, "mail.example.com");
  });

  test("pointers that do not point back are refused: no loop can be followed", () => {
    const header = [0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0];
    // a pointer to itself
    assert.throws(() => decodeDns(Uint8Array.from([...header, 0xc0, 12, 0, 1, 0, 1])), {
      name: "SyntaxError",
      message:
        "Cannot decode a DNS message: the pointer at byte 12 points to byte 12, not before the name (a loop)",
    });
    // forward pointer
    assert.throws(() => decodeDns(Uint8Array.from([...header, 0xc0, 14, 1, 97, 0, 0, 1, 0, 1])), SyntaxError);
    // a two-pointer loop: byte 12 "a" then pointer to 17; byte 17 pointer to 12
    const loop = Uint8Array.from([...header, 1, 97, 0xc0, 17, 0, 0xc0, 12, 0, 1, 0, 1]);
    assert.throws(() => decodeDns(loop), SyntaxError);
    assert.throws(() => decodeDns(Uint8Array.from([...header, 0x40, 0, 0, 1, 0, 1])), {
      name: "SyntaxError",
      message: /reserved/,
    });
  });
});

describe("decodeDns refuses malformed messages", () => {
  const good = hex(DNSMASQ_DNS.A);
  test("short header, truncated question, record and data, trailing bytes, bad A data", () => {
    assert.throws(() => decodeDns(good.subarray(0, 11)), {
      name: "RangeError",
      message: "Cannot decode a DNS message: 11 bytes, at least 12 needed",
    });
    assert.throws(() => decodeDns(good.subarray(0, 22)), RangeError);
    assert.throws(() => decodeDns(good.subarray(0, 30)), RangeError);
    assert.throws(() => decodeDns(good.subarray(0, good.length - 1)), {
      name: "RangeError",
      message: /says 4 data bytes, only 3 left/,
    });
    assert.throws(() => decodeDns(Uint8Array.from([...good, 0])), {
      name: "SyntaxError",
      message: "Cannot decode a DNS message: 1 bytes follow the last record",
    });
    const badA = encodeDns({
      id: 1,
      answers: [{ name: "x", type: DNS_TYPE_A, data: Uint8Array.of(1, 2, 3) }],
    });
    assert.throws(() => decodeDns(badA), {
      name: "SyntaxError",
      message: /A record of 'x' has 3 data bytes/,
    });
  });

  test("an EDNS OPT record decodes as a record with raw data", () => {
    const m = decodeDns(encodeDns({ id: 2, additionals: [{ name: "", type: DNS_TYPE_OPT, class: 1232 }] }));
    assert.deepEqual(m.additionals, [{ name: "", type: 41, class: 1232, ttl: 0, data: new Uint8Array(0) }]);
  });

  test("encodeDns refuses out-of-range fields", () => {
    assert.throws(() => encodeDns({ id: 65536 }), {
      name: "RangeError",
      message: /'id' must be an integer in \[0, 65535\]/,
    });
    assert.throws(() => encodeDns({ id: 1, rcode: 16 }), RangeError);
    assert.throws(
      () => encodeDns({ id: 1, answers: [{ name: "a", type: 1, address: "1.2.3" }] }),
      SyntaxError,
    );
  });

  test("property: any bytes decode or throw RangeError/SyntaxError", () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (b) => decodesOrThrowsCleanly(b)), {
      numRuns: 3000,
    });
  });

  test("property: dnsmasq's answer with random bytes changed decodes or throws cleanly", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(good.length - 1), fc.nat(255)), { maxLength: 6 }), (changes) => {
        const b = good.slice();
        for (const [at, v] of changes) b[at] = v;
        decodesOrThrowsCleanly(b);
      }),
      { numRuns: 5000 },
    );
  });

  test("property: random messages round trip", () => {
    const label = fc.stringMatching(/^[a-z0-9-]{1,10}$/);
    const name = fc.array(label, { minLength: 0, maxLength: 4 }).map((l) => l.join("."));
    const ip = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((o) => o.join("."));
    fc.assert(fc.property(
      fc.nat(0xffff),
      fc.array(fc.record({ name, type: fc.nat(0xffff) }), { maxLength: 3 }),
      fc.array(fc.record({ name, ip, ttl: fc.nat(0xffffffff) }), { maxLength: 4 }),
      (id, qs, as) => {
        const msg: DnsMessage = {
          id,
          qr: true,
          rcode: 3,
          questions: qs.map((q) => ({ name: q.name, type: q.type })),
          answers: as.map((a) => ({ name: a.name, type: DNS_TYPE_A, ttl: a.ttl, address: a.ip })),
        };
        const back = decodeDns(encodeDns(msg));
        assert.equal(back.id, id);
        assert.deepEqual(back.questions!.map((q) => [q.name, q.type]), qs.map((q) => [q.name, q.type]));
        assert.deepEqual(
          back.answers!.map((a) => [a.name, a.address, a.ttl]),
          as.map((a) => [a.name, a.ip, a.ttl]),
        );
      },
    ));
  });
});
