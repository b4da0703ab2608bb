// A bare socket.io 4 relay: the reference the Raasel benchmark compares against.
//
// Same wire contract as Raasel for the benchmark's events, nothing else: HTTPS with the
// given certificate, any token accepted, `message:send` acknowledged with
// `{ok: true, message}` and relayed as `message:new` to the other side of the pair.
// No persistence, no authorization, no validation beyond what the relay needs.
//
// usage: node server.mjs --cert cert.pem --key key.pem --port 9443 [--host 127.0.0.1]
import { readFileSync } from "node:fs";
import { createServer } from "node:https";
import { parseArgs } from "node:util";
import { Server } from "socket.io";

const { values: args } = parseArgs({
  options: {
    cert: { type: "string" },
    key: { type: "string" },
    port: { type: "string", default: "9443" },
    host: { type: "string", default: "127.0.0.1" },
  },
});
if (!args.cert || !args.key) {
  console.error("usage: node server.mjs --cert cert.pem --key key.pem --port 9443");
  process.exit(2);
}

const https = createServer({ cert: readFileSync(args.cert), key: readFileSync(args.key) });
const io = new Server(https, { transports: ["websocket"], serveClient: false });
let nextId = 1;

io.use((socket, next) => {
  const { token, pair, side } = socket.handshake.auth ?? {};
  if (typeof token !== "string" || typeof pair !== "string") {
    return next(new Error("unauthenticated"));
  }
  socket.data.pair = pair;
  socket.data.side = side === "agent" ? "agent" : "customer";
  next();
});

io.on("connection", (socket) => {
  const { pair, side } = socket.data;
  socket.join(`${pair}:${side}`);
  const peer = `${pair}:${side === "agent" ? "customer" : "agent"}`;
  socket.on("message:send", (payload, ack) => {
    if (typeof payload !== "object" || payload === null || typeof ack !== "function") {
      return;
    }
    const message = {
      id: String(nextId++),
      conversation_id: String(payload.conversation_id ?? pair),
      client_id: String(payload.client_id ?? ""),
      sender_side: side,
      kind: "text",
      text: String(payload.text ?? ""),
      created_at: new Date().toISOString(),
    };
    // Raasel publishes before it answers; do the same.
    io.to(peer).emit("message:new", { message });
    ack({ ok: true, message });
  });
});

https.listen(Number(args.port), args.host, () => {
  console.log(`node relay listening on https://${args.host}:${args.port}`);
});
for (const signal of ["SIGTERM", "SIGINT"]) {
  process.on(signal, () => {
    io.close();
    process.exit(0);
  });
}
