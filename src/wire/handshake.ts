/**
 * The handshake in both roles (docs/PROTOCOL.md §6), version 2 with hidden identities. The
 * initiator is the peer that connects (a receiver, or an index client); the responder is the one
 * that listens (a sender, or the index server). The responder proves who it is first, under keys
 * from the ephemeral X25519 secret; the initiator reveals itself only to a responder that showed
 * the expected key. Both end with an established Channel.
 *
 * The pieces: handshake_record.ts (padded, sealed handshake records), handshake_transcript.ts
 * (staged transcript hashes, handshake keys), handshake_initiator.ts, handshake_responder.ts and
 * handshake_shared.ts (options, plain messages, the application keys).
 */
export { initiate } from "./handshake_initiator.ts";
export { respond } from "./handshake_responder.ts";
export {
  type ChannelOptions,
  type HandshakeSources,
  type InitiateOptions,
  type RespondOptions,
  TRANSFER_RECORDS,
} from "./handshake_shared.ts";
export { MAX_HANDSHAKE_FRAME } from "./handshake_record.ts";
