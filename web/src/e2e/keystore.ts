// Key material at rest: every record sealed with AES-256-GCM under a key derived from a
// passphrase the user sets (PBKDF2-SHA-256, 600,000 iterations, a random 16-byte salt), all
// through WebCrypto. The derived key is non-extractable and lives only in this page's
// memory; neither it nor the passphrase ever leaves the browser. Each record's name is its
// additional data, so a sealed value cannot be moved to another name undetected.
//
// Records live in IndexedDB (`IndexedDbBackend`, one database per user); the unit tests
// use `MemoryBackend`, the same bytes in a Map. Record names are not secret (they are ids:
// "session:<user>.<device>", "plain:<message id>"); values are.
import { fromBase64, toArrayBuffer, toBase64, utf8 } from "./bytes";

export interface RecordBackend {
  get(name: string): Promise<Uint8Array | undefined>;
  put(name: string, value: Uint8Array): Promise<void>;
  delete(name: string): Promise<void>;
  names(prefix: string): Promise<string[]>;
  /** Several records at once, all or none (one IndexedDB transaction). */
  putMany(records: [string, Uint8Array][]): Promise<void>;
  /** Everything, the metadata included (forgetting this device). */
  clear(): Promise<void>;
}

export class WrongPassphrase extends Error {
  constructor() {
    super("That passphrase does not open the keys on this device.");
    this.name = "WrongPassphrase";
  }
}

export class DamagedRecord extends Error {
  constructor(name: string) {
    super(`The stored record ${name} does not open: it was altered or belongs elsewhere.`);
    this.name = "DamagedRecord";
  }
}

export const MIN_PASSPHRASE = 8;
export const DEFAULT_ITERATIONS = 600_000;
const META = "meta";
const CHECK = "raasel-e2e-check";
const IV_BYTES = 12;

interface Meta {
  version: 1;
  kdf: "PBKDF2-SHA-256";
  iterations: number;
  salt: string;
  check: string;
}

const subtle = (): SubtleCrypto => globalThis.crypto.subtle;

async function deriveKey(passphrase: string, salt: Uint8Array, iterations: number): Promise<CryptoKey> {
  const material = await subtle().importKey("raw", toArrayBuffer(utf8.encode(passphrase)), "PBKDF2", false, ["deriveKey"]);
  return subtle().deriveKey(
    { name: "PBKDF2", hash: "SHA-256", salt: toArrayBuffer(salt), iterations },
    material,
    { name: "AES-GCM", length: 256 },
    false,
    ["encrypt", "decrypt"],
  );
}

async function seal(key: CryptoKey, name: string, plain: Uint8Array): Promise<Uint8Array> {
  const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
  const sealed = await subtle().encrypt({ name: "AES-GCM", iv, additionalData: toArrayBuffer(utf8.encode(name)) }, key, toArrayBuffer(plain));
  const out = new Uint8Array(IV_BYTES + sealed.byteLength);
  out.set(iv);
  out.set(new Uint8Array(sealed), IV_BYTES);
  return out;
}

async function open(key: CryptoKey, name: string, sealed: Uint8Array): Promise<Uint8Array> {
  if (sealed.length <= IV_BYTES) throw new DamagedRecord(name);
  try {
    const plain = await subtle().decrypt(
      { name: "AES-GCM", iv: toArrayBuffer(sealed.subarray(0, IV_BYTES)), additionalData: toArrayBuffer(utf8.encode(name)) },
      key,
      toArrayBuffer(sealed.subarray(IV_BYTES)),
    );
    return new Uint8Array(plain);
  } catch {
    throw new DamagedRecord(name);
  }
}

/** JSON that keeps ArrayBuffers and Uint8Arrays (as ArrayBuffers). */
export function encodeValue(value: unknown): Uint8Array {
  return utf8.encode(
    JSON.stringify(value, function (this: unknown, _key, v: unknown) {
      if (v instanceof ArrayBuffer || v instanceof Uint8Array) return { $b: toBase64(v) };
      return v;
    }),
  );
}

export function decodeValue<T>(bytes: Uint8Array): T {
  return JSON.parse(utf8.decode(bytes), (_key, v: unknown) => {
    if (v && typeof v === "object" && !Array.isArray(v) && Object.keys(v).length === 1 && typeof (v as { $b?: unknown }).$b === "string") {
      return toArrayBuffer(fromBase64((v as { $b: string }).$b));
    }
    return v;
  }) as T;
}

