// Organization administration: profile and directory listing, groups, agents, social channels, audit log.
import { useState } from "react";
import type { Api } from "../lib/api";
import type { Group, Member, Org } from "../lib/types";
import { AuditLog } from "./AuditLog";
import { ChannelsAdmin } from "./ChannelsAdmin";
import { GroupsAdmin } from "./GroupsAdmin";
import { MembersAdmin } from "./MembersAdmin";
import { PlatformSupport } from "./PlatformSupport";
import { ProfileAdmin } from "./ProfileAdmin";
import "./admin.css";

type Section = "profile" | "groups" | "agents" | "channels" | "audit" | "platform";
const SECTIONS: [Section, string][] = [
  ["profile", "Profile"],
  ["groups", "Groups"],
  ["agents", "Agents"],
  ["channels", "Channels"],
  ["audit", "Audit log"],
  ["platform", "Contact platform support"],
];

interface Props {
  api: Api;
  org: Org;
  groups: Group[];
  members: Member[];
  myRole: string;
  onChanged: () => Promise<void>;
  /** Show a conversation in the inbox (a platform-support one the admin opened). */
  onOpenConversation?: (conversationId: string) => void;
}

export function AdminPanel({ api, org, groups, members, myRole, onChanged, onOpenConversation }: Props) {
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
        {section === "channels" && <ChannelsAdmin api={api} org={org} groups={groups} />}
        {section === "audit" && <AuditLog api={api} org={org} members={members} groups={groups} />}
        {section === "platform" && <PlatformSupport api={api} org={org} onOpen={onOpenConversation} />}
      </div>
    </main>
  );
}
