// One open conversation, live: history pages, new messages, receipts, typing, queue
// position, sends with retries by client_id, and a silent resync after a reconnect
// (docs/protocol.md, "Reconnecting without gaps or duplicates").
import { useCallback, useEffect, useRef, useState } from "react";
import { ApiError, describeError, newClientId, type Api } from "../lib/api";
import { compareIds } from "../lib/ids";
import type { Live } from "../lib/live";
import { lastStoredId, mergeMessages } from "../lib/merge";
import { mergeReceipts } from "../lib/ticks";
import type { Conversation, Message, Receipts, ShownMessage, Side, TypingEvent } from "../lib/types";

interface HistoryPage {
  messages: Message[];
  has_more: boolean;
  next_before: string | null;
}

interface SyncAnswer {
  conversations: { conversation_id: string; messages?: Message[]; has_more?: boolean; receipts?: Receipts; error?: unknown }[];
}

export interface Typist {
  user_id: string;
  name: string | null;
  is_note: boolean;
}

export interface ConversationState {
  conversation: Conversation | null;
  messages: ShownMessage[];
  receipts: Receipts | undefined;
  hasMore: boolean;
  loadingOlder: boolean;
  typists: Typist[];
  error: string | null;
  loadOlder: () => Promise<void>;
  send: (text: string, kind?: "text" | "note", attachmentId?: string | null) => Promise<void>;
  attach: (file: File) => Promise<void>;
  refresh: () => Promise<void>;
  setConversation: (c: Conversation) => void;
  clearError: () => void;
}

const RETRYABLE = new Set(["timeout", "network", "rate_limited", "busy"]);
/** The server was too busy to store it: nothing was stored, so send it again shortly. */
const BUSY_RETRY_MS = 1000;

