/**
 * KVM VMs for the Open vSwitch backend (issue 4): QEMU launched paused (`-S`, as minimega does) with the
 * command line of {@linkcode qemuArgs}, driven over QMP (`cont`, `stop`, `quit`), its serial console in a
 * file to poll. Taps are made beforehand (`ip tuntap`); putting them on a bridge is the caller's job.
 * KVM only where it is proven to work, TCG otherwise ({@linkcode Kvm.accel}, lib/accel.ts).
 *
 * Every process starts through `exec` (lib/exec.ts). Per-VM files live in `<runDir>/<name>/`: `qmp.sock`,
 * `serial.log`, `qemu.pid`. QEMU runs in one of two ways:
 * - as a child (the default): a background {@linkcode Cmd} with no timeout and an abort signal, ending
 *   with this process at the latest; its PID comes from QEMU's own `-pidfile`;
 * - detached (`detach: true`): QEMU `-daemonize`s, so the VM outlives this process (a lab kept in a state
 *   file). A later process with the same `runDir` finds the VM by name ({@linkcode Kvm.attach}): its PID
 *   file, a PID whose command line is that VM's QEMU (`-name <name> -pidfile <file>`), and QMP answering.
 *   A detached VM has exited when its PID no longer is its QEMU; it is killed by that PID, never by name.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import { createHash } from "node:crypto";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import process from "node:process";
import { type AccelChoice, type AccelDecision, chooseAccel } from "./accel.ts";
import { type Cmd, createExec, ExecError, type RunResult } from "../exec.ts";
import { qemuArgs, type QemuLaunch, type QemuNic } from "../qemu.ts";

/** Options for {@linkcode Kvm}. */
export interface KvmOptions {
  /** Runs programs. @default {createExec()} */
  exec?: (program: string) => Cmd;
  /** The QEMU program. @default {"qemu-system-x86_64"} */
  qemu?: string;
  /** The folder of the per-VM folders (QMP socket, serial log, PID file); made when missing. */
  runDir: string;
  /** How long {@linkcode Kvm.launch} waits for QEMU to set up and QMP to answer, in milliseconds. @default {30000} */
  launchTimeoutMs?: number;
  /**
   * Launch QEMU detached (`-daemonize`): its VMs outlive this process, and a later {@linkcode Kvm} on the
   * same `runDir` attaches to them by name. Without it, QEMU is this process's child. @default {false}
   */
  detach?: boolean;
  /**
   * Where the proc filesystem is, read to tell whether a PID is still a VM's QEMU (`<procDir>/<pid>/cmdline`).
   * Tests point it at a folder of their own. @default {"/proc"}
   */
  procDir?: string;
  /** KVM, TCG, or `auto`: KVM where it is proven to work. @default {LABWIRE_ACCEL, else "auto"} */
  accel?: AccelChoice;
}

/** A VM this {@linkcode Kvm} launched or attached to. */
export interface KvmVm {
  /** Its name. */
  readonly name: string;
  /** QEMU's PID. */
  readonly pid: number;
  /** Its folder, `<runDir>/<name>`. */
  readonly dir: string;
  /** The QMP socket. */
  readonly qmp: string;
  /** The serial console's file. */
  readonly serial: string;
  /** QEMU's PID file. */
  readonly pidfile: string;
  /** Whether QEMU was launched detached (or found by {@linkcode Kvm.attach}) rather than as this process's child. */
  readonly detached: boolean;
}

/** A QEMU that is this process's child. */
interface Child {
  readonly abort: AbortController;
  /** Settles when QEMU exits: its result, or the error that kept it from starting. */
  readonly done: Promise<RunResult | ExecError>;
  /** Set once QEMU has exited. */
  exited: RunResult | ExecError | undefined;
}

interface Running extends KvmVm {
  /** Set for a child QEMU; a detached one is followed by its PID. */
  readonly child: Child | undefined;
}

/** Milliseconds between two looks at a socket or file being waited for. */
const POLL_MS = 50;
/** A unix socket path's limit (sun_path, with its terminating NUL). */
const MAX_SOCKET_PATH = 107;
/** How long one QMP exchange may take, in milliseconds. */
const QMP_TIMEOUT_MS = 10_000;
/** How long {@linkcode Kvm.kill} waits for QEMU to quit before SIGKILL, in milliseconds. */
const QUIT_GRACE_MS = 5_000;
/** How long {@linkcode Kvm.kill} waits for a detached QEMU to be gone after SIGKILL, in milliseconds. */
const KILL_WAIT_MS = 5_000;
/** The files of a VM's folder. */
const QMP_FILE = "qmp.sock";
const SERIAL_FILE = "serial.log";
const PID_FILE = "qemu.pid";

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * A KVM VM that could not be launched, started, stopped, killed or attached to. The message is
 * `Cannot <action> KVM VM <vm>: <reason>`.
 */
