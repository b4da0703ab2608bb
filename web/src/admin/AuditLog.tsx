import { useCallback, useEffect, useState } from "react";
import { describeError, type Api } from "../lib/api";
import type { AuditEntry, Member, Org } from "../lib/types";
import { ErrorNote } from "../components/common";

const PAGE = 50;

export function AuditLog({ api, org, members }: { api: Api; org: Org; members: Member[] }) {
  const [entries, setEntries] = useState<AuditEntry[]>([]);
  const [hasMore, setHasMore] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const names = new Map(members.map((m) => [m.user_id, m.display_name]));

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

  return (
    <section className="stack">
      <h2>Audit log</h2>
      <ErrorNote error={error} />
      <div className="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Who</th>
              <th scope="col">Action</th>
              <th scope="col">Details</th>
            </tr>
          </thead>
          <tbody>
            {entries.map((e) => (
              <tr key={e.id}>
                <td>{new Date(e.created_at).toLocaleString()}</td>
                <td>{names.get(e.actor_id ?? "") ?? e.actor_id ?? "system"}</td>
                <td>{e.action}</td>
                <td className="details">{[e.target, JSON.stringify(e.details)].filter((x) => x && x !== "{}").join(" ")}</td>
              </tr>
            ))}
            {entries.length === 0 && (
              <tr>
                <td colSpan={4} className="empty">
                  Nothing recorded yet.
                </td>
              </tr>
            )}
          </tbody>
        </table>
      </div>
      {hasMore && (
        <button type="button" className="secondary" onClick={() => load(entries[entries.length - 1]?.id)}>
          Load older entries
        </button>
      )}
    </section>
  );
}
