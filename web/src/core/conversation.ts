// One open conversation: its view, its messages in server order with the outbox's pending
// ones after them, receipts, typing, and the position up to which it holds every message
// it may see (`held`). A live message whose `previous_position` is above `held` means
// something was missed: it waits in a buffer while a `sync` fills the gap
// (docs/protocol.md, "Reconnecting without gaps or duplicates").
import { compareIds, compareMarks, mergeMessages, newestStored, NOTHING, type Mark } from "./order";
import type { Conversation, HistoryPage, Message, Receipts, ServerEvents, ShownMessage, Side, SyncRequest, SyncResult, TypingEvent } from "./protocol";
import { mergeReceipts } from "./ticks";

export interface Typist {
  user_id: string;
  name: string | null;
  is_note: boolean;
}

export interface ConversationSnapshot {
  conversation: Conversation | null;
  messages: ShownMessage[];
  receipts: Receipts | undefined;
  hasMore: boolean;
  loadingOlder: boolean;
  loaded: boolean;
  typists: Typist[];
  error: unknown;
}

/** What a conversation needs from its session. */
export interface ConversationContext {
  readonly side: Side;
  get<T>(path: string): Promise<T>;
  pending(conversationId: string): ShownMessage[];
  isSending(conversationId: string): boolean;
  requestSync(conversationId: string): void;
  reportRead(conversationId: string, mark: Mark): void;
  learnReceipts(conversationId: string, receipts: Receipts | undefined): void;
  /** A b2b view names this organization's side of it (``org`` or ``peer``). */
  noteSide?(conversationId: string, side: Side): void;
  forgetRead(conversationId: string): void;
  stored(message: Message): void;
}

type Live = ServerEvents["message:new"];

export class ConversationStore {
  private stored: ShownMessage[] = [];
  private view: Conversation | null = null;
  private receipts: Receipts | undefined;
  private hasMore = false;
  private nextBefore: string | null = null;
  private loadingOlder = false;
  private loaded = false;
  private error: unknown = null;
  private typing = new Map<string, Typist>();
  private typingTimers = new Map<string, ReturnType<typeof setTimeout>>();
  /** Every visible message up to this position is held; undefined without positions. */
  private held: number | undefined;
  /** Without positions: the newest id the server sent us (our own acks aside, which
   * can be newer than a message still on its way to us). */
  private syncedId = "0";
  /** Live messages that wait: before the first page, or behind a gap. */
  private buffer: Live[] = [];
  /** The newest position some event says exists. */
  private hinted = 0;
  private isViewing = false;
  private listeners = new Set<() => void>();
  private cached: ConversationSnapshot | null = null;

  constructor(
    readonly id: string,
    private readonly ctx: ConversationContext,
  ) {}

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  snapshot(): ConversationSnapshot {
    if (!this.cached) {
      this.cached = {
        conversation: this.view,
        messages: mergeMessages(this.stored, this.ctx.pending(this.id)),
        receipts: this.receipts,
        hasMore: this.hasMore,
        loadingOlder: this.loadingOlder,
        loaded: this.loaded,
        typists: [...this.typing.values()],
        error: this.error,
      };
    }
    return this.cached;
  }

  /** Something changed (the outbox's pending messages included): tell the screens. */
  changed(): void {
    this.cached = null;
    this.listeners.forEach((listener) => listener());
  }

  get isLoaded(): boolean {
    return this.loaded;
  }

  /** The view and the newest page; live messages that came meanwhile wait, then merge. */
  async load(): Promise<void> {
    try {
      const [view, page] = await Promise.all([
        this.ctx.get<Conversation>(`/conversations/${this.id}`),
        this.ctx.get<HistoryPage>(`/conversations/${this.id}/messages?limit=50`),
      ]);
      this.setView(view);
      this.nextBefore = page.next_before;
      this.hasMore = page.has_more;
      this.merge(page.messages);
      this.noteSynced(page.messages);
      const positions = page.messages.map((m) => m.position).filter((p): p is number => p !== undefined);
      if (positions.length || view.last_position !== undefined) this.held = Math.max(0, ...positions);
      this.loaded = true;
      this.drain();
      this.hint(view.last_position);
      this.reportRead();
    } catch (e) {
      this.error = e;
    }
    this.changed();
  }

