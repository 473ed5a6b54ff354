import assert from "node:assert/strict";
import { formatListingTable, listingJson, type ListingView } from "./listings.ts";

const VIEW: ListingView = {
  id: "0123456789abcdef0123456789abcdef",
  name: "report.pdf",
  size: 2048,
  sha256: "ab".repeat(32),
  owner: "alice",
  fingerprint: "SHA256:aaaa-bbbb-cccc-dddd",
  shortFingerprint: "SHA256:aaaa-bbbb-cccc",
  online: true,
  lastSeen: Date.UTC(2025, 0, 2),
  keywords: ["q3", "finance"],
  recipients: [],
  address: "192.0.2.1:4000",
  createdAt: Date.UTC(2025, 0, 1),
};

Deno.test("formatListingTable() aligns a header and one line per listing", () => {
  const lines = formatListingTable([VIEW, {
    ...VIEW,
    name: "a-much-longer-name.tar.gz",
    keywords: [],
    online: false,
  }]);
  assert.equal(lines.length, 3);
  assert.match(
    lines[0],
    /^ID\s+NAME\s+SIZE\s+OWNER\s+FINGERPRINT\s+ONLINE\s+KEYWORDS\s+SHARED SINCE$/,
  );
  // Every column starts at the same offset on every line.
  const column = (line: string, text: string) => line.indexOf(text);
  assert.equal(column(lines[1], "2.0 KiB"), column(lines[0], "SIZE"));
  assert.equal(column(lines[2], "alice"), column(lines[0], "OWNER"));
  assert.match(lines[1], /yes\s+q3,finance/);
  assert.match(lines[2], /no\s+-\s/);
});

Deno.test("listingJson() gives ISO times and plain arrays", () => {
  assert.deepEqual(listingJson(VIEW), {
    id: VIEW.id,
    name: "report.pdf",
    size: 2048,
    sha256: VIEW.sha256,
    owner: "alice",
    fingerprint: VIEW.fingerprint,
    online: true,
    lastSeen: "2025-01-02T00:00:00.000Z",
    keywords: ["q3", "finance"],
    recipients: [],
    address: "192.0.2.1:4000",
    sharedSince: "2025-01-01T00:00:00.000Z",
  });
});

Deno.test("formatListingTable() fits a width, cutting names but never the ID", async (t) => {
  const long = {
    ...VIEW,
    name: "a-very-long-file-name-that-goes-on-and-on-and-on-for-ever-2026-12-04.tar.gz",
    owner: "someone-with-a-long-name",
    keywords: ["quarterly", "finance", "draft", "confidential"],
  };
  for (const width of [200, 120, 79]) {
    await t.step(`${width} columns`, () => {
      const lines = formatListingTable([long, VIEW], { width });
      for (const line of lines) assert.ok([...line].length <= width, `${line.length}: ${line}`);
      assert.ok(lines[1].startsWith(long.id + " "), lines[1]);
      assert.ok(lines[2].startsWith(VIEW.id + " "), lines[2]);
      assert.match(lines[1], /\.tar\.gz /);
      assert.match(lines[0], /^ID\s+NAME\s+SIZE\s+OWNER\s/);
      assert.match(lines[1], /\s(yes|no)(\s|$)/);
    });
  }
  await t.step("too narrow for the columns that stay: lines are cut, the ID is not", () => {
    const lines = formatListingTable([long], { width: 50 });
    for (const line of lines) assert.ok([...line].length <= 50, line);
    assert.ok(lines[1].startsWith(long.id + " "), lines[1]);
  });
});

Deno.test("formatListingTable() shows with whom each file is shared, when asked", () => {
  const lines = formatListingTable([VIEW, { ...VIEW, recipients: ["bob", "carol"] }], {
    sharedWith: true,
  });
  assert.match(lines[0], /\sTO\s/);
  assert.match(lines[1], /\severyone\s/);
  assert.match(lines[2], /\sbob,carol\s/);
});

Deno.test("formatListingTable() never widens a column to fit", () => {
  const lines = formatListingTable([VIEW], { width: 79 });
  assert.match(lines[1], /\salice {2}\S/);
});
