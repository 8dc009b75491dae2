import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  formatMac,
  isLocallyAdministeredMac,
  isMac,
  isMulticastMac,
  MacError,
  MacGenerator,
  normalizeMac,
  parseMac,
} from "../lib/mac.ts";

const MAC6 = [0x00, 0x00, 0x5e, 0x00, 0x53, 0x01];
const MAC8 = [0x02, 0x00, 0x5e, 0x10, 0x00, 0x00, 0x00, 0x01];
const MAC20 = [0, 0, 0, 0, 0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0x02, 0x00, 0x5e, 0x10, 0, 0, 0, 0x01];
const MIXED = [0xab, 0xcd, 0xef, 0xab, 0xcd, 0xef];

/** Every form Go's net.ParseMAC accepts (its own test table, RFC 7042 and RFC 4391 examples). */
const ACCEPTED: ReadonlyArray<readonly [string, readonly number[]]> = [
  ["00:00:5e:00:53:01", MAC6],
  ["00-00-5e-00-53-01", MAC6],
  ["0000.5e00.5301", MAC6],
  ["02:00:5e:10:00:00:00:01", MAC8],
  ["02-00-5e-10-00-00-00-01", MAC8],
  ["0200.5e10.0000.0001", MAC8],
  ["00:00:00:00:fe:80:00:00:00:00:00:00:02:00:5e:10:00:00:00:01", MAC20],
  ["00-00-00-00-fe-80-00-00-00-00-00-00-02-00-5e-10-00-00-00-01", MAC20],
  ["0000.0000.fe80.0000.0000.0000.0200.5e10.0000.0001", MAC20],
  ["ab:cd:ef:AB:CD:EF", MIXED],
  ["AB-CD-EF-AB-CD-EF", MIXED],
  ["ABCD.EFab.cdef", MIXED],
  ["ab:cd:ef:AB:CD:EF:ab:cd", [...MIXED, 0xab, 0xcd]],
];

/** Rejections: Go's own test table, then the other ways to get the shape wrong. */
const REJECTED: readonly string[] = [
  "01.02.03.04.05.06", // dots between octets
  "01:02:03:04:05:06:", // trailing separator
  "x1:02:03:04:05:06", // non-hex
  "01002:03:04:05:06",
  "01:02003:04:05:06",
  "01:02:03004:05:06",
  "01:02:03:04005:06",
  "01:02:03:04:05006", // a digit where a separator belongs
  "01-02:03:04:05:06", // mixed separators
  "01:02-03-04-05-06",
  "01:02:03:04:05-06",
  "0123:4567:89AF", // groups of four need dots
  "0123-4567-89AF",
  "", // empty
  "01:02:03:04:05", // 5 octets
  "01:02:03:04:05:06:07", // 7 octets
  "01-02-03-04-05-06-07",
  "0102.0304.0506.0708.090a", // 10 octets
  "1:2:3:4:5:6:7:8:9", // one digit per group
  "001:002:003:004:005", // three digits per group
  "01:2:03:04:05:06a",
  "0123.456.789ab", // dot groups of 3 and 5
  "012.3456.789ab",
  "0123.4567.89ag", // non-hex in dot form
  "0123.4567.89ab.", // trailing dot
  "0123.4567:89ab",
  " 01:02:03:04:05:06", // no trimming
  "01:02:03:04:05:06 ",
  "01\uff1a02\uff1a03\uff1a04\uff1a05\uff1a06", // full-width colons
  "\uff101:02:03:04:05:06", // full-width digit
  "0x:02:03:04:05:06",
  "+1:02:03:04:05:06",
];

describe("isMac()", () => {
  for (const [text] of ACCEPTED) {
    test(`isMac() accepts '${text}'`, () => assert.equal(isMac(text), true));
  }
  for (const text of REJECTED) {
    test(`isMac() rejects '${text}'`, () => assert.equal(isMac(text), false));
  }
});

/** The forms as regular expressions: an independent statement of what Go's algorithm accepts. */
const REFERENCE = [
  /^[0-9a-f]{2}(?::[0-9a-f]{2}){5}$|^[0-9a-f]{2}(?::[0-9a-f]{2}){7}$|^[0-9a-f]{2}(?::[0-9a-f]{2}){19}$/i,
  /^[0-9a-f]{2}(?:-[0-9a-f]{2}){5}$|^[0-9a-f]{2}(?:-[0-9a-f]{2}){7}$|^[0-9a-f]{2}(?:-[0-9a-f]{2}){19}$/i,
  /^[0-9a-f]{4}(?:\.[0-9a-f]{4}){2}$|^[0-9a-f]{4}(?:\.[0-9a-f]{4}){3}$|^[0-9a-f]{4}(?:\.[0-9a-f]{4}){9}$/i,
];

