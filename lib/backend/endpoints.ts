// Runtime-neutral.
/**
 * The backend contract for endpoints: the hosts behind VM NICs and host taps get IPv4 addresses, leases by
 * DHCP, and send echo requests, the same way on every backend (the pacing of {@linkcode PING_INTERVAL_MS}
 * and {@linkcode PING_WAIT_MS}).
 *
 * @module
 */

/**
 * How labwire's `ping` paces its echo requests on every backend, as `ping -i 0.2` does: 200 ms apart.
 */
export const PING_INTERVAL_MS = 200;

/**
 * How long labwire's `ping` waits after its last echo request when no reply has come at all, as
 * `ping -W 2.5` does (with replies, it waits twice the longest round trip, at least one interval).
 * 2.5 s lies between the second and third ARP retransmission of Linux (1 s apart, 3 in all), so a
 * ping to an address nobody answers always shows its three ARP requests, on the simulator as on a
 * real kernel, and never races the kernel's timers.
 */
export const PING_WAIT_MS = 2500;

/** What a backend's ping saw. */
export interface PingReport {
  /** Echo requests sent (counted as ping(8) counts "packets transmitted"). */
  readonly sent: number;
  /** Echo replies received. */
  readonly received: number;
  /**
   * Echo requests reported unreachable, ping's "+N errors": ARP got no answer (Linux's "Destination Host
   * Unreachable"), or a router answered with an ICMP error (time exceeded, net or host unreachable).
   */
  readonly errors: number;
  /** The round trip of each reply, in milliseconds, in the order they came. */
  readonly rttMs: readonly number[];
  /**
   * Nothing was sent because the endpoint has no route to the address (no address at all, or none whose
   * subnet holds it, and no static route or gateway that does, through this NIC): Linux's `connect:
   * Network is unreachable`.
   */
  readonly networkUnreachable: boolean;
}

/** What a DHCP client got: its address, and the default gateway the server named (option 3), if any. */
export interface DhcpResult {
  /** The address with its prefix length, `10.0.0.7/24`. */
  readonly address: string;
  /** The first router the server named. */
  readonly router?: string;
}

/** Addresses, DHCP and pings of the endpoints behind ports. */
export interface EndpointBackend {
  /** Gives the endpoint behind a port an IPv4 address (`10.0.0.1/24`); one it has already is no error. */
  addAddress(bridge: string, port: string, cidr: string): Promise<void>;
  /** Takes an address away from the endpoint behind a port; one it does not have is no error. */
  removeAddress(bridge: string, port: string, cidr: string): Promise<void>;
  /**
   * Gets the endpoint behind a port an address by DHCP, and gives it that address.
   *
   * @returns The address, `10.0.0.7/24`, and the router the server named.
   * @throws {Error} When no lease came in time: `Cannot get an address by DHCP for tap X: ...`.
   */
  dhcp(bridge: string, port: string): Promise<DhcpResult>;
  /** Sends `count` echo requests from the endpoint behind a port, paced as {@linkcode PING_INTERVAL_MS} says. */
  ping(bridge: string, port: string, ip: string, count: number): Promise<PingReport>;
}
