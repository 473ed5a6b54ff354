import assert from "node:assert/strict";
import { isSfsError } from "../errors.ts";
import {
  formatHostPort,
  formatNetAddr,
  type HostPort,
  ipv6Groups,
  isIPv6,
  parseHostPort,
  type ParseHostPortOptions,
  tryParseHostPort,
} from "./address.ts";

const VALID: Array<[string, HostPort, ParseHostPortOptions?]> = [
  ["127.0.0.1:1", { host: "127.0.0.1", port: 1 }],
  ["0.0.0.0:65535", { host: "0.0.0.0", port: 65535 }],
  ["255.255.255.255:80", { host: "255.255.255.255", port: 80 }],
  ["localhost:9999", { host: "localhost", port: 9999 }],
  ["files.example.net:7070", { host: "files.example.net", port: 7070 }],
  ["Files.Example-1.NET:7070", { host: "Files.Example-1.NET", port: 7070 }],
  ["a:1", { host: "a", port: 1 }],
  ["1a.example:1", { host: "1a.example", port: 1 }],
  [`${"a".repeat(63)}.example:1`, { host: `${"a".repeat(63)}.example`, port: 1 }],
  ["[::1]:1", { host: "::1", port: 1 }],
  ["[::]:9", { host: "::", port: 9 }],
  ["[2001:db8::7]:65535", { host: "2001:db8::7", port: 65535 }],
  ["[2001:DB8:0:0:0:0:0:7]:80", { host: "2001:DB8:0:0:0:0:0:7", port: 80 }],
  ["[fe80::]:80", { host: "fe80::", port: 80 }],
  ["[::ffff:192.0.2.1]:80", { host: "::ffff:192.0.2.1", port: 80 }],
  ["[1:2:3:4:5:6:192.0.2.1]:80", { host: "1:2:3:4:5:6:192.0.2.1", port: 80 }],
  // Options: a default port, and the listener forms.
  ["example.com", { host: "example.com", port: 9999 }, { defaultPort: 9999 }],
  ["[::1]", { host: "::1", port: 9999 }, { defaultPort: 9999 }],
  ["example.com:1", { host: "example.com", port: 1 }, { defaultPort: 9999 }],
  ["127.0.0.1:0", { host: "127.0.0.1", port: 0 }, { listener: true }],
  [":0", { host: "0.0.0.0", port: 0 }, { listener: true }],
  [":9999", { host: "0.0.0.0", port: 9999 }, { listener: true }],
  ["[::]:0", { host: "::", port: 0 }, { listener: true }],
];

const INVALID: Array<[string, string, ParseHostPortOptions?]> = [
  ["empty", ""],
  ["no port", "example.com"],
  ["no port, bracketed", "[::1]"],
  ["empty port", "example.com:"],
  ["empty host", ":80"],
  ["empty host when listening without a port", "", { listener: true, defaultPort: 1 }],
  ["port 0", "127.0.0.1:0"],
  ["port 65536", "127.0.0.1:65536"],
  ["port 99999", "127.0.0.1:99999"],
  ["port 100000", "127.0.0.1:100000"],
  ["port with a leading zero", "127.0.0.1:080"],
  ["port 00 when listening", "127.0.0.1:00", { listener: true }],
  ["signed port", "127.0.0.1:+80"],
  ["hex port", "127.0.0.1:0x50"],
  ["default port 0", "example.com", { defaultPort: 0 }],
  ["default port 65536", "example.com", { defaultPort: 65536 }],
  ["unbracketed IPv6", "2001:db8::7:7070"],
  ["unbracketed IPv6 without a port", "::1", { defaultPort: 1 }],
  ["IPv6 with a zone id", "[fe80::1%eth0]:80"],
  ["IPv6 with an escaped zone id", "[fe80::1%25eth0]:80"],
  ["empty brackets", "[]:80"],
  ["unclosed bracket", "[::1:80"],
  ["text after the bracket", "[::1]x:80"],
  ["IPv4 in brackets", "[127.0.0.1]:80"],
  ["DNS name in brackets", "[localhost]:80"],
  ["IPv6 with two ::", "[1::2::3]:80"],
  ["IPv6 with nine groups", "[1:2:3:4:5:6:7:8:9]:80"],
  ["IPv6 with seven groups", "[1:2:3:4:5:6:7]:80"],
  ["IPv6 with :: and eight groups", "[1::2:3:4:5:6:7:8]:80"],
  ["IPv6 with a 5-digit group", "[12345::]:80"],
  ["IPv6 with a bad IPv4 tail", "[::ffff:256.0.0.1]:80"],
  ["IPv6 with an IPv4 tail in the middle", "[::1.2.3.4:1]:80"],
  ["dots in brackets", "[1.2]:80"],
  ["IPv4 octet 256", "256.0.0.1:80"],
  ["IPv4 octet with a leading zero", "010.0.0.1:80"],
  ["three-part numeric host", "1.2.3:80"],
  ["numeric host", "123:80"],
  ["five-part numeric host", "1.2.3.4.5:80"],
  ["hex IPv4", "0x7f.0.0.1:80"],
  ["DNS name with a trailing dot", "example.com.:80"],
  ["DNS name with an empty label", "a..b:80"],
  ["DNS label with a leading hyphen", "-a.example:80"],
  ["DNS label with a trailing hyphen", "a-.example:80"],
  ["DNS label of 64 characters", `${"a".repeat(64)}.example:80`],
  ["DNS name of 254 characters", `${"a.".repeat(126)}ab:80`],
  ["underscore", "my_host:80"],
  ["non-ASCII host", "exämple.com:80"],
  ["white space inside", "example .com:80"],
  ["surrounding white space", " example.com:80 "],
  ["newline", "example.com:80\n"],
  ["userinfo", "user@example.com:80"],
  ["path", "example.com:80/x"],
];

