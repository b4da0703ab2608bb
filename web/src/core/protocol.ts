// The wire shapes of docs/protocol.md (v1) that the clients read and write. Unknown fields
// are ignored. Fields marked "positions" are the v1 additions of the conversation engine:
// an older server leaves them out and the core falls back to message ids.

/** ``peer``: the other organization of a b2b conversation (docs/protocol.md). */
export type Side = "customer" | "org" | "platform" | "peer";
export type Status = "queued" | "active" | "resolved" | "closed";
export type MessageKind = "text" | "note" | "system";

export interface Message {
  id: string;
  conversation_id: string;
  client_id: string | null;
  sender_id: string | null;
  sender_side: Side;
  /** Who wrote it, as the message says (kept after a transfer); null for system messages,
   * platform support, and servers older than issue 12. */
  sender_name?: string | null;
  kind: MessageKind;
  text: string | null;
  attachment_id: string | null;
  created_at: string;
  /** positions: 1-based per conversation, dense over every message (notes included). */
  position?: number;
}

/** A message as a screen holds it: `pending` until acknowledged, `failed` if refused. */
export interface ShownMessage extends Message {
  pending?: boolean;
  failed?: boolean;
}

export interface Watermarks {
  delivered_up_to: string;
  read_up_to: string;
  delivered_position?: number;
  read_position?: number;
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
  /** positions: the newest position the receiver may see. */
  last_position?: number;
  unread?: number;
  receipts?: Receipts;
  queue_position?: number | null;
  queued_at?: string | null;
  priority?: string;
  customer_panel?: CustomerPanel;
  org_name?: string;
  /** Customers' views: which organization and which team has it (null: "Unassigned"). */
  org?: { id: string; name: string | null };
  group?: { id: string; name: string } | null;
  routing?: { group: { id: string; name: string } | null; is_auto_routed: boolean };
  /** Customers' views while nobody can answer (docs/protocol.md, "Business hours"). */
  offline?: { reason: "closed" | "nobody_available"; message: string; opens_at: string | null; expected_reply_at: string | null; can_leave_email: boolean };
  /** support | outreach | platform (docs/protocol.md, "Conversation kinds"). */
  kind?: string;
  /** The organization's and the operators' views, once opened or escalated to the platform. */
  platform?: { at: string; category: string; reason: string | null; operator_ids: string[]; operators?: { id: string; name: string | null }[] };
  /** Individuals' views: who writes (the verified badge) and their mute/block of it. */
  organization?: OrgBadge;
  contact?: { is_muted: boolean; is_blocked: boolean };
  /** Organization <-> organization conversations: each organization's own side. */
  b2b?: B2BSides;
}

export interface OrgRef {
  id: string;
  slug: string;
  name: string;
}

export interface B2BSides {
  side: "org" | "peer";
  org: OrgRef | null;
  peer: OrgRef | null;
  other_org: OrgRef | null;
  org_status: string;
  peer_status: string | null;
  other_status: string | null;
  accepted_at: string | null;
}

export interface OrgBadge {
  id: string;
  slug: string;
  name: string;
  logo_url: string | null;
  is_verified: boolean;
  verified_domains: string[];
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
  queued_at: string | null;
  subject: string | null;
  preview: string | null;
  priority: string;
}

/** Server → client events and their payloads. */
export interface ServerEvents {
  "message:new": {
    message: Message;
    conversation_id?: string;
    position?: number;
    previous_position?: number;
    /** The receiving side's unread count after this message (the `message_unread` feature). */
    unread?: { side: Side; unread: number };
    /** In a b2b conversation, the receiving organization's side (``org`` or ``peer``). */
    side?: Side;
  };
  "receipt:update": {
    conversation_id: string;
    side: Side;
    delivered_up_to: string;
    read_up_to: string;
    delivered_position?: number;
    read_position?: number;
    position?: number;
  };
  "unread:update": { conversation_id: string; side: Side; unread: number; position?: number };
  typing: TypingEvent;
  "conversation:updated": { conversation: Conversation };
  "queue:updated": { group_id: string; queue: QueueEntry[] };
  "queue:position": { conversation_id: string; position: number; estimated_wait_seconds?: number };
  "presence:update": { user_id: string; availability: string; is_connected: boolean };
  /** The team inbox's counts (docs/protocol.md, "Team inbox"): merge into what you hold. */
  "inbox:counts": { org_id: string; counts: Record<string, number | Record<string, number>> };
  "csat:new": { rating: { conversation_id: string; rating: number; comment: string; assignee_id: string | null } };
  "mention:new": { conversation_id: string; position: number; by: { id: string; name: string }; preview: string };
  /** An individual muted, blocked or undid either for an organization, on any device. */
  "contact:updated": { organization: { id: string; name: string }; is_muted: boolean; is_blocked: boolean };
}

export type ServerEventName = keyof ServerEvents;

/**
 * What this client declares at connect (`auth.features`, docs/protocol.md): with
 * `message_unread` the server puts the receiving side's count on `message:new` and sends
 * no `unread:update` for it (one packet per delivered message).
 */
export const CLIENT_FEATURES = ["message_unread"];

/** The `unread:update` a `message:new` carries, for the listeners of `unread:update`. */
export function unreadOfMessage(p: ServerEvents["message:new"]): ServerEvents["unread:update"] | null {
  if (!p.unread || !p.conversation_id) return null;
  return { conversation_id: p.conversation_id, side: p.unread.side, unread: p.unread.unread, position: p.position };
}

export const SERVER_EVENTS: ServerEventName[] = [
  "message:new",
  "receipt:update",
  "unread:update",
  "typing",
  "conversation:updated",
  "queue:updated",
  "queue:position",
  "presence:update",
  "inbox:counts",
  "csat:new",
  "mention:new",
  "contact:updated",
];

export interface HistoryPage {
  messages: Message[];
  has_more: boolean;
  next_before: string | null;
}

/** One `sync` request entry: positions when the client holds them, else the old id form. */
export type SyncRequest = { conversation_id: string; after_position: number } | { conversation_id: string; after: string };

export interface SyncResult {
  conversation_id: string;
  status?: Status;
  messages?: Message[];
  has_more?: boolean;
  unread?: number;
  receipts?: Receipts;
  last_position?: number;
  error?: { code: string; message: string };
}

/** A refusal or a failure to talk: `code` is the protocol's error code (or timeout/offline). */
export class ProtocolError extends Error {
  constructor(
    readonly code: string,
    message: string,
    /** The whole `error` object of the refusal (e.g. `stale_devices` carries the current devices). */
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}
