/**
 * What every handle of a typed lab shares: the lab model now in use, the backend, and the one way to
 * change or read the lab, {@linkcode LabCore.op}: calls run one at a time, each as one command (undone
 * when it fails), and with a state file, under the file's lock: the lab is reloaded first when another
 * process changed it, and saved after.
 *
 * @module
 */

import os from "node:os";
import type { Backend } from "../backend/backend.ts";
import { type Cmd, createExec, ExecError, which } from "../exec.ts";
import { LabError, StateError } from "../errors.ts";
import { LabModel, type LabModelOptions } from "../lab/model.ts";
import type { LabState } from "../lab/records.ts";
import { StateStore } from "../lab/_state_store.ts";
import { discoverNicDrivers, NIC_DRIVERS } from "../nic_drivers.ts";
import type { AccelChoice } from "../real/accel.ts";
import { SimBackend, type SimUplinkOptions } from "../../sim/backend.ts";

/** Options for {@linkcode Lab.open}. */
export interface OpenLabOptions {
  /**
   * What carries the lab's frames: the simulator (no root needed), real Open vSwitch (root; a private one
   * with `scripts/ovs-sandbox.sh`, found through `OVS_RUNDIR`), or a backend of your own.
   * @default {"sim"}
   */
  backend?: "sim" | "ovs" | Backend;
  /**
   * Keep the lab in this JSON file, shared safely with other processes (`labwire --state`): every change
   * is made under the file's lock, on the lab as the file holds it.
   */
  state?: string;
  /** The VLAN range aliases are allocated from, half-open, within VLANs 1..4094. @default {{ min: 101, max: 4095 }} */
  vlanRange?: { min: number; max: number };
  /** Makes generated MACs the same on every run. @default {random} */
  seed?: number | string;
  /** The first octets of generated MACs, e.g. `52:54:00`. @default {a random locally administered octet} */
  macPrefix?: string;
  /**
   * The NIC drivers netspecs recognise: a set, or `"qemu"` for the installed QEMU's (asked once, on the
   * first netspec; the built-in list when QEMU is missing). @default {the built-in list}
   */
  drivers?: ReadonlySet<string> | "qemu";
  /** Receives warnings (a VLAN blacklisted on use, a loop in the lab, ...). @default {kept in {@linkcode Lab.warnings}} */
  onWarning?: (message: string) => void;
  /** Receives every external command before it runs (Open vSwitch backend), with its standard input. */
  trace?: (argv: readonly string[], stdin?: string) => void;
  /** QEMU's accelerator for KVM VMs (Open vSwitch backend). @default {LABWIRE_ACCEL, else "auto"} */
  accel?: AccelChoice;
  /**
   * The network namespace of the Open vSwitch (Open vSwitch backend): the lab's host-side devices,
   * captures and QEMU run there (the backend's `ovsNetns`).
   * @default {LABWIRE_OVS_NETNS, else the host's own}
   */
  ovsNetns?: string;
  /**
   * The simulated host's uplinks, by name (the simulator: a way out goes through one), each with the
   * hosts outside it: `{ eth0: { address: "198.51.100.1/24", hosts: ["198.51.100.7/24"] } }`; the
   * outside's hosts and frames are `lab.sim.uplink("eth0")`. @default {{}}
   */
  simUplinks?: Readonly<Record<string, SimUplinkOptions>>;
  /** The host name command responses carry (`.annotate true`). @default {os.hostname()} */
  host?: string;
}

/** Thrown inside an operation to undo it while still returning a result (a command line that failed). */
export class Undo<T> {
  constructor(readonly result: T) {}
}

