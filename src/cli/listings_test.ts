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
