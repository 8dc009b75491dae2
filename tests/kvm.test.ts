/**
 * Kvm without QEMU: detached VMs (`-daemonize`) through a FakeRunner whose "QEMU" writes its PID file and
 * answers QMP on its socket, a fake proc folder saying which PID runs which command line, the run folder of
 * a lab kept in a state file, and how OvsBackend and LabRunner use them. Fake PIDs start at 4194304
 * (Linux's PID_MAX_LIMIT, never a real PID), so a SIGKILL by PID can reach no process.
 */
import { afterEach, beforeEach, describe, test } from "node:test";
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import process from "node:process";
import type { VmSpec } from "../lib/backend/vms.ts";
import { createExec, FakeRunner } from "../lib/exec.ts";
import { Kvm, KvmError, kvmRunDir } from "../lib/real/kvm.ts";
import { OvsBackend } from "../lib/real/ovs_backend.ts";
import { Lab } from "../lib/api/lab.ts";
import { LabModel } from "../lib/lab/model.ts";
import { RecordingBackend } from "../lib/testing/recording_backend.ts";

/** A PID no process has: Linux PIDs stay below PID_MAX_LIMIT. */
const NO_PID = 4194304;

/** A fake host: QEMU, the proc folder, the QMP servers of the VMs it "runs". */
class FakeHost {
  readonly dir: string;
  readonly proc: string;
  readonly runDir: string;
  readonly runner = new FakeRunner();
  /** QMP commands each VM received, by socket. */
  readonly qmp = new Map<string, string[]>();
  readonly #servers = new Set<net.Server>();
  #nextPid = NO_PID + 1;

