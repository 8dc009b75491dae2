// Runtime-neutral.
/**
 * Netspecs, the `[bridge,]vlan[,mac][,driver][,qinq]` descriptions of VM NICs given to
 * `vm config networks`: parsed with minimega's decision table and printed back the way minimega prints them.
 * VLAN tokens are kept as typed; resolving them to numbers is the VLAN layer's job.
 *
 * @module
 */

import { isMac, normalizeMac } from "./mac.ts";
import { NIC_DRIVERS } from "./nic_drivers.ts";

/** The bridge a NIC goes on when its netspec names none (minimega's `DefaultBridge`). */
export const DEFAULT_BRIDGE = "mega_bridge";
/** The NIC driver used when a netspec names none (minimega's `DefaultKVMDriver`). */
export const DEFAULT_DRIVER = "e1000";

/** One VM NIC as a netspec describes it, defaults applied. */
export interface Netspec {
  /** The bridge; {@linkcode DEFAULT_BRIDGE} when the spec names none. Not validated. */
  readonly bridge: string;
  /** The VLAN token exactly as typed: a number, an alias or `ns//alias`, possibly empty. Resolved elsewhere. */
  readonly vlan: string;
  /** The MAC in lower-case colon form, or `""` when a MAC is to be generated. */
  readonly mac: string;
  /** The NIC driver; {@linkcode DEFAULT_DRIVER} when the spec names none. */
  readonly driver: string;
  /** Whether the NIC is a QinQ (802.1ad) port. */
  readonly qinq: boolean;
  /** The spec as typed, reparsed by `vm config clone`. */
  readonly raw: string;
}

/** A netspec that fits no row of minimega's table. The message is minimega's: `malformed netspec`. */
export class NetspecError extends SyntaxError {
  /** Always `"NetspecError"`. */
  override name = "NetspecError";
  /** The spec as typed. */
  readonly spec: string;

  /**
   * Makes the error for `spec`.
   *
   * @param message The message; {@linkcode parseNetspec} uses `malformed netspec`.
   * @param spec The spec as typed.
   */
  constructor(message: string, spec: string) {
    super(message);
    this.spec = spec;
  }
}

/** Options for {@linkcode parseNetspec}. */
export interface ParseNetspecOptions {
  /**
   * The names that count as NIC drivers (exact, case-sensitive), e.g. from `discoverNicDrivers`. With an
   * empty set no field is ever a driver, which is what minimega does on a host without QEMU.
   *
   * @default {NIC_DRIVERS}
   */
  drivers?: ReadonlySet<string>;
}

/** minimega's `isQinQ`: `qinq` in any case. */
function isQinQ(s: string): boolean {
  return s.length === 4 && s.toLowerCase() === "qinq";
}

/**
 * Parses a netspec the way minimega's `ParseNetConfig` does. The spec is split on `,`, keeping empty fields
 * and trimming nothing; then the first matching row of minimega's table decides what each field is, a field
 * being a MAC when {@linkcode isMac} accepts it, a driver when it is in `drivers`, and QinQ when it is `qinq`
 * in any case:
 *
 * | fields | first match wins | result |
 * |---|---|---|
 * | 1 | always | vlan |
 * | 2 | f1 qinq / f1 MAC / f1 driver / otherwise | vlan,qinq / vlan,mac / vlan,driver / bridge,vlan |
 * | 3 | f2 qinq and f1 MAC | vlan,mac,qinq |
 * |   | f2 qinq and f1 driver | vlan,driver,qinq |
 * |   | f2 qinq | bridge,vlan,qinq |
 * |   | f2 MAC | bridge,vlan,mac |
 * |   | f1 MAC and f2 driver | vlan,mac,driver |
 * |   | f2 driver | bridge,vlan,driver |
 * | 4 | f3 qinq and f1 MAC | vlan,mac,driver,qinq (f2 not checked as a driver) |
 * |   | f3 qinq and f2 MAC | bridge,vlan,mac,qinq |
 * |   | f3 qinq and f2 driver | bridge,vlan,driver,qinq |
 * |   | f3 driver and f2 MAC | bridge,vlan,mac,driver |
 * | 5 | f2 MAC, f3 driver, f4 qinq | bridge,vlan,mac,driver,qinq |
 *
 * Anything else, 6 or more fields included, is malformed; a 2-field spec never is (`aa:bb:cc:dd:ee:ff,100`
 * is bridge `aa:bb:cc:dd:ee:ff`, VLAN 100). Then an empty bridge becomes {@linkcode DEFAULT_BRIDGE} and an
 * empty driver {@linkcode DEFAULT_DRIVER}. The VLAN is not checked here: the empty string is a 1-field spec
 * with VLAN `""`, and `100,` is bridge `100` with VLAN `""`; the VLAN layer then reports
 * `VLAN must be non-empty string`. Unlike minimega, which only lower-cases the MAC, labwire normalises it to
 * colon form.
 *
 * @param spec The spec as typed, e.g. `"lab,100,e1000"`.
 * @param options The driver names.
 * @returns The NIC, defaults applied.
 * @throws {NetspecError} `malformed netspec` if the fields fit no row of the table.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseNetspec } from "labwire";
 *
 * assert.deepEqual(parseNetspec("lab,100,AA-BB-CC-DD-EE-FF"), {
 *   bridge: "lab",
 *   vlan: "100",
 *   mac: "aa:bb:cc:dd:ee:ff",
 *   driver: "e1000",
 *   qinq: false,
 *   raw: "lab,100,AA-BB-CC-DD-EE-FF",
 * });
 * assert.equal(parseNetspec("LAN,virtio-net-pci").driver, "virtio-net-pci");
 * assert.throws(() => parseNetspec("lab,100,bogus"), { name: "NetspecError", message: "malformed netspec" });
 * ```
 */
