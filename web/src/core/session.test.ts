import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ProtocolError, type Message } from "./protocol";
import { ChatSession } from "./session";
import { FakeServer, FakeTransport, MemoryStore } from "./test/fakeServer";
import type { Side } from "./protocol";

let clientIds = 0;

function setup(side: Side = "customer", withPositions = true, store = new MemoryStore()) {
  const transport = new FakeTransport();
  const server = new FakeServer(transport, side, withPositions);
  const session = new ChatSession({
    transport,
    rest: server.rest,
    side,
    userId: side === "customer" ? "cust" : "agent",
    store,
    outboxKey: "outbox",
    newClientId: () => `client-${++clientIds}`,
  });
  return { transport, server, session, store };
}

const settle = (ms = 0) => vi.advanceTimersByTimeAsync(ms);
const texts = (messages: Message[]) => messages.map((m) => m.text);

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe("outbox: messages are stored in the order they were written", () => {
  it("keeps the written order across a disconnect (1, 2, 35 s, 3, 4)", async () => {
    const { transport, server, session } = setup();
    server.conversation("c1").add("org", "hello");
    transport.connect();
    const conversation = session.open("c1");
    await settle();
    // The server takes a while to store each one: never two in flight for a conversation.
    let inFlight = 0;
    let most = 0;
    transport.handlers.set("message:send", async (p) => {
      most = Math.max(most, ++inFlight);
      await new Promise((r) => setTimeout(r, 50));
      inFlight -= 1;
      return server.send(p);
    });

    transport.disconnect();
    session.send("c1", "1");
    session.send("c1", "2");
    await settle(35000);
    session.send("c1", "3");
    session.send("c1", "4");
    expect(transport.sent("message:send")).toHaveLength(0);
    expect(texts(conversation.snapshot().messages)).toEqual(["hello", "1", "2", "3", "4"]);
    expect(conversation.snapshot().messages.slice(1).every((m) => m.pending)).toBe(true);

    transport.connect();
    await settle(1000);
    expect(server.stored).toEqual(["1", "2", "3", "4"]);
    expect(most).toBe(1);
    const shown = conversation.snapshot().messages;
    expect(texts(shown)).toEqual(["hello", "1", "2", "3", "4"]);
    expect(shown.map((m) => m.position)).toEqual([1, 2, 3, 4, 5]);
    expect(shown.some((m) => m.pending)).toBe(false);
  });

  it("retries a busy send with the same client_id, after a delay, before the next one", async () => {
    const { transport, server, session } = setup();
    transport.connect();
    let refusals = 1;
    transport.handlers.set("message:send", (p) => {
      if (refusals-- > 0) throw new ProtocolError("busy", "retry");
      return server.send(p);
    });
    session.send("c1", "a");
    session.send("c1", "b");
    await settle(0);
    expect(transport.sent("message:send").map((p) => p.text)).toEqual(["a"]);
    await settle(999);
    expect(transport.sent("message:send")).toHaveLength(1);
    await settle(10);
    const sends = transport.sent("message:send");
    expect(sends.map((p) => p.text)).toEqual(["a", "a", "b"]);
    expect(sends[0].client_id).toBe(sends[1].client_id);
    expect(server.stored).toEqual(["a", "b"]);
  });

  it("resends the same client_id when the connection drops before the ack; stored once", async () => {
    const { transport, server, session } = setup();
    transport.connect();
    let isFirst = true;
    transport.handlers.set("message:send", (p) => {
      const answer = server.send(p);
      if (isFirst) {
        isFirst = false;
        return new Promise(() => {}); // stored, but the ack is lost with the connection
      }
      return answer;
    });
    const conversation = session.open("c1");
    await settle();
    session.send("c1", "x");
    session.send("c1", "y");
    await settle();
    transport.disconnect();
    transport.connect();
    await settle(10);
    const sends = transport.sent("message:send");
    expect(sends.map((p) => p.text)).toEqual(["x", "x", "y"]);
    expect(sends[0].client_id).toBe(sends[1].client_id);
    expect(server.stored).toEqual(["x", "y"]);
    expect(texts(conversation.snapshot().messages)).toEqual(["x", "y"]);
  });

  it("keeps unsent messages across a reload and sends them, in order, on connect", async () => {
    const store = new MemoryStore();
    const first = setup("customer", true, store);
    first.session.send("c1", "written before the reload");
    first.session.send("c1", "and another");
    const clientId = JSON.parse(store.get("outbox")!)[0].client_id;
    first.session.dispose();

    const second = setup("customer", true, store);
    const conversation = second.session.open("c1");
    await settle();
    expect(texts(conversation.snapshot().messages)).toEqual(["written before the reload", "and another"]);
    second.transport.connect();
    await settle(10);
    expect(second.server.stored).toEqual(["written before the reload", "and another"]);
    expect(second.transport.sent("message:send")[0].client_id).toBe(clientId);
    expect(store.get("outbox")).toBeNull();
  });

  it("marks a refused message failed and goes on with the next", async () => {
    const { transport, server, session } = setup();
    transport.connect();
    transport.handlers.set("message:send", (p) => {
      if (p.text === "bad") throw new ProtocolError("conversation_closed", "closed");
      return server.send(p);
    });
    const conversation = session.open("c1");
    await settle();
    session.send("c1", "bad");
    session.send("c1", "good");
    await settle(10);
    expect(server.stored).toEqual(["good"]);
    const shown = conversation.snapshot();
    expect(shown.messages.map((m) => [m.text, Boolean(m.failed)])).toEqual([
      ["good", false],
      ["bad", true],
    ]);
    expect(shown.error).toBeInstanceOf(ProtocolError);
  });

  it("refuses a send over the packet limit without sending it, and never retries it", async () => {
    const { transport, server, session } = setup();
    transport.connect();
    transport.handlers.set("message:send", (p) => server.send(p));
    const conversation = session.open("c1");
    await settle();
    session.send("c1", "é".repeat(40000)); // 80 KB of UTF-8
    session.send("c1", "after");
    await settle(60000);
    expect(transport.sent("message:send").map((p) => p.text)).toEqual(["after"]);
    const shown = conversation.snapshot();
    expect(shown.messages.map((m) => Boolean(m.failed))).toEqual([false, true]);
    expect((shown.error as ProtocolError).code).toBe("payload_too_large");
  });

  it("treats the server's payload_too_large as final (no retry loop)", async () => {
    const { transport, server, session } = setup();
    transport.connect();
    transport.handlers.set("message:send", (p) => {
      if (p.text === "big") throw new ProtocolError("payload_too_large", "too large");
      return server.send(p);
    });
    session.open("c1");
    await settle();
    session.send("c1", "big");
    await settle(60000);
    expect(transport.sent("message:send").map((p) => p.text)).toEqual(["big"]);
  });
});

