// Runtime-neutral.
/**
 * The persistence room: a lab's records as one plain JSON document (format version 2, {@linkcode LabState})
 * and back, checked on the way in; version 1 documents (labwire 0.1's state files) are read too. The
 * index of port names is derived, never saved.
 *
 * @module
 */

import { StateError } from "../errors.ts";
import type { VlansState } from "../vlans.ts";
import type { LabModel } from "./model.ts";
import type { CaptureSettings } from "./captures.ts";
import {
  type BridgeRecord,
  type CaptureRecord,
  DISCONNECTED,
  type LabState,
  type MirrorRecord,
  type NamespaceRecord,
  type NicConfig,
  type PatchRecord,
  type TapRecord,
  type VmConfigRecord,
  type VmRecord,
} from "./records.ts";
import { DEFAULT_SNAPLEN } from "./rules.ts";
import { VM_CONFIG_DEFAULTS } from "./vm_configs.ts";

function byName<T extends { name: string }>(a: T, b: T): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/** The lab's state as plain JSON, in a stable order (so that an unchanged lab writes the same bytes). */
export function toState(model: LabModel): LabState {
  const namespaces: Record<string, NamespaceRecord> = {};
  for (const name of model.namespaceNames()) {
    const settings = model.captures.settings(name);
    namespaces[name] = {
      vmConfig: model.vmConfigs.get(name),
      snaplen: settings.snaplen,
      filter: settings.filter,
    };
  }
  const bridges: Record<string, BridgeRecord> = {};
  for (const name of model.bridges.names()) bridges[name] = model.bridges.get(name)!;
  const routers = model.routers.list();
  const nats = model.nat.list();
  const dnsmasq = model.dnsmasq.list();
  return {
    version: 2,
    active: model.activeNamespace,
    vlans: model.vlans.toJSON(),
    namespaces,
    bridges,
    vms: model.vms.list(),
    taps: model.taps.list().sort(byName),
    mirrors: model.mirrors.list(),
    patches: [...model.bridges.patches()],
    captures: model.captures.list(),
    ...(routers.length === 0 ? {} : { routers }),
    ...(nats.length === 0 ? {} : { nats }),
    ...(dnsmasq.length === 0 && model.dnsmasq.nextId === 0
      ? {}
      : { dnsmasq: { next: model.dnsmasq.nextId, servers: dnsmasq } }),
    counters: {
      vm: model.vms.nextId,
      capture: model.captures.nextId,
      tap: model.ports.nextTap,
      mac: model.macs.count,
    },
  };
}

/**
 * Loads a state into a new model's rooms and rebuilds the index of port names.
 *
 * @throws {StateError} For a document that is not a lab's, or of an unknown version.
 */
export function fromState(model: LabModel, raw: unknown, setVlans: (state: VlansState) => void): void {
  const state = upgrade(raw);
  setVlans(state.vlans);
  model.namespaces.load(Object.keys(state.namespaces), state.active);
  model.vmConfigs.load(Object.entries(state.namespaces).map(([name, ns]) => [name, ns.vmConfig]));
  const settings: [string, CaptureSettings][] = Object.entries(state.namespaces)
    .filter(([, ns]) => ns.snaplen !== 0 || ns.filter !== "")
    .map(([name, ns]) => [name, { snaplen: ns.snaplen, filter: ns.filter }]);
  model.bridges.load(Object.values(state.bridges), state.patches);
  model.vms.load(state.vms);
  model.taps.load(state.taps);
  model.mirrors.load(state.mirrors);
  model.captures.load(settings, state.captures);
  model.routers.load(state.routers ?? []);
  model.nat.load(state.nats ?? []);
  model.dnsmasq.load(state.dnsmasq?.servers ?? [], state.dnsmasq?.next ?? 0);
  model.vms.nextId = state.counters.vm;
  model.captures.nextId = state.counters.capture;
  model.ports.nextTap = state.counters.tap;
  model.macs.count = state.counters.mac;
  // the index of names, and where each port is
  const ports = model.ports;
  ports.reset();
  model.macs.reset();
  for (const vm of state.vms) {
    for (const [index, nic] of vm.nics.entries()) {
      // a container that quit has no NICs on any bridge until it starts again
      const plugged = nic.bridge !== "" && !(vm.type === "container" && vm.state === "QUIT");
      ports.place(nic.tap, { kind: "nic", vm: vm.id, index }, plugged ? nic.bridge : undefined);
      model.macs.use(nic.mac);
    }
  }
  for (const tap of state.taps) {
    ports.place(tap.name, { kind: "tap" }, tap.bridge);
    model.macs.use(tap.mac);
  }
  for (const capture of state.captures) {
    if (capture.tap !== undefined) {
      ports.place(capture.tap, { kind: "capture", id: capture.id }, capture.bridge);
    }
  }
  for (const bridge of Object.values(state.bridges)) {
    for (const iface of bridge.trunks) ports.place(iface, { kind: "trunk" }, bridge.name);
  }
  for (const link of state.patches) {
    ports.place(link.a.port, { kind: "patch" }, link.a.bridge);
    ports.place(link.b.port, { kind: "patch" }, link.b.bridge);
  }
}

