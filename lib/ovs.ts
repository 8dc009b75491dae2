/**
 * Open vSwitch through `ovs-vsctl`: bridges, ports, mirrors, and the checks real OVS needs
 * (recipes/environment.md sections 1, 2.8, 2.9 and 7; spec section 5).
 *
 * - Every call passes `--timeout=N`: without it `ovs-vsctl` blocks forever when ovs-vswitchd is down.
 * - A logical step is one transaction (`ovs-vsctl -- cmd1 -- cmd2 ...`), run as one process: 200 ports
 *   cost one `ovs-vsctl`, not 200.
 * - After every add, `Interface.error` and `ofport` are read back in one more call, because `ovs-vsctl`
 *   exits 0 when a device is missing or a bridge's datapath cannot be made.
 * - Everything labwire makes carries `external_ids:labwire=1`, so {@linkcode Ovs.listLabwire} finds it
 *   from any process and `clear all` removes exactly that.
 * - Errors use minimega's words: `already exists`, `no such port`, `ovs cmd failed: [<args>] <output>`,
 *   wrapped by callers with {@linkcode ovsFailure} (`add port failed: ...`).
 *
 * Runs under Deno and Bun; only `lib/exec.ts` spawns processes.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { createExec, FakeRunner } from "./exec.ts";
 * import { Ovs } from "./ovs.ts";
 * const runner = new FakeRunner().on("ovs-vsctl", () => ({}));
 * const ovs = new Ovs({ exec: createExec({ runner }), datapathType: "netdev" });
 * await ovs.transaction().add("set", "bridge", "lab0", "stp_enable=true").run();
 * assert.deepEqual(runner.calls, [["ovs-vsctl", "--timeout=5", "--", "set", "bridge", "lab0", "stp_enable=true"]]);
 * ```
 *
 * @module
 */

import type { MirrorSpec, PortMode } from "./backend/bridges.ts";
import process from "node:process";
import { type Cmd, createExec, ExecError, type RunResult } from "./exec.ts";

/** The `external_ids` key that marks what labwire made. */
export const LABWIRE_KEY = "labwire";

/** How to start or install OVS, appended to "cannot reach" errors. */
const HOW_TO_START =
  "start it (scripts/ovs-sandbox.sh start DIR, then eval its exports) or install openvswitch-switch";

/** An OVS datapath type: the kernel's (`system`) or the userspace one (`netdev`). */
export type DatapathType = "system" | "netdev";

/** Options for {@linkcode Ovs}. */
export interface OvsOptions {
  /** Makes commands; tests pass `createExec({ runner: fake })`. @default {createExec()} */
  exec?: (program: string) => Cmd;
  /** Variables for every `ovs-vsctl` run (`OVS_RUNDIR` etc.); without them, the process's own (or the system OVS). */
  env?: Record<string, string>;
  /** The `--timeout` of every `ovs-vsctl` call, in seconds. @default {5} */
  timeoutSeconds?: number;
  /** The datapath type of new bridges; without it, {@linkcode Ovs.datapathType} detects it once. */
  datapathType?: DatapathType;
}

/** A port to add with {@linkcode Ovs.addPorts}. */
export interface OvsPort {
  /** The port's (and its interface's) name. */
  readonly name: string;
  /** Its VLAN mode: access `tag=N` (0: no tag), trunk `trunks=...` (none: all VLANs), or dot1q-tunnel. */
  readonly mode: PortMode;
  /** The interface type; without it (or `system`) OVS opens an existing device of that name. */
  readonly type?: "internal" | "patch" | "tap" | "system";
  /** The peer port of a `patch` port. */
  readonly peer?: string;
  /** More `external_ids` of the port (besides `labwire=1`). */
  readonly externalIds?: Readonly<Record<string, string>>;
  /**
   * The device may not exist yet (a trunk to an interface that comes later, as minimega allows): OVS then
   * keeps the port and opens the device when it appears, and {@linkcode Ovs.addPorts} reports it in
   * `missing` instead of failing. @default {false}
   */
  readonly mayBeMissing?: boolean;
}

