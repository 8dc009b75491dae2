/**
 * A JSON state file that several labwire processes share safely (`labwire --state PATH`).
 *
 * Every change runs under an exclusive lock file (`PATH.lock`) and is written atomically: a temporary
 * file in the same directory, fsync, rename over `PATH`, fsync of the directory. Readers therefore see
 * the old document or the new one, never half of one, and need no lock. A lock whose holder died, or
 * whose holder stopped refreshing it for `staleMs`, is broken, so a crash never blocks the file for
 * good; how that stays safe when several processes wait at once is explained at `breakLock` below.
 *
 * A lock file is never empty: its content is written to a temporary file first, which is then hard-linked
 * to `PATH.lock` (link(2) is atomic and fails when the lock exists). A lock file that cannot be read as a
 * lock is therefore debris, and broken at once. A lock names its holder by host, pid and, on Linux, the
 * process's start time (`/proc/PID/stat`, field 22), so that a pid reused by another process is known
 * for a dead holder at once; without `/proc`, a live pid counts as the holder. The holder of the lock
 * also sweeps the temporary files that killed writers left behind (see `sweep` below).
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { mkdtempSync, rmSync } from "node:fs";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 * import { StateStore } from "./_state_store.ts";
 * const dir = mkdtempSync(join(tmpdir(), "lab-"));
 * const store = new StateStore(join(dir, "lab.json"), {
 *   initial: () => ({ version: 1, vlans: {} as Record<string, number> }),
 * });
 * await store.update((doc) => { doc.vlans["DMZ"] = 101; });
 * assert.deepEqual(await store.read(), { version: 1, vlans: { DMZ: 101 } });
 * rmSync(dir, { recursive: true });
 * ```
 *
 * @module
 */

