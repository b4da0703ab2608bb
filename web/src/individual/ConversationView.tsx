import { useCallback, useEffect, useRef, useState, type FormEvent } from "react";
import type { Conversation } from "../core/protocol";
import { describeError, type Api } from "../lib/api";
import type { ChatSession } from "../core/session";
import { orgName } from "../lib/orgNames";
import { useConversation } from "../hooks/useConversation";
import { Composer } from "../components/Composer";
import { ErrorNote, TypingLine } from "../components/common";
import { MessageList } from "../components/MessageList";

export function ConversationView({ api, session, conversationId, onBack }: { api: Api; session: ChatSession | null; conversationId: string; onBack: () => void }) {
  const state = useConversation(api, session, conversationId);
  const loadAttachment = useCallback((id: string) => api.blob(`/attachments/${id}`), [api]);
  const { conversation: c } = state;
  const [actionError, setActionError] = useState<string | null>(null);
  const heading = useRef<HTMLHeadingElement>(null);
  const org = c ? (c.organization?.name ?? c.org?.name ?? orgName(c.org_id) ?? "Support") : "";
  const contact = c?.contact ?? { is_muted: false, is_blocked: false };
  const team = c?.group?.name ?? (c?.routing?.group && c.routing.group.id === c.group_id ? c.routing.group.name : null);

  useEffect(() => heading.current?.focus(), [conversationId]);
  const [mailed, setMailed] = useState(false);
  const mailTranscript = async () => {
    setActionError(null);
    try {
      await api.post(`/conversations/${conversationId}/transcript`);
      setMailed(true);
    } catch (e) {
      setActionError(describeError(e));
    }
  };

  const act = async (path: "reopen" | "close") => {
    setActionError(null);
    try {
      await api.post(`/conversations/${conversationId}/${path}`);
      await state.refresh();
    } catch (e) {
      setActionError(describeError(e));
    }
  };

  // Mute or block the organization (docs/protocol.md, "Outreach"): the person's own say.
  const setContact = async (change: { is_muted?: boolean; is_blocked?: boolean }) => {
    if (!c) return;
    setActionError(null);
    try {
      await api.put(`/contacts/${c.org_id}`, change);
      await state.refresh();
    } catch (e) {
      setActionError(describeError(e));
    }
  };

  return (
    <section className="conversation" aria-labelledby="conversation-title">
      <header className="conversation-header">
        <button type="button" className="link back" onClick={onBack} aria-label="Back to conversations">
          ←
        </button>
        <div>
          <h2 id="conversation-title" ref={heading} tabIndex={-1}>
            {org}
            {c?.organization?.is_verified && <VerifiedMark domains={c.organization.verified_domains} />}
          </h2>
          {c?.kind === "outreach" && (
            <p className="muted small" data-testid="outreach-note">
              {org} wrote to you first{c.organization?.is_verified ? "" : " · not verified: it proved no domain"}
            </p>
          )}
          <p className="muted small" data-testid="conversation-status">
            {team && <span data-testid="conversation-team">{team} · </span>}
            {c?.status === "queued" &&
              (c.queue_position ? `Waiting for an agent · you are number ${c.queue_position} in the queue` : "Waiting for an agent")}
            {c?.status === "active" && (c.assignee ? `${c.assignee.name} is handling your conversation` : "Open")}
            {c?.status === "resolved" && "Resolved"}
            {c?.status === "closed" && "Closed"}
          </p>
        </div>
        {c?.kind === "outreach" && (
          <span className="contact-actions">
            <button type="button" className="secondary small-button" onClick={() => setContact({ is_muted: !contact.is_muted })}>
              {contact.is_muted ? "Unmute" : "Mute"}
            </button>
            <button type="button" className="secondary small-button" onClick={() => setContact({ is_blocked: !contact.is_blocked })}>
              {contact.is_blocked ? "Unblock" : "Block"}
            </button>
          </span>
        )}
        {c && (c.status === "active" || c.status === "queued") && (
          <button type="button" className="secondary small-button" onClick={() => act("close")}>
            Close
          </button>
        )}
      </header>
      <ErrorNote error={state.error} onDismiss={state.clearError} />
      {c?.status === "queued" && c.offline && <OfflineNotice api={api} conversationId={conversationId} offline={c.offline} />}
      <MessageList
        messages={state.messages}
        mySide="customer"
        myUserId={api.current?.user.id ?? null}
        receipts={state.receipts}
        hasMore={state.hasMore}
        loadingOlder={state.loadingOlder}
        onLoadOlder={state.loadOlder}
        loadAttachment={loadAttachment}
        senderName={(m) => (m.sender_side === "org" ? (m.sender_name ?? (m.sender_id === c?.assignee?.id ? c?.assignee?.name : null) ?? org) : null)}
      />
      <TypingLine typists={state.typists} />
      {c?.status === "resolved" && (
        <div className="notice">
          This conversation was resolved.{" "}
          <button type="button" className="link" onClick={() => act("reopen")}>
            Reopen it
          </button>{" "}
          or just write again.{" "}
          <button type="button" className="link" onClick={() => void mailTranscript()}>
            {mailed ? "Transcript sent by mail" : "Mail me the transcript"}
          </button>
        </div>
      )}
      {contact.is_blocked && (
        <div className="notice" data-testid="blocked-notice">
          You blocked {org}: it cannot write to you or start new conversations with you.
        </div>
      )}
      <ErrorNote error={actionError} onDismiss={() => setActionError(null)} />
      {c?.status === "closed" ? (
        <div className="notice">This conversation is closed. Start a new one from the directory.</div>
      ) : (
        <Composer session={session} conversationId={conversationId} onSend={(text) => state.send(text)} onAttach={(f) => void state.attach(f)} />
      )}
    </section>
  );
}

/** The organization proved a domain (docs/protocol.md, "Who writes: the badge"). */
export function VerifiedMark({ domains }: { domains: string[] }) {
  return (
    <span className="org-verified" title={`Verified: ${domains.join(", ")}`} aria-label="Verified organization" data-testid="verified">
      {" "}✓
    </span>
  );
}

export function OfflineNotice({ api, conversationId, offline }: { api: Api; conversationId: string; offline: NonNullable<Conversation["offline"]> }) {
  const [email, setEmail] = useState("");
  const [left, setLeft] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const when = offline.expected_reply_at ? new Date(offline.expected_reply_at).toLocaleString() : null;
  const leave = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    try {
      await api.post(`/conversations/${conversationId}/contact`, { email });
      setLeft(true);
    } catch (err) {
      setError(describeError(err));
    }
  };
  return (
    <div className="notice" role="status" data-testid="offline-notice">
      <p>{offline.message}</p>
      <p className="muted small">{when ? `Expected reply: when the team opens, ${when}.` : "Your message is kept; the team replies as soon as someone is available."}</p>
      {offline.can_leave_email && !left && (
        <form onSubmit={leave} className="inline-form">
          <label>
            Email for the answer <input type="email" value={email} onChange={(e) => setEmail(e.target.value)} required maxLength={254} />
          </label>
          <button type="submit" className="secondary small-button">
            Send me the answer
          </button>
        </form>
      )}
      {left && <p className="ok">We will mail the answer to {email}.</p>}
      <ErrorNote error={error} onDismiss={() => setError(null)} />
    </div>
  );
}
