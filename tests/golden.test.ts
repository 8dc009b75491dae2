/**
 * Golden transcripts: every `tests/golden/NAME.mm` script runs in transcript mode (minimega's
 * minitest format) and must print exactly `NAME.want`. In-process through {@linkcode runScript}, the
 * code path the CLI uses, with the built-in NIC driver list (not the installed QEMU's), so that the
 * transcripts do not depend on the machine. `LABWIRE_UPDATE_GOLDEN=1` rewrites the .want files (review
 * the diff!).
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import process from "node:process";
import { NIC_DRIVERS } from "../lib/nic_drivers.ts";
import { Lab } from "../lib/api/lab.ts";
import { runScript } from "../lib/cli/script.ts";

const dir = path.join(import.meta.dirname!, "golden");

/** The .mm files under tests/golden, recursively, relative to it. */
function scripts(folder: string): string[] {
  return fs.readdirSync(folder, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(folder, e.name);
    if (e.isDirectory()) return scripts(p);
    return e.name.endsWith(".mm") ? [p] : [];
  }).sort();
}

/** Runs a script as the CLI does with --transcript and returns the transcript. */
async function transcript(file: string): Promise<string> {
  const lines = fs.readFileSync(file, "utf8").split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  let out = "";
  const runner = await Lab.open({ host: "testhost", drivers: NIC_DRIVERS, seed: "golden" });
  await runScript(runner, lines, {
    transcript: true,
    stdout: (s) => out += s,
    stderr: (s) => out += s,
  });
  await runner.close();
  return out;
}

describe("golden transcripts", () => {
  const files = scripts(dir);
  test("there are golden transcripts", () => assert.ok(files.length >= 5, `only ${files.length} found`));
  for (const file of files) {
    const name = path.relative(dir, file).replace(/\.mm$/, "");
    test(`${name}.mm prints ${name}.want`, async () => {
      const got = await transcript(file);
      const wantFile = file.replace(/\.mm$/, ".want");
      if (process.env.LABWIRE_UPDATE_GOLDEN === "1") fs.writeFileSync(wantFile, got);
      assert.equal(got, fs.readFileSync(wantFile, "utf8"));
    });
  }
});
