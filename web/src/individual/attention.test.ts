import { describe, expect, it } from "vitest";
import { ConversationList } from "../core/lists";
import { isQuiet, newlyUnread, titleWith, unreadBadge } from "./attention";

const muted = { is_muted: true, is_blocked: false };
const open = { is_muted: false, is_blocked: false };

describe("a muted organization's outreach calls no attention", () => {
  it("is quiet only for outreach of a muted or blocked organization", () => {
    expect(isQuiet({ kind: "outreach", contact: muted })).toBe(true);
    expect(isQuiet({ kind: "outreach", contact: { is_muted: false, is_blocked: true } })).toBe(true);
    expect(isQuiet({ kind: "outreach", contact: open })).toBe(false);
    // A support conversation the person opened themselves is theirs: never quiet.
    expect(isQuiet({ kind: "support", contact: muted })).toBe(false);
  });

  it("leaves quiet conversations out of the badge and the tone; unmuting restores both", () => {
    const items = [
      { id: "1", kind: "outreach", contact: muted, unread: 3 },
      { id: "2", kind: "support", contact: muted, unread: 2 },
    ];
    expect(unreadBadge(items)).toBe(2);
    expect(titleWith(unreadBadge(items))).toBe("(2) Raasel");
    const seen = new Map<string, number>();
    newlyUnread(items, seen);
    const more = [{ ...items[0], unread: 4 }, { ...items[1], unread: 3 }];
    expect(newlyUnread(more, seen)).toEqual(["2"]);
    const unmuted = [{ ...more[0], contact: open, unread: 5 }, more[1]];
    expect(unreadBadge(unmuted)).toBe(8);
    expect(newlyUnread(unmuted, seen)).toEqual(["1"]);
    expect(titleWith(0)).toBe("Raasel");
  });

  it("a list learns a mute from any device (contact:updated)", async () => {
    const conversation = { id: "c1", org_id: "o1", kind: "outreach", status: "active", unread: 1, updated_at: "2026-12-04T00:00:00Z" };
    const ctx = { side: "customer" as const, userId: "u1", get: async <T,>() => [conversation] as T };
    const list = new ConversationList("all", ctx);
    await list.load();
    list.onContact({ organization: { id: "o1", name: "Org" }, is_muted: true, is_blocked: false });
    expect(list.snapshot().items[0].contact).toEqual(muted);
    expect(unreadBadge(list.snapshot().items)).toBe(0);
    list.onContact({ organization: { id: "other", name: "Other" }, is_muted: false, is_blocked: false });
    expect(list.snapshot().items[0].contact).toEqual(muted);
  });
});