/** An opened key store: values in, sealed bytes out. */
export class SealedStore {
  /** Reads and writes running now (a passphrase change waits for them). */
  private running = new Set<Promise<unknown>>();
  /** A passphrase change in progress: reads and writes wait for it. */
  private changing: Promise<void> | null = null;

  private constructor(
    private readonly backend: RecordBackend,
    private key: CryptoKey,
  ) {}

  /** Whether this device already holds (locked) keys. */
  static async exists(backend: RecordBackend): Promise<boolean> {
    return (await backend.get(META)) !== undefined;
  }

  /** A new, empty store sealed under this passphrase; refuses to overwrite one. */
  static async create(backend: RecordBackend, passphrase: string, iterations = DEFAULT_ITERATIONS): Promise<SealedStore> {
    if (passphrase.length < MIN_PASSPHRASE) throw new RangeError(`The passphrase needs at least ${MIN_PASSPHRASE} characters.`);
    if (await SealedStore.exists(backend)) throw new Error("This device already holds keys: unlock them or forget this device first.");
    const salt = crypto.getRandomValues(new Uint8Array(16));
    const key = await deriveKey(passphrase, salt, iterations);
    const meta: Meta = { version: 1, kdf: "PBKDF2-SHA-256", iterations, salt: toBase64(salt), check: toBase64(await seal(key, META, utf8.encode(CHECK))) };
    await backend.put(META, utf8.encode(JSON.stringify(meta)));
    return new SealedStore(backend, key);
  }

  static async unlock(backend: RecordBackend, passphrase: string): Promise<SealedStore> {
    const raw = await backend.get(META);
    if (!raw) throw new Error("No keys on this device yet.");
    const meta = JSON.parse(utf8.decode(raw)) as Meta;
    const key = await deriveKey(passphrase, fromBase64(meta.salt), meta.iterations);
    try {
      const check = await open(key, META, fromBase64(meta.check));
      if (utf8.decode(check) !== CHECK) throw new WrongPassphrase();
    } catch {
      throw new WrongPassphrase();
    }
    return new SealedStore(backend, key);
  }

  async get<T>(name: string): Promise<T | undefined> {
    if (name === META) throw new RangeError("reserved record name");
    return this.guarded(async () => {
      const sealed = await this.backend.get(name);
      if (sealed === undefined) return undefined;
      return decodeValue<T>(await open(this.key, name, sealed));
    });
  }

  async put(name: string, value: unknown): Promise<void> {
    if (name === META) throw new RangeError("reserved record name");
    if (value === undefined) throw new TypeError(`no value for ${name}`);
    await this.guarded(async () => this.backend.put(name, await seal(this.key, name, encodeValue(value))));
  }

  async delete(name: string): Promise<void> {
    await this.guarded(() => this.backend.delete(name));
  }

  /**
   * Seal everything again under a key derived from a new passphrase (a new salt too), in one
   * backend transaction with the new check record: a crash midway leaves the old passphrase
   * working, never a mix. The current passphrase is asked again (WrongPassphrase otherwise).
   */
  async changePassphrase(current: string, next: string, iterations = DEFAULT_ITERATIONS): Promise<void> {
    if (next.length < MIN_PASSPHRASE) throw new RangeError(`The passphrase needs at least ${MIN_PASSPHRASE} characters.`);
    while (this.changing) await this.changing;
    let done = () => {};
    this.changing = new Promise<void>((resolve) => (done = resolve));
    try {
      await Promise.allSettled([...this.running]);
      await SealedStore.unlock(this.backend, current);
      const salt = crypto.getRandomValues(new Uint8Array(16));
      const key = await deriveKey(next, salt, iterations);
      const records: [string, Uint8Array][] = [];
      for (const name of await this.backend.names("")) {
        if (name === META) continue;
        const sealed = await this.backend.get(name);
        if (sealed !== undefined) records.push([name, await seal(key, name, await open(this.key, name, sealed))]);
      }
      const meta: Meta = { version: 1, kdf: "PBKDF2-SHA-256", iterations, salt: toBase64(salt), check: toBase64(await seal(key, META, utf8.encode(CHECK))) };
      records.push([META, utf8.encode(JSON.stringify(meta))]);
      await this.backend.putMany(records);
      this.key = key;
    } finally {
      this.changing = null;
      done();
    }
  }

