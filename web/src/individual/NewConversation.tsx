import { useEffect, useRef, useState, type FormEvent } from "react";
import { ApiError, describeError, newClientId, type Api } from "../lib/api";
import { rememberOrgName } from "../lib/orgNames";
import type { Conversation, Group, Org, Session } from "../lib/types";
import { ErrorNote, Field } from "../components/common";

const GUEST_ORG_KEY = "raasel.guestOrg";

/** Pick a team of `org` and write the first message; guests get a visitor session here. */
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
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const clientId = useRef(newClientId());
  const heading = useRef<HTMLHeadingElement>(null);

  useEffect(() => {
    rememberOrgName(org.id, org.name);
    setGroupId(group?.id ?? "");
    heading.current?.focus();
  }, [org, group]);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!text.trim()) return;
    setBusy(true);
    setError(null);
    try {
      const session = api.current;
      const isVisitorElsewhere = session?.user.kind === "visitor" && localStorage.getItem(GUEST_ORG_KEY) !== org.id;
      if (!session || isVisitorElsewhere) {
        // A guest talks to one organization at a time, as an anonymous visitor.
        const visitor = await api.post<Session>("/auth/visitor", { organization: org.slug, display_name: "Guest" });
        localStorage.setItem(GUEST_ORG_KEY, org.id);
        api.setSession(visitor);
      }
      const answer = await api.post<{ conversation: Conversation }>("/conversations", {
        org_id: org.id,
        group_id: groupId || undefined,
        text: text.trim(),
        client_id: clientId.current,
      });
      onStarted(answer.conversation);
    } catch (err) {
      setError(err instanceof ApiError && err.code === "not_found" ? "This organization or team is no longer available." : describeError(err));
    } finally {
      setBusy(false);
    }
  };

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
            <option value="">Anyone at {org.name}</option>
            {groups.map((g) => (
              <option key={g.id} value={g.id}>
                {g.name}
              </option>
            ))}
          </select>
        </Field>
      )}
      {groupId && <p className="muted small">{groups.find((g) => g.id === groupId)?.description}</p>}
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
