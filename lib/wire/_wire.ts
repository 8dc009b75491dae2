// Runtime-neutral.
/**
 * Wire constants: EtherTypes, IP protocol numbers, ARP and ICMP codes, UDP and TCP header sizes and TCP
 * flags, pcap magic numbers and link types, with small number-to-name switches (STYLE R17). Private to
 * labwire: `lib/frame.ts` and `lib/pcap.ts` re-export the ones their users need.
 *
 * @module
 */

// ---- Ethernet (IEEE 802.3, 802.1Q, 802.1ad) ----

/** Bytes of the two MAC addresses that start every Ethernet frame. */
export const ETHERNET_MACS_BYTES = 12;
/** Bytes of an untagged Ethernet header: destination, source, EtherType. */
export const ETHERNET_HEADER_BYTES = 14;
/** Bytes of one 802.1Q or 802.1ad tag: TPID then TCI (PCP, DEI, VID). */
export const VLAN_TAG_BYTES = 4;
/** The shortest Ethernet frame without its FCS; NICs pad shorter frames with zeros up to it. */
export const ETHERNET_MIN_FRAME = 60;
/** The highest VLAN ID a tag can carry (12 bits). */
export const VLAN_ID_MAX = 4095;
/** The broadcast MAC `ff:ff:ff:ff:ff:ff` as a 48-bit number. */
export const BROADCAST_MAC48 = 0xffff_ffff_ffff;

/** EtherType of IPv4. */
export const ETHERTYPE_IPV4 = 0x0800;
/** EtherType of ARP. */
export const ETHERTYPE_ARP = 0x0806;
/** TPID of an 802.1Q (customer) VLAN tag. */
export const ETHERTYPE_8021Q = 0x8100;
/** TPID of an 802.1ad (service, "QinQ") VLAN tag; Open vSwitch's default outer tag on dot1q-tunnel ports. */
export const ETHERTYPE_8021AD = 0x88a8;
/** EtherType of IPv6. */
export const ETHERTYPE_IPV6 = 0x86dd;

/**
 * The name tcpdump and tshark give an EtherType, or `undefined` for one labwire does not know.
 *
 * @param etherType A 16-bit EtherType.
 * @returns `"IPv4"`, `"ARP"`, `"802.1Q"`, `"802.1ad"`, `"IPv6"` or `undefined`.
 */
export function etherTypeName(etherType: number): string | undefined {
  switch (etherType) {
    case ETHERTYPE_IPV4:
      return "IPv4";
    case ETHERTYPE_ARP:
      return "ARP";
    case ETHERTYPE_8021Q:
      return "802.1Q";
    case ETHERTYPE_8021AD:
      return "802.1ad";
    case ETHERTYPE_IPV6:
      return "IPv6";
    default:
      return undefined;
  }
}

/** Whether `etherType` is a TPID labwire reads as a VLAN tag (802.1Q or 802.1ad). */
export function isVlanTpid(etherType: number): boolean {
  return etherType === ETHERTYPE_8021Q || etherType === ETHERTYPE_8021AD;
}

// ---- ARP (RFC 826) over Ethernet for IPv4 ----

/** ARP hardware type of Ethernet. */
export const ARP_HTYPE_ETHERNET = 1;
/** Bytes of an ARP packet for IPv4 over Ethernet. */
export const ARP_IPV4_BYTES = 28;
/** ARP opcode of a request ("who-has"). */
export const ARP_REQUEST = 1;
/** ARP opcode of a reply ("is-at"). */
export const ARP_REPLY = 2;

// ---- IPv4 (RFC 791) ----

/** Bytes of an IPv4 header without options. */
export const IPV4_HEADER_BYTES = 20;
/** The "don't fragment" bit of the IPv4 flags (the 3-bit field). */
export const IPV4_FLAG_DF = 0b010;
/** The "more fragments" bit of the IPv4 flags (the 3-bit field). */
export const IPV4_FLAG_MF = 0b001;
/** The TTL Linux gives the packets it sends. */
export const IPV4_DEFAULT_TTL = 64;

