// Labels and priority of the open conversation, editable by its agents.
import { useState } from "react";
import { describeError, type Api } from "../lib/api";
import { PRIORITIES, type InboxConversation, type Label } from "./inboxApi";

export function ConversationLabels({ api, conversation, labels, onChanged }: { api: Api; conversation: InboxConversation; labels: Label[]; onChanged: () => void }) {
  const [adding, setAdding] = useState("");
  const [error, setError] = useState<string | null>(null);
  const tags = conversation.tags ?? [];
  const color = (name: string) => labels.find((l) => l.name === name)?.color ?? "#64748b";

  const change = async (body: object) => {
    setError(null);
    try {
      await api.post(`/conversations/${conversation.id}/labels`, body);
      onChanged();
    } catch (e) {
      setError(describeError(e));
    }
  };

  const setPriority = async (priority: string) => {
    setError(null);
    try {
      await api.patch(`/conversations/${conversation.id}`, { priority });
      onChanged();
    } catch (e) {
      setError(describeError(e));
    }
  };

  return (
    <div className="conversation-labels" aria-label="Labels and priority" role="group">
      <label className="priority-select">
        <span className="visually-hidden">Priority</span>
        <select aria-label="Priority" value={conversation.priority ?? "normal"} onChange={(e) => void setPriority(e.target.value)} className={`priority-${conversation.priority ?? "normal"}`}>
          {PRIORITIES.map((p) => (
            <option key={p} value={p}>
              {p[0].toUpperCase() + p.slice(1)} priority
            </option>
          ))}
        </select>
      </label>
      {tags.map((t) => (
        <span key={t} className="label-chip" style={{ borderColor: color(t) }}>
          <span className="swatch" style={{ background: color(t) }} aria-hidden="true" />
          {t}
          <button type="button" className="link" aria-label={`Remove label ${t}`} onClick={() => void change({ remove: [t] })}>
            ×
          </button>
        </span>
      ))}
      <form
        className="add-label"
        onSubmit={(e) => {
          e.preventDefault();
          const name = adding.trim();
          if (name) void change({ add: [name] }).then(() => setAdding(""));
        }}
      >
        <input aria-label="Add a label" list="label-names" placeholder="+ label" value={adding} maxLength={40} onChange={(e) => setAdding(e.target.value)} />
        <datalist id="label-names">
          {labels.filter((l) => !tags.includes(l.name)).map((l) => (
            <option key={l.name} value={l.name} />
          ))}
        </datalist>
      </form>
      {error && (
        <span className="error-text" role="alert">
          {error}
        </span>
      )}
    </div>
  );
}
