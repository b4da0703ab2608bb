// The order of messages: by position (the server's commit order per conversation), or by
// id where a server sends no positions. Ids are 64-bit decimal strings: compared as
// BigInt, never as Numbers.
import type { ShownMessage } from "./protocol";

export function compareIds(a: string, b: string): number {
  const x = BigInt(a || "0");
  const y = BigInt(b || "0");
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Where a message stands: its position when known, its id always. */
export interface Mark {
  id: string;
  position?: number;
}

export const NOTHING: Mark = { id: "0", position: 0 };

/** Positions when both sides have one, ids otherwise. */
export function compareMarks(a: Mark, b: Mark): number {
  if (a.position !== undefined && b.position !== undefined) return a.position - b.position;
  return compareIds(a.id, b.id);
}

export function laterMark(a: Mark, b: Mark): Mark {
  const order = compareMarks(a, b);
  if (order !== 0) return order > 0 ? a : b;
  return a.position !== undefined ? a : b;
}

export function markOf(message: ShownMessage): Mark {
  return { id: message.id, position: message.position };
}

/**
 * One entry per message (by id; a pending send by its client_id, replaced by its stored
 * copy and never the reverse), stored messages in server order, pending ones after them
 * in the order they were written (`pendingOrder`, by client_id).
 */
export function mergeMessages(current: ShownMessage[], incoming: ShownMessage[]): ShownMessage[] {
  if (incoming.length === 0) return current;
  const stored = new Map<string, ShownMessage>();
  const storedClientIds = new Set<string>();
  const pending = new Map<string, ShownMessage>();
  for (const message of [...current, ...incoming]) {
    if (message.pending || message.failed) {
      if (message.client_id) pending.set(message.client_id, message);
    } else {
      stored.set(message.id, message);
      if (message.client_id) storedClientIds.add(message.client_id);
    }
  }
  const shown = [...stored.values()].sort((a, b) => compareMarks(markOf(a), markOf(b)));
  for (const [clientId, message] of pending) if (!storedClientIds.has(clientId)) shown.push(message);
  return shown;
}

/** The newest stored message's mark, or nothing. */
export function newestStored(messages: ShownMessage[], which: (m: ShownMessage) => boolean = () => true): Mark {
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i];
    if (!m.pending && !m.failed && which(m)) return markOf(m);
  }
  return NOTHING;
}