/** IP protocol number of ICMP. */
export const IPPROTO_ICMP = 1;
/** IP protocol number of TCP. */
export const IPPROTO_TCP = 6;
/** IP protocol number of UDP. */
export const IPPROTO_UDP = 17;

/**
 * The name tcpdump gives an IP protocol number, or `undefined` for one labwire does not know.
 *
 * @param protocol An 8-bit IP protocol number.
 * @returns `"ICMP"`, `"TCP"`, `"UDP"` or `undefined`.
 */
export function ipProtocolName(protocol: number): string | undefined {
  switch (protocol) {
    case IPPROTO_ICMP:
      return "ICMP";
    case IPPROTO_TCP:
      return "TCP";
    case IPPROTO_UDP:
      return "UDP";
    default:
      return undefined;
  }
}

// ---- ICMP (RFC 792) ----

/** Bytes of an ICMP header: type, code, checksum and the 4-byte rest (identifier and sequence for echoes). */
export const ICMP_HEADER_BYTES = 8;
/** ICMP type of an echo reply. */
export const ICMP_ECHO_REPLY = 0;
/** ICMP type of "destination unreachable". */
export const ICMP_DEST_UNREACHABLE = 3;
/** ICMP type of an echo request. */
export const ICMP_ECHO_REQUEST = 8;
/** ICMP type of "time exceeded". */
export const ICMP_TIME_EXCEEDED = 11;

/**
 * The name tcpdump gives an ICMP type, or `undefined` for one labwire does not know.
 *
 * @param type An ICMP type.
 * @returns `"echo reply"`, `"echo request"`, `"unreachable"`, `"time exceeded"` or `undefined`.
 */
export function icmpTypeName(type: number): string | undefined {
  switch (type) {
    case ICMP_ECHO_REPLY:
      return "echo reply";
    case ICMP_DEST_UNREACHABLE:
      return "unreachable";
    case ICMP_ECHO_REQUEST:
      return "echo request";
    case ICMP_TIME_EXCEEDED:
      return "time exceeded";
    default:
      return undefined;
  }
}

// ---- UDP (RFC 768) and TCP (RFC 9293) ----

/** Bytes of a UDP header: source port, destination port, length, checksum. */
export const UDP_HEADER_BYTES = 8;
/** Bytes of a TCP header without options (data offset 5). */
export const TCP_HEADER_BYTES = 20;
/** The most bytes of options a TCP header can carry: data offset 15 is 60 bytes, 20 of them fixed. */
export const TCP_OPTIONS_MAX_BYTES = 40;
/** The window Linux offers in a SYN over Ethernet: 44 segments of 1460 bytes. */
export const TCP_DEFAULT_WINDOW = 64240;

/**
 * TCP control bit FIN: the sender has no more data (RFC 9293 3.1).
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { TCP_ACK, TCP_FIN } from "labwire";
 * assert.equal(TCP_FIN | TCP_ACK, 0x11);
 * ```
 */
export const TCP_FIN = 0x01;
/**
 * TCP control bit SYN: synchronize sequence numbers, the first segment of each direction.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { TCP_SYN } from "labwire";
 * assert.equal(TCP_SYN, 0x02);
 * ```
 */
export const TCP_SYN = 0x02;
/**
 * TCP control bit RST: reset the connection.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { TCP_ACK, TCP_RST } from "labwire";
 * assert.equal(TCP_RST | TCP_ACK, 0x14);
 * ```
 */
export const TCP_RST = 0x04;
/**
 * TCP control bit PSH: push the data to the application.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { TCP_ACK, TCP_PSH } from "labwire";
 * assert.equal(TCP_PSH | TCP_ACK, 0x18);
 * ```
 */
