/**
 * lib/real/dhcp.ts on the real kernel: ISC dhclient against dnsmasq in a network namespace. Needs root, ip,
 * dhclient (isc-dhcp-client) and dnsmasq (dnsmasq-base): skipped with the reason otherwise, failed
 * instead when CI or LABWIRE_REQUIRE_REAL=1 is set.
 *
 * Namespace `lwdhcp<pid>-srv` runs dnsmasq (no DNS, bound to its two veth ends only); the host end
 * `lwd<pid>a` and the end `lwd<pid>c` in namespace `lwdhcp<pid>-cli` get their leases from it.
 * Namespace `lwdhcp<pid>-none` has veth pairs with no server. Traffic stays between the interfaces
 * made here; dnsmasq is stopped by its abort signal and checked gone by PID, every dhclient is checked
 * gone by the PID it wrote, and everything made is removed in after().
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import process from "node:process";
import { createExec, type RunResult } from "../lib/exec.ts";
import { DhcpError, dhcpLease } from "../lib/real/dhcp.ts";
import { isAlive, missingFor, skipUnless } from "./_fixtures/real.ts";

const PROGRAMS = ["ip", "dhclient", "dnsmasq"];
const skip = skipUnless("dhcp_real.test.ts", PROGRAMS);

const id = process.pid;
const SRV = `lwdhcp${id}-srv`;
const CLI = `lwdhcp${id}-cli`;
const NONE = `lwdhcp${id}-none`;
const HOST_END = `lwd${id}a`; // host; peer lwd<id>b in SRV, 10.79.0.1/24
const CLI_END = `lwd${id}c`; // in CLI; peer lwd<id>d in SRV, 10.80.0.1/24
const SILENT = `lwd${id}e`; // in NONE, up; peer lwd<id>f in NONE, up, no server
const DOWN = `lwd${id}g`; // in NONE, down; peer lwd<id>h in NONE
/** Each test gets at most this long (Bun's default is 5 s). */
const SLOW = { timeout: 30_000 };

/** PIDs of the processes whose command line mentions `text` (a folder only this file uses). */
function processesMentioning(text: string): number[] {
  const found: number[] = [];
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (fs.readFileSync(`/proc/${entry}/cmdline`, "utf8").includes(text)) found.push(Number(entry));
    } catch {
      // it exited meanwhile
    }
  }
  return found;
}

function readPid(file: string): number {
  const pid = Number(fs.readFileSync(file, "utf8").trim());
  assert.ok(Number.isInteger(pid) && pid > 1, `a PID in ${file}`);
  return pid;
}

