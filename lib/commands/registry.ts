// Runtime-neutral.
/**
 * Every command labwire knows, in one registry.
 *
 * @module
 */

import { builtinHandlers } from "../cli/builtins.ts";
import { helpHandler } from "../cli/help.ts";
import { Registry } from "../cli/registry.ts";
import { clearHandlers } from "./clear.ts";
import { namespaceHandlers } from "./namespace.ts";
import type { Session } from "./session.ts";
import { vlansHandlers } from "./vlans.ts";
import { vmHandlers } from "./vm.ts";

/**
 * Makes the registry of all of labwire's commands: the builtins, `help`, and each family.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { createRegistry } from "labwire";
 * assert.ok(createRegistry().handlers.length > 5);
 * ```
 */
export function createRegistry(): Registry<Session> {
  const registry = new Registry<Session>();
  for (
    const family of [
      builtinHandlers<Session>(),
      namespaceHandlers(),
      vlansHandlers(),
      vmHandlers(),
      clearHandlers(),
    ]
  ) {
    for (const handler of family) registry.register(handler);
  }
  registry.register(helpHandler(registry));
  return registry;
}