export function useConversation(
  api: Api,
  live: Live | null,
  conversationId: string | null,
  mySide: Side,
): ConversationState {
  const [conversation, setConversation] = useState<Conversation | null>(null);
  const [messages, setMessages] = useState<ShownMessage[]>([]);
  const [receipts, setReceipts] = useState<Receipts | undefined>(undefined);
  const [hasMore, setHasMore] = useState(false);
  const [loadingOlder, setLoadingOlder] = useState(false);
  const [typing, setTyping] = useState<Map<string, Typist>>(new Map());
  const [error, setError] = useState<string | null>(null);
  const nextBefore = useRef<string | null>(null);
  const messagesRef = useRef<ShownMessage[]>([]);
  const typingTimers = useRef(new Map<string, number>());
  const readUpTo = useRef("0");

  const merge = useCallback((incoming: ShownMessage[]) => {
    messagesRef.current = mergeMessages(messagesRef.current, incoming);
    setMessages(messagesRef.current);
  }, []);

  // Report "read" for what the other side sent, while the page is looked at.
  const markRead = useCallback(() => {
    if (!live || !conversationId || document.visibilityState !== "visible") return;
    const newest = lastStoredId(messagesRef.current.filter((m) => m.sender_side !== mySide));
    if (newest === "0" || compareIds(newest, readUpTo.current) <= 0) return;
    readUpTo.current = newest;
    live.emit("receipt:read", { conversation_id: conversationId, up_to: newest }).catch(() => {
      readUpTo.current = "0";
    });
  }, [live, conversationId, mySide]);

  const refresh = useCallback(async () => {
    if (!conversationId) return;
    try {
      const view = await api.get<Conversation>(`/conversations/${conversationId}`);
      setConversation(view);
      if (view.receipts) setReceipts((r) => mergeReceipts(r, view.receipts!));
    } catch (e) {
      setError(describeError(e));
    }
  }, [api, conversationId]);

  // Load the conversation and its newest page whenever the id changes.
  useEffect(() => {
    setConversation(null);
    setMessages((messagesRef.current = []));
    setReceipts(undefined);
    setTyping(new Map());
    setError(null);
    readUpTo.current = "0";
    nextBefore.current = null;
    if (!conversationId) return;
    let cancelled = false;
    (async () => {
      try {
        const [view, page] = await Promise.all([
          api.get<Conversation>(`/conversations/${conversationId}`),
          api.get<HistoryPage>(`/conversations/${conversationId}/messages?limit=50`),
        ]);
        if (cancelled) return;
        setConversation(view);
        setReceipts(view.receipts);
        nextBefore.current = page.next_before;
        setHasMore(page.has_more);
        merge(page.messages);
        markRead();
      } catch (e) {
        if (!cancelled) setError(describeError(e));
      }
    })();
    return () => {
      cancelled = true;
    };
  }, [api, conversationId, merge, markRead]);

  const sendOne = useCallback(
    async (message: ShownMessage) => {
      if (!live) return;
      try {
        const answer = await live.emit<{ message: Message }>("message:send", {
          conversation_id: message.conversation_id,
          client_id: message.client_id,
          text: message.text || undefined,
          kind: message.kind,
          attachment_id: message.attachment_id ?? undefined,
        });
        merge([answer.message]);
      } catch (e) {
        const code = e instanceof ApiError ? e.code : "error";
        if (code === "busy") {
          // Same client_id: the server stores it once, however many tries it takes.
          window.setTimeout(() => void sendOneRef.current?.(message), BUSY_RETRY_MS);
          return;
        }
        // Retryable failures stay "sending" and go again after the next (re)connect.
        if (!RETRYABLE.has(code) || live.connected) {
          if (!RETRYABLE.has(code)) merge([{ ...message, failed: true }]);
          setError(describeError(e));
        }
      }
    },
    [live, merge],
  );
  const sendOneRef = useRef(sendOne);
  sendOneRef.current = sendOne;

  const resync = useCallback(async () => {
    if (!live || !conversationId) return;
    let after = lastStoredId(messagesRef.current);
    for (let round = 0; round < 20; round++) {
      let answer: SyncAnswer;
      try {
        answer = await live.emit<SyncAnswer>("sync", { conversations: [{ conversation_id: conversationId, after }] });
      } catch {
        return;
      }
      const entry = answer.conversations[0];
      if (!entry || entry.error) return;
      if (entry.receipts) setReceipts((r) => mergeReceipts(r, entry.receipts!));
      const got = entry.messages ?? [];
      merge(got);
      if (!entry.has_more || got.length === 0) break;
      after = got[got.length - 1].id;
    }
    const newest = lastStoredId(messagesRef.current);
    if (newest !== "0") live.emit("receipt:delivered", { conversation_id: conversationId, up_to: newest }).catch(() => {});
    markRead();
    // Sends that never got their ack go again with the same client_id (no duplicates).
    messagesRef.current.filter((m) => m.pending && !m.failed).forEach((m) => void sendOne(m));
    void refresh();
  }, [live, conversationId, merge, markRead, sendOne, refresh]);

  // Live events for this conversation.
  useEffect(() => {
    if (!live || !conversationId) return;
    const mine = (p: { conversation_id?: string }) => p?.conversation_id === conversationId;
    const offs = [
      live.on("message:new", ({ message }: { message: Message }) => {
        if (message.conversation_id !== conversationId) return;
        merge([message]);
        clearTypist(message.sender_id ?? "");
        markRead();
      }),
      live.on("receipt:update", (p: { conversation_id: string; side: Side; delivered_up_to: string; read_up_to: string }) => {
        if (!mine(p)) return;
        setReceipts((r) => mergeReceipts(r, { [p.side]: { delivered_up_to: p.delivered_up_to, read_up_to: p.read_up_to } }));
      }),
      live.on("typing", (p: TypingEvent) => {
        if (!mine(p)) return;
        if (p.is_typing) {
          setTyping((t) => new Map(t).set(p.user_id, { user_id: p.user_id, name: p.name, is_note: p.is_note }));
          window.clearTimeout(typingTimers.current.get(p.user_id));
          typingTimers.current.set(p.user_id, window.setTimeout(() => clearTypist(p.user_id), (p.expires_in || 6) * 1000));
        } else {
          clearTypist(p.user_id);
        }
      }),
      live.on("conversation:updated", ({ conversation: c }: { conversation: Conversation }) => {
        if (c.id !== conversationId) return;
        // A new assignee's "read" is the one that counts: report it again.
        readUpTo.current = "0";
        markRead();
        setConversation((prev) => ({ ...prev, ...c, customer_panel: prev?.customer_panel, queue_position: c.status === "queued" ? prev?.queue_position : null }));
        if (c.receipts) setReceipts((r) => mergeReceipts(r, c.receipts!));
      }),
      live.on("queue:position", (p: { conversation_id: string; position: number }) => {
        if (!mine(p)) return;
        setConversation((prev) => (prev ? { ...prev, queue_position: p.position } : prev));
      }),
      live.on("status", ({ isReconnect }: { connected: boolean; isReconnect: boolean }) => {
        if (isReconnect) void resync();
      }),
    ];
    const onVisible = () => markRead();
    document.addEventListener("visibilitychange", onVisible);
    window.addEventListener("focus", onVisible);
    return () => {
      offs.forEach((off) => off());
      document.removeEventListener("visibilitychange", onVisible);
      window.removeEventListener("focus", onVisible);
    };

    function clearTypist(userId: string) {
      window.clearTimeout(typingTimers.current.get(userId));
      setTyping((t) => {
        if (!t.has(userId)) return t;
        const next = new Map(t);
        next.delete(userId);
        return next;
      });
    }
  }, [live, conversationId, mySide, merge, markRead, resync]);

  const loadOlder = useCallback(async () => {
    if (!conversationId || !nextBefore.current || loadingOlder) return;
    setLoadingOlder(true);
    try {
      const page = await api.get<HistoryPage>(
        `/conversations/${conversationId}/messages?limit=50&before=${encodeURIComponent(nextBefore.current)}`,
      );
      nextBefore.current = page.next_before;
      setHasMore(page.has_more);
      merge(page.messages);
    } catch (e) {
      setError(describeError(e));
    } finally {
      setLoadingOlder(false);
    }
  }, [api, conversationId, loadingOlder, merge]);

  const send = useCallback(
    async (text: string, kind: "text" | "note" = "text", attachmentId: string | null = null) => {
      if (!conversationId) return;
      const message: ShownMessage = {
        id: "",
        conversation_id: conversationId,
        client_id: newClientId(),
        sender_id: api.current?.user.id ?? null,
        sender_side: mySide,
        kind,
        text,
        attachment_id: attachmentId,
        created_at: new Date().toISOString(),
        pending: true,
      };
      merge([message]);
      await sendOne(message);
    },
    [api, conversationId, mySide, merge, sendOne],
  );

  const attach = useCallback(
    async (file: File) => {
      if (!conversationId) return;
      try {
        const stored = await api.upload<{ id: string }>(`/conversations/${conversationId}/attachments`, file);
        await send(file.name, "text", stored.id);
      } catch (e) {
        setError(describeError(e));
      }
    },
    [api, conversationId, send],
  );

  return {
    conversation,
    messages,
    receipts,
    hasMore,
    loadingOlder,
    typists: [...typing.values()],
    error,
    loadOlder,
    send,
    attach,
    refresh,
    setConversation,
    clearError: () => setError(null),
  };
}
