// Merging messages from history pages, live events, sync answers and local sends:
// one entry per message (by id, and a pending send by its client_id), sorted by id.
import { compareIds } from "./ids";
import type { ShownMessage } from "./types";

export function mergeMessages(current: ShownMessage[], incoming: ShownMessage[]): ShownMessage[] {
  if (incoming.length === 0) return current;
  const byKey = new Map<string, ShownMessage>();
  const clientToKey = new Map<string, string>();
  const put = (message: ShownMessage) => {
    const key = message.pending ? `pending:${message.client_id}` : message.id;
    if (message.client_id) {
      const previous = clientToKey.get(message.client_id);
      if (previous !== undefined && previous !== key) {
        // A stored copy replaces the pending one; a pending copy never replaces a stored one.
        if (message.pending) return;
        byKey.delete(previous);
      }
      clientToKey.set(message.client_id, key);
    }
    byKey.set(key, message);
  };
  current.forEach(put);
  incoming.forEach(put);
  return [...byKey.values()].sort(compareShown);
}

/** Stored messages by id; pending ones (no id yet) after all of them, in send order. */
function compareShown(a: ShownMessage, b: ShownMessage): number {
  if (a.pending && b.pending) return a.created_at.localeCompare(b.created_at);
  if (a.pending) return 1;
  if (b.pending) return -1;
  return compareIds(a.id, b.id);
}

/** The newest stored message id, or "0". */
export function lastStoredId(messages: ShownMessage[]): string {
  for (let i = messages.length - 1; i >= 0; i--) {
    if (!messages[i].pending) return messages[i].id;
  }
  return "0";
}
