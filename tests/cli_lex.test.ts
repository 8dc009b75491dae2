import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { LexError, lexInput, quoteWord } from "../lib/cli/lex.ts";

describe("lexInput()", () => {
  test("splits on any white space", () => {
    assert.deepEqual(lexInput("  vm  config\tnet 100 "), ["vm", "config", "net", "100"]);
  });
  test("keeps quoted white space and makes an empty quoted string a word", () => {
    assert.deepEqual(lexInput(`tap create "" name 'a b'`), ["tap", "create", "", "name", "a b"]);
  });
  test("joins quoted and unquoted parts of one word", () => {
    assert.deepEqual(lexInput(`foo"bar baz"qux`), ["foobar bazqux"]);
  });
  test("stops at # outside quotes, not inside", () => {
    assert.deepEqual(lexInput(`vm config net A # should be 102`), ["vm", "config", "net", "A"]);
    assert.deepEqual(lexInput(`vlans add "#x" 5`), ["vlans", "add", "#x", "5"]);
    assert.deepEqual(lexInput(`# only a comment`), []);
  });
  test("knows minimega's escapes", () => {
    assert.deepEqual(lexInput(String.raw`a\#b c\"d e\\f "g\nh"`), ["a#b", 'c"d', "e\\f", "g\nh"]);
  });
  test("throws minimega's errors", () => {
    assert.throws(
      () => lexInput(`vlans add "foo 1`),
      (e) => e instanceof LexError && e.message === 'missing terminal "',
    );
    assert.throws(() => lexInput(`vlans add 'foo 1`), { name: "LexError", message: "missing terminal '" });
    assert.throws(() => lexInput(`vlans \\`), { name: "LexError", message: "expected escape character" });
    assert.throws(() => lexInput(`vlans \\q`), {
      name: "LexError",
      message: "unexpected escaped character: q",
    });
  });
});

describe("quoteWord()", () => {
  test("round-trips through lexInput()", () => {
    for (const word of ["plain", "", "a b", `q"uote`, "back\\slash", "#hash", "new\nline", "it's"]) {
      assert.deepEqual(lexInput(quoteWord(word)), [word], word);
    }
  });
  test("leaves plain words alone", () => assert.equal(quoteWord("mega_bridge"), "mega_bridge"));
});
