// The agent console (and, for owners and admins, the organization's administration).
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { Api, describeError } from "../lib/api";
import { waitingFor, shortWhen } from "../lib/format";
import { armSound, attention, clearAttention, setBaseTitle } from "../lib/notify";
import type { Conversation, Group, Member, Message, Org, Session } from "../lib/types";
import { useConversationList } from "../hooks/useConversationList";
import { useLive } from "../hooks/useLive";
import { Badge, ConnectionBanner, ErrorNote } from "../components/common";
import { AdminPanel } from "../admin/AdminPanel";
import { AgentConversation } from "./AgentConversation";
import { ConsoleLogin } from "./ConsoleLogin";

const ADMIN_ROLES = new Set(["owner", "admin"]);

export function ConsoleApp() {
  const api = useMemo(() => new Api("raasel.console"), []);
  const [session, setSession] = useState<Session | null>(api.current);
  useEffect(() => {
    api.onSessionChange = setSession;
  }, [api]);
  if (!session?.org_id) return <ConsoleLogin api={api} />;
  return <Console api={api} session={session} />;
}

function Console({ api, session }: { api: Api; session: Session }) {
  const orgId = session.org_id!;
  const isAdmin = ADMIN_ROLES.has(session.role ?? "");
  const [tab, setTab] = useState<"inbox" | "admin">(window.location.pathname.startsWith("/admin") && isAdmin ? "admin" : "inbox");
  const [org, setOrg] = useState<Org | null>(null);
  const [members, setMembers] = useState<Member[]>([]);
  const [groups, setGroups] = useState<Group[]>([]);
  const [availability, setAvailability] = useState("offline");
  const [openId, setOpenId] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [, tick] = useState(0);
  const { live, connected } = useLive(api, session.user.id);
  const queue = useConversationList(api, live, "queue", "org");
  const mine = useConversationList(api, live, "mine", "org");
  const openRef = useRef(openId);
  openRef.current = openId;
  const seenQueue = useRef<Set<string> | null>(null);

  const loadTeam = useCallback(async () => {
    try {
      const [o, m, g] = await Promise.all([
        api.get<Org>(`/orgs/${orgId}`),
        api.get<Member[]>(`/orgs/${orgId}/members`),
        api.get<Group[]>(`/orgs/${orgId}/groups`),
      ]);
      setOrg(o);
      setMembers(m);
      setGroups(g);
      const me = m.find((x) => x.user_id === session.user.id);
      if (me) setAvailability(me.availability);
    } catch (e) {
      setError(describeError(e));
    }
  }, [api, orgId, session.user.id]);

  useEffect(() => {
    void loadTeam();
    armSound();
  }, [loadTeam]);

  useEffect(() => {
    setBaseTitle(org ? `${org.name} · Raasel console` : "Raasel console");
    const onFocus = () => clearAttention();
    window.addEventListener("focus", onFocus);
    document.addEventListener("visibilitychange", onFocus);
    const timer = window.setInterval(() => tick((n) => n + 1), 15000);
    return () => {
      window.removeEventListener("focus", onFocus);
      document.removeEventListener("visibilitychange", onFocus);
      window.clearInterval(timer);
    };
  }, [org]);

  // A sound and a title badge for customer messages and newly queued conversations.
  useEffect(() => {
    if (!live) return;
    const offs = [
      live.on("message:new", ({ message }: { message: Message }) => {
        const isLookingAtIt = message.conversation_id === openRef.current && document.visibilityState === "visible" && document.hasFocus();
        if (message.sender_side === "customer" && !isLookingAtIt) attention();
      }),
      live.on("presence:update", (p: { user_id: string; availability: string }) => {
        setMembers((list) => list.map((m) => (m.user_id === p.user_id ? { ...m, availability: p.availability } : m)));
        if (p.user_id === session.user.id) setAvailability(p.availability);
      }),
    ];
    return () => offs.forEach((off) => off());
  }, [live, session.user.id]);

  useEffect(() => {
    if (!queue.loaded) return;
    const ids = new Set(queue.items.map((c) => c.id));
    if (seenQueue.current && [...ids].some((id) => !seenQueue.current!.has(id))) attention();
    seenQueue.current = ids;
  }, [queue.items, queue.loaded]);

  const changeAvailability = async (value: string) => {
    setError(null);
    try {
      const answer = await api.put<{ availability: string }>("/me/availability", { availability: value });
      setAvailability(answer.availability);
    } catch (e) {
      setError(describeError(e));
    }
  };

  const claim = async (id: string) => {
    setError(null);
    try {
      await api.post(`/conversations/${id}/claim`);
      setOpenId(id);
    } catch (e) {
      setError(describeError(e));
    }
    void queue.reload();
    void mine.reload();
  };

  const logout = async () => {
    await api.logout();
  };

  const changed = () => {
    void queue.reload();
    void mine.reload();
  };

  return (
    <div className="app console">
      <a href="#pane" className="skip">
        Skip to conversation
      </a>
      <header className="topbar">
        <span className="brand">{org?.name ?? "…"} console</span>
        <nav className="tabs" aria-label="Console sections">
          <button type="button" className={tab === "inbox" ? "tab active" : "tab"} aria-current={tab === "inbox" ? "page" : undefined} onClick={() => setTab("inbox")}>
            Inbox
          </button>
          {isAdmin && (
            <button type="button" className={tab === "admin" ? "tab active" : "tab"} aria-current={tab === "admin" ? "page" : undefined} onClick={() => setTab("admin")}>
              Admin
            </button>
          )}
        </nav>
        <label className="availability">
          <span className={`dot dot-${availability}`} aria-hidden="true" />
          <span className="visually-hidden">Availability</span>
          <select value={availability} onChange={(e) => changeAvailability(e.target.value)} aria-label="Availability">
            <option value="online">Online</option>
            <option value="away">Away</option>
            <option value="offline">Offline</option>
          </select>
        </label>
        <span className="who">
          {session.user.display_name} · {session.role}
        </span>
        <button type="button" className="link" onClick={logout}>
          Log out
        </button>
      </header>
      <ConnectionBanner connected={connected} />
      <ErrorNote error={error} onDismiss={() => setError(null)} />
      {tab === "admin" && org ? (
        <AdminPanel api={api} org={org} groups={groups} members={members} onChanged={loadTeam} myRole={session.role ?? ""} />
      ) : (
        <div className={`split three ${openId ? "show-pane" : "show-list"}`}>
          <aside className="sidebar" aria-label="Queue and conversations">
            <h2 className="section-title">
              Queue <Badge count={queue.items.length} label={`${queue.items.length} waiting`} />
            </h2>
            <ErrorNote error={queue.error} />
            <ul className="conversation-list" aria-label="Queue">
              {queue.loaded && queue.items.length === 0 && <li className="empty">Nobody is waiting.</li>}
              {queue.items.map((c) => (
                <li key={c.id} className="queue-item" data-conversation-id={c.id}>
                  <button type="button" className={`conversation-item ${c.id === openId ? "active" : ""}`} onClick={() => setOpenId(c.id)}>
                    <span className="row">
                      <strong className="title">{c.customer.name ?? "Customer"}</strong>
                      <span className="when">waiting {waitingFor(c.queued_at ?? c.created_at)}</span>
                    </span>
                    <span className="row">
                      <span className="preview">{c.last_message?.preview ?? c.subject ?? ""}</span>
                      <span className="group-name">{groups.find((g) => g.id === c.group_id)?.name}</span>
                    </span>
                  </button>
                  <button type="button" className="primary small-button" onClick={() => claim(c.id)} aria-label={`Claim conversation with ${c.customer.name ?? "customer"}`}>
                    Claim
                  </button>
                </li>
              ))}
            </ul>
            <h2 className="section-title">My conversations</h2>
            <ErrorNote error={mine.error} />
            <ul className="conversation-list" aria-label="My conversations">
              {mine.loaded && mine.items.length === 0 && <li className="empty">No open conversation assigned to you.</li>}
              {mine.items.map((c) => (
                <MineItem key={c.id} conversation={c} isOpen={c.id === openId} onOpen={() => setOpenId(c.id)} />
              ))}
            </ul>
          </aside>
          <main className="pane" id="pane" tabIndex={-1}>
            {openId ? (
              <AgentConversation
                key={openId}
                api={api}
                live={live}
                conversationId={openId}
                me={session.user.id}
                members={members}
                groups={groups}
                onClaim={() => claim(openId)}
                onChanged={changed}
                onOpen={setOpenId}
                onBack={() => setOpenId(null)}
              />
            ) : (
              <div className="placeholder">
                <p>Pick a conversation from the queue or from yours.</p>
              </div>
            )}
          </main>
        </div>
      )}
    </div>
  );
}

function MineItem({ conversation: c, isOpen, onOpen }: { conversation: Conversation; isOpen: boolean; onOpen: () => void }) {
  return (
    <li>
      <button type="button" className={`conversation-item ${isOpen ? "active" : ""}`} onClick={onOpen} aria-current={isOpen ? "true" : undefined} data-conversation-id={c.id}>
        <span className="row">
          <strong className="title">{c.customer.name ?? "Customer"}</strong>
          <time className="when">{shortWhen(c.last_message?.at ?? c.updated_at)}</time>
        </span>
        <span className="row">
          <span className="preview">{c.last_message?.preview ?? ""}</span>
          <Badge count={c.unread} />
        </span>
      </button>
    </li>
  );
}
