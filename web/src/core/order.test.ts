import { describe, expect, it } from "vitest";
import { mergeMessages, newestStored } from "./order";
import type { ShownMessage } from "./protocol";
import { mergeReceipts, tickFor } from "./ticks";

const stored = (id: string, clientId = `c${id}`, position?: number): ShownMessage => ({
  id,
  conversation_id: "1",
  client_id: clientId,
  sender_id: "u",
  sender_side: "customer",
  kind: "text",
  text: id,
  attachment_id: null,
  created_at: "2025-01-01T00:00:00+00:00",
  ...(position === undefined ? {} : { position }),
});

const pending = (clientId: string): ShownMessage => ({ ...stored("", clientId), pending: true });

// Two ids past 2^53: as Numbers they would be equal.
const big = "9007199254740993";
const bigger = "9007199254740995";

describe("mergeMessages", () => {
  it("orders by position, whatever the ids say", () => {
    // Ids are taken before the write: a later id can be stored first.
    const merged = mergeMessages([stored("30", "a", 1)], [stored("10", "b", 2), stored("20", "c", 3)]);
    expect(merged.map((m) => m.id)).toEqual(["30", "10", "20"]);
  });

  it("without positions, dedupes by id and sorts as big integers", () => {
    const merged = mergeMessages([stored(bigger), stored("10")], [stored("10"), stored(big), stored("9")]);
    expect(merged.map((m) => m.id)).toEqual(["9", "10", big, bigger]);
  });

  it("replaces a pending send by its stored copy, never the reverse", () => {
    let list = mergeMessages([stored("5")], [pending("x")]);
    expect(list.map((m) => m.pending ?? false)).toEqual([false, true]);
    list = mergeMessages(list, [stored("7", "x")]);
    expect(list.map((m) => m.id)).toEqual(["5", "7"]);
    list = mergeMessages(list, [pending("x")]);
    expect(list.map((m) => m.id)).toEqual(["5", "7"]);
  });

  it("keeps pending messages last, in written order", () => {
    const list = mergeMessages([pending("a"), pending("b")], [stored("3"), stored("2"), pending("a")]);
    expect(list.map((m) => m.id || m.client_id)).toEqual(["2", "3", "a", "b"]);
    expect(newestStored(list).id).toBe("3");
    expect(newestStored([]).id).toBe("0");
  });
});

describe("tickFor", () => {
  it("shows the clock until the ack, then one tick", () => {
    expect(tickFor(pending("x"), "customer", undefined)).toBe("clock");
    expect(tickFor(stored(big), "customer", undefined)).toBe("sent");
    expect(tickFor({ ...pending("x"), failed: true }, "customer", undefined)).toBe("failed");
  });

  it("compares positions when both sides have them", () => {
    const receipts = { org: { delivered_up_to: "1", read_up_to: "1", delivered_position: 5, read_position: 4 } };
    expect(tickFor(stored("999", "a", 4), "customer", receipts)).toBe("read");
    expect(tickFor(stored("999", "a", 5), "customer", receipts)).toBe("delivered");
    expect(tickFor(stored("2", "a", 6), "customer", receipts)).toBe("sent");
  });

  it("falls back to ids, compared as big integers", () => {
    const receipts = {
      customer: { delivered_up_to: bigger, read_up_to: bigger },
      org: { delivered_up_to: big, read_up_to: "0" },
    };
    expect(tickFor(stored(big), "customer", receipts)).toBe("delivered");
    expect(tickFor(stored(bigger), "customer", receipts)).toBe("sent");
    expect(tickFor(stored(big), "org", receipts)).toBe("read");
  });

  it("between two organizations (b2b), follows the other organization's side", () => {
    const receipts = {
      org: { delivered_up_to: "0", read_up_to: "0", delivered_position: 3, read_position: 2 },
      peer: { delivered_up_to: "0", read_up_to: "0", delivered_position: 5, read_position: 1 },
    };
    // The opener's agents see the peer's watermarks, the peer's agents the opener's.
    expect(tickFor(stored("9", "a", 1), "org", receipts)).toBe("read");
    expect(tickFor(stored("9", "a", 4), "org", receipts)).toBe("delivered");
    expect(tickFor(stored("9", "a", 2), "peer", receipts)).toBe("read");
    expect(tickFor(stored("9", "a", 3), "peer", receipts)).toBe("delivered");
    expect(tickFor(stored("9", "a", 4), "peer", receipts)).toBe("sent");
    expect(mergeReceipts(receipts, { peer: { delivered_up_to: "0", read_up_to: "0", read_position: 4 } }).peer?.read_position).toBe(4);
  });
});

describe("mergeReceipts", () => {
  it("never moves a watermark backwards, ids nor positions", () => {
    const merged = mergeReceipts(
      { org: { delivered_up_to: bigger, read_up_to: big, delivered_position: 9, read_position: 2 } },
      { org: { delivered_up_to: big, read_up_to: bigger, delivered_position: 3, read_position: 8 } },
    );
    expect(merged.org).toEqual({ delivered_up_to: bigger, read_up_to: bigger, delivered_position: 9, read_position: 8 });
  });
});