export class KvmError extends Error {
  /** `"KvmError"`. */
  override name = "KvmError";
  /** What could not be done: `launch`, `start`, `stop`, `kill`, `attach to`, ... */
  readonly action: string;
  /** The VM, as the message names it. */
  readonly vm: string;
  /** Why, e.g. `its QEMU (PID 1234) is not running`. */
  readonly reason: string;

  /** Makes the error. */
  constructor(init: { action: string; vm: string; reason: string; cause?: unknown }) {
    super(
      `Cannot ${init.action} KVM VM ${init.vm}: ${init.reason}`,
      init.cause === undefined ? {} : { cause: init.cause },
    );
    this.action = init.action;
    this.vm = init.vm;
    this.reason = init.reason;
  }

  /** The same error naming the VM as `vm` (a caller's name for it); the original becomes its cause. */
  withVm(vm: string): KvmError {
    return new KvmError({ action: this.action, vm, reason: this.reason, cause: this });
  }
}

/** Options for {@linkcode kvmRunDir}. */
export interface KvmRunDirOptions {
  /** The folder the run folder goes in. @default {os.tmpdir()} */
  tmpDir?: string;
}

/**
 * The run folder of the KVM VMs of a lab kept in a state file: `<tmpDir>/labwire-<hash>`, where `<hash>`
 * is the first 12 hex digits of the SHA-256 of the state file's absolute path (its folder's symbolic
 * links resolved). Every process using that state file finds the same folder, and it is short enough
 * for QMP socket paths (107 bytes).
 *
 * @param statePath The state file, absolute or relative to the working folder.
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { kvmRunDir } from "labwire/ovs";
 * const dir = kvmRunDir("/srv/labs/lab.json", { tmpDir: "/tmp" });
 * assert.match(dir, /^\/tmp\/labwire-[0-9a-f]{12}$/);
 * assert.equal(kvmRunDir("/srv/labs/../labs/lab.json", { tmpDir: "/tmp" }), dir);
 * ```
 */
export function kvmRunDir(statePath: string, options: KvmRunDirOptions = {}): string {
  const { tmpDir = os.tmpdir() } = options;
  const absolute = path.resolve(statePath);
  let folder = path.dirname(absolute);
  try {
    folder = fs.realpathSync(folder);
  } catch {
    // not made yet: the path as written
  }
  const hash = createHash("sha256").update(path.join(folder, path.basename(absolute))).digest("hex");
  return path.join(tmpDir, `labwire-${hash.slice(0, 12)}`);
}

/** A QMP exchange that failed: QEMU's `error` reply, or no answer. */
export class QmpError extends Error {
  /** `"QmpError"`. */
  override name = "QmpError";
  /** QMP's error class (`GenericError`, ...), or `undefined` when QEMU did not answer. */
  readonly errorClass: string | undefined;
  /** The system error code of the connection (`ENOENT`, `ECONNREFUSED`), if that was the problem. */
  readonly errno: string | undefined;

  /** Makes the error. */
  constructor(message: string, init: { errorClass?: string; errno?: string; cause?: unknown } = {}) {
    super(message, init.cause === undefined ? {} : { cause: init.cause });
    this.errorClass = init.errorClass;
    this.errno = init.errno;
  }
}

/**
 * Runs QMP commands over one connection to `socket`: the greeting, `qmp_capabilities`, then each
 * command in turn; events are skipped. Resolves with each command's `return`.
 *
 * @param socket The QMP unix socket.
 * @param commands The commands, e.g. `[{ execute: "query-status" }]`.
 * @param options `closeOk`: a command after which QEMU may close the connection without answering
 * (`quit`); `timeoutMs`: the bound of the whole exchange.
 * @throws {QmpError} When the socket cannot be reached, QEMU answers with an error, or times out.
 */
