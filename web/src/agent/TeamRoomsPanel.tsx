// Team rooms (docs/protocol.md, "Team rooms"): the console's internal group chat of the
// organization's members. List, create, open, write; typing, @mentions and the group's
// ticks (two ticks once every member's console has it, blue once every member read it).
import { useCallback, useEffect, useRef, useState } from "react";
import { Attachment } from "../components/MessageList";
import type { Api } from "../lib/api";
import type { Member as OrgMember } from "../lib/types";
import type { Transport } from "../core/transport";
import { AttachButton, ErrorNote } from "../components/common";

interface Receipts {
  tracked: boolean;
  max_members: number;
  delivered_position: number | null;
  read_position: number | null;
}
export interface Room {
  id: string;
  name: string;
  status: string;
  created_by: string;
  member_count: number;
  last_position: number;
  receipts: Receipts;
  membership?: { status: string; unread: number };
}
interface RoomMessage {
  id: string;
  position: number;
  sender_id: string;
  sender_name: string;
  text: string;
  attachment_id?: string | null;
}
interface RoomMember {
  user_id: string;
  display_name: string;
}

let counter = 0;
const clientId = () => `tr-${Date.now().toString(36)}-${(counter++).toString(36)}`;
const TYPING_REFRESH_MS = 3000;

export function mentionsMe(text: string, myName: string): boolean {
  if (!myName) return false;
  const folded = text.toLocaleLowerCase();
  const needle = `@${myName}`.toLocaleLowerCase();
  for (let at = folded.indexOf(needle); at >= 0; at = folded.indexOf(needle, at + 1)) {
    const next = folded.charAt(at + needle.length);
    if (!next || !/[\p{L}\p{N}]/u.test(next)) return true;
  }
  return false;
}

export function TeamRoomsPanel({ api, transport, me, myName, isLead, teammates, openRoomId, onOpen }: { api: Api; transport: Transport | null; me: string; myName: string; isLead: boolean; teammates: OrgMember[]; openRoomId: string | null; onOpen: (id: string | null) => void }) {
  const [rooms, setRooms] = useState<Room[]>([]);
  const [error, setErrorText] = useState<string | null>(null);
  const setError = useCallback((e: unknown) => setErrorText(e == null ? null : e instanceof Error ? e.message : typeof e === "object" && e && "message" in e ? String((e as { message: unknown }).message) : String(e)), []);
  const [name, setName] = useState("");
  const [picked, setPicked] = useState<string[]>([]);

  // A lead's overview: the organization's rooms they are not in (to join or manage).
  const [elsewhere, setElsewhere] = useState<Room[]>([]);
  const reload = useCallback(async () => {
    try {
      setRooms(await api.get<Room[]>("/rooms"));
      if (isLead) setElsewhere((await api.get<Room[]>("/rooms?scope=organization")).filter((r) => !r.membership));
    } catch (e) {
      setError(e);
    }
  }, [api, setError, isLead]);
  useEffect(() => {
    void reload();
    if (!transport) return;
    const offs = ["room:membership", "room:updated", "room:member"].map((e) => transport.on(e, () => void reload()));
    offs.push(transport.on("room:message", (p: { room_id: string }) => p.room_id !== openRoomId && void reload()));
    return () => offs.forEach((off) => off());
  }, [reload, transport, openRoomId]);

  const create = async () => {
    try {
      const made = await api.post<Room>("/rooms", { name, member_ids: picked });
      setName("");
      setPicked([]);
      await reload();
      onOpen(made.id);
    } catch (e) {
      setError(e);
    }
  };
  const others = teammates.filter((m) => m.user_id !== me && m.is_active);
  const open = rooms.find((r) => r.id === openRoomId) ?? null;
  return (
    <div className="split">
      <aside className="sidebar" aria-label="Team rooms">
        <h2 className="section-title">Team rooms</h2>
        <ErrorNote error={error} onDismiss={() => setError(null)} />
        <ul className="conversation-list" aria-label="Rooms">
          {rooms.length === 0 && <li className="empty">You are in no team room yet.</li>}
          {rooms.map((r) => (
            <li key={r.id}>
              <button type="button" className={`conversation-item ${r.id === openRoomId ? "active" : ""}`} onClick={() => onOpen(r.id)} data-room-id={r.id}>
                <span className="row">
                  <strong className="title">{r.name}</strong>
                  {r.id !== openRoomId && r.membership && r.membership.unread > 0 && <span className="badge">{r.membership.unread}</span>}
                </span>
                <span className="row muted small">
                  {r.member_count} members{r.status === "archived" ? " · archived" : ""}
                </span>
              </button>
            </li>
          ))}
        </ul>
        {isLead && <OtherRooms api={api} me={me} rooms={elsewhere} onError={setError} onChanged={reload} onJoined={(id) => { void reload().then(() => onOpen(id)); }} />}
        <form onSubmit={(e) => { e.preventDefault(); void create(); }} aria-label="New team room">
          <label>
            New room <input value={name} onChange={(e) => setName(e.target.value)} maxLength={80} placeholder="Billing team" />
          </label>
          <fieldset>
            <legend className="small">With</legend>
            {others.map((m) => (
              <label key={m.user_id} className="small">
                <input type="checkbox" checked={picked.includes(m.user_id)} onChange={(e) => setPicked((old) => (e.target.checked ? [...old, m.user_id] : old.filter((x) => x !== m.user_id)))} /> {m.display_name}
              </label>
            ))}
          </fieldset>
          <button type="submit" disabled={!name.trim()}>Create room</button>
        </form>
      </aside>
      <main className="pane" id="pane">
        {open ? (
          <RoomView key={open.id} api={api} transport={transport} room={open} me={me} myName={myName} isLead={isLead} teammates={others} onError={setError} onChanged={reload} onLeft={() => { onOpen(null); void reload(); }} />
        ) : (
          <div className="placeholder">Pick a team room.</div>
        )}
      </main>
    </div>
  );
}

