// Direct chats between individuals, end-to-end encrypted (docs/e2e.md). Loaded on demand
// by the individual's app (React.lazy): the Signal library behind web/src/e2e comes with
// this chunk only, never with the widget or the other screens.
import { useCallback, useEffect, useMemo, useState, type FormEvent } from "react";
import type { SocketTransport } from "../core/connection";
import type { ChatSession } from "../core/session";
import { useConversation } from "../hooks/useConversation";
import { ApiError, describeError, type Api } from "../lib/api";
import { shortWhen } from "../lib/format";
import { Badge, ErrorNote, Field, TypingLine } from "../components/common";
import { Composer } from "../components/Composer";
import { MessageList } from "../components/MessageList";
import type { DirectChannel, DirectCoreMessage } from "../e2e/channel";
import type { E2eDevice } from "../e2e/device";
import { MIN_PASSPHRASE, WrongPassphrase } from "../e2e/keystore";
import type { DirectConversation, DirectMember, OwnDevice } from "../e2e/wire";
import { useDirect } from "./useDirect";
import { SafetyNumbers } from "./SafetyNumber";
import "./direct.css";

interface Props {
  api: Api;
  transport: SocketTransport | null;
  userId: string;
}

export default function DirectApp({ api, transport, userId }: Props) {
  const direct = useDirect(api, transport, userId);
  if (direct.phase === "checking") return <div className="placeholder">Opening your encrypted chats…</div>;
  if (direct.phase === "setup") return <KeySetup api={api} disabled={!transport} onSetUp={direct.setUp} />;
  if (direct.phase === "locked") return <Unlock onUnlock={direct.unlock} onReset={direct.reset} />;
  if (!direct.channel || !direct.chat || !direct.device) return <div className="placeholder">Connecting…</div>;
  return <DirectHome api={api} channel={direct.channel} chat={direct.chat} device={direct.device} />;
}

// ---- keys on this device ----

function KeySetup({ api, disabled, onSetUp }: { api: Api; disabled: boolean; onSetUp: (passphrase: string) => Promise<void> }) {
  const [passphrase, setPassphrase] = useState("");
  const [again, setAgain] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [others, setOthers] = useState<OwnDevice[]>([]);

  useEffect(() => {
    api.get<{ devices: OwnDevice[] }>("/direct/devices").then((d) => setOthers(d.devices), () => setOthers([]));
  }, [api]);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    if (passphrase.length < MIN_PASSPHRASE) return setError(`Use at least ${MIN_PASSPHRASE} characters.`);
    if (passphrase !== again) return setError("The two passphrases differ.");
    setBusy(true);
    try {
      await onSetUp(passphrase);
    } catch (err) {
      setError(describeError(err));
      setBusy(false);
    }
  };

  return (
    <form className="direct-setup card stack" onSubmit={submit} aria-labelledby="setup-title">
      <h2 id="setup-title">Encrypted chats on this device</h2>
      <p>
        Chats with other people are end-to-end encrypted: only the two of you can read them, not Raasel. This browser makes its
        own keys now; they stay on this device, locked with a passphrase you choose. Raasel never receives the passphrase or the
        keys, so it cannot recover them: if you forget it, you set up again and cannot read earlier messages here.
      </p>
      {others.length > 0 && (
        <p className="notice" data-testid="link-notice">
          Your account already has {others.length === 1 ? "a device" : `${others.length} devices`} with encrypted chats. This browser will be
          linked as a new device: messages sent before now were encrypted for the other devices' keys and cannot be read here.
        </p>
      )}
      <Field label="Passphrase">
        <input type="password" autoComplete="new-password" value={passphrase} onChange={(e) => setPassphrase(e.target.value)} />
      </Field>
      <Field label="Passphrase again">
        <input type="password" autoComplete="new-password" value={again} onChange={(e) => setAgain(e.target.value)} />
      </Field>
      <ErrorNote error={error} />
      <button type="submit" disabled={busy || disabled}>
        {busy ? "Making keys…" : "Set up encrypted chats"}
      </button>
    </form>
  );
}

