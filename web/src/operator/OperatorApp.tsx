// The operator console (the node's own staff, docs/protocol.md "Platform support"): the
// conversations organizations opened or escalated to the platform, and answering them
// with the same conversation components as the other screens.
import { useCallback, useEffect, useMemo, useState, type FormEvent } from "react";
import { SocketTransport } from "../core/connection";
import type { Conversation } from "../core/protocol";
import { ChatSession } from "../core/session";
import type { Rest } from "../core/transport";
import { Api, describeError } from "../lib/api";
import type { Session } from "../lib/types";
import { useConversation } from "../hooks/useConversation";
import { Composer } from "../components/Composer";
import { ConnectionBanner, ErrorNote, Field, TypingLine } from "../components/common";
import { MessageList } from "../components/MessageList";
import "./operator.css";

/** What the operators' view adds to a conversation. */
interface PlatformFields {
  organization?: { id: string; slug: string; name: string } | null;
  platform?: { at: string; category: string; reason: string | null; operator_ids: string[]; operators?: { id: string; name: string | null }[] };
}
type PlatformConversation = Conversation & PlatformFields;

const CATEGORY: Record<string, string> = {
  billing: "Billing",
  feature_request: "Feature request",
  incident: "Incident",
  escalation: "Escalated",
};

export function OperatorApp() {
  const api = useMemo(() => new Api("raasel.operator"), []);
  const [session, setSession] = useState<Session | null>(api.current);
  useEffect(() => {
    api.onSessionChange = setSession;
  }, [api]);
  if (!session || session.role !== "operator") return <OperatorLogin api={api} />;
  return <OperatorConsole api={api} session={session} />;
}

function OperatorLogin({ api }: { api: Api }) {
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string | null>(null);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    try {
      api.setSession(await api.post<Session>("/platform/login", { email, password }));
    } catch (err) {
      setError(describeError(err));
    }
  };
  return (
    <main className="auth" id="main">
      <div className="auth-card">
        <h1 className="brand">Raasel platform support</h1>
        <p className="lead">For the operators of this node (made with raasel create-operator).</p>
        <form onSubmit={submit} className="stack">
          <Field label="Email">
            <input type="email" value={email} onChange={(e) => setEmail(e.target.value)} required autoComplete="email" />
          </Field>
          <Field label="Password">
            <input type="password" value={password} onChange={(e) => setPassword(e.target.value)} required autoComplete="current-password" />
          </Field>
          <ErrorNote error={error} />
          <button type="submit" className="primary">
            Log in
          </button>
        </form>
      </div>
    </main>
  );
}

