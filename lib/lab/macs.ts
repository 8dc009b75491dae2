// Runtime-neutral.
/**
 * The MACs of the lab's NICs and host taps: the generator of new ones (locally administered unicast,
 * reproducible with a seed) and the set of those in use, so that a generated MAC is never one the lab has.
 *
 * @module
 */

import { MacGenerator, type MacGeneratorOptions } from "../mac.ts";
import type { Journal } from "./_journal.ts";

/** Options for {@linkcode MacPool}. */
export type MacPoolOptions = Omit<MacGeneratorOptions, "start">;

/** Generated and used MACs. */
export class MacPool {
  #journal: Journal;
  #options: MacPoolOptions;
  #generator: MacGenerator;
  /** MAC -> how many NICs and taps use it (a configured MAC may be given to several). */
  #used = new Map<string, number>();

  /** Makes a pool. */
  constructor(journal: Journal, options: MacPoolOptions = {}) {
    this.#journal = journal;
    this.#options = options;
    this.#generator = new MacGenerator(options);
  }

  /** How many candidates the generator has used (saved with the lab). */
  get count(): number {
    return this.#generator.count;
  }

  /** Resumes the generator at a saved count (loading a lab). */
  set count(start: number) {
    this.#generator = new MacGenerator({ ...this.#options, start });
  }

  /** A new MAC no NIC or tap of the lab has; it is counted as used. */
  generate(): string {
    const before = this.#generator.count;
    this.#journal.record(() => this.count = before);
    const mac = this.#generator.next((m) => this.#used.has(m));
    this.use(mac);
    return mac;
  }

  /** Counts a MAC as used. */
  use(mac: string): void {
    this.#used.set(mac, (this.#used.get(mac) ?? 0) + 1);
    this.#journal.record(() => this.#release(mac));
  }

  /** Counts a MAC as no longer used by one NIC or tap. */
  release(mac: string): void {
    if (!this.#used.has(mac)) return;
    this.#release(mac);
    this.#journal.record(() => this.#used.set(mac, (this.#used.get(mac) ?? 0) + 1));
  }

  #release(mac: string): void {
    const n = this.#used.get(mac) ?? 0;
    if (n <= 1) this.#used.delete(mac);
    else this.#used.set(mac, n - 1);
  }

  /** Forgets every MAC in use (loading a lab). */
  reset(): void {
    this.#used.clear();
  }
}
