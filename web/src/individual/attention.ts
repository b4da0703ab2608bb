// What calls the individual's attention (docs/protocol.md, "Outreach"): an organization
// they muted (or blocked) writes into its outreach conversations quietly. Those stay
// delivered and readable and are shown as muted, but make no sound, no notification and
// do not count in the app's unread badge (the tab title); unmuting restores all three.
import type { Conversation } from "../core/protocol";

/** An outreach conversation of an organization the person muted or blocked. */
export function isQuiet(c: Pick<Conversation, "kind" | "contact">): boolean {
  return c.kind === "outreach" && Boolean(c.contact?.is_muted || c.contact?.is_blocked);
}

/** The app's unread badge: unread messages of every conversation that is not quiet. */
export function unreadBadge(items: Pick<Conversation, "kind" | "contact" | "unread">[]): number {
  return items.reduce((sum, c) => sum + (isQuiet(c) ? 0 : c.unread ?? 0), 0);
}

/** The conversations whose unread count grew since ``before`` (id -> count) and that
 * may call for attention; ``before`` is updated to the current counts. */
export function newlyUnread(items: Pick<Conversation, "id" | "kind" | "contact" | "unread">[], before: Map<string, number>): string[] {
  const grew: string[] = [];
  for (const c of items) {
    const now = c.unread ?? 0;
    const was = before.get(c.id);
    if (was !== undefined && now > was && !isQuiet(c)) grew.push(c.id);
    before.set(c.id, now);
  }
  return grew;
}

export function titleWith(badge: number, base = "Raasel"): string {
  return badge > 0 ? `(${badge}) ${base}` : base;
}
