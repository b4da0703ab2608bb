import { useEffect, useState } from "react";
import type { Api } from "../lib/api";
import { Live } from "../lib/live";

/** The socket of the signed-in user (none while signed out), and whether it is up. */
export function useLive(api: Api, userId: string | null): { live: Live | null; connected: boolean } {
  const [live, setLive] = useState<Live | null>(null);
  const [connected, setConnected] = useState(true);
  useEffect(() => {
    if (!userId) return;
    const created = new Live(api);
    setLive(created);
    const off = created.on("status", ({ connected: isUp }: { connected: boolean }) => setConnected(isUp));
    // Exposed for the browser tests, which drop the socket to check the resync.
    (window as unknown as { __raaselSocket?: unknown }).__raaselSocket = created.socket;
    return () => {
      off();
      created.close();
      setLive(null);
      setConnected(true);
    };
  }, [api, userId]);
  return { live, connected: live ? connected : true };
}
