/**
 * Netspec parsing and printing. Each group reports ratios against its baseline:
 * `deno bench bench/netspec.bench.ts`.
 *
 * @module
 */
import { formatNetspec, type Netspec, parseNetspec } from "../lib/netspec.ts";

const ONE_FIELD = "LAN";
const THREE_FIELDS_MAC = "lab,100,de:ad:be:ef:ca:fe";
const THREE_FIELDS_MAC_UPPER = "lab,100,DE-AD-BE-EF-CA-FE";
const FIVE_FIELDS = "lab,100,de:ad:be:ef:ca:fe,virtio-net-pci,qinq";

const PARSED_ONE: Netspec = parseNetspec(ONE_FIELD);
const PARSED_FIVE: Netspec = parseNetspec(FIVE_FIELDS);

// Results go here so that no call can be optimised away.
let _sink: unknown;

Deno.bench({
  name: "parseNetspec() 1 field",
  group: "parse",
  baseline: true,
  fn() {
    _sink = parseNetspec(ONE_FIELD);
  },
});

Deno.bench({
  name: "parseNetspec() 3 fields with a MAC",
  group: "parse",
  fn() {
    _sink = parseNetspec(THREE_FIELDS_MAC);
  },
});

Deno.bench({
  name: "parseNetspec() 3 fields with a hyphen MAC to normalise",
  group: "parse",
  fn() {
    _sink = parseNetspec(THREE_FIELDS_MAC_UPPER);
  },
});

Deno.bench({
  name: "parseNetspec() 5 fields",
  group: "parse",
  fn() {
    _sink = parseNetspec(FIVE_FIELDS);
  },
});

Deno.bench({
  name: "formatNetspec() 1 field",
  group: "format",
  baseline: true,
  fn() {
    _sink = formatNetspec(PARSED_ONE);
  },
});

Deno.bench({
  name: "formatNetspec() 5 fields",
  group: "format",
  fn() {
    _sink = formatNetspec(PARSED_FIVE);
  },
});