/** The organization's rooms a lead is not in: names and counts, never their messages;
 * the lead may join one (adding themselves: its members see it), archive one, or look
 * at and remove its members (docs/protocol.md, "Team rooms"). */
function OtherRooms({ api, me, rooms, onError, onChanged, onJoined }: { api: Api; me: string; rooms: Room[]; onError: (e: unknown) => void; onChanged: () => Promise<void>; onJoined: (id: string) => void }) {
  const [shown, setShown] = useState<string | null>(null);
  const [members, setMembers] = useState<RoomMember[]>([]);
  const act = async (work: () => Promise<unknown>) => {
    try {
      await work();
      await onChanged();
    } catch (e) {
      onError(e);
    }
  };
  const loadMembers = async (id: string) => {
    try {
      setMembers(await api.get<RoomMember[]>(`/rooms/${id}/members`));
      setShown(id);
    } catch (e) {
      onError(e);
    }
  };
  return (
    <section aria-label="Other rooms of the organization" data-testid="other-rooms">
      <h3 className="small">
        Other rooms of the organization{" "}
        <button type="button" className="link small" onClick={() => void onChanged()}>
          Refresh
        </button>
      </h3>
      <ul className="conversation-list">
        {rooms.length === 0 && <li className="empty small">None: you are in every room.</li>}
        {rooms.map((r) => (
          <li key={r.id} className="other-room" data-room-id={r.id}>
            <span className="row">
              <strong className="title">{r.name}</strong>
              <span className="muted small">
                {r.member_count} members{r.status === "archived" ? " · archived" : ""}
              </span>
            </span>
            <span className="row">
              {r.status !== "archived" && (
                <button type="button" className="secondary small-button" onClick={() => void act(() => api.post(`/rooms/${r.id}/members`, { user_id: me })).then(() => onJoined(r.id))}>
                  Join
                </button>
              )}{" "}
              <button type="button" className="secondary small-button" aria-expanded={shown === r.id} onClick={() => (shown === r.id ? setShown(null) : void loadMembers(r.id))}>
                Members
              </button>{" "}
              {r.status !== "archived" && (
                <button type="button" className="secondary small-button" onClick={() => void act(() => api.post(`/rooms/${r.id}/archive`))}>
                  Archive
                </button>
              )}
            </span>
            {shown === r.id && (
              <ul className="small" aria-label={`Members of ${r.name}`}>
                {members.map((m) => (
                  <li key={m.user_id}>
                    {m.display_name}{" "}
                    <button type="button" className="link small" onClick={() => void act(() => api.request("DELETE", `/rooms/${r.id}/members/${m.user_id}`)).then(() => loadMembers(r.id))}>
                      Remove
                    </button>
                  </li>
                ))}
              </ul>
            )}
          </li>
        ))}
      </ul>
    </section>
  );
}