test("isMac() agrees with the reference on 200k near-miss strings, and normalizeMac() with parseMac()", () => {
  const alphabet = "0aF:-.g";
  let state = 12345;
  function random(n: number): number {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return state % n;
  }
  let accepted = 0;
  for (let i = 0; i < 200_000; i++) {
    // Start from a valid MAC of a random form and length, then damage a few characters or the length.
    const [text] = ACCEPTED[random(ACCEPTED.length)]!;
    const chars = [...text];
    for (let k = random(3); k > 0; k--) chars[random(chars.length)] = alphabet[random(alphabet.length)]!;
    if (random(8) === 0) chars.splice(random(chars.length), 1);
    if (random(8) === 0) chars.splice(random(chars.length), 0, alphabet[random(alphabet.length)]!);
    const s = chars.join("");
    const want = REFERENCE.some((re) => re.test(s));
    if (isMac(s) !== want) assert.fail(`isMac('${s}') should be ${want}`);
    if (want) {
      accepted++;
      if (normalizeMac(s) !== formatMac(parseMac(s))) {
        assert.fail(`normalizeMac('${s}') disagrees with parseMac()`);
      }
    }
  }
  assert.ok(accepted > 10_000 && accepted < 190_000, `accepted ${accepted}`);
});

describe("parseMac()", () => {
  for (const [text, octets] of ACCEPTED) {
    test(`parseMac() decodes '${text}'`, () => assert.deepEqual(parseMac(text), new Uint8Array(octets)));
  }

  test("parseMac() throws MacError naming the value and the accepted forms", () => {
    for (const text of REJECTED) {
      assert.throws(() => parseMac(text), (err: unknown) => {
        assert.ok(err instanceof MacError);
        assert.ok(err instanceof SyntaxError);
        assert.equal(err.name, "MacError");
        assert.equal(err.value, text);
        assert.equal(
          err.message,
          `Cannot parse MAC address '${text}': expected 6, 8 or 20 hex octets as xx:xx:.., xx-xx-.. or xxxx.xxxx.xxxx`,
        );
        return true;
      });
    }
  });
});

describe("formatMac()", () => {
  test("formatMac() writes lower-case colon form", () => {
    assert.equal(formatMac(new Uint8Array(MIXED)), "ab:cd:ef:ab:cd:ef");
    assert.equal(formatMac(new Uint8Array(MAC8)), "02:00:5e:10:00:00:00:01");
    assert.equal(
      formatMac(new Uint8Array(MAC20)),
      "00:00:00:00:fe:80:00:00:00:00:00:00:02:00:5e:10:00:00:00:01",
    );
  });

  test("formatMac() round-trips every accepted form through parseMac()", () => {
    for (const [text] of ACCEPTED) {
      const octets = parseMac(text);
      assert.deepEqual(parseMac(formatMac(octets)), octets);
    }
  });

  test("formatMac() throws RangeError for a length other than 6, 8 or 20", () => {
    assert.throws(() => formatMac(new Uint8Array(5)), {
      name: "RangeError",
      message: "Cannot format MAC address as a MAC address has 6, 8 or 20 octets: current length is 5",
    });
    assert.throws(() => formatMac(new Uint8Array(0)), RangeError);
  });
});

describe("normalizeMac()", () => {
  test("normalizeMac() rewrites every accepted form as lower-case colon form", () => {
    assert.equal(normalizeMac("AA-BB-CC-DD-EE-FF"), "aa:bb:cc:dd:ee:ff");
    assert.equal(normalizeMac("AABB.CCDD.EEFF"), "aa:bb:cc:dd:ee:ff");
    assert.equal(normalizeMac("aa:bb:cc:dd:ee:ff"), "aa:bb:cc:dd:ee:ff");
    assert.equal(normalizeMac("0200.5e10.0000.0001"), "02:00:5e:10:00:00:00:01");
    assert.equal(
      normalizeMac("0000.0000.FE80.0000.0000.0000.0200.5E10.0000.0001"),
      "00:00:00:00:fe:80:00:00:00:00:00:00:02:00:5e:10:00:00:00:01",
    );
  });

  test("normalizeMac() throws MacError for a non-MAC", () => {
    assert.throws(() => normalizeMac("aa:bb:cc"), MacError);
  });
});

