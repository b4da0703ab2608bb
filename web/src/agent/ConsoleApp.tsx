// The agent console (and, for owners and admins, the organization's administration).
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { Api, describeError } from "../lib/api";
import { armSound, attention, clearAttention, setBaseTitle } from "../lib/notify";
import type { Group, Member, Message, Org, Session } from "../lib/types";
import { useConversationList } from "../hooks/useConversationList";
import { useSession } from "../hooks/useSession";
import { ConnectionBanner, ErrorNote } from "../components/common";
import { AdminPanel } from "../admin/AdminPanel";
import { AgentConversation } from "./AgentConversation";
import { B2BPanel } from "./B2BPanel";
import { ConsoleLogin } from "./ConsoleLogin";
import { InboxSidebar } from "./InboxSidebar";
import { LibraryPanel } from "./LibraryPanel";
import { OutreachForm } from "./OutreachForm";
import { Reports } from "./Reports";
import { CommunityPanel } from "../community/CommunityPanel";
import { TeamPanel } from "./TeamPanel";
import { TeamRoomsPanel } from "./TeamRoomsPanel";
import { VIEWS, type Canned, type Label, type ViewName } from "./inboxApi";
import { armNotifications, notify } from "./notifications";
import { ShortcutHelp, useShortcuts } from "./shortcuts";
import "./inbox.css";

const ADMIN_ROLES = new Set(["owner", "admin"]);
const LEAD_ROLES = new Set(["owner", "admin", "supervisor"]);

export function ConsoleApp() {
  const api = useMemo(() => new Api("raasel.console"), []);
  const [session, setSession] = useState<Session | null>(api.current);
  useEffect(() => {
    api.onSessionChange = setSession;
  }, [api]);
  if (!session?.org_id) return <ConsoleLogin api={api} />;
  return <Console api={api} session={session} />;
}

type Tab = "inbox" | "rooms" | "team" | "reports" | "library" | "community" | "b2b" | "admin";

