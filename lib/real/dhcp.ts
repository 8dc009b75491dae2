/**
 * An IPv4 address by DHCP for one interface: what minimega's `tap create <vlan> dhcp` does with
 * `dhclient`, without its side effects and with a timeout.
 *
 * {@linkcode dhcpLease} runs ISC dhclient (Debian's `isc-dhcp-client`) in the foreground with no
 * configuration script, so that it changes nothing on the host: no address, no route, no
 * /etc/resolv.conf. It reads the lease from dhclient's own lease file, stops dhclient by its PID (the
 * abort signal of its {@linkcode Cmd}) and returns the lease; the caller adds the address
 * (`ip addr add`). dhclient runs with its own configuration file (a DHCPDISCOVER every 1-2 s, where
 * dhclient's defaults waited 4 to 8 s on this machine, so that one lost packet does not use up the
 * timeout; no host name sent) and its own lease and PID files.
 *
 * Unlike minimega, whose dhclient stays behind as a daemon, nothing renews the lease once dhcpLease
 * returns: the server may give the address to another client after {@linkcode DhcpLease.leaseSeconds}.
 * Call dhcpLease again before then to renew (a server such as dnsmasq hands the same MAC the same
 * address).
 *
 * Where AppArmor confines dhclient, Debian's profile (/etc/apparmor.d/sbin.dhclient) lets it write only
 * /var/lib/dhcp/dhclient* and /run/dhclient*: a lease file it cannot write ends in `dhclient cannot
 * write its lease file`, not in a timeout blamed on the server. The file names start with `dhclient.`
 * so that `leaseDir: "/var/lib/dhcp"` matches that profile (not tried on a host with AppArmor).
 *
 * @module
 */

import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { type Cmd, createExec, ExecError } from "../exec.ts";

/** How long {@linkcode dhcpLease} waits for a lease by default, in milliseconds. */
export const DEFAULT_DHCP_TIMEOUT_MS = 10_000;

/** How often the lease file is read while dhclient runs. */
const LEASE_POLL_MS = 50;
/** How long after the timeout exec's own timer stops dhclient, should the abort not have. */
const BACKSTOP_MS = 10_000;
/** Lines of dhclient's standard error that an error message shows. */
const MESSAGE_TAIL_LINES = 10;
/** The reason given when dhclient is missing. */
const NOT_INSTALLED = "dhclient is not installed (apt-get install isc-dhcp-client)";

/** Options for {@linkcode dhcpLease}. */
export interface DhcpOptions {
  /** Runs programs. @default {createExec()} */
  exec?: (program: string) => Cmd;
  /**
   * The network namespace the interface is in; dhclient then runs as `ip netns exec <namespace>
   * dhclient ...`. Unset: the host's namespace.
   */
  namespace?: string;
  /**
   * How long to wait for a lease, in milliseconds; dhclient is stopped when it runs out.
   * @default {10000}
   */
  timeoutMs?: number;
  /**
   * The folder for dhclient's files, created if missing and kept afterwards:
   * `dhclient.<iface>.conf`, `.leases` and `.pid` (`dhclient.<iface>:<namespace>.*` with a namespace,
   * so that one folder can serve several interfaces). A lease and PID file left there by an earlier run
   * are removed first: the lease returned is always this run's. Unset: a fresh temp folder, removed
   * afterwards.
   */
  leaseDir?: string;
}

/** An IPv4 lease, as dhclient wrote it. */
export interface DhcpLease {
  /**
   * The address with its prefix length, for `ip addr add`: `"10.0.0.7/24"`. `/32` when the server sent
   * no subnet mask, as Debian's dhclient-script would add it.
   */
  address: string;
  /** The first router (default gateway) the server named. */
  router?: string;
  /** The DHCP server's identifier (its address). */
  server?: string;
  /** The lease time, in seconds (4294967295 for an infinite lease). */
  leaseSeconds?: number;
}

