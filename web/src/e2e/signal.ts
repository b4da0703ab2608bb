// Our small interface over the Signal protocol implementation
// (@privacyresearch/libsignal-protocol-typescript 0.0.16, GPL-3.0, docs/decisions.md): the
// rest of the app speaks only these types (base64 strings, numbers, Uint8Arrays), so the
// library can be replaced behind this file. Imported only by the direct-chat screens,
// which the app loads on demand: the library never reaches the widget or the other screens.
import "./immediate";
import {
  FingerprintGenerator,
  KeyHelper,
  SessionBuilder,
  SessionCipher,
  SignalProtocolAddress,
  setWebCrypto,
} from "@privacyresearch/libsignal-protocol-typescript";
import { fromBase64, toArrayBuffer, toBase64 } from "./bytes";
import type { SignalStore } from "./signalStore";

// WebCrypto for AES-CBC, HMAC and randomness (the library would otherwise fall back to a
// JavaScript implementation where `window.crypto` is missing, as in the unit tests).
setWebCrypto(globalThis.crypto);

export interface PublicPreKey {
  keyId: number;
  publicKey: string;
}

export interface PublicSignedPreKey extends PublicPreKey {
  signature: string;
}

/** What a device publishes to the key directory. */
export interface DeviceKeys {
  registrationId: number;
  identityKey: string;
  signedPreKey: PublicSignedPreKey;
  oneTimePreKeys: PublicPreKey[];
}

/** One device's bundle, claimed from the directory to start a session. */
export interface PreKeyBundle {
  registrationId: number;
  identityKey: string;
  signedPreKey: PublicSignedPreKey;
  oneTimePreKey: PublicPreKey | null;
}

/** type 3: PreKeyWhisperMessage (starts a session), 1: WhisperMessage. */
export interface Ciphertext {
  type: 1 | 3;
  body: string;
}

export interface Address {
  userId: string;
  deviceId: number;
}

export type DecryptFailure = "replay" | "tampered" | "no_session" | "malformed";

export class DecryptError extends Error {
  constructor(
    readonly reason: DecryptFailure,
    message: string,
  ) {
    super(message);
    this.name = "DecryptError";
  }
}

/** Signal's safety number: 60 digits, 5,200 SHA-512 rounds per side (version 0). */
const FINGERPRINT_ITERATIONS = 5200;
export const PREKEY_BATCH = 100;

function addressOf({ userId, deviceId }: Address): SignalProtocolAddress {
  if (!/^[A-Za-z0-9_-]+$/.test(userId) || !Number.isInteger(deviceId) || deviceId < 1) throw new RangeError("bad address");
  return new SignalProtocolAddress(userId, deviceId);
}

export function encodeAddress(address: Address): string {
  return addressOf(address).toString();
}

function key(text: string): ArrayBuffer {
  return toArrayBuffer(fromBase64(text));
}

function classify(error: unknown): DecryptError {
  if (error instanceof DecryptError) return error;
  const e = error as { name?: string; message?: string };
  const message = e?.message ?? String(error);
  if (e?.name === "MessageCounterError") return new DecryptError("replay", "This message was already received (a replay).");
  if (/Bad MAC/i.test(message)) return new DecryptError("tampered", "The message does not authenticate (altered, or not for this session).");
  if (/No record|No session|Missing Signed PreKey|No registrationId|unable to find session/i.test(message)) {
    return new DecryptError("no_session", "No session to decrypt this message.");
  }
  return new DecryptError("malformed", `The message cannot be read: ${message}`);
}

/**
 * Signal's registration ids are 1..16380 (libsignal's KeyHelper); the library's
 * generateRegistrationId gives any 14-bit value, 0 and 16381..16383 included, which the
 * server refuses: draw again until it is in range (a uniform draw over 1..16380).
 */
export function newRegistrationId(draw: () => number = () => KeyHelper.generateRegistrationId()): number {
  for (;;) {
    const id = draw();
    if (id >= 1 && id <= MAX_REGISTRATION_ID) return id;
  }
}

export const MAX_REGISTRATION_ID = 16380;

export class SignalEngine {
  constructor(readonly store: SignalStore) {}

  async hasIdentity(): Promise<boolean> {
    return (await this.store.getIdentityKeyPair()) !== undefined;
  }

  /** A new device: identity key, registration id, one signed prekey and a batch of one-time prekeys. */
  async createDevice(oneTimeCount = PREKEY_BATCH): Promise<DeviceKeys> {
    if (await this.hasIdentity()) throw new Error("This device already has keys.");
    const identity = await KeyHelper.generateIdentityKeyPair();
    const registrationId = newRegistrationId();
    await this.store.setOwnIdentity(identity, registrationId);
    const signedPreKey = await this.rotateSignedPreKey();
    const oneTimePreKeys = await this.newPreKeys(oneTimeCount);
    return { registrationId, identityKey: toBase64(identity.pubKey), signedPreKey, oneTimePreKeys };
  }

  async identityKey(): Promise<string> {
    const identity = await this.store.getIdentityKeyPair();
    if (!identity) throw new Error("This device has no keys yet.");
    return toBase64(identity.pubKey);
  }