describe("dhcpLease() on the real kernel, against dnsmasq", { skip, timeout: 120_000 }, () => {
  const exec = createExec();
  let tmp = ""; // made in before(): a skipped describe() may still run this body
  let dnsmasqPidFile = "";
  let dnsmasqLeases = "";
  const stopDnsmasq = new AbortController();
  let dnsmasq: Promise<RunResult | Error> | undefined;
  let dnsmasqPid = 0;

  function inNs(ns: string, ...argv: string[]) {
    return exec("ip").args("netns", "exec", ns, ...argv);
  }

  /** A fresh folder for one run's dhclient files. */
  function leaseDir(name: string): string {
    return path.join(tmp, name);
  }

  before(async () => {
    assert.equal(missingFor(PROGRAMS), undefined, `required but missing: ${missingFor(PROGRAMS)}`);
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "labwire-dhcp-real-"));
    dnsmasqPidFile = path.join(tmp, "dnsmasq.pid");
    dnsmasqLeases = path.join(tmp, "dnsmasq.leases");
    for (const ns of [SRV, CLI, NONE]) {
      await exec("ip").args("netns", "add", ns).run();
      await inNs(ns, "ip", "link", "set", "lo", "up").run();
    }
    await exec("ip").args("link", "add", HOST_END, "type", "veth", "peer", "name", `lwd${id}b`, "netns", SRV)
      .run();
    await exec("ip").args("-n", CLI, "link", "add", CLI_END, "type", "veth", "peer", "name", `lwd${id}d`)
      .run();
    await exec("ip").args("-n", CLI, "link", "set", `lwd${id}d`, "netns", SRV).run();
    await exec("ip").args("-n", SRV, "addr", "add", "10.79.0.1/24", "dev", `lwd${id}b`).run();
    await exec("ip").args("-n", SRV, "addr", "add", "10.80.0.1/24", "dev", `lwd${id}d`).run();
    for (const dev of [`lwd${id}b`, `lwd${id}d`]) {
      await exec("ip").args("-n", SRV, "link", "set", dev, "up").run();
    }
    await exec("ip").args("link", "set", HOST_END, "up").run();
    await exec("ip").args("-n", CLI, "link", "set", CLI_END, "up").run();
    await exec("ip").args("-n", NONE, "link", "add", SILENT, "type", "veth", "peer", "name", `lwd${id}f`)
      .run();
    await exec("ip").args("-n", NONE, "link", "add", DOWN, "type", "veth", "peer", "name", `lwd${id}h`).run();
    for (const dev of [SILENT, `lwd${id}f`]) {
      await exec("ip").args("-n", NONE, "link", "set", dev, "up").run();
    }

    dnsmasq = inNs(
      SRV,
      "dnsmasq",
      "--keep-in-foreground",
      "--log-facility=-",
      "--conf-file=/dev/null",
      "--port=0",
      "--no-resolv",
      "--no-hosts",
      "--bind-interfaces",
      `--interface=lwd${id}b`,
      `--interface=lwd${id}d`,
      "--dhcp-range=10.79.0.50,10.79.0.60,255.255.255.0,1h",
      "--dhcp-range=10.80.0.50,10.80.0.60,255.255.255.0,1h",
      `--dhcp-leasefile=${dnsmasqLeases}`,
      `--pid-file=${dnsmasqPidFile}`,
      "--log-dhcp",
      "--no-ping", // dnsmasq otherwise pings a new address for 3 s before offering it
    ).signal(stopDnsmasq.signal).timeout(300_000).noThrow().run().catch((error: Error) => error);
    // dnsmasq writes its PID file once its DHCP sockets are bound
    const deadline = Date.now() + 10_000;
    let early: RunResult | Error | undefined;
    void dnsmasq.then((r) => (early = r));
    while (!fs.existsSync(dnsmasqPidFile) || fs.readFileSync(dnsmasqPidFile, "utf8").trim() === "") {
      assert.equal(early, undefined, `dnsmasq ended early: ${JSON.stringify(early)}`);
      assert.ok(Date.now() < deadline, "dnsmasq wrote no PID file within 10 s");
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    dnsmasqPid = readPid(dnsmasqPidFile);
  });

  after(async () => {
    const errors: unknown[] = [];
    async function step(f: () => Promise<unknown>): Promise<void> {
      try {
        await f();
      } catch (error) {
        errors.push(error);
      }
    }
    stopDnsmasq.abort();
    if (dnsmasq !== undefined) {
      const r = await dnsmasq;
      if (r instanceof Error) errors.push(r);
      else if (r.aborted !== true) errors.push(new Error(`dnsmasq ended by itself (${r.code}): ${r.stderr}`));
    }
    if (dnsmasqPid !== 0 && isAlive(dnsmasqPid)) errors.push(new Error(`dnsmasq ${dnsmasqPid} still runs`));
    await step(() => exec("ip").args("link", "delete", HOST_END).noThrow().run());
    for (const ns of [SRV, CLI, NONE]) {
      await step(() => exec("ip").args("netns", "delete", ns).noThrow().run());
    }
    if (tmp !== "") fs.rmSync(tmp, { recursive: true, force: true });
    await step(async () => {
      const namespaces = await exec("ip").args("netns", "list").text();
      assert.doesNotMatch(namespaces, new RegExp(`lwdhcp${id}-`), "namespaces removed");
      const links = await exec("ip").args("-o", "link", "show").text();
      assert.doesNotMatch(links, new RegExp(`lwd${id}[a-h]`), "links removed");
    });
    if (errors.length > 0) {
      throw new AggregateError(errors, `dhcp_real cleanup: ${errors.length} step(s) failed`);
    }
  });

  test(
    "dhcpLease() gets a dnsmasq lease for a host interface, changes nothing, leaves no dhclient",
    SLOW,
    async () => {
      const resolvConf = fs.readFileSync("/etc/resolv.conf", "utf8");
      const dir = leaseDir("host");
      const started = Date.now();
      const lease = await dhcpLease(HOST_END, { exec, leaseDir: dir });
      const elapsed = Date.now() - started;
      const m = /^10\.79\.0\.(\d+)\/24$/.exec(lease.address);
      assert.ok(m !== null && Number(m[1]) >= 50 && Number(m[1]) <= 60, lease.address);
      assert.deepEqual(lease, {
        address: lease.address,
        router: "10.79.0.1",
        server: "10.79.0.1",
        leaseSeconds: 3600,
      });
      assert.ok(elapsed < 5000, `returned on the lease, not at the 10 s timeout: ${elapsed} ms`);
      assert.match(fs.readFileSync(dnsmasqLeases, "utf8"), new RegExp(` ${lease.address.split("/")[0]} `));

      const pid = readPid(path.join(dir, `dhclient.${HOST_END}.pid`));
      assert.equal(isAlive(pid), false, `dhclient ${pid} still runs`);
      assert.deepEqual(processesMentioning(dir), []);
      assert.equal(
        await exec("ip").args("-4", "-o", "addr", "show", "dev", HOST_END).text(),
        "",
        "no address",
      );
      assert.equal(await exec("ip").args("-4", "route", "show", "dev", HOST_END).text(), "", "no route");
      assert.equal(fs.readFileSync("/etc/resolv.conf", "utf8"), resolvConf, "resolv.conf untouched");
    },
  );

  test("dhcpLease() gets a lease inside a namespace and leaves no dhclient", SLOW, async () => {
    const dir = leaseDir("cli");
    const lease = await dhcpLease(CLI_END, { exec, namespace: CLI, leaseDir: dir });
    assert.match(lease.address, /^10\.80\.0\.(5\d|60)\/24$/);
    assert.equal(lease.router, "10.80.0.1");
    assert.equal(lease.server, "10.80.0.1");
    const pid = readPid(path.join(dir, `dhclient.${CLI_END}:${CLI}.pid`));
    assert.equal(isAlive(pid), false, `dhclient ${pid} still runs`);
    assert.deepEqual(processesMentioning(dir), []);
    assert.equal(await exec("ip").args("-n", CLI, "-4", "-o", "addr", "show", "dev", CLI_END).text(), "");
  });

  test(
    "dhcpLease() throws the timeout error after timeoutMs when no server answers, and stops dhclient",
    SLOW,
    async () => {
      const dir = leaseDir("none");
      const started = Date.now();
      const error = await dhcpLease(SILENT, { exec, namespace: NONE, timeoutMs: 3000, leaseDir: dir }).then(
        () => assert.fail("expected no lease"),
        (e: unknown) => e,
      );
      const elapsed = Date.now() - started;
      assert.ok(error instanceof DhcpError, String(error));
      assert.equal(
        error.message,
        `Cannot get an address by DHCP for ${SILENT}: no DHCP server answered within 3 s`,
      );
      assert.match(error.stderr, /DHCPDISCOVER on lwd\d+e to 255\.255\.255\.255 port 67/);
      assert.ok(elapsed >= 3000 && elapsed < 5000, `${elapsed} ms`);
      const pid = readPid(path.join(dir, `dhclient.${SILENT}:${NONE}.pid`));
      assert.equal(isAlive(pid), false, `dhclient ${pid} still runs`);
      assert.deepEqual(processesMentioning(dir), []);
    },
  );

  test("dhcpLease() says the interface is down", SLOW, async () => {
    const dir = leaseDir("down");
    await assert.rejects(dhcpLease(DOWN, { exec, namespace: NONE, timeoutMs: 1500, leaseDir: dir }), {
      name: "DhcpError",
      message: `Cannot get an address by DHCP for ${DOWN}: the interface is down`,
    });
    assert.equal(isAlive(readPid(path.join(dir, `dhclient.${DOWN}:${NONE}.pid`))), false);
    assert.deepEqual(processesMentioning(dir), []);
  });

  test("dhcpLease() reports dhclient's error for a missing interface at once", SLOW, async () => {
    const dir = leaseDir("missing");
    const started = Date.now();
    await assert.rejects(dhcpLease(`lwd${id}z`, { exec, leaseDir: dir }), {
      name: "DhcpError",
      message: `Cannot get an address by DHCP for lwd${id}z: dhclient exited with code 1\n\n` +
        "Failed to get interface index: No such device\nexiting.",
    });
    assert.ok(Date.now() - started < 2000);
    assert.deepEqual(processesMentioning(dir), []);
  });
});
