// Organization administration: profile and directory listing, groups, agents, audit log.
import { useState } from "react";
import type { Api } from "../lib/api";
import type { Group, Member, Org } from "../lib/types";
import { AuditLog } from "./AuditLog";
import { GroupsAdmin } from "./GroupsAdmin";
import { MembersAdmin } from "./MembersAdmin";
import { ProfileAdmin } from "./ProfileAdmin";

type Section = "profile" | "groups" | "agents" | "audit";
const SECTIONS: [Section, string][] = [
  ["profile", "Profile"],
  ["groups", "Groups"],
  ["agents", "Agents"],
  ["audit", "Audit log"],
];

interface Props {
  api: Api;
  org: Org;
  groups: Group[];
  members: Member[];
  myRole: string;
  onChanged: () => Promise<void>;
}

export function AdminPanel({ api, org, groups, members, myRole, onChanged }: Props) {
  const [section, setSection] = useState<Section>("profile");
  return (
    <main className="admin" id="pane" tabIndex={-1}>
      <nav className="admin-nav" aria-label="Administration">
        {SECTIONS.map(([key, label]) => (
          <button key={key} type="button" className={section === key ? "tab active" : "tab"} aria-current={section === key ? "page" : undefined} onClick={() => setSection(key)}>
            {label}
          </button>
        ))}
      </nav>
      <div className="admin-body">
        {section === "profile" && <ProfileAdmin api={api} org={org} onChanged={onChanged} />}
        {section === "groups" && <GroupsAdmin api={api} org={org} groups={groups} members={members} onChanged={onChanged} />}
        {section === "agents" && <MembersAdmin api={api} org={org} groups={groups} members={members} myRole={myRole} onChanged={onChanged} />}
        {section === "audit" && <AuditLog api={api} org={org} members={members} />}
      </div>
    </main>
  );
}
