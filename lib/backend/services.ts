// Runtime-neutral.
/**
 * The part of the backend contract for a router's services: DHCP servers and a DNS server on a VM, as a
 * router's commit sets them (lib/lab/routers.ts; minimega's minirouter runs dnsmasq for both).
 *
 * @module
 */

import type { DhcpServerPlan } from "../lab/router_config.ts";
import type { VmSpec } from "./vms.ts";

/** What a VM serves. */
export interface Services {
  /** Its DHCP servers, one per subnet. */
  readonly dhcp: readonly DhcpServerPlan[];
  /** Its DNS records, host to addresses. */
  readonly dns: readonly { readonly host: string; readonly ips: readonly string[] }[];
  /** The DNS server it asks for other names, or "" for none (then it answers its own records only). */
  readonly upstream: string;
  /**
   * The addresses the lab's NICs and taps hold, by MAC, when a server is started again in a backend that
   * keeps nothing between processes (the simulator, from a state file): it takes them as its leases, as
   * dnsmasq finds its lease file again. Absent otherwise.
   */
  readonly held?: readonly { readonly mac: string; readonly ip: string }[];
}

/** What a host tap serves (`dnsmasq start`): a router's services, and what minimega's command adds. */
export interface TapServices extends Services {
  /** dnsmasq option strings (`dnsmasq configure <id> options`), e.g. `option:dns-server,10.0.0.1`. */
  readonly options: readonly string[];
  /** A dnsmasq configuration file of the user's (`dnsmasq start <config>`), or "". */
  readonly configFile: string;
}

/** Nothing served. */
export const NO_SERVICES: Services = { dhcp: [], dns: [], upstream: "" };

/** A backend whose VMs can serve DHCP and DNS. */
export interface ServicesBackend {
  /**
   * Makes what a VM serves exactly `services` (replacing what an earlier call set; {@linkcode NO_SERVICES}
   * stops it all). The VM's NICs have their addresses.
   */
  setServices(vm: VmSpec, services: Services): Promise<void>;
  /**
   * Makes what the host serves on a host tap exactly `services` (minimega's `dnsmasq` command), replacing
   * what an earlier call for the tap set; {@linkcode NO_SERVICES} stops it.
   *
   * @returns Where the server keeps its files and its PID, for the `dnsmasq` table ("" and -1 without).
   */
  setTapServices(bridge: string, tap: string, services: TapServices): Promise<{ path: string; pid: number }>;
}
