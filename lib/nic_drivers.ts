// Runtime-neutral.
/**
 * The NIC drivers (QEMU network device models) a netspec field can name. minimega asks QEMU with
 * `-device ?` and, when QEMU is missing, recognises no driver at all; labwire starts from a built-in list
 * and only widens it with what QEMU reports, so a netspec parses the same with or without QEMU installed.
 *
 * @module
 */

/**
 * The built-in NIC drivers: the canonical names that a stock QEMU 7.2 `qemu-system-x86_64 -device ?` lists
 * under `Network devices:`, plus `usb-bt-dongle`, which older QEMUs list. Names that only some builds or
 * versions offer (`pvrdma`, `igb`, `xen-net-device`) come from {@linkcode discoverNicDrivers}. Aliases such as
 * `virtio-net` or `e1000-82540em` are not drivers, as in minimega.
 */
export const NIC_DRIVERS: ReadonlySet<string> = new Set([
  "e1000",
  "e1000-82544gc",
  "e1000-82545em",
  "e1000e",
  "i82550",
  "i82551",
  "i82557a",
  "i82557b",
  "i82557c",
  "i82558a",
  "i82558b",
  "i82559a",
  "i82559b",
  "i82559c",
  "i82559er",
  "i82562",
  "i82801",
  "ne2k_isa",
  "ne2k_pci",
  "pcnet",
  "rocker",
  "rtl8139",
  "tulip",
  "usb-bt-dongle",
  "usb-net",
  "virtio-net-device",
  "virtio-net-pci",
  "virtio-net-pci-non-transitional",
  "virtio-net-pci-transitional",
  "vmxnet3",
]);

