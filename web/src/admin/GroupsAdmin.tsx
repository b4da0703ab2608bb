import { useState, type FormEvent } from "react";
import { describeError, type Api } from "../lib/api";
import type { Group, Member, Org } from "../lib/types";
import { ErrorNote, Field } from "../components/common";

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
  const [draft, setDraft] = useState({ slug: "", name: "", description: "", policy: "round_robin" });

  const create = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    try {
      await api.post(`/orgs/${org.id}/groups`, draft);
      setDraft({ slug: "", name: "", description: "", policy: "round_robin" });
      await onChanged();
    } catch (err) {
      setError(describeError(err));
    }
  };

  return (
    <section className="stack">
      <h2>Dispatch groups</h2>
      <p className="muted">Each group says what it handles (the directory and routing read it) and how conversations are assigned. Members and capacity are set on the Agents page.</p>
      <ErrorNote error={error} onDismiss={() => setError(null)} />
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
            <input value={draft.slug} onChange={(e) => setDraft({ ...draft, slug: e.target.value })} required pattern="[a-z0-9][a-z0-9-]*" />
          </Field>
        </div>
        <Field label="What it handles">
          <textarea value={draft.description} onChange={(e) => setDraft({ ...draft, description: e.target.value })} rows={2} maxLength={2000} />
        </Field>
        <Field label="Routing policy">
          <select value={draft.policy} onChange={(e) => setDraft({ ...draft, policy: e.target.value })}>
            {POLICIES.map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </select>
        </Field>
        <button type="submit" className="primary">
          Create group
        </button>
      </form>
    </section>
  );
}

function GroupRow({ api, org, group, members, onChanged }: { api: Api; org: Org; group: Group; members: Member[]; onChanged: () => Promise<void> }) {
  const [form, setForm] = useState({ name: group.name, description: group.description ?? "", policy: group.policy as string });
  const [error, setError] = useState<string | null>(null);
  const [saved, setSaved] = useState(false);
  const save = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    setSaved(false);
    try {
      await api.patch(`/orgs/${org.id}/groups/${group.id}`, form);
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
      <p className="muted small">
        {group.slug}
        {group.is_default && " · default group"} · members: {members.map((m) => `${m.display_name} (capacity ${m.capacity})`).join(", ") || "none"}
      </p>
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
