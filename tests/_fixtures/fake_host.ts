/**
 * A fake host for the ovs backend's unit tests: an Open vSwitch that answers the check, the datapath
 * question and every interface check (no error, an OpenFlow port), a tcpdump that says it listens and
 * runs until stopped, and any other program answering success; each call recorded with its input.
 *
 * @module
 */

import { FakeRunner } from "../../lib/exec.ts";

/** A program run on the fake host: its argv and what it got on standard input. */
export interface FakeCall {
  readonly argv: readonly string[];
  readonly stdin: string;
}

/**
 * Makes the fake host's runner, with `ovs-vsctl` and each of `programs` (others are missing, as with a
 * real runner), recording every call in `calls`.
 */
export function fakeOvsHost(programs: readonly string[]): { runner: FakeRunner; calls: FakeCall[] } {
  const calls: FakeCall[] = [];
  const runner = new FakeRunner();
  for (const program of programs) {
    runner.on(program, (argv, options) => {
      calls.push({ argv: [...argv], stdin: options.stdin ?? "" });
      if (program === "ovs-vsctl") {
        if (argv.includes("datapath_types")) return { stdout: "[netdev]\n" };
        const checks = argv.filter((a) => a === "Interface").length;
        if (argv.includes("get") && checks > 0) return { stdout: "[]\n1\n".repeat(checks) };
      }
      if (program === "tcpdump") {
        options.onStderr?.(
          "tcpdump: listening on x, link-type EN10MB (Ethernet), snapshot length 1600 bytes\n",
        );
        return new Promise((resolve) => {
          options.signal?.addEventListener("abort", () => resolve({ code: 0 }), { once: true });
        });
      }
      return {};
    });
  }
  return { runner, calls };
}
