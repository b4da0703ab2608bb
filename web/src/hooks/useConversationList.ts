// A conversation list of the session core, for a React screen. The core loads it once
// (and after each reconnect) and patches it from live events.
import { useCallback, useEffect, useState, useSyncExternalStore } from "react";
import type { ConversationList, ListSnapshot, Scope } from "../core/lists";
import type { ChatSession } from "../core/session";
import type { Conversation } from "../core/protocol";
import { describeError } from "../lib/api";

const EMPTY: ListSnapshot = { items: [], loaded: false, error: null };
const noList = { subscribe: () => () => {}, snapshot: () => EMPTY, load: async () => {} };

export function useConversationList(session: ChatSession | null, scope: Scope): { items: Conversation[]; error: string | null; loaded: boolean; reload: () => Promise<void> } {
  const [list, setList] = useState<ConversationList | null>(null);
  useEffect(() => {
    if (!session) return;
    setList(session.list(scope));
    return () => {
      session.releaseList(scope);
      setList(null);
    };
  }, [session, scope]);
  const source = list ?? noList;
  const snapshot = useSyncExternalStore(
    useCallback((onChange: () => void) => source.subscribe(onChange), [source]),
    () => source.snapshot(),
  );
  return {
    items: snapshot.items,
    error: snapshot.error ? describeError(snapshot.error) : null,
    loaded: snapshot.loaded,
    reload: useCallback(() => source.load(), [source]),
  };
}
