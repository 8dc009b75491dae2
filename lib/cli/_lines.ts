// Runtime-neutral.
/**
 * Command lines from bytes: all at once ({@linkcode splitLines}, a script file) or as they arrive
 * ({@linkcode readLines}, standard input). Both end lines at "\n" or "\r\n", and decode UTF-8 leniently:
 * a line that is not UTF-8 keeps U+FFFD marks, which the interpreter refuses with a clear error.
 *
 * @module
 */

import { setTimeout } from "node:timers";

/** Splits input bytes into lines; a line that is not UTF-8 keeps U+FFFD marks, which are refused. */
export function splitLines(bytes: Uint8Array): string[] {
  const text = new TextDecoder("utf-8", { fatal: false }).decode(bytes);
  const lines = text.split("\n").map(dropCr);
  if (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
  return lines;
}

/** Options for {@linkcode readLines}. */
export interface ReadLinesOptions {
  /** Ends the lines at once when aborted, even while waiting for input; the source is then closed. */
  signal?: AbortSignal;
}

const ABORTED = Symbol("aborted");
/** How long an unfinished last line waits for a signal that may have ended the input. */
const LAST_LINE_WAIT_MS = 100;

/**
 * Yields the lines of a byte stream as its chunks arrive, the same lines {@linkcode splitLines} makes
 * of all the bytes at once. It asks for the next chunk only when the lines of the last one are taken,
 * so memory holds one chunk and one unfinished line, however long the input.
 */
export function readLines(
  chunks: AsyncIterable<Uint8Array>,
  options: ReadLinesOptions = {},
): AsyncIterableIterator<string> {
  return new LineReader(chunks[Symbol.asyncIterator](), options.signal);
}

/**
 * {@linkcode readLines}' iterator. Written by hand rather than as an async generator: a line already
 * read costs one resolved promise, about a third of what a generator's step costs (Deno).
 */
class LineReader implements AsyncIterableIterator<string> {
  readonly #source: AsyncIterator<Uint8Array>;
  readonly #signal: AbortSignal | undefined;
  readonly #decoder = new TextDecoder("utf-8", { fatal: false });
  #lines: string[] = [];
  #at = 0;
  /** The start of a line whose end has not arrived yet. */
  #pending = "";
  #ended = false;
  /** Ends the wait for a chunk on abort (one waiter at a time, so nothing piles up on a long input). */
  #wake: ((value: typeof ABORTED) => void) | undefined;
  readonly #onAbort = () => this.#wake?.(ABORTED);

  constructor(source: AsyncIterator<Uint8Array>, signal: AbortSignal | undefined) {
    this.#source = source;
    this.#signal = signal;
    signal?.addEventListener("abort", this.#onAbort, { once: true });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<string> {
    return this;
  }

  next(): Promise<IteratorResult<string, undefined>> {
    if (this.#signal?.aborted) return this.return();
    if (this.#at < this.#lines.length) {
      return Promise.resolve({ done: false, value: this.#lines[this.#at++]! });
    }
    return this.#fill();
  }

  /** Stops: the source is closed, without waiting for it, since a read may still be pending. */
  return(): Promise<IteratorResult<string, undefined>> {
    this.#finish(true);
    return Promise.resolve({ done: true, value: undefined });
  }

  async #fill(): Promise<IteratorResult<string, undefined>> {
    while (!this.#ended) {
      const next = this.#signal === undefined ? await this.#source.next() : await new Promise<
        IteratorResult<Uint8Array> | typeof ABORTED
      >((resolve, reject) => {
        this.#wake = resolve;
        this.#source.next().then(resolve, reject);
      });
      this.#wake = undefined;
      if (next === ABORTED) return this.return();
      let lines: string[];
      if (next.done) {
        this.#finish(false);
        const rest = this.#pending + this.#decoder.decode();
        // an input that ends without a final "\n" ends its last line; but a signal can end the input (a
        // stop) a few turns of the event loop before its handler runs (seen under Deno): a line cut by
        // that is no line. So an unfinished last line waits a moment for a signal, once per input.
        if (rest !== "" && this.#signal !== undefined) {
          await new Promise((resolve) => setTimeout(resolve, LAST_LINE_WAIT_MS));
          if (this.#signal.aborted) return { done: true, value: undefined };
        }
        lines = rest === "" ? [] : [dropCr(rest)];
      } else {
        lines = (this.#pending + this.#decoder.decode(next.value, { stream: true })).split("\n");
        this.#pending = lines.pop()!;
        for (let i = 0; i < lines.length; i++) lines[i] = dropCr(lines[i]!);
      }
      if (lines.length > 0) {
        this.#lines = lines;
        this.#at = 1;
        return { done: false, value: lines[0]! };
      }
    }
    return { done: true, value: undefined };
  }

  #finish(early: boolean): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#lines = [];
    this.#at = 0;
    this.#signal?.removeEventListener("abort", this.#onAbort);
    if (early) void this.#source.return?.().catch(() => {});
  }
}

function dropCr(line: string): string {
  return line.endsWith("\r") ? line.slice(0, -1) : line;
}