/** The section header that starts the list of NICs in `-device ?` output. */
const NETWORK_SECTION = "Network devices:";
/** The characters Go's `unicode.IsSpace` accepts, which `strings.Fields` splits on. */
const GO_SPACE = /[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/;
/** Leading and trailing `"` and `,`, which minimega strips off a device name. */
const NAME_TRIM = /^[",]+|[",]+$/g;

/** Go's `strings.Fields`: the non-empty runs between whitespace. */
function fields(line: string): string[] {
  return line.split(GO_SPACE).filter((f) => f !== "");
}

/**
 * Reads the NIC drivers out of the output of `qemu -device ?`, the way minimega does: it skips to the line
 * containing `Network devices:`, takes the second whitespace-separated field of each following line with `"`
 * and `,` stripped from both ends (the `name "e1000",` value), and stops at the first line with fewer than two
 * fields, which is the blank line that ends the section. Only canonical names are read, never aliases.
 *
 * @param output The combined output of `qemu -device ?`.
 * @returns The driver names; empty when the output has no network section.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseQemuNicList } from "labwire/ovs";
 *
 * const output = [
 *   "Storage devices:",
 *   'name "virtio-blk-pci", bus PCI, alias "virtio-blk"',
 *   "",
 *   "Network devices:",
 *   'name "e1000", bus PCI, alias "e1000-82540em", desc "Intel Gigabit Ethernet"',
 *   'name "virtio-net-pci", bus PCI, alias "virtio-net"',
 *   "",
 *   "Input devices:",
 *   'name "usb-kbd", bus usb-bus',
 * ].join("\n");
 * assert.deepEqual(parseQemuNicList(output), new Set(["e1000", "virtio-net-pci"]));
 * ```
 */
export function parseQemuNicList(output: string): Set<string> {
  const drivers = new Set<string>();
  const lines = output.split("\n");
  let i = lines.findIndex((line) => line.includes(NETWORK_SECTION));
  if (i < 0) return drivers;
  for (i++; i < lines.length; i++) {
    const f = fields(lines[i]!);
    if (f.length < 2) break;
    // minimega would also record an empty name (a field made only of quotes and commas); labwire does not,
    // as an empty "driver" would make `100,` a valid spec.
    const name = f[1]!.replace(NAME_TRIM, "");
    if (name !== "") drivers.add(name);
  }
  return drivers;
}

/** What {@linkcode DiscoverNicDriversOptions.run} resolves to: a finished program's exit code and output. */
export interface QemuRunResult {
  /** The exit code; 127 means the shell could not find the program. */
  code: number;
  /** Everything written to standard output. */
  stdout: string;
  /** Everything written to standard error. */
  stderr: string;
}

/** Options for {@linkcode discoverNicDrivers}. */
export interface DiscoverNicDriversOptions {
  /**
   * Runs a program given as an argv array and resolves once it has exited (whatever its exit code). When the
   * program does not exist it rejects with an error whose `code` is `"ENOENT"` (what `node:child_process`
   * reports) or resolves with code 127.
   */
  run: (argv: readonly string[]) => Promise<QemuRunResult>;
  /**
   * The QEMU program to ask (minimega's `vm config qemu`).
   *
   * @default {"qemu-system-x86_64"}
   */
  qemu?: string;
  /**
   * The machine type (minimega's `vm config machine`), passed as `-M <machine>` when non-empty.
   *
   * @default {""}
   */
  machine?: string;
}

/** Whether `err` says the program does not exist, as `node:child_process` reports it. */
function isNotFound(err: unknown): boolean {
  return typeof err === "object" && err !== null && "code" in err && err.code === "ENOENT";
}

/** The last lines of a program's error output, for a message. */
function tail(text: string): string {
  const lines = text.trim().split("\n").slice(-5).join("\n");
  return lines.length > 1000 ? "..." + lines.slice(-1000) : lines;
}

/**
 * Finds the NIC drivers a QEMU offers by running `<qemu> [-M <machine>] -device ?` through `run`, and returns
 * them together with the built-in {@linkcode NIC_DRIVERS}. When QEMU is not installed it returns the built-in
 * list: unlike minimega, which then recognises no driver, labwire parses netspecs the same on hosts without
 * QEMU. Standard output and standard error are each parsed with {@linkcode parseQemuNicList}. This function
 * spawns nothing itself and caches nothing.
 *
 * @param options How to run QEMU, which QEMU and which machine type.
 * @returns The built-in drivers, plus those QEMU reported.
 * @throws {Error} `unable to determine valid QEMU nics -- <stderr tail>` (minimega's words) when QEMU exists
 * but fails, or when `run` rejects for another reason than a missing program.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { NIC_DRIVERS } from "labwire";
 * import { discoverNicDrivers } from "labwire/ovs";
 *
 * // No QEMU on this host: the built-in list.
 * const none = await discoverNicDrivers({
 *   run: () => Promise.resolve({ code: 127, stdout: "", stderr: "qemu-system-x86_64: not found\n" }),
 * });
 * assert.deepEqual(none, NIC_DRIVERS);
 *
 * // A QEMU with an extra NIC model.
 * const argvs: string[][] = [];
 * const drivers = await discoverNicDrivers({
 *   qemu: "kvm",
 *   machine: "q35",
 *   run: (argv) => {
 *     argvs.push([...argv]);
 *     return Promise.resolve({ code: 0, stdout: 'Network devices:\nname "igb", bus PCI\n', stderr: "" });
 *   },
 * });
 * assert.deepEqual(argvs, [["kvm", "-M", "q35", "-device", "?"]]);
 * assert.ok(drivers.has("igb") && drivers.has("e1000"));
 * ```
 */
export async function discoverNicDrivers(options: DiscoverNicDriversOptions): Promise<ReadonlySet<string>> {
  const { run, qemu = "qemu-system-x86_64", machine = "" } = options;
  const argv = machine === "" ? [qemu, "-device", "?"] : [qemu, "-M", machine, "-device", "?"];
  let result: QemuRunResult;
  try {
    result = await run(argv);
  } catch (err) {
    if (isNotFound(err)) return new Set(NIC_DRIVERS);
    const detail = err instanceof Error ? err.message : String(err);
    throw new Error(`unable to determine valid QEMU nics -- ${detail}`, { cause: err });
  }
  const { code, stdout, stderr } = result;
  if (code === 127) return new Set(NIC_DRIVERS);
  if (code !== 0) {
    throw new Error(`unable to determine valid QEMU nics -- ${tail(stderr) || `exited with code ${code}`}`);
  }
  const drivers = new Set(NIC_DRIVERS);
  for (const name of parseQemuNicList(stdout)) drivers.add(name);
  for (const name of parseQemuNicList(stderr)) drivers.add(name);
  return drivers;
}
