/**
 * Property-based tests (fast-check) of everything that reads what a user or a file gives: the command
 * language (lexer, and whole lines through a lab), netspecs, MACs, VLAN tokens, name lists, pcap files
 * and frames. For any input, each either answers or throws its own documented error, never another;
 * and what labwire writes, it reads back the same. Thousands of cases per run, in a few seconds;
 * FC_RUNS multiplies them for a longer hunt, FC_SEED replays one.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import fc from "fast-check";
import { LexError, lexInput, quoteWord } from "../lib/cli/lex.ts";
import { Lab } from "../lib/api/lab.ts";
import { formatNetspec, NetspecError, parseNetspec } from "../lib/netspec.ts";
import { formatMac, isMac, MacError, normalizeMac, parseMac } from "../lib/mac.ts";
import { expandNames, MAX_NAMES, NameListError } from "../lib/names.ts";
import { FIRST_VLAN, LAST_VLAN, Vlans } from "../lib/vlans.ts";
import { LabError } from "../lib/errors.ts";
import { encodePcap, readPcap } from "../lib/wire/pcap.ts";
import { decodeFrame, encodeFrame } from "../lib/wire/frame.ts";
import { commandLine } from "./_fixtures/lines.ts";

const SCALE = Number(process.env.FC_RUNS ?? 1);
const options = (runs: number) => ({
  numRuns: Math.max(1, Math.round(runs * SCALE)),
  ...(process.env.FC_SEED === undefined ? {} : { seed: Number(process.env.FC_SEED) }),
});

/** Text a user might type: any Unicode, and the characters that mean something to the lexer, often. */
const userText = fc.oneof(
  fc.string({ unit: "grapheme", maxLength: 60 }),
  fc.string({
    unit: fc.constantFrom(" ", '"', "'", "\\", "#", "n", "t", ",", "a", "\t", "["),
    maxLength: 40,
  }),
);

/** `fn` may throw only errors of the given classes. */
function onlyThrows(fn: () => unknown, ...classes: (abstract new (...args: never[]) => Error)[]): void {
  try {
    fn();
  } catch (error) {
    if (classes.some((c) => error instanceof c)) return;
    throw error;
  }
}