describe("sync: gaps and has_more", () => {
  it("buffers a live message behind a gap, syncs from the held position, then shows all in order", async () => {
    const { transport, server, session } = setup();
    const c = server.conversation("c1");
    ["a", "b", "c"].forEach((t) => c.add("org", t));
    transport.connect();
    const conversation = session.open("c1");
    await settle();
    expect(transport.sent("sync")).toHaveLength(0);

    c.add("org", "d"); // its event is lost
    const e = c.add("org", "e");
    transport.push("message:new", c.event(e, "customer"));
    expect(texts(conversation.snapshot().messages)).toEqual(["a", "b", "c"]);
    await settle(10);
    expect(transport.sent("sync")).toEqual([{ conversations: [{ conversation_id: "c1", after_position: 3 }] }]);
    expect(texts(conversation.snapshot().messages)).toEqual(["a", "b", "c", "d", "e"]);
  });

  it("does not mistake the notes a customer cannot see for a gap", async () => {
    const { transport, server, session } = setup();
    const c = server.conversation("c1");
    c.add("org", "a");
    transport.connect();
    const conversation = session.open("c1");
    await settle();
    c.add("org", "secret", { kind: "note" });
    const b = c.add("org", "b");
    transport.push("message:new", c.event(b, "customer"));
    await settle(10);
    expect(transport.sent("sync")).toHaveLength(0);
    expect(texts(conversation.snapshot().messages)).toEqual(["a", "b"]);
  });

  it("syncs an event's newer position (unread:update, receipt:update) only when it is above what it holds", async () => {
    const { transport, server, session } = setup();
    const c = server.conversation("c1");
    c.add("org", "a");
    transport.connect();
    session.open("c1");
    await settle();
    transport.push("unread:update", { conversation_id: "c1", side: "customer", unread: 0, position: 1 });
    await settle(10);
    expect(transport.sent("sync")).toHaveLength(0);
    c.add("org", "b");
    transport.push("unread:update", { conversation_id: "c1", side: "customer", unread: 1, position: 2 });
    await settle(10);
    expect(transport.sent("sync")).toEqual([{ conversations: [{ conversation_id: "c1", after_position: 1 }] }]);
  });

  it("follows has_more after a reconnect, from the last returned position", async () => {
    const { transport, server, session } = setup();
    const c = server.conversation("c1");
    c.add("org", "m1");
    transport.connect();
    const conversation = session.open("c1");
    await settle();
    transport.disconnect();
    for (let i = 2; i <= 6; i++) c.add(i % 2 ? "org" : "customer", `m${i}`);
    server.syncPage = 2;
    transport.connect();
    await settle(10);
    expect(transport.sent("sync").map((p) => p.conversations[0].after_position)).toEqual([1, 3, 5]);
    expect(texts(conversation.snapshot().messages)).toEqual(["m1", "m2", "m3", "m4", "m5", "m6"]);
  });

  it("works with a server that sends no positions: ids order, sync `after` the newest id", async () => {
    const { transport, server, session } = setup("customer", false);
    const c = server.conversation("c1");
    c.add("org", "a");
    transport.connect();
    const conversation = session.open("c1");
    await settle();
    transport.disconnect();
    const b = c.add("org", "b");
    session.send("c1", "mine");
    transport.connect();
    await settle(150);
    expect(transport.sent("sync")).toEqual([{ conversations: [{ conversation_id: "c1", after: c.messages[0].id }] }]);
    expect(texts(conversation.snapshot().messages)).toEqual(["a", "b", "mine"]);
    expect(transport.sent("receipt:delivered")).toEqual([{ conversation_id: "c1", up_to: b.id }]);
  });
});

