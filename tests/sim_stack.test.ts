/**
 * The simulator's IPv4 stack, frame by frame: routers (SimStack nodes with forwarding on) between
 * subnets, TTLs and header checksums of forwarded packets, ICMP time exceeded, net and host unreachable
 * with their quoted packets, static routes and default gateways, forwarding off, paused routers, and a
 * pcap of it all read by tshark.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { decodeFrame, describeFrame } from "../lib/wire/frame.ts";
import { openPcapFile } from "../lib/wire/pcap_file.ts";
import { nodeRunner, which } from "../lib/exec.ts";
import { ARP_RETRY_NS, HOST_PROCESSING_NS, type PingRun, SimHost } from "../sim/host.ts";
import { SimStack } from "../sim/stack.ts";
import { VirtualClock } from "../sim/clock.ts";
import { SimBackend } from "../sim/backend.ts";
import { isRoutingBackend } from "../lib/backend/routing.ts";

/** A frame seen on a link. */
interface Seen {
  readonly t: number;
  readonly link: string;
  readonly bytes: Uint8Array;
}

/** A lab of links (hubs: every frame reaches every other member) and nodes, with every frame logged. */
class Wires {
  readonly clock = new VirtualClock();
  readonly seen: Seen[] = [];
  #members = new Map<string, SimHost[]>();
  #macs = 0;

  /** A host of one interface on `link`. */
  host(link: string, cidr: string, name: string): SimHost {
    const h: SimHost = new SimHost({
      mac: this.#mac(),
      name,
      scheduler: this.clock,
      transmit: this.#transmit(link, () => h),
    });
    this.#join(link, h);
    h.addAddress(cidr);
    return h;
  }

  /** An interface of `node` on `link`. */
  nic(node: SimStack, link: string, cidr: string): SimHost {
    const h: SimHost = node.addInterface({ mac: this.#mac(), transmit: this.#transmit(link, () => h) });
    this.#join(link, h);
    h.addAddress(cidr);
    return h;
  }

  router(name: string): SimStack {
    const r = new SimStack({ scheduler: this.clock, name });
    r.forwarding = true;
    return r;
  }

  /** What crossed `link`, described as tcpdump would. */
  on(link: string): string[] {
    return this.seen.filter((s) => s.link === link).map((s) =>
      `${s.t} ${describeFrame(decodeFrame(s.bytes))}`
    );
  }

  frames(link: string): Uint8Array[] {
    return this.seen.filter((s) => s.link === link).map((s) => s.bytes);
  }

  until(run: PingRun): void {
    assert.ok(this.clock.runUntil(() => run.done, this.clock.now() + 60_000_000_000), "the ping never ended");
    this.clock.run(this.clock.now() + 5_000_000_000); // and whatever it left behind
  }

  #mac(): string {
    this.#macs++;
    return `52:54:00:00:00:${this.#macs.toString(16).padStart(2, "0")}`;
  }

  #join(link: string, h: SimHost): void {
    const list = this.#members.get(link) ?? [];
    list.push(h);
    this.#members.set(link, list);
  }

  #transmit(link: string, self: () => SimHost): (buf: Uint8Array, off: number, len: number) => void {
    return (buf, off, len) => {
      this.seen.push({ t: this.clock.now(), link, bytes: buf.slice(off, off + len) });
      for (const m of this.#members.get(link) ?? []) if (m !== self()) m.receive(buf, off, len);
    };
  }
}

/** A -- L1 -- R -- L2 -- B: 10.0.1.0/24 and 10.0.2.0/24, the router .1 on both, default gateways. */
function oneRouter() {
  const w = new Wires();
  const a = w.host("L1", "10.0.1.2/24", "a");
  const r = w.router("r");
  const r0 = w.nic(r, "L1", "10.0.1.1/24");
  const r1 = w.nic(r, "L2", "10.0.2.1/24");
  const b = w.host("L2", "10.0.2.2/24", "b");
  a.stack.setDefaultGateway("10.0.1.1");
  b.stack.setDefaultGateway("10.0.2.1");
  return { w, a, r, r0, r1, b };
}

const SECOND = 1_000_000_000;
const PING = { intervalNs: 200_000_000, waitNs: 10 * SECOND };

function ipv4(bytes: Uint8Array) {
  const ip = decodeFrame(bytes).ipv4;
  assert.ok(ip !== undefined, "an IPv4 frame");
  return ip;
}

