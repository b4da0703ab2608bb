import { describe, expect, it } from "vitest";
import { utf8 } from "./bytes";
import { DamagedRecord, MemoryBackend, SealedStore, WrongPassphrase } from "./keystore";

// Fewer PBKDF2 rounds than the app's 600,000 keep these tests quick; the code path is the same.
const ROUNDS = 1000;

function bytesContain(haystack: Uint8Array, needle: Uint8Array): boolean {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}

describe("SealedStore", () => {
  it("keeps values, ArrayBuffers included, and opens them again with the passphrase", async () => {
    const backend = new MemoryBackend();
    const store = await SealedStore.create(backend, "correct horse", ROUNDS);
    const secret = new Uint8Array([5, 1, 2, 3, 250]).buffer;
    await store.put("own:identity", { pubKey: secret, privKey: new Uint8Array([9, 9]).buffer, n: 3 });
    const reopened = await SealedStore.unlock(backend, "correct horse");
    const got = await reopened.get<{ pubKey: ArrayBuffer; privKey: ArrayBuffer; n: number }>("own:identity");
    expect(got?.n).toBe(3);
    expect(got?.pubKey).toBeInstanceOf(ArrayBuffer);
    expect([...new Uint8Array(got!.pubKey)]).toEqual([5, 1, 2, 3, 250]);
    expect(await reopened.get("missing")).toBeUndefined();
  });

  it("writes nothing readable: neither the values nor the passphrase appear in the stored bytes", async () => {
    const backend = new MemoryBackend();
    const store = await SealedStore.create(backend, "correct horse", ROUNDS);
    await store.put("plain:1", "the launch code is 0000");
    await store.put("key", new Uint8Array(utf8.encode("PRIVATE-KEY-BYTES")).buffer);
    for (const [, bytes] of backend.records) {
      expect(bytesContain(bytes, utf8.encode("launch code"))).toBe(false);
      expect(bytesContain(bytes, utf8.encode("PRIVATE-KEY"))).toBe(false);
      expect(bytesContain(bytes, utf8.encode("correct horse"))).toBe(false);
    }
  });

  it("refuses a wrong passphrase, and a short one at creation", async () => {
    const backend = new MemoryBackend();
    await SealedStore.create(backend, "correct horse", ROUNDS);
    await expect(SealedStore.unlock(backend, "wrong horse")).rejects.toBeInstanceOf(WrongPassphrase);
    await expect(SealedStore.create(new MemoryBackend(), "short", ROUNDS)).rejects.toThrow(/at least 8/);
    await expect(SealedStore.create(backend, "another passphrase", ROUNDS)).rejects.toThrow(/already holds keys/);
  });

  it("detects a record altered at rest or moved under another name", async () => {
    const backend = new MemoryBackend();
    const store = await SealedStore.create(backend, "correct horse", ROUNDS);
    await store.put("session:a.1", "alice's session");
    await store.put("session:b.1", "bob's session");
    const sealed = backend.records.get("session:a.1")!;
    const flipped = new Uint8Array(sealed);
    flipped[flipped.length - 1] ^= 1;
    backend.records.set("session:a.1", flipped);
    await expect(store.get("session:a.1")).rejects.toBeInstanceOf(DamagedRecord);
    // Bob's sealed session put under Alice's name does not open.
    backend.records.set("session:a.1", backend.records.get("session:b.1")!);
    await expect(store.get("session:a.1")).rejects.toBeInstanceOf(DamagedRecord);
  });

  it("seals the same value differently each time (a fresh IV per write)", async () => {
    const backend = new MemoryBackend();
    const store = await SealedStore.create(backend, "correct horse", ROUNDS);
    await store.put("x", "same");
    const first = backend.records.get("x")!;
    await store.put("x", "same");
    expect(backend.records.get("x")).not.toEqual(first);
  });

  it("lists names by prefix and deletes", async () => {
    const store = await SealedStore.create(new MemoryBackend(), "correct horse", ROUNDS);
    await store.put("prekey:1", 1);
    await store.put("prekey:2", 2);
    await store.put("signed:1", 3);
    expect(await store.names("prekey:")).toEqual(["prekey:1", "prekey:2"]);
    await store.delete("prekey:1");
    expect(await store.names("prekey:")).toEqual(["prekey:2"]);
    await expect(store.put("meta", 1)).rejects.toThrow(/reserved/);
  });
});