import { createHash, randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import * as fs from "node:fs/promises";
import type { FileHandle } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import process from "node:process";
import { clearInterval, setInterval } from "node:timers";

/** Options for {@linkcode StateStore}. */
export interface StateStoreOptions<T> {
  /** Makes the document used while the file does not exist. */
  initial: () => T;
  /**
   * Checks (and may convert) what the file holds; throw to reject it.
   * @default {(raw) => raw as T}
   */
  validate?: (raw: unknown) => T;
  /** How long {@linkcode StateStore.update} waits for the lock before failing. @default {10000} */
  lockTimeoutMs?: number;
  /**
   * A lock not refreshed for this long is broken. The holder refreshes it every `staleMs / 3`, so
   * only a holder that is gone or frozen loses it. @default {30000}
   */
  staleMs?: number;
}

/** What {@linkcode StateStore.transform} callbacks return: the next document and a result. */
export interface StateChange<T, R> {
  /** The document to store (written only when it differs from the one read). */
  doc: T;
  /** What `transform()` resolves to. */
  result: R;
}

/** The content of a lock file (and of a claim file, see `breakLock`). */
interface LockInfo {
  pid: number;
  hostname: string;
  /** When it was taken, in ms since the epoch. */
  time: number;
  /** Unique per lock taken: tells two locks of the same process apart. */
  token: string;
  /**
   * The holder's start time, in clock ticks since boot (`/proc/PID/stat`, field 22), as text; missing
   * where there is no `/proc` (and in locks of older labwire versions).
   */
  start?: string;
}

/** A lock or claim file as seen at one moment. */
interface Seen {
  /** Identity of this instance of the file: its token, or dev/inode/mtime when it has no readable token. */
  id: string;
  info: Partial<LockInfo> & Omit<LockInfo, "token"> | undefined;
  mtimeMs: number;
}

/** The lock this process holds. */
interface Held {
  token: string;
  handle: FileHandle;
  heartbeat: ReturnType<typeof setInterval>;
}

const HOSTNAME = hostname();
/** A short tag of this host in temporary file names, so that a sweep judges only this host's pids. */
const HOST_TAG = createHash("sha256").update(HOSTNAME).digest("hex").slice(0, 8);
/** Whether this machine has a `/proc` of processes (Linux). */
const HAS_PROC_DIR = (() => {
  try {
    return readFileSync("/proc/self/stat", "utf8").length > 0;
  } catch {
    return false;
  }
})();
/** Whether this machine shows processes' start times in `/proc` (Linux). */
const HAS_PROC = procStart(process.pid) !== undefined;
/** This process's start time, as its locks record it. */
const OWN_START = HAS_PROC ? procStart(process.pid) ?? undefined : undefined;
/** A temporary file older than this is swept whoever made it (its writer is gone or frozen). */
const TEMP_MAX_AGE_MS = 60_000;
/**
 * The temporary files {@linkcode StateStore} makes beside `PATH`, named after `PATH.`: a document being
 * written (`PID-HOST-UUID.tmp`), a lock or claim being made (`lock.PID-HOST-UUID.new`,
 * `lock.ID.claim.PID-HOST-UUID.new`); group 1 is the host tag. The pid is the text before the first `-`
 * of the match's last part.
 */
const TEMP_NAME =
  /(?<=^|^lock\.|^lock\.[A-Za-z0-9-]{1,100}\.claim\.)\d{1,10}-([0-9a-f]{8})-[0-9a-f-]{36}\.(?:tmp|new)$/;
/** Temporary files without a pid (labwire before the sweep): a document, a claim set aside. */
const OLD_TEMP_NAME = /^(?:[0-9a-f-]{36}\.tmp|lock\.[A-Za-z0-9-]{1,100}\.claim\.[0-9a-f-]{36}\.stale)$/;
const BACKOFF_START_MS = 1;
const BACKOFF_MAX_MS = 50;
/** Tries to claim our own lock for release while someone else inspects it. */
const RELEASE_TRIES = 100;

function hostname(): string {
  try {
    return os.hostname();
  } catch {
    return "localhost";
  }
}

function errorCode(error: unknown): unknown {
  return (error as { code?: unknown } | null)?.code;
}

function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function serialize(doc: unknown, file: string): string {
  const text = JSON.stringify(doc, null, 2);
  if (text === undefined) throw new TypeError(`Cannot write state file '${file}': the document is not JSON`);
  return `${text}\n`;
}

function parseInfo(text: string): Partial<LockInfo> & Omit<LockInfo, "token"> | undefined {
  try {
    const raw = JSON.parse(text) as Partial<LockInfo> | null;
    if (
      raw !== null && typeof raw === "object" && typeof raw.pid === "number" &&
      typeof raw.hostname === "string" && typeof raw.time === "number"
    ) {
      const { pid, hostname, time, token, start } = raw;
      const base = typeof start === "string" && /^\d{1,20}$/.test(start)
        ? { pid, hostname, time, start }
        : { pid, hostname, time };
      // The token names claim files: only a plain one is used, else the file's inode stands in.
      return typeof token === "string" && /^[A-Za-z0-9-]{1,100}$/.test(token) ? { ...base, token } : base;
    }
  } catch {
    // debris: locks are linked into place whole, so this is no lock being written
  }
  return undefined;
}

/** Reads a lock or claim file; one open handle, so content and stat describe the same file. */
async function see(file: string): Promise<Seen | undefined> {
  let handle: FileHandle;
  try {
    handle = await fs.open(file, "r");
  } catch (error) {
    if (errorCode(error) === "ENOENT") return undefined;
    throw error;
  }
  try {
    const stat = await handle.stat();
    const info = parseInfo(await handle.readFile("utf8"));
    const id = info?.token ?? `i${stat.dev}-${stat.ino}-${Math.trunc(stat.mtimeMs)}`;
    return { id, info, mtimeMs: stat.mtimeMs };
  } finally {
    await handle.close();
  }
}

/**
 * The start time of process `pid` (`/proc/PID/stat`, field 22, clock ticks since boot): `null` when no
 * such process runs or it is a zombie (it holds nothing any more), `undefined` where `/proc` cannot tell.
 */
export function procStart(pid: number): string | null | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch (error) {
    return errorCode(error) === "ENOENT" && HAS_PROC_DIR ? null : undefined;
  }
  // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split after its last ')'
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  if (fields[0] === "Z" || fields[0] === "X") return null;
  const start = fields[22 - 3];
  return start !== undefined && /^\d+$/.test(start) ? start : undefined;
}