  private async guarded<T>(act: () => Promise<T>): Promise<T> {
    while (this.changing) await this.changing;
    const job = act();
    this.running.add(job);
    try {
      return await job;
    } finally {
      this.running.delete(job);
    }
  }

  async names(prefix: string): Promise<string[]> {
    return (await this.backend.names(prefix)).filter((n) => n !== META);
  }
}

/** The same bytes in a Map: this page only (and the unit tests). */
export class MemoryBackend implements RecordBackend {
  readonly records = new Map<string, Uint8Array>();

  async get(name: string): Promise<Uint8Array | undefined> {
    const value = this.records.get(name);
    return value && new Uint8Array(value);
  }

  async put(name: string, value: Uint8Array): Promise<void> {
    this.records.set(name, new Uint8Array(value));
  }

  async delete(name: string): Promise<void> {
    this.records.delete(name);
  }

  async names(prefix: string): Promise<string[]> {
    return [...this.records.keys()].filter((n) => n.startsWith(prefix)).sort();
  }

  async putMany(records: [string, Uint8Array][]): Promise<void> {
    for (const [name, value] of records) this.records.set(name, new Uint8Array(value));
  }

  async clear(): Promise<void> {
    this.records.clear();
  }
}

/** One IndexedDB database per user of this browser: `raasel-e2e.<user id>`, store `records`. */
export class IndexedDbBackend implements RecordBackend {
  private db: Promise<IDBDatabase> | null = null;

  constructor(readonly databaseName: string) {}

  static forUser(userId: string): IndexedDbBackend {
    return new IndexedDbBackend(`raasel-e2e.${userId}`);
  }

  async get(name: string): Promise<Uint8Array | undefined> {
    const value = await this.run<unknown>("readonly", (s) => s.get(name));
    return value instanceof Uint8Array ? value : value instanceof ArrayBuffer ? new Uint8Array(value) : undefined;
  }

  async put(name: string, value: Uint8Array): Promise<void> {
    await this.run("readwrite", (s) => s.put(value, name));
  }

  async delete(name: string): Promise<void> {
    await this.run("readwrite", (s) => s.delete(name));
  }

  async names(prefix: string): Promise<string[]> {
    const range = IDBKeyRange.bound(prefix, `${prefix}\uffff`);
    const keys = await this.run<IDBValidKey[]>("readonly", (s) => s.getAllKeys(range));
    return keys.map(String);
  }

  async clear(): Promise<void> {
    await this.run("readwrite", (s) => s.clear());
  }

  async putMany(records: [string, Uint8Array][]): Promise<void> {
    if (!records.length) return;
    await this.run("readwrite", (s) => {
      let last: IDBRequest | undefined;
      for (const [name, value] of records) last = s.put(value, name);
      return last as IDBRequest;
    });
  }

  private open(): Promise<IDBDatabase> {
    if (!this.db) {
      this.db = new Promise((resolve, reject) => {
        const request = indexedDB.open(this.databaseName, 1);
        request.onupgradeneeded = () => request.result.createObjectStore("records");
        request.onsuccess = () => resolve(request.result);
        request.onerror = () => reject(request.error ?? new Error("IndexedDB refused to open"));
        request.onblocked = () => reject(new Error("IndexedDB is blocked by another tab"));
      });
    }
    return this.db;
  }

  private async run<T>(mode: IDBTransactionMode, act: (store: IDBObjectStore) => IDBRequest): Promise<T> {
    const db = await this.open();
    return new Promise<T>((resolve, reject) => {
      const tx = db.transaction("records", mode);
      const request = act(tx.objectStore("records"));
      let result: T;
      request.onsuccess = () => (result = request.result as T);
      // Resolve on commit, not on the request: acknowledged means durably written.
      tx.oncomplete = () => resolve(result);
      tx.onerror = () => reject(tx.error ?? request.error ?? new Error("IndexedDB write failed"));
      tx.onabort = () => reject(tx.error ?? new Error("IndexedDB transaction aborted"));
    });
  }
}
