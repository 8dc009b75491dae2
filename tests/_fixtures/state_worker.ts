/**
 * Worker for the concurrency test of `StateStore` (tests/state_store.test.ts): `state_worker.ts PATH N`
 * makes N updates of the state file PATH, each appending a token unique to this process and update and
 * incrementing a counter, and after each one reads the file back without the lock to check that it is
 * whole and consistent. Runs under Deno (`deno run -A`) and Bun (`bun`).
 *
 * @module
 */

import process from "node:process";
import { StateStore } from "../../lib/lab/_state_store.ts";

interface Doc {
  counter: number;
  tokens: string[];
}

function validate(raw: unknown): Doc {
  const doc = raw as Partial<Doc> | null;
  if (
    doc === null || typeof doc !== "object" || typeof doc.counter !== "number" ||
    !Array.isArray(doc.tokens) ||
    doc.tokens.length !== doc.counter
  ) {
    throw new TypeError(`inconsistent document: ${JSON.stringify(raw).slice(0, 200)}`);
  }
  return doc as Doc;
}

async function main(args: readonly string[]): Promise<void> {
  const [file, count] = args;
  const n = Number(count);
  if (file === undefined || !(Number.isInteger(n) && n > 0)) {
    throw new TypeError("usage: state_worker.ts PATH N");
  }
  const store = new StateStore<Doc>(file, { initial: () => ({ counter: 0, tokens: [] }), validate });
  for (let i = 0; i < n; i++) {
    const token = `${process.pid}-${i}`;
    await store.update((doc) => {
      doc.counter++;
      doc.tokens.push(token);
    });
    const seen = await store.read(); // no lock: must never be torn or inconsistent (validate checks)
    if (!seen.tokens.includes(token)) throw new Error(`token ${token} missing right after its update`);
  }
}

try {
  await main(process.argv.slice(2));
} catch (error) {
  process.stderr.write(`state_worker: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
