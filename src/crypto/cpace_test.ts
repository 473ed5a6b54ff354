import assert from "node:assert/strict";
import fc from "fast-check";
import { type ErrorCode, isSfsError } from "../errors.ts";
import { type Bytes, concat, fromHex, sha256, toHex, utf8 } from "./bytes.ts";
import {
  calculateGenerator,
  checkConfirmation,
  CPACE_DSI,
  cpaceFinish,
  cpaceStart,
  type CpaceStartOptions,
  generatorString,
  lvCat,
  prependLen,
  scalarMultVfy,
} from "./cpace.ts";

const EXCERPT_URL = new URL(
  "../../testdata/cpace/draft-irtf-cfrg-cpace-21-ristretto255.txt",
  import.meta.url,
);
const EXCERPT_SHA256 = "37b4be0e2ef20d69ead00d098cd6d91be0c5054b36d45c2bcd58fb76f7d8810c";
const EXCERPT = await Deno.readTextFile(EXCERPT_URL);

function code(expected: ErrorCode): (err: unknown) => boolean {
  return (err) => isSfsError(err, expected);
}

function hex(text: string): Bytes {
  const bytes = fromHex(text);
  if (bytes === undefined) throw new Error(`Not hex: ${text}`);
  return bytes;
}

/** The JSON objects of the excerpt's `~~~ test-vectors` blocks (base64 lines starting with '#'). */
function vectorBlocks(): Record<string, unknown>[] {
  const blocks = [...EXCERPT.matchAll(/~~~ test-vectors\n([\s\S]*?)~~~/g)];
  return blocks.map((match) => {
    const base64 = match[1].split("\n").map((line) => line.trim().replace(/^#/, "")).join("");
    return JSON.parse(atob(base64));
  });
}

/** The block that has `key`, with its string fields as hex-decoded bytes. */
function block(key: string): Record<string, string> {
  const found = vectorBlocks().find((b) => key in b);
  if (found === undefined) throw new Error(`No test-vectors block has ${key}`);
  return found as Record<string, string>;
}

/**
 * A labelled hex dump of the excerpt's ristretto255 section: the first `label`, then its
 * `(length: N bytes)`, then the hex lines; checks the dump has N bytes.
 */
function dump(label: string): Bytes {
  const section = EXCERPT.slice(EXCERPT.indexOf("group ristretto255 and hash SHA-512"));
  const at = section.indexOf(label);
  assert.ok(at >= 0, `label ${label}`);
  const rest = section.slice(at + label.length);
  const length = /\(length: (\d+) bytes\)\n/.exec(rest);
  assert.ok(length !== null);
  const lines = rest.slice(length.index + length[0].length).split("\n");
  let text = "";
  for (const line of lines) {
    if (!/^\s+[0-9a-f]+$/.test(line)) break;
    text += line.trim();
  }
  const bytes = hex(text);
  assert.equal(bytes.length, Number(length[1]));
  return bytes;
}

/** A random source that yields `bytes` once, as the draft's fixed scalars. */
function fixed(bytes: Uint8Array): (length: number) => Uint8Array {
  return (length) => {
    assert.equal(length, bytes.length);
    return bytes;
  };
}

const DRAFT = block("ISK_IR");

/** The draft's run: A and B with its inputs and scalars. */
function draftRun() {
  const common = { password: hex(DRAFT.PRS), channelId: hex(DRAFT.CI), sid: hex(DRAFT.sid) };
  const a = cpaceStart({
    ...common,
    ad: hex(DRAFT.ADa),
    role: "initiator",
    random: fixed(hex(DRAFT.ya)),
  });
  const b = cpaceStart({
    ...common,
    ad: hex(DRAFT.ADb),
    role: "responder",
    random: fixed(hex(DRAFT.yb)),
  });
  return { a, b };
}

Deno.test("the vendored draft excerpt is byte for byte as recorded", async () => {
  assert.equal(toHex(await sha256(await Deno.readFile(EXCERPT_URL))), EXCERPT_SHA256);
});

Deno.test("prependLen() and lvCat() match the draft's vectors", () => {
  const v = block("prepend_len(b'1234')");
  assert.equal(toHex(prependLen(new Uint8Array())), v["prepend_len(b'')"].toLowerCase());
  assert.equal(toHex(prependLen(utf8("1234"))), v["prepend_len(b'1234')"].toLowerCase());
  const range = (n: number) => Uint8Array.from({ length: n }, (_, i) => i);
  assert.equal(toHex(prependLen(range(127))), v["prepend_len(bytes(range(127)))"].toLowerCase());
  assert.equal(toHex(prependLen(range(128))), v["prepend_len(bytes(range(128)))"].toLowerCase());
  const l = block("lv_cat(b'1234',b'5',b'',b'678')");
  const parts = [utf8("1234"), utf8("5"), utf8(""), utf8("678")];
  assert.equal(toHex(lvCat(...parts)), l["lv_cat(b'1234',b'5',b'',b'678')"].toLowerCase());
  const t = block("transcript_ir(b'123',b'PartyA',b'234',b'PartyB')");
  assert.equal(
    toHex(concat(lvCat(utf8("123"), utf8("PartyA")), lvCat(utf8("234"), utf8("PartyB")))),
    t["transcript_ir(b'123',b'PartyA',b'234',b'PartyB')"].toLowerCase(),
  );
});

Deno.test("calculateGenerator() reproduces the draft's generator string, hash and generator", async () => {
  const v = block("generator_string(G.DSI,PRS,CI,sid,H.s_in_bytes)");
  assert.equal(toHex(CPACE_DSI), v.DSI.toLowerCase());
  const [prs, ci, sid] = [hex(v.PRS), hex(v.CI), hex(v.sid)];
  const string = generatorString(prs, ci, sid);
  assert.equal(toHex(string), v["generator_string(G.DSI,PRS,CI,sid,H.s_in_bytes)"].toLowerCase());
  assert.equal(string.length - lvCat(CPACE_DSI, prs, ci, sid).length - 1, v["ZPAD length"]);
  // The hash is checked with WebCrypto, independently of the module's SHA-512.
  const hash = new Uint8Array(await crypto.subtle.digest("SHA-512", string));
  assert.equal(toHex(hash), v["hash result"].toLowerCase());
  assert.equal(
    toHex(calculateGenerator(prs, ci, sid).toBytes()),
    v["encoded generator g"].toLowerCase(),
  );
  assert.equal(v["encoded generator g"], DRAFT.g);
});

Deno.test("cpaceStart() and cpaceFinish() reproduce Ya, Yb, K, the transcript and ISK_IR", () => {
  const { a, b } = draftRun();
  assert.equal(toHex(a.message), DRAFT.Ya.toLowerCase());
  assert.equal(toHex(b.message), DRAFT.Yb.toLowerCase());
  const ya = BigInt(`0x${toHex(hex(DRAFT.ya).reverse())}`);
  const yb = BigInt(`0x${toHex(hex(DRAFT.yb).reverse())}`);
  assert.equal(toHex(scalarMultVfy(ya, b.message)), DRAFT.K.toLowerCase());
  assert.equal(toHex(scalarMultVfy(yb, a.message)), DRAFT.K.toLowerCase());
  const transcript = concat(lvCat(a.message, hex(DRAFT.ADa)), lvCat(b.message, hex(DRAFT.ADb)));
  assert.deepEqual(transcript, dump("transcript_ir(Ya,ADa,Yb,ADb):"));
  const iskInput = concat(
    lvCat(concat(CPACE_DSI, utf8("_ISK")), hex(DRAFT.sid), hex(DRAFT.K)),
    transcript,
  );
  assert.deepEqual(iskInput, dump("lv_cat(DSI,sid,K)||transcript_ir(Ya,ADa,Yb,ADb):"));
  const fromA = cpaceFinish(a.state, b.message, hex(DRAFT.ADb));
  const fromB = cpaceFinish(b.state, a.message, hex(DRAFT.ADa));
  assert.equal(toHex(fromA.isk), DRAFT.ISK_IR.toLowerCase());
  assert.equal(toHex(fromB.isk), DRAFT.ISK_IR.toLowerCase());
});

Deno.test("cpaceFinish() confirmation tags match an independent HMAC-SHA-512 of the draft's run", async () => {
  const { a, b } = draftRun();
  const fromA = cpaceFinish(a.state, b.message, hex(DRAFT.ADb));
  const fromB = cpaceFinish(b.state, a.message, hex(DRAFT.ADa));
  const macKey = new Uint8Array(
    await crypto.subtle.digest(
      "SHA-512",
      concat(utf8("CPaceMac"), hex(DRAFT.sid), hex(DRAFT.ISK_IR)),
    ),
  );
  const key = await crypto.subtle.importKey(
    "raw",
    macKey,
    { name: "HMAC", hash: "SHA-512" },
    false,
    [
      "sign",
    ],
  );
  const tag = async (y: string, ad: string) =>
    toHex(new Uint8Array(await crypto.subtle.sign("HMAC", key, lvCat(hex(y), hex(ad)))));
  const ta = await tag(DRAFT.Ya, DRAFT.ADa);
  const tb = await tag(DRAFT.Yb, DRAFT.ADb);
  assert.equal(toHex(fromA.confirm.mine), ta);
  assert.equal(toHex(fromA.confirm.theirs), tb);
  assert.equal(toHex(fromB.confirm.mine), tb);
  assert.equal(toHex(fromB.confirm.theirs), ta);
  checkConfirmation(fromA, fromB.confirm.mine);
  checkConfirmation(fromB, fromA.confirm.mine);
});

Deno.test("scalarMultVfy() matches the draft's valid and invalid point vectors", () => {
  const v = block("Invalid Y1") as unknown as
    & { Valid: Record<string, string> }
    & Record<string, string>;
  const s = BigInt(`0x${toHex(hex(v.Valid.s).reverse())}`);
  assert.equal(
    toHex(scalarMultVfy(s, hex(v.Valid.X))),
    v.Valid["G.scalar_mult_vfy(s,X)"].toLowerCase(),
  );
  assert.equal(v.Valid["G.scalar_mult(s,decode(X))"], v.Valid["G.scalar_mult_vfy(s,X)"]);
  const identity = "00".repeat(32);
  assert.equal(toHex(scalarMultVfy(s, hex(v["Invalid Y1"]))), identity);
  assert.equal(toHex(scalarMultVfy(s, hex(v["Invalid Y2"]))), identity);
});

Deno.test("cpaceFinish() aborts with BAD_KEY on the draft's invalid points and malformed messages", async (t) => {
  const v = block("Invalid Y1");
  const cases: [string, Uint8Array][] = [
    ["non-canonical encoding (Y_i1)", hex(v["Invalid Y1"])],
    ["identity (Y_i2)", hex(v["Invalid Y2"])],
    ["31 bytes", new Uint8Array(31).fill(2)],
    ["33 bytes", new Uint8Array(33)],
    ["empty", new Uint8Array()],
    ["all 0xff", new Uint8Array(32).fill(0xff)],
  ];
  for (const [name, message] of cases) {
    await t.step(name, () => {
      for (const role of ["initiator", "responder"] as const) {
        const { state } = cpaceStart({ ...inputs("code"), role });
        assert.throws(() => cpaceFinish(state, message, utf8("peer")), code("BAD_KEY"));
      }
    });
  }
  await t.step("our own message reflected back", () => {
    const { message, state } = cpaceStart(inputs("code"));
    assert.throws(() => cpaceFinish(state, message, utf8("A")), code("BAD_KEY"));
  });
});

Deno.test("cpaceFinish() refuses to use a state twice", () => {
  const a = cpaceStart(inputs("code"));
  const b = cpaceStart({ ...inputs("code"), role: "responder" });
  cpaceFinish(a.state, b.message, utf8("B"));
  assert.throws(() => cpaceFinish(a.state, b.message, utf8("B")), code("INTERNAL"));
});

function inputs(password: string): CpaceStartOptions {
  return { password: utf8(password), channelId: utf8("ci"), sid: utf8("sid"), ad: utf8("A") };
}

/** Runs both sides; returns both results after exchanging messages and ADs. */
function run(a: CpaceStartOptions, b: CpaceStartOptions) {
  const sa = cpaceStart({ ...a, role: "initiator" });
  const sb = cpaceStart({ ...b, role: "responder" });
  return {
    a: cpaceFinish(sa.state, sb.message, b.ad),
    b: cpaceFinish(sb.state, sa.message, a.ad),
  };
}

Deno.test("cpace round trip: same inputs agree, any difference fails confirmation", async (t) => {
  await t.step("same password: same ISK, both confirmations pass", () => {
    const { a, b } = run(inputs("7-crimson-tiger-lamp"), {
      ...inputs("7-crimson-tiger-lamp"),
      ad: utf8("B"),
    });
    assert.deepEqual(a.isk, b.isk);
    checkConfirmation(a, b.confirm.mine);
    checkConfirmation(b, a.confirm.mine);
  });
  const differ: [string, Partial<CpaceStartOptions>][] = [
    ["password", { password: utf8("7-crimson-tiger-lamb") }],
    ["channel id", { channelId: utf8("other index") }],
    ["sid", { sid: utf8("sid2") }],
  ];
  for (const [name, change] of differ) {
    await t.step(`different ${name}: PAKE_FAILED on both sides`, () => {
      const base = inputs("7-crimson-tiger-lamp");
      const { a, b } = run(base, { ...base, ad: utf8("B"), ...change });
      assert.notDeepEqual(a.isk, b.isk);
      assert.throws(() => checkConfirmation(a, b.confirm.mine), code("PAKE_FAILED"));
      assert.throws(() => checkConfirmation(b, a.confirm.mine), code("PAKE_FAILED"));
    });
  }
  await t.step("AD changed in transit: PAKE_FAILED", () => {
    const sa = cpaceStart(inputs("code"));
    const sb = cpaceStart({ ...inputs("code"), ad: utf8("B"), role: "responder" });
    const a = cpaceFinish(sa.state, sb.message, utf8("B'"));
    const b = cpaceFinish(sb.state, sa.message, utf8("A"));
    assert.throws(() => checkConfirmation(a, b.confirm.mine), code("PAKE_FAILED"));
  });
  await t.step("a tag echoed back to its sender: PAKE_FAILED", () => {
    const { a } = run(inputs("code"), { ...inputs("code"), ad: utf8("B") });
    assert.throws(() => checkConfirmation(a, a.confirm.mine), code("PAKE_FAILED"));
  });
  await t.step("a truncated tag: PAKE_FAILED", () => {
    const { a, b } = run(inputs("code"), { ...inputs("code"), ad: utf8("B") });
    assert.throws(() => checkConfirmation(a, b.confirm.mine.subarray(0, 63)), code("PAKE_FAILED"));
  });
});

Deno.test("cpace keys agree exactly when the passwords agree (property)", () => {
  const bytes = fc.uint8Array({ minLength: 0, maxLength: 40 });
  const scalar = fc.uint8Array({ minLength: 32, maxLength: 32 }).filter((s) =>
    s.some((x, i) => (i === 31 ? x & 0x0f : x) !== 0)
  );
  fc.assert(
    fc.property(
      bytes,
      bytes,
      bytes,
      bytes,
      scalar,
      scalar,
      fc.boolean(),
      (p1, p2, ci, sid, ya, yb, same) => {
        const password = same ? p1 : p2;
        const sa = cpaceStart({
          password: p1,
          channelId: ci,
          sid,
          ad: utf8("A"),
          random: () => ya,
        });
        const sb = cpaceStart({
          password,
          channelId: ci,
          sid,
          ad: utf8("B"),
          role: "responder",
          random: () => yb,
        });
        if (toHex(sa.message) === toHex(sb.message)) return; // ya = yb and same password: skip
        const a = cpaceFinish(sa.state, sb.message, utf8("B"));
        const b = cpaceFinish(sb.state, sa.message, utf8("A"));
        const agree = toHex(p1) === toHex(password);
        assert.equal(toHex(a.isk) === toHex(b.isk), agree);
        if (agree) checkConfirmation(a, b.confirm.mine);
        else assert.throws(() => checkConfirmation(a, b.confirm.mine), code("PAKE_FAILED"));
      },
    ),
    { numRuns: 40 },
  );
});
