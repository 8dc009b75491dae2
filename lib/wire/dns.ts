// Runtime-neutral.
/**
 * DNS messages (RFC 1035) as UDP payloads: {@linkcode decodeDns} reads the header, the questions and the
 * resource records of the three other sections, following name compression pointers (each must point
 * before the name that uses it, so that no pointer chain can loop); {@linkcode encodeDns} writes a message
 * back, compressing names that repeat an earlier name or its suffix, as dnsmasq does (an answer's name
 * is a pointer to the question's, `c0 0c`).
 *
 * Names are text without the final dot (the root is `""`); a label byte outside `!`-`~`, a `.` or a `\`
 * inside a label is written `\DDD` (decimal), as dig prints it, and read back so. An A record's data is
 * also given as `address`; every other record's data is kept as bytes (names inside them, as in CNAME or
 * NS, are not decompressed).
 *
 * @module
 */

import { ipv4FromString, ipv4ToString } from "./frame.ts";

/** The UDP port DNS servers listen on. */
export const DNS_PORT = 53;
/** Bytes of the DNS header. */
export const DNS_HEADER_BYTES = 12;
/** The longest name on the wire, length bytes and the root's 0 included (RFC 1035 2.3.4). */
export const DNS_NAME_MAX_BYTES = 255;
/** The longest label. */
export const DNS_LABEL_MAX_BYTES = 63;

/** Type A: an IPv4 address. */
export const DNS_TYPE_A = 1;
/** Type NS. */
export const DNS_TYPE_NS = 2;
/** Type CNAME. */
export const DNS_TYPE_CNAME = 5;
/** Type SOA. */
export const DNS_TYPE_SOA = 6;
/** Type PTR. */
export const DNS_TYPE_PTR = 12;
/** Type MX. */
export const DNS_TYPE_MX = 15;
/** Type TXT. */
export const DNS_TYPE_TXT = 16;
/** Type AAAA: an IPv6 address. */
export const DNS_TYPE_AAAA = 28;
/** Type OPT (EDNS, RFC 6891). */
export const DNS_TYPE_OPT = 41;
/** Query type ANY (`*`). */
export const DNS_TYPE_ANY = 255;
/** Class IN. */
export const DNS_CLASS_IN = 1;

/** Opcode QUERY. */
export const DNS_OPCODE_QUERY = 0;
/** RCODE NOERROR. */
export const DNS_RCODE_NOERROR = 0;
/** RCODE FORMERR: the server could not read the query. */
export const DNS_RCODE_FORMERR = 1;
/** RCODE SERVFAIL. */
export const DNS_RCODE_SERVFAIL = 2;
/** RCODE NXDOMAIN: the name does not exist. */
export const DNS_RCODE_NXDOMAIN = 3;
/** RCODE NOTIMP. */
export const DNS_RCODE_NOTIMP = 4;
/** RCODE REFUSED. */
export const DNS_RCODE_REFUSED = 5;

/**
 * The name tshark gives an RCODE, or `undefined` for one labwire does not know.
 *
 * @param rcode 0-15.
 * @returns `"No error"`, `"Format error"`, `"Server failure"`, `"No such name"`, `"Not implemented"`,
 *   `"Refused"`.
 */
export function dnsRcodeName(rcode: number): string | undefined {
  switch (rcode) {
    case DNS_RCODE_NOERROR:
      return "No error";
    case DNS_RCODE_FORMERR:
      return "Format error";
    case DNS_RCODE_SERVFAIL:
      return "Server failure";
    case DNS_RCODE_NXDOMAIN:
      return "No such name";
    case DNS_RCODE_NOTIMP:
      return "Not implemented";
    case DNS_RCODE_REFUSED:
      return "Refused";
    default:
      return undefined;
  }
}

/** A question: which records of a name are asked for. */
export interface DnsQuestion {
  /** The name, e.g. `"web.lab"`. */
  name: string;
  /** Record type, e.g. {@linkcode DNS_TYPE_A}. */
  type: number;
  /** Class. @default {1} (IN) */
  class?: number;
}

/** A resource record. */
export interface DnsRecord {
  /** Owner name. */
  name: string;
  /** Record type. */
  type: number;
  /** Class (for OPT: the sender's UDP payload size). @default {1} (IN) */
  class?: number;
  /** Time to live in seconds, 0 to 2^32-1. @default {0} */
  ttl?: number;
  /** An A record's address; on write it takes the place of `data`. */
  address?: string;
  /** The record's data (RDATA). @default {new Uint8Array(0)} */
  data?: Uint8Array;
}

