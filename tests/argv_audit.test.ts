/**
 * No word a user types becomes an option of a program labwire runs. Every free argument of every command
 * that reaches a program on the ovs backend (names, aliases, addresses, paths, filters, bridge settings,
 * kernel and disk paths) is given a word that looks like an option, and every argv the backend runs (and
 * every line it feeds `ip -batch`) is checked: the word may appear only as the value of an option
 * (`-w WORD`), after tcpdump's `--`, or inside a longer word (`key=WORD`); never where a program would
 * parse it as an option of its own. The programs are fakes: nothing runs on the host.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import os from "node:os";
import path from "node:path";
import fs from "node:fs";
import { createExec } from "../lib/exec.ts";
import { Lab } from "../lib/api/lab.ts";
import { OvsBackend } from "../lib/real/ovs_backend.ts";
import { fakeOvsHost } from "./_fixtures/fake_host.ts";
import { withPath } from "./_fixtures/fake_path.ts";

/** The hostile word: an option of no program labwire runs, so a fake never mistakes it for its own. */
const W = "-Zz";

/** Programs the ovs backend may run, all answered with success by default. */
const PROGRAMS = [
  "ip",
  "ping",
  "tcpdump",
  "nft",
  "ethtool",
  "dhclient",
  "dnsmasq",
  "qemu-system-x86_64",
  "qemu-img",
  "sysctl",
];

/** Why `argv` lets the hostile word be read as an option, or undefined. */
function misuse(argv: readonly string[], stdin: string): string | undefined {
  const ends = argv[0] === "tcpdump" ? argv.indexOf("--") : -1;
  for (let i = 1; i < argv.length; i++) {
    if (!argv[i]!.startsWith(W)) continue;
    const previous = argv[i - 1]!;
    const optionValue = previous.startsWith("-") && previous !== "--" && !previous.startsWith(W);
    if (optionValue || (ends >= 0 && i > ends)) continue;
    return `argument ${i} of ${JSON.stringify(argv)}`;
  }
  for (const line of stdin.split("\n")) {
    const words = line.trim().split(/\s+/);
    if (words.some((w) => w.startsWith(W))) return `the ${argv[0]} batch line ${JSON.stringify(line)}`;
  }
  return undefined;
}

test("no user word becomes an option of ovs-vsctl, ip, tcpdump, QEMU, dhclient or any program run", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "labwire-argv-"));
  const { runner, calls: seen } = fakeOvsHost(["ovs-vsctl", ...PROGRAMS]);
  const cwd = process.cwd();
  process.chdir(dir); // relative capture paths land here
  try {
    await withPath([...PROGRAMS, "ovs-vsctl"], async () => {
      const backend = new OvsBackend({ exec: createExec({ runner }), namespacePrefix: "lw-" });
      await using lab = await Lab.open({ backend, seed: 1 });
      const lines = [
        `vm config net ${W}`,
        `vm config net ${W},DMZ`,
        `vm config net DMZ,${W}`,
        `vm config kernel ${W}`,
        `vm config initrd ${W}`,
        `vm config append ${W}`,
        `vm config disk ${W}`,
        `vm launch container ${W}`,
        "vm config net DMZ",
        "vm config kernel /nonexistent/k",
        "vm launch container c1",
        "vm start c1",
        `vm net ip c1 0 ${W}`,
        "vm net ip c1 0 10.0.0.1/24",
        `tap create DMZ name ${W}`,
        `tap create DMZ ip ${W}`,
        `tap create DMZ bridge ${W}`,
        `tap create DMZ dhcp ${W}`,
        `tap create DMZ bridge ${W} ip 10.0.0.8/24 t4`,
        "tap create DMZ dhcp t3",
        `tap create ${W}`,
        `tap create DMZ ip ${W} t1`,
        "tap create DMZ ip 10.0.0.9/24 t2",
        `tap mirror t2 ${W}`,
        `tap mirror ${W} t2`,
        `tap mirror c1 0 ${W} 0`,
        `tap delete ${W}`,
        `bridge trunk mega_bridge ${W}`,
        `bridge config mega_bridge ${W}=1`,
        `bridge config mega_bridge other_config:${W}=1`,
        `bridge config mega_bridge other_config:a=${W}`,
        `capture pcap filter ${W}`,
        `capture pcap bridge mega_bridge ${W}`,
        `capture pcap bridge mega_bridge ${W}.pcap`,
        `capture pcap vm c1 0 ${W}`,
        `capture pcap snaplen ${W}`,
        `ping c1 ${W}`,
        `ping ${W} 10.0.0.9`,
        `namespace ${W}`,
        `vlans add ${W} 200`,
        `vm kill ${W}`,
        `clear tap ${W}`,
        `bridge destroy ${W}`,
        "clear capture",
        "clear all",
      ];
      const ran: string[] = [];
      for (const line of lines) {
        const { errors } = await lab.execute(line);
        if (errors.length === 0) ran.push(line);
      }
      // the lab did real work on the fake host, or this test proves nothing (host taps write /proc/sys,
      // which has no fake: they fail here once their names and addresses are checked)
      for (const line of ["vm launch container c1", "vm net ip c1 0 10.0.0.1/24", "clear all"]) {
        assert.ok(ran.includes(line), `'${line}' failed`);
      }
      assert.ok(seen.some((s) => s.argv[0] === "tcpdump"), "no capture started");
      const problems = seen.map((s) => misuse(s.argv, s.stdin)).filter((p) => p !== undefined);
      assert.deepEqual(problems, []);
    });
  } finally {
    process.chdir(cwd);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
