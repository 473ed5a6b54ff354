/**
 * `sfs trust USER|FINGERPRINT`: after a legitimate key change, replace a pinned key without
 * editing known_users.json or known_servers.json by hand. Both fingerprints are shown and the
 * person confirms (or passes `--yes`); the new key is the one the index presents now, and for a
 * server the one it proves it holds in the handshake.
 */
import { SfsError } from "../../errors.ts";
import { constantTimeEqual } from "../../crypto/bytes.ts";
import { formatFingerprint, parseFingerprint } from "../../crypto/identity.ts";
import { IndexClient } from "../../index/client/client.ts";
import { validateUsername } from "../../index/protocol/usernames.ts";
import { connect } from "../../net/connect.ts";
import type { IndexTarget } from "../settings/config.ts";
import { loadIdentity } from "../settings/identity_file.ts";
import { type IndexFlags, requireIndex, withIndex } from "../index_connect.ts";
import type { Output } from "../output.ts";
import { confirm } from "../prompt.ts";
import { serverPin, setServerPin, setUserPin, userPin } from "../settings/pin_edits.ts";

/** Options of `sfs trust`. */
export interface TrustCommandOptions extends IndexFlags {
  home: string;
  /** A username on the index, or the fingerprint the index server now presents. */
  what: string;
}

/** Pins the current key of a user, or of the index server, after showing both and asking. */
export async function runTrust(options: TrustCommandOptions, out: Output): Promise<void> {
  const target = await requireIndex(options.home, options);
  const what = options.what.trim();
  if (/^sha256:/i.test(what)) return await trustServerKey(options, target, what, out);
  const user = validateUsername(what);
  const identity = await loadIdentity(options.home);
  const session = { home: options.home, target, identity, flags: options, out, anonymous: true };
  const key = (await withIndex(session, (client) => client.userKeys([user]))).get(user);
  if (key === undefined) {
    throw new SfsError("NOT_FOUND", `No user "${what}" is registered on ${target.server}`);
  }
  const shown = formatFingerprint(key.fingerprint);
  const pinned = await userPin(options.home, target.server, what);
  const subject = `"${what}" on ${target.server}`;
  if (!await replaceConfirmed(subject, pinned?.fingerprint, shown, options, out)) return;
  await setUserPin(options.home, target.server, pinned?.user ?? what, shown);
  out.event("trusted", { server: target.server, user: what, fingerprint: shown });
  out.info(`Trusted ${subject}: ${shown}`);
}

/** `sfs trust FINGERPRINT`: the server must prove it holds exactly that key. */
async function trustServerKey(
  options: TrustCommandOptions,
  target: IndexTarget,
  text: string,
  out: Output,
): Promise<void> {
  let expected: Uint8Array;
  try {
    expected = parseFingerprint(text);
  } catch {
    throw new SfsError("BAD_FINGERPRINT", `Not a fingerprint: "${text.slice(0, 80)}"`, {
      hint: "Copy it as sfs server printed it: SHA256:xxxx-xxxx-…",
    });
  }
  const shown = formatFingerprint(expected);
  const identity = await loadIdentity(options.home);
  // The pin is deliberately not consulted: it is what is being replaced. The handshake proves
  // the server holds the key the person was told, which is what makes the new pin safe.
  const client = await IndexClient.connect(await connect(target.address), identity, {
    verifyServer: (server) => {
      if (!constantTimeEqual(server.fingerprint, expected)) {
        throw new SfsError(
          "KEY_MISMATCH",
          `Index server ${target.server} presents ${formatFingerprint(server.fingerprint)}, ` +
            `not ${shown}`,
          { hint: "Check the fingerprint with the server's operator again" },
        );
      }
    },
  });
  client.close();
  const pinned = await serverPin(options.home, target.server);
  const subject = `index server ${target.server}`;
  if (!await replaceConfirmed(subject, pinned, shown, options, out)) return;
  await setServerPin(options.home, target.server, shown);
  out.event("trusted", { server: target.server, fingerprint: shown });
  out.info(`Trusted ${subject}: ${shown}`);
}

/**
 * Shows the pinned and the new fingerprint and asks (unless `--yes`); false when nothing needs
 * to change. USAGE when the person declines or nobody can answer.
 */
async function replaceConfirmed(
  subject: string,
  pinned: string | undefined,
  shown: string,
  options: { yes?: boolean },
  out: Output,
): Promise<boolean> {
  if (pinned !== undefined && sameKey(pinned, shown)) {
    out.note(`${subject} is already trusted with ${shown}`);
    return false;
  }
  const question = `Key of ${subject}:\n  pinned: ${pinned ?? "(none)"}\n  new:    ${shown}\n` +
    "Trust the new key from now on?";
  if (options.yes || await confirm(question)) return true;
  throw new SfsError("USAGE", `Kept the pinned key of ${subject}`, {
    hint: "Compare the new fingerprint with its owner, then run again (--yes for scripts)",
  });
}

function sameKey(pinned: string, shown: string): boolean {
  try {
    return constantTimeEqual(parseFingerprint(pinned), parseFingerprint(shown));
  } catch {
    return false;
  }
}
