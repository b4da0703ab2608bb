// Find an organization or the right team. Before anything is typed: featured organizations
// (promoted ones first, marked) and categories. A name or a domain searches the directory;
// a need in a sentence ("I was charged twice") is ranked by the AI router, and plan-plus
// holders also get the recommended teams across organizations (others: an upgrade prompt
// that opens the plan panel). The typed need becomes the first message's draft.
import { useEffect, useState } from "react";
import { ApiError, describeError, type Api } from "../lib/api";
import { rememberOrgName } from "../lib/orgNames";
import type { Group, Org } from "../lib/types";
import { ErrorNote } from "../components/common";

/** A directory entry as the search answers it. */
export type DirectoryOrg = Org & {
  plan?: string;
  score?: number;
  reason?: string;
  /** For a need: the team the router scored best (its chip is highlighted). */
  matching_group?: { id: string; slug: string; name: string } | null;
};

interface GroupHit {
  org: { id: string; slug: string; name: string };
  group: { id: string; slug: string; name: string; description: string | null };
  confidence: number;
  reason: string;
}

interface Recommendation {
  auto_route: boolean;
  confidence: number;
  not_routed_because: string | null;
  groups: GroupHit[];
}

interface MyPlan {
  plan: string;
  entitlements: { search_groups_across_organizations: boolean };
  plus?: { checkout_url: string | null; gives: string[] };
}

const NEED_KEY = "raasel.need";
const NEED_WORDS = 3;

/** A request in a sentence rather than a name: the router ranks it (as the server does). */
export function isNeed(text: string): boolean {
  return text.trim().split(/\s+/).filter(Boolean).length >= NEED_WORDS;
}

/** The need the person typed in the directory, handed to the first message once. */
export function takeDraftNeed(): string {
  const need = sessionStorage.getItem(NEED_KEY) ?? "";
  sessionStorage.removeItem(NEED_KEY);
  return need;
}