describe("receipts: one per socket per watermark move", () => {
  it("coalesces a burst into one delivered, skips what it reported, and lets read swallow delivered", async () => {
    const { transport, server, session } = setup();
    const c = server.conversation("c1");
    transport.connect();
    const conversation = session.open("c1");
    await settle();
    const burst = [1, 2, 3].map((i) => c.add("org", `m${i}`));
    burst.forEach((m) => transport.push("message:new", c.event(m, "customer")));
    await settle(150);
    expect(transport.sent("receipt:delivered")).toEqual([{ conversation_id: "c1", up_to_position: 3 }]);

    transport.push("message:new", c.event(burst[1], "customer")); // a duplicate
    await settle(150);
    expect(transport.sent("receipt:delivered")).toHaveLength(1);

    conversation.setViewing(true);
    await settle(150);
    expect(transport.sent("receipt:read")).toEqual([{ conversation_id: "c1", up_to_position: 3 }]);

    const next = c.add("org", "m4");
    transport.push("message:new", c.event(next, "customer"));
    await settle(150);
    expect(transport.sent("receipt:read")).toHaveLength(2);
    expect(transport.sent("receipt:delivered")).toHaveLength(1);

    transport.disconnect();
    transport.connect();
    await settle(150);
    const receipts = transport.calls.filter((call) => call.event.startsWith("receipt:"));
    expect(receipts).toHaveLength(3);
    expect(session.receipts.emitted).toBeLessThanOrEqual(4); // four messages arrived
  });

  it("reports read for what the first page shows when the screen looks at it from the start", async () => {
    const { transport, server, session } = setup("org");
    server.conversation("c1").add("customer", "hello");
    transport.connect();
    session.open("c1").setViewing(true); // before the page is loaded
    await settle(150);
    expect(transport.sent("receipt:read")).toEqual([{ conversation_id: "c1", up_to_position: 1 }]);
    expect(transport.sent("receipt:delivered")).toEqual([]);
  });

  it("reports nothing for its own messages nor what the server already has", async () => {
    const { transport, server, session } = setup("org");
    const c = server.conversation("c1");
    transport.connect();
    session.open("c1");
    await settle();
    const m = c.add("customer", "hi");
    transport.push("receipt:update", { conversation_id: "c1", side: "org", delivered_up_to: m.id, read_up_to: "0", delivered_position: 1, read_position: 0 });
    transport.push("message:new", c.event(m, "org"));
    session.send("c1", "my reply");
    await settle(150);
    expect(transport.calls.filter((call) => call.event.startsWith("receipt:"))).toHaveLength(0);
  });

  it("reports again what did not get through", async () => {
    const { transport, server } = setup();
    const c = server.conversation("c1");
    transport.connect();
    let isFirst = true;
    transport.handlers.set("receipt:delivered", () => {
      if (isFirst) {
        isFirst = false;
        return new Promise(() => {});
      }
      return {};
    });
    const m = c.add("org", "hi");
    transport.push("message:new", c.event(m, "customer"));
    await settle(150);
    transport.disconnect();
    transport.connect();
    await settle(150);
    expect(transport.sent("receipt:delivered")).toEqual([
      { conversation_id: "c1", up_to_position: 1 },
      { conversation_id: "c1", up_to_position: 1 },
    ]);
  });
});