/** A DNS message. Flags are booleans; unset ones are false. */
export interface DnsMessage {
  /** Query ID, 0-65535. */
  id: number;
  /** A response (true) or a query. */
  qr?: boolean;
  /** Opcode, 0-15. @default {0} (QUERY) */
  opcode?: number;
  /** Authoritative answer. */
  aa?: boolean;
  /** Truncated. */
  tc?: boolean;
  /** Recursion desired. */
  rd?: boolean;
  /** Recursion available. */
  ra?: boolean;
  /** The reserved Z bit. */
  z?: boolean;
  /** Authentic data (RFC 4035). */
  ad?: boolean;
  /** Checking disabled (RFC 4035). */
  cd?: boolean;
  /** Response code, 0-15. @default {0} */
  rcode?: number;
  /** The question section. @default {[]} */
  questions?: DnsQuestion[];
  /** The answer section. @default {[]} */
  answers?: DnsRecord[];
  /** The authority section. @default {[]} */
  authorities?: DnsRecord[];
  /** The additional section. @default {[]} */
  additionals?: DnsRecord[];
}

// ---- decoding ----

/**
 * Reads a DNS message from a UDP payload.
 *
 * @param buf The bytes.
 * @param offset Where the message starts. @default {0}
 * @param length Its length. @default {buf.length - offset}
 * @returns The message, every section set (maybe empty).
 * @throws {RangeError} If the message is shorter than its header, or a name, question or record runs past
 *   its end.
 * @throws {SyntaxError} If a name has a label longer than 63, is longer than 255 bytes, uses a reserved
 *   label type or a compression pointer that does not point before it; an A record's data is not 4 bytes;
 *   or bytes follow the last record.
 */
export function decodeDns(buf: Uint8Array, offset = 0, length: number = buf.length - offset): DnsMessage {
  if (!(Number.isInteger(offset) && Number.isInteger(length) && offset >= 0 && length >= 0)) {
    throw new RangeError(
      `Cannot decode a DNS message: offset ${offset} and length ${length} must be integers >= 0`,
    );
  }
  if (offset + length > buf.length) {
    throw new RangeError(
      `Cannot decode a DNS message: ${length} bytes from offset ${offset} run past the buffer's ${buf.length}`,
    );
  }
  if (length < DNS_HEADER_BYTES) {
    throw new RangeError(`Cannot decode a DNS message: ${length} bytes, at least ${DNS_HEADER_BYTES} needed`);
  }
  const bytes = buf.subarray(offset, offset + length);
  const flags = (bytes[2]! << 8) | bytes[3]!;
  const counts = [0, 1, 2, 3].map((k) => (bytes[4 + 2 * k]! << 8) | bytes[5 + 2 * k]!);
  const msg: DnsMessage = {
    id: (bytes[0]! << 8) | bytes[1]!,
    qr: (flags & 0x8000) !== 0,
    opcode: (flags >> 11) & 0xf,
    aa: (flags & 0x0400) !== 0,
    tc: (flags & 0x0200) !== 0,
    rd: (flags & 0x0100) !== 0,
    ra: (flags & 0x0080) !== 0,
    z: (flags & 0x0040) !== 0,
    ad: (flags & 0x0020) !== 0,
    cd: (flags & 0x0010) !== 0,
    rcode: flags & 0xf,
    questions: [],
    answers: [],
    authorities: [],
    additionals: [],
  };
  let at = DNS_HEADER_BYTES;
  for (let i = 0; i < counts[0]!; i++) {
    const [name, next] = readName(bytes, at);
    if (next + 4 > length) {
      throw new RangeError(`Cannot decode a DNS message: question ${i + 1} runs past the end`);
    }
    msg.questions!.push({ name, type: u16(bytes, next), class: u16(bytes, next + 2) });
    at = next + 4;
  }
  const sections = [msg.answers!, msg.authorities!, msg.additionals!];
  const sectionNames = ["answer", "authority", "additional"];
  for (let s = 0; s < 3; s++) {
    for (let i = 0; i < counts[s + 1]!; i++) {
      const [name, next] = readName(bytes, at);
      if (next + 10 > length) {
        throw new RangeError(
          `Cannot decode a DNS message: ${sectionNames[s]} record ${i + 1} runs past the end`,
        );
      }
      const type = u16(bytes, next);
      const rdlength = u16(bytes, next + 8);
      const start = next + 10;
      if (start + rdlength > length) {
        throw new RangeError(
          `Cannot decode a DNS message: ${sectionNames[s]} record ${
            i + 1
          } says ${rdlength} data bytes, only ${length - start} left`,
        );
      }
      const data = bytes.slice(start, start + rdlength);
      const record: DnsRecord = { name, type, class: u16(bytes, next + 2), ttl: u32(bytes, next + 4), data };
      if (type === DNS_TYPE_A && record.class === DNS_CLASS_IN) {
        if (rdlength !== 4) {
          throw new SyntaxError(
            `Cannot decode a DNS message: A record of '${name}' has ${rdlength} data bytes, not 4`,
          );
        }
        record.address = ipv4ToString(u32(data, 0));
      }
      sections[s]!.push(record);
      at = start + rdlength;
    }
  }
  if (at !== length) {
    throw new SyntaxError(`Cannot decode a DNS message: ${length - at} bytes follow the last record`);
  }
  return msg;
}

