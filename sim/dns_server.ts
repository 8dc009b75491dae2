// Runtime-neutral.
/**
 * A DNS responder for the simulator that answers like dnsmasq 2.90 run with `--no-resolv --no-hosts`
 * (no upstream server) and one `--host-record=<name>,<ip>` per record, as the real backend's router
 * container runs it. It is a protocol engine only: {@linkcode DnsServer.answer} takes the UDP payload of a
 * query that arrived on port 53 and returns the payload to send back (to the query's source address and
 * port), or `undefined` to send nothing.
 *
 * What it copies from dnsmasq, measured on this machine (tests/_fixtures/dnsmasq.ts):
 * - a query of type A or ANY for a name it has: NOERROR, AA and RA set, RD copied, one A answer per
 *   address with TTL 0 (dnsmasq's `local-ttl` default), the owner name a pointer to the question's;
 * - names match without regard to ASCII case, and the question comes back as it was asked;
 * - anything else, an unknown name or another type of a known name (AAAA, MX...): dnsmasq would forward
 *   it, has no server to forward to, and answers REFUSED (QR, RD copied, RA, no AA);
 * - with `localDomains` (dnsmasq's `--local=/<domain>/`): inside such a domain an unknown name gets
 *   NXDOMAIN and another type of a known name NOERROR with no answer (neither has AA);
 * - another opcode than QUERY gets NOTIMP, a query with no question or several REFUSED (forward.c
 *   receive_query(): `flags = F_RCODE`, rendered NOTIMP by setup_reply(); extract_request() refuses
 *   `qdcount != 1`, and setup_reply()'s "nowhere to forward to" branch answers REFUSED, read in dnsmasq
 *   2.9x's source); a response, or a message that cannot be read, is dropped.
 *
 * Where it differs: dnsmasq rotates the order of several addresses of a name from one answer to the
 * next, this responder always gives them in the configured order; queries with EDNS get no OPT record
 * back; a query whose header can be read but not its question is dropped, where dnsmasq answers it
 * REFUSED.
 *
 * @module
 */

import {
  decodeDns,
  DNS_CLASS_IN,
  DNS_OPCODE_QUERY,
  DNS_RCODE_NOERROR,
  DNS_RCODE_NOTIMP,
  DNS_RCODE_NXDOMAIN,
  DNS_RCODE_REFUSED,
  DNS_TYPE_A,
  DNS_TYPE_ANY,
  type DnsMessage,
  dnsNameLabels,
  type DnsRecord,
  encodeDns,
} from "../lib/wire/dns.ts";
import { ipv4FromString } from "../lib/wire/frame.ts";

/** The TTL of answers: dnsmasq's `local-ttl` default. */
export const DNS_LOCAL_TTL = 0;

/** Options for {@linkcode DnsServer}. */
export interface DnsServerOptions {
  /** Name to IPv4 addresses (names in any case, a final dot allowed). */
  records: Readonly<Record<string, readonly string[]>> | ReadonlyMap<string, readonly string[]>;
  /** Domains answered locally (dnsmasq's `--local=/<domain>/`), e.g. `["lab"]`. @default {[]} */
  localDomains?: readonly string[];
  /** TTL of the answers in seconds. @default {0} */
  ttl?: number;
}

/** What a query got, for a caller that logs or counts: the reply decoded. */
export interface DnsAnswer {
  /** The reply's bytes. */
  payload: Uint8Array;
  /** The reply, decoded. */
  message: DnsMessage;
}

/**
 * A DNS responder for A records; see the module for what it copies from dnsmasq.
 */
export class DnsServer {
  #records = new Map<string, string[]>();
  #local: string[];
  #ttl: number;

  /**
   * @param options The records, local domains and TTL.
   * @throws {SyntaxError} If an address cannot be parsed or a name has a bad escape.
   * @throws {RangeError} If a name cannot be a DNS name, or the TTL is not an integer in [0, 2^31).
   */
  constructor(options: DnsServerOptions) {
    const entries = options.records instanceof Map
      ? [...options.records]
      : Object.entries(options.records as Record<string, readonly string[]>);
    for (const [name, ips] of entries) {
      dnsNameLabels(name);
      for (const ip of ips) ipv4FromString(ip);
      const key = canonical(name);
      this.#records.set(key, [...(this.#records.get(key) ?? []), ...ips]);
    }
    this.#local = (options.localDomains ?? []).map((d) => {
      dnsNameLabels(d);
      return canonical(d);
    });
    const ttl = options.ttl ?? DNS_LOCAL_TTL;
    if (!(Number.isInteger(ttl) && ttl >= 0 && ttl < 2 ** 31)) {
      throw new RangeError(
        `Cannot configure the DNS server: 'ttl' must be an integer in [0, 2^31): current value is ${ttl}`,
      );
    }
    this.#ttl = ttl;
  }

  /**
   * Answers a query.
   *
   * @param payload The UDP payload that arrived on port 53.
   * @returns The reply, or `undefined` when nothing is to be sent.
   */
  answer(payload: Uint8Array): DnsAnswer | undefined {
    let query: DnsMessage;
    try {
      query = decodeDns(payload);
    } catch {
      return undefined;
    }
    if (query.qr === true) return undefined;
    const q = query.questions![0];
    const reply: DnsMessage = {
      id: query.id,
      qr: true,
      opcode: query.opcode ?? 0,
      rd: query.rd === true,
      ra: true,
      cd: query.cd === true,
      rcode: query.opcode === DNS_OPCODE_QUERY ? DNS_RCODE_REFUSED : DNS_RCODE_NOTIMP,
      questions: query.questions!,
    };
    const plain = query.opcode === DNS_OPCODE_QUERY && query.questions!.length === 1 && q !== undefined &&
      (q.class ?? DNS_CLASS_IN) === DNS_CLASS_IN;
    if (plain) {
      const key = canonical(q!.name);
      const ips = this.#records.get(key);
      if (ips !== undefined && (q!.type === DNS_TYPE_A || q!.type === DNS_TYPE_ANY)) {
        reply.aa = true;
        reply.rcode = DNS_RCODE_NOERROR;
        reply.answers = ips.map((address): DnsRecord => ({
          name: q!.name,
          type: DNS_TYPE_A,
          class: DNS_CLASS_IN,
          ttl: this.#ttl,
          address,
        }));
      } else if (this.#local.some((d) => d === "" || key === d || key.endsWith(`.${d}`))) {
        reply.rcode = ips === undefined ? DNS_RCODE_NXDOMAIN : DNS_RCODE_NOERROR;
      }
    }
    const bytes = encodeDns(reply);
    return { payload: bytes, message: reply };
  }
}

/** A name in the form records are kept under: ASCII lowercase, no final dot. */
function canonical(name: string): string {
  const n = name.endsWith(".") && name !== "." ? name.slice(0, -1) : name === "." ? "" : name;
  return n.replace(/[A-Z]/g, (c) => c.toLowerCase());
}
