// Runtime-neutral.
/**
 * The lab's undo log: how a failed command leaves the lab as it was. Every change a room makes to its
 * records during a command is recorded with the way to undo it; every change a backend made is recorded
 * with the way to compensate it. When the command fails, the backend's changes are compensated newest
 * first, then the records are put back newest first, and the error goes on. When it succeeds, the log
 * is dropped. Outside a command (restoring a lab from JSON) nothing is recorded.
 *
 * Records are undone exactly (each room records the inverse of what it did); a backend change is undone
 * as far as the backend can (a port removed again, a mirror added back). A compensation that fails is
 * reported through `onWarning` and the others still run.
 *
 * @module
 */

/** An undo log for one command at a time. */
export class Journal {
  #undo: (() => void)[] | undefined;
  #compensate: { what: string; fn: () => Promise<unknown> }[] | undefined;
  #warn: (message: string) => void;
  #saved: Set<object> | undefined;

  /** Makes a journal; failed compensations are reported through `onWarning`. */
  constructor(onWarning: (message: string) => void = () => {}) {
    this.#warn = onWarning;
  }

  /** Whether a command is running (changes are recorded). */
  get active(): boolean {
    return this.#undo !== undefined;
  }

  /** Records how to undo a change to the lab's records; nothing outside a command. */
  record(undo: () => void): void {
    this.#undo?.push(undo);
  }

  /**
   * Saves something's whole state once per command, before its first change (for small state that is
   * simpler to save whole than change by change): `save` runs and returns the undo; nothing outside a
   * command, or when `key` was saved already in this command.
   */
  once(key: object, save: () => () => void): void {
    if (this.#undo === undefined || this.#saved!.has(key)) return;
    this.#saved!.add(key);
    this.#undo.push(save());
  }

  /**
   * Records how to undo a change the backend made (`what` names it for the warning when the undo fails);
   * nothing outside a command.
   */
  compensate(what: string, fn: () => Promise<unknown>): void {
    this.#compensate?.push({ what, fn });
  }

  /**
   * Runs one command: its changes are kept when it resolves, and undone when it throws. Commands do
   * not nest: a command run inside another is part of it.
   */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#undo !== undefined) return await fn();
    const undo: (() => void)[] = [];
    const compensate: { what: string; fn: () => Promise<unknown> }[] = [];
    this.#undo = undo;
    this.#compensate = compensate;
    this.#saved = new Set();
    try {
      return await fn();
    } catch (error) {
      this.#undo = undefined;
      this.#compensate = undefined;
      for (let i = compensate.length - 1; i >= 0; i--) {
        const step = compensate[i]!;
        try {
          await step.fn();
        } catch (undoError) {
          this.#warn(`Cannot undo ${step.what}: ${(undoError as Error).message}`);
        }
      }
      for (let i = undo.length - 1; i >= 0; i--) undo[i]!();
      throw error;
    } finally {
      this.#undo = undefined;
      this.#compensate = undefined;
      this.#saved = undefined;
    }
  }
}
