import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { expandNames } from "../lib/names.ts";

describe("expandNames()", () => {
  test("expands lists and ranges, keeping order and dropping duplicates", () => {
    assert.deepEqual(expandNames("a,b,a"), ["a", "b"]);
    assert.deepEqual(expandNames("vm[1-3]"), ["vm1", "vm2", "vm3"]);
    assert.deepEqual(expandNames("web[1,3-4]x,db"), ["web1x", "web3x", "web4x", "db"]);
    assert.deepEqual(expandNames("n[08-10]"), ["n08", "n09", "n10"]);
  });
  test("says what is wrong", () => {
    const cases: [string, string][] = [
      ["a,,b", "Cannot expand 'a,,b': empty name"],
      ["vm[1-3", "Cannot expand 'vm[1-3': '[' without ']'"],
      ["vm]", "Cannot expand 'vm]': ']' without '['"],
      ["vm[a]", "Cannot expand 'vm[a]': 'a' is not a number or a range a-b"],
      ["vm[3-1]", "Cannot expand 'vm[3-1]': range 3-1 goes down"],
      ["vm[1-2][1-2]", "Cannot expand 'vm[1-2][1-2]': only one [...] range per name"],
      ["vm[0-999999]", "Cannot expand 'vm[0-999999]': more than 100000 names"],
    ];
    for (const [list, message] of cases) {
      assert.throws(() => expandNames(list), { name: "NameListError", message }, list);
    }
  });
});
