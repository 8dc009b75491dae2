// Runtime-neutral.
/**
 * DHCP messages (RFC 2131, options RFC 2132) as UDP payloads: {@linkcode decodeDhcp} reads the BOOTP
 * header, the magic cookie and the options into a typed {@linkcode DhcpMessage}; {@linkcode encodeDhcp}
 * writes one back, padded to BOOTP's 300 bytes as dhclient and dnsmasq send them.
 *
 * Options labwire reads into fields: 1 subnet mask, 3 routers, 6 DNS servers, 12 host name, 28 broadcast
 * address, 50 requested address, 51 lease time, 53 message type, 54 server identifier, 55 parameter
 * request list, 56 message, 58 renewal (T1) time, 59 rebinding (T2) time, 61 client identifier. Any
 * other option is kept as bytes in `otherOptions`. An option given twice is concatenated before it is
 * read (RFC 3396). Option overload (52: options in `sname` and `file`) is not followed: 52 is kept as an
 * other option and `sname`/`file` are read as strings.
 *
 * Encoding writes the options in dnsmasq's order (53, 54, 51, 58, 59, 1, 28, 6, 3), then 50, 55, 61, 12,
 * 56 (dhclient's REQUEST order is 53, 54, 50, 55), then the other options, then the end option 255.
 *
 * @module
 */

import { ipv4FromString, ipv4ToString } from "./frame.ts";

/** The UDP port DHCP servers listen on. */
export const DHCP_SERVER_PORT = 67;
/** The UDP port DHCP clients listen on. */
export const DHCP_CLIENT_PORT = 68;
/** The 4 bytes after the BOOTP header that say "DHCP options follow" (RFC 2131 3). */
export const DHCP_MAGIC_COOKIE = 0x63825363;
/** Bytes of the fixed BOOTP header (RFC 951), before the magic cookie. */
export const BOOTP_HEADER_BYTES = 236;
/** The shortest DHCP message: the BOOTP header and the magic cookie. */
export const DHCP_MIN_BYTES = BOOTP_HEADER_BYTES + 4;
/** BOOTP's minimum message size (RFC 951): dhclient and dnsmasq pad their messages with zeros to it. */
export const BOOTP_MIN_MESSAGE_BYTES = 300;
/** `op` of a message from a client. */
export const BOOTREQUEST = 1;
/** `op` of a message from a server. */
export const BOOTREPLY = 2;
/** The broadcast bit of `flags`: the client cannot receive unicast before it has an address. */
export const DHCP_FLAG_BROADCAST = 0x8000;
/** `htype` of Ethernet. */
export const DHCP_HTYPE_ETHERNET = 1;

/** DHCPDISCOVER (option 53 value). */
export const DHCPDISCOVER = 1;
/** DHCPOFFER. */
export const DHCPOFFER = 2;
/** DHCPREQUEST. */
export const DHCPREQUEST = 3;
/** DHCPDECLINE. */
export const DHCPDECLINE = 4;
/** DHCPACK. */
export const DHCPACK = 5;
/** DHCPNAK. */
export const DHCPNAK = 6;
/** DHCPRELEASE. */
export const DHCPRELEASE = 7;
/** DHCPINFORM. */
export const DHCPINFORM = 8;

/** Option 0: one byte of padding. */
export const DHCP_OPT_PAD = 0;
/** Option 1: subnet mask. */
export const DHCP_OPT_SUBNET_MASK = 1;
/** Option 3: routers. */
export const DHCP_OPT_ROUTER = 3;
/** Option 6: DNS servers. */
export const DHCP_OPT_DNS = 6;
/** Option 12: host name. */
export const DHCP_OPT_HOST_NAME = 12;
/** Option 28: broadcast address. */
export const DHCP_OPT_BROADCAST = 28;
/** Option 50: requested IP address. */
export const DHCP_OPT_REQUESTED_IP = 50;
/** Option 51: lease time in seconds. */
export const DHCP_OPT_LEASE_TIME = 51;
/** Option 53: DHCP message type. */
export const DHCP_OPT_MESSAGE_TYPE = 53;
/** Option 54: server identifier. */
export const DHCP_OPT_SERVER_ID = 54;
/** Option 55: parameter request list. */
export const DHCP_OPT_PARAMETER_LIST = 55;
/** Option 56: message (a NAK's reason). */
export const DHCP_OPT_MESSAGE = 56;
/** Option 58: renewal (T1) time in seconds. */
export const DHCP_OPT_RENEWAL_TIME = 58;
/** Option 59: rebinding (T2) time in seconds. */
export const DHCP_OPT_REBINDING_TIME = 59;
/** Option 61: client identifier. */
export const DHCP_OPT_CLIENT_ID = 61;
/** Option 255: end of the options. */
export const DHCP_OPT_END = 255;