/**
 * Reads a name at `at`: its text and where the bytes after it (after the first pointer, if any) start.
 * Each pointer must point strictly before the label that holds it, so the walk always ends.
 */
function readName(bytes: Uint8Array, at: number): [string, number] {
  const labels: string[] = [];
  let wire = 1; // the root's 0
  let pos = at;
  let after = -1;
  let floor = at; // a pointer must point before the start of the current run of labels
  for (;;) {
    if (pos >= bytes.length) {
      throw new RangeError(`Cannot decode a DNS message: the name at byte ${at} runs past the end`);
    }
    const len = bytes[pos]!;
    if (len === 0) {
      if (after < 0) after = pos + 1;
      break;
    }
    const kind = len & 0xc0;
    if (kind === 0xc0) {
      if (pos + 1 >= bytes.length) {
        throw new RangeError(`Cannot decode a DNS message: the pointer at byte ${pos} runs past the end`);
      }
      const target = ((len & 0x3f) << 8) | bytes[pos + 1]!;
      if (target >= floor) {
        throw new SyntaxError(
          `Cannot decode a DNS message: the pointer at byte ${pos} points to byte ${target}, not before the name (a loop)`,
        );
      }
      if (after < 0) after = pos + 2;
      pos = target;
      floor = target;
      continue;
    }
    if (kind !== 0) {
      throw new SyntaxError(
        `Cannot decode a DNS message: label type 0x${kind.toString(16)} at byte ${pos} is reserved`,
      );
    }
    if (pos + 1 + len > bytes.length) {
      throw new RangeError(`Cannot decode a DNS message: the label at byte ${pos} runs past the end`);
    }
    wire += 1 + len;
    if (wire > DNS_NAME_MAX_BYTES) {
      throw new SyntaxError(`Cannot decode a DNS message: the name at byte ${at} is longer than 255 bytes`);
    }
    labels.push(labelText(bytes.subarray(pos + 1, pos + 1 + len)));
    pos += 1 + len;
  }
  return [labels.join("."), after];
}

function labelText(label: Uint8Array): string {
  let s = "";
  for (const b of label) {
    if (b > 0x20 && b < 0x7f && b !== 0x2e && b !== 0x5c) s += String.fromCharCode(b);
    else s += "\\" + String(b).padStart(3, "0");
  }
  return s;
}

function u16(bytes: Uint8Array, i: number): number {
  return (bytes[i]! << 8) | bytes[i + 1]!;
}

function u32(bytes: Uint8Array, i: number): number {
  return ((bytes[i]! << 24) | (bytes[i + 1]! << 16) | (bytes[i + 2]! << 8) | bytes[i + 3]!) >>> 0;
}

// ---- encoding ----

/**
 * Splits a name into labels as bytes, reading `\DDD` escapes (and `\` before any other character).
 *
 * @param name E.g. `"web.lab"`; a final dot is allowed; `""` or `"."` is the root.
 * @returns The labels.
 * @throws {RangeError} If a label is empty or longer than 63 bytes, or the name longer than 255.
 * @throws {SyntaxError} If an escape is incomplete or beyond 255, or a character is beyond Latin-1.
 */
