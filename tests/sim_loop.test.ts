import { test } from "node:test";
import assert from "node:assert/strict";
import { Lab } from "../lib/api/lab.ts";

test("a loop of patch links ends in the loop guard, and the lab says what happened", async () => {
  const warnings: string[] = [];
  const runner = await Lab.open({ seed: "loop", onWarning: (w) => warnings.push(w) });
  for (
    const line of [
      "vm config net LAN",
      "vm launch kvm a",
      "vm config net lab2,LAN",
      "vm launch kvm b",
      "vm start all",
      "vm net ip a 0 10.0.0.1/24",
      "vm net ip b 0 10.0.0.2/24",
      "bridge patch mega_bridge lab2",
      "bridge patch lab2 lab3",
      "bridge patch lab3 mega_bridge",
    ]
  ) {
    assert.deepEqual((await runner.execute(line)).errors, [], line);
  }
  const before = warnings.length;
  const { errors } = await runner.execute("ping a:0 10.0.0.2 2");
  assert.deepEqual(errors, []);
  const loop = warnings.slice(before);
  assert.equal(loop.length, 1, loop.join("\n"));
  assert.match(
    loop[0]!,
    /^loop detected: frame from [0-9a-f:]{17} on VLAN 101 crossed bridges (\w+ -> )+\w+ \(\d+ frames dropped by the loop guard\)$/,
  );
  // without the loop, no warning
  await runner.execute("bridge nopatch lab3 mega_bridge");
  const after = warnings.length;
  assert.equal(
    (await runner.execute("ping a:0 10.0.0.2 1")).output.split("\n")[1],
    "a:0  | 10.0.0.2 | 1    | 1",
  );
  assert.equal(warnings.length, after);
  await runner.close();
});
