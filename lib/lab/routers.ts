// Runtime-neutral.
/**
 * The routers room: minimega's `router` configurations, one per VM (by VM id, as minimega keys them),
 * and what their last commit applied. Editing a configuration touches nothing but the record; a commit
 * checks the configuration against the VM's interfaces, gives the VM's NICs their addresses (through the
 * VMs room, as `vm net ip` does, so `vm info` shows them), and has the backend set forwarding and routes.
 *
 * @module
 */

import type { RoutingBackend } from "../backend/routing.ts";
import { NO_SERVICES, type ServicesBackend } from "../backend/services.ts";
import type { FirewallBackend } from "../backend/firewall.ts";
import { LabError } from "../errors.ts";
import type { Journal } from "./_journal.ts";
import type { RouterRecord, VmRecord } from "./records.ts";
import {
  fwFilters,
  ipv4Number,
  isIpv4,
  newRouterConfig,
  type RouterConfig,
  RouterError,
  type RouterPlan,
  routerPlan,
} from "./router_config.ts";
import type { VmRoom } from "./vms.ts";

/** The lab's routers. */
export class RouterRoom {
  #journal: Journal;
  #backend: Partial<RoutingBackend & ServicesBackend & FirewallBackend>;
  #vms: VmRoom;
  #routers = new Map<number, RouterRecord>();

  /** Makes the room. */
  constructor(
    journal: Journal,
    backend: Partial<RoutingBackend & ServicesBackend & FirewallBackend>,
    vms: VmRoom,
  ) {
    this.#journal = journal;
    this.#backend = backend;
    this.#vms = vms;
  }

