import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { commandsDoc } from "../scripts/commands_doc.ts";

test("docs/commands.md is generated from the current commands", () => {
  const file = path.join(import.meta.dirname!, "..", "docs", "commands.md");
  assert.equal(fs.readFileSync(file, "utf8"), commandsDoc(), "run: deno run -A scripts/commands_doc.ts");
});
