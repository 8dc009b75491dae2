// Runtime-neutral.
/**
 * `ping`: a labwire extension that shows what reaches what.
 *
 * @module
 */

import type { Handler } from "../cli/registry.ts";
import { PingError } from "../errors.ts";
import type { Session } from "./session.ts";

/** The `ping` command. */
export function pingHandlers(): Handler<Session>[] {
  return [{
    patterns: ["ping <from> <ip> [count]"],
    helpShort: "send echo requests from a VM NIC or a host tap (labwire)",
    helpLong: `Sends ICMP echo requests from a VM NIC (<vm>:<nic>, e.g. web:0) or a host tap (its name) to an
IPv4 address, and prints a table: from, to, sent, received. The VM must run ("vm start": a paused VM
sends and answers nothing) and its NIC needs an address ("vm net ip"), the host tap one from "tap create
... ip"; a NIC reaches the subnets of its own addresses, and a ping with no route fails as Linux's does
("connect: Network is unreachable"). Three requests unless a count is given.

	ping web:0 10.0.0.2
	ping mega_tap4 10.0.0.2 10`,
    async run(cmd, session) {
      const lab = session.lab;
      const from = cmd.strings.get("from")!;
      const ip = cmd.strings.get("ip")!;
      const countText = cmd.strings.get("count");
      const count = countText === undefined ? 3 : Number(countText);
      if (countText !== undefined && !/^\d+$/.test(countText)) {
        throw new PingError(
          "invalid-argument",
          `Cannot ping as count must be a whole number: current value is ${countText}`,
        );
      }
      const { sent, received } = await lab.ping(lab.activeNamespace, from, ip, count);
      return {
        header: ["from", "to", "sent", "received"],
        rows: [[from, ip, String(sent), String(received)]],
      };
    },
  }];
}
