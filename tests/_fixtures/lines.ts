/**
 * fast-check generators of command lines for the property-based tests: minimega's commands over small
 * pools of names, aliases, VLANs and addresses (so that lines meet, collide and fail), bad values
 * among the good ones, and now and then a line of junk.
 *
 * @module
 */

import fc from "fast-check";

const vmName = fc.constantFrom("web1", "web2", "db", "vm[1-3]", "all", "3", "-x", "a/b", "");
const alias = fc.constantFrom("DMZ", "CORE", "ns2//LAN", "100", "0", "4095", "4096", "-1", "", "x y");
const vlanNumber = fc.constantFrom(
  "0",
  "1",
  "2",
  "100",
  "101",
  "4094",
  "4095",
  "4096",
  "-1",
  "99999",
  "2147483648",
);
const bridge = fc.constantFrom("mega_bridge", "br2", "all", "-b", "a/b", "abcdefghijklmnop", "");
const tapName = fc.constantFrom("t1", "t2", "mega_tap0", "mega_bridge", "-t", "../..", "", "x y");
const cidr = fc.constantFrom("10.0.0.1/24", "10.0.0.2/24", "10.0.0.300/24", "10.0.0.1", "-i", "dhcp");
const ip = fc.constantFrom("10.0.0.1", "10.0.0.2", "10.0.0.9", "10.1.0.1", "1.2.3", "-c");
const index = fc.constantFrom("0", "1", "5", "-1", "x");
const namespace = fc.constantFrom("minimega", "ns2", "all", "-n", "a b");
const word = fc.constantFrom(
  "vlans",
  "vm",
  "tap",
  "bridge",
  "clear",
  "namespace",
  "ping",
  "add",
  "info",
  "create",
);

/** A netspec, well formed or not. */
const netspec = fc.oneof(
  alias,
  fc.tuple(bridge, alias).map(([b, a]) => `${b},${a}`),
  fc.tuple(alias, fc.constantFrom("00:11:22:33:44:55", "zz", "52:54:00:00:00:01")).map(([a, m]) =>
    `${a},${m}`
  ),
  fc.tuple(alias, fc.constantFrom("e1000", "virtio-net-pci", "nope")).map(([a, d]) => `${a},${d}`),
);

/** One command line of the lab's commands (no captures, shell or KVM: they live in one process). */
export const commandLine: fc.Arbitrary<string> = fc.oneof(
  fc.constant("vlans"),
  fc.tuple(alias, vlanNumber).map(([a, v]) => `vlans add ${a} ${v}`),
  fc.tuple(vlanNumber, vlanNumber).map(([a, b]) => `vlans range ${a} ${b}`),
  vlanNumber.map((v) => `vlans blacklist ${v}`),
  fc.constant("vlans blacklist"),
  fc.option(alias, { nil: undefined }).map((a) => a === undefined ? "clear vlans" : `clear vlans ${a}`),
  fc.array(netspec, { minLength: 1, maxLength: 3 }).map((specs) => `vm config net ${specs.join(" ")}`),
  fc.constant("clear vm config"),
  vmName.map((n) => `vm launch container ${n}`),
  fc.tuple(fc.constantFrom("start", "stop", "kill"), vmName).map(([verb, n]) => `vm ${verb} ${n}`),
  fc.constant("vm flush"),
  fc.constant("vm info"),
  fc.constant(".columns name,state,vlan,ip vm info"),
  fc.tuple(vmName, index, cidr).map(([n, i, c]) => `vm net ip ${n} ${i} ${c}`),
  fc.tuple(vmName, index).map(([n, i]) => `vm net disconnect ${n} ${i}`),
  fc.tuple(vmName, index, alias).map(([n, i, a]) => `vm net connect ${n} ${i} ${a}`),
  fc.tuple(vmName, netspec).map(([n, s]) => `vm net add ${n} ${s}`),
  fc.constant("tap"),
  fc.tuple(alias, fc.option(tapName, { nil: undefined })).map(([a, t]) =>
    t === undefined ? `tap create ${a}` : `tap create ${a} name ${t}`
  ),
  fc.tuple(alias, cidr, tapName).map(([a, c, t]) => `tap create ${a} ip ${c} ${t}`),
  fc.tuple(alias, bridge, tapName).map(([a, b, t]) => `tap create ${a} bridge ${b} name ${t}`),
  tapName.map((t) => `tap delete ${t}`),
  fc.tuple(tapName, tapName).map(([a, b]) => `tap mirror ${a} ${b}`),
  fc.tuple(vmName, index, vmName, index).map(([a, i, b, j]) => `tap mirror ${a} ${i} ${b} ${j}`),
  fc.constant("clear tap mirror"),
  fc.constant("clear tap"),
  fc.constant("bridge"),
  fc.tuple(bridge, tapName).map(([b, t]) => `bridge trunk ${b} ${t}`),
  fc.tuple(bridge, tapName).map(([b, t]) => `bridge notrunk ${b} ${t}`),
  fc.tuple(bridge, fc.constantFrom("rstp_enable=true", "-x=1", "bogus", "other_config:a=b")).map(([b, c]) =>
    `bridge config ${b} ${c}`
  ),
  bridge.map((b) => `bridge destroy ${b}`),
  fc.tuple(vmName, ip).map(([n, i]) => `ping ${n} ${i}`),
  namespace.map((n) => `namespace ${n}`),
  fc.tuple(namespace, fc.constantFrom("vlans", "vm info", "vlans add DMZ 300", "vm launch container web1"))
    .map((
      [n, c],
    ) => `namespace ${n} ${c}`),
  namespace.map((n) => `clear namespace ${n}`),
  fc.constant("clear all"),
  fc.array(word, { minLength: 1, maxLength: 4 }).map((w) => w.join(" ")),
);
