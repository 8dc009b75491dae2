import { test } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { OvsBackend } from "../lib/ovs_backend.ts";

test("OvsBackend.startCapture() says to install tcpdump when it is missing", async () => {
  const path = process.env.PATH;
  process.env.PATH = "/nonexistent";
  try {
    const backend = new OvsBackend();
    await assert.rejects(
      backend.startCapture({ id: 0, bridge: "b", port: "p", path: "/dev/null", snaplen: 1600, filter: "" }),
      { message: "Cannot capture on the ovs backend: tcpdump is not installed (apt-get install tcpdump)" },
    );
  } finally {
    process.env.PATH = path;
  }
});
