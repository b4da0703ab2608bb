// One open conversation of the session core, for a React screen: the core holds the
// state (messages in server order, the outbox's pending ones, receipts, typing); this
// hook subscribes to it and reports "read" while the page is looked at.
import { useCallback, useEffect, useState, useSyncExternalStore } from "react";
import type { ConversationSnapshot, ConversationStore, Typist } from "../core/conversation";
import type { ChatSession } from "../core/session";
import type { Conversation, Receipts, ShownMessage } from "../core/protocol";
import { describeError, type Api } from "../lib/api";

export type { Typist };

export interface ConversationState {
  conversation: Conversation | null;
  messages: ShownMessage[];
  receipts: Receipts | undefined;
  hasMore: boolean;
  loadingOlder: boolean;
  typists: Typist[];
  error: string | null;
  loadOlder: () => Promise<void>;
  send: (text: string, kind?: "text" | "note", attachmentId?: string | null) => void;
  attach: (file: File) => Promise<void>;
  refresh: () => Promise<void>;
  clearError: () => void;
}

const EMPTY: ConversationSnapshot = {
  conversation: null,
  messages: [],
  receipts: undefined,
  hasMore: false,
  loadingOlder: false,
  loaded: false,
  typists: [],
  error: null,
};
const noStore = { subscribe: () => () => {}, snapshot: () => EMPTY };

export function useConversation(api: Api, session: ChatSession | null, conversationId: string | null): ConversationState {
  const [store, setStore] = useState<ConversationStore | null>(null);
  const [uploadError, setUploadError] = useState<string | null>(null);

  useEffect(() => {
    if (!session || !conversationId) return;
    const opened = session.open(conversationId);
    setStore(opened);
    const isLookedAt = () => document.visibilityState === "visible";
    const onVisible = () => opened.setViewing(isLookedAt());
    onVisible();
    document.addEventListener("visibilitychange", onVisible);
    window.addEventListener("focus", onVisible);
    return () => {
      document.removeEventListener("visibilitychange", onVisible);
      window.removeEventListener("focus", onVisible);
      opened.setViewing(false);
      session.release(conversationId);
      setStore(null);
    };
  }, [session, conversationId]);

  const source = store ?? noStore;
  const snapshot = useSyncExternalStore(
    useCallback((onChange: () => void) => source.subscribe(onChange), [source]),
    () => source.snapshot(),
  );

  const send = useCallback(
    (text: string, kind: "text" | "note" = "text", attachmentId: string | null = null) => {
      if (session && conversationId) session.send(conversationId, text, kind, attachmentId);
    },
    [session, conversationId],
  );

  const attach = useCallback(
    async (file: File) => {
      if (!conversationId) return;
      try {
        const stored = await api.upload<{ id: string }>(`/conversations/${conversationId}/attachments`, file);
        send(file.name, "text", stored.id);
      } catch (e) {
        setUploadError(describeError(e));
      }
    },
    [api, conversationId, send],
  );

  const error = uploadError ?? (snapshot.error ? describeError(snapshot.error) : null);
  return {
    conversation: snapshot.conversation,
    messages: snapshot.messages,
    receipts: snapshot.receipts,
    hasMore: snapshot.hasMore,
    loadingOlder: snapshot.loadingOlder,
    typists: snapshot.typists,
    error,
    loadOlder: useCallback(async () => store?.loadOlder(), [store]),
    send,
    attach,
    refresh: useCallback(async () => store?.refreshView(), [store]),
    clearError: () => {
      setUploadError(null);
      store?.clearError();
    },
  };
}