export function Directory({ api, onPick }: { api: Api; onPick: (org: Org, group: Group | null) => void }) {
  const [query, setQuery] = useState("");
  const [category, setCategory] = useState<string | null>(null);
  const [featured, setFeatured] = useState<DirectoryOrg[]>([]);
  const [results, setResults] = useState<DirectoryOrg[] | null>(null);
  const [teams, setTeams] = useState<Recommendation | null>(null);
  const [plan, setPlan] = useState<MyPlan | null>(null);
  const [showPlan, setShowPlan] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const isPlus = plan?.plan === "plus";
  const isLoggedIn = api.current?.user.kind === "person";

  useEffect(() => {
    let cancelled = false;
    api
      .get<DirectoryOrg[]>("/directory/orgs?limit=12")
      .then((orgs) => !cancelled && setFeatured(orgs))
      .catch(() => undefined);
    if (isLoggedIn) {
      api
        .get<MyPlan>("/me/plan")
        .then((p) => !cancelled && setPlan(p))
        .catch(() => undefined);
    }
    return () => {
      cancelled = true;
    };
  }, [api, isLoggedIn]);

  useEffect(() => {
    const q = query.trim();
    if (!q && !category) {
      setResults(null);
      setTeams(null);
      return;
    }
    let cancelled = false;
    const timer = window.setTimeout(async () => {
      try {
        const params = new URLSearchParams({ q, limit: "10" });
        if (category) params.set("category", category);
        const orgs = await api.get<DirectoryOrg[]>(`/directory/orgs?${params}`);
        if (cancelled) return;
        orgs.forEach((o) => rememberOrgName(o.id, o.name));
        setResults(orgs);
        setError(null);
        if (isNeed(q) && isPlus) {
          const answer = await api.post<Recommendation>("/directory/route", { text: q, limit: 3 });
          if (!cancelled) setTeams(answer);
        } else {
          setTeams(null);
        }
      } catch (e) {
        if (cancelled) return;
        if (e instanceof ApiError && e.code === "upgrade_required") setTeams(null);
        else setError(describeError(e));
      }
    }, 250);
    return () => {
      cancelled = true;
      window.clearTimeout(timer);
    };
  }, [api, query, category, isPlus]);

  const pick = (org: Org, group: Group | null) => {
    if (isNeed(query)) sessionStorage.setItem(NEED_KEY, query.trim());
    onPick(org, group);
  };

  const pickTeam = async (hit: GroupHit) => {
    try {
      const org = await api.get<Org>(`/directory/orgs/${encodeURIComponent(hit.org.slug)}`);
      rememberOrgName(org.id, org.name);
      pick(org, org.groups?.find((g) => g.id === hit.group.id) ?? null);
    } catch (e) {
      setError(describeError(e));
    }
  };

  const categories = [...new Set(featured.map((o) => o.category).filter((c): c is string => !!c))].sort();
  const shown = results ?? (query.trim() || category ? null : featured);
  const need = isNeed(query);

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
        placeholder="A company, a domain, or what you need (“I was charged twice”)…"
        value={query}
        onChange={(e) => setQuery(e.target.value)}
        autoComplete="off"
      />
      {categories.length > 0 && (
        <ul className="groups" aria-label="Categories">
          {categories.map((c) => (
            <li key={c}>
              <button type="button" className="chip" aria-pressed={category === c} onClick={() => setCategory(category === c ? null : c)} style={category === c ? SUGGESTED : undefined}>
                {c}
              </button>
            </li>
          ))}
        </ul>
      )}
      <ErrorNote error={error} />
      {need && teams && teams.groups.length > 0 && (
        <section aria-label="Recommended teams" className="result">
          <strong>Recommended teams</strong> <small className="muted">(Plus)</small>
          <ul className="results">
            {teams.groups.map((hit, i) => (
              <li key={hit.group.id}>
                <button type="button" className="result-org" onClick={() => void pickTeam(hit)}>
                  <span>
                    <strong>
                      {hit.group.name} · {hit.org.name}
                    </strong>
                    {i === 0 && <span className="badge" style={{ marginLeft: 6 }}>{sure(hit.confidence)}</span>}
                    <small>{hit.reason}</small>
                  </span>
                </button>
              </li>
            ))}
          </ul>
        </section>
      )}
      {need && !isPlus && results && results.length > 0 && (
        <p className="notice small" role="note">
          Plus finds the right team across every organization for what you need.{" "}
          <button type="button" className="link" onClick={() => setShowPlan(true)}>
            See plans
          </button>
        </p>
      )}
      {showPlan && <PlanPanel plan={plan} isLoggedIn={isLoggedIn} onClose={() => setShowPlan(false)} />}
      {shown && (
        <ul className="results" aria-label={results ? "Search results" : "Featured organizations"}>
          {results && results.length === 0 && <li className="empty">No organization matches “{query || category}”.</li>}
          {shown.map((org) => (
            <li key={org.id} className="result">
              <button type="button" className="result-org" onClick={() => pick(org, null)}>
                <span className="avatar" aria-hidden="true" style={{ background: org.settings.theme_color ?? undefined }}>
                  {org.name.slice(0, 1).toUpperCase()}
                </span>
                <span>
                  <strong>{org.name}</strong>
                  {org.is_verified && (
                    <span className="badge verified" style={{ marginLeft: 6 }} title={`Proved it controls ${org.domains.join(", ")}`}>
                      ✓ Verified
                    </span>
                  )}
                  {org.plan === "promoted" && (
                    <span className="badge" style={{ marginLeft: 6 }} title="This organization pays to be shown higher among equally relevant results">
                      Promoted
                    </span>
                  )}
                  <small>{need && org.reason ? org.reason : org.description}</small>
                </span>
              </button>
              {org.groups && org.groups.length > 1 && (
                <ul className="groups" aria-label={`${org.name} teams`}>
                  {org.groups
                    .filter((g) => !g.is_default)
                    .map((g) => {
                      const isMatch = need && org.matching_group?.id === g.id;
                      return (
                        <li key={g.id}>
                          <button
                            type="button"
                            className="chip"
                            onClick={() => pick(org, g)}
                            title={isMatch ? `The team for this: ${org.reason ?? g.name}` : (g.description ?? undefined)}
                            style={isMatch ? SUGGESTED : undefined}
                            data-matching={isMatch ? "true" : undefined}
                          >
                            {isMatch ? `${g.name} · matches` : g.name}
                          </button>
                        </li>
                      );
                    })}
                </ul>
              )}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

/** "87% sure"; never "100%": the router can be wrong. */
export function sure(confidence: number): string {
  return `${Math.min(99, Math.round(confidence * 100))}% sure`;
}

/** A highlighted chip: the matching team, the chosen category. */
export const SUGGESTED = { background: "var(--accent)", color: "var(--accent-text, #fff)" } as const;

/** The plan page: current plan, what plus gives, the checkout link (configured on the server). */
function PlanPanel({ plan, isLoggedIn, onClose }: { plan: MyPlan | null; isLoggedIn: boolean; onClose: () => void }) {
  const gives = plan?.plus?.gives ?? ["recommended teams across every organization for what you need", "search every organization's teams by what they handle"];
  const checkout = plan?.plus?.checkout_url;
  return (
    <section className="result stack" aria-label="Plans">
      <strong>Your plan: {plan ? (plan.plan === "plus" ? "Plus" : "Free") : "Guest"}</strong>
      <p className="small">Free: search organizations and the AI router inside the organization you pick. Plus adds:</p>
      <ul className="small">
        {gives.map((g) => (
          <li key={g}>{g}</li>
        ))}
      </ul>
      {!isLoggedIn ? (
        <p className="small muted">Create an account (Log out of guest mode, then Sign up) to subscribe.</p>
      ) : plan?.plan === "plus" ? (
        <p className="small muted">You have Plus.</p>
      ) : checkout ? (
        <a className="primary" href={checkout} target="_blank" rel="noopener noreferrer">
          Get Plus
        </a>
      ) : (
        <p className="small muted">Plus is not on sale on this server yet (its operator sets RAASEL_PLUS_CHECKOUT_URL).</p>
      )}
      <div className="actions">
        <button type="button" className="secondary small-button" onClick={onClose}>
          Close
        </button>
      </div>
    </section>
  );
}