  async refreshView(): Promise<void> {
    try {
      this.setView(await this.ctx.get<Conversation>(`/conversations/${this.id}`));
    } catch (e) {
      this.error = e;
    }
    this.changed();
  }

  async loadOlder(): Promise<void> {
    if (!this.nextBefore || this.loadingOlder) return;
    this.loadingOlder = true;
    this.changed();
    try {
      const page = await this.ctx.get<HistoryPage>(`/conversations/${this.id}/messages?limit=50&before=${encodeURIComponent(this.nextBefore)}`);
      this.nextBefore = page.next_before;
      this.hasMore = page.has_more;
      this.merge(page.messages);
    } catch (e) {
      this.error = e;
    }
    this.loadingOlder = false;
    this.changed();
  }

  /** While the user looks at it, what arrives is read. */
  setViewing(isViewing: boolean): void {
    this.isViewing = isViewing;
    this.reportRead();
  }

  clearError(): void {
    this.error = null;
    this.changed();
  }

  showError(error: unknown): void {
    this.error = error;
    this.changed();
  }

  // ---- live events (from the session) ----

  onMessage(event: Live): void {
    if (!this.loaded || this.isBehindGap(event)) {
      this.buffer.push(event);
      if (this.loaded) this.ctx.requestSync(this.id);
      return;
    }
    this.accept(event);
    this.drain();
    this.clearTypist(event.message.sender_id ?? "");
    this.reportRead();
    this.changed();
  }

  onReceipt(p: ServerEvents["receipt:update"]): void {
    const { delivered_up_to, read_up_to, delivered_position, read_position } = p;
    this.receipts = mergeReceipts(this.receipts, { [p.side]: { delivered_up_to, read_up_to, delivered_position, read_position } });
    this.hint(p.position);
    this.changed();
  }

  onConversation(c: Conversation): void {
    if (this.view && c.assignee?.id !== this.view.assignee?.id) {
      // A new assignee's "read" is the one that counts: report it again.
      this.ctx.forgetRead(this.id);
    }
    this.setView(c);
    this.reportRead();
    this.hint(c.last_position);
    this.changed();
  }

  onQueuePosition(position: number): void {
    if (this.view) this.view = { ...this.view, queue_position: position };
    this.changed();
  }

  onTyping(p: TypingEvent): void {
    if (p.is_typing) {
      this.typing.set(p.user_id, { user_id: p.user_id, name: p.name, is_note: p.is_note });
      clearTimeout(this.typingTimers.get(p.user_id));
      this.typingTimers.set(
        p.user_id,
        setTimeout(() => {
          this.clearTypist(p.user_id);
          this.changed();
        }, (p.expires_in || 6) * 1000),
      );
    } else {
      this.clearTypist(p.user_id);
    }
    this.changed();
  }

  /** Our own message, acknowledged. */
  onStored(message: Message): void {
    this.merge([message]);
    // Positions are dense for the organization's side, so one more closes no gap
    // it cannot see; a customer's may skip notes, so only a sync can tell.
    if (this.held !== undefined && message.position === this.held + 1) this.held = message.position;
    this.extendHeld();
    this.checkHint();
    this.changed();
  }

  /** An event says the conversation goes up to `position`: a sync if we hold less. */
  hint(position: number | undefined): void {
    if (position === undefined) return;
    this.hinted = Math.max(this.hinted, position);
    this.checkHint();
  }

  /** Call when the outbox of this conversation went idle or a sync ended. */
  checkHint(): void {
    // Our own sends in flight move the newest position before their ack tells us.
    if (!this.loaded || this.held === undefined || this.hinted <= this.held || this.ctx.isSending(this.id)) return;
    this.ctx.requestSync(this.id);
  }

  // ---- sync (the session batches the requests) ----

  needsSync(): boolean {
    return this.loaded && (this.buffer.length > 0 || (this.held !== undefined && this.hinted > this.held));
  }

  syncRequest(): SyncRequest {
    if (this.held !== undefined) return { conversation_id: this.id, after_position: this.held };
    return { conversation_id: this.id, after: this.syncedId };
  }