/**
 * Whether `pid` is a live process on this host; unknown counts as alive. With `start` (the start time
 * its lock recorded) and `/proc`, a live pid that started at another time is another process: the
 * recorded one is dead.
 */
function pidAlive(pid: number, start?: string): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return true; // not a pid we can ask about: age decides
  if (HAS_PROC) {
    const now = procStart(pid);
    if (now === null) return false;
    if (now !== undefined) return start === undefined || now === start;
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return errorCode(error) !== "ESRCH"; // EPERM: alive, another user's
  }
}

function isStale(seen: Seen, staleMs: number): boolean {
  const info = seen.info;
  // locks are linked into place whole: one that does not read as a lock is debris
  if (info === undefined) return true;
  if (info.hostname === HOSTNAME && !pidAlive(info.pid, info.start)) return true;
  return Date.now() - seen.mtimeMs > staleMs;
}

async function unlinkQuiet(file: string): Promise<void> {
  try {
    await fs.unlink(file);
  } catch (error) {
    if (errorCode(error) !== "ENOENT") throw error;
  }
}

/** A temporary file's name beside `file`: the writer's pid and host tag, a random part, and `ext`. */
function tempName(file: string, ext: "new" | "tmp"): string {
  return `${file}.${process.pid}-${HOST_TAG}-${randomUUID()}.${ext}`;
}

/**
 * Creates `file` exclusively, whole, with `info` in it: written to a temporary file that is then
 * hard-linked to `file`, so that `file` never exists empty or half written. `undefined` if `file`
 * exists. The handle (on the file's inode) stays open.
 */
async function createExclusive(file: string, info: LockInfo): Promise<FileHandle | undefined> {
  for (;;) {
    const tmp = tempName(file, "new");
    const handle = await fs.open(tmp, "wx");
    let linked: boolean | "retry";
    try {
      await handle.writeFile(JSON.stringify(info));
      try {
        await fs.link(tmp, file);
        linked = true;
      } catch (error) {
        const code = errorCode(error);
        // ENOENT: our temporary file was swept as abandoned (this process was frozen): make another
        if (code !== "EEXIST" && code !== "ENOENT") throw error;
        linked = code === "EEXIST" ? false : "retry";
      }
    } catch (error) {
      await handle.close();
      await unlinkQuiet(tmp).catch(() => {});
      throw error;
    }
    await unlinkQuiet(tmp).catch(() => {});
    if (linked === true) return handle;
    await handle.close();
    if (linked === false) return undefined;
  }
}

async function syncDir(dir: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await fs.open(dir, "r");
    await handle.sync();
  } catch {
    // not every platform can open or fsync a directory; the rename is done either way
  } finally {
    await handle?.close();
  }
}

/**
 * A JSON document in a file, shared by processes: {@linkcode StateStore.update} changes it under an
 * exclusive lock and writes it atomically; {@linkcode StateStore.read} needs no lock.
 *
 * The API is asynchronous on purpose. Waiting for the lock (up to `lockTimeoutMs`) must not freeze
 * the process: the children it runs (tcpdump, QEMU) keep writing to pipes that must be drained, and
 * timers and signals must fire. And the function run under the lock is itself asynchronous: a
 * command runs Open vSwitch and QEMU through `exec` while it holds the lock.
 *
 * A document is plain JSON: written with 2-space indentation and a final newline. Versioning its
 * format is the caller's business (`validate` may convert old versions).
 *
 * @typeParam T The document.
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { mkdtempSync, rmSync } from "node:fs";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 * import { StateStore } from "./_state_store.ts";
 * const dir = mkdtempSync(join(tmpdir(), "lab-"));
 * const store = new StateStore(join(dir, "lab.json"), { initial: () => ({ version: 1, taps: [] as string[] }) });
 * const count = await store.update((doc) => doc.taps.push("mega_tap0"));
 * assert.equal(count, 1);
 * assert.deepEqual((await store.read()).taps, ["mega_tap0"]);
 * rmSync(dir, { recursive: true });
 * ```
 */
