// Runtime-neutral.
/**
 * Capture filters for the simulator: a subset of tcpdump's BPF language, compiled to a test on the
 * frame's bytes. Understood: `vlan [id]`, `arp`, `ip`, `icmp`, `tcp`, `udp`, `[src|dst] host <ip>`,
 * `ether [src|dst] host <mac>`, `not`/`!`, `and`/`&&`, `or`/`||` and parentheses.
 *
 * As in libpcap, `vlan` moves the tests that come after it in the expression past the 802.1Q tag:
 * `icmp` alone does not match a tagged ICMP frame, `vlan and icmp` does (and `icmp or (vlan and icmp)`
 * matches both, the filter recipes/environment.md recommends for OVS).
 *
 * @module
 */

/** A filter the simulator cannot run. */
export class FilterError extends SyntaxError {
  override name = "FilterError";
}

/** A compiled filter: whether a frame (`len` bytes at `off`) matches. */
export type FrameFilter = (buf: Uint8Array, off: number, len: number) => boolean;

const UNDERSTOOD = "vlan [id], arp, ip, icmp, tcp, udp, [src|dst] host <ip>, ether [src|dst] host <mac>, " +
  "not, and, or and parentheses";

type Node = (buf: Uint8Array, off: number, len: number) => boolean;

/**
 * Compiles a filter; the empty filter matches everything.
 *
 * @throws {FilterError} Naming the word that is not understood.
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { compileFilter } from "labwire";
 * const arp = compileFilter("arp");
 * const frame = new Uint8Array(60);
 * frame[12] = 0x08;
 * frame[13] = 0x06;
 * assert.equal(arp(frame, 0, 60), true);
 * ```
 */
export function compileFilter(expression: string): FrameFilter {
  const tokens = expression.match(/\(|\)|!|&&|\|\||[^\s()!&|]+/g) ?? [];
  if (tokens.length === 0) return () => true;
  const parser = new Parser(tokens, expression);
  const node = parser.parseOr();
  if (!parser.done()) parser.fail(parser.peek()!);
  return node;
}

class Parser {
  #tokens: string[];
  #i = 0;
  #expression: string;
  /** Bytes of VLAN tags the tests parsed so far skip (libpcap's running offset). */
  #shift = 0;

  constructor(tokens: string[], expression: string) {
    this.#tokens = tokens;
    this.#expression = expression;
  }

  done(): boolean {
    return this.#i >= this.#tokens.length;
  }

  peek(): string | undefined {
    return this.#tokens[this.#i];
  }

  fail(word: string): never {
    throw new FilterError(
      `Cannot use capture filter '${this.#expression}': the simulator understands ${UNDERSTOOD}; ` +
        `'${word}' is not one of them`,
    );
  }

