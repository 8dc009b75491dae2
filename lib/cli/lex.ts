// Runtime-neutral.
/**
 * Splitting a command line into words the way minimega's minicli does: whitespace separates words,
 * `"` and `'` quote (an empty quoted string is a word), a backslash escapes one character, and `#`
 * outside quotes starts a comment that runs to the end of the line.
 *
 * @module
 */

/** The character that starts a comment. */
export const COMMENT_LEADER = "#";

const ESCAPES: Readonly<Record<string, string>> = {
  r: "\r",
  n: "\n",
  t: "\t",
  "\\": "\\",
  '"': '"',
  "'": "'",
  [COMMENT_LEADER]: COMMENT_LEADER,
};

/** A command line that cannot be split into words; the message is minimega's. */
export class LexError extends SyntaxError {
  override name = "LexError";
  /** The line as given. */
  readonly input: string;

  /** Makes an error for `input`. */
  constructor(message: string, input: string) {
    super(message);
    this.input = input;
  }
}

/**
 * Splits one command line into words.
 *
 * @param input The line as typed.
 * @returns The words; none for a blank line or a comment.
 * @throws {LexError} `missing terminal "` for an unclosed quote, `expected escape character` for a
 * trailing backslash, `unexpected escaped character: x` for an unknown escape.
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { lexInput } from "labwire/cli";
 * assert.deepEqual(lexInput(`tap create "my lan" # a comment`), ["tap", "create", "my lan"]);
 * ```
 */
export function lexInput(input: string): string[] {
  const words: string[] = [];
  let content = "";
  let emit = false; // an empty quoted string still makes a word
  let quote = "";
  const flush = () => {
    if (content.length > 0 || emit) words.push(content);
    content = "";
    emit = false;
  };
  for (let i = 0; i < input.length; i++) {
    const ch = input[i]!;
    if (ch === "\\") {
      i++;
      if (i >= input.length) throw new LexError("expected escape character", input);
      const escaped = ESCAPES[input[i]!];
      if (escaped === undefined) throw new LexError(`unexpected escaped character: ${input[i]}`, input);
      content += escaped;
    } else if (quote !== "") {
      if (ch === quote) {
        quote = "";
        emit = true;
      } else {
        content += ch;
      }
    } else if (ch === '"' || ch === "'") {
      quote = ch;
    } else if (ch === COMMENT_LEADER) {
      break;
    } else if (isSpace(ch)) {
      flush();
    } else {
      content += ch;
    }
  }
  if (quote !== "") throw new LexError(`missing terminal ${quote}`, input);
  flush();
  return words;
}

/**
 * Quotes a word so that {@linkcode lexInput} reads it back unchanged: words with white space, quotes,
 * backslashes or `#` are double-quoted and escaped; others are returned as they are.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { quoteWord } from "labwire/cli";
 * assert.equal(quoteWord("my lan"), `"my lan"`);
 * ```
 */
export function quoteWord(word: string): string {
  if (word !== "" && !/[\s"'\\#]/.test(word)) return word;
  return `"${word.replace(/[\\"#]/g, (c) => `\\${c}`).replace(/\n/g, "\\n").replace(/\r/g, "\\r")}"`;
}

function isSpace(ch: string): boolean {
  return ch === " " || ch === "\t" || ch === "\n" || ch === "\r" || ch === "\v" || ch === "\f" ||
    ch === "\u0085" || ch === "\u00a0" || /\s/.test(ch);
}
