/**
 * sim/dhcp_server.ts and sim/dhcp_client.ts, frame by frame: the server's OFFER, ACK and NAK and the
 * client's DISCOVER and REQUEST against dnsmasq 2.90's and dhclient 4.4.3's own bytes
 * (tests/_fixtures/dnsmasq.ts); full exchanges on a virtual clock (static leases, an exhausted range,
 * expiry, NAK, DECLINE, RELEASE, dhclient's resend timer and timeout); and a DORA exchange in a pcap file
 * decoded by tshark.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { nodeRunner, which } from "../lib/exec.ts";
import {
  decodeDhcp,
  DHCP_FLAG_BROADCAST,
  DHCPDECLINE,
  DHCPDISCOVER,
  type DhcpMessage,
  DHCPRELEASE,
  DHCPREQUEST,
  encodeDhcp,
} from "../lib/wire/dhcp.ts";
import { encodeFrame, udpDatagram } from "../lib/wire/frame.ts";
import { encodePcap, type PcapRecord } from "../lib/wire/pcap.ts";
import { VirtualClock } from "../sim/clock.ts";
import { DhcpServer, type DhcpServerOptions, type DhcpServerReply } from "../sim/dhcp_server.ts";
import { DhcpClient, type DhcpClientDatagram, type DhcpClientLease } from "../sim/dhcp_client.ts";
import {
  DNSMASQ_DHCPACK,
  DNSMASQ_DHCPDISCOVER,
  DNSMASQ_DHCPNAK,
  DNSMASQ_DHCPOFFER,
  DNSMASQ_DHCPREQUEST,
} from "./_fixtures/dnsmasq.ts";

const S = 1_000_000_000;
const SERVER_MAC = "52:54:00:00:00:01";

function hex(s: string): Uint8Array {
  return Uint8Array.from(s.match(/../g)!, (b) => parseInt(b, 16));
}

/** The configuration dnsmasq ran with for the fixtures. */
function fixtureServer(clock: VirtualClock, extra: Partial<DhcpServerOptions> = {}): DhcpServer {
  return new DhcpServer({
    clock,
    serverIp: "10.77.0.1",
    subnet: "10.77.0.0/24",
    range: { start: "10.77.0.10", end: "10.77.0.200" },
    router: "10.77.0.1",
    dns: ["10.77.0.1"],
    statics: { "02:00:00:00:00:09": "10.77.0.9" },
    ...extra,
  });
}

function request(mac: string, fields: Partial<DhcpMessage>): Uint8Array {
  return encodeDhcp({ op: 1, xid: 0x1000, chaddr: mac, messageType: DHCPREQUEST, ...fields });
}

const FROM = { mac: "02:00:00:00:00:42", ip: "0.0.0.0" };