describe("lists: patched from events, no REST reload per message", () => {
  it("moves a conversation up on message:new and counts unread from unread:update", async () => {
    const { transport, server, session } = setup();
    server.conversation("c1").add("org", "old one");
    server.conversation("c2").add("org", "newer");
    transport.connect();
    const list = session.list("all");
    await settle();
    expect(list.snapshot().items.map((c) => c.id)).toEqual(["c2", "c1"]);
    const restCalls = server.restCalls.length;

    const c1 = server.conversation("c1");
    const m = c1.add("org", "fresh", { created_at: "2025-02-01T00:00:00.000Z" });
    transport.push("message:new", c1.event(m, "customer"));
    transport.push("unread:update", { conversation_id: "c1", side: "customer", unread: 1, position: 2 });
    await settle(150);
    const items = list.snapshot().items;
    expect(items.map((c) => c.id)).toEqual(["c1", "c2"]);
    expect(items[0].last_message?.preview).toBe("fresh");
    expect(items[0].unread).toBe(1);
    expect(server.restCalls.length).toBe(restCalls);
  });

  it("an agent's lists follow conversation:updated and queue:updated", async () => {
    const { transport, server, session } = setup("org");
    transport.connect();
    const queue = session.list("queue");
    const mine = session.list("mine");
    await settle();
    expect(queue.snapshot().items).toEqual([]);

    const c = server.conversation("c9");
    c.add("customer", "help");
    const waiting = { ...c.view("org"), status: "queued" as const, assignee: null, queued_at: "2025-01-01T00:00:01.000Z" };
    transport.push("conversation:updated", { conversation: waiting });
    transport.push("queue:updated", { group_id: "g1", queue: [{ conversation_id: "c9", position: 1, queued_at: waiting.queued_at, subject: null, preview: "help", priority: "normal" }] });
    await settle();
    expect(queue.snapshot().items.map((x) => x.id)).toEqual(["c9"]);
    expect(mine.snapshot().items).toEqual([]);

    transport.push("conversation:updated", { conversation: { ...waiting, status: "active", assignee: { id: "agent", name: "Al" } } });
    transport.push("queue:updated", { group_id: "g1", queue: [] });
    await settle();
    expect(queue.snapshot().items).toEqual([]);
    expect(mine.snapshot().items.map((x) => x.id)).toEqual(["c9"]);

    transport.push("conversation:updated", { conversation: { ...waiting, status: "active", assignee: { id: "someone-else", name: "Bo" } } });
    await settle();
    expect(mine.snapshot().items).toEqual([]);
    // Two lists loaded once each, nothing fetched since: every change came with its event.
    expect(server.restCalls).toEqual(["/conversations?scope=queue&limit=100", "/conversations?scope=mine&limit=100"]);
  });

  it("fetches a queued conversation it has never seen, once", async () => {
    const { transport, server, session } = setup("org");
    transport.connect();
    const queue = session.list("queue");
    await settle();
    server.conversation("c5").add("customer", "hi");
    server.conversation("c5").status = "queued";
    const entry = { conversation_id: "c5", position: 1, queued_at: null, subject: null, preview: "hi", priority: "normal" };
    transport.push("queue:updated", { group_id: "g1", queue: [entry] });
    transport.push("queue:updated", { group_id: "g1", queue: [entry] });
    await settle();
    expect(server.restCalls.filter((p) => p === "/conversations/c5")).toHaveLength(1);
    expect(queue.snapshot().items.map((x) => x.id)).toEqual(["c5"]);
  });
});
