/**
 * Domain-separation labels (docs/PROTOCOL.md §3.1). Every hash, key derivation and signature in
 * sfs starts from one of these, so a value made for one purpose is never valid for another. The
 * table in §3.1 lists exactly these labels; add a row there when you add one here.
 */
export const LABEL = {
  FINGERPRINT: "sfs/v1/fingerprint",
  FILE_ID: "sfs/v1/file-id",
  TRANSCRIPT: "sfs/v1/transcript",
  OAEP: "sfs/v1/transport",
  HANDSHAKE_SIGNATURE: "sfs/v1/handshake-signature",
  FINAL_SIGNATURE: "sfs/v1/final-signature",
  KEY_RESPONDER: "sfs/v1/key/responder",
  KEY_INITIATOR: "sfs/v1/key/initiator",
  KEY_PAYLOAD: "sfs/v1/key/payload",
  ANNOUNCEMENT_SIGNATURE: "sfs/v1/announcement-signature",
  AUTH_SIGNATURE: "sfs/v1/auth-signature",
  MANIFEST: "sfs/v1/manifest",
  MANIFEST_SIGNATURE: "sfs/v1/manifest-signature",
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
