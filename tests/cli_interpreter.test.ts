import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { builtinHandlers } from "../lib/cli/builtins.ts";
import { helpHandler } from "../lib/cli/help.ts";
import { Interpreter } from "../lib/cli/interpreter.ts";
import { Registry } from "../lib/cli/registry.ts";

interface Ctx {
  calls: string[];
}

/** A toy command set with the shapes minimega's commands have. */
function setup() {
  const registry = new Registry<Ctx>();
  for (const h of builtinHandlers<Ctx>()) registry.register(h);
  registry.register({
    patterns: ["vm config networks [netspec]...", "vm config cdrom [path]", "vm config clone <vm>"],
    helpShort: "configure",
    run(cmd, ctx) {
      ctx.calls.push(`config ${[...cmd.bools].join()} ${JSON.stringify(cmd.lists.get("netspec") ?? null)}`);
      return "ok";
    },
  });
  registry.register({
    patterns: ["vm launch <kvm,container> <name>"],
    helpShort: "launch",
    run: (cmd) => `${[...cmd.bools][0]} ${cmd.strings.get("name")}`,
  });
  registry.register({
    patterns: ["vlans", "vlans <add,> <alias> <vlan>"],
    helpShort: "display allocated VLANs",
    run(cmd) {
      if (cmd.bools.has("add")) throw new TypeError("expected integer VLAN");
      return {
        header: ["alias", "vlan"],
        rows: [["foo", "200"], ["B", "103"], ["A", "1000"], ["bar", "300"]],
      };
    },
  });
  registry.register({ patterns: ["version"], helpShort: "show the version", run: () => "labwire 0.1.0" });
  registry.register({ patterns: ["vnc"], helpShort: "vnc", run: () => "vnc" });
  registry.register(helpHandler(registry));
  const ctx: Ctx = { calls: [] };
  return { ctx, interp: new Interpreter(registry, ctx, { host: "h1" }) };
}

describe("Interpreter.execute()", () => {
  test("matches unique prefixes of literal words and choices", async () => {
    const { ctx, interp } = setup();
    assert.deepEqual(await interp.execute("vm config net a b"), { output: "ok", errors: [] });
    assert.deepEqual(ctx.calls, [`config  ["a","b"]`]);
    assert.equal((await interp.execute("vm la c x1")).output, "container x1");
  });
  test("takes an optional list as empty when left out", async () => {
    const { ctx, interp } = setup();
    await interp.execute("vm config networks");
    assert.deepEqual(ctx.calls, ["config  null"]);
  });
  test("reports an ambiguous prefix with its candidates", async () => {
    const { interp } = setup();
    assert.deepEqual((await interp.execute("vm config c x1")).errors, [
      "ambiguous command: `vm config c x1`: `c` could be cdrom or clone",
    ]);
    // vm needs more words, so it is not a candidate for a lone `v`
    assert.deepEqual((await interp.execute("v")).errors, [
      "ambiguous command: `v`: `v` could be version or vlans or vnc",
    ]);
  });
  test("prefers the pattern typed in full when prefixes collide", async () => {
    const { interp } = setup();
    assert.equal((await interp.execute("vnc")).output, "vnc");
  });
  test("a prefix is unique among the patterns the rest of the line fits", async () => {
    const { interp } = setup();
    // `c` could be cdrom or clone, but `vm config clone <vm>` needs one more word
    assert.equal((await interp.execute("vm conf c")).output, "ok");
    assert.deepEqual((await interp.execute("vm c")).errors, [
      "invalid command: `vm c`; usage: vm config networks [netspec]... | vm config cdrom [path] | vm config clone <vm>",
    ]);
  });
  test("reports an unknown command in minimega's words, with a usage hint when it can", async () => {
    const { interp } = setup();
    assert.deepEqual((await interp.execute("frobnicate now")).errors, ["invalid command: `frobnicate now`"]);
    assert.deepEqual((await interp.execute("vlans add foo")).errors, [
      "invalid command: `vlans add foo`; usage: vlans | vlans add <alias> <vlan>",
    ]);
  });
  test("turns a thrown error into an error message", async () => {
    const { interp } = setup();
    assert.deepEqual(await interp.execute("vlans add foo bar"), {
      output: "",
      errors: ["expected integer VLAN"],
    });
  });
  test("does nothing for blank lines and comments", async () => {
    const { ctx, interp } = setup();
    for (const line of ["", "   ", "# vlans", "  # vlans"]) {
      assert.deepEqual(await interp.execute(line), { output: "", errors: [] });
    }
    assert.deepEqual(ctx.calls, []);
  });
  test("refuses binary and huge lines with a clear message", async () => {
    const { interp } = setup();
    assert.deepEqual((await interp.execute("vlans\u0000\u0001")).errors, [
      "Cannot run command: the line has a control character (0x00) at column 6; is this binary input?",
    ]);
    assert.deepEqual((await interp.execute("vlans \ufffd")).errors, [
      "Cannot run command: the line has bytes that are not UTF-8 at column 7; is this binary input?",
    ]);
    assert.deepEqual((await interp.execute(`vlans ${"x".repeat(70_000)}`)).errors, [
      "Cannot run command: the line is 70006 characters long, more than the 65536 allowed",
    ]);
  });
  test("reports lexing errors", async () => {
    const { interp } = setup();
    assert.deepEqual((await interp.execute(`vlans add "foo`)).errors, ['missing terminal "']);
  });
});