describe("SimStack", () => {
  test("a ping across a router: ARP on each side, the request and reply forwarded with TTL 63", () => {
    const { w, a } = oneRouter();
    const run = a.ping("10.0.2.2", { count: 1, ...PING });
    w.until(run);
    assert.deepEqual([run.sent, run.received, run.errors], [1, 1, 0]);
    assert.deepEqual(w.on("L1"), [
      "0 52:54:00:00:00:01 > ff:ff:ff:ff:ff:ff, ARP, Request who-has 10.0.1.1 tell 10.0.1.2",
      "1000 52:54:00:00:00:02 > 52:54:00:00:00:01, ARP, Reply 10.0.1.1 is-at 52:54:00:00:00:02",
      "2000 52:54:00:00:00:01 > 52:54:00:00:00:02, IPv4 10.0.1.2 > 10.0.2.2: ICMP echo request, id 1, seq 1",
      "7000 52:54:00:00:00:02 > 52:54:00:00:00:01, IPv4 10.0.2.2 > 10.0.1.2: ICMP echo reply, id 1, seq 1",
    ]);
    assert.deepEqual(w.on("L2"), [
      // the router asks from its address on L2 (Linux's inet_select_addr), the forwarded packet waits
      "3000 52:54:00:00:00:03 > ff:ff:ff:ff:ff:ff, ARP, Request who-has 10.0.2.2 tell 10.0.2.1",
      "4000 52:54:00:00:00:04 > 52:54:00:00:00:03, ARP, Reply 10.0.2.2 is-at 52:54:00:00:00:04",
      "5000 52:54:00:00:00:03 > 52:54:00:00:00:04, IPv4 10.0.1.2 > 10.0.2.2: ICMP echo request, id 1, seq 1",
      // b knows the router from its ARP request: the reply goes at once, 1 us later
      "6000 52:54:00:00:00:04 > 52:54:00:00:00:03, IPv4 10.0.2.2 > 10.0.1.2: ICMP echo reply, id 1, seq 1",
    ]);
    const [sent, forwarded] = [w.frames("L1")[2]!, w.frames("L2")[2]!];
    assert.equal(ipv4(sent).ttl, 64);
    assert.equal(ipv4(forwarded).ttl, 63);
    assert.equal(ipv4(forwarded).checksumOk, true);
    assert.equal(ipv4(w.frames("L1")[3]!).ttl, 63);
    // only the Ethernet header, the TTL and the header checksum changed
    const differs = [...forwarded.subarray(14)].flatMap((x, i) => x === sent[14 + i] ? [] : [i]);
    assert.deepEqual(differs, [8, 10, 11].filter((i) => forwarded[14 + i] !== sent[14 + i]));
    assert.ok(differs.includes(8) && differs.length >= 2, `changed bytes ${differs}`);
  });

  test("the header checksum is updated as Linux's ip_decrease_ttl: TTL 64 -> 1 over 63 routers is always valid", () => {
    // a chain of routers: 10.0.0.0/24 - r1 - 10.0.1.0/24 - r2 - ... each with a default route onwards
    const w = new Wires();
    const hops = 63;
    const a = w.host("L0", "10.1.0.2/24", "a");
    a.stack.setDefaultGateway("10.1.0.1");
    for (let i = 0; i < hops; i++) {
      const r = w.router(`r${i}`);
      w.nic(r, `L${i}`, `10.1.${i}.1/24`);
      w.nic(r, `L${i + 1}`, `10.1.${i + 1}.2/24`);
      if (i < hops - 1) r.setDefaultGateway(`10.1.${i + 1}.1`);
      // the way back: everything behind goes to the previous router
      if (i > 0) r.setRoutes([{ network: "10.1.0.0/24", via: `10.1.${i}.2` }]);
    }
    const b = w.host(`L${hops}`, `10.1.${hops}.1/24`, "b");
    b.stack.setDefaultGateway(`10.1.${hops}.2`);
    const run = a.ping(`10.1.${hops}.1`, { count: 1, ...PING });
    w.until(run);
    const last = w.frames(`L${hops}`).filter((f) => f[13] === 0).map(ipv4).find((ip) => ip.icmp?.type === 8)!;
    assert.equal(last.ttl, 1);
    assert.equal(last.checksumOk, true);
    for (let i = 0; i <= hops; i++) {
      for (const ip of w.frames(`L${i}`).filter((f) => f[12] === 8 && f[13] === 0).map(ipv4)) {
        assert.equal(ip.checksumOk, true, `L${i}: ${ip.src} > ${ip.dst} ttl ${ip.ttl}`);
      }
    }
    // the reply crosses the 63 routers back and reaches a with TTL 1
    assert.deepEqual([run.received, run.errors], [1, 0]);
    const reply = w.frames("L0").filter((f) => f[13] === 0).map(ipv4).find((ip) => ip.icmp?.type === 0)!;
    assert.equal(reply.ttl, 1);
  });

  test("TTL 1 through a router: ICMP time exceeded from the incoming interface's address, quoting the packet", () => {
    const { w, a } = oneRouter();
    const run = a.ping("10.0.2.2", { count: 1, ttl: 1, ...PING });
    w.until(run);
    assert.deepEqual([run.sent, run.received, run.errors, run.done], [1, 0, 1, true]);
    assert.deepEqual(run.errorReports, [{
      from: "10.0.1.1",
      seq: 1,
      type: 11,
      code: 0,
      text: "From 10.0.1.1 icmp_seq=1 Time to live exceeded",
    }]);
    assert.deepEqual(w.on("L2"), [], "nothing forwarded");
    const frames = w.frames("L1");
    assert.deepEqual(w.on("L1").slice(2), [
      "2000 52:54:00:00:00:01 > 52:54:00:00:00:02, IPv4 10.0.1.2 > 10.0.2.2: ICMP echo request, id 1, seq 1",
      "3000 52:54:00:00:00:02 > 52:54:00:00:00:01, IPv4 10.0.1.1 > 10.0.1.2: ICMP time exceeded, code 0",
    ]);
    const request = frames[2]!;
    const error = frames[3]!;
    const ip = ipv4(error);
    assert.equal(ip.tos, 0xc0, "Linux sends ICMP errors with precedence internetwork control");
    assert.equal(ip.ttl, 64);
    assert.equal(ip.checksumOk, true);
    // ICMP: type 11 code 0, 4 unused bytes, then the request's IPv4 packet as it came (TTL 1), whole
    assert.equal(ip.payload, undefined);
    const icmp = error.subarray(34);
    assert.deepEqual([icmp[0], icmp[1], icmp[4], icmp[5], icmp[6], icmp[7]], [11, 0, 0, 0, 0, 0]);
    const quoted = icmp.subarray(8);
    assert.equal(quoted.length, 84);
    assert.deepEqual([...quoted], [...request.subarray(14, 14 + 84)]);
    assert.equal(quoted[8], 1, "the quoted TTL is the one that came in");
  });

  test("no route on the router: ICMP net unreachable (3/0) to the source; the ping counts it an error", () => {
    const { w, a } = oneRouter();
    const run = a.ping("10.9.0.5", { count: 1, ...PING });
    w.until(run);
    assert.deepEqual([run.sent, run.received, run.errors, run.networkUnreachable], [1, 0, 1, false]);
    assert.equal(run.errorReports[0]!.text, "From 10.0.1.1 icmp_seq=1 Destination Net Unreachable");
    assert.deepEqual(w.on("L1").slice(3), [
      "3000 52:54:00:00:00:02 > 52:54:00:00:00:01, IPv4 10.0.1.1 > 10.0.1.2: ICMP unreachable, code 0",
    ]);
    assert.deepEqual(w.on("L2"), []);
  });

  test("a node with no route at all: nothing sent, networkUnreachable (connect: Network is unreachable)", () => {
    const { w, a } = oneRouter();
    a.stack.setDefaultGateway(undefined);
    const run = a.ping("10.0.2.2", { count: 3, ...PING });
    assert.deepEqual([run.done, run.networkUnreachable, run.sent], [true, true, 0]);
    w.clock.run();
    assert.deepEqual(w.seen, []);
  });

  test("a next hop nobody answers: 3 ARP requests 1 s apart, then host unreachable (3/1) quoting TTL 63", () => {
    const { w, a } = oneRouter();
    const run = a.ping("10.0.2.99", { count: 1, ...PING });
    w.until(run);
    assert.deepEqual([run.sent, run.received, run.errors], [1, 0, 1]);
    assert.equal(run.errorReports[0]!.text, "From 10.0.1.1 icmp_seq=1 Destination Host Unreachable");
    const t0 = 3_000;
    assert.deepEqual(
      w.on("L2"),
      [0, 1, 2].map((i) =>
        `${
          t0 + i * ARP_RETRY_NS
        } 52:54:00:00:00:03 > ff:ff:ff:ff:ff:ff, ARP, Request who-has 10.0.2.99 tell 10.0.2.1`
      ),
    );
    const last = w.on("L1").at(-1)!;
    assert.equal(
      last,
      `${
        t0 + 3 * ARP_RETRY_NS + HOST_PROCESSING_NS
      } 52:54:00:00:00:02 > 52:54:00:00:00:01, IPv4 10.0.1.1 > 10.0.1.2: ICMP unreachable, code 1`,
    );
    const error = w.frames("L1").at(-1)!;
    const quoted = error.subarray(42);
    assert.equal(quoted[8], 63, "the packet was forwarded (TTL decremented) before ARP failed");
    assert.equal(decodeFrame(new Uint8Array([...error.subarray(0, 14), ...quoted])).ipv4!.checksumOk, true);
  });

  test("two routers with static routes: TTL 62 at the far end, and back", () => {
    const w = new Wires();
    const a = w.host("L1", "10.0.1.2/24", "a");
    const r1 = w.router("r1");
    w.nic(r1, "L1", "10.0.1.1/24");
    w.nic(r1, "L2", "10.0.2.1/24");
    const r2 = w.router("r2");
    w.nic(r2, "L2", "10.0.2.2/24");
    w.nic(r2, "L3", "10.0.3.1/24");
    const b = w.host("L3", "10.0.3.2/24", "b");
    a.stack.setDefaultGateway("10.0.1.1");
    b.stack.setDefaultGateway("10.0.3.1");
    r1.setRoutes([{ network: "10.0.3.0/24", via: "10.0.2.2" }]);
    r2.setRoutes([{ network: "10.0.1.0/24", via: "10.0.2.1" }]);
    assert.deepEqual(r1.routes(), [
      { network: "10.0.1.0/24", dev: r1.interfaces()[0]!.name, src: "10.0.1.1", proto: "kernel" },
      { network: "10.0.2.0/24", dev: r1.interfaces()[1]!.name, src: "10.0.2.1", proto: "kernel" },
      { network: "10.0.3.0/24", via: "10.0.2.2", dev: r1.interfaces()[1]!.name, proto: "static" },
    ]);
    assert.deepEqual(r1.routeGet("10.0.3.7"), {
      type: "unicast",
      dev: r1.interfaces()[1]!.name,
      via: "10.0.2.2",
      src: "10.0.2.1",
    });
    const run = a.ping("10.0.3.2", { count: 3, ...PING });
    w.until(run);
    assert.deepEqual([run.sent, run.received, run.errors], [3, 3, 0]);
    const atB = w.frames("L3").filter((f) => f[13] === 0).map(ipv4).filter((ip) => ip.icmp?.type === 8);
    assert.deepEqual(atB.map((ip) => ip.ttl), [62, 62, 62]);
    const atA = w.frames("L1").filter((f) => f[13] === 0).map(ipv4).filter((ip) => ip.icmp?.type === 0);
    assert.deepEqual(atA.map((ip) => ip.ttl), [62, 62, 62]);
    // TTL 2 expires at the second router, which answers from its address on L2
    const short = a.ping("10.0.3.2", { count: 1, ttl: 2, ...PING });
    w.until(short);
    assert.equal(short.errorReports[0]!.text, "From 10.0.2.2 icmp_seq=1 Time to live exceeded");
  });

  test("forwarding off (the default): a packet for another address is ignored, nothing forwarded", () => {
    const { w, a, r, r0 } = oneRouter();
    r.forwarding = false;
    const run = a.ping("10.0.2.2", { count: 2, ...PING });
    w.until(run);
    assert.deepEqual([run.sent, run.received, run.errors], [2, 0, 0]);
    assert.deepEqual(w.on("L2"), []);
    assert.equal(r0.counters().ignored, 2);
    assert.equal(r.counters().forwarded, 0);
    assert.equal(new SimStack({ scheduler: w.clock }).forwarding, false);
  });

  test("a raw UDP port (a DHCP client's packet socket) sees a frame for an address not yet its own, forwarding or not", () => {
    for (const forwarding of [false, true]) {
      const { w, a, r, r0 } = oneRouter();
      r.forwarding = forwarding;
      // r's NIC on L1 waits for its lease: what dnsmasq sends it, unicast to its MAC and offered address
      r0.removeAddress("10.0.1.1/24");
      const got: string[] = [];
      r.bindUdp(68, (d) => got.push(`${d.iface} ${d.srcIp}:${d.srcPort} > ${d.dstIp}:${d.dstPort}`), {
        raw: true,
      });
      const offer = { dstMac: r0.mac, srcIp: "10.0.1.2", dstIp: "10.0.1.50", srcPort: 67, dstPort: 68 };
      a.stack.sendUdp(a.name, { ...offer, payload: new Uint8Array(8) });
      w.clock.run(w.clock.now() + SECOND);
      assert.deepEqual(got, [`${r0.name} 10.0.1.2:67 > 10.0.1.50:68`], `forwarding ${forwarding}`);
      // a port that is not raw takes only what is for the node's own addresses
      r.unbindUdp(68);
      r.bindUdp(68, (d) => got.push(d.dstIp));
      a.stack.sendUdp(a.name, { ...offer, payload: new Uint8Array(8) });
      w.clock.run(w.clock.now() + SECOND);
      assert.equal(got.length, 1, `forwarding ${forwarding}`);
    }
  });

  test("masquerading: the outside sees the router's address, answers come back; ports kept unless taken", () => {
    const w = new Wires();
    const a = w.host("L1", "10.0.1.2/24", "a");
    const c = w.host("L1", "10.0.1.3/24", "c");
    const r = w.router("r");
    w.nic(r, "L1", "10.0.1.1/24");
    const r1 = w.nic(r, "L2", "198.51.100.1/24");
    const b = w.host("L2", "198.51.100.7/24", "b"); // no route back to 10.0.1.0/24
    a.stack.setDefaultGateway("10.0.1.1");
    c.stack.setDefaultGateway("10.0.1.1");
    r.setMasquerade([{ out: r1.name, source: "10.0.1.0/24" }]);
    const run = a.ping("198.51.100.7", { count: 2, ...PING });
    w.until(run);
    assert.deepEqual([run.sent, run.received], [2, 2]);
    const outside = w.frames("L2").map((f) => decodeFrame(f)).filter((f) => f.ipv4 !== undefined);
    assert.deepEqual(
      outside.map((f) => `${f.ipv4!.src} > ${f.ipv4!.dst} ttl ${f.ipv4!.ttl} ${f.ipv4!.checksumOk}`),
      [
        "198.51.100.1 > 198.51.100.7 ttl 63 true",
        "198.51.100.7 > 198.51.100.1 ttl 64 true",
        "198.51.100.1 > 198.51.100.7 ttl 63 true",
        "198.51.100.7 > 198.51.100.1 ttl 64 true",
      ],
    );
    const inside = w.frames("L1").map((f) => decodeFrame(f)).filter((f) => f.ipv4?.src === "198.51.100.7");
    assert.deepEqual(inside.map((f) => `${f.ipv4!.dst} ttl ${f.ipv4!.ttl}`), [
      "10.0.1.2 ttl 63",
      "10.0.1.2 ttl 63",
    ]);
    // UDP from two inside hosts with the same source port: the second goes out on the next port
    const got: string[] = [];
    a.stack.bindUdp(5000, (d) => got.push(`a ${d.srcIp}:${d.srcPort}`));
    c.stack.bindUdp(5000, (d) => got.push(`c ${d.srcIp}:${d.srcPort}`));
    b.stack.bindUdp(53, (d) => {
      got.push(`b ${d.srcIp}:${d.srcPort}`);
      b.stack.sendUdp(b.name, {
        dstMac: d.srcMac,
        srcIp: d.dstIp,
        dstIp: d.srcIp,
        srcPort: 53,
        dstPort: d.srcPort,
        payload: d.payload,
      });
    });
    const r0mac = r.interfaces()[0]!.mac;
    for (const host of [a, c]) {
      const from = host.addresses()[0]!.split("/")[0]!;
      host.stack.sendUdp(host.name, {
        dstMac: r0mac,
        srcIp: from,
        dstIp: "198.51.100.7",
        srcPort: 5000,
        dstPort: 53,
        payload: new TextEncoder().encode("hello"),
      });
      w.clock.run(w.clock.now() + SECOND);
    }
    assert.deepEqual(got, [
      "b 198.51.100.1:5000",
      "a 198.51.100.7:53",
      "b 198.51.100.1:5001",
      "c 198.51.100.7:53",
    ]);
    const udp = w.frames("L2").map((f) => decodeFrame(f).ipv4).filter((ip) => ip?.udp !== undefined);
    assert.equal(udp.length, 4);
    assert.ok(udp.every((ip) => ip!.udp!.checksumOk === true && ip!.checksumOk === true));
    // without the rule, what goes out keeps its source, and b has no way back
    r.setMasquerade([]);
    r.forgetConnections();
    const lost = c.ping("198.51.100.7", { count: 1, ...PING });
    w.until(lost);
    assert.equal(lost.received, 0);
  });

  test("an interface with arpOwnOnly answers ARP for its own addresses only (arp_ignore=1)", () => {
    const clock = new VirtualClock();
    const r = new SimStack({ scheduler: clock, name: "r" });
    const wire: { peer?: SimHost } = {};
    const own: SimHost = r.addInterface({
      mac: "52:54:00:00:01:01",
      arpOwnOnly: true,
      transmit: (buf, off, len) => wire.peer?.receive(buf, off, len),
    });
    own.addAddress("10.0.1.1/24");
    r.addInterface({ mac: "52:54:00:00:01:02", transmit: () => {} }).addAddress("198.51.100.1/24");
    const a: SimHost = new SimHost({
      mac: "52:54:00:00:00:99",
      name: "a",
      scheduler: clock,
      transmit: (buf, off, len) => own.receive(buf, off, len),
    });
    wire.peer = a;
    a.addAddress("10.0.1.9/24");
    a.addAddress("198.51.100.9/24");
    const until = (run: PingRun) => assert.ok(clock.runUntil(() => run.done, clock.now() + 60 * SECOND));
    const mine = a.ping("10.0.1.1", { count: 1, ...PING });
    until(mine);
    assert.equal(mine.received, 1);
    // the node's other address is not this interface's: asked for on it, nobody answers
    const other = a.ping("198.51.100.1", { count: 1, ...PING });
    until(other);
    assert.equal(other.received, 0);
    assert.deepEqual(a.arpTable(), [{ ip: "10.0.1.1", mac: "52:54:00:00:01:01" }]);
  });

  test("a paused router forwards nothing and answers nothing; started again, it forwards", () => {
    const { w, a, r } = oneRouter();
    r.paused = true;
    const run = a.ping("10.0.2.2", { count: 1, ...PING });
    w.until(run);
    // a's ARP for its gateway goes unanswered: its own Destination Host Unreachable
    assert.deepEqual([run.received, run.errors], [0, 1]);
    assert.equal(run.errorReports[0]!.text, "From 10.0.1.2 icmp_seq=1 Destination Host Unreachable");
    assert.deepEqual(w.on("L2"), []);
    assert.equal(w.on("L1").length, 3, "a's 3 ARP requests, unanswered");
    r.paused = false;
    const again = a.ping("10.0.2.2", { count: 1, ...PING });
    w.until(again);
    assert.equal(again.received, 1);
  });

  test("ICMP errors are rate-limited per destination as Linux: a burst of 6, then one a second", () => {
    // measured on Linux 6.18: ping -c 10 -i 0.2 -t 1 through a router gets "+7 errors", seq 1-7
    const { w, a, r } = oneRouter();
    const run = a.ping("10.0.2.2", { count: 10, ttl: 1, ...PING });
    w.until(run);
    // tokens (s): 6 -> 5 at 0, then +0.2 and -1 each request: 4.2, 3.4, 2.6, 1.8, 1.0, 0.2 at 1.2 s; then none
    assert.deepEqual(run.errorReports.map((e) => e.seq), [1, 2, 3, 4, 5, 6, 7]);
    assert.deepEqual(r.counters(), { forwarded: 0, icmpErrors: 7, icmpRateLimited: 3 });
    assert.deepEqual([run.sent, run.errors, run.received], [10, 7, 0]);
  });

  test("net unreachable also goes through ip_error's bucket (burst 5, sharing the tokens): 2 errors in 8 s", () => {
    // measured on Linux 6.18 (3 namespaces, ping -c 40 -i 0.2 to a network the router has no route to):
    // "From 10.0.1.1 icmp_seq=1" and "icmp_seq=2 Destination Net Unreachable", then none: each second
    // ip_error's bucket lets one through and the ICMP bucket, which it just emptied, refuses it
    const { w, a } = oneRouter();
    const run = a.ping("10.9.0.1", { count: 40, intervalNs: 200_000_000, waitNs: 2_500_000_000 });
    w.until(run);
    assert.deepEqual(run.errorReports.map((e) => e.seq), [1, 2]);
    assert.deepEqual([run.sent, run.errors], [40, 2]);
  });

  test("echo requests, replies and forwarded copies of every size and TTL have good checksums", () => {
    const { w, a } = oneRouter();
    for (const size of [0, 1, 2, 15, 16, 17, 18, 55, 56, 57, 100, 1471, 1472]) {
      for (const ttl of [2, 64, 255]) w.until(a.ping("10.0.2.2", { count: 2, size, ttl, ...PING }));
    }
    const ips = w.seen.filter((s) => s.bytes[12] === 8 && s.bytes[13] === 0).map((s) => ipv4(s.bytes));
    assert.equal(ips.length, 13 * 3 * 2 * 4);
    for (const ip of ips) {
      assert.equal(ip.checksumOk, true, `${ip.src} > ${ip.dst} ttl ${ip.ttl}`);
      assert.equal(ip.icmp?.checksumOk, true, `${ip.src} > ${ip.dst} ttl ${ip.ttl} ${ip.icmp?.data.length}`);
    }
  });

  test("the router's addresses are all local: it answers pings and ARP for any of them on any interface", () => {
    const { w, a } = oneRouter();
    const run = a.ping("10.0.2.1", { count: 1, ...PING });
    w.until(run);
    assert.equal(run.received, 1);
    assert.deepEqual(w.on("L2"), []);
    // an ARP request on L1 for the router's L2 address is answered on L1 (arp_ignore 0); the echo reply
    // then goes where the router's routes say: out of L2, towards 10.0.2.0/24 (as Linux, asymmetric)
    a.removeAddress("10.0.1.2");
    a.addAddress("10.0.2.50/16");
    const start = w.seen.length;
    const odd = a.ping("10.0.2.1", { count: 1, ...PING });
    w.until(odd);
    const after = w.seen.slice(start).map((s) => `${s.link} ${describeFrame(decodeFrame(s.bytes))}`);
    assert.deepEqual(after.slice(0, 4), [
      "L1 52:54:00:00:00:01 > ff:ff:ff:ff:ff:ff, ARP, Request who-has 10.0.2.1 tell 10.0.2.50",
      "L1 52:54:00:00:00:02 > 52:54:00:00:00:01, ARP, Reply 10.0.2.1 is-at 52:54:00:00:00:02",
      "L1 52:54:00:00:00:01 > 52:54:00:00:00:02, IPv4 10.0.2.50 > 10.0.2.1: ICMP echo request, id 2, seq 1",
      "L2 52:54:00:00:00:03 > ff:ff:ff:ff:ff:ff, ARP, Request who-has 10.0.2.50 tell 10.0.2.1",
    ]);
    assert.equal(odd.received, 0);
  });

  test("a host pings only through its own interface; the node's own other address is not its", () => {
    const w = new Wires();
    const vm = new SimStack({ scheduler: w.clock, name: "vm" });
    const n0 = w.nic(vm, "L1", "10.0.1.5/24");
    const n1 = w.nic(vm, "L2", "10.0.2.5/24");
    assert.equal(n0.ping("10.0.2.9").networkUnreachable, true);
    assert.equal(n0.ping("10.0.2.5").networkUnreachable, true);
    assert.equal(n1.ping("10.0.2.5").networkUnreachable, false);
    assert.equal(vm.ping("10.0.2.9").networkUnreachable, false);
    assert.deepEqual(vm.routeGet("10.0.2.5"), { type: "local", dev: n1.name, src: "10.0.2.5" });
    assert.equal(vm.routeGet("192.168.0.1"), undefined);
  });

  test("routes: errors name what is wrong; a route whose gateway is off-link is not used", () => {
    const { w, a } = oneRouter();
    const s = a.stack;
    assert.throws(() => s.setRoutes([{ network: "10.5.0.1/24", via: "10.0.1.1" }]), /host bits set/);
    assert.throws(() => s.setRoutes([{ network: "10.5.0.0/33", via: "10.0.1.1" }]), SyntaxError);
    assert.throws(() => s.setRoutes([{ network: "10.5.0.0/16", via: "nope" }]), SyntaxError);
    assert.throws(() => s.setRoutes([{ network: "0.0.0.0/0", via: "10.0.1.1" }]), /default gateway/);
    assert.throws(
      () =>
        s.setRoutes([{ network: "10.5.0.0/16", via: "10.0.1.1" }, {
          network: "10.5.0.0/16",
          via: "10.0.1.3",
        }]),
      /appears twice/,
    );
    assert.throws(() => s.removeRoute("10.6.0.0/16"), /it has none/);
    s.setDefaultGateway(undefined);
    s.setRoutes([{ network: "10.5.0.0/16", via: "10.7.0.1" }]);
    assert.equal(s.routeGet("10.5.1.1"), undefined);
    assert.equal(a.ping("10.5.1.1").networkUnreachable, true);
    s.addRoute({ network: "10.5.0.0/16", via: "10.0.1.1" });
    assert.equal(s.routeGet("10.5.1.1")?.via, "10.0.1.1");
    // longest prefix wins
    s.addRoute({ network: "10.5.1.0/24", via: "10.0.1.9" });
    assert.equal(s.routeGet("10.5.1.1")?.via, "10.0.1.9");
    assert.equal(s.routeGet("10.5.2.1")?.via, "10.0.1.1");
    s.removeRoute("10.5.1.0/24");
    assert.equal(s.routeGet("10.5.1.1")?.via, "10.0.1.1");
    assert.equal(s.defaultGateway(), undefined);
    s.setDefaultGateway("10.0.1.1");
    assert.equal(s.defaultGateway(), "10.0.1.1");
    assert.equal(s.routes()[0]!.network, "default");
    void w;
  });
});

