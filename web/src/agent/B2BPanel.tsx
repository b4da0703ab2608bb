// Organization <-> organization conversations (docs/protocol.md, "Organization to
// organization"): the console's "Organizations" tab. Both directions in one list, each
// from this organization's side (the other organization's name, its own status); a
// form to open one with an organization of the directory (optionally one of its
// groups); requests from organizations this one does not know are accepted or declined
// here. Each side's internal notes stay on its side (the server never sends the other's).
import { useCallback, useEffect, useRef, useState } from "react";
import { describeError, type Api } from "../lib/api";
import type { ChatSession } from "../core/session";
import type { Conversation, ShownMessage } from "../core/protocol";
import type { Org } from "../lib/types";
import { LiveUnread } from "../core/liveUnread";
import { useConversation } from "../hooks/useConversation";
import { MessageList } from "../components/MessageList";
import { AttachButton, Badge, ErrorNote, TypingLine } from "../components/common";

const STATUS: Record<string, string> = {
  requested: "Request",
  declined: "Declined",
  queued: "Waiting",
  active: "Open",
  resolved: "Resolved",
  closed: "Closed",
};

interface Props {
  api: Api;
  chat: ChatSession | null;
  me: string;
  /** The open conversation (the console keeps it: the inbox opens b2b ones here). */
  openId: string | null;
  onOpen: (id: string | null) => void;
}

export function B2BPanel({ api, chat, me, openId, onOpen: setOpenId }: Props) {
  const [items, setItems] = useState<Conversation[]>([]);
  const [error, setError] = useState<string | null>(null);
  // A reload's answer may be older than an unread:update heard while it was on its way.
  const live = useRef(new LiveUnread());

  const reload = useCallback(async () => {
    const ticket = live.current.begin();
    try {
      const fresh = live.current.merge(await api.get<Conversation[]>("/b2b/conversations"), ticket, (c) => c.b2b?.side ?? "org");
      if (fresh) setItems(fresh);
    } catch (e) {
      setError(describeError(e));
    }
  }, [api]);

  useEffect(() => {
    void reload();
  }, [reload]);

  // The list follows the live events of b2b conversations (this side's view of each).
  useEffect(() => {
    if (!chat) return;
    const offs = [
      chat.on("conversation:updated", ({ conversation }: { conversation: Conversation }) => {
        if (conversation.kind === "b2b") void reload();
      }),
      chat.on("unread:update", (p: { conversation_id: string; side: string; unread: number }) => {
        live.current.onUnread(p.conversation_id, p.side, p.unread);
        setItems((list) => list.map((c) => (c.id === p.conversation_id && c.b2b?.side === p.side ? { ...c, unread: p.unread } : c)));
      }),
      chat.on("message:new", ({ conversation_id }: { conversation_id: string }) => {
        setItems((list) => {
          if (list.some((c) => c.id === conversation_id)) void reload();
          return list;
        });
      }),
    ];
    return () => offs.forEach((off) => off());
  }, [chat, reload]);

  return (
    <div className={`split ${openId ? "show-pane" : "show-list"}`} data-testid="b2b-panel">
      <aside className="sidebar" aria-label="Conversations with organizations">
        <B2BOpenForm api={api} onOpened={(id) => { void reload(); setOpenId(id); }} />
        <ErrorNote error={error} onDismiss={() => setError(null)} />
        <h3>With organizations</h3>
        {items.length === 0 ? (
          <p className="muted small">No conversations with other organizations yet.</p>
        ) : (
          <ul className="conversation-list" data-testid="b2b-list">
            {items.map((c) => (
              <li key={c.id}>
                <button
                  type="button"
                  className={c.id === openId ? "conversation-item active" : "conversation-item"}
                  onClick={() => setOpenId(c.id)}
                  data-testid="b2b-item"
                >
                  <span className="row">
                    <strong className="title">{c.b2b?.other_org?.name ?? "Organization"}</strong>
                    <span className="when">{STATUS[c.status] ?? c.status}</span>
                  </span>
                  <span className="row">
                    <span className="preview">{c.subject}</span>
                    <Badge count={c.unread} />
                  </span>
                  <span className="row">
                    <span className="preview muted">{c.last_message?.preview ?? ""}</span>
                  </span>
                </button>
              </li>
            ))}
          </ul>
        )}
      </aside>
      <main className="pane" id="pane" tabIndex={-1}>
        {openId ? (
          <B2BConversation key={openId} api={api} chat={chat} id={openId} me={me} onBack={() => setOpenId(null)} />
        ) : (
          <div className="placeholder">
            <p>Pick a conversation, or write to an organization of the directory.</p>
          </div>
        )}
      </main>
    </div>
  );
}

