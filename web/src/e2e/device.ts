// This browser as one device of the signed-in individual (docs/e2e.md, "Key lifecycle"):
// it registers its keys, keeps its one-time prekey pool filled and its signed prekey fresh,
// claims the bundles of the devices it writes to, encrypts one envelope per device of the
// other member and per other device of ours, and reads the one addressed to it.
// Decryption runs one message at a time, and what it gave is kept (sealed) by message id:
// a message key works once, so a history page read twice must not be decrypted twice.
import { ProtocolError } from "../core/protocol";
import { toBase64 } from "./bytes";
import type { Transport } from "../core/transport";
import { type RecordBackend, SealedStore } from "./keystore";
import { decodePayload, encodePayload, type Payload } from "./payload";
import { DecryptError, encodeAddress, PREKEY_BATCH, SignalEngine, type Address, type DeviceKeys } from "./signal";
import { SignalStore } from "./signalStore";
import type { ClaimedDevice, DeviceRef, DirectMessage, DirectRest, OwnDevice, StaleDevices, WireEnvelope } from "./wire";

/** What a message came to on this device. */
export type ReadState =
  | "ok"
  /** A control message of ours ("please re-send"): not shown. */
  | "control"
  /** Could not decrypt: we asked the sender to re-send. */
  | "failed"
  /** A message key used twice: refused. */
  | "replay"
  /** Sent before this device was linked: encrypted for other keys. */
  | "before_link"
  /** No envelope for this device (sent while it was not in the sender's list). */
  | "not_for_device"
  /** Our own, sent from this device, whose text this device no longer has. */
  | "own_unknown";

export interface ReadResult {
  state: ReadState;
  text: string | null;
  resendOf?: string;
  reason?: string;
}

interface SentRecord {
  conversation_id: string;
  text: string | null;
  resend_of?: string;
  control?: boolean;
}

interface OwnDeviceRecord {
  deviceId: number;
  createdAt: string;
}

const LOW_POOL = 50;
const MAX_POOL = 200;
const ROTATE_MS = 7 * 24 * 3600 * 1000;
const KEEP_OLD_SIGNED_MS = 30 * 24 * 3600 * 1000;
const SEND_ATTEMPTS = 4;

export function deviceIdKey(userId: string): string {
  return `raasel.e2e.device.${userId}`;
}

export class NoDevices extends ProtocolError {
  constructor() {
    super("no_devices", "This person has not set up encrypted chats on any device yet.");
  }
}

export class E2eDevice {
  readonly engine: SignalEngine;
  private deviceLists = new Map<string, DeviceRef[]>();
  private queue: Promise<unknown> = Promise.resolve();
  private resentFor = new Set<string>();
  /** Failed decryptions in a row per sender device: a second one starts a fresh session. */
  private failures = new Map<string, number>();

  private constructor(
    readonly store: SignalStore,
    readonly userId: string,
    readonly deviceId: number,
    readonly linkedAt: Date,
    private readonly rest: DirectRest,
    private readonly transport: Transport,
  ) {
    this.engine = new SignalEngine(store);
  }

  /**
   * A new device for this user: keys made here, the public halves registered. `previousDeviceId`
   * (this browser's id before a reset) is registered again with `replace: true`: to contacts,
   * its identity key changed.
   */
  static async create(opts: { rest: DirectRest; transport: Transport; userId: string; passphrase: string; backend: RecordBackend; previousDeviceId?: number | null; iterations?: number }): Promise<E2eDevice> {
    // This device's time, not the server's answer: a device reset under the same id keeps
    // the server's first `created_at`, and messages to its old keys are "before the link".
    const madeAt = new Date().toISOString();
    const sealed = await SealedStore.create(opts.backend, opts.passphrase, opts.iterations);
    const store = new SignalStore(sealed);
    const engine = new SignalEngine(store);
    const deviceId = opts.previousDeviceId ?? randomDeviceId();
    try {
      const keys = await engine.createDevice(PREKEY_BATCH);
      await registerDevice(opts.rest, deviceId, keys, Boolean(opts.previousDeviceId));
    } catch (error) {
      // Not registered: leave nothing behind, so "Set up" can simply be tried again.
      await opts.backend.clear();
      throw error;
    }
    const record: OwnDeviceRecord = { deviceId, createdAt: madeAt };
    await sealed.put("own:device", record);
    const device = new E2eDevice(store, opts.userId, deviceId, new Date(record.createdAt), opts.rest, opts.transport);
    await device.refreshOwnDevices();
    return device;
  }

