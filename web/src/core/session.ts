// The protocol/session core shared by the React app and the widget, free of any
// framework: one per signed-in user and socket. It routes server events to the open
// conversations and the lists, owns the outbox (ordered, persisted sends) and the receipt
// reporter (one emit per watermark move), and syncs what a connection missed, following
// `has_more` (docs/protocol.md, "Reconnecting without gaps or duplicates").
import { ConversationStore } from "./conversation";
import { ConversationList, type Scope } from "./lists";
import { markOf, type Mark } from "./order";
import { Outbox, type Outgoing } from "./outbox";
import { ProtocolError, SERVER_EVENTS, type Message, type Receipts, type ServerEvents, type Side, type SyncResult } from "./protocol";
import { ReceiptReporter } from "./receipts";
import { Emitter, type ConnectionStatus, type KeyValueStore, type Rest, type Transport } from "./transport";

export interface SessionOptions {
  transport: Transport;
  rest: Rest;
  side: Side;
  userId: string | null;
  /** Where the outbox is kept across reloads (none: this page only). */
  store?: KeyValueStore | null;
  outboxKey?: string;
  newClientId?: () => string;
}

/** A sync request carries at most this many conversations (docs/protocol.md). */
const SYNC_BATCH = 100;
/** `has_more` rounds before giving up until the next connect (200 messages each). */
const MAX_SYNC_ROUNDS = 50;

export class ChatSession {
  readonly side: Side;
  readonly userId: string | null;
  readonly outbox: Outbox;
  readonly receipts: ReceiptReporter;
  private readonly transport: Transport;
  private readonly rest: Rest;
  private readonly newClientId: () => string;
  private conversations = new Map<string, { store: ConversationStore; refs: number }>();
  /** This organization's side of each b2b conversation it is ``peer`` of (docs/protocol.md,
   * "Organization to organization"); every other conversation is on ``this.side``. */
  private sides = new Map<string, Side>();
  private lists = new Map<Scope, { list: ConversationList; refs: number }>();
  private events = new Emitter();
  private offs: (() => void)[] = [];
  private syncWanted = new Set<string>();
  private syncRunning = false;
  private syncTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(options: SessionOptions) {
    this.side = options.side;
    this.userId = options.userId;
    this.transport = options.transport;
    this.rest = options.rest;
    this.newClientId = options.newClientId ?? (() => crypto.randomUUID());
    this.receipts = new ReceiptReporter(this.transport);
    this.outbox = new Outbox(
      this.transport,
      {
        onStored: (message) => this.onStored(message),
        onRefused: (entry, error) => {
          const open = this.conversations.get(entry.conversation_id)?.store;
          open?.showError(error);
          open?.checkHint();
        },
        onChange: (conversationId) => this.conversations.get(conversationId)?.store.changed(),
      },
      options.store ?? null,
      options.outboxKey,
    );
    const t = this.transport;
    this.offs = [
      t.on("status", (s: ConnectionStatus) => this.onStatus(s)),
      t.on("session-ended", () => this.events.fire("session-ended", {})),
      t.on("message:new", (p: ServerEvents["message:new"]) => this.onMessage(p)),
      t.on("receipt:update", (p: ServerEvents["receipt:update"]) => {
        if (p.side === this.sideIn(p.conversation_id)) this.receipts.learn(p.conversation_id, p);
        this.conversations.get(p.conversation_id)?.store.onReceipt(p);
      }),
      t.on("unread:update", (p: ServerEvents["unread:update"]) => {
        this.lists.forEach(({ list }) => list.onUnread(p));
        if (p.side === this.sideIn(p.conversation_id)) this.conversations.get(p.conversation_id)?.store.hint(p.position);
      }),
      t.on("conversation:updated", ({ conversation }: ServerEvents["conversation:updated"]) => {
        this.noteSide(conversation.id, conversation.b2b?.side);
        this.conversations.get(conversation.id)?.store.onConversation(conversation);
        this.receipts.learn(conversation.id, conversation.receipts?.[this.sideIn(conversation.id)]);
        this.lists.forEach(({ list }) => list.onConversation(conversation));
      }),
      t.on("queue:updated", (p: ServerEvents["queue:updated"]) => this.lists.forEach(({ list }) => list.onQueue(p))),
      t.on("queue:position", (p: ServerEvents["queue:position"]) => this.conversations.get(p.conversation_id)?.store.onQueuePosition(p.position)),
      t.on("typing", (p: ServerEvents["typing"]) => this.conversations.get(p.conversation_id)?.store.onTyping(p)),
      t.on("contact:updated", (p: ServerEvents["contact:updated"]) => this.lists.forEach(({ list }) => list.onContact(p))),
    ];
    for (const name of SERVER_EVENTS) this.offs.push(t.on(name, (payload: unknown) => this.events.fire(name, payload)));
    if (this.transport.isConnected) this.onStatus({ connected: true, isReconnect: false });
  }

