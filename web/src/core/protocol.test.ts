import { describe, expect, it } from "vitest";
import { CLIENT_FEATURES, unreadOfMessage } from "./protocol";

describe("the unread count on message:new", () => {
  const message = { id: "9", conversation_id: "c1", position: 7 } as never;

  it("is declared at connect", () => {
    expect(CLIENT_FEATURES).toContain("message_unread");
  });

  it("becomes the unread:update the listeners know, at the message's position", () => {
    expect(unreadOfMessage({ message, conversation_id: "c1", position: 7, unread: { side: "customer", unread: 3 } })).toEqual({
      conversation_id: "c1",
      side: "customer",
      unread: 3,
      position: 7,
    });
  });

  it("is nothing when the message carries no count (another side's copy, an older server)", () => {
    expect(unreadOfMessage({ message, conversation_id: "c1", position: 7 })).toBeNull();
  });
});