/** Why {@linkcode dhcpLease} failed. */
export type DhcpErrorKind =
  /** No lease came within the timeout. */
  | "timeout"
  /** dhclient (or, for a namespace, `ip`) is not installed. */
  | "not-installed"
  /** dhclient exited, or its lease could not be written or read. */
  | "failed";

/** What {@linkcode DhcpError} is made from. */
export interface DhcpErrorInit {
  /** The interface. */
  iface: string;
  /** Its namespace, if not the host's. */
  namespace?: string | undefined;
  /** Why it failed. */
  kind: DhcpErrorKind;
  /** dhclient's standard error. @default {""} */
  stderr?: string;
  /** The underlying error. */
  cause?: unknown;
}

/**
 * No address by DHCP. The message is `Cannot get an address by DHCP for <iface>: <reason>`, followed
 * by a blank line and the end of dhclient's standard error when dhclient itself failed.
 */
export class DhcpError extends Error {
  /** `"DhcpError"`. */
  override name = "DhcpError";
  /** The interface. */
  readonly iface: string;
  /** Its namespace, if not the host's. */
  readonly namespace: string | undefined;
  /** Why it failed. */
  readonly kind: DhcpErrorKind;
  /** dhclient's standard error (the tail {@linkcode ExecError} keeps). */
  readonly stderr: string;

  /** Makes the error; `message` is the whole message. */
  constructor(message: string, init: DhcpErrorInit) {
    super(message, init.cause === undefined ? undefined : { cause: init.cause });
    this.iface = init.iface;
    this.namespace = init.namespace;
    this.kind = init.kind;
    this.stderr = init.stderr ?? "";
  }
}

// ---------------------------------------------------------------------------------------------------
// The lease file

