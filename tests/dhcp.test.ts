import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { createExec, FakeRunner, type RunOptions, type RunResult } from "../lib/exec.ts";
import { DEFAULT_DHCP_TIMEOUT_MS, DhcpError, dhcpLease, parseDhclientLease } from "../lib/real/dhcp.ts";

/** A lease file as dhclient 4.4.3 wrote it on this machine, from dnsmasq 2.90. */
const DNSMASQ_LEASE = `lease {
  interface "lwdexpa";
  fixed-address 10.79.0.52;
  option subnet-mask 255.255.255.0;
  option routers 10.79.0.1;
  option dhcp-lease-time 3600;
  option dhcp-message-type 5;
  option dhcp-server-identifier 10.79.0.1;
  option dhcp-renewal-time 1800;
  option broadcast-address 10.79.0.255;
  option dhcp-rebinding-time 3150;
  renew 3 2026/11/25 11:55:04;
  rebind 3 2026/11/25 12:22:34;
  expire 3 2026/11/25 12:30:04;
}
`;

/** dhclient's standard error for an interface that does not exist (exit code 1). */
const NO_SUCH_DEVICE = `Internet Systems Consortium DHCP Client 4.4.3-P1
Copyright 2004-2022 Internet Systems Consortium.
All rights reserved.
For info, please visit https://www.isc.org/software/dhcp/

Failed to get interface index: No such device

If you think you have received this message due to a bug rather
than a configuration issue please read the section on submitting
bugs on either our web page at www.isc.org or in the README file
before submitting a bug.  These pages explain the proper
process and the information we find helpful for debugging.

exiting.
`;

function lease(body: string): string {
  return `lease {\n${body}}\n`;
}

describe("parseDhclientLease()", () => {
  test("reads the address with its prefix, router, server and lease time of a real lease", () => {
    assert.deepEqual(parseDhclientLease(DNSMASQ_LEASE), {
      address: "10.79.0.52/24",
      router: "10.79.0.1",
      server: "10.79.0.1",
      leaseSeconds: 3600,
    });
  });

  test("takes the last complete lease block and ignores one still being written", () => {
    const text = `default-duid "\\000\\001\\000\\001";\n` +
      lease("  fixed-address 10.0.0.5;\n  option subnet-mask 255.255.0.0;\n") +
      lease("  fixed-address 10.0.0.6;\n  option subnet-mask 255.255.255.128;\n") +
      "lease {\n  fixed-address 10.0.0.7;\n  option subnet-mask 255.0.0.0;\n";
    assert.deepEqual(parseDhclientLease(text), { address: "10.0.0.6/25" });
  });

  test("converts subnet masks to prefix lengths", () => {
    const cases: [string, number][] = [
      ["0.0.0.0", 0],
      ["128.0.0.0", 1],
      ["255.0.0.0", 8],
      ["255.255.0.0", 16],
      ["255.255.254.0", 23],
      ["255.255.255.0", 24],
      ["255.255.255.252", 30],
      ["255.255.255.255", 32],
    ];
    for (const [mask, prefix] of cases) {
      const text = lease(`  fixed-address 172.16.1.2;\n  option subnet-mask ${mask};\n`);
      assert.equal(parseDhclientLease(text)?.address, `172.16.1.2/${prefix}`, mask);
    }
  });

  test("gives /32 to a lease without a subnet mask, as dhclient-script does", () => {
    assert.deepEqual(parseDhclientLease(lease("  fixed-address 192.0.2.9;\n")), { address: "192.0.2.9/32" });
  });

  test("returns undefined while there is no complete lease block", () => {
    for (
      const text of [
        "",
        `default-duid "\\000\\001";\n`,
        'lease {\n  interface "tap0";\n  fixed-address 10.0.0.7;\n',
        'lease {\n  fixed-address 10.0.0.7;\n  option domain-name "lab',
        'lease6 {\n  interface "tap0";\n  ia-na 1a:2b:3c:4d {\n    starts 1;\n  }\n}\n',
      ]
    ) {
      assert.equal(parseDhclientLease(text), undefined, JSON.stringify(text));
    }
  });

  test("reads past quoted braces and semicolons and comments; takes the first router", () => {
    const text = "# written by dhclient\n" + lease(
      '  interface "tap0";\n  option domain-name "a;b}c {d\\"";\n  fixed-address 10.1.2.3; # ours\n' +
        "  option routers 10.1.2.1,10.1.2.254;\n  option dhcp-lease-time 4294967295;\n" +
        "  option vendor-encapsulated-options 1:2:3;\n  expire never;\n",
    );
    assert.deepEqual(parseDhclientLease(text), {
      address: "10.1.2.3/32",
      router: "10.1.2.1",
      leaseSeconds: 4294967295,
    });
  });

  test("throws SyntaxError for a lease without a fixed-address or with bad values", () => {
    const cases: [string, string][] = [
      ["  option subnet-mask 255.255.255.0;\n", "the lease has no 'fixed-address'"],
      ["  fixed-address 10.0.0.256;\n", `the lease has a bad 'fixed-address': current value is "10.0.0.256"`],
      [
        "  fixed-address 10.0.0.7;\n  option subnet-mask 255.0.255.0;\n",
        `the lease has a bad 'subnet-mask': current value is "255.0.255.0"`,
      ],
      [
        "  fixed-address 10.0.0.7;\n  option routers gateway;\n",
        `the lease has a bad 'routers': current value is "gateway"`,
      ],
      [
        "  fixed-address 10.0.0.7;\n  option dhcp-server-identifier 10.0.0;\n",
        `the lease has a bad 'dhcp-server-identifier': current value is "10.0.0"`,
      ],
      [
        "  fixed-address 10.0.0.7;\n  option dhcp-lease-time -1;\n",
        `the lease has a bad 'dhcp-lease-time': current value is "-1"`,
      ],
    ];
    for (const [body, detail] of cases) {
      assert.throws(() => parseDhclientLease(lease(body)), {
        name: "SyntaxError",
        message: `Cannot read dhclient lease: ${detail}`,
      });
    }
  });
});

