// The widget's chat, inside the frame drawn by /widget.js. No framework: plain DOM,
// every piece of user text set with textContent. It reuses the app's protocol helpers.
import "./widget.css";
import { Api, ApiError, browserStore, describeError, newClientId } from "../lib/api";
import { compareIds } from "../lib/ids";
import { Live } from "../lib/live";
import { lastStoredId, mergeMessages } from "../lib/merge";
import { mergeReceipts, tickFor, TICK_LABEL } from "../lib/ticks";
import type { Conversation, Message, Org, Receipts, Session, ShownMessage, TypingEvent } from "../lib/types";

const params = new URLSearchParams(location.search);
const orgSlug = (params.get("org") ?? "").toLowerCase();
const presetGroup = params.get("group") ?? "";
const KEY = `raasel.widget.${orgSlug}`;
const TICK_TEXT = { clock: "🕓", failed: "!", sent: "✓", delivered: "✓✓", read: "✓✓" } as const;

const storage = hostBackedStorage();
let api = new Api(`${KEY}.session`, "", storage);
let conversationId: string | null = null;
let org: Org | null = null;
let live: Live | null = null;
let messages: ShownMessage[] = [];
let receipts: Receipts = {};
let conversation: Conversation | null = null;
let isOpen = false;
let typingName: string | null = null;
let typingTimer = 0;
let lastTypingStart = 0;
let readUpTo = "0";

// ---- DOM ----
const root = document.getElementById("widget")!;
const h = <K extends keyof HTMLElementTagNameMap>(tag: K, props: Partial<HTMLElementTagNameMap[K]> & { cls?: string } = {}, ...children: (Node | string)[]) => {
  const el = document.createElement(tag);
  const { cls, ...rest } = props;
  if (cls) el.className = cls;
  Object.assign(el, rest);
  el.append(...children);
  return el;
};

const bubble = h("button", { cls: "w-bubble", type: "button", ariaLabel: "Open chat", title: "Chat with us" });
bubble.innerHTML = // a constant icon, never user text
  '<svg viewBox="0 0 24 24" width="30" height="30" aria-hidden="true"><path fill="currentColor" d="M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z"/></svg>';
const title = h("h1", { cls: "w-title" }, "Chat");
const subtitle = h("p", { cls: "w-subtitle" });
const closeButton = h("button", { cls: "w-close", type: "button", ariaLabel: "Minimize chat" }, "×");
const banner = h("div", { cls: "w-banner", role: "status", hidden: true }, "Connection lost. Reconnecting…");
const list = h("div", { cls: "w-messages", role: "log", ariaLive: "polite", ariaLabel: "Messages", tabIndex: 0 });
const typing = h("div", { cls: "w-typing", ariaLive: "polite" });
const groupSelect = h("select", { cls: "w-group", ariaLabel: "Team" });
const input = h("textarea", { cls: "w-input", rows: 2, maxLength: 4000, placeholder: "Write a message…", ariaLabel: "Message" });
const send = h("button", { cls: "w-send", type: "submit" }, "Send");
const error = h("div", { cls: "w-error", role: "alert" });
const form = h("form", { cls: "w-form" }, input, send);
const panel = h(
  "section",
  { cls: "w-panel", ariaLabel: "Chat" },
  h("header", { cls: "w-header" }, h("div", {}, title, subtitle), closeButton),
  banner,
  list,
  typing,
  error,
  groupSelect,
  form,
);
root.append(bubble, panel);

function setOpen(open: boolean) {
  isOpen = open;
  storage.set(`${KEY}.open`, open ? "1" : "0");
  panel.hidden = !open;
  bubble.hidden = open;
  parent.postMessage({ type: "raasel:widget", open }, "*");
  if (open) {
    input.focus();
    markRead();
  } else bubble.focus();
}

bubble.addEventListener("click", () => setOpen(true));
closeButton.addEventListener("click", () => setOpen(false));
panel.addEventListener("keydown", (e) => e.key === "Escape" && setOpen(false));
input.addEventListener("keydown", (e) => {
  if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
    e.preventDefault();
    form.requestSubmit();
  }
});
input.addEventListener("input", () => {
  if (!live || !conversationId || !input.value) return;
  if (Date.now() - lastTypingStart > 3000) {
    lastTypingStart = Date.now();
    live.emit("typing:start", { conversation_id: conversationId }).catch(() => {});
  }
});
form.addEventListener("submit", (e) => {
  e.preventDefault();
  const text = input.value.trim();
  if (!text) return;
  input.value = "";
  void submit(text);
});

