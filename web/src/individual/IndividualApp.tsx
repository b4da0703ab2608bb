// The individual's app: find an organization, talk to it, come back to past conversations.
import { useEffect, useMemo, useRef, useState } from "react";
import { Api } from "../lib/api";
import { STATUS_LABEL, shortWhen } from "../lib/format";
import { orgName } from "../lib/orgNames";
import type { Conversation, Group, Org, Session } from "../lib/types";
import { useConversationList } from "../hooks/useConversationList";
import { useLive } from "../hooks/useLive";
import { Badge, ConnectionBanner, ErrorNote } from "../components/common";
import { AuthScreen } from "./AuthScreen";
import { ConversationView } from "./ConversationView";
import { Directory } from "./Directory";
import { NewConversation } from "./NewConversation";

const GUEST_KEY = "raasel.guest";

export function IndividualApp() {
  const api = useMemo(() => new Api("raasel.user"), []);
  const [session, setSession] = useState<Session | null>(api.current);
  const [isGuest, setGuest] = useState(() => localStorage.getItem(GUEST_KEY) === "1");
  const [picked, setPicked] = useState<{ org: Org; group: Group | null } | null>(null);
  const [openId, setOpenId] = useState<string | null>(null);
  const { live, connected } = useLive(api, session?.user.id ?? null);
  const list = useConversationList(api, live, "all", "customer", Boolean(session));
  const paneHeading = useRef<HTMLDivElement>(null);

  useEffect(() => {
    api.onSessionChange = setSession;
    document.title = "Raasel";
  }, [api]);

  const startGuest = () => {
    localStorage.setItem(GUEST_KEY, "1");
    setGuest(true);
  };

  const logout = async () => {
    await api.logout();
    localStorage.removeItem(GUEST_KEY);
    setGuest(false);
    setOpenId(null);
    setPicked(null);
  };

  const open = (id: string) => {
    setPicked(null);
    setOpenId(id);
    void list.reload();
  };

  if (!session && !isGuest) return <AuthScreen api={api} onGuest={startGuest} />;

  const showPane = Boolean(picked || openId);
  return (
    <div className="app">
      <a href="#pane" className="skip">
        Skip to conversation
      </a>
      <header className="topbar">
        <a className="brand" href="/">
          Raasel
        </a>
        <span className="who">{session ? session.user.display_name : "Guest"}</span>
        <button type="button" className="link" onClick={logout}>
          {session ? "Log out" : "Leave guest mode"}
        </button>
      </header>
      <ConnectionBanner connected={connected} />
      <div className={`split ${showPane ? "show-pane" : "show-list"}`}>
        <aside className="sidebar" aria-label="Directory and conversations">
          <Directory api={api} onPick={(org, group) => { setOpenId(null); setPicked({ org, group }); }} />
          <h2 className="section-title">Your conversations</h2>
          <ErrorNote error={list.error} />
          <ul className="conversation-list" aria-label="Your conversations">
            {list.loaded && list.items.length === 0 && (
              <li className="empty">{session ? "No conversations yet. Search an organization above." : "Search an organization above to start."}</li>
            )}
            {list.items.map((c) => (
              <ConversationItem key={c.id} conversation={c} isOpen={c.id === openId} onOpen={() => open(c.id)} />
            ))}
          </ul>
        </aside>
        <main className="pane" id="pane" tabIndex={-1} ref={paneHeading}>
          {picked ? (
            <NewConversation
              api={api}
              org={picked.org}
              group={picked.group}
              onCancel={() => setPicked(null)}
              onStarted={(c) => open(c.id)}
            />
          ) : openId ? (
            <ConversationView key={openId} api={api} live={live} conversationId={openId} onBack={() => setOpenId(null)} />
          ) : (
            <div className="placeholder">
              <p>Search an organization, pick the team you need and write your first message.</p>
            </div>
          )}
        </main>
      </div>
    </div>
  );
}

function ConversationItem({ conversation: c, isOpen, onOpen }: { conversation: Conversation; isOpen: boolean; onOpen: () => void }) {
  const title = orgName(c.org_id) ?? c.subject ?? "Conversation";
  return (
    <li>
      <button type="button" className={`conversation-item ${isOpen ? "active" : ""}`} onClick={onOpen} aria-current={isOpen ? "true" : undefined} data-conversation-id={c.id}>
        <span className="row">
          <strong className="title">{title}</strong>
          <time className="when">{shortWhen(c.last_message?.at ?? c.updated_at)}</time>
        </span>
        <span className="row">
          <span className="preview">{c.last_message?.preview ?? ""}</span>
          <Badge count={c.unread} />
        </span>
        <span className={`status status-${c.status}`}>{STATUS_LABEL[c.status]}</span>
      </button>
    </li>
  );
}
