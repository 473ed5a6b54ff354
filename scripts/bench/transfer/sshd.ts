/**
 * A throw-away OpenSSH server on a free loopback port, with its own host and user keys, for the
 * scp side of the transfer benchmark; installed with apt-get when missing and possible.
 *
 * @module
 */

import { join } from "node:path";
import { aptInstall, findExecutable, runCommand } from "../commands.ts";
import type { SfsProcess } from "../../lib/sfs_process.ts";
import type { Log } from "../run.ts";
import { SCP_CIPHER } from "./report.ts";
import type { Resources } from "./resources.ts";

/** How to reach the throw-away sshd with scp. */
export interface Sshd {
  scp: string;
  args: string[];
}

/** Sets up and starts a throw-away sshd on a free loopback port; a string says why not. */
export async function startSshd(
  res: Resources,
  root: string,
  log: Log,
): Promise<Sshd | string> {
  if (Deno.build.os === "windows") return "this script does not run sshd on Windows";
  const tools = await opensshTools(log);
  if (typeof tools === "string") return tools;
  const dir = join(root, "ssh");
  await Deno.mkdir(dir, { mode: 0o700 });
  const port = freeLoopbackPort();
  const { config, userKey } = await writeSshdConfig(dir, tools.keygen, port);
  const test = await runCommand([tools.sshd, "-t", "-f", config]);
  if (!test.success) return `sshd rejects its config: ${test.stderr.trim()}`;
  const proc = res.spawn([tools.sshd, "-D", "-e", "-f", config]);
  const listening = await waitForListener(proc, port);
  if (listening !== undefined) return listening;
  // Options both ssh and scp take; the port flag differs (-p for ssh, -P for scp).
  const common = [
    "-c",
    SCP_CIPHER,
    "-i",
    userKey,
    "-F",
    "/dev/null",
    ...["IdentitiesOnly=yes", "StrictHostKeyChecking=no", "UserKnownHostsFile=/dev/null"]
      .flatMap((o) => ["-o", o]),
    ...["BatchMode=yes", "LogLevel=ERROR"].flatMap((o) => ["-o", o]),
  ];
  // One login first: a machine where it cannot work (no shell, no privilege separation user…)
  // skips the row, so a failure during the runs means the benchmark itself is broken.
  const ssh = await findExecutable("ssh");
  if (!ssh) return "ssh is missing";
  const probe = await runCommand([ssh, ...common, "-p", String(port), "127.0.0.1", "true"]);
  if (!probe.success) {
    return `ssh login to the throw-away sshd failed: ${probe.stderr.trim()} ${
      proc.stderrText().trim().split("\n").slice(-3).join(" ")
    }`;
  }
  return { scp: tools.scp, args: ["-q", ...common, "-P", String(port)] };
}

/** sshd, scp and ssh-keygen, installed with apt-get when missing; a string says why not. */
async function opensshTools(
  log: Log,
): Promise<{ sshd: string; scp: string; keygen: string } | string> {
  let [sshd, scp, keygen] = await Promise.all(
    ["sshd", "scp", "ssh-keygen"].map(findExecutable),
  );
  if (!sshd || !scp || !keygen) {
    const failure = await aptInstall(["openssh-server", "openssh-client"], log);
    if (failure) return `sshd, scp or ssh-keygen is missing and ${failure}`;
    [sshd, scp, keygen] = await Promise.all(["sshd", "scp", "ssh-keygen"].map(findExecutable));
    if (!sshd || !scp || !keygen) return "openssh-server was installed but sshd is still missing";
  }
  return { sshd, scp, keygen };
}

/** Makes host and user keys in `dir` and an sshd config that admits only that user key. */
async function writeSshdConfig(
  dir: string,
  keygen: string,
  port: number,
): Promise<{ config: string; userKey: string }> {
  const hostKey = join(dir, "host_ed25519");
  const userKey = join(dir, "user_ed25519");
  for (const key of [hostKey, userKey]) {
    const made = await runCommand([keygen, "-q", "-t", "ed25519", "-N", "", "-f", key]);
    if (!made.success) throw new Error(`ssh-keygen failed: ${made.stderr}`);
  }
  const authorizedKeys = join(dir, "authorized_keys");
  await Deno.copyFile(`${userKey}.pub`, authorizedKeys);
  if (Deno.uid() === 0) {
    // sshd insists on its privilege-separation folder, root-owned and not writable by others.
    await Deno.mkdir("/run/sshd", { recursive: true, mode: 0o755 }).catch(() => {});
  }
  const sftpServer = await findExecutable("sftp-server");
  const config = join(dir, "sshd_config");
  await Deno.writeTextFile(
    config,
    [
      "ListenAddress 127.0.0.1",
      `Port ${port}`,
      `HostKey ${hostKey}`,
      `AuthorizedKeysFile ${authorizedKeys}`,
      `PidFile ${join(dir, "sshd.pid")}`,
      "PasswordAuthentication no",
      "KbdInteractiveAuthentication no",
      "PubkeyAuthentication yes",
      "PermitRootLogin prohibit-password",
      "StrictModes no",
      "UsePAM no",
      "PrintMotd no",
      // scp speaks SFTP by default since OpenSSH 9.0, so the server needs the subsystem.
      `Subsystem sftp ${sftpServer ?? "internal-sftp"}`,
      "",
    ].join("\n"),
  );
  return { config, userKey };
}

/** Waits up to 10 s for sshd to accept on `port`; a string says why it did not. */
async function waitForListener(proc: SfsProcess, port: number): Promise<string | undefined> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      conn.close();
      return undefined;
    } catch {
      const exited = await Promise.race([proc.status, delay(50).then(() => undefined)]);
      if (exited) return `sshd exited with code ${exited.code}: ${proc.stderrText().trim()}`;
      if (Date.now() > deadline) return `sshd did not listen on 127.0.0.1:${port} within 10 s`;
    }
  }
}

function freeLoopbackPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
