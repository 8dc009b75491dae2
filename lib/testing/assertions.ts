/**
 * Assertions on labs, for tests with `node:test` (or any runner): who reaches whom, and what captures
 * saw. A failure is an `AssertionError` whose message shows what was seen, so a red test says why.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { CapturedFrame, CaptureHandle } from "../api/capture.ts";
import type { NicHandle, TapHandle } from "../api/handles.ts";
import type { Reachability } from "../api/reach.ts";
import { LabError } from "../errors.ts";
import type { PingResult } from "../lab/reach.ts";

/** Options for {@linkcode assertReachable} and {@linkcode assertUnreachable}. */
export interface ReachAssertOptions {
  /** Echo requests to send. @default {1} */
  count?: number;
  /** A message to lead the failure with. */
  message?: string;
}

function describe(
  from: NicHandle | TapHandle,
  to: string,
  result: PingResult | "network-unreachable",
): string {
  if (result === "network-unreachable") return `${from.label} -> ${to}: connect: Network is unreachable`;
  return `${from.label} -> ${to}: ${result.received}/${result.sent} replies` +
    (result.reason === undefined ? "" : ` (${result.reason})`);
}

async function pingOf(
  from: NicHandle | TapHandle,
  to: string,
  count: number,
): Promise<PingResult | "network-unreachable"> {
  try {
    return await from.ping(to, { count });
  } catch (error) {
    if (error instanceof LabError && error.code === "network-unreachable") return "network-unreachable";
    throw error;
  }
}

/**
 * Asserts that pings from a VM NIC or host tap to an address get a reply.
 *
 * @returns The ping's result.
 * @example Usage
 * ```ts
 * import { Lab } from "labwire";
 * import { assertReachable, assertUnreachable } from "labwire/testing";
 * await using lab = await Lab.open();
 * const ns = lab.namespace();
 * const [a, b] = await ns.launch(["a", "b"], { networks: ["LAN"], start: true });
 * await a!.nic(0).setAddress("10.0.0.1/24");
 * await b!.nic(0).setAddress("10.0.0.2/24");
 * await assertReachable(a!.nic(0), "10.0.0.2");
 * await assertUnreachable(a!.nic(0), "10.0.0.3");
 * ```
 */
export async function assertReachable(
  from: NicHandle | TapHandle,
  to: string,
  options: ReachAssertOptions = {},
): Promise<PingResult> {
  const result = await pingOf(from, to, options.count ?? 1);
  if (result === "network-unreachable" || result.received === 0) {
    assert.fail(
      `${options.message === undefined ? "" : `${options.message}: `}expected a reply, got ${
        describe(from, to, result)
      }`,
    );
  }
  return result;
}

/** Asserts that pings from a VM NIC or host tap to an address get no reply (or cannot even be sent). */
export async function assertUnreachable(
  from: NicHandle | TapHandle,
  to: string,
  options: ReachAssertOptions = {},
): Promise<void> {
  const result = await pingOf(from, to, options.count ?? 1);
  if (result !== "network-unreachable" && result.received > 0) {
    assert.fail(
      `${options.message === undefined ? "" : `${options.message}: `}expected no reply, got ${
        describe(from, to, result)
      }`,
    );
  }
}

/**
 * Asserts a reachability matrix: for each source named, exactly the addresses listed answered it.
 * Sources not named are not checked.
 *
 * @example Usage
 * ```ts
 * import { Lab } from "labwire";
 * import { assertReachability } from "labwire/testing";
 * await using lab = await Lab.open();
 * const ns = lab.namespace();
 * const [a, b] = await ns.launch(["a", "b"], { networks: ["LAN"], start: true });
 * await a!.nic(0).setAddress("10.0.0.1/24");
 * await b!.nic(0).setAddress("10.0.0.2/24");
 * assertReachability(await ns.pingAll(), { "a:0": ["10.0.0.2"], "b:0": ["10.0.0.1"] });
 * ```
 */
export function assertReachability(
  matrix: Reachability,
  expected: Readonly<Record<string, readonly string[]>>,
): void {
  const problems: string[] = [];
  for (const [from, want] of Object.entries(expected)) {
    if (!matrix.sources.includes(from)) {
      problems.push(`${from} is not a source (a running VM NIC or host tap with an address)`);
      continue;
    }
    const got = matrix.targets.filter((to) => matrix.reachable(from, to));
    const missing = want.filter((to) => !got.includes(to));
    const extra = got.filter((to) => !want.includes(to));
    if (missing.length > 0) problems.push(`${from} does not reach ${missing.join(", ")}`);
    if (extra.length > 0) problems.push(`${from} reaches ${extra.join(", ")} too`);
  }
  if (problems.length > 0) assert.fail(`${problems.join("; ")}\n\n${matrix.toString()}`);
}

/**
 * Asserts that a capture kept at least one frame the predicate picks.
 *
 * @returns The frames it picked.
 */
export async function assertCaptured(
  capture: CaptureHandle,
  pick: (frame: CapturedFrame) => boolean,
  message = "expected a matching frame",
): Promise<CapturedFrame[]> {
  const frames = await capture.frames();
  const picked = frames.filter(pick);
  if (picked.length === 0) {
    const seen = frames.slice(-20).map((f) => `  ${f.direction} ${f.summary}`).join("\n");
    assert.fail(
      `${message}; capture ${capture.id} kept ${frames.length} frames${
        frames.length === 0 ? "" : `, the last ones:\n${seen}`
      }`,
    );
  }
  return picked;
}

/** Asserts that a capture kept no frame the predicate picks. */
export async function assertNotCaptured(
  capture: CaptureHandle,
  pick: (frame: CapturedFrame) => boolean,
  message = "expected no matching frame",
): Promise<void> {
  const picked = (await capture.frames()).filter(pick);
  if (picked.length > 0) {
    assert.fail(
      `${message}; capture ${capture.id} kept:\n${
        picked.slice(0, 20).map((f) => `  ${f.direction} ${f.summary}`).join("\n")
      }`,
    );
  }
}
