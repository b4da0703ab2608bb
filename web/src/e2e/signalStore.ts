// The Signal library's storage interface (identity, prekeys, sessions, the identities of
// others) over the sealed key store: everything it keeps is encrypted at rest.
//
// Trust: first use is trusted and a changed identity key is let through (as Signal does)
// but recorded, so the conversation shows a warning until the user has looked at the new
// safety number (`acknowledgeIdentity`). Identities are kept per device address
// ("<user id>.<device id>"): each device of a person has keys of its own.
import type { KeyPairType, StorageType } from "@privacyresearch/libsignal-protocol-typescript";
import { equalBytes } from "./bytes";
import type { SealedStore } from "./keystore";

export interface RemoteIdentity {
  key: ArrayBuffer;
  firstSeen: string;
  /** The key this device had before it changed, until the user acknowledged the change. */
  previous?: ArrayBuffer;
  changedAt?: string;
  verified?: boolean;
}

export interface SignedPreKeyRecord {
  keyPair: KeyPairType;
  signature: ArrayBuffer;
  createdAt: string;
}

export type IdentityListener = (address: string, identity: RemoteIdentity) => void;

export class SignalStore implements StorageType {
  private listeners = new Set<IdentityListener>();

  constructor(
    readonly sealed: SealedStore,
    private readonly now: () => Date = () => new Date(),
  ) {}

  onIdentityChange(listener: IdentityListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  // ---- our own keys ----

  async getIdentityKeyPair(): Promise<KeyPairType | undefined> {
    return this.sealed.get<KeyPairType>("own:identity");
  }

  async getLocalRegistrationId(): Promise<number | undefined> {
    return this.sealed.get<number>("own:registration");
  }

  async setOwnIdentity(keyPair: KeyPairType, registrationId: number): Promise<void> {
    await this.sealed.put("own:identity", keyPair);
    await this.sealed.put("own:registration", registrationId);
  }

  // ---- others' identities ----

  async isTrustedIdentity(): Promise<boolean> {
    // Trust on first use; a change is allowed and recorded by saveIdentity (a warning).
    return true;
  }

  async saveIdentity(encodedAddress: string, publicKey: ArrayBuffer): Promise<boolean> {
    const name = `identity:${encodedAddress}`;
    const known = await this.sealed.get<RemoteIdentity>(name);
    if (known && equalBytes(known.key, publicKey)) return false;
    const at = this.now().toISOString();
    const identity: RemoteIdentity = known
      ? { key: publicKey, firstSeen: known.firstSeen, previous: known.previous ?? known.key, changedAt: at, verified: false }
      : { key: publicKey, firstSeen: at };
    await this.sealed.put(name, identity);
    if (known) this.listeners.forEach((l) => l(encodedAddress, identity));
    return Boolean(known);
  }

  async loadIdentity(encodedAddress: string): Promise<RemoteIdentity | undefined> {
    return this.sealed.get<RemoteIdentity>(`identity:${encodedAddress}`);
  }

  /** The identities of every device of this user we have met. */
  async identitiesOf(userId: string): Promise<Map<string, RemoteIdentity>> {
    const out = new Map<string, RemoteIdentity>();
    for (const name of await this.sealed.names(`identity:${userId}.`)) {
      const identity = await this.sealed.get<RemoteIdentity>(name);
      if (identity) out.set(name.slice("identity:".length), identity);
    }
    return out;
  }

  /** The user has seen the new safety number: the warning goes. */
  async acknowledgeIdentity(encodedAddress: string, verified = false): Promise<void> {
    const name = `identity:${encodedAddress}`;
    const known = await this.sealed.get<RemoteIdentity>(name);
    if (!known) return;
    await this.sealed.put(name, { key: known.key, firstSeen: known.firstSeen, verified });
  }

  // ---- prekeys ----

  async loadPreKey(keyId: string | number): Promise<KeyPairType | undefined> {
    return this.sealed.get<KeyPairType>(`prekey:${keyId}`);
  }

  async storePreKey(keyId: number | string, keyPair: KeyPairType): Promise<void> {
    await this.sealed.put(`prekey:${keyId}`, keyPair);
  }

  async removePreKey(keyId: number | string): Promise<void> {
    await this.sealed.delete(`prekey:${keyId}`);
  }

  async loadSignedPreKey(keyId: number | string): Promise<KeyPairType | undefined> {
    return (await this.sealed.get<SignedPreKeyRecord>(`signed:${keyId}`))?.keyPair;
  }

  async storeSignedPreKey(keyId: number | string, keyPair: KeyPairType, signature?: ArrayBuffer): Promise<void> {
    const record: SignedPreKeyRecord = { keyPair, signature: signature ?? new ArrayBuffer(0), createdAt: this.now().toISOString() };
    await this.sealed.put(`signed:${keyId}`, record);
  }

  async removeSignedPreKey(keyId: number | string): Promise<void> {
    await this.sealed.delete(`signed:${keyId}`);
  }

  async signedPreKeys(): Promise<{ keyId: number; record: SignedPreKeyRecord }[]> {
    const out: { keyId: number; record: SignedPreKeyRecord }[] = [];
    for (const name of await this.sealed.names("signed:")) {
      const record = await this.sealed.get<SignedPreKeyRecord>(name);
      if (record) out.push({ keyId: Number(name.slice("signed:".length)), record });
    }
    return out.sort((a, b) => a.record.createdAt.localeCompare(b.record.createdAt));
  }

  // ---- sessions ----

  async storeSession(encodedAddress: string, record: string): Promise<void> {
    await this.sealed.put(`session:${encodedAddress}`, record);
  }

  async loadSession(encodedAddress: string): Promise<string | undefined> {
    return this.sealed.get<string>(`session:${encodedAddress}`);
  }

  async removeSession(encodedAddress: string): Promise<void> {
    await this.sealed.delete(`session:${encodedAddress}`);
  }

  // ---- counters and small state of ours ----

  async nextId(counter: "prekey" | "signed", count = 1): Promise<number> {
    const name = `counter:${counter}`;
    const first = (await this.sealed.get<number>(name)) ?? 1;
    // Key ids are 24-bit in the protocol; wrap before that (ids are reused only after 16M keys).
    const next = first + count > 0xffffff ? 1 : first + count;
    await this.sealed.put(name, next);
    return first;
  }
}
