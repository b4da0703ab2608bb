// The individual's app: find an organization, talk to it, come back to past conversations.
import { lazy, Suspense, useEffect, useMemo, useRef, useState } from "react";
import { Api } from "../lib/api";
import { STATUS_LABEL, shortWhen } from "../lib/format";
import { orgName } from "../lib/orgNames";
import type { Conversation, Group, Org, Session } from "../lib/types";
import { useConversationList } from "../hooks/useConversationList";
import { useSession } from "../hooks/useSession";
import { Badge, ConnectionBanner, ErrorNote } from "../components/common";
import { AuthScreen } from "./AuthScreen";
import { ConversationView, VerifiedMark } from "./ConversationView";
import { Directory } from "./Directory";
import { NewConversation } from "./NewConversation";
import { becomeGuestOf, forgetGuestSessions, parkedConversations } from "./guestSessions";
import { CommunityPanel } from "../community/CommunityPanel";
import { armSound, chime } from "../lib/notify";
import { isQuiet, newlyUnread, titleWith, unreadBadge } from "./attention";

const GUEST_KEY = "raasel.guest";
// Direct chats bring the Signal library: loaded only when opened (their own chunk).
const DirectApp = lazy(() => import("../direct/DirectApp"));

export function IndividualApp() {
  const api = useMemo(() => new Api("raasel.user"), []);
  const [session, setSession] = useState<Session | null>(api.current);
  const [isGuest, setGuest] = useState(() => localStorage.getItem(GUEST_KEY) === "1");
  const [picked, setPicked] = useState<{ org: Org; group: Group | null } | null>(null);
  const [openId, setOpenId] = useState<string | null>(null);
  const { session: chat, connected, transport } = useSession(api, session?.user.id ?? null, "customer");
  const [mode, setMode] = useState<"support" | "direct" | "community">(() => (window.location.pathname.startsWith("/direct") ? "direct" : "support"));
  const directOpened = useRef(false);
  if (mode === "direct") directOpened.current = true;
  const list = useConversationList(chat, "all");
  // A guest's conversations with the other organizations it wrote to (guestSessions.ts).
  const [parked, setParked] = useState<(Conversation & { guest_org_id: string })[]>([]);
  const isVisitor = !session || session.user.kind === "visitor";
  const activeUser = session?.user.id ?? null;
  useEffect(() => {
    if (!isVisitor) return setParked([]);
    let cancelled = false;
    void parkedConversations().then((items) => !cancelled && setParked(items));
    return () => {
      cancelled = true;
    };
  }, [isVisitor, activeUser]);
  const items = useMemo(() => {
    const live = new Set(list.items.map((c) => c.id));
    return [...list.items, ...parked.filter((c) => !live.has(c.id))].sort((a, b) => (b.last_message?.at ?? b.updated_at).localeCompare(a.last_message?.at ?? a.updated_at));
  }, [list.items, parked]);
  const paneHeading = useRef<HTMLDivElement>(null);

  useEffect(() => {
    api.onSessionChange = setSession;
    armSound();
  }, [api]);
  // The unread badge (tab title) and the tone leave out what the person muted.
  const badge = unreadBadge(items);
  useEffect(() => {
    document.title = titleWith(badge);
  }, [badge]);
  const seenUnread = useRef(new Map<string, number>());
  useEffect(() => {
    const grew = newlyUnread(items, seenUnread.current).filter((id) => id !== openId || document.visibilityState !== "visible");
    if (grew.length) chime();
  }, [items, openId]);

  const startGuest = () => {
    localStorage.setItem(GUEST_KEY, "1");
    setGuest(true);
  };

  const logout = async () => {
    await api.logout();
    await forgetGuestSessions();
    localStorage.removeItem(GUEST_KEY);
    setGuest(false);
    setOpenId(null);
    setPicked(null);
  };

  const open = async (id: string) => {
    setPicked(null);
    const elsewhere = parked.find((c) => c.id === id);
    if (elsewhere) {
      // Another organization's visitor session: it becomes the app's session.
      try {
        await becomeGuestOf(api, elsewhere.guest_org_id, () => Promise.reject(new Error("no parked session")));
      } catch {
        // Its session ended meanwhile: the list drops it on the next read.
        return;
      }
    }
    setOpenId(id);
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
        {session && (
          <nav className="mode-switch" aria-label="Kind of conversations">
            <button type="button" className="secondary small-button" aria-pressed={mode === "support"} onClick={() => setMode("support")}>
              Support
            </button>
            <button type="button" className="secondary small-button" aria-pressed={mode === "direct"} onClick={() => setMode("direct")}>
              Direct chats
            </button>
            <button type="button" className="secondary small-button" aria-pressed={mode === "community"} onClick={() => setMode("community")}>
              Communities
            </button>
          </nav>
        )}
        <span className="who">{session ? session.user.display_name : "Guest"}</span>
        <button type="button" className="link" onClick={logout}>
          {session ? "Log out" : "Leave guest mode"}
        </button>
      </header>
      <ConnectionBanner connected={connected} />
      {session && directOpened.current && (
        // Kept mounted once opened: switching back and forth keeps the keys unlocked.
        <div className="direct-root" hidden={mode !== "direct"}>
          <Suspense fallback={<div className="placeholder">Loading encrypted chats…</div>}>
            <DirectApp key={session.user.id} api={api} transport={transport} userId={session.user.id} />
          </Suspense>
        </div>
      )}
      {session && mode === "community" && <CommunityPanel api={api} transport={transport} me={session.user.id} isModerator={false} />}
      <div className={`split ${showPane ? "show-pane" : "show-list"}`} hidden={Boolean(session) && mode !== "support"}>
        <aside className="sidebar" aria-label="Directory and conversations">
          <Directory api={api} onPick={(org, group) => { setOpenId(null); setPicked({ org, group }); }} />
          <h2 className="section-title">Your conversations</h2>
          <ErrorNote error={list.error} />
          <ul className="conversation-list" aria-label="Your conversations">
            {list.loaded && items.length === 0 && (
              <li className="empty">{session ? "No conversations yet. Search an organization above." : "Search an organization above to start."}</li>
            )}
            {items.map((c) => (
              <ConversationItem key={c.id} conversation={c} isOpen={c.id === openId} onOpen={() => void open(c.id)} />
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
              onStarted={(c) => {
                open(c.id);
                void list.reload();
              }}
            />
          ) : openId ? (
            <ConversationView key={`${openId}:${activeUser}`} api={api} session={chat} conversationId={openId} onBack={() => setOpenId(null)} />
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
  const title = c.organization?.name ?? c.org?.name ?? orgName(c.org_id) ?? c.subject ?? "Conversation";
  return (
    <li>
      <button type="button" className={`conversation-item ${isOpen ? "active" : ""}`} onClick={onOpen} aria-current={isOpen ? "true" : undefined} data-conversation-id={c.id}>
        <span className="row">
          <strong className="title">
            {title}
            {c.organization?.is_verified && <VerifiedMark domains={c.organization.verified_domains} />}
            {c.contact?.is_muted && <span className="muted small"> · muted</span>}
          </strong>
          <time className="when">{shortWhen(c.last_message?.at ?? c.updated_at)}</time>
        </span>
        <span className="row">
          <span className="preview">{c.last_message?.preview ?? ""}</span>
          {isQuiet(c) ? (
            c.unread ? (
              <span className="badge badge-quiet" aria-label={`${c.unread} unread, muted`}>
                {c.unread}
              </span>
            ) : null
          ) : (
            <Badge count={c.unread} />
          )}
        </span>
        <span className={`status status-${c.status}`}>{STATUS_LABEL[c.status]}</span>
      </button>
    </li>
  );
}
