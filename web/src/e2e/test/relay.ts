// An in-memory stand-in for the server's key directory and envelope relay, for the unit
// tests of the channel (the browser tests run against the real server): it keeps public
// keys, pops one-time prekeys, checks device lists like `direct:send` does and relays
// envelopes with positions. It never looks inside a ciphertext.
import { ProtocolError } from "../../core/protocol";
import { Emitter } from "../../core/transport";
import type { DirectConversation, DirectMessage, WireEnvelope } from "../wire";

interface Device {
  registration_id: number;
  identity_key: string;
  signed_prekey: { key_id: number; public_key: string; signature: string };
  prekeys: { key_id: number; public_key: string }[];
  created_at: string;
}

export class Relay {
  devices = new Map<string, Map<number, Device>>();
  conversations = new Map<string, { members: string[]; messages: DirectMessage[]; status: "request" | "accepted" }>();
  sockets = new Map<string, Set<Emitter>>();
  claims = 0;
  /** Users whose live events wait (the test releases them), as if the network were slow. */
  holding = new Map<string, (() => void)[]>();
  private nextId = 1000;

  conversation(a: string, b: string): string {
    const id = String(this.nextId++);
    this.conversations.set(id, { members: [a, b], messages: [], status: "accepted" });
    return id;
  }

  /** One user's REST API. */
  rest(userId: string) {
    const relay = this;
    const route = async (method: string, path: string, body: any): Promise<any> => {
      const own = relay.devices.get(userId) ?? new Map<number, Device>();
      relay.devices.set(userId, own);
      let m: RegExpExecArray | null;
      if (method === "PUT" && (m = /^\/direct\/devices\/(\d+)$/.exec(path))) {
        const id = Number(m[1]);
        own.set(id, { registration_id: body.registration_id, identity_key: body.identity_key, signed_prekey: body.signed_prekey, prekeys: [...(body.one_time_prekeys ?? [])], created_at: new Date().toISOString() });
        return { device_id: id, created_at: own.get(id)!.created_at };
      }
      if (method === "GET" && path === "/direct/devices") {
        return { devices: [...own].map(([device_id, d]) => ({ device_id, registration_id: d.registration_id, identity_key: d.identity_key, one_time_prekeys: d.prekeys.length, created_at: d.created_at })) };
      }
      if (method === "GET" && (m = /^\/direct\/devices\/(\d+)\/one-time-prekeys\/count$/.exec(path))) return { count: own.get(Number(m[1]))!.prekeys.length };
      if (method === "POST" && (m = /^\/direct\/devices\/(\d+)\/one-time-prekeys$/.exec(path))) {
        const d = own.get(Number(m[1]))!;
        d.prekeys.push(...body.prekeys);
        return { count: d.prekeys.length };
      }
      if (method === "POST" && (m = /^\/direct\/users\/([^/]+)\/bundle$/.exec(path))) {
        const theirs = relay.devices.get(decodeURIComponent(m[1]));
        if (!theirs?.size) throw Object.assign(new Error("not found"), { code: "not_found" });
        relay.claims += 1;
        const wanted: number[] | undefined = body?.device_ids;
        return {
          devices: [...theirs]
            .filter(([id]) => !wanted || wanted.includes(id))
            .map(([device_id, d]) => ({ device_id, registration_id: d.registration_id, identity_key: d.identity_key, signed_prekey: d.signed_prekey, one_time_prekey: d.prekeys.shift() ?? null })),
        };
      }
      if (method === "GET" && (m = /^\/direct\/conversations\/(\d+)$/.exec(path))) return { conversation: relay.view(m[1]) };
      if (method === "GET" && (m = /^\/direct\/conversations\/(\d+)\/messages\?(.*)$/.exec(path))) {
        const params = new URLSearchParams(m[2]);
        const messages = relay.conversations.get(m[1])!.messages.map((x) => relay.forDevice(x, userId, Number(params.get("device_id"))));
        return { messages, has_more: false, next_before: null };
      }
      throw new Error(`relay: no route ${method} ${path}`);
    };
    return {
      get: (path: string) => route("GET", path, undefined),
      post: (path: string, body?: unknown) => route("POST", path, body),
      put: (path: string, body: unknown) => route("PUT", path, body),
      request: (method: string, path: string, body?: unknown) => route(method, path, body),
    };
  }

