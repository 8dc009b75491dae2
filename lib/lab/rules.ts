// Runtime-neutral.
/**
 * minimega's naming rules, each written once: the bridge a NIC or tap goes on when none is named, what a
 * mirror is called, which names a bridge, tap, VM or namespace may have, and the text of addresses.
 *
 * @module
 */

import { DEFAULT_BRIDGE } from "../netspec.ts";
import { LabError, NamespaceError, TopologyError, VmError } from "../errors.ts";

/** The bridge a netspec or command uses when it names none (minimega's `DefaultBridge`). */
export const DEFAULT_BRIDGE_NAME: string = DEFAULT_BRIDGE;

/** The snaplen captures use when none is set, as minimega. */
export const DEFAULT_SNAPLEN = 1600;

/** The most bytes a Linux network device name may have (IFNAMSIZ, 16, with its terminating NUL). */
export const MAX_DEVICE_NAME = 15;

/** The name of the mirror whose output is `output` (minimega's `tap mirror`). */
export function mirrorName(output: string): string {
  return `mirror-${output}`;
}

/**
 * Checks a bridge, tap or interface name: it becomes a host device, so it must be one Linux accepts
 * (1-15 bytes, no `/`, no white space, not `.` or `..`, not starting with `-`), and `all` is minimega's
 * reserved word.
 *
 * @throws {TopologyError} `` `all` is a reserved word -- cannot use for tap name `` (minimega's words),
 * `bridge name must not be empty string` (minimega's), or `Cannot use tap name 'x': ...`.
 */
export function checkDeviceName(name: string, what: "bridge" | "tap" | "interface"): void {
  if (name === "all") {
    throw new TopologyError("invalid-name", `\`all\` is a reserved word -- cannot use for ${what} name`);
  }
  if (name === "" && what === "bridge") {
    throw new TopologyError("invalid-name", "bridge name must not be empty string");
  }
  const why = deviceNameProblem(name);
  if (why !== undefined) throw new TopologyError("invalid-name", `Cannot use ${what} name '${name}': ${why}`);
}

/** Why a name cannot be a Linux network device's, or undefined. */
export function deviceNameProblem(name: string): string | undefined {
  if (name === "") return "it is empty";
  if (new TextEncoder().encode(name).length > MAX_DEVICE_NAME) {
    return `it is longer than ${MAX_DEVICE_NAME} bytes (a Linux device name)`;
  }
  if (name === "." || name === "..") return "it is not a device name";
  if (name.startsWith("-")) return "it starts with '-'";
  // deno-lint-ignore no-control-regex
  if (/[\s/\u0000-\u001f\u007f:]/.test(name)) return "it holds '/', ':', white space or a control character";
  return undefined;
}

/**
 * Checks a VM name as minimega does: not `all`, not a number.
 *
 * @throws {VmError} `` `all` is a reserved word -- cannot use for vm name ``, `vm name cannot be an integer: 3`.
 */
export function checkVmName(name: string): void {
  if (name === "all") throw new VmError("invalid-name", "`all` is a reserved word -- cannot use for vm name");
  if (/^\d+$/.test(name)) throw new VmError("invalid-name", `vm name cannot be an integer: ${name}`);
  // deno-lint-ignore no-control-regex
  if (name === "" || /[\s/\u0000-\u001f\u007f]/.test(name)) {
    throw new VmError(
      "invalid-name",
      `Cannot use vm name '${name}': it is empty or holds '/' or white space`,
    );
  }
}

const NAMESPACE_NAME = /^[A-Za-z0-9_.-]+$/;

/**
 * Checks a namespace name.
 *
 * @throws {NamespaceError} For an empty name, `all`, or characters other than letters, digits, `-`, `_`, `.`.
 */
export function checkNamespaceName(name: string): void {
  if (name === "all" || !NAMESPACE_NAME.test(name)) {
    throw new NamespaceError(
      "invalid-name",
      `invalid namespace name \`${name}\`: use letters, digits, '-', '_' and '.', and not \`all\``,
    );
  }
}

/**
 * Checks an IPv4 address with an optional prefix length; a bare address is a /32, as `ip addr add` makes it.
 *
 * @returns The address as `a.b.c.d/n`.
 * @throws {LabError} `Cannot use address 'x': expected an IPv4 address like 10.0.0.1/24` (code `invalid-address`).
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkCidr } from "labwire";
 * assert.equal(checkCidr("10.0.0.1"), "10.0.0.1/32");
 * assert.throws(() => checkCidr("10.0.0.300/24"), { code: "invalid-address" });
 * ```
 */
export function checkCidr(s: string): string {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?:\/(\d{1,2}))?$/.exec(s);
  const ok = m !== null && m.slice(1, 5).every((o) => Number(o) <= 255) &&
    (m[5] === undefined || Number(m[5]) <= 32);
  if (!ok) {
    throw new LabError(
      "invalid-address",
      `Cannot use address '${s}': expected an IPv4 address like 10.0.0.1/24`,
    );
  }
  return m[5] === undefined ? `${s}/32` : s;
}

/** The address of a CIDR, without its prefix length. */
export function cidrAddress(cidr: string): string {
  const slash = cidr.indexOf("/");
  return slash < 0 ? cidr : cidr.slice(0, slash);
}