describe("isMulticastMac() and isLocallyAdministeredMac()", () => {
  test("isMulticastMac() reads bit 0 of the first octet, from text or octets", () => {
    assert.equal(isMulticastMac("01:00:5e:00:00:fb"), true);
    assert.equal(isMulticastMac("33-33-00-00-00-01"), true);
    assert.equal(isMulticastMac("ffff.ffff.ffff"), true);
    assert.equal(isMulticastMac("02:00:00:00:00:01"), false);
    assert.equal(isMulticastMac(new Uint8Array([0x03, 0, 0, 0, 0, 0])), true);
    assert.equal(isMulticastMac(new Uint8Array([0xfe, 0, 0, 0, 0, 0])), false);
  });

  test("isLocallyAdministeredMac() reads bit 1 of the first octet, from text or octets", () => {
    assert.equal(isLocallyAdministeredMac("52:54:00:12:34:56"), true);
    assert.equal(isLocallyAdministeredMac("02:00:00:00:00:01"), true);
    assert.equal(isLocallyAdministeredMac("00:1B:21:12:34:56"), false);
    assert.equal(isLocallyAdministeredMac(new Uint8Array([0x06, 0, 0, 0, 0, 0, 0, 0])), true);
    assert.equal(isLocallyAdministeredMac(new Uint8Array([0x01, 0, 0, 0, 0, 0])), false);
  });

  test("isMulticastMac() and isLocallyAdministeredMac() reject what is not a MAC", () => {
    assert.throws(() => isMulticastMac("not a mac"), MacError);
    assert.throws(() => isLocallyAdministeredMac("01:02"), MacError);
    assert.throws(() => isMulticastMac(new Uint8Array(3)), {
      name: "RangeError",
      message: "Cannot test MAC address as a MAC address has 6, 8 or 20 octets: current length is 3",
    });
  });
});

/** Takes `n` MACs from `gen`. */
function take(gen: MacGenerator, n: number): string[] {
  return Array.from({ length: n }, () => gen.next());
}

/** The first MACs of seed 1: SplitMix64 with key mix64(1), checked against a Python reference. */
const PINNED_SEED_1: readonly string[] = ["82:30:dd:c2:d7:72", "2e:e4:82:f2:aa:47", "5e:c3:da:f3:d8:a7"];

const SHAPE = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

