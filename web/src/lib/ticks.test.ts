import { describe, expect, it } from "vitest";
import { mergeReceipts, tickFor } from "./ticks";
import type { ShownMessage } from "./types";

const message = (id: string, extra: Partial<ShownMessage> = {}): ShownMessage => ({
  id,
  conversation_id: "1",
  client_id: `c${id}`,
  sender_id: "u",
  sender_side: "customer",
  kind: "text",
  text: "hi",
  attachment_id: null,
  created_at: "2025-01-01T00:00:00+00:00",
  ...extra,
});

// Two ids past 2^53: as Numbers they would be equal.
const big = "9007199254740993";
const bigger = "9007199254740995";

describe("tickFor", () => {
  it("shows the clock until the ack, then one tick", () => {
    expect(tickFor(message("", { pending: true }), "customer", undefined)).toBe("clock");
    expect(tickFor(message(big), "customer", undefined)).toBe("sent");
  });

  it("reads the other side's watermarks, compared as big integers", () => {
    const receipts = {
      customer: { delivered_up_to: bigger, read_up_to: bigger },
      org: { delivered_up_to: big, read_up_to: "0" },
    };
    expect(tickFor(message(big), "customer", receipts)).toBe("delivered");
    expect(tickFor(message(bigger), "customer", receipts)).toBe("sent");
    expect(tickFor(message(big), "org", receipts)).toBe("read");
  });

  it("turns blue when read", () => {
    const receipts = { org: { delivered_up_to: bigger, read_up_to: bigger } };
    expect(tickFor(message(big), "customer", receipts)).toBe("read");
  });

  it("marks failed sends", () => {
    expect(tickFor(message("", { pending: true, failed: true }), "customer", undefined)).toBe("failed");
  });
});

describe("mergeReceipts", () => {
  it("never moves a watermark backwards", () => {
    const merged = mergeReceipts(
      { org: { delivered_up_to: bigger, read_up_to: big } },
      { org: { delivered_up_to: big, read_up_to: bigger } },
    );
    expect(merged.org).toEqual({ delivered_up_to: bigger, read_up_to: bigger });
  });
});
