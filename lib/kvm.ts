/**
 * KVM VMs for the Open vSwitch backend (issue 4): QEMU launched paused (`-S`, as minimega does) with the
 * command line of {@linkcode qemuArgs}, driven over QMP (`cont`, `stop`, `quit`), its serial console in a
 * file to poll. Taps are made beforehand (`ip tuntap`); putting them on a bridge is the caller's job.
 * TCG when /dev/kvm cannot be opened ({@linkcode Kvm.kvmAvailable}).
 *
 * Every process starts through `exec` (lib/exec.ts). QEMU runs as a background {@linkcode Cmd} with no
 * timeout and an abort signal; its PID comes from QEMU's own `-pidfile`, since a `Cmd` does not expose it.
 * Per-VM files live in `<runDir>/<name>/`: `qmp.sock`, `serial.log`, `qemu.pid`.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import process from "node:process";
import { type Cmd, createExec, ExecError, type RunResult } from "./exec.ts";
import { qemuArgs, type QemuLaunch } from "./qemu.ts";

/** Options for {@linkcode Kvm}. */
export interface KvmOptions {
  /** Runs programs. @default {createExec()} */
  exec?: (program: string) => Cmd;
  /** The QEMU program. @default {"qemu-system-x86_64"} */
  qemu?: string;
  /** The folder of the per-VM folders (QMP socket, serial log, PID file); made when missing. */
  runDir: string;
  /** How long {@linkcode Kvm.launch} waits for QMP to answer, in milliseconds. @default {30000} */
  launchTimeoutMs?: number;
}

/** A VM this {@linkcode Kvm} launched. */
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
}

interface Running extends KvmVm {
  readonly abort: AbortController;
  /** Settles when QEMU exits: its result, or the error that kept it from starting. */
  readonly done: Promise<RunResult | ExecError>;
  /** Set once QEMU has exited. */
  exited: RunResult | ExecError | undefined;
}