// ---- tshark reads the router's frames ----

const requireReal = (process.env.CI ?? "") !== "" || process.env.LABWIRE_REQUIRE_REAL === "1";
const hasTshark = which("tshark") !== undefined;
const tsharkSkip = hasTshark || requireReal
  ? false
  : "needs tshark (apt-get install tshark); set LABWIRE_REQUIRE_REAL=1 to fail instead";
if (tsharkSkip !== false) process.stderr.write(`SKIP sim_stack.test.ts: ${tsharkSkip}\n`);

describe("a router's frames in a pcap, read by tshark", () => {
  let dir = "";
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "labwire-stack-"));
  });
  after(() => {
    if (dir !== "") rmSync(dir, { recursive: true, force: true });
  });

  test("TTLs, ICMP types and codes, and every checksum good", { skip: tsharkSkip }, async () => {
    const { w, a } = oneRouter();
    w.until(a.ping("10.0.2.2", { count: 1, ...PING }));
    w.until(a.ping("10.0.2.2", { count: 1, ttl: 1, ...PING }));
    w.until(a.ping("10.9.0.1", { count: 1, ...PING }));
    const file = join(dir, "router.pcap");
    const pcap = openPcapFile(file, { snaplen: 1600 });
    const ip = w.seen.filter((s) => s.bytes[12] === 8 && s.bytes[13] === 0);
    for (const s of ip) pcap.write(s.bytes, 0, s.bytes.length, s.t);
    pcap.close();
    const fields = [
      "ip.ttl",
      "ip.src",
      "ip.dst",
      "icmp.type",
      "icmp.code",
      "ip.checksum.status",
      "icmp.checksum.status",
    ];
    const r = await nodeRunner.run(
      [
        "tshark",
        "-r",
        file,
        "-o",
        "ip.check_checksum:TRUE",
        "-T",
        "fields",
        ...fields.flatMap((f) => ["-e", f]),
      ],
      { timeoutMs: 60_000 },
    );
    assert.equal(r.code, 0, r.stderr);
    // tshark shows an ICMP error's quoted header's fields after the outer ones (comma-separated); it leaves
    // the quoted ICMP checksum unverified (2)
    assert.deepEqual(r.stdout.trim().split("\n"), [
      "64\t10.0.1.2\t10.0.2.2\t8\t0\t1\t1",
      "63\t10.0.1.2\t10.0.2.2\t8\t0\t1\t1",
      "64\t10.0.2.2\t10.0.1.2\t0\t0\t1\t1",
      "63\t10.0.2.2\t10.0.1.2\t0\t0\t1\t1",
      "1\t10.0.1.2\t10.0.2.2\t8\t0\t1\t1",
      "64,1\t10.0.1.1,10.0.1.2\t10.0.1.2,10.0.2.2\t11,8\t0,0\t1,1\t1,2",
      "64\t10.0.1.2\t10.9.0.1\t8\t0\t1\t1",
      "64,64\t10.0.1.1,10.0.1.2\t10.0.1.2,10.9.0.1\t3,8\t0,0\t1,1\t1,2",
    ]);
  });
});

