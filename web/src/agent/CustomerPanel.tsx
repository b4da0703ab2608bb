import type { Conversation } from "../lib/types";
import { STATUS_LABEL, shortWhen } from "../lib/format";

/** The customer's details and their past conversations with this organization. */
export function CustomerPanel({ conversation, onOpen }: { conversation: Conversation | null; onOpen: (id: string) => void }) {
  const panel = conversation?.customer_panel;
  return (
    <aside className="customer-panel" aria-label="Customer details">
      <h2 className="section-title">Customer</h2>
      {panel ? (
        <>
          <dl>
            <dt>Name</dt>
            <dd>{panel.name ?? "—"}</dd>
            <dt>Email</dt>
            <dd>{panel.email ?? (panel.kind === "visitor" ? "Anonymous visitor" : "—")}</dd>
            <dt>Customer since</dt>
            <dd>{panel.since ? new Date(panel.since).toLocaleDateString() : "—"}</dd>
          </dl>
          <h3 className="section-title">Conversations here</h3>
          <ul className="past">
            {panel.conversations.map((p) => (
              <li key={p.id}>
                <button type="button" className="link" onClick={() => onOpen(p.id)} aria-current={p.id === conversation?.id ? "true" : undefined}>
                  {p.subject ?? shortWhen(p.created_at)}
                </button>{" "}
                <span className={`status status-${p.status}`}>{STATUS_LABEL[p.status]}</span>
              </li>
            ))}
          </ul>
        </>
      ) : (
        <p className="muted">Loading…</p>
      )}
    </aside>
  );
}
