import { useCallback, useEffect, useRef, useState } from "react";
import { describeError, type Api } from "../lib/api";
import type { ChatSession } from "../core/session";
import type { Group, Member } from "../lib/types";
import { useConversation } from "../hooks/useConversation";
import { AgentComposer } from "./AgentComposer";
import { ConversationLabels } from "./ConversationLabels";
import { Linkified } from "./links";
import type { Canned, InboxConversation, Label } from "./inboxApi";
import { ErrorNote, TypingLine } from "../components/common";
import { MessageList } from "../components/MessageList";
import { STATUS_LABEL } from "../lib/format";
import { CustomerPanel } from "./CustomerPanel";
import { TicketFields } from "./TicketFields";
import { ChannelBar } from "./ChannelBar";

interface Props {
  api: Api;
  session: ChatSession | null;
  conversationId: string;
  me: string;
  members: Member[];
  groups: Group[];
  onClaim: () => Promise<void>;
  onOpen: (id: string) => void;
  onBack: () => void;
  labels: Label[];
  canned: Canned[];
  orgName: string;
  myName: string;
  composerRef: React.RefObject<HTMLTextAreaElement | null>;
  mode: "text" | "note";
  onMode: (mode: "text" | "note") => void;
}

const renderText = (text: string) => <Linkified text={text} />;