  /** Open this browser's keys with the passphrase (WrongPassphrase otherwise) and tidy the keys on the server. */
  static async unlock(opts: { rest: DirectRest; transport: Transport; userId: string; passphrase: string; backend: RecordBackend }): Promise<E2eDevice> {
    const sealed = await SealedStore.unlock(opts.backend, opts.passphrase);
    const record = await sealed.get<OwnDeviceRecord>("own:device");
    if (!record) throw new Error("The keys on this device were never registered: reset them and set up again.");
    const device = new E2eDevice(new SignalStore(sealed), opts.userId, record.deviceId, new Date(record.createdAt), opts.rest, opts.transport);
    await device.maintain();
    return device;
  }

  get address(): Address {
    return { userId: this.userId, deviceId: this.deviceId };
  }

  /** Keep the server's copy right: registered, a full enough pool, a signed prekey under a week old. */
  async maintain(now = new Date()): Promise<void> {
    const own = await this.refreshOwnDevices();
    const mine = own.find((d) => d.device_id === this.deviceId);
    if (!mine) {
      // Removed from the server (from another device?): register the same keys again.
      const signed = await this.engine.rotateSignedPreKey();
      const keys: DeviceKeys = { registrationId: await this.engine.registrationId(), identityKey: await this.engine.identityKey(), signedPreKey: signed, oneTimePreKeys: await this.engine.newPreKeys(PREKEY_BATCH) };
      await registerDevice(this.rest, this.deviceId, keys, false);
      await this.refreshOwnDevices();
    } else {
      await this.refill(mine.one_time_prekeys);
    }
    if ((await this.engine.signedPreKeyAge(now)) > ROTATE_MS) {
      const signed = await this.engine.rotateSignedPreKey();
      await this.rest.put(`/direct/devices/${this.deviceId}/signed-prekey`, { key_id: signed.keyId, public_key: signed.publicKey, signature: signed.signature });
    }
    await this.engine.dropSignedPreKeysBefore(new Date(now.getTime() - KEEP_OLD_SIGNED_MS));
  }

  /** Upload one-time prekeys when the pool is low (after `direct:prekeys_low`, or at unlock). */
  async refill(count?: number): Promise<number> {
    const have = count ?? (await this.rest.get<{ count: number }>(`/direct/devices/${this.deviceId}/one-time-prekeys/count`)).count;
    if (have >= LOW_POOL) return have;
    const prekeys = await this.engine.newPreKeys(Math.min(PREKEY_BATCH, MAX_POOL - have));
    const answer = await this.rest.post<{ count: number }>(`/direct/devices/${this.deviceId}/one-time-prekeys`, {
      prekeys: prekeys.map((p) => ({ key_id: p.keyId, public_key: p.publicKey })),
    });
    return answer.count;
  }

  async refreshOwnDevices(): Promise<OwnDevice[]> {
    const { devices } = await this.rest.get<{ devices: OwnDevice[] }>("/direct/devices");
    await this.setDevices(this.userId, devices.map((d) => ({ device_id: d.device_id, registration_id: d.registration_id })));
    return devices;
  }