export function qmpExchange(
  socket: string,
  commands: readonly { execute: string; arguments?: Record<string, unknown> }[],
  options: { closeOk?: boolean; timeoutMs?: number } = {},
): Promise<unknown[]> {
  const { closeOk = false, timeoutMs = QMP_TIMEOUT_MS } = options;
  return new Promise((resolve, reject) => {
    const conn = net.createConnection({ path: socket });
    const results: unknown[] = [];
    let buffer = "";
    // -1: waiting for the greeting; 0: for qmp_capabilities; n > 0: for commands[n - 1]
    let step = -1;
    let done = false;
    const timer = setTimeout(
      () => finish(new QmpError(`QMP on ${socket} did not answer within ${timeoutMs} ms`)),
      timeoutMs,
    );
    function finish(error?: Error): void {
      if (done) return;
      done = true;
      clearTimeout(timer);
      conn.destroy();
      if (error === undefined) resolve(results);
      else reject(error);
    }
    function send(): void {
      const command = step === 0 ? { execute: "qmp_capabilities" } : commands[step - 1]!;
      conn.write(`${JSON.stringify(command)}\n`);
    }
    conn.setEncoding("utf8");
    conn.on("error", (error: Error & { code?: string }) => {
      const sent = step > 0 && step === commands.length && closeOk;
      if (sent) return finish();
      finish(
        new QmpError(`Cannot reach QMP on ${socket}: ${error.message}`, {
          ...(error.code === undefined ? {} : { errno: error.code }),
          cause: error,
        }),
      );
    });
    conn.on("close", () => {
      if (step > 0 && step === commands.length && closeOk) return finish();
      finish(new QmpError(`QMP on ${socket} closed the connection before answering`));
    });
    conn.on("data", (chunk: string) => {
      buffer += chunk;
      let nl: number;
      while (!done && (nl = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, nl).trim();
        buffer = buffer.slice(nl + 1);
        if (line === "") continue;
        let message: Record<string, unknown>;
        try {
          message = JSON.parse(line) as Record<string, unknown>;
        } catch {
          return finish(new QmpError(`QMP on ${socket} sent a line that is not JSON: ${line}`));
        }
        if ("event" in message) continue;
        if (step === -1) {
          if (!("QMP" in message)) return finish(new QmpError(`QMP on ${socket} sent no greeting: ${line}`));
        } else if ("error" in message) {
          const e = message.error as { class?: string; desc?: string };
          const what = step === 0 ? "qmp_capabilities" : commands[step - 1]!.execute;
          return finish(
            new QmpError(
              `QMP ${what} failed: ${e.desc ?? line}`,
              e.class === undefined ? {} : { errorClass: e.class },
            ),
          );
        } else if ("return" in message) {
          if (step > 0) results.push(message.return);
        } else {
          continue;
        }
        step++;
        if (step > commands.length) return finish();
        send();
      }
    });
  });
}

/**
 * KVM VMs: taps, QEMU processes and their QMP sockets.
 *
 * @example Usage
 * ```ts ignore
 * const kvm = new Kvm({ runDir: "/tmp/labwire-vms" });
 * await kvm.createTap("mega_tap0"); // then ovs.addPorts(bridge, [{ name: "mega_tap0", mode, type: "system" }])
 * await kvm.launch({ name: "vm0", kernel, initrd, append: "console=ttyS0", kvm: await kvm.kvmAvailable(), nics });
 * await kvm.start("vm0");
 * await kvm.waitForConsole("vm0", /LABWIRE_GUEST_UP/, 60_000);
 * await kvm.kill("vm0");
 * await kvm.deleteTap("mega_tap0");
 * ```
 */
export class Kvm {
  #exec: (program: string) => Cmd;
  #qemu: string;
  #runDir: string;
  #launchTimeoutMs: number;
  #detach: boolean;
  #proc: string;
  #accel: AccelChoice | undefined;
  #vms = new Map<string, Running>();

  /** Makes a manager whose VMs keep their files under `options.runDir`. */
  constructor(options: KvmOptions) {
    if (typeof options?.runDir !== "string" || options.runDir === "") {
      throw new TypeError("Cannot make Kvm as 'runDir' must be a non-empty folder path");
    }
    this.#exec = options.exec ?? createExec();
    this.#qemu = options.qemu ?? "qemu-system-x86_64";
    this.#runDir = path.resolve(options.runDir);
    this.#launchTimeoutMs = options.launchTimeoutMs ?? 30_000;
    this.#detach = options.detach ?? false;
    this.#proc = options.procDir ?? "/proc";
    this.#accel = options.accel;
  }

  /** The folder of the per-VM folders. */
  get runDir(): string {
    return this.#runDir;
  }

  /** Whether QEMU is launched detached, outliving this process. */
  get detached(): boolean {
    return this.#detach;
  }

