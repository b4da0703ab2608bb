// Community channels (docs/protocol.md, "Community channels"): an individual's joined
// communities (read, write, join by invitation code) and the console's moderation view
// (create, approve, mute, remove members and messages, archive). Small on purpose.
import { useCallback, useEffect, useRef, useState } from "react";
import type { Api } from "../lib/api";
import type { Transport } from "../core/transport";
import { ErrorNote } from "../components/common";

interface Receipts {
  tracked: boolean;
  max_members: number;
  delivered_position: number | null;
  read_position: number | null;
}
interface Channel {
  id: string;
  name: string;
  description: string;
  join_mode: string;
  status: string;
  member_count: number;
  last_position: number;
  receipts: Receipts;
  invite_code?: string;
  organization?: { name: string };
  membership?: { status: string; is_muted: boolean; unread: number };
}
interface Message {
  id: string;
  position: number;
  sender_id: string;
  sender_name: string;
  sender_side: string;
  kind: string;
  text: string;
  is_removed: boolean;
  removed_position?: number | null;
}
interface Member {
  user_id: string;
  display_name: string;
  status: string;
  is_muted: boolean;
}

let counter = 0;
const clientId = () => `cm-${Date.now().toString(36)}-${(counter++).toString(36)}`;

export function CommunityPanel({ api, transport, me, isModerator, isLead }: { api: Api; transport: Transport | null; me: string; isModerator: boolean; isLead?: boolean }) {
  const [channels, setChannels] = useState<Channel[]>([]);
  const [openId, setOpenId] = useState<string | null>(null);
  const [error, setErrorText] = useState<string | null>(null);
  const setError = useCallback((e: unknown) => setErrorText(e == null ? null : e instanceof Error ? e.message : typeof e === "object" && e && "message" in e ? String((e as { message: unknown }).message) : String(e)), []);
  const [code, setCode] = useState("");
  const [name, setName] = useState("");
  const [joinMode, setJoinMode] = useState("open");

  const reload = useCallback(async () => {
    try {
      setChannels(await api.get<Channel[]>("/community"));
    } catch (e) {
      setError(e);
    }
  }, [api]);
  useEffect(() => {
    void reload();
    if (!transport) return;
    const offs = ["community:membership", "community:updated", "community:member"].map((e) => transport.on(e, () => void reload()));
    return () => offs.forEach((off) => off());
  }, [reload, transport]);

  const join = async () => {
    try {
      const joined = await api.post<Channel>("/community/join", { code: code.trim() });
      setCode("");
      await reload();
      setOpenId(joined.id);
    } catch (e) {
      setError(e);
    }
  };
  const create = async () => {
    try {
      const made = await api.post<Channel>("/community", { name, join_mode: joinMode });
      setName("");
      await reload();
      setOpenId(made.id);
    } catch (e) {
      setError(e);
    }
  };
  const open = channels.find((c) => c.id === openId) ?? null;
  return (
    <div className="split">
      <aside className="sidebar" aria-label="Communities">
        <h2 className="section-title">Communities</h2>
        <ErrorNote error={error} onDismiss={() => setError(null)} />
        <ul className="conversation-list" aria-label="Communities">
          {channels.length === 0 && <li className="empty">{isModerator ? "No communities yet." : "You are in no community yet."}</li>}
          {channels.map((c) => (
            <li key={c.id}>
              <button type="button" className={`conversation-item ${c.id === openId ? "active" : ""}`} onClick={() => setOpenId(c.id)} data-community-id={c.id}>
                <span className="row">
                  <strong className="title">{c.name}</strong>
                  {c.membership && c.membership.unread > 0 && <span className="badge">{c.membership.unread}</span>}
                </span>
                <span className="row muted small">
                  {c.organization?.name ?? c.join_mode} · {c.member_count} members{c.status === "archived" ? " · archived" : ""}
                  {c.membership?.status === "pending" ? " · waiting for approval" : ""}
                </span>
              </button>
            </li>
          ))}
        </ul>
        {!isModerator && (
          <form onSubmit={(e) => { e.preventDefault(); void join(); }}>
            <label>
              Invitation code <input value={code} onChange={(e) => setCode(e.target.value)} />
            </label>
            <button type="submit" disabled={code.trim().length < 16}>Join</button>
          </form>
        )}
        {isModerator && isLead && (
          <form onSubmit={(e) => { e.preventDefault(); void create(); }}>
            <label>
              New community <input value={name} onChange={(e) => setName(e.target.value)} maxLength={80} />
            </label>
            <select value={joinMode} onChange={(e) => setJoinMode(e.target.value)} aria-label="Who may join">
              <option value="open">Anyone may join</option>
              <option value="approval">Join by approval</option>
              <option value="invite">By invitation link only</option>
            </select>
            <button type="submit" disabled={!name.trim()}>Create</button>
          </form>
        )}
      </aside>
      <main className="pane" id="pane">
        {open && open.membership?.status !== "pending" ? (
          <ChannelView key={open.id} api={api} transport={transport} channel={open} me={me} isModerator={isModerator} isLead={Boolean(isLead)} onError={setError} onChanged={reload} />
        ) : (
          <div className="placeholder">{open ? "A moderator will approve your request." : "Pick a community."}</div>
        )}
      </main>
    </div>
  );
}

