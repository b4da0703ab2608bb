// The support journey driven by the official JavaScript client, socket.io-client, over WSS.
//
// Run by tests/api/test_js_client.py. The configuration is one JSON object, given as the
// first argument or in RAASEL_JOURNEY:
//   {"url", "ca_file", "customer_token", "agent_token", "org_id", "group_id"}
// The agent must be the only agent of the group (policy round_robin) and offline.
// Success: one JSON line of results on stdout, exit 0. Failure: "journey failed at <step>:
// <why>" on stderr, exit 1 (2 for a bad configuration). Every wait has a timeout.
//
// TLS is verified against exactly the server's certificate (the `ca` option, for the
// sockets and for REST alike); nothing here turns certificate checks off.

import { readFileSync } from "node:fs";
import { request } from "node:https";
import { createRequire } from "node:module";
import { io } from "socket.io-client";

const WAIT_MS = 10_000;
const OVERALL_MS = 60_000;
const CLIENT_VERSION = createRequire(import.meta.url)("socket.io-client/package.json").version;
const ID = /^[0-9]{1,20}$/;

class JourneyError extends Error {}

let step = "configuration";
const steps = [];

function begin(name) {
  step = name;
  steps.push(name);
}

function fail(error, code = 1) {
  const why = error instanceof Error ? error.message : String(error);
  process.stderr.write(`journey failed at ${step}: ${why}\n`);
  process.exit(code);
}

function check(condition, message, detail) {
  if (!condition) {
    const why = detail === undefined ? message : `${message}: ${JSON.stringify(detail)}`;
    throw new JourneyError(why);
  }
}

function checkId(value, what) {
  check(typeof value === "string" && ID.test(value), `${what} is not a decimal string id`, value);
  return value;
}

function ascending(ids) {
  return ids.every((id, i) => i === 0 || BigInt(ids[i - 1]) < BigInt(id));
}

let uniqueCounter = 0;
function clientId(prefix) {
  uniqueCounter += 1;
  return `js-${prefix}-${Date.now().toString(36)}-${uniqueCounter}`;
}

function readConfig() {
  const raw = process.argv[2] ?? process.env.RAASEL_JOURNEY;
  if (!raw) throw new JourneyError("pass the configuration as a JSON argument or RAASEL_JOURNEY");
  const config = JSON.parse(raw);
  const keys = ["url", "ca_file", "customer_token", "agent_token", "org_id", "group_id"];
  const missing = keys.filter((k) => typeof config[k] !== "string" || !config[k]);
  check(missing.length === 0, "configuration lacks", missing);
  return { ...config, ca: readFileSync(config.ca_file) };
}

let config;
try {
  config = readConfig();
} catch (error) {
  fail(error, 2);
}

/** One REST call with node:https (global fetch cannot be given a CA without undici). */
function rest(method, path, token, body) {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers = { Authorization: `Bearer ${token}`, Accept: "application/json" };
    if (payload !== undefined) headers["Content-Type"] = "application/json";
    const req = request(
      new URL(path, config.url),
      { method, headers, ca: config.ca, timeout: WAIT_MS },
      (res) => {
        const chunks = [];
        res.on("data", (chunk) => chunks.push(chunk));
        res.on("error", reject);
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          try {
            resolve({ status: res.statusCode, body: text ? JSON.parse(text) : null });
          } catch {
            reject(new JourneyError(`${method} ${path} answered ${res.statusCode}: ${text}`));
          }
        });
      },
    );
    req.on("timeout", () => req.destroy(new JourneyError(`${method} ${path}: no answer in time`)));
    req.on("error", reject);
    req.end(payload);
  });
}

async function restOk(method, path, token, body, status = 200) {
  const res = await rest(method, path, token, body);
  check(res.status === status, `${method} ${path} answered ${res.status}`, res.body);
  return res.body;
}

