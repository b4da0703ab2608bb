import { useEffect, useRef, useState, type FormEvent } from "react";
import { ApiError, describeError, newClientId, type Api } from "../lib/api";
import { rememberOrgName } from "../lib/orgNames";
import type { Conversation, Group, Org, Session } from "../lib/types";
import { ErrorNote, Field } from "../components/common";
import { isNeed, SUGGESTED, sure, takeDraftNeed } from "./Directory";
import { becomeGuestOf } from "./guestSessions";

// How long the "which team took it" note stays before the conversation opens by itself.
const ROUTED_NOTE_MS = 2500;

/** The router's answer inside one organization (POST /directory/route with org_id). */
interface Suggestion {
  auto_route: boolean;
  confidence: number;
  not_routed_because: string | null;
  groups: { group: { id: string; name: string }; confidence: number; reason: string }[];
}

/** What the open-conversation answer says about routing (docs/protocol.md). */
interface Routing {
  group: { id: string; name: string } | null;
  is_auto_routed: boolean;
  confidence: number;
  reason: string;
  not_routed_because?: string | null;
}

/** Pick a team of `org` and write the first message; guests get a visitor session here.
 * As the person writes, the AI router highlights the matching team with its reason; with
 * no team chosen, the conversation goes where the router is sure enough, and the person
 * is told which team took it. */
export function NewConversation({
  api,
  org,
  group,
  onCancel,
  onStarted,
}: {
  api: Api;
  org: Org;
  group: Group | null;
  onCancel: () => void;
  onStarted: (c: Conversation) => void;
}) {
  const groups = (org.groups ?? []).filter((g) => !g.is_default);
  const [groupId, setGroupId] = useState(group?.id ?? "");
  const [text, setText] = useState("");
  const [suggestion, setSuggestion] = useState<Suggestion | null>(null);
  const [routed, setRouted] = useState<{ conversation: Conversation; routing: Routing } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const clientId = useRef(newClientId());
  const heading = useRef<HTMLHeadingElement>(null);

  useEffect(() => {
    rememberOrgName(org.id, org.name);
    setGroupId(group?.id ?? "");
    setRouted(null);
    const draft = takeDraftNeed();
    if (draft) setText(draft);
    heading.current?.focus();
  }, [org, group]);

  // The matching team for what is being written (org-scoped routing: any plan).
  useEffect(() => {
    const need = text.trim();
    if (groups.length < 2 || !isNeed(need)) {
      setSuggestion(null);
      return;
    }
    let cancelled = false;
    const timer = window.setTimeout(async () => {
      try {
        const answer = await api.post<Suggestion>("/directory/route", { text: need, org_id: org.id, limit: 3 });
        if (!cancelled) setSuggestion(answer);
      } catch {
        if (!cancelled) setSuggestion(null); // a hint only: the form works without it
      }
    }, 400);
    return () => {
      cancelled = true;
      window.clearTimeout(timer);
    };
  }, [api, org.id, text, groups.length]);

  // After an open without a team: say which team took it, then open the conversation.
  const started = useRef(onStarted);
  started.current = onStarted;
  useEffect(() => {
    if (!routed) return;
    const timer = window.setTimeout(() => started.current(routed.conversation), ROUTED_NOTE_MS);
    return () => window.clearTimeout(timer);
  }, [routed]);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!text.trim()) return;
    setBusy(true);
    setError(null);
    try {
      const session = api.current;
      if (!session || session.user.kind === "visitor") {
        // A guest talks to each organization as its visitor; the others' sessions are
        // parked, their conversations stay in the list (guestSessions.ts).
        await becomeGuestOf(api, org.id, () => api.post<Session>("/auth/visitor", { organization: org.slug, display_name: "Guest" }));
      }
      const answer = await api.post<{ conversation: Conversation & { routing?: Routing } }>("/conversations", {
        org_id: org.id,
        group_id: groupId || undefined,
        text: text.trim(),
        client_id: clientId.current,
      });
      const routing = answer.conversation.routing;
      if (routing && !groupId) setRouted({ conversation: answer.conversation, routing });
      else onStarted(answer.conversation);
    } catch (err) {
      setError(err instanceof ApiError && err.code === "not_found" ? "This organization or team is no longer available." : describeError(err));
    } finally {
      setBusy(false);
    }
  };

  if (routed) {
    const { routing } = routed;
    return (
      <section className="new-conversation stack" aria-live="polite">
        <h2 ref={heading} tabIndex={-1}>
          Message sent to {org.name}
        </h2>
        {routing.is_auto_routed && routing.group ? (
          <p className="notice" data-testid="routed-team">
            <strong>{routing.group.name}</strong> took your conversation: the assistant picked this team for you ({routing.reason}).
          </p>
        ) : (
          <p className="notice" data-testid="routed-team">
            Your conversation is with {routing.group?.name ?? org.name}, who will pass it to the right team
            {routing.not_routed_because ? ` (the assistant was ${routing.not_routed_because})` : ""}.
          </p>
        )}
        <div className="actions">
          <button type="button" className="primary" onClick={() => onStarted(routed.conversation)}>
            Open the conversation
          </button>
        </div>
      </section>
    );
  }

  const top = suggestion?.groups[0];
  const suggestedId = top?.group.id;
  const chosen = groups.find((g) => g.id === groupId);
  return (
    <form className="new-conversation stack" onSubmit={submit}>
      <h2 ref={heading} tabIndex={-1}>
        Message {org.name}
      </h2>
      {org.description && <p className="muted">{org.description}</p>}
      {org.settings.welcome_text && <p className="welcome">{org.settings.welcome_text}</p>}
      {groups.length > 0 && (
        <Field label="Team">
          <select value={groupId} onChange={(e) => setGroupId(e.target.value)}>
            <option value="">{suggestion?.auto_route && top ? `Let the assistant choose (${top.group.name})` : `Anyone at ${org.name}`}</option>
            {groups.map((g) => (
              <option key={g.id} value={g.id}>
                {g.id === suggestedId ? `${g.name} (suggested)` : g.name}
              </option>
            ))}
          </select>
        </Field>
      )}
      {chosen && <p className="muted small">{chosen.description}</p>}
      {top && suggestedId !== groupId && (
        <p className="small" data-testid="suggested-team">
          <button type="button" className="chip" style={SUGGESTED} onClick={() => setGroupId(top.group.id)} title={`Choose ${top.group.name}`}>
            {top.group.name}
          </button>{" "}
          looks like the team for this: {top.reason} ({sure(top.confidence)}).{" "}
          {!groupId && (suggestion?.auto_route ? "Send without choosing and it goes there." : "Choose it, or send and someone will pass it on.")}
        </p>
      )}
      <Field label="Your message">
        <textarea
          rows={4}
          value={text}
          maxLength={4000}
          onChange={(e) => setText(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === "Enter" && !e.shiftKey) {
              e.preventDefault();
              e.currentTarget.form?.requestSubmit();
            }
          }}
          required
        />
      </Field>
      <ErrorNote error={error} />
      <div className="actions">
        <button type="button" className="secondary" onClick={onCancel}>
          Cancel
        </button>
        <button type="submit" className="primary" disabled={busy || !text.trim()}>
          Start conversation
        </button>
      </div>
    </form>
  );
}