describe("MacGenerator", () => {
  test("next() gives the same sequence for the same seed", () => {
    assert.deepEqual(take(new MacGenerator({ seed: 42 }), 50), take(new MacGenerator({ seed: 42 }), 50));
    assert.deepEqual(
      take(new MacGenerator({ seed: "lab" }), 50),
      take(new MacGenerator({ seed: "lab" }), 50),
    );
  });

  test("next() gives different sequences for different seeds", () => {
    const seeds: Array<number | string> = [0, 1, 2, -1, Number.MAX_SAFE_INTEGER, "", "a", "b", "lab", "0"];
    const firsts = seeds.map((seed) => take(new MacGenerator({ seed }), 4).join(" "));
    assert.equal(new Set(firsts).size, seeds.length);
  });

  test("next() without a seed differs between generators", () => {
    assert.notDeepEqual(take(new MacGenerator(), 4), take(new MacGenerator(), 4));
  });

  test("next() pins the sequence of a seed (a persisted count must keep meaning the same MACs)", () => {
    const gen = new MacGenerator({ seed: 1 });
    const macs = take(gen, 3);
    assert.deepEqual(take(new MacGenerator({ seed: 1 }), 3), macs);
    // Regenerate this line only on purpose: changing it breaks labs that saved a count.
    assert.deepEqual(macs, PINNED_SEED_1);
  });

  test("next() yields 100k unicast, locally-administered, well-formed MACs by default", () => {
    for (const gen of [new MacGenerator({ seed: 9 }), new MacGenerator()]) {
      const seen = new Set<string>();
      for (let i = 0; i < 100_000; i++) {
        const mac = gen.next();
        const first = parseInt(mac.slice(0, 2), 16);
        if (!SHAPE.test(mac) || (first & 1) !== 0 || (first & 2) === 0) assert.fail(`bad MAC ${mac}`);
        seen.add(mac);
      }
      assert.equal(gen.count, 100_000);
      // 46 random bits: a collision among 100k is possible but rare (about 7e-5).
      assert.ok(seen.size >= 99_998, `only ${seen.size} distinct MACs`);
    }
  });

  test("next() respects the prefix, whatever its length", () => {
    for (const prefix of ["02", "52:54", "52:54:00", "AA:00:00:00", "fe:ed:fa:ce:00"]) {
      const gen = new MacGenerator({ seed: prefix, prefix });
      assert.equal(gen.prefix, prefix.toLowerCase());
      for (const mac of take(gen, 1000)) {
        assert.ok(mac.startsWith(prefix.toLowerCase() + ":"), mac);
        assert.match(mac, SHAPE);
      }
    }
  });

  test("next() keeps a globally-administered prefix as given", () => {
    const mac = new MacGenerator({ seed: 1, prefix: "00:1b:21" }).next();
    assert.ok(mac.startsWith("00:1b:21:"));
    assert.equal(isLocallyAdministeredMac(mac), false);
  });

  test("next() never yields the all-zero MAC, even with an all-zero prefix", () => {
    const gen = new MacGenerator({ seed: 3, prefix: "00:00:00:00:00" });
    const macs = new Set(take(gen, 5000));
    assert.equal(macs.has("00:00:00:00:00:00"), false);
    assert.equal(macs.size, 255);
  });

  test("next() skips MACs isTaken() reports, and the skipped ones count", () => {
    const all = take(new MacGenerator({ seed: 5 }), 6);
    const taken = new Set([all[0], all[2], all[3]]);
    const calls: string[] = [];
    const gen = new MacGenerator({ seed: 5 });
    function isTaken(mac: string): boolean {
      calls.push(mac);
      return taken.has(mac);
    }
    assert.equal(gen.next(isTaken), all[1]);
    assert.equal(gen.count, 2);
    assert.equal(gen.next(isTaken), all[4]);
    assert.equal(gen.count, 5);
    assert.deepEqual(calls, all.slice(0, 5));
  });

  test("next() fills a 5-octet prefix up to its last free MAC", () => {
    const gen = new MacGenerator({ seed: 8, prefix: "02:00:00:00:01" });
    const used = new Set<string>();
    for (let i = 0; i < 256; i++) used.add(gen.next((mac) => used.has(mac)));
    assert.equal(used.size, 256);
  });

  test("next() throws RangeError after 4096 taken candidates in a row", () => {
    const gen = new MacGenerator({ seed: 1, prefix: "52:54:00" });
    assert.throws(() => gen.next(() => true), {
      name: "RangeError",
      message: "Cannot generate MAC: 4096 candidates in a row were taken with prefix '52:54:00'",
    });
    assert.equal(gen.count, 4096);
    assert.throws(() => new MacGenerator().next(() => true), {
      name: "RangeError",
      message: "Cannot generate MAC: 4096 candidates in a row were taken",
    });
  });

  test("count resumed as start continues the same sequence", () => {
    const taken = (mac: string) => mac.endsWith("0");
    const straight = new MacGenerator({ seed: "resume", prefix: "52:54:00" });
    const expected = take(straight, 20).concat(Array.from({ length: 20 }, () => straight.next(taken)));

    const first = new MacGenerator({ seed: "resume", prefix: "52:54:00" });
    const got = take(first, 20);
    const resumed = new MacGenerator({ seed: "resume", prefix: "52:54:00", start: first.count });
    assert.equal(resumed.count, 20);
    for (let i = 0; i < 20; i++) got.push(resumed.next(taken));
    assert.deepEqual(got, expected);
    assert.equal(resumed.count, straight.count);
  });

  test("constructor rejects a multicast prefix with RangeError naming it", () => {
    for (const prefix of ["01:00:5e", "33:33", "ff", "11:00:aa"]) {
      assert.throws(() => new MacGenerator({ prefix }), {
        name: "RangeError",
        message:
          `Cannot use MAC prefix as a generated MAC must be unicast (first octet even): current value is '${prefix}'`,
      });
    }
  });

  test("constructor rejects a malformed prefix with SyntaxError", () => {
    for (const prefix of ["", "5", "525400", "52-54-00", "52:54:00:00:00:00", "52:54:", "zz", "52:5"]) {
      assert.throws(() => new MacGenerator({ prefix }), {
        name: "SyntaxError",
        message: `Cannot parse MAC prefix '${prefix}': expected 1 to 5 hex octets as xx:xx:..`,
      });
    }
  });

  test("constructor rejects a bad seed or start", () => {
    assert.throws(() => new MacGenerator({ seed: 1.5 }), {
      name: "RangeError",
      message: "Cannot create MAC generator as 'seed' must be a safe integer: current value is 1.5",
    });
    assert.throws(() => new MacGenerator({ seed: Number.NaN }), RangeError);
    assert.throws(() => new MacGenerator({ seed: true as unknown as number }), TypeError);
    assert.throws(() => new MacGenerator({ start: -1 }), {
      name: "RangeError",
      message:
        "Cannot create MAC generator as 'start' must be a non-negative safe integer: current value is -1",
    });
    assert.throws(() => new MacGenerator({ start: 0.5 }), RangeError);
  });
});
