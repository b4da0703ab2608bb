// Labels (the organization's catalogue) and canned responses: supervisors keep the
// shared ones, every agent their own.
import { useEffect, useState } from "react";
import { describeError, type Api } from "../lib/api";
import { ErrorNote } from "../components/common";
import type { Canned, Label } from "./inboxApi";

export function LibraryPanel({ api, isLead, isAdmin, labels, canned, onChanged }: { api: Api; isLead: boolean; isAdmin: boolean; labels: Label[]; canned: Canned[]; onChanged: () => void }) {
  const [error, setError] = useState<string | null>(null);
  const [requireLabel, setRequireLabel] = useState<boolean | null>(null);
  useEffect(() => {
    api.get<{ require_label_to_resolve: boolean }>("/inbox/settings").then(
      (s) => setRequireLabel(s.require_label_to_resolve),
      () => setRequireLabel(null),
    );
  }, [api]);
  const [saved, setSaved] = useState<string | null>(null);
  const [label, setLabel] = useState({ name: "", color: "#2563eb" });
  const [form, setForm] = useState({ shortcut: "", title: "", body: "", is_personal: !isLead });

  const run = async (what: () => Promise<unknown>, done: string) => {
    setError(null);
    setSaved(null);
    try {
      await what();
      setSaved(done);
      onChanged();
    } catch (e) {
      setError(describeError(e));
    }
  };

  return (
    <div className="library">
      <ErrorNote error={error} onDismiss={() => setError(null)} />
      {saved && (
        <p className="ok" role="status">
          {saved}
        </p>
      )}
      <section className="card" aria-labelledby="labels-title">
        <h2 id="labels-title">Labels</h2>
        <ul className="label-list">
          {labels.map((l) => (
            <li key={l.name}>
              <span className="label-chip" style={{ borderColor: l.color }}>
                <span className="swatch" style={{ background: l.color }} aria-hidden="true" />
                {l.name}
              </span>
              {isLead && (
                <button type="button" className="link small" onClick={() => void run(() => api.request("DELETE", `/inbox/labels/${encodeURIComponent(l.name)}`), "Label removed")}>
                  Remove
                </button>
              )}
            </li>
          ))}
          {labels.length === 0 && <li className="muted">No label yet.</li>}
        </ul>
        {isAdmin && requireLabel !== null && (
          <label className="check">
            <input
              type="checkbox"
              checked={requireLabel}
              onChange={(e) => {
                const value = e.target.checked;
                void run(() => api.put("/inbox/settings", { require_label_to_resolve: value }), value ? "A label is now required before resolving" : "Labels are now optional").then(() => setRequireLabel(value));
              }}
            />{" "}
            Require a label before a conversation is resolved
          </label>
        )}
        {isLead && (
          <form
            className="inline-form"
            onSubmit={(e) => {
              e.preventDefault();
              void run(() => api.put("/inbox/labels", label), "Label saved").then(() => setLabel({ name: "", color: label.color }));
            }}
          >
            <label>
              Name <input required maxLength={40} value={label.name} onChange={(e) => setLabel({ ...label, name: e.target.value })} />
            </label>
            <label>
              Colour <input type="color" value={label.color} onChange={(e) => setLabel({ ...label, color: e.target.value })} />
            </label>
            <button type="submit" className="primary small-button">
              Save label
            </button>
          </form>
        )}
      </section>
      <section className="card" aria-labelledby="canned-title">
        <h2 id="canned-title">Canned responses</h2>
        <p className="muted small">
          Type <kbd>/shortcut</kbd> in the message box. Variables: {"{{customer.name}}"}, {"{{customer.email}}"}, {"{{agent.name}}"}, {"{{conversation.subject}}"}, {"{{org.name}}"}; a fallback after a bar: {"{{customer.name | there}}"}.
        </p>
        <ul className="canned-list">
          {canned.map((c) => (
            <li key={c.id}>
              <strong>/{c.shortcut}</strong> {c.title} <span className="muted small">{c.is_personal ? "personal" : "shared"}</span>
              <div className="muted small canned-body">{c.body}</div>
              {(c.is_personal || isLead) && (
                <button type="button" className="link small" onClick={() => void run(() => api.request("DELETE", `/inbox/canned/${c.id}`), "Response removed")}>
                  Remove
                </button>
              )}
            </li>
          ))}
        </ul>
        <form
          className="stack"
          onSubmit={(e) => {
            e.preventDefault();
            void run(() => api.post("/inbox/canned", form), "Response saved").then(() => setForm({ shortcut: "", title: "", body: "", is_personal: form.is_personal }));
          }}
        >
          <label className="field">
            <span>Shortcut</span>
            <input required value={form.shortcut} maxLength={32} placeholder="greeting" title="Lower-case letters, digits, - and _" onChange={(e) => setForm({ ...form, shortcut: e.target.value.toLowerCase().replace(/[^a-z0-9_-]/g, "") })} />
          </label>
          <label className="field">
            <span>Title</span>
            <input required value={form.title} maxLength={120} onChange={(e) => setForm({ ...form, title: e.target.value })} />
          </label>
          <label className="field">
            <span>Text</span>
            <textarea required rows={3} maxLength={4000} value={form.body} onChange={(e) => setForm({ ...form, body: e.target.value })} />
          </label>
          {isLead && (
            <label className="check">
              <input type="checkbox" checked={form.is_personal} onChange={(e) => setForm({ ...form, is_personal: e.target.checked })} /> Only for me
            </label>
          )}
          <button type="submit" className="primary">
            Save response
          </button>
        </form>
      </section>
      <CategoriesCard api={api} isAdmin={isAdmin} />
    </div>
  );
}

// The organization's ticket categories (docs/protocol.md, "Ticket fields"): admins edit
// the list, everyone sees it.
function CategoriesCard({ api, isAdmin }: { api: Api; isAdmin: boolean }) {
  const [text, setText] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [saved, setSaved] = useState(false);
  useEffect(() => {
    api.get<{ categories: string[] }>("/inbox/categories").then(
      (found) => setText(found.categories.join(", ")),
      () => setText(""),
    );
  }, [api]);
  const save = async (e: React.FormEvent) => {
    e.preventDefault();
    setError(null);
    setSaved(false);
    try {
      const categories = text.split(",").map((c) => c.trim()).filter(Boolean);
      const stored = await api.put<{ categories: string[] }>("/inbox/categories", { categories });
      setText(stored.categories.join(", "));
      setSaved(true);
    } catch (err) {
      setError(describeError(err));
    }
  };
  return (
    <section className="card" aria-labelledby="categories-title">
      <h2 id="categories-title">Ticket categories</h2>
      <ErrorNote error={error} onDismiss={() => setError(null)} />
      <form onSubmit={save}>
        <label className="field">
          <span>Categories, separated by commas</span>
          <input value={text} disabled={!isAdmin} maxLength={2100} onChange={(e) => setText(e.target.value)} />
        </label>
        {isAdmin && (
          <button type="submit" className="primary">
            Save categories
          </button>
        )}
        {saved && <span className="ok small" role="status"> Saved</span>}
      </form>
    </section>
  );
}
