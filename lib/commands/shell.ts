// Runtime-neutral.
/**
 * `shell`: runs a program on the host, as minimega's `shell` does (its tests use it to look at Open
 * vSwitch: `shell ovs-vsctl list-ports minitest`).
 *
 * @module
 */

import type { MetaHandler } from "../cli/registry.ts";
import { makeResponse } from "../cli/response.ts";
import type { Session } from "./session.ts";

/** The `shell` command. */
export function shellHandlers(): MetaHandler<Session>[] {
  return [{
    patterns: ["shell <command>..."],
    helpShort: "execute a command",
    helpLong: `Runs a program under the credentials of the running user, with its arguments as typed (no shell
is involved: quote an argument with spaces), and prints what it wrote on standard output. What it wrote
on standard error is shown as an error, and a non-zero exit status is the error "exit status N", as in
minimega. The command runs until it ends: take care not to run one that does not.

	shell ovs-vsctl list-ports mega_bridge
	shell ip -br link`,
    async runMeta(cmd, session, engine) {
      const argv = cmd.lists.get("command")!;
      if (session.shell === undefined) {
        return [makeResponse(engine.host, { error: "Cannot run shell commands: this session has no shell" })];
      }
      const r = await session.shell(argv);
      if (r.notFound) {
        return [
          makeResponse(engine.host, { error: `exec: "${argv[0]}": executable file not found in $PATH` }),
        ];
      }
      if (r.code !== 0) return [makeResponse(engine.host, { error: `exit status ${r.code}` })];
      return [makeResponse(engine.host, { response: r.stdout.replace(/\n$/, ""), error: r.stderr.trim() })];
    },
  }];
}
