import { describe, expect, it } from "vitest";
import { lastStoredId, mergeMessages } from "./merge";
import type { ShownMessage } from "./types";

const stored = (id: string, clientId = `c${id}`): ShownMessage => ({
  id,
  conversation_id: "1",
  client_id: clientId,
  sender_id: "u",
  sender_side: "customer",
  kind: "text",
  text: id,
  attachment_id: null,
  created_at: "2025-01-01T00:00:00+00:00",
});

const pending = (clientId: string): ShownMessage => ({ ...stored("", clientId), pending: true });

describe("mergeMessages", () => {
  it("dedupes by id and sorts as big integers", () => {
    const merged = mergeMessages(
      [stored("9007199254740995"), stored("10")],
      [stored("10"), stored("9007199254740993"), stored("9")],
    );
    expect(merged.map((m) => m.id)).toEqual(["9", "10", "9007199254740993", "9007199254740995"]);
  });

  it("replaces a pending send by its stored copy, never the reverse", () => {
    let list = mergeMessages([stored("5")], [pending("x")]);
    expect(list.map((m) => m.pending ?? false)).toEqual([false, true]);
    list = mergeMessages(list, [stored("7", "x")]);
    expect(list.map((m) => m.id)).toEqual(["5", "7"]);
    list = mergeMessages(list, [pending("x")]);
    expect(list.map((m) => m.id)).toEqual(["5", "7"]);
  });

  it("keeps pending messages last", () => {
    const list = mergeMessages([pending("a")], [stored("3"), stored("2")]);
    expect(list.map((m) => m.id || "pending")).toEqual(["2", "3", "pending"]);
    expect(lastStoredId(list)).toBe("3");
    expect(lastStoredId([])).toBe("0");
  });
});