describe("DhcpServer answers as dnsmasq 2.90 did, byte for byte", () => {
  test("dhclient's DISCOVER gets dnsmasq's OFFER: the MAC-hashed address, options, unicast to it", () => {
    const server = fixtureServer(new VirtualClock());
    const replies = server.receive(hex(DNSMASQ_DHCPDISCOVER), FROM);
    assert.equal(replies.length, 1);
    const r = replies[0]!;
    assert.deepEqual(r.payload, hex(DNSMASQ_DHCPOFFER));
    assert.deepEqual(
      [r.dstMac, r.dstIp, r.srcIp, r.srcPort, r.dstPort, r.ttl, r.tos],
      ["02:00:00:00:00:42", "10.77.0.14", "10.77.0.1", 67, 68, 64, 0xc0],
    );
  });

  test("dhclient's REQUEST gets dnsmasq's ACK, and the lease is held for an hour", () => {
    const clock = new VirtualClock();
    const server = fixtureServer(clock);
    server.receive(hex(DNSMASQ_DHCPDISCOVER), FROM);
    const [ack] = server.receive(hex(DNSMASQ_DHCPREQUEST), FROM);
    assert.deepEqual(ack!.payload, hex(DNSMASQ_DHCPACK));
    assert.deepEqual(server.leases(), [{
      mac: "02:00:00:00:00:42",
      ip: "10.77.0.14",
      expiresAt: 3600 * S,
      static: false,
    }]);
  });

  test("a REQUEST for a taken address gets dnsmasq's broadcast NAK 'address in use'", () => {
    const server = fixtureServer(new VirtualClock());
    server.receive(hex(DNSMASQ_DHCPDISCOVER), FROM);
    server.receive(hex(DNSMASQ_DHCPREQUEST), FROM);
    const [nak] = server.receive(
      request("02:00:00:00:00:43", { xid: 0xabcd0001, serverId: "10.77.0.1", requestedIp: "10.77.0.14" }),
      { mac: "02:00:00:00:00:43", ip: "10.77.0.14" },
    );
    assert.deepEqual(nak!.payload, hex(DNSMASQ_DHCPNAK));
    assert.deepEqual([nak!.dstMac, nak!.dstIp], ["ff:ff:ff:ff:ff:ff", "255.255.255.255"]);
  });

  test("allocation 'dnsmasq' spreads MACs by hash; 'lowest' takes the lowest free address", () => {
    const offer = (server: DhcpServer, mac: string) =>
      decodeDhcp(
        server.receive(encodeDhcp({ op: 1, xid: 1, chaddr: mac, messageType: DHCPDISCOVER }), FROM)[0]!
          .payload,
      ).yiaddr;
    const hashed = fixtureServer(new VirtualClock());
    assert.equal(offer(hashed, "02:00:00:00:00:42"), "10.77.0.14"); // as dnsmasq gave it
    assert.notEqual(offer(hashed, "02:00:00:00:00:44"), "10.77.0.14");
    const lowest = fixtureServer(new VirtualClock(), { allocation: "lowest" });
    assert.equal(offer(lowest, "02:00:00:00:00:42"), "10.77.0.10");
    assert.equal(offer(lowest, "02:00:00:00:00:44"), "10.77.0.11"); // .10 is held for the first offer
    assert.equal(offer(lowest, "02:00:00:00:00:42"), "10.77.0.10"); // the same client, the same offer
  });

  test("the hash skips the server's own address and .0/.255 in a class C network", () => {
    const server = new DhcpServer({
      clock: new VirtualClock(),
      serverIp: "192.168.1.255",
      subnet: "192.168.0.0/23",
      range: { start: "192.168.1.254", end: "192.168.1.255" },
      allocation: "lowest",
    });
    const d = encodeDhcp({ op: 1, xid: 1, chaddr: "02:00:00:00:00:01", messageType: DHCPDISCOVER });
    assert.equal(decodeDhcp(server.receive(d, FROM)[0]!.payload).yiaddr, "192.168.1.254");
    const d2 = encodeDhcp({ op: 1, xid: 1, chaddr: "02:00:00:00:00:02", messageType: DHCPDISCOVER });
    assert.deepEqual(server.receive(d2, FROM), []); // .255 is the server's (and ends in .255)
  });
});

/** A wire between clients and a server on one virtual clock: every datagram is delivered after 0 ns. */
class Lab {
  clock = new VirtualClock();
  server: DhcpServer;
  log: { t: number; from: "client" | "server"; msg: DhcpMessage; dst: string }[] = [];
  clients = new Map<string, DhcpClient>();
  bound = new Map<string, DhcpClientLease>();
  failed = new Map<string, string>();
  failedAt = new Map<string, number>();
  serverUp = true;

  constructor(options: Partial<DhcpServerOptions> = {}) {
    this.server = fixtureServer(this.clock, options);
  }

  client(mac: string, extra: { random?: () => number } = {}): DhcpClient {
    const c = new DhcpClient({
      mac,
      scheduler: this.clock,
      send: (d: DhcpClientDatagram) => {
        this.log.push({ t: this.clock.now(), from: "client", msg: d.message, dst: d.dstIp });
        if (!this.serverUp) return;
        this.clock.after(0, () => {
          for (const r of this.server.receive(d.payload, { mac: d.srcMac, ip: d.srcIp })) this.deliver(r);
        });
      },
      onBound: (lease) => this.bound.set(mac, lease),
      onFailed: (e) => {
        this.failed.set(mac, e.message);
        this.failedAt.set(mac, this.clock.now());
      },
      ...extra,
    });
    this.clients.set(mac, c);
    return c;
  }

