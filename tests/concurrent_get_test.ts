/**
 * Two `sfs get` of the same file into one folder (a retry in a second terminal, a cron job):
 * one download per target at a time, and the file published is the one that was verified.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { sha256File, startSfs } from "./harness.ts";
import { errorOf, listTree, shareFile, withPort } from "./peers.ts";
import { stalledOrExited, startStallingProxy } from "./stall.ts";

const MIB = 1024 * 1024;
const NAME = "movie.bin";

Deno.test("a second sfs get of the same file into one folder fails with BUSY and the first saves verified bytes", async () => {
  await using s = await shareFile(NAME, 3 * MIB);
  const out = join(s.dir.path, "out");
  // The first get holds verified chunks and waits at chunk 5; the second would wait at chunk 2
  // with a part file of its own, were it allowed to start.
  await using first = startStallingProxy(s.ready.port, 5);
  await using second = startStallingProxy(s.ready.port, 2);
  const args = (port: number) => ["get", withPort(s.ready.ticket, port), "--out", out, "--json"];
  await using getting = startSfs(args(first.port), { home: s.bob });
  await stalledOrExited(first, getting);
  await using retry = startSfs(args(second.port), { home: s.bob });
  const retried = await Promise.race([retry.status, second.reached.then(() => "started")]);
  first.release();
  const status = await getting.status;
  await getting.drained();
  // Whatever the second did, the final file must hold exactly the verified bytes.
  assert.equal(status.code, 0, getting.stderrText());
  assert.equal(await sha256File(join(out, NAME)), s.sha256);
  assert.notEqual(retried, "started", "the second get must not start writing");
  await retry.drained();
  assert.equal(
    errorOf({ code: 1, stdout: "", stderr: retry.stderrText(), events: [] }).code,
    "BUSY",
  );
  assert.deepEqual(await listTree(out), [NAME, `${NAME}.sfs-proof`]);
});