function Unlock({ onUnlock, onReset }: { onUnlock: (passphrase: string) => Promise<void>; onReset: () => Promise<void> }) {
  const [passphrase, setPassphrase] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [confirmReset, setConfirmReset] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await onUnlock(passphrase);
    } catch (err) {
      setError(err instanceof WrongPassphrase ? err.message : describeError(err));
      setBusy(false);
    }
  };

  return (
    <form className="direct-setup card stack" onSubmit={submit} aria-labelledby="unlock-title">
      <h2 id="unlock-title">Unlock your encrypted chats</h2>
      <p className="muted">Your keys on this device are locked with your passphrase.</p>
      <Field label="Passphrase">
        <input type="password" autoComplete="current-password" value={passphrase} onChange={(e) => setPassphrase(e.target.value)} autoFocus />
      </Field>
      <ErrorNote error={error} />
      <button type="submit" disabled={busy || !passphrase}>
        {busy ? "Unlocking…" : "Unlock"}
      </button>
      {confirmReset ? (
        <p className="notice">
          Resetting deletes this device's keys for good: the messages it holds become unreadable and your contacts see that your
          safety number changed.{" "}
          <button type="button" className="danger small-button" onClick={() => void onReset()}>
            Reset this device's keys
          </button>
        </p>
      ) : (
        <button type="button" className="link-button" onClick={() => setConfirmReset(true)}>
          Forgot the passphrase?
        </button>
      )}
    </form>
  );
}

// ---- the list and the pane ----

interface ListItem {
  view: DirectConversation;
  preview: string | null;
}

function useDirectList(api: Api, channel: DirectChannel, openId: string | null) {
  const [items, setItems] = useState<Map<string, ListItem>>(new Map());
  const [error, setError] = useState<string | null>(null);

  const load = useCallback(async () => {
    try {
      const { conversations } = await api.get<{ conversations: DirectConversation[] }>("/direct/conversations?limit=100");
      conversations.forEach((v) => channel.learn(v));
      setItems((prev) => new Map<string, ListItem>(conversations.map((v): [string, ListItem] => [v.id, { view: v, preview: prev.get(v.id)?.preview ?? null }])));
      setError(null);
    } catch (e) {
      setError(describeError(e));
    }
  }, [api, channel]);

  useEffect(() => {
    void load();
    const offs = [
      channel.on("status", (s: { connected: boolean }) => s.connected && void load()),
      channel.on("direct:conversation", (v: DirectConversation) => setItems((prev) => new Map(prev).set(v.id, { view: v, preview: prev.get(v.id)?.preview ?? null }))),
      channel.on("direct:activity", ({ conversation_id, message }: { conversation_id: string; message: DirectCoreMessage }) =>
        setItems((prev) => {
          const item = prev.get(conversation_id);
          if (!item) {
            void load();
            return prev;
          }
          if (message.e2e.state === "control") return prev;
          const fromThem = message.sender_side === "org";
          const view = { ...item.view, last_message_at: message.created_at, unread: item.view.unread + (fromThem && conversation_id !== openId ? 1 : 0) };
          return new Map(prev).set(conversation_id, { view, preview: message.text });
        }),
      ),
    ];
    return () => offs.forEach((off) => off());
  }, [channel, load, openId]);

  useEffect(() => {
    // Opened: what it shows is read (the screen reports it); the badge goes at once.
    if (!openId) return;
    setItems((prev) => {
      const item = prev.get(openId);
      return item && item.view.unread ? new Map(prev).set(openId, { ...item, view: { ...item.view, unread: 0 } }) : prev;
    });
  }, [openId, items]);

  const sorted = useMemo(
    () => [...items.values()].sort((a, b) => (b.view.last_message_at ?? b.view.updated_at).localeCompare(a.view.last_message_at ?? a.view.updated_at)),
    [items],
  );
  return { items: sorted, error, reload: load };
}

function peerOf(view: DirectConversation, me: string): DirectMember | undefined {
  return view.members.find((m) => m.user_id !== me);
}

function nameOf(member: DirectMember | undefined): string {
  return member?.display_name ?? (member?.handle ? `@${member.handle}` : "Someone");
}

