/**
 * Routers in the lab model, on a backend that records what it is asked to route: what a commit applies
 * (addresses through the NICs, forwarding and routes through RoutingBackend), re-commits, the typed
 * RouterHandle, `vm net route`, state files, and what a failed commit leaves.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Lab } from "../lib/api/lab.ts";
import type { Routing } from "../lib/backend/routing.ts";
import type { VmSpec } from "../lib/backend/vms.ts";
import { fwVerdict, type RouterFw } from "../lib/lab/router_config.ts";
import { SimBackend } from "../sim/backend.ts";

/** The simulator, recording each setRouting call (and refusing one on demand). */
class RoutingSim extends SimBackend {
  readonly routings: { vm: string; routing: Routing }[] = [];
  failNext = false;
  override setRouting(vm: VmSpec, routing: Routing): Promise<void> {
    if (this.failNext) {
      this.failNext = false;
      return Promise.reject(new Error("Cannot set routes: refused"));
    }
    this.routings.push({ vm: vm.name, routing: structuredClone(routing) });
    return super.setRouting(vm, routing);
  }
}

/** Runs `fn` with the path of a state file in a folder of its own, removed afterwards. */
async function withStateFile(fn: (state: string) => Promise<void>): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "labwire-router-"));
  try {
    await fn(path.join(dir, "lab.json"));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function routerLab(backend = new RoutingSim()) {
  const lab = await Lab.open({ backend, seed: 1 });
  await lab.run("vm config net DMZ CORE");
  await lab.run("vm launch container r");
  await lab.run("vm config net DMZ");
  await lab.run("vm launch container a");
  await lab.run("vm start all");
  return { lab, backend };
}

describe("routers", () => {
  test("a commit gives the NICs their addresses and sets forwarding and routes", async () => {
    const { lab, backend } = await routerLab();
    await using _ = lab;
    await lab.run("router r interface 0 10.0.0.1/24");
    await lab.run("router r interface 1 10.1.0.1/24");
    await lab.run("router r route static 10.2.0.0/24 10.1.0.2");
    assert.deepEqual(backend.routings, [], "nothing applied before the commit");
    await lab.run("router r commit");
    assert.equal(
      (await lab.run(".columns name,ip vm info")).text,
      "name | ip\na    | []\nr    | [10.0.0.1, 10.1.0.1]",
    );
    assert.deepEqual(backend.routings, [{
      vm: "r",
      routing: {
        forwarding: true,
        routes: [{ network: "10.2.0.0/24", via: "10.1.0.2" }],
        gateway: "",
        loopbacks: [],
      },
    }]);
    // a second commit: the address taken away goes, the new one comes, routes replaced
    await lab.run("clear router r interface 1 10.1.0.1/24");
    await lab.run("router r interface 1 10.1.0.254/24");
    await lab.run("clear router r route");
    await lab.run("router r gw 10.0.0.9");
    await lab.run("router r commit");
    assert.equal(
      (await lab.run(".columns name,ip vm info")).text,
      "name | ip\na    | []\nr    | [10.0.0.1, 10.1.0.254]",
    );
    assert.deepEqual(backend.routings.at(-1), {
      vm: "r",
      routing: { forwarding: true, routes: [], gateway: "10.0.0.9", loopbacks: [] },
    });
  });

  test("a commit that the backend refuses changes nothing", async () => {
    const { lab, backend } = await routerLab();
    await using _ = lab;
    await lab.run("router r interface 0 10.0.0.1/24");
    const before = await lab.snapshot();
    backend.failNext = true;
    await assert.rejects(lab.run("router r commit"), { message: /Cannot set routes: refused/ });
    assert.deepEqual(await lab.snapshot(), before);
    assert.equal((await lab.run(".columns name,ip .filter name=r vm info")).text, "name | ip\nr    | [, ]");
  });

  test("vm net route holds the route in the VM's router and applies it at once", async () => {
    const { lab, backend } = await routerLab();
    await using _ = lab;
    await lab.run("vm net ip a 0 10.0.0.2/24");
    await lab.run("vm net route a default 10.0.0.1");
    await lab.run("vm net route a 10.5.0.0/16 10.0.0.7");
    assert.deepEqual(backend.routings.at(-1), {
      vm: "a",
      routing: {
        forwarding: true,
        routes: [{ network: "10.5.0.0/16", via: "10.0.0.7" }],
        gateway: "10.0.0.1",
        loopbacks: [],
      },
    });
    assert.match(
      (await lab.run("router a")).text,
      /Default Gateway: 10\.0\.0\.1\nStatic Routes:\n10\.5\.0\.0\/16\t10\.0\.0\.7/,
    );
    await lab.run("vm net route a 10.5.0.0/16 none");
    await lab.run("vm net route a default none");
    assert.deepEqual(backend.routings.at(-1)!.routing, {
      forwarding: true,
      routes: [],
      gateway: "",
      loopbacks: [],
    });
  });

  test("the typed RouterHandle configures and applies a whole router in one call, or nothing", async () => {
    const { lab, backend } = await routerLab();
    await using _ = lab;
    const r = lab.namespace().vm("r").router();
    assert.equal(await r.info(), undefined);
    await r.configure({
      interfaces: [["10.0.0.1/24"], ["10.1.0.1/24"]],
      routes: [{ network: "10.9.0.0/16", via: "10.1.0.9" }],
    });
    const info = await r.info();
    assert.deepEqual(info?.config.nics, [["10.0.0.1/24"], ["10.1.0.1/24"]]);
    assert.match(info!.text, /^IPs:\nNetwork: 0: \[10\.0\.0\.1\/24\]\nNetwork: 1: \[10\.1\.0\.1\/24\]/);
    assert.equal(backend.routings.length, 1);
    const before = await lab.snapshot();
    await assert.rejects(
      r.configure({ interfaces: [["10.0.0.1/24"]], gateway: "10.7.7.7" }),
      { message: "Cannot commit router r: the default gateway 10.7.7.7 is in none of its subnets" },
    );
    await assert.rejects(r.configure({ interfaces: [["10.0.0.1"]] }), {
      code: "invalid-address",
      message: "invalid IP: 10.0.0.1",
    });
    assert.deepEqual(await lab.snapshot(), before);
    await r.clear();
    assert.equal(await r.info(), undefined);
  });

  test("routers live in the state file; a lab without routers writes none", async () => {
    await withStateFile(async (state) => {
      {
        await using lab = await Lab.open({ state, seed: 1 });
        await lab.run("vm config net DMZ CORE");
        await lab.run("vm launch container r");
        assert.equal(JSON.parse(fs.readFileSync(state, "utf8")).routers, undefined);
        await lab.run("router r interface 0 10.0.0.1/24");
        await lab.run("router r dns 10.0.0.1 r.lab");
      }
      await using later = await Lab.open({ state });
      assert.match(
        (await later.run("router r")).text,
        /Network: 0: \[10\.0\.0\.1\/24\][^]*DNS:\n10\.0\.0\.1\tr\.lab/,
      );
      await later.run("clear router");
      assert.equal(JSON.parse(fs.readFileSync(state, "utf8")).routers, undefined);
    });
  });

  test("on the simulator, a later process of a lab in a state file routes, serves and filters as the first did", async () => {
    await withStateFile(async (state) => {
      {
        await using lab = await Lab.open({ state, seed: 1 });
        for (
          const line of [
            "vm config net DMZ CORE",
            "vm launch container r",
            "vm config net DMZ",
            "vm launch container a,c",
            "vm config net CORE",
            "vm launch container b",
            "vm start all",
            "router r interface 0 10.0.0.1/24",
            "router r interface 1 10.1.0.1/24",
            "router r dhcp 10.0.0.1 range 10.0.0.100 10.0.0.110",
            "router r fw drop in 0 10.1.0.3 icmp",
            "router r commit",
            "vm net ip a 0 10.0.0.2/24",
            "vm net route a default 10.0.0.1",
            "vm net ip b 0 10.1.0.2/24",
            "vm net route b default 10.1.0.1",
            "tap create CORE ip 10.1.0.254/24 t0",
            "dnsmasq start 10.1.0.254 10.1.0.3 10.1.0.3",
          ]
        ) {
          await lab.run(line);
        }
      }
      await using later = await Lab.open({ state });
      const ping = async (from: string, to: string) =>
        (await later.run(`.columns received ping ${from} ${to} 1`)).text;
      assert.equal(await ping("a:0", "10.1.0.2"), "received\n1", "routes and forwarding");
      // a DHCP client of this process gets its lease from the router's server, and from the tap's dnsmasq
      await later.run("vm net ip c 0 dhcp");
      assert.match((await later.run(".columns name,ip vm info")).text, /^c +\| \[10\.0\.0\.1(0\d|10)\]$/m);
      await later.run("vm config net CORE");
      await later.run("vm launch container d");
      await later.run("vm start d");
      await later.run("vm net ip d 0 dhcp");
      assert.match((await later.run(".columns name,ip vm info")).text, /^d +\| \[10\.1\.0\.3\]$/m);
      // and the firewall still drops what it dropped
      assert.equal(await ping("a:0", "10.1.0.3"), "received\n0", "the firewall");
    });
  });

  test("on the simulator, a DHCP server of a later process knows the addresses the lab holds as leased", async () => {
    await withStateFile(async (state) => {
      {
        await using lab = await Lab.open({ state, seed: 1 });
        for (
          const line of [
            "vm config net DMZ",
            "vm launch container r,a,b",
            "vm start all",
            "router r interface 0 10.0.0.1/24",
            "router r dhcp 10.0.0.1 range 10.0.0.100 10.0.0.100",
            "router r commit",
            "vm net ip a 0 dhcp",
          ]
        ) {
          await lab.run(line);
        }
        assert.match((await lab.run(".columns name,ip vm info")).text, /^a +\| \[10\.0\.0\.100\]$/m);
      }
      await using later = await Lab.open({ state });
      // the range's one address is a's: b gets none (the earlier run's server would not have offered it)
      await assert.rejects(later.run("vm net ip b 0 dhcp"), /no DHCP server answered within 10 s/);
      assert.match((await later.run(".columns name,ip vm info")).text, /^b +\| \[\]$/m);
    });
  });

  test("a namespace destroyed or a VM flushed takes its router along", async () => {
    const { lab } = await routerLab();
    await using _ = lab;
    await lab.run("router a interface 0 10.0.0.2/24");
    await lab.run("vm kill a");
    await lab.run("vm flush");
    await assert.rejects(lab.run("router a"), { message: "vm not found: a" });
    assert.equal((await lab.snapshot()).routers, undefined);
    await lab.run("namespace red vm config net X");
    await lab.run("namespace red vm launch container x");
    await lab.run("namespace red router x interface 0 10.3.0.1/24");
    assert.equal((await lab.snapshot()).routers?.length, 1);
    await lab.run("clear namespace red");
    assert.equal((await lab.snapshot()).routers, undefined);
  });
});

describe("fwVerdict", () => {
  const packet = {
    inNic: 0,
    outNic: 1,
    src: "10.0.0.5",
    dst: "10.1.0.7",
    proto: "tcp",
    srcPort: 40000,
    dstPort: 80,
  };
  test("the first matching rule of the packet's NICs decides, in NIC order then as given; else the default", () => {
    const fw: RouterFw = {
      default: "drop",
      rules: [
        { nic: 1, direction: "out", action: "reject", src: "", dst: "10.1.0.7", proto: "tcp" },
        { nic: 0, direction: "in", action: "accept", src: "10.0.0.0/24", dst: "10.1.0.7:80", proto: "tcp" },
      ],
      chains: {},
    };
    assert.equal(fwVerdict(fw, packet), "accept"); // NIC 0's rule comes first
    assert.equal(fwVerdict(fw, { ...packet, dstPort: 443 }), "reject");
    assert.equal(fwVerdict(fw, { ...packet, dst: "10.1.0.8" }), "drop");
    assert.equal(fwVerdict(fw, { ...packet, inNic: 2, outNic: 3 }), "drop");
  });
  test("a rule that applies a chain: the chain's first matching rule, else its default", () => {
    const fw: RouterFw = {
      default: "accept",
      rules: [{ nic: 0, direction: "in", action: "web", src: "", dst: "", proto: "" }],
      chains: {
        web: { default: "drop", rules: [{ action: "accept", src: "", dst: "10.1.0.7:80", proto: "tcp" }] },
      },
    };
    assert.equal(fwVerdict(fw, packet), "accept");
    assert.equal(fwVerdict(fw, { ...packet, dstPort: 22 }), "drop");
    assert.equal(fwVerdict(fw, { ...packet, inNic: 1 }), "accept");
  });
});

describe("DHCP clients of routers", () => {
  test("a client whose router names no gateway takes the lease's router as its default route", async () => {
    const { lab, backend } = await routerLab();
    await using _ = lab;
    await lab.run("router r interface 0 10.0.0.1/24");
    await lab.run("router r dhcp 10.0.0.1 range 10.0.0.100 10.0.0.110");
    await lab.run("router r dhcp 10.0.0.1 router 10.0.0.1");
    await lab.run("router r commit");
    await lab.run("router a interface 0 dhcp");
    await lab.run("router a commit");
    assert.deepEqual(backend.routings.at(-1), {
      vm: "a",
      routing: { forwarding: true, routes: [], gateway: "10.0.0.1", loopbacks: [] },
    });
    // a commit that does not change the addresses keeps it; one that names a gateway wins
    await lab.run("router a route static 10.5.0.0/16 10.0.0.1");
    await lab.run("router a commit");
    assert.equal(backend.routings.at(-1)!.routing.gateway, "10.0.0.1");
    await lab.run("router a gw 10.0.0.9");
    await lab.run("router a commit");
    assert.equal(backend.routings.at(-1)!.routing.gateway, "10.0.0.9");
  });
});

describe("DHCP clients of routers committed before their VMs start", () => {
  /** A router r (DMZ, CORE) and a client a on DMZ, launched and not started. */
  async function pausedLab() {
    const backend = new RoutingSim();
    const lab = await Lab.open({ backend, seed: 1 });
    await lab.run("vm config net DMZ CORE");
    await lab.run("vm launch container r");
    await lab.run("vm config net DMZ");
    await lab.run("vm launch container a");
    await lab.run("router r interface 0 10.0.0.1/24");
    await lab.run("router r dhcp 10.0.0.1 range 10.0.0.100 10.0.0.110");
    await lab.run("router r commit");
    await lab.run("router a interface 0 dhcp");
    return { lab, backend };
  }

  test("a client's lease waits for its VM to start, as minirouter's dhclient waits for the guest to boot", async () => {
    const { lab, backend } = await pausedLab();
    await using _ = lab;
    await lab.run("router a commit");
    assert.equal(
      (await lab.run(".columns name,ip vm info")).text,
      "name | ip\na    | []\nr    | [10.0.0.1, ]",
    );
    assert.equal(backend.routings.at(-1)!.routing.gateway, "", "no lease yet, so no default route");
    await lab.run("vm start r");
    await lab.run("vm start a");
    const ip = (await lab.run(".columns name,ip vm info")).text;
    assert.match(ip, /^a +\| \[10\.0\.0\.1(0\d|10)\]$/m);
    // the lease's router, the server's own address (dnsmasq's default when the router names none)
    assert.deepEqual(backend.routings.at(-1), {
      vm: "a",
      routing: { forwarding: true, routes: [], gateway: "10.0.0.1", loopbacks: [] },
    });
    assert.deepEqual(lab.warnings, []);
    // the lease is the commit's: a later commit that changes the addresses takes it away
    await lab.run("router a interface 0 10.0.0.50/24");
    await lab.run("clear router a interface 0 dhcp");
    await lab.run("router a commit");
    assert.match((await lab.run(".columns name,ip vm info")).text, /^a +\| \[10\.0\.0\.50\]$/m);
  });

  test("a VM whose client gets no lease still starts, with a warning; its next commit tries again", async () => {
    const { lab } = await pausedLab();
    await using _ = lab;
    await lab.run("router a commit");
    // the server's VM does not run: nobody answers a
    await lab.run("vm start a");
    assert.equal(
      (await lab.run(".columns name,state,ip vm info")).text.split("\n")[1],
      "a    | RUNNING | []",
    );
    assert.equal(lab.warnings.length, 1);
    assert.match(
      lab.warnings[0]!,
      /^router a got no DHCP lease for interface 0 when it started \(router a commit tries again\): Cannot get an address by DHCP for a:0 \(mega_tap\d+\): no DHCP server answered within 10 s$/,
    );
    await lab.run("vm start r");
    await lab.run("router a commit");
    assert.match((await lab.run(".columns name,ip vm info")).text, /^a +\| \[10\.0\.0\.1\d\d\]$/m);
  });

  test("the typed API: routers configured on VMs not started yet, then ns.start(), and the client has its lease", async () => {
    await using lab = await Lab.open({ seed: 1 });
    const ns = lab.namespace();
    const [r] = await ns.launch(["r"], { networks: ["DMZ", "CORE"] });
    const [web] = await ns.launch(["web"], { networks: ["DMZ"] });
    await r!.router().configure({
      interfaces: [["10.0.0.1/24"], ["10.1.0.1/24"]],
      dhcp: [{ listen: "10.0.0.1", range: ["10.0.0.100", "10.0.0.150"] }],
    });
    await web!.router().configure({ interfaces: [["dhcp"]] });
    assert.deepEqual((await web!.nic(0).info()).ips, []);
    await ns.start();
    assert.match((await web!.nic(0).info()).ips[0] ?? "", /^10\.0\.0\.1[0-5]\d\/24$/);
    // the lease's router, r's own address: web reaches r's other side
    assert.equal((await web!.nic(0).ping("10.1.0.1", { count: 1 })).received, 1);
    assert.deepEqual(lab.warnings, []);
  });

  test("a VM with two clients, one answered: that one keeps its lease, the other waits for the next commit", async () => {
    const { lab } = await pausedLab();
    await using _ = lab;
    await lab.run("vm config net DMZ CORE");
    await lab.run("vm launch container two");
    await lab.run("router two interface 0 dhcp");
    await lab.run("router two interface 1 dhcp");
    await lab.run("router two commit");
    await lab.run("vm start r");
    await lab.run("vm start two");
    assert.match((await lab.run(".columns name,ip vm info")).text, /^two +\| \[10\.0\.0\.1\d\d, \]$/m);
    assert.equal(lab.warnings.length, 1);
    assert.match(lab.warnings[0]!, /^router two got no DHCP lease for interface 1 when it started /);
    // a server on CORE, then the commit takes the lease that waited; the first stays the commit's
    await lab.run("router r interface 1 10.1.0.1/24");
    await lab.run("router r dhcp 10.1.0.1 range 10.1.0.100 10.1.0.110");
    await lab.run("router r commit");
    await lab.run("router two commit");
    assert.match(
      (await lab.run(".columns name,ip vm info")).text,
      /^two +\| \[10\.0\.0\.1\d\d, 10\.1\.0\.1\d\d\]$/m,
    );
    await lab.run("clear router two interface");
    await lab.run("router two interface 0 10.0.0.60/24");
    await lab.run("router two commit");
    assert.match((await lab.run(".columns name,ip vm info")).text, /^two +\| \[10\.0\.0\.60, \]$/m);
  });

  test("vm net ip <vm> <nic> dhcp on a VM that does not run says so, and changes nothing", async () => {
    const { lab } = await pausedLab();
    await using _ = lab;
    await assert.rejects(lab.run("vm net ip a 0 dhcp"), {
      code: "vm-not-running",
      message:
        "Cannot get an address by DHCP for a:0: the VM is not running (state PAUSED): vm start it first",
    });
    assert.equal(
      (await lab.run(".columns name,ip vm info")).text,
      "name | ip\na    | []\nr    | [10.0.0.1, ]",
    );
  });
});

describe("loopback addresses of routers", () => {
  test("a router's loopback address is its own on every NIC: a client reaches it through the router", async () => {
    const { lab, backend } = await routerLab();
    await using _ = lab;
    await lab.run("router r interface 0 10.0.0.1/24");
    await lab.run("router r interface 1 10.1.0.1/24");
    await lab.run("router r interface 0 10.9.9.1/32 lo");
    await lab.run("router r commit");
    assert.deepEqual(backend.routings.at(-1)!.routing.loopbacks, ["10.9.9.1/32"]);
    await lab.run("vm net ip a 0 10.0.0.2/24");
    await lab.run("vm net route a 10.9.9.0/24 10.0.0.1");
    assert.match((await lab.run("ping a:0 10.9.9.1 2")).text, /\| 2 +\| 2$/);
    // taken away by the next commit that no longer lists it
    await lab.run("clear router r interface 0 all lo");
    await lab.run("router r commit");
    assert.deepEqual(backend.routings.at(-1)!.routing.loopbacks, []);
    assert.match((await lab.run("ping a:0 10.9.9.1 1")).text, /\| 1 +\| 0$/);
  });
});