export function parseNetspec(spec: string, options: ParseNetspecOptions = {}): Netspec {
  const { drivers = NIC_DRIVERS } = options;
  const f = spec.split(",");
  const [f0 = "", f1 = "", f2 = "", f3 = "", f4 = ""] = f;
  let bridge = "", vlan = "", mac = "", driver = "", qinq = false;

  switch (f.length) {
    case 1:
      vlan = f0;
      break;
    case 2:
      if (isQinQ(f1)) [vlan, qinq] = [f0, true];
      else if (isMac(f1)) [vlan, mac] = [f0, f1];
      else if (drivers.has(f1)) [vlan, driver] = [f0, f1];
      else [bridge, vlan] = [f0, f1];
      break;
    case 3:
      if (isQinQ(f2) && isMac(f1)) [vlan, mac, qinq] = [f0, f1, true];
      else if (isQinQ(f2) && drivers.has(f1)) [vlan, driver, qinq] = [f0, f1, true];
      else if (isQinQ(f2)) [bridge, vlan, qinq] = [f0, f1, true];
      else if (isMac(f2)) [bridge, vlan, mac] = [f0, f1, f2];
      else if (isMac(f1) && drivers.has(f2)) [vlan, mac, driver] = [f0, f1, f2];
      else if (drivers.has(f2)) [bridge, vlan, driver] = [f0, f1, f2];
      else throw new NetspecError("malformed netspec", spec);
      break;
    case 4:
      if (isQinQ(f3) && isMac(f1)) [vlan, mac, driver, qinq] = [f0, f1, f2, true];
      else if (isQinQ(f3) && isMac(f2)) [bridge, vlan, mac, qinq] = [f0, f1, f2, true];
      else if (isQinQ(f3) && drivers.has(f2)) [bridge, vlan, driver, qinq] = [f0, f1, f2, true];
      else if (drivers.has(f3) && isMac(f2)) [bridge, vlan, mac, driver] = [f0, f1, f2, f3];
      else throw new NetspecError("malformed netspec", spec);
      break;
    case 5:
      if (!(isMac(f2) && drivers.has(f3) && isQinQ(f4))) throw new NetspecError("malformed netspec", spec);
      [bridge, vlan, mac, driver, qinq] = [f0, f1, f2, f3, true];
      break;
    default:
      throw new NetspecError("malformed netspec", spec);
  }

  return {
    bridge: bridge === "" ? DEFAULT_BRIDGE : bridge,
    vlan,
    mac: mac === "" ? "" : normalizeMac(mac),
    driver: driver === "" ? DEFAULT_DRIVER : driver,
    qinq,
    raw: spec,
  };
}

/**
 * Prints a NIC back as a netspec the way minimega's `NetConfig.String` does: the bridge unless it is empty or
 * {@linkcode DEFAULT_BRIDGE}, the VLAN token exactly as typed, the MAC if set, the driver unless it is empty
 * or {@linkcode DEFAULT_DRIVER}, and `qinq` if set, joined by `,`.
 *
 * @param netspec The NIC; `raw` is not used.
 * @param options The driver names, as {@linkcode parseNetspec} takes them.
 * @returns The shortest spec that minimega would print, with the default bridge or driver spelt out where
 * the short form would parse as another NIC (`lab,qinq,e1000`: `lab,qinq` is VLAN lab with QinQ).
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatNetspec, parseNetspec } from "labwire";
 *
 * assert.equal(formatNetspec(parseNetspec("mega_bridge,100,e1000")), "100");
 * assert.equal(formatNetspec(parseNetspec("LAN,QINQ")), "LAN,qinq");
 * ```
 */
export function formatNetspec(netspec: Omit<Netspec, "raw">, options: ParseNetspecOptions = {}): string {
  const { bridge, vlan, mac, driver, qinq } = netspec;
  const spell = (withBridge: boolean, withDriver: boolean) => {
    let s = withBridge ? bridge + "," + vlan : vlan;
    if (mac !== "") s += "," + mac;
    if (withDriver) s += "," + driver;
    if (qinq) s += ",qinq";
    return s;
  };
  const namedBridge = bridge !== "" && bridge !== DEFAULT_BRIDGE;
  const namedDriver = driver !== "" && driver !== DEFAULT_DRIVER;
  // the shortest spelling, unless its fields would be read as others (a VLAN alias `qinq`, or one that
  // looks like a MAC or a driver): then the defaults are spelt out too, as far as that helps
  const spellings = [
    spell(namedBridge, namedDriver),
    spell(true, namedDriver),
    spell(namedBridge, true),
    spell(true, true),
  ];
  const same = (s: string) => {
    try {
      const again = parseNetspec(s, options);
      return again.bridge === bridge && again.vlan === vlan && again.mac === mac && again.driver === driver &&
        again.qinq === qinq;
    } catch {
      return false;
    }
  };
  return spellings.find(same) ?? spellings[0]!;
}
