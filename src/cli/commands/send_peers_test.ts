import assert from "node:assert/strict";
import { toHex } from "../../crypto/bytes.ts";
import { PeerBook, viewFields } from "./send_peers.ts";

const BOB = new Uint8Array(32).fill(2);
const CAROL = new Uint8Array(32).fill(3);

Deno.test("PeerBook.view() names a --to user by key, and anyone else by address", () => {
  const book = new PeerBook(new Map([[toHex(BOB), "bob"]]));
  assert.deepEqual(book.view("192.0.2.7:5000", BOB), {
    label: "bob (192.0.2.7:5000)",
    route: "direct",
    user: "bob",
  });
  assert.deepEqual(book.view("192.0.2.8:5000", CAROL), {
    label: "192.0.2.8:5000",
    route: "direct",
    user: undefined,
  });
  assert.equal(book.view("192.0.2.7:5000").label, "192.0.2.7:5000");
});

Deno.test("PeerBook.view() marks relayed connections, named by what the relay leg said", () => {
  const book = new PeerBook();
  book.markRelayed("relay#1", { username: "carol" });
  book.markRelayed("relay#2");
  assert.deepEqual(book.view("relay#1", CAROL), {
    label: "carol (relayed)",
    route: "relay",
    user: "carol",
  });
  assert.equal(book.view("relay#2").label, "relay#2 (relayed)");
  assert.deepEqual(viewFields(book.view("relay#1")), { route: "relay", user: "carol" });
  book.forget("relay#1");
  assert.equal(book.view("relay#1").route, "direct");
});

Deno.test("PeerBook.markRelayed() drops a name that is not a canonical username", () => {
  const book = new PeerBook();
  book.markRelayed("relay#1", { username: "\u001b[2Jmallory" });
  assert.equal(book.view("relay#1").user, undefined);
  assert.equal(book.view("relay#1").label, "relay#1 (relayed)");
});
