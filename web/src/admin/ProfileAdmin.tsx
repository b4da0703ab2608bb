import { useState, type FormEvent } from "react";
import { describeError, type Api } from "../lib/api";
import type { Org } from "../lib/types";
import { ErrorNote, Field } from "../components/common";

const list = (value: string) => value.split(",").map((s) => s.trim()).filter(Boolean);

export function ProfileAdmin({ api, org, onChanged }: { api: Api; org: Org; onChanged: () => Promise<void> }) {
  const [form, setForm] = useState({
    name: org.name,
    description: org.description ?? "",
    category: org.category ?? "",
    domains: org.domains.join(", "),
    tags: org.tags.join(", "),
    languages: org.languages.join(", "),
    is_listed: org.is_listed ?? true,
    welcome_text: org.settings.welcome_text ?? "",
    offline_message: org.settings.offline_message ?? "",
    theme_color: org.settings.theme_color ?? "#3355ff",
  });
  const [error, setError] = useState<string | null>(null);
  const [saved, setSaved] = useState(false);
  const set = (key: keyof typeof form) => (e: { target: { value: string; checked?: boolean; type?: string } }) =>
    setForm({ ...form, [key]: e.target.type === "checkbox" ? e.target.checked : e.target.value });

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    setSaved(false);
    try {
      await api.patch(`/orgs/${org.id}`, {
        name: form.name,
        description: form.description,
        category: form.category || null,
        domains: list(form.domains),
        tags: list(form.tags),
        languages: list(form.languages),
        is_listed: form.is_listed,
        settings: {
          welcome_text: form.welcome_text,
          offline_message: form.offline_message,
          theme_color: form.theme_color,
        },
      });
      setSaved(true);
      await onChanged();
    } catch (err) {
      setError(describeError(err));
    }
  };

  return (
    <form className="stack admin-form" onSubmit={submit}>
      <h2>Organization profile</h2>
      <p className="muted">What people see in the directory ({org.slug}).</p>
      <Field label="Name">
        <input value={form.name} onChange={set("name")} required maxLength={120} />
      </Field>
      <Field label="Description">
        <textarea value={form.description} onChange={set("description")} rows={3} maxLength={2000} />
      </Field>
      <Field label="Category">
        <input value={form.category} onChange={set("category")} maxLength={120} />
      </Field>
      <Field label="Domains" hint="Comma-separated, for example acme.example">
        <input value={form.domains} onChange={set("domains")} />
      </Field>
      <Field label="Tags" hint="Comma-separated">
        <input value={form.tags} onChange={set("tags")} />
      </Field>
      <Field label="Languages" hint="Comma-separated codes, for example en, fr">
        <input value={form.languages} onChange={set("languages")} />
      </Field>
      <label className="check">
        <input type="checkbox" checked={form.is_listed} onChange={set("is_listed")} /> Listed in the public directory
      </label>
      <Field label="Welcome text">
        <input value={form.welcome_text} onChange={set("welcome_text")} maxLength={2000} />
      </Field>
      <Field label="Offline message">
        <input value={form.offline_message} onChange={set("offline_message")} maxLength={2000} />
      </Field>
      <Field label="Theme colour">
        <input type="color" value={form.theme_color} onChange={set("theme_color")} />
      </Field>
      <ErrorNote error={error} />
      {saved && (
        <p className="ok" role="status">
          Saved.
        </p>
      )}
      <button type="submit" className="primary">
        Save profile
      </button>
    </form>
  );
}
