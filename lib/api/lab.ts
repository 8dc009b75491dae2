/**
 * The typed lab: what a script or a test holds. One line opens a lab on the simulator (or, with one
 * option, on Open vSwitch, or kept in a state file); namespaces, VMs, NICs, taps, bridges, mirrors and
 * captures are handles with typed records; every failure is a {@linkcode LabError} with a stable `code`;
 * `await using` closes the lab and completes every capture. minimega's command language is one call
 * away: {@linkcode Lab.run} gives its text and typed rows.
 *
 * @module
 */

import { CommandError, LabError } from "../errors.ts";
import { Interpreter, type LineResult } from "../cli/interpreter.ts";
import { formatResponses, type Response, responseErrors } from "../cli/response.ts";
import { compareRows } from "../cli/table.ts";
import { createRegistry } from "../commands/registry.ts";
import type { Session } from "../commands/session.ts";
import type { BridgeInfo } from "../lab/model.ts";
import type { LabState } from "../lab/records.ts";
import { type NamespaceInfo, namespaceInfo } from "../lab/info.ts";
import { DEFAULT_NAMESPACE } from "../vlans.ts";
import { LabCore, type OpenLabOptions, Undo } from "./_core.ts";
import { BridgeHandle } from "./bridge.ts";
import { Namespace } from "./namespace.ts";
import { SimLab } from "./sim.ts";

export type { OpenLabOptions };

/** What {@linkcode Lab.run} gives for one command line. */
export interface CommandResult<R = unknown> {
  /** The line as typed. */
  readonly line: string;
  /** minimega's text: a padded table, a line, or "" when the command prints nothing. */
  readonly text: string;
  /** The table's columns, when the command printed a table. */
  readonly header: readonly string[] | undefined;
  /** The table's rows, each a record from column name to cell, as printed. */
  readonly rows: readonly Readonly<Record<string, string>>[];
  /**
   * The typed records the table was made from, for the commands that list the lab (`vlans`:
   * {@linkcode VlanInfo}, `vm info`: {@linkcode VmInfo}, `tap`: {@linkcode TapInfo}, `bridge`:
   * {@linkcode BridgeInfo}, `capture`: {@linkcode CaptureInfo}, `namespace`: {@linkcode NamespaceInfo});
   * empty for the others.
   */
  readonly records: readonly R[];
}

/** Options the typed lab adds for command lines. */
export interface LabOpenOptions extends OpenLabOptions {
  /** Receives every error a command line's command throws (the CLI prints stacks with `--trace`). */
  onError?: (error: Error) => void;
}

/**
 * A lab: its namespaces (each with VLAN aliases, a VM config, VMs, host taps, mirrors and captures) and
 * its bridges, on the simulator or on Open vSwitch.
 *
 * @example A lab on the simulator, in a few lines
 * ```ts
 * import assert from "node:assert/strict";
 * import { Lab } from "labwire";
 *
 * await using lab = await Lab.open();
 * const ns = lab.namespace();
 * const [web, db] = await ns.launch(["web", "db"], { networks: ["DMZ"], start: true });
 * await web!.nic(0).setAddress("10.0.0.1/24");
 * await db!.nic(0).setAddress("10.0.0.2/24");
 * const result = await web!.nic(0).ping("10.0.0.2");
 * assert.deepEqual([result.sent, result.received], [3, 3]);
 * assert.deepEqual(await ns.vlans.list(), [{ alias: "DMZ", vlan: 101 }]);
 * assert.equal((await lab.run("vlans")).text, "alias | vlan\nDMZ   | 101");
 * ```
 */
export class Lab implements AsyncDisposable {
  readonly #core: LabCore;
  readonly #interpreter: Interpreter<Session>;
  readonly #thrown: Error[] = [];
  readonly #onError: ((error: Error) => void) | undefined;

