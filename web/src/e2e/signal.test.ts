// The interface over the Signal library, two devices talking through it (no server): the
// real library, real WebCrypto, the sealed store over memory.
import { describe, expect, it } from "vitest";
import { fromBase64, toBase64, utf8 } from "./bytes";
import { MemoryBackend, SealedStore } from "./keystore";
import { decodePayload, encodePayload } from "./payload";
import { DecryptError, MAX_REGISTRATION_ID, newRegistrationId, SignalEngine, type Address, type DeviceKeys, type PreKeyBundle } from "./signal";
import { SignalStore, type RemoteIdentity } from "./signalStore";

const ALICE: Address = { userId: "1001", deviceId: 1 };
const BOB: Address = { userId: "2002", deviceId: 1 };

async function device(oneTime = 3): Promise<{ engine: SignalEngine; store: SignalStore; keys: DeviceKeys }> {
  const sealed = await SealedStore.create(new MemoryBackend(), "a passphrase", 1000);
  const store = new SignalStore(sealed);
  const engine = new SignalEngine(store);
  return { engine, store, keys: await engine.createDevice(oneTime) };
}

function bundle(keys: DeviceKeys, at = 0): PreKeyBundle {
  return { registrationId: keys.registrationId, identityKey: keys.identityKey, signedPreKey: keys.signedPreKey, oneTimePreKey: keys.oneTimePreKeys[at] ?? null };
}

const text = (bytes: Uint8Array) => utf8.decode(bytes);
const bytes = (s: string) => utf8.encode(s);

async function pair() {
  const alice = await device();
  const bob = await device();
  await alice.engine.startSession(BOB, bundle(bob.keys));
  return { alice, bob };
}

