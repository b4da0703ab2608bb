// REST client: one per session (the individual's app, the console, the widget each keep
// their own). Refreshes the access token once on `invalid_token` and retries.
import { ProtocolError } from "../core/protocol";
import type { KeyValueStore } from "../core/transport";
import type { Session } from "./types";

export type { KeyValueStore };

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly retryAfter?: number,
  ) {
    super(message);
  }
}

/** A server's message as a sentence: capital first, full stop last. */
function sentence(text: string): string {
  const t = text.trim();
  return t.charAt(0).toUpperCase() + t.slice(1) + (/[.!?]$/.test(t) ? "" : ".");
}

/** A sentence a person can act on, for every error the API reports. */
export function describeError(error: unknown): string {
  if (error instanceof ProtocolError) {
    return error.code === "timeout" || error.code === "offline" ? "Cannot reach the server. Check your connection." : error.message || error.code;
  }
  if (!(error instanceof ApiError)) {
    return error instanceof Error ? error.message : "Something went wrong.";
  }
  switch (error.code) {
    case "rate_limited":
      return `Too many attempts. Try again in ${error.retryAfter ?? "a few"} seconds.`;
    case "invalid_credentials":
      return "Wrong email or password.";
    case "not_found":
      return "Not found (it may have been removed, or you have no access).";
    case "network":
      return "Cannot reach the server. Check your connection.";
    case "payload_too_large":
    case "quota_exceeded":
    case "unsupported_type":
    case "unsupported_media_type":
      // The server writes these for people ("this file is larger than 10 MB, ...").
      return error.message ? sentence(error.message) : "This file cannot be sent.";
    default:
      return error.message || error.code;
  }
}

/** Where a session (and the outbox) is kept: localStorage by default; the widget passes its own. */
export const browserStore: KeyValueStore = {
  get: (key) => {
    try {
      return localStorage.getItem(key);
    } catch {
      return null;
    }
  },
  set: (key, value) => {
    try {
      localStorage.setItem(key, value);
    } catch {
      // Storage denied (a third-party frame under strict settings): this page only.
    }
  },
  remove: (key) => {
    try {
      localStorage.removeItem(key);
    } catch {
      // As above.
    }
  },
};

export class Api {
  private session: Session | null;
  private refreshing: Promise<boolean> | null = null;
  onSessionChange: (session: Session | null) => void = () => {};

  constructor(
    readonly storageKey: string,
    readonly base = "",
    private readonly store: KeyValueStore = browserStore,
    /** How to get a new pair instead of POST /auth/refresh (the widget: its cookie). */
    private readonly refreshVia?: () => Promise<Session | null>,
  ) {
    this.session = readSession(store, storageKey);
  }

  get current(): Session | null {
    return this.session;
  }

  get token(): string | null {
    return this.session?.access_token ?? null;
  }

  setSession(session: Session | null): void {
    this.session = session;
    if (session) this.store.set(this.storageKey, JSON.stringify(session));
    else this.store.remove(this.storageKey);
    this.onSessionChange(session);
  }

  async request<T>(method: string, path: string, body?: unknown, retried = false, as: "json" | "blob" = "json"): Promise<T> {
    const headers: Record<string, string> = {};
    const isForm = body instanceof FormData;
    if (body !== undefined && !isForm) headers["Content-Type"] = "application/json";
    if (this.session) headers.Authorization = `Bearer ${this.session.access_token}`;
    let response: Response;
    try {
      response = await fetch(`${this.base}/api/v1${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : isForm ? body : JSON.stringify(body),
      });
    } catch {
      throw new ApiError(0, "network", "Cannot reach the server.");
    }
    if (response.status === 204) return undefined as T;
    if (response.ok && as === "blob") return (await response.blob()) as T;
    const data = await response.json().catch(() => ({}));
    if (response.ok) return data as T;
    const error = data?.error ?? {};
    const code: string = error.code ?? "http_error";
    if (!retried && (code === "invalid_token" || code === "unauthenticated") && this.session) {
      if (await this.refresh()) return this.request<T>(method, path, body, true, as);
    }
    const detail = Array.isArray(error.details) && error.details.length
      ? `: ${error.details.map((d: { field: string; problem: string }) => `${d.field.replace(/^body\./, "")} ${d.problem}`).join("; ")}`
      : "";
    const retryAfter = Number(response.headers.get("Retry-After")) || undefined;
    throw new ApiError(response.status, code, `${error.message ?? response.statusText}${detail}`, retryAfter);
  }

  get<T>(path: string): Promise<T> {
    return this.request<T>("GET", path);
  }

  post<T>(path: string, body: unknown = {}): Promise<T> {
    return this.request<T>("POST", path, body);
  }

  patch<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>("PATCH", path, body);
  }

  put<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>("PUT", path, body);
  }

  /** Multipart upload of one file (field `file`). */
  upload<T>(path: string, file: File): Promise<T> {
    const form = new FormData();
    form.append("file", file);
    return this.request<T>("POST", path, form);
  }

  /** A protected file (attachments need the bearer token, so no plain link). */
  blob(path: string): Promise<Blob> {
    return this.request<Blob>("GET", path, undefined, false, "blob");
  }

  /** Trade the refresh token for a new pair; concurrent callers share one attempt. */
  refresh(): Promise<boolean> {
    if (!this.refreshing) {
      this.refreshing = this.doRefresh().finally(() => {
        this.refreshing = null;
      });
    }
    return this.refreshing;
  }

  private async doRefresh(): Promise<boolean> {
    if (this.refreshVia) {
      const fresh = await this.refreshVia().catch(() => null);
      if (fresh) this.setSession(fresh);
      return fresh !== null;
    }
    const refreshToken = this.session?.refresh_token;
    if (!refreshToken) return false;
    try {
      const response = await fetch(`${this.base}/api/v1/auth/refresh`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ refresh_token: refreshToken }),
      });
      if (response.ok) {
        this.setSession((await response.json()) as Session);
        return true;
      }
      if (response.status === 401) this.setSession(null);
    } catch {
      // Offline: keep the session, a later call retries.
    }
    return false;
  }

  async logout(): Promise<void> {
    try {
      if (this.session) await this.request("POST", "/auth/logout", undefined, true);
    } catch {
      // The session ends locally either way.
    }
    this.setSession(null);
  }
}

function readSession(store: KeyValueStore, key: string): Session | null {
  try {
    const raw = store.get(key);
    return raw ? (JSON.parse(raw) as Session) : null;
  } catch {
    return null;
  }
}

export function newClientId(): string {
  return crypto.randomUUID();
}