describe("tables and builtins", () => {
  const table = "alias | vlan\nA     | 1000\nB     | 103\nbar   | 300\nfoo   | 200";
  test("tables are sorted and padded", async () => {
    const { interp } = setup();
    assert.equal((await interp.execute("vlans")).output, table);
  });
  test(".sort false keeps the handler's order, for one command or the session", async () => {
    const { interp } = setup();
    const unsorted = "alias | vlan\nfoo   | 200\nB     | 103\nA     | 1000\nbar   | 300";
    assert.equal((await interp.execute(".sort false vlans")).output, unsorted);
    assert.equal((await interp.execute("vlans")).output, table);
    assert.equal((await interp.execute(".sort")).output, "true");
    await interp.execute(".sort false");
    assert.equal((await interp.execute(".sort")).output, "false");
    assert.equal((await interp.execute("vlans")).output, unsorted);
  });
  test(".headers false drops the header", async () => {
    const { interp } = setup();
    assert.equal(
      (await interp.execute(".headers false vlans")).output,
      "A    | 1000\nB    | 103\nbar  | 300\nfoo  | 200",
    );
  });
  test(".annotate true adds the host column and prefixes simple responses", async () => {
    const { interp } = setup();
    assert.equal(
      (await interp.execute(".annotate true .filter alias=foo vlans")).output,
      "host | alias | vlan\nh1   | foo   | 200",
    );
    assert.equal((await interp.execute(".annotate true version")).output, "h1: labwire 0.1.0");
  });
  test(".filter matches exactly, negated, by substring, case-insensitively, and stacks", async () => {
    const { interp } = setup();
    assert.equal((await interp.execute(".filter ALIAS=b vlans")).output, "alias | vlan\nB     | 103");
    assert.equal(
      (await interp.execute(".filter a~a .filter vlan!=300 vlans")).output,
      "alias | vlan\nA     | 1000",
    );
    assert.equal(
      (await interp.execute(".filter al!~a vlans")).output,
      "alias | vlan\nB     | 103\nfoo   | 200",
    );
    assert.equal((await interp.execute(".filter vlan=1 vlans")).output, "");
  });
  test(".filter and .columns report bad filters and columns in minimega's words", async () => {
    const { interp } = setup();
    assert.deepEqual((await interp.execute(".filter nothing vlans")).errors, ["invalid filter, see help"]);
    assert.deepEqual((await interp.execute(".filter x=1 vlans")).errors, ["no such column `x`"]);
    assert.deepEqual((await interp.execute(".columns vlan,bogus vlans")).errors, ["no such column `bogus`"]);
  });
  test(".columns picks and orders columns by prefix", async () => {
    const { interp } = setup();
    assert.equal(
      (await interp.execute(".columns v,al .filter alias=A vlans")).output,
      "vlan | alias\n1000 | A",
    );
  });
  test(".json prints minimega's JSON responses, unsorted", async () => {
    const { interp } = setup();
    const out = JSON.parse((await interp.execute(".json true vlans")).output);
    assert.deepEqual(out, [{
      Host: "h1",
      Response: "",
      Header: ["alias", "vlan"],
      Tabular: [["foo", "200"], ["B", "103"], ["A", "1000"], ["bar", "300"]],
      Error: "",
      Data: null,
    }]);
    assert.equal((await interp.execute(".json")).output, "false");
  });
  test(".csv prints sorted CSV; .csv false only turns CSV off", async () => {
    const { interp } = setup();
    await interp.execute(".csv true");
    assert.equal((await interp.execute("vlans")).output, "alias,vlan\nA,1000\nB,103\nbar,300\nfoo,200");
    await interp.execute(".json false");
    assert.equal((await interp.execute(".csv")).output, "true");
    await interp.execute(".csv false");
    assert.equal((await interp.execute("vlans")).output, table);
  });
});

describe("help", () => {
  test("lists every pattern with its one-line help", async () => {
    const { interp } = setup();
    const out = (await interp.execute("help")).output;
    assert.match(out, /^Display help on a command\. Here is a list of commands:\n/);
    assert.match(out, /\nvlans <add,> <alias> <vlan> +: display allocated VLANs\n/);
    assert.match(out, /\nvm config networks \[netspec\]\.\.\. +: configure\n/);
  });
  test("prints one command's usage, by prefix", async () => {
    const { interp } = setup();
    assert.equal(
      (await interp.execute("help vl")).output,
      "Usage:\n\tvlans\n\tvlans add <alias> <vlan>\n\ndisplay allocated VLANs",
    );
    assert.equal((await interp.execute("help nosuch")).output, "no help entry for `nosuch`");
  });
});
