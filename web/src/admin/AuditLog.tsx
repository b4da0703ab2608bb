// The audit log as people read it: names instead of ids, one sentence per entry (the
// server's `summary`; older servers: composed here), and filters by action and by person.
import { useCallback, useEffect, useMemo, useState } from "react";
import { describeError, type Api } from "../lib/api";
import type { AuditEntry, Group, Member, Org } from "../lib/types";
import { ErrorNote } from "../components/common";
import { duration } from "../agent/Reports";

interface Activity {
  id: string;
  kind: string;
  conversation_id: string;
  subject: string | null;
  customer: string | null;
  agent: string | null;
  waited_seconds: number | null;
  at: string;
}

/** A conversation event (GET /inbox/activity) as a sentence. */
export function activitySentence(a: Activity): string {
  const customer = a.customer ?? "A customer";
  const theirs = `${customer}'s conversation`;
  const agent = a.agent ?? "an agent";
  switch (a.kind) {
    case "opened":
      return `${customer} opened a conversation${a.subject ? ` (“${a.subject}”)` : ""}.`;
    case "assigned":
      return `${agent} took ${theirs}${a.waited_seconds !== null ? ` after ${duration(a.waited_seconds)} in the queue` : ""}.`;
    case "transferred":
      return `${theirs} was handed to ${agent}.`;
    case "first_response":
      return `${agent} first answered ${customer}${a.waited_seconds !== null ? ` after ${duration(a.waited_seconds)}` : ""}.`;
    case "resolved":
      return `${theirs} was resolved${a.agent ? ` (assigned to ${a.agent})` : ""}.`;
    case "closed":
      return `${theirs} was closed${a.agent ? ` (assigned to ${a.agent})` : ""}.`;
    case "reopened":
      return `${theirs} was reopened.`;
    default:
      return `${theirs}: ${a.kind.replace(/_/g, " ")}.`;
  }
}

const PAGE = 50;

const KINDS: Record<string, string> = {
  conversation: "Conversations: who assigned, transferred, resolved",
  activity: "Conversation activity (opened, queue waits, first answers)",
  org: "Organization",
  group: "Groups",
  member: "Members",
  invitation: "Invitations",
  domain: "Domains",
  plan: "Plan",
};

type Names = { person: (id: string | null | undefined) => string; group: (id: string) => string };

function list(value: unknown): string {
  if (Array.isArray(value)) return value.map(String).join(", ");
  if (value && typeof value === "object") return Object.entries(value as Record<string, unknown>).map(([k, v]) => `${k.replace(/_/g, " ")} ${list(v)}`).join(", ");
  return String(value);
}

function changes(details: Record<string, unknown>, names: Names): string {
  const parts = Object.entries(details).map(([key, value]) => {
    if (key === "group_ids" && Array.isArray(value)) return `groups: ${value.map((g) => names.group(String(g))).join(", ") || "none"}`;
    if (key === "is_active") return value ? "reactivated" : "deactivated";
    return `${key.replace(/_/g, " ")}: ${list(value)}`;
  });
  return parts.join("; ");
}

/** One entry as a sentence: who did what to whom. */
export function sentence(e: AuditEntry, names: Names): string {
  const who = names.person(e.actor_id);
  const d = e.details ?? {};
  switch (e.action) {
    case "org.create":
      return `${who} created the organization (${list(d.slug)}).`;
    case "org.update":
      return `${who} changed the organization's ${changes(d, names) || "profile"}.`;
    case "group.create":
      return `${who} created the group ${names.group(e.target ?? "")}.`;
    case "group.update":
      return `${who} changed the group ${names.group(e.target ?? "")}: ${changes(d, names)}.`;
    case "member.invite":
      return `${who} invited a new member (${list(d.role)}).`;
    case "member.join":
      return `${names.person(e.target)} became a member${d.role ? ` (${list(d.role)})` : ""}.`;
    case "member.update":
      return `${who} changed the member ${names.person(e.target)}: ${changes(d, names)}.`;
    case "invitation.revoke":
      return `${who} revoked an invitation.`;
    case "domain.verify":
      return `${who} verified the domain ${e.target}${d.by ? ` (by ${list(d.by)})` : ""}.`;
    case "plan.change":
      return `The plan changed to ${list(d.plan)}${d.source ? ` (${list(d.source)})` : ""}.`;
    default:
      return `${who}: ${e.action.replace(/[._]/g, " ")}${e.target ? ` ${names.person(e.target)}` : ""}${Object.keys(d).length ? ` (${changes(d, names)})` : ""}.`;
  }
}