  deliver(r: DhcpServerReply): void {
    this.log.push({ t: this.clock.now(), from: "server", msg: r.message, dst: r.dstIp });
    this.clock.after(0, () => {
      for (const [mac, c] of this.clients) {
        if (r.dstMac === "ff:ff:ff:ff:ff:ff" || r.dstMac === mac) c.receive(r.payload);
      }
    });
  }

  types(): string[] {
    return this.log.map((e) =>
      `${e.from}:${["", "DISCOVER", "OFFER", "REQUEST", "", "ACK", "NAK"][e.msg.messageType!]}`
    );
  }
}

describe("DhcpClient and DhcpServer on a virtual clock", () => {
  test("a full DORA exchange: address/prefix, router, DNS and lease from the offer", () => {
    const lab = new Lab();
    const c = lab.client("02:00:00:00:00:42");
    c.start();
    lab.clock.run();
    assert.deepEqual(lab.types(), ["client:DISCOVER", "server:OFFER", "client:REQUEST", "server:ACK"]);
    assert.equal(c.state, "bound");
    assert.deepEqual(lab.bound.get("02:00:00:00:00:42"), {
      address: "10.77.0.14/24",
      router: "10.77.0.1",
      server: "10.77.0.1",
      leaseSeconds: 3600,
      dns: ["10.77.0.1"],
      boundAt: 0,
      expiresAt: 3600 * S,
    });
    assert.equal(lab.log[0]!.msg.xid, lab.log[3]!.msg.xid);
    assert.equal(lab.clock.pending, 0); // no timer left: nothing renews, as in the real backend
  });

  test("the client's DISCOVER and REQUEST are dhclient's, byte for byte", () => {
    const clock = new VirtualClock();
    const sent: DhcpClientDatagram[] = [];
    const numbers = [0x346add4d, 0, 0, 0];
    const c = new DhcpClient({
      mac: "02:00:00:00:00:42",
      scheduler: clock,
      send: (d) => sent.push(d),
      random: () => numbers.shift() ?? 0,
    });
    c.start();
    clock.run(1.5 * S); // a DISCOVER at 0 s (secs 0) and one at 1 s (secs 1), as dhclient did
    assert.deepEqual(sent.map((d) => d.payload), [
      hex(DNSMASQ_DHCPDISCOVER),
      hex(DNSMASQ_DHCPDISCOVER).with(9, 1),
    ]);
    assert.deepEqual(
      [sent[0]!.srcMac, sent[0]!.dstMac, sent[0]!.srcIp, sent[0]!.dstIp, sent[0]!.ttl, sent[0]!.tos],
      ["02:00:00:00:00:42", "ff:ff:ff:ff:ff:ff", "0.0.0.0", "255.255.255.255", 128, 0x10],
    );
    c.receive(hex(DNSMASQ_DHCPOFFER));
    assert.equal(sent.length, 2); // deferred, not sent from inside receive
    clock.run(1.5 * S);
    assert.deepEqual(sent[2]!.payload, hex(DNSMASQ_DHCPREQUEST));
    c.receive(hex(DNSMASQ_DHCPACK));
    assert.equal(c.state, "bound");
    assert.equal(c.lease!.address, "10.77.0.14/24");
  });

  test("a static lease wins over the range; with no range, only static clients get an address", () => {
    const lab = new Lab();
    lab.client("02:00:00:00:00:09").start();
    lab.clock.run();
    assert.equal(lab.bound.get("02:00:00:00:00:09")!.address, "10.77.0.9/24");
    assert.deepEqual(lab.server.leases().map((l) => [l.ip, l.static]), [["10.77.0.9", true]]);

    const only = new Lab();
    only.server = new DhcpServer({
      clock: only.clock,
      serverIp: "10.77.0.1",
      subnet: "10.77.0.0/24",
      statics: new Map([["02:00:00:00:00:09", "10.77.0.9"], ["02:00:00:00:00:08", "10.99.0.8"]]),
    });
    only.client("02:00:00:00:00:09").start();
    only.client("02:00:00:00:00:42").start();
    only.client("02:00:00:00:00:08").start(); // its static address is outside the subnet: ignored
    only.clock.run();
    assert.equal(only.bound.get("02:00:00:00:00:09")!.address, "10.77.0.9/24");
    assert.equal(only.bound.get("02:00:00:00:00:09")!.router, undefined); // no router configured
    assert.deepEqual(only.bound.get("02:00:00:00:00:09")!.dns, []);
    assert.equal(
      only.failed.get("02:00:00:00:00:42"),
      "Cannot get an address by DHCP for 02:00:00:00:00:42: no DHCP server answered within 10 s",
    );
    assert.ok(only.failed.has("02:00:00:00:00:08"));
  });

  test("range exhaustion: the third client of a two-address range gets no offer and fails", () => {
    const lab = new Lab({ range: { start: "10.77.0.10", end: "10.77.0.11" }, allocation: "lowest" });
    for (const mac of ["02:00:00:00:00:41", "02:00:00:00:00:42", "02:00:00:00:00:43"]) {
      lab.client(mac).start();
    }
    lab.clock.run();
    assert.equal(lab.bound.get("02:00:00:00:00:41")!.address, "10.77.0.10/24");
    assert.equal(lab.bound.get("02:00:00:00:00:42")!.address, "10.77.0.11/24");
    assert.equal(lab.clients.get("02:00:00:00:00:43")!.state, "failed");
    assert.equal(lab.server.leases().length, 2);
  });

  test("lease expiry on the virtual clock frees the address for another client", () => {
    const lab = new Lab({ range: { start: "10.77.0.10", end: "10.77.0.10" }, leaseSeconds: 60 });
    lab.client("02:00:00:00:00:41").start();
    lab.clock.run();
    assert.equal(lab.bound.get("02:00:00:00:00:41")!.expiresAt, 60 * S);
    const b = lab.client("02:00:00:00:00:42");
    b.start();
    lab.clock.run();
    assert.equal(b.state, "failed"); // at 10 s the lease still runs
    lab.clock.run(61 * S);
    assert.deepEqual(lab.server.leases(), []);
    b.start();
    lab.clock.run();
    assert.equal(lab.bound.get("02:00:00:00:00:42")!.address, "10.77.0.10/24");
    assert.equal(lab.bound.get("02:00:00:00:00:42")!.expiresAt, 61 * S + 60 * S);
  });

  test("NAKs: wrong network, static address elsewhere, INIT-REBOOT (silent unless authoritative)", () => {
    const clock = new VirtualClock();
    const server = fixtureServer(clock);
    const reason = (r: DhcpServerReply[]) => r.length === 0 ? "silent" : decodeDhcp(r[0]!.payload).message;
    const mac = "02:00:00:00:00:42";
    assert.equal(
      reason(server.receive(request(mac, { serverId: "10.77.0.1", requestedIp: "10.78.0.5" }), FROM)),
      "wrong network",
    );
    assert.equal(
      reason(
        server.receive(
          request("02:00:00:00:00:09", { serverId: "10.77.0.1", requestedIp: "10.77.0.50" }),
          FROM,
        ),
      ),
      "wrong address",
    );
    assert.equal(
      reason(server.receive(request(mac, { serverId: "10.77.0.1", requestedIp: "10.77.0.1" }), FROM)),
      "address not available",
    );
    // INIT-REBOOT (no server identifier) from a client with no lease: dnsmasq says nothing
    assert.equal(reason(server.receive(request(mac, { requestedIp: "10.78.0.5" }), FROM)), "silent");
    const auth = fixtureServer(clock, { authoritative: true });
    assert.equal(reason(auth.receive(request(mac, { requestedIp: "10.78.0.5" }), FROM)), "wrong network");
    // a REQUEST naming another server is not for this one
    assert.equal(
      reason(server.receive(request(mac, { serverId: "10.77.0.2", requestedIp: "10.77.0.20" }), FROM)),
      "silent",
    );
    // INIT-REBOOT with the address of the client's lease is ACKed; another address is NAKed
    server.receive(request(mac, { serverId: "10.77.0.1", requestedIp: "10.77.0.20" }), FROM);
    assert.equal(
      decodeDhcp(server.receive(request(mac, { requestedIp: "10.77.0.20" }), FROM)[0]!.payload).messageType,
      5,
    );
    assert.equal(reason(server.receive(request(mac, { requestedIp: "10.77.0.21" }), FROM)), "wrong address");
    // RENEWING: ciaddr set, the ACK goes to the client's address
    const renew = server.receive(request(mac, { ciaddr: "10.77.0.20" }), { mac, ip: "10.77.0.20" });
    assert.deepEqual([renew[0]!.dstIp, renew[0]!.dstMac], ["10.77.0.20", mac]);
  });

  test("a client that gets a NAK starts over with a new xid and DISCOVER", () => {
    const clock = new VirtualClock();
    const sent: DhcpMessage[] = [];
    const mac = "02:00:00:00:00:42";
    const c = new DhcpClient({ mac, scheduler: clock, send: (d) => sent.push(d.message) });
    c.start();
    clock.run(0);
    const first = c.xid;
    const reply = (fields: Partial<DhcpMessage>) =>
      encodeDhcp({ op: 2, xid: c.xid, chaddr: mac, serverId: "10.77.0.1", ...fields });
    c.receive(reply({ messageType: 2, yiaddr: "10.77.0.20" }));
    clock.run(0);
    assert.equal(c.state, "requesting");
    c.receive(reply({ messageType: 6, serverId: "10.77.0.2" })); // another server's NAK: not for this offer
    assert.equal(c.state, "requesting");
    c.receive(reply({ messageType: 6, message: "address in use" }));
    clock.run(0);
    assert.equal(c.state, "selecting");
    assert.deepEqual(sent.map((m) => m.messageType), [DHCPDISCOVER, DHCPREQUEST, DHCPDISCOVER]);
    assert.notEqual(sent[2]!.xid, first);
    assert.equal(sent[2]!.xid, c.xid);
    assert.equal(sent[2]!.secs, 0);
    // and a server then gives it an address
    const server = fixtureServer(clock);
    const offer = server.receive(encodeDhcp(sent[2]!), FROM)[0]!;
    c.receive(offer.payload);
    clock.run(0);
    c.receive(server.receive(encodeDhcp(sent[3]!), FROM)[0]!.payload);
    assert.equal(c.state, "bound");
  });

  test("an INFORM gets an ACK with the options, no address and no lease time, to the client's address", () => {
    const server = fixtureServer(new VirtualClock());
    const inform = encodeDhcp({
      op: 1,
      xid: 9,
      chaddr: "02:00:00:00:00:42",
      ciaddr: "10.77.0.30",
      messageType: 8,
    });
    const [r] = server.receive(inform, { mac: "02:00:00:00:00:42", ip: "10.77.0.30" });
    assert.deepEqual([r!.dstIp, r!.message.messageType, r!.message.yiaddr], ["10.77.0.30", 5, "0.0.0.0"]);
    assert.equal(r!.message.leaseSeconds, undefined);
    assert.deepEqual([r!.message.routers, r!.message.dnsServers], [["10.77.0.1"], ["10.77.0.1"]]);
    assert.deepEqual(server.leases(), []);
  });

  test("the broadcast flag makes the server broadcast its OFFER", () => {
    const server = fixtureServer(new VirtualClock());
    const [r] = server.receive(
      encodeDhcp({
        op: 1,
        xid: 1,
        flags: DHCP_FLAG_BROADCAST,
        chaddr: "02:00:00:00:00:42",
        messageType: DHCPDISCOVER,
      }),
      FROM,
    );
    assert.deepEqual([r!.dstMac, r!.dstIp, r!.message.flags], [
      "ff:ff:ff:ff:ff:ff",
      "255.255.255.255",
      0x8000,
    ]);
  });

  test("DECLINE keeps the address out for 10 minutes; RELEASE ends the lease", () => {
    const clock = new VirtualClock();
    const server = fixtureServer(clock, {
      range: { start: "10.77.0.10", end: "10.77.0.11" },
      allocation: "lowest",
    });
    const mac = "02:00:00:00:00:42";
    const discover = () =>
      decodeDhcp(
        server.receive(encodeDhcp({ op: 1, xid: 2, chaddr: mac, messageType: DHCPDISCOVER }), FROM)[0]!
          .payload,
      )
        .yiaddr;
    server.receive(request(mac, { serverId: "10.77.0.1", requestedIp: "10.77.0.10" }), FROM);
    server.receive(
      encodeDhcp({
        op: 1,
        xid: 3,
        chaddr: mac,
        messageType: DHCPDECLINE,
        serverId: "10.77.0.1",
        requestedIp: "10.77.0.10",
      }),
      FROM,
    );
    assert.deepEqual(server.leases(), []);
    assert.equal(discover(), "10.77.0.11");
    clock.run(601 * S);
    const other = fixtureServer(clock, {
      range: { start: "10.77.0.10", end: "10.77.0.11" },
      allocation: "lowest",
    });
    assert.equal(
      decodeDhcp(
        other.receive(encodeDhcp({ op: 1, xid: 2, chaddr: mac, messageType: DHCPDISCOVER }), FROM)[0]!
          .payload,
      ).yiaddr,
      "10.77.0.10",
    );
    // RELEASE
    server.receive(request(mac, { serverId: "10.77.0.1", requestedIp: "10.77.0.11" }), FROM);
    assert.equal(server.leases().length, 1);
    server.receive(
      encodeDhcp({
        op: 1,
        xid: 4,
        chaddr: mac,
        ciaddr: "10.77.0.11",
        messageType: DHCPRELEASE,
        serverId: "10.77.0.1",
      }),
      FROM,
    );
    assert.deepEqual(server.leases(), []);
    assert.equal(discover(), "10.77.0.10"); // the decline ran out at 600 s
  });

  test("dhclient's resend timer: 1 s, then 1-2 s; secs counts up; gives up at 10 s and stops", () => {
    const lab = new Lab();
    lab.serverUp = false;
    const c = lab.client("02:00:00:00:00:42");
    c.start();
    lab.clock.run();
    const times = lab.log.map((e) => e.t / S);
    assert.equal(times[0], 0);
    assert.equal(times[1], 1);
    for (let i = 2; i < times.length; i++) {
      const gap = times[i]! - times[i - 1]!;
      assert.ok(gap >= 1 && gap < 3, `resend gap ${gap} s`);
    }
    assert.ok(times.at(-1)! < 10);
    assert.deepEqual(lab.log.map((e) => e.msg.secs), times.map(Math.floor));
    assert.ok(lab.log.every((e) => e.msg.xid === lab.log[0]!.msg.xid));
    assert.equal(c.state, "failed");
    assert.equal(lab.failedAt.get("02:00:00:00:00:42"), 10 * S);
    const n = lab.log.length;
    lab.clock.run(100 * S);
    assert.equal(lab.log.length, n); // nothing more after the failure
  });

  test("REQUEST resends follow send_request(): (random() >> 2) % 2x, then cutoff/2 + (random() >> 2) % cutoff", () => {
    const clock = new VirtualClock();
    const times: number[] = [];
    const c = new DhcpClient({
      mac: "02:00:00:00:00:42",
      scheduler: clock,
      send: (d) => {
        if (d.message.messageType === DHCPREQUEST) times.push(clock.now());
      },
      random: () => 12, // >> 2 is 3
      rebootTimeoutSeconds: 100,
      timeoutSeconds: 100,
    });
    c.start();
    clock.run(0);
    c.receive(
      encodeDhcp({
        op: 2,
        xid: c.xid,
        chaddr: "02:00:00:00:00:42",
        messageType: 2,
        yiaddr: "10.77.0.20",
        serverId: "10.77.0.1",
      }),
    );
    clock.run(10 * S);
    // intervals: 1; 1 + 3 % 2 = 2; 2 + 3 % 4 = 5 > 2, so 1 + 3 % 2 = 2; ... (12 us added past 1 s)
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    assert.deepEqual(gaps.slice(0, 4), [1 * S, 2 * S + 12_000, 2 * S + 12_000, 2 * S + 12_000]);
  });

  test("a REQUEST is resent, and after reboot-timeout without an ACK the client DISCOVERs again", () => {
    const clock = new VirtualClock();
    const sent: DhcpMessage[] = [];
    const c = new DhcpClient({
      mac: "02:00:00:00:00:42",
      scheduler: clock,
      send: (d) => sent.push(d.message),
      rebootTimeoutSeconds: 3,
      timeoutSeconds: 30,
    });
    c.start();
    clock.run(0);
    const offer = encodeDhcp({
      op: 2,
      xid: c.xid,
      chaddr: "02:00:00:00:00:42",
      messageType: 2,
      yiaddr: "10.77.0.20",
      serverId: "10.77.0.1",
    });
    c.receive(offer);
    clock.run(5 * S);
    const kinds = sent.map((m) => m.messageType);
    assert.deepEqual(kinds.slice(0, 3), [DHCPDISCOVER, DHCPREQUEST, DHCPREQUEST]);
    assert.ok(kinds.includes(DHCPDISCOVER, 3));
    c.stop();
    const n = sent.length;
    clock.run();
    assert.equal(sent.length, n);
    assert.equal(c.state, "stopped");
  });

  test("malformed or foreign messages are ignored by both engines", () => {
    const clock = new VirtualClock();
    const server = fixtureServer(clock);
    assert.deepEqual(server.receive(new Uint8Array(10), FROM), []);
    assert.deepEqual(server.receive(hex(DNSMASQ_DHCPOFFER), FROM), []); // a reply, not a request
    const relayed = encodeDhcp({
      op: 1,
      xid: 1,
      giaddr: "10.0.0.1",
      chaddr: "02:00:00:00:00:42",
      messageType: 1,
    });
    assert.deepEqual(server.receive(relayed, FROM), []);
    const sent: DhcpClientDatagram[] = [];
    const c = new DhcpClient({ mac: "02:00:00:00:00:42", scheduler: clock, send: (d) => sent.push(d) });
    c.start();
    clock.run(0);
    c.receive(new Uint8Array(3));
    c.receive(hex(DNSMASQ_DHCPOFFER)); // another xid
    assert.equal(c.state, "selecting");
    assert.throws(() => new DhcpClient({ mac: "nope", scheduler: clock, send: () => {} }), SyntaxError);
    assert.throws(() => fixtureServer(clock, { subnet: "10.77.0.0/33" }), SyntaxError);
    assert.throws(
      () => fixtureServer(clock, { range: { start: "10.77.0.20", end: "10.77.0.10" } }),
      RangeError,
    );
    assert.throws(() => fixtureServer(clock, { serverIp: "10.78.0.1" }), RangeError);
    assert.throws(() => fixtureServer(clock, { leaseSeconds: 0 }), RangeError);
  });
});