/** Milliseconds between two looks at a socket or file being waited for. */
const POLL_MS = 50;
/** A unix socket path's limit (sun_path, with its terminating NUL). */
const MAX_SOCKET_PATH = 107;
/** How long one QMP exchange may take, in milliseconds. */
const QMP_TIMEOUT_MS = 10_000;
/** How long {@linkcode Kvm.kill} waits for QEMU to quit before SIGKILL, in milliseconds. */
const QUIT_GRACE_MS = 5_000;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

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
 * await kvm.launch({ name: "vm0", kernel, initrd, append: "console=ttyS0", kvm: Kvm.kvmAvailable(), nics });
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
  }

  /** Whether /dev/kvm exists and this process can open it (read and write); TCG otherwise. */
  static kvmAvailable(): boolean {
    try {
      fs.closeSync(fs.openSync("/dev/kvm", "r+"));
      return true;
    } catch {
      return false;
    }
  }

  /** The same as {@linkcode Kvm.kvmAvailable}. */
  kvmAvailable(): boolean {
    return Kvm.kvmAvailable();
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

  /** The VMs running (launched and not yet exited or killed). */
  list(): KvmVm[] {
    return [...this.#vms.values()].filter((vm) => vm.exited === undefined).map(publicVm);
  }

  /** A launched VM, or `undefined`. */
  get(name: string): KvmVm | undefined {
    const vm = this.#vms.get(name);
    return vm === undefined ? undefined : publicVm(vm);
  }

  /**
   * Starts QEMU in the background, paused, with `vm`'s command line ({@linkcode qemuArgs}) plus its QMP
   * socket, serial file and PID file in `<runDir>/<name>/` (`vm.qmp` and `vm.serial` are replaced), and
   * returns once QMP answers. The NICs' taps must exist.
   *
   * @throws {Error} `Cannot launch KVM VM <name>: ...` when QEMU is not installed, exits, or QMP does not
   * answer in time (QEMU is then stopped).
   */
  async launch(vm: QemuLaunch): Promise<KvmVm> {
    const { name } = vm;
    const fail = (why: string, cause?: unknown) =>
      new Error(`Cannot launch KVM VM ${name}: ${why}`, cause === undefined ? {} : { cause });
    if (typeof name !== "string" || name === "" || name.includes("/") || name === "." || name === "..") {
      throw fail("its name must be a non-empty file name");
    }
    const running = this.#vms.get(name);
    if (running !== undefined && running.exited === undefined) {
      throw fail(`it is running (PID ${running.pid})`);
    }
    const dir = path.join(this.#runDir, name);
    const qmp = path.join(dir, "qmp.sock");
    const serial = path.join(dir, "serial.log");
    const pidfile = path.join(dir, "qemu.pid");
    if (Buffer.byteLength(qmp) > MAX_SOCKET_PATH) {
      throw fail(`its QMP socket path ${qmp} is longer than ${MAX_SOCKET_PATH} bytes; use a shorter runDir`);
    }
    fs.mkdirSync(dir, { recursive: true });
    for (const f of [qmp, serial, pidfile]) fs.rmSync(f, { force: true });

    const argv = [...qemuArgs({ ...vm, qmp, serial }), "-pidfile", pidfile];
    const abort = new AbortController();
    const settled: { value?: RunResult | ExecError } = {};
    const done = this.#exec(this.#qemu).args(...argv).timeout(Infinity).signal(abort.signal)
      .killSignal("SIGKILL").noThrow().run()
      .then((r): RunResult | ExecError => r, (e: unknown): RunResult | ExecError => {
        if (e instanceof ExecError) return e;
        return new ExecError({ argv: [this.#qemu, ...argv], code: 126, reason: String(e), cause: e });
      })
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
    const entry: Running = { name, pid, dir, qmp, serial, abort, done, exited: undefined };
    void done.then((r) => (entry.exited = r));
    this.#vms.set(name, entry);
    return publicVm(entry);
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

  #running(name: string, action: string): Running {
    const vm = this.#vms.get(name);
    if (vm === undefined) throw new Error(`Cannot ${action} KVM VM ${name}: it was not launched`);
    if (vm.exited !== undefined) {
      throw new Error(`Cannot ${action} KVM VM ${name}: QEMU has exited (${this.#exitReason(vm.exited)})`);
    }
    return vm;
  }

  /**
   * Runs one QMP command on a running VM and returns its `return` value.
   *
   * @throws {Error} When the VM is not running; {@linkcode QmpError} when QEMU refuses the command.
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
    const vm = this.#running(name, action);
    const [result] = await qmpExchange(vm.qmp, [
      args === undefined ? { execute } : { execute, arguments: args },
    ]);
    return result;
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
   * Ends a VM: QMP `quit`, then SIGKILL to its PID when QEMU is still there after a few seconds. Its folder
   * (serial log) is kept. A VM that has exited already is just forgotten; an unknown name is an error.
   */
  async kill(name: string): Promise<void> {
    const vm = this.#vms.get(name);
    if (vm === undefined) throw new Error(`Cannot kill KVM VM ${name}: it was not launched`);
    if (vm.exited === undefined) {
      await qmpExchange(vm.qmp, [{ execute: "quit" }], { closeOk: true, timeoutMs: QUIT_GRACE_MS }).catch(
        () => {},
      );
      const quit = await Promise.race([vm.done.then(() => true), sleep(QUIT_GRACE_MS).then(() => false)]);
      if (!quit) {
        try {
          process.kill(vm.pid, "SIGKILL");
        } catch {
          // ESRCH: gone meanwhile
        }
        vm.abort.abort(); // SIGKILL through exec too, and the run settles
        await vm.done;
      }
    }
    this.#vms.delete(name);
  }

  /** Kills every VM this manager launched (for cleanup); errors are collected, not thrown one by one. */
  async killAll(): Promise<void> {
    const errors: unknown[] = [];
    for (const name of [...this.#vms.keys()]) await this.kill(name).catch((e) => errors.push(e));
    if (errors.length > 0) throw new AggregateError(errors, `Cannot kill ${errors.length} KVM VM(s)`);
  }

  /** The serial console's text so far ("" before it has any). */
  console(name: string): string {
    const vm = this.#vms.get(name);
    if (vm === undefined) throw new Error(`Cannot read the console of KVM VM ${name}: it was not launched`);
    try {
      return fs.readFileSync(vm.serial, "utf8");
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
      if (vm?.exited !== undefined) {
        throw new Error(
          `Cannot see "${String(pattern)}" on KVM VM ${name}: ${this.#exitReason(vm.exited)}${tail()}`,
        );
      }
      if (Date.now() > deadline) {
        throw new Error(`Cannot see "${String(pattern)}" on KVM VM ${name} within ${timeoutMs} ms${tail()}`);
      }
      await sleep(Math.min(200, Math.max(POLL_MS, deadline - Date.now())));
    }
  }
}

function publicVm(vm: Running): KvmVm {
  return { name: vm.name, pid: vm.pid, dir: vm.dir, qmp: vm.qmp, serial: vm.serial };
}

function readPid(file: string): number | undefined {
  try {
    const n = Number(fs.readFileSync(file, "utf8").trim());
    return Number.isInteger(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}