describe("properties", () => {
  test("the lexer splits any line or throws a LexError; quoted words come back as they were", () => {
    fc.assert(fc.property(userText, (line) => onlyThrows(() => lexInput(line), LexError)), options(3000));
    const word = fc.string({ unit: "grapheme", maxLength: 12 }).filter((w) => !w.includes("\r"));
    fc.assert(
      fc.property(fc.array(word, { minLength: 1, maxLength: 6 }), (words) => {
        assert.deepEqual(lexInput(words.map(quoteWord).join(" ")), words);
      }),
      options(2000),
    );
  });

  test("any line through a lab gives output and error messages, never an exception", async () => {
    await using lab = await Lab.open({ seed: 1 });
    await fc.assert(
      fc.asyncProperty(fc.oneof(userText, commandLine), async (line) => {
        const { output, errors } = await lab.execute(line);
        assert.equal(typeof output, "string");
        for (const error of errors) {
          assert.ok(typeof error === "string" && error !== "", JSON.stringify(errors));
        }
      }),
      options(1500),
    );
  });

  test("a netspec parses or is malformed; what it prints parses to the same NIC", () => {
    const field = fc.oneof(
      fc.constantFrom("", "100", "DMZ", "qinq", "QinQ", "e1000", "virtio-net-pci", "mega_bridge", "lab"),
      fc.constantFrom("00:11:22:33:44:55", "AA-BB-CC-DD-EE-FF", "0011.2233.4455", "zz:zz"),
      fc.string({ maxLength: 6 }),
    );
    const spec = fc.oneof(fc.array(field, { minLength: 1, maxLength: 7 }).map((f) => f.join(",")), userText);
    fc.assert(
      fc.property(spec, (s) => {
        let nic;
        try {
          nic = parseNetspec(s);
        } catch (error) {
          if (error instanceof NetspecError) return;
          throw error;
        }
        const again = parseNetspec(formatNetspec(nic));
        assert.deepEqual({ ...again, raw: "" }, { ...nic, raw: "" }, `${s} printed as ${formatNetspec(nic)}`);
      }),
      options(4000),
    );
  });

  test("a MAC parses or is a MacError, as isMac says; any 6 octets print and parse back", () => {
    const macText = fc.oneof(
      userText,
      fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 6, maxLength: 6 })
        .chain((o) =>
          fc.constantFrom(":", "-").map((sep) => o.map((b) => b.toString(16).padStart(2, "0")).join(sep))
        ),
    );
    fc.assert(
      fc.property(macText, (s) => {
        let octets: Uint8Array | undefined;
        try {
          octets = parseMac(s);
        } catch (error) {
          if (!(error instanceof MacError)) throw error;
        }
        assert.equal(isMac(s), octets !== undefined, s);
        if (octets !== undefined) {
          assert.equal(octets.length, 6);
          assert.equal(normalizeMac(normalizeMac(s)), normalizeMac(s));
        }
      }),
      options(3000),
    );
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 6, maxLength: 6 }), (octets) => {
        assert.deepEqual(parseMac(formatMac(octets)), octets);
      }),
      options(2000),
    );
  });

  test("any VLAN token resolves to 1..4094 or is an error of its own; aliases never get 0 or 4095", () => {
    const token = fc.oneof(
      userText,
      fc.integer({ min: -5000, max: 2 ** 32 }).map(String),
      fc.constantFrom("0", "4095", "4094", "1", "DMZ", "a//b", "//", "ns//", "-1", "1e3", "0x10", " 7"),
    );
    fc.assert(
      fc.property(
        fc.array(token, { minLength: 1, maxLength: 20 }),
        fc.option(fc.tuple(fc.integer({ min: -10, max: 4200 }), fc.integer({ min: -10, max: 4200 }))),
        (tokens, range) => {
          const vlans = new Vlans();
          if (range !== null) {
            onlyThrows(() => vlans.setRange("minimega", range[0], range[1]), LabError, RangeError);
          }
          for (const t of tokens) {
            let vlan: number | undefined;
            try {
              vlan = vlans.lookup("minimega", t).vlan;
            } catch (error) {
              // documented: a LabError, a RangeError for a number outside 1..4094, and minimega's
              // TypeError for the empty token
              const known = error instanceof LabError || error instanceof RangeError ||
                (error instanceof TypeError && t === "");
              if (!known) throw error;
            }
            if (vlan !== undefined) {
              assert.ok(vlan >= FIRST_VLAN && vlan <= LAST_VLAN, `${JSON.stringify(t)} -> ${vlan}`);
            }
          }
        },
      ),
      options(1500),
    );
  });

  test("a name list expands to names or is a NameListError; ranges expand to what they say", () => {
    fc.assert(
      fc.property(userText, (list) => {
        let names: string[];
        try {
          names = expandNames(list);
        } catch (error) {
          if (error instanceof NameListError) return;
          throw error;
        }
        assert.ok(names.length <= MAX_NAMES);
        assert.equal(new Set(names).size, names.length, "duplicates");
        for (const name of names) assert.notEqual(name, "", `an empty name from ${JSON.stringify(list)}`);
      }),
      options(3000),
    );
    fc.assert(
      fc.property(
        fc.stringMatching(/^[a-z]{1,5}$/),
        fc.integer({ min: 0, max: 500 }),
        fc.integer({ min: 0, max: 50 }),
        (prefix, from, span) => {
          const names = expandNames(`${prefix}[${from}-${from + span}]`);
          assert.equal(names.length, span + 1);
          assert.equal(names[0], `${prefix}${from}`);
          assert.equal(names.at(-1), `${prefix}${from + span}`);
        },
      ),
      options(1000),
    );
  });

  test("any bytes read as a pcap file or throw SyntaxError/RangeError; written records read back", () => {
    const header = encodePcap([]);
    const bytes = fc.oneof(
      fc.uint8Array({ maxLength: 200 }),
      // a real header, then anything: the records' parser gets exercised
      fc.uint8Array({ maxLength: 300 }).map((tail) => new Uint8Array([...header, ...tail])),
    );
    fc.assert(
      fc.property(bytes, (b) => onlyThrows(() => readPcap(b), SyntaxError, RangeError)),
      options(4000),
    );
    const record = fc.record({
      timeNs: fc.integer({ min: 0, max: 2 ** 40 }).map((t) => t * 1000),
      data: fc.uint8Array({ minLength: 0, maxLength: 200 }),
    });
    fc.assert(
      fc.property(fc.array(record, { maxLength: 20 }), (records) => {
        const file = readPcap(encodePcap(records.map((r) => ({ ...r, origLen: r.data.length }))));
        assert.equal(file.records.length, records.length);
        for (const [i, r] of file.records.entries()) {
          assert.deepEqual([r.timeNs, [...r.data]], [records[i]!.timeNs, [...records[i]!.data]]);
        }
      }),
      options(1500),
    );
  });

  test("any bytes decode as a frame or throw RangeError; a decoded frame encodes to the same bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 120 }), (b) => {
        let frame;
        try {
          frame = decodeFrame(b);
        } catch (error) {
          if (error instanceof RangeError) return;
          throw error;
        }
        onlyThrows(() => encodeFrame(frame), RangeError, TypeError);
      }),
      options(4000),
    );
  });
});