Deno.test("tryParseHostPort() accepts every valid form", async (t) => {
  for (const [text, expected, options] of VALID) {
    await t.step(text, () => assert.deepEqual(tryParseHostPort(text, options), expected));
  }
});

Deno.test("tryParseHostPort() refuses a malformed address with a reason", async (t) => {
  for (const [name, text, options] of INVALID) {
    await t.step(name, () => assert.equal(typeof tryParseHostPort(text, options), "string"));
  }
});

Deno.test("parseHostPort() throws USAGE for a malformed address", async (t) => {
  for (const [name, text, options] of INVALID) {
    if (text.trim() !== text) continue; // parseHostPort() trims: see the next test
    await t.step(name, () =>
      assert.throws(
        () => parseHostPort(text, "--listen", options),
        (err) => isSfsError(err, "USAGE"),
      ));
  }
});

Deno.test("parseHostPort() ignores white space around what a person typed", () => {
  assert.deepEqual(parseHostPort(" example.com:80\n", "--server"), {
    host: "example.com",
    port: 80,
  });
  assert.throws(() => parseHostPort(" ", "--server"), (err) => isSfsError(err, "USAGE"));
});

Deno.test("formatHostPort() round-trips every canonical form", async (t) => {
  const canonical = VALID.filter(([, , options]) => options === undefined).map(([text]) => text);
  for (const text of canonical) {
    await t.step(text, () => {
      const parsed = parseHostPort(text, "address");
      assert.equal(formatHostPort(parsed), text);
      assert.deepEqual(parseHostPort(formatHostPort(parsed), "address"), parsed);
    });
  }
});

Deno.test("formatNetAddr() brackets an IPv6 socket address", () => {
  assert.equal(formatNetAddr({ transport: "tcp", hostname: "::1", port: 7 }), "[::1]:7");
  assert.equal(formatNetAddr({ transport: "tcp", hostname: "127.0.0.1", port: 7 }), "127.0.0.1:7");
});

Deno.test("isIPv6() agrees with the WHATWG URL parser on bracketed hosts", async (t) => {
  const hosts = [...VALID, ...INVALID.map(([, text]) => [text] as const)]
    .map(([text]) => /^\[([^\]]*)\]/.exec(text)?.[1])
    .filter((host) => host !== undefined);
  const unique = [...new Set(hosts)];
  assert.ok(unique.length > 15);
  for (const host of unique) {
    await t.step(host, () => assert.equal(isIPv6(host), URL.canParse(`http://[${host}]/`)));
  }
});

Deno.test("ipv6Groups() expands :: and a dotted-quad tail, and refuses what isIPv6() refuses", () => {
  assert.deepEqual(ipv6Groups("::"), [0, 0, 0, 0, 0, 0, 0, 0]);
  assert.deepEqual(ipv6Groups("2001:db8::1"), [0x2001, 0xdb8, 0, 0, 0, 0, 0, 1]);
  assert.deepEqual(ipv6Groups("::ffff:198.51.100.7"), [0, 0, 0, 0, 0, 0xffff, 0xc633, 0x6407]);
  assert.deepEqual(ipv6Groups("1:2:3:4:5:6:7:8"), [1, 2, 3, 4, 5, 6, 7, 8]);
  for (
    const bad of ["", "1.2.3.4", "1:2:3:4:5:6:7", "1::2::3", "fe80::1%eth0", "12345::", "::1.2.3"]
  ) {
    assert.equal(ipv6Groups(bad), undefined, bad);
    assert.equal(isIPv6(bad), false, bad);
  }
});