  get isConnected(): boolean {
    return this.transport.isConnected;
  }

  /** Server events and "status" / "session-ended", for what the core does not hold (presence, sounds). */
  on(name: string, listener: (payload: any) => void): () => void {
    return this.events.on(name, listener);
  }

  /** Open a conversation (loads it the first time); release it when the screen goes. */
  open(conversationId: string): ConversationStore {
    let entry = this.conversations.get(conversationId);
    if (!entry) {
      const store: ConversationStore = new ConversationStore(conversationId, {
        side: this.side,
        get: (path) => this.rest.get(path),
        pending: (id) => this.outbox.shown(id),
        isSending: (id) => this.outbox.isSending(id),
        requestSync: (id) => this.requestSync(id),
        reportRead: (id, mark) => this.receipts.read(id, mark),
        learnReceipts: (id, receipts) => this.learn(id, receipts),
        noteSide: (id, side) => this.noteSide(id, side),
        forgetRead: (id) => this.receipts.forgetRead(id),
        stored: (message) => this.outbox.confirm(message),
      });
      this.conversations.set(conversationId, (entry = { store, refs: 0 }));
      void store.load();
    }
    entry.refs += 1;
    return entry.store;
  }

  release(conversationId: string): void {
    const entry = this.conversations.get(conversationId);
    if (!entry || --entry.refs > 0) return;
    entry.store.dispose();
    this.conversations.delete(conversationId);
  }

  list(scope: Scope): ConversationList {
    let entry = this.lists.get(scope);
    if (!entry) {
      const list = new ConversationList(scope, { side: this.side, userId: this.userId, get: (path) => this.rest.get(path) });
      this.lists.set(scope, (entry = { list, refs: 0 }));
      void list.load();
    }
    entry.refs += 1;
    return entry.list;
  }

  releaseList(scope: Scope): void {
    const entry = this.lists.get(scope);
    if (entry && --entry.refs <= 0) this.lists.delete(scope);
  }

  /** Write a message: pending at once, sent in its conversation's written order. */
  send(conversationId: string, text: string, kind: "text" | "note" = "text", attachmentId: string | null = null): Outgoing {
    const entry: Outgoing = {
      conversation_id: conversationId,
      client_id: this.newClientId(),
      text,
      kind,
      attachment_id: attachmentId,
      sender_id: this.userId,
      sender_side: this.sideIn(conversationId),
      created_at: new Date().toISOString(),
    };
    this.outbox.add(entry);
    return entry;
  }

  /** typing:start (answers the server's expires_in) or typing:stop; never queued while offline. */
  async typing(conversationId: string, isTyping: boolean, isNote = false): Promise<number> {
    const answer = await this.transport.request<{ expires_in?: number }>(isTyping ? "typing:start" : "typing:stop", { conversation_id: conversationId, is_note: isNote });
    return answer.expires_in ?? 6;
  }

  dispose(): void {
    this.offs.forEach((off) => off());
    this.outbox.dispose();
    this.receipts.dispose();
    if (this.syncTimer) clearTimeout(this.syncTimer);
    this.conversations.forEach(({ store }) => store.dispose());
    this.conversations.clear();
    this.lists.clear();
    this.events.clear();
  }

