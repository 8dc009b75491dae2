// Runtime-neutral.
/**
 * Ethernet frames with 802.1Q and 802.1ad (QinQ) tags, ARP, IPv4, ICMP, UDP and TCP, in two layers.
 *
 * The hot path works on raw bytes, `(buf, off, len)`, and allocates nothing: {@linkcode mac48} reads a MAC
 * as a 48-bit number (a map key), {@linkcode frameVlan} reads the outer VLAN, {@linkcode pushVlanTag} and
 * {@linkcode popVlanTag} copy a frame while adding or removing its outer tag (in place too, with 4 bytes
 * of headroom).
 *
 * Off the hot path, a {@linkcode Frame} is a decoded frame as plain data. {@linkcode writeFrame} writes one
 * into the caller's buffer and returns the next offset, {@linkcode encodeFrame} allocates exactly
 * {@linkcode frameLength} bytes, {@linkcode decodeFrame} reads one back. Checksums (IPv4 header, ICMP, and
 * UDP and TCP over the IPv4 pseudo-header) are computed on write and verified on read; short frames are
 * padded to the Ethernet minimum of 60 bytes (FCS excluded), as NICs do.
 *
 * QinQ: Open vSwitch tags frames entering a `vlan_mode=dot1q-tunnel` port (minimega's `qinq` netspecs)
 * with an 802.1ad outer tag, TPID 0x88a8, unless the port sets `other_config:qinq-ethtype=802.1q`
 * (ovs-vswitchd.conf.db(5); checked with `ofproto/trace` on OVS 3.1: `push_vlan(tpid=0x88a8,vid=10)`).
 * Both TPIDs are read as tags here; {@linkcode pushVlanTag} writes 0x8100 unless told otherwise.
 *
 * @example Build an ICMP echo request on VLAN 100, encode it, read it back
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeFrame, describeFrame, encodeFrame, frameVlan, icmpEcho } from "labwire";
 *
 * const bytes = encodeFrame(icmpEcho({
 *   srcMac: "52:54:00:00:00:01", dstMac: "52:54:00:00:00:02",
 *   srcIp: "10.0.0.1", dstIp: "10.0.0.2", id: 1, seq: 1, vlans: [100],
 * }));
 * assert.equal(frameVlan(bytes, 0, bytes.length), 100);
 * assert.equal(
 *   describeFrame(decodeFrame(bytes)),
 *   "52:54:00:00:00:01 > 52:54:00:00:00:02, vlan 100, IPv4 10.0.0.1 > 10.0.0.2: ICMP echo request, id 1, seq 1",
 * );
 * ```
 *
 * @module
 */

import { parseMac } from "../mac.ts";
import {
  ARP_HTYPE_ETHERNET,
  ARP_IPV4_BYTES,
  ARP_REPLY,
  ARP_REQUEST,
  BROADCAST_MAC48,
  ETHERNET_HEADER_BYTES,
  ETHERNET_MACS_BYTES,
  ETHERNET_MIN_FRAME,
  ETHERTYPE_8021AD,
  ETHERTYPE_8021Q,
  ETHERTYPE_ARP,
  ETHERTYPE_IPV4,
  etherTypeName,
  hex16,
  ICMP_ECHO_REPLY,
  ICMP_ECHO_REQUEST,
  ICMP_HEADER_BYTES,
  icmpTypeName,
  IPPROTO_ICMP,
  IPPROTO_TCP,
  IPPROTO_UDP,
  ipProtocolName,
  IPV4_DEFAULT_TTL,
  IPV4_FLAG_MF,
  IPV4_HEADER_BYTES,
  isVlanTpid,
  TCP_ACK,
  TCP_DEFAULT_WINDOW,
  TCP_FIN,
  TCP_HEADER_BYTES,
  TCP_OPTIONS_MAX_BYTES,
  TCP_RST,
  TCP_SYN,
  TCP_URG,
  tcpFlagsText,
  UDP_HEADER_BYTES,
  VLAN_ID_MAX,
  VLAN_TAG_BYTES,
} from "./_wire.ts";

export {
  ARP_REPLY,
  ARP_REQUEST,
  ETHERNET_MIN_FRAME,
  ETHERTYPE_8021AD,
  ETHERTYPE_8021Q,
  ETHERTYPE_ARP,
  ETHERTYPE_IPV4,
  ETHERTYPE_IPV6,
  etherTypeName,
  ICMP_ECHO_REPLY,
  ICMP_ECHO_REQUEST,
  IPPROTO_ICMP,
  IPPROTO_TCP,
  IPPROTO_UDP,
  ipProtocolName,
  TCP_ACK,
  TCP_CWR,
  TCP_ECE,
  TCP_FIN,
  TCP_PSH,
  TCP_RST,
  TCP_SYN,
  TCP_URG,
} from "./_wire.ts";

/** Two lower-case hex digits for every octet value. */
const HEX: readonly string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));
/** 2^8, 2^16, ... as multipliers: 48-bit MACs do not fit the 32-bit bit operators. */
const TWO_24 = 0x100_0000;
const TWO_40 = 0x100_0000_0000;
/** Shared empty data: a zero-length array cannot be written to, and allocating one costs in Deno. */
const EMPTY = new Uint8Array(0);
/**
 * Copies up to this many bytes with a plain loop, longer ones with `set(subarray)`: measured crossover
 * about 32 bytes in Deno 2.9 and 64 in Bun 1.4 (a loop costs ~0.8 ns a byte, a `subarray` view 25-40 ns).
 */
const LOOP_COPY_MAX = 32;

// ---------------------------------------------------------------------------------------------------
// Hot path: raw bytes

/**
 * Reads the 48-bit MAC address at `buf[off..off+6)` as a number, the key of forwarding tables (STYLE R15).
 *
 * @param buf The bytes.
 * @param off Where the address starts: 0 for a frame's destination, 6 for its source (plus the frame's
 * offset).
 * @returns The address as an integer in [0, 2^48).
 * @throws {RangeError} If the 6 bytes are not all inside `buf`.
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { mac48, macToString } from "labwire";
 * const frame = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x52, 0x54, 0, 0, 0, 1]);
 * assert.equal(mac48(frame, 0), 0xffffffffffff);
 * assert.equal(macToString(mac48(frame, 6)), "52:54:00:00:00:01");
 * ```
 */
export function mac48(buf: Uint8Array, off: number): number {
  if (!(off >= 0 && off + 6 <= buf.length)) throw macBoundsError("read", off, buf.length);
  return (buf[off]! * 0x10000 + (buf[off + 1]! << 8 | buf[off + 2]!)) * TWO_24 +
    (buf[off + 3]! << 16 | buf[off + 4]! << 8 | buf[off + 5]!);
}

/**
 * Writes a 48-bit MAC address at `buf[off..off+6)`.
 *
 * @param buf The bytes.
 * @param off Where the address starts.
 * @param mac The address as {@linkcode mac48} returns it.
 * @returns The offset after the address, `off + 6`.
 * @throws {RangeError} If `mac` is not an integer in [0, 2^48), or the 6 bytes are not all inside `buf`.
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { macFromString, writeMac48 } from "labwire";
 * const buf = new Uint8Array(6);
 * assert.equal(writeMac48(buf, 0, macFromString("52:54:00:ab:cd:ef")), 6);
 * assert.deepEqual([...buf], [0x52, 0x54, 0x00, 0xab, 0xcd, 0xef]);
 * ```
 */
export function writeMac48(buf: Uint8Array, off: number, mac: number): number {
  checkMac48(mac, "write MAC address");
  if (!(off >= 0 && off + 6 <= buf.length)) throw macBoundsError("write", off, buf.length);
  const hi = Math.floor(mac / TWO_24);
  const lo = mac - hi * TWO_24;
  buf[off] = hi >>> 16;
  buf[off + 1] = hi >>> 8;
  buf[off + 2] = hi;
  buf[off + 3] = lo >>> 16;
  buf[off + 4] = lo >>> 8;
  buf[off + 5] = lo;
  return off + 6;
}

function macBoundsError(action: "read" | "write", off: number, size: number): RangeError {
  return new RangeError(`Cannot ${action} MAC address at offset ${off}: buffer has ${size} bytes`);
}

function checkMac48(mac: number, action: string): void {
  if (!(Number.isInteger(mac) && mac >= 0 && mac <= BROADCAST_MAC48)) {
    throw new RangeError(`Cannot ${action} as it must be an integer in [0, 2^48): current value is ${mac}`);
  }
}

/**
 * Formats a 48-bit MAC address in lower-case colon form.
 *
 * @param mac The address as {@linkcode mac48} returns it.
 * @returns E.g. `"52:54:00:ab:cd:ef"`.
 * @throws {RangeError} If `mac` is not an integer in [0, 2^48).
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { macToString } from "labwire";
 * assert.equal(macToString(0x525400abcdef), "52:54:00:ab:cd:ef");
 * ```
 */
export function macToString(mac: number): string {
  checkMac48(mac, "format MAC address");
  const hi = Math.floor(mac / TWO_24);
  const lo = mac - hi * TWO_24;
  return `${HEX[hi >>> 16]}:${HEX[hi >>> 8 & 0xff]}:${HEX[hi & 0xff]}:` +
    `${HEX[lo >>> 16]}:${HEX[lo >>> 8 & 0xff]}:${HEX[lo & 0xff]}`;
}

/**
 * Parses a 6-octet MAC address in any form Go's `net.ParseMAC` accepts (`xx:xx:..`, `xx-xx-..`,
 * `xxxx.xxxx.xxxx`, any case) as a 48-bit number.
 *
 * @param s The address.
 * @returns The address as {@linkcode mac48} would read it.
 * @throws {MacError} If `s` is not a MAC address.
 * @throws {RangeError} If `s` is an 8- or 20-octet address, which Ethernet cannot carry.
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { macFromString } from "labwire";
 * assert.equal(macFromString("52-54-00-AB-CD-EF"), 0x525400abcdef);
 * ```
 */
