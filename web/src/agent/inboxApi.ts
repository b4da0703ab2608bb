// The team inbox's REST shapes (docs/protocol.md, "Team inbox") and the arithmetic the
// console shares with the server: which count each view shows (actions/inbox.py,
// view_counts), merged from `inbox:counts` slices.
import type { Conversation } from "../lib/types";

export type ViewName = "mine" | "queue" | "unassigned" | "all" | "escalated" | "resolved";

export const VIEWS: { name: ViewName; label: string; leadsOnly?: boolean }[] = [
  { name: "queue", label: "Queue" },
  { name: "mine", label: "Mine" },
  { name: "unassigned", label: "Unassigned" },
  { name: "all", label: "All open", leadsOnly: true },
  { name: "escalated", label: "Escalated", leadsOnly: true },
  { name: "resolved", label: "Resolved" },
];

export interface InboxConversation extends Conversation {
  tags?: string[];
  is_escalated?: boolean;
  assigned_at?: string | null;
  resolved_at?: string | null;
  category?: string | null;
  resolution_note?: string | null;
}

export interface ViewPage {
  view: ViewName;
  items: InboxConversation[];
  next_cursor: string | null;
}

export interface Filters {
  group_id?: string;
  assignee_id?: string;
  label?: string;
  priority?: string;
  channel?: string;
  /** ``support`` | ``outreach`` | ``b2b`` (with other organizations, either side). */
  kind?: string;
  status?: string;
  since?: string;
  until?: string;
}

export interface CountsSummary {
  open?: number;
  escalated?: number;
  unassigned?: number;
  groups?: Record<string, number>;
  agents?: Record<string, number>;
}

export interface CountsAnswer {
  views: Partial<Record<ViewName, number>>;
  counts: CountsSummary;
  group_ids: string[];
  is_lead: boolean;
}

export interface Label {
  name: string;
  color: string;
  description: string;
}

export interface Canned {
  id: string;
  shortcut: string;
  title: string;
  body: string;
  is_personal: boolean;
}

export interface TeamMember {
  user_id: string;
  display_name: string;
  role: string;
  availability: string;
  is_connected: boolean;
  capacity: number;
  open: number;
  group_ids: string[];
}

export interface SearchAnswer {
  query: string;
  marks: [string, string];
  conversations: { conversation: InboxConversation }[];
  messages: { conversation: InboxConversation; position: number; kind: string; snippet: string }[];
  next_cursor: string | null;
}

export const PRIORITIES = ["urgent", "high", "normal", "low"] as const;

export function viewPath(view: ViewName, filters: Filters, cursor: string | null, limit: number): string {
  const params = new URLSearchParams({ view, limit: String(limit) });
  for (const [key, value] of Object.entries(filters)) if (value) params.set(key, value);
  if (cursor) params.set("cursor", cursor);
  return `/inbox/conversations?${params}`;
}

/** Merge a slice of `inbox:counts` into what the console holds (maps key by key). */
export function mergeCounts(held: CountsSummary, slice: CountsSummary): CountsSummary {
  return {
    ...held,
    ...slice,
    groups: { ...held.groups, ...slice.groups },
    agents: { ...held.agents, ...slice.agents },
  };
}

/** Each view's badge, as actions/inbox.py view_counts computes it. */
export function viewCounts(summary: CountsSummary, me: string, groupIds: string[], isLead: boolean): Partial<Record<ViewName, number>> {
  const groups = summary.groups ?? {};
  const inMine = groupIds.reduce((n, g) => n + (groups[g] ?? 0), 0);
  const allGroups = Object.values(groups).reduce((n, v) => n + v, 0);
  const counts: Partial<Record<ViewName, number>> = {
    mine: summary.agents?.[me] ?? 0,
    queue: groupIds.length || !isLead ? inMine : allGroups,
    unassigned: isLead ? (summary.unassigned ?? 0) : inMine,
  };
  if (isLead) {
    counts.all = summary.open ?? 0;
    counts.escalated = summary.escalated ?? 0;
  }
  return counts;
}

/** A search snippet cut into plain text and highlighted parts (never HTML). */
export function snippetParts(snippet: string, [start, end]: [string, string]): { text: string; hit: boolean }[] {
  const parts: { text: string; hit: boolean }[] = [];
  let rest = snippet;
  while (rest) {
    const a = rest.indexOf(start);
    if (a < 0) break;
    const b = rest.indexOf(end, a + start.length);
    if (b < 0) break;
    if (a > 0) parts.push({ text: rest.slice(0, a), hit: false });
    parts.push({ text: rest.slice(a + start.length, b), hit: true });
    rest = rest.slice(b + end.length);
  }
  if (rest) parts.push({ text: rest.split(start).join("").split(end).join(""), hit: false });
  return parts;
}