  // ---- events ----

  private onStatus({ connected }: ConnectionStatus): void {
    this.events.fire("status", { connected });
    if (!connected) return;
    // The socket has just joined its rooms: what happened since the pages were loaded
    // (or since the last connection) comes from sync, the lists reload once.
    for (const { store } of this.conversations.values()) if (store.isLoaded) this.syncWanted.add(store.id);
    this.scheduleSync();
    this.lists.forEach(({ list }) => void list.load());
    this.outbox.resume();
    this.receipts.resume();
  }

  private onMessage(p: ServerEvents["message:new"]): void {
    const message = p.message;
    this.noteSide(message.conversation_id, p.side);
    if (message.sender_side !== this.sideIn(message.conversation_id) && message.kind !== "note") this.receipts.delivered(message.conversation_id, markOf(message));
    this.conversations.get(message.conversation_id)?.store.onMessage(p);
    this.lists.forEach(({ list }) => list.onMessage(message));
  }

  private onStored(message: Message): void {
    this.conversations.get(message.conversation_id)?.store.onStored(message);
    this.lists.forEach(({ list }) => list.onMessage(message));
  }

  private learn(conversationId: string, receipts: Receipts | undefined): void {
    this.receipts.learn(conversationId, receipts?.[this.sideIn(conversationId)]);
  }

  /** The side this session writes and reads on in ``conversationId``: its own
   * organization's, which in a b2b conversation another organization opened is ``peer``. */
  sideIn(conversationId: string): Side {
    return this.sides.get(conversationId) ?? this.side;
  }

  private noteSide(conversationId: string, side: Side | undefined): void {
    if (side && side !== this.side) this.sides.set(conversationId, side);
  }

  // ---- sync ----

  private requestSync(conversationId: string): void {
    this.syncWanted.add(conversationId);
    this.scheduleSync();
  }

  private scheduleSync(): void {
    if (this.syncTimer || this.syncRunning || this.syncWanted.size === 0) return;
    // Coalesce: every conversation that asked in this turn goes in one request.
    this.syncTimer = setTimeout(() => {
      this.syncTimer = null;
      void this.runSync();
    }, 0);
  }

  private async runSync(): Promise<void> {
    if (this.syncRunning || !this.transport.isConnected) return;
    this.syncRunning = true;
    try {
      let round = this.takeWanted();
      for (let i = 0; round.length && i < MAX_SYNC_ROUNDS; i++) {
        const more: ConversationStore[] = [];
        for (let at = 0; at < round.length; at += SYNC_BATCH) {
          const batch = round.slice(at, at + SYNC_BATCH);
          const answer = await this.transport.request<{ conversations: SyncResult[] }>("sync", { conversations: batch.map((s) => s.syncRequest()) });
          for (const result of answer.conversations) {
            const store = this.conversations.get(result.conversation_id)?.store;
            if (!store) continue;
            for (const m of result.messages ?? []) this.outbox.confirm(m);
            if (store.applySync(result) || store.needsSync()) more.push(store);
            this.reportDelivered(store);
          }
        }
        round = [...more, ...this.takeWanted().filter((s) => !more.includes(s))];
      }
    } catch (e) {
      // Offline or refused: the next connect syncs every open conversation again.
      if (!(e instanceof ProtocolError)) throw e;
    } finally {
      this.syncRunning = false;
    }
    this.scheduleSync();
  }

  private takeWanted(): ConversationStore[] {
    const stores = [...this.syncWanted].map((id) => this.conversations.get(id)?.store).filter((s): s is ConversationStore => Boolean(s?.isLoaded));
    this.syncWanted.clear();
    return stores;
  }

  private reportDelivered(store: ConversationStore): void {
    const newest: Mark = store.newestFromOtherSide();
    if (newest.id !== "0") this.receipts.delivered(store.id, newest);
  }
}
