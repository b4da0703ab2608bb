// The channel and the device together: what the outbox sends is encrypted per device,
// what arrives is decrypted once (history, sync and live alike), a stale device list is
// re-encrypted, an altered envelope asks the sender to re-send, a replay is refused. The
// server here is test/relay.ts (in memory); the browser tests use the real one.
import { describe, expect, it } from "vitest";
import { fromBase64 } from "./bytes";
import { DirectChannel, type DirectCoreMessage } from "./channel";
import { E2eDevice } from "./device";
import { MemoryBackend } from "./keystore";
import { Relay } from "./test/relay";
import type { DirectMessage } from "./wire";

async function person(relay: Relay, userId: string) {
  const socket = relay.socket(userId);
  const rest = relay.rest(userId);
  const device = await E2eDevice.create({ rest, transport: socket, userId, passphrase: "a passphrase", backend: new MemoryBackend(), iterations: 1000 });
  const channel = new DirectChannel(socket, rest, device);
  const live: DirectCoreMessage[] = [];
  channel.on("message:new", (p: { message: DirectCoreMessage }) => live.push(p.message));
  return { device, channel, live, rest };
}

async function until(what: string, check: () => boolean): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`timed out: ${what}`);
}

const send = (channel: DirectChannel, conversation_id: string, client_id: string, text: string) =>
  channel.request<{ message: DirectCoreMessage }>("message:send", { conversation_id, client_id, kind: "text", text });