  /** `direct:devices`: a user's devices changed. Sessions with devices that went or changed are dropped. */
  async setDevices(userId: string, devices: DeviceRef[]): Promise<void> {
    const before = await this.knownDevices(userId);
    for (const old of before ?? []) {
      const now = devices.find((d) => d.device_id === old.device_id);
      if (!now || now.registration_id !== old.registration_id) await this.engine.resetSession({ userId, deviceId: old.device_id });
    }
    this.deviceLists.set(userId, devices);
    await this.store.sealed.put(`devices:${userId}`, devices);
  }

  async knownDevices(userId: string): Promise<DeviceRef[] | undefined> {
    const cached = this.deviceLists.get(userId);
    if (cached) return cached;
    const stored = await this.store.sealed.get<DeviceRef[]>(`devices:${userId}`);
    if (stored) this.deviceLists.set(userId, stored);
    return stored;
  }

  // ---- sending ----

  /**
   * Encrypt a payload for every device of `peerId` and every other device of ours and send it
   * (`direct:send`), re-encrypting after `stale_devices`. The same client_id on every try.
   */
  async send(conversationId: string, peerId: string, clientId: string, payload: Payload): Promise<DirectMessage> {
    const sent: SentRecord =
      payload.t === "text" ? { conversation_id: conversationId, text: payload.text, resend_of: payload.resend_of } : { conversation_id: conversationId, text: null, control: true };
    await this.store.sealed.put(`sent:${clientId}`, sent);
    for (let attempt = 1; ; attempt++) {
      const envelopes = await this.encryptFor(peerId, encodePayload(payload));
      try {
        const answer = await this.transport.request<{ message: DirectMessage }>("direct:send", {
          conversation_id: conversationId,
          client_id: clientId,
          sender_device_id: this.deviceId,
          envelopes,
        });
        return answer.message;
      } catch (error) {
        if (!(error instanceof ProtocolError) || error.code !== "stale_devices" || attempt >= SEND_ATTEMPTS) throw error;
        await this.applyStale(error.details as unknown as StaleDevices);
      }
    }
  }

  private async applyStale(stale: StaleDevices): Promise<void> {
    for (const [userId, devices] of Object.entries(stale.devices ?? {})) await this.setDevices(userId, devices);
    for (const s of stale.stale ?? []) await this.engine.resetSession({ userId: s.user_id, deviceId: s.device_id });
  }

  private async encryptFor(peerId: string, plaintext: Uint8Array): Promise<WireEnvelope[]> {
    let peers = await this.knownDevices(peerId);
    if (!peers?.length) {
      // Never written to them: claim every device's bundle (that also tells us the devices).
      peers = (await this.claim(peerId)).map((d) => ({ device_id: d.device_id, registration_id: d.registration_id }));
      await this.setDevices(peerId, peers);
    }
    const ours = ((await this.knownDevices(this.userId)) ?? []).filter((d) => d.device_id !== this.deviceId);
    const targets: { userId: string; device: DeviceRef }[] = [
      ...peers.map((device) => ({ userId: peerId, device })),
      ...ours.map((device) => ({ userId: this.userId, device })),
    ];
    for (const userId of new Set(targets.map((t) => t.userId))) {
      const without: number[] = [];
      for (const t of targets) if (t.userId === userId && !(await this.engine.hasSession({ userId, deviceId: t.device.device_id }))) without.push(t.device.device_id);
      if (without.length) await this.claim(userId, without);
    }
    const envelopes: WireEnvelope[] = [];
    for (const { userId, device } of targets) {
      const address = { userId, deviceId: device.device_id };
      if (!(await this.engine.hasSession(address))) continue; // no bundle came back: the server says which with stale_devices
      const ciphertext = await this.engine.encrypt(address, plaintext);
      envelopes.push({ user_id: userId, device_id: device.device_id, registration_id: device.registration_id, type: ciphertext.type, body: ciphertext.body });
    }
    return envelopes;
  }