export function AuditLog({ api, org, members, groups = [] }: { api: Api; org: Org; members: Member[]; groups?: Group[] }) {
  const [entries, setEntries] = useState<AuditEntry[]>([]);
  const [hasMore, setHasMore] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [kind, setKind] = useState("");
  const [person, setPerson] = useState("");
  const [activity, setActivity] = useState<Activity[]>([]);
  const [activityMore, setActivityMore] = useState<string | null>(null);
  const names = useMemo<Names>(() => {
    const people = new Map(members.map((m) => [m.user_id, m.display_name]));
    const groupNames = new Map(groups.map((g) => [g.id, g.name]));
    return {
      person: (id) => (id ? (people.get(id) ?? (id === org.id ? org.name : "a former member")) : "The system"),
      group: (id) => groupNames.get(id) ?? "a removed group",
    };
  }, [members, groups, org]);

  const load = useCallback(
    async (before?: string) => {
      try {
        const page = await api.get<AuditEntry[]>(`/orgs/${org.id}/audit?limit=${PAGE}${before ? `&before=${before}` : ""}`);
        setEntries((current) => (before ? [...current, ...page] : page));
        setHasMore(page.length === PAGE);
      } catch (e) {
        setError(describeError(e));
      }
    },
    [api, org.id],
  );

  useEffect(() => {
    void load();
  }, [load]);

  const loadActivity = useCallback(
    async (before?: string) => {
      try {
        const page = await api.get<{ entries: Activity[]; next_before: string | null }>(`/inbox/activity?limit=${PAGE}${before ? `&before=${before}` : ""}`);
        setActivity((current) => (before ? [...current, ...page.entries] : page.entries));
        setActivityMore(page.next_before);
      } catch (e) {
        setError(describeError(e));
      }
    },
    [api],
  );

  useEffect(() => {
    if (kind === "activity") void loadActivity();
  }, [kind, loadActivity]);

  const shown = entries.filter((e) => (!kind || e.action.startsWith(`${kind}.`)) && (!person || e.actor_id === person || e.target === person));
  return (
    <section className="stack">
      <h2>Audit log</h2>
      <ErrorNote error={error} />
      <div className="audit-filters">
        <label>
          What{" "}
          <select value={kind} onChange={(e) => setKind(e.target.value)}>
            <option value="">Everything</option>
            {Object.entries(KINDS).map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </select>
        </label>
        <label>
          Who{" "}
          <select value={person} onChange={(e) => setPerson(e.target.value)}>
            <option value="">Anyone</option>
            {members.map((m) => (
              <option key={m.user_id} value={m.user_id}>
                {m.display_name}
              </option>
            ))}
          </select>
        </label>
      </div>
      {kind === "activity" ? (
        <div className="table-wrap">
          <table className="audit">
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">What happened</th>
              </tr>
            </thead>
            <tbody>
              {activity.map((a) => (
                <tr key={a.id} data-action={`conversation.${a.kind}`}>
                  <td className="when">
                    <time dateTime={a.at}>{new Date(a.at).toLocaleString()}</time>
                  </td>
                  <td>{activitySentence(a)}</td>
                </tr>
              ))}
              {activity.length === 0 && (
                <tr>
                  <td colSpan={2} className="empty">
                    No conversation activity yet.
                  </td>
                </tr>
              )}
            </tbody>
          </table>
          {activityMore && (
            <button type="button" className="secondary" onClick={() => void loadActivity(activityMore)}>
              Load older activity
            </button>
          )}
        </div>
      ) : (
      <div className="table-wrap">
        <table className="audit">
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">What happened</th>
            </tr>
          </thead>
          <tbody>
            {shown.map((e) => (
              <tr key={e.id} data-action={e.action}>
                <td className="when">
                  <time dateTime={e.created_at}>{new Date(e.created_at).toLocaleString()}</time>
                </td>
                <td>{e.summary ?? sentence(e, names)}</td>
              </tr>
            ))}
            {shown.length === 0 && (
              <tr>
                <td colSpan={2} className="empty">
                  {entries.length ? "Nothing matches these filters." : "Nothing recorded yet."}
                </td>
              </tr>
            )}
          </tbody>
        </table>
      </div>
      )}
      {hasMore && kind !== "activity" && (
        <button type="button" className="secondary" onClick={() => load(entries[entries.length - 1]?.id)}>
          Load older entries
        </button>
      )}
    </section>
  );
}