  /**
   * The accelerator this manager's VMs get: KVM only where it is proven to work (/dev/kvm opens, the CPU
   * has vmx or svm, and a probe guest runs under it), TCG otherwise, unless forced by `accel` or
   * `LABWIRE_ACCEL` ({@linkcode chooseAccel}).
   */
  accel(): Promise<AccelDecision> {
    return chooseAccel({ ...(this.#accel === undefined ? {} : { choice: this.#accel }), qemu: this.#qemu });
  }

  /** Whether {@linkcode Kvm.accel} chose KVM. */
  async kvmAvailable(): Promise<boolean> {
    return (await this.accel()).accel === "kvm";
  }

  /** Makes a tap device and sets it up: `ip tuntap add dev NAME mode tap`, `ip link set NAME up`. */
  async createTap(name: string): Promise<void> {
    await this.#exec("ip").args("tuntap", "add", "dev", name, "mode", "tap").run();
    try {
      await this.#exec("ip").args("link", "set", name, "up").run();
    } catch (error) {
      await this.deleteTap(name).catch(() => {});
      throw error;
    }
  }

  /** Deletes a tap device: `ip tuntap del dev NAME mode tap`. */
  async deleteTap(name: string): Promise<void> {
    await this.#exec("ip").args("tuntap", "del", "dev", name, "mode", "tap").run();
  }

  /** The VMs running that this manager launched or attached to (not yet exited or killed). */
  list(): KvmVm[] {
    return [...this.#vms.values()].filter((vm) => this.#gone(vm) === undefined).map(publicVm);
  }

  /** A VM this manager launched or attached to, or `undefined`. */
  get(name: string): KvmVm | undefined {
    const vm = this.#vms.get(name);
    return vm === undefined ? undefined : publicVm(vm);
  }

  /**
   * Starts QEMU, paused, with `vm`'s command line ({@linkcode qemuArgs}) plus its QMP socket, serial file
   * and PID file in `<runDir>/<name>/` (`vm.qmp`, `vm.serial`, `vm.pidfile` and `vm.daemonize` are
   * replaced), and returns once QMP answers. The NICs' taps must exist. Detached, QEMU `-daemonize`s and
   * the VM outlives this process.
   *
   * @throws {KvmError} `Cannot launch KVM VM <name>: ...` when QEMU is not installed, exits, or QMP does
   * not answer in time (QEMU is then stopped); when the VM runs already, or, detached, when a QEMU of
   * that name launched earlier (by another process) still runs in `runDir`: it is not reused, since
   * its command line may not be this one.
   */
  async launch(vm: QemuLaunch): Promise<KvmVm> {
    const { name } = vm;
    const fail = (reason: string, cause?: unknown) =>
      new KvmError({ action: "launch", vm: name, reason, ...(cause === undefined ? {} : { cause }) });
    if (typeof name !== "string" || name === "" || name.includes("/") || name === "." || name === "..") {
      throw fail("its name must be a non-empty file name");
    }
    const running = this.#vms.get(name);
    if (running !== undefined && this.#gone(running) === undefined) {
      throw fail(`it is running (PID ${running.pid})`);
    }
    const files = this.#files(name);
    const { dir, qmp, serial, pidfile } = files;
    if (Buffer.byteLength(qmp) > MAX_SOCKET_PATH) {
      throw fail(`its QMP socket path ${qmp} is longer than ${MAX_SOCKET_PATH} bytes; use a shorter runDir`);
    }
    const earlier = readPid(pidfile);
    if (earlier !== undefined && this.#isQemuOf(earlier, name, pidfile)) {
      throw fail(
        `an earlier QEMU of it is still running (PID ${earlier}); end it first (kill ${earlier}, or labwire's nuke)`,
      );
    }
    fs.mkdirSync(dir, { recursive: true });
    for (const f of [qmp, serial, pidfile]) fs.rmSync(f, { force: true });

    const argv = qemuArgs({ ...vm, qmp, serial, pidfile, daemonize: this.#detach });
    const entry = this.#detach
      ? await this.#launchDetached(name, argv, files, fail)
      : await this.#launchChild(name, argv, files, fail);
    this.#vms.set(name, entry);
    return publicVm(entry);
  }

  /** Runs QEMU as a child in the background; resolves once QMP answers and the PID is known. */
  async #launchChild(
    name: string,
    argv: readonly string[],
    files: VmFiles,
    fail: (reason: string, cause?: unknown) => KvmError,
  ): Promise<Running> {
    const { qmp, pidfile } = files;
    const abort = new AbortController();
    const settled: { value?: RunResult | ExecError } = {};
    const done = this.#exec(this.#qemu).args(...argv).timeout(Infinity).signal(abort.signal)
      .killSignal("SIGKILL").noThrow().run()
      .then((r): RunResult | ExecError => r, (e: unknown) => this.#asExecError(argv, e))
      .then((r) => (settled.value = r));

    const deadline = Date.now() + this.#launchTimeoutMs;
    let lastError: unknown;
    for (;;) {
      if (settled.value !== undefined) throw fail(this.#exitReason(settled.value), settled.value);
      if (fs.existsSync(qmp)) {
        try {
          await qmpExchange(qmp, [], { timeoutMs: Math.max(1000, Math.min(5000, deadline - Date.now())) });
          break;
        } catch (error) {
          lastError = error;
        }
      }
      if (Date.now() > deadline) {
        abort.abort();
        await done;
        const why = lastError instanceof Error ? `: ${lastError.message}` : "";
        throw fail(`QMP did not answer within ${this.#launchTimeoutMs} ms${why}`, lastError);
      }
      await sleep(POLL_MS);
    }
    let pid = readPid(pidfile);
    for (let i = 0; pid === undefined && i < 40 && settled.value === undefined; i++) {
      await sleep(POLL_MS);
      pid = readPid(pidfile);
    }
    if (pid === undefined) {
      abort.abort();
      await done;
      throw fail(`QEMU wrote no PID to ${pidfile}`);
    }
    const child: Child = { abort, done, exited: undefined };
    void done.then((r) => (child.exited = r));
    return { name, pid, ...files, detached: false, child };
  }

  /**
   * Runs QEMU `-daemonize`: its first process exits once the VM is set up (0) or could not be (its
   * error); then the detached QEMU's PID is read from its PID file and QMP must answer.
   */
  async #launchDetached(
    name: string,
    argv: readonly string[],
    files: VmFiles,
    fail: (reason: string, cause?: unknown) => KvmError,
  ): Promise<Running> {
    const { qmp, pidfile } = files;
    const deadline = Date.now() + this.#launchTimeoutMs;
    const result = await this.#exec(this.#qemu).args(...argv).timeout(this.#launchTimeoutMs).noThrow().run()
      .then((r): RunResult | ExecError => r, (e: unknown) => this.#asExecError(argv, e));
    // what a failed setup may have left: a QEMU that detached but did not finish
    const stopLeft = () => this.#endDetached(name, files).catch(() => {});
    if (result instanceof ExecError) throw fail(this.#exitReason(result), result);
    if (result.timedOut === true) {
      await stopLeft();
      throw fail(`${path.basename(this.#qemu)} did not finish setting up within ${this.#launchTimeoutMs} ms`);
    }
    if (result.code !== 0) {
      await stopLeft();
      throw fail(this.#exitReason(result));
    }
    const pid = readPid(pidfile);
    if (pid === undefined) throw fail(`QEMU wrote no PID to ${pidfile}`);
    let lastError: unknown;
    for (;;) {
      try {
        await qmpExchange(qmp, [], { timeoutMs: Math.max(1000, Math.min(5000, deadline - Date.now())) });
        break;
      } catch (error) {
        lastError = error;
      }
      if (!this.#isQemuOf(pid, name, pidfile)) {
        throw fail(`its QEMU (PID ${pid}) exited after detaching`, lastError);
      }
      if (Date.now() > deadline) {
        await stopLeft();
        const why = lastError instanceof Error ? `: ${lastError.message}` : "";
        throw fail(`QMP did not answer within ${this.#launchTimeoutMs} ms${why}`, lastError);
      }
      await sleep(POLL_MS);
    }
    return { name, pid, ...files, detached: true, child: undefined };
  }

  #asExecError(argv: readonly string[], e: unknown): ExecError {
    if (e instanceof ExecError) return e;
    return new ExecError({ argv: [this.#qemu, ...argv], code: 126, reason: String(e), cause: e });
  }

  #exitReason(result: RunResult | ExecError): string {
    if (result instanceof ExecError) {
      if (result.notFound) {
        return `${path.basename(this.#qemu)} is not installed (apt-get install qemu-system-x86)`;
      }
      return result.message;
    }
    const tail = result.stderr.trim().split("\n").slice(-5).join(" ").trim();
    const how = result.signal !== undefined
      ? `was killed by ${result.signal}`
      : `exited with code ${result.code}`;
    return `${path.basename(this.#qemu)} ${how}${tail === "" ? "" : `: ${tail}`}`;
  }

  /** The files of a VM in `runDir`. */
  #files(name: string): VmFiles {
    const dir = path.join(this.#runDir, name);
    return {
      dir,
      qmp: path.join(dir, QMP_FILE),
      serial: path.join(dir, SERIAL_FILE),
      pidfile: path.join(dir, PID_FILE),
    };
  }

  /**
   * Whether `pid` is the QEMU of VM `name`: its command line (`<procDir>/<pid>/cmdline`) has `-name
   * <name>` and `-pidfile <pidfile>`. A PID that is gone, a zombie (no command line) or another program
   * is not.
   */
  #isQemuOf(pid: number, name: string, pidfile: string): boolean {
    let argv: string[];
    try {
      argv = fs.readFileSync(path.join(this.#proc, String(pid), "cmdline"), "utf8").split("\0");
    } catch {
      return false;
    }
    const has = (flag: string, value: string) => argv.some((a, i) => a === flag && argv[i + 1] === value);
    return has("-name", name) && has("-pidfile", pidfile);
  }

  /** Why a VM's QEMU is no longer there, or `undefined` while it runs. */
  #gone(vm: Running): string | undefined {
    if (vm.child !== undefined) {
      return vm.child.exited === undefined
        ? undefined
        : `QEMU has exited (${this.#exitReason(vm.child.exited)})`;
    }
    return this.#isQemuOf(vm.pid, vm.name, vm.pidfile)
      ? undefined
      : `its QEMU (PID ${vm.pid}) is not running`;
  }

  /**
   * Finds a VM another process launched detached (or this one did) by its name: its PID file in
   * `<runDir>/<name>/`, a PID that is that VM's QEMU (its command line), and QMP answering. Then
   * {@linkcode Kvm.start}, {@linkcode Kvm.stop}, {@linkcode Kvm.status} and {@linkcode Kvm.kill} work on
   * it. Detached, those attach by themselves.
   *
   * @throws {KvmError} `Cannot attach to KVM VM <name>: its QEMU (PID 1234) is not running` when the PID
   * is gone or is another program now; `... its QEMU is not running (no PID file <file>)`; `... its QEMU
   * (PID 1234) does not answer on QMP: ...`.
   */
  async attach(name: string): Promise<KvmVm> {
    return publicVm(await this.#attach(name, "attach to"));
  }

  async #attach(name: string, action: string): Promise<Running> {
    const files = this.#files(name);
    const known = this.#vms.get(name);
    if (known?.child !== undefined) {
      const gone = this.#gone(known);
      if (gone !== undefined) throw new KvmError({ action, vm: name, reason: gone });
      return known;
    }
    const pid = readPid(files.pidfile);
    if (pid === undefined) {
      // its folder is gone or was never made
      const reason = known === undefined
        ? `its QEMU is not running (no PID file ${files.pidfile})`
        : `its QEMU (PID ${known.pid}) is not running`;
      throw new KvmError({ action, vm: name, reason });
    }
    if (!this.#isQemuOf(pid, name, files.pidfile)) {
      throw new KvmError({ action, vm: name, reason: `its QEMU (PID ${pid}) is not running` });
    }
    if (known?.pid === pid) return known;
    try {
      await qmpExchange(files.qmp, []);
    } catch (error) {
      throw new KvmError({
        action,
        vm: name,
        reason: `its QEMU (PID ${pid}) does not answer on QMP: ${(error as Error).message}`,
        cause: error,
      });
    }
    const vm: Running = { name, pid, ...files, detached: true, child: undefined };
    this.#vms.set(name, vm);
    return vm;
  }

  /**
   * The running VM `name`, for `action`: one this manager launched as its child, or (detached) found by
   * its PID file each time, since another process may have killed or launched it meanwhile.
   */
  async #running(name: string, action: string): Promise<Running> {
    if (!this.#detach && !this.#vms.has(name)) {
      throw new KvmError({ action, vm: name, reason: "it was not launched" });
    }
    return await this.#attach(name, action);
  }

  /**
   * Why VM `name`'s QEMU is no longer there though nobody killed it (it crashed, or was killed from
   * outside), or `undefined` while it runs: a child's exit, or (detached) its PID file and PID. A VM this
   * manager never launched nor can find is not asked about: `undefined`.
   */
  exited(name: string): string | undefined {
    const known = this.#vms.get(name);
    if (known !== undefined) return this.#gone(known);
    if (!this.#detach) return undefined;
    const files = this.#files(name);
    const pid = readPid(files.pidfile);
    if (pid === undefined) return `its QEMU is not running (no PID file ${files.pidfile})`;
    return this.#isQemuOf(pid, name, files.pidfile) ? undefined : `its QEMU (PID ${pid}) is not running`;
  }

  /**
   * Runs one QMP command on a running VM and returns its `return` value.
   *
   * @throws {KvmError} When the VM is not running; {@linkcode QmpError} when QEMU refuses the command.
   */
  qmp(name: string, execute: string, args?: Record<string, unknown>): Promise<unknown> {
    return this.#qmp(name, `run ${execute} on`, execute, args);
  }

  async #qmp(
    name: string,
    action: string,
    execute: string,
    args?: Record<string, unknown>,
  ): Promise<unknown> {
    const vm = await this.#running(name, action);
    const [result] = await qmpExchange(vm.qmp, [
      args === undefined ? { execute } : { execute, arguments: args },
    ]);
    return result;
  }

  /**
   * Hot-plugs a NIC into a VM as minimega's `vm net add` does: QMP `netdev_add` of the tap (made
   * beforehand, `script=no`, `vnet_hdr=off` for the userspace datapath), then `device_add` of the NIC on
   * the root bus `pci.0`, with the tap's name as the ids.
   *
   * @throws {KvmError} When the VM is not running; {@linkcode QmpError} when QEMU refuses.
   */
  async addNic(name: string, nic: QemuNic): Promise<void> {
    const action = `add NIC ${nic.tap} to`;
    await this.#qmp(name, action, "netdev_add", {
      type: "tap",
      id: nic.tap,
      ifname: nic.tap,
      script: "no",
      downscript: "no",
      vnet_hdr: false,
    });
    await this.#qmp(name, action, "device_add", {
      driver: nic.driver,
      id: nic.tap,
      netdev: nic.tap,
      mac: nic.mac,
      bus: "pci.0",
    });
  }

  /** Resumes a VM (QMP `cont`): a launched VM starts running. */
  async start(name: string): Promise<void> {
    await this.#qmp(name, "start", "cont");
  }

  /** Pauses a VM (QMP `stop`). */
  async stop(name: string): Promise<void> {
    await this.#qmp(name, "stop", "stop");
  }

  /** The VM's run state from QMP `query-status`, e.g. `"prelaunch"`, `"running"`, `"paused"`. */
  async status(name: string): Promise<string> {
    const r = await this.#qmp(name, "query the status of", "query-status") as { status?: string };
    return r.status ?? "unknown";
  }

  /**
   * Ends a VM: QMP `quit`, then SIGKILL to its PID when QEMU is still there after a few seconds.
   * A child VM's folder (serial log) is kept, and one that has exited already is just forgotten; an
   * unknown name is then an error. Detached, the VM is found by its PID file; a VM whose QEMU is gone
   * is no error; its folder is removed, and `runDir` too once it is empty.
   *
   * @throws {KvmError} For a child VM never launched; when a detached QEMU outlives SIGKILL.
   */
  async kill(name: string): Promise<void> {
    const vm = this.#vms.get(name);
    if (vm?.child !== undefined) {
      await this.#killChild(vm, vm.child);
      this.#vms.delete(name);
      return;
    }
    if (vm === undefined && !this.#detach) {
      throw new KvmError({ action: "kill", vm: name, reason: "it was not launched" });
    }
    const files = this.#files(name);
    await this.#endDetached(name, files, vm?.pid);
    this.#vms.delete(name);
    fs.rmSync(files.dir, { recursive: true, force: true });
    removeIfEmpty(this.#runDir);
  }

  async #killChild(vm: Running, child: Child): Promise<void> {
    if (child.exited !== undefined) return;
    await qmpExchange(vm.qmp, [{ execute: "quit" }], { closeOk: true, timeoutMs: QUIT_GRACE_MS }).catch(
      () => {},
    );
    const quit = await Promise.race([child.done.then(() => true), sleep(QUIT_GRACE_MS).then(() => false)]);
    if (!quit) {
      try {
        process.kill(vm.pid, "SIGKILL");
      } catch {
        // ESRCH: gone meanwhile
      }
      child.abort.abort(); // SIGKILL through exec too, and the run settles
      await child.done;
    }
  }

  /**
   * Ends a detached QEMU, if its PID file (or `known`) names a PID that is that VM's QEMU: QMP `quit`,
   * then SIGKILL by PID after the grace period.
   */
  async #endDetached(name: string, files: VmFiles, known?: number): Promise<void> {
    const pids = new Set([readPid(files.pidfile), known].filter((p) => p !== undefined));
    for (const pid of pids) {
      const alive = () => this.#isQemuOf(pid, name, files.pidfile);
      if (!alive()) continue;
      await qmpExchange(files.qmp, [{ execute: "quit" }], { closeOk: true, timeoutMs: QUIT_GRACE_MS })
        .catch(() => {});
      if (await waitUntil(() => !alive(), QUIT_GRACE_MS)) continue;
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // ESRCH: gone meanwhile
      }
      if (!(await waitUntil(() => !alive(), KILL_WAIT_MS))) {
        throw new KvmError({
          action: "kill",
          vm: name,
          reason: `its QEMU (PID ${pid}) is still running after SIGKILL`,
        });
      }
    }
  }

  /**
   * Kills every VM this manager launched or attached to, and, detached, every VM with a PID file in
   * `runDir` (for cleanup and `nuke`); errors are collected, not thrown one by one.
   */
  async killAll(): Promise<void> {
    const names = new Set(this.#vms.keys());
    if (this.#detach) {
      let entries: string[] = [];
      try {
        entries = fs.readdirSync(this.#runDir);
      } catch {
        // no folder: no VM
      }
      for (const entry of entries) {
        if (fs.existsSync(path.join(this.#runDir, entry, PID_FILE))) names.add(entry);
      }
    }
    const errors: unknown[] = [];
    for (const name of names) await this.kill(name).catch((e) => errors.push(e));
    if (errors.length > 0) throw new AggregateError(errors, `Cannot kill ${errors.length} KVM VM(s)`);
  }

  /** The serial console's text so far ("" before it has any). */
  console(name: string): string {
    const vm = this.#vms.get(name);
    if (vm === undefined && !this.#detach) {
      throw new KvmError({ action: "read the console of", vm: name, reason: "it was not launched" });
    }
    try {
      return fs.readFileSync(vm?.serial ?? this.#files(name).serial, "utf8");
    } catch {
      return "";
    }
  }

  /**
   * Polls the serial console until a line matches `pattern` (a substring or a regular expression).
   *
   * @returns The first matching line (without `\r`).
   * @throws {Error} When `timeoutMs` passes, or QEMU exits first; the message ends with the console's
   * last lines.
   */
  async waitForConsole(name: string, pattern: string | RegExp, timeoutMs: number): Promise<string> {
    const matches = (line: string) =>
      typeof pattern === "string" ? line.includes(pattern) : pattern.test(line);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const text = this.console(name);
      const line = text.split("\n").map((l) => l.replace(/\r$/, "")).find(matches);
      if (line !== undefined) return line;
      const vm = this.#vms.get(name);
      const tail = () => {
        const lines = text.trim().split("\n").slice(-10).join("\n");
        return lines === "" ? " (the console is empty)" : `; its console ends:\n${lines}`;
      };
      const gone = vm === undefined ? undefined : this.#gone(vm);
      if (gone !== undefined) {
        throw new Error(`Cannot see "${String(pattern)}" on KVM VM ${name}: ${gone}${tail()}`);
      }
      if (Date.now() > deadline) {
        throw new Error(`Cannot see "${String(pattern)}" on KVM VM ${name} within ${timeoutMs} ms${tail()}`);
      }
      await sleep(Math.min(200, Math.max(POLL_MS, deadline - Date.now())));
    }
  }
}

/** A VM's files in `runDir`. */
interface VmFiles {
  readonly dir: string;
  readonly qmp: string;
  readonly serial: string;
  readonly pidfile: string;
}

function publicVm(vm: Running): KvmVm {
  const { name, pid, dir, qmp, serial, pidfile, detached } = vm;
  return { name, pid, dir, qmp, serial, pidfile, detached };
}

function readPid(file: string): number | undefined {
  try {
    const n = Number(fs.readFileSync(file, "utf8").trim());
    return Number.isInteger(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

/** Polls `done` until it holds or `ms` pass; whether it held. */
async function waitUntil(done: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!done()) {
    if (Date.now() > deadline) return false;
    await sleep(POLL_MS);
  }
  return true;
}

/** Removes a folder if it is empty (and exists). */
function removeIfEmpty(dir: string): void {
  try {
    fs.rmdirSync(dir);
  } catch {
    // not empty, or not there
  }
}