function DirectHome({ api, channel, chat, device }: { api: Api; channel: DirectChannel; chat: ChatSession; device: E2eDevice }) {
  const [openId, setOpenId] = useState<string | null>(null);
  const [inviteError, setInviteError] = useState<string | null>(null);
  const list = useDirectList(api, channel, openId);
  const me = device.userId;
  const requests = list.items.filter((i) => i.view.status === "request" && i.view.requested_by !== me);
  const chats = list.items.filter((i) => !(i.view.status === "request" && i.view.requested_by !== me));

  useEffect(() => {
    // An invitation link: /direct#invite=TOKEN (opened from elsewhere, or followed in this tab).
    const follow = () => {
      const token = new URLSearchParams(window.location.hash.slice(1)).get("invite");
      if (!token) return;
      history.replaceState(null, "", window.location.pathname);
      api.post<{ conversation: DirectConversation }>("/direct/invites/accept", { token }).then(
        ({ conversation }) => {
          channel.learn(conversation);
          setOpenId(conversation.id);
        },
        (e: unknown) => setInviteError(describeError(e)),
      );
    };
    follow();
    window.addEventListener("hashchange", follow);
    return () => window.removeEventListener("hashchange", follow);
  }, [api, channel]);

  const open = (id: string) => setOpenId(id);

  return (
    <div className={`split ${openId ? "show-pane" : "show-list"}`}>
      <aside className="sidebar" aria-label="Direct chats">
        <HandleBox api={api} />
        <StartChat api={api} channel={channel} onStarted={open} />
        <ErrorNote error={list.error} />
        <ErrorNote error={inviteError && `That invitation link does not work: ${inviteError}`} onDismiss={() => setInviteError(null)} />
        {requests.length > 0 && (
          <>
            <h2 className="section-title">Message requests</h2>
            <ul className="conversation-list" aria-label="Message requests">
              {requests.map((i) => (
                <DirectItem key={i.view.id} item={i} me={me} isOpen={i.view.id === openId} onOpen={() => open(i.view.id)} />
              ))}
            </ul>
          </>
        )}
        <h2 className="section-title">Chats</h2>
        <ul className="conversation-list" aria-label="Direct chats">
          {chats.length === 0 && <li className="empty">No chats yet. Start one with someone's handle.</li>}
          {chats.map((i) => (
            <DirectItem key={i.view.id} item={i} me={me} isOpen={i.view.id === openId} onOpen={() => open(i.view.id)} />
          ))}
        </ul>
        <DeviceInfo api={api} device={device} />
      </aside>
      <main className="pane" id="pane" tabIndex={-1}>
        {openId ? (
          <DirectConversationView key={openId} api={api} channel={channel} chat={chat} device={device} conversationId={openId} onBack={() => setOpenId(null)} onChanged={list.reload} />
        ) : (
          <div className="placeholder">
            <p>Pick a chat, or start one with someone's handle. Only the two of you can read what you write here.</p>
          </div>
        )}
      </main>
    </div>
  );
}

function Lock() {
  return (
    <svg className="lock" viewBox="0 0 16 16" width="12" height="12" aria-hidden="true">
      <path d="M4 7V5a4 4 0 0 1 8 0v2h1v8H3V7zm2 0h4V5a2 2 0 0 0-4 0z" fill="currentColor" />
    </svg>
  );
}

function DirectItem({ item, me, isOpen, onOpen }: { item: ListItem; me: string; isOpen: boolean; onOpen: () => void }) {
  const { view } = item;
  const peer = peerOf(view, me);
  const status = view.is_blocked ? "Blocked" : view.status === "request" ? (view.requested_by === me ? "Request sent" : "Wants to chat") : view.status === "declined" ? "Declined" : "Encrypted";
  return (
    <li>
      <button type="button" className={`conversation-item ${isOpen ? "active" : ""}`} onClick={onOpen} aria-current={isOpen ? "true" : undefined} data-direct-id={view.id}>
        <span className="row">
          <strong className="title">{nameOf(peer)}</strong>
          <time className="when">{shortWhen(view.last_message_at ?? view.updated_at)}</time>
        </span>
        <span className="row">
          <span className="preview">{item.preview ?? (peer?.handle ? `@${peer.handle}` : "")}</span>
          <Badge count={view.unread} />
        </span>
        <span className="status">{status}</span>
      </button>
    </li>
  );
}

function HandleBox({ api }: { api: Api }) {
  const [handle, setHandle] = useState<string | null | undefined>(undefined);
  const [draft, setDraft] = useState("");
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    api.get<{ handle: string }>("/direct/handle").then(
      (h) => setHandle(h.handle),
      () => setHandle(null),
    );
  }, [api]);

  const save = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    try {
      setHandle((await api.put<{ handle: string }>("/direct/handle", { handle: draft.trim().replace(/^@/, "") })).handle);
    } catch (err) {
      setError(err instanceof ApiError && err.code === "handle_taken" ? "That handle is taken: try another." : describeError(err));
    }
  };

  if (handle === undefined) return null;
  if (handle) return <p className="muted small" data-testid="my-handle">You are @{handle}</p>;
  return (
    <form className="stack handle-form" onSubmit={save}>
      <Field label="Choose your handle" hint="3–32 letters, digits, _ or . — how people find you">
        <input value={draft} onChange={(e) => setDraft(e.target.value)} placeholder="dana.k" />
      </Field>
      <ErrorNote error={error} />
      <button type="submit" className="small-button" disabled={draft.trim().length < 3}>
        Save handle
      </button>
    </form>
  );
}

