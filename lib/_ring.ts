// Runtime-neutral.
/**
 * A fixed-size byte ring: keeps the last `capacity` bytes written to it in one preallocated buffer and
 * allocates nothing per write. `lib/exec.ts` uses it for the stderr tail of a child process (STYLE R16).
 *
 * Private to labwire: not re-exported from `mod.ts`.
 *
 * @module
 */

const decoder = new TextDecoder();

/** Keeps the last `capacity` bytes of a stream. */
export class ByteRing {
  #buf: Uint8Array;
  /** Index of the oldest byte. */
  #start = 0;
  /** Bytes held, at most `#buf.length`. */
  #length = 0;
  /** Bytes ever written. */
  #written = 0;

  /**
   * @param capacity Bytes kept; a positive integer.
   * @throws {RangeError} If `capacity` is not a positive integer.
   */
  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity <= 0) {
      throw new RangeError(
        `Cannot create byte ring as 'capacity' must be a positive integer: current value is ${capacity}`,
      );
    }
    this.#buf = new Uint8Array(capacity);
  }

  /** Bytes the ring can hold. */
  get capacity(): number {
    return this.#buf.length;
  }

  /** Bytes held now (at most `capacity`). */
  get length(): number {
    return this.#length;
  }

  /** Bytes ever written, including those dropped. */
  get written(): number {
    return this.#written;
  }

  /** Whether bytes were dropped from the front. */
  get truncated(): boolean {
    return this.#written > this.#length;
  }

  /** Appends `chunk`, dropping the oldest bytes when full. */
  write(chunk: Uint8Array): void {
    const buf = this.#buf;
    const cap = buf.length;
    const n = chunk.length;
    this.#written += n;
    if (n >= cap) {
      buf.set(chunk.subarray(n - cap));
      this.#start = 0;
      this.#length = cap;
      return;
    }
    const start = this.#start;
    let length = this.#length;
    const end = (start + length) % cap;
    const first = Math.min(n, cap - end);
    buf.set(chunk.subarray(0, first), end);
    if (first < n) buf.set(chunk.subarray(first), 0);
    length += n;
    if (length > cap) {
      this.#start = (start + length - cap) % cap;
      length = cap;
    }
    this.#length = length;
  }

  /** A copy of the bytes held, oldest first. */
  bytes(): Uint8Array {
    const buf = this.#buf;
    const start = this.#start;
    const length = this.#length;
    const out = new Uint8Array(length);
    const first = Math.min(length, buf.length - start);
    out.set(buf.subarray(start, start + first));
    if (first < length) out.set(buf.subarray(0, length - first), first);
    return out;
  }

  /**
   * The bytes held, decoded as UTF-8. When bytes were dropped, a character cut in half at the front is
   * skipped rather than shown as U+FFFD.
   */
  text(): string {
    let bytes = this.bytes();
    if (this.truncated) {
      let skip = 0;
      // UTF-8 continuation bytes are 0b10xxxxxx; a character has at most 3 of them.
      while (skip < 3 && skip < bytes.length && (bytes[skip]! & 0xc0) === 0x80) skip++;
      bytes = bytes.subarray(skip);
    }
    return decoder.decode(bytes);
  }
}
