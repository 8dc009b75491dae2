/**
 * `dns_query.ts SERVER NAME`: asks SERVER (port 53, UDP) for NAME's A records, once, within 3 s, and
 * prints the answer's rcode and addresses as JSON: `{"rcode":0,"a":["10.0.0.5"]}`. For real tests that run
 * it inside a network namespace (`ip netns exec NS deno run -A dns_query.ts ...`), where no DNS tool
 * may be installed. Runs under Deno and Bun.
 *
 * @module
 */

import dgram from "node:dgram";
import process from "node:process";

const [server, name] = process.argv.slice(2);
if (server === undefined || name === undefined) {
  process.stderr.write("usage: dns_query.ts SERVER NAME\n");
  process.exit(2);
}
const labels = name.split(".").filter((l) => l !== "");
const question = [...labels.flatMap((l) => [l.length, ...new TextEncoder().encode(l)]), 0, 0, 1, 0, 1];
const id = 0x4c57;
const query = new Uint8Array([id >> 8, id & 255, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, ...question]);
const socket = dgram.createSocket("udp4");
const timer = setTimeout(() => {
  process.stderr.write(`no answer from ${server} in 3 s\n`);
  process.exit(1);
}, 3000);
socket.on("message", (msg) => {
  const rcode = msg[3]! & 15;
  const answers = (msg[6]! << 8) | msg[7]!;
  // skip the header and the question (names here are not compressed in the question)
  let at = 12;
  while (msg[at] !== 0) at += msg[at]! + 1;
  at += 5;
  const a: string[] = [];
  for (let i = 0; i < answers; i++) {
    if ((msg[at]! & 0xc0) === 0xc0) at += 2;
    else {
      while (msg[at] !== 0) at += msg[at]! + 1;
      at += 1;
    }
    const type = (msg[at]! << 8) | msg[at + 1]!;
    const length = (msg[at + 8]! << 8) | msg[at + 9]!;
    if (type === 1 && length === 4) a.push([...msg.subarray(at + 10, at + 14)].join("."));
    at += 10 + length;
  }
  process.stdout.write(`${JSON.stringify({ rcode, a })}\n`);
  clearTimeout(timer);
  socket.close();
});
socket.send(query, 53, server);
