import { useCallback, useEffect, useRef, useState } from "react";
import { describeError, type Api } from "../lib/api";
import type { Live } from "../lib/live";
import { orgName } from "../lib/orgNames";
import { useConversation } from "../hooks/useConversation";
import { Composer } from "../components/Composer";
import { ErrorNote, TypingLine } from "../components/common";
import { MessageList } from "../components/MessageList";

export function ConversationView({ api, live, conversationId, onBack }: { api: Api; live: Live | null; conversationId: string; onBack: () => void }) {
  const state = useConversation(api, live, conversationId, "customer");
  const loadAttachment = useCallback((id: string) => api.blob(`/attachments/${id}`), [api]);
  const { conversation: c } = state;
  const [actionError, setActionError] = useState<string | null>(null);
  const heading = useRef<HTMLHeadingElement>(null);
  const org = c ? (orgName(c.org_id) ?? "Support") : "";

  useEffect(() => heading.current?.focus(), [conversationId]);

  const act = async (path: "reopen" | "close") => {
    setActionError(null);
    try {
      await api.post(`/conversations/${conversationId}/${path}`);
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
          </h2>
          <p className="muted small" data-testid="conversation-status">
            {c?.status === "queued" &&
              (c.queue_position ? `Waiting for an agent · you are number ${c.queue_position} in the queue` : "Waiting for an agent")}
            {c?.status === "active" && (c.assignee ? `${c.assignee.name} is handling your conversation` : "Open")}
            {c?.status === "resolved" && "Resolved"}
            {c?.status === "closed" && "Closed"}
          </p>
        </div>
        {c && (c.status === "active" || c.status === "queued") && (
          <button type="button" className="secondary small-button" onClick={() => act("close")}>
            Close
          </button>
        )}
      </header>
      <ErrorNote error={state.error} onDismiss={state.clearError} />
      <MessageList
        messages={state.messages}
        mySide="customer"
        myUserId={api.current?.user.id ?? null}
        receipts={state.receipts}
        hasMore={state.hasMore}
        loadingOlder={state.loadingOlder}
        onLoadOlder={state.loadOlder}
        loadAttachment={loadAttachment}
        senderName={(m) => (m.sender_side === "org" ? (m.sender_id === c?.assignee?.id ? c?.assignee?.name ?? org : org) : null)}
      />
      <TypingLine typists={state.typists} />
      {c?.status === "resolved" && (
        <div className="notice">
          This conversation was resolved.{" "}
          <button type="button" className="link" onClick={() => act("reopen")}>
            Reopen it
          </button>{" "}
          or just write again.
        </div>
      )}
      <ErrorNote error={actionError} onDismiss={() => setActionError(null)} />
      {c?.status === "closed" ? (
        <div className="notice">This conversation is closed. Start a new one from the directory.</div>
      ) : (
        <Composer live={live} conversationId={conversationId} onSend={(text) => void state.send(text)} onAttach={(f) => void state.attach(f)} />
      )}
    </section>
  );
}