/** What {@linkcode Ovs.addPorts} found. */
export interface AddPortsResult {
  /** Ports whose device does not exist (yet), among those that may be missing. */
  readonly missing: readonly string[];
}

/** A mirror to add with {@linkcode Ovs.addMirror}: the lab model's {@linkcode MirrorSpec}. */
export type OvsMirror = MirrorSpec;

/** What {@linkcode Ovs.addBridge} found. */
export interface AddBridgeResult {
  /** The bridge existed and was not made by labwire (minimega's "preexisting": never deleted by labwire). */
  readonly preexisting: boolean;
}

/** A port labwire made, as {@linkcode Ovs.listLabwire} finds it. */
export interface LabwirePort {
  /** The bridge it is on ("" when no bridge holds it). */
  readonly bridge: string;
  /** Its name. */
  readonly name: string;
  /** Its `external_ids`, `labwire` included. */
  readonly externalIds: Readonly<Record<string, string>>;
}

/** Everything labwire made in an OVS, as {@linkcode Ovs.listLabwire} finds it. */
export interface LabwireObjects {
  /** Bridges with `external_ids:labwire`, sorted. */
  readonly bridges: readonly string[];
  /** Ports with `external_ids:labwire` (on any bridge), sorted by bridge, then name. */
  readonly ports: readonly LabwirePort[];
  /** Mirrors with `external_ids:labwire`, sorted by bridge, then name. */
  readonly mirrors: readonly { readonly bridge: string; readonly name: string }[];
}

/** Why an {@linkcode OvsError} happened. */
export type OvsErrorKind = "exists" | "no-port" | "failed" | "interface" | "unreachable";

/** What {@linkcode OvsError} is made from. */
export interface OvsErrorInit {
  /** Why. */
  kind: OvsErrorKind;
  /** The `ovs-vsctl` argv, when one ran. @default {[]} */
  argv?: readonly string[];
  /** Its combined output. @default {""} */
  output?: string;
  /** The port (or bridge) whose interface failed, for `interface`. */
  port?: string;
  /** The underlying error. */
  cause?: unknown;
}

/**
 * An OVS call that failed, with a message in minimega's words: `already exists`, `no such port`,
 * `ovs cmd failed: [<args>] <output>`, or labwire's `port X is not working: <Interface.error>` and
 * `Cannot reach Open vSwitch: ...`.
 */
export class OvsError extends Error {
  /** `"OvsError"`. */
  override name = "OvsError";
  /** Why. */
  readonly kind: OvsErrorKind;
  /** The `ovs-vsctl` argv ([] when none ran). */
  readonly argv: readonly string[];
  /** Its combined output, trimmed. */
  readonly output: string;
  /** The port whose interface failed (`interface` errors). */
  readonly port: string | undefined;

  /** Makes the error. */
  constructor(message: string, init: OvsErrorInit) {
    super(message, init.cause === undefined ? {} : { cause: init.cause });
    this.kind = init.kind;
    this.argv = [...(init.argv ?? [])];
    this.output = init.output ?? "";
    this.port = init.port;
  }
}

/**
 * Wraps an OVS error the way minimega's callers do: `ovsFailure("add port", e)` is
 * `add port failed: <e's message>`. `already exists` and `no such port` are wrapped too; callers that
 * show them bare (minimega's `bridge trunk`) test `kind` first.
 *
 * @param what The step: `add bridge`, `add port`, `remove port`, `add tunnel`, `set config`, ...
 * @param error What was thrown.
 * @returns An {@linkcode OvsError} (kind kept) with the wrapped message.
 */
export function ovsFailure(what: string, error: unknown): OvsError {
  const message = `${what} failed: ${error instanceof Error ? error.message : String(error)}`;
  if (error instanceof OvsError) {
    return new OvsError(message, {
      kind: error.kind,
      argv: error.argv,
      output: error.output,
      ...(error.port === undefined ? {} : { port: error.port }),
      cause: error,
    });
  }
  return new OvsError(message, { kind: "failed", cause: error });
}

