/**
 * Runs command lines against a lab the way the CLI does: one interpreter and session, the lab kept
 * in memory or, with a state file, reloaded and saved around every line under the file's lock, so
 * that several labwire processes can share one lab.
 *
 * @module
 */

import os from "node:os";
import { Interpreter, type LineResult } from "./cli/interpreter.ts";
import type { Flags } from "./cli/response.ts";
import { createRegistry } from "./commands/registry.ts";
import type { Session } from "./commands/session.ts";
import type { AccelChoice } from "./real/accel.ts";
import type { Backend } from "./backend.ts";
import { type Cmd, createExec, ExecError, which } from "./exec.ts";
import { kvmRunDir } from "./real/kvm.ts";
import { OvsBackend } from "./real/ovs_backend.ts";
import { Lab, type LabOptions, type LabState } from "./lab.ts";
import { discoverNicDrivers, NIC_DRIVERS } from "./nic_drivers.ts";
import { StateStore } from "./state_store.ts";
import { SimBackend } from "../sim/backend.ts";

/** Options for {@linkcode LabRunner}. */
export interface LabRunnerOptions {
  /** Keep the lab in this JSON file between runs, shared safely between processes. */
  statePath?: string;
  /** The default VLAN range of a new lab. @default {{ min: 101, max: 4096 }} */
  vlanRange?: { min: number; max: number };
  /** Receives warnings. @default {() => {}} */
  onWarning?: (message: string) => void;
  /** Receives every external command before it runs, with its standard input if any (`--trace`). */
  trace?: (argv: readonly string[], stdin?: string) => void;
  /** Receives every error a command throws (`--trace` prints stacks). */
  onError?: (error: Error) => void;
  /**
   * The NIC drivers netspecs recognise. When not given, they are QEMU's (`qemu -device ?`, asked once,
   * on the first netspec), or the built-in {@linkcode NIC_DRIVERS} when QEMU is not installed.
   */
  drivers?: ReadonlySet<string>;
  /** The QEMU whose NIC drivers netspecs recognise. @default {"qemu-system-x86_64"} */
  qemu?: string;
  /** Output flags to start with. */
  flags?: Flags;
  /** The host name responses carry (`.annotate true`, `.json true`). @default {os.hostname()} */
  host?: string;
  /** Makes generated MACs reproducible (`--seed`). @default {random} */
  macSeed?: string;
  /** What carries the lab's frames: the simulator or Open vSwitch. @default {"sim"} */
  backend?: "sim" | "ovs";
  /** QEMU's accelerator for KVM VMs (Open vSwitch backend). @default {LABWIRE_ACCEL, else "auto"} */
  accel?: AccelChoice;
}

/**
 * Runs minimega command lines against a lab.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { LabRunner } from "labwire";
 * const runner = new LabRunner();
 * await runner.execute("vm config net DMZ");
 * assert.equal((await runner.execute("vlans")).output, "alias | vlan\nDMZ   | 101");
 * ```
 */
export class LabRunner {
  /** The session the commands see. */
  readonly session: Session;
  /** The interpreter running the lines. */
  readonly interpreter: Interpreter<Session>;
  #store: StateStore<LabState> | undefined;
  /** The lab as this runner last saved it, to tell whether another process changed the file. */
  #saved: string | undefined;
  #backendKind: "sim" | "ovs";
  #exec: (program: string) => Cmd;
  #ovs: OvsBackend | undefined;
  /** With a state file: the run folder of the lab's KVM VMs, which outlive the process. */
  #vmRunDir: string | undefined;
  #labOptions: LabOptions;
  #accel: AccelChoice | undefined;

