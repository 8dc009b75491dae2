// Runtime-neutral.
/**
 * The namespaces room: which namespaces exist and which one is active. Each namespace's VLAN aliases, VM
 * config, VMs, taps, mirrors and captures are kept by their own rooms, keyed by the namespace's name.
 *
 * @module
 */

import { NamespaceError } from "../errors.ts";
import { DEFAULT_NAMESPACE } from "../vlans.ts";
import type { Journal } from "./_journal.ts";
import { checkNamespaceName } from "./rules.ts";

/** The lab's namespaces. */
export class NamespaceRoom {
  #journal: Journal;
  #names = new Set<string>([DEFAULT_NAMESPACE]);
  #active = DEFAULT_NAMESPACE;

  /** Makes the room with the default namespace, active. */
  constructor(journal: Journal) {
    this.#journal = journal;
  }

  /** The active namespace: commands run in it unless told otherwise. */
  get active(): string {
    return this.#active;
  }

  /** Whether a namespace exists. */
  has(name: string): boolean {
    return this.#names.has(name);
  }

  /** The namespaces, sorted. */
  names(): string[] {
    return [...this.#names].sort();
  }

  /**
   * Creates a namespace if it does not exist yet.
   *
   * @returns Whether it was created.
   * @throws {NamespaceError} For a name that cannot be a namespace's.
   */
  ensure(name: string): boolean {
    if (this.#names.has(name)) return false;
    checkNamespaceName(name);
    this.#names.add(name);
    this.#journal.record(() => this.#names.delete(name));
    return true;
  }

  /**
   * Checks that a namespace exists.
   *
   * @throws {NamespaceError} `unknown namespace: x` (minimega's words).
   */
  require(name: string): void {
    if (!this.#names.has(name)) throw new NamespaceError("namespace-not-found", `unknown namespace: ${name}`);
  }

  /** Makes a namespace active, creating it if needed. */
  setActive(name: string): void {
    this.ensure(name);
    const before = this.#active;
    this.#active = name;
    this.#journal.record(() => this.#active = before);
  }

  /** Forgets a namespace (its contents are gone already); the default one stays. */
  remove(name: string): void {
    if (name !== DEFAULT_NAMESPACE && this.#names.delete(name)) {
      this.#journal.record(() => this.#names.add(name));
    }
    if (this.#active === name) this.setActive(DEFAULT_NAMESPACE);
  }

  /** Restores the room (loading a lab). */
  load(names: readonly string[], active: string): void {
    this.#names = new Set([DEFAULT_NAMESPACE, ...names]);
    this.#active = this.#names.has(active) ? active : DEFAULT_NAMESPACE;
  }
}
