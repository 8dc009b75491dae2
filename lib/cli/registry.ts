// Runtime-neutral.
/**
 * The command registry: handlers with minicli patterns, indexed in a trie, and the matcher that turns
 * a line's words into a {@linkcode Command}. Matching is minimega's: a literal or choice word matches
 * any prefix of itself; when several patterns match, the one whose words were all typed in full wins;
 * otherwise the line is ambiguous.
 *
 * @module
 */

import { formatPattern, parsePattern, type PatternItem } from "./pattern.ts";
import type { Flags, Response } from "./response.ts";

/** A table: a header and rows of cells, as minimega's tabular responses. */
export interface Table {
  /** Column names. */
  readonly header: readonly string[];
  /** Rows, each as long as the header. */
  readonly rows: readonly (readonly string[])[];
  /** The typed records the rows were made from, for callers that want data rather than text. */
  readonly records?: readonly unknown[];
}

/** What a command handler returns: nothing, a line of text, or a table. */
export type Output = void | undefined | string | Table;

/** A matched command line: the handler and its arguments. */
export interface Command<Ctx> {
  /** The handler the words matched. */
  readonly handler: Handler<Ctx>;
  /** The line as typed (trimmed). */
  readonly original: string;
  /** String arguments by key (`<vlan>` -> `vlan`). */
  readonly strings: ReadonlyMap<string, string>;
  /** Choices made (`<add,>` -> `add`). */
  readonly bools: ReadonlySet<string>;
  /** List arguments by key (`[netspec]...` -> `netspec`). */
  readonly lists: ReadonlyMap<string, readonly string[]>;
  /** The nested command of a `(command)` item. */
  readonly subcommand: Command<Ctx> | undefined;
}

interface BaseHandler {
  /** The patterns this handler answers. */
  readonly patterns: readonly string[];
  /** One line for the `help` listing. */
  readonly helpShort: string;
  /** The long text for `help <command>`. */
  readonly helpLong?: string;
}

/** A handler that produces one response from its arguments. */
export interface SimpleHandler<Ctx> extends BaseHandler {
  /** Runs the command; a thrown error becomes the response's error. */
  run(cmd: Command<Ctx>, ctx: Ctx): Output | Promise<Output>;
}

/** What a {@linkcode MetaHandler} may use of the interpreter running it. */
export interface Engine<Ctx> {
  /** The host name responses carry. */
  readonly host: string;
  /** The session's output flags; builtins without a command change them. */
  readonly flags: Flags;
  /** Runs a matched command and returns its responses (errors included, never thrown). */
  run(cmd: Command<Ctx>): Promise<Response[]>;
}

/** A handler that runs other commands and returns their responses (builtins, `namespace`). */
export interface MetaHandler<Ctx> extends BaseHandler {
  /** Runs the command and returns all responses. */
  runMeta(cmd: Command<Ctx>, ctx: Ctx, engine: Engine<Ctx>): Response[] | Promise<Response[]>;
}

/** A command handler. */
export type Handler<Ctx> = SimpleHandler<Ctx> | MetaHandler<Ctx>;

/** Why a line did not compile. */
export type CompileFailure =
  | { readonly kind: "invalid" }
  | { readonly kind: "ambiguous"; readonly word: string; readonly candidates: readonly string[] }
  | { readonly kind: "too-deep"; readonly maxNesting: number };

/** Options for {@linkcode Registry.compile}. */
export interface CompileOptions {
  /**
   * The most commands one line may nest (`namespace x .filter a=b vlans` nests two); a line that nests
   * more fails with kind `too-deep`, rather than running out of stack. @default {100}
   */
  maxNesting?: number;
}

/** How many commands one line may nest by default (see {@linkcode CompileOptions.maxNesting}). */
export const DEFAULT_MAX_NESTING = 100;

/** The result of {@linkcode Registry.compile}. */
export type CompileResult<Ctx> =
  | { readonly ok: true; readonly command: Command<Ctx> }
  | { readonly ok: false; readonly failure: CompileFailure };

interface TrieNode<Ctx> {
  handler: Handler<Ctx> | undefined;
  readonly children: Map<string, TrieEdge<Ctx>>;
}