  /** The routers, of one namespace or of all, by VM id. */
  list(namespace?: string): RouterRecord[] {
    const all = [...this.#routers.values()].sort((a, b) => a.vm - b.vm);
    return namespace === undefined ? all : all.filter((r) => r.namespace === namespace);
  }

  /** A VM's router, or undefined. */
  get(vm: number): RouterRecord | undefined {
    return this.#routers.get(vm);
  }

  #put(router: RouterRecord): void {
    const before = this.#routers.get(router.vm);
    this.#routers.set(router.vm, router);
    this.#journal.record(() =>
      before === undefined ? this.#routers.delete(router.vm) : this.#routers.set(router.vm, before)
    );
  }

  #delete(vm: number): void {
    const before = this.#routers.get(vm);
    if (before === undefined) return;
    this.#routers.delete(vm);
    this.#journal.record(() => this.#routers.set(vm, before));
  }

  /**
   * Changes a VM's router (made on first use, with as many NICs as the VM has now, as minimega's
   * `FindOrCreateRouter`). A change that throws leaves it as it was (and makes none).
   */
  edit(vm: VmRecord, change: (config: RouterConfig) => RouterConfig): RouterRecord {
    const router = this.#routers.get(vm.id) ??
      { vm: vm.id, namespace: vm.namespace, config: newRouterConfig(vm.nics.length) };
    const next = { ...router, config: change(router.config) };
    this.#put(next);
    return next;
  }

  /** A VM's router. @throws {RouterError} `vm X not a router` (minimega's words). */
  require(vm: VmRecord): RouterRecord {
    const router = this.#routers.get(vm.id);
    if (router === undefined) throw new RouterError("router-not-found", `vm ${vm.name} not a router`);
    return router;
  }

  /** Forgets routers (`clear router`, a namespace destroyed, VMs flushed). What they applied stays applied. */
  drop(pick: (router: RouterRecord) => boolean): void {
    for (const router of this.list()) if (pick(router)) this.#delete(router.vm);
  }

  /**
   * Applies a VM's router (`router <vm> commit`): checks the configuration ({@linkcode routerPlan}), gives
   * its NICs the addresses it lists and takes away those the last commit gave and it no longer lists,
   * then has the backend set forwarding, routes and the default gateway.
   *
   * @throws {RouterError} `vm X not a router`.
   * @throws {LabError} For a KVM VM (it would need minimega's agent in its guest), a VM that is not
   * running, a configuration with nothing to apply or that does not fit its interfaces, and what this
   * backend cannot do yet (DHCP, DNS, firewalls: `unsupported`).
   */
  async commit(vm: VmRecord): Promise<RouterRecord> {
    const router = this.require(vm);
    const fail = (code: "unsupported" | "vm-not-running" | "invalid-argument", why: string): never => {
      throw new LabError(code, `Cannot commit router ${vm.name}: ${why}`);
    };
    if (vm.type === "kvm") {
      fail(
        "unsupported",
        "a KVM VM would need minimega's minirouter agent in its guest; labwire applies routers to container VMs (docs/compat.md)",
      );
    }
    if (vm.state !== "RUNNING" && vm.state !== "PAUSED") {
      fail("vm-not-running", `it is not running (state ${vm.state})`);
    }
    const config = router.config;
    const plan = routerPlan(config, vm.name, vm.nics.map((nic) => nic.ips));
    const applies = plan.addresses.some((ips) => ips.length > 0) || plan.dhcpClients.length > 0 ||
      plan.routes.length > 0 || plan.gateway !== "" || plan.dhcpServers.length > 0 || plan.dns.length > 0 ||
      plan.loopbacks.length > 0 || router.committed !== undefined;
    if (!applies) {
      fail("invalid-argument", "nothing is configured (router <vm> interface, route, gw or dhcp first)");
    }
    const serves = servesAnything(plan);
    const filters = fwFilters(plan.fw);
    const setFirewall = this.#backend.setFirewall?.bind(this.#backend);
    const setServices = this.#backend.setServices?.bind(this.#backend);
    const later = [
      serves && setServices === undefined ? "DHCP and DNS servers on this backend" : "",
      filters && setFirewall === undefined ? "firewall rules on this backend" : "",
    ].filter((s) => s !== "");
    if (later.length > 0) fail("unsupported", `labwire cannot apply ${later.join(", ")} yet`);
    const setRouting = this.#backend.setRouting?.bind(this.#backend);
    if (setRouting === undefined) return fail("unsupported", "this backend cannot route");
    // the addresses: minimega's `ip flush` then `ip add`, when they changed since the last commit
    const previous = router.committed;
    if (config.updateIps || previous === undefined) {
      for (const [index, ips] of (previous?.addresses ?? []).entries()) {
        for (const cidr of ips) {
          if (!plan.addresses[index]?.includes(cidr)) await this.#vms.removeAddress(vm.id, index, cidr);
        }
      }
      for (const [index, ips] of plan.addresses.entries()) {
        for (const cidr of ips) await this.#vms.addAddress(vm.namespace, vm.name, String(index), cidr);
      }
    }
    // NICs that get their address by DHCP (minirouter's dhclient): the lease's address, recorded as the
    // commit's, so that the next one that changes the addresses takes it away; and, as dhclient's script
    // does, the lease's router as the default route when the router names none. A VM that does not run yet
    // takes its leases when it starts (started()), as minirouter's dhclient runs when the guest boots.
    const addresses = plan.addresses.map((ips) => [...ips]);
    let gateway = plan.gateway;
    let leasesPending: readonly number[] = [];
    const renew = config.updateIps || previous === undefined || (router.leasesPending?.length ?? 0) > 0;
    if (!renew) {
      for (const index of plan.dhcpClients) addresses[index]!.push(...(previous.addresses[index] ?? []));
      if (gateway === "" && plan.dhcpClients.length > 0) gateway = previous.gateway;
    } else if (vm.state === "RUNNING") {
      gateway = await this.#takeLeases(vm, plan.dhcpClients, addresses, gateway, previous?.addresses ?? []);
    } else {
      leasesPending = plan.dhcpClients;
    }
    const spec = this.#vms.spec(this.#vms.byId(vm.id)!);
    const routing = { forwarding: plan.forwarding, routes: plan.routes, gateway, loopbacks: plan.loopbacks };
    const before = previous === undefined ? { forwarding: false, routes: [], gateway: "", loopbacks: [] } : {
      forwarding: previous.forwarding,
      routes: previous.routes,
      gateway: previous.gateway,
      loopbacks: previous.loopbacks,
    };
    await setRouting(spec, routing);
    this.#journal.compensate(`routing of ${vm.name}`, () => setRouting(spec, before));
    if (
      setServices !== undefined &&
      (serves || (previous?.dhcpServers.length ?? 0) > 0 || (previous?.dns.length ?? 0) > 0)
    ) {
      const services = { dhcp: plan.dhcpServers, dns: plan.dns, upstream: plan.upstream };
      const was = previous === undefined
        ? NO_SERVICES
        : { dhcp: previous.dhcpServers, dns: previous.dns, upstream: previous.upstream };
      await setServices(spec, services);
      this.#journal.compensate(`the servers of ${vm.name}`, () => setServices(spec, was));
    }
    const filtered = previous !== undefined && fwFilters(previous.fw);
    if (setFirewall !== undefined && (filters || filtered)) {
      await setFirewall(spec, plan.fw);
      const was = previous?.fw ?? { default: "accept" as const, rules: [], chains: {} };
      this.#journal.compensate(`the firewall of ${vm.name}`, () => setFirewall(spec, was));
    }
    const { leasesPending: _, ...rest } = router;
    const committed: RouterRecord = {
      ...rest,
      config: { ...config, updateIps: false, routerId: chooseRouterId(config) },
      committed: { ...plan, addresses, gateway },
      ...(leasesPending.length > 0 ? { leasesPending } : {}),
    };
    this.#put(committed);
    return committed;
  }

  /**
   * Runs a VM's DHCP clients (one NIC after another): adds each lease's address to `addresses` (when it
   * is new on the NIC, or one of `owned`, what the last commit gave) and returns the default gateway, the
   * lease's router when `gateway` is "".
   */
  async #takeLeases(
    vm: VmRecord,
    clients: readonly number[],
    addresses: string[][],
    gateway: string,
    owned: readonly (readonly string[])[],
  ): Promise<string> {
    for (const index of clients) {
      const nic = this.#vms.byId(vm.id)!.nics[index]!;
      const lease = await this.#vms.dhcp(vm.id, index);
      // the commit's own, unless the NIC had that address from elsewhere (vm net ip)
      const mine = !nic.ips.includes(lease.address) || (owned[index] ?? []).includes(lease.address);
      if (mine && !addresses[index]!.includes(lease.address)) addresses[index]!.push(lease.address);
      if (gateway === "" && lease.router !== undefined) gateway = lease.router;
    }
    return gateway;
  }

  /**
   * What a router committed while its VM was paused does when the VM starts (`vm start`): its DHCP
   * clients take their leases, and a lease's router becomes the default route when the router names none.
   * A client that gets no lease does not stop the start: its VM runs without that address, and the
   * returned warning says so (`router <vm> commit` tries again).
   *
   * @param vms The VMs that just started.
   * @returns One warning per NIC that got no lease.
   */
  async started(vms: readonly VmRecord[]): Promise<string[]> {
    const warnings: string[] = [];
    for (const started of vms) {
      const router = this.#routers.get(started.id);
      const pending = router?.leasesPending ?? [];
      if (router?.committed === undefined || pending.length === 0) continue;
      const vm = this.#vms.byId(started.id)!;
      const plan = router.committed;
      const addresses = plan.addresses.map((ips) => [...ips]);
      let gateway = plan.gateway;
      // one NIC after another: a NIC that got its lease keeps it when another gets none
      const failed: number[] = [];
      for (const index of pending) {
        try {
          gateway = await this.#takeLeases(vm, [index], addresses, gateway, plan.addresses);
        } catch (error) {
          failed.push(index);
          warnings.push(
            `router ${vm.name} got no DHCP lease for interface ${index} when it started (router ${vm.name} commit tries again): ${
              error instanceof Error ? error.message : String(error)
            }`,
          );
        }
      }
      if (gateway !== plan.gateway) {
        const setRouting = this.#backend.setRouting!.bind(this.#backend);
        const spec = this.#vms.spec(vm);
        const routing = {
          forwarding: plan.forwarding,
          routes: plan.routes,
          loopbacks: plan.loopbacks,
        };
        await setRouting(spec, { ...routing, gateway });
        this.#journal.compensate(
          `routing of ${vm.name}`,
          () => setRouting(spec, { ...routing, gateway: plan.gateway }),
        );
      }
      const { leasesPending: _, ...rest } = router;
      this.#put({
        ...rest,
        committed: { ...plan, addresses, gateway },
        ...(failed.length > 0 ? { leasesPending: failed } : {}),
      });
    }
    return warnings;
  }

  /**
   * Applies what every router's last commit applied again, in a backend that keeps nothing between
   * processes (the simulator, from a state file): forwarding, routes and the default gateway, DHCP and
   * DNS servers (`held`: the addresses the lab's NICs and taps hold, which a DHCP server takes as its
   * leases), firewalls. Addresses come back with the NICs; leases still pending wait for their VM.
   */
  async realise(held: readonly { readonly mac: string; readonly ip: string }[] = []): Promise<void> {
    for (const router of this.list()) {
      const plan = router.committed;
      const vm = this.#vms.byId(router.vm);
      if (plan === undefined || vm === undefined || vm.nics.length === 0) continue;
      const spec = this.#vms.spec(vm);
      const { forwarding, routes, gateway, loopbacks } = plan;
      await this.#backend.setRouting?.(spec, { forwarding, routes, gateway, loopbacks });
      if (servesAnything(plan)) {
        await this.#backend.setServices?.(spec, {
          dhcp: plan.dhcpServers,
          dns: plan.dns,
          upstream: plan.upstream,
          held,
        });
      }
      if (fwFilters(plan.fw)) await this.#backend.setFirewall?.(spec, plan.fw);
    }
  }

  /** Restores the room (loading a lab). */
  load(routers: readonly RouterRecord[]): void {
    this.#routers = new Map(routers.map((r) => [r.vm, r]));
  }
}

/** Whether a plan serves DHCP or DNS. */
function servesAnything(plan: RouterPlan): boolean {
  return plan.dhcpServers.length > 0 || plan.dns.length > 0 || plan.upstream !== "";
}

/**
 * The router id a commit settles on, as minimega's `setRouterID`: one set stays; else the highest
 * loopback address; else the highest interface address.
 */
function chooseRouterId(config: RouterConfig): string {
  if (config.routerId !== "0.0.0.0") return config.routerId;
  const loopbacks = Object.values(config.loopbacks);
  const candidates = (loopbacks.length > 0 ? loopbacks : config.nics.flat())
    .map((cidr) => cidr.split("/")[0]!)
    .filter(isIpv4);
  let best = "0.0.0.0";
  for (const ip of candidates) if (ipv4Number(ip) > ipv4Number(best)) best = ip;
  return best;
}