function StartChat({ api, channel, onStarted }: { api: Api; channel: DirectChannel; onStarted: (id: string) => void }) {
  const [handle, setHandle] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [invite, setInvite] = useState<string | null>(null);

  const start = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    try {
      const { conversation } = await api.post<{ conversation: DirectConversation }>("/direct/conversations", { handle: handle.trim().replace(/^@/, "").toLowerCase() });
      channel.learn(conversation);
      setHandle("");
      onStarted(conversation.id);
    } catch (err) {
      setError(err instanceof ApiError && err.code === "not_found" ? "Nobody has that handle." : describeError(err));
    }
  };

  const makeInvite = async () => {
    try {
      setInvite((await api.post<{ url: string }>("/direct/invites", {})).url);
    } catch (err) {
      setError(describeError(err));
    }
  };

  return (
    <form className="stack start-chat" onSubmit={start}>
      <Field label="Start a chat by handle">
        <input value={handle} onChange={(e) => setHandle(e.target.value)} placeholder="@handle" />
      </Field>
      <div className="actions">
        <button type="button" className="link-button" onClick={makeInvite}>
          Invitation link
        </button>
        <button type="submit" className="small-button" disabled={!handle.trim()}>
          Start chat
        </button>
      </div>
      {invite && (
        <p className="small">
          Send this link to someone (valid 7 days): <input readOnly value={invite} aria-label="Invitation link" onFocus={(e) => e.target.select()} />
        </p>
      )}
      <ErrorNote error={error} onDismiss={() => setError(null)} />
    </form>
  );
}

function DeviceInfo({ api, device }: { api: Api; device: E2eDevice }) {
  const [devices, setDevices] = useState<OwnDevice[]>([]);
  useEffect(() => {
    api.get<{ devices: OwnDevice[] }>("/direct/devices").then((d) => setDevices(d.devices), () => {});
  }, [api]);
  return (
    <details className="device-info small">
      <summary>This device and your others</summary>
      <ul>
        {devices.map((d, i) => (
          <li key={d.device_id} title={`device id ${d.device_id}`}>
            Device {i + 1}
            {d.device_id === device.deviceId ? " (this one)" : ""} · since {shortWhen(d.created_at)} · {d.one_time_prekeys} one-time keys left
          </li>
        ))}
      </ul>
      <p className="muted">A newly linked device reads only messages sent after it was linked.</p>
      <ChangePassphrase device={device} />
    </details>
  );
}

