// Ticket fields of a conversation (docs/protocol.md, "Ticket fields"): the category from
// the organization's list, and the resolution note the Resolve button sends.
import { useEffect, useState } from "react";
import { describeError, type Api } from "../lib/api";
import { ErrorNote } from "../components/common";
import type { InboxConversation } from "./inboxApi";

export function TicketFields({ api, conversation: c, note, onNote, onChanged }: { api: Api; conversation: InboxConversation; note: string; onNote: (note: string) => void; onChanged: () => void }) {
  const [categories, setCategories] = useState<string[]>([]);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    api.get<{ categories: string[] }>("/inbox/categories").then(
      (found) => setCategories(found.categories),
      () => setCategories([]),
    );
  }, [api]);

  const setCategory = async (category: string) => {
    setError(null);
    try {
      await api.patch(`/conversations/${c.id}`, { category });
      onChanged();
    } catch (e) {
      setError(describeError(e));
    }
  };

  const shown = c.category && !categories.includes(c.category) ? [...categories, c.category] : categories;
  return (
    <div className="ticket-fields">
      {c.kind === "outreach" && <span className="kind-chip">Outreach</span>}
      {shown.length > 0 && (
        <label>
          Category{" "}
          <select value={c.category ?? ""} onChange={(e) => void setCategory(e.target.value)}>
            <option value="">None</option>
            {shown.map((name) => (
              <option key={name} value={name}>
                {name}
              </option>
            ))}
          </select>
        </label>
      )}
      {c.status === "active" && (
        <label>
          Resolution note{" "}
          <input value={note} maxLength={1000} onChange={(e) => onNote(e.target.value)} placeholder="What was done (for the team)" />
        </label>
      )}
      {c.resolution_note && c.status !== "active" && (
        <p className="muted small" data-testid="resolution-note">
          Resolution: {c.resolution_note}
        </p>
      )}
      <ErrorNote error={error} onDismiss={() => setError(null)} />
    </div>
  );
}