describe("the engines never throw on what arrives", () => {
  test("property: mutated DISCOVERs, REQUESTs and replies, and random bytes", () => {
    const clock = new VirtualClock();
    const server = fixtureServer(clock, { authoritative: true });
    const client = new DhcpClient({ mac: "02:00:00:00:00:42", scheduler: clock, send: () => {} });
    client.start();
    clock.run(0);
    const fixtures = [
      DNSMASQ_DHCPDISCOVER,
      DNSMASQ_DHCPREQUEST,
      DNSMASQ_DHCPOFFER,
      DNSMASQ_DHCPACK,
      DNSMASQ_DHCPNAK,
    ]
      .map(hex);
    fc.assert(
      fc.property(
        fc.nat(fixtures.length - 1),
        fc.array(fc.tuple(fc.nat(299), fc.nat(255)), { maxLength: 10 }),
        fc.uint8Array({ maxLength: 320 }),
        (which, changes, noise) => {
          const b = fixtures[which]!.slice();
          for (const [at, v] of changes) b[at] = v;
          for (const bytes of [b, noise]) {
            const replies = server.receive(bytes, FROM);
            assert.ok(replies.length <= 1);
            for (const r of replies) decodeDhcp(r.payload);
            client.receive(bytes);
          }
        },
      ),
      { numRuns: 3000 },
    );
  });
});

