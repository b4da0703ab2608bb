// The Socket.IO transport of a session: one socket, acknowledgements as promises, a
// refresh of the access token when the server refuses it, and a lost connection noticed
// within seconds (docs/protocol.md, "Socket.IO connection"): the browser's `offline` event
// drops the socket at once, and Engine.IO's heartbeat (the server's ping_interval +
// ping_timeout, 3 + 1.5 s) catches a network that dies without telling the browser.
import { io, type Socket } from "socket.io-client";
import { CLIENT_FEATURES, ProtocolError, SERVER_EVENTS, type ServerEvents, unreadOfMessage } from "./protocol";

// Community channels' events (web/src/community/CommunityPanel.tsx, docs/protocol.md).
const COMMUNITY_EVENTS = ["community:message", "community:receipt", "community:updated", "community:membership", "community:member"];
const TEAM_ROOM_EVENTS = ["room:message", "room:typing", "room:receipt", "room:updated", "room:membership", "room:member"];
import { Emitter, type Transport } from "./transport";

export interface TokenSource {
  readonly token: string | null;
  refresh(): Promise<boolean>;
}

const REQUEST_TIMEOUT_MS = 10000;

export class SocketTransport implements Transport {
  readonly socket: Socket;
  private events = new Emitter();
  private everConnected = false;
  private detach: () => void;

  constructor(auth: TokenSource, url = "") {
    this.socket = io(url || undefined, {
      transports: ["websocket"],
      auth: (cb) => cb({ token: auth.token ?? "", features: CLIENT_FEATURES }),
      reconnectionDelay: 500,
      reconnectionDelayMax: 3000,
      timeout: 5000,
    });
    this.socket.on("connect", () => {
      const isReconnect = this.everConnected;
      this.everConnected = true;
      this.events.fire("status", { connected: true, isReconnect });
    });
    this.socket.on("disconnect", () => this.events.fire("status", { connected: false, isReconnect: false }));
    this.socket.on("connect_error", async (error: Error & { data?: { code?: string } }) => {
      const code = error.data?.code;
      if (code === "invalid_token" || code === "unauthenticated") {
        // The manager does not retry a refused handshake by itself.
        if (await auth.refresh()) this.socket.connect();
        else this.events.fire("session-ended", {});
      } else if (code === "rate_limited") {
        setTimeout(() => this.socket.connect(), 5000);
      }
    });
    for (const name of [...SERVER_EVENTS, ...COMMUNITY_EVENTS, ...TEAM_ROOM_EVENTS]) this.socket.on(name, (payload: unknown) => this.events.fire(name, payload));
    // The count a message:new carries reaches unread:update's listeners right after it,
    // as the separate packet did for clients without the feature.
    this.socket.on("message:new", (payload: ServerEvents["message:new"]) => {
      const unread = unreadOfMessage(payload);
      if (unread) this.events.fire("unread:update", unread);
    });
    // Authority changed on the server (docs/protocol.md, "Revocation and token expiry"):
    // the session ended (logout elsewhere, deactivation, replayed refresh token), or the
    // socket was moved to the rooms of a new role or groups. On a move, a fresh token
    // carries the new role for REST, and the lists are reloaded as after a reconnect.
    this.socket.on("session:ended", () => this.events.fire("session-ended", {}));
    this.socket.on("session:updated", async () => {
      await auth.refresh();
      this.events.fire("status", { connected: true, isReconnect: true });
    });

    // The browser knows first when the network goes: drop the socket now rather than
    // wait for the heartbeat, and try again as soon as it is back.
    const offline = () => {
      if (this.socket.connected) this.socket.io.engine?.close();
    };
    const online = () => {
      if (!this.socket.connected) {
        this.socket.disconnect();
        this.socket.connect();
      }
    };
    window.addEventListener("offline", offline);
    window.addEventListener("online", online);
    this.detach = () => {
      window.removeEventListener("offline", offline);
      window.removeEventListener("online", online);
    };
  }

  get isConnected(): boolean {
    return this.socket.connected;
  }

  on(name: string, listener: (payload: any) => void): () => void {
    return this.events.on(name, listener);
  }

  request<T>(event: string, payload: object, timeoutMs = REQUEST_TIMEOUT_MS): Promise<T> {
    if (!this.socket.connected) return Promise.reject(new ProtocolError("offline", "Not connected."));
    return new Promise((resolve, reject) => {
      this.socket.timeout(timeoutMs).emit(event, payload, (err: Error | null, answer: any) => {
        if (err) return reject(new ProtocolError(this.socket.connected ? "timeout" : "offline", "The server did not answer in time."));
        if (answer?.ok) return resolve(answer as T);
        const error = answer?.error ?? {};
        reject(new ProtocolError(error.code ?? "error", error.message ?? "request failed", error));
      });
    });
  }

  close(): void {
    this.detach();
    this.events.clear();
    this.socket.removeAllListeners();
    this.socket.disconnect();
  }
}