function B2BOpenForm({ api, onOpened }: { api: Api; onOpened: (id: string) => void }) {
  const [query, setQuery] = useState("");
  const [found, setFound] = useState<Org[]>([]);
  const [org, setOrg] = useState<Org | null>(null);
  const [groupId, setGroupId] = useState("");
  const [subject, setSubject] = useState("");
  const [text, setText] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  // One client id per attempt: a retry after a lost answer gets the same conversation.
  const [clientId, setClientId] = useState(() => crypto.randomUUID());

  useEffect(() => {
    const q = query.trim();
    if (!q || org) return;
    let cancelled = false;
    const timer = window.setTimeout(async () => {
      try {
        const orgs = await api.get<Org[]>(`/directory/orgs?${new URLSearchParams({ q, limit: "8" })}`);
        if (!cancelled) setFound(orgs);
      } catch (e) {
        if (!cancelled) setError(describeError(e));
      }
    }, 250);
    return () => {
      cancelled = true;
      window.clearTimeout(timer);
    };
  }, [api, query, org]);

  const pick = async (hit: Org) => {
    try {
      setOrg(await api.get<Org>(`/directory/orgs/${encodeURIComponent(hit.slug)}`));
      setFound([]);
    } catch (e) {
      setError(describeError(e));
    }
  };

  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    if (!org) return;
    setBusy(true);
    setError(null);
    try {
      const body: Record<string, string> = { org_id: org.id, text, subject, client_id: clientId };
      if (groupId) body.group_id = groupId;
      const opened = await api.post<{ conversation: Conversation }>("/b2b/conversations", body);
      setOrg(null);
      setQuery("");
      setGroupId("");
      setSubject("");
      setText("");
      setClientId(crypto.randomUUID());
      onOpened(opened.conversation.id);
    } catch (err) {
      setError(describeError(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="outreach-form" onSubmit={submit} aria-labelledby="b2b-open-title">
      <h3 id="b2b-open-title">Write to an organization</h3>
      {org ? (
        <p data-testid="b2b-picked">
          To <strong>{org.name}</strong>{" "}
          <button type="button" className="link" onClick={() => setOrg(null)}>
            change
          </button>
        </p>
      ) : (
        <label>
          Find an organization
          <input type="search" value={query} onChange={(e) => setQuery(e.target.value)} placeholder="Name, domain, what they do" />
        </label>
      )}
      {!org && found.length > 0 && (
        <ul className="plain" aria-label="Organizations found">
          {found.map((o) => (
            <li key={o.id}>
              <button type="button" className="link" onClick={() => void pick(o)} data-testid="b2b-hit">
                {o.name}
              </button>
            </li>
          ))}
        </ul>
      )}
      {org && (
        <>
          <label>
            Team (optional)
            <select value={groupId} onChange={(e) => setGroupId(e.target.value)} aria-label="Their team">
              <option value="">Their default team</option>
              {(org.groups ?? []).map((g) => (
                <option key={g.id} value={g.id}>
                  {g.name}
                </option>
              ))}
            </select>
          </label>
          <label>
            Subject
            <input value={subject} onChange={(e) => setSubject(e.target.value)} maxLength={200} />
          </label>
          <label>
            Message
            <textarea required value={text} onChange={(e) => setText(e.target.value)} maxLength={4000} rows={3} />
          </label>
          <button type="submit" disabled={busy}>
            Send
          </button>
        </>
      )}
      <ErrorNote error={error} onDismiss={() => setError(null)} />
    </form>
  );
}

function B2BConversation({ api, chat, id, me, onBack }: { api: Api; chat: ChatSession | null; id: string; me: string; onBack: () => void }) {
  const state = useConversation(api, chat, id);
  const c = state.conversation;
  const [draft, setDraft] = useState("");
  const [mode, setMode] = useState<"text" | "note">("text");
  const [actionError, setActionError] = useState<string | null>(null);
  const side = c?.b2b?.side ?? "org";
  // A b2b side's status may also be "requested" or "declined" (the peer's).
  const status: string = c?.status ?? "";
  const other = c?.b2b?.other_org?.name ?? "the other organization";
  // The session writes as "org"; in this conversation this organization may be "peer".
  const messages: ShownMessage[] = state.messages.map((m) => (m.pending ? { ...m, sender_side: side } : m));
  // Files go both ways; a note's file stays on its side (docs/protocol.md).
  const loadAttachment = useCallback((fileId: string) => api.blob(`/attachments/${fileId}`), [api]);

  const act = async (path: string) => {
    setActionError(null);
    try {
      await api.post(`/b2b/conversations/${id}/${path}`);
      await state.refresh();
    } catch (e) {
      setActionError(describeError(e));
    }
  };

  const submit = (e: React.FormEvent) => {
    e.preventDefault();
    if (!draft.trim()) return;
    state.send(draft, mode);
    setDraft("");
  };

  const senderName = (m: ShownMessage) => {
    if (m.kind === "system") return null;
    if (m.sender_side !== side) return other;
    return m.sender_id === me ? "You" : c?.assignee?.id === m.sender_id ? c.assignee.name : "Your team";
  };

  return (
    <section className="conversation" aria-labelledby="b2b-title" data-testid="b2b-conversation">
      <header className="conversation-header">
        <button type="button" className="link back" onClick={onBack} aria-label="Back to the list">
          ←
        </button>
        <div>
          <h2 id="b2b-title" data-testid="b2b-other">
            {other}
          </h2>
          <p className="muted small">
            {c?.subject} · your side: <span data-testid="b2b-status">{STATUS[status] ?? status}</span> · theirs:{" "}
            {STATUS[c?.b2b?.other_status ?? ""] ?? c?.b2b?.other_status}
            {c?.priority && c.priority !== "normal" ? ` · ${c.priority} priority` : ""}
          </p>
        </div>
        <div className="actions">
          {status === "requested" ? (
            <>
              <button type="button" onClick={() => void act("accept")}>
                Accept
              </button>
              <button type="button" className="secondary" onClick={() => void act("decline")}>
                Decline
              </button>
            </>
          ) : c && status !== "closed" && status !== "declined" ? (
            <button type="button" className="secondary" onClick={() => void act("close")}>
              Close my side
            </button>
          ) : null}
        </div>
      </header>
      <ErrorNote error={actionError ?? state.error} onDismiss={() => { setActionError(null); state.clearError(); }} />
      <MessageList
        messages={messages}
        mySide={side}
        myUserId={me}
        receipts={state.receipts}
        hasMore={state.hasMore}
        loadingOlder={state.loadingOlder}
        onLoadOlder={() => void state.loadOlder()}
        senderName={senderName}
        loadAttachment={loadAttachment}
        noteLabel={`Internal note · not visible to ${other}`}
      />
      <TypingLine typists={state.typists.filter((t) => !t.is_note)} />
      <form className="composer" onSubmit={submit}>
        <div className="mode" role="radiogroup" aria-label="Reply or internal note">
          <label>
            <input type="radio" checked={mode === "text"} onChange={() => setMode("text")} /> Reply to {other}
          </label>
          <label>
            <input type="radio" checked={mode === "note"} onChange={() => setMode("note")} /> Internal note (only your organization)
          </label>
        </div>
        <textarea
          value={draft}
          onChange={(e) => setDraft(e.target.value)}
          aria-label={mode === "note" ? "Internal note" : "Reply"}
          rows={2}
          maxLength={4000}
          onKeyDown={(e) => {
            if (e.key === "Enter" && !e.shiftKey) submit(e);
          }}
        />
        {mode === "text" && (
          <AttachButton onFile={(file) => void state.attach(file)} />
        )}
        <button type="submit">{mode === "note" ? "Add note" : "Send"}</button>
      </form>
    </section>
  );
}
