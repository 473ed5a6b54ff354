import assert from "node:assert/strict";
import { type ErrorCode, isSfsError } from "../errors.ts";
import { readTicketInput } from "./ticket_input.ts";

function code(expected: ErrorCode): (err: unknown) => boolean {
  return (err) => isSfsError(err, expected);
}

function streamOf(...chunks: string[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return ReadableStream.from(chunks.map((c) => encoder.encode(c)));
}

const noEnv = () => undefined;

Deno.test("readTicketInput() takes the argument as given", async () => {
  assert.equal(
    await readTicketInput("7-crimson-tiger-lamp", { getEnv: noEnv }),
    "7-crimson-tiger-lamp",
  );
});

Deno.test("readTicketInput() reads - from standard input", async (t) => {
  const cases: [string, string[], string][] = [
    ["one line", ["7-crimson-tiger-lamp\n"], "7-crimson-tiger-lamp"],
    ["no final newline", ["7-crimson-tiger-lamp"], "7-crimson-tiger-lamp"],
    ["split across chunks", ["7-crim", "son-tiger-la", "mp\r\n"], "7-crimson-tiger-lamp"],
    ["blank lines and spaces first", ["\n  \n  sfs://a:1/x#y  \nmore\n"], "sfs://a:1/x#y"],
  ];
  for (const [name, chunks, expected] of cases) {
    await t.step(name, async () => {
      assert.equal(
        await readTicketInput("-", { stdin: streamOf(...chunks), getEnv: noEnv }),
        expected,
      );
    });
  }
  await t.step("empty input is USAGE", async () => {
    await assert.rejects(
      readTicketInput("-", { stdin: streamOf(""), getEnv: noEnv }),
      code("USAGE"),
    );
    await assert.rejects(
      readTicketInput("-", { stdin: streamOf("\n \n"), getEnv: noEnv }),
      code("USAGE"),
    );
  });
  await t.step("a first line longer than 4096 bytes is USAGE", async () => {
    const stdin = streamOf("x".repeat(5000), "\n");
    await assert.rejects(readTicketInput("-", { stdin, getEnv: noEnv }), code("USAGE"));
  });
  await t.step("a first line longer than 4096 bytes in one chunk is USAGE", async () => {
    const stdin = streamOf("x".repeat(5000) + "\n");
    await assert.rejects(readTicketInput("-", { stdin, getEnv: noEnv }), code("USAGE"));
  });
});

Deno.test("readTicketInput() reads SFS_TICKET without an argument", async (t) => {
  await t.step("set", async () => {
    const getEnv = (name: string) => name === "SFS_TICKET" ? " 7-crimson-tiger-lamp\n" : undefined;
    assert.equal(await readTicketInput(undefined, { getEnv }), "7-crimson-tiger-lamp");
  });
  await t.step("unset or empty is USAGE", async () => {
    await assert.rejects(readTicketInput(undefined, { getEnv: noEnv }), code("USAGE"));
    await assert.rejects(readTicketInput(undefined, { getEnv: () => " " }), code("USAGE"));
  });
});
