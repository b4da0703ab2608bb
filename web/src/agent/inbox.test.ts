import { describe, expect, it } from "vitest";
import { fillVariables, mentionQuery, shortcutQuery } from "./canned";
import { linkParts } from "./links";
import { mergeCounts, snippetParts, viewCounts } from "./inboxApi";

describe("canned responses", () => {
  it("fills variables, with fallbacks for unknown or empty values", () => {
    const vars = { "customer.name": "Ada", "customer.email": "", "agent.name": "Sam" };
    expect(fillVariables("Hi {{customer.name}}, {{ agent.name }} here", vars)).toBe("Hi Ada, Sam here");
    expect(fillVariables("Mail: {{customer.email | none given}}", vars)).toBe("Mail: none given");
    expect(fillVariables("{{org.name|us}} and {{nope}}", vars)).toBe("us and ");
    expect(fillVariables("<b>{{customer.name}}</b>", { "customer.name": "<img>" })).toBe("<b><img></b>");
  });
  it("knows a /shortcut and an @mention being typed", () => {
    expect(shortcutQuery("/tha")).toBe("tha");
    expect(shortcutQuery("hello /tha")).toBeNull();
    expect(mentionQuery("ask @Ali", 8)).toEqual({ start: 4, query: "Ali" });
    expect(mentionQuery("mail@example", 12)).toBeNull();
  });
});

describe("safe links", () => {
  it("links http(s) only and leaves trailing punctuation out", () => {
    expect(linkParts("see https://a.example/x?y=1. ok")).toEqual([
      { text: "see " },
      { text: "https://a.example/x?y=1", href: "https://a.example/x?y=1" },
      { text: ". ok" },
    ]);
    expect(linkParts("javascript:alert(1) ftp://x data:text/html,hi")).toEqual([{ text: "javascript:alert(1) ftp://x data:text/html,hi" }]);
  });
});

describe("inbox counts", () => {
  it("merges slices and derives each view's badge like the server", () => {
    const held = mergeCounts({ open: 3, groups: { g1: 2, g2: 1 }, agents: { me: 1 } }, { groups: { g1: 0 } });
    expect(held.groups).toEqual({ g1: 0, g2: 1 });
    expect(viewCounts(held, "me", ["g1"], false)).toEqual({ mine: 1, queue: 0, unassigned: 0 });
    expect(viewCounts({ ...held, unassigned: 1, escalated: 1 }, "x", [], true)).toEqual({ mine: 0, queue: 1, unassigned: 1, all: 3, escalated: 1 });
  });
  it("cuts snippets into text and highlights", () => {
    expect(snippetParts("a \ue000b\ue001 c", ["\ue000", "\ue001"])).toEqual([
      { text: "a ", hit: false },
      { text: "b", hit: true },
      { text: " c", hit: false },
    ]);
  });
});

describe("errors for people", () => {
  it("says file limits in MB and lists the allowed types", async () => {
    const { ApiError, describeError } = await import("../lib/api");
    expect(describeError(new ApiError(413, "payload_too_large", "this file is larger than 10 MB, the most a file may be"))).toBe("This file is larger than 10 MB, the most a file may be.");
    expect(describeError(new ApiError(415, "unsupported_type", "this type of file cannot be sent; allowed: images (PNG, JPEG, GIF, WebP), PDF and plain text"))).toMatch(/^This type of file cannot be sent; allowed: images .*text\.$/);
  });
});