function ChangePassphrase({ device }: { device: E2eDevice }) {
  const [current, setCurrent] = useState("");
  const [next, setNext] = useState("");
  const [again, setAgain] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    setDone(false);
    if (next.length < MIN_PASSPHRASE) return setError(`Use at least ${MIN_PASSPHRASE} characters.`);
    if (next !== again) return setError("The two new passphrases differ.");
    setBusy(true);
    try {
      await device.store.sealed.changePassphrase(current, next);
      setCurrent("");
      setNext("");
      setAgain("");
      setDone(true);
    } catch (err) {
      setError(err instanceof WrongPassphrase ? "That is not the current passphrase." : describeError(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="stack change-passphrase" onSubmit={submit} aria-label="Change passphrase">
      <Field label="Current passphrase">
        <input type="password" autoComplete="current-password" value={current} onChange={(e) => setCurrent(e.target.value)} />
      </Field>
      <Field label="New passphrase">
        <input type="password" autoComplete="new-password" value={next} onChange={(e) => setNext(e.target.value)} />
      </Field>
      <Field label="New passphrase again">
        <input type="password" autoComplete="new-password" value={again} onChange={(e) => setAgain(e.target.value)} />
      </Field>
      <ErrorNote error={error} />
      {done && <p className="small" role="status">The keys on this device are now locked with the new passphrase.</p>}
      <button type="submit" className="small-button" disabled={busy || !current || !next}>
        {busy ? "Changing…" : "Change passphrase"}
      </button>
    </form>
  );
}

// ---- one conversation ----

function DirectConversationView({ api, channel, chat, device, conversationId, onBack, onChanged }: {
  api: Api;
  channel: DirectChannel;
  chat: ChatSession;
  device: E2eDevice;
  conversationId: string;
  onBack: () => void;
  onChanged: () => void;
}) {
  const state = useConversation(api, chat, conversationId);
  const [view, setView] = useState<DirectConversation | undefined>(() => channel.view(conversationId));
  const [warnings, setWarnings] = useState<{ changed: number[]; added: number[] }>({ changed: [], added: [] });
  const [showSafety, setShowSafety] = useState(false);
  const [actionError, setActionError] = useState<string | null>(null);
  const me = device.userId;
  const peer = view ? peerOf(view, me) : undefined;
  const peerId = peer?.user_id;
  const name = nameOf(peer);

  useEffect(() => {
    const off = channel.on("direct:conversation", (v: DirectConversation) => v.id === conversationId && setView(v));
    if (!view) void channel.peerOf(conversationId).then(() => setView(channel.view(conversationId)));
    return off;
  }, [channel, conversationId, view]);

  const checkIdentities = useCallback(async () => {
    if (!peerId) return;
    const changed = await device.changedDevices(peerId);
    setWarnings((w) => ({ ...w, changed }));
  }, [device, peerId]);

  useEffect(() => {
    void checkIdentities();
    const offs = [
      channel.on("identity", () => void checkIdentities()),
      channel.on("message:new", (p: { conversation_id: string }) => p.conversation_id === conversationId && void checkIdentities()),
      channel.on("devices", (p: { user_id: string; added: { device_id: number }[] }) => {
        if (p.user_id === peerId && p.added.length) setWarnings((w) => ({ ...w, added: [...w.added, ...p.added.map((d) => d.device_id)] }));
      }),
    ];
    return () => offs.forEach((off) => off());
  }, [channel, checkIdentities, conversationId, peerId]);

  const act = async (path: string, body?: unknown) => {
    setActionError(null);
    try {
      const answer = await api.post<{ conversation?: DirectConversation }>(path, body);
      // Blocking answers the block list: read the conversation's new state.
      const fresh = answer?.conversation ?? (await api.get<{ conversation: DirectConversation }>(`/direct/conversations/${conversationId}`)).conversation;
      channel.learn(fresh);
      setView(fresh);
      // Accepted: the "read" the server refused before now counts; report it again.
      if (path.endsWith("/accept")) chat.receipts.resume();
      onChanged();
    } catch (e) {
      setActionError(describeError(e));
    }
  };

  const unblock = async () => {
    if (!peerId) return;
    try {
      await api.request("DELETE", `/direct/blocks/${peerId}`);
      const { conversation } = await api.get<{ conversation: DirectConversation }>(`/direct/conversations/${conversationId}`);
      channel.learn(conversation);
      setView(conversation);
      onChanged();
    } catch (e) {
      setActionError(describeError(e));
    }
  };

  const dismissChanged = async () => {
    if (!peerId) return;
    for (const deviceId of warnings.changed) await device.store.acknowledgeIdentity(`${peerId}.${deviceId}`);
    setWarnings((w) => ({ ...w, changed: [] }));
  };

  const isIncomingRequest = view?.status === "request" && view.requested_by !== me;
  const canWrite = view && !view.is_blocked && !isIncomingRequest && !(view.status === "declined" && view.requested_by === me);
  const messages = state.messages.filter((m) => (m as Partial<DirectCoreMessage>).e2e?.state !== "control");

  return (
    <section className="conversation" aria-labelledby="direct-title">
      <header className="conversation-header">
        <button type="button" className="link back" onClick={onBack} aria-label="Back to chats">
          ←
        </button>
        <div className="grow">
          <h2 id="direct-title" tabIndex={-1}>
            {name}
          </h2>
          <p className="muted small">
            {peer?.handle ? `@${peer.handle} · ` : ""}
            <Lock /> End-to-end encrypted
          </p>
        </div>
        <button type="button" className="secondary small-button" onClick={() => setShowSafety((s) => !s)} disabled={!peerId}>
          Safety number
        </button>
        {view && !view.is_blocked && peerId && (
          <button type="button" className="secondary small-button" onClick={() => act("/direct/blocks", { user_id: peerId })}>
            Block
          </button>
        )}
      </header>
      {warnings.changed.length > 0 && (
        <div className="identity-warning" role="alert" data-testid="identity-warning">
          <strong>⚠ {name}'s safety number has changed.</strong> They may have reinstalled or reset their keys — or someone may be
          trying to intercept this chat. Compare safety numbers before you trust it.{" "}
          <button type="button" className="link-button" onClick={() => setShowSafety(true)}>
            Compare safety numbers
          </button>{" "}
          <button type="button" className="link-button" onClick={() => void dismissChanged()}>
            Dismiss
          </button>
        </div>
      )}
      {warnings.added.length > 0 && (
        <div className="notice" role="status" data-testid="new-device-notice">
          {name} linked a new device. Messages from now on are encrypted for it too.{" "}
          <button type="button" className="link-button" onClick={() => setWarnings((w) => ({ ...w, added: [] }))}>
            OK
          </button>
        </div>
      )}
      {showSafety && peerId && <SafetyNumbers device={device} peerId={peerId} peerName={name} onClose={() => setShowSafety(false)} onChanged={() => void checkIdentities()} />}
      {isIncomingRequest && (
        <div className="notice request" data-testid="message-request">
          <strong>{name} wants to chat with you.</strong> They will not know you have seen their messages unless you accept.
          <div className="actions">
            <button type="button" className="small-button" onClick={() => act(`/direct/conversations/${conversationId}/accept`)}>
              Accept
            </button>
            <button type="button" className="secondary small-button" onClick={() => act(`/direct/conversations/${conversationId}/decline`)}>
              Decline
            </button>
            {peerId && (
              <button type="button" className="danger small-button" onClick={() => act("/direct/blocks", { user_id: peerId })}>
                Block
              </button>
            )}
          </div>
        </div>
      )}
      {view?.status === "request" && view.requested_by === me && <div className="notice">Message request sent: {name} can read it once they accept.</div>}
      {view?.status === "declined" && view.requested_by === me && <div className="notice">{name} declined your message request.</div>}
      {view?.status === "declined" && view.requested_by !== me && (
        <div className="notice">
          You declined this request.{" "}
          <button type="button" className="link-button" onClick={() => act(`/direct/conversations/${conversationId}/accept`)}>
            Accept it after all
          </button>
        </div>
      )}
      {view?.is_blocked && (
        <div className="notice" data-testid="blocked-notice">
          You blocked {name}: they cannot write to you or find you.{" "}
          <button type="button" className="link-button" onClick={() => void unblock()}>
            Unblock
          </button>
        </div>
      )}
      <ErrorNote error={actionError ?? state.error} onDismiss={() => {
        setActionError(null);
        state.clearError();
      }} />
      <MessageList
        messages={messages}
        mySide="customer"
        myUserId={me}
        receipts={state.receipts}
        hasMore={state.hasMore}
        loadingOlder={state.loadingOlder}
        onLoadOlder={state.loadOlder}
        senderName={() => name}
      />
      <TypingLine typists={state.typists} label={() => name} />
      {canWrite && <Composer session={chat} conversationId={conversationId} onSend={(text) => state.send(text)} placeholder={`Message ${name} (encrypted)`} />}
    </section>
  );
}
