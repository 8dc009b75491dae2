// Runtime-neutral.
/**
 * The errors a lab throws: one base class, {@linkcode LabError}, whose `code` says what went wrong in a
 * word a script can test, and a subclass per area (VMs, bridges and taps, namespaces, VLANs, pings,
 * captures, the state file, commands). The message is what the command line prints after `E: `: minimega's
 * words where minimega has them, else a sentence that names the thing that was wrong.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { Lab, LabError, VmError } from "labwire";
 *
 * await using lab = await Lab.open();
 * await assert.rejects(lab.namespace().vm("nosuch").start(), (e) =>
 *   e instanceof VmError && e.code === "vm-not-found" && e.message === "vm not found: nosuch");
 * await assert.rejects(lab.run("vlans add DMZ x"), LabError);
 * ```
 *
 * @module
 */

/**
 * What went wrong, in one stable word. New codes may come; existing ones keep their meaning.
 *
 * - Names and input: `invalid-name` (a name labwire cannot use), `invalid-netspec`, `invalid-mac`,
 *   `invalid-address` (not an IPv4 address or CIDR), `invalid-argument` (any other value out of range).
 * - Things that are not there: `namespace-not-found`, `vm-not-found`, `nic-not-found`, `tap-not-found`,
 *   `bridge-not-found`, `mirror-not-found`, `trunk-not-found`, `patch-not-found`, `capture-not-found`,
 *   `router-not-found` (a VM that is not a router).
 * - Things that are there already: `namespace-exists`, `vm-exists`, `port-exists` (a tap or port of that
 *   name), `mirror-exists`, `trunk-exists`, `patch-exists`.
 * - VLANs: `alias-in-use`, `vlan-in-use`, `range-overlap`, `out-of-vlans`, `invalid-vlan`.
 * - State: `vm-not-running` (a ping from a VM that is not RUNNING), `nic-disconnected`, `not-host-tap`,
 *   `wrong-namespace`, `bridge-in-use`, `custom-endpoint` (the NIC is driven by your own endpoint).
 * - Reachability: `network-unreachable` (as Linux's `connect: Network is unreachable`).
 * - Elsewhere: `unsupported` (not on this backend or VM type), `backend-failed` (the backend could not do
 *   it: Open vSwitch, QEMU, ip, tcpdump, dhclient; `cause` holds its error), `state-failed` (the state
 *   file could not be locked, read or written), `invalid-command` and `ambiguous-command` (the command
 *   language), `closed` (the lab was closed).
 */
export type LabErrorCode =
  | "invalid-name"
  | "invalid-netspec"
  | "invalid-mac"
  | "invalid-address"
  | "invalid-argument"
  | "namespace-not-found"
  | "vm-not-found"
  | "nic-not-found"
  | "tap-not-found"
  | "bridge-not-found"
  | "mirror-not-found"
  | "trunk-not-found"
  | "patch-not-found"
  | "capture-not-found"
  | "router-not-found"
  | "namespace-exists"
  | "vm-exists"
  | "port-exists"
  | "mirror-exists"
  | "trunk-exists"
  | "patch-exists"
  | "alias-in-use"
  | "vlan-in-use"
  | "range-overlap"
  | "out-of-vlans"
  | "invalid-vlan"
  | "vm-not-running"
  | "nic-disconnected"
  | "not-host-tap"
  | "wrong-namespace"
  | "bridge-in-use"
  | "custom-endpoint"
  | "network-unreachable"
  | "unsupported"
  | "backend-failed"
  | "state-failed"
  | "invalid-command"
  | "ambiguous-command"
  | "closed";

/** Options for {@linkcode LabError}. */
export interface LabErrorOptions {
  /** The error that led to this one. */
  cause?: unknown;
}

/**
 * Anything a lab refuses or fails to do. `code` is stable; the message is for people.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { LabError } from "labwire";
 * const error = new LabError("invalid-argument", "Cannot ping as count must be 1 to 10000: current value is 0");
 * assert.equal(error.code, "invalid-argument");
 * assert.ok(error instanceof Error);
 * ```
 */
export class LabError extends Error {
  override name = "LabError";
  /** What went wrong, in one stable word. */
  readonly code: LabErrorCode;

  /** Makes the error. */
  constructor(code: LabErrorCode, message: string, options: LabErrorOptions = {}) {
    super(message, options.cause === undefined ? {} : { cause: options.cause });
    this.code = code;
  }
}

/** A mistake naming a VM or a NIC, or something a VM cannot do in its state, in minimega's words. */
export class VmError extends LabError {
  override name = "VmError";
}

/** A mistake in a bridge, tap, mirror, trunk or patch command, in minimega's words. */
export class TopologyError extends LabError {
  override name = "TopologyError";
}

/** A namespace that does not exist, exists already, or cannot have that name. */
export class NamespaceError extends LabError {
  override name = "NamespaceError";
}

/** A ping that could not be sent: a bad count or address, a source that cannot ping, no route. */
export class PingError extends LabError {
  override name = "PingError";
}

/** A capture that cannot be started, found or read. */
export class CaptureError extends LabError {
  override name = "CaptureError";
}

/** The state file could not be locked, read, understood or written. */
export class StateError extends LabError {
  override name = "StateError";
}

/**
 * A command line that failed ({@linkcode Lab.run}): it did not parse (`invalid-command`,
 * `ambiguous-command`), or its command failed with an error that is not a {@linkcode LabError}.
 */
export class CommandError extends LabError {
  override name = "CommandError";
  /** The line as typed. */
  readonly line: string;

  /** Makes the error. */
  constructor(code: LabErrorCode, message: string, line: string, options: LabErrorOptions = {}) {
    super(code, message, options);
    this.line = line;
  }
}
