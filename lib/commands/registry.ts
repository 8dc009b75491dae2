// Runtime-neutral.
/**
 * Every command labwire knows, in one registry.
 *
 * @module
 */

import { builtinHandlers } from "../cli/builtins.ts";
import { helpHandler } from "../cli/help.ts";
import { Registry } from "../cli/registry.ts";
import { bridgeHandlers } from "./bridge.ts";
import { captureHandlers } from "./capture.ts";
import { clearHandlers } from "./clear.ts";
import { namespaceHandlers } from "./namespace.ts";
import { natHandlers } from "./nat.ts";
import { dnsmasqHandlers } from "./dnsmasq.ts";
import { pingHandlers } from "./ping.ts";
import { routerHandlers } from "./router.ts";
import type { Session } from "./session.ts";
import { shellHandlers } from "./shell.ts";
import { tapHandlers } from "./tap.ts";
import { vlansHandlers } from "./vlans.ts";
import { vmHandlers } from "./vm.ts";

/**
 * Makes the registry of all of labwire's commands: the builtins, `help`, and each family.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { createRegistry } from "labwire/cli";
 * assert.ok(createRegistry().handlers.length > 5);
 * ```
 */
export function createRegistry(): Registry<Session> {
  const registry = new Registry<Session>();
  const families = [
    builtinHandlers<Session>(),
    namespaceHandlers(),
    vlansHandlers(),
    vmHandlers(),
    tapHandlers(),
    bridgeHandlers(),
    captureHandlers(),
    pingHandlers(),
    routerHandlers(),
    natHandlers(),
    dnsmasqHandlers(),
    shellHandlers(),
    clearHandlers(),
  ];
  for (const family of families) {
    for (const handler of family) registry.register(handler);
  }
  registry.register(helpHandler(registry));
  return registry;
}
