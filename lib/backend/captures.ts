// Runtime-neutral.
/**
 * The backend contract for packet captures: what a port sees, both ways, kept in a pcap file or by the
 * backend for the lab to read while the capture runs.
 *
 * @module
 */

/** A capture as the lab model wants it. */
export interface CaptureSpec {
  /** The capture's id, unique for the lab's lifetime. */
  readonly id: number;
  /** The bridge of the port captured. */
  readonly bridge: string;
  /** The port whose frames are kept. */
  readonly port: string;
  /** The pcap file; without one the backend keeps the frames for {@linkcode CaptureBackend.readCapture}. */
  readonly path?: string;
  /** Bytes kept of each frame. */
  readonly snaplen: number;
  /** A BPF filter, or "". */
  readonly filter: string;
  /** The most frames a capture without a file keeps; older ones go first. */
  readonly limit: number;
}

/** One frame a capture kept. */
export interface RawFrame {
  /** When it was seen, in ns (the simulator's virtual time; real captures: since the epoch). */
  readonly timeNs: number;
  /**
   * `rx`: the endpoint sent it into the port; `tx`: the port transmitted it to the endpoint; undefined
   * when the backend cannot tell (a pcap file holds no direction).
   */
  readonly direction: "rx" | "tx" | undefined;
  /** Its bytes, at most the snaplen. */
  readonly data: Uint8Array;
  /** Its length on the wire. */
  readonly origLen: number;
}

/** What a capture has kept so far. */
export interface CaptureContents {
  /** The frames, oldest first. */
  readonly frames: readonly RawFrame[];
  /** Frames seen but no longer kept (a capture without a file keeps at most its `limit`). */
  readonly dropped: number;
}

/** Captures of ports. */
export interface CaptureBackend {
  /** Starts keeping a port's frames (both ways), through the capture's filter. */
  startCapture(capture: CaptureSpec): Promise<void>;
  /** Makes a capture's file hold every frame seen so far, a complete pcap (no-op without a file). */
  flushCapture(id: number): Promise<void>;
  /** The frames a capture kept so far: its file's (after a flush), or those kept for it. */
  readCapture(id: number): Promise<CaptureContents>;
  /** Stops a capture and completes its file. */
  stopCapture(id: number): Promise<void>;
}