  async registrationId(): Promise<number> {
    const id = await this.store.getLocalRegistrationId();
    if (id === undefined) throw new Error("This device has no keys yet.");
    return id;
  }

  /** More one-time prekeys (the private halves stay here, sealed). */
  async newPreKeys(count: number): Promise<PublicPreKey[]> {
    const first = await this.store.nextId("prekey", count);
    const out: PublicPreKey[] = [];
    for (let i = 0; i < count; i++) {
      const preKey = await KeyHelper.generatePreKey(first + i);
      await this.store.storePreKey(preKey.keyId, preKey.keyPair);
      out.push({ keyId: preKey.keyId, publicKey: toBase64(preKey.keyPair.pubKey) });
    }
    return out;
  }

  /** A new signed prekey; the previous ones are kept (messages may still use them) until `dropSignedPreKeysBefore`. */
  async rotateSignedPreKey(): Promise<PublicSignedPreKey> {
    const identity = await this.store.getIdentityKeyPair();
    if (!identity) throw new Error("This device has no keys yet.");
    const keyId = await this.store.nextId("signed");
    const signed = await KeyHelper.generateSignedPreKey(identity, keyId);
    await this.store.storeSignedPreKey(keyId, signed.keyPair, signed.signature);
    return { keyId, publicKey: toBase64(signed.keyPair.pubKey), signature: toBase64(signed.signature) };
  }

  /** Forget signed prekeys older than `keep` newest ones and created before `before`. */
  async dropSignedPreKeysBefore(before: Date, keep = 2): Promise<number> {
    const all = await this.store.signedPreKeys();
    const old = all.slice(0, Math.max(0, all.length - keep)).filter((s) => new Date(s.record.createdAt) < before);
    for (const s of old) await this.store.removeSignedPreKey(s.keyId);
    return old.length;
  }

  async signedPreKeyAge(now = new Date()): Promise<number> {
    const all = await this.store.signedPreKeys();
    const newest = all[all.length - 1];
    return newest ? now.getTime() - new Date(newest.record.createdAt).getTime() : Infinity;
  }

  /** The registration id of the device at the other end of our session with it. */
  async remoteRegistrationId(address: Address): Promise<number | undefined> {
    return new SessionCipher(this.store, addressOf(address)).getRemoteRegistrationId();
  }

  async hasSession(address: Address): Promise<boolean> {
    return new SessionCipher(this.store, addressOf(address)).hasOpenSession();
  }

  /** X3DH from a claimed bundle (its signature is checked: a bad one throws). */
  async startSession(address: Address, bundle: PreKeyBundle): Promise<void> {
    await new SessionBuilder(this.store, addressOf(address)).processPreKey({
      registrationId: bundle.registrationId,
      identityKey: key(bundle.identityKey),
      signedPreKey: { keyId: bundle.signedPreKey.keyId, publicKey: key(bundle.signedPreKey.publicKey), signature: key(bundle.signedPreKey.signature) },
      preKey: bundle.oneTimePreKey ? { keyId: bundle.oneTimePreKey.keyId, publicKey: key(bundle.oneTimePreKey.publicKey) } : undefined,
    });
  }

  async encrypt(address: Address, plaintext: Uint8Array): Promise<Ciphertext> {
    const result = await new SessionCipher(this.store, addressOf(address)).encrypt(toArrayBuffer(plaintext));
    if ((result.type !== 1 && result.type !== 3) || typeof result.body !== "string") throw new Error("unexpected ciphertext");
    // The body is a "binary string": one char per byte.
    return { type: result.type as 1 | 3, body: btoa(result.body) };
  }

  /** Throws a DecryptError: a replay, a tampered message (the session is left as it was), no session. */
  async decrypt(address: Address, ciphertext: Ciphertext): Promise<Uint8Array> {
    let body: ArrayBuffer;
    try {
      body = key(ciphertext.body);
    } catch {
      throw new DecryptError("malformed", "The message is not base64.");
    }
    const cipher = new SessionCipher(this.store, addressOf(address));
    try {
      const plain = ciphertext.type === 3 ? await cipher.decryptPreKeyWhisperMessage(body, "binary") : ciphertext.type === 1 ? await cipher.decryptWhisperMessage(body, "binary") : null;
      if (plain === null) throw new DecryptError("malformed", `Unknown envelope type ${String(ciphertext.type)}.`);
      return new Uint8Array(plain);
    } catch (error) {
      throw classify(error);
    }
  }

  /** Drop every session with that device: the next message starts a new one from a fresh bundle. */
  async resetSession(address: Address): Promise<void> {
    await this.store.removeSession(encodeAddress(address));
  }

  /**
   * The safety number of two identities: 60 digits, the same on both sides whatever the
   * order. Identifiers are stable ids of the two people (their user ids).
   */
  async safetyNumber(localId: string, localKey: string, remoteId: string, remoteKey: string): Promise<string> {
    return new FingerprintGenerator(FINGERPRINT_ITERATIONS).createFor(localId, key(localKey), remoteId, key(remoteKey));
  }
}
