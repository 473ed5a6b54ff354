/**
 * Domain-separation labels (docs/PROTOCOL.md §3.1). Every hash, key derivation and signature in
 * sfs starts from one of these, so a value made for one purpose is never valid for another. The
 * table in §3.1 lists exactly these labels; add a row there when you add one here.
 */
export const LABEL = {
  // Kept at v1: fingerprints, file ids and announcements outlive the handshake version (every
  // pin, ticket and listing would otherwise be void).
  FINGERPRINT: "sfs/v1/fingerprint",
  FILE_ID: "sfs/v1/file-id",
  ANNOUNCEMENT_SIGNATURE: "sfs/v1/announcement-signature",
  // Tree manifests (issue 11): they outlive the handshake version too.
  MANIFEST: "sfs/v1/manifest",
  MANIFEST_SIGNATURE: "sfs/v1/manifest-signature",
  // Handshake version 2 (§6).
  TRANSCRIPT: "sfs/v2/transcript",
  OAEP: "sfs/v2/transport",
  HANDSHAKE_SIGNATURE_RESPONDER: "sfs/v2/handshake-signature/responder",
  HANDSHAKE_SIGNATURE_INITIATOR: "sfs/v2/handshake-signature/initiator",
  KEY_HANDSHAKE_RESPONDER: "sfs/v2/key/handshake/responder",
  KEY_HANDSHAKE_INITIATOR: "sfs/v2/key/handshake/initiator",
  KEY_RESPONDER: "sfs/v2/key/responder",
  KEY_INITIATOR: "sfs/v2/key/initiator",
  KEY_PAYLOAD: "sfs/v2/key/payload",
  FINAL_SIGNATURE: "sfs/v2/final-signature",
  AUTH_SIGNATURE: "sfs/v2/auth-signature",
  // Trees on the wire (issue 11, §7.6–§7.9): per-file stream keys and the signed receipt.
  KEY_FILE: "sfs/v2/key/file",
  RECEIPT_SIGNATURE: "sfs/v2/receipt-signature",
} as const;

/** `label ‖ 0x00 ‖ parts…`: the one way a label is bound to the data it separates. */
export function labelled(label: string, ...parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const head = new TextEncoder().encode(label);
  let length = head.length + 1;
  for (const part of parts) length += part.length;
  const out = new Uint8Array(length);
  out.set(head);
  let offset = head.length + 1;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
