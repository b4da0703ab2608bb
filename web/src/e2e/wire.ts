// The wire shapes of docs/protocol.md, "End-to-end encrypted direct chats".

export interface DirectMember {
  user_id: string;
  handle: string | null;
  display_name: string | null;
  delivered_position: number;
  read_position: number;
}

export type DirectStatus = "request" | "accepted" | "declined";

export interface DirectConversation {
  id: string;
  kind: "direct";
  status: DirectStatus;
  requested_by: string | null;
  members: DirectMember[];
  last_position: number;
  unread: number;
  is_blocked: boolean;
  created_at: string;
  updated_at: string;
  last_message_at: string | null;
}

export interface WireEnvelope {
  user_id: string;
  device_id: number;
  registration_id?: number;
  type: 1 | 3;
  body: string;
}

export interface DirectMessage {
  id: string;
  conversation_id: string;
  position: number;
  client_id: string | null;
  sender_id: string;
  sender_device_id: number;
  kind: "envelope";
  envelopes: WireEnvelope[];
  created_at: string;
}

export interface DeviceRef {
  device_id: number;
  registration_id: number;
}

export interface ClaimedDevice extends DeviceRef {
  identity_key: string;
  signed_prekey: { key_id: number; public_key: string; signature: string };
  one_time_prekey: { key_id: number; public_key: string } | null;
}

export interface OwnDevice extends DeviceRef {
  identity_key: string;
  one_time_prekeys: number;
  created_at: string;
}

/** `stale_devices`: the current lists of both members, and what the send got wrong. */
export interface StaleDevices {
  devices: Record<string, DeviceRef[]>;
  missing?: { user_id: string; device_id: number }[];
  extra?: { user_id: string; device_id: number }[];
  stale?: { user_id: string; device_id: number }[];
}

/** What the e2e layer needs from the REST client (lib/api.ts's Api has it). */
export interface DirectRest {
  get<T>(path: string): Promise<T>;
  post<T>(path: string, body?: unknown): Promise<T>;
  put<T>(path: string, body: unknown): Promise<T>;
  request<T>(method: string, path: string, body?: unknown): Promise<T>;
}