export function macFromString(s: string): number {
  const fast = colonMac(s);
  if (fast >= 0) return fast;
  const o = parseMac(s);
  if (o.length !== 6) {
    throw new RangeError(
      `Cannot use MAC address '${s}' on Ethernet as it has ${o.length} octets: expected 6`,
    );
  }
  return (o[0]! * 0x10000 + (o[1]! << 8 | o[2]!)) * TWO_24 + (o[3]! << 16 | o[4]! << 8 | o[5]!);
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const lower = c | 0x20;
  return lower >= 0x61 && lower <= 0x66 ? lower - 0x61 + 10 : -1;
}

/**
 * The common form `xx:xx:xx:xx:xx:xx` (any case) as a number, or -1 for anything else; parsed without
 * allocating, which `parseMac` cannot do (in Deno an allocation costs about a microsecond).
 */
function colonMac(s: string): number {
  if (s.length !== 17) return -1;
  let mac = 0;
  for (let i = 0; i < 17; i += 3) {
    const hi = hexValue(s.charCodeAt(i));
    const lo = hexValue(s.charCodeAt(i + 1));
    if (hi < 0 || lo < 0 || (i < 15 && s.charCodeAt(i + 2) !== 0x3a)) return -1;
    mac = mac * 256 + (hi << 4 | lo);
  }
  return mac;
}

/**
 * Whether a 48-bit MAC address is the broadcast address `ff:ff:ff:ff:ff:ff`.
 *
 * @param mac The address as {@linkcode mac48} returns it.
 * @returns `true` for broadcast only.
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { isBroadcastMac48 } from "labwire";
 * assert.equal(isBroadcastMac48(0xffffffffffff), true);
 * assert.equal(isBroadcastMac48(0x01005e000001), false);
 * ```
 */
export function isBroadcastMac48(mac: number): boolean {
  return mac === BROADCAST_MAC48;
}

/**
 * Whether a 48-bit MAC address is a group address (the I/G bit of its first octet), broadcast included.
 *
 * @param mac The address as {@linkcode mac48} returns it.
 * @returns `true` for multicast and broadcast addresses.
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { isMulticastMac48 } from "labwire";
 * assert.equal(isMulticastMac48(0x01005e000001), true);
 * assert.equal(isMulticastMac48(0x525400000001), false);
 * ```
 */
export function isMulticastMac48(mac: number): boolean {
  return (Math.floor(mac / TWO_40) & 1) === 1;
}

/** The name of a tag for messages: `802.1Q` or `802.1ad`. */
function tagName(tpid: number): string {
  return tpid === ETHERTYPE_8021AD ? "802.1ad" : "802.1Q";
}

function frameBoundsError(action: "read" | "write", length: number, off: number, size: number): RangeError {
  return new RangeError(
    `Cannot ${action} frame of ${length} bytes at offset ${off}: buffer has ${size} bytes`,
  );
}

/** Throws unless `buf[off..off+len)` is inside `buf` and long enough to hold an Ethernet header. */
function checkFrameBytes(buf: Uint8Array, off: number, len: number): void {
  if (!(Number.isInteger(off) && Number.isInteger(len) && off >= 0 && len >= 0 && off + len <= buf.length)) {
    throw frameBoundsError("read", len, off, buf.length);
  }
  if (len < ETHERNET_HEADER_BYTES) {
    throw new RangeError(
      `Cannot read Ethernet header: frame has ${len} bytes, needs ${ETHERNET_HEADER_BYTES}`,
    );
  }
}

function tagError(tpid: number, at: number, len: number): RangeError {
  return new RangeError(
    `Cannot read ${tagName(tpid)} tag at offset ${at}: frame has ${len} bytes, needs ${
      at + VLAN_TAG_BYTES + 2
    }`,
  );
}

/**
 * The outer VLAN of a frame: the VID of its first 802.1Q (0x8100) or 802.1ad (0x88a8) tag.
 *
 * @param buf The bytes.
 * @param off Where the frame starts.
 * @param len The frame's length.
 * @returns The VID, 0-4095, or -1 when the frame is untagged.
 * @throws {RangeError} If the frame is not inside `buf`, is shorter than an Ethernet header, or is tagged
 * but too short for the tag and the EtherType after it.
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { arpRequest, encodeFrame, frameVlan } from "labwire";
 * const frame = encodeFrame(arpRequest({ srcMac: "52:54:00:00:00:01", srcIp: "10.0.0.1", targetIp: "10.0.0.2", vlans: [10, 100] }));
 * assert.equal(frameVlan(frame, 0, frame.length), 10);
 * ```
 */
export function frameVlan(buf: Uint8Array, off: number, len: number): number {
  checkFrameBytes(buf, off, len);
  const tpid = buf[off + 12]! << 8 | buf[off + 13]!;
  if (tpid !== ETHERTYPE_8021Q && tpid !== ETHERTYPE_8021AD) return -1;
  if (len < ETHERNET_HEADER_BYTES + VLAN_TAG_BYTES) throw tagError(tpid, 12, len);
  return (buf[off + 14]! & 0x0f) << 8 | buf[off + 15]!;
}

/**
 * Copies `n` bytes; `src === dst` behaves like memmove. Short copies use a loop: a `subarray` view costs
 * more than the copy itself (and is slow in Bun).
 */
function copyBytes(src: Uint8Array, from: number, dst: Uint8Array, to: number, n: number): void {
  if (n <= 0 || (src === dst && from === to)) return;
  if (n <= LOOP_COPY_MAX) {
    // backwards when moving right within one array, so that no byte is overwritten before it is read
    if (src === dst && to > from) { for (let i = n - 1; i >= 0; i--) dst[to + i] = src[from + i]!; }
    else for (let i = 0; i < n; i++) dst[to + i] = src[from + i]!;
  } else if (src === dst) {
    dst.copyWithin(to, from, from + n);
  } else {
    dst.set(src.subarray(from, from + n), to);
  }
}

/**
 * Copies a frame into `dst`, inserting a VLAN tag (PCP 0, DEI 0) after the MAC addresses; a tagged frame
 * gets a new outer tag (QinQ).
 *
 * Positional arguments rather than an options object: this is the forwarding path, where an object per
 * frame would allocate. `src` and `dst` may be the same array; to tag in place, keep 4 bytes of headroom
 * before the frame and pass `dst = src, dstOff = srcOff - 4`: only the 12 MAC bytes move. Distinct views
 * over overlapping memory are not supported.
 *
 * @param src The frame's bytes.
 * @param srcOff Where the frame starts.
 * @param len The frame's length.
 * @param dst Where the tagged frame goes.
 * @param dstOff Where in `dst` it starts.
 * @param vid The VLAN ID, 0-4095.
 * @param tpid The tag's TPID: 0x8100 (802.1Q) or 0x88a8 (802.1ad). @default {0x8100}
 * @returns The tagged frame's length, `len + 4`.
 * @throws {RangeError} If `vid` or `tpid` is out of range, the frame is not inside `src` or shorter than
 * an Ethernet header, or the tagged frame does not fit in `dst` at `dstOff`.
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { arpRequest, encodeFrame, frameVlan, popVlanTag, pushVlanTag } from "labwire";
 * const frame = encodeFrame(arpRequest({ srcMac: "52:54:00:00:00:01", srcIp: "10.0.0.1", targetIp: "10.0.0.2" }));
 * const tagged = new Uint8Array(frame.length + 4);
 * assert.equal(pushVlanTag(frame, 0, frame.length, tagged, 0, 100), 64);
 * assert.equal(frameVlan(tagged, 0, 64), 100);
 * const untagged = new Uint8Array(60);
 * assert.equal(popVlanTag(tagged, 0, 64, untagged, 0), 60);
 * assert.deepEqual(untagged, frame);
 * ```
 */
export function pushVlanTag(
  src: Uint8Array,
  srcOff: number,
  len: number,
  dst: Uint8Array,
  dstOff: number,
  vid: number,
  tpid: number = ETHERTYPE_8021Q,
): number {
  if (!(Number.isInteger(vid) && vid >= 0 && vid <= VLAN_ID_MAX)) {
    throw new RangeError(
      `Cannot push ${tagName(tpid)} tag as VLAN ID must be 0-4095: current value is ${vid}`,
    );
  }
  if (!isVlanTpid(tpid)) {
    throw new RangeError(
      `Cannot push VLAN tag as TPID must be 0x8100 or 0x88a8: current value is ${hex16(tpid)}`,
    );
  }
  checkFrameBytes(src, srcOff, len);
  const out = len + VLAN_TAG_BYTES;
  if (!(Number.isInteger(dstOff) && dstOff >= 0 && dstOff + out <= dst.length)) {
    throw frameBoundsError("write", out, dstOff, dst.length);
  }
  // The rest moves by (dstOff + 4 - srcOff), the MACs by (dstOff - srcOff): within one array, move
  // whichever would otherwise overwrite the other's source last. The tag goes in last.
  const rest = len - ETHERNET_MACS_BYTES;
  if (src === dst && dstOff + VLAN_TAG_BYTES > srcOff) {
    copyBytes(src, srcOff + 12, dst, dstOff + 16, rest);
    copyBytes(src, srcOff, dst, dstOff, ETHERNET_MACS_BYTES);
  } else {
    copyBytes(src, srcOff, dst, dstOff, ETHERNET_MACS_BYTES);
    copyBytes(src, srcOff + 12, dst, dstOff + 16, rest);
  }
  dst[dstOff + 12] = tpid >>> 8;
  dst[dstOff + 13] = tpid & 0xff;
  dst[dstOff + 14] = vid >>> 8;
  dst[dstOff + 15] = vid & 0xff;
  return out;
}