function RoomView({ api, transport, room, me, myName, isLead, teammates, onError, onChanged, onLeft }: { api: Api; transport: Transport | null; room: Room; me: string; myName: string; isLead: boolean; teammates: OrgMember[]; onError: (e: unknown) => void; onChanged: () => void; onLeft: () => void }) {
  const [messages, setMessages] = useState<RoomMessage[]>([]);
  const [receipts, setReceipts] = useState<Receipts>(room.receipts);
  const [text, setText] = useState("");
  const [members, setMembers] = useState<RoomMember[]>([]);
  const [typists, setTypists] = useState<Record<string, string>>({});
  const [adding, setAdding] = useState("");
  const last = useRef(0);
  const typingSent = useRef(0);

  const add = useCallback((found: RoomMessage[]) => {
    setMessages((old) => {
      const byPosition = new Map(old.map((m) => [m.position, m]));
      for (const m of found) byPosition.set(m.position, m);
      const all = [...byPosition.values()].sort((a, b) => a.position - b.position);
      last.current = all.length ? all[all.length - 1].position : 0;
      return all;
    });
  }, []);
  const markRead = useCallback((position: number) => {
    if (transport && position > 0) void transport.request("room:read", { room_id: room.id, up_to_position: position }).catch(() => undefined);
  }, [transport, room.id]);
  const sync = useCallback(async () => {
    if (!transport) return;
    try {
      for (let page = 0; page < 20; page++) {
        const ack = await transport.request<{ rooms: { messages: RoomMessage[]; has_more: boolean; receipts: Receipts; error?: unknown }[] }>("room:sync", { rooms: [{ room_id: room.id, after_position: last.current }] });
        const [state] = ack.rooms;
        if (state.error) throw state.error;
        add(state.messages);
        setReceipts(state.receipts);
        if (state.messages.length) last.current = state.messages[state.messages.length - 1].position;
        if (!state.has_more) break;
      }
      markRead(last.current);
    } catch (e) {
      onError(e);
    }
  }, [transport, room.id, add, markRead, onError]);
  const loadMembers = useCallback(async () => {
    try {
      setMembers(await api.get<RoomMember[]>(`/rooms/${room.id}/members`));
    } catch (e) {
      onError(e);
    }
  }, [api, room.id, onError]);

  useEffect(() => {
    void sync();
    void loadMembers();
    if (!transport) return;
    const offs = [
      transport.on("room:message", (p: { room_id: string; message: RoomMessage }) => {
        if (p.room_id !== room.id) return;
        add([p.message]);
        setTypists((old) => { const next = { ...old }; delete next[p.message.sender_id]; return next; });
        markRead(p.message.position);
      }),
      transport.on("room:receipt", (p: Receipts & { room_id: string }) => p.room_id === room.id && setReceipts(p)),
      transport.on("room:member", (p: { room_id: string }) => p.room_id === room.id && void loadMembers()),
      transport.on("room:typing", (p: { room_id: string; user_id: string; name: string; is_typing: boolean }) => {
        if (p.room_id !== room.id || p.user_id === me) return;
        setTypists((old) => { const next = { ...old }; if (p.is_typing) next[p.user_id] = p.name; else delete next[p.user_id]; return next; });
      }),
      transport.on("status", (s: { connected: boolean }) => s.connected && void sync()),
    ];
    return () => offs.forEach((off) => off());
  }, [transport, room.id, me, sync, add, loadMembers, markRead]);

  const typing = (value: string) => {
    setText(value);
    if (!transport || room.status !== "active") return;
    const now = Date.now();
    if (value && now - typingSent.current > TYPING_REFRESH_MS) {
      typingSent.current = now;
      void transport.request("room:typing", { room_id: room.id, is_typing: true }).catch(() => undefined);
    } else if (!value && typingSent.current) {
      typingSent.current = 0;
      void transport.request("room:typing", { room_id: room.id, is_typing: false }).catch(() => undefined);
    }
  };
  const send = async () => {
    if (!transport || !text.trim()) return;
    try {
      const ack = await transport.request<{ message: RoomMessage }>("room:send", { room_id: room.id, client_id: clientId(), text });
      setText("");
      typingSent.current = 0;
      add([ack.message]);
    } catch (e) {
      onError(e);
    }
  };
  // A file: uploaded into the room, then sent with its name as the text (as in support);
  // only the room's members may fetch it (docs/protocol.md, "Team rooms").
  const sendFile = async (file: File) => {
    if (!transport) return;
    try {
      const uploaded = await api.upload<{ id: string }>(`/rooms/${room.id}/attachments`, file);
      const ack = await transport.request<{ message: RoomMessage }>("room:send", { room_id: room.id, client_id: clientId(), text: file.name, attachment_id: uploaded.id });
      add([ack.message]);
    } catch (e) {
      onError(e);
    }
  };
  const loadFile = useCallback((id: string) => api.blob(`/rooms/${room.id}/attachments/${id}`), [api, room.id]);
  const act = async (run: () => Promise<unknown>, after: () => void = onChanged) => {
    try {
      await run();
      await loadMembers();
      after();
    } catch (e) {
      onError(e);
    }
  };
  const tick = (m: RoomMessage) => {
    if (m.sender_id !== me) return null;
    if (!receipts.tracked) return <span className="tick" title={`Receipts are not tracked in rooms over ${receipts.max_members} members`}>✓</span>;
    if ((receipts.read_position ?? 0) >= m.position) return <span className="tick read" data-tick="read" title="Read by every member">✓✓</span>;
    if ((receipts.delivered_position ?? 0) >= m.position) return <span className="tick" data-tick="delivered" title="Delivered to every member">✓✓</span>;
    return <span className="tick" data-tick="sent" title="Sent">✓</span>;
  };
  const archived = room.status === "archived";
  const mayManage = isLead || room.created_by === me;
  const inRoom = new Set(members.map((m) => m.user_id));
  const addable = teammates.filter((m) => !inRoom.has(m.user_id));
  const typingNames = Object.values(typists);
  return (
    <section className="conversation team-room" aria-label={room.name}>
      <header className="conversation-header">
        <h2>{room.name}</h2>
        <p className="muted small">
          Team room · {room.member_count} members · only its members see it
          {!receipts.tracked && ` · read receipts are not tracked above ${receipts.max_members} members`}
          {archived && " · archived: read-only"}
        </p>
        <button type="button" className="secondary small-button" onClick={() => void act(() => api.post(`/rooms/${room.id}/leave`), onLeft)}>Leave</button>{" "}
        {mayManage && !archived && <button type="button" className="secondary small-button" onClick={() => void act(() => api.post(`/rooms/${room.id}/archive`))}>Archive</button>}
      </header>
      <ol className="messages" aria-label="Messages">
        {messages.map((m) => (
          <li key={m.position} className={`message ${m.sender_id === me ? "mine" : ""} ${m.sender_id !== me && mentionsMe(m.text, myName) ? "mentioned" : ""}`} data-position={m.position}>
            <strong className="small">{m.sender_name}</strong> <span>{m.text}</span> {tick(m)}
            {m.attachment_id && <Attachment id={m.attachment_id} name={m.text} load={loadFile} onSized={() => undefined} />}
          </li>
        ))}
      </ol>
      <p className="muted small typing" aria-live="polite" data-testid="room-typing">
        {typingNames.length > 0 ? `${typingNames.join(", ")} ${typingNames.length > 1 ? "are" : "is"} typing…` : " "}
      </p>
      {archived ? (
        <p className="muted">This room is archived.</p>
      ) : (
        <form className="composer" onSubmit={(e) => { e.preventDefault(); void send(); }}>
          <textarea value={text} onChange={(e) => typing(e.target.value)} maxLength={4000} aria-label="Message" placeholder="Write to the room; @Name mentions a member" onKeyDown={(e) => { if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); void send(); } }} />
          <AttachButton onFile={(file) => void sendFile(file)} />
          <button type="submit" disabled={!text.trim()}>Send</button>
        </form>
      )}
      <div className="members" aria-label="Members">
        <h3>Members</h3>
        <ul>
          {members.map((m) => (
            <li key={m.user_id} data-member-id={m.user_id}>
              {m.display_name}
              {mayManage && m.user_id !== me && !archived && (
                <>{" "}<button type="button" className="link" onClick={() => void act(() => api.request("DELETE", `/rooms/${room.id}/members/${m.user_id}`))}>Remove</button></>
              )}
            </li>
          ))}
        </ul>
        {!archived && addable.length > 0 && (
          <form onSubmit={(e) => { e.preventDefault(); if (adding) void act(() => api.post(`/rooms/${room.id}/members`, { user_id: adding })).then(() => setAdding("")); }}>
            <select value={adding} onChange={(e) => setAdding(e.target.value)} aria-label="Add a teammate">
              <option value="">Add a teammate…</option>
              {addable.map((m) => <option key={m.user_id} value={m.user_id}>{m.display_name}</option>)}
            </select>
            <button type="submit" disabled={!adding}>Add</button>
          </form>
        )}
      </div>
    </section>
  );
}