export function dnsNameLabels(name: string): Uint8Array[] {
  const labels: Uint8Array[] = [];
  if (name === "" || name === ".") return labels;
  let cur: number[] = [];
  let wire = 1;
  const end = () => {
    if (cur.length === 0) throw new RangeError(`Cannot encode DNS name '${name}': it has an empty label`);
    if (cur.length > DNS_LABEL_MAX_BYTES) {
      throw new RangeError(
        `Cannot encode DNS name '${name}': a label has ${cur.length} bytes, at most 63 fit`,
      );
    }
    wire += 1 + cur.length;
    labels.push(Uint8Array.from(cur));
    cur = [];
  };
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c === 0x2e) {
      if (i === name.length - 1) break;
      end();
    } else if (c === 0x5c) {
      const digits = name.slice(i + 1, i + 4);
      if (/^[0-9]{3}$/.test(digits)) {
        const v = Number(digits);
        if (v > 255) {
          throw new SyntaxError(`Cannot encode DNS name '${name}': escape \\${digits} is beyond 255`);
        }
        cur.push(v);
        i += 3;
      } else if (i + 1 < name.length && !/[0-9]/.test(name[i + 1]!)) {
        cur.push(name.charCodeAt(i + 1));
        i += 1;
      } else {
        throw new SyntaxError(`Cannot encode DNS name '${name}': incomplete escape at ${i}`);
      }
    } else if (c > 0xff) {
      throw new SyntaxError(`Cannot encode DNS name '${name}': character ${i} is beyond Latin-1`);
    } else {
      cur.push(c);
    }
  }
  end();
  if (wire > DNS_NAME_MAX_BYTES) {
    throw new RangeError(`Cannot encode DNS name '${name}': longer than 255 bytes`);
  }
  return labels;
}

/**
 * Writes a DNS message as a UDP payload. Names are compressed: a name, or a suffix of it, that was
 * written before (byte for byte) becomes a pointer to it.
 *
 * @param msg The message.
 * @returns The bytes.
 * @throws {RangeError} If a number is out of its field's range, a section has more than 65535 entries, a
 *   record's data is longer than 65535 bytes, or a name cannot be written (see {@linkcode dnsNameLabels}).
 * @throws {SyntaxError} If a name or an A record's address cannot be parsed.
 */
export function encodeDns(msg: DnsMessage): Uint8Array {
  const out: number[] = [];
  const seen = new Map<string, number>(); // suffix, as wire bytes in hex, -> offset
  const put16 = (v: number) => out.push((v >> 8) & 0xff, v & 0xff);
  const put32 = (v: number) => out.push((v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff);
  const putName = (name: string) => {
    const labels = dnsNameLabels(name);
    for (let i = 0; i < labels.length; i++) {
      const key = labels.slice(i).map((l) => [...l].join(",")).join("/");
      const at = seen.get(key);
      if (at !== undefined) {
        put16(0xc000 | at);
        return;
      }
      if (out.length < 0x4000) seen.set(key, out.length);
      out.push(labels[i]!.length, ...labels[i]!);
    }
    out.push(0);
  };
  const questions = msg.questions ?? [];
  const sections = [msg.answers ?? [], msg.authorities ?? [], msg.additionals ?? []];
  put16(field("id", msg.id, 0xffff));
  const opcode = field("opcode", msg.opcode ?? 0, 15);
  const rcode = field("rcode", msg.rcode ?? 0, 15);
  put16(
    (msg.qr === true ? 0x8000 : 0) | (opcode << 11) | (msg.aa === true ? 0x0400 : 0) |
      (msg.tc === true ? 0x0200 : 0) | (msg.rd === true ? 0x0100 : 0) | (msg.ra === true ? 0x0080 : 0) |
      (msg.z === true ? 0x0040 : 0) | (msg.ad === true ? 0x0020 : 0) | (msg.cd === true ? 0x0010 : 0) | rcode,
  );
  for (const list of [questions, ...sections]) put16(field("section count", list.length, 0xffff));
  for (const q of questions) {
    putName(q.name);
    put16(field("question type", q.type, 0xffff));
    put16(field("question class", q.class ?? DNS_CLASS_IN, 0xffff));
  }
  for (const list of sections) {
    for (const r of list) {
      putName(r.name);
      put16(field("record type", r.type, 0xffff));
      put16(field("record class", r.class ?? DNS_CLASS_IN, 0xffff));
      put32(field("ttl", r.ttl ?? 0, 0xffff_ffff));
      if (r.address !== undefined) {
        put16(4);
        put32(ipv4FromString(r.address));
      } else {
        const data = r.data ?? new Uint8Array(0);
        put16(field("record data length", data.length, 0xffff));
        for (const b of data) out.push(b);
      }
    }
  }
  return Uint8Array.from(out);
}

function field(name: string, value: number, max: number): number {
  if (!(Number.isInteger(value) && value >= 0 && value <= max)) {
    throw new RangeError(
      `Cannot encode a DNS message: '${name}' must be an integer in [0, ${max}]: current value is ${value}`,
    );
  }
  return value;
}
