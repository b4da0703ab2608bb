// "Contact platform support": an admin's conversation with the node's operators (billing,
// feature request, incident), docs/protocol.md "Platform support". The conversation is
// assigned to the admin who opened it: it is answered from the inbox like any other.
import { useCallback, useEffect, useState, type FormEvent } from "react";
import { describeError, type Api } from "../lib/api";
import type { Org } from "../lib/types";
import { ErrorNote, Field } from "../components/common";

interface PlatformConversation {
  id: string;
  subject: string;
  status: string;
  updated_at: string;
  platform?: { category: string; operator_ids: string[] };
}

const CATEGORIES: [string, string][] = [
  ["billing", "Billing"],
  ["feature_request", "Feature request"],
  ["incident", "Incident"],
];
const LABEL: Record<string, string> = Object.fromEntries([...CATEGORIES, ["escalation", "Escalated conversation"]]);

export function PlatformSupport({ api, org, onOpen }: { api: Api; org: Org; onOpen?: (conversationId: string) => void }) {
  const [category, setCategory] = useState("billing");
  const [subject, setSubject] = useState("");
  const [text, setText] = useState("");
  const [items, setItems] = useState<PlatformConversation[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [sent, setSent] = useState(false);

  const load = useCallback(async () => {
    try {
      setItems(await api.get<PlatformConversation[]>(`/orgs/${org.id}/platform/conversations`));
    } catch (e) {
      setError(describeError(e));
    }
  }, [api, org.id]);
  useEffect(() => {
    void load();
  }, [load]);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    try {
      const opened = await api.post<{ conversation: PlatformConversation }>(`/orgs/${org.id}/platform/conversations`, {
        category,
        subject,
        text,
        client_id: `plt-${Date.now()}-${Math.random().toString(36).slice(2, 10)}`,
      });
      setText("");
      setSubject("");
      setSent(true);
      await load();
      onOpen?.(opened.conversation.id);
    } catch (err) {
      setError(describeError(err));
    }
  };

  return (
    <section aria-labelledby="platform-support-title" className="stack">
      <h2 id="platform-support-title">Contact platform support</h2>
      <p className="muted small">Write to the team that runs this service. Their answers arrive in your inbox (Mine).</p>
      <form onSubmit={submit} className="stack">
        <Field label="About">
          <select value={category} onChange={(e) => setCategory(e.target.value)}>
            {CATEGORIES.map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </select>
        </Field>
        <Field label="Subject">
          <input value={subject} maxLength={200} onChange={(e) => setSubject(e.target.value)} />
        </Field>
        <Field label="Message">
          <textarea value={text} maxLength={4000} required onChange={(e) => setText(e.target.value)} />
        </Field>
        <ErrorNote error={error} onDismiss={() => setError(null)} />
        {sent && <p className="small" role="status">Sent to platform support.</p>}
        <button type="submit" className="primary">
          Send to platform support
        </button>
      </form>
      <h3>With the platform</h3>
      {items.length === 0 ? (
        <p className="muted small">No conversation with platform support yet.</p>
      ) : (
        <ul data-testid="platform-conversations">
          {items.map((c) => (
            <li key={c.id}>
              <button type="button" className="link" onClick={() => onOpen?.(c.id)}>
                {c.subject || "(no subject)"}
              </button>{" "}
              <span className="muted small">
                {LABEL[c.platform?.category ?? ""] ?? ""} · {c.status} · {c.platform?.operator_ids.length ? "an operator joined" : "waiting for an operator"}
              </span>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