describe("SignalEngine", { timeout: 30000 }, () => {
  it("publishes well-formed keys: 33-byte identity (0x05 prefix), 64-byte signature, distinct prekey ids", async () => {
    const { keys } = await device(5);
    expect(fromBase64(keys.identityKey)).toHaveLength(33);
    expect(fromBase64(keys.identityKey)[0]).toBe(5);
    expect(fromBase64(keys.signedPreKey.signature)).toHaveLength(64);
    expect(new Set(keys.oneTimePreKeys.map((k) => k.keyId)).size).toBe(5);
    expect(keys.registrationId).toBeGreaterThan(0);
    expect(keys.registrationId).toBeLessThan(16384);
  });

  it("draws registration ids in 1..16380 only, as the server takes them", () => {
    const draws = [0, 16383, 16381, 16380];
    expect(newRegistrationId(() => draws.shift()!)).toBe(MAX_REGISTRATION_ID);
    expect(newRegistrationId(() => 1)).toBe(1);
    for (let i = 0; i < 2000; i++) {
      const id = newRegistrationId();
      expect(id >= 1 && id <= MAX_REGISTRATION_ID).toBe(true);
    }
  });

  it("first message is a PreKey message, replies are Whisper messages, both ways", async () => {
    const { alice, bob } = await pair();
    const first = await alice.engine.encrypt(BOB, bytes("hello bob"));
    expect(first.type).toBe(3);
    expect(text(await bob.engine.decrypt(ALICE, first))).toBe("hello bob");
    const reply = await bob.engine.encrypt(ALICE, bytes("hi alice"));
    expect(reply.type).toBe(1);
    expect(text(await alice.engine.decrypt(BOB, reply))).toBe("hi alice");
    const second = await alice.engine.encrypt(BOB, bytes("how are you"));
    expect(second.type).toBe(1);
    expect(text(await bob.engine.decrypt(ALICE, second))).toBe("how are you");
  });

  it("uses the one-time prekey once: Bob's private half is gone after the first message", async () => {
    const { alice, bob } = await pair();
    const used = bob.keys.oneTimePreKeys[0].keyId;
    expect(await bob.store.loadPreKey(used)).toBeDefined();
    await bob.engine.decrypt(ALICE, await alice.engine.encrypt(BOB, bytes("x")));
    expect(await bob.store.loadPreKey(used)).toBeUndefined();
    expect(await bob.store.loadPreKey(bob.keys.oneTimePreKeys[1].keyId)).toBeDefined();
  });

  it("starts a session without a one-time prekey when the pool is empty", async () => {
    const alice = await device();
    const bob = await device(0);
    await alice.engine.startSession(BOB, bundle(bob.keys));
    expect(text(await bob.engine.decrypt(ALICE, await alice.engine.encrypt(BOB, bytes("no opk"))))).toBe("no opk");
  });

  it("decrypts out of order, across a ratchet step", async () => {
    const { alice, bob } = await pair();
    await bob.engine.decrypt(ALICE, await alice.engine.encrypt(BOB, bytes("a1")));
    await alice.engine.decrypt(BOB, await bob.engine.encrypt(ALICE, bytes("b1")));
    // Alice's chain stepped: a2, a3 arrive as a3 first.
    const a2 = await alice.engine.encrypt(BOB, bytes("a2"));
    const a3 = await alice.engine.encrypt(BOB, bytes("a3"));
    expect(text(await bob.engine.decrypt(ALICE, a3))).toBe("a3");
    expect(text(await bob.engine.decrypt(ALICE, a2))).toBe("a2");
  });

  it("rejects a replay and keeps the session", async () => {
    const { alice, bob } = await pair();
    const first = await alice.engine.encrypt(BOB, bytes("once"));
    await bob.engine.decrypt(ALICE, first);
    const again = await alice.engine.encrypt(BOB, bytes("twice?"));
    await bob.engine.decrypt(ALICE, again);
    await expect(bob.engine.decrypt(ALICE, again)).rejects.toMatchObject({ reason: "replay" });
    await expect(bob.engine.decrypt(ALICE, first)).rejects.toBeInstanceOf(DecryptError);
    expect(text(await bob.engine.decrypt(ALICE, await alice.engine.encrypt(BOB, bytes("still fine"))))).toBe("still fine");
  });

  it("rejects a tampered envelope without breaking the session", async () => {
    const { alice, bob } = await pair();
    await bob.engine.decrypt(ALICE, await alice.engine.encrypt(BOB, bytes("setup")));
    await alice.engine.decrypt(BOB, await bob.engine.encrypt(ALICE, bytes("ack")));
    const real = await alice.engine.encrypt(BOB, bytes("the real one"));
    expect(real.type).toBe(1);
    const raw = fromBase64(real.body);
    raw[raw.length - 9] ^= 0x01; // the ciphertext's last byte, before the 8-byte MAC
    await expect(bob.engine.decrypt(ALICE, { type: 1, body: toBase64(raw) })).rejects.toMatchObject({ reason: "tampered" });
    const macFlip = fromBase64(real.body);
    macFlip[macFlip.length - 1] ^= 0x80;
    await expect(bob.engine.decrypt(ALICE, { type: 1, body: toBase64(macFlip) })).rejects.toMatchObject({ reason: "tampered" });
    expect(text(await bob.engine.decrypt(ALICE, real))).toBe("the real one");
    await expect(bob.engine.decrypt(ALICE, { type: 1, body: "!!not base64!!" })).rejects.toMatchObject({ reason: "malformed" });
  });

  it("refuses a bundle whose signed prekey signature does not verify", async () => {
    const alice = await device();
    const bob = await device();
    const forged = bundle(bob.keys);
    const sig = fromBase64(forged.signedPreKey.signature);
    sig[0] ^= 1;
    await expect(alice.engine.startSession(BOB, { ...forged, signedPreKey: { ...forged.signedPreKey, signature: toBase64(sig) } })).rejects.toThrow();
    expect(await alice.engine.hasSession(BOB)).toBe(false);
  });

  it("after a session reset, decryption fails (no session) and a fresh bundle recovers", async () => {
    const { alice, bob } = await pair();
    await bob.engine.decrypt(ALICE, await alice.engine.encrypt(BOB, bytes("one")));
    // Bob answers, so Alice's session is complete (she stops sending PreKey messages).
    await alice.engine.decrypt(BOB, await bob.engine.encrypt(ALICE, bytes("ack")));
    await bob.engine.resetSession(ALICE);
    await expect(bob.engine.decrypt(ALICE, await alice.engine.encrypt(BOB, bytes("lost")))).rejects.toMatchObject({ reason: "no_session" });
    // Bob asks for a re-send; Alice starts over from a fresh bundle of Bob's.
    await alice.engine.resetSession(BOB);
    await alice.engine.startSession(BOB, bundle(bob.keys, 1));
    const again = await alice.engine.encrypt(BOB, bytes("lost, again"));
    expect(again.type).toBe(3);
    expect(text(await bob.engine.decrypt(ALICE, again))).toBe("lost, again");
  });

  it("records a changed identity key of a known device and tells the listeners", async () => {
    const { alice, bob } = await pair();
    await bob.engine.decrypt(ALICE, await alice.engine.encrypt(BOB, bytes("hi")));
    const changes: [string, RemoteIdentity][] = [];
    alice.store.onIdentityChange((address, identity) => changes.push([address, identity]));
    // Bob reinstalls: new keys under the same device address.
    const bob2 = await device();
    await alice.engine.startSession(BOB, bundle(bob2.keys));
    expect(changes).toHaveLength(1);
    expect(changes[0][0]).toBe("2002.1");
    const known = await alice.store.loadIdentity("2002.1");
    expect(toBase64(known!.key)).toBe(bob2.keys.identityKey);
    expect(toBase64(known!.previous!)).toBe(bob.keys.identityKey);
    expect(text(await bob2.engine.decrypt(ALICE, await alice.engine.encrypt(BOB, bytes("to the new bob"))))).toBe("to the new bob");
    await alice.store.acknowledgeIdentity("2002.1");
    expect((await alice.store.loadIdentity("2002.1"))?.previous).toBeUndefined();
  });

  it("computes the same 60-digit safety number on both sides, and a new one after a key change", async () => {
    const { alice, bob } = await pair();
    const onAlice = await alice.engine.safetyNumber(ALICE.userId, alice.keys.identityKey, BOB.userId, bob.keys.identityKey);
    const onBob = await bob.engine.safetyNumber(BOB.userId, bob.keys.identityKey, ALICE.userId, alice.keys.identityKey);
    expect(onAlice).toMatch(/^\d{60}$/);
    expect(onBob).toBe(onAlice);
    const bob2 = await device();
    expect(await alice.engine.safetyNumber(ALICE.userId, alice.keys.identityKey, BOB.userId, bob2.keys.identityKey)).not.toBe(onAlice);
  });

  it("rotates the signed prekey and keeps the previous one for messages already on their way", async () => {
    const alice = await device();
    const bob = await device();
    await alice.engine.startSession(BOB, bundle(bob.keys));
    const inFlight = await alice.engine.encrypt(BOB, bytes("sent before the rotation"));
    await bob.engine.rotateSignedPreKey();
    expect(await bob.engine.dropSignedPreKeysBefore(new Date(Date.now() + 1000))).toBe(0); // keeps two
    expect(text(await bob.engine.decrypt(ALICE, inFlight))).toBe("sent before the rotation");
  });
});

describe("payloads", () => {
  it("pads to 160-byte blocks and reads back; refuses what is not ours", () => {
    const encoded = encodePayload({ v: 1, t: "text", text: "hé" });
    expect(encoded.length % 160).toBe(0);
    expect(decodePayload(encoded)).toEqual({ v: 1, t: "text", text: "hé" });
    expect(encodePayload({ v: 1, t: "text", text: "x".repeat(159) }).length).toBe(320);
    expect(decodePayload(encodePayload({ v: 1, t: "resend", client_id: "c1" }))).toEqual({ v: 1, t: "resend", client_id: "c1" });
    expect(() => decodePayload(utf8.encode('{"v":1,"t":"text","text":"x"}'))).toThrow(/padding/);
    expect(() => decodePayload(encodePayload({ v: 2, t: "text", text: "x" } as never))).toThrow(/version/);
  });
});