/** Splits dhclient.leases(5) text into words, quoted strings and `{`, `}`, `;`; `#` starts a comment. */
function tokenize(text: string): string[] {
  const tokens: string[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (c === "#") {
      while (i < text.length && text[i] !== "\n") i++;
    } else if (c === "{" || c === "}" || c === ";") {
      tokens.push(c);
      i++;
    } else if (c === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === "\\" ? 2 : 1;
      if (j >= text.length) break; // unterminated: a file still being written
      tokens.push(text.slice(i, j + 1));
      i = j + 1;
    } else {
      let j = i;
      while (j < text.length && !/[\s{};"#]/.test(text[j]!)) j++;
      tokens.push(text.slice(i, j));
      i = j;
    }
  }
  return tokens;
}

/** The statements (word lists) of the last complete top-level `lease { ... }` block. */
function lastLeaseBlock(text: string): string[][] | undefined {
  const tokens = tokenize(text);
  let last: string[][] | undefined;
  let depth = 0;
  let block: string[][] | undefined;
  let statement: string[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t === "{") {
      if (depth === 0 && statement.length === 1 && statement[0] === "lease") block = [];
      depth++;
      statement = [];
    } else if (t === "}") {
      depth = Math.max(0, depth - 1);
      if (depth === 0 && block !== undefined) {
        last = block;
        block = undefined;
      }
      statement = [];
    } else if (t === ";") {
      if (depth === 1 && block !== undefined && statement.length > 0) block.push(statement);
      statement = [];
    } else {
      statement.push(t);
    }
  }
  return last;
}

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/** An IPv4 address as a 32-bit number, or `undefined`. */
function ipv4Number(text: string): number | undefined {
  const m = IPV4.exec(text);
  if (m === null) return undefined;
  let n = 0;
  for (let k = 1; k <= 4; k++) {
    const octet = Number(m[k]);
    if (octet > 255) return undefined;
    n = n * 256 + octet;
  }
  return n;
}

/** The prefix length of a contiguous subnet mask, or `undefined`. */
function prefixLength(mask: string): number | undefined {
  const n = ipv4Number(mask);
  if (n === undefined) return undefined;
  const host = (~n) >>> 0;
  if ((host & (host + 1)) !== 0) return undefined; // host bits must be all the low bits
  let bits = 0;
  for (let h = host; h !== 0; h >>>= 1) bits++;
  return 32 - bits;
}

/** The lease of a lease block, or the problem with it (a phrase: "the lease has ..."). */
function leaseOf(block: readonly string[][]): DhcpLease | string {
  let fixed: string | undefined;
  let mask: string | undefined;
  let routers: string | undefined;
  let server: string | undefined;
  let leaseTime: string | undefined;
  for (const s of block) {
    if (s[0] === "fixed-address") fixed = s.slice(1).join(" ");
    if (s[0] !== "option") continue;
    const value = s.slice(2).join(" ");
    if (s[1] === "subnet-mask") mask = value;
    else if (s[1] === "routers") routers = value;
    else if (s[1] === "dhcp-server-identifier") server = value;
    else if (s[1] === "dhcp-lease-time") leaseTime = value;
  }
  if (fixed === undefined) return "the lease has no 'fixed-address'";
  if (ipv4Number(fixed) === undefined) {
    return `the lease has a bad 'fixed-address': current value is "${fixed}"`;
  }
  let prefix = 32;
  if (mask !== undefined) {
    const p = prefixLength(mask);
    if (p === undefined) return `the lease has a bad 'subnet-mask': current value is "${mask}"`;
    prefix = p;
  }
  const lease: DhcpLease = { address: `${fixed}/${prefix}` };
  if (routers !== undefined) {
    const first = routers.split(/[\s,]+/)[0]!;
    if (ipv4Number(first) === undefined) {
      return `the lease has a bad 'routers': current value is "${routers}"`;
    }
    lease.router = first;
  }
  if (server !== undefined) {
    if (ipv4Number(server) === undefined) {
      return `the lease has a bad 'dhcp-server-identifier': current value is "${server}"`;
    }
    lease.server = server;
  }
  if (leaseTime !== undefined) {
    if (!/^\d+$/.test(leaseTime)) {
      return `the lease has a bad 'dhcp-lease-time': current value is "${leaseTime}"`;
    }
    lease.leaseSeconds = Number(leaseTime);
  }
  return lease;
}

/**
 * Reads an IPv4 lease from the text of a dhclient lease file (dhclient.leases(5)): the last complete
 * `lease { ... }` block wins, as dhclient appends each new lease. It takes `fixed-address`,
 * `option subnet-mask` (as a prefix length; `/32` without one, as Debian's dhclient-script does),
 * `option routers` (the first), `option dhcp-server-identifier` and `option dhcp-lease-time`.
 *
 * @param text The lease file, possibly still being written.
 * @returns The lease, or `undefined` when the text has no complete `lease` block yet.
 * @throws {SyntaxError} If the last lease block has no valid `fixed-address`, or a bad value.
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseDhclientLease } from "labwire/ovs";
 * const text = `lease {
 *   interface "mega_tap0";
 *   fixed-address 10.0.0.7;
 *   option subnet-mask 255.255.255.0;
 *   option routers 10.0.0.1;
 *   option dhcp-lease-time 3600;
 *   option dhcp-server-identifier 10.0.0.1;
 * }
 * `;
 * assert.deepEqual(parseDhclientLease(text), {
 *   address: "10.0.0.7/24",
 *   router: "10.0.0.1",
 *   server: "10.0.0.1",
 *   leaseSeconds: 3600,
 * });
 * assert.equal(parseDhclientLease("lease {\n  fixed-address 10.0.0.7;\n"), undefined); // still being written
 * ```
 */
export function parseDhclientLease(text: string): DhcpLease | undefined {
  const block = lastLeaseBlock(text);
  if (block === undefined) return undefined;
  const lease = leaseOf(block);
  if (typeof lease === "string") throw new SyntaxError(`Cannot read dhclient lease: ${lease}`);
  return lease;
}

// ---------------------------------------------------------------------------------------------------
// Running dhclient

/**
 * The dhclient.conf(5) of a run: a DHCPDISCOVER every 1-2 s (`initial-interval 1`, `backoff-cutoff 2`;
 * with dhclient's defaults the first resend came 4 to 8 s later), and dhclient's own give-up time (`-1`
 * makes it exit then) 5 s after labwire's, so that labwire's timeout is the one that counts. No
 * `send host-name` (Debian's /etc/dhcp/dhclient.conf has it): the host's name is not the tap's.
 */
function dhclientConf(timeoutMs: number): string {
  return [
    "# Written by labwire's dhcpLease(): dhclient -cf",
    `timeout ${Math.ceil(timeoutMs / 1000) + 5};`,
    "initial-interval 1;",
    "backoff-cutoff 2;",
    "",
  ].join("\n");
}

/** Lines of dhclient's output that say nothing about the problem: its banner and bug-report advice. */
const BOILERPLATE = [
  /^Internet Systems Consortium DHCP Client/,
  /^Copyright \d+-\d+ Internet Systems Consortium/,
  /^All rights reserved\.$/,
  /^For info, please visit https:\/\/www\.isc\.org/,
  /^If you think you have received this message due to a bug rather$/,
  /^than a configuration issue please read the section on submitting$/,
  /^bugs on either our web page at www\.isc\.org or in the README file$/,
  /^before submitting a bug\. {1,2}These pages explain the proper$/,
  /^process and the information we find helpful for debugging\.$/,
];

/** The last lines of dhclient's standard error that say something. */
function stderrTail(stderr: string): string {
  const lines = stderr.split("\n").map((l) => l.trimEnd())
    .filter((l) => l !== "" && !BOILERPLATE.some((re) => re.test(l)));
  return lines.slice(-MESSAGE_TAIL_LINES).join("\n");
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Reads the lease file: `undefined` while it is missing or has no complete lease. */
function readLease(file: string): DhcpLease | string | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (error) {
    if ((error as { code?: unknown }).code === "ENOENT") return undefined;
    throw error;
  }
  const block = lastLeaseBlock(text);
  return block === undefined ? undefined : leaseOf(block);
}

/** Linux interface names: 1-15 bytes, no `/`, `:` or blanks (dev_valid_name); `-` would be an option. */
function validIfaceName(name: unknown): boolean {
  return typeof name === "string" && name !== "" && name !== "." && name !== ".." &&
    new TextEncoder().encode(name).length <= 15 && !/[/:\s]/.test(name) && !name.startsWith("-");
}

/** Namespace names are file names in /run/netns. */
function validNamespaceName(name: unknown): boolean {
  return typeof name === "string" && name !== "" && name !== "." && name !== ".." && !/[/\0]/.test(name) &&
    !name.startsWith("-");
}

/** Outcome of the dhclient run: its result, or the error it could not start with. */
type Outcome = { ok: true; code: number; stderr: string; signal: string | undefined } | {
  ok: false;
  error: unknown;
};

/**
 * Gets an IPv4 address by DHCP for `iface` (minimega's `tap create <vlan> dhcp`) and changes nothing:
 * the caller adds the address (`ip addr add <lease.address> dev <iface>`). The interface must be up.
 * Nothing renews the lease afterwards (see the module documentation).
 *
 * dhclient runs as `dhclient -4 -d -1 -sf /bin/true -cf <dir>/dhclient.<iface>.conf -lf
 * <dir>/dhclient.<iface>.leases -pf <dir>/dhclient.<iface>.pid <iface>` (in the foreground, one try, no
 * script), prefixed with `ip netns exec <namespace>` for a namespace. Once the lease file holds a lease,
 * or when the timeout runs out, dhclient is stopped (SIGTERM to its PID, SIGKILL 2 s later): nothing is
 * left running.
 *
 * @param iface The interface (an OVS internal port, a veth end, ...).
 * @param options The namespace, the timeout, the folder for dhclient's files, and `exec`.
 * @returns The lease.
 * @throws {TypeError} If `iface` or `namespace` is not a valid name.
 * @throws {RangeError} If `timeoutMs` is not a positive finite number.
 * @throws {DhcpError} With kind `timeout`: `Cannot get an address by DHCP for <iface>: no DHCP server
 * answered within 10 s` (`...: the interface is down` when dhclient could not send); `not-installed`:
 * `...: dhclient is not installed (apt-get install isc-dhcp-client)`; `failed`: `...: dhclient exited
 * with code 1` and the end of its standard error, or a lease that could not be written or read.
 * @example Usage (root, with a DHCP server on the tap's VLAN)
 * ```ts ignore
 * import { createExec, dhcpLease } from "labwire/ovs";
 * const lease = await dhcpLease("mega_tap0", { timeoutMs: 5000 });
 * await createExec()("ip").args("addr", "add", lease.address, "dev", "mega_tap0").run();
 * ```
 * @example With a fake dhclient, as in unit tests
 * ```ts
 * import assert from "node:assert/strict";
 * import { writeFileSync } from "node:fs";
 * import { FakeRunner } from "labwire/testing";
 * import { createExec, dhcpLease } from "labwire/ovs";
 * // writes a lease into its -lf file, then runs until stopped
 * const runner = new FakeRunner().on("dhclient", (argv, { signal }) => {
 *   const leaseFile = argv[argv.indexOf("-lf") + 1]!;
 *   writeFileSync(leaseFile, "lease {\n  fixed-address 10.0.0.7;\n  option subnet-mask 255.255.255.0;\n}\n");
 *   return new Promise((resolve) => signal!.addEventListener("abort", () => resolve({ code: 143, aborted: true })));
 * });
 * const lease = await dhcpLease("mega_tap0", { exec: createExec({ runner }) });
 * assert.deepEqual(lease, { address: "10.0.0.7/24" });
 * ```
 */
export async function dhcpLease(iface: string, options: DhcpOptions = {}): Promise<DhcpLease> {
  const { exec = createExec(), namespace, timeoutMs = DEFAULT_DHCP_TIMEOUT_MS, leaseDir } = options;
  if (!validIfaceName(iface)) {
    throw new TypeError(
      `Cannot get an address by DHCP as 'iface' must be an interface name (1-15 bytes, no '/', ':' or blanks, no leading '-'): current value is "${iface}"`,
    );
  }
  if (namespace !== undefined && !validNamespaceName(namespace)) {
    throw new TypeError(
      `Cannot get an address by DHCP as 'namespace' must be a namespace name (no '/', no leading '-'): current value is "${namespace}"`,
    );
  }
  if (!(typeof timeoutMs === "number" && timeoutMs > 0 && Number.isFinite(timeoutMs))) {
    throw new RangeError(
      `Cannot get an address by DHCP as 'timeoutMs' must be a positive finite number: current value is ${timeoutMs}`,
    );
  }
  const dir = leaseDir ?? fs.mkdtempSync(path.join(os.tmpdir(), "labwire-dhcp-"));
  try {
    if (leaseDir !== undefined) fs.mkdirSync(leaseDir, { recursive: true });
    const base = path.join(dir, `dhclient.${iface}${namespace === undefined ? "" : `:${namespace}`}`);
    const files = { conf: `${base}.conf`, lease: `${base}.leases`, pid: `${base}.pid` };
    fs.rmSync(files.lease, { force: true });
    fs.rmSync(files.pid, { force: true });
    fs.writeFileSync(files.conf, dhclientConf(timeoutMs));
    const args = [
      "-4",
      "-d",
      "-1",
      "-sf",
      "/bin/true",
      "-cf",
      files.conf,
      "-lf",
      files.lease,
      "-pf",
      files.pid,
    ];
    const cmd = namespace === undefined
      ? exec("dhclient").args(...args, iface)
      : exec("ip").args("netns", "exec", namespace, "dhclient", ...args, iface);
    return await runDhclient(cmd, files.lease, { iface, namespace, timeoutMs });
  } finally {
    if (leaseDir === undefined) fs.rmSync(dir, { recursive: true, force: true });
  }
}

interface RunContext {
  iface: string;
  namespace: string | undefined;
  timeoutMs: number;
}

/** Runs dhclient until a lease, its exit or the timeout; stops it; returns the lease or throws. */
async function runDhclient(cmd: Cmd, leaseFile: string, context: RunContext): Promise<DhcpLease> {
  const { iface, namespace, timeoutMs } = context;
  const stop = new AbortController();
  let finished = false;
  const outcome: Promise<Outcome> = cmd.signal(stop.signal).timeout(timeoutMs + BACKSTOP_MS).noThrow().run()
    .then(
      (r): Outcome => ({ ok: true, code: r.code, stderr: r.stderr, signal: r.signal }),
      (error: unknown): Outcome => ({ ok: false, error }),
    )
    .finally(() => {
      finished = true;
    });

  const deadline = Date.now() + timeoutMs;
  let lease: DhcpLease | string | undefined;
  let readError: unknown;
  let timedOut = false;
  try {
    for (;;) {
      const wasFinished = finished; // read the file once more after dhclient ended
      lease = readLease(leaseFile);
      if (lease !== undefined || wasFinished) break;
      const left = deadline - Date.now();
      if (left <= 0) {
        timedOut = true;
        break;
      }
      await sleep(Math.min(LEASE_POLL_MS, left));
    }
  } catch (error) {
    readError = error;
  }
  stop.abort();
  const result = await outcome;

  const prefix = `Cannot get an address by DHCP for ${iface}`;
  const stderr = result.ok ? result.stderr : "";
  const init = { iface, namespace, stderr };
  if (readError !== undefined) {
    throw new DhcpError(`${prefix}: cannot read the lease file ${leaseFile}`, {
      ...init,
      kind: "failed",
      cause: readError,
    });
  }
  if (typeof lease === "object") return lease;
  if (typeof lease === "string") throw new DhcpError(`${prefix}: ${lease}`, { ...init, kind: "failed" });
  if (!result.ok) {
    const error = result.error;
    if (error instanceof ExecError && error.notFound) {
      const missing = error.argv[0] === "ip"
        ? "ip is not installed (apt-get install iproute2)"
        : NOT_INSTALLED;
      throw new DhcpError(`${prefix}: ${missing}`, { ...init, kind: "not-installed", cause: error });
    }
    throw error;
  }
  if (namespace !== undefined && /exec of "dhclient" failed: No such file or directory/.test(stderr)) {
    throw new DhcpError(`${prefix}: ${NOT_INSTALLED}`, { ...init, kind: "not-installed" });
  }
  const tail = stderrTail(stderr);
  if (/^can't create /m.test(stderr)) {
    throw new DhcpError(`${prefix}: dhclient cannot write its lease file\n\n${tail}`, {
      ...init,
      kind: "failed",
    });
  }
  if (timedOut) {
    if (/send_packet: Network is down/.test(stderr)) {
      throw new DhcpError(`${prefix}: the interface is down`, { ...init, kind: "timeout" });
    }
    throw new DhcpError(`${prefix}: no DHCP server answered within ${timeoutMs / 1000} s`, {
      ...init,
      kind: "timeout",
    });
  }
  const how = result.signal === undefined
    ? `dhclient exited with code ${result.code}`
    : `dhclient was killed by signal ${result.signal}`;
  throw new DhcpError(`${prefix}: ${how}${tail === "" ? "" : `\n\n${tail}`}`, { ...init, kind: "failed" });
}