export class StateStore<T> {
  /** The state file. */
  readonly path: string;
  /** The lock file beside it: `${path}.lock`. */
  readonly lockPath: string;
  #initial: () => T;
  #validate: (raw: unknown) => T;
  #lockTimeoutMs: number;
  #staleMs: number;

  /**
   * Opens nothing yet: the file is read on every call.
   *
   * @param path The state file; its directory must exist.
   * @param options The initial document, the validator and the lock timings.
   * @throws {RangeError} If `lockTimeoutMs` is negative or `staleMs` is not positive.
   */
  constructor(path: string, options: StateStoreOptions<T>) {
    const { initial, validate = (raw: unknown) => raw as T, lockTimeoutMs = 10_000, staleMs = 30_000 } =
      options;
    if (!(lockTimeoutMs >= 0)) {
      throw new RangeError(
        `Cannot open state store as 'lockTimeoutMs' must be >= 0: current value is ${lockTimeoutMs}`,
      );
    }
    if (!(staleMs > 0)) {
      throw new RangeError(`Cannot open state store as 'staleMs' must be > 0: current value is ${staleMs}`);
    }
    this.path = path;
    this.lockPath = `${path}.lock`;
    this.#initial = initial;
    this.#validate = validate;
    this.#lockTimeoutMs = lockTimeoutMs;
    this.#staleMs = staleMs;
  }

  /**
   * Reads the document, or the initial one when the file does not exist. Takes no lock: files are only
   * ever replaced by a rename, so a read never sees half a write.
   *
   * @returns The document.
   * @throws {Error} `Cannot read state file 'PATH': <reason>` when the file is not JSON, `validate`
   * rejects it, or it cannot be read. A broken file is never silently replaced by the initial document.
   */
  async read(): Promise<T> {
    return (await this.#load()).doc;
  }

  /**
   * Changes the document under the lock: reads it, lets `fn` change it in place, and writes it back
   * atomically when its JSON changed. A document that `fn` leaves unchanged is not written (so a
   * read-only command never creates the file). When `fn` throws, nothing is written.
   *
   * @param fn Changes the document in place; may be async.
   * @returns What `fn` returns.
   * @throws {Error} `Cannot lock state file 'PATH': held by pid N for X ms` when the lock stays taken
   * for `lockTimeoutMs`; the errors of {@linkcode StateStore.read}; whatever `fn` throws.
   * @example Usage
   * ```ts
   * import assert from "node:assert/strict";
   * import { mkdtempSync, rmSync } from "node:fs";
   * import { tmpdir } from "node:os";
   * import { join } from "node:path";
   * import { StateStore } from "./_state_store.ts";
   * const dir = mkdtempSync(join(tmpdir(), "lab-"));
   * const store = new StateStore(join(dir, "lab.json"), { initial: () => ({ next: 101 }) });
   * assert.equal(await store.update((doc) => doc.next++), 101);
   * assert.equal(await store.update((doc) => doc.next++), 102);
   * rmSync(dir, { recursive: true });
   * ```
   */
  update<R>(fn: (doc: T) => R | Promise<R>): Promise<R> {
    return this.#locked(async (doc) => ({ doc, result: await fn(doc) }));
  }

  /**
   * Like {@linkcode StateStore.update}, for callers that build a new document rather than change the one
   * read: `fn` returns `{ doc, result }`, `doc` is stored (when its JSON differs from the one read) and
   * `result` returned.
   *
   * @param fn Returns the next document and the result; may be async.
   * @returns The `result` that `fn` returned.
   * @throws {Error} As {@linkcode StateStore.update}.
   * @example Usage
   * ```ts
   * import assert from "node:assert/strict";
   * import { mkdtempSync, rmSync } from "node:fs";
   * import { tmpdir } from "node:os";
   * import { join } from "node:path";
   * import { StateStore } from "./_state_store.ts";
   * const dir = mkdtempSync(join(tmpdir(), "lab-"));
   * const store = new StateStore(join(dir, "lab.json"), { initial: (): readonly string[] => [] });
   * assert.equal(await store.transform((taps) => ({ doc: [...taps, "mega_tap0"], result: "ok" })), "ok");
   * assert.deepEqual(await store.read(), ["mega_tap0"]);
   * rmSync(dir, { recursive: true });
   * ```
   */
  transform<R>(fn: (doc: T) => StateChange<T, R> | Promise<StateChange<T, R>>): Promise<R> {
    return this.#locked(fn);
  }

  async #locked<R>(fn: (doc: T) => StateChange<T, R> | Promise<StateChange<T, R>>): Promise<R> {
    const held = await this.#acquire();
    try {
      const { doc, text: before } = await this.#load();
      const change = await fn(doc);
      const after = serialize(change.doc, this.path);
      if (after !== before) {
        await this.#checkHeld(held);
        await this.#write(after);
      }
      return change.result;
    } finally {
      await this.#release(held);
    }
  }

