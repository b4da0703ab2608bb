// The console's live inbox: a view's pages (REST), refreshed when the events that can
// change it arrive, and every view's count (REST once, then `inbox:counts`).
import { useCallback, useEffect, useRef, useState } from "react";
import { describeError, type Api } from "../lib/api";
import type { ChatSession } from "../core/session";
import type { Message } from "../lib/types";
import { mergeCounts, viewCounts, viewPath, type CountsAnswer, type CountsSummary, type Filters, type InboxConversation, type ViewName, type ViewPage } from "./inboxApi";

const PAGE = 25;
const REFRESH_MS = 200;

export interface InboxView {
  items: InboxConversation[];
  loaded: boolean;
  error: string | null;
  hasMore: boolean;
  loadMore: () => void;
  refresh: () => void;
}

export function useInboxView(api: Api, chat: ChatSession | null, view: ViewName, filters: Filters): InboxView {
  const [items, setItems] = useState<InboxConversation[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [loaded, setLoaded] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const generation = useRef(0);
  const shown = useRef(PAGE);
  const timer = useRef<number | undefined>(undefined);
  const key = JSON.stringify(filters);

  const load = useCallback(async () => {
    const mine = ++generation.current;
    try {
      const page = await api.get<ViewPage>(viewPath(view, JSON.parse(key) as Filters, null, Math.min(shown.current, 100)));
      if (mine !== generation.current) return;
      setItems(page.items);
      setCursor(page.next_cursor);
      setError(null);
    } catch (e) {
      if (mine === generation.current) setError(describeError(e));
    }
    if (mine === generation.current) setLoaded(true);
  }, [api, view, key]);

  const refresh = useCallback(() => {
    window.clearTimeout(timer.current);
    timer.current = window.setTimeout(() => void load(), REFRESH_MS);
  }, [load]);

  useEffect(() => {
    shown.current = PAGE;
    setLoaded(false);
    setItems([]);
    void load();
    return () => window.clearTimeout(timer.current);
  }, [load]);

  useEffect(() => {
    if (!chat) return;
    const offs = [
      chat.on("conversation:updated", refresh),
      chat.on("queue:updated", refresh),
      chat.on("status", ({ connected }: { connected: boolean }) => connected && refresh()),
      // Previews and unread counts change in place; the order of recent views too.
      chat.on("message:new", ({ message }: { message: Message }) => {
        if (message.kind === "note") return;
        setItems((list) => {
          const at = list.findIndex((c) => c.id === message.conversation_id);
          if (at < 0) return list;
          const item = { ...list[at], last_message: { id: message.id, preview: message.text ? message.text.slice(0, 120) : "[attachment]", sender_id: message.sender_id, at: message.created_at }, updated_at: message.created_at };
          const next = [...list];
          next[at] = item;
          return view === "queue" || view === "unassigned" ? next : next.sort((a, b) => b.updated_at.localeCompare(a.updated_at));
        });
      }),
      chat.on("unread:update", (p: { conversation_id: string; side: string; unread: number }) => {
        if (p.side !== "org") return;
        setItems((list) => list.map((c) => (c.id === p.conversation_id ? { ...c, unread: p.unread } : c)));
      }),
    ];
    return () => offs.forEach((off) => off());
  }, [chat, refresh, view]);

  const loadMore = useCallback(() => {
    if (!cursor) return;
    const mine = generation.current;
    api.get<ViewPage>(viewPath(view, JSON.parse(key) as Filters, cursor, PAGE)).then(
      (page) => {
        if (mine !== generation.current) return;
        setItems((list) => [...list, ...page.items.filter((c) => !list.some((x) => x.id === c.id))]);
        setCursor(page.next_cursor);
        shown.current += PAGE;
      },
      (e) => setError(describeError(e)),
    );
  }, [api, view, key, cursor]);

  return { items, loaded, error, hasMore: cursor !== null, loadMore, refresh };
}

export function useInboxCounts(api: Api, chat: ChatSession | null, me: string): Partial<Record<ViewName, number>> {
  const [state, setState] = useState<{ summary: CountsSummary; groups: string[]; isLead: boolean } | null>(null);

  const load = useCallback(async () => {
    try {
      const answer = await api.get<CountsAnswer>("/inbox/counts");
      setState({ summary: answer.counts, groups: answer.group_ids, isLead: answer.is_lead });
    } catch {
      // The badges stay as they were; the next event or reconnect corrects them.
    }
  }, [api]);

  useEffect(() => {
    void load();
  }, [load]);

  useEffect(() => {
    if (!chat) return;
    const offs = [
      chat.on("inbox:counts", ({ counts }: { counts: CountsSummary }) => setState((s) => (s ? { ...s, summary: mergeCounts(s.summary, counts) } : s))),
      chat.on("status", ({ connected }: { connected: boolean }) => connected && void load()),
    ];
    return () => offs.forEach((off) => off());
  }, [chat, load]);

  return state ? viewCounts(state.summary, me, state.groups, state.isLead) : {};
}
