// Search the public directory by name, domain or need, and pick an organization or one
// of its groups.
import { useEffect, useState } from "react";
import { describeError, type Api } from "../lib/api";
import { rememberOrgName } from "../lib/orgNames";
import type { Group, Org } from "../lib/types";
import { ErrorNote } from "../components/common";

export function Directory({ api, onPick }: { api: Api; onPick: (org: Org, group: Group | null) => void }) {
  const [query, setQuery] = useState("");
  const [results, setResults] = useState<Org[] | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    const q = query.trim();
    if (!q) {
      setResults(null);
      return;
    }
    let cancelled = false;
    const timer = window.setTimeout(async () => {
      try {
        const orgs = await api.get<Org[]>(`/directory/orgs?q=${encodeURIComponent(q)}&limit=10`);
        if (cancelled) return;
        orgs.forEach((o) => rememberOrgName(o.id, o.name));
        setResults(orgs);
        setError(null);
      } catch (e) {
        if (!cancelled) setError(describeError(e));
      }
    }, 250);
    return () => {
      cancelled = true;
      window.clearTimeout(timer);
    };
  }, [api, query]);

  return (
    <section className="directory" aria-labelledby="directory-title">
      <h2 id="directory-title" className="visually-hidden">
        Find an organization
      </h2>
      <label className="visually-hidden" htmlFor="directory-search">
        Search organizations
      </label>
      <input
        id="directory-search"
        type="search"
        placeholder="Search a company, a domain or what you need…"
        value={query}
        onChange={(e) => setQuery(e.target.value)}
        autoComplete="off"
      />
      <ErrorNote error={error} />
      {results && (
        <ul className="results" aria-label="Search results">
          {results.length === 0 && <li className="empty">No organization matches “{query}”.</li>}
          {results.map((org) => (
            <li key={org.id} className="result">
              <button type="button" className="result-org" onClick={() => onPick(org, null)}>
                <span className="avatar" aria-hidden="true" style={{ background: org.settings.theme_color ?? undefined }}>
                  {org.name.slice(0, 1).toUpperCase()}
                </span>
                <span>
                  <strong>{org.name}</strong>
                  <small>{org.description}</small>
                </span>
              </button>
              {org.groups && org.groups.length > 1 && (
                <ul className="groups" aria-label={`${org.name} teams`}>
                  {org.groups
                    .filter((g) => !g.is_default)
                    .map((g) => (
                      <li key={g.id}>
                        <button type="button" className="chip" onClick={() => onPick(org, g)} title={g.description ?? undefined}>
                          {g.name}
                        </button>
                      </li>
                    ))}
                </ul>
              )}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
