import { describe, expect, it } from "vitest";
import { dayLabel, waitingFor } from "./format";

describe("format", () => {
  it("labels today and yesterday", () => {
    const now = new Date(2025, 4, 10, 12, 0);
    expect(dayLabel(new Date(2025, 4, 10, 1, 0).toISOString(), now)).toBe("Today");
    expect(dayLabel(new Date(2025, 4, 9, 23, 0).toISOString(), now)).toBe("Yesterday");
  });

  it("says how long a conversation has waited", () => {
    const now = Date.parse("2025-05-10T12:00:00Z");
    expect(waitingFor("2025-05-10T11:59:30Z", now)).toBe("30s");
    expect(waitingFor("2025-05-10T11:55:00Z", now)).toBe("5 min");
    expect(waitingFor("2025-05-10T10:50:00Z", now)).toBe("1 h 10 min");
  });
});
