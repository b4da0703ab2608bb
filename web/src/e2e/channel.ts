// Direct conversations through the same session core as every other conversation
// (core/session.ts: outbox, ordered sends, receipts, typing, gap-free resync): this channel
// is the core's Transport and Rest for them. It speaks the `direct:*` events and
// `/direct/...` routes (docs/protocol.md, "End-to-end encrypted direct chats") and turns
// envelopes into the core's messages: it encrypts what the outbox sends and decrypts what
// arrives (live, synced or paged), so the core never sees ciphertext and the server never
// sees text.
import type { Conversation, HistoryPage, Message, Receipts, SyncRequest, SyncResult } from "../core/protocol";
import { ProtocolError } from "../core/protocol";
import { Emitter, type Rest, type Transport } from "../core/transport";
import type { E2eDevice, ReadResult } from "./device";
import type { DeviceRef, DirectConversation, DirectMember, DirectMessage, DirectRest } from "./wire";

/** A core message of a direct conversation, with what decryption gave. */
export interface DirectCoreMessage extends Message {
  e2e: ReadResult;
}

export interface DirectCoreConversation extends Conversation {
  direct: DirectConversation;
}

export const NOTICE: Record<Exclude<ReadResult["state"], "ok" | "control">, string> = {
  failed: "Could not decrypt this message — asked the sender to re-send.",
  replay: "A replayed copy of an earlier message was refused.",
  before_link: "Sent before this device was linked — it cannot be read here.",
  not_for_device: "This message was not encrypted for this device.",
  own_unknown: "Sent from this device, but its text is no longer kept here.",
};

interface DirectSyncResult {
  conversation_id: string;
  status?: string;
  messages?: DirectMessage[];
  has_more?: boolean;
  last_position?: number;
  unread?: number;
  members?: DirectMember[];
  error?: { code: string; message: string };
}

/** Refusals of a send, said for people. */
const REFUSALS: Record<string, string> = {
  blocked: "Not sent: this person has blocked you.",
  not_accepted: "Accept the message request before you reply.",
  request_declined: "Not sent: this person declined your message request.",
  stale_devices: "Not sent: this person's devices kept changing. Try again.",
};

/** What the channel needs of the socket (core/connection.ts's SocketTransport has it). */
export interface SocketLike extends Transport {
  readonly socket: { on(name: string, fn: (payload: any) => void): unknown; off(name: string, fn: (payload: any) => void): unknown };
}

const DIRECT_EVENTS = ["direct:message", "direct:receipt", "direct:typing", "direct:conversation", "direct:devices", "direct:prekeys_low"] as const;

