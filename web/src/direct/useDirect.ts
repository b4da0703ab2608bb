// The direct-chat state of this browser: are there keys here, are they open, and once they
// are, the device, its channel and the session core running over it.
import { useCallback, useEffect, useState } from "react";
import type { SocketTransport } from "../core/connection";
import { ChatSession } from "../core/session";
import type { Api } from "../lib/api";
import { DirectChannel } from "../e2e/channel";
import { deviceIdKey, E2eDevice } from "../e2e/device";
import { IndexedDbBackend, SealedStore } from "../e2e/keystore";
import { SealedKeyValue } from "../e2e/sealedKeyValue";

export type Phase = "checking" | "setup" | "locked" | "ready";

export interface DirectState {
  phase: Phase;
  device: E2eDevice | null;
  channel: DirectChannel | null;
  chat: ChatSession | null;
  setUp: (passphrase: string) => Promise<void>;
  unlock: (passphrase: string) => Promise<void>;
  /** Forget this browser's keys (they cannot be recovered): set up again with the same device id. */
  reset: () => Promise<void>;
}

export function useDirect(api: Api, transport: SocketTransport | null, userId: string): DirectState {
  const [phase, setPhase] = useState<Phase>("checking");
  const [device, setDevice] = useState<E2eDevice | null>(null);
  const [ready, setReady] = useState<{ channel: DirectChannel; chat: ChatSession } | null>(null);
  const backend = useState(() => IndexedDbBackend.forUser(userId))[0];

  useEffect(() => {
    let cancelled = false;
    SealedStore.exists(backend).then((has) => !cancelled && setPhase(has ? "locked" : "setup"));
    return () => {
      cancelled = true;
    };
  }, [backend]);

  useEffect(() => {
    if (!device || !transport) return;
    let cancelled = false;
    let running: { channel: DirectChannel; chat: ChatSession } | null = null;
    // The outbox holds plaintext: it is kept sealed with the keys (SealedKeyValue), so a
    // reload sends what was waiting, in order, with the same client ids, once unlocked.
    void SealedKeyValue.open(device.store.sealed).then((outboxStore) => {
      if (cancelled) return;
      const channel = new DirectChannel(transport, api, device);
      const chat = new ChatSession({ transport: channel, rest: channel, side: "customer", userId, store: outboxStore, outboxKey: "outbox" });
      running = { channel, chat };
      setReady(running);
      (window as unknown as { __raaselDirect?: unknown }).__raaselDirect = { device, channel, chat, outboxStore };
    });
    return () => {
      cancelled = true;
      running?.chat.dispose();
      running?.channel.dispose();
      setReady(null);
    };
  }, [device, transport, api, userId]);

  const setUp = useCallback(
    async (passphrase: string) => {
      if (!transport) throw new Error("Not connected yet: try again in a moment.");
      const previous = Number(localStorage.getItem(deviceIdKey(userId))) || null;
      const made = await E2eDevice.create({ rest: api, transport, userId, passphrase, backend, previousDeviceId: previous });
      localStorage.setItem(deviceIdKey(userId), String(made.deviceId));
      setDevice(made);
      setPhase("ready");
    },
    [api, transport, userId, backend],
  );

  const unlock = useCallback(
    async (passphrase: string) => {
      if (!transport) throw new Error("Not connected yet: try again in a moment.");
      setDevice(await E2eDevice.unlock({ rest: api, transport, userId, passphrase, backend }));
      setPhase("ready");
    },
    [api, transport, userId, backend],
  );

  const reset = useCallback(async () => {
    await backend.clear();
    setDevice(null);
    setPhase("setup");
  }, [backend]);

  return { phase, device, channel: ready?.channel ?? null, chat: ready?.chat ?? null, setUp, unlock, reset };
}
