/**
 * A bridge of a typed lab: its listing, trunks, settings and patch links. Bridges are not namespace
 * aware; one is made on first use, as minimega makes its bridges.
 *
 * @module
 */

import { TopologyError } from "../errors.ts";
import type { BridgeInfo } from "../lab/model.ts";
import type { LabCore } from "./_core.ts";

/** A bridge, by name. */
export class BridgeHandle {
  /** Its name. */
  readonly name: string;
  readonly #core: LabCore;

  /** @internal */
  constructor(core: LabCore, name: string) {
    this.#core = core;
    this.name = name;
  }

  /** Its record, as `bridge` lists it. @throws {TopologyError} `bridge not found: x` (code `bridge-not-found`). */
  info(): Promise<BridgeInfo> {
    return this.#core.op((model) => {
      const info = model.bridgeInfo().find((b) => b.name === this.name);
      if (info === undefined) throw new TopologyError("bridge-not-found", `bridge not found: ${this.name}`);
      return info;
    });
  }

  /** Trunks an interface into it (`bridge trunk`): an untagged port carrying every VLAN. */
  trunk(iface: string): Promise<void> {
    return this.#core.op((model) => model.trunk(this.name, iface));
  }

  /** Removes a trunk (`bridge notrunk`). */
  untrunk(iface: string): Promise<void> {
    return this.#core.op((model) => model.notrunk(this.name, iface));
  }

  /** Sets a bridge setting (`bridge config <bridge> key=value`; on Open vSwitch a `Bridge` column). */
  configure(key: string, value: string): Promise<void> {
    return this.#core.op((model) => model.configureBridge(this.name, `${key}=${value}`));
  }

  /** Joins it to another bridge with a patch link carrying every VLAN (`bridge patch`). */
  patch(other: BridgeHandle | string): Promise<void> {
    return this.#core.op((model) =>
      model.patchBridges(this.name, typeof other === "string" ? other : other.name)
    );
  }

  /** Removes the patch link to another bridge (`bridge nopatch`). */
  unpatch(other: BridgeHandle | string): Promise<void> {
    return this.#core.op((model) =>
      model.unpatchBridges(this.name, typeof other === "string" ? other : other.name)
    );
  }

  /** Destroys it, with its host taps, trunks, mirrors and captures (`bridge destroy`); not while VM NICs are on it. */
  destroy(): Promise<void> {
    return this.#core.op((model) => model.destroyBridge(this.name));
  }
}