/**
 * Maps `ovs-vsctl`'s output to minimega's error text (spec 5): `already exists`, `no such port`, or
 * `ovs cmd failed: [<args>] <output>`.
 *
 * @param args The arguments after `ovs-vsctl` and its global options.
 * @param output The combined output.
 * @returns The message.
 */
export function ovsErrorMessage(args: readonly string[], output: string): string {
  if (output.includes("already exists")) return "already exists";
  if (output.includes("no port named")) return "no such port";
  return `ovs cmd failed: [${args.join(" ")}] ${output.trim()}`;
}

function combined(result: RunResult): string {
  return [result.stdout.trim(), result.stderr.trim()].filter((s) => s !== "").join("\n");
}

/** Values ovs-vsctl takes without quoting. */
const BARE_VALUE = /^[A-Za-z0-9_.:/@-]+$/;

/** Quotes a value for ovs-vsctl's `column:key=value` syntax when it needs it. */
function ovsValue(value: string): string {
  return BARE_VALUE.test(value) ? value : JSON.stringify(value);
}

function checkVlan(vlan: number, what: string): number {
  if (!(Number.isInteger(vlan) && vlan >= 0 && vlan <= 4095)) {
    throw new RangeError(`Cannot set ${what} as a VLAN must be 0-4095: current value is ${vlan}`);
  }
  return vlan;
}

/** The `add-port` column arguments of a VLAN mode. */
function modeArgs(mode: PortMode): string[] {
  switch (mode.kind) {
    case "access":
      return mode.tag === 0 ? [] : [`tag=${checkVlan(mode.tag, "tag")}`];
    case "trunk": {
      const trunks = mode.trunks ?? [];
      return trunks.length === 0 ? [] : [`trunks=${trunks.map((v) => checkVlan(v, "trunks")).join(",")}`];
    }
    case "dot1q-tunnel":
      return ["vlan_mode=dot1q-tunnel", `tag=${checkVlan(mode.tag, "tag")}`];
  }
}

/**
 * Parses one value of ovs-vsctl's default (text) output: `[]`, `-1`, `"could not open ..."`.
 * Returns "" for an empty set.
 */
function parseTextValue(text: string): string {
  const t = text.trim();
  if (t === "[]") return "";
  if (t.startsWith('"')) {
    try {
      return JSON.parse(t) as string;
    } catch {
      return t.slice(1, -1);
    }
  }
  return t;
}

/** A cell of `--format=json` output. */
type JsonCell = unknown;

function jsonAtom(cell: JsonCell): string {
  if (Array.isArray(cell)) {
    if (cell[0] === "uuid" || cell[0] === "named-uuid") return String(cell[1]);
    if (cell[0] === "set") {
      const items = cell[1] as JsonCell[];
      return items.length === 1 ? jsonAtom(items[0]) : "";
    }
  }
  return String(cell);
}

function jsonSet(cell: JsonCell): string[] {
  if (Array.isArray(cell) && cell[0] === "set") return (cell[1] as JsonCell[]).map(jsonAtom);
  return [jsonAtom(cell)];
}

function jsonMap(cell: JsonCell): Record<string, string> {
  const map: Record<string, string> = {};
  if (Array.isArray(cell) && cell[0] === "map") {
    for (const [k, v] of cell[1] as [JsonCell, JsonCell][]) map[jsonAtom(k)] = jsonAtom(v);
  }
  return map;
}

/** Parses the `--format=json` tables ovs-vsctl prints, one per line, into rows keyed by heading. */
function parseJsonTables(stdout: string): Record<string, JsonCell>[][] {
  return stdout.split("\n").filter((line) => line.trim() !== "").map((line) => {
    const table = JSON.parse(line) as { data: JsonCell[][]; headings: string[] };
    return table.data.map((row) => Object.fromEntries(table.headings.map((h, i) => [h, row[i]])));
  });
}

