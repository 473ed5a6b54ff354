/** Every fuzz target, in the order the CI run and the long run go through them. */
import { byteReaderTarget } from "./byte_reader.ts";
import { safeFileNameTarget } from "./file_names.ts";
import { fingerprintTarget } from "./fingerprints.ts";
import { frameReaderTarget, frameRoundTripTarget } from "./frames.ts";
import { decodeMutatedTarget, decodeRandomTarget } from "./messages.ts";
import { publicIdentityTarget } from "./public_identity.ts";
import { replayToReceiverTarget, replayToSenderTarget } from "./replay.ts";
import type { FuzzTarget } from "./run.ts";
import { sessionMutationTarget } from "./session_mutation.ts";
import { importIdentityTarget } from "./stored_identity.ts";
import { ticketTarget } from "./tickets.ts";

/**
 * Every target, in the order they run: fast-check properties over everything that parses bytes
 * or text from a peer or a file, and mutation of a recorded transfer replayed against a live
 * sender or receiver (see {@link FuzzTarget} for the property they share).
 *
 * Test support that spans the layers: the session targets use Deno file APIs and the peer layer
 * (the real sender and receiver), so they live under tests/, not beside a module in src/.
 */
export function fuzzTargets(): FuzzTarget[] {
  return [
    byteReaderTarget(),
    decodeRandomTarget(),
    decodeMutatedTarget(),
    frameReaderTarget(),
    frameRoundTripTarget(),
    fingerprintTarget(),
    ticketTarget(),
    safeFileNameTarget(),
    publicIdentityTarget(),
    importIdentityTarget(),
    sessionMutationTarget(),
    replayToReceiverTarget(),
    replayToSenderTarget(),
  ];
}