function Console({ api, session }: { api: Api; session: Session }) {
  const orgId = session.org_id!;
  const me = session.user.id;
  const isAdmin = ADMIN_ROLES.has(session.role ?? "");
  const isLead = LEAD_ROLES.has(session.role ?? "");
  const [tab, setTab] = useState<Tab>(window.location.pathname.startsWith("/admin") && isAdmin ? "admin" : "inbox");
  const [org, setOrg] = useState<Org | null>(null);
  const [members, setMembers] = useState<Member[]>([]);
  const [groups, setGroups] = useState<Group[]>([]);
  const [labels, setLabels] = useState<Label[]>([]);
  const [canned, setCanned] = useState<Canned[]>([]);
  const [availability, setAvailability] = useState("offline");
  // Away because no console was open (not chosen), and "online again when I return".
  const [autoAway, setAutoAway] = useState(false);
  const [restores, setRestores] = useState(false);
  const [view, setView] = useState<ViewName>("queue");
  const [openId, setOpenId] = useState<string | null>(null);
  const [mode, setMode] = useState<"text" | "note">("text");
  const [help, setHelp] = useState(false);
  const [mention, setMention] = useState<{ conversation_id?: string; room_id?: string; by: { name: string }; preview: string } | null>(null);
  const [openRoomId, setOpenRoomId] = useState<string | null>(null);
  const [openB2BId, setOpenB2BId] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [, tick] = useState(0);
  const { session: chat, connected, transport } = useSession(api, me, "org");
  const queue = useConversationList(chat, "queue");
  const openRef = useRef(openId);
  openRef.current = openId;
  const seenQueue = useRef<Set<string> | null>(null);
  const searchBox = useRef<HTMLInputElement>(null);
  const composer = useRef<HTMLTextAreaElement>(null);
  const listIds = useRef<string[]>([]);

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
      const mine = m.find((x) => x.user_id === me);
      if (mine) {
        setAvailability(mine.availability);
        setAutoAway(Boolean(mine.is_auto_away));
        setRestores(Boolean(mine.restores_availability));
      }
    } catch (e) {
      setError(describeError(e));
    }
  }, [api, orgId, me]);

  const loadLibrary = useCallback(async () => {
    try {
      const [l, c] = await Promise.all([api.get<Label[]>("/inbox/labels"), api.get<Canned[]>("/inbox/canned")]);
      setLabels(l);
      setCanned(c);
    } catch (e) {
      setError(describeError(e));
    }
  }, [api]);

  useEffect(() => {
    void loadTeam();
    void loadLibrary();
    armSound();
    armNotifications();
  }, [loadTeam, loadLibrary]);

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

  // A sound, a title badge and a browser notification for customer messages, newly
  // queued conversations and mentions.
  useEffect(() => {
    if (!chat) return;
    const offs = [
      chat.on("message:new", ({ message }: { message: Message }) => {
        const isLookingAtIt = message.conversation_id === openRef.current && document.visibilityState === "visible" && document.hasFocus();
        if (message.sender_side === "customer" && !isLookingAtIt) {
          attention();
          notify("New message", message.text ?? "", () => setOpenId(message.conversation_id));
        }
      }),
      chat.on("mention:new", (p: { conversation_id?: string; room_id?: string; by: { name: string }; preview: string }) => {
        attention();
        setError(null);
        // A team room's mention opens the room; a note's, the conversation.
        const openIt = p.room_id ? () => { setTab("rooms"); setOpenRoomId(p.room_id!); } : () => { setTab("inbox"); setOpenId(p.conversation_id ?? null); };
        notify(`${p.by.name} mentioned you`, p.preview, openIt);
        setMention(p);
      }),
      chat.on("presence:update", (p: { user_id: string; availability: string; is_auto_away?: boolean }) => {
        setMembers((list) => list.map((m) => (m.user_id === p.user_id ? { ...m, availability: p.availability, is_auto_away: p.is_auto_away } : m)));
        if (p.user_id === me) {
          setAvailability(p.availability);
          setAutoAway(Boolean(p.is_auto_away));
        }
      }),
    ];
    return () => offs.forEach((off) => off());
  }, [chat, me]);
  useEffect(() => {
    if (!queue.loaded) return;
    const ids = new Set(queue.items.map((c) => c.id));
    if (seenQueue.current && [...ids].some((id) => !seenQueue.current!.has(id))) {
      attention();
      notify("A customer is waiting", queue.items.find((c) => !seenQueue.current!.has(c.id))?.customer.name ?? "");
    }
    seenQueue.current = ids;
  }, [queue.items, queue.loaded]);

  const changeAvailability = async (value: string) => {
    setError(null);
    try {
      const answer = await api.put<{ availability: string; is_auto_away: boolean }>("/me/availability", { availability: value });
      setAvailability(answer.availability);
      setAutoAway(answer.is_auto_away);
    } catch (e) {
      setError(describeError(e));
    }
  };
  const changeRestores = async (value: boolean) => {
    setError(null);
    try {
      const answer = await api.put<{ restores_availability: boolean }>("/me/availability", { restores_availability: value });
      setRestores(answer.restores_availability);
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
    // The lists follow from conversation:updated and queue:updated.
  };

  const act = async (path: string) => {
    if (!openRef.current) return;
    try {
      await api.post(`/conversations/${openRef.current}/${path}`);
    } catch (e) {
      setError(describeError(e));
    }
  };

  const step = (by: number) => {
    const ids = listIds.current;
    if (!ids.length) return;
    const at = openRef.current ? ids.indexOf(openRef.current) : -1;
    setOpenId(ids[Math.max(0, Math.min(ids.length - 1, at + by))]);
  };

  const rememberIds = useCallback((ids: string[]) => {
    listIds.current = ids;
  }, []);
  const visibleViews = VIEWS.filter((v) => !v.leadsOnly || isLead);
  const shortcuts = useMemo(
    () => ({
      "?": () => setHelp((h) => !h),
      "/": () => {
        setTab("inbox");
        window.requestAnimationFrame(() => searchBox.current?.focus());
      },
      j: () => step(1),
      k: () => step(-1),
      c: () => openRef.current && void claim(openRef.current),
      e: () => void act("resolve"),
      r: () => {
        setMode("text");
        composer.current?.focus();
      },
      n: () => {
        setMode("note");
        window.requestAnimationFrame(() => composer.current?.focus());
      },
      Escape: () => (help ? setHelp(false) : undefined),
      ...Object.fromEntries(visibleViews.map((v, i) => [String(i + 1), () => { setTab("inbox"); setView(v.name); }])),
    }),
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [help, isLead],
  );
  useShortcuts(shortcuts);

  const logout = async () => {
    await api.logout();
  };

  const tabs: [Tab, string][] = [["inbox", "Inbox"], ["rooms", "Team rooms"], ["b2b", "Organizations"], ["library", "Responses & labels"], ["community", "Communities"]];
  if (isLead) tabs.splice(1, 0, ["team", "Team"], ["reports", "Reports"]);
  if (isAdmin) tabs.push(["admin", "Admin"]);

  return (
    <div className="app console">
      <a href="#pane" className="skip">
        Skip to conversation
      </a>
      <header className="topbar">
        <span className="brand">{org?.name ?? "…"} console</span>
        <nav className="tabs" aria-label="Console sections">
          {tabs.map(([name, label]) => (
            <button key={name} type="button" className={tab === name ? "tab active" : "tab"} aria-current={tab === name ? "page" : undefined} onClick={() => setTab(name)}>
              {label}
            </button>
          ))}
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
        {autoAway && availability === "away" && (
          <span className="muted small" role="status" title="No console was open for a while, so you were set away">
            away (automatic)
          </span>
        )}
        <label className="small" title="When you were set away because no console was open, come back online by yourself">
          <input type="checkbox" checked={restores} onChange={(e) => changeRestores(e.target.checked)} /> Online again when I return
        </label>
        <span className="who">
          {session.user.display_name} · {session.role}
        </span>
        <button type="button" className="link" onClick={() => setHelp(true)} aria-label="Keyboard shortcuts" title="Keyboard shortcuts (?)">
          ?
        </button>
        <button type="button" className="link" onClick={logout}>
          Log out
        </button>
      </header>
      <ConnectionBanner connected={connected} />
      <ErrorNote error={error} onDismiss={() => setError(null)} />
      {mention && (
        <div className="banner mention" role="status" data-testid="mention">
          {mention.by.name} mentioned you: “{mention.preview}”{" "}
          <button type="button" className="link" onClick={() => { if (mention.room_id) { setTab("rooms"); setOpenRoomId(mention.room_id); } else { setTab("inbox"); setOpenId(mention.conversation_id ?? null); } setMention(null); }}>
            Open
          </button>{" "}
          <button type="button" className="link" aria-label="Dismiss" onClick={() => setMention(null)}>
            ×
          </button>
        </div>
      )}
      {help && <ShortcutHelp onClose={() => setHelp(false)} />}
      {tab === "admin" && org ? (
        <AdminPanel
          api={api}
          org={org}
          groups={groups}
          members={members}
          onChanged={loadTeam}
          myRole={session.role ?? ""}
          onOpenConversation={(id) => {
            setTab("inbox");
            setOpenId(id);
          }}
        />
      ) : tab === "team" ? (
        <div className="page">
          <TeamPanel api={api} chat={chat} groups={groups} />
        </div>
      ) : tab === "reports" ? (
        <div className="page">
          <Reports api={api} groups={groups} />
        </div>
      ) : tab === "rooms" ? (
        <TeamRoomsPanel api={api} transport={transport} me={me} myName={session.user.display_name} isLead={isLead} teammates={members} openRoomId={openRoomId} onOpen={setOpenRoomId} />
      ) : tab === "b2b" ? (
        <B2BPanel api={api} chat={chat} me={me} openId={openB2BId} onOpen={setOpenB2BId} />
      ) : tab === "community" ? (
        <CommunityPanel api={api} transport={transport} me={me} isModerator isLead={isLead} />
      ) : tab === "library" ? (
        <div className="page">
          <LibraryPanel api={api} isLead={isLead} isAdmin={isAdmin} labels={labels} canned={canned} onChanged={loadLibrary} />
        </div>
      ) : (
        <div className={`split three ${openId ? "show-pane" : "show-list"}`}>
          <InboxSidebar
            api={api}
            chat={chat}
            me={me}
            isLead={isLead}
            groups={groups}
            members={members}
            labels={labels}
            view={view}
            onView={setView}
            openId={openId}
            onOpen={setOpenId}
            onOpenB2B={(id) => {
              setOpenB2BId(id);
              setTab("b2b");
            }}
            onClaim={(id) => void claim(id)}
            searchBox={searchBox}
            onItems={rememberIds}
          />
          <main className="pane" id="pane" tabIndex={-1}>
            {openId ? (
              <AgentConversation
                key={openId}
                api={api}
                session={chat}
                conversationId={openId}
                me={me}
                members={members}
                groups={groups}
                onClaim={() => claim(openId)}
                onOpen={setOpenId}
                onBack={() => setOpenId(null)}
                labels={labels}
                canned={canned}
                orgName={org?.name ?? ""}
                myName={session.user.display_name}
                composerRef={composer}
                mode={mode}
                onMode={setMode}
              />
            ) : (
              <div className="placeholder">
                <p>Pick a conversation from a view on the left.</p>
                <p className="muted small">
                  Press <kbd>?</kbd> for keyboard shortcuts.
                </p>
                <OutreachForm api={api} onStarted={(id) => { setView("mine"); setOpenId(id); }} />
              </div>
            )}
          </main>
        </div>
      )}
    </div>
  );
}

