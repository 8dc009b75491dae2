/**
 * A one-connection TCP transfer for the real integration tests (tests/ovs_integration_real.test.ts), run
 * inside network namespaces with `ip netns exec`, under Deno (`deno run -A`) or Bun:
 *
 *   serve <ip> <port>          listens, prints `listening <ip> <port>`, accepts one connection, reads it to
 *                              its end, prints `received <sha256 hex> <bytes>` and exits 0
 *   send <ip> <port> <bytes>   makes <bytes> random bytes, connects (retrying while the server is not
 *                              listening yet), sends them, closes, prints `sent <sha256 hex> <bytes>`, exits 0
 *
 * Both give up after {@linkcode DEADLINE_MS} with a message on standard error and exit status 1, so a stalled
 * transfer ends on its own.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import { createHash, randomBytes } from "node:crypto";
import net from "node:net";
import process from "node:process";

/** How long either side may take in all. */
const DEADLINE_MS = 20_000;
/** Pause between connection attempts while the server is not listening yet. */
const RETRY_MS = 50;

function fail(message: string): never {
  process.stderr.write(`tcp_transfer: ${message}\n`);
  process.exit(1);
}

function parsePort(text: string | undefined): number {
  const port = Number(text);
  if (!Number.isInteger(port) || port < 1 || port > 65535) fail(`bad port: ${text}`);
  return port;
}

function serve(host: string, port: number): void {
  const hash = createHash("sha256");
  let bytes = 0;
  const server = net.createServer((socket) => {
    server.close(); // one connection only
    socket.on("data", (chunk: Buffer) => {
      hash.update(chunk);
      bytes += chunk.length;
    });
    socket.on("end", () => {
      process.stdout.write(`received ${hash.digest("hex")} ${bytes}\n`, () => {
        socket.end();
        process.exit(0);
      });
    });
    socket.on("error", (error) => fail(`receiving: ${error.message}`));
  });
  server.on("error", (error) => fail(`listening on ${host}:${port}: ${error.message}`));
  server.listen(port, host, () => process.stdout.write(`listening ${host} ${port}\n`));
}

function connectOnce(host: string, port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    socket.once("connect", () => {
      socket.removeListener("error", reject);
      resolve(socket);
    });
    socket.once("error", reject);
  });
}

async function send(host: string, port: number, count: number): Promise<void> {
  const data = randomBytes(count);
  const digest = createHash("sha256").update(data).digest("hex");
  const started = Date.now();
  let socket: net.Socket | undefined;
  while (socket === undefined) {
    try {
      socket = await connectOnce(host, port);
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code !== "ECONNREFUSED" || Date.now() - started > DEADLINE_MS) {
        fail(`connecting to ${host}:${port}: ${(error as Error).message}`);
      }
      await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
    }
  }
  const connected = socket;
  await new Promise<void>((resolve, reject) => {
    connected.on("error", reject);
    connected.on("close", () => resolve());
    connected.resume(); // the server sends nothing; read to see its end
    connected.end(data);
  }).catch((error: Error) => fail(`sending: ${error.message}`));
  process.stdout.write(`sent ${digest} ${count}\n`, () => process.exit(0));
}

const [mode, host, portText, countText] = process.argv.slice(2);
setTimeout(() => fail(`${mode} did not finish within ${DEADLINE_MS} ms`), DEADLINE_MS).unref?.();
if (mode === "serve" && host !== undefined) {
  serve(host, parsePort(portText));
} else if (mode === "send" && host !== undefined) {
  const count = Number(countText);
  if (!Number.isSafeInteger(count) || count < 0) fail(`bad byte count: ${countText}`);
  await send(host, parsePort(portText), count);
} else {
  fail("usage: tcp_transfer.ts serve <ip> <port> | send <ip> <port> <bytes>");
}
