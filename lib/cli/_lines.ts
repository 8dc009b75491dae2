// Runtime-neutral.
/**
 * Command lines from bytes: all at once ({@linkcode splitLines}, a script file) or as they arrive
 * ({@linkcode readLines}, standard input). Both end lines at "\n" or "\r\n", and decode UTF-8 leniently:
 * a line that is not UTF-8 keeps U+FFFD marks, which the interpreter refuses with a clear error.
 *
 * @module
 */

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

/**
 * Yields the lines of a byte stream as its chunks arrive, the same lines {@linkcode splitLines} makes
 * of all the bytes at once. It asks for the next chunk only when the lines of the last one are taken,
 * so memory holds one chunk and one unfinished line, however long the input.
 */
export async function* readLines(
  chunks: AsyncIterable<Uint8Array>,
  options: ReadLinesOptions = {},
): AsyncGenerator<string, void, undefined> {
  const { signal } = options;
  const decoder = new TextDecoder("utf-8", { fatal: false });
  const iterator = chunks[Symbol.asyncIterator]();
  // an abort ends the wait for the next chunk (one waiter at a time, so nothing piles up on a long input)
  let wake: ((value: typeof ABORTED) => void) | undefined;
  const onAbort = () => wake?.(ABORTED);
  signal?.addEventListener("abort", onAbort, { once: true });
  let pending = "";
  let finished = false;
  try {
    for (;;) {
      if (signal?.aborted) return;
      const next = signal === undefined ? await iterator.next() : await new Promise<
        IteratorResult<Uint8Array> | typeof ABORTED
      >((resolve, reject) => {
        wake = resolve;
        iterator.next().then(resolve, reject);
      });
      wake = undefined;
      if (next === ABORTED) return;
      if (next.done) break;
      const text = pending + decoder.decode(next.value, { stream: true });
      let start = 0;
      for (let end = text.indexOf("\n"); end >= 0; end = text.indexOf("\n", start)) {
        yield dropCr(text.slice(start, end));
        start = end + 1;
        if (signal?.aborted) return;
      }
      pending = text.slice(start);
    }
    finished = true;
    const rest = pending + decoder.decode();
    if (rest !== "") yield dropCr(rest);
  } finally {
    signal?.removeEventListener("abort", onAbort);
    // a source left early (abort, or the reader stopped) is closed, which ends a stream's reading;
    // without waiting for it, since a read may still be pending
    if (!finished) void iterator.return?.().catch(() => {});
  }
}

function dropCr(line: string): string {
  return line.endsWith("\r") ? line.slice(0, -1) : line;
}