/**
 * Copies a tagged frame into `dst` without its outer VLAN tag. The result is not padded: a 60-byte
 * tagged frame becomes 56 bytes, as Open vSwitch's userspace datapath leaves it.
 *
 * `src` and `dst` may be the same array; to untag in place pass `dst = src, dstOff = srcOff + 4`: only
 * the 12 MAC bytes move.
 *
 * @param src The frame's bytes.
 * @param srcOff Where the frame starts.
 * @param len The frame's length.
 * @param dst Where the untagged frame goes.
 * @param dstOff Where in `dst` it starts.
 * @returns The new length, `len - 4`.
 * @throws {TypeError} If the frame is untagged.
 * @throws {RangeError} If the frame is not inside `src`, is too short for its tag, or the result does not
 * fit in `dst` at `dstOff`.
 * @example Untag in place
 * ```ts
 * import assert from "node:assert/strict";
 * import { arpRequest, encodeFrame, frameVlan, popVlanTag } from "labwire";
 * const buf = encodeFrame(arpRequest({ srcMac: "52:54:00:00:00:01", srcIp: "10.0.0.1", targetIp: "10.0.0.2", vlans: [100] }));
 * const len = popVlanTag(buf, 0, buf.length, buf, 4);
 * assert.equal(len, 56); // not padded back to 60
 * assert.equal(frameVlan(buf, 4, len), -1);
 * ```
 */