  async #load(): Promise<{ doc: T; text: string }> {
    let text: string;
    try {
      text = await fs.readFile(this.path, "utf8");
    } catch (error) {
      if (errorCode(error) !== "ENOENT") {
        throw new Error(`Cannot read state file '${this.path}': ${reasonOf(error)}`, { cause: error });
      }
      const doc = this.#initial();
      return { doc, text: serialize(doc, this.path) };
    }
    let doc: T;
    try {
      doc = this.#validate(JSON.parse(text));
    } catch (error) {
      throw new Error(`Cannot read state file '${this.path}': ${reasonOf(error)}`, { cause: error });
    }
    return { doc, text: serialize(doc, this.path) };
  }

  async #write(text: string): Promise<void> {
    const file = this.path;
    const tmp = tempName(file, "tmp");
    try {
      let mode: number | undefined;
      try {
        mode = (await fs.stat(file)).mode & 0o7777;
      } catch {
        // a new file: default mode
      }
      const handle = await fs.open(tmp, "wx");
      try {
        if (mode !== undefined) await handle.chmod(mode);
        await handle.writeFile(text);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await fs.rename(tmp, file);
    } catch (error) {
      await unlinkQuiet(tmp).catch(() => {});
      throw new Error(`Cannot write state file '${file}': ${reasonOf(error)}`, { cause: error });
    }
    await syncDir(path.dirname(file));
  }

  /** Fails the write when our lock file is no longer the one at `lockPath` (it was broken). */
  async #checkHeld(held: Held): Promise<void> {
    const ours = await held.handle.stat();
    let current;
    try {
      current = await fs.stat(this.lockPath);
    } catch {
      current = undefined;
    }
    if (current === undefined || current.ino !== ours.ino || current.dev !== ours.dev) {
      throw new Error(
        `Cannot write state file '${this.path}': its lock was broken while this process held it ` +
          `(held longer than ${this.#staleMs} ms without refreshing it)`,
      );
    }
  }

  #newInfo(): LockInfo {
    const info: LockInfo = { pid: process.pid, hostname: HOSTNAME, time: Date.now(), token: randomUUID() };
    if (OWN_START !== undefined) info.start = OWN_START;
    return info;
  }

  async #acquire(): Promise<Held> {
    const lockPath = this.lockPath;
    const start = Date.now();
    let delay = BACKOFF_START_MS;
    for (;;) {
      const info = this.#newInfo();
      let handle: FileHandle | undefined;
      try {
        handle = await createExclusive(lockPath, info);
      } catch (error) {
        throw new Error(`Cannot lock state file '${this.path}': ${reasonOf(error)}`, { cause: error });
      }
      if (handle !== undefined) {
        const heartbeatHandle = handle;
        // Refreshes the lock's mtime through our own handle: it touches our file even if it was
        // broken and replaced meanwhile, never someone else's.
        const heartbeat = setInterval(() => {
          const now = new Date();
          heartbeatHandle.utimes(now, now).catch(() => {});
        }, Math.max(1, Math.floor(this.#staleMs / 3)));
        heartbeat.unref();
        await this.#sweep(info.token).catch(() => {}); // best effort: a sweep that fails leaves debris, no harm
        return { token: info.token, handle, heartbeat };
      }
      let seen: Seen | undefined;
      try {
        seen = await see(lockPath);
      } catch (error) {
        throw new Error(`Cannot lock state file '${this.path}': ${reasonOf(error)}`, { cause: error });
      }
      if (seen === undefined) continue; // released between our attempt and our look: retry now
      if (isStale(seen, this.#staleMs) && await this.#breakLock(seen)) continue;
      const waited = Date.now() - start;
      if (waited >= this.#lockTimeoutMs) throw this.#timeoutError(seen);
      const pause = delay * (0.5 + Math.random() * 0.5);
      await sleep(Math.min(pause, Math.max(1, this.#lockTimeoutMs - waited)));
      delay = Math.min(delay * 2, BACKOFF_MAX_MS);
    }
  }

  /**
   * Removes the temporary files that writers killed mid-write left beside the state file, and claims on
   * locks that are gone whose writer is dead. Run by the lock's holder, right after taking it: the only writer of the document's temporary files (`.tmp`) is
   * the holder, so another one is a dead or ex-holder's; lock and claim files being made (`.new`) live a
   * few file operations. Each name holds its writer's pid and host tag: a file of this host whose pid
   * is dead goes at once, any other once older than a minute (a writer frozen that long lost the lock
   * anyway; if it wakes, its link or rename fails and it retries or reports the failed write).
   */
  async #sweep(token: string): Promise<void> {
    const dir = path.dirname(this.path);
    const base = `${path.basename(this.path)}.`;
    const now = Date.now();
    for (const name of await fs.readdir(dir)) {
      if (!name.startsWith(base)) continue;
      const rest = name.slice(base.length);
      // a claim on a lock that is not ours, so no longer there (a process killed while releasing or
      // breaking it): nobody can use it, and one whose writer is dead or frozen goes
      const claimOf = /^lock\.([A-Za-z0-9-]{1,100})\.claim$/.exec(rest);
      if (claimOf !== null) {
        const claimPath = path.join(dir, name);
        const seen = claimOf[1] === token ? undefined : await see(claimPath);
        if (seen !== undefined && isStale(seen, this.#staleMs)) await removeAbandonedClaim(claimPath, seen);
        continue;
      }
      // a claim set aside by a process killed while removing it: it goes with its writer
      if (/^lock\.[A-Za-z0-9-]{1,100}\.claim\.[0-9a-f-]{36}\.stale$/.test(rest)) {
        const seen = await see(path.join(dir, name));
        if (seen === undefined || isStale(seen, this.#staleMs)) await unlinkQuiet(path.join(dir, name));
        continue;
      }
      const named = TEMP_NAME.exec(rest);
      if (named === null && !OLD_TEMP_NAME.test(rest)) continue;
      const file = path.join(dir, name);
      let dead = false;
      if (named !== null && named[1] === HOST_TAG) dead = !pidAlive(Number(named[0].split("-", 1)[0]));
      if (!dead) {
        try {
          dead = now - (await fs.stat(file)).mtimeMs > TEMP_MAX_AGE_MS;
        } catch {
          continue; // gone already
        }
      }
      if (dead) await unlinkQuiet(file);
    }
  }

  #timeoutError(seen: Seen): Error {
    const info = seen.info;
    const now = Date.now();
    if (info === undefined) {
      const ms = Math.max(0, Math.round(now - seen.mtimeMs));
      return new Error(`Cannot lock state file '${this.path}': held by an unknown process for ${ms} ms`);
    }
    const where = info.hostname === HOSTNAME ? "" : ` on host '${info.hostname}'`;
    const ms = Math.max(0, Math.round(now - info.time));
    return new Error(`Cannot lock state file '${this.path}': held by pid ${info.pid}${where} for ${ms} ms`);
  }

  /**
   * Removes the lock `seen`, judged stale, and reports whether the lock changed (so retry at once).
   *
   * Why two waiters cannot both break a lock and both hold it. Locks are only ever *created* with an
   * exclusive create (`wx`), so at most one lock file exists at `lockPath` and at most one process
   * holds the lock. The danger is removing the wrong file: waiters A and B both judge lock L stale;
   * A removes L and takes a new lock M; B, acting on its old judgement, would then remove M and take
   * the lock too. Renaming L aside first does not help: B's rename would move M aside instead.
   *
   * So every removal of a lock file goes through a claim: the file `${lockPath}.${id}.claim`, created
   * with `wx`, where `id` names that one lock instance (its random token). Only the holder of the
   * claim for L may unlink `lockPath`, and it first reads `lockPath` again and checks that it is
   * still L and still stale. That check cannot be outdated by the time of the unlink: L can leave
   * `lockPath` only through an unlink by the claim holder for L, which is us, and nothing is ever
   * renamed onto `lockPath`. A late waiter like B above either fails to create L's claim, or creates
   * it after L is gone and finds M (another id) at `lockPath`, and leaves it alone. The owner's own
   * release follows the same rule, so it cannot race a waiter that is breaking its lock either.
   *
   * A lock is stale when its pid is dead on this host, or when it has not been refreshed for
   * `staleMs` (its holder refreshes it every `staleMs / 3`, so this means a holder that is gone, on
   * another host, or frozen). Claims are held for a few file operations; a claim left by a process
   * that died holding it is removed the same way, judged by its own pid and age. The one residual
   * window: a process dies inside that window and two waiters then race to remove its claim while a
   * third creates a new one: several unlikely events within microseconds of each other.
   */
  async #breakLock(seen: Seen): Promise<boolean> {
    const claim = await this.#claim(seen.id);
    if (claim === undefined) return false;
    try {
      const now = await see(this.lockPath);
      if (now === undefined || now.id !== seen.id) return true;
      if (!isStale(now, this.#staleMs)) return false;
      await unlinkQuiet(this.lockPath);
      return true;
    } finally {
      await unlinkQuiet(claim);
    }
  }

  /** Creates the claim for lock `id`; returns its path, or `undefined` when someone else holds it. */
  async #claim(id: string): Promise<string | undefined> {
    const claimPath = `${this.lockPath}.${id}.claim`;
    for (let attempt = 0; attempt < 3; attempt++) {
      const handle = await createExclusive(claimPath, this.#newInfo());
      if (handle !== undefined) {
        await handle.close();
        return claimPath;
      }
      const other = await see(claimPath);
      if (other === undefined) continue;
      if (!isStale(other, this.#staleMs)) return undefined;
      await removeAbandonedClaim(claimPath, other);
    }
    return undefined;
  }

  async #release(held: Held): Promise<void> {
    clearInterval(held.heartbeat);
    await held.handle.close().catch(() => {});
    for (let attempt = 0; attempt < RELEASE_TRIES; attempt++) {
      const claim = await this.#claim(held.token);
      if (claim === undefined) {
        // Someone judged our lock stale and is looking at it: wait for them to let go.
        await sleep(1 + attempt);
        continue;
      }
      try {
        const now = await see(this.lockPath);
        if (now?.id === held.token) await unlinkQuiet(this.lockPath);
      } finally {
        await unlinkQuiet(claim);
      }
      return;
    }
    // Left to whoever is inspecting it: our pid is alive, so it goes stale `staleMs` from now.
  }
}

/**
 * Removes a claim left by a process that died holding it. It is renamed aside first, so that of
 * several waiters only one takes it; if what was taken turns out to be a newer, live claim (the
 * abandoned one was removed and replaced meanwhile), it is put back.
 */
async function removeAbandonedClaim(claimPath: string, abandoned: Seen): Promise<void> {
  const aside = `${claimPath}.${randomUUID()}.stale`;
  try {
    await fs.rename(claimPath, aside);
  } catch (error) {
    if (errorCode(error) === "ENOENT") return;
    throw error;
  }
  const taken = await see(aside);
  if (taken !== undefined && taken.id !== abandoned.id) {
    await fs.link(aside, claimPath).catch(() => {});
  }
  await unlinkQuiet(aside);
}