/**
 * The name tshark gives a DHCP message type (`dhcp.option.dhcp`), or `undefined` for an unknown one.
 *
 * @param type Option 53's value.
 * @returns `"Discover"`, `"Offer"`, `"Request"`, `"Decline"`, `"ACK"`, `"NAK"`, `"Release"`, `"Inform"`.
 */
export function dhcpMessageTypeName(type: number): string | undefined {
  switch (type) {
    case DHCPDISCOVER:
      return "Discover";
    case DHCPOFFER:
      return "Offer";
    case DHCPREQUEST:
      return "Request";
    case DHCPDECLINE:
      return "Decline";
    case DHCPACK:
      return "ACK";
    case DHCPNAK:
      return "NAK";
    case DHCPRELEASE:
      return "Release";
    case DHCPINFORM:
      return "Inform";
    default:
      return undefined;
  }
}

/** An option labwire does not read into a field, as bytes. */
export interface DhcpRawOption {
  /** Option code, 1-254. */
  code: number;
  /** Its data (at most 255 bytes). */
  data: Uint8Array;
}

/** The options of a {@linkcode DhcpMessage}; every one is optional. */
export interface DhcpOptions {
  /** 53: {@linkcode DHCPDISCOVER} to {@linkcode DHCPINFORM}. Absent: a plain BOOTP message. */
  messageType?: number;
  /** 1: subnet mask, dotted quad. */
  subnetMask?: string;
  /** 3: routers, in order of preference (at least one). */
  routers?: string[];
  /** 6: DNS servers (at least one). */
  dnsServers?: string[];
  /** 12: host name (1-255 bytes, read as Latin-1). */
  hostName?: string;
  /** 28: broadcast address. */
  broadcastAddress?: string;
  /** 50: the address a client asks for. */
  requestedIp?: string;
  /** 51: lease time in seconds (0xffffffff: infinite). */
  leaseSeconds?: number;
  /** 54: server identifier (the server's address). */
  serverId?: string;
  /** 55: the option codes a client asks for, in its order. */
  parameterRequestList?: number[];
  /** 56: a message, as a server's NAK gives its reason (Latin-1). */
  message?: string;
  /** 58: renewal time T1 in seconds. */
  renewalSeconds?: number;
  /** 59: rebinding time T2 in seconds. */
  rebindingSeconds?: number;
  /** 61: client identifier, as bytes (a type byte, then e.g. the MAC). */
  clientId?: Uint8Array;
  /** Every other option, in wire order. */
  otherOptions?: DhcpRawOption[];
}

/** A DHCP (BOOTP) message. Addresses are dotted quads; `0.0.0.0` where a field is unset. */
export interface DhcpMessage extends DhcpOptions {
  /** {@linkcode BOOTREQUEST} or {@linkcode BOOTREPLY}. */
  op: number;
  /** Hardware type. @default {1} (Ethernet) */
  htype?: number;
  /** Hardware address length, 0-16. @default {6} */
  hlen?: number;
  /** Relay hops. @default {0} */
  hops?: number;
  /** Transaction ID, 0 to 2^32-1. */
  xid: number;
  /** Seconds since the client began. @default {0} */
  secs?: number;
  /** Flags; {@linkcode DHCP_FLAG_BROADCAST} is the only one defined. @default {0} */
  flags?: number;
  /** Client's address, when it has one. @default {"0.0.0.0"} */
  ciaddr?: string;
  /** "Your" address: the one a server gives. @default {"0.0.0.0"} */
  yiaddr?: string;
  /** Next server's address. @default {"0.0.0.0"} */
  siaddr?: string;
  /** Relay agent's address. @default {"0.0.0.0"} */
  giaddr?: string;
  /** Client hardware address: `hlen` bytes as lowercase hex pairs joined by `:` (a MAC for Ethernet). */
  chaddr: string;
  /** Server host name (up to 63 bytes, Latin-1). @default {""} */
  sname?: string;
  /** Boot file name (up to 127 bytes, Latin-1). @default {""} */
  file?: string;
  /** Set by {@linkcode decodeDhcp}: option codes in the order read (pad and end left out). */
  optionOrder?: number[];
}