// ---- SimBackend: a VM is one node; RoutingBackend ----

describe("SimBackend as a RoutingBackend", () => {
  const vm = (name: string, id: number) => ({ name, id, namespace: "minimega" });
  const port = (name: string, tag: number, v: { name: string; id: number }, nic: number, mac: string) => ({
    name,
    mode: { kind: "access" as const, tag },
    role: "vm" as const,
    mac,
    vm: { ...v, namespace: "minimega", nic, type: "container" as const, running: true },
  });

  /** a (VLAN 10) -- r (VLANs 10 and 20) -- b (VLAN 20), on one bridge. */
  async function lab() {
    const backend = new SimBackend();
    const [a, r, b] = [vm("a", 1), vm("r", 2), vm("b", 3)];
    // the router's configuration may come before its NICs are plugged
    await backend.setForwarding(r, true);
    await backend.addPorts("br0", [
      port("tap0", 10, a, 0, "52:54:00:00:00:01"),
      port("tap1", 10, r, 0, "52:54:00:00:00:02"),
      port("tap2", 20, r, 1, "52:54:00:00:00:03"),
      port("tap3", 20, b, 0, "52:54:00:00:00:04"),
    ]);
    await backend.addAddress("br0", "tap0", "10.0.1.2/24");
    await backend.addAddress("br0", "tap1", "10.0.1.1/24");
    await backend.addAddress("br0", "tap2", "10.0.2.1/24");
    await backend.addAddress("br0", "tap3", "10.0.2.2/24");
    await backend.setDefaultGateway(a, "10.0.1.1");
    await backend.setDefaultGateway(b, "10.0.2.1");
    return { backend, a, r, b };
  }

  test("a VM's NICs are one node; pings cross it once it forwards", async () => {
    const { backend, r } = await lab();
    assert.equal(isRoutingBackend(backend), true);
    const node = backend.stack(2)!;
    assert.deepEqual(node.interfaces().map((h) => h.name), ["tap1", "tap2"]);
    assert.equal(backend.host("tap1")!.stack, backend.host("tap2")!.stack);
    assert.notEqual(backend.host("tap0")!.stack, node);
    const report = await backend.ping("br0", "tap0", "10.0.2.2", 3);
    assert.deepEqual([report.sent, report.received, report.errors, report.networkUnreachable], [
      3,
      3,
      0,
      false,
    ]);
    await backend.setForwarding(r, false);
    const off = await backend.ping("br0", "tap0", "10.0.2.2", 2);
    assert.deepEqual([off.sent, off.received, off.errors], [2, 0, 0]);
  });

  test("no route: networkUnreachable at the host; net unreachable from the router counts as errors", async () => {
    const { backend, a } = await lab();
    const far = await backend.ping("br0", "tap0", "10.9.0.1", 2);
    assert.deepEqual([far.sent, far.received, far.errors, far.networkUnreachable], [2, 0, 2, false]);
    await backend.setDefaultGateway(a, undefined);
    const none = await backend.ping("br0", "tap0", "10.9.0.1", 2);
    assert.equal(none.networkUnreachable, true);
  });

  test("static routes replace each other whole; bad ones are refused before anything changes", async () => {
    const { backend, r } = await lab();
    await backend.setRoutes(r, [{ network: "10.0.3.0/24", via: "10.0.2.2" }]);
    assert.deepEqual(backend.stack(2)!.routes().filter((x) => x.proto === "static").map((x) => x.network), [
      "10.0.3.0/24",
    ]);
    await assert.rejects(backend.setRoutes(r, [{ network: "10.0.4.1/24", via: "10.0.2.2" }]), /host bits/);
    await assert.rejects(backend.setDefaultGateway(r, "10.0.2"), SyntaxError);
    assert.equal(backend.stack(2)!.routes().filter((x) => x.proto === "static").length, 1);
    await backend.setRoutes(r, []);
    assert.equal(backend.stack(2)!.routes().filter((x) => x.proto === "static").length, 0);
  });

  test("a stopped router VM forwards nothing; started, it does; its node goes with its last NIC", async () => {
    const { backend } = await lab();
    const spec = {
      name: "r",
      namespace: "minimega",
      id: 2,
      type: "container" as const,
      nics: [{ tap: "tap1", driver: "", mac: "" }, { tap: "tap2", driver: "", mac: "" }],
      memory: 0,
      vcpus: 1,
      kernel: "",
      initrd: "",
      append: "",
      disks: [],
    };
    await backend.stopVms([spec]);
    assert.equal((await backend.ping("br0", "tap0", "10.0.2.2", 1)).received, 0);
    await backend.startVms([spec]);
    // a's unanswered ARP for its gateway turns FAILED at +3 s (the ping gave up at 2.5 s): wait for it
    const clock = backend.network.clock;
    clock.run(clock.now() + 1_000_000_000);
    assert.equal((await backend.ping("br0", "tap0", "10.0.2.2", 1)).received, 1);
    await backend.removePorts("br0", ["tap1"]);
    assert.deepEqual(backend.stack(2)!.interfaces().map((h) => h.name), ["tap2"]);
    await backend.removePorts("br0", ["tap2"]);
    assert.equal(backend.stack(2), undefined);
  });
});