  /** Merge one sync answer; true if the server has more (ask again from `held`). */
  applySync(result: SyncResult): boolean {
    if (result.error) return false;
    const got = result.messages ?? [];
    const heldBefore = this.held;
    this.merge(got);
    this.noteSynced(got);
    const last = got[got.length - 1];
    if (this.held !== undefined || last?.position !== undefined) {
      let held = Math.max(this.held ?? 0, last?.position ?? 0);
      if (!result.has_more && result.last_position !== undefined) held = Math.max(held, result.last_position);
      this.held = held;
    }
    if (result.receipts) {
      this.receipts = mergeReceipts(this.receipts, result.receipts);
      this.ctx.learnReceipts(this.id, result.receipts);
    }
    if (this.view) {
      this.view = { ...this.view, ...(result.status ? { status: result.status } : {}), ...(result.unread !== undefined ? { unread: result.unread } : {}) };
    }
    const hasMore = Boolean(result.has_more && got.length);
    if (!hasMore) {
      if (this.held !== undefined) this.hinted = Math.min(this.hinted, this.held);
      this.drain();
      // A sync that moved nothing cannot fill the gap a buffered message points at:
      // show what waits rather than ask forever.
      if (this.held === heldBefore && this.buffer.length) {
        this.buffer.splice(0).forEach((event) => this.merge([event.message]));
      }
    }
    this.reportRead();
    this.changed();
    return hasMore;
  }

  /** The newest message of the other side that this device holds. */
  newestFromOtherSide(): Mark {
    return newestStored(this.stored, (m) => m.sender_side !== this.side && m.kind !== "note");
  }

  dispose(): void {
    this.typingTimers.forEach((t) => clearTimeout(t));
    this.listeners.clear();
  }

  // ---- internals ----

  private isBehindGap({ message, previous_position }: Live): boolean {
    if (this.held === undefined || previous_position === undefined || message.position === undefined) return false;
    return previous_position > this.held;
  }

  private accept({ message }: Live): void {
    this.merge([message]);
    this.noteSynced([message]);
    if (this.held !== undefined && message.position !== undefined) this.held = Math.max(this.held, message.position);
    this.extendHeld();
  }

  /** Buffered live messages that the gap no longer blocks. */
  private drain(): void {
    let progressed = true;
    while (progressed) {
      progressed = false;
      for (const event of this.buffer) {
        if (this.isBehindGap(event)) continue;
        this.buffer.splice(this.buffer.indexOf(event), 1);
        this.accept(event);
        progressed = true;
        break;
      }
    }
  }

  /** The organization sees every position: consecutive held ones extend `held`. */
  private extendHeld(): void {
    if (this.held === undefined || this.ctx.side !== "org") return;
    const have = new Set(this.stored.map((m) => m.position));
    while (have.has(this.held + 1)) this.held += 1;
  }

  private noteSynced(messages: Message[]): void {
    for (const m of messages) if (compareIds(m.id, this.syncedId) > 0) this.syncedId = m.id;
  }

  private merge(messages: Message[]): void {
    this.stored = mergeMessages(this.stored, messages);
  }

  /** Our side here: the session's, or this organization's side of a b2b conversation. */
  get side(): Side {
    return this.view?.b2b?.side ?? this.ctx.side;
  }

  private setView(c: Conversation): void {
    if (c.b2b?.side) this.ctx.noteSide?.(this.id, c.b2b.side);
    const prev = this.view;
    // Live updates carry no team name: after a move to another group the name held is
    // stale, so it is dropped and the customer's view read again (it names the team).
    const isTeamStale = !("group" in c) && prev?.group != null && prev.group.id !== c.group_id;
    this.view = {
      ...prev,
      ...c,
      ...(isTeamStale ? { group: c.group_id === null ? null : undefined } : {}),
      customer_panel: c.customer_panel ?? prev?.customer_panel,
      queue_position: c.status === "queued" ? (c.queue_position ?? prev?.queue_position) : null,
    };
    if (isTeamStale && c.group_id !== null && this.ctx.side === "customer") void this.refreshView();
    if (c.receipts) {
      this.receipts = mergeReceipts(this.receipts, c.receipts);
      this.ctx.learnReceipts(this.id, c.receipts);
    }
  }

  private reportRead(): void {
    if (!this.isViewing || !this.loaded) return;
    const newest = this.newestFromOtherSide();
    if (compareMarks(newest, NOTHING) > 0) this.ctx.reportRead(this.id, newest);
  }

  private clearTypist(userId: string): void {
    clearTimeout(this.typingTimers.get(userId));
    this.typing.delete(userId);
  }
}
