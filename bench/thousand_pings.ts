/**
 * A lab script as a user writes one, timed from the outside by `bench/user_times.ts`: open a lab on the
 * simulator, launch 2 container VMs on one VLAN, started, give them addresses, ping 1,000 times (count 1)
 * from one to the other, close. The set-up is typed in both modes; the 1,000 pings are
 * `nic.ping("10.0.0.2", { count: 1 })` (`typed`, the default) or the command line
 * `ping a:0 10.0.0.2 1` through `lab.execute()` (`execute`). Every ping must get its reply.
 *
 *   deno run -A bench/thousand_pings.ts [typed|execute]
 *   bun bench/thousand_pings.ts [typed|execute]
 *
 * @module
 */

import process from "node:process";
import { Lab } from "labwire";

const PINGS = 1_000;
/** The last cells of `ping`'s table when the one request was answered: `sent | received`. */
const ANSWERED = /\|\s*1\s*\|\s*1\s*$/;

async function main(): Promise<void> {
  const mode = process.argv[2] ?? "typed";
  if (mode !== "typed" && mode !== "execute") {
    throw new TypeError(
      `Cannot run the ping script: mode must be typed or execute: current value is '${mode}'`,
    );
  }
  await using lab = await Lab.open();
  const ns = lab.namespace();
  const [a, b] = await ns.launch(["a", "b"], { networks: ["LAN"], start: true });
  await a!.nic(0).setAddress("10.0.0.1/24");
  await b!.nic(0).setAddress("10.0.0.2/24");
  const nic = a!.nic(0);
  let received = 0;
  if (mode === "typed") {
    for (let i = 0; i < PINGS; i++) received += (await nic.ping("10.0.0.2", { count: 1 })).received;
  } else {
    for (let i = 0; i < PINGS; i++) {
      const { output, errors } = await lab.execute("ping a:0 10.0.0.2 1");
      if (errors.length === 0 && ANSWERED.test(output)) received++;
    }
  }
  if (received !== PINGS) throw new Error(`Cannot accept the run: ${received} of ${PINGS} pings answered`);
  process.stdout.write(`${mode}: ${received}/${PINGS} pings answered\n`);
}

if (import.meta.main) await main();