/** The shared state of a typed lab and its handles. */
export class LabCore {
  #model: LabModel;
  readonly #store: StateStore<LabState> | undefined;
  /** The lab as this process last saved or read it, to tell whether another process changed the file. */
  #saved: string | undefined;
  readonly #modelOptions: Omit<LabModelOptions, "backend">;
  readonly #makeBackend: () => Backend;
  readonly #persistentBackend: Backend | undefined;
  /** The lab as the file held it at the last read, when that is newer than {@linkcode LabCore.model}. */
  #latest: LabModel | undefined;
  /** The lab as the file held it at the last read, kept while the file stays so. */
  #view: View | undefined;
  /** The top-level fields of the file that this labwire does not know (a newer one's): kept as they are. */
  #extras: Record<string, unknown> = {};
  readonly #warn: (message: string) => void;
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;
  /** Warnings kept when no `onWarning` was given (the newest 1000). */
  readonly warnings: string[] = [];
  readonly exec: (program: string) => Cmd;
  readonly host: string;
  #drivers: ReadonlySet<string> | "qemu";

  private constructor(options: OpenLabOptions, ovs: Backend | undefined) {
    const warn = options.onWarning ?? ((message: string) => {
      this.warnings.push(message);
      if (this.warnings.length > 1000) this.warnings.shift();
    });
    this.#warn = warn;
    this.exec = createExec(options.trace === undefined ? {} : { trace: options.trace });
    this.host = options.host ?? hostname();
    this.#drivers = options.drivers ?? NIC_DRIVERS;
    this.#modelOptions = {
      onWarning: warn,
      drivers: this.#drivers === "qemu" ? NIC_DRIVERS : this.#drivers,
      ...(options.vlanRange === undefined ? {} : { vlanRange: options.vlanRange }),
      ...(options.seed === undefined ? {} : { macSeed: options.seed }),
      ...(options.macPrefix === undefined ? {} : { macPrefix: options.macPrefix }),
    };
    const kind = options.backend ?? "sim";
    if (typeof kind === "object") {
      this.#persistentBackend = kind;
      this.#makeBackend = () => kind;
    } else if (kind === "ovs") {
      this.#persistentBackend = ovs!;
      this.#makeBackend = () => ovs!;
    } else if (kind === "sim") {
      this.#persistentBackend = undefined;
      const uplinks = options.simUplinks ?? {};
      this.#makeBackend = () => new SimBackend({ onWarning: warn, uplinks });
    } else {
      throw new LabError(
        "invalid-argument",
        `Cannot open lab on backend '${String(kind)}': choose sim or ovs`,
      );
    }
    if (options.simUplinks !== undefined && kind !== "sim") {
      throw new LabError(
        "invalid-argument",
        "Cannot give simUplinks to a lab that is not on the simulator: a real host's uplinks are its own devices",
      );
    }
    this.#model = new LabModel({ ...this.#modelOptions, backend: this.#makeBackend() });
    if (options.state !== undefined) {
      const modelOptions = this.#modelOptions;
      this.#store = new StateStore<LabState>(options.state, {
        initial: () => new LabModel({ ...modelOptions, backend: new SimBackend() }).toJSON(),
      });
    }
  }

  /** Makes the core; with a state file, reads the lab it holds (under its lock). */
  static async open(options: OpenLabOptions): Promise<LabCore> {
    let ovs: Backend | undefined;
    if (options.backend === "ovs") {
      // the real backend is loaded only when it is asked for
      const { OvsBackend } = await import("../real/ovs_backend.ts");
      const { kvmRunDir } = await import("../real/kvm.ts");
      const runDir = options.state === undefined ? undefined : kvmRunDir(options.state);
      ovs = new OvsBackend({
        exec: createExec(options.trace === undefined ? {} : { trace: options.trace }),
        ...(options.onWarning === undefined ? {} : { onWarning: options.onWarning }),
        ...(options.accel === undefined ? {} : { accel: options.accel }),
        ...(options.ovsNetns === undefined ? {} : { ovsNetns: options.ovsNetns }),
        ...(runDir === undefined ? {} : { runDir, keepVms: true }),
      });
    }
    const core = new LabCore(options, ovs);
    // the file is read and checked now, without its lock; the lab is built from it by the first call
    // that needs more than its records
    if (core.#store !== undefined) await core.read(() => undefined);
    return core;
  }

  /**
   * The lab model in use now (a state file's lab may replace it between operations; during a
   * {@linkcode LabCore.read}, the lab as the file holds it).
   */
  get model(): LabModel {
    return this.#model;
  }

  /** The newest lab this process has seen: the file's as last read, or the one in use. */
  get latest(): LabModel {
    return this.#latest ?? this.#model;
  }

  /** The backend in use now. */
  get backend(): Backend {
    return this.#model.backend;
  }

  /** Whether the lab is kept in a state file. */
  get persisted(): boolean {
    return this.#store !== undefined;
  }

  /** Asks the installed QEMU for its NIC drivers once, when the lab was opened with `drivers: "qemu"`. */
  async refreshDrivers(): Promise<void> {
    if (this.#drivers !== "qemu") return;
    const qemu = "qemu-system-x86_64";
    this.#drivers = which(qemu) === undefined ? NIC_DRIVERS : await discoverNicDrivers({
      qemu,
      run: (argv) => this.exec(argv[0]!).args(...argv.slice(1)).timeout(10_000).noThrow().run(),
    });
    this.#model.drivers = this.#drivers;
  }

  /** Runs a program on the host (`shell`): its output, exit status, and whether it was found. */
  async shell(
    argv: readonly string[],
  ): Promise<{ code: number; stdout: string; stderr: string; notFound: boolean }> {
    try {
      const r = await this.exec(argv[0]!).args(...argv.slice(1)).timeout(Infinity).noThrow().run();
      return { code: r.code, stdout: r.stdout, stderr: r.stderr, notFound: false };
    } catch (error) {
      if (error instanceof ExecError && error.notFound) {
        return { code: 127, stdout: "", stderr: "", notFound: true };
      }
      throw error;
    }
  }

  /**
   * Runs `fn` on the lab, after every operation queued before it, as one command: when it throws, what it
   * changed is undone; an {@linkcode Undo} it throws is undone too, and its result returned. With a state
   * file, under the file's lock, on the lab the file holds.
   *
   * @throws {LabError} What `fn` throws (as a LabError), `closed` after {@linkcode LabCore.close}, or
   * `state-failed` when the state file cannot be locked, read or written.
   */
  op<T>(fn: (model: LabModel) => T | Promise<T>): Promise<T> {
    const run = this.#queue.then(() => this.#run(fn));
    this.#queue = run.catch(() => {});
    return run;
  }

  async #run<T>(fn: (model: LabModel) => T | Promise<T>): Promise<T> {
    if (this.#closed) throw new LabError("closed", "Cannot use the lab: it was closed");
    const store = this.#store;
    if (store === undefined) return await this.#command(fn);
    try {
      return await store.transform(async (doc) => {
        if (JSON.stringify(doc) !== this.#saved) await this.#reload(doc);
        try {
          const result = await this.#command(fn);
          const next = this.#document();
          this.#saved = JSON.stringify(next);
          return { doc: next, result };
        } catch (error) {
          // undone: the lab is the file's again, and nothing is written
          this.#saved = JSON.stringify(doc);
          throw error;
        }
      });
    } catch (error) {
      if (error instanceof LabError || error instanceof Undo) throw error;
      throw new StateError("state-failed", (error as Error).message, { cause: error });
    }
  }

  async #command<T>(fn: (model: LabModel) => T | Promise<T>): Promise<T> {
    try {
      return await this.#model.transaction(() => fn(this.#model));
    } catch (error) {
      if (error instanceof LabError && error.cause instanceof Undo) throw error.cause;
      throw error;
    }
  }

  /**
   * Runs `fn` as a read: with a state file, on the lab as the file holds it, read without the lock (so a
   * lab on a read-only path can be listed) and not built in the backend (so a line that only reads
   * records costs no realising). When `fn` needs the backend, it is run again as {@linkcode LabCore.op},
   * under the lock; when it only changes records, its change is written under the lock if the file is
   * still as it was read (else it runs again as `op`). A run that does not stand leaves no trace
   * (warnings are given once, by the run that stands). This is for a process that has not built the
   * lab yet; once it has, and without a state file, `read` is `op`.
   *
   * @throws {LabError} What `fn` throws, `closed` after {@linkcode LabCore.close}, or `state-failed`.
   */
  read<T>(fn: (model: LabModel) => T | Promise<T>): Promise<T> {
    if (this.#store === undefined) return this.op(fn);
    const run = this.#queue.then(() =>
      // a process that has built the lab (and so has written the file: its folder is writable) goes
      // straight to the lock: a read first would only add the cost of a second copy of the lab
      this.#saved === undefined ? this.#read(fn, this.#store!) : this.#run(fn)
    );
    this.#queue = run.catch(() => {});
    return run;
  }

  async #read<T>(fn: (model: LabModel) => T | Promise<T>, store: StateStore<LabState>): Promise<T> {
    if (this.#closed) throw new LabError("closed", "Cannot use the lab: it was closed");
    let doc: LabState;
    try {
      doc = await store.read();
    } catch (error) {
      throw new StateError("state-failed", (error as Error).message, { cause: error });
    }
    const text = JSON.stringify(doc);
    let view = this.#view;
    if (view === undefined || view.text !== text) view = this.#view = this.#newView(doc, text);
    view.warnings.length = 0;
    view.backend.touched = false;
    const live = this.#model;
    this.#model = view.model;
    let outcome: { result: T } | { error: unknown };
    try {
      outcome = { result: await this.#command(fn) };
    } catch (error) {
      outcome = { error };
    } finally {
      this.#model = live;
    }
    if (view.backend.touched) {
      this.#view = undefined;
      return await this.#run(fn);
    }
    const after = view.model.toJSON();
    const afterText = JSON.stringify(after);
    if (afterText !== view.records) {
      // a change of records alone (`vlans add`, `vm config`): it stands if the file is still as it was
      // read, and the lab is built only by a call that needs it (a failed one changed nothing, or else
      // it is run again where that is checked)
      this.#view = undefined;
      if ("error" in outcome) return await this.#run(fn);
      const written: LabState = { ...after, ...extraFields(doc) };
      let stood: boolean;
      try {
        stood = await store.transform((current) =>
          JSON.stringify(current) === text ? { doc: written, result: true } : { doc: current, result: false }
        );
      } catch (error) {
        throw new StateError("state-failed", (error as Error).message, { cause: error });
      }
      if (!stood) return await this.#run(fn);
      view.text = JSON.stringify(written);
      view.records = afterText;
      this.#view = view;
    }
    // the file's lab is the newest this process knows
    this.#latest = view.model;
    for (const warning of view.warnings) this.#warn(warning);
    if ("error" in outcome) throw outcome.error;
    return outcome.result;
  }

  /** A lab read from the file, on a {@linkcode ReadOnlyBackend}. */
  #newView(doc: LabState, text: string): View {
    const warnings: string[] = [];
    const backend = new ReadOnlyBackend(this.#model.backend);
    let model: LabModel;
    try {
      model = LabModel.fromJSON(doc, {
        ...this.#modelOptions,
        onWarning: (w) => warnings.push(w),
        backend: backend as unknown as Backend,
      });
    } catch (error) {
      if (error instanceof LabError) throw error;
      throw new StateError("state-failed", (error as Error).message, { cause: error });
    }
    model.drivers = this.#model.drivers;
    return { text, records: JSON.stringify(model.toJSON()), model, backend, warnings };
  }

  /** The lab as the file will hold it: this labwire's records, and the fields it does not know. */
  #document(): LabState {
    return { ...this.#model.toJSON(), ...this.#extras };
  }

  /** Replaces the lab with the file's; a simulated network is rebuilt, Open vSwitch kept it. */
  async #reload(doc: LabState): Promise<void> {
    this.#latest = undefined;
    this.#view = undefined;
    this.#extras = extraFields(doc);
    await this.#model.close();
    const backend = this.#makeBackend();
    try {
      this.#model = LabModel.fromJSON(doc, { ...this.#modelOptions, backend });
    } catch (error) {
      this.#model = new LabModel({ ...this.#modelOptions, backend });
      throw error;
    }
    this.#model.drivers = this.#drivers === "qemu" ? this.#model.drivers : this.#drivers;
    if (backend.persistent !== true) await this.#model.realise();
    else for (const name of this.#model.bridges.names()) this.#model.bridges.markMade(name);
  }

  /**
   * Ends the lab's work in this process: stops its captures (completing their files). With a state file,
   * the lab is saved without them (they do not outlive the process); its KVM VMs (Open vSwitch) do. Without
   * one, the lab lives as long as the process: what it made in a backend that keeps things (Open vSwitch)
   * is removed, as minimega removes its bridges and taps when it exits. Later calls do nothing.
   */
  async close(): Promise<void> {
    await this.#queue;
    if (this.#closed) return;
    this.#closed = true;
    const model = this.#model;
    const store = this.#store;
    if (store === undefined) {
      try {
        if (model.backend.persistent === true && this.#persistentBackend !== undefined) {
          await model.clearAll();
        }
      } finally {
        await model.close();
      }
      return;
    }
    if (this.#saved === undefined) return await model.close();
    await store.transform(async (doc) => {
      if (JSON.stringify(doc) !== this.#saved) {
        // another process changed the lab since: stop only what runs here, and leave its state alone
        await model.close();
        return { doc, result: undefined };
      }
      await model.close();
      return { doc: { ...model.toJSON(), ...this.#extras }, result: undefined };
    });
  }

  /** Whether {@linkcode LabCore.close} was called. */
  get closed(): boolean {
    return this.#closed;
  }
}

function hostname(): string {
  try {
    return os.hostname();
  } catch {
    return "localhost";
  }
}

/** The top-level fields of a lab's state that {@linkcode LabState} does not name. */
const KNOWN_FIELDS: ReadonlySet<string> = new Set([
  "version",
  "active",
  "vlans",
  "namespaces",
  "bridges",
  "vms",
  "taps",
  "mirrors",
  "patches",
  "captures",
  "routers",
  "nats",
  "dnsmasq",
  "counters",
]);

/**
 * The fields of a state document that this labwire does not know (a newer labwire's), to be written
 * back as they are; none from a version 1 document, whose fields all became version 2's.
 */
function extraFields(doc: unknown): Record<string, unknown> {
  if (typeof doc !== "object" || doc === null || (doc as { version?: unknown }).version !== 2) return {};
  return Object.fromEntries(Object.entries(doc).filter(([key]) => !KNOWN_FIELDS.has(key)));
}

/** A lab read from its state file and not built in any backend, for {@linkcode LabCore.read}. */
interface View {
  /** The file's document as read (`JSON.stringify`), to tell whether the file is still so. */
  text: string;
  /** The model's records (`JSON.stringify(model.toJSON())`), to tell whether a call changed them. */
  records: string;
  readonly model: LabModel;
  readonly backend: ReadOnlyBackend;
  /** The warnings of the call running on it. */
  readonly warnings: string[];
}

/** Thrown by {@linkcode ReadOnlyBackend} when a read needs the backend after all. */
class NeedsBackend extends Error {
  override name = "NeedsBackend";
}

/**
 * The backend of a lab read from its state file without being built: it answers for what it stands in
 * for (`name`, `persistent`, `keepsVms`), and any call marks it touched and fails, so that the caller
 * runs the call again on the lab built in the real backend.
 */
class ReadOnlyBackend {
  touched = false;
  constructor(inner: Backend) {
    const fields: Record<string, unknown> = {
      name: inner.name,
      persistent: inner.persistent,
      keepsVms: inner.keepsVms,
      // closing the view closes nothing of the real backend's
      close: () => Promise.resolve(),
    };
    return new Proxy(this, {
      get(target, prop, receiver) {
        if (prop === "touched") return target.touched;
        if (typeof prop === "string" && prop in fields) return fields[prop];
        if (typeof prop === "symbol" || prop === "then") return Reflect.get(target, prop, receiver);
        if (!(prop in inner)) return undefined; // an optional method the backend does not have
        return () => {
          target.touched = true;
          throw new NeedsBackend(`the read needs the backend (${prop})`);
        };
      },
    });
  }
}