export function popVlanTag(
  src: Uint8Array,
  srcOff: number,
  len: number,
  dst: Uint8Array,
  dstOff: number,
): number {
  checkFrameBytes(src, srcOff, len);
  const tpid = src[srcOff + 12]! << 8 | src[srcOff + 13]!;
  if (!isVlanTpid(tpid)) {
    throw new TypeError(`Cannot pop VLAN tag: frame is untagged (EtherType ${hex16(tpid)})`);
  }
  if (len < ETHERNET_HEADER_BYTES + VLAN_TAG_BYTES) throw tagError(tpid, 12, len);
  const out = len - VLAN_TAG_BYTES;
  if (!(Number.isInteger(dstOff) && dstOff >= 0 && dstOff + out <= dst.length)) {
    throw frameBoundsError("write", out, dstOff, dst.length);
  }
  const rest = len - ETHERNET_MACS_BYTES - VLAN_TAG_BYTES;
  if (src === dst && dstOff > srcOff + VLAN_TAG_BYTES) {
    copyBytes(src, srcOff + 16, dst, dstOff + 12, rest);
    copyBytes(src, srcOff, dst, dstOff, ETHERNET_MACS_BYTES);
  } else {
    copyBytes(src, srcOff, dst, dstOff, ETHERNET_MACS_BYTES);
    copyBytes(src, srcOff + 16, dst, dstOff + 12, rest);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// IPv4 addresses

/**
 * Parses a dotted-quad IPv4 address strictly: four decimal octets 0-255, no leading zeros (as Go's
 * `net.ParseIP` since Go 1.17), no spaces.
 *
 * @param s The address, e.g. `"10.0.0.1"`.
 * @returns The address as an unsigned 32-bit integer.
 * @throws {SyntaxError} If `s` is not such an address.
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { ipv4FromString } from "labwire";
 * assert.equal(ipv4FromString("10.0.0.1"), 0x0a000001);
 * assert.throws(() => ipv4FromString("10.0.0.01"), SyntaxError);
 * ```
 */
export function ipv4FromString(s: string): number {
  let value = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i <= s.length; i++) {
    const c = i === s.length ? 0x2e : s.charCodeAt(i);
    if (c === 0x2e) {
      if (digits === 0 || (i === s.length && dots !== 3) || (i < s.length && dots === 3)) {
        throw ipv4Error(s);
      }
      value = value * 256 + octet;
      if (i < s.length) dots++;
      octet = 0;
      digits = 0;
    } else if (c >= 0x30 && c <= 0x39) {
      if (digits > 0 && octet === 0) throw ipv4Error(s); // leading zero
      octet = octet * 10 + (c - 0x30);
      digits++;
      if (octet > 255) throw ipv4Error(s);
    } else {
      throw ipv4Error(s);
    }
  }
  return value;
}

function ipv4Error(s: string): SyntaxError {
  return new SyntaxError(`Cannot parse IPv4 address '${s}': expected four decimal octets 0-255 as a.b.c.d`);
}

/**
 * Formats an IPv4 address as a dotted quad.
 *
 * @param ip The address as an unsigned 32-bit integer.
 * @returns E.g. `"10.0.0.1"`.
 * @throws {RangeError} If `ip` is not an integer in [0, 2^32).
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { ipv4ToString } from "labwire";
 * assert.equal(ipv4ToString(0x0a000001), "10.0.0.1");
 * ```
 */
export function ipv4ToString(ip: number): string {
  if (!(Number.isInteger(ip) && ip >= 0 && ip <= 0xffff_ffff)) {
    throw new RangeError(
      `Cannot format IPv4 address as it must be an integer in [0, 2^32): current value is ${ip}`,
    );
  }
  return `${ip >>> 24}.${ip >>> 16 & 0xff}.${ip >>> 8 & 0xff}.${ip & 0xff}`;
}

// ---------------------------------------------------------------------------------------------------
// Decoded frames

/** An ARP packet for IPv4 over Ethernet (RFC 826). */
export interface Arp {
  /** 1 for a request ({@linkcode ARP_REQUEST}), 2 for a reply ({@linkcode ARP_REPLY}). */
  op: number;
  /** Sender hardware address, lower-case colon form. */
  senderMac: string;
  /** Sender protocol address, dotted quad. */
  senderIp: string;
  /** Target hardware address; `00:00:00:00:00:00` in a request. */
  targetMac: string;
  /** Target protocol address. */
  targetIp: string;
}

/**
 * An ICMP message (RFC 792). `id` and `seq` are the two 16-bit halves of the 4 bytes after the checksum:
 * an echo's identifier and sequence number, and whatever other types keep there.
 */
export interface Icmp {
  /** 8 for an echo request, 0 for an echo reply. */
  type: number;
  /** The code; 0 for echoes. */
  code: number;
  /** Identifier (bytes 4-5). */
  id: number;
  /** Sequence number (bytes 6-7). */
  seq: number;
  /** Everything after the 8-byte header. */
  data: Uint8Array;
  /** Set by {@linkcode decodeFrame}: whether the ICMP checksum is right. Ignored on write. */
  checksumOk?: boolean;
}

/**
 * A UDP datagram (RFC 768). Its length field is written as 8 plus the data's length, and its checksum is
 * computed over the IPv4 pseudo-header, the header and the data; a computed 0 goes out as 0xffff, 0 being
 * "no checksum".
 */
export interface Udp {
  /** Source port. */
  srcPort: number;
  /** Destination port. */
  dstPort: number;
  /** Everything after the 8-byte header. */
  data: Uint8Array;
  /**
   * No checksum: the checksum field is 0, which RFC 768 allows over IPv4 ("the transmitter generated no
   * checksum"). Set by {@linkcode decodeFrame} when it reads a 0, and then `checksumOk` is left out, there
   * being nothing to verify; on write, 0 goes out instead of the checksum. @default {false}
   */
  noChecksum?: boolean;
  /** Set by {@linkcode decodeFrame}: whether the UDP checksum is right. Ignored on write. */
  checksumOk?: boolean;
}

/**
 * A TCP segment (RFC 9293). The data offset (header length) follows from `options`, and the checksum is
 * computed over the IPv4 pseudo-header, the header and the data.
 */
export interface Tcp {
  /** Source port. */
  srcPort: number;
  /** Destination port. */
  dstPort: number;
  /** Sequence number, 0 to 2^32-1. */
  seq: number;
  /** Acknowledgment number, 0 to 2^32-1; significant when `flags` has {@linkcode TCP_ACK}. */
  ack: number;
  /**
   * The control bits, {@linkcode TCP_FIN} to {@linkcode TCP_CWR} (0-255) or-ed together, and above them
   * the 4 bits RFC 9293 reserves (0x100 is RFC 3540's NS), kept so that a segment re-encodes as read.
   */
  flags: number;
  /** Window size, unscaled as on the wire. */
  window: number;
  /** Urgent pointer; significant when `flags` has {@linkcode TCP_URG}. */
  urgent: number;
  /** The options after the 20-byte header, padding included: a multiple of 4 bytes, at most 40. */
  options: Uint8Array;
  /** Everything after the header. */
  data: Uint8Array;
  /** Set by {@linkcode decodeFrame}: whether the TCP checksum is right. Ignored on write. */
  checksumOk?: boolean;
}

/**
 * An IPv4 packet (RFC 791) without options; {@linkcode decodeFrame} skips options it finds. ICMP, UDP and
 * TCP are decoded into `icmp`, `udp` and `tcp` unless the packet is a fragment (and UDP unless its
 * length field disagrees with the packet's); anything else is `payload`.
 */
export interface Ipv4 {
  /** Source address, dotted quad. */
  src: string;
  /** Destination address. */
  dst: string;
  /** IP protocol number: 1 ICMP, 6 TCP, 17 UDP. */
  protocol: number;
  /** Time to live. */
  ttl: number;
  /** Identification field. */
  id: number;
  /** Type of service byte (DSCP and ECN); decoded only when not 0. @default {0} */
  tos?: number;
  /** The 3 flag bits: 2 is "don't fragment", 1 "more fragments"; decoded only when not 0. @default {0} */
  flags?: number;
  /** Fragment offset in 8-byte units; decoded only when not 0. @default {0} */
  fragmentOffset?: number;
  /** Set by {@linkcode decodeFrame}: whether the header checksum is right. Ignored on write. */
  checksumOk?: boolean;
  /** The ICMP message, when `protocol` is 1. */
  icmp?: Icmp;
  /** The UDP datagram, when `protocol` is 17. */
  udp?: Udp;
  /** The TCP segment, when `protocol` is 6. */
  tcp?: Tcp;
  /** The bytes after the header, when there is no `icmp`, `udp` or `tcp`; none means empty. */
  payload?: Uint8Array;
}

/**
 * An Ethernet frame. At most one of `arp`, `ipv4` and `payload` is set, and `etherType` must agree with
 * it. Tags are written with PCP 0 and DEI 0; their PCP and DEI are not decoded.
 */
export interface Frame {
  /** Destination MAC, lower-case colon form. */
  dst: string;
  /** Source MAC. */
  src: string;
  /** VLAN IDs of the tags, outer first; empty when untagged. */
  vlans: number[];
  /** The tags' TPIDs, one per VLAN: 0x8100 (802.1Q) or 0x88a8 (802.1ad). */
  tpids: number[];
  /** The EtherType after the tags: 0x0800 IPv4, 0x0806 ARP, ... */
  etherType: number;
  /** The ARP packet, when `etherType` is 0x0806 and it is ARP for IPv4 over Ethernet. */
  arp?: Arp;
  /** The IPv4 packet, when `etherType` is 0x0800. */
  ipv4?: Ipv4;
  /**
   * The bytes after the EtherType for other frames, padding included when decoded; none means empty.
   */
  payload?: Uint8Array;
}

function checkUint(value: number, max: number, field: string): void {
  if (!(Number.isInteger(value) && value >= 0 && value <= max)) {
    throw new RangeError(
      `Cannot encode frame as '${field}' must be an integer 0-${max}: current value is ${value}`,
    );
  }
}

/** The length of the IPv4 packet (header and payload). */
function ipv4Length(ip: Ipv4): number {
  const { icmp, udp, tcp } = ip;
  return IPV4_HEADER_BYTES +
    (icmp !== undefined
      ? ICMP_HEADER_BYTES + icmp.data.length
      : udp !== undefined
      ? UDP_HEADER_BYTES + udp.data.length
      : tcp !== undefined
      ? TCP_HEADER_BYTES + tcp.options.length + tcp.data.length
      : ip.payload?.length ?? 0);
}

/** The frame's length before padding. */
function unpaddedLength(frame: Frame): number {
  const body = frame.arp !== undefined
    ? ARP_IPV4_BYTES
    : frame.ipv4 !== undefined
    ? ipv4Length(frame.ipv4)
    : frame.payload?.length ?? 0;
  return ETHERNET_HEADER_BYTES + VLAN_TAG_BYTES * frame.vlans.length + body;
}

/**
 * How many bytes {@linkcode writeFrame} writes for `frame`: its headers and body, padded to 60.
 *
 * @param frame The frame.
 * @returns The encoded length, at least 60.
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { arpRequest, frameLength, icmpEcho } from "labwire";
 * assert.equal(frameLength(arpRequest({ srcMac: "52:54:00:00:00:01", srcIp: "10.0.0.1", targetIp: "10.0.0.2" })), 60);
 * const echo = icmpEcho({ srcMac: "52:54:00:00:00:01", dstMac: "52:54:00:00:00:02", srcIp: "10.0.0.1", dstIp: "10.0.0.2", id: 1, seq: 1, data: new Uint8Array(56) });
 * assert.equal(frameLength(echo), 98);
 * ```
 */
export function frameLength(frame: Frame): number {
  return Math.max(ETHERNET_MIN_FRAME, unpaddedLength(frame));
}

/** Throws when the frame's parts do not fit together. */
function checkShape(frame: Frame): void {
  const { arp, ipv4, payload, etherType, vlans, tpids } = frame;
  const parts = (arp !== undefined ? 1 : 0) + (ipv4 !== undefined ? 1 : 0) + (payload !== undefined ? 1 : 0);
  if (parts > 1) {
    throw new TypeError("Cannot encode frame as it has more than one of 'arp', 'ipv4' and 'payload'");
  }
  checkUint(etherType, 0xffff, "etherType");
  if (isVlanTpid(etherType)) {
    throw new TypeError(
      `Cannot encode frame as 'etherType' ${hex16(etherType)} is a VLAN TPID: put tags in 'vlans'`,
    );
  }
  if (arp !== undefined && etherType !== ETHERTYPE_ARP) {
    throw new TypeError(
      `Cannot encode frame as 'arp' needs EtherType 0x0806: current value is ${hex16(etherType)}`,
    );
  }
  if (ipv4 !== undefined && etherType !== ETHERTYPE_IPV4) {
    throw new TypeError(
      `Cannot encode frame as 'ipv4' needs EtherType 0x0800: current value is ${hex16(etherType)}`,
    );
  }
  if (vlans.length !== tpids.length) {
    throw new TypeError(
      `Cannot encode frame as it has ${vlans.length} VLANs and ${tpids.length} TPIDs: expected one TPID per VLAN`,
    );
  }
  for (const vid of vlans) {
    if (!(Number.isInteger(vid) && vid >= 0 && vid <= VLAN_ID_MAX)) {
      throw new RangeError(`Cannot encode frame as VLAN ID must be 0-4095: current value is ${vid}`);
    }
  }
  for (const tpid of tpids) {
    if (!isVlanTpid(tpid)) {
      throw new RangeError(
        `Cannot encode frame as TPID must be 0x8100 or 0x88a8: current value is ${hex16(tpid)}`,
      );
    }
  }
  if (arp !== undefined) checkUint(arp.op, 0xffff, "arp.op");
  if (ipv4 !== undefined) {
    checkUint(ipv4.protocol, 0xff, "ipv4.protocol");
    checkUint(ipv4.ttl, 0xff, "ipv4.ttl");
    checkUint(ipv4.id, 0xffff, "ipv4.id");
    checkUint(ipv4.tos ?? 0, 0xff, "ipv4.tos");
    checkUint(ipv4.flags ?? 0, 0b111, "ipv4.flags");
    checkUint(ipv4.fragmentOffset ?? 0, 0x1fff, "ipv4.fragmentOffset");
    const { icmp, udp, tcp } = ipv4;
    const bodies = (icmp !== undefined ? 1 : 0) + (udp !== undefined ? 1 : 0) + (tcp !== undefined ? 1 : 0) +
      (ipv4.payload !== undefined ? 1 : 0);
    if (bodies > 1) throw ipv4BodiesError(ipv4);
    if (icmp !== undefined) {
      if (ipv4.protocol !== IPPROTO_ICMP) {
        throw new TypeError(
          `Cannot encode frame as 'ipv4.icmp' needs protocol 1: current value is ${ipv4.protocol}`,
        );
      }
      checkUint(icmp.type, 0xff, "ipv4.icmp.type");
      checkUint(icmp.code, 0xff, "ipv4.icmp.code");
      checkUint(icmp.id, 0xffff, "ipv4.icmp.id");
      checkUint(icmp.seq, 0xffff, "ipv4.icmp.seq");
    }
    if (udp !== undefined) {
      if (ipv4.protocol !== IPPROTO_UDP) {
        throw new TypeError(
          `Cannot encode frame as 'ipv4.udp' needs protocol 17: current value is ${ipv4.protocol}`,
        );
      }
      checkUint(udp.srcPort, 0xffff, "ipv4.udp.srcPort");
      checkUint(udp.dstPort, 0xffff, "ipv4.udp.dstPort");
    }
    if (tcp !== undefined) {
      if (ipv4.protocol !== IPPROTO_TCP) {
        throw new TypeError(
          `Cannot encode frame as 'ipv4.tcp' needs protocol 6: current value is ${ipv4.protocol}`,
        );
      }
      checkUint(tcp.srcPort, 0xffff, "ipv4.tcp.srcPort");
      checkUint(tcp.dstPort, 0xffff, "ipv4.tcp.dstPort");
      checkUint(tcp.seq, 0xffff_ffff, "ipv4.tcp.seq");
      checkUint(tcp.ack, 0xffff_ffff, "ipv4.tcp.ack");
      checkUint(tcp.flags, 0xfff, "ipv4.tcp.flags");
      checkUint(tcp.window, 0xffff, "ipv4.tcp.window");
      checkUint(tcp.urgent, 0xffff, "ipv4.tcp.urgent");
      const n = tcp.options.length;
      if (n % 4 !== 0 || n > TCP_OPTIONS_MAX_BYTES) {
        throw new RangeError(
          `Cannot encode frame as 'ipv4.tcp.options' must be a multiple of 4 bytes, at most 40: current length is ${n}`,
        );
      }
    }
    const total = ipv4Length(ipv4);
    if (total > 0xffff) {
      throw new RangeError(`Cannot encode frame as the IPv4 packet would have ${total} bytes: at most 65535`);
    }
  }
}

/** Names the bodies of an IPv4 packet that has more than one. Off the hot path: it allocates. */
function ipv4BodiesError(ip: Ipv4): TypeError {
  const names = (["icmp", "udp", "tcp", "payload"] as const).filter((k) => ip[k] !== undefined);
  return new TypeError(
    names.length === 2
      ? `Cannot encode frame as 'ipv4' has both '${names[0]}' and '${names[1]}'`
      : "Cannot encode frame as 'ipv4' has more than one of 'icmp', 'udp', 'tcp' and 'payload'",
  );
}

/**
 * The Internet checksum (RFC 1071) of `buf[off..off+len)`: the ones' complement of the ones' complement sum.
 * `initial` is a sum to start from, e.g. of a pseudo-header ({@linkcode pseudoHeaderSum}).
 */
function internetChecksum(buf: Uint8Array, off: number, len: number, initial = 0): number {
  let sum = initial;
  const end = off + len - 1;
  let i = off;
  for (; i < end; i += 2) sum += buf[i]! << 8 | buf[i + 1]!;
  if (i === end) sum += buf[i]! << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/**
 * The sum of the IPv4 pseudo-header's 16-bit words (RFC 768, RFC 9293 3.1): source and destination
 * addresses, zero and protocol, and the UDP or TCP length. Unfolded: {@linkcode internetChecksum} folds.
 */
function pseudoHeaderSum(src: number, dst: number, protocol: number, length: number): number {
  return (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + protocol + length;
}

/** {@linkcode pseudoHeaderSum} of the IPv4 header at `buf[ip..]`, read from its bytes. */
function pseudoHeaderSumAt(buf: Uint8Array, ip: number, protocol: number, length: number): number {
  return get16(buf, ip + 12) + get16(buf, ip + 14) + get16(buf, ip + 16) + get16(buf, ip + 18) + protocol +
    length;
}

function put16(buf: Uint8Array, o: number, v: number): number {
  buf[o] = v >>> 8;
  buf[o + 1] = v & 0xff;
  return o + 2;
}

function put32(buf: Uint8Array, o: number, v: number): number {
  buf[o] = v >>> 24;
  buf[o + 1] = v >>> 16 & 0xff;
  buf[o + 2] = v >>> 8 & 0xff;
  buf[o + 3] = v & 0xff;
  return o + 4;
}

function get16(buf: Uint8Array, o: number): number {
  return buf[o]! << 8 | buf[o + 1]!;
}

function get32(buf: Uint8Array, o: number): number {
  return (buf[o]! << 24 | buf[o + 1]! << 16 | buf[o + 2]! << 8 | buf[o + 3]!) >>> 0;
}

function putBytes(buf: Uint8Array, o: number, bytes: Uint8Array): number {
  buf.set(bytes, o);
  return o + bytes.length;
}

function writeArp(arp: Arp, buf: Uint8Array, o: number): number {
  o = put16(buf, o, ARP_HTYPE_ETHERNET);
  o = put16(buf, o, ETHERTYPE_IPV4);
  buf[o++] = 6;
  buf[o++] = 4;
  o = put16(buf, o, arp.op);
  o = writeMac48(buf, o, macFromString(arp.senderMac));
  o = put32(buf, o, ipv4FromString(arp.senderIp));
  o = writeMac48(buf, o, macFromString(arp.targetMac));
  return put32(buf, o, ipv4FromString(arp.targetIp));
}

function writeIpv4(ip: Ipv4, buf: Uint8Array, o: number): number {
  const start = o;
  const src = ipv4FromString(ip.src);
  const dst = ipv4FromString(ip.dst);
  buf[o++] = 0x45; // version 4, IHL 5 (20 bytes)
  buf[o++] = ip.tos ?? 0;
  o = put16(buf, o, ipv4Length(ip));
  o = put16(buf, o, ip.id);
  o = put16(buf, o, (ip.flags ?? 0) << 13 | (ip.fragmentOffset ?? 0));
  buf[o++] = ip.ttl;
  buf[o++] = ip.protocol;
  o = put16(buf, o, 0); // checksum, below
  o = put32(buf, o, src);
  o = put32(buf, o, dst);
  put16(buf, start + 10, internetChecksum(buf, start, IPV4_HEADER_BYTES));
  const { icmp } = ip;
  if (icmp === undefined) {
    if (ip.udp !== undefined) return writeUdp(ip.udp, buf, o, pseudoHeaderSum(src, dst, IPPROTO_UDP, 0));
    if (ip.tcp !== undefined) return writeTcp(ip.tcp, buf, o, pseudoHeaderSum(src, dst, IPPROTO_TCP, 0));
    return ip.payload === undefined ? o : putBytes(buf, o, ip.payload);
  }
  const icmpStart = o;
  buf[o++] = icmp.type;
  buf[o++] = icmp.code;
  o = put16(buf, o, 0);
  o = put16(buf, o, icmp.id);
  o = put16(buf, o, icmp.seq);
  o = putBytes(buf, o, icmp.data);
  put16(buf, icmpStart + 2, internetChecksum(buf, icmpStart, o - icmpStart));
  return o;
}

/** Writes a UDP datagram; `pseudo` is the pseudo-header's sum without the length. */
function writeUdp(udp: Udp, buf: Uint8Array, o: number, pseudo: number): number {
  const start = o;
  const length = UDP_HEADER_BYTES + udp.data.length;
  o = put16(buf, o, udp.srcPort);
  o = put16(buf, o, udp.dstPort);
  o = put16(buf, o, length);
  o = put16(buf, o, 0); // checksum, below
  o = putBytes(buf, o, udp.data);
  if (udp.noChecksum !== true) {
    const sum = internetChecksum(buf, start, length, pseudo + length);
    put16(buf, start + 6, sum === 0 ? 0xffff : sum); // RFC 768: a computed 0 is sent as all ones
  }
  return o;
}

/** Writes a TCP segment; `pseudo` is the pseudo-header's sum without the length. */
function writeTcp(tcp: Tcp, buf: Uint8Array, o: number, pseudo: number): number {
  const start = o;
  o = put16(buf, o, tcp.srcPort);
  o = put16(buf, o, tcp.dstPort);
  o = put32(buf, o, tcp.seq);
  o = put32(buf, o, tcp.ack);
  // data offset in 32-bit words, the 4 reserved bits, then the 8 control bits
  buf[o++] = (TCP_HEADER_BYTES + tcp.options.length) << 2 | tcp.flags >>> 8;
  buf[o++] = tcp.flags & 0xff;
  o = put16(buf, o, tcp.window);
  o = put16(buf, o, 0); // checksum, below
  o = put16(buf, o, tcp.urgent);
  o = putBytes(buf, o, tcp.options);
  o = putBytes(buf, o, tcp.data);
  put16(buf, start + 16, internetChecksum(buf, start, o - start, pseudo + (o - start)));
  return o;
}

/**
 * Writes a frame into `buf` at `offset` (STYLE R13): headers, tags, body, then zeros up to 60 bytes.
 * Computes the IPv4 header, ICMP, UDP and TCP checksums, the last two over the IPv4 pseudo-header.
 *
 * @param frame The frame.
 * @param buf Where it goes.
 * @param offset Where in `buf` it starts.
 * @returns The offset after the frame, `offset + frameLength(frame)`.
 * @throws {TypeError} If the frame's parts do not fit together (two bodies, a body that disagrees with
 * `etherType`, a TPID as `etherType`, one TPID per VLAN missing).
 * @throws {RangeError} If a field is out of range or the frame does not fit in `buf` at `offset`.
 * @throws {SyntaxError} If a MAC or IPv4 address cannot be parsed (a {@linkcode MacError} for MACs).
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { arpRequest, decodeFrame, writeFrame } from "labwire";
 * const buf = new Uint8Array(1600);
 * const frame = arpRequest({ srcMac: "52:54:00:00:00:01", srcIp: "10.0.0.1", targetIp: "10.0.0.2" });
 * const end = writeFrame(frame, buf, 10);
 * assert.equal(end, 70);
 * assert.deepEqual(decodeFrame(buf, 10, end - 10), frame);
 * ```
 */
export function writeFrame(frame: Frame, buf: Uint8Array, offset: number): number {
  checkShape(frame);
  const dst = macFromString(frame.dst);
  const src = macFromString(frame.src);
  const n = frameLength(frame);
  if (!(Number.isInteger(offset) && offset >= 0 && offset + n <= buf.length)) {
    throw frameBoundsError("write", n, offset, buf.length);
  }
  let o = writeMac48(buf, offset, dst);
  o = writeMac48(buf, o, src);
  const { vlans, tpids } = frame;
  for (let i = 0; i < vlans.length; i++) {
    o = put16(buf, o, tpids[i]!);
    o = put16(buf, o, vlans[i]!);
  }
  o = put16(buf, o, frame.etherType);
  if (frame.arp !== undefined) o = writeArp(frame.arp, buf, o);
  else if (frame.ipv4 !== undefined) o = writeIpv4(frame.ipv4, buf, o);
  else if (frame.payload !== undefined) o = putBytes(buf, o, frame.payload);
  const end = offset + n;
  buf.fill(0, o, end);
  return end;
}

/**
 * Encodes a frame into a new array of exactly {@linkcode frameLength} bytes; see {@linkcode writeFrame}.
 *
 * @param frame The frame.
 * @returns Its bytes.
 * @throws {TypeError | RangeError | SyntaxError} As {@linkcode writeFrame}.
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { arpRequest, encodeFrame } from "labwire";
 * const bytes = encodeFrame(arpRequest({ srcMac: "52:54:00:00:00:01", srcIp: "10.0.0.1", targetIp: "10.0.0.2" }));
 * assert.equal(bytes.length, 60);
 * assert.deepEqual([...bytes.subarray(12, 14)], [0x08, 0x06]);
 * ```
 */
export function encodeFrame(frame: Frame): Uint8Array {
  const buf = new Uint8Array(frameLength(frame));
  writeFrame(frame, buf, 0);
  return buf;
}

function macAt(buf: Uint8Array, o: number): string {
  return `${HEX[buf[o]!]}:${HEX[buf[o + 1]!]}:${HEX[buf[o + 2]!]}:${HEX[buf[o + 3]!]}:${HEX[buf[o + 4]!]}:${
    HEX[buf[o + 5]!]
  }`;
}

/**
 * A plain `Uint8Array` copy of `buf[start..end)`. Not `buf.slice()`: on a Node `Buffer` (what
 * `readFileSync` returns) `slice` is a view, and its result would be a `Buffer`.
 */
function copyOut(buf: Uint8Array, start: number, end: number): Uint8Array {
  const out = new Uint8Array(end - start);
  out.set(buf.subarray(start, end));
  return out;
}

function ipAt(buf: Uint8Array, o: number): string {
  return `${buf[o]}.${buf[o + 1]}.${buf[o + 2]}.${buf[o + 3]}`;
}

/** Reads the IPv4 packet at `buf[o..end)`; `base` is the frame's start, for offsets in messages. */
function readIpv4(buf: Uint8Array, o: number, end: number, base: number): Ipv4 {
  const at = o - base;
  const frameLen = end - base;
  if (end - o < IPV4_HEADER_BYTES) {
    throw new RangeError(
      `Cannot read IPv4 header at offset ${at}: frame has ${frameLen} bytes, needs ${at + IPV4_HEADER_BYTES}`,
    );
  }
  const version = buf[o]! >>> 4;
  if (version !== 4) {
    throw new SyntaxError(`Cannot read IPv4 header at offset ${at}: version is ${version}, expected 4`);
  }
  const headerLen = (buf[o]! & 0x0f) * 4;
  if (headerLen < IPV4_HEADER_BYTES) {
    throw new SyntaxError(
      `Cannot read IPv4 header at offset ${at}: header length is ${headerLen} bytes, at least 20`,
    );
  }
  const total = get16(buf, o + 2);
  if (total < headerLen) {
    throw new SyntaxError(
      `Cannot read IPv4 header at offset ${at}: total length ${total} is less than the header length ${headerLen}`,
    );
  }
  if (total > end - o) {
    throw new RangeError(
      `Cannot read IPv4 packet at offset ${at}: total length is ${total} bytes, frame has ${
        end - o
      } from there`,
    );
  }
  const frag = get16(buf, o + 6);
  const ip: Ipv4 = {
    src: ipAt(buf, o + 12),
    dst: ipAt(buf, o + 16),
    protocol: buf[o + 9]!,
    ttl: buf[o + 8]!,
    id: get16(buf, o + 4),
    checksumOk: internetChecksum(buf, o, headerLen) === 0,
  };
  const tos = buf[o + 1]!;
  if (tos !== 0) ip.tos = tos;
  const flags = frag >>> 13;
  if (flags !== 0) ip.flags = flags;
  const fragmentOffset = frag & 0x1fff;
  if (fragmentOffset !== 0) ip.fragmentOffset = fragmentOffset;
  const p = o + headerLen;
  const pEnd = o + total;
  const whole = fragmentOffset === 0 && (flags & IPV4_FLAG_MF) === 0;
  if (ip.protocol === IPPROTO_ICMP && whole) {
    if (pEnd - p < ICMP_HEADER_BYTES) {
      throw new RangeError(
        `Cannot read ICMP header at offset ${p - base}: IPv4 payload has ${
          pEnd - p
        } bytes, needs ${ICMP_HEADER_BYTES}`,
      );
    }
    ip.icmp = {
      type: buf[p]!,
      code: buf[p + 1]!,
      id: get16(buf, p + 4),
      seq: get16(buf, p + 6),
      data: copyOut(buf, p + ICMP_HEADER_BYTES, pEnd),
      checksumOk: internetChecksum(buf, p, pEnd - p) === 0,
    };
  } else if (ip.protocol === IPPROTO_UDP && whole && isWholeUdp(buf, p, pEnd, base)) {
    ip.udp = readUdp(buf, p, pEnd, o);
  } else if (ip.protocol === IPPROTO_TCP && whole) {
    ip.tcp = readTcp(buf, p, pEnd, o, base);
  } else if (pEnd > p) {
    ip.payload = copyOut(buf, p, pEnd);
  }
  return ip;
}

/**
 * Whether the IPv4 payload `buf[p..pEnd)` is one UDP datagram: its length field says the payload's
 * length. One that says more (cut short) or less (bytes after it) stays `payload`, so that it re-encodes
 * as read.
 */
function isWholeUdp(buf: Uint8Array, p: number, pEnd: number, base: number): boolean {
  if (pEnd - p < UDP_HEADER_BYTES) {
    throw new RangeError(
      `Cannot read UDP header at offset ${p - base}: IPv4 payload has ${
        pEnd - p
      } bytes, needs ${UDP_HEADER_BYTES}`,
    );
  }
  return get16(buf, p + 4) === pEnd - p;
}

/** Reads the UDP datagram at `buf[p..pEnd)` of the IPv4 packet at `buf[ip..]`. */
function readUdp(buf: Uint8Array, p: number, pEnd: number, ip: number): Udp {
  const udp: Udp = {
    srcPort: get16(buf, p),
    dstPort: get16(buf, p + 2),
    data: copyOut(buf, p + UDP_HEADER_BYTES, pEnd),
  };
  if (get16(buf, p + 6) === 0) {
    udp.noChecksum = true;
  } else {
    const length = pEnd - p;
    udp.checksumOk = internetChecksum(buf, p, length, pseudoHeaderSumAt(buf, ip, IPPROTO_UDP, length)) === 0;
  }
  return udp;
}

/**
 * Reads the TCP segment at `buf[p..pEnd)` of the IPv4 packet at `buf[ip..]`; `base` is the frame's start,
 * for offsets in messages.
 */
function readTcp(buf: Uint8Array, p: number, pEnd: number, ip: number, base: number): Tcp {
  const at = p - base;
  const length = pEnd - p;
  if (length < TCP_HEADER_BYTES) {
    throw new RangeError(
      `Cannot read TCP header at offset ${at}: IPv4 payload has ${length} bytes, needs ${TCP_HEADER_BYTES}`,
    );
  }
  const headerLen = (buf[p + 12]! >>> 4) * 4;
  if (headerLen < TCP_HEADER_BYTES) {
    throw new SyntaxError(
      `Cannot read TCP header at offset ${at}: header length is ${headerLen} bytes, at least 20`,
    );
  }
  if (headerLen > length) {
    throw new RangeError(
      `Cannot read TCP header at offset ${at}: header length is ${headerLen} bytes, IPv4 payload has ${length}`,
    );
  }
  return {
    srcPort: get16(buf, p),
    dstPort: get16(buf, p + 2),
    seq: get32(buf, p + 4),
    ack: get32(buf, p + 8),
    flags: (buf[p + 12]! & 0x0f) << 8 | buf[p + 13]!,
    window: get16(buf, p + 14),
    urgent: get16(buf, p + 18),
    // most segments have no options: share the empty array rather than allocate one
    options: headerLen > TCP_HEADER_BYTES ? copyOut(buf, p + TCP_HEADER_BYTES, p + headerLen) : EMPTY,
    data: copyOut(buf, p + headerLen, pEnd),
    checksumOk: internetChecksum(buf, p, length, pseudoHeaderSumAt(buf, ip, IPPROTO_TCP, length)) === 0,
  };
}

/**
 * Decodes the frame at `buf[offset..offset+length)`. Every byte array in the result is a copy, so the
 * frame outlives `buf`'s contents. Padding after an ARP or IPv4 packet is dropped; other frames keep it in
 * `payload`. A wrong IPv4, ICMP, UDP or TCP checksum does not throw: `checksumOk` says so; a UDP checksum
 * of 0 means none (RFC 768) and is read as `noChecksum: true`.
 *
 * @param buf The bytes.
 * @param offset Where the frame starts. @default {0}
 * @param length The frame's length. @default {buf.length - offset}
 * @returns The frame.
 * @throws {RangeError} If the frame is not inside `buf`, or is too short for a header it announces:
 * `Cannot read 802.1Q tag at offset 12: frame has 14 bytes, needs 18`,
 * `Cannot read UDP header at offset 34: IPv4 payload has 4 bytes, needs 8`.
 * @throws {SyntaxError} If an IPv4 header is malformed (version, header or total length), or a TCP
 * header's data offset is under 5.
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeFrame, encodeFrame, icmpEcho } from "labwire";
 * const frame = icmpEcho({ srcMac: "52:54:00:00:00:01", dstMac: "52:54:00:00:00:02", srcIp: "10.0.0.1", dstIp: "10.0.0.2", id: 7, seq: 3 });
 * const decoded = decodeFrame(encodeFrame(frame));
 * assert.equal(decoded.ipv4?.icmp?.seq, 3);
 * assert.equal(decoded.ipv4?.checksumOk, true);
 * assert.equal(decoded.ipv4?.icmp?.checksumOk, true);
 * ```
 */
export function decodeFrame(buf: Uint8Array, offset = 0, length: number = buf.length - offset): Frame {
  checkFrameBytes(buf, offset, length);
  const end = offset + length;
  const vlans: number[] = [];
  const tpids: number[] = [];
  let o = offset + ETHERNET_MACS_BYTES;
  let type = get16(buf, o);
  while (isVlanTpid(type)) {
    if (end - o < VLAN_TAG_BYTES + 2) throw tagError(type, o - offset, length);
    tpids.push(type);
    vlans.push(get16(buf, o + 2) & 0x0fff);
    o += VLAN_TAG_BYTES;
    type = get16(buf, o);
  }
  o += 2;
  const frame: Frame = {
    dst: macAt(buf, offset),
    src: macAt(buf, offset + 6),
    vlans,
    tpids,
    etherType: type,
  };
  if (
    type === ETHERTYPE_ARP && end - o >= 8 && get16(buf, o) === ARP_HTYPE_ETHERNET &&
    get16(buf, o + 2) === ETHERTYPE_IPV4 && buf[o + 4] === 6 && buf[o + 5] === 4
  ) {
    if (end - o < ARP_IPV4_BYTES) {
      throw new RangeError(
        `Cannot read ARP packet at offset ${o - offset}: frame has ${length} bytes, needs ${
          o - offset + ARP_IPV4_BYTES
        }`,
      );
    }
    frame.arp = {
      op: get16(buf, o + 6),
      senderMac: macAt(buf, o + 8),
      senderIp: ipAt(buf, o + 14),
      targetMac: macAt(buf, o + 18),
      targetIp: ipAt(buf, o + 24),
    };
  } else if (type === ETHERTYPE_IPV4) {
    frame.ipv4 = readIpv4(buf, o, end, offset);
  } else if (end > o) {
    frame.payload = copyOut(buf, o, end);
  }
  return frame;
}

// ---------------------------------------------------------------------------------------------------
// Building common frames

/** Tags for the frames the builders make. */
export interface FrameTagOptions {
  /** VLAN IDs of the tags, outer first. @default {[]} */
  vlans?: number[];
  /** Their TPIDs, one per VLAN. @default {vlans.map(() => 0x8100)} */
  tpids?: number[];
}

/** Options for {@linkcode arpRequest}. */
export interface ArpRequestOptions extends FrameTagOptions {
  /** The asker's MAC. */
  srcMac: string;
  /** The asker's IPv4 address. */
  srcIp: string;
  /** The address whose MAC is wanted. */
  targetIp: string;
}

/** Options for {@linkcode arpReply}. */
export interface ArpReplyOptions extends FrameTagOptions {
  /** The answering host's MAC: the answer. */
  srcMac: string;
  /** The answering host's IPv4 address: the address asked about. */
  srcIp: string;
  /** The asker's MAC. */
  dstMac: string;
  /** The asker's IPv4 address. */
  dstIp: string;
}

/** Options for {@linkcode icmpEcho}. */
export interface IcmpEchoOptions extends FrameTagOptions {
  /** Sender's MAC. */
  srcMac: string;
  /** Next hop's MAC. */
  dstMac: string;
  /** Sender's IPv4 address. */
  srcIp: string;
  /** Destination IPv4 address. */
  dstIp: string;
  /** Echo identifier. */
  id: number;
  /** Echo sequence number. */
  seq: number;
  /** An echo reply (type 0) rather than a request (type 8). @default {false} */
  reply?: boolean;
  /** The echo's data. @default {new Uint8Array(0)} */
  data?: Uint8Array;
  /** Time to live. @default {64} */
  ttl?: number;
  /** IPv4 identification field. @default {0} */
  ipId?: number;
}

/** Options for {@linkcode udpDatagram}. */
export interface UdpDatagramOptions extends FrameTagOptions {
  /** Sender's MAC. */
  srcMac: string;
  /** Next hop's MAC. */
  dstMac: string;
  /** Sender's IPv4 address. */
  srcIp: string;
  /** Destination IPv4 address. */
  dstIp: string;
  /** Source port. */
  srcPort: number;
  /** Destination port. */
  dstPort: number;
  /** The datagram's data. @default {new Uint8Array(0)} */
  data?: Uint8Array;
  /** Send no checksum (0), as RFC 768 allows over IPv4. @default {false} */
  noChecksum?: boolean;
  /** Time to live. @default {64} */
  ttl?: number;
  /** IPv4 identification field. @default {0} */
  ipId?: number;
}

/** Options for {@linkcode tcpSegment}. */
export interface TcpSegmentOptions extends FrameTagOptions {
  /** Sender's MAC. */
  srcMac: string;
  /** Next hop's MAC. */
  dstMac: string;
  /** Sender's IPv4 address. */
  srcIp: string;
  /** Destination IPv4 address. */
  dstIp: string;
  /** Source port. */
  srcPort: number;
  /** Destination port. */
  dstPort: number;
  /** Sequence number. @default {0} */
  seq?: number;
  /** Acknowledgment number. @default {0} */
  ack?: number;
  /**
   * Control bits, e.g. `TCP_SYN | TCP_ACK`: by default a SYN, the segment that opens a connection (as
   * {@linkcode icmpEcho} makes a request by default). @default {TCP_SYN}
   */
  flags?: number;
  /** Window size. @default {64240} (what Linux offers in a SYN over Ethernet) */
  window?: number;
  /** Urgent pointer. @default {0} */
  urgent?: number;
  /** TCP options, padding included: a multiple of 4 bytes, at most 40. @default {new Uint8Array(0)} */
  options?: Uint8Array;
  /** The segment's data. @default {new Uint8Array(0)} */
  data?: Uint8Array;
  /** Time to live. @default {64} */
  ttl?: number;
  /** IPv4 identification field. @default {0} */
  ipId?: number;
}

function tags(options: FrameTagOptions): { vlans: number[]; tpids: number[] } {
  const vlans = [...options.vlans ?? []];
  const tpids = options.tpids !== undefined ? [...options.tpids] : vlans.map(() => ETHERTYPE_8021Q);
  return { vlans, tpids };
}

function normalMac(s: string): string {
  return macToString(macFromString(s));
}

function normalIp(s: string): string {
  return ipv4ToString(ipv4FromString(s));
}

/**
 * An ARP request, broadcast: "who has `targetIp`? tell `srcIp`".
 *
 * @param options The asker and the address asked about.
 * @returns The frame; MACs and addresses normalised.
 * @throws {SyntaxError} If a MAC or IPv4 address cannot be parsed.
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { arpRequest, describeFrame } from "labwire";
 * const frame = arpRequest({ srcMac: "52:54:00:00:00:01", srcIp: "10.0.0.1", targetIp: "10.0.0.2", vlans: [100] });
 * assert.equal(describeFrame(frame), "52:54:00:00:00:01 > ff:ff:ff:ff:ff:ff, vlan 100, ARP, Request who-has 10.0.0.2 tell 10.0.0.1");
 * ```
 */
export function arpRequest(options: ArpRequestOptions): Frame {
  const src = normalMac(options.srcMac);
  return {
    dst: "ff:ff:ff:ff:ff:ff",
    src,
    ...tags(options),
    etherType: ETHERTYPE_ARP,
    arp: {
      op: ARP_REQUEST,
      senderMac: src,
      senderIp: normalIp(options.srcIp),
      targetMac: "00:00:00:00:00:00",
      targetIp: normalIp(options.targetIp),
    },
  };
}

/**
 * An ARP reply, unicast to the asker: "`srcIp` is at `srcMac`".
 *
 * @param options The answering host and the asker.
 * @returns The frame; MACs and addresses normalised.
 * @throws {SyntaxError} If a MAC or IPv4 address cannot be parsed.
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { arpReply, describeFrame } from "labwire";
 * const frame = arpReply({ srcMac: "52:54:00:00:00:02", srcIp: "10.0.0.2", dstMac: "52:54:00:00:00:01", dstIp: "10.0.0.1" });
 * assert.equal(describeFrame(frame), "52:54:00:00:00:02 > 52:54:00:00:00:01, ARP, Reply 10.0.0.2 is-at 52:54:00:00:00:02");
 * ```
 */
export function arpReply(options: ArpReplyOptions): Frame {
  const src = normalMac(options.srcMac);
  const dst = normalMac(options.dstMac);
  return {
    dst,
    src,
    ...tags(options),
    etherType: ETHERTYPE_ARP,
    arp: {
      op: ARP_REPLY,
      senderMac: src,
      senderIp: normalIp(options.srcIp),
      targetMac: dst,
      targetIp: normalIp(options.dstIp),
    },
  };
}

/**
 * An ICMP echo request (or reply) in IPv4, flags 0, TOS 0.
 *
 * @param options Addresses, identifier, sequence number and data.
 * @returns The frame; MACs and addresses normalised.
 * @throws {SyntaxError} If a MAC or IPv4 address cannot be parsed.
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { describeFrame, icmpEcho } from "labwire";
 * const frame = icmpEcho({ srcMac: "52:54:00:00:00:02", dstMac: "52:54:00:00:00:01", srcIp: "10.0.0.2", dstIp: "10.0.0.1", id: 1, seq: 2, reply: true });
 * assert.equal(describeFrame(frame), "52:54:00:00:00:02 > 52:54:00:00:00:01, IPv4 10.0.0.2 > 10.0.0.1: ICMP echo reply, id 1, seq 2");
 * ```
 */
export function icmpEcho(options: IcmpEchoOptions): Frame {
  return {
    dst: normalMac(options.dstMac),
    src: normalMac(options.srcMac),
    ...tags(options),
    etherType: ETHERTYPE_IPV4,
    ipv4: {
      src: normalIp(options.srcIp),
      dst: normalIp(options.dstIp),
      protocol: IPPROTO_ICMP,
      ttl: options.ttl ?? IPV4_DEFAULT_TTL,
      id: options.ipId ?? 0,
      icmp: {
        type: options.reply === true ? ICMP_ECHO_REPLY : ICMP_ECHO_REQUEST,
        code: 0,
        id: options.id,
        seq: options.seq,
        data: options.data ?? EMPTY,
      },
    },
  };
}

/**
 * A UDP datagram in IPv4, flags 0, TOS 0; its checksum is computed when it is written.
 *
 * @param options Addresses, ports and data.
 * @returns The frame; MACs and addresses normalised.
 * @throws {SyntaxError} If a MAC or IPv4 address cannot be parsed.
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeFrame, describeFrame, encodeFrame, udpDatagram } from "labwire";
 * const frame = udpDatagram({
 *   srcMac: "52:54:00:00:00:01", dstMac: "52:54:00:00:00:02", srcIp: "10.0.0.1", dstIp: "10.0.0.2",
 *   srcPort: 40000, dstPort: 53, data: new Uint8Array(12), vlans: [100],
 * });
 * assert.equal(describeFrame(frame), "52:54:00:00:00:01 > 52:54:00:00:00:02, vlan 100, IPv4 10.0.0.1.40000 > 10.0.0.2.53: UDP, length 12");
 * assert.equal(decodeFrame(encodeFrame(frame)).ipv4?.udp?.checksumOk, true);
 * ```
 */
export function udpDatagram(options: UdpDatagramOptions): Frame {
  const udp: Udp = { srcPort: options.srcPort, dstPort: options.dstPort, data: options.data ?? EMPTY };
  if (options.noChecksum === true) udp.noChecksum = true;
  return {
    dst: normalMac(options.dstMac),
    src: normalMac(options.srcMac),
    ...tags(options),
    etherType: ETHERTYPE_IPV4,
    ipv4: {
      src: normalIp(options.srcIp),
      dst: normalIp(options.dstIp),
      protocol: IPPROTO_UDP,
      ttl: options.ttl ?? IPV4_DEFAULT_TTL,
      id: options.ipId ?? 0,
      udp,
    },
  };
}

/**
 * A TCP segment in IPv4, flags 0, TOS 0; by default a SYN with sequence number 0. Its checksum is computed
 * when it is written.
 *
 * @param options Addresses, ports, sequence and acknowledgment numbers, flags, window, options and data.
 * @returns The frame; MACs and addresses normalised.
 * @throws {SyntaxError} If a MAC or IPv4 address cannot be parsed.
 * @example A SYN-ACK with an MSS option
 * ```ts
 * import assert from "node:assert/strict";
 * import { describeFrame, TCP_ACK, TCP_SYN, tcpSegment } from "labwire";
 * const frame = tcpSegment({
 *   srcMac: "52:54:00:00:00:02", dstMac: "52:54:00:00:00:01", srcIp: "10.0.0.2", dstIp: "10.0.0.1",
 *   srcPort: 80, dstPort: 40000, seq: 5000, ack: 1001, flags: TCP_SYN | TCP_ACK,
 *   options: new Uint8Array([2, 4, 0x05, 0xb4]), // MSS 1460
 * });
 * assert.equal(
 *   describeFrame(frame),
 *   "52:54:00:00:00:02 > 52:54:00:00:00:01, IPv4 10.0.0.2.80 > 10.0.0.1.40000: Flags [S.], seq 5000, ack 1001, win 64240, length 0",
 * );
 * ```
 */
export function tcpSegment(options: TcpSegmentOptions): Frame {
  return {
    dst: normalMac(options.dstMac),
    src: normalMac(options.srcMac),
    ...tags(options),
    etherType: ETHERTYPE_IPV4,
    ipv4: {
      src: normalIp(options.srcIp),
      dst: normalIp(options.dstIp),
      protocol: IPPROTO_TCP,
      ttl: options.ttl ?? IPV4_DEFAULT_TTL,
      id: options.ipId ?? 0,
      tcp: {
        srcPort: options.srcPort,
        dstPort: options.dstPort,
        seq: options.seq ?? 0,
        ack: options.ack ?? 0,
        flags: options.flags ?? TCP_SYN,
        window: options.window ?? TCP_DEFAULT_WINDOW,
        urgent: options.urgent ?? 0,
        options: options.options ?? EMPTY,
        data: options.data ?? EMPTY,
      },
    },
  };
}

// ---------------------------------------------------------------------------------------------------
// Describing frames

/**
 * A TCP segment after `Flags [...]` as tcpdump prints it (print-tcp.c): the sequence numbers when the
 * segment has data or SYN, FIN or RST (`seq 1:101` for 100 bytes), `ack` with ACK, the window, `urg` with
 * URG, the data's length. Options are left out.
 */
function describeTcp(tcp: Tcp, details: boolean): string {
  let s = `Flags [${tcpFlagsText(tcp.flags)}]`;
  if (!details) return s;
  const length = tcp.data.length;
  if (length > 0 || (tcp.flags & (TCP_SYN | TCP_FIN | TCP_RST)) !== 0) {
    s += length > 0 ? `, seq ${tcp.seq}:${(tcp.seq + length) >>> 0}` : `, seq ${tcp.seq}`;
  }
  if ((tcp.flags & TCP_ACK) !== 0) s += `, ack ${tcp.ack}`;
  s += `, win ${tcp.window}`;
  if ((tcp.flags & TCP_URG) !== 0) s += `, urg ${tcp.urgent}`;
  return s + `, length ${length}`;
}

function describeIpv4(ip: Ipv4, ids: boolean, details: boolean, ttl: boolean): string {
  const { icmp, udp, tcp } = ip;
  let s: string;
  if (udp !== undefined) {
    s = `IPv4 ${ip.src}.${udp.srcPort} > ${ip.dst}.${udp.dstPort}: UDP`;
    if (details) s += `, length ${udp.data.length}`;
  } else if (tcp !== undefined) {
    s = `IPv4 ${ip.src}.${tcp.srcPort} > ${ip.dst}.${tcp.dstPort}: ${describeTcp(tcp, details)}`;
  } else if (icmp !== undefined) {
    s = `IPv4 ${ip.src} > ${ip.dst}: `;
    if (icmp.type === ICMP_ECHO_REQUEST || icmp.type === ICMP_ECHO_REPLY) {
      s += `ICMP ${icmpTypeName(icmp.type)}, ${ids ? `id ${icmp.id}, ` : ""}seq ${icmp.seq}`;
    } else {
      s += `ICMP ${icmpTypeName(icmp.type) ?? `type ${icmp.type}`}, code ${icmp.code}`;
    }
  } else {
    const length = ip.payload?.length ?? 0;
    const name = ipProtocolName(ip.protocol) ?? `ip-proto-${ip.protocol}`;
    s = `IPv4 ${ip.src} > ${ip.dst}: ` +
      (ip.fragmentOffset !== undefined || ((ip.flags ?? 0) & IPV4_FLAG_MF) !== 0
        ? `${name} fragment, length ${length}`
        : `${name}, length ${length}`);
  }
  if (ttl) s += `, ttl ${ip.ttl}`;
  if (ip.checksumOk === false) s += ", bad IPv4 checksum";
  if (icmp?.checksumOk === false) s += ", bad ICMP checksum";
  if (details && udp?.checksumOk === false) s += ", bad UDP checksum";
  if (details && tcp?.checksumOk === false) s += ", bad TCP checksum";
  return s;
}

/** Options for {@linkcode describeFrame}. */
export interface DescribeFrameOptions {
  /**
   * Show ICMP echo identifiers. They differ from run to run of a real `ping` (its process ID), so
   * comparisons of what two backends saw leave them out. @default {true}
   */
  ids?: boolean;
  /**
   * Show what UDP and TCP carry besides ports and TCP flags: lengths, TCP sequence and acknowledgment
   * numbers, windows and urgent pointers, and bad UDP and TCP checksums. They come from the endpoints'
   * stacks rather than from the network (random initial sequence numbers, window scaling, checksums left
   * to NIC offload in captures of a real kernel's traffic), so comparisons of what two backends saw leave
   * them out. @default {true}
   */
  transportDetails?: boolean;
  /**
   * Show IPv4's time to live (`, ttl 63`): what routers change, so that captures on both sides of one
   * show the hop. @default {false}
   */
  ttl?: boolean;
}

/**
 * One line about a frame, in the spirit of `tcpdump -e -nn`, for debugging and for tests of the
 * simulator: `src > dst`, each tag (`vlan 100`; `vlan 10 (802.1ad)` for an 802.1ad tag), then the
 * body:
 *
 * - `ARP, Request who-has 10.0.0.2 tell 10.0.0.1`, `ARP, Reply 10.0.0.2 is-at 52:54:00:00:00:02`
 * - `IPv4 10.0.0.1 > 10.0.0.2: ICMP echo request, id 1, seq 1` (or `echo reply`; other ICMP types as
 *   `ICMP unreachable, code 1`)
 * - `IPv4 10.0.0.1.40000 > 10.0.0.2.53: UDP, length 12`, the ports after the addresses as tcpdump puts
 *   them
 * - `IPv4 10.0.0.1.40000 > 10.0.0.2.80: Flags [P.], seq 1001:1101, ack 5001, win 502, length 100`, as
 *   tcpdump `-S` prints TCP (absolute sequence numbers; flags `F S R P . U E W`, `.` for ACK), options
 *   left out
 * - `IPv4 10.0.0.1 > 10.0.0.2: ip-proto-253, length 0` for other protocols, fragments
 *   (`UDP fragment, length 1480`) and UDP whose length field disagrees with the IPv4 packet's
 * - `IPv6, length 40`, `ethertype 0x88cc, length 46` for other EtherTypes
 *
 * A wrong checksum adds `, bad IPv4 checksum`, `, bad ICMP checksum`, `, bad UDP checksum` or
 * `, bad TCP checksum`.
 *
 * @param frame The frame, decoded or built.
 * @param options Whether ICMP echo identifiers and UDP and TCP details are shown.
 * @returns The line.
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { arpRequest, describeFrame } from "labwire";
 * const frame = arpRequest({ srcMac: "52:54:00:00:00:01", srcIp: "10.0.0.1", targetIp: "10.0.0.2", vlans: [10, 100], tpids: [0x88a8, 0x8100] });
 * assert.equal(describeFrame(frame), "52:54:00:00:00:01 > ff:ff:ff:ff:ff:ff, vlan 10 (802.1ad), vlan 100, ARP, Request who-has 10.0.0.2 tell 10.0.0.1");
 * ```
 * @example TCP, in full and as an observation
 * ```ts
 * import assert from "node:assert/strict";
 * import { describeFrame, TCP_ACK, TCP_PSH, tcpSegment } from "labwire";
 * const frame = tcpSegment({
 *   srcMac: "52:54:00:00:00:01", dstMac: "52:54:00:00:00:02", srcIp: "10.0.0.1", dstIp: "10.0.0.2",
 *   srcPort: 40000, dstPort: 80, seq: 1001, ack: 5001, flags: TCP_PSH | TCP_ACK, window: 502,
 *   data: new Uint8Array(100),
 * });
 * assert.equal(
 *   describeFrame(frame),
 *   "52:54:00:00:00:01 > 52:54:00:00:00:02, IPv4 10.0.0.1.40000 > 10.0.0.2.80: Flags [P.], seq 1001:1101, ack 5001, win 502, length 100",
 * );
 * assert.equal(
 *   describeFrame(frame, { transportDetails: false }),
 *   "52:54:00:00:00:01 > 52:54:00:00:00:02, IPv4 10.0.0.1.40000 > 10.0.0.2.80: Flags [P.]",
 * );
 * ```
 */
export function describeFrame(frame: Frame, options: DescribeFrameOptions = {}): string {
  let s = `${frame.src} > ${frame.dst}, `;
  for (let i = 0; i < frame.vlans.length; i++) {
    s += frame.tpids[i] === ETHERTYPE_8021AD
      ? `vlan ${frame.vlans[i]} (802.1ad), `
      : `vlan ${frame.vlans[i]}, `;
  }
  const { arp, ipv4 } = frame;
  if (arp !== undefined) {
    if (arp.op === ARP_REQUEST) return s + `ARP, Request who-has ${arp.targetIp} tell ${arp.senderIp}`;
    if (arp.op === ARP_REPLY) return s + `ARP, Reply ${arp.senderIp} is-at ${arp.senderMac}`;
    return s + `ARP, opcode ${arp.op}, ${arp.senderIp} > ${arp.targetIp}`;
  }
  if (ipv4 !== undefined) {
    return s +
      describeIpv4(ipv4, options.ids ?? true, options.transportDetails ?? true, options.ttl ?? false);
  }
  const length = frame.payload?.length ?? 0;
  const name = etherTypeName(frame.etherType);
  return s +
    (name !== undefined
      ? `${name}, length ${length}`
      : `ethertype ${hex16(frame.etherType)}, length ${length}`);
}
