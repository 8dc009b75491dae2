/**
 * Fixture for tests/state_store.test.ts: `state_holder.ts PATH MARKER` takes the lock of the state file
 * PATH, creates the file MARKER, and then holds the lock until it is killed. Runs under Deno and Bun.
 *
 * @module
 */

import { writeFileSync } from "node:fs";
import process from "node:process";
import { StateStore } from "../../lib/lab/_state_store.ts";

const [file, marker] = process.argv.slice(2);
if (file === undefined || marker === undefined) {
  process.stderr.write("usage: state_holder.ts PATH MARKER\n");
  process.exit(2);
}
const store = new StateStore(file, { initial: () => ({ holder: process.pid }) });
await store.update(async () => {
  writeFileSync(marker, String(process.pid));
  await new Promise<never>(() => setInterval(() => {}, 60_000)); // hold the lock until killed
});