/** The session core with the operators' reads: the conversation routes under /platform. */
function useOperatorSession(api: Api, userId: string): { chat: ChatSession | null; connected: boolean } {
  const [chat, setChat] = useState<ChatSession | null>(null);
  const [connected, setConnected] = useState(true);
  useEffect(() => {
    const transport = new SocketTransport(api);
    const rest: Rest = { get: (path) => api.get(path.replace(/^\/conversations\//, "/platform/conversations/")) };
    const created = new ChatSession({ transport, rest, side: "platform", userId });
    const offStatus = created.on("status", ({ connected: isUp }: { connected: boolean }) => setConnected(isUp));
    const offEnded = created.on("session-ended", () => api.setSession(null));
    setChat(created);
    return () => {
      offStatus();
      offEnded();
      created.dispose();
      transport.close();
      setChat(null);
    };
  }, [api, userId]);
  return { chat, connected };
}

function OperatorConsole({ api, session }: { api: Api; session: Session }) {
  const me = session.user.id;
  const { chat, connected } = useOperatorSession(api, me);
  const [items, setItems] = useState<PlatformConversation[]>([]);
  const [openId, setOpenId] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  const load = useCallback(async () => {
    try {
      setItems(await api.get<PlatformConversation[]>("/platform/conversations"));
    } catch (e) {
      setError(describeError(e));
    }
  }, [api]);
  useEffect(() => {
    void load();
  }, [load]);
  useEffect(() => {
    if (!chat) return;
    // Something opened, escalated or answered: the list follows.
    const offs = [chat.on("conversation:updated", () => void load()), chat.on("message:new", () => void load())];
    return () => offs.forEach((off) => off());
  }, [chat, load]);

  const logout = async () => {
    await api.post("/auth/logout").catch(() => {});
    api.setSession(null);
  };

  return (
    <div className="console operator-console">
      <header className="topbar">
        <strong>Platform support</strong>
        <span className="muted small">{session.user.display_name}</span>
        <button type="button" className="secondary small-button" onClick={() => void logout()}>
          Log out
        </button>
      </header>
      <ConnectionBanner connected={connected} />
      <ErrorNote error={error} onDismiss={() => setError(null)} />
      <div className="operator-layout">
        <nav aria-label="Platform conversations" className="operator-list">
          {items.length === 0 && <p className="muted">Nothing opened or escalated to the platform.</p>}
          <ul data-testid="platform-list">
            {items.map((c) => (
              <li key={c.id}>
                <button type="button" className={c.id === openId ? "conversation-item active" : "conversation-item"} onClick={() => setOpenId(c.id)}>
                  <strong>{c.organization?.name ?? c.org_id}</strong> <span className="muted small">{CATEGORY[c.platform?.category ?? ""] ?? c.platform?.category}</span>
                  <br />
                  <span className="small">{c.subject}</span>
                  <br />
                  <span className="muted small">{c.last_message?.preview ?? ""}</span>
                </button>
              </li>
            ))}
          </ul>
        </nav>
        {openId ? <OperatorConversation key={openId} api={api} chat={chat} me={me} conversationId={openId} onChanged={load} /> : <p className="muted">Choose a conversation.</p>}
      </div>
    </div>
  );
}

function OperatorConversation({ api, chat, me, conversationId, onChanged }: { api: Api; chat: ChatSession | null; me: string; conversationId: string; onChanged: () => Promise<void> }) {
  const state = useConversation(api, chat, conversationId);
  const c = state.conversation as PlatformConversation | null;
  const [error, setError] = useState<string | null>(null);
  const isJoined = Boolean(c?.platform?.operator_ids.includes(me));
  const orgName = c?.organization?.name ?? "the organization";

  const join = async () => {
    setError(null);
    try {
      await api.post(`/platform/conversations/${conversationId}/join`);
      await state.refresh();
      await onChanged();
    } catch (e) {
      setError(describeError(e));
    }
  };

  return (
    <section className="conversation" aria-labelledby="platform-title">
      <header className="conversation-header">
        <div>
          <h2 id="platform-title">{c?.subject || "Conversation"}</h2>
          <p className="muted small" data-testid="platform-about">
            {orgName} · {CATEGORY[c?.platform?.category ?? ""] ?? ""}
            {c?.customer?.name ? ` · customer ${c.customer.name}` : ""}
            {c?.platform?.reason ? ` · ${c.platform.reason}` : ""}
          </p>
        </div>
        {c && !isJoined && c.status !== "closed" && (
          <button type="button" className="primary small-button" onClick={() => void join()}>
            Join to answer
          </button>
        )}
      </header>
      <ErrorNote error={state.error ?? error} onDismiss={() => (state.clearError(), setError(null))} />
      <MessageList
        messages={state.messages}
        mySide="platform"
        myUserId={me}
        receipts={state.receipts}
        hasMore={state.hasMore}
        loadingOlder={state.loadingOlder}
        onLoadOlder={state.loadOlder}
        senderName={(m) => (m.sender_side === "org" ? orgName : m.sender_side === "customer" ? (c?.customer?.name ?? "Customer") : "Platform support")}
      />
      <TypingLine typists={state.typists} />
      {isJoined ? (
        <Composer session={chat} conversationId={conversationId} onSend={(text) => state.send(text)} label="Answer as platform support" />
      ) : (
        <div className="notice">Join the conversation to answer: {orgName} and its customer see that you joined.</div>
      )}
    </section>
  );
}