  /** Claim bundles (one-time prekeys are handed out once) and start a session with each. */
  private async claim(userId: string, deviceIds?: number[]): Promise<ClaimedDevice[]> {
    let answer: { devices: ClaimedDevice[] };
    try {
      answer = await this.rest.post<{ devices: ClaimedDevice[] }>(`/direct/users/${encodeURIComponent(userId)}/bundle`, deviceIds ? { device_ids: deviceIds } : {});
    } catch (error) {
      if ((error as { code?: string }).code === "not_found" && userId !== this.userId) throw new NoDevices();
      throw error;
    }
    for (const d of answer.devices) {
      if (userId === this.userId && d.device_id === this.deviceId) continue;
      await this.engine.startSession(
        { userId, deviceId: d.device_id },
        {
          registrationId: d.registration_id,
          identityKey: d.identity_key,
          signedPreKey: { keyId: d.signed_prekey.key_id, publicKey: d.signed_prekey.public_key, signature: d.signed_prekey.signature },
          oneTimePreKey: d.one_time_prekey ? { keyId: d.one_time_prekey.key_id, publicKey: d.one_time_prekey.public_key } : null,
        },
      );
    }
    return answer.devices;
  }

  // ---- reading ----

  /** What a message says on this device; decrypted once, then read from the sealed cache. */
  read(message: DirectMessage, peerId: string): Promise<ReadResult> {
    const job = this.queue.then(() => this.readNow(message, peerId));
    this.queue = job.catch(() => undefined);
    return job;
  }

  private async readNow(m: DirectMessage, peerId: string): Promise<ReadResult> {
    const name = `plain:${m.id}`;
    const cached = await this.store.sealed.get<ReadResult>(name);
    if (cached) return cached;
    let result: ReadResult;
    if (m.sender_id === this.userId && m.sender_device_id === this.deviceId) {
      const sent = m.client_id ? await this.store.sealed.get<SentRecord>(`sent:${m.client_id}`) : undefined;
      result = !sent ? { state: "own_unknown", text: null } : sent.control ? { state: "control", text: null } : { state: "ok", text: sent.text, ...(sent.resend_of ? { resendOf: sent.resend_of } : {}) };
    } else {
      const envelope = (m.envelopes ?? []).find((e) => e.user_id === this.userId && e.device_id === this.deviceId);
      if (!envelope) {
        result = { state: new Date(m.created_at) < this.linkedAt ? "before_link" : "not_for_device", text: null };
      } else {
        result = await this.decrypt(m, envelope, peerId);
      }
    }
    // Our own text missing here may still come (a record written by a send in flight).
    if (result.state !== "own_unknown") await this.store.sealed.put(name, result);
    return result;
  }

  private async decrypt(m: DirectMessage, envelope: WireEnvelope, peerId: string): Promise<ReadResult> {
    const from: Address = { userId: m.sender_id, deviceId: m.sender_device_id };
    let payload: Payload;
    const key = encodeAddress(from);
    try {
      payload = decodePayload(await this.engine.decrypt(from, { type: envelope.type, body: envelope.body }));
      this.failures.delete(key);
      await this.noteDevice(from);
    } catch (error) {
      if (error instanceof DecryptError && error.reason === "replay") return { state: "replay", text: null, reason: error.message };
      const reason = error instanceof Error ? error.message : String(error);
      // One envelope that does not authenticate leaves the session as it is (it was
      // altered, or is not ours): the request to re-send goes over that session. A second
      // failure in a row means the two sides' sessions diverged: drop ours, so that the
      // request (and the re-send) start a new one from a fresh bundle.
      const failures = (this.failures.get(key) ?? 0) + 1;
      this.failures.set(key, failures);
      if (failures >= 2 || (error instanceof DecryptError && error.reason === "no_session")) {
        await this.engine.resetSession(from);
        this.failures.delete(key);
      }
      if (m.client_id) void this.askResend(m.conversation_id, peerId, m.client_id);
      return { state: "failed", text: null, reason };
    }
    if (payload.t === "resend") {
      void this.resend(m.conversation_id, peerId, payload.client_id, encodeAddress(from));
      return { state: "control", text: null };
    }
    return { state: "ok", text: payload.text, ...(payload.resend_of ? { resendOf: payload.resend_of } : {}) };
  }