// Each test makes two or three devices (keys and 100 one-time prekeys each).
describe("DirectChannel", { timeout: 60000 }, () => {
  it("encrypts what the outbox sends and decrypts what arrives, once, however it arrives", async () => {
    const relay = new Relay();
    const alice = await person(relay, "1");
    const bob = await person(relay, "2");
    const id = relay.conversation("1", "2");
    const { message } = await send(alice.channel, id, "c1", "hello bob");
    expect(message.text).toBe("hello bob");
    expect(message.sender_side).toBe("customer");
    const stored = relay.conversations.get(id)!.messages[0];
    expect(stored.envelopes.map((e) => e.type)).toEqual([3]);
    expect(new TextDecoder().decode(fromBase64(stored.envelopes[0].body)).includes("hello")).toBe(false);

    await until("bob's live message", () => bob.live.length === 1);
    expect(bob.live[0]).toMatchObject({ text: "hello bob", sender_side: "org", kind: "text", position: 1 });
    // The same message again from history and from sync: no second decryption (a replay).
    const page = await bob.channel.get<{ messages: DirectCoreMessage[] }>(`/conversations/${id}/messages?limit=50`);
    expect(page.messages.map((m) => [m.text, m.e2e.state])).toEqual([["hello bob", "ok"]]);
    const synced = await bob.channel.request<{ conversations: { messages: DirectCoreMessage[]; receipts: unknown }[] }>("sync", { conversations: [{ conversation_id: id, after_position: 0 }] });
    expect(synced.conversations[0].messages.map((m) => m.text)).toEqual(["hello bob"]);
    expect(synced.conversations[0].receipts).toHaveProperty("org");

    const reply = await send(bob.channel, id, "c2", "hi alice");
    expect(relay.conversations.get(id)!.messages[1].envelopes.map((e) => e.type)).toEqual([1]);
    await until("alice's live reply", () => alice.live.some((m) => m.text === "hi alice"));
    // Our own message, read back from history: the text kept at send time.
    const mine = await bob.channel.get<{ messages: DirectCoreMessage[] }>(`/conversations/${id}/messages?limit=50`);
    expect(mine.messages.map((m) => m.text)).toEqual(["hello bob", "hi alice"]);
    expect(reply.message.id).toBe(mine.messages[1].id);
  });

  it("re-encrypts for a device linked meanwhile (stale_devices), with the same client id", async () => {
    const relay = new Relay();
    const alice = await person(relay, "1");
    const bob = await person(relay, "2");
    const id = relay.conversation("1", "2");
    await send(alice.channel, id, "c1", "before the link");
    await until("bob got it", () => bob.live.length === 1);
    await send(bob.channel, id, "c2", "bob knows one device of alice's");
    await new Promise((r) => setTimeout(r, 5));
    const alice2 = await person(relay, "1");
    const claims = relay.claims;
    const { message } = await send(bob.channel, id, "c3", "to both of alice's devices");
    expect(message.client_id).toBe("c3");
    // Refused once (stale), then one claim for the new device only, then stored once.
    expect(relay.claims).toBe(claims + 1);
    const stored = relay.conversations.get(id)!.messages;
    expect(stored).toHaveLength(3);
    expect(stored[2].envelopes.map((e) => e.device_id).sort()).toEqual([alice.device.deviceId, alice2.device.deviceId].sort());
    await until("both alice devices", () => alice.live.length === 2 && alice2.live.length === 1);
    expect(alice2.live[0].text).toBe("to both of alice's devices");
    // The linked device cannot read what came before it.
    const page = await alice2.channel.get<{ messages: DirectCoreMessage[] }>(`/conversations/${id}/messages?limit=50`);
    expect(page.messages[0].e2e.state).toBe("before_link");
    expect(page.messages[0].kind).toBe("system");
  });

  it("an altered envelope is shown as such, the sender re-sends it; a replay is refused", async () => {
    const relay = new Relay();
    const alice = await person(relay, "1");
    const bob = await person(relay, "2");
    const id = relay.conversation("1", "2");
    await send(alice.channel, id, "c1", "setup");
    await until("setup", () => bob.live.length === 1);
    await send(bob.channel, id, "c2", "ok");
    await until("ok", () => alice.live.length === 1);

    // The server alters an envelope on its way to Bob (who gets the altered one first).
    relay.hold("2");
    await send(alice.channel, id, "c3", "the original");
    const real = relay.conversations.get(id)!.messages[2];
    const body = fromBase64(real.envelopes[0].body);
    body[body.length - 9] ^= 1;
    const forged: DirectMessage = { ...real, envelopes: [{ ...real.envelopes[0], body: btoa(String.fromCharCode(...body)) }] };
    const altered = await bob.device.read({ ...forged, id: "900001" }, "1");
    expect(altered).toMatchObject({ state: "failed" });
    // Bob's client asked (a control message, never shown) and Alice's re-sent the text.
    relay.release("2");
    await until("the re-sent copy", () => bob.live.some((m) => m.e2e.resendOf === "c3"));
    expect(bob.live.find((m) => m.e2e.resendOf === "c3")?.text).toBe("the original");
    const control = relay.conversations.get(id)!.messages.find((m) => m.sender_id === "2" && m.position > 3)!;
    await until("alice read the control message", () => alice.live.some((m) => m.id === control.id));
    expect(alice.live.find((m) => m.id === control.id)?.e2e.state).toBe("control");
    // The session was not broken: the genuine envelope still opens.
    await until("the genuine one", () => bob.live.some((m) => m.id === real.id));
    expect(bob.live.find((m) => m.id === real.id)?.text).toBe("the original");

    const replayed = await bob.device.read({ ...real, id: "900002", position: 99 }, "1");
    expect(replayed.state).toBe("replay");
    // The session still works after both.
    await send(alice.channel, id, "c4", "still fine");
    await until("still fine", () => bob.live.some((m) => m.text === "still fine"));
  });

  it("asks for a message it cannot decrypt and gets it again", async () => {
    const relay = new Relay();
    const alice = await person(relay, "1");
    const bob = await person(relay, "2");
    const id = relay.conversation("1", "2");
    await send(alice.channel, id, "c1", "one");
    await until("one", () => bob.live.length === 1);
    // Bob loses his session with Alice; her next message cannot be read.
    await bob.device.engine.resetSession({ userId: "1", deviceId: alice.device.deviceId });
    await send(alice.channel, id, "c2", "lost then found");
    await until("the failure", () => bob.live.some((m) => m.e2e.state === "failed"));
    expect(bob.live.find((m) => m.e2e.state === "failed")?.text).toBe("Could not decrypt this message — asked the sender to re-send.");
    await until("the re-sent copy", () => bob.live.some((m) => m.text === "lost then found"));
    expect(bob.live.find((m) => m.text === "lost then found")?.e2e.resendOf).toBe("c2");
  });
});