interface TrieEdge<Ctx> {
  readonly item: PatternItem;
  /** The literal word or choice option this edge stands for, or the argument key. */
  readonly value: string;
  readonly node: TrieNode<Ctx>;
}

interface Draft<Ctx> {
  handler: Handler<Ctx>;
  strings: Map<string, string>;
  bools: Set<string>;
  lists: Map<string, string[]>;
  subcommand: Command<Ctx> | undefined;
  exact: boolean;
}

type Attempt<Ctx> = Draft<Ctx> | CompileFailure | undefined;

/** The failure of a line nesting too many commands, before {@linkcode Registry.compile} names the limit. */
const TOO_DEEP: CompileFailure = { kind: "too-deep", maxNesting: 0 };

/** A set of command handlers and the matcher over their patterns. */
export class Registry<Ctx> {
  #root: TrieNode<Ctx> = newNode();
  #handlers: Handler<Ctx>[] = [];

  /**
   * Adds a handler.
   *
   * @throws {PatternError} If a pattern does not parse.
   * @throws {Error} If a pattern ends where another handler's pattern already ends.
   */
  register(handler: Handler<Ctx>): void {
    for (const pattern of handler.patterns) {
      add(this.#root, parsePattern(pattern), 0, handler, pattern);
    }
    this.#handlers.push(handler);
  }

  /** The registered handlers, in registration order. */
  get handlers(): readonly Handler<Ctx>[] {
    return this.#handlers;
  }

  /**
   * Matches a line's words to a handler.
   *
   * @param words The words, as {@linkcode lexInput} gives them; not empty.
   * @param original The line as typed, kept in the command.
   */
  compile(words: readonly string[], original: string, options: CompileOptions = {}): CompileResult<Ctx> {
    const { maxNesting = DEFAULT_MAX_NESTING } = options;
    const attempt = this.#compile(this.#root, words, 0, original, maxNesting);
    if (attempt === undefined) return { ok: false, failure: { kind: "invalid" } };
    if (attempt === TOO_DEEP) return { ok: false, failure: { kind: "too-deep", maxNesting } };
    if (!("handler" in attempt)) return { ok: false, failure: attempt };
    return { ok: true, command: freeze(attempt, original) };
  }

  /**
   * The handlers whose patterns start with the given words (prefixes allowed), for `help`.
   */
  help(words: readonly string[]): Handler<Ctx>[] {
    const found = new Set<Handler<Ctx>>();
    collectHelp(this.#root, words, 0, found);
    return [...found];
  }

  /** Matches words[i..] from `node`; `nesting` is how many more `(command)` items may follow. */
  #compile(
    node: TrieNode<Ctx>,
    words: readonly string[],
    i: number,
    original: string,
    nesting: number,
  ): Attempt<Ctx> {
    if (i === words.length) return node.handler === undefined ? undefined : draft(node.handler);
    const word = words[i]!;
    const matches: { draft: Draft<Ctx>; value: string }[] = [];
    let failure: CompileFailure | undefined;
    for (const edge of node.children.values()) {
      const item = edge.item;
      let attempt: Attempt<Ctx>;
      switch (item.kind) {
        case "literal":
        case "choice": {
          if (!edge.value.startsWith(word)) continue;
          attempt = this.#compile(edge.node, words, i + 1, original, nesting);
          if (attempt !== undefined && "handler" in attempt) {
            if (item.kind === "choice") attempt.bools.add(edge.value);
            attempt.exact &&= edge.value.length === word.length;
          }
          break;
        }
        case "string": {
          attempt = this.#compile(edge.node, words, i + 1, original, nesting);
          if (attempt !== undefined && "handler" in attempt) attempt.strings.set(item.key, word);
          break;
        }
        case "list": {
          if (edge.node.handler === undefined) continue;
          attempt = draft(edge.node.handler);
          attempt.lists.set(item.key, words.slice(i));
          break;
        }
        case "command": {
          if (edge.node.handler === undefined) continue;
          // every nested command deepens the stack here and where it runs: refuse before it overflows
          if (nesting === 0) {
            attempt = TOO_DEEP; // compile() puts in the limit
            break;
          }
          const sub = this.#compile(this.#root, words.slice(i), 0, original, nesting - 1);
          if (sub === undefined || !("handler" in sub)) {
            attempt = sub;
            break;
          }
          attempt = draft(edge.node.handler);
          attempt.subcommand = freeze(sub, words.slice(i).join(" "));
          break;
        }
        default: {
          const never: never = item;
          throw new TypeError(`Cannot match pattern item: unknown kind ${JSON.stringify(never)}`);
        }
      }
      if (attempt === undefined) continue;
      if ("handler" in attempt) matches.push({ draft: attempt, value: edge.value });
      else failure ??= attempt;
    }
    if (matches.length === 0) return failure;
    if (matches.length === 1) return matches[0]!.draft;
    const exact = matches.filter((m) => m.draft.exact);
    if (exact.length === 1) return exact[0]!.draft;
    const candidates = [...new Set(matches.map((m) => m.value))].sort();
    return { kind: "ambiguous", word, candidates };
  }
}

/** The usage lines of a handler, as `help <command>` prints them. */
export function usageLines<Ctx>(handler: Handler<Ctx>): string[] {
  return handler.patterns.map((p) => formatPattern(parsePattern(p)));
}

function newNode<Ctx>(): TrieNode<Ctx> {
  return { handler: undefined, children: new Map() };
}

function draft<Ctx>(handler: Handler<Ctx>): Draft<Ctx> {
  return {
    handler,
    strings: new Map(),
    bools: new Set(),
    lists: new Map(),
    subcommand: undefined,
    exact: true,
  };
}

function freeze<Ctx>(d: Draft<Ctx>, original: string): Command<Ctx> {
  return {
    handler: d.handler,
    original,
    strings: d.strings,
    bools: d.bools,
    lists: d.lists,
    subcommand: d.subcommand,
  };
}

function setHandler<Ctx>(node: TrieNode<Ctx>, handler: Handler<Ctx>, pattern: string): void {
  if (node.handler !== undefined && node.handler !== handler) {
    throw new Error(`Cannot register pattern '${pattern}': it conflicts with '${node.handler.patterns[0]}'`);
  }
  node.handler = handler;
}

function add<Ctx>(
  node: TrieNode<Ctx>,
  items: readonly PatternItem[],
  i: number,
  handler: Handler<Ctx>,
  pattern: string,
): void {
  if (i === items.length) return setHandler(node, handler, pattern);
  const item = items[i]!;
  // an optional item may be left out: the handler also ends here
  if ((item.kind === "string" || item.kind === "choice" || item.kind === "list") && item.optional) {
    setHandler(node, handler, pattern);
  }
  let values: readonly string[];
  switch (item.kind) {
    case "literal":
      values = [item.text];
      break;
    case "choice":
      values = item.options;
      break;
    default:
      values = [item.key];
  }
  for (const value of values) {
    const key = `${item.kind}:${"optional" in item && item.optional ? "?" : ""}${value}`;
    let edge = node.children.get(key);
    if (edge === undefined) {
      edge = { item, value, node: newNode() };
      node.children.set(key, edge);
    }
    add(edge.node, items, i + 1, handler, pattern);
  }
}

function collectHelp<Ctx>(
  node: TrieNode<Ctx>,
  words: readonly string[],
  i: number,
  found: Set<Handler<Ctx>>,
): void {
  if (i === words.length) {
    if (node.handler !== undefined) found.add(node.handler);
    for (const edge of node.children.values()) collectHelp(edge.node, words, i, found);
    return;
  }
  for (const edge of node.children.values()) {
    switch (edge.item.kind) {
      case "literal":
      case "choice":
        if (edge.value.startsWith(words[i]!)) collectHelp(edge.node, words, i + 1, found);
        break;
      case "string":
        collectHelp(edge.node, words, i + 1, found);
        break;
      case "list":
      case "command":
        if (node.handler !== undefined) found.add(node.handler);
        else if (edge.node.handler !== undefined) found.add(edge.node.handler);
        break;
    }
  }
}
