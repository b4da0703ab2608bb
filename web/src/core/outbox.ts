// Every message written and not yet acknowledged, kept (and persisted, so a reload keeps
// it) with the client_id it got when it was written. Per conversation the outbox sends
// strictly in written order: the next message only after the previous one's ack. A
// `busy`, a timeout or a lost connection sends the same message again, with the same
// client_id, so the server stores it once (docs/protocol.md, "Sending is idempotent").
import { ProtocolError, type Message, type ShownMessage, type Side } from "./protocol";
import type { KeyValueStore, Transport } from "./transport";

export interface Outgoing {
  conversation_id: string;
  client_id: string;
  text: string;
  kind: "text" | "note";
  attachment_id: string | null;
  sender_id: string | null;
  sender_side: Side;
  created_at: string;
}

export interface OutboxHooks {
  /** The server stored it: here is its copy (with its id and position). */
  onStored(message: Message): void;
  /** The server refused it for good (closed conversation, not assigned...). */
  onRefused(entry: Outgoing, error: ProtocolError): void;
  /** The pending messages of this conversation changed. */
  onChange(conversationId: string): void;
}

/** Nothing was stored: try again after this long (the connection is up). */
const RETRY_MS: Record<string, number> = { busy: 1000, rate_limited: 3000, timeout: 1000, internal_error: 2000 };
const SEND_TIMEOUT_MS = 10000;
/** The protocol's socket packet limit: a larger send is refused here, never retried. */
export const PACKET_LIMIT_BYTES = 64 * 1024;

export class Outbox {
  private queues = new Map<string, Outgoing[]>();
  private failed = new Map<string, ShownMessage[]>();
  private inFlight = new Set<string>();
  private timers = new Map<string, ReturnType<typeof setTimeout>>();

  constructor(
    private readonly transport: Transport,
    private readonly hooks: OutboxHooks,
    private readonly store: KeyValueStore | null = null,
    private readonly key = "raasel.outbox",
  ) {
    for (const entry of this.load()) this.queueOf(entry.conversation_id).push(entry);
  }

  /** Written just now: shown as pending, sent when it is its turn. */
  add(entry: Outgoing): void {
    this.queueOf(entry.conversation_id).push(entry);
    this.save();
    this.hooks.onChange(entry.conversation_id);
    this.pump(entry.conversation_id);
  }

  /** Pending then failed messages of a conversation, in written order. */
  shown(conversationId: string): ShownMessage[] {
    const pending = (this.queues.get(conversationId) ?? []).map((e): ShownMessage => ({ ...e, id: "", pending: true }));
    return [...pending, ...(this.failed.get(conversationId) ?? [])];
  }

  /** How many messages wait in this conversation (in flight included). */
  size(conversationId: string): number {
    return this.queues.get(conversationId)?.length ?? 0;
  }

  isSending(conversationId: string): boolean {
    return this.size(conversationId) > 0;
  }

  /** A stored copy turned up (a sync after a lost ack): no need to send it again. */
  confirm(message: Message): void {
    const queue = this.queues.get(message.conversation_id);
    if (!queue || !message.client_id) return;
    const at = queue.findIndex((e) => e.client_id === message.client_id);
    // The head may be on the wire: its ack removes it.
    if (at < 0 || (at === 0 && this.inFlight.has(message.conversation_id))) return;
    queue.splice(at, 1);
    this.save();
    this.hooks.onChange(message.conversation_id);
  }

  /** The connection is (back) up: every conversation sends its next message. */
  resume(): void {
    for (const conversationId of this.queues.keys()) this.pump(conversationId);
  }

  dispose(): void {
    this.timers.forEach((t) => clearTimeout(t));
    this.timers.clear();
  }

  private pump(conversationId: string): void {
    const head = this.queues.get(conversationId)?.[0];
    if (!head || this.inFlight.has(conversationId) || this.timers.has(conversationId) || !this.transport.isConnected) return;
    this.inFlight.add(conversationId);
    const payload: Record<string, unknown> = {
      conversation_id: head.conversation_id,
      client_id: head.client_id,
      kind: head.kind,
    };
    if (head.text) payload.text = head.text;
    if (head.attachment_id) payload.attachment_id = head.attachment_id;
    if (new TextEncoder().encode(JSON.stringify(payload)).length > PACKET_LIMIT_BYTES) {
      // The server answers it payload_too_large (or, past 1 MiB, drops the connection,
      // which a retry would repeat forever): refuse it for good without sending.
      this.inFlight.delete(conversationId);
      this.refuse(head, new ProtocolError("payload_too_large", "This message is too large to send."));
      return;
    }
    this.transport.request<{ message: Message }>("message:send", payload, SEND_TIMEOUT_MS).then(
      (answer) => {
        this.inFlight.delete(conversationId);
        this.drop(head);
        this.hooks.onStored(answer.message);
        this.pump(conversationId);
      },
      (error: unknown) => {
        this.inFlight.delete(conversationId);
        const failure = error instanceof ProtocolError ? error : new ProtocolError("error", String(error));
        if (failure.code === "offline") {
          // Sent again on the next connect (resume), or now if that connect came first.
          if (this.transport.isConnected) this.pump(conversationId);
          return;
        }
        const delay = RETRY_MS[failure.code];
        if (delay !== undefined) {
          this.timers.set(
            conversationId,
            setTimeout(() => {
              this.timers.delete(conversationId);
              this.pump(conversationId);
            }, delay),
          );
          return;
        }
        this.refuse(head, failure);
      },
    );
  }

  /** Refused for good: shown as failed, and the next message goes. */
  private refuse(head: Outgoing, failure: ProtocolError): void {
    const conversationId = head.conversation_id;
    this.drop(head);
    const shown: ShownMessage = { ...head, id: "", failed: true };
    this.failed.set(conversationId, [...(this.failed.get(conversationId) ?? []), shown]);
    this.hooks.onRefused(head, failure);
    this.hooks.onChange(conversationId);
    this.pump(conversationId);
  }

  private drop(entry: Outgoing): void {
    const queue = this.queues.get(entry.conversation_id);
    const at = queue?.indexOf(entry) ?? -1;
    if (queue && at >= 0) queue.splice(at, 1);
    if (queue && queue.length === 0) this.queues.delete(entry.conversation_id);
    this.save();
  }

  private queueOf(conversationId: string): Outgoing[] {
    let queue = this.queues.get(conversationId);
    if (!queue) this.queues.set(conversationId, (queue = []));
    return queue;
  }

  private load(): Outgoing[] {
    try {
      const raw = this.store?.get(this.key);
      const entries = raw ? (JSON.parse(raw) as Outgoing[]) : [];
      return Array.isArray(entries) ? entries.filter((e) => e && typeof e.client_id === "string") : [];
    } catch {
      return [];
    }
  }

  private save(): void {
    if (!this.store) return;
    const entries = [...this.queues.values()].flat();
    if (entries.length) this.store.set(this.key, JSON.stringify(entries));
    else this.store.remove(this.key);
  }
}
