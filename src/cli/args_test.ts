import assert from "node:assert/strict";
import { isSfsError } from "../errors.ts";
import {
  type CommandLineSpec,
  commandName,
  formatHelp,
  parseCommandLine,
  type ParsedCommandLine,
  type ProgramSpec,
} from "./args.ts";

const GET: CommandLineSpec = {
  name: "get",
  describe: "get one",
  arguments: [{ name: "what", describe: "the ticket" }],
  options: [
    { long: "out", short: "o", value: "<dir>", describe: "folder", default: "." },
    { long: "force", describe: "replace" },
    { long: "no-proof", describe: "no proof" },
    { long: "require", value: "<alg>", describe: "alg", choices: ["rsa", "both"], default: "both" },
  ],
};
const SEND: CommandLineSpec = {
  name: "send",
  describe: "send some",
  arguments: [{ name: "paths", describe: "files", required: true, variadic: true }],
  options: [
    { long: "keyword", value: "<word>", describe: "keyword", repeatable: true },
    { long: "code-ttl", value: "<duration>", describe: "ttl" },
  ],
};
const PROGRAM: ProgramSpec<CommandLineSpec> = {
  name: "sfs",
  describe: "test program",
  version: "9.9.9",
  globals: [
    { long: "home", value: "<dir>", describe: "home" },
    { long: "json", describe: "json" },
    { long: "quiet", short: "q", describe: "quiet" },
  ],
  commands: [GET, SEND],
  epilogue: (command) => `\nExamples:\n  sfs ${command ?? "get"}\n`,
};

function run(argv: string[]): Extract<ParsedCommandLine<CommandLineSpec>, { kind: "run" }> {
  const parsed = parseCommandLine(argv, PROGRAM);
  assert.equal(parsed.kind, "run");
  return parsed as Extract<ParsedCommandLine<CommandLineSpec>, { kind: "run" }>;
}

Deno.test("parseCommandLine() fills defaults and leaves absent options undefined", () => {
  const { command, args, flags } = run(["get"]);
  assert.equal(command, GET);
  assert.deepEqual(args, [undefined]);
  assert.deepEqual(flags, { out: ".", proof: true, require: "both" });
});

Deno.test("parseCommandLine() reads every option form, before or after arguments", async (t) => {
  const cases: Array<[string, string[], Record<string, unknown>]> = [
    ["--name value", ["get", "--out", "d", "T"], { out: "d" }],
    ["--name=value", ["get", "T", "--out=d"], { out: "d" }],
    ["-n value", ["get", "-o", "d", "T"], { out: "d" }],
    ["-nvalue", ["get", "T", "-od"], { out: "d" }],
    ["a value that starts with a dash", ["get", "T", "--out", "-d"], { out: "-d" }],
    ["--no-x", ["get", "T", "--no-proof"], { proof: false }],
    ["a boolean", ["get", "--force", "T"], { force: true }],
    ["a choice", ["get", "T", "--require", "rsa"], { require: "rsa" }],
    ["globals before the command", ["--home", "h", "--json", "get", "T"], {
      home: "h",
      json: true,
    }],
    ["globals after the command", ["get", "T", "-q", "--home=h"], { home: "h", quiet: true }],
    ["grouped short booleans", ["get", "T", "-qo", "d"], { quiet: true, out: "d" }],
  ];
  for (const [name, argv, want] of cases) {
    await t.step(name, () => {
      const { args, flags } = run(argv);
      assert.deepEqual(args, ["T"]);
      for (const [key, value] of Object.entries(want)) assert.equal(flags[key], value, key);
    });
  }
});

Deno.test("parseCommandLine() collects variadic arguments and repeatable options", () => {
  const { args, flags } = run([
    "send",
    "a",
    "--keyword",
    "x",
    "b",
    "--keyword=y",
    "--code-ttl",
    "5m",
  ]);
  assert.deepEqual(args, [["a", "b"]]);
  assert.deepEqual(flags.keyword, ["x", "y"]);
  assert.equal(flags.codeTtl, "5m");
  assert.equal(run(["send", "a"]).flags.keyword, undefined);
});

Deno.test("parseCommandLine() takes what follows -- and a lone - as arguments", () => {
  assert.deepEqual(run(["send", "--", "--force", "-"]).args, [["--force", "-"]]);
  assert.deepEqual(run(["get", "-"]).args, ["-"]);
});

Deno.test("commandName() finds the command past global options and their values", () => {
  const globals = PROGRAM.globals;
  assert.equal(commandName(["get", "x", "--out", "o"], globals), "get");
  assert.equal(commandName(["--home", "send", "-q", "get", "x"], globals), "get");
  assert.equal(commandName(["--json", "--", "get"], globals), undefined);
  assert.equal(commandName(["--help"], globals), undefined);
  assert.equal(commandName(["help", "get"], globals), "help");
});

Deno.test("parseCommandLine() answers help and version", () => {
  for (const argv of [["--help"], ["-h"], ["help"], ["get", "--help"], ["help", "get"]]) {
    const parsed = parseCommandLine(argv, PROGRAM);
    assert.equal(parsed.kind, "help", argv.join(" "));
  }
  assert.deepEqual(parseCommandLine(["-V"], PROGRAM), { kind: "version", text: "9.9.9" });
  assert.deepEqual(parseCommandLine(["--version"], PROGRAM), { kind: "version", text: "9.9.9" });
});

Deno.test("formatHelp() lists a command's arguments, options and globals, examples last", () => {
  const help = formatHelp(PROGRAM, GET);
  for (
    const part of ["Usage: sfs get [options] [what]", "-o, --out <dir>", "--no-proof", "--home"]
  ) {
    assert.ok(help.includes(part), part);
  }
  assert.ok(help.trimEnd().endsWith("Examples:\n  sfs get"));
  assert.ok(formatHelp(PROGRAM).includes("send  send some"));
});

Deno.test("parseCommandLine() refuses mistakes with USAGE", async (t) => {
  const cases: Array<[string, string[]]> = [
    ["no command", []],
    ["only globals", ["--json"]],
    ["an unknown command", ["frobnicate"]],
    ["help for an unknown command", ["help", "frobnicate"]],
    ["an unknown long option", ["get", "--frobnicate"]],
    ["an unknown short option", ["get", "-z"]],
    ["another command's option", ["get", "--keyword", "x"]],
    ["a missing value", ["get", "--out"]],
    ["a missing short value", ["get", "-o"]],
    ["a value for a boolean", ["get", "--force=yes"]],
    ["a value not among the choices", ["get", "--require", "md5"]],
    ["a missing required argument", ["send"]],
    ["an extra argument", ["get", "a", "b"]],
  ];
  for (const [name, argv] of cases) {
    await t.step(name, () => {
      assert.throws(() => parseCommandLine(argv, PROGRAM), (err) => isSfsError(err, "USAGE"));
    });
  }
});
