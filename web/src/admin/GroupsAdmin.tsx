import { useState, type FormEvent } from "react";
import { describeError, type Api } from "../lib/api";
import type { Group, Member, Org } from "../lib/types";
import { ErrorNote, Field } from "../components/common";

const SLUG = /^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$/;

// Example requests: one a line, at most ten, 3 to 300 characters (the API's limits).
const EXAMPLES_HINT = "Write 3 to 5 requests the way customers put them, in any language, one a line (\"I was charged twice\", \"ma carte est bloquée\"). The AI router learns from them; at most 10.";
const MAX_EXAMPLES = 10;

export function examplesOf(textValue: string): string[] {
  return textValue
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line.length > 0);
}

function examplesProblem(textValue: string): string | null {
  const lines = examplesOf(textValue);
  if (lines.length > MAX_EXAMPLES) return `At most ${MAX_EXAMPLES} examples (${lines.length} now).`;
  if (lines.some((line) => line.length < 3 || line.length > 300)) return "Each example is 3 to 300 characters.";
  return null;
}

function ExamplesField({ id, value, onChange }: { id: string; value: string; onChange: (value: string) => void }) {
  const problem = examplesProblem(value);
  return (
    <Field label="Example requests" hint={EXAMPLES_HINT}>
      <textarea value={value} onChange={(e) => onChange(e.target.value)} rows={3} aria-invalid={problem ? true : undefined} aria-describedby={`${id}-examples-problem`} />
      {problem && (
        <span id={`${id}-examples-problem`} className="error-text" role="alert">
          {problem}
        </span>
      )}
    </Field>
  );
}

const POLICIES = [
  ["round_robin", "Round robin"],
  ["least_busy", "Least busy"],
  ["manual", "Manual (agents claim)"],
] as const;

interface Props {
  api: Api;
  org: Org;
  groups: Group[];
  members: Member[];
  onChanged: () => Promise<void>;
}

export function GroupsAdmin({ api, org, groups, members, onChanged }: Props) {
  const [error, setError] = useState<string | null>(null);
  const [created, setCreated] = useState<string | null>(null);
  const [draft, setDraft] = useState({ slug: "", name: "", description: "", policy: "round_robin", examples: "" });
  const slugProblem = draft.slug && !SLUG.test(draft.slug) ? "Use lowercase letters, digits and dashes, starting and ending with a letter or digit (2 to 64)." : null;

  const create = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    setCreated(null);
    if (slugProblem || examplesProblem(draft.examples)) return;
    try {
      await api.post(`/orgs/${org.id}/groups`, { ...draft, examples: examplesOf(draft.examples) });
      setCreated(draft.name);
      setDraft({ slug: "", name: "", description: "", policy: "round_robin", examples: "" });
      await onChanged();
    } catch (err) {
      setError(describeError(err));
    }
  };

  return (
    <section className="stack">
      <h2>Dispatch groups</h2>
      <p className="muted">Each group says what it handles (the directory and routing read it) and how conversations are assigned. Members and capacity are set on the Agents page.</p>
      {groups.map((g) => (
        <GroupRow key={g.id} api={api} org={org} group={g} members={members.filter((m) => m.group_ids.includes(g.id))} onChanged={onChanged} />
      ))}
      <form className="card stack" onSubmit={create}>
        <h3>New group</h3>
        <div className="grid2">
          <Field label="Name">
            <input value={draft.name} onChange={(e) => setDraft({ ...draft, name: e.target.value, slug: draft.slug || "" })} required maxLength={120} />
          </Field>
          <Field label="Short name" hint="Lowercase letters, digits and dashes">
            {/* Checked here, next to the field (a pattern attribute's message says little). */}
            <input value={draft.slug} onChange={(e) => setDraft({ ...draft, slug: e.target.value.toLowerCase() })} required minLength={2} maxLength={64} aria-invalid={slugProblem ? true : undefined} aria-describedby="slug-problem" />
            {slugProblem && (
              <span id="slug-problem" className="error-text" role="alert">
                {slugProblem}
              </span>
            )}
          </Field>
        </div>
        <Field label="What it handles">
          <textarea value={draft.description} onChange={(e) => setDraft({ ...draft, description: e.target.value })} rows={2} maxLength={2000} />
        </Field>
        <ExamplesField id="new-group" value={draft.examples} onChange={(examples) => setDraft({ ...draft, examples })} />
        <Field label="Routing policy">
          <select value={draft.policy} onChange={(e) => setDraft({ ...draft, policy: e.target.value })}>
            {POLICIES.map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </select>
        </Field>
        <ErrorNote error={error} onDismiss={() => setError(null)} />
        <div className="actions">
          {created && (
            <span className="ok" role="status">
              Group {created} created.
            </span>
          )}
          <button type="submit" className="primary" disabled={Boolean(slugProblem)}>
            Create group
          </button>
        </div>
      </form>
    </section>
  );
}

function GroupRow({ api, org, group, members, onChanged }: { api: Api; org: Org; group: Group; members: Member[]; onChanged: () => Promise<void> }) {
  const [form, setForm] = useState({ name: group.name, description: group.description ?? "", policy: group.policy as string, examples: (group.examples ?? []).join("\n") });
  const [error, setError] = useState<string | null>(null);
  const [saved, setSaved] = useState(false);
  const save = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    setSaved(false);
    if (examplesProblem(form.examples)) return;
    try {
      await api.patch(`/orgs/${org.id}/groups/${group.id}`, { ...form, examples: examplesOf(form.examples) });
      setSaved(true);
      await onChanged();
    } catch (err) {
      setError(describeError(err));
    }
  };
  return (
    <form className="card stack" onSubmit={save} aria-label={`Group ${group.name}`}>
      <div className="grid2">
        <Field label="Name">
          <input value={form.name} onChange={(e) => setForm({ ...form, name: e.target.value })} required maxLength={120} />
        </Field>
        <Field label="Routing policy">
          <select value={form.policy} onChange={(e) => setForm({ ...form, policy: e.target.value })}>
            {POLICIES.map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </select>
        </Field>
      </div>
      <Field label="What it handles">
        <textarea value={form.description} onChange={(e) => setForm({ ...form, description: e.target.value })} rows={2} maxLength={2000} />
      </Field>
      <ExamplesField id={`group-${group.id}`} value={form.examples} onChange={(examples) => setForm({ ...form, examples })} />
      {(group.examples ?? []).length === 0 && form.examples.trim() === "" && (
        <p className="muted small" role="note">
          No example requests yet: a few help the AI router send customers to this group.
        </p>
      )}
      <p className="muted small">
        {group.slug}
        {group.is_default && " · default group"} · members: {members.map((m) => `${m.display_name} (capacity ${m.capacity})`).join(", ") || "none"}
      </p>
      {!members.some((m) => m.is_active) && (
        <p className="warning" role="note">
          Nobody is in this group: routing skips it (the AI router, the default group and transfers pick only groups with members). Add agents on the Agents page.
        </p>
      )}
      <ErrorNote error={error} />
      <div className="actions">
        {saved && (
          <span className="ok" role="status">
            Saved.
          </span>
        )}
        <button type="submit" className="secondary">
          Save group
        </button>
      </div>
    </form>
  );
}
