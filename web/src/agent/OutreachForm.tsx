// An agent writes first to a person (docs/protocol.md, "Outreach"): by the email of their
// account. The conversation opens assigned to the agent, like a claimed support one.
import { useState } from "react";
import { describeError, type Api } from "../lib/api";
import type { Conversation } from "../lib/types";
import { ErrorNote } from "../components/common";

export function OutreachForm({ api, onStarted }: { api: Api; onStarted: (id: string) => void }) {
  const [email, setEmail] = useState("");
  const [text, setText] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  // One client id per attempt: a retry after a lost answer gets the same conversation.
  const [clientId, setClientId] = useState(() => crypto.randomUUID());

  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const started = await api.post<{ conversation: Conversation }>("/outreach", { email: email.trim(), text, client_id: clientId });
      setEmail("");
      setText("");
      setClientId(crypto.randomUUID());
      onStarted(started.conversation.id);
    } catch (err) {
      setError(describeError(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="outreach-form" onSubmit={submit} aria-labelledby="outreach-title">
      <h3 id="outreach-title">Write to a person</h3>
      <label>
        Their account's email
        <input type="email" required value={email} onChange={(e) => setEmail(e.target.value)} maxLength={254} />
      </label>
      <label>
        Message
        <textarea required value={text} onChange={(e) => setText(e.target.value)} maxLength={4000} rows={3} />
      </label>
      <ErrorNote error={error} onDismiss={() => setError(null)} />
      <button type="submit" disabled={busy}>
        Send
      </button>
    </form>
  );
}
