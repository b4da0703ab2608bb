// The session core's KeyValueStore (synchronous, like localStorage) over the sealed key
// store (asynchronous, AES-GCM under the passphrase key): the direct chats' outbox holds
// plaintext, so it is kept only sealed, never in localStorage. Values are read into memory
// when the keys are unlocked; every change is written through, one write after the other
// (the newest value of a key wins), so a reload finds what was waiting to be sent.
import type { KeyValueStore } from "../core/transport";
import type { SealedStore } from "./keystore";

const PREFIX = "kv:";

export class SealedKeyValue implements KeyValueStore {
  private writing: Promise<void> = Promise.resolve();

  private constructor(
    private readonly sealed: SealedStore,
    private readonly values: Map<string, string>,
  ) {}

  /** Everything kept under `kv:` in this store, read now (before the outbox loads). */
  static async open(sealed: SealedStore): Promise<SealedKeyValue> {
    const values = new Map<string, string>();
    for (const name of await sealed.names(PREFIX)) {
      const value = await sealed.get<string>(name);
      if (typeof value === "string") values.set(name.slice(PREFIX.length), value);
    }
    return new SealedKeyValue(sealed, values);
  }

  get(key: string): string | null {
    return this.values.get(key) ?? null;
  }

  set(key: string, value: string): void {
    this.values.set(key, value);
    this.persist(key);
  }

  remove(key: string): void {
    this.values.delete(key);
    this.persist(key);
  }

  /** Resolves once every change made so far is durably written (IndexedDB committed). */
  flushed(): Promise<void> {
    return this.writing;
  }

  private persist(key: string): void {
    this.writing = this.writing
      .then(() => {
        // The value at the time of writing: a later change writes again after this one.
        const value = this.values.get(key);
        return value === undefined ? this.sealed.delete(PREFIX + key) : this.sealed.put(PREFIX + key, value);
      })
      .catch((error: unknown) => console.warn("sealed outbox write failed", error));
  }
}