  /** Makes a runner with a new, empty lab (or the lab in `statePath`). */
  constructor(options: LabRunnerOptions = {}) {
    const { statePath, vlanRange, onWarning, trace, onError, qemu = "qemu-system-x86_64", flags, host } =
      options;
    let drivers = options.drivers;
    this.#labOptions = {
      ...(vlanRange === undefined ? {} : { vlanRange }),
      ...(onWarning === undefined ? {} : { onWarning }),
      ...(options.macSeed === undefined ? {} : { macSeed: options.macSeed }),
    };
    const exec = createExec(trace === undefined ? {} : { trace });
    this.#exec = exec;
    this.#backendKind = options.backend ?? "sim";
    this.#accel = options.accel;
    this.#vmRunDir = statePath === undefined ? undefined : kvmRunDir(statePath);
    const session: Session = {
      lab: new Lab({ ...this.#labOptions, backend: this.#newBackend() }),
      async refreshDrivers() {
        if (drivers === undefined) {
          drivers = which(qemu) === undefined ? NIC_DRIVERS : await discoverNicDrivers({
            qemu,
            run: (argv) => exec(argv[0]!).args(...argv.slice(1)).timeout(10_000).noThrow().run(),
          });
        }
        session.lab.drivers = drivers;
      },
      async shell(argv) {
        try {
          const r = await exec(argv[0]!).args(...argv.slice(1)).timeout(Infinity).noThrow().run();
          return { code: r.code, stdout: r.stdout, stderr: r.stderr, notFound: false };
        } catch (error) {
          if (error instanceof ExecError && error.notFound) {
            return { code: 127, stdout: "", stderr: "", notFound: true };
          }
          throw error;
        }
      },
    };
    this.session = session;
    this.interpreter = new Interpreter(createRegistry(), session, {
      host: host ?? hostname(),
      ...(onError === undefined ? {} : { onError }),
      ...(flags === undefined ? {} : { flags }),
    });
    if (statePath !== undefined) {
      const labOptions = this.#labOptions;
      this.#store = new StateStore<LabState>(statePath, {
        initial: () => new Lab(labOptions).toJSON(),
      });
    }
  }

  /**
   * The backend for a lab: a new simulator each time (it keeps nothing), or this runner's one OVS client.
   * With a state file, its KVM VMs outlive the process, in the state file's run folder ({@linkcode kvmRunDir}),
   * as its bridges and namespaces do.
   */
  #newBackend(): Backend {
    const onWarning = this.#labOptions.onWarning;
    const warn = onWarning === undefined ? {} : { onWarning };
    if (this.#backendKind === "ovs") {
      const vmRunDir = this.#vmRunDir;
      return this.#ovs ??= new OvsBackend({
        exec: this.#exec,
        ...warn,
        ...(this.#accel === undefined ? {} : { accel: this.#accel }),
        ...(vmRunDir === undefined ? {} : { runDir: vmRunDir, keepVms: true }),
      });
    }
    return new SimBackend(warn);
  }

  /**
   * Ends the runner's work: stops its captures, completing their pcap files. With a state file, the
   * lab is saved without them: they do not outlive the process; its KVM VMs (Open vSwitch backend) do,
   * RUNNING or PAUSED as they were. Without one, the lab lives as long as
   * the process: what it made in a backend that keeps things (Open vSwitch) is removed, as minimega
   * removes its bridges and taps when it exits.
   */
  async close(): Promise<void> {
    const store = this.#store;
    if (store === undefined) {
      const lab = this.session.lab;
      try {
        if (lab.backend.persistent === true) await lab.clearAll();
      } finally {
        await lab.close();
      }
      return;
    }
    if (this.#saved === undefined) return await this.session.lab.close();
    const lab = this.session.lab;
    await store.transform(async (doc) => {
      if (JSON.stringify(doc) !== this.#saved) {
        // another process changed the lab since: stop only what runs here, and leave its state alone
        await lab.close();
        return { doc, result: undefined };
      }
      await lab.close();
      const next = lab.toJSON();
      this.#saved = JSON.stringify(next);
      return { doc: next, result: undefined };
    });
  }

  /**
   * Runs one command line. With a state file, the lab is reloaded before and saved after it, under
   * the file's lock; blank lines and comments do not touch the file.
   */
  async execute(line: string): Promise<LineResult> {
    const store = this.#store;
    const compiled = this.interpreter.compile(line);
    if (store === undefined || compiled === undefined || typeof compiled === "string") {
      return await this.interpreter.executeCompiled(compiled);
    }
    try {
      return await store.transform(async (doc) => {
        // another process changed the lab: rebuild it, and its simulated network, from the file
        if (JSON.stringify(doc) !== this.#saved) {
          await this.session.lab.close();
          const backend = this.#newBackend();
          this.session.lab = Lab.fromJSON(doc, { ...this.#labOptions, backend });
          // Open vSwitch kept the lab; the simulator starts empty and is rebuilt
          if (backend.persistent !== true) await this.session.lab.realise();
        }
        const result = await this.interpreter.executeCompiled(compiled);
        const next = this.session.lab.toJSON();
        this.#saved = JSON.stringify(next);
        return { result, doc: next };
      });
    } catch (error) {
      // the state file could not be locked, read or written, or holds no lab: the line failed
      return { output: "", errors: [(error as Error).message] };
    }
  }
}

function hostname(): string {
  try {
    return os.hostname();
  } catch {
    return "localhost";
  }
}
