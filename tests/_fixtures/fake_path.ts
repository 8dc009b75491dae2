/**
 * Runs a test body with a PATH on which some programs exist (empty executable files) or none at all, so
 * that code asking `which()` sees what the test wants, whatever the host has installed.
 *
 * @module
 */

import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import process from "node:process";

/**
 * Runs `fn` with `programs` on the PATH in front of the real one; with `only`, they are all there is.
 *
 * @param programs Names of empty executable files to put on the PATH.
 * @param fn The body.
 * @param options `only`: leave the real PATH out.
 */
export async function withPath(
  programs: readonly string[],
  fn: () => Promise<void>,
  options: { only?: boolean } = {},
): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "labwire-bin-"));
  for (const program of programs) fs.writeFileSync(path.join(dir, program), "", { mode: 0o755 });
  const saved = process.env.PATH;
  process.env.PATH = options.only === true ? dir : `${dir}:${saved}`;
  try {
    await fn();
  } finally {
    process.env.PATH = saved;
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
