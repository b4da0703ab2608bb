import { useCallback, useEffect, useState, type FormEvent } from "react";
import { describeError, type Api } from "../lib/api";
import type { Group, Member, Org } from "../lib/types";
import { ErrorNote, Field } from "../components/common";

const ROLES = ["agent", "supervisor", "admin", "owner"];

interface Props {
  api: Api;
  org: Org;
  groups: Group[];
  members: Member[];
  myRole: string;
  onChanged: () => Promise<void>;
}

interface Invitation {
  id: string;
  email: string;
  display_name: string;
  role: string;
  expires_at: string;
}

export function MembersAdmin({ api, org, groups, members, myRole, onChanged }: Props) {
  const roles = myRole === "owner" ? ROLES : ROLES.slice(0, 2);
  const empty = { email: "", display_name: "", role: "agent", capacity: 5, group_ids: [] as string[] };
  const [draft, setDraft] = useState(empty);
  const [error, setError] = useState<string | null>(null);
  const [sent, setSent] = useState<string | null>(null);
  const [pending, setPending] = useState<Invitation[]>([]);

  const loadPending = useCallback(async () => {
    try {
      setPending(await api.get<Invitation[]>(`/orgs/${org.id}/invitations`));
    } catch {
      setPending([]); // supervisors and agents do not see invitations
    }
  }, [api, org.id]);
  useEffect(() => {
    void loadPending();
  }, [loadPending]);

  // People join by accepting a mailed invitation: nobody's account is attached, and no
  // password is chosen for them.
  const invite = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    setSent(null);
    try {
      await api.post(`/orgs/${org.id}/invitations`, draft);
      setSent(`Invitation sent to ${draft.email}.`);
      setDraft(empty);
      await Promise.all([loadPending(), onChanged()]);
    } catch (err) {
      setError(describeError(err));
    }
  };
  const withdraw = async (invitation: Invitation) => {
    try {
      await api.request("DELETE", `/orgs/${org.id}/invitations/${invitation.id}`);
      await loadPending();
    } catch (err) {
      setError(describeError(err));
    }
  };

  return (
    <section className="stack">
      <h2>Agents</h2>
      <div className="table-wrap">
        <table className="members-table">
          <caption className="visually-hidden">Members of {org.name}</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Role</th>
              <th scope="col">Capacity</th>
              <th scope="col">Groups</th>
              <th scope="col">Active</th>
              <th scope="col">
                <span className="visually-hidden">Save</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {members.map((m) => (
              <MemberRow key={m.user_id} api={api} org={org} member={m} groups={groups} roles={roles} onChanged={onChanged} />
            ))}
          </tbody>
        </table>
      </div>
      {pending.length > 0 && (
        <div className="card stack">
          <h3>Invited</h3>
          <ul className="plain" aria-label="Pending invitations">
            {pending.map((i) => (
              <li key={i.id}>
                {i.display_name} <small className="muted">{i.email}</small> · {i.role}{" "}
                <button type="button" className="secondary small-button" onClick={() => void withdraw(i)} aria-label={`Withdraw the invitation of ${i.email}`}>
                  Withdraw
                </button>
              </li>
            ))}
          </ul>
        </div>
      )}
      <form className="card stack" onSubmit={invite}>
        <h3>Invite an agent</h3>
        <p className="small muted">They get a link by mail and join once they accept it, with their own password.</p>
        <div className="grid2">
          <Field label="Name">
            <input value={draft.display_name} onChange={(e) => setDraft({ ...draft, display_name: e.target.value })} required maxLength={120} />
          </Field>
          <Field label="Email">
            <input type="email" value={draft.email} onChange={(e) => setDraft({ ...draft, email: e.target.value })} required />
          </Field>
          <Field label="Role">
            <select value={draft.role} onChange={(e) => setDraft({ ...draft, role: e.target.value })}>
              {roles.map((r) => (
                <option key={r}>{r}</option>
              ))}
            </select>
          </Field>
          <Field label="Capacity" hint="Open conversations at once (1–100)">
            <input type="number" min={1} max={100} value={draft.capacity} onChange={(e) => setDraft({ ...draft, capacity: Number(e.target.value) })} />
          </Field>
        </div>
        <fieldset>
          <legend>Groups</legend>
          {groups.map((g) => (
            <label key={g.id} className="check">
              <input
                type="checkbox"
                checked={draft.group_ids.includes(g.id)}
                onChange={(e) =>
                  setDraft({ ...draft, group_ids: e.target.checked ? [...draft.group_ids, g.id] : draft.group_ids.filter((x) => x !== g.id) })
                }
              />{" "}
              {g.name}
            </label>
          ))}
        </fieldset>
        <ErrorNote error={error} />
        {sent && (
          <p className="notice" role="status">
            {sent}
          </p>
        )}
        <button type="submit" className="primary">
          Send invitation
        </button>
      </form>
    </section>
  );
}

function MemberRow({ api, org, member, groups, roles, onChanged }: { api: Api; org: Org; member: Member; groups: Group[]; roles: string[]; onChanged: () => Promise<void> }) {
  const [form, setForm] = useState({ role: member.role, capacity: member.capacity, is_active: member.is_active, group_ids: member.group_ids });
  const [error, setError] = useState<string | null>(null);
  const save = async () => {
    setError(null);
    try {
      const changes: Record<string, unknown> = { capacity: form.capacity, is_active: form.is_active, group_ids: form.group_ids };
      if (form.role !== member.role) changes.role = form.role;
      await api.patch(`/orgs/${org.id}/members/${member.user_id}`, changes);
      await onChanged();
    } catch (err) {
      setError(describeError(err));
    }
  };
  const who = member.display_name;
  return (
    <tr className={member.is_active ? "" : "inactive"}>
      <th scope="row">
        {who}
        <small className="muted email">{member.email && <Email address={member.email} />}</small>
        {error && (
          <small className="error-text" role="alert">
            {error}
          </small>
        )}
      </th>
      <td>
        <select aria-label={`Role of ${who}`} value={form.role} onChange={(e) => setForm({ ...form, role: e.target.value })}>
          {[...new Set([...roles, member.role])].map((r) => (
            <option key={r}>{r}</option>
          ))}
        </select>
      </td>
      <td>
        <input aria-label={`Capacity of ${who}`} type="number" min={1} max={100} value={form.capacity} onChange={(e) => setForm({ ...form, capacity: Number(e.target.value) })} />
      </td>
      <td>
        {groups.map((g) => (
          <label key={g.id} className="check">
            <input
              type="checkbox"
              checked={form.group_ids.includes(g.id)}
              onChange={(e) => setForm({ ...form, group_ids: e.target.checked ? [...form.group_ids, g.id] : form.group_ids.filter((x) => x !== g.id) })}
            />{" "}
            {g.name}
          </label>
        ))}
      </td>
      <td>
        <input aria-label={`${who} is active`} type="checkbox" checked={form.is_active} onChange={(e) => setForm({ ...form, is_active: e.target.checked })} />
      </td>
      <td>
        <button type="button" className="secondary small-button" onClick={save} aria-label={`Save ${who}`}>
          Save
        </button>
      </td>
    </tr>
  );
}

/** An address that wraps at its @ and dots on a narrow screen, never inside a word. */
function Email({ address }: { address: string }) {
  const parts = address.split(/(?=[@.])/);
  return (
    <>
      {parts.map((part, i) => (
        <span key={i}>
          {i > 0 && <wbr />}
          {part}
        </span>
      ))}
    </>
  );
}
