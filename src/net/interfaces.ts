/** This machine's network interfaces, as far as sfs needs to know them. */

/**
 * The address other machines most likely reach us at: the first non-loopback, non-link-local
 * IPv4 address, else loopback. Only used to fill in a ticket when listening on all interfaces.
 */
export function primaryAddress(): string {
  try {
    const candidates = Deno.networkInterfaces().filter((i) =>
      i.family === "IPv4" && !i.address.startsWith("127.") && !i.address.startsWith("169.254.")
    );
    return candidates[0]?.address ?? "127.0.0.1";
  } catch {
    return "127.0.0.1";
  }
}
