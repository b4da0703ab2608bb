// Check marks (docs/protocol.md, "Check marks"): computed from the OTHER side's watermarks.
import { compareIds } from "./ids";
import type { Receipts, ShownMessage, Side } from "./types";

export type Tick = "clock" | "failed" | "sent" | "delivered" | "read";

export const TICK_LABEL: Record<Tick, string> = {
  clock: "Sending",
  failed: "Not sent",
  sent: "Sent",
  delivered: "Delivered",
  read: "Read",
};

export function otherSide(side: Side): Side {
  return side === "customer" ? "org" : "customer";
}

export function tickFor(message: ShownMessage, mySide: Side, receipts: Receipts | undefined): Tick {
  if (message.failed) return "failed";
  if (message.pending) return "clock";
  const other = receipts?.[otherSide(mySide)];
  if (other && compareIds(other.read_up_to, message.id) >= 0) return "read";
  if (other && compareIds(other.delivered_up_to, message.id) >= 0) return "delivered";
  return "sent";
}

/** Watermarks never move backwards: keep the larger of what we had and what arrived. */
export function mergeReceipts(current: Receipts | undefined, update: Receipts): Receipts {
  const result: Receipts = { ...current };
  for (const side of ["customer", "org"] as const) {
    const incoming = update[side];
    if (!incoming) continue;
    const had = result[side];
    result[side] = had
      ? {
          delivered_up_to: maxOf(had.delivered_up_to, incoming.delivered_up_to),
          read_up_to: maxOf(had.read_up_to, incoming.read_up_to),
        }
      : { ...incoming };
  }
  return result;
}

function maxOf(a: string, b: string): string {
  return compareIds(a, b) >= 0 ? a : b;
}
