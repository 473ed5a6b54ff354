/** What `--help` and usage errors print: examples last, no noise, JSON only with `--json`. */
import assert from "node:assert/strict";
import { GLOBAL_OPTIONS, loadCommands } from "../main.ts";
import { flagKey } from "../src/cli/args.ts";
import { runSfs } from "./harness.ts";

const COMMANDS = await loadCommands();

Deno.test("sfs CMD --help ends with examples for every command", async (t) => {
  for (const command of [...COMMANDS.map((c) => c.name), "(sfs itself)"]) {
    await t.step(command, async () => {
      const help = await runSfs(command.startsWith("(") ? ["--help"] : [command, "--help"]);
      assert.equal(help.code, 0, help.stderr);
      const examples = help.stdout.trimEnd().split("\nExamples:\n");
      assert.equal(examples.length, 2, help.stdout);
      for (const line of examples[1].split("\n")) assert.match(line, /^ {2}(\S+=\S+ )?sfs /);
    });
  }
});

Deno.test("sfs send --help shows no empty default for repeatable options", async () => {
  const help = await runSfs(["send", "--help"]);
  assert.match(help.stdout, /--keyword <word>/);
  assert.match(help.stdout, /--advertise <host:port>/);
  assert.doesNotMatch(help.stdout, /default: \[\]/);
});

Deno.test("sfs --json prints a usage error as one JSON line, without the help text", async () => {
  for (const args of [["get", "--json"], ["send", "--json", "--no-such-flag", "x"]]) {
    const result = await runSfs(args);
    assert.equal(result.code, 2, result.stderr);
    const lines = result.stderr.trimEnd().split("\n");
    assert.equal(lines.length, 1, result.stderr);
    assert.equal(JSON.parse(lines[0]).error.code, "USAGE");
  }
});

Deno.test("no command declares an option twice, nor one that hides a global option", () => {
  // The parser takes the first declaration of a name, so a duplicate would be silently unused.
  const names = (options: readonly { long: string; short?: string }[]) =>
    options.flatMap((o) => [`--${o.long}`, ...(o.short ? [`-${o.short}`] : [])]);
  for (const command of COMMANDS) {
    const options = [...(command.options ?? []), ...GLOBAL_OPTIONS];
    const all = [...names(options), ...options.map((o) => `key ${flagKey(o)}`)];
    assert.deepEqual(all.filter((name, i) => all.indexOf(name) !== i), [], command.name);
  }
});
