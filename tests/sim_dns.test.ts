/**
 * sim/dns_server.ts, message by message: answers equal to dnsmasq 2.90's own (tests/_fixtures/dnsmasq.ts)
 * for A queries, case, other types, unknown names with and without `--local=/lab/`; what it drops; and a
 * query and its answer in a pcap file decoded by tshark.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { nodeRunner, which } from "../lib/exec.ts";
import {
  decodeDns,
  DNS_RCODE_NOERROR,
  DNS_RCODE_NOTIMP,
  DNS_RCODE_NXDOMAIN,
  DNS_RCODE_REFUSED,
  DNS_TYPE_A,
  DNS_TYPE_AAAA,
  DNS_TYPE_ANY,
  DNS_TYPE_MX,
  encodeDns,
} from "../lib/wire/dns.ts";
import { encodeFrame, udpDatagram } from "../lib/wire/frame.ts";
import { encodePcap } from "../lib/wire/pcap.ts";
import { DnsServer } from "../sim/dns_server.ts";
import { DNSMASQ_DNS } from "./_fixtures/dnsmasq.ts";

function hex(s: string): Uint8Array {
  return Uint8Array.from(s.match(/../g)!, (b) => parseInt(b, 16));
}

/** The query the fixtures answered: id 0x1234, RD, class IN. */
function query(
  name: string,
  type: number,
  extra: { id?: number; opcode?: number; class?: number } = {},
): Uint8Array {
  return encodeDns({
    id: extra.id ?? 0x1234,
    rd: true,
    opcode: extra.opcode ?? 0,
    questions: [{ name, type, class: extra.class ?? 1 }],
  });
}

const RECORDS = { "web.lab": ["10.77.0.5"], "db.lab": ["10.77.0.6"] };

describe("DnsServer answers as dnsmasq 2.90 (no upstream) did, byte for byte", () => {
  test("an A query for a known name: NOERROR, AA, TTL 0, the owner name a pointer", () => {
    const dns = new DnsServer({ records: RECORDS });
    assert.deepEqual(dns.answer(query("web.lab", DNS_TYPE_A))!.payload, hex(DNSMASQ_DNS.A));
  });

  test("names match in any case, and the question comes back as asked", () => {
    const dns = new DnsServer({ records: { "Web.LAB.": ["10.77.0.5"] } });
    assert.deepEqual(dns.answer(query("WEB.Lab", DNS_TYPE_A))!.payload, hex(DNSMASQ_DNS.A_CASE));
  });

  test("without local domains: another type of a known name and unknown names are REFUSED", () => {
    const dns = new DnsServer({ records: RECORDS });
    assert.deepEqual(dns.answer(query("web.lab", DNS_TYPE_AAAA))!.payload, hex(DNSMASQ_DNS.AAAA_REFUSED));
    assert.deepEqual(dns.answer(query("nope.lab", DNS_TYPE_A))!.payload, hex(DNSMASQ_DNS.UNKNOWN_REFUSED));
    assert.equal(dns.answer(query("example.com", DNS_TYPE_A))!.message.rcode, DNS_RCODE_REFUSED);
  });

  test("with localDomains ['lab']: NXDOMAIN for unknown names there, NOERROR and no answer for other types", () => {
    const dns = new DnsServer({ records: RECORDS, localDomains: ["lab"] });
    assert.deepEqual(dns.answer(query("nope.lab", DNS_TYPE_A))!.payload, hex(DNSMASQ_DNS.LOCAL_NXDOMAIN));
    assert.deepEqual(dns.answer(query("web.lab", DNS_TYPE_AAAA))!.payload, hex(DNSMASQ_DNS.LOCAL_NODATA));
    assert.equal(dns.answer(query("web.lab", DNS_TYPE_MX))!.message.rcode, DNS_RCODE_NOERROR);
    // outside the local domain: still REFUSED
    assert.equal(dns.answer(query("nope", DNS_TYPE_A))!.message.rcode, DNS_RCODE_REFUSED);
    assert.equal(dns.answer(query("example.com", DNS_TYPE_A))!.message.rcode, DNS_RCODE_REFUSED);
    assert.equal(dns.answer(query("a.b.lab", DNS_TYPE_A))!.message.rcode, DNS_RCODE_NXDOMAIN);
  });
});