/** Options for {@linkcode encodeDhcp}. */
export interface EncodeDhcpOptions {
  /** Pad the message with zeros to at least this many bytes. @default {300} (BOOTP's minimum) */
  minBytes?: number;
}

// ---- decoding ----

/**
 * Reads a DHCP message from a UDP payload.
 *
 * @param buf The bytes.
 * @param offset Where the message starts. @default {0}
 * @param length Its length. @default {buf.length - offset}
 * @returns The message; only options present are set.
 * @throws {RangeError} If the message is shorter than 240 bytes, or an option runs past its end.
 * @throws {SyntaxError} If `op`, `hlen` or the magic cookie is wrong, the end option is missing, or a
 *   known option has a length or value it cannot have.
 */
export function decodeDhcp(buf: Uint8Array, offset = 0, length: number = buf.length - offset): DhcpMessage {
  if (!(Number.isInteger(offset) && Number.isInteger(length) && offset >= 0 && length >= 0)) {
    throw new RangeError(
      `Cannot decode a DHCP message: offset ${offset} and length ${length} must be integers >= 0`,
    );
  }
  if (offset + length > buf.length) {
    throw new RangeError(
      `Cannot decode a DHCP message: ${length} bytes from offset ${offset} run past the buffer's ${buf.length}`,
    );
  }
  if (length < DHCP_MIN_BYTES) {
    throw new RangeError(
      `Cannot decode a DHCP message: ${length} bytes, at least ${DHCP_MIN_BYTES} needed (BOOTP header and magic cookie)`,
    );
  }
  const view = new DataView(buf.buffer, buf.byteOffset + offset, length);
  const op = view.getUint8(0);
  if (op !== BOOTREQUEST && op !== BOOTREPLY) {
    throw new SyntaxError(
      `Cannot decode a DHCP message: op ${op} is neither 1 (BOOTREQUEST) nor 2 (BOOTREPLY)`,
    );
  }
  const hlen = view.getUint8(2);
  if (hlen > 16) {
    throw new SyntaxError(`Cannot decode a DHCP message: hlen ${hlen} is more than chaddr's 16 bytes`);
  }
  const cookie = view.getUint32(BOOTP_HEADER_BYTES);
  if (cookie !== DHCP_MAGIC_COOKIE) {
    throw new SyntaxError(
      `Cannot decode a DHCP message: magic cookie 0x${
        cookie.toString(16).padStart(8, "0")
      } is not 0x63825363`,
    );
  }
  const bytes = buf.subarray(offset, offset + length);
  const msg: DhcpMessage = {
    op,
    htype: view.getUint8(1),
    hlen,
    hops: view.getUint8(3),
    xid: view.getUint32(4),
    secs: view.getUint16(8),
    flags: view.getUint16(10),
    ciaddr: ipv4ToString(view.getUint32(12)),
    yiaddr: ipv4ToString(view.getUint32(16)),
    siaddr: ipv4ToString(view.getUint32(20)),
    giaddr: ipv4ToString(view.getUint32(24)),
    chaddr: hexBytes(bytes.subarray(28, 28 + hlen)),
    sname: cString(bytes.subarray(44, 108)),
    file: cString(bytes.subarray(108, 236)),
  };
  // options: code, length, data; RFC 3396 concatenates an option given more than once
  const chunks = new Map<number, Uint8Array[]>();
  const order: number[] = [];
  let i = DHCP_MIN_BYTES;
  let ended = false;
  while (i < length) {
    const code = bytes[i]!;
    if (code === DHCP_OPT_PAD) {
      i++;
      continue;
    }
    if (code === DHCP_OPT_END) {
      ended = true;
      break;
    }
    if (i + 1 >= length) {
      throw new RangeError(`Cannot decode a DHCP message: option ${code} at byte ${i} has no length byte`);
    }
    const len = bytes[i + 1]!;
    if (i + 2 + len > length) {
      throw new RangeError(
        `Cannot decode a DHCP message: option ${code} at byte ${i} says ${len} bytes, only ${
          length - i - 2
        } left`,
      );
    }
    const data = bytes.subarray(i + 2, i + 2 + len);
    const seen = chunks.get(code);
    if (seen === undefined) {
      chunks.set(code, [data]);
      order.push(code);
    } else {
      seen.push(data);
    }
    i += 2 + len;
  }
  if (!ended) throw new SyntaxError("Cannot decode a DHCP message: the options have no end option (255)");
  msg.optionOrder = order;
  for (const code of order) readOption(msg, code, concat(chunks.get(code)!));
  return msg;
}