function socketOptions(token, overrides = {}) {
  return {
    transports: ["websocket"],
    ca: config.ca,
    auth: { token },
    forceNew: true,
    reconnection: false,
    autoConnect: false,
    timeout: WAIT_MS,
    ...overrides,
  };
}

/** Connects and resolves to the connect_error it expects; a successful connect is a failure. */
function refusedConnection(options) {
  const socket = io(config.url, options);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.close();
      reject(new JourneyError(`no connect_error within ${WAIT_MS} ms`));
    }, WAIT_MS);
    socket.on("connect", () => {
      clearTimeout(timer);
      socket.close();
      reject(new JourneyError("the connection was accepted"));
    });
    socket.on("connect_error", (error) => {
      clearTimeout(timer);
      socket.close();
      resolve(error);
    });
    socket.connect();
  });
}

/** A socket.io-client connection that records every event it receives. */
class Peer {
  constructor(name, token) {
    this.name = name;
    this.events = [];
    this.waiters = new Set();
    this.socket = io(config.url, socketOptions(token));
    this.socket.onAny((event, data) => {
      this.events.push({ event, data });
      for (const waiter of [...this.waiters]) waiter();
    });
  }

  connect() {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => settle(new JourneyError(`${this.name} did not connect within ${WAIT_MS} ms`)),
        WAIT_MS,
      );
      const settle = (error) => {
        clearTimeout(timer);
        this.socket.off("connect", onConnect);
        this.socket.off("connect_error", onError);
        if (error) reject(error);
        else resolve();
      };
      const onConnect = () => settle();
      const onError = (error) => {
        const detail = error.data ?? error.description?.message ?? "";
        const why = `${error.message} ${JSON.stringify(detail)}`;
        settle(new JourneyError(`${this.name} could not connect: ${why}`));
      };
      this.socket.on("connect", onConnect);
      this.socket.on("connect_error", onError);
      this.socket.connect();
    });
  }

  disconnect() {
    this.socket.disconnect();
  }

  /** Emits and returns the acknowledgement, which must say ok. */
  async call(event, payload) {
    let ack;
    try {
      ack = await this.socket.timeout(WAIT_MS).emitWithAck(event, payload);
    } catch (error) {
      const why = `no ack within ${WAIT_MS} ms (${error.message})`;
      throw new JourneyError(`${this.name} ${event}: ${why}`);
    }
    check(ack?.ok === true, `${this.name} ${event} was refused`, ack);
    return ack;
  }

  received(event, where = () => true) {
    return this.events
      .filter((e) => e.event === event && matches(where, e.data))
      .map((e) => e.data);
  }

  /** The first ``event`` (already received or still to come) whose data satisfies ``where``. */
  waitFor(event, where = () => true, what = event) {
    const find = () => this.events.find((e) => e.event === event && matches(where, e.data));
    const hit = find();
    if (hit) return Promise.resolve(hit.data);
    return new Promise((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(waiter);
      };
      const waiter = () => {
        const found = find();
        if (found) {
          done();
          resolve(found.data);
        }
      };
      const timer = setTimeout(() => {
        done();
        const seen = this.events.map((e) => e.event);
        reject(new JourneyError(`${this.name} got no ${what} within ${WAIT_MS} ms; saw ${seen}`));
      }, WAIT_MS);
      this.waiters.add(waiter);
    });
  }
}

function matches(where, data) {
  try {
    return Boolean(where(data));
  } catch {
    return false;
  }
}

