/**
 * Sealed records (§9.2) on either AEAD backend: an AeadKey (OpenSSL or WebCrypto) seals the
 * bytes a WebCrypto CryptoKey seals, in place or not, and a channel's records go both ways
 * whichever backend each side runs.
 */
import assert from "node:assert/strict";
import { isSfsError } from "../errors.ts";
import { testIdentity } from "../../tests/identities.ts";
import { tcpPair } from "../../tests/transport.ts";
import { type AeadBackend, AeadKey, type BackendHint, TAG_BYTES } from "../crypto/aead.ts";
import { aesKey } from "../crypto/kdf.ts";
import { WEBCRYPTO_AEAD } from "../crypto/aead_webcrypto.ts";
import { bothBackends, NO_OPENSSL, openssl } from "../native/test_backends.ts";
import type { Transport } from "./frame.ts";
import { openRecord, sealRecord } from "./channel.ts";
import { initiate, respond, TRANSFER_RECORDS } from "./handshake.ts";
import { IndexMessageType } from "./index_messages.ts";
import { MessageType } from "./messages.ts";

const RAW = Uint8Array.from({ length: 32 }, (_, i) => i * 7 + 1);
const SIZES = [0, 1, 15, 16, 17, 4096, 50 * 1024 + 3];

Deno.test("sealRecord() seals the bytes a CryptoKey seals with an AeadKey on each backend", {
  ignore: NO_OPENSSL,
}, async (t) => {
  const reference = await aesKey(RAW);
  for (const backend of bothBackends()) {
    await t.step(backend.name, async () => {
      using key = await AeadKey.import(RAW, { backend });
      for (const [sequence, size] of SIZES.entries()) {
        const plaintext = crypto.getRandomValues(new Uint8Array(size));
        const expected = await sealRecord(reference, sequence, plaintext);
        assert.deepEqual(await sealRecord(key, sequence, plaintext), expected);
        // In place: the plaintext at the start of a buffer with room for the tag.
        const record = new Uint8Array(size + TAG_BYTES);
        record.set(plaintext);
        const sealed = await sealRecord(key, sequence, record.subarray(0, size), { into: record });
        assert.deepEqual(sealed, expected);
        // Opened by the other kind of key, and in place.
        assert.deepEqual(await openRecord(reference, sequence, sealed.slice()), plaintext);
        const opened = await openRecord(key, sequence, sealed, { into: sealed });
        assert.deepEqual(opened, plaintext);
      }
    });
  }
});

Deno.test(
  "openRecord() rejects a flipped tag or another sequence with DECRYPT_FAILED on each backend",
  {
    ignore: NO_OPENSSL,
  },
  async (t) => {
    const reference = await aesKey(RAW);
    for (const backend of bothBackends()) {
      await t.step(backend.name, async () => {
        using key = await AeadKey.import(RAW, { backend });
        const plaintext = new Uint8Array(100).fill(0x5a);
        const sealed = await sealRecord(reference, 9, plaintext);
        const flipped = sealed.slice();
        flipped[flipped.length - 1] ^= 1;
        await assert.rejects(
          openRecord(key, 9, flipped, { into: flipped }),
          (err) => isSfsError(err, "DECRYPT_FAILED"),
        );
        // Nothing unauthenticated is left where it was opened in place.
        assert.ok(!flipped.subarray(0, plaintext.length).some((byte) => byte === 0x5a));
        await assert.rejects(
          openRecord(key, 10, sealed.slice()),
          (err) => isSfsError(err, "DECRYPT_FAILED"),
        );
        await assert.rejects(
          openRecord(key, 9, sealed.subarray(0, TAG_BYTES - 1)),
          (err) => isSfsError(err, "DECRYPT_FAILED"),
        );
      });
    }
  },
);

/** Establishes a channel with each side's records on its own backend. */
async function channelPair(client: Transport, server: Transport, backends: AeadBackend[]) {
  const [alice, bob] = [await testIdentity("alice"), await testIdentity("bob")];
  const [initiator, responder] = await Promise.all([
    initiate(client, alice, { verifyResponder: () => {}, aeadBackend: backends[0] }),
    respond(server, bob, { aeadBackend: backends[1] }),
  ]);
  return { initiator, responder };
}

Deno.test("Channel records go both ways whichever backend each side seals with", {
  ignore: NO_OPENSSL,
}, async (t) => {
  const pairs: [AeadBackend, AeadBackend][] = [
    [openssl(), openssl()],
    [WEBCRYPTO_AEAD, openssl()],
    [openssl(), WEBCRYPTO_AEAD],
    [WEBCRYPTO_AEAD, WEBCRYPTO_AEAD],
  ];
  for (const backends of pairs) {
    await t.step(backends.map((b) => b.name).join(" → "), async () => {
      await using pair = await tcpPair();
      const { initiator, responder } = await channelPair(pair.client, pair.server, backends);
      try {
        assert.equal(initiator.recordBackend, backends[0].name);
        assert.equal(responder.recordBackend, backends[1].name);
        for (const query of ["a", "x".repeat(200), "report"]) {
          const search = { type: IndexMessageType.SEARCH, query, limit: 50, offset: 0 } as const;
          await initiator.send(search);
          assert.deepEqual(await responder.receive(), search);
          const get = {
            type: MessageType.GET,
            fileId: new Uint8Array(16).fill(3),
            offset: 0,
          } as const;
          await responder.send(get);
          assert.deepEqual(await initiator.receive(), get);
        }
      } finally {
        initiator.close();
        responder.close();
      }
    });
  }
});

Deno.test("Channel.send() after close() is CONNECTION_CLOSED, not a disposed key", {
  ignore: NO_OPENSSL,
}, async () => {
  await using pair = await tcpPair();
  const { initiator, responder } = await channelPair(pair.client, pair.server, [
    openssl(),
    openssl(),
  ]);
  responder.close();
  initiator.close();
  await assert.rejects(
    initiator.send({ type: MessageType.GET, fileId: new Uint8Array(16), offset: 0 }),
    (err) => isSfsError(err, "CONNECTION_CLOSED"),
  );
});

Deno.test("a channel's record keys are chosen with its recordHint, its payload key at first use", async () => {
  const hints: BackendHint[] = [];
  const choose = (hint: BackendHint) => {
    hints.push(hint);
    return WEBCRYPTO_AEAD;
  };
  await using pair = await tcpPair();
  const [alice, bob] = [await testIdentity("alice"), await testIdentity("bob")];
  const options = { aeadBackend: choose, recordHint: TRANSFER_RECORDS };
  const [initiator, responder] = await Promise.all([
    initiate(pair.client, alice, { verifyResponder: () => {}, ...options }),
    respond(pair.server, bob, options),
  ]);
  try {
    // Two direction keys on each side; neither payload key has been used yet.
    assert.deepEqual(hints, Array(4).fill({ light: true }));
    assert.equal(initiator.recordBackend, "webcrypto");
    assert.equal(initiator.payloadKey.backend, undefined);
    initiator.payloadKey.expectBytes(1 << 30);
    await initiator.payloadKey.seal(new Uint8Array(12), new Uint8Array(1));
    assert.deepEqual(hints.at(-1), { bytes: 1 << 30 });
  } finally {
    initiator.close();
    responder.close();
  }
});
