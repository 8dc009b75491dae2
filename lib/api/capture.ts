/**
 * Captures from the typed API: what a VM NIC or a whole bridge sees, kept in memory and readable while
 * the capture runs, or written to a pcap file that is complete after every {@linkcode CaptureHandle.flush}.
 * Each frame comes with its port, direction, time, bytes and decoded headers.
 *
 * @module
 */

import type { RawFrame } from "../backend/captures.ts";
import { CaptureError } from "../errors.ts";
import type { CaptureInfo } from "../lab/info.ts";
import { captureInfo } from "../lab/info.ts";
import type { CaptureRecord } from "../lab/records.ts";
import { decodeFrame, describeFrame, type Frame } from "../wire/frame.ts";
import { readPcapFile } from "../wire/pcap_file.ts";
import type { LabCore } from "./_core.ts";
import type { BridgeHandle } from "./bridge.ts";
import type { NicHandle } from "./handles.ts";

/** Options for {@linkcode Namespace.capture}. */
export interface CaptureOptions {
  /** Write a pcap file (tcpdump and Wireshark read it); without one, frames are kept in memory. */
  file?: string;
  /** Bytes kept per frame. @default {the namespace's `capture pcap snaplen`, else 1600} */
  snaplen?: number;
  /** A BPF filter (the simulator knows a subset: docs/simulator.md). @default {the namespace's `capture pcap filter`} */
  filter?: string;
  /** The most frames kept in memory; older ones go first. @default {100000} */
  limit?: number;
}

/** A frame a capture kept. */
export interface CapturedFrame {
  /** Its position among the frames read, from 0. */
  readonly index: number;
  /** The port it was seen on: the VM NIC's tap, or the bridge capture's tap. */
  readonly port: string;
  /**
   * `in`: the endpoint sent it into the bridge; `out`: the bridge delivered it to the endpoint. From the
   * simulator's own record, else (a file, Open vSwitch) from the MAC: a VM NIC's own MAC as source is `in`.
   * A bridge capture sees everything `out` of its tap.
   */
  readonly direction: "in" | "out";
  /** When it was seen, in nanoseconds (virtual time on the simulator). */
  readonly timeNs: number;
  /** Its length on the wire. */
  readonly length: number;
  /** Its bytes, at most the snaplen. */
  readonly bytes: Uint8Array;
  /** Its headers, decoded (Ethernet, 802.1Q tags, ARP, IPv4, ICMP, UDP, TCP); undefined when it cannot be decoded. */
  readonly frame: Frame | undefined;
  /** One line, as tcpdump prints it. */
  readonly summary: string;
}

/** A capture: its record, its frames while it runs, and how to end it. */
export class CaptureHandle implements AsyncDisposable {
  /** Its id, never reused. */
  readonly id: number;
  /** The namespace it belongs to. */
  readonly namespace: string;
  /** Its pcap file, or undefined when its frames are kept in memory. */
  readonly file: string | undefined;
  readonly #core: LabCore;
  readonly #port: string;
  readonly #mac: string | undefined;
  /** The frames read when it stopped (a capture in memory), for reading after. */
  #final: CapturedFrame[] | undefined;

  private constructor(core: LabCore, record: CaptureRecord, mac: string | undefined) {
    this.#core = core;
    this.id = record.id;
    this.namespace = record.namespace;
    this.file = record.path;
    this.#port = record.port;
    this.#mac = mac;
  }

  /** @internal Starts a capture of a NIC or a bridge. */
  static async start(
    core: LabCore,
    namespace: string,
    target: NicHandle | BridgeHandle,
    options: CaptureOptions,
  ): Promise<CaptureHandle> {
    const settings = {
      ...(options.file === undefined ? {} : { path: options.file }),
      ...(options.snaplen === undefined ? {} : { snaplen: options.snaplen }),
      ...(options.filter === undefined ? {} : { filter: options.filter }),
      ...(options.limit === undefined ? {} : { limit: options.limit }),
    };
    if (options.limit !== undefined && !(Number.isSafeInteger(options.limit) && options.limit > 0)) {
      throw new CaptureError(
        "invalid-argument",
        `Cannot capture as limit must be a whole number above 0: current value is ${options.limit}`,
      );
    }
    const { record, mac } = await core.op(async (model) => {
      if ("vm" in target) {
        const nic = target.infoIn(model);
        const record = await model.captureVm(
          namespace,
          target.vm.target(model),
          String(target.index),
          settings,
        );
        return { record, mac: nic.mac };
      }
      return { record: await model.captureBridge(namespace, target.name, settings), mac: undefined };
    });
    return new CaptureHandle(core, record, mac);
  }

  /** Its record, as `capture` lists it. @throws {CaptureError} `capture-not-found` once stopped. */
  info(): Promise<CaptureInfo> {
    return this.#core.op((model) => {
      const info = captureInfo(model, this.namespace).find((c) => c.id === this.id);
      if (info === undefined) {
        throw new CaptureError("capture-not-found", `Cannot find capture ${this.id}: it was stopped`);
      }
      return info;
    });
  }

  /**
   * The frames it kept so far, oldest first; it goes on running. After {@linkcode CaptureHandle.stop}, the
   * frames it had then (a file capture: its file's).
   */
  async frames(): Promise<CapturedFrame[]> {
    if (this.#final !== undefined) return this.#final;
    const running = !this.#core.closed &&
      await this.#core.op((model) => model.captures.get(this.id) !== undefined);
    if (!running) {
      if (this.file !== undefined) return this.#decode(readPcapFile(this.file).records.map(rawOf));
      throw new CaptureError(
        "capture-not-found",
        `Cannot read capture ${this.id}: it was stopped ${
          this.#core.closed ? "when the lab closed" : "elsewhere"
        }`,
      );
    }
    const contents = await this.#core.op((model) => model.readCapture(this.id));
    return this.#decode(contents.frames);
  }

  #decode(raw: readonly RawFrame[]): CapturedFrame[] {
    return raw.map((r, index) => {
      let frame: Frame | undefined;
      try {
        frame = decodeFrame(r.data, 0, r.data.length);
      } catch {
        frame = undefined;
      }
      const direction = r.direction === "rx"
        ? "in"
        : r.direction === "tx"
        ? "out"
        : this.#mac !== undefined && frame?.src === this.#mac
        ? "in"
        : "out";
      return {
        index,
        port: this.#port,
        direction,
        timeNs: r.timeNs,
        length: r.origLen,
        bytes: r.data,
        frame,
        summary: frame === undefined ? `${r.origLen} bytes` : describeFrame(frame),
      };
    });
  }

  /** Makes its file complete up to now (a capture in memory: nothing to do). */
  flush(): Promise<void> {
    return this.#core.op((model) => model.flushCapture(this.id));
  }

  /** Stops it and completes its file; its frames stay readable. Later calls do nothing. */
  async stop(): Promise<void> {
    if (this.#final !== undefined || this.#core.closed) return;
    const running = await this.#core.op((model) => model.captures.get(this.id) !== undefined);
    if (!running) return;
    if (this.file === undefined) this.#final = await this.frames();
    await this.#core.op((model) => model.stopCapture(this.id));
  }

  /** Stops it (`await using capture = await ns.capture(...)`). */
  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }
}

function rawOf(r: { timeNs: number; origLen: number; data: Uint8Array }): RawFrame {
  return { timeNs: r.timeNs, direction: undefined, data: r.data, origLen: r.origLen };
}
