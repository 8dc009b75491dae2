/**
 * Lightweight VMs as Linux network namespaces: the network half of minimega's containers. A namespace
 * gets a veth pair whose host end goes on a bridge and whose other end is the VM's NIC, with its MAC,
 * its addresses and checksum offload off (TCP through Open vSwitch's userspace datapath stalls without
 * that: recipes/environment.md 2.2). Every command goes through {@linkcode createExec}.
 *
 * @module
 */

import { type Cmd, createExec } from "./exec.ts";

/** Options for {@linkcode Netns}. */
export interface NetnsOptions {
  /** Runs programs. @default {createExec()} */
  exec?: (program: string) => Cmd;
}

/** What `ping` in a namespace counted. */
export interface NetnsPingResult {
  /** Echo requests sent. */
  readonly sent: number;
  /** Echo replies received. */
  readonly received: number;
}

/**
 * Reads ping(8)'s summary line: `3 packets transmitted, 2 received, ...`.
 *
 * @throws {SyntaxError} If the output has no summary line.
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { parsePingSummary } from "labwire";
 * assert.deepEqual(parsePingSummary("3 packets transmitted, 2 received, 33% packet loss, time 2003ms"), {
 *   sent: 3,
 *   received: 2,
 * });
 * ```
 */
export function parsePingSummary(output: string): NetnsPingResult {
  const m = /(\d+) packets transmitted, (\d+) (?:packets )?received/.exec(output);
  if (m === null) {
    throw new SyntaxError(`Cannot read ping's summary: no 'packets transmitted' line in: ${output.trim()}`);
  }
  return { sent: Number(m[1]), received: Number(m[2]) };
}

/** Network namespaces and the veth pairs that join them to bridges. */
export class Netns {
  #exec: (program: string) => Cmd;

  /** Makes a manager that runs `ip`, `ethtool` and `ping` through `exec`. */
  constructor(options: NetnsOptions = {}) {
    this.#exec = options.exec ?? createExec();
  }

  /** The namespaces that exist. */
  async list(): Promise<string[]> {
    const out = await this.#exec("ip").args("netns", "list").text();
    return out.split("\n").map((l) => l.split(" ")[0]!).filter((n) => n !== "");
  }

  /** Creates a namespace with its loopback up. */
  async create(name: string): Promise<void> {
    await this.#exec("ip").args("netns", "add", name).run();
    await this.#inNs(name, "ip", "link", "set", "lo", "up").run();
  }

  /** Deletes a namespace; the ends of veth pairs inside it go with it. */
  async delete(name: string): Promise<void> {
    await this.#exec("ip").args("netns", "delete", name).run();
  }

  /**
   * Makes a veth pair: `hostEnd` stays in the host (for a bridge), `nsEnd` goes into the namespace with
   * the MAC given, both up, and transmit checksum offload off inside.
   */
  async addVeth(hostEnd: string, namespace: string, nsEnd: string, mac: string): Promise<void> {
    await this.#exec("ip").args(
      "link",
      "add",
      hostEnd,
      "type",
      "veth",
      "peer",
      "name",
      nsEnd,
      "netns",
      namespace,
    )
      .run();
    await this.#inNs(namespace, "ip", "link", "set", "dev", nsEnd, "address", mac).run();
    await this.#inNs(namespace, "ip", "link", "set", "dev", nsEnd, "up").run();
    await this.#exec("ip").args("link", "set", "dev", hostEnd, "up").run();
    await this.#inNs(namespace, "ethtool", "-K", nsEnd, "tx", "off").noThrow().run();
  }

  /** Deletes the host end of a veth pair (and so the pair). */
  async deleteLink(hostEnd: string): Promise<void> {
    await this.#exec("ip").args("link", "delete", hostEnd).noThrow().run();
  }

  /** Gives an interface inside a namespace an IPv4 address (`10.0.0.1/24`). */
  async addAddress(namespace: string, ifname: string, cidr: string): Promise<void> {
    await this.#inNs(namespace, "ip", "addr", "add", cidr, "dev", ifname).run();
  }

  /** Pings from inside a namespace: `count` requests, 0.2 s apart, waiting 1 s for each reply. */
  async ping(namespace: string, ip: string, count: number): Promise<NetnsPingResult> {
    const r = await this.#inNs(namespace, "ping", "-n", "-c", String(count), "-i", "0.2", "-W", "1", ip)
      .timeout(10_000 + count * 1_500).noThrow().run();
    return parsePingSummary(r.stdout);
  }

  #inNs(namespace: string, ...argv: string[]): Cmd {
    return this.#exec("ip").args("netns", "exec", namespace, ...argv);
  }
}