export class DirectChannel implements Transport, Rest {
  private events = new Emitter();
  private views = new Map<string, DirectConversation>();
  private offs: (() => void)[] = [];
  /** Live events are handled one after the other, in the order they came. */
  private live: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly base: SocketLike,
    private readonly rest: DirectRest,
    readonly device: E2eDevice,
  ) {
    this.offs.push(base.on("status", (s) => this.events.fire("status", s)));
    this.offs.push(base.on("session-ended", (p) => this.events.fire("session-ended", p)));
    for (const name of DIRECT_EVENTS) {
      const listener = (payload: unknown) => this.inOrder(() => this.onEvent(name, payload));
      base.socket.on(name, listener);
      this.offs.push(() => base.socket.off(name, listener));
    }
    this.offs.push(device.store.onIdentityChange((address) => this.events.fire("identity", { address })));
    // Our own control messages and re-sends do not pass through the outbox: show them in
    // order like a live message (they are hidden or shown by what they are).
    device.onControlSent = device.onResent = (message) => this.inOrder(() => this.deliverOwn(message));
  }

  get userId(): string {
    return this.device.userId;
  }

  get isConnected(): boolean {
    return this.base.isConnected;
  }

  on(name: string, listener: (payload: any) => void): () => void {
    return this.events.on(name, listener);
  }

  dispose(): void {
    this.offs.forEach((off) => off());
    this.events.clear();
    this.device.onControlSent = this.device.onResent = () => {};
  }

  /** The other member of a conversation (its view is fetched once if not held). */
  async peerOf(conversationId: string): Promise<DirectMember> {
    const view = this.views.get(conversationId) ?? (await this.fetchView(conversationId));
    const peer = view.members.find((m) => m.user_id !== this.userId);
    if (!peer) throw new ProtocolError("not_found", "This conversation has no other member.");
    return peer;
  }

  view(conversationId: string): DirectConversation | undefined {
    return this.views.get(conversationId);
  }

  /** A view from a REST answer (list, accept, decline): remembered and told to the open screens. */
  learn(view: DirectConversation): DirectCoreConversation {
    this.views.set(view.id, view);
    const mapped = this.toConversation(view);
    this.events.fire("conversation:updated", { conversation: mapped });
    this.events.fire("direct:conversation", view);
    return mapped;
  }

  // ---- Transport: what the core emits ----

  async request<T>(event: string, payload: Record<string, any>): Promise<T> {
    switch (event) {
      case "message:send":
        return (await this.send(payload.conversation_id, payload.client_id, payload.text ?? "")) as T;
      case "sync":
        return (await this.sync(payload.conversations as SyncRequest[])) as T;
      case "receipt:delivered":
      case "receipt:read":
        return this.base.request<T>(event === "receipt:read" ? "direct:read" : "direct:delivered", {
          conversation_id: payload.conversation_id,
          up_to_position: payload.up_to_position,
        });
      case "typing:start":
      case "typing:stop":
        return this.base.request<T>("direct:typing", { conversation_id: payload.conversation_id, is_typing: event === "typing:start" });
      default:
        throw new ProtocolError("unsupported", `${event} is not part of direct conversations.`);
    }
  }

  private async send(conversationId: string, clientId: string, text: string): Promise<{ message: DirectCoreMessage }> {
    if (!text) throw new ProtocolError("validation_error", "Encrypted messages carry text only.");
    const peer = await this.peerOf(conversationId);
    let stored: DirectMessage;
    try {
      stored = await this.device.send(conversationId, peer.user_id, clientId, { v: 1, t: "text", text });
    } catch (error) {
      const said = error instanceof ProtocolError ? REFUSALS[error.code] : undefined;
      throw said ? new ProtocolError((error as ProtocolError).code, said, (error as ProtocolError).details) : error;
    }
    return { message: await this.toMessage(stored, peer.user_id) };
  }

  private async sync(requests: SyncRequest[]): Promise<{ conversations: SyncResult[] }> {
    const answer = await this.base.request<{ conversations: DirectSyncResult[] }>("direct:sync", {
      conversations: requests.map((r) => ("after_position" in r ? { conversation_id: r.conversation_id, after_position: r.after_position } : { conversation_id: r.conversation_id })),
      device_id: this.device.deviceId,
    });
    const out: SyncResult[] = [];
    for (const result of answer.conversations) {
      if (result.error) {
        out.push({ conversation_id: result.conversation_id, error: result.error });
        continue;
      }
      const peer = await this.peerOf(result.conversation_id);
      const messages: Message[] = [];
      for (const m of result.messages ?? []) messages.push(await this.toMessage(m, peer.user_id));
      out.push({
        conversation_id: result.conversation_id,
        status: "active",
        messages,
        has_more: result.has_more,
        last_position: result.last_position,
        unread: result.unread,
        receipts: result.members ? this.receiptsOf(result.members) : undefined,
      });
    }
    return { conversations: out };
  }

  // ---- Rest: what the core loads ----

  async get<T>(path: string): Promise<T> {
    const page = /^\/conversations\/([^/?]+)\/messages\?(.*)$/.exec(path);
    if (page) {
      const [, id, query] = page;
      const params = new URLSearchParams(query);
      params.set("device_id", String(this.device.deviceId));
      const answer = await this.rest.get<{ messages: DirectMessage[]; has_more: boolean; next_before: string | null }>(`/direct/conversations/${id}/messages?${params}`);
      const peer = await this.peerOf(decodeURIComponent(id));
      const messages: Message[] = [];
      for (const m of answer.messages) messages.push(await this.toMessage(m, peer.user_id));
      const result: HistoryPage = { messages, has_more: answer.has_more, next_before: answer.next_before };
      return result as T;
    }
    const one = /^\/conversations\/([^/?]+)$/.exec(path);
    if (one) return this.toConversation(await this.fetchView(decodeURIComponent(one[1]))) as T;
    throw new ProtocolError("unsupported", `${path} is not part of direct conversations.`);
  }

  private async fetchView(conversationId: string): Promise<DirectConversation> {
    const { conversation } = await this.rest.get<{ conversation: DirectConversation }>(`/direct/conversations/${encodeURIComponent(conversationId)}`);
    this.views.set(conversation.id, conversation);
    return conversation;
  }

  // ---- server events ----

  private inOrder(job: () => Promise<void>): void {
    this.live = this.live.then(job).catch((error) => console.warn("direct event", error));
  }

  private async onEvent(name: (typeof DIRECT_EVENTS)[number], p: any): Promise<void> {
    switch (name) {
      case "direct:message": {
        const peer = await this.peerOf(p.conversation_id);
        const message = await this.toMessage(p.message as DirectMessage, peer.user_id);
        this.events.fire("message:new", { message, conversation_id: p.conversation_id, position: p.position, previous_position: p.previous_position });
        this.events.fire("direct:activity", { conversation_id: p.conversation_id, message });
        break;
      }
      case "direct:receipt":
        this.events.fire("receipt:update", {
          conversation_id: p.conversation_id,
          side: p.user_id === this.userId ? "customer" : "org",
          delivered_up_to: "0",
          read_up_to: "0",
          delivered_position: p.delivered_position,
          read_position: p.read_position,
        });
        break;
      case "direct:typing": {
        const view = this.views.get(p.conversation_id);
        const member = view?.members.find((m) => m.user_id === p.user_id);
        this.events.fire("typing", {
          conversation_id: p.conversation_id,
          user_id: p.user_id,
          name: member?.display_name ?? member?.handle ?? null,
          side: "org",
          is_typing: p.is_typing,
          is_note: false,
          expires_in: p.expires_in,
        });
        break;
      }
      case "direct:conversation":
        this.learn(p.conversation as DirectConversation);
        break;
      case "direct:devices": {
        const before = await this.device.knownDevices(p.user_id);
        await this.device.setDevices(p.user_id, p.devices as DeviceRef[]);
        const added = (p.devices as DeviceRef[]).filter((d) => before && !before.some((b) => b.device_id === d.device_id));
        this.events.fire("devices", { user_id: p.user_id, devices: p.devices, added });
        break;
      }
      case "direct:prekeys_low":
        if (p.device_id === this.device.deviceId) await this.device.refill(p.count);
        break;
    }
  }

  private async deliverOwn(stored: DirectMessage): Promise<void> {
    const peer = await this.peerOf(stored.conversation_id);
    const message = await this.toMessage(stored, peer.user_id);
    // Positions are dense in a direct conversation: anything missing below is synced first.
    this.events.fire("message:new", { message, conversation_id: stored.conversation_id, position: stored.position, previous_position: stored.position - 1 });
  }

  // ---- mapping ----

  private async toMessage(m: DirectMessage, peerId: string): Promise<DirectCoreMessage> {
    const read = await this.device.read(m, peerId);
    const shown = read.state === "ok";
    return {
      id: m.id,
      conversation_id: m.conversation_id,
      client_id: m.client_id,
      sender_id: m.sender_id,
      sender_side: m.sender_id === this.userId ? "customer" : "org",
      kind: shown ? "text" : "system",
      text: shown ? read.text : read.state === "control" ? null : NOTICE[read.state as keyof typeof NOTICE],
      attachment_id: null,
      created_at: m.created_at,
      position: m.position,
      e2e: read,
    };
  }

  private receiptsOf(members: DirectMember[]): Receipts {
    const receipts: Receipts = {};
    for (const m of members) {
      receipts[m.user_id === this.userId ? "customer" : "org"] = {
        delivered_up_to: "0",
        read_up_to: "0",
        delivered_position: m.delivered_position,
        read_position: m.read_position,
      };
    }
    return receipts;
  }

  private toConversation(view: DirectConversation): DirectCoreConversation {
    const me = view.members.find((m) => m.user_id === this.userId);
    return {
      id: view.id,
      org_id: "",
      group_id: null,
      status: "active",
      subject: null,
      customer: { id: this.userId, name: me?.display_name ?? null },
      assignee: null,
      created_at: view.created_at,
      updated_at: view.updated_at,
      last_message: null,
      last_position: view.last_position,
      unread: view.unread,
      receipts: this.receiptsOf(view.members),
      direct: view,
    };
  }
}