  constructor() {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), "lwkvm-"));
    this.proc = path.join(this.dir, "proc");
    this.runDir = path.join(this.dir, "run");
    fs.mkdirSync(this.proc);
    // QEMU -daemonize: the detached "QEMU" gets a PID, writes its PID file, listens on QMP, then its
    // first process exits 0
    this.runner.on("qemu-system-x86_64", async (argv) => {
      const pid = this.#nextPid++;
      const arg = (flag: string) => argv[argv.indexOf(flag) + 1]!;
      const socket = /^unix:([^,]+),/.exec(arg("-qmp"))![1]!;
      this.setProcess(pid, argv);
      fs.writeFileSync(arg("-pidfile"), `${pid}\n`);
      await this.listen(socket, pid);
      return {};
    });
  }

  /** Says that `pid` runs `argv` (`[]`: a zombie, no command line). */
  setProcess(pid: number, argv: readonly string[]): void {
    fs.mkdirSync(path.join(this.proc, String(pid)), { recursive: true });
    fs.writeFileSync(path.join(this.proc, String(pid), "cmdline"), argv.map((a) => `${a}\0`).join(""));
  }

  /** Ends `pid`: its proc entry goes. */
  endProcess(pid: number): void {
    fs.rmSync(path.join(this.proc, String(pid)), { recursive: true, force: true });
  }

  /** A QMP server on `socket`: `quit` ends `pid`; `query-status` says `prelaunch`, then `running` after `cont`. */
  listen(socket: string, pid: number): Promise<void> {
    const log: string[] = [];
    this.qmp.set(socket, log);
    let status = "prelaunch";
    const server = net.createServer((conn) => {
      conn.setEncoding("utf8");
      conn.write(`${JSON.stringify({ QMP: { version: {}, capabilities: [] } })}\n`);
      let buffer = "";
      conn.on("data", (chunk: string) => {
        buffer += chunk;
        let nl: number;
        while ((nl = buffer.indexOf("\n")) >= 0) {
          const { execute } = JSON.parse(buffer.slice(0, nl)) as { execute: string };
          buffer = buffer.slice(nl + 1);
          if (execute !== "qmp_capabilities") log.push(execute);
          if (execute === "cont") status = "running";
          if (execute === "stop") status = "paused";
          const reply = execute === "query-status" ? { status } : {};
          conn.write(`${JSON.stringify({ return: reply })}\n`);
          if (execute === "quit") {
            this.endProcess(pid);
            conn.end();
            server.close();
            this.#servers.delete(server);
          }
        }
      });
    });
    this.#servers.add(server);
    return new Promise((resolve) => server.listen(socket, resolve));
  }

  kvm(options: { detach?: boolean; qemu?: string } = {}): Kvm {
    return new Kvm({
      exec: createExec({ runner: this.runner }),
      runDir: this.runDir,
      procDir: this.proc,
      detach: options.detach ?? true,
      ...(options.qemu === undefined ? {} : { qemu: options.qemu }),
    });
  }

  async close(): Promise<void> {
    for (const server of this.#servers) await new Promise((resolve) => server.close(resolve));
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

const LAUNCH = { name: "minimega-web", memory: 256, nics: [], kvm: false } as const;

describe("Kvm detached", () => {
  let host: FakeHost;
  beforeEach(() => {
    host = new FakeHost();
  });
  afterEach(async () => {
    await host.close();
  });

  test("launch() runs QEMU -daemonize with -display none and its files in <runDir>/<name>/", async () => {
    const vm = await host.kvm().launch(LAUNCH);
    const argv = host.runner.calls[0]!;
    const dir = path.join(host.runDir, "minimega-web");
    assert.deepEqual(argv.slice(0, 19), [
      "qemu-system-x86_64",
      "-name",
      "minimega-web",
      "-accel",
      "tcg",
      "-m",
      "256",
      "-smp",
      "1",
      "-display",
      "none",
      "-nodefaults",
      "-no-user-config",
      "-net",
      "none",
      "-S",
      "-daemonize",
      "-pidfile",
      path.join(dir, "qemu.pid"),
    ]);
    assert.ok(!argv.includes("-nographic"), "QEMU refuses -nographic with -daemonize");
    assert.deepEqual(argv.slice(19, 23), [
      "-qmp",
      `unix:${path.join(dir, "qmp.sock")},server=on,wait=off`,
      "-serial",
      `file:${path.join(dir, "serial.log")}`,
    ]);
    assert.deepEqual(vm, {
      name: "minimega-web",
      pid: NO_PID + 1,
      dir,
      qmp: path.join(dir, "qmp.sock"),
      serial: path.join(dir, "serial.log"),
      pidfile: path.join(dir, "qemu.pid"),
      detached: true,
    });
  });

  test("a later Kvm on the same runDir attaches by name, starts, stops and kills the VM", async () => {
    const vm = await host.kvm().launch(LAUNCH);
    const later = host.kvm(); // another process
    assert.equal(later.get("minimega-web"), undefined);
    assert.deepEqual(await later.attach("minimega-web"), vm);
    await later.start("minimega-web");
    assert.equal(await later.status("minimega-web"), "running");
    const third = host.kvm();
    await third.stop("minimega-web"); // attaches by itself
    assert.equal(await third.status("minimega-web"), "paused");
    await host.kvm().kill("minimega-web");
    assert.deepEqual(host.qmp.get(vm.qmp), ["cont", "query-status", "stop", "query-status", "quit"]);
    assert.equal(fs.existsSync(path.join(host.proc, String(vm.pid))), false);
    assert.equal(fs.existsSync(host.runDir), false, "the VM's folder and the emptied run folder are gone");
  });

  test("attach() refuses a dead PID", async () => {
    const vm = await host.kvm().launch(LAUNCH);
    host.endProcess(vm.pid);
    await assert.rejects(host.kvm().attach("minimega-web"), {
      name: "KvmError",
      message: `Cannot attach to KVM VM minimega-web: its QEMU (PID ${vm.pid}) is not running`,
    });
    await assert.rejects(host.kvm().start("minimega-web"), {
      message: `Cannot start KVM VM minimega-web: its QEMU (PID ${vm.pid}) is not running`,
    });
  });

  test("attach() refuses a PID that is not that VM's QEMU: another program, a zombie, a namesake", async () => {
    const vm = await host.kvm().launch(LAUNCH);
    const refused = {
      message: `Cannot attach to KVM VM minimega-web: its QEMU (PID ${vm.pid}) is not running`,
    };
    host.setProcess(vm.pid, ["sleep", "100"]); // the PID was reused
    await assert.rejects(host.kvm().attach("minimega-web"), refused);
    host.setProcess(vm.pid, []); // a zombie has no command line
    await assert.rejects(host.kvm().attach("minimega-web"), refused);
    // a QEMU of a VM with the same name, in another lab's run folder
    host.setProcess(vm.pid, [
      "qemu-system-x86_64",
      "-name",
      "minimega-web",
      "-pidfile",
      "/tmp/other/qemu.pid",
    ]);
    await assert.rejects(host.kvm().attach("minimega-web"), refused);
  });

  test("attach() refuses a live PID that is another program, by the real /proc", async () => {
    const vm = await host.kvm().launch(LAUNCH);
    fs.writeFileSync(vm.pidfile, `${process.pid}\n`); // this test runner: alive, not a QEMU
    const real = new Kvm({ exec: createExec({ runner: host.runner }), runDir: host.runDir, detach: true });
    await assert.rejects(real.attach("minimega-web"), {
      message: `Cannot attach to KVM VM minimega-web: its QEMU (PID ${process.pid}) is not running`,
    });
  });

  test("attach() without a PID file, or without QMP answering, says so", async () => {
    await assert.rejects(host.kvm().attach("minimega-db"), {
      message: `Cannot attach to KVM VM minimega-db: its QEMU is not running (no PID file ${
        path.join(host.runDir, "minimega-db", "qemu.pid")
      })`,
    });
    const vm = await host.kvm().launch(LAUNCH);
    fs.rmSync(vm.qmp);
    await assert.rejects(host.kvm().attach("minimega-web"), (error: KvmError) => {
      assert.match(
        error.message,
        new RegExp(
          `^Cannot attach to KVM VM minimega-web: its QEMU \\(PID ${vm.pid}\\) does not answer on QMP: `,
        ),
      );
      return true;
    });
  });

  test("kill() of a VM whose QEMU is gone is no error, and removes its folder", async () => {
    const vm = await host.kvm().launch(LAUNCH);
    host.endProcess(vm.pid);
    await host.kvm().kill("minimega-web");
    assert.equal(fs.existsSync(vm.dir), false);
    await host.kvm().kill("minimega-never"); // never launched: nothing to do
    assert.deepEqual(host.qmp.get(vm.qmp), [], "no quit sent to a PID that is not its QEMU");
  });

  test("launch() refuses a name whose earlier QEMU still runs, and reuses a dead one's folder", async () => {
    const first = await host.kvm().launch(LAUNCH);
    await assert.rejects(host.kvm().launch(LAUNCH), {
      message:
        `Cannot launch KVM VM minimega-web: an earlier QEMU of it is still running (PID ${first.pid}); end it ` +
        `first (kill ${first.pid}, or labwire's nuke)`,
    });
    host.endProcess(first.pid); // it exited (the guest powered off)
    const again = await host.kvm().launch(LAUNCH);
    assert.equal(again.pid, first.pid + 1);
  });

  test("launch() says when QEMU is missing or fails before detaching", async () => {
    await assert.rejects(host.kvm({ qemu: "qemu-system-labwire-missing" }).launch(LAUNCH), {
      message:
        "Cannot launch KVM VM minimega-web: qemu-system-labwire-missing is not installed (apt-get install qemu-system-x86)",
    });
    host.runner.on("qemu-system-x86_64", () => ({
      code: 1,
      stderr: "qemu-system-x86_64: -netdev tap,id=mega_tap0: could not open /dev/net/tun: No such device\n",
    }));
    await assert.rejects(host.kvm().launch(LAUNCH), {
      message:
        "Cannot launch KVM VM minimega-web: qemu-system-x86_64 exited with code 1: qemu-system-x86_64: " +
        "-netdev tap,id=mega_tap0: could not open /dev/net/tun: No such device",
    });
  });

  test("killAll() ends every VM with a PID file in runDir, launched by any process", async () => {
    const a = await host.kvm().launch(LAUNCH);
    const b = await host.kvm().launch({ ...LAUNCH, name: "lab2-db" });
    const stale = path.join(host.runDir, "minimega-old");
    fs.mkdirSync(stale);
    fs.writeFileSync(path.join(stale, "qemu.pid"), `${NO_PID}\n`);
    const other = path.join(host.runDir, "not-a-vm");
    fs.mkdirSync(other);
    await host.kvm().killAll();
    assert.deepEqual([host.qmp.get(a.qmp)!.at(-1), host.qmp.get(b.qmp)!.at(-1)], ["quit", "quit"]);
    assert.deepEqual(fs.readdirSync(host.runDir), ["not-a-vm"], "a folder without a PID file is no VM");
  });

  test("a child Kvm (not detached) runs QEMU -nographic, without -daemonize", async () => {
    host.runner.on("qemu-system-x86_64", () => ({ code: 1, stderr: "boom\n" }));
    await assert.rejects(host.kvm({ detach: false }).launch(LAUNCH), {
      message: "Cannot launch KVM VM minimega-web: qemu-system-x86_64 exited with code 1: boom",
    });
    const argv = host.runner.calls[0]!;
    assert.ok(argv.includes("-nographic") && !argv.includes("-daemonize") && !argv.includes("-display"));
    await assert.rejects(host.kvm({ detach: false }).kill("minimega-web"), {
      message: "Cannot kill KVM VM minimega-web: it was not launched",
    });
  });
});

describe("kvmRunDir()", () => {
  test("is <tmpDir>/labwire-<12 hex of the SHA-256 of the absolute state path>, the same for every form", () => {
    // sha256("/srv/labs/lab.json") begins with these 12 hex digits
    const dir = kvmRunDir("/srv/labs/lab.json", { tmpDir: "/tmp" });
    assert.equal(dir, "/tmp/labwire-ce4494fbbc81");
    assert.equal(kvmRunDir("/srv/labs/./x/../lab.json", { tmpDir: "/tmp" }), dir);
    assert.notEqual(kvmRunDir("/srv/labs/lab2.json", { tmpDir: "/tmp" }), dir);
    const relative = path.relative(process.cwd(), "/srv/labs/lab.json");
    assert.equal(kvmRunDir(relative, { tmpDir: "/tmp" }), dir);
    assert.equal(path.dirname(kvmRunDir("lab.json")), os.tmpdir());
  });
  test("leaves room for a VM name of 60 bytes in a QMP socket path under /tmp", () => {
    const socket = path.join(
      kvmRunDir("/a/very/long/path/to/a/lab/state/file/somewhere/deep/lab.json", {
        tmpDir: "/tmp",
      }),
      "x".repeat(60),
      "qmp.sock",
    );
    assert.ok(Buffer.byteLength(socket) <= 107, socket);
  });
});

/** A KVM VM as the lab model describes it. */
function spec(name: string): VmSpec {
  return {
    name,
    namespace: "minimega",
    id: 0,
    type: "kvm",
    nics: [],
    memory: 256,
    vcpus: 1,
    kernel: "",
    initrd: "",
    append: "",
    disks: [],
  };
}

describe("OvsBackend with keepVms", () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "lwkvm-"));
  });
  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test("keepsVms says whether its VMs outlive the process; keepVms needs a runDir", () => {
    assert.equal(new OvsBackend().keepsVms, false);
    assert.equal(new OvsBackend({ runDir: dir, keepVms: true }).keepsVms, true);
    assert.throws(() => new OvsBackend({ keepVms: true }), {
      name: "TypeError",
      message: "Cannot make OvsBackend as 'keepVms' needs a 'runDir' that later processes find",
    });
  });

  test("startVm() of a VM whose QEMU is gone names it as the lab does and gives the PID", async () => {
    const backend = new OvsBackend({ runDir: dir, keepVms: true });
    fs.mkdirSync(path.join(dir, "minimega-web"));
    fs.writeFileSync(path.join(dir, "minimega-web", "qemu.pid"), `${NO_PID}\n`);
    await assert.rejects(backend.startVms([spec("web")]), {
      name: "KvmError",
      message: `Cannot start KVM VM web: its QEMU (PID ${NO_PID}) is not running`,
    });
    await assert.rejects(backend.stopVms([spec("web")]), {
      message: `Cannot stop KVM VM web: its QEMU (PID ${NO_PID}) is not running`,
    });
    await backend.killVms([spec("web")]); // gone: no error
    assert.equal(fs.existsSync(dir), false, "the VM's folder and the emptied run folder are gone");
  });

  test("close() leaves kept VMs alone; nuke() clears the run folder of VMs whose QEMU is gone", async () => {
    const runner = new FakeRunner();
    runner.on("ovs-vsctl", () => ({}));
    runner.on("ip", () => ({}));
    const backend = new OvsBackend({ exec: createExec({ runner }), runDir: dir, keepVms: true });
    fs.mkdirSync(path.join(dir, "minimega-web"));
    fs.writeFileSync(path.join(dir, "minimega-web", "qemu.pid"), `${NO_PID}\n`);
    await backend.close();
    assert.deepEqual(fs.readdirSync(dir), ["minimega-web"]);
    await backend.nuke();
    assert.equal(fs.existsSync(dir), false);
  });
});

describe('Lab.open({ backend: "ovs", state })', () => {
  test("keeps the KVM VMs of a lab in a state file in the state file's run folder", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "lwkvm-"));
    try {
      const state = path.join(dir, "lab.json");
      // a lab whose KVM VM web was launched by an earlier process
      const earlier = new LabModel({ backend: new RecordingBackend({ persistent: true, keepsVms: true }) });
      await earlier.launchVms("minimega", "kvm", "web");
      fs.writeFileSync(state, JSON.stringify(earlier.toJSON()));
      await using lab = await Lab.open({ backend: "ovs", state });
      const pidfile = path.join(kvmRunDir(state), "minimega-web", "qemu.pid");
      await assert.rejects(lab.namespace().vm("web").start(), {
        message: `Cannot start KVM VM web: its QEMU is not running (no PID file ${pidfile})`,
      });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