/**
 * One `ovs-vsctl` transaction: commands collected with {@linkcode OvsTransaction.add}, run once as
 * `ovs-vsctl --timeout=N -- cmd1 -- cmd2 ...`. Commands run in order and commit together, or not at all.
 */
export class OvsTransaction {
  readonly #ovs: Ovs;
  readonly #commands: string[][] = [];

  /** Made by {@linkcode Ovs.transaction}. */
  constructor(ovs: Ovs) {
    this.#ovs = ovs;
  }

  /** Adds one command: its options (`--may-exist`, `--id=@m`), verb and arguments. Returns this transaction. */
  add(...command: string[]): this {
    if (command.length === 0) throw new TypeError("Cannot add command to transaction as it is empty");
    this.#commands.push(command);
    return this;
  }

  /** How many commands were added. */
  get size(): number {
    return this.#commands.length;
  }

  /** The arguments after `ovs-vsctl --timeout=N`: `--`, the first command, `--`, the second, ... */
  get args(): string[] {
    return this.#commands.flatMap((c) => ["--", ...c]);
  }

  /**
   * Runs the transaction (nothing when it is empty).
   *
   * @returns Standard output.
   * @throws {OvsError} With minimega's text when ovs-vsctl fails, or `Cannot reach Open vSwitch: ...`.
   */
  async run(): Promise<string> {
    if (this.#commands.length === 0) return "";
    return (await this.#ovs.vsctl(this.args)).stdout;
  }
}

/**
 * Open vSwitch through `ovs-vsctl`. Holds the environment that says which OVS (a sandbox's
 * `OVS_RUNDIR`, or the system's), the timeout, and the detected datapath type.
 */
export class Ovs {
  readonly #exec: (program: string) => Cmd;
  readonly #env: Record<string, string>;
  readonly #timeoutSeconds: number;
  #datapath: Promise<DatapathType> | undefined;

  /**
   * Makes the wrapper; nothing runs until a method is called.
   *
   * @throws {RangeError} If `timeoutSeconds` is not a positive integer.
   */
  constructor(options: OvsOptions = {}) {
    const { exec = createExec(), env = {}, timeoutSeconds = 5, datapathType } = options;
    if (!(Number.isInteger(timeoutSeconds) && timeoutSeconds > 0)) {
      throw new RangeError(
        `Cannot make Ovs as 'timeoutSeconds' must be a positive integer: current value is ${timeoutSeconds}`,
      );
    }
    this.#exec = exec;
    this.#env = { ...env };
    this.#timeoutSeconds = timeoutSeconds;
    if (datapathType !== undefined) this.#datapath = Promise.resolve(datapathType);
  }

  /** The `--timeout` of every call, in seconds. */
  get timeoutSeconds(): number {
    return this.#timeoutSeconds;
  }

  /**
   * Runs `ovs-vsctl --timeout=N ...args` once.
   *
   * @param args The arguments after `--timeout=N`.
   * @param options `okCodes`: exit codes that are not failures (`br-exists` exits 2).
   * @returns The result.
   * @throws {OvsError} `unreachable` when OVS does not answer or ovs-vsctl is missing; otherwise
   * minimega's text from {@linkcode ovsErrorMessage}.
   */
  async vsctl(args: readonly string[], options: { okCodes?: readonly number[] } = {}): Promise<RunResult> {
    const argv = ["ovs-vsctl", `--timeout=${this.#timeoutSeconds}`, ...args];
    let cmd = this.#exec("ovs-vsctl").args(...argv.slice(1)).noThrow()
      // ovs-vsctl stops itself (SIGALRM, exit 142) at --timeout; this is the backstop
      .timeout((this.#timeoutSeconds + 5) * 1000);
    if (Object.keys(this.#env).length > 0) cmd = cmd.env(this.#env);
    let result: RunResult;
    try {
      result = await cmd.run();
    } catch (error) {
      if (error instanceof ExecError && error.notFound) {
        throw new OvsError(
          "Cannot reach Open vSwitch: ovs-vsctl is not installed; install openvswitch-switch",
          { kind: "unreachable", argv, cause: error },
        );
      }
      throw error;
    }
    if (result.code === 0 || options.okCodes?.includes(result.code)) return result;
    const output = combined(result);
    if (result.timedOut === true || result.code === 142 || result.signal === "SIGALRM") {
      throw new OvsError(
        `Cannot reach Open vSwitch: ovs-vsctl timed out after ${this.#timeoutSeconds} s; ${HOW_TO_START}`,
        { kind: "unreachable", argv, output },
      );
    }
    const connection = /database connection failed \(([^)]*)\)/.exec(output);
    if (connection !== null) {
      const socket = /(\S+): database connection failed/.exec(output)?.[1] ?? "";
      throw new OvsError(
        `Cannot reach Open vSwitch: ${socket === "" ? "" : `${socket}: `}${connection[1]}; ${HOW_TO_START}`,
        { kind: "unreachable", argv, output },
      );
    }
    const shown = args[0] === "--" ? args.slice(1) : args;
    const kind: OvsErrorKind = output.includes("already exists")
      ? "exists"
      : output.includes("no port named")
      ? "no-port"
      : "failed";
    throw new OvsError(ovsErrorMessage(shown, output), { kind, argv, output });
  }

  /** Starts a transaction: add commands, then `run()` it once. */
  transaction(): OvsTransaction {
    return new OvsTransaction(this);
  }

  /**
   * Checks that OVS answers, daemons and all, and enables double tagging for QinQ (minimega's startup
   * check: `set Open_vSwitch . other_config:vlan-limit=2`, which waits for ovs-vswitchd).
   *
   * @throws {OvsError} `Cannot reach Open vSwitch: ovs-vsctl timed out after 5 s; start it (...) or install openvswitch-switch`.
   */
  async check(): Promise<void> {
    await this.transaction().add("set", "Open_vSwitch", ".", "other_config:vlan-limit=2").run();
  }

  /** Whether OVS answers ({@linkcode Ovs.check} without the error). */
  async ping(): Promise<boolean> {
    try {
      await this.check();
      return true;
    } catch (error) {
      if (error instanceof OvsError && error.kind === "unreachable") return false;
      throw error;
    }
  }

  /**
   * The datapath type for new bridges: `system` when the kernel datapath works, else `netdev`.
   * Detected once (and cached): `get Open_vSwitch . datapath_types`, then, when that lists `system`, a
   * probe bridge with `datapath_type=system` whose interface must get an OpenFlow port (add-br exits 0
   * even when the datapath cannot be made).
   */
  datapathType(): Promise<DatapathType> {
    this.#datapath ??= this.#detectDatapath();
    const detecting = this.#datapath;
    // a failed detection (OVS down) is retried next time
    detecting.catch(() => {
      if (this.#datapath === detecting) this.#datapath = undefined;
    });
    return detecting;
  }

  async #detectDatapath(): Promise<DatapathType> {
    const types = await this.transaction().add("get", "Open_vSwitch", ".", "datapath_types").run();
    if (!/\bsystem\b/.test(types)) return "netdev";
    const probe = `lwprobe${process.pid % 100000}`;
    try {
      const result = await this.vsctl(
        this.transaction().add("--may-exist", "add-br", probe).add(
          "set",
          "bridge",
          probe,
          "datapath_type=system",
          `external_ids:${LABWIRE_KEY}=probe`,
        ).args,
      );
      if (result.stderr.includes("Error detected")) return "netdev";
      const [state] = await this.#interfaceStates([probe]);
      return state !== undefined && state.error === "" && state.ofport !== "" && state.ofport !== "-1"
        ? "system"
        : "netdev";
    } finally {
      await this.transaction().add("--if-exists", "del-br", probe).run();
    }
  }

  /** `error` and `ofport` of each interface, in one call. */
  async #interfaceStates(
    names: readonly string[],
  ): Promise<{ name: string; error: string; ofport: string }[]> {
    const tx = this.transaction();
    for (const name of names) tx.add("get", "Interface", name, "error", "ofport");
    const lines = (await tx.run()).split("\n");
    return names.map((name, i) => ({
      name,
      error: parseTextValue(lines[2 * i] ?? ""),
      ofport: parseTextValue(lines[2 * i + 1] ?? ""),
    }));
  }

  /** Throws for the first interface with an error (unless tolerated) or without an OpenFlow port. */
  async #checkInterfaces(
    names: readonly string[],
    tolerate: (name: string, error: string) => boolean = () => false,
  ): Promise<void> {
    if (names.length === 0) return;
    for (const state of await this.#interfaceStates(names)) {
      if (state.error !== "") {
        // a tolerated error (a missing device that may come later) has no OpenFlow port yet either
        if (tolerate(state.name, state.error)) continue;
        throw new OvsError(`port ${state.name} is not working: ${state.error}`, {
          kind: "interface",
          port: state.name,
          output: state.error,
        });
      }
      if (state.ofport === "" || state.ofport === "-1") {
        throw new OvsError(
          `port ${state.name} is not working: it has no OpenFlow port (ofport ${state.ofport || "[]"})`,
          { kind: "interface", port: state.name },
        );
      }
    }
  }

  /**
   * Creates a bridge of {@linkcode Ovs.datapathType}, marked `external_ids:labwire=1`, in one transaction
   * (`-- add-br B -- set bridge B datapath_type=T external_ids:labwire=1`), then checks its interface.
   * A bridge that exists is left as it is; it is `preexisting` unless labwire made it (minimega: a
   * preexisting bridge is never deleted).
   *
   * @throws {OvsError} `already exists` when a port or interface has the name; `bridge B is not working: ...`
   * when the datapath cannot be made (the bridge is then removed again).
   */
  async addBridge(name: string): Promise<AddBridgeResult> {
    const datapath = await this.datapathType();
    try {
      await this.transaction()
        .add("add-br", name)
        .add("set", "bridge", name, `datapath_type=${datapath}`, `external_ids:${LABWIRE_KEY}=1`)
        .run();
    } catch (error) {
      if (!(error instanceof OvsError && error.kind === "exists")) throw error;
      const mark = await this.transaction()
        .add("--if-exists", "get", "bridge", name, `external_ids:${LABWIRE_KEY}`).run();
      // "already exists" for a name held by a port, not a bridge
      if (mark.trim() === "" && !(await this.#bridgeExists(name))) throw error;
      return { preexisting: mark.trim() === "" };
    }
    try {
      await this.#checkInterfaces([name]);
    } catch (error) {
      await this.transaction().add("--if-exists", "del-br", name).run().catch(() => {});
      if (error instanceof OvsError && error.kind === "interface" && error.output === "") {
        throw new OvsError(
          `bridge ${name} is not working: its ${datapath} datapath could not be made (see the ovs-vswitchd log; ` +
            "only one Open vSwitch per network namespace can use the userspace datapath)",
          { kind: "interface", port: name },
        );
      }
      throw error;
    }
    return { preexisting: false };
  }

  async #bridgeExists(name: string): Promise<boolean> {
    return (await this.vsctl(["br-exists", name], { okCodes: [2] })).code === 0;
  }

  /** Deletes a bridge and everything on it (`--if-exists del-br`: no error when it is gone). */
  async deleteBridge(name: string): Promise<void> {
    await this.transaction().add("--if-exists", "del-br", name).run();
  }

  /**
   * Adds ports to a bridge in one transaction, whatever their number, then reads every interface's
   * `error` and `ofport` back in one call. Per port:
   * `-- add-port B P [tag=N | trunks=a,b | vlan_mode=dot1q-tunnel tag=N] [-- set Interface P type=T [options:peer=Q]] -- set Port P external_ids:labwire=1 [external_ids:k=v ...]`.
   * A patch port whose peer does not exist yet is not an error (its peer comes later), nor is a missing
   * device of a port that may be missing (it is reported in `missing`).
   * When an interface failed, all the ports of the call are removed again (one transaction).
   *
   * @throws {OvsError} `already exists`, `ovs cmd failed: ...`, or `port P is not working: <Interface.error>`.
   * @throws {RangeError} For a VLAN outside 0-4095, or a patch port without a peer.
   */
  async addPorts(bridge: string, ports: readonly OvsPort[]): Promise<AddPortsResult> {
    if (ports.length === 0) return { missing: [] };
    const tx = this.transaction();
    for (const port of ports) {
      tx.add("add-port", bridge, port.name, ...modeArgs(port.mode));
      const iface: string[] = [];
      if (port.type !== undefined && port.type !== "system") iface.push(`type=${port.type}`);
      if (port.type === "patch") {
        if (port.peer === undefined || port.peer === "") {
          throw new RangeError(`Cannot add patch port ${port.name} as it has no peer`);
        }
        iface.push(`options:peer=${ovsValue(port.peer)}`);
      }
      if (iface.length > 0) tx.add("set", "Interface", port.name, ...iface);
      const ids = [`external_ids:${LABWIRE_KEY}=1`];
      for (const [k, v] of Object.entries(port.externalIds ?? {})) {
        if (k !== LABWIRE_KEY) ids.push(`external_ids:${ovsValue(k)}=${ovsValue(v)}`);
      }
      tx.add("set", "Port", port.name, ...ids);
    }
    await tx.run();
    const patches = new Set(ports.filter((p) => p.type === "patch").map((p) => p.name));
    const optional = new Set(ports.filter((p) => p.mayBeMissing === true).map((p) => p.name));
    const missing: string[] = [];
    try {
      await this.#checkInterfaces(
        ports.map((p) => p.name),
        (name, error) => {
          if (patches.has(name) && error.startsWith("No usable peer")) return true;
          if (optional.has(name) && /\(No such device\)$/.test(error)) {
            missing.push(name);
            return true;
          }
          return false;
        },
      );
      return { missing };
    } catch (error) {
      const undo = this.transaction();
      for (const port of ports) undo.add("--if-exists", "del-port", bridge, port.name);
      await undo.run().catch(() => {});
      throw error;
    }
  }

  /**
   * Joins two bridges with a pair of patch ports, both made in one transaction (each names the other as
   * its peer), then checks both interfaces. The ports are trunks (no tag).
   */
  async addPatch(bridgeA: string, portA: string, bridgeB: string, portB: string): Promise<void> {
    const tx = this.transaction();
    for (const [bridge, port, peer] of [[bridgeA, portA, portB], [bridgeB, portB, portA]] as const) {
      tx.add("add-port", bridge, port)
        .add("set", "Interface", port, "type=patch", `options:peer=${ovsValue(peer)}`)
        .add("set", "Port", port, `external_ids:${LABWIRE_KEY}=1`);
    }
    await tx.run();
    await this.#checkInterfaces([portA, portB]);
  }

  /**
   * Deletes ports from a bridge in one transaction (`-- del-port B P` each).
   *
   * @throws {OvsError} `no such port` when one is not on the bridge (then none is deleted).
   */
  async deletePorts(bridge: string, names: readonly string[]): Promise<void> {
    const tx = this.transaction();
    for (const name of names) tx.add("del-port", bridge, name);
    await tx.run();
  }

  /**
   * Adds a mirror in one transaction, minimega's form:
   * `-- --id=@o get port OUT [-- --id=@p0 get port X ...] -- --id=@m create mirror name=M [select_all=true]
   * [select_src_port=@p0,...] [select_dst_port=...] output_port=@o external_ids:labwire=1 -- add bridge B mirrors @m`.
   *
   * @throws {OvsError} `ovs cmd failed: ... no row "X" in table Port` for a missing port.
   */
  async addMirror(bridge: string, mirror: OvsMirror): Promise<void> {
    const tx = this.transaction().add("--id=@o", "get", "port", mirror.output);
    const ids = new Map<string, string>();
    for (const port of [...mirror.selectSrc, ...mirror.selectDst]) {
      if (ids.has(port)) continue;
      const id = `@p${ids.size}`;
      ids.set(port, id);
      tx.add(`--id=${id}`, "get", "port", port);
    }
    const create = ["--id=@m", "create", "mirror", `name=${ovsValue(mirror.name)}`];
    if (mirror.selectAll) create.push("select_all=true");
    if (mirror.selectSrc.length > 0) {
      create.push(`select_src_port=${mirror.selectSrc.map((p) => ids.get(p)).join(",")}`);
    }
    if (mirror.selectDst.length > 0) {
      create.push(`select_dst_port=${mirror.selectDst.map((p) => ids.get(p)).join(",")}`);
    }
    create.push("output_port=@o", `external_ids:${LABWIRE_KEY}=1`);
    await tx.add(...create).add("add", "bridge", bridge, "mirrors", "@m").run();
  }

  /** Removes a mirror from a bridge: `-- --id=@m get mirror M -- remove bridge B mirrors @m`. */
  async deleteMirror(bridge: string, name: string): Promise<void> {
    await this.transaction()
      .add("--id=@m", "get", "mirror", name)
      .add("remove", "bridge", bridge, "mirrors", "@m")
      .run();
  }

  /**
   * Sets one column (or `column:key`) of a bridge, as `bridge config` does: `-- set bridge B key=value`.
   */
  async setBridgeConfig(bridge: string, key: string, value: string): Promise<void> {
    await this.transaction().add("set", "bridge", bridge, `${key}=${value}`).run();
  }

  /**
   * Finds everything labwire made (any process): bridges, ports and mirrors with
   * `external_ids:labwire`, in one call.
   */
  async listLabwire(): Promise<LabwireObjects> {
    const { stdout } = await this.vsctl([
      "--format=json",
      ...this.transaction()
        .add("--columns=name,ports,mirrors,external_ids", "find", "Bridge")
        .add("--columns=_uuid,name,external_ids", "find", "Port")
        .add("--columns=_uuid,name,external_ids", "find", "Mirror")
        .args,
    ]);
    const [bridgeRows = [], portRows = [], mirrorRows = []] = parseJsonTables(stdout);
    const bridgeOfPort = new Map<string, string>();
    const bridgeOfMirror = new Map<string, string>();
    const bridges: string[] = [];
    for (const row of bridgeRows) {
      const name = jsonAtom(row.name);
      for (const uuid of jsonSet(row.ports)) bridgeOfPort.set(uuid, name);
      for (const uuid of jsonSet(row.mirrors)) bridgeOfMirror.set(uuid, name);
      if (LABWIRE_KEY in jsonMap(row.external_ids) && jsonMap(row.external_ids)[LABWIRE_KEY] !== "probe") {
        bridges.push(name);
      }
    }
    const byPlace = (a: { bridge: string; name: string }, b: { bridge: string; name: string }) =>
      a.bridge < b.bridge ? -1 : a.bridge > b.bridge ? 1 : a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
    const ours = (row: Record<string, JsonCell>) => LABWIRE_KEY in jsonMap(row.external_ids);
    const ports = portRows.filter(ours).map((row) => ({
      bridge: bridgeOfPort.get(jsonAtom(row._uuid)) ?? "",
      name: jsonAtom(row.name),
      externalIds: jsonMap(row.external_ids),
    })).sort(byPlace);
    const mirrors = mirrorRows.filter(ours).map((row) => ({
      bridge: bridgeOfMirror.get(jsonAtom(row._uuid)) ?? "",
      name: jsonAtom(row.name),
    })).sort(byPlace);
    return { bridges: bridges.sort(), ports, mirrors };
  }
}