export function AgentConversation({ api, session, conversationId, me, members, groups, onClaim, onOpen, onBack, labels, canned, orgName, myName, composerRef, mode, onMode: setMode }: Props) {
  const state = useConversation(api, session, conversationId);
  const isLead = ["owner", "admin", "supervisor"].includes(members.find((m) => m.user_id === me)?.role ?? "");
  const loadAttachment = useCallback((id: string) => api.blob(`/attachments/${id}`), [api]);
  const c = state.conversation as InboxConversation | null;
  const [transferTo, setTransferTo] = useState("");
  const [actionError, setActionError] = useState<string | null>(null);
  const [resolutionNote, setResolutionNote] = useState("");
  const heading = useRef<HTMLHeadingElement>(null);

  useEffect(() => heading.current?.focus(), [conversationId]);

  const names = new Map(members.map((m) => [m.user_id, m.display_name]));
  const isMine = c?.assignee?.id === me;

  const act = async (path: string, body: object = {}) => {
    setActionError(null);
    try {
      await api.post(`/conversations/${conversationId}/${path}`, body);
      await state.refresh();
    } catch (e) {
      setActionError(describeError(e));
    }
  };

  const transfer = async () => {
    if (!transferTo) return;
    const [kind, id] = transferTo.split(":");
    await act("transfer", kind === "agent" ? { agent_id: id } : { group_id: id });
    setTransferTo("");
  };

  const customerTypists = state.typists.filter((t) => !t.is_note);
  const noteTypists = state.typists.filter((t) => t.is_note && t.user_id !== me);

  return (
    <div className="agent-conversation">
      <section className="conversation" aria-labelledby="conversation-title">
        <header className="conversation-header">
          <button type="button" className="link back" onClick={onBack} aria-label="Back to the queue">
            ←
          </button>
          <div>
            <h2 id="conversation-title" ref={heading} tabIndex={-1}>
              {c?.kind === "platform" ? `Platform support: ${c.subject}` : (c?.customer.name ?? "Customer")}
            </h2>
            <p className="muted small" data-testid="conversation-status">
              {c && STATUS_LABEL[c.status]}
              {c?.assignee && ` · ${c.assignee.id === me ? "assigned to you" : `assigned to ${c.assignee.name}`}`}
              {c?.group_id && ` · ${groups.find((g) => g.id === c.group_id)?.name ?? ""}`}
              {c?.is_escalated && <span className="flag"> · ⚑ escalated</span>}
              {c?.platform && <span className="flag"> · {c.kind === "platform" ? "platform support" : c.platform.operator_ids.length ? "platform support joined" : "with platform support"}</span>}
            </p>
          </div>
          <div className="actions">
            {c?.status === "queued" && (
              <button type="button" className="primary small-button" onClick={() => void onClaim().then(state.refresh)}>
                Claim
              </button>
            )}
            {c && (c.status === "active" || c.status === "queued") && !c.is_escalated && (
              <button type="button" className="secondary small-button" onClick={() => act("escalate")} title="Flag for the leads">
                Escalate
              </button>
            )}
            {c && isLead && (c.kind ?? "support") !== "platform" && !c.platform && (c.status === "active" || c.status === "queued") && (
              <button
                type="button"
                className="secondary small-button"
                title="Hand it to the team that runs this service"
                onClick={() => {
                  const reason = window.prompt("Escalate to platform support: why?");
                  if (reason !== null) void act("platform-escalation", { reason });
                }}
              >
                Escalate to platform
              </button>
            )}
            {c?.status === "active" && (
              <button type="button" className="secondary small-button" onClick={() => void act("resolve", resolutionNote.trim() ? { resolution_note: resolutionNote.trim() } : {}).then(() => setResolutionNote(""))}>
                Resolve
              </button>
            )}
            {c?.status === "resolved" && (
              <button type="button" className="secondary small-button" onClick={() => act("reopen")}>
                Reopen
              </button>
            )}
            {c && c.status !== "closed" && (
              <button type="button" className="secondary small-button" onClick={() => act("close")}>
                Close
              </button>
            )}
          </div>
        </header>
        <ChannelBar api={api} conversationId={conversationId} version={state.messages.length} />
        {c && <ConversationLabels api={api} conversation={c} labels={labels} onChanged={() => void state.refresh()} />}
        {c && <TicketFields api={api} conversation={c} note={resolutionNote} onNote={setResolutionNote} onChanged={() => void state.refresh()} />}
        {c && (c.status === "active" || c.status === "queued") && (
          <div className="transfer">
            <label htmlFor="transfer-target">Transfer to</label>
            <select id="transfer-target" value={transferTo} onChange={(e) => setTransferTo(e.target.value)}>
              <option value="">Choose an agent or a group…</option>
              <optgroup label="Agents">
                {members
                  .filter((m) => m.is_active && m.user_id !== c.assignee?.id)
                  .map((m) => (
                    <option key={m.user_id} value={`agent:${m.user_id}`}>
                      {m.display_name} ({m.availability})
                    </option>
                  ))}
              </optgroup>
              <optgroup label="Groups">
                {groups.map((g) => (
                  <option key={g.id} value={`group:${g.id}`}>
                    {g.name}
                  </option>
                ))}
              </optgroup>
            </select>
            <button type="button" className="secondary small-button" onClick={transfer} disabled={!transferTo}>
              Transfer
            </button>
          </div>
        )}
        <ErrorNote error={state.error} onDismiss={state.clearError} />
        <ErrorNote error={actionError} onDismiss={() => setActionError(null)} />
        <MessageList
          messages={state.messages}
          mySide="org"
          myUserId={me}
          receipts={state.receipts}
          hasMore={state.hasMore}
          loadingOlder={state.loadingOlder}
          onLoadOlder={state.loadOlder}
          loadAttachment={loadAttachment}
          renderText={renderText}
          senderName={(m) =>
            m.sender_side === "customer"
              ? (m.sender_name ?? c?.customer.name ?? "Customer")
              : m.sender_side === "platform"
                ? "Platform support"
                : (m.sender_name ?? names.get(m.sender_id ?? "") ?? "Agent")
          }
        />
        <TypingLine typists={customerTypists.length ? customerTypists : noteTypists} label={(t) => (t.is_note ? `${t.name} (note)` : (t.name ?? "The customer"))} />
        {c?.status !== "closed" && (
          <>
            <div className="mode" role="radiogroup" aria-label="Reply or internal note">
              <label className={mode === "text" ? "mode-option active" : "mode-option"}>
                <input type="radio" name="mode" checked={mode === "text"} onChange={() => setMode("text")} /> Reply
              </label>
              <label className={mode === "note" ? "mode-option active note" : "mode-option"}>
                <input type="radio" name="mode" checked={mode === "note"} onChange={() => setMode("note")} /> Internal note
              </label>
              {mode === "text" && c && !isMine && <span className="muted small">Claim the conversation to reply.</span>}
            </div>
            <AgentComposer
              session={session}
              conversationId={conversationId}
              isNote={mode === "note"}
              onSend={(text) => state.send(text, mode)}
              onAttach={(f) => void state.attach(f)}
              canned={canned}
              members={members}
              me={me}
              boxRef={composerRef}
              variables={{
                "customer.name": c?.customer.name ?? c?.customer_panel?.name,
                "customer.email": c?.customer_panel?.email,
                "agent.name": myName,
                "conversation.subject": c?.subject,
                "org.name": orgName,
              }}
            />
          </>
        )}
      </section>
      <CustomerPanel conversation={c} onOpen={onOpen} />
    </div>
  );
}
