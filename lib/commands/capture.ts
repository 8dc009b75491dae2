// Runtime-neutral.
/**
 * `capture`: packet captures of VM NICs and bridges to pcap files, namespace aware.
 *
 * @module
 */

import type { Handler } from "../cli/registry.ts";
import type { Session } from "./session.ts";
import { captureRows } from "./_tables.ts";
import { captureInfo } from "../lab/info.ts";

/** The `capture` commands. */
export function captureHandlers(): Handler<Session>[] {
  return [
    {
      patterns: [
        "capture",
        "capture <pcap,> <snaplen,> [size]",
        "capture <pcap,> <filter,> [bpf]",
        "capture <pcap,> vm <vm name> <interface index> <filename>",
        "capture <pcap,> <delete,> vm <vm name>",
        "capture <pcap,> bridge <bridge> <filename>",
        "capture <pcap,> <delete,> bridge <bridge>",
      ],
      helpShort: "capture experiment data",
      helpLong: `Captures frames to pcap files that tcpdump and Wireshark read:

	capture                                     the active namespace's captures
	capture pcap vm <vm> <nic> <file>           a VM NIC's frames, as its tap sees them
	capture pcap bridge <bridge> <file>         every frame on a bridge, with its VLAN tag (a capture
	                                            tap fed by a mirror of all ports)
	capture pcap delete vm <vm or all>          stops a VM's captures
	capture pcap delete bridge <bridge or all>  stops a bridge's captures
	capture pcap snaplen [size]                 bytes kept per frame in new captures (default 1600)
	capture pcap filter [bpf]                   a BPF filter for new captures

On the simulator, filters are a subset of BPF: vlan [id], arp, icmp, ip, host <ip>, ether host <mac>,
combined with and, or, not and parentheses.`,
      async run(cmd, session) {
        const lab = session.lab;
        const ns = lab.activeNamespace;
        if (cmd.bools.has("snaplen")) {
          const size = cmd.strings.get("size");
          if (size === undefined) return String(lab.captures.settings(ns).snaplen);
          return await lab.setSnaplen(ns, size);
        }
        if (cmd.bools.has("filter")) {
          const bpf = cmd.strings.get("bpf");
          if (bpf === undefined) return lab.captures.settings(ns).filter;
          return await lab.setFilter(ns, bpf);
        }
        if (cmd.bools.has("delete")) {
          if (cmd.strings.has("vm")) return await lab.deleteVmCaptures(ns, cmd.strings.get("vm")!);
          return await lab.deleteBridgeCaptures(ns, cmd.strings.get("bridge")!);
        }
        if (cmd.strings.has("vm")) {
          const path = cmd.strings.get("filename")!;
          return void await lab.captureVm(ns, cmd.strings.get("vm")!, cmd.strings.get("interface")!, {
            path,
          });
        }
        if (cmd.strings.has("bridge")) {
          return void await lab.captureBridge(ns, cmd.strings.get("bridge")!, {
            path: cmd.strings.get("filename")!,
          });
        }
        return {
          header: ["bridge", "type", "interface", "mode", "compress", "path"],
          rows: captureRows(lab, ns),
          records: captureInfo(lab, ns),
        };
      },
    },
    {
      patterns: ["clear capture [netflow,pcap]"],
      helpShort: "stop captures",
      helpLong: `Stops the active namespace's captures: all of them, or only pcap ones with "pcap" (minimega
stops every capture whichever is given; labwire has no netflow captures yet).`,
      async run(_cmd, session) {
        await session.lab.clearCaptures(session.lab.activeNamespace);
      },
    },
  ];
}
