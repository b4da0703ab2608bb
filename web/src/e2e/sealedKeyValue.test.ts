import { describe, expect, it } from "vitest";
import { utf8 } from "./bytes";
import { MemoryBackend, SealedStore } from "./keystore";
import { SealedKeyValue } from "./sealedKeyValue";

const ROUNDS = 1000;

function contains(haystack: Uint8Array, needle: string): boolean {
  const n = utf8.encode(needle);
  outer: for (let i = 0; i + n.length <= haystack.length; i++) {
    for (let j = 0; j < n.length; j++) if (haystack[i + j] !== n[j]) continue outer;
    return true;
  }
  return false;
}

describe("SealedKeyValue", () => {
  it("keeps values across a reopen, sealed: the text never appears in the stored bytes", async () => {
    const backend = new MemoryBackend();
    const sealed = await SealedStore.create(backend, "correct horse", ROUNDS);
    const kv = await SealedKeyValue.open(sealed);
    kv.set("outbox", JSON.stringify([{ client_id: "c1", text: "meet at the old mill" }]));
    kv.set("other", "first");
    kv.set("other", "second");
    expect(kv.get("outbox")).toContain("old mill");
    await kv.flushed();
    for (const [, bytes] of backend.records) expect(contains(bytes, "old mill")).toBe(false);
    const reopened = await SealedKeyValue.open(await SealedStore.unlock(backend, "correct horse"));
    expect(JSON.parse(reopened.get("outbox")!)).toEqual([{ client_id: "c1", text: "meet at the old mill" }]);
    expect(reopened.get("other")).toBe("second");
    reopened.remove("outbox");
    await reopened.flushed();
    expect((await SealedKeyValue.open(sealed)).get("outbox")).toBeNull();
  });
});

describe("SealedStore.changePassphrase", () => {
  it("re-seals every record under the new passphrase; the old one no longer opens", async () => {
    const backend = new MemoryBackend();
    const store = await SealedStore.create(backend, "correct horse", ROUNDS);
    await store.put("own:identity", { secret: new Uint8Array([1, 2, 3]).buffer });
    await store.put("plain:9", "hello");
    const before = new Map(backend.records);
    await store.changePassphrase("correct horse", "battery staple", ROUNDS);
    for (const [name, bytes] of backend.records) expect(bytes).not.toEqual(before.get(name));
    await expect(SealedStore.unlock(backend, "correct horse")).rejects.toThrow(/passphrase/);
    const reopened = await SealedStore.unlock(backend, "battery staple");
    expect(await reopened.get("plain:9")).toBe("hello");
    // The open store keeps working under the new key.
    await store.put("plain:10", "after");
    expect(await reopened.get("plain:10")).toBe("after");
    expect(await store.get("plain:9")).toBe("hello");
  });

  it("refuses a wrong current passphrase or a short new one and changes nothing", async () => {
    const backend = new MemoryBackend();
    const store = await SealedStore.create(backend, "correct horse", ROUNDS);
    await store.put("x", 1);
    const before = new Map(backend.records);
    await expect(store.changePassphrase("wrong horse", "battery staple", ROUNDS)).rejects.toThrow(/passphrase/);
    await expect(store.changePassphrase("correct horse", "short", ROUNDS)).rejects.toThrow(/at least 8/);
    expect(backend.records).toEqual(before);
    expect(await (await SealedStore.unlock(backend, "correct horse")).get("x")).toBe(1);
  });

  it("lets writes made during the change land under the new key", async () => {
    const backend = new MemoryBackend();
    const store = await SealedStore.create(backend, "correct horse", ROUNDS);
    await store.put("a", "one");
    const change = store.changePassphrase("correct horse", "battery staple", ROUNDS);
    const writes = [store.put("b", "two"), store.put("a", "uno")];
    await Promise.all([change, ...writes]);
    const reopened = await SealedStore.unlock(backend, "battery staple");
    expect(await reopened.get("a")).toBe("uno");
    expect(await reopened.get("b")).toBe("two");
  });
});
