// A conversation list kept fresh from events: loaded over REST once and after each
// (re)connect, then patched by `message:new` (preview, order), `conversation:updated`
// (status, assignee: joins or leaves the list), `unread:update` and, for the queue,
// `queue:updated` (the group's queue as it stands). No REST reload per message: only a
// conversation the list has never seen is fetched, once.
import { compareMarks } from "./order";
import type { Conversation, Message, ServerEvents, Side } from "./protocol";

export type Scope = "all" | "mine" | "queue";

export interface ListSnapshot {
  items: Conversation[];
  loaded: boolean;
  error: unknown;
}

export interface ListContext {
  readonly side: Side;
  readonly userId: string | null;
  get<T>(path: string): Promise<T>;
}

export class ConversationList {
  private byId = new Map<string, Conversation>();
  /** The queue scope: each group's waiting conversations, in queue order. */
  private queues = new Map<string, string[]>();
  private loaded = false;
  private error: unknown = null;
  private fetching = new Set<string>();
  private listeners = new Set<() => void>();
  private cached: ListSnapshot | null = null;
  private generation = 0;

  constructor(
    readonly scope: Scope,
    private readonly ctx: ListContext,
  ) {}

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  snapshot(): ListSnapshot {
    if (!this.cached) this.cached = { items: this.visible(), loaded: this.loaded, error: this.error };
    return this.cached;
  }

  async load(): Promise<void> {
    const generation = ++this.generation;
    try {
      const items = await this.ctx.get<Conversation[]>(`/conversations?scope=${this.scope}&limit=100`);
      if (generation !== this.generation) return; // a newer load is on its way
      this.byId = new Map(items.map((c) => [c.id, c]));
      this.queues.clear();
      if (this.scope === "queue") {
        for (const c of items) this.queues.set(c.group_id ?? "", [...(this.queues.get(c.group_id ?? "") ?? []), c.id]);
      }
      this.error = null;
    } catch (e) {
      this.error = e;
    }
    this.loaded = true;
    this.changed();
  }

  onMessage(message: Message): void {
    // Internal notes change nothing a list shows (docs/protocol.md, unread counts).
    if (message.kind === "note") return;
    const item = this.byId.get(message.conversation_id);
    if (!item) {
      // The customer's own list learns of a conversation started elsewhere; an agent's
      // lists learn from conversation:updated and queue:updated, not per message.
      if (this.ctx.side === "customer") this.fetch(message.conversation_id);
      return;
    }
    const mark = { id: message.id, position: message.position };
    const last = item.last_message ? { id: item.last_message.id, position: item.last_position } : null;
    if (last && compareMarks(mark, last) <= 0) return;
    const preview = message.text ? message.text.slice(0, 120) : message.attachment_id ? "[attachment]" : null;
    this.byId.set(item.id, {
      ...item,
      last_message: { id: message.id, preview, sender_id: message.sender_id, at: message.created_at },
      last_position: message.position ?? item.last_position,
      updated_at: message.created_at > item.updated_at ? message.created_at : item.updated_at,
    });
    this.changed();
  }

  onConversation(c: Conversation): void {
    const prev = this.byId.get(c.id);
    const next = { ...prev, ...c };
    // Who waits in which queue is queue:updated's to say (it reaches exactly the group's
    // agents); a conversation that stopped waiting leaves at once.
    if (this.scope === "queue" && c.status !== "queued") this.leaveQueues(c.id);
    this.byId.set(c.id, next);
    this.changed();
  }

  onUnread(p: ServerEvents["unread:update"]): void {
    const item = this.byId.get(p.conversation_id);
    if (p.side !== this.ctx.side || !item) return;
    this.byId.set(item.id, { ...item, unread: p.unread });
    this.changed();
  }

  /** The person muted or blocked an organization (on this device or another): every
   * conversation with it shows the new standing. */
  onContact(p: ServerEvents["contact:updated"]): void {
    let touched = false;
    for (const item of this.byId.values()) {
      if (item.org_id !== p.organization.id) continue;
      this.byId.set(item.id, { ...item, contact: { is_muted: p.is_muted, is_blocked: p.is_blocked } });
      touched = true;
    }
    if (touched) this.changed();
  }

  /** A group's whole queue: who waits, in which order. */
  onQueue(p: ServerEvents["queue:updated"]): void {
    if (this.scope !== "queue") return;
    const ids = p.queue.map((e) => e.conversation_id);
    for (const [group, members] of this.queues) {
      if (group !== p.group_id) this.queues.set(group, members.filter((id) => !ids.includes(id)));
    }
    this.queues.set(p.group_id, ids);
    for (const entry of p.queue) {
      const item = this.byId.get(entry.conversation_id);
      if (!item) {
        this.fetch(entry.conversation_id);
        continue;
      }
      this.byId.set(item.id, { ...item, queue_position: entry.position, queued_at: entry.queued_at, priority: entry.priority });
    }
    this.changed();
  }

  private fetch(id: string): void {
    if (this.fetching.has(id)) return;
    this.fetching.add(id);
    this.ctx.get<Conversation>(`/conversations/${id}`).then(
      (c) => {
        this.fetching.delete(id);
        const known = this.byId.get(id);
        this.byId.set(id, { ...c, ...known, customer_panel: undefined });
        this.changed();
      },
      () => this.fetching.delete(id),
    );
  }

  private inQueues(id: string): boolean {
    for (const members of this.queues.values()) if (members.includes(id)) return true;
    return false;
  }

  private leaveQueues(id: string): void {
    for (const [group, members] of this.queues) this.queues.set(group, members.filter((m) => m !== id));
  }

  private belongs(c: Conversation): boolean {
    switch (this.scope) {
      case "queue":
        return c.status === "queued" && this.inQueues(c.id);
      case "mine":
        return this.ctx.side === "customer" || (c.assignee?.id === this.ctx.userId && (c.status === "queued" || c.status === "active"));
      default:
        return true;
    }
  }

  private visible(): Conversation[] {
    const items = [...this.byId.values()].filter((c) => this.belongs(c));
    if (this.scope === "queue") {
      const order = new Map<string, number>();
      for (const members of this.queues.values()) members.forEach((id, i) => order.set(id, i));
      const at = (c: Conversation) => c.queued_at ?? c.created_at;
      return items.sort((a, b) => at(a).localeCompare(at(b)) || (order.get(a.id) ?? 0) - (order.get(b.id) ?? 0));
    }
    return items.sort((a, b) => b.updated_at.localeCompare(a.updated_at) || (a.id < b.id ? 1 : -1));
  }

  private changed(): void {
    this.cached = null;
    this.listeners.forEach((listener) => listener());
  }
}