export const TCP_PSH = 0x08;
/**
 * TCP control bit ACK: the acknowledgment number is significant; set on every segment after the first SYN.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { TCP_ACK, TCP_SYN } from "labwire";
 * assert.equal(TCP_SYN | TCP_ACK, 0x12);
 * ```
 */
export const TCP_ACK = 0x10;
/**
 * TCP control bit URG: the urgent pointer is significant.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { TCP_URG } from "labwire";
 * assert.equal(TCP_URG, 0x20);
 * ```
 */
export const TCP_URG = 0x20;
/**
 * TCP control bit ECE: ECN-Echo (RFC 3168).
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { TCP_ECE } from "labwire";
 * assert.equal(TCP_ECE, 0x40);
 * ```
 */
export const TCP_ECE = 0x40;
/**
 * TCP control bit CWR: congestion window reduced (RFC 3168).
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { TCP_CWR } from "labwire";
 * assert.equal(TCP_CWR, 0x80);
 * ```
 */
export const TCP_CWR = 0x80;

/**
 * TCP flags the way tcpdump 4.99 prints them inside `Flags [...]`: `F S R P . U E W`, in that order, `.`
 * standing for ACK; `none` when no flag is set. The reserved bits above the 8 control bits are not shown.
 *
 * @param flags The control bits, and the reserved bits above them.
 * @returns E.g. `"S."` for a SYN-ACK, `"P."` for data, `"F."` for a FIN.
 */
export function tcpFlagsText(flags: number): string {
  let s = "";
  if ((flags & TCP_FIN) !== 0) s += "F";
  if ((flags & TCP_SYN) !== 0) s += "S";
  if ((flags & TCP_RST) !== 0) s += "R";
  if ((flags & TCP_PSH) !== 0) s += "P";
  if ((flags & TCP_ACK) !== 0) s += ".";
  if ((flags & TCP_URG) !== 0) s += "U";
  if ((flags & TCP_ECE) !== 0) s += "E";
  if ((flags & TCP_CWR) !== 0) s += "W";
  return s === "" ? "none" : s;
}

// ---- classic pcap (libpcap's savefile format) ----

/** pcap magic number of files with microsecond timestamps, as written in the file's own byte order. */
export const PCAP_MAGIC_MICROS = 0xa1b2c3d4;
/** pcap magic number of files with nanosecond timestamps. */
export const PCAP_MAGIC_NANOS = 0xa1b23c4d;
/** The first 4 bytes of a pcapng file (a Section Header Block), which classic readers cannot read. */
export const PCAPNG_MAGIC = 0x0a0d0d0a;
/** pcap format version written: 2.4, as every libpcap since 1998. */
export const PCAP_VERSION_MAJOR = 2;
/** See {@linkcode PCAP_VERSION_MAJOR}. */
export const PCAP_VERSION_MINOR = 4;
/** Bytes of the pcap global header. */
export const PCAP_HEADER_BYTES = 24;
/** Bytes of a pcap record header: ts_sec, ts_usec (or ts_nsec), incl_len, orig_len. */
export const PCAP_RECORD_HEADER_BYTES = 16;
/** The snapshot length tcpdump uses by default (libpcap's MAXIMUM_SNAPLEN). */
export const PCAP_DEFAULT_SNAPLEN = 262144;
/** pcap link type of Ethernet (DLT_EN10MB). */
export const LINKTYPE_ETHERNET = 1;

/**
 * The name libpcap gives a link type, or `undefined` for one labwire does not know.
 *
 * @param linkType A pcap LINKTYPE_ value.
 * @returns `"EN10MB"` for Ethernet, or `undefined`.
 */
export function linkTypeName(linkType: number): string | undefined {
  switch (linkType) {
    case LINKTYPE_ETHERNET:
      return "EN10MB";
    default:
      return undefined;
  }
}

// ---- formatting ----

/** A 16-bit number as `0x` and four lower-case hex digits, the way tcpdump prints EtherTypes. */
export function hex16(n: number): string {
  return "0x" + n.toString(16).padStart(4, "0");
}