/** What a fake dhclient saw and did. */
interface FakeLog {
  argv: readonly string[];
  options: RunOptions | undefined;
  /** Whether dhcpLease stopped it through the abort signal. */
  aborted: boolean;
  /** Whether the lease file existed when it started. */
  leaseFileAtStart: boolean;
}

interface FakeDhclient {
  /** Written to the -lf file when the fake starts. */
  lease?: string;
  stderr?: string;
  /** Exit at once with this code instead of running until stopped. */
  exit?: number;
}

/** The value of an argv option (`-lf FILE`). */
function optionValue(argv: readonly string[], flag: string): string {
  const i = argv.indexOf(flag);
  assert.ok(i >= 0 && i + 1 < argv.length, `${flag} in ${argv.join(" ")}`);
  return argv[i + 1]!;
}

/**
 * A fake dhclient registered as `program`: it writes `lease` to its lease file, then runs until the
 * abort signal stops it (or 5 s pass: a run dhcpLease failed to stop reports a timeout).
 */
function fakeDhclient(program: string, behaviour: FakeDhclient = {}): { runner: FakeRunner; log: FakeLog } {
  const log: FakeLog = { argv: [], options: undefined, aborted: false, leaseFileAtStart: false };
  const runner = new FakeRunner().on(program, (argv, options) => {
    log.argv = argv;
    log.options = options;
    const leaseFile = optionValue(argv, "-lf");
    log.leaseFileAtStart = existsSync(leaseFile);
    const stderr = behaviour.stderr ?? "";
    if (behaviour.lease !== undefined) writeFileSync(leaseFile, behaviour.lease);
    if (behaviour.exit !== undefined) return { code: behaviour.exit, stderr };
    return new Promise<Partial<RunResult>>((resolve) => {
      const timer = setTimeout(() => resolve({ code: 124, timedOut: true, stderr }), 5000);
      options.signal?.addEventListener("abort", () => {
        clearTimeout(timer);
        log.aborted = true;
        resolve({ code: 143, aborted: true, signal: "SIGTERM", stderr });
      }, { once: true });
    });
  });
  return { runner, log };
}

async function dhcpError(promise: Promise<unknown>): Promise<DhcpError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof DhcpError, `expected a DhcpError, got ${error}`);
    return error;
  }
  assert.fail("expected a DhcpError");
}

const DHCLIENT_FLAGS = ["-4", "-d", "-1", "-sf", "/bin/true"];