  /** One user's socket (transport), with the `socket.on/off` the channel listens on. */
  socket(userId: string) {
    const relay = this;
    const events = new Emitter();
    const set = relay.sockets.get(userId) ?? new Set<Emitter>();
    relay.sockets.set(userId, set);
    set.add(events);
    return {
      isConnected: true,
      socket: { on: (name: string, fn: (p: any) => void) => events.on(name, fn), off: () => {} },
      on: (name: string, fn: (p: any) => void) => events.on(name, fn),
      request: async <T,>(event: string, payload: any): Promise<T> => relay.handle(userId, events, event, payload) as T,
    };
  }

  hold(userId: string): void {
    this.holding.set(userId, []);
  }

  release(userId: string): void {
    const waiting = this.holding.get(userId) ?? [];
    this.holding.delete(userId);
    waiting.forEach((deliver) => deliver());
  }

  view(id: string): DirectConversation {
    const c = this.conversations.get(id)!;
    const now = new Date().toISOString();
    return {
      id,
      kind: "direct",
      status: c.status,
      requested_by: c.members[0],
      members: c.members.map((user_id) => ({ user_id, handle: `h${user_id}`, display_name: `User ${user_id}`, delivered_position: 0, read_position: 0 })),
      last_position: c.messages.length,
      unread: 0,
      is_blocked: false,
      created_at: now,
      updated_at: now,
      last_message_at: null,
    };
  }

  forDevice(m: DirectMessage, userId: string, deviceId: number): DirectMessage {
    return { ...m, envelopes: m.envelopes.filter((e) => e.user_id === userId && e.device_id === deviceId) };
  }

  private handle(userId: string, from: Emitter, event: string, p: any): unknown {
    if (event === "direct:send") {
      const c = this.conversations.get(p.conversation_id)!;
      const existing = c.messages.find((m) => m.client_id === p.client_id && m.sender_id === userId);
      if (existing) return { ok: true, message: existing };
      const expected: string[] = [];
      const lists: Record<string, { device_id: number; registration_id: number }[]> = {};
      for (const member of c.members) {
        lists[member] = [...(this.devices.get(member) ?? new Map())].map(([device_id, d]) => ({ device_id, registration_id: d.registration_id }));
        for (const d of lists[member]) if (!(member === userId && d.device_id === p.sender_device_id)) expected.push(`${member}.${d.device_id}.${d.registration_id}`);
      }
      const got = (p.envelopes as WireEnvelope[]).map((e) => `${e.user_id}.${e.device_id}.${e.registration_id}`);
      if (expected.sort().join() !== got.sort().join()) throw new ProtocolError("stale_devices", "stale", { code: "stale_devices", devices: lists });
      const message: DirectMessage = {
        id: String(this.nextId++),
        conversation_id: p.conversation_id,
        position: c.messages.length + 1,
        client_id: p.client_id,
        sender_id: userId,
        sender_device_id: p.sender_device_id,
        kind: "envelope",
        envelopes: p.envelopes,
        created_at: new Date().toISOString(),
      };
      c.messages.push(message);
      for (const member of c.members) {
        for (const socket of this.sockets.get(member) ?? []) {
          if (socket === from) continue;
          const deliver = () => socket.fire("direct:message", { conversation_id: message.conversation_id, message, position: message.position, previous_position: message.position - 1 });
          const waiting = this.holding.get(member);
          if (waiting) waiting.push(deliver);
          else deliver();
        }
      }
      return { ok: true, message };
    }
    if (event === "direct:sync") {
      return {
        ok: true,
        conversations: p.conversations.map((r: { conversation_id: string; after_position?: number }) => {
          const c = this.conversations.get(r.conversation_id)!;
          const messages = c.messages.filter((m) => m.position > (r.after_position ?? 0)).map((m) => this.forDevice(m, userId, p.device_id));
          return { conversation_id: r.conversation_id, status: c.status, messages, has_more: false, last_position: c.messages.length, unread: 0, members: this.view(r.conversation_id).members };
        }),
      };
    }
    return { ok: true };
  }
}