function fail(detail: string): never {
  throw new StateError("state-failed", `Cannot load lab state: ${detail}`);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function array(v: unknown, what: string): unknown[] {
  if (!Array.isArray(v)) fail(`${what} must be a list`);
  return v;
}

function object(v: unknown, what: string): Record<string, unknown> {
  if (!isObject(v)) fail(`${what} must be an object`);
  return v;
}

/** A version 2 state, checked; a version 1 state, upgraded. */
function upgrade(raw: unknown): LabState {
  if (!isObject(raw)) fail("expected a JSON object");
  if (raw.version === 1) return fromV1(raw);
  if (raw.version !== 2) fail(`expected version 1 or 2, got ${JSON.stringify(raw.version)}`);
  const state = raw as unknown as LabState;
  object(state.namespaces, "namespaces");
  object(state.bridges, "bridges");
  object(state.vlans, "vlans");
  object(state.counters, "counters");
  for (const key of ["vms", "taps", "mirrors", "patches", "captures"] as const) array(state[key], key);
  if (state.nats !== undefined) array(state.nats, "nats");
  if (state.dnsmasq !== undefined) array(object(state.dnsmasq, "dnsmasq").servers, "dnsmasq.servers");
  if (state.routers !== undefined) {
    for (const r of array(state.routers, "routers")) {
      const config = object(object(r, "a router").config, "a router's config");
      array(config.nics, "a router's nics");
    }
  }
  if (typeof state.active !== "string") fail("active must be a namespace name");
  for (const [name, ns] of Object.entries(state.namespaces)) {
    const config = object(object(ns, `namespace ${name}`).vmConfig, `namespace ${name}'s vmConfig`);
    array(config.networks, `namespace ${name}'s networks`);
  }
  for (const vm of state.vms) array(object(vm, "a VM").nics, `VM ${(vm as { name?: string }).name}'s nics`);
  for (const key of ["vm", "capture", "tap", "mac"] as const) {
    if (!Number.isSafeInteger(state.counters[key]) || state.counters[key] < 0) {
      fail(`counters.${key} must be a whole number`);
    }
  }
  return state;
}

/** The records of a version 1 state file (labwire 0.1: a topology of bridges holding their taps). */
interface V1Tap {
  name: string;
  role: string;
  vlan: number;
  qinq: boolean;
  mac: string;
  namespace: string;
  addresses: string[];
  peer?: { bridge: string; port: string };
}

interface V1Bridge {
  name: string;
  taps: Record<string, V1Tap>;
  trunks: string[];
  mirrors: Record<string, { name: string; selectAll: boolean; selectSrc: string[]; output: string }>;
  config: Record<string, string>;
  preexisting?: boolean;
}

function fromV1(raw: Record<string, unknown>): LabState {
  const topology = object(raw.topology ?? { bridges: {}, nextTap: 0 }, "topology");
  const v1Bridges = Object.values(object(topology.bridges, "topology.bridges")) as V1Bridge[];
  const v1Namespaces = object(raw.namespaces, "namespaces") as Record<
    string,
    {
      networks?: NicConfig[];
      vmConfig?: Partial<VmConfigRecord>;
      hostTaps?: string[];
      mirrors?: string[];
      snaplen?: number;
      filter?: string;
    }
  >;
  const namespaces: Record<string, NamespaceRecord> = {};
  const mirrorOwner = new Map<string, string>();
  const tapOwner = new Map<string, string>();
  for (const [name, ns] of Object.entries(v1Namespaces)) {
    namespaces[name] = {
      vmConfig: { ...VM_CONFIG_DEFAULTS, ...ns.vmConfig, networks: ns.networks ?? [] },
      snaplen: ns.snaplen ?? 0,
      filter: ns.filter ?? "",
    };
    for (const tap of ns.mirrors ?? []) mirrorOwner.set(tap, name);
    for (const tap of ns.hostTaps ?? []) tapOwner.set(tap, name);
  }
  const bridges: Record<string, BridgeRecord> = {};
  const taps: TapRecord[] = [];
  const mirrors: MirrorRecord[] = [];
  const patches: PatchRecord[] = [];
  for (const b of v1Bridges) {
    bridges[b.name] = {
      name: b.name,
      preexisting: b.preexisting === true,
      trunks: [...b.trunks],
      config: { ...b.config },
    };
    for (const tap of Object.values(b.taps)) {
      if (tap.role === "host") {
        taps.push({
          name: tap.name,
          namespace: tapOwner.get(tap.name) ?? tap.namespace,
          bridge: b.name,
          vlan: tap.vlan,
          mac: tap.mac,
          ips: [...tap.addresses],
        });
      } else if (tap.role === "patch" && tap.peer !== undefined && b.name < tap.peer.bridge) {
        patches.push({
          a: { bridge: b.name, port: tap.name },
          b: { bridge: tap.peer.bridge, port: tap.peer.port },
        });
      }
    }
    for (const m of Object.values(b.mirrors)) {
      if (m.selectAll) continue;
      mirrors.push({
        name: m.name,
        namespace: mirrorOwner.get(m.output) ?? "minimega",
        bridge: b.name,
        source: m.selectSrc[0] ?? "",
        output: m.output,
      });
    }
  }
  const v1Captures = array(raw.captures ?? [], "captures") as {
    id: number;
    namespace: string;
    bridge: string;
    vm?: string;
    nic?: number;
    port: string;
    mirror?: string;
    path: string;
  }[];
  const captures: CaptureRecord[] = v1Captures.map((c) => {
    const ns = namespaces[c.namespace];
    return {
      id: c.id,
      namespace: c.namespace,
      bridge: c.bridge,
      ...(c.vm === undefined ? {} : { vm: c.vm, nic: c.nic ?? 0 }),
      port: c.port,
      ...(c.mirror === undefined ? {} : { tap: c.port }),
      path: c.path,
      snaplen: ns === undefined || ns.snaplen === 0 ? DEFAULT_SNAPLEN : ns.snaplen,
      filter: ns?.filter ?? "",
    };
  });
  const vms = (array(raw.vms ?? [], "vms") as VmRecord[]).map((vm) => ({
    id: vm.id,
    name: vm.name,
    namespace: vm.namespace,
    type: vm.type,
    state: vm.state,
    nics: vm.nics.map((n) => ({
      tap: n.tap,
      bridge: n.bridge,
      vlan: n.bridge === "" ? DISCONNECTED : n.vlan,
      mac: n.mac,
      driver: n.driver,
      qinq: n.qinq,
      ips: [...n.ips],
    })),
  }));
  return {
    version: 2,
    active: typeof raw.active === "string" ? raw.active : "minimega",
    vlans: object(raw.vlans, "vlans") as unknown as VlansState,
    namespaces,
    bridges,
    vms,
    taps: taps.sort(byName),
    mirrors: mirrors.sort(byName),
    patches,
    captures,
    counters: {
      vm: Number(raw.nextVmId ?? 0),
      capture: Number(raw.nextCaptureId ?? 0),
      tap: Number(topology.nextTap ?? 0),
      mac: Number(raw.macCount ?? 0),
    },
  };
}
