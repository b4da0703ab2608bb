// The JSON shapes of the REST API that the app's screens read; the conversation and
// message shapes live in the session core (core/protocol.ts). Unknown fields are ignored.

export type { Conversation, CustomerPanel, Message, QueueEntry, Receipts, ShownMessage, Side, Status, TypingEvent, Watermarks } from "../core/protocol";

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

export interface Group {
  id: string;
  org_id?: string;
  slug: string;
  name: string;
  description: string | null;
  policy: "round_robin" | "least_busy" | "manual";
  is_default: boolean;
  examples?: string[]; // example requests the AI router embeds with the description
}

export interface Org {
  id: string;
  slug: string;
  name: string;
  description: string | null;
  category: string | null;
  domains: string[]; // only the verified ones (claims prove nothing)
  is_verified?: boolean; // the directory's badge: it proved a domain
  tags: string[];
  languages: string[];
  settings: { welcome_text?: string; theme_color?: string; offline_message?: string; embed_origins?: string[]; prechat?: Prechat; business_hours?: Record<string, string[]> };
  is_listed?: boolean;
  claimed_domains?: string[]; // admins only: every claim, proved or not
  groups?: Group[];
}

export interface Member {
  user_id: string;
  email: string | null;
  display_name: string;
  role: string;
  availability: string;
  // Set by the server when no console was open for the grace period (docs/protocol.md).
  is_auto_away?: boolean;
  restores_availability?: boolean;
  capacity: number;
  is_active: boolean;
  group_ids: string[];
}

/** The widget's pre-chat form, as the organization sets it (what a visitor is asked). */
export type Ask = "off" | "optional" | "required";
export interface Prechat {
  name: Ask;
  email: Ask;
  team: Ask;
}

export interface AuditEntry {
  id: string;
  actor_id: string | null;
  actor_name?: string;
  action: string;
  target: string | null;
  details: Record<string, unknown>;
  /** The entry as a sentence with names, written by the server. */
  summary?: string;
  created_at: string;
}