function readOption(msg: DhcpMessage, code: number, data: Uint8Array): void {
  switch (code) {
    case DHCP_OPT_MESSAGE_TYPE: {
      wantLength(code, data, 1);
      const type = data[0]!;
      if (type < DHCPDISCOVER || type > DHCPINFORM) {
        throw new SyntaxError(`Cannot decode a DHCP message: message type ${type} is not 1-8 (option 53)`);
      }
      msg.messageType = type;
      return;
    }
    case DHCP_OPT_SUBNET_MASK:
      msg.subnetMask = oneAddress(code, data);
      return;
    case DHCP_OPT_BROADCAST:
      msg.broadcastAddress = oneAddress(code, data);
      return;
    case DHCP_OPT_REQUESTED_IP:
      msg.requestedIp = oneAddress(code, data);
      return;
    case DHCP_OPT_SERVER_ID:
      msg.serverId = oneAddress(code, data);
      return;
    case DHCP_OPT_ROUTER:
      msg.routers = addresses(code, data);
      return;
    case DHCP_OPT_DNS:
      msg.dnsServers = addresses(code, data);
      return;
    case DHCP_OPT_LEASE_TIME:
      msg.leaseSeconds = seconds(code, data);
      return;
    case DHCP_OPT_RENEWAL_TIME:
      msg.renewalSeconds = seconds(code, data);
      return;
    case DHCP_OPT_REBINDING_TIME:
      msg.rebindingSeconds = seconds(code, data);
      return;
    case DHCP_OPT_HOST_NAME:
      msg.hostName = text(code, data);
      return;
    case DHCP_OPT_MESSAGE:
      msg.message = text(code, data);
      return;
    case DHCP_OPT_PARAMETER_LIST:
      if (data.length === 0) throw new SyntaxError(emptyOption(code));
      msg.parameterRequestList = [...data];
      return;
    case DHCP_OPT_CLIENT_ID:
      if (data.length < 2) {
        throw new SyntaxError(
          `Cannot decode a DHCP message: option 61 (client identifier) has ${data.length} bytes, at least 2 needed`,
        );
      }
      msg.clientId = data.slice();
      return;
    default:
      (msg.otherOptions ??= []).push({ code, data: data.slice() });
  }
}

function wantLength(code: number, data: Uint8Array, n: number): void {
  if (data.length !== n) {
    throw new SyntaxError(
      `Cannot decode a DHCP message: option ${code} has ${data.length} bytes, ${n} expected`,
    );
  }
}

function emptyOption(code: number): string {
  return `Cannot decode a DHCP message: option ${code} is empty`;
}

function oneAddress(code: number, data: Uint8Array): string {
  wantLength(code, data, 4);
  return ipv4ToString(u32(data, 0));
}

function addresses(code: number, data: Uint8Array): string[] {
  if (data.length === 0 || data.length % 4 !== 0) {
    throw new SyntaxError(
      `Cannot decode a DHCP message: option ${code} has ${data.length} bytes, a non-zero multiple of 4 expected`,
    );
  }
  const out: string[] = [];
  for (let i = 0; i < data.length; i += 4) out.push(ipv4ToString(u32(data, i)));
  return out;
}

function seconds(code: number, data: Uint8Array): number {
  wantLength(code, data, 4);
  return u32(data, 0);
}

function text(code: number, data: Uint8Array): string {
  if (data.length === 0) throw new SyntaxError(emptyOption(code));
  return String.fromCharCode(...data);
}

