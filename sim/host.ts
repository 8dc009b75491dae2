// Runtime-neutral.
/**
 * A small IPv4 host for the simulator: what sits behind a VM's NIC or a host tap. It answers ARP and
 * ICMP echo requests for its addresses, resolves neighbours the way Linux's neighbour code does, and
 * pings the way iputils `ping -n -c COUNT -i INTERVAL -W WAIT` does, in virtual time, so that a lab on the
 * simulator puts the same frames on its wires as the same lab on Open vSwitch with network namespaces.
 *
 * A host is an untagged endpoint of an access port: it drops tagged frames, and ignores frames whose
 * destination MAC is neither its own nor broadcast. Everything it sends in answer to a frame is sent
 * 1 us of virtual time later ({@linkcode HOST_PROCESSING_NS}), through the {@linkcode Scheduler}, so
 * delivering a frame never recurses into the bridge. Nothing here reads a real clock or random numbers:
 * the same lab gives the same frames at the same virtual times, every run.
 *
 * Frames are written from numbers into buffers the node owns and reuses; `transmit` must copy (or finish
 * with) the bytes before it returns.
 *
 * **Ping** ({@linkcode SimHost.ping}), as iputils: echo request `seq` 1, 2, ... go out `intervalNs`
 * apart, the first at once (when the scheduler next runs). Each one's data is the bytes 0, 1, 2, ...,
 * with the first 16 overwritten by a `struct timeval` of the virtual time it was sent (8-byte seconds,
 * 8-byte microseconds, little-endian, as on x86_64) when there is room for one. When the last request has
 * gone out, the linger is decided once: `waitNs` (`-W`) if no reply has come yet, else twice the longest
 * round trip so far, at least `intervalNs`. The run ends when every request is answered or reported
 * unreachable (`received + errors === count`, ping's exit test), else when the linger after the last
 * request runs out; later replies are ignored. A ping that got no reply at all then forgets the
 * destination's neighbour entry, whatever its state, and with it any retransmission and queued packet,
 * as labwire's real backend does with `ip neigh flush to IP`: nothing more is sent for it, and the next
 * ping starts afresh.
 *
 * **Neighbours** (ARP, RFC 826), per destination address, as Linux with `mcast_probes` 3 and
 * `retrans_time_ms` 1000:
 * - a packet for an address with no entry, or a FAILED one, makes an INCOMPLETE entry, is queued on it,
 *   and a broadcast ARP request goes out at once; while INCOMPLETE, another request goes out every
 *   {@linkcode ARP_RETRY_NS} (1 s), {@linkcode ARP_MAX_REQUESTS} (3) in all, at +0, +1 s and +2 s; at
 *   +3 s with no answer the entry is FAILED and its queued packets are dropped without a frame, each
 *   echo request of a running ping counted in {@linkcode PingRun.errors} (Linux's "Destination Host
 *   Unreachable", ping's "+N errors");
 * - a packet for an INCOMPLETE address is only queued (at most {@linkcode ARP_QUEUE_MAX}, 101, Linux's
 *   `unres_qlen`: the oldest is dropped beyond that); a packet for a FAILED address starts a new cycle;
 * - an ARP request for one of the host's addresses teaches it the sender (a new entry or an update) and
 *   is answered; any other ARP packet (a reply, or a request for someone else) only updates an entry the
 *   host already has, in any state (Linux with `arp_accept` 0: an unsolicited reply teaches nothing).
 *   An entry resolved while INCOMPLETE sends its queued packets in order, {@linkcode HOST_PROCESSING_NS}
 *   later;
 * - resolved entries never age (labwire's real endpoints are configured not to re-probe either); echo
 *   replies go through the same table, so a host that lost its entry for the asker asks first.
 *
 * A packet sent at the very instant an entry turns FAILED: in Linux (`__neigh_event_send`,
 * `neigh_timer_handler`), the send path and the entry's timer take the entry's lock in turn. A timer due
 * at a tick runs in that tick's softirq, before process context goes on, so at the same instant the timer
 * comes first: the entry is FAILED, its queue dropped, and the new packet finds it FAILED and starts a new
 * cycle with a request at once. (Had the send come first, the packet would join the queue and be dropped
 * with it, without a new request.) The simulator gets the same order from its rule that events due at the
 * same virtual time run in the order they were scheduled: the timer due at +3 s was scheduled at +2 s,
 * when the third request went out, and a ping's request due at +3 s was scheduled one interval earlier,
 * after it when the interval is under 1 s (labwire's 200 ms). So the 16th request of an unanswered
 * labwire ping starts a new cycle at +3 s. A real kernel's instants drift: each retransmission is armed
 * from when the timer actually ran, and the timer wheel fires a 1 s timer up to some tens of ms late, so
 * there the FAILED instant falls a little after +3 s and that request usually joins the old queue; runs
 * that reach that instant (16 or more unanswered requests 200 ms apart) can differ from the simulator.
 *
 * **Routes**: a host is one interface of a {@linkcode SimStack} node (`new SimHost(...)` makes a node of
 * one; a VM's NICs are the interfaces of one node, as one network namespace holds them). It reaches the
 * subnets of its own addresses, and what the node's static routes and default gateway reach through it
 * (`host.stack.setDefaultGateway(...)`; see `sim/stack.ts`, which also forwards between interfaces). A
 * ping to any other address (or from a host with no address) sends nothing and ends at once with
 * {@linkcode PingRun.networkUnreachable}, as ping(8) stops with `connect: Network is unreachable` before
 * its first request. ICMP errors from routers about its requests count as {@linkcode PingRun.errors}.
 *
 * **Paused** ({@linkcode SimHost.paused}): a host whose VM does not run (launched and not started,
 * stopped, or killed) takes no frame in (each is counted as ignored) and sends none, not even a
 * retransmission already due; its tables stay as they were, as a paused guest's do.
 *
 * @example Two hosts on one wire
 * ```ts
 * import assert from "node:assert/strict";
 * import { SimHost, VirtualClock } from "labwire/sim";
 *
 * const clock = new VirtualClock();
 * const a: SimHost = new SimHost({ mac: "52:54:00:00:00:01", scheduler: clock, transmit: (buf, off, len) => b.receive(buf, off, len) });
 * const b: SimHost = new SimHost({ mac: "52:54:00:00:00:02", scheduler: clock, transmit: (buf, off, len) => a.receive(buf, off, len) });
 * a.addAddress("10.0.0.1/24");
 * b.addAddress("10.0.0.2/24");
 * const run = a.ping("10.0.0.2", { count: 3, intervalNs: 200_000_000 });
 * clock.runUntil(() => run.done, 10_000_000_000);
 * assert.equal(clock.now(), 400_001_000); // the third request at 400 ms, its reply 1 us later
 * assert.deepEqual([run.sent, run.received, run.lost], [3, 3, 0]);
 * assert.deepEqual(a.arpTable(), [{ ip: "10.0.0.2", mac: "52:54:00:00:00:02" }]);
 * ```
 *
 * @module
 */

export {
  ARP_MAX_REQUESTS,
  ARP_QUEUE_MAX,
  ARP_RETRY_NS,
  HOST_PROCESSING_NS,
  PING_MAX_DATA,
  type PingErrorReport,
  type PingRun,
  SimHost,
  type SimHostCounters,
  type SimHostOptions,
  type SimHostPingOptions,
  type SimNeighbour,
  type SimNeighbourState,
} from "./stack.ts";