function ChannelView({ api, transport, channel, me, isModerator, isLead, onError, onChanged }: { api: Api; transport: Transport | null; channel: Channel; me: string; isModerator: boolean; isLead: boolean; onError: (e: unknown) => void; onChanged: () => void }) {
  const [messages, setMessages] = useState<Message[]>([]);
  const [receipts, setReceipts] = useState<Receipts>(channel.receipts);
  const [text, setText] = useState("");
  const [members, setMembers] = useState<Member[]>([]);
  const [pending, setPending] = useState<Member[]>([]);
  const last = useRef(0);

  const add = useCallback((found: Message[]) => {
    setMessages((old) => {
      const byPosition = new Map(old.map((m) => [m.position, m]));
      for (const m of found) byPosition.set(m.position, m);
      for (const m of found) if (m.removed_position) { const hit = byPosition.get(m.removed_position); if (hit) byPosition.set(hit.position, { ...hit, text: "", is_removed: true }); }
      const all = [...byPosition.values()].sort((a, b) => a.position - b.position);
      last.current = all.length ? all[all.length - 1].position : 0;
      return all;
    });
  }, []);
  const sync = useCallback(async () => {
    if (!transport) return;
    try {
      for (let page = 0; page < 20; page++) {
        const ack = await transport.request<{ channels: { messages: Message[]; has_more: boolean; receipts: Receipts; error?: unknown }[] }>("community:sync", { channels: [{ channel_id: channel.id, after_position: last.current }] });
        const [state] = ack.channels;
        if (state.error) throw state.error;
        add(state.messages);
        setReceipts(state.receipts);
        if (state.messages.length) last.current = state.messages[state.messages.length - 1].position;
        if (!state.has_more) break;
      }
      if (!isModerator && last.current > 0) await transport.request("community:read", { channel_id: channel.id, up_to_position: last.current });
    } catch (e) {
      onError(e);
    }
  }, [transport, channel.id, add, isModerator, onError]);
  const loadMembers = useCallback(async () => {
    if (!isModerator) return;
    setMembers(await api.get<Member[]>(`/community/${channel.id}/members`));
    setPending(await api.get<Member[]>(`/community/${channel.id}/members?status=pending`));
  }, [api, channel.id, isModerator]);

  useEffect(() => {
    void sync();
    void loadMembers();
    if (!transport) return;
    const offs = [
      transport.on("community:message", (p: { channel_id: string; message: Message }) => {
        if (p.channel_id !== channel.id) return;
        add([p.message]);
        if (!isModerator) void transport.request("community:read", { channel_id: channel.id, up_to_position: p.message.position }).catch(() => undefined);
      }),
      transport.on("community:receipt", (p: Receipts & { channel_id: string }) => p.channel_id === channel.id && setReceipts(p)),
      transport.on("community:member", (p: { channel_id: string }) => p.channel_id === channel.id && void loadMembers()),
      transport.on("status", (s: { connected: boolean }) => s.connected && void sync()),
    ];
    return () => offs.forEach((off) => off());
  }, [transport, channel.id, sync, add, loadMembers, isModerator]);

  const send = async () => {
    if (!transport || !text.trim()) return;
    try {
      const ack = await transport.request<{ message: Message }>("community:send", { channel_id: channel.id, client_id: clientId(), text });
      setText("");
      add([ack.message]);
    } catch (e) {
      onError(e);
    }
  };
  const act = async (run: () => Promise<unknown>) => {
    try {
      await run();
      await loadMembers();
      onChanged();
    } catch (e) {
      onError(e);
    }
  };
  const tick = (m: Message) => {
    if (m.sender_id !== me || m.kind !== "text") return null;
    if (!receipts.tracked) return <span className="tick" title={`Receipts are not tracked in communities over ${receipts.max_members} members`}>✓</span>;
    if ((receipts.read_position ?? 0) >= m.position) return <span className="tick read" title="Read by every member">✓✓</span>;
    if ((receipts.delivered_position ?? 0) >= m.position) return <span className="tick" title="Delivered to every member">✓✓</span>;
    return <span className="tick" title="Sent">✓</span>;
  };
  const archived = channel.status === "archived";
  const muted = Boolean(channel.membership?.is_muted);
  return (
    <section className="conversation" aria-label={channel.name}>
      <header className="conversation-header">
        <h2>{channel.name}</h2>
        <p className="muted small">
          {channel.member_count} members · {channel.join_mode}
          {!receipts.tracked && ` · read receipts are not tracked above ${receipts.max_members} members`}
          {archived && " · archived: read-only"}
        </p>
        {isModerator && channel.invite_code && <p className="small">Invitation code: <code>{channel.invite_code}</code></p>}
        {isLead && !archived && <button type="button" className="secondary small-button" onClick={() => void act(() => api.post(`/community/${channel.id}/archive`))}>Archive</button>}
      </header>
      <ol className="messages" aria-label="Messages">
        {messages.map((m) => (
          <li key={m.position} className={`message ${m.sender_id === me ? "mine" : ""}`} data-position={m.position}>
            {m.kind === "system" ? (
              <em className="muted small">A moderator removed a message.</em>
            ) : (
              <>
                <strong className="small">{m.sender_name}{m.sender_side === "org" ? " (moderator)" : ""}</strong>{" "}
                {m.is_removed ? <em className="muted">Removed by a moderator</em> : <span>{m.text}</span>} {tick(m)}
                {isModerator && !m.is_removed && (
                  <button type="button" className="link small" onClick={() => void act(() => api.post(`/community/${channel.id}/messages/${m.position}/remove`))}>Remove</button>
                )}
              </>
            )}
          </li>
        ))}
      </ol>
      {archived || muted ? (
        <p className="muted">{archived ? "This community is archived." : "A moderator muted you here."}</p>
      ) : (
        <form className="composer" onSubmit={(e) => { e.preventDefault(); void send(); }}>
          <textarea value={text} onChange={(e) => setText(e.target.value)} maxLength={4000} aria-label="Message" />
          <button type="submit" disabled={!text.trim()}>Send</button>
        </form>
      )}
      {isModerator && (
        <div className="members" aria-label="Members">
          {pending.length > 0 && <h3>Waiting for approval</h3>}
          <ul>
            {pending.map((m) => (
              <li key={m.user_id}>
                {m.display_name} <button type="button" className="link" onClick={() => void act(() => api.post(`/community/${channel.id}/members/${m.user_id}/approve`))}>Approve</button>
              </li>
            ))}
          </ul>
          <h3>Members</h3>
          <ul>
            {members.map((m) => (
              <li key={m.user_id} data-member-id={m.user_id}>
                {m.display_name}
                {m.is_muted && " (muted)"}{" "}
                <button type="button" className="link" onClick={() => void act(() => api.put(`/community/${channel.id}/members/${m.user_id}/mute`, { is_muted: !m.is_muted }))}>{m.is_muted ? "Unmute" : "Mute"}</button>{" "}
                <button type="button" className="link" onClick={() => void act(() => api.post(`/community/${channel.id}/members/${m.user_id}/remove`))}>Remove</button>
              </li>
            ))}
          </ul>
        </div>
      )}
    </section>
  );
}