// ---- tshark decodes a simulated exchange ----

const requireReal = (process.env.CI ?? "") !== "" || process.env.LABWIRE_REQUIRE_REAL === "1";
const tsharkSkip = which("tshark") !== undefined || requireReal
  ? false
  : "needs tshark (apt-get install tshark); set LABWIRE_REQUIRE_REAL=1 to fail instead";

describe("a simulated DHCP exchange in a pcap file, decoded by tshark", () => {
  test("DISCOVER, OFFER, REQUEST, ACK with your address, router and DNS", { skip: tsharkSkip }, async () => {
    const lab = new Lab();
    const records: PcapRecord[] = [];
    const frame = (
      d: {
        srcMac: string;
        dstMac: string;
        srcIp: string;
        dstIp: string;
        srcPort: number;
        dstPort: number;
        ttl: number;
        payload: Uint8Array;
      },
    ) => {
      const bytes = encodeFrame(udpDatagram({ ...d, data: d.payload }));
      records.push({ timeNs: lab.clock.now(), origLen: bytes.length, data: bytes });
    };
    const c = new DhcpClient({
      mac: "02:00:00:00:00:42",
      scheduler: lab.clock,
      send: (d) => {
        frame(d);
        lab.clock.after(1_000_000, () => {
          for (const r of lab.server.receive(d.payload, { mac: d.srcMac, ip: d.srcIp })) {
            frame({ ...r, srcMac: SERVER_MAC });
            lab.clock.after(1_000_000, () => c.receive(r.payload));
          }
        });
      },
    });
    c.start();
    lab.clock.run();
    assert.equal(c.state, "bound");
    const dir = mkdtempSync(path.join(os.tmpdir(), "labwire-dhcp-"));
    try {
      const file = path.join(dir, "dora.pcap");
      writeFileSync(file, encodePcap(records, { precision: "ns" }));
      const fields = [
        "dhcp.option.dhcp",
        "dhcp.ip.your",
        "dhcp.option.router",
        "dhcp.option.domain_name_server",
        "dhcp.option.ip_address_lease_time",
        "udp.checksum.status",
      ];
      const result = await nodeRunner.run(
        [
          "tshark",
          "-r",
          file,
          "-o",
          "udp.check_checksum:TRUE",
          "-T",
          "fields",
          ...fields.flatMap((f) => ["-e", f]),
        ],
        { timeoutMs: 60_000 },
      );
      assert.equal(result.code, 0, result.stderr);
      assert.deepEqual(result.stdout.split("\n").slice(0, -1), [
        "1\t0.0.0.0\t\t\t\t1",
        "2\t10.77.0.14\t10.77.0.1\t10.77.0.1\t3600\t1",
        "3\t0.0.0.0\t\t\t\t1",
        "5\t10.77.0.14\t10.77.0.1\t10.77.0.1\t3600\t1",
      ]);
      const info = await nodeRunner.run([
        "tshark",
        "-r",
        file,
        "-T",
        "fields",
        "-e",
        "_ws.col.Info",
        "-e",
        "_ws.expert",
      ], { timeoutMs: 60_000 });
      assert.deepEqual(
        info.stdout.split("\n").slice(0, -1).map((l) =>
          l.split("\t")[0]!.replace(/\s*- Transaction ID 0x[0-9a-f]+/, "")
        ),
        [
          "DHCP Discover",
          "DHCP Offer",
          "DHCP Request",
          "DHCP ACK",
        ],
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