  #next(): string {
    const t = this.#tokens[this.#i++];
    if (t === undefined) this.fail("(end of filter)");
    return t;
  }

  parseOr(): Node {
    let left = this.parseAnd();
    while (this.peek() === "or" || this.peek() === "||") {
      this.#i++;
      const a = left;
      const b = this.parseAnd();
      left = (buf, off, len) => a(buf, off, len) || b(buf, off, len);
    }
    return left;
  }

  parseAnd(): Node {
    let left = this.parseNot();
    while (this.peek() === "and" || this.peek() === "&&") {
      this.#i++;
      const a = left;
      const b = this.parseNot();
      left = (buf, off, len) => a(buf, off, len) && b(buf, off, len);
    }
    return left;
  }

  parseNot(): Node {
    if (this.peek() === "not" || this.peek() === "!") {
      this.#i++;
      const inner = this.parseNot();
      return (buf, off, len) => !inner(buf, off, len);
    }
    if (this.peek() === "(") {
      this.#i++;
      const inner = this.parseOr();
      if (this.#next() !== ")") this.fail(this.#tokens[this.#i - 1]!);
      return inner;
    }
    return this.parsePrimitive();
  }

  parsePrimitive(): Node {
    const word = this.#next();
    const shift = this.#shift;
    switch (word) {
      case "vlan": {
        const id = this.peek() !== undefined && /^\d+$/.test(this.peek()!) ? Number(this.#next()) : undefined;
        if (id !== undefined && id > 4095) this.fail(String(id));
        this.#shift += 4;
        return (buf, off, len) => {
          const at = off + 12 + shift;
          if (at + 4 > off + len) return false;
          const tpid = buf[at]! << 8 | buf[at + 1]!;
          if (tpid !== 0x8100 && tpid !== 0x88a8 && tpid !== 0x9100) return false;
          return id === undefined || ((buf[at + 2]! & 0x0f) << 8 | buf[at + 3]!) === id;
        };
      }
      case "arp":
        return (buf, off, len) => etherType(buf, off, len, shift) === 0x0806;
      case "ip":
        return (buf, off, len) => etherType(buf, off, len, shift) === 0x0800;
      case "icmp":
        return ipProto(shift, 1);
      case "tcp":
        return ipProto(shift, 6);
      case "udp":
        return ipProto(shift, 17);
      case "src":
      case "dst":
        if (this.#next() !== "host") this.fail(this.#tokens[this.#i - 1]!);
        return hostTest(this.#ip(), shift, word);
      case "host":
        return hostTest(this.#ip(), shift, "either");
      case "ether": {
        let dir: "src" | "dst" | "either" = "either";
        let next = this.#next();
        if (next === "src" || next === "dst") {
          dir = next;
          next = this.#next();
        }
        if (next !== "host") this.fail(next);
        const mac = this.#mac();
        return (buf, off, len) => {
          if (len < 12) return false;
          const dst = sameBytes(buf, off, mac);
          const src = sameBytes(buf, off + 6, mac);
          return dir === "src" ? src : dir === "dst" ? dst : src || dst;
        };
      }
      default:
        this.fail(word);
    }
  }

  #ip(): Uint8Array {
    const word = this.#next();
    const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(word);
    if (m === null || m.slice(1).some((o) => Number(o) > 255)) this.fail(word);
    return Uint8Array.from(m.slice(1).map(Number));
  }

  #mac(): Uint8Array {
    const word = this.#next();
    const m =
      /^([0-9a-f]{1,2}):([0-9a-f]{1,2}):([0-9a-f]{1,2}):([0-9a-f]{1,2}):([0-9a-f]{1,2}):([0-9a-f]{1,2})$/i
        .exec(word);
    if (m === null) this.fail(word);
    return Uint8Array.from(m.slice(1).map((h) => parseInt(h, 16)));
  }
}

function etherType(buf: Uint8Array, off: number, len: number, shift: number): number {
  const at = off + 12 + shift;
  return at + 2 > off + len ? -1 : buf[at]! << 8 | buf[at + 1]!;
}

function ipProto(shift: number, proto: number): Node {
  return (buf, off, len) => {
    if (etherType(buf, off, len, shift) !== 0x0800) return false;
    const ip = off + 14 + shift;
    return ip + 10 <= off + len && buf[ip + 9] === proto;
  };
}

/** `host`: the IPv4 source or destination, or an ARP sender or target address. */
function hostTest(addr: Uint8Array, shift: number, dir: "src" | "dst" | "either"): Node {
  return (buf, off, len) => {
    const type = etherType(buf, off, len, shift);
    const l3 = off + 14 + shift;
    let src = -1;
    let dst = -1;
    if (type === 0x0800 && l3 + 20 <= off + len) {
      src = l3 + 12;
      dst = l3 + 16;
    } else if (type === 0x0806 && l3 + 28 <= off + len) {
      src = l3 + 14;
      dst = l3 + 24;
    } else {
      return false;
    }
    const s = sameBytes(buf, src, addr);
    const d = sameBytes(buf, dst, addr);
    return dir === "src" ? s : dir === "dst" ? d : s || d;
  };
}

function sameBytes(buf: Uint8Array, at: number, want: Uint8Array): boolean {
  for (let i = 0; i < want.length; i++) if (buf[at + i] !== want[i]) return false;
  return true;
}
