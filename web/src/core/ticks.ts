// Check marks (docs/protocol.md, "Check marks"): computed from the OTHER side's
// watermarks, by position when the server sends positions, by message id otherwise.
import { compareIds } from "./order";
import type { Receipts, ShownMessage, Side, Watermarks } from "./protocol";

export type Tick = "clock" | "failed" | "sent" | "delivered" | "read";

export const TICK_LABEL: Record<Tick, string> = {
  clock: "Sending",
  failed: "Not sent",
  sent: "Sent",
  delivered: "Delivered",
  read: "Read",
};

export function otherSide(side: Side): Side {
  if (side === "peer") return "org";
  return side === "customer" ? "org" : "customer";
}

function reaches(position: number | undefined, upTo: string, message: ShownMessage): boolean {
  if (position !== undefined && message.position !== undefined) return position >= message.position;
  return compareIds(upTo, message.id) >= 0;
}

export function tickFor(message: ShownMessage, mySide: Side, receipts: Receipts | undefined): Tick {
  if (message.failed) return "failed";
  if (message.pending) return "clock";
  // A platform conversation has no customer: the organization and the platform face each other.
  // A b2b conversation: the organizations face each other (``org`` and ``peer``).
  const other = receipts?.[otherSide(mySide)] ?? (mySide === "org" ? (receipts?.platform ?? receipts?.peer) : mySide === "platform" ? receipts?.org : undefined);
  if (other && reaches(other.read_position, other.read_up_to, message)) return "read";
  if (other && reaches(other.delivered_position, other.delivered_up_to, message)) return "delivered";
  return "sent";
}

/** Watermarks never move backwards: keep the larger of what we had and what arrived. */
export function mergeReceipts(current: Receipts | undefined, update: Receipts): Receipts {
  const result: Receipts = { ...current };
  for (const side of ["customer", "org", "platform", "peer"] as const) {
    const incoming = update[side];
    if (!incoming) continue;
    const had = result[side];
    result[side] = had ? mergeWatermarks(had, incoming) : { ...incoming };
  }
  return result;
}

function mergeWatermarks(a: Watermarks, b: Watermarks): Watermarks {
  const merged: Watermarks = {
    delivered_up_to: compareIds(a.delivered_up_to, b.delivered_up_to) >= 0 ? a.delivered_up_to : b.delivered_up_to,
    read_up_to: compareIds(a.read_up_to, b.read_up_to) >= 0 ? a.read_up_to : b.read_up_to,
  };
  const delivered = maxDefined(a.delivered_position, b.delivered_position);
  const read = maxDefined(a.read_position, b.read_position);
  if (delivered !== undefined) merged.delivered_position = delivered;
  if (read !== undefined) merged.read_position = read;
  return merged;
}

function maxDefined(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return Math.max(a, b);
}
