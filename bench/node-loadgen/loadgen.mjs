// The benchmark's load generator on the official socket.io-client: bench/loadgen.py's twin.
//
// Same arguments, same stdin/stdout protocol with bench/run.py, same report JSON, same
// workload (pairs sending ~64-character messages at --rate with a random phase, the
// sender's CLOCK_MONOTONIC in the text, per-message loss by client id). It exists because
// the Python generator spends ~0.5 ms of CPU per message, so on its one core it cannot
// offer more than ~2,000 msgs/s; this one costs a fraction of that (docs/benchmarks.md).
// process.hrtime and Python's time.monotonic() read the same CLOCK_MONOTONIC on Linux.
//
//   loadgen -> "ready <connected> <failed>"   every client has tried to connect
//   run     -> "go <monotonic start s>"       (pairs) send from then on, report, exit
//   run     -> "stop"                         (idle) disconnect, report, exit
import { readFileSync, writeFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import { io } from "socket.io-client";

const { values: args } = parseArgs({
  options: {
    url: { type: "string" },
    ca: { type: "string" },
    "agent-url": { type: "string", default: "" },
    "agent-ca": { type: "string", default: "" },
    world: { type: "string" },
    target: { type: "string" },
    mode: { type: "string", default: "pairs" },
    first: { type: "string", default: "0" },
    last: { type: "string" },
    rate: { type: "string", default: "2.5" },
    warmup: { type: "string", default: "3" },
    duration: { type: "string", default: "20" },
    drain: { type: "string", default: "5" },
    parallel: { type: "string", default: "64" },
    out: { type: "string" },
    // Client features declared at connect, as the web app does (docs/protocol.md).
    features: { type: "string", default: "message_unread" },
  },
});

const MAX_IN_FLIGHT = 64;
const FEATURES = args.features.split(",").filter(Boolean);
const PADDING = "x".repeat(40);
const nowNs = () => process.hrtime.bigint();
const world = JSON.parse(readFileSync(args.world, "utf8"));
const first = Number(args.first);
const last = Number(args.last);
const mode = args.mode;

const stats = {
  windowStart: 0n,
  windowEnd: 0n,
  connected: 0,
  connectFailed: 0,
  connectErrors: {},
  disconnects: 0,
  sent: 0,
  skipped: 0,
  acked: 0,
  ackErrors: {},
  delivered: 0,
  deliveredInWindow: 0,
  echoes: 0,
  otherEvents: {},
  outstanding: new Map(), // client id -> bits: 1 acked ok, 2 delivered
  refused: 0,
  ackUs: [],
  deliveryUs: [],
  sendLagUs: [],
};
const inWindow = (t) => t >= stats.windowStart && t < stats.windowEnd;
const bump = (counter, key) => {
  counter[key] = (counter[key] ?? 0) + 1;
};
function settle(clientId, bit) {
  const state = stats.outstanding.get(clientId);
  if (state === undefined) return;
  if ((state | bit) === 3) stats.outstanding.delete(clientId);
  else stats.outstanding.set(clientId, state | bit);
}

function makeClients() {
  const clients = [];
  if (mode === "idle") {
    for (let n = first; n < last; n++) {
      const token = world.visitors[n];
      clients.push({ tag: `v${n}`, side: "customer", conversation: "", token, inFlight: 0, seq: 0 });
    }
    return clients;
  }
  for (let n = first; n < last; n++) {
    const pair = world.pairs[n];
    const conversation = args.target === "raasel" ? pair.conversation_id : `p${n}`;
    for (const side of ["customer", "agent"]) {
      const token = side === "customer" ? pair.customer_token : pair.agent_token;
      clients.push({ tag: `p${n}`, side, conversation, token, inFlight: 0, seq: 0 });
    }
  }
  return clients;
}

function onMessage(client, data) {
  const now = nowNs();
  const message = data?.message;
  const text = message?.text;
  if (typeof text !== "string" || !text.startsWith("t")) {
    bump(stats.otherEvents, "message:new(other)");
    return;
  }
  if (String(message.client_id).split(".")[2] === client.side) {
    stats.echoes++;
    return;
  }
  const sentAt = BigInt(text.slice(1, text.indexOf(" ")));
  if (inWindow(now)) stats.deliveredInWindow++;
  if (inWindow(sentAt)) {
    stats.delivered++;
    stats.deliveryUs.push(Number((now - sentAt) / 1000n));
    settle(message.client_id, 2);
  }
}

function connect(client) {
  const agent = client.side === "agent" && args["agent-url"];
  const url = new URL(agent ? args["agent-url"] : args.url);
  const ca = readCa(agent ? args["agent-ca"] || args.ca : args.ca);
  return new Promise((resolve) => {
    const socket = io(`${url.protocol === "wss:" ? "https:" : "http:"}//${url.host}`, {
      path: url.pathname,
      transports: ["websocket"],
      forceNew: true,
      reconnection: false,
      timeout: 30000,
      auth: { token: client.token, pair: client.tag, side: client.side, features: FEATURES },
      ca,
      servername: "localhost",
      perMessageDeflate: false,
    });
    client.socket = socket;
    socket.on("message:new", (data) => onMessage(client, data));
    socket.onAny((name) => {
      if (name !== "message:new") bump(stats.otherEvents, name);
    });
    // A connection closed before Socket.IO's CONNECT (e.g. a ping left unanswered while
    // this process was starved) emits neither event below: count it, or the connecting
    // worker would wait for it forever.
    const closedEarly = (reason) => {
      stats.connectFailed++;
      bump(stats.connectErrors, `closed before connect: ${String(reason).slice(0, 60)}`);
      resolve();
    };
    socket.once("disconnect", closedEarly);
    socket.once("connect", () => {
      socket.off("disconnect", closedEarly);
      stats.connected++;
      socket.on("disconnect", () => {
        if (!client.closing) stats.disconnects++;
      });
      resolve();
    });
    socket.once("connect_error", (error) => {
      socket.off("disconnect", closedEarly);
      stats.connectFailed++;
      bump(stats.connectErrors, `${error.name}: ${String(error.message).slice(0, 80)}`);
      socket.close();
      resolve();
    });
  });
}

const caCache = new Map();
function readCa(path) {
  if (!caCache.has(path)) caCache.set(path, readFileSync(path));
  return caCache.get(path);
}

async function connectAll(clients) {
  let next = 0;
  const parallel = Number(args.parallel);
  const worker = async () => {
    while (next < clients.length) await connect(clients[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(parallel, clients.length) }, worker));
}

function send(client, nonce) {
  const sentAt = nowNs();
  client.seq++;
  const clientId = `${nonce}.${client.tag}.${client.side}.${client.seq}`;
  if (inWindow(sentAt)) {
    stats.sent++;
    stats.outstanding.set(clientId, 0);
  }
  client.inFlight++;
  const payload = { conversation_id: client.conversation, client_id: clientId, text: `t${sentAt} ${PADDING}` };
  client.socket.emit("message:send", payload, (ack) => {
    client.inFlight--;
    if (!inWindow(sentAt)) return;
    if (ack && ack.ok === true) {
      stats.acked++;
      stats.ackUs.push(Number((nowNs() - sentAt) / 1000n));
      settle(clientId, 1);
    } else {
      bump(stats.ackErrors, String(ack?.error?.code ?? "malformed"));
      if (stats.outstanding.delete(clientId)) stats.refused++;
    }
  });
}

// Every client fires at the same interval, so in phase order they take turns forever:
// one timer walks that cycle instead of a timer per client.
function drive(clients, rate, startNs, endNs, nonce) {
  const intervalNs = BigInt(Math.round(1e9 / rate));
  const order = clients
    .map((client) => ({ client, phase: BigInt(Math.floor(Math.random() * Number(intervalNs))) }))
    .sort((a, b) => (a.phase < b.phase ? -1 : a.phase > b.phase ? 1 : 0));
  let round = 0n;
  let index = 0;
  return new Promise((resolve) => {
    const tick = () => {
      for (;;) {
        const due = startNs + order[index].phase + round * intervalNs;
        if (due >= endNs) return resolve();
        const now = nowNs();
        if (due > now) {
          setTimeout(tick, Math.max(0, Number((due - now) / 1000000n)));
          return;
        }
        const { client } = order[index];
        index++;
        if (index === order.length) {
          index = 0;
          round++;
        }
        if (!client.socket?.connected) continue;
        if (client.inFlight >= MAX_IN_FLIGHT) {
          stats.skipped++;
          continue;
        }
        if (due >= stats.windowStart) stats.sendLagUs.push(Number((now - due) / 1000n));
        send(client, nonce);
      }
    };
    tick();
  });
}

async function drain(deadlineNs) {
  while (nowNs() < deadlineNs && stats.outstanding.size > 0) {
    await new Promise((r) => setTimeout(r, 100));
  }
}

function report(clients) {
  const out = {
    mode,
    clients: clients.length,
    connected: stats.connected,
    connect_failed: stats.connectFailed,
    connect_errors: stats.connectErrors,
    disconnects: stats.disconnects,
  };
  if (mode === "pairs") {
    let ackMissing = 0;
    // Unanswered sends of the window: still outstanding without the ack bit.
    for (const bits of stats.outstanding.values()) if (!(bits & 1)) ackMissing++;
    Object.assign(out, {
      window_s: Number(stats.windowEnd - stats.windowStart) / 1e9,
      sent: stats.sent,
      skipped: stats.skipped,
      acked: stats.acked,
      ack_errors: stats.ackErrors,
      ack_missing: ackMissing,
      delivered: stats.delivered,
      delivered_in_window: stats.deliveredInWindow,
      lost: stats.outstanding.size + stats.refused,
      echoes: stats.echoes,
      other_events: stats.otherEvents,
      ack_us: stats.ackUs,
      delivery_us: stats.deliveryUs,
      send_lag_us: stats.sendLagUs,
    });
  }
  return out;
}

async function main() {
  const clients = makeClients();
  const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
  await connectAll(clients);
  process.stdout.write(`ready ${stats.connected} ${stats.connectFailed}\n`);
  let command = ((await lines.next()).value ?? "").split(" ");
  if (mode === "pairs" && command[0] === "go") {
    const startNs = BigInt(Math.round(Number(command[1]) * 1e9));
    const warmupNs = BigInt(Math.round(Number(args.warmup) * 1e9));
    const durationNs = BigInt(Math.round(Number(args.duration) * 1e9));
    stats.windowStart = startNs + warmupNs;
    stats.windowEnd = stats.windowStart + durationNs;
    const nonce = `${Math.floor(Date.now() / 1000)}${Math.floor(Math.random() * 1000)}`;
    await drive(clients, Number(args.rate), startNs, stats.windowEnd, nonce);
    await drain(stats.windowEnd + BigInt(Math.round(Number(args.drain) * 1e9)));
  } else if (mode === "idle") {
    while (command[0] !== "stop") {
      const next = await lines.next();
      if (next.done) break;
      command = next.value.split(" ");
    }
  }
  writeFileSync(args.out, JSON.stringify(report(clients)));
  for (const client of clients) {
    client.closing = true;
    client.socket?.close();
  }
  process.stdout.write("done\n");
  process.exit(0);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
