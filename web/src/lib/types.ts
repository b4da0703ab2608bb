// The JSON shapes of docs/protocol.md that the web app reads. Unknown fields are ignored.

export type Side = "customer" | "org";
export type Status = "queued" | "active" | "resolved" | "closed";

export interface User {
  id: string;
  email: string | null;
  display_name: string;
  kind: string;
}

export interface Session {
  access_token: string;
  refresh_token: string;
  expires_in: number;
  user: User;
  org_id: string | null;
  role?: string | null;
}

export interface Message {
  id: string;
  conversation_id: string;
  client_id: string | null;
  sender_id: string | null;
  sender_side: Side;
  kind: "text" | "note" | "system";
  text: string | null;
  attachment_id: string | null;
  created_at: string;
}

/** A message as the screen holds it: `pending` until the server acknowledged it. */
export interface ShownMessage extends Message {
  pending?: boolean;
  failed?: boolean;
}

export interface Watermarks {
  delivered_up_to: string;
  read_up_to: string;
}

export type Receipts = Partial<Record<Side, Watermarks>>;

export interface CustomerPanel {
  id: string;
  name: string | null;
  email: string | null;
  kind: string | null;
  since: string | null;
  conversations: { id: string; subject: string | null; status: Status; created_at: string }[];
}

export interface Conversation {
  id: string;
  org_id: string;
  group_id: string | null;
  status: Status;
  subject: string | null;
  customer: { id: string; name: string | null };
  assignee: { id: string; name: string | null } | null;
  created_at: string;
  updated_at: string;
  last_message: { id: string; preview: string | null; sender_id: string | null; at: string | null } | null;
  unread?: number;
  receipts?: Receipts;
  queue_position?: number | null;
  queued_at?: string | null;
  priority?: string;
  customer_panel?: CustomerPanel;
  org_name?: string;
}

export interface Group {
  id: string;
  org_id?: string;
  slug: string;
  name: string;
  description: string | null;
  policy: "round_robin" | "least_busy" | "manual";
  is_default: boolean;
}

export interface Org {
  id: string;
  slug: string;
  name: string;
  description: string | null;
  category: string | null;
  domains: string[];
  tags: string[];
  languages: string[];
  settings: { welcome_text?: string; theme_color?: string; offline_message?: string };
  is_listed?: boolean;
  groups?: Group[];
}

export interface Member {
  user_id: string;
  email: string | null;
  display_name: string;
  role: string;
  availability: string;
  capacity: number;
  is_active: boolean;
  group_ids: string[];
}

export interface AuditEntry {
  id: string;
  actor_id: string | null;
  action: string;
  target: string | null;
  details: Record<string, unknown>;
  created_at: string;
}

export interface TypingEvent {
  conversation_id: string;
  user_id: string;
  name: string | null;
  side: Side;
  is_typing: boolean;
  is_note: boolean;
  expires_in: number;
}

export interface QueueEntry {
  conversation_id: string;
  position: number;
  queued_at: string;
  subject: string | null;
  preview: string | null;
  priority: string;
}
