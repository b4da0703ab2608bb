// The Socket.IO side of a session: one socket, acknowledgements as promises, a refresh of
// the access token when the server refuses it, and a tiny event fan-out for the screens.
import { io, type Socket } from "socket.io-client";
import type { Api } from "./api";
import { ApiError } from "./api";

type Listener = (payload: any) => void;

export const SERVER_EVENTS = [
  "message:new",
  "receipt:update",
  "unread:update",
  "typing",
  "conversation:updated",
  "queue:updated",
  "queue:position",
  "presence:update",
] as const;

export class Live {
  readonly socket: Socket;
  private listeners = new Map<string, Set<Listener>>();
  connected = false;
  /** Set once the first connection succeeded: later `connect`s are reconnections. */
  everConnected = false;

  constructor(api: Api, url = "") {
    this.socket = io(url || undefined, {
      transports: ["websocket"],
      auth: (cb) => cb({ token: api.token ?? "" }),
      reconnectionDelay: 500,
      reconnectionDelayMax: 4000,
    });
    this.socket.on("connect", () => {
      const isReconnect = this.everConnected;
      this.connected = this.everConnected = true;
      this.fire("status", { connected: true, isReconnect });
    });
    this.socket.on("disconnect", () => {
      this.connected = false;
      this.fire("status", { connected: false, isReconnect: false });
    });
    this.socket.on("connect_error", async (error: Error & { data?: { code?: string } }) => {
      const code = error.data?.code;
      if (code === "invalid_token" || code === "unauthenticated") {
        // The manager does not retry a refused handshake by itself.
        if (await api.refresh()) this.socket.connect();
        else this.fire("session-ended", {});
      } else if (code === "rate_limited") {
        setTimeout(() => this.socket.connect(), 5000);
      }
    });
    for (const name of SERVER_EVENTS) {
      this.socket.on(name, (payload: unknown) => this.fire(name, payload));
    }
  }

  on(name: string, listener: Listener): () => void {
    let set = this.listeners.get(name);
    if (!set) this.listeners.set(name, (set = new Set()));
    set.add(listener);
    return () => set.delete(listener);
  }

  private fire(name: string, payload: unknown): void {
    this.listeners.get(name)?.forEach((listener) => listener(payload));
  }

  /** Emit with an acknowledgement; rejects with ApiError on `{ok: false}` or timeout. */
  emit<T = any>(event: string, payload: object, timeoutMs = 10000): Promise<T> {
    return new Promise((resolve, reject) => {
      this.socket.timeout(timeoutMs).emit(event, payload, (err: Error | null, answer: any) => {
        if (err) return reject(new ApiError(0, "timeout", "The server did not answer in time."));
        if (answer?.ok) return resolve(answer as T);
        const error = answer?.error ?? {};
        reject(new ApiError(0, error.code ?? "error", error.message ?? "request failed"));
      });
    });
  }

  close(): void {
    this.socket.removeAllListeners();
    this.socket.disconnect();
    this.listeners.clear();
  }
}
