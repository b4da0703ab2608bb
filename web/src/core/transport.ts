// What the session core needs from a connection and from the REST API: small interfaces,
// so the core runs against a fake socket in the unit tests and against Socket.IO and
// fetch in the browser (connection.ts, lib/api.ts).

export interface ConnectionStatus {
  connected: boolean;
  /** A `connect` after an earlier one: what was missed in between must be synced. */
  isReconnect: boolean;
}

export interface Transport {
  readonly isConnected: boolean;
  /** Server events by name, plus "status" (ConnectionStatus) and "session-ended". */
  on(name: string, listener: (payload: any) => void): () => void;
  /**
   * Emit with an acknowledgement. Rejects with a ProtocolError: the server's code on
   * `{ok: false}`, "timeout" without an answer, "offline" at once when not connected
   * (nothing is buffered for later, so nothing can overtake what the core resends).
   */
  request<T>(event: string, payload: object, timeoutMs?: number): Promise<T>;
}

export interface Rest {
  get<T>(path: string): Promise<T>;
}

/** Where the outbox survives a reload: localStorage in the app, the host page's copy in the widget. */
export interface KeyValueStore {
  get(key: string): string | null;
  set(key: string, value: string): void;
  remove(key: string): void;
}

/** A tiny synchronous fan-out. */
export class Emitter {
  private listeners = new Map<string, Set<(payload: any) => void>>();

  on(name: string, listener: (payload: any) => void): () => void {
    let set = this.listeners.get(name);
    if (!set) this.listeners.set(name, (set = new Set()));
    set.add(listener);
    return () => set.delete(listener);
  }

  fire(name: string, payload?: unknown): void {
    this.listeners.get(name)?.forEach((listener) => listener(payload));
  }

  clear(): void {
    this.listeners.clear();
  }
}
