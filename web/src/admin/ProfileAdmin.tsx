import { useCallback, useEffect, useState, type FormEvent } from "react";
import { describeError, type Api } from "../lib/api";
import type { Ask, Org } from "../lib/types";
import { ErrorNote, Field } from "../components/common";

const list = (value: string) => value.split(",").map((s) => s.trim()).filter(Boolean);

export function ProfileAdmin({ api, org, onChanged }: { api: Api; org: Org; onChanged: () => Promise<void> }) {
  const [form, setForm] = useState({
    name: org.name,
    description: org.description ?? "",
    category: org.category ?? "",
    // The claims (only verified ones are shown to the public as `domains`).
    domains: (org.claimed_domains ?? org.domains).join(", "),
    embed_origins: (org.settings.embed_origins ?? []).join(", "),
    tags: org.tags.join(", "),
    languages: org.languages.join(", "),
    is_listed: org.is_listed ?? true,
    welcome_text: org.settings.welcome_text ?? "",
    offline_message: org.settings.offline_message ?? "",
    theme_color: org.settings.theme_color ?? "#3355ff",
    // The widget's pre-chat form (what a visitor is asked before the first message).
    prechat_name: org.settings.prechat?.name ?? "off",
    prechat_email: org.settings.prechat?.email ?? "off",
    prechat_team: org.settings.prechat?.team ?? "optional",
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
          embed_origins: list(form.embed_origins),
          prechat: { name: form.prechat_name, email: form.prechat_email, team: form.prechat_team },
          ...(org.settings.business_hours ? { business_hours: org.settings.business_hours } : {}),
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
      <Field label="Domains" hint="Comma-separated, for example acme.example. Shown and searched once proved (below)">
        <input value={form.domains} onChange={set("domains")} />
      </Field>
      <DomainProofs api={api} org={org} />
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
      <fieldset className="stack">
        <legend>Before the first message, the chat widget asks for</legend>
        {(
          [
            ["prechat_name", "Visitor's name"],
            ["prechat_email", "Visitor's email"],
            ["prechat_team", "Team (the group to talk to)"],
          ] as const
        ).map(([key, label]) => (
          <Field key={key} label={label}>
            <select value={form[key]} onChange={set(key)}>
              {(["off", "optional", "required"] as Ask[]).map((ask) => (
                <option key={ask} value={ask}>
                  {ask === "off" ? "Not asked" : ask === "optional" ? "Asked, optional" : "Required"}
                </option>
              ))}
            </select>
          </Field>
        ))}
      </fieldset>
      <Field label="Sites that may show the chat widget" hint="Comma-separated origins, for example https://shop.example (none: no site may)">
        <input value={form.embed_origins} onChange={set("embed_origins")} />
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

interface Claim {
  domain: string;
  is_verified: boolean;
  how: { dns: { name: string; value: string }; https: { url: string; content: string } };
}

/** How each claimed domain is proved, and a button to check now (owners and admins). */
function DomainProofs({ api, org }: { api: Api; org: Org }) {
  const [claims, setClaims] = useState<Claim[]>([]);
  const [note, setNote] = useState<string | null>(null);
  const load = useCallback(async () => {
    try {
      setClaims(await api.get<Claim[]>(`/orgs/${org.id}/domains`));
    } catch {
      setClaims([]);
    }
  }, [api, org.id]);
  useEffect(() => {
    void load();
  }, [load]);
  const check = async (domain: string) => {
    setNote(null);
    try {
      const answer = await api.post<{ proved_by: string | null }>(`/orgs/${org.id}/domains/${domain}/verify`);
      setNote(answer.proved_by ? `${domain} is verified (${answer.proved_by}).` : `No proof found for ${domain} yet.`);
      await load();
    } catch (err) {
      setNote(describeError(err));
    }
  };
  if (claims.length === 0) return null;
  return (
    <div className="card stack">
      <ul className="plain" aria-label="Domain proofs">
        {claims.map((c) => (
          <li key={c.domain}>
            <strong>{c.domain}</strong>{" "}
            {c.is_verified ? (
              <span className="badge verified">✓ Verified</span>
            ) : (
              <>
                <small className="muted">
                  Add a TXT record <code>{c.how.dns.name}</code> = <code>{c.how.dns.value}</code>, or serve <code>{c.how.https.content}</code> at{" "}
                  <code>{c.how.https.url}</code>.
                </small>{" "}
                <button type="button" className="secondary small-button" onClick={() => void check(c.domain)}>
                  Check now
                </button>
              </>
            )}
          </li>
        ))}
      </ul>
      {note && (
        <p className="notice" role="status">
          {note}
        </p>
      )}
    </div>
  );
}
