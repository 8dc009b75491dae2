import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { compareRows, formatCsv, formatTable } from "../lib/cli/table.ts";

describe("formatTable()", () => {
  test("pads every column but the last to its widest cell plus one, at least 5", () => {
    assert.equal(
      formatTable([["alias", "vlan"], ["A", "102"], ["bar", "300"]]),
      "alias | vlan\nA     | 102\nbar   | 300",
    );
    assert.equal(
      formatTable([["bridge", "tap", "vlan"], ["minitest", "minitest_tap0", "10"]]),
      "bridge   | tap           | vlan\nminitest | minitest_tap0 | 10",
    );
  });
  test("counts characters, not bytes", () => {
    assert.equal(formatTable([["\u00e9", "x"], ["ab", "y"]]), "\u00e9    | x\nab   | y");
  });
  test("keeps empty cells", () => {
    assert.equal(
      formatTable([["a", "b", "c"], ["x", "", "z"]]),
      "a    | b  | c\nx    |    | z",
    );
  });
  test("prints a one-column table as plain lines", () =>
    assert.equal(formatTable([["vlan"], ["101"]]), "vlan\n101"));
});

describe("compareRows()", () => {
  test("sorts numbers as numbers and the rest as bytes, upper case first", () => {
    const rows = [["foo"], ["bar"], ["B"], ["A"], ["300"], ["1000"], ["-5"]];
    assert.deepEqual(rows.sort(compareRows).map((r) => r[0]), ["-5", "300", "1000", "A", "B", "bar", "foo"]);
  });
  test("goes on to the next column when the first ties", () => {
    assert.deepEqual([["a", "10"], ["a", "9"]].sort(compareRows), [["a", "9"], ["a", "10"]]);
  });
});

describe("formatCsv()", () => {
  test("quotes as Go's encoding/csv does", () => {
    assert.equal(formatCsv([["a", "b,c", `d"e`, " f", ""]]), `a,"b,c","d""e"," f",`);
  });
});
