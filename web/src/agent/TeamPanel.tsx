// Supervisors: every agent's availability, connection and load, live from presence.
import { useCallback, useEffect, useState } from "react";
import { describeError, type Api } from "../lib/api";
import type { ChatSession } from "../core/session";
import type { Group } from "../lib/types";
import { ErrorNote } from "../components/common";
import type { TeamMember } from "./inboxApi";

export function TeamPanel({ api, chat, groups }: { api: Api; chat: ChatSession | null; groups: Group[] }) {
  const [team, setTeam] = useState<TeamMember[]>([]);
  const [error, setError] = useState<string | null>(null);
  const load = useCallback(async () => {
    try {
      setTeam(await api.get<TeamMember[]>("/inbox/team"));
      setError(null);
    } catch (e) {
      setError(describeError(e));
    }
  }, [api]);
  useEffect(() => {
    void load();
  }, [load]);
  useEffect(() => {
    if (!chat) return;
    const offs = [
      chat.on("presence:update", (p: { user_id: string; availability: string; is_connected: boolean }) =>
        setTeam((list) => list.map((m) => (m.user_id === p.user_id ? { ...m, availability: p.availability, is_connected: p.is_connected } : m))),
      ),
      chat.on("inbox:counts", ({ counts }: { counts: { agents?: Record<string, number> } }) => {
        const agents = counts.agents;
        if (agents) setTeam((list) => list.map((m) => (m.user_id in agents ? { ...m, open: agents[m.user_id] } : m)));
      }),
    ];
    return () => offs.forEach((off) => off());
  }, [chat]);
  const groupName = (id: string) => groups.find((g) => g.id === id)?.name ?? "";
  return (
    <section className="team-panel card" aria-labelledby="team-title">
      <h2 id="team-title">Team</h2>
      <ErrorNote error={error} />
      <div className="table-scroll">
        <table>
          <thead>
            <tr>
              <th scope="col">Agent</th>
              <th scope="col">Status</th>
              <th scope="col">Load</th>
              <th scope="col">Groups</th>
            </tr>
          </thead>
          <tbody>
            {team.map((m) => (
              <tr key={m.user_id} data-user-id={m.user_id}>
                <th scope="row">
                  {m.display_name} <span className="muted small">{m.role}</span>
                </th>
                <td>
                  <span className={`dot dot-${m.is_connected ? m.availability : "offline"}`} aria-hidden="true" /> {m.availability}
                  {!m.is_connected && m.availability !== "offline" && <span className="muted small"> (not connected)</span>}
                </td>
                <td>
                  <meter min={0} max={m.capacity} value={m.open} aria-label={`${m.open} of ${m.capacity}`} /> {m.open}/{m.capacity}
                </td>
                <td>{m.group_ids.map(groupName).join(", ")}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
