// The session core of the signed-in user (none while signed out) and whether its socket
// is up. One socket, one outbox and one receipt reporter per user, whatever the screens.
import { useEffect, useState } from "react";
import { SocketTransport } from "../core/connection";
import { ChatSession } from "../core/session";
import type { Side } from "../core/protocol";
import type { KeyValueStore } from "../core/transport";
import type { Api } from "../lib/api";

/** The outbox lives in this tab's sessionStorage: a reload keeps it, and two tabs of one
 * user do not overwrite each other's unsent messages. */
const tabStore: KeyValueStore = {
  get: (key) => {
    try {
      return sessionStorage.getItem(key);
    } catch {
      return null;
    }
  },
  set: (key, value) => {
    try {
      sessionStorage.setItem(key, value);
    } catch {
      // Storage denied: unsent messages last as long as the page.
    }
  },
  remove: (key) => {
    try {
      sessionStorage.removeItem(key);
    } catch {
      // As above.
    }
  },
};

export function useSession(api: Api, userId: string | null, side: Side): { session: ChatSession | null; connected: boolean; transport: SocketTransport | null } {
  const [session, setSession] = useState<ChatSession | null>(null);
  const [transport, setTransport] = useState<SocketTransport | null>(null);
  const [connected, setConnected] = useState(true);
  useEffect(() => {
    if (!userId) return;
    const transport = new SocketTransport(api);
    const created = new ChatSession({ transport, rest: api, side, userId, store: tabStore, outboxKey: `raasel.outbox.${userId}` });
    setSession(created);
    setTransport(transport);
    const offStatus = created.on("status", ({ connected: isUp }: { connected: boolean }) => setConnected(isUp));
    // The server ended this session (logout elsewhere, deactivation): sign out here too.
    const offEnded = created.on("session-ended", () => api.setSession(null));
    const off = () => {
      offStatus();
      offEnded();
    };
    // Exposed for the browser tests, which drop the socket to check the resync.
    (window as unknown as { __raaselSocket?: unknown }).__raaselSocket = transport.socket;
    return () => {
      off();
      created.dispose();
      transport.close();
      setSession(null);
      setTransport(null);
      setConnected(true);
    };
  }, [api, userId, side]);
  return { session, connected: session ? connected : true, transport };
}
