// A fake Raasel for the core's unit tests: a socket (Transport) that can drop and come
// back, the REST reads the core makes, and a message store that assigns positions in the
// order it stores (or, `positions: false`, behaves like a server from before positions).
import { ProtocolError, type Conversation, type Message, type Side, type SyncResult } from "../protocol";
import { Emitter, type KeyValueStore, type Rest, type Transport } from "../transport";

export interface Call {
  event: string;
  payload: any;
}

type Handler = (payload: any) => unknown | Promise<unknown>;

export class FakeTransport implements Transport {
  isConnected = false;
  calls: Call[] = [];
  private events = new Emitter();
  private everConnected = false;
  private waiting = new Set<(e: ProtocolError) => void>();
  /** Per event: answer (or throw a ProtocolError); the default answers {}. */
  handlers = new Map<string, Handler>();

  on(name: string, listener: (payload: any) => void): () => void {
    return this.events.on(name, listener);
  }

  request<T>(event: string, payload: object): Promise<T> {
    if (!this.isConnected) return Promise.reject(new ProtocolError("offline", "not connected"));
    this.calls.push({ event, payload });
    return new Promise<T>((resolve, reject) => {
      const fail = (e: ProtocolError) => reject(e);
      this.waiting.add(fail);
      Promise.resolve()
        .then(() => (this.handlers.get(event) ?? (() => ({})))(payload))
        .then(
          (answer) => {
            if (!this.waiting.delete(fail)) return; // the connection dropped first
            resolve({ ok: true, ...(answer as object) } as T);
          },
          (error) => {
            if (this.waiting.delete(fail)) reject(error);
          },
        );
    });
  }

  connect(): void {
    this.isConnected = true;
    const isReconnect = this.everConnected;
    this.everConnected = true;
    this.events.fire("status", { connected: true, isReconnect });
  }

  /** Like Socket.IO: acks still awaited fail at once. */
  disconnect(): void {
    this.isConnected = false;
    const waiting = [...this.waiting];
    this.waiting.clear();
    waiting.forEach((fail) => fail(new ProtocolError("offline", "socket has been disconnected")));
    this.events.fire("status", { connected: false, isReconnect: false });
  }

  /** A server → client event. */
  push(name: string, payload: unknown): void {
    this.events.fire(name, payload);
  }

  sent(event: string): any[] {
    return this.calls.filter((c) => c.event === event).map((c) => c.payload);
  }
}

export class MemoryStore implements KeyValueStore {
  data = new Map<string, string>();
  get(key: string): string | null {
    return this.data.get(key) ?? null;
  }
  set(key: string, value: string): void {
    this.data.set(key, value);
  }
  remove(key: string): void {
    this.data.delete(key);
  }
}

let nextId = 1000n;

/** One conversation's messages, positions dense over all of them (notes included). */
export class FakeConversation {
  messages: Message[] = [];
  status: Conversation["status"] = "active";

  constructor(
    readonly id: string,
    readonly withPositions = true,
  ) {}

  add(side: Side, text: string, extra: Partial<Message> = {}): Message {
    const message: Message = {
      id: String((nextId += 1n)),
      conversation_id: this.id,
      client_id: extra.client_id ?? `srv-${nextId}`,
      sender_id: side === "customer" ? "cust" : "agent",
      sender_side: side,
      kind: "text",
      text,
      attachment_id: null,
      created_at: new Date(Date.UTC(2025, 0, 1, 0, 0, this.messages.length)).toISOString(),
      ...extra,
    };
    if (this.withPositions) message.position = this.messages.length + 1;
    else delete message.position;
    this.messages.push(message);
    return message;
  }

  visibleTo(side: Side): Message[] {
    return this.messages.filter((m) => side === "org" || m.kind !== "note");
  }

  /** The `message:new` a receiver on `side` gets for `message`. */
  event(message: Message, side: Side) {
    const visible = this.visibleTo(side);
    const at = visible.indexOf(message);
    const payload: any = { message };
    if (this.withPositions) {
      payload.conversation_id = this.id;
      payload.position = message.position;
      payload.previous_position = at > 0 ? visible[at - 1].position : 0;
    }
    return payload;
  }

  view(side: Side): Conversation {
    const visible = this.visibleTo(side);
    const last = visible[visible.length - 1];
    return {
      id: this.id,
      org_id: "org",
      group_id: "g1",
      status: this.status,
      subject: null,
      customer: { id: "cust", name: "Cus" },
      assignee: { id: "agent", name: "Al" },
      created_at: "2025-01-01T00:00:00.000Z",
      updated_at: last?.created_at ?? "2025-01-01T00:00:00.000Z",
      last_message: last ? { id: last.id, preview: last.text, sender_id: last.sender_id, at: last.created_at } : null,
      ...(this.withPositions ? { last_position: last?.position ?? 0 } : {}),
      unread: 0,
    };
  }
}

/** The server side: the socket handlers and the REST reads, over FakeConversations. */
export class FakeServer {
  conversations = new Map<string, FakeConversation>();
  restCalls: string[] = [];
  syncPage = 200;
  /** Stored sends in store order, as `text`. */
  stored: string[] = [];

  constructor(
    readonly transport: FakeTransport,
    readonly side: Side,
    readonly withPositions = true,
  ) {
    transport.handlers.set("message:send", (p) => this.send(p));
    transport.handlers.set("sync", (p) => this.sync(p));
  }

  conversation(id: string): FakeConversation {
    let c = this.conversations.get(id);
    if (!c) this.conversations.set(id, (c = new FakeConversation(id, this.withPositions)));
    return c;
  }

  send(p: { conversation_id: string; client_id: string; text?: string; kind?: string }): { message: Message } {
    const c = this.conversation(p.conversation_id);
    const earlier = c.messages.find((m) => m.client_id === p.client_id);
    if (earlier) return { message: earlier };
    this.stored.push(p.text ?? "");
    return { message: c.add(this.side, p.text ?? "", { client_id: p.client_id, kind: (p.kind as Message["kind"]) ?? "text" }) };
  }

  sync(p: { conversations: any[] }): { conversations: SyncResult[] } {
    return {
      conversations: p.conversations.map((item) => {
        const c = this.conversation(item.conversation_id);
        const visible = c.visibleTo(this.side);
        const after = visible.filter((m) => ("after_position" in item ? (m.position ?? 0) > item.after_position : BigInt(m.id) > BigInt(item.after)));
        const page = after.slice(0, this.syncPage);
        const result: SyncResult = { conversation_id: c.id, status: "active", messages: page, has_more: after.length > page.length, unread: 0 };
        if (this.withPositions) result.last_position = visible[visible.length - 1]?.position ?? 0;
        return result;
      }),
    };
  }

  readonly rest: Rest = {
    get: async <T>(path: string): Promise<T> => {
      this.restCalls.push(path);
      const history = path.match(/^\/conversations\/([^/?]+)\/messages/);
      if (history) {
        const visible = this.conversation(history[1]).visibleTo(this.side);
        return { messages: visible.slice(-50), has_more: visible.length > 50, next_before: null } as T;
      }
      const one = path.match(/^\/conversations\/([^/?]+)$/);
      if (one) return this.conversation(one[1]).view(this.side) as T;
      if (path.startsWith("/conversations?")) return [...this.conversations.values()].map((c) => c.view(this.side)) as T;
      throw new Error(`unexpected GET ${path}`);
    },
  };
}