  /** A device that wrote to us joins its user's known list (no bundle to claim for it). */
  private async noteDevice(from: Address): Promise<void> {
    const known = (await this.knownDevices(from.userId)) ?? [];
    if (known.some((d) => d.device_id === from.deviceId)) return;
    const registrationId = await this.engine.remoteRegistrationId(from);
    if (registrationId) await this.setDevices(from.userId, [...known, { device_id: from.deviceId, registration_id: registrationId }]);
  }

  /** Tell the sender we could not read their message (a control message inside the ciphertext). */
  onControlSent: (message: DirectMessage) => void = () => {};
  /** We re-sent a message someone could not read. */
  onResent: (message: DirectMessage) => void = () => {};

  private async askResend(conversationId: string, peerId: string, clientId: string): Promise<void> {
    // Outside the read queue: sending reads sessions, and the queue may wait on this read.
    await Promise.resolve();
    try {
      const message = await this.send(conversationId, peerId, crypto.randomUUID(), { v: 1, t: "resend", client_id: clientId });
      this.onControlSent(message);
    } catch {
      // Offline or refused: the sender's message stays marked as unreadable here.
    }
  }

  private async resend(conversationId: string, peerId: string, clientId: string, requester: string): Promise<void> {
    const key = `${clientId}:${requester}`;
    if (this.resentFor.has(key)) return;
    this.resentFor.add(key);
    await Promise.resolve();
    const sent = await this.store.sealed.get<SentRecord>(`sent:${clientId}`);
    // Only our own texts of that conversation, once per asking device.
    if (!sent || sent.control || sent.text === null || sent.conversation_id !== conversationId) return;
    try {
      const message = await this.send(conversationId, peerId, crypto.randomUUID(), { v: 1, t: "text", text: sent.text, resend_of: clientId });
      this.onResent(message);
    } catch {
      this.resentFor.delete(key);
    }
  }

  // ---- identities and safety numbers ----

  /** The contact's devices whose identity key changed and the user has not acknowledged it. */
  async changedDevices(peerId: string): Promise<number[]> {
    const out: number[] = [];
    for (const [address, identity] of await this.store.identitiesOf(peerId)) if (identity.previous) out.push(Number(address.split(".")[1]));
    return out.sort((a, b) => a - b);
  }

  /** One safety number per device of the contact, and whether its key changed unacknowledged. */
  async safetyNumbers(peerId: string): Promise<{ address: string; deviceId: number; number: string; changed: boolean; verified: boolean }[]> {
    const ownKey = await this.engine.identityKey();
    const out: { address: string; deviceId: number; number: string; changed: boolean; verified: boolean }[] = [];
    for (const [address, identity] of await this.store.identitiesOf(peerId)) {
      const number = await this.engine.safetyNumber(this.userId, ownKey, peerId, toBase64(identity.key));
      out.push({ address, deviceId: Number(address.split(".")[1]), number, changed: Boolean(identity.previous), verified: Boolean(identity.verified) });
    }
    return out.sort((a, b) => a.deviceId - b.deviceId);
  }
}

function randomDeviceId(): number {
  const [n] = crypto.getRandomValues(new Uint32Array(1));
  return (n % 2_147_483_646) + 1;
}

async function registerDevice(rest: DirectRest, deviceId: number, keys: DeviceKeys, replace: boolean): Promise<unknown> {
  return rest.put<unknown>(`/direct/devices/${deviceId}`, {
    registration_id: keys.registrationId,
    identity_key: keys.identityKey,
    signed_prekey: { key_id: keys.signedPreKey.keyId, public_key: keys.signedPreKey.publicKey, signature: keys.signedPreKey.signature },
    one_time_prekeys: keys.oneTimePreKeys.map((p) => ({ key_id: p.keyId, public_key: p.publicKey })),
    ...(replace ? { replace: true } : {}),
  });
}