// ---- rendering ----
function render() {
  const theme = org?.settings.theme_color;
  if (theme) document.documentElement.style.setProperty("--w-accent", theme);
  title.textContent = org?.name ?? "Chat";
  subtitle.textContent =
    conversation?.status === "queued"
      ? conversation.queue_position
        ? `Waiting for an agent · number ${conversation.queue_position} in the queue`
        : "Waiting for an agent"
      : conversation?.assignee
        ? `${conversation.assignee.name} is here to help`
        : conversation?.status === "resolved"
          ? "Resolved · write again to reopen"
          : (org?.settings.welcome_text ?? "");
  groupSelect.hidden = Boolean(conversationId) || groupSelect.options.length < 2;
  list.replaceChildren(
    ...(messages.length === 0 && org?.settings.welcome_text ? [h("div", { cls: "w-msg w-in" }, org.settings.welcome_text)] : []),
    ...messages
      .filter((m) => m.kind !== "note")
      .map((m) => {
        if (m.kind === "system") return h("div", { cls: "w-system" }, m.text ?? "");
        const mine = m.sender_side === "customer";
        const meta = h("span", { cls: "w-meta" }, new Date(m.created_at).toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" }));
        if (mine) {
          const tick = tickFor(m, "customer", receipts);
          meta.append(h("span", { cls: `w-tick w-tick-${tick}`, title: TICK_LABEL[tick], ariaLabel: TICK_LABEL[tick] }, TICK_TEXT[tick]));
          meta.lastElementChild!.setAttribute("data-tick", tick);
        }
        return h("div", { cls: `w-msg ${mine ? "w-out" : "w-in"}` }, h("span", { cls: "w-text" }, m.text ?? ""), meta);
      }),
  );
  list.scrollTop = list.scrollHeight;
  typing.textContent = typingName ? `${typingName} is typing…` : "";
  send.disabled = conversation?.status === "closed";
  input.disabled = conversation?.status === "closed";
}

function showError(e: unknown) {
  error.textContent = e ? describeError(e) : "";
}

// ---- protocol ----
function merge(incoming: ShownMessage[]) {
  messages = mergeMessages(messages, incoming);
  render();
}

function markRead() {
  if (!live || !conversationId || !isOpen || document.visibilityState !== "visible") return;
  const newest = lastStoredId(messages.filter((m) => m.sender_side === "org"));
  if (newest === "0" || compareIds(newest, readUpTo) <= 0) return;
  readUpTo = newest;
  live.emit("receipt:read", { conversation_id: conversationId, up_to: newest }).catch(() => (readUpTo = "0"));
}

async function loadConversation() {
  if (!conversationId) return;
  try {
    const [view, page] = await Promise.all([
      api.get<Conversation>(`/conversations/${conversationId}`),
      api.get<{ messages: Message[] }>(`/conversations/${conversationId}/messages?limit=50`),
    ]);
    conversation = view;
    receipts = mergeReceipts(receipts, view.receipts ?? {});
    merge(page.messages);
    markRead();
  } catch (e) {
    if (e instanceof ApiError && (e.status === 404 || e.status === 401)) forgetConversation();
    else showError(e);
  }
}

function forgetConversation() {
  conversationId = null;
  storage.remove(`${KEY}.conversation`);
  messages = [];
  conversation = null;
  render();
}

async function resync() {
  if (!live || !conversationId) return;
  try {
    const answer = await live.emit<{ conversations: { messages?: Message[]; receipts?: Receipts; has_more?: boolean }[] }>("sync", {
      conversations: [{ conversation_id: conversationId, after: lastStoredId(messages) }],
    });
    const entry = answer.conversations[0];
    receipts = mergeReceipts(receipts, entry?.receipts ?? {});
    merge(entry?.messages ?? []);
    messages.filter((m) => m.pending && !m.failed).forEach((m) => void sendMessage(m));
    await loadConversation();
  } catch {
    // The next reconnect tries again.
  }
}

function connect() {
  if (live || !api.token) return;
  live = new Live(api);
  live.on("status", ({ connected, isReconnect }: { connected: boolean; isReconnect: boolean }) => {
    banner.hidden = connected;
    if (isReconnect) void resync();
  });
  live.on("message:new", ({ message }: { message: Message }) => {
    if (message.conversation_id !== conversationId) return;
    live!.emit("receipt:delivered", { conversation_id: message.conversation_id, up_to: message.id }).catch(() => {});
    typingName = null;
    merge([message]);
    markRead();
  });
  live.on("receipt:update", (p: { conversation_id: string; side: "customer" | "org"; delivered_up_to: string; read_up_to: string }) => {
    if (p.conversation_id !== conversationId) return;
    receipts = mergeReceipts(receipts, { [p.side]: { delivered_up_to: p.delivered_up_to, read_up_to: p.read_up_to } });
    render();
  });
  live.on("typing", (p: TypingEvent) => {
    if (p.conversation_id !== conversationId || p.side !== "org") return;
    typingName = p.is_typing ? (p.name ?? org?.name ?? "Someone") : null;
    window.clearTimeout(typingTimer);
    if (p.is_typing) typingTimer = window.setTimeout(() => ((typingName = null), render()), (p.expires_in || 6) * 1000);
    render();
  });
  live.on("conversation:updated", ({ conversation: c }: { conversation: Conversation }) => {
    if (c.id !== conversationId) return;
    conversation = { ...conversation, ...c };
    render();
  });
  live.on("queue:position", (p: { conversation_id: string; position: number }) => {
    if (p.conversation_id !== conversationId || !conversation) return;
    conversation.queue_position = p.position;
    render();
  });
  live.on("session-ended", () => {
    live?.close();
    live = null;
    forgetConversation();
  });
}

async function sendMessage(message: ShownMessage) {
  try {
    const answer = await live!.emit<{ message: Message }>("message:send", {
      conversation_id: message.conversation_id,
      client_id: message.client_id,
      text: message.text,
    });
    merge([answer.message]);
  } catch (e) {
    if (e instanceof ApiError && e.code === "busy") {
      // Nothing was stored; the same client_id is stored once however many tries it takes.
      window.setTimeout(() => void sendMessage(message), 1000);
      return;
    }
    if (e instanceof ApiError && (e.code === "timeout" || !live?.connected)) return; // resent after reconnect
    merge([{ ...message, failed: true }]);
    showError(e);
  }
}

async function submit(text: string) {
  showError(null);
  try {
    if (!api.token) {
      api.setSession(await api.post<Session>("/auth/visitor", { organization: orgSlug, display_name: "Visitor" }));
    }
    if (!conversationId) {
      const answer = await api.post<{ conversation: Conversation; message: Message }>("/conversations", {
        org_id: org!.id,
        group_id: groupSelect.value || undefined,
        text,
        client_id: newClientId(),
      });
      conversationId = answer.conversation.id;
      storage.set(`${KEY}.conversation`, conversationId);
      conversation = answer.conversation;
      connect();
      merge([answer.message]);
      await loadConversation();
      return;
    }
    connect();
    if (live) live.emit("typing:stop", { conversation_id: conversationId }).catch(() => {});
    lastTypingStart = 0;
    const message: ShownMessage = {
      id: "",
      conversation_id: conversationId,
      client_id: newClientId(),
      sender_id: api.current?.user.id ?? null,
      sender_side: "customer",
      kind: "text",
      text,
      attachment_id: null,
      created_at: new Date().toISOString(),
      pending: true,
    };
    merge([message]);
    await sendMessage(message);
  } catch (e) {
    input.value = input.value || text;
    showError(e);
  }
}

async function start() {
  await storage.restore();
  api = new Api(`${KEY}.session`, "", storage);
  conversationId = storage.get(`${KEY}.conversation`);
  isOpen = storage.get(`${KEY}.open`) === "1";
  panel.hidden = !isOpen;
  bubble.hidden = isOpen;
  parent.postMessage({ type: "raasel:widget", open: isOpen }, "*");
  try {
    org = await api.get<Org>(`/directory/orgs/${encodeURIComponent(orgSlug)}`);
  } catch (e) {
    showError(e);
    return;
  }
  groupSelect.append(h("option", { value: "" }, `Anyone at ${org.name}`));
  for (const g of org.groups ?? []) {
    if (!g.is_default) groupSelect.append(h("option", { value: g.id, selected: g.slug === presetGroup }, g.name));
  }
  bubble.ariaLabel = `Chat with ${org.name}`;
  if (api.token && conversationId) {
    connect();
    await loadConversation();
  }
  render();
}

document.addEventListener("visibilitychange", markRead);

/**
 * The frame's state (session, conversation id, open or not). A third-party frame's own
 * storage is often denied (blocked third-party cookies), so the loader keeps a copy in
 * the host page's localStorage: it hands it over at start ("raasel:restore") and gets
 * every change ("raasel:store"). The copy only grants this visitor's conversation with
 * this organization, which is the host's own.
 */
function hostBackedStorage() {
  const state = new Map<string, string>();
  const save = () => parent !== window && parent.postMessage({ type: "raasel:store", state: Object.fromEntries(state) }, "*");
  return {
    get: (key: string) => state.get(key) ?? browserStore.get(key),
    set: (key: string, value: string) => {
      state.set(key, value);
      browserStore.set(key, value);
      save();
    },
    remove: (key: string) => {
      state.delete(key);
      browserStore.remove(key);
      save();
    },
    restore: () =>
      new Promise<void>((resolve) => {
        if (parent === window) return resolve();
        const timer = window.setTimeout(resolve, 1000);
        window.addEventListener("message", function onRestore(event) {
          const data = event.data as { type?: string; state?: Record<string, unknown> } | null;
          if (event.source !== parent || data?.type !== "raasel:restore") return;
          for (const [key, value] of Object.entries(data.state ?? {})) {
            if (typeof value === "string") state.set(key, value);
          }
          window.removeEventListener("message", onRestore);
          window.clearTimeout(timer);
          resolve();
        });
        parent.postMessage({ type: "raasel:hello" }, "*");
      }),
  };
}

void start();
