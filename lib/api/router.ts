/**
 * A VM's router from the typed lab (`router <vm> ...`): its configuration as a typed record, a whole
 * configuration set and applied in one call, and the single edits of the command language.
 *
 * @example Two VLANs joined by a router, on the simulator
 * ```ts ignore
 * import { Lab } from "labwire";
 * await using lab = await Lab.open();
 * const ns = lab.namespace();
 * const [r] = await ns.launch(["r"], { networks: ["DMZ", "CORE"], start: true });
 * await r!.router().configure({ interfaces: [["10.0.0.1/24"], ["10.1.0.1/24"]] });
 * ```
 *
 * @module
 */

import {
  addDns,
  addInterface,
  addStaticRoute,
  formatRouter,
  newRouterConfig,
  type RouterConfig,
  RouterError,
  setDhcp,
  setGateway,
  setUpstream,
} from "../lab/router_config.ts";
import type { LabModel } from "../lab/model.ts";
import type { LabCore } from "./_core.ts";

/** A DHCP server of a router, in {@linkcode RouterSpec}. */
export interface DhcpServerSpec {
  /** Its listen address: the router's address on the NIC it serves, or that subnet's network address. */
  listen: string;
  /** The addresses handed out, first and last. */
  range?: readonly [low: string, high: string];
  /** The router option. */
  router?: string;
  /** The DNS server option. */
  dns?: string;
  /** Static leases, MAC to address. */
  statics?: Readonly<Record<string, string>>;
}

/** A router's whole configuration, as {@linkcode RouterHandle.configure} takes it. */
export interface RouterSpec {
  /** The addresses of each NIC, in order (`10.0.0.1/24`, or `dhcp`); NICs left out get none. */
  interfaces?: readonly (readonly string[])[];
  /** Static routes. */
  routes?: readonly { readonly network: string; readonly via: string }[];
  /** The default gateway. */
  gateway?: string;
  /** DHCP servers. */
  dhcp?: readonly DhcpServerSpec[];
  /** DNS records: host name to address. */
  dns?: Readonly<Record<string, string>>;
  /** The upstream DNS server. */
  upstream?: string;
}

/** A VM's router: what `router <vm>` configures and `router <vm> commit` applies. */
export class RouterHandle {
  /** Its VM's namespace. */
  readonly namespace: string;
  /** Its VM's name. */
  readonly vm: string;
  readonly #core: LabCore;

  /** @internal */
  constructor(core: LabCore, namespace: string, vm: string) {
    this.#core = core;
    this.namespace = namespace;
    this.vm = vm;
  }

  /**
   * Its configuration, as `router <vm>` prints it (`text`) and as data (`config`), or undefined when
   * the VM is not a router.
   *
   * @throws {VmError} `vm not found: X`.
   */
  info(): Promise<{ readonly config: RouterConfig; readonly text: string } | undefined> {
    return this.#core.read((model) => {
      const router = model.routers.get(model.vms.require(this.namespace, this.vm).id);
      return router === undefined ? undefined : { config: router.config, text: formatRouter(router.config) };
    });
  }

  /**
   * Replaces the router's whole configuration with `spec` and applies it, in one call: nothing changes
   * unless all of it is valid and applied.
   *
   * @throws {LabError} What `router <vm> ...` would refuse (in its words), or the commit.
   */
  configure(spec: RouterSpec): Promise<void> {
    return this.#core.op(async (model) => {
      const vm = model.vms.require(this.namespace, this.vm);
      let config = newRouterConfig(vm.nics.length);
      for (const [nic, ips] of (spec.interfaces ?? []).entries()) {
        for (const ip of ips) config = addInterface(config, String(nic), ip, false);
      }
      for (const route of spec.routes ?? []) config = addStaticRoute(config, route.network, route.via);
      if (spec.gateway !== undefined) config = setGateway(config, spec.gateway);
      for (const d of spec.dhcp ?? []) {
        if (d.range !== undefined) {
          config = setDhcp(config, d.listen, { kind: "range", low: d.range[0], high: d.range[1] });
        }
        if (d.router !== undefined) config = setDhcp(config, d.listen, { kind: "router", ip: d.router });
        if (d.dns !== undefined) config = setDhcp(config, d.listen, { kind: "dns", ip: d.dns });
        for (const [mac, ip] of Object.entries(d.statics ?? {})) {
          config = setDhcp(config, d.listen, { kind: "static", mac, ip });
        }
      }
      for (const [host, ip] of Object.entries(spec.dns ?? {})) config = addDns(config, ip, host);
      if (spec.upstream !== undefined) config = setUpstream(config, spec.upstream);
      const replacement = config;
      await model.editRouter(this.namespace, this.vm, () => replacement);
      await model.commitRouter(this.namespace, this.vm);
    });
  }

  /**
   * Changes the configuration with one of lib/lab/router_config.ts's edits (as `router <vm> ...` does),
   * without applying it: {@linkcode RouterHandle.commit} does.
   */
  edit(change: (config: RouterConfig) => RouterConfig): Promise<void> {
    return this.#core.op((model) => model.editRouter(this.namespace, this.vm, change));
  }

  /** Applies the configuration (`router <vm> commit`). @throws {LabError} As the command. */
  commit(): Promise<void> {
    return this.#core.op((model) => model.commitRouter(this.namespace, this.vm));
  }

  /**
   * Forgets the router (what it applied stays until the next commit, as `clear router`).
   *
   * @throws {RouterError} `no such router X`.
   */
  clear(): Promise<void> {
    return this.#core.op((model: LabModel) => {
      const vm = model.vms.require(this.namespace, this.vm);
      if (model.routers.get(vm.id) === undefined) {
        throw new RouterError("router-not-found", `no such router ${this.vm}`);
      }
      model.routers.drop((r) => r.vm === vm.id);
    });
  }
}