describe("DnsServer", () => {
  test("several addresses of a name, in order; ANY gets the A records", () => {
    const dns = new DnsServer({ records: new Map([["web.lab", ["10.0.0.1", "10.0.0.2"]]]) });
    const m = decodeDns(dns.answer(query("web.lab", DNS_TYPE_ANY, { id: 7 }))!.payload);
    assert.equal(m.id, 7);
    assert.equal(m.aa, true);
    assert.deepEqual(m.answers!.map((a) => [a.name, a.type, a.ttl, a.address]), [
      ["web.lab", 1, 0, "10.0.0.1"],
      ["web.lab", 1, 0, "10.0.0.2"],
    ]);
  });

  test("the same name given twice (different case) merges its addresses; ttl is configurable", () => {
    const dns = new DnsServer({ records: { "a.lab": ["10.0.0.1"], "A.lab": ["10.0.0.2"] }, ttl: 30 });
    const m = decodeDns(dns.answer(query("a.lab", DNS_TYPE_A))!.payload);
    assert.deepEqual(m.answers!.map((a) => [a.address, a.ttl]), [["10.0.0.1", 30], ["10.0.0.2", 30]]);
  });

  test("RD is copied, RA always set", () => {
    const dns = new DnsServer({ records: RECORDS });
    const noRd = encodeDns({ id: 1, questions: [{ name: "web.lab", type: DNS_TYPE_A }] });
    const m = decodeDns(dns.answer(noRd)!.payload);
    assert.deepEqual([m.qr, m.rd, m.ra, m.aa], [true, false, true, true]);
  });

  test("responses and unreadable messages get nothing", () => {
    const dns = new DnsServer({ records: RECORDS });
    assert.equal(dns.answer(hex(DNSMASQ_DNS.A)), undefined);
    assert.equal(dns.answer(new Uint8Array(5)), undefined);
  });

  test("another opcode is NOTIMP; another class, no question or two questions are REFUSED", () => {
    const dns = new DnsServer({ records: RECORDS });
    const status = dns.answer(query("web.lab", DNS_TYPE_A, { opcode: 2 }))!.message;
    assert.deepEqual([status.rcode, status.opcode, status.aa], [DNS_RCODE_NOTIMP, 2, undefined]);
    assert.equal(dns.answer(encodeDns({ id: 1 }))!.message.rcode, DNS_RCODE_REFUSED);
    assert.equal(dns.answer(query("web.lab", DNS_TYPE_A, { class: 3 }))!.message.rcode, DNS_RCODE_REFUSED);
    const two = encodeDns({
      id: 1,
      questions: [{ name: "web.lab", type: DNS_TYPE_A }, { name: "db.lab", type: DNS_TYPE_A }],
    });
    assert.equal(dns.answer(two)!.message.rcode, DNS_RCODE_REFUSED);
  });

  test("property: mutated queries and random bytes never make it throw; every reply decodes", () => {
    const dns = new DnsServer({ records: RECORDS, localDomains: ["lab"] });
    const good = query("web.lab", DNS_TYPE_A);
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(good.length - 1), fc.nat(255)), { maxLength: 6 }),
        fc.uint8Array({ maxLength: 64 }),
        (changes, noise) => {
          const b = good.slice();
          for (const [at, v] of changes) b[at] = v;
          for (const bytes of [b, noise]) {
            const a = dns.answer(bytes);
            if (a !== undefined) assert.equal(decodeDns(a.payload).qr, true);
          }
        },
      ),
      { numRuns: 5000 },
    );
  });

  test("bad configuration is refused", () => {
    assert.throws(() => new DnsServer({ records: { "a.lab": ["10.0.0.300"] } }), SyntaxError);
    assert.throws(() => new DnsServer({ records: { "a..lab": ["10.0.0.1"] } }), RangeError);
    assert.throws(() => new DnsServer({ records: {}, ttl: -1 }), RangeError);
  });
});

const requireReal = (process.env.CI ?? "") !== "" || process.env.LABWIRE_REQUIRE_REAL === "1";
const tsharkSkip = which("tshark") !== undefined || requireReal
  ? false
  : "needs tshark (apt-get install tshark); set LABWIRE_REQUIRE_REAL=1 to fail instead";

describe("a simulated DNS exchange in a pcap file, decoded by tshark", () => {
  test("queries and answers: name, address, rcode", { skip: tsharkSkip }, async () => {
    const dns = new DnsServer({ records: RECORDS, localDomains: ["lab"] });
    const client = { mac: "02:00:00:00:00:42", ip: "10.77.0.14", port: 40000 };
    const server = { mac: "52:54:00:00:00:01", ip: "10.77.0.1", port: 53 };
    const frames: Uint8Array[] = [];
    let id = 1;
    for (
      const [name, type] of [["web.lab", DNS_TYPE_A], ["nope.lab", DNS_TYPE_A], [
        "example.com",
        DNS_TYPE_A,
      ]] as const
    ) {
      const q = query(name, type, { id: id++ });
      frames.push(encodeFrame(udpDatagram({
        srcMac: client.mac,
        dstMac: server.mac,
        srcIp: client.ip,
        dstIp: server.ip,
        srcPort: client.port,
        dstPort: server.port,
        data: q,
      })));
      const a = dns.answer(q)!;
      frames.push(encodeFrame(udpDatagram({
        srcMac: server.mac,
        dstMac: client.mac,
        srcIp: server.ip,
        dstIp: client.ip,
        srcPort: server.port,
        dstPort: client.port,
        data: a.payload,
      })));
    }
    const dir = mkdtempSync(path.join(os.tmpdir(), "labwire-dns-"));
    try {
      const file = path.join(dir, "dns.pcap");
      writeFileSync(
        file,
        encodePcap(frames.map((data, i) => ({ timeNs: i * 1_000_000, origLen: data.length, data }))),
      );
      const result = await nodeRunner.run(
        [
          "tshark",
          "-r",
          file,
          "-T",
          "fields",
          "-e",
          "dns.flags.response",
          "-e",
          "dns.qry.name",
          "-e",
          "dns.a",
          "-e",
          "dns.flags.rcode",
          "-e",
          "dns.flags.authoritative",
          "-e",
          "_ws.expert",
        ],
        { timeoutMs: 60_000 },
      );
      assert.equal(result.code, 0, result.stderr);
      assert.deepEqual(result.stdout.split("\n").slice(0, -1), [
        // a query has no rcode field for tshark; 0/1 are false/true
        "0\tweb.lab\t\t\t\t",
        "1\tweb.lab\t10.77.0.5\t0\t1\t",
        "0\tnope.lab\t\t\t\t",
        "1\tnope.lab\t\t3\t0\t",
        "0\texample.com\t\t\t\t",
        "1\texample.com\t\t5\t0\t",
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
