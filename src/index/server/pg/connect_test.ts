import assert from "node:assert/strict";
import { isPostgresUrl, passFileLookup, redactUrl } from "./connect.ts";

Deno.test("redactUrl() never shows the password", () => {
  assert.equal(
    redactUrl("postgres://sfs:s3cr%3At@db.example:5432/index?sslmode=require"),
    "postgres://sfs:***@db.example:5432/index?sslmode=require",
  );
  assert.equal(redactUrl("postgres://sfs@db.example/index"), "postgres://sfs@db.example/index");
  assert.equal(redactUrl("postgres://sfs:pw@[not a url"), "postgres://…");
});

Deno.test("isPostgresUrl() tells URLs from SQLite paths", () => {
  assert.ok(isPostgresUrl("postgres://u@h/db"));
  assert.ok(isPostgresUrl("postgresql://u@h/db"));
  assert.ok(!isPostgresUrl("/var/lib/sfs/index.db"));
  assert.ok(!isPostgresUrl("postgres.db"));
});

Deno.test("passFileLookup() reads .pgpass lines: first match, wildcards, escapes", () => {
  const parts = { host: "db.example", port: "5432", database: "index", user: "sfs" };
  const text = [
    "# comment",
    "other.example:5432:index:sfs:not-this",
    "db.example:5432:index:other:not-this-either",
    String.raw`db.example:*:index:sfs:pa\:ss\\word`,
    "*:*:*:*:fallback",
  ].join("\n");
  assert.equal(passFileLookup(text, parts), String.raw`pa:ss\word`);
  assert.equal(passFileLookup(text, { ...parts, user: "x" }), "fallback");
  assert.equal(
    passFileLookup("localhost:5432:index:sfs:loop", { ...parts, host: "127.0.0.1" }),
    "loop",
  );
  assert.equal(passFileLookup("broken line", parts), undefined);
});
