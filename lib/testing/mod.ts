/**
 * Helpers for tests of labs and of code that drives them: assertions on reachability and captures, a
 * backend that records what it is asked, a runner of fake programs for code that spawns them, and the
 * observations the scenario suite compares captures by (frames without what varies between runs).
 *
 * In a `node:test` test (it runs under `deno test` and `bun test` alike):
 *
 * ```ts
 * import { Lab } from "labwire";
 * import { assertReachable, assertUnreachable } from "labwire/testing";
 *
 * // test("VLANs keep web and db apart", async () => {
 * await using lab = await Lab.open();
 * const ns = lab.namespace();
 * const [web] = await ns.launch(["web"], { networks: ["DMZ"], start: true });
 * const [db] = await ns.launch(["db"], { networks: ["CORE"], start: true });
 * await web!.nic(0).setAddress("10.0.0.1/24");
 * await db!.nic(0).setAddress("10.0.0.2/24");
 * await assertUnreachable(web!.nic(0), "10.0.0.2");
 * await db!.nic(0).connect("DMZ");
 * await assertReachable(web!.nic(0), "10.0.0.2");
 * // });
 * ```
 *
 * @module
 */
export * from "./assertions.ts";
export * from "./recording_backend.ts";
export { type FakeProgram, FakeRunner } from "../exec.ts";
export * from "../wire/observe.ts";
