import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { formatPattern, parsePattern } from "../lib/cli/pattern.ts";

describe("parsePattern()", () => {
  test("reads every kind of item", () => {
    assert.deepEqual(parsePattern("a <b c> <d,e> [f,g]"), [
      { kind: "literal", text: "a" },
      { kind: "string", key: "b", text: "b c", optional: false },
      { kind: "choice", options: ["d", "e"], text: "d,e", optional: false },
      { kind: "choice", options: ["f", "g"], text: "f,g", optional: true },
    ]);
    assert.deepEqual(parsePattern("vm config networks [netspec]..."), [
      { kind: "literal", text: "vm" },
      { kind: "literal", text: "config" },
      { kind: "literal", text: "networks" },
      { kind: "list", key: "netspec", text: "netspec", optional: true },
    ]);
    assert.deepEqual(parsePattern(".csv <true,false> (command)")[2], {
      kind: "command",
      key: "command",
      text: "command",
    });
  });
  test("makes a one-option choice of <word,>", () => {
    assert.deepEqual(parsePattern("vlans <add,>")[1], {
      kind: "choice",
      options: ["add"],
      text: "add,",
      optional: false,
    });
  });
  test("takes the key from the first word", () => {
    assert.deepEqual(parsePattern("tap <delete,> <tap name or all>")[2], {
      kind: "string",
      key: "tap",
      text: "tap name or all",
      optional: false,
    });
  });
  test("refuses items after an optional item, a list or a command", () => {
    for (const bad of ["a [b] c", "a <b>... c", "a (b) c"]) {
      assert.throws(() => parsePattern(bad), {
        name: "PatternError",
        message: new RegExp("trailing characters"),
      }, bad);
    }
  });
  test("refuses nesting, quotes and unclosed items", () => {
    assert.throws(() => parsePattern("a <b [c]>"), { message: /cannot nest items/ });
    assert.throws(() => parsePattern(`a "b"`), { message: /quotes are not allowed/ });
    assert.throws(() => parsePattern("a <b"), { message: /missing terminal >/ });
    assert.throws(() => parsePattern("a <b>.. c"), { message: /invalid trailing characters after >/ });
  });
});

describe("formatPattern()", () => {
  test("prints patterns as minimega's help does", () => {
    const cases: [string, string][] = [
      ["vlans <add,> <alias> <vlan>", "vlans add <alias> <vlan>"],
      ["vlans <blacklist,> [vlan]", "vlans blacklist [vlan]"],
      [".json <true,false> (command)", ".json <true,false> (command)"],
      ["capture <netflow,> <mode,> [raw,ascii]", "capture netflow mode [raw,ascii]"],
      ["vm config networks [netspec]...", "vm config networks [netspec]..."],
      ["tap <delete,> <tap name or all>", "tap delete <tap name or all>"],
      ["mesh send <clients or all> <command>...", "mesh send <clients or all> <command>..."],
    ];
    for (const [pattern, want] of cases) assert.equal(formatPattern(parsePattern(pattern)), want);
  });
});
