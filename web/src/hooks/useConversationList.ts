// A conversation list kept fresh: loaded once, refreshed (debounced) on live events and
// after a reconnect; unread counts follow `unread:update` at once.
import { useCallback, useEffect, useRef, useState } from "react";
import { describeError, type Api } from "../lib/api";
import type { Live } from "../lib/live";
import type { Conversation, Message, Side } from "../lib/types";

export function useConversationList(api: Api, live: Live | null, scope: string, mySide: Side, enabled = true) {
  const [items, setItems] = useState<Conversation[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [loaded, setLoaded] = useState(false);
  const timer = useRef<number | undefined>(undefined);

  const load = useCallback(async () => {
    if (!enabled) return;
    try {
      setItems(await api.get<Conversation[]>(`/conversations?scope=${scope}&limit=100`));
      setError(null);
    } catch (e) {
      setError(describeError(e));
    } finally {
      setLoaded(true);
    }
  }, [api, scope, enabled]);

  const reloadSoon = useCallback(() => {
    window.clearTimeout(timer.current);
    timer.current = window.setTimeout(() => void load(), 150);
  }, [load]);

  useEffect(() => {
    void load();
  }, [load]);

  useEffect(() => {
    if (!live) return;
    const offs = [
      live.on("message:new", ({ message }: { message: Message }) => {
        if (message.sender_side !== mySide) {
          // Received on this device: the other side's second tick.
          live.emit("receipt:delivered", { conversation_id: message.conversation_id, up_to: message.id }).catch(() => {});
        }
        reloadSoon();
      }),
      live.on("conversation:updated", reloadSoon),
      live.on("queue:updated", reloadSoon),
      live.on("unread:update", (p: { conversation_id: string; side: Side; unread: number }) => {
        if (p.side !== mySide) return;
        setItems((list) => list.map((c) => (c.id === p.conversation_id ? { ...c, unread: p.unread } : c)));
      }),
      live.on("status", ({ connected }: { connected: boolean }) => connected && reloadSoon()),
    ];
    return () => offs.forEach((off) => off());
  }, [live, mySide, reloadSoon]);

  useEffect(() => () => window.clearTimeout(timer.current), []);

  return { items, error, loaded, reload: load };
}