  private constructor(core: LabCore, options: LabOpenOptions) {
    this.#core = core;
    const session: Session = {
      get lab() {
        return core.model;
      },
      refreshDrivers: () => core.refreshDrivers(),
      shell: (argv) => core.shell(argv),
    };
    this.#onError = options.onError;
    this.#interpreter = new Interpreter(createRegistry(), session, {
      host: core.host,
      onError: (error) => void this.#thrown.push(error),
    });
  }

  /**
   * Opens a lab: a new one on the simulator by default; with `state`, the lab a state file holds (made
   * when the file does not exist yet), every change made under the file's lock.
   *
   * @throws {StateError} When the state file cannot be locked, read or understood (code `state-failed`).
   * @example On Open vSwitch, kept in a state file
   * ```ts ignore
   * import { Lab } from "labwire";
   * await using lab = await Lab.open({ backend: "ovs", state: "lab.json" });
   * ```
   */
  static async open(options: LabOpenOptions = {}): Promise<Lab> {
    return new Lab(await LabCore.open(options), options);
  }

  /** `sim`, `ovs`, or the name of a backend of your own. */
  get backendName(): string {
    return this.#core.backend.name;
  }

  /** Warnings the lab gave, newest last (when it was opened without `onWarning`). */
  get warnings(): readonly string[] {
    return this.#core.warnings;
  }

  /**
   * A namespace that exists (the default one, `minimega`, always does): this never creates one.
   *
   * @throws {NamespaceError} `unknown namespace: x` (code `namespace-not-found`); see
   * {@linkcode Lab.createNamespace}.
   */
  namespace(name: string = DEFAULT_NAMESPACE): Namespace {
    this.#core.latest.namespaces.require(name);
    return new Namespace(this.#core, name);
  }

  /**
   * Creates a namespace, with its own VLAN aliases and VM config (and, with `vlanRange`, its own range).
   *
   * @throws {NamespaceError} `namespace-exists`, or `invalid-name` for a name that cannot be one.
   */
  async createNamespace(
    name: string,
    options: { vlanRange?: { min: number; max: number } } = {},
  ): Promise<Namespace> {
    await this.#core.op((model) => {
      if (model.namespaces.has(name)) {
        throw new LabError("namespace-exists", `Cannot create namespace ${name}: it exists`);
      }
      model.ensureNamespace(name);
      if (options.vlanRange !== undefined) {
        model.vlans.setRange(name, options.vlanRange.min, options.vlanRange.max);
      }
    });
    return new Namespace(this.#core, name);
  }

  /** The namespaces, sorted, as `namespace` lists them. */
  namespaces(): Promise<NamespaceInfo[]> {
    return this.#core.read((model) => namespaceInfo(model));
  }

  /** The bridges, by name, as `bridge` lists them. */
  bridges(): Promise<BridgeInfo[]> {
    return this.#core.read((model) => model.bridgeInfo());
  }

  /**
   * A bridge by name; it is made on first use (a trunk, a setting, a patch link), as minimega makes its
   * bridges.
   */
  bridge(name: string): BridgeHandle {
    return new BridgeHandle(this.#core, name);
  }

  /**
   * Runs one line of minimega's command language on this lab, as `labwire` runs it.
   *
   * @returns The text minimega prints, the table's rows, and the typed records of the lab's listings.
   * @throws {LabError} The command's error, as the command line prints it after `E: `; a line that does not
   * parse is a {@linkcode CommandError} (`invalid-command`, `ambiguous-command`). A failed line changes nothing.
   * @example Typed rows and minimega's text
   * ```ts
   * import assert from "node:assert/strict";
   * import { Lab, type VlanInfo } from "labwire";
   * await using lab = await Lab.open();
   * await lab.run("vm config net DMZ CORE");
   * const vlans = await lab.run<VlanInfo>("vlans");
   * assert.deepEqual(vlans.records, [{ alias: "DMZ", vlan: 101 }, { alias: "CORE", vlan: 102 }]);
   * assert.deepEqual(vlans.rows[0], { alias: "CORE", vlan: "102" });
   * await assert.rejects(lab.run("vlans add DMZ 200"), { code: "alias-in-use" });
   * ```
   */
  async run<R = unknown>(line: string): Promise<CommandResult<R>> {
    const compiled = this.#interpreter.compile(line);
    if (typeof compiled === "string") {
      const code = compiled.startsWith("ambiguous command") ? "ambiguous-command" : "invalid-command";
      throw new CommandError(code, compiled, line);
    }
    if (compiled === undefined) return { line, text: "", header: undefined, rows: [], records: [] };
    const responses = await this.#lines(compiled, (responses) => responses);
    const errors = responseErrors(responses.value);
    if (errors.length > 0) {
      const thrown = responses.thrown.find((e) => e.message === errors[0]);
      if (thrown instanceof LabError) throw thrown;
      throw new CommandError(
        "invalid-command",
        errors[0]!,
        line,
        thrown === undefined ? {} : { cause: thrown },
      );
    }
    return result<R>(line, responses.value, this.#interpreter);
  }

  /**
   * Runs one command line and never throws: its output and its error messages, as the command line prints
   * them (`labwire` and {@linkcode runScript} use this). A failed line changes nothing.
   */
  async execute(line: string): Promise<LineResult> {
    const compiled = this.#interpreter.compile(line);
    if (compiled === undefined) return { output: "", errors: [] };
    if (typeof compiled === "string") return { output: "", errors: [compiled] };
    try {
      const { value } = await this.#lines(compiled, (responses) => responses);
      return { output: formatResponses(value, this.#interpreter.flags), errors: responseErrors(value) };
    } catch (error) {
      return { output: "", errors: [(error as Error).message] };
    }
  }

  /** Runs a compiled line as one operation, undone when it reports an error. */
  async #lines<T>(
    compiled: Exclude<ReturnType<Interpreter<Session>["compile"]>, string | undefined>,
    pick: (responses: Response[]) => T,
  ): Promise<{ value: T; thrown: Error[] }> {
    // a line is first run as a read (see LabCore.read), again under the lock if it changes the lab: the
    // errors handlers threw are those of the run that stands
    const thrown: Error[] = [];
    try {
      const value = await this.#core.read(async () => {
        this.#thrown.length = 0;
        const responses = await this.#interpreter.run(compiled);
        thrown.length = 0;
        thrown.push(...this.#thrown);
        if (responseErrors(responses).length > 0) throw new Undo(pick(responses));
        return pick(responses);
      });
      return { value, thrown };
    } catch (error) {
      if (error instanceof Undo) return { value: error.result as T, thrown };
      throw error;
    } finally {
      for (const error of thrown) this.#onError?.(error);
    }
  }

  /**
   * The simulator's controls: the virtual clock, frames of your own on the wire, endpoints of your own
   * behind NICs and taps.
   *
   * @throws {LabError} On another backend (code `unsupported`).
   */
  get sim(): SimLab {
    if (this.#core.backend.name !== "sim") {
      throw new LabError(
        "unsupported",
        `Cannot use the simulator's controls on backend ${this.#core.backend.name}`,
      );
    }
    return new SimLab(this.#core);
  }

  /**
   * The lab's state as plain JSON, as a state file holds it: to compare labs in tests, or to keep one.
   * A failed call leaves it byte for byte as it was.
   */
  snapshot(): Promise<LabState> {
    return this.#core.read((model) => model.toJSON());
  }

  /** Clears everything of this lab (`clear all`); other labs sharing the backend are left alone. */
  clearAll(): Promise<void> {
    return this.#core.op((model) => model.clearAll());
  }

  /** Clears this lab, then removes whatever labwire made in the backend, for any lab (`nuke`). */
  nuke(): Promise<void> {
    return this.#core.op((model) => model.nuke());
  }

  /**
   * Ends the lab's work in this process: every capture is stopped and its file completed. With a state
   * file, the lab stays in it (KVM VMs on Open vSwitch keep running); without one, what the lab made on
   * Open vSwitch is removed. Later calls do nothing; other calls then fail with code `closed`.
   */
  close(): Promise<void> {
    return this.#core.close();
  }

  /** Closes the lab (`await using lab = await Lab.open()`). */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

function result<R>(
  line: string,
  responses: readonly Response[],
  interpreter: Interpreter<Session>,
): CommandResult<R> {
  const text = formatResponses(responses, interpreter.flags);
  const ok = responses.filter((r) => r.error === "");
  const header = ok.find((r) => r.header !== undefined)?.header;
  const cells: string[][] = [];
  const records: R[] = [];
  for (const r of ok) {
    for (const row of r.tabular ?? []) cells.push([...row]);
    for (const record of r.records ?? []) records.push(record as R);
  }
  // in the order the text prints them
  if ((responses[0]?.flags ?? interpreter.flags).sort) cells.sort(compareRows);
  const rows = cells.map((row) => Object.fromEntries((header ?? []).map((h, i) => [h, row[i] ?? ""])));
  return { line, text, header: header === undefined ? undefined : [...header], rows, records };
}
