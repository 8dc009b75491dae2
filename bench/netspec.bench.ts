/**
 * Netspec parsing and printing. `deno bench bench/netspec.bench.ts`, or medians with
 * `deno run -A scripts/bench_report.ts`.
 *
 * @module
 */
import { formatNetspec, type Netspec, parseNetspec } from "../lib/netspec.ts";
import { bench } from "./_bench.ts";

const ONE_FIELD = "LAN";
const THREE_FIELDS_MAC = "lab,100,de:ad:be:ef:ca:fe";
const THREE_FIELDS_MAC_UPPER = "lab,100,DE-AD-BE-EF-CA-FE";
const FIVE_FIELDS = "lab,100,de:ad:be:ef:ca:fe,virtio-net-pci,qinq";

const PARSED_ONE: Netspec = parseNetspec(ONE_FIELD);
const PARSED_FIVE: Netspec = parseNetspec(FIVE_FIELDS);

// Results go here so that no call can be optimised away.
const sink: { value: unknown } = { value: undefined };

bench({
  name: "parseNetspec() 1 field",
  group: "parse",
  baseline: true,
  fn: () => sink.value = parseNetspec(ONE_FIELD),
});
bench({
  name: "parseNetspec() 3 fields with a MAC",
  group: "parse",
  fn: () => sink.value = parseNetspec(THREE_FIELDS_MAC),
});
bench({
  name: "parseNetspec() 3 fields with a hyphen MAC to normalise",
  group: "parse",
  fn: () => sink.value = parseNetspec(THREE_FIELDS_MAC_UPPER),
});
bench({ name: "parseNetspec() 5 fields", group: "parse", fn: () => sink.value = parseNetspec(FIVE_FIELDS) });
bench({
  name: "formatNetspec() 1 field",
  group: "format",
  baseline: true,
  fn: () => sink.value = formatNetspec(PARSED_ONE),
});
bench({
  name: "formatNetspec() 5 fields",
  group: "format",
  fn: () => sink.value = formatNetspec(PARSED_FIVE),
});
