// Runtime-neutral.
/**
 * The context every command handler runs with: the lab, and the hooks the CLI provides.
 *
 * @module
 */

import type { LabModel } from "../lab/model.ts";

/** What command handlers see of the running labwire. */
export interface Session {
  /** The lab the commands act on. It may be replaced between lines (state reloaded from a file). */
  readonly lab: LabModel;
  /**
   * Makes sure `lab.drivers` holds the NIC drivers of the installed QEMU (once per process); the
   * built-in list stays when QEMU is not installed. Called before parsing netspecs.
   */
  refreshDrivers(): Promise<void>;
  /**
   * Runs a program on the host and waits for it to end (`shell`): its output, its exit status, and
   * whether it was not found at all. Missing where a session runs nothing on the host.
   */
  shell?(argv: readonly string[]): Promise<ShellResult>;
}

/** What {@linkcode Session.shell} ran. */
export interface ShellResult {
  /** The exit status. */
  readonly code: number;
  /** Standard output. */
  readonly stdout: string;
  /** Standard error. */
  readonly stderr: string;
  /** The program was not found (nothing ran). */
  readonly notFound: boolean;
}
