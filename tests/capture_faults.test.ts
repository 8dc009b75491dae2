/**
 * A capture whose file cannot be written (a full disk: /dev/full answers every write with ENOSPC) fails
 * alone, saying which file: the traffic it watched goes on, other captures go on, and the lab closes.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Lab } from "../lib/api/lab.ts";
import { readPcapFile } from "../lib/wire/pcap_file.ts";

const FULL = "/dev/full";

/** A lab of two running VMs on DMZ, 10.0.0.1 and 10.0.0.2, that warns into `warnings`. */
async function twoVms(warnings: string[]): Promise<Lab> {
  const lab = await Lab.open({ seed: 1, onWarning: (w) => warnings.push(w) });
  for (
    const line of [
      "vm config net DMZ",
      "vm launch container a,b",
      "vm net ip a 0 10.0.0.1/24",
      "vm net ip b 0 10.0.0.2/24",
      "vm start all",
    ]
  ) await lab.run(line);
  return lab;
}

test("a capture on a full disk fails and names its file; the ping it watched and other captures go on", {
  skip: fs.existsSync(FULL) ? false : `needs ${FULL}`,
}, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "labwire-full-"));
  try {
    const warnings: string[] = [];
    const good = path.join(dir, "good.pcap");
    await using lab = await twoVms(warnings);
    const ns = lab.namespace();
    const full = await ns.capture(lab.bridge("mega_bridge"), { file: FULL });
    await lab.run(`capture pcap vm b 0 ${good}`);
    const ping = await lab.run("ping a:0 10.0.0.2");
    assert.equal(ping.text, "from | to       | sent | received\na:0  | 10.0.0.2 | 3    | 3");
    // the chunk fills only on a flush here: the failure shows there, with the file's name, once
    await assert.rejects(full.flush(), {
      message: `Cannot write capture file '${FULL}': no space left on device`,
    });
    await assert.rejects(full.frames(), { message: /^Cannot write capture file '\/dev\/full'/ });
    assert.deepEqual(warnings, [
      `Cannot write capture file '${FULL}': no space left on device; the capture keeps no more frames (the traffic goes on)`,
    ]);
    // the traffic goes on, and so does the other capture
    assert.match((await lab.run("ping a:0 10.0.0.2")).text, /\| 3 +\| 3$/);
    assert.equal((await lab.run("capture")).rows.length, 2);
    assert.deepEqual((await lab.execute("clear capture")).errors, []);
    assert.ok(readPcapFile(good).records.length >= 12, "the other capture lost frames");
    assert.equal(warnings.length, 1);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("a capture that fails while frames pass (a chunk filling up) does not fail the command that sent them", {
  skip: fs.existsSync(FULL) ? false : `needs ${FULL}`,
}, async () => {
  const warnings: string[] = [];
  await using lab = await twoVms(warnings);
  await lab.run(`capture pcap bridge mega_bridge ${FULL}`);
  // 1 MiB of buffer fills after about 9,200 frames of 98 bytes and 16 of record header: 6,000 pings
  const result = await lab.run("ping a:0 10.0.0.2 6000");
  assert.match(result.text, /\| 6000 +\| 6000$/);
  assert.equal(warnings.filter((w) => w.startsWith(`Cannot write capture file '${FULL}'`)).length, 1);
});
