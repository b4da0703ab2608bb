import { describe, expect, it } from "vitest";
import { activitySentence, sentence } from "./AuditLog";

const names = { person: (id: string | null | undefined) => (id === "u1" ? "Alice" : id ? "a former member" : "The system"), group: (id: string) => (id === "g1" ? "Sales" : "a removed group") };

describe("audit log sentences", () => {
  it("names people and groups instead of ids", () => {
    const base = { id: "1", actor_id: "u1", target: "u2", created_at: "2026-01-01T00:00:00Z" };
    expect(sentence({ ...base, action: "member.update", details: { group_ids: ["g1"], is_active: false } }, names)).toBe("Alice changed the member a former member: groups: Sales; deactivated.");
    expect(sentence({ ...base, action: "plan.change", details: { plan: "promoted", source: "billing" } }, names)).toBe("The plan changed to promoted (billing).");
  });
  it("tells conversation activity", () => {
    const a = { id: "1", conversation_id: "c", subject: null, customer: "Chris", agent: "Bob", waited_seconds: 150, at: "2026-01-01T00:00:00Z" };
    expect(activitySentence({ ...a, kind: "assigned" })).toBe("Bob took Chris's conversation after 3 min in the queue.");
    expect(activitySentence({ ...a, kind: "transferred" })).toBe("Chris's conversation was handed to Bob.");
  });
});