describe("dhcpLease()", () => {
  test("runs dhclient in the foreground without a script, returns its lease and stops it", async () => {
    const { runner, log } = fakeDhclient("dhclient", { lease: DNSMASQ_LEASE });
    const got = await dhcpLease("mega_tap0", { exec: createExec({ runner }) });
    assert.deepEqual(got, {
      address: "10.79.0.52/24",
      router: "10.79.0.1",
      server: "10.79.0.1",
      leaseSeconds: 3600,
    });
    const dir = path.dirname(optionValue(log.argv, "-lf"));
    assert.ok(dir.startsWith(path.join(os.tmpdir(), "labwire-dhcp-")), dir);
    const base = path.join(dir, "dhclient.mega_tap0");
    assert.deepEqual(log.argv, [
      "dhclient",
      ...DHCLIENT_FLAGS,
      "-cf",
      `${base}.conf`,
      "-lf",
      `${base}.leases`,
      "-pf",
      `${base}.pid`,
      "mega_tap0",
    ]);
    assert.equal(log.aborted, true, "dhclient stopped through the abort signal");
    assert.equal(existsSync(dir), false, "temp folder removed");
    assert.deepEqual(runner.calls, [log.argv]);
  });

  test("runs dhclient through `ip netns exec` for a namespace, with the namespace in its file names", async () => {
    const { runner, log } = fakeDhclient("ip", { lease: lease("  fixed-address 10.5.0.9;\n") });
    const leaseDir = mkdtempSync(path.join(os.tmpdir(), "labwire-dhcp-test-"));
    try {
      const got = await dhcpLease("eth0", { exec: createExec({ runner }), namespace: "lab-vm1", leaseDir });
      assert.deepEqual(got, { address: "10.5.0.9/32" });
      const base = path.join(leaseDir, "dhclient.eth0:lab-vm1");
      assert.deepEqual(log.argv, [
        "ip",
        "netns",
        "exec",
        "lab-vm1",
        "dhclient",
        ...DHCLIENT_FLAGS,
        "-cf",
        `${base}.conf`,
        "-lf",
        `${base}.leases`,
        "-pf",
        `${base}.pid`,
        "eth0",
      ]);
      assert.equal(log.aborted, true);
    } finally {
      rmSync(leaseDir, { recursive: true, force: true });
    }
  });

  test("keeps a given leaseDir, creating it, and removes an earlier run's lease and PID files first", async () => {
    const parent = mkdtempSync(path.join(os.tmpdir(), "labwire-dhcp-test-"));
    try {
      const leaseDir = path.join(parent, "a", "b");
      const { runner, log } = fakeDhclient("dhclient", { lease: lease("  fixed-address 10.0.0.8;\n") });
      const exec = createExec({ runner });
      assert.deepEqual(await dhcpLease("tap1", { exec, leaseDir, timeoutMs: 2500 }), {
        address: "10.0.0.8/32",
      });
      assert.equal(log.leaseFileAtStart, false);
      const base = path.join(leaseDir, "dhclient.tap1");
      assert.equal(
        readFileSync(`${base}.conf`, "utf8"),
        "# Written by labwire's dhcpLease(): dhclient -cf\ntimeout 8;\ninitial-interval 1;\nbackoff-cutoff 2;\n",
      );
      assert.equal(readFileSync(`${base}.leases`, "utf8"), lease("  fixed-address 10.0.0.8;\n"));

      writeFileSync(`${base}.pid`, "12345\n");
      const second = fakeDhclient("dhclient", { lease: lease("  fixed-address 10.0.0.9;\n") });
      const got = await dhcpLease("tap1", { exec: createExec({ runner: second.runner }), leaseDir });
      assert.deepEqual(got, { address: "10.0.0.9/32" });
      assert.equal(second.log.leaseFileAtStart, false, "the first run's lease was removed");
      assert.equal(existsSync(`${base}.pid`), false, "the stale PID file was removed");
      assert.match(readFileSync(`${base}.conf`, "utf8"), /^timeout 15;$/m, "default timeout 10 s + 5 s");
      assert.equal(DEFAULT_DHCP_TIMEOUT_MS, 10_000);
    } finally {
      rmSync(parent, { recursive: true, force: true });
    }
  });

  test("throws 'dhclient is not installed' when dhclient is missing, and removes its temp folder", async () => {
    const runner = new FakeRunner();
    const error = await dhcpError(dhcpLease("mega_tap0", { exec: createExec({ runner }) }));
    assert.equal(
      error.message,
      "Cannot get an address by DHCP for mega_tap0: dhclient is not installed (apt-get install isc-dhcp-client)",
    );
    assert.equal(error.kind, "not-installed");
    assert.equal(error.iface, "mega_tap0");
    assert.equal(runner.calls.length, 1);
    assert.equal(
      existsSync(path.dirname(optionValue(runner.calls[0]!, "-lf"))),
      false,
      "temp folder removed",
    );
  });

  test("throws 'dhclient is not installed' when `ip netns exec` cannot find it", async () => {
    const { runner } = fakeDhclient("ip", {
      exit: 1,
      stderr: 'exec of "dhclient" failed: No such file or directory\n',
    });
    const error = await dhcpError(dhcpLease("eth0", { exec: createExec({ runner }), namespace: "vm1" }));
    assert.equal(
      error.message,
      "Cannot get an address by DHCP for eth0: dhclient is not installed (apt-get install isc-dhcp-client)",
    );
    assert.equal(error.namespace, "vm1");
  });

  test("throws 'ip is not installed' when ip is missing for a namespace", async () => {
    const runner = new FakeRunner();
    const error = await dhcpError(dhcpLease("eth0", { exec: createExec({ runner }), namespace: "vm1" }));
    assert.equal(
      error.message,
      "Cannot get an address by DHCP for eth0: ip is not installed (apt-get install iproute2)",
    );
  });

  test("throws the timeout error when no lease comes, after stopping dhclient", async () => {
    const stderr = "DHCPDISCOVER on mega_tap0 to 255.255.255.255 port 67 interval 1\n";
    const { runner, log } = fakeDhclient("dhclient", { stderr });
    const started = Date.now();
    const error = await dhcpError(dhcpLease("mega_tap0", { exec: createExec({ runner }), timeoutMs: 300 }));
    const elapsed = Date.now() - started;
    assert.equal(
      error.message,
      "Cannot get an address by DHCP for mega_tap0: no DHCP server answered within 0.3 s",
    );
    assert.equal(error.kind, "timeout");
    assert.equal(error.stderr, stderr);
    assert.equal(log.aborted, true, "dhclient stopped through the abort signal");
    assert.ok(elapsed >= 300 && elapsed < 4000, `${elapsed} ms`);
    assert.equal(existsSync(path.dirname(optionValue(log.argv, "-lf"))), false, "temp folder removed");
  });

  test("says the interface is down when dhclient could not send", async () => {
    const { runner, log } = fakeDhclient("dhclient", {
      stderr: "DHCPDISCOVER on tap0 to 255.255.255.255 port 67 interval 1\nsend_packet: Network is down\n" +
        "dhclient.c:2600: Failed to send 300 byte long packet over tap0 interface.\n",
    });
    const error = await dhcpError(dhcpLease("tap0", { exec: createExec({ runner }), timeoutMs: 200 }));
    assert.equal(error.message, "Cannot get an address by DHCP for tap0: the interface is down");
    assert.equal(error.kind, "timeout");
    assert.equal(log.aborted, true);
  });

  test("throws with dhclient's exit code and the useful end of its stderr when it exits", async () => {
    const { runner } = fakeDhclient("dhclient", { exit: 1, stderr: NO_SUCH_DEVICE });
    const error = await dhcpError(dhcpLease("nosuch0", { exec: createExec({ runner }) }));
    assert.equal(
      error.message,
      "Cannot get an address by DHCP for nosuch0: dhclient exited with code 1\n\n" +
        "Failed to get interface index: No such device\nexiting.",
    );
    assert.equal(error.kind, "failed");
    assert.equal(error.stderr, NO_SUCH_DEVICE);
  });

  test("says dhclient cannot write its lease file instead of blaming the server", async () => {
    const stderr = "can't create /var/lib/x/dhclient.tap0.leases: Permission denied\n" +
      "DHCPACK of 10.0.0.7 from 10.0.0.1\n" +
      "can't create /var/lib/x/dhclient.tap0.leases: Permission denied\n" +
      "bound to 10.0.0.7 -- renewal in 1500 seconds.\n";
    const { runner, log } = fakeDhclient("dhclient", { stderr });
    const error = await dhcpError(dhcpLease("tap0", { exec: createExec({ runner }), timeoutMs: 200 }));
    assert.equal(
      error.message,
      `Cannot get an address by DHCP for tap0: dhclient cannot write its lease file\n\n${stderr.trimEnd()}`,
    );
    assert.equal(error.kind, "failed");
    assert.equal(log.aborted, true);
  });

  test("throws for a lease it cannot read, after stopping dhclient", async () => {
    const { runner, log } = fakeDhclient("dhclient", { lease: lease("  option subnet-mask 255.0.0.0;\n") });
    const error = await dhcpError(dhcpLease("tap0", { exec: createExec({ runner }) }));
    assert.equal(error.message, "Cannot get an address by DHCP for tap0: the lease has no 'fixed-address'");
    assert.equal(error.kind, "failed");
    assert.equal(log.aborted, true);
  });

  test("rejects bad interface names, namespaces and timeouts before running anything", async () => {
    const runner = new FakeRunner();
    const exec = createExec({ runner });
    for (const iface of ["", "../etc", "-r", "a:b", "a b", "sixteen-chars-xx"]) {
      await assert.rejects(dhcpLease(iface, { exec }), {
        name: "TypeError",
        message:
          `Cannot get an address by DHCP as 'iface' must be an interface name (1-15 bytes, no '/', ':' or blanks, no leading '-'): current value is "${iface}"`,
      });
    }
    for (const namespace of ["", "a/b", ".."]) {
      await assert.rejects(dhcpLease("tap0", { exec, namespace }), {
        name: "TypeError",
        message:
          `Cannot get an address by DHCP as 'namespace' must be a namespace name (no '/', no leading '-'): current value is "${namespace}"`,
      });
    }
    for (const timeoutMs of [0, -1, Infinity, NaN]) {
      await assert.rejects(dhcpLease("tap0", { exec, timeoutMs }), {
        name: "RangeError",
        message:
          `Cannot get an address by DHCP as 'timeoutMs' must be a positive finite number: current value is ${timeoutMs}`,
      });
    }
    assert.deepEqual(runner.calls, []);
  });
});
