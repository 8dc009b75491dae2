// Runtime-neutral.
/**
 * The two contracts the simulator's parts meet at: a {@linkcode FrameSink} is whatever is plugged into a
 * bridge port (a VM NIC, a host tap, a capture), and a {@linkcode Scheduler} is the virtual clock they
 * share. Both are small on purpose, so that tests can fake them in a few lines.
 *
 * @module
 */

/**
 * Something plugged into a port: receives the frames the port transmits (bytes valid only during the
 * call).
 *
 * A sink must not transmit from inside `receive` (that would recurse through the bridge); it copies or
 * decodes what it needs and defers its answers with {@linkcode Scheduler.after}.
 */
export interface FrameSink {
  /** Takes one frame: `len` bytes of `buf` from `off`; copy them to keep them. */
  receive(buf: Uint8Array, off: number, len: number): void;
}

/**
 * Virtual time: ns since the lab started, and deferred work.
 *
 * Work due at the same time runs in the order it was scheduled, so a simulation runs the same way every
 * time.
 */
export interface Scheduler {
  /** Nanoseconds since the lab started. */
  now(): number;
  /** Runs `fn` once, `delayNs` nanoseconds from now (0: after the work already due now). */
  after(delayNs: number, fn: () => void): void;
}