async function journey() {
  const results = { client: { name: "socket.io-client", version: CLIENT_VERSION } };

  begin("identify");
  const customerMe = await restOk("GET", "/api/v1/me", config.customer_token);
  const agentMe = await restOk("GET", "/api/v1/me", config.agent_token);
  const customerId = customerMe.id;
  const agentId = agentMe.id;
  check(customerMe.role === null, "the customer token speaks for a member", customerMe);
  check(
    agentMe.org_id === config.org_id && agentMe.group_ids.includes(config.group_id),
    "the agent token is not a member of the group",
    agentMe,
  );

  begin("tls_verified");
  const withoutCa = socketOptions(config.customer_token, { ca: undefined });
  const untrusted = await refusedConnection(withoutCa);
  const tlsError = String(untrusted.description?.message ?? untrusted.description ?? "");
  check(/certificate/i.test(tlsError), "the refusal is not a certificate error", tlsError);
  results.tls = { rejected_without_ca: true, error: tlsError };

  begin("bad_token_refused");
  const badToken = await refusedConnection(socketOptions("not-a-valid-token"));
  check(
    ["invalid_token", "unauthenticated"].includes(badToken.data?.code),
    "a bad token was refused without a typed error",
    { message: badToken.message, data: badToken.data },
  );
  results.bad_token_code = badToken.data.code;

  begin("connect");
  const customer = new Peer("customer", config.customer_token);
  const agent = new Peer("agent", config.agent_token);
  await Promise.all([customer.connect(), agent.connect()]);
  results.transport = customer.socket.io.engine.transport.name;
  check(results.transport === "websocket", "not on the websocket transport", results.transport);

  begin("open_conversation");
  const opened = await restOk(
    "POST",
    "/api/v1/conversations",
    config.customer_token,
    {
      org_id: config.org_id,
      group_id: config.group_id,
      text: "My parcel never arrived",
      client_id: clientId("open"),
    },
    201,
  );
  const cid = opened.conversation.id;
  const firstId = checkId(opened.message.id, "the first message id");
  check(opened.conversation.status === "queued", "with the agent offline it should queue", opened);
  await customer.waitFor("queue:position", (d) => d.conversation_id === cid);
  const inConversation = (d) => d.message.conversation_id === cid;

  begin("presence_online_assigns");
  const presence = await agent.call("presence:set", { availability: "online" });
  check(presence.availability === "online", "presence:set answered", presence);
  const isActive = (d) => d.conversation.id === cid && d.conversation.status === "active";
  const agentView = await agent.waitFor("conversation:updated", isActive);
  const customerView = await customer.waitFor("conversation:updated", isActive);
  for (const view of [agentView, customerView]) {
    check(view.conversation.assignee?.id === agentId, "assigned to someone else", view);
  }
  check(!("tags" in customerView.conversation), "the customer got internal fields", customerView);
  const joined = await customer.waitFor(
    "message:new",
    (d) => inConversation(d) && d.message.kind === "system",
    "system message",
  );
  checkId(joined.message.id, "the system message id");

  begin("customer_sees_ticks");
  const customerTicks = ["sent"];
  const delivered = await agent.call("receipt:delivered", { conversation_id: cid, up_to: firstId });
  check(delivered.counted === true, "the agent's delivery did not count", delivered);
  const twoTicks = await customer.waitFor(
    "receipt:update",
    (d) => d.conversation_id === cid && d.side === "org" && d.delivered_up_to === firstId,
    "delivered receipt",
  );
  check(twoTicks.read_up_to === "0", "read before it was read", twoTicks);
  customerTicks.push("delivered");
  await agent.call("receipt:read", { conversation_id: cid, up_to: firstId });
  await customer.waitFor(
    "receipt:update",
    (d) => d.conversation_id === cid && d.side === "org" && d.read_up_to === firstId,
    "read receipt",
  );
  customerTicks.push("read");

  begin("typing");
  await customer.call("typing:start", { conversation_id: cid });
  const customerTyping = await agent.waitFor(
    "typing",
    (d) => d.conversation_id === cid && d.is_typing && d.user_id === customerId,
    "customer typing",
  );
  check(customerTyping.side === "customer" && !customerTyping.is_note, "typing", customerTyping);
  await agent.call("typing:start", { conversation_id: cid });
  await customer.waitFor(
    "typing",
    (d) => d.conversation_id === cid && d.is_typing && d.user_id === agentId && !d.is_note,
    "agent typing",
  );

  begin("customer_sends");
  const sendClientId = clientId("msg");
  const send = { conversation_id: cid, client_id: sendClientId, text: "Order #1234" };
  const sent = await customer.call("message:send", send);
  const customerMessageId = checkId(sent.message.id, "the sent message id");
  check(sent.message.client_id === sendClientId, "the ack lost the client id", sent);
  const arrived = await agent.waitFor("message:new", (d) => d.message.id === customerMessageId);
  check(arrived.message.text === "Order #1234", "the agent got another text", arrived);
  check(ascending([firstId, customerMessageId]), "ids do not grow", [firstId, customerMessageId]);

  begin("retry_is_idempotent");
  const retried = await customer.call("message:send", send);
  check(retried.message.id === customerMessageId, "a retry made a second message", retried);

  begin("agent_replies");
  const agentTicks = ["sent"];
  const reply = await agent.call("message:send", {
    conversation_id: cid,
    client_id: clientId("reply"),
    text: "Let me look into it",
  });
  const replyId = checkId(reply.message.id, "the reply id");
  const replyArrived = await customer.waitFor("message:new", (d) => d.message.id === replyId);
  check(replyArrived.message.sender_side === "org", "reply side", replyArrived);

  begin("agent_sees_ticks");
  await customer.call("receipt:delivered", { conversation_id: cid, up_to: replyId });
  const agentTwoTicks = await agent.waitFor(
    "receipt:update",
    (d) => d.conversation_id === cid && d.side === "customer" && d.delivered_up_to === replyId,
    "delivered receipt",
  );
  check(BigInt(agentTwoTicks.read_up_to) < BigInt(replyId), "read too early", agentTwoTicks);
  agentTicks.push("delivered");
  const read = await customer.call("receipt:read", { conversation_id: cid, up_to: replyId });
  check(read.unread === 0, "the customer still has unread messages", read);
  await agent.waitFor(
    "receipt:update",
    (d) => d.conversation_id === cid && d.side === "customer" && d.read_up_to === replyId,
    "read receipt",
  );
  agentTicks.push("read");

  begin("internal_note");
  await agent.call("typing:start", { conversation_id: cid, is_note: true });
  const note = await agent.call("message:send", {
    conversation_id: cid,
    client_id: clientId("note"),
    text: "Courier lost it; refund",
    kind: "note",
  });
  const noteId = checkId(note.message.id, "the note id");
  check(note.message.kind === "note", "the note is not a note", note);
  // Events reach one socket in the order they are published: once the customer has the
  // message sent after the note, the note (or its typing) would already have arrived.
  const after = await agent.call("message:send", {
    conversation_id: cid,
    client_id: clientId("after-note"),
    text: "A refund is on its way",
  });
  const afterNoteId = checkId(after.message.id, "the message after the note");
  await customer.waitFor("message:new", (d) => d.message.id === afterNoteId);
  const leaked = customer.received(
    "message:new",
    (d) => d.message.id === noteId || d.message.kind === "note",
  );
  check(leaked.length === 0, "the customer received an internal note", leaked);
  const noteTyping = customer.received("typing", (d) => d.is_note);
  check(noteTyping.length === 0, "the customer saw note typing", noteTyping);
  const history = await customer.call("message:history", { conversation_id: cid });
  const historyIds = history.messages.map((m) => m.id);
  check(!historyIds.includes(noteId), "the note is in the customer's history", historyIds);
  check(historyIds.filter((id) => id === customerMessageId).length === 1, "history", historyIds);

  begin("sync_after_reconnect");
  const lastSeen = afterNoteId;
  const readAll = await customer.call("receipt:read", { conversation_id: cid, up_to: lastSeen });
  check(readAll.unread === 0, "unread before going away", readAll);
  customer.disconnect();
  const missed = [];
  const missedNotes = [];
  for (const [kind, text] of [
    ["text", "Refund issued"],
    ["note", "Refund ref R-77"],
    ["text", "It takes 3 days"],
    ["text", "Anything else?"],
  ]) {
    const ack = await agent.call("message:send", {
      conversation_id: cid,
      client_id: clientId("missed"),
      text,
      kind,
    });
    (kind === "note" ? missedNotes : missed).push(checkId(ack.message.id, "a missed message id"));
  }
  await customer.connect();
  const synced = await customer.call("sync", {
    conversations: [{ conversation_id: cid, after: lastSeen }],
  });
  const state = synced.conversations[0];
  check(state.conversation_id === cid && !state.error, "sync failed", state);
  const syncedIds = state.messages.map((m) => m.id);
  syncedIds.forEach((id) => checkId(id, "a synced id"));
  check(JSON.stringify(syncedIds) === JSON.stringify(missed), "sync is not the missed messages", {
    synced: syncedIds,
    missed,
  });
  check(ascending(syncedIds), "sync is out of order", syncedIds);
  check(state.has_more === false, "sync says there is more", state);
  check(state.unread === missed.length, "unread after sync", state.unread);
  const liveWhileAway = customer.received("message:new", (d) => missed.includes(d.message.id));
  check(liveWhileAway.length === 0, "missed messages also arrived live", liveWhileAway);
  const caughtUp = await customer.call("sync", {
    conversations: [{ conversation_id: cid, after: syncedIds.at(-1) }],
  });
  check(caughtUp.conversations[0].messages.length === 0, "sync repeats", caughtUp);
  const agentSynced = await agent.call("sync", {
    conversations: [{ conversation_id: cid, after: lastSeen }],
  });
  const agentSyncedIds = agentSynced.conversations[0].messages.map((m) => m.id);
  const everything = [...missed, ...missedNotes].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1));
  check(
    JSON.stringify(agentSyncedIds) === JSON.stringify(everything),
    "the agent's sync is not the messages and the note",
    { synced: agentSyncedIds, expected: everything },
  );

  begin("live_after_reconnect");
  const back = await agent.call("message:send", {
    conversation_id: cid,
    client_id: clientId("back"),
    text: "Welcome back",
  });
  const backId = checkId(back.message.id, "the message after the reconnect");
  await customer.waitFor("message:new", (d) => d.message.id === backId);

  begin("no_duplicates");
  const customerSeen = customer.received("message:new", inConversation).map((d) => d.message.id);
  const allCustomerIds = [...customerSeen, ...syncedIds];
  check(new Set(allCustomerIds).size === allCustomerIds.length, "duplicates", allCustomerIds);
  const agentCopies = agent.received("message:new", (d) => d.message.id === customerMessageId);
  check(agentCopies.length === 1, "the agent got the retried message twice", agentCopies.length);
  const noteEvents = customer.received("message:new", (d) => d.message.kind === "note");
  check(noteEvents.length === 0, "the customer received a note", noteEvents);

  customer.disconnect();
  agent.disconnect();
  return {
    ...results,
    ok: true,
    conversation_id: cid,
    customer_id: customerId,
    agent_id: agentId,
    messages: {
      first: firstId,
      customer: customerMessageId,
      customer_retry: retried.message.id,
      reply: replyId,
      note: noteId,
      after_note: afterNoteId,
      missed,
      missed_notes: missedNotes,
      after_reconnect: backId,
    },
    ticks: { customer_sees: customerTicks, agent_sees: agentTicks },
    typing: { agent_saw_customer: true, customer_saw_agent: true },
    sync: { customer: syncedIds, customer_unread: state.unread, agent: agentSyncedIds },
    customer_received: customerSeen,
    steps,
  };
}

process.on("unhandledRejection", (error) => fail(error));
process.on("uncaughtException", (error) => fail(error));
const watchdog = () => fail(new JourneyError(`the journey took over ${OVERALL_MS} ms`));
setTimeout(watchdog, OVERALL_MS).unref();

journey().then(
  (results) => {
    process.stdout.write(`${JSON.stringify(results)}\n`);
    process.exit(0);
  },
  (error) => fail(error),
);
