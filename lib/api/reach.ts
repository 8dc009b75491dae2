/**
 * Who reaches whom in a namespace: every running VM NIC and host tap with an address pings every address
 * of the namespace's VM NICs and host taps (a VM that does not run is a target that answers nothing), and
 * the answers make a matrix that prints as a table.
 *
 * @module
 */

import { formatTable } from "../cli/table.ts";
import { LabError } from "../errors.ts";
import type { LabModel } from "../lab/model.ts";
import type { PingResult } from "../lab/reach.ts";
import { cidrAddress } from "../lab/rules.ts";
import type { LabCore } from "./_core.ts";

/** Options for {@linkcode Namespace.pingAll}. */
export interface PingAllOptions {
  /** Echo requests per pair. @default {1} */
  count?: number;
}

/** One pair of a {@linkcode Reachability}. */
export interface ReachPair {
  /** The source: `vm:nic` or a host tap's name. */
  readonly from: string;
  /** The address pinged. */
  readonly to: string;
  /** What came back; `networkUnreachable` when the source has no route to the address (nothing sent). */
  readonly result: PingResult | "network-unreachable";
}

/** The endpoints of a namespace that can ping: a label and the addresses it has. */
interface Source {
  readonly label: string;
  readonly ips: readonly string[];
}

/**
 * A reachability matrix: rows are sources (`vm:nic`, host taps), columns the addresses pinged; a cell is
 * `received/sent`, or `-` when there is no route from the row to the column.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { Lab } from "labwire";
 * await using lab = await Lab.open();
 * const ns = lab.namespace();
 * const [a, b] = await ns.launch(["a", "b"], { networks: ["LAN"], start: true });
 * const [c] = await ns.launch(["c"], { networks: ["DMZ"], start: true });
 * await a!.nic(0).setAddress("10.0.0.1/24");
 * await b!.nic(0).setAddress("10.0.0.2/24");
 * await c!.nic(0).setAddress("10.0.0.3/24");
 * const matrix = await ns.pingAll();
 * assert.equal(matrix.reachable("a:0", "10.0.0.2"), true);
 * assert.equal(matrix.reachable("a:0", "10.0.0.3"), false);
 * assert.equal(matrix.toString(), [
 *   "from | 10.0.0.1 | 10.0.0.2 | 10.0.0.3",
 *   "a:0  |          | 1/1      | 0/1",
 *   "b:0  | 1/1      |          | 0/1",
 *   "c:0  | 0/1      | 0/1      |",
 * ].join("\n"));
 * ```
 */
export class Reachability {
  /** Every pair pinged, in the order they were. */
  readonly pairs: readonly ReachPair[];
  readonly #sources: readonly string[];
  readonly #targets: readonly string[];

  /** @internal */
  constructor(pairs: readonly ReachPair[], sources: readonly string[], targets: readonly string[]) {
    this.pairs = pairs;
    this.#sources = sources;
    this.#targets = targets;
  }

  /** The sources, in order. */
  get sources(): readonly string[] {
    return this.#sources;
  }

  /** The addresses pinged, in order. */
  get targets(): readonly string[] {
    return this.#targets;
  }

  /** The pair from a source to an address, or undefined. */
  get(from: string, to: string): ReachPair | undefined {
    return this.pairs.find((p) => p.from === from && p.to === to);
  }

  /** Whether a reply came from `to` to `from`'s pings. */
  reachable(from: string, to: string): boolean {
    const result = this.get(from, to)?.result;
    return result !== undefined && result !== "network-unreachable" && result.received > 0;
  }

  /** The matrix as rows of cells, headed `from` and the addresses. */
  rows(): string[][] {
    return [
      ["from", ...this.#targets],
      ...this.#sources.map((from) => [
        from,
        ...this.#targets.map((to) => {
          const result = this.get(from, to)?.result;
          if (result === undefined) return "";
          return result === "network-unreachable" ? "-" : `${result.received}/${result.sent}`;
        }),
      ]),
    ];
  }

  /** The matrix as a padded table, as minimega prints tables; "" when nothing could ping. */
  toString(): string {
    if (this.#sources.length === 0) return "";
    return formatTable(this.rows()).split("\n").map((l) => l.trimEnd()).join("\n").trim();
  }
}

/** The namespace's endpoints with addresses: connected VM NICs (running or not) and host taps. */
function endpoints(model: LabModel, namespace: string): (Source & { running: boolean })[] {
  const out: (Source & { running: boolean })[] = [];
  for (const vm of model.vms.list(namespace)) {
    vm.nics.forEach((nic, index) => {
      if (nic.bridge !== "" && nic.ips.length > 0) {
        out.push({
          label: `${vm.name}:${index}`,
          ips: nic.ips.map(cidrAddress),
          running: vm.state === "RUNNING",
        });
      }
    });
  }
  for (const tap of model.taps.list(namespace)) {
    if (tap.ips.length > 0) out.push({ label: tap.name, ips: tap.ips.map(cidrAddress), running: true });
  }
  return out;
}

/** Pings every pair of a namespace's endpoints. */
export async function pingAll(
  core: LabCore,
  namespace: string,
  options: PingAllOptions = {},
): Promise<Reachability> {
  const count = options.count ?? 1;
  return await core.op(async (model) => {
    const all = endpoints(model, namespace);
    // every address is a target (a paused VM's too: it answers nothing); only what runs can ping
    const targets = [...new Set(all.flatMap((s) => s.ips))];
    const list = all.filter((s) => s.running);
    const pairs: ReachPair[] = [];
    for (const source of list) {
      for (const to of targets) {
        if (source.ips.includes(to)) continue;
        try {
          pairs.push({
            from: source.label,
            to,
            result: await model.ping(namespace, source.label, to, count),
          });
        } catch (error) {
          if (!(error instanceof LabError && error.code === "network-unreachable")) throw error;
          pairs.push({ from: source.label, to, result: "network-unreachable" });
        }
      }
    }
    return new Reachability(pairs, list.map((s) => s.label), targets);
  });
}