function u32(data: Uint8Array, i: number): number {
  return ((data[i]! << 24) | (data[i + 1]! << 16) | (data[i + 2]! << 8) | data[i + 3]!) >>> 0;
}

function concat(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function hexBytes(bytes: Uint8Array): string {
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join(":");
}

function cString(bytes: Uint8Array): string {
  const end = bytes.indexOf(0);
  return String.fromCharCode(...(end < 0 ? bytes : bytes.subarray(0, end)));
}

// ---- encoding ----

/** The order options are written in: dnsmasq's for replies, then the ones clients send. */
const OPTION_ORDER = [
  DHCP_OPT_MESSAGE_TYPE,
  DHCP_OPT_SERVER_ID,
  DHCP_OPT_LEASE_TIME,
  DHCP_OPT_RENEWAL_TIME,
  DHCP_OPT_REBINDING_TIME,
  DHCP_OPT_SUBNET_MASK,
  DHCP_OPT_BROADCAST,
  DHCP_OPT_DNS,
  DHCP_OPT_ROUTER,
  DHCP_OPT_REQUESTED_IP,
  DHCP_OPT_PARAMETER_LIST,
  DHCP_OPT_CLIENT_ID,
  DHCP_OPT_HOST_NAME,
  DHCP_OPT_MESSAGE,
] as const;

/**
 * Writes a DHCP message as a UDP payload: the BOOTP header, the magic cookie, the options set in `msg`
 * (see the module's order), the end option, then zeros up to `minBytes`.
 *
 * @param msg The message; unset header fields are 0.
 * @param options The minimum size.
 * @returns The bytes.
 * @throws {RangeError} If a number is out of its field's range, `chaddr` is not `hlen` bytes, `sname` or
 *   `file` is too long, or an option's data is longer than 255 bytes.
 * @throws {SyntaxError} If an address cannot be parsed.
 */
export function encodeDhcp(msg: DhcpMessage, options: EncodeDhcpOptions = {}): Uint8Array {
  const { minBytes = BOOTP_MIN_MESSAGE_BYTES } = options;
  const opts = encodeOptions(msg);
  let size = DHCP_MIN_BYTES + opts.reduce((n, o) => n + 2 + o.data.length, 0) + 1;
  if (Number.isInteger(minBytes) && minBytes > size) size = minBytes;
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  const htype = msg.htype ?? DHCP_HTYPE_ETHERNET;
  const hlen = msg.hlen ?? 6;
  view.setUint8(0, field("op", msg.op, 0xff));
  view.setUint8(1, field("htype", htype, 0xff));
  view.setUint8(2, field("hlen", hlen, 16));
  view.setUint8(3, field("hops", msg.hops ?? 0, 0xff));
  view.setUint32(4, field("xid", msg.xid, 0xffff_ffff));
  view.setUint16(8, field("secs", msg.secs ?? 0, 0xffff));
  view.setUint16(10, field("flags", msg.flags ?? 0, 0xffff));
  view.setUint32(12, ipv4FromString(msg.ciaddr ?? "0.0.0.0"));
  view.setUint32(16, ipv4FromString(msg.yiaddr ?? "0.0.0.0"));
  view.setUint32(20, ipv4FromString(msg.siaddr ?? "0.0.0.0"));
  view.setUint32(24, ipv4FromString(msg.giaddr ?? "0.0.0.0"));
  out.set(parseHexBytes(msg.chaddr, hlen), 28);
  out.set(latin1("sname", msg.sname ?? "", 63), 44);
  out.set(latin1("file", msg.file ?? "", 127), 108);
  view.setUint32(BOOTP_HEADER_BYTES, DHCP_MAGIC_COOKIE);
  let at = DHCP_MIN_BYTES;
  for (const o of opts) {
    out[at] = o.code;
    out[at + 1] = o.data.length;
    out.set(o.data, at + 2);
    at += 2 + o.data.length;
  }
  out[at] = DHCP_OPT_END;
  return out;
}

function encodeOptions(msg: DhcpMessage): DhcpRawOption[] {
  const out: DhcpRawOption[] = [];
  for (const code of OPTION_ORDER) {
    const data = optionData(msg, code);
    if (data !== undefined) out.push({ code, data });
  }
  for (const o of msg.otherOptions ?? []) {
    if (!(Number.isInteger(o.code) && o.code >= 1 && o.code <= 254)) {
      throw new RangeError(
        `Cannot encode a DHCP message: option code ${o.code} is not an integer in [1, 254]`,
      );
    }
    out.push(o);
  }
  for (const o of out) {
    if (o.data.length > 255) {
      throw new RangeError(
        `Cannot encode a DHCP message: option ${o.code} has ${o.data.length} bytes, at most 255 fit`,
      );
    }
  }
  return out;
}

function optionData(msg: DhcpMessage, code: number): Uint8Array | undefined {
  switch (code) {
    case DHCP_OPT_MESSAGE_TYPE:
      return msg.messageType === undefined
        ? undefined
        : Uint8Array.of(field("messageType", msg.messageType, 0xff));
    case DHCP_OPT_SERVER_ID:
      return addressBytes(msg.serverId === undefined ? undefined : [msg.serverId]);
    case DHCP_OPT_LEASE_TIME:
      return u32Bytes("leaseSeconds", msg.leaseSeconds);
    case DHCP_OPT_RENEWAL_TIME:
      return u32Bytes("renewalSeconds", msg.renewalSeconds);
    case DHCP_OPT_REBINDING_TIME:
      return u32Bytes("rebindingSeconds", msg.rebindingSeconds);
    case DHCP_OPT_SUBNET_MASK:
      return addressBytes(msg.subnetMask === undefined ? undefined : [msg.subnetMask]);
    case DHCP_OPT_BROADCAST:
      return addressBytes(msg.broadcastAddress === undefined ? undefined : [msg.broadcastAddress]);
    case DHCP_OPT_DNS:
      return addressBytes(msg.dnsServers);
    case DHCP_OPT_ROUTER:
      return addressBytes(msg.routers);
    case DHCP_OPT_REQUESTED_IP:
      return addressBytes(msg.requestedIp === undefined ? undefined : [msg.requestedIp]);
    case DHCP_OPT_PARAMETER_LIST:
      return msg.parameterRequestList === undefined
        ? undefined
        : Uint8Array.from(msg.parameterRequestList, (c) => field("parameterRequestList item", c, 0xff));
    case DHCP_OPT_CLIENT_ID:
      return msg.clientId;
    case DHCP_OPT_HOST_NAME:
      return msg.hostName === undefined ? undefined : latin1("hostName", msg.hostName, 255);
    case DHCP_OPT_MESSAGE:
      return msg.message === undefined ? undefined : latin1("message", msg.message, 255);
    default:
      return undefined;
  }
}

function field(name: string, value: number, max: number): number {
  if (!(Number.isInteger(value) && value >= 0 && value <= max)) {
    throw new RangeError(
      `Cannot encode a DHCP message: '${name}' must be an integer in [0, ${max}]: current value is ${value}`,
    );
  }
  return value;
}

function u32Bytes(name: string, value: number | undefined): Uint8Array | undefined {
  if (value === undefined) return undefined;
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, field(name, value, 0xffff_ffff));
  return out;
}

function addressBytes(list: readonly string[] | undefined): Uint8Array | undefined {
  if (list === undefined) return undefined;
  const out = new Uint8Array(list.length * 4);
  const view = new DataView(out.buffer);
  list.forEach((ip, i) => view.setUint32(i * 4, ipv4FromString(ip)));
  return out;
}

function latin1(name: string, s: string, max: number): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0xff) {
      throw new RangeError(`Cannot encode a DHCP message: '${name}' has a character beyond Latin-1 at ${i}`);
    }
    out[i] = c;
  }
  if (out.length > max) {
    throw new RangeError(
      `Cannot encode a DHCP message: '${name}' has ${out.length} bytes, at most ${max} fit`,
    );
  }
  return out;
}

function parseHexBytes(s: string, n: number): Uint8Array {
  const parts = s === "" ? [] : s.split(/[:-]/);
  if (parts.length !== n || !parts.every((p) => /^[0-9a-fA-F]{2}$/.test(p))) {
    throw new RangeError(
      `Cannot encode a DHCP message: chaddr '${s}' must be ${n} (hlen) hex bytes separated by ':'`,
    );
  }
  return Uint8Array.from(parts, (p) => parseInt(p, 16));
}
