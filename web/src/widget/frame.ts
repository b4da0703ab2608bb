// The widget's chat, inside the frame drawn by /widget.js. No framework: plain DOM,
// every piece of user text set with textContent. The protocol is the session core's
// (core/session.ts), the same as the app's: ordered outbox, receipts, sync.
import "./widget.css";
import { SocketTransport } from "../core/connection";
import type { ConversationStore } from "../core/conversation";
import { ChatSession } from "../core/session";
import { tickFor, TICK_LABEL } from "../core/ticks";
import { Api, ApiError, browserStore, describeError, newClientId } from "../lib/api";
import type { Conversation, Message, Org, Prechat, Session } from "../lib/types";

const params = new URLSearchParams(location.search);
const orgSlug = (params.get("org") ?? "").toLowerCase();
const presetGroup = params.get("group") ?? "";
const KEY = `raasel.widget.${orgSlug}`;
const TICK_TEXT = { clock: "🕓", failed: "!", sent: "✓", delivered: "✓✓", read: "✓✓" } as const;

// The embedding page's origin, as the loader tells it (the server's frame-ancestors
// policy decides which pages may embed the frame at all).
const hostOrigin = params.get("host") ?? "*";
const storage = frameStorage();
let api = widgetApi();
let conversationId: string | null = null;
let org: Org | null = null;
let transport: SocketTransport | null = null;
let session: ChatSession | null = null;
let store: ConversationStore | null = null;
let isOpen = false;
let lastTypingStart = 0;

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
// Unread replies while the chat is minimized (positions above the last one seen open).
const badge = h("span", { cls: "w-badge", hidden: true });
bubble.append(badge);
let seenPosition = 0;
// The optional pre-chat form, set by the organization (settings.prechat: name, email,
// team, each off, optional or required); the loader's older data-prechat="name" still
// asks the name. The server holds the visitor to the same rules.
let prechat: Prechat = { name: params.get("prechat") === "name" ? "required" : "off", email: "off", team: "optional" };
const nameInput = h("input", { cls: "w-name", type: "text", maxLength: 120, placeholder: "Your name", ariaLabel: "Your name", autocomplete: "name" });
const emailInput = h("input", { cls: "w-name", type: "email", maxLength: 254, placeholder: "Your email", ariaLabel: "Your email", autocomplete: "email" });
// CSAT after resolve: 1 to 5, a comment, once.
const stars = h("div", { cls: "w-stars", role: "radiogroup", ariaLabel: "Rating" });
let rating = 0;
for (let n = 1; n <= 5; n++) {
  const star = h("button", { cls: "w-star", type: "button", ariaLabel: `${n} of 5`, title: `${n} of 5` }, "★");
  star.setAttribute("role", "radio");
  star.addEventListener("click", () => {
    rating = n;
    for (const [i, el] of [...stars.children].entries()) {
      el.classList.toggle("on", i < n);
      el.setAttribute("aria-checked", String(i + 1 === n));
    }
    rateButton.disabled = false;
  });
  stars.append(star);
}
const rateComment = h("textarea", { cls: "w-input", rows: 2, maxLength: 1000, placeholder: "Anything to add? (optional)", ariaLabel: "Comment" });
const rateButton = h("button", { cls: "w-send", type: "submit", disabled: true }, "Send rating");
const rateForm = h("form", { cls: "w-rate", hidden: true, ariaLabel: "Rate this conversation" }, h("p", { cls: "w-rate-q" }, "How did we do?"), stars, rateComment, rateButton);
rateForm.addEventListener("submit", (e) => {
  e.preventDefault();
  void rate();
});
// After resolve: the conversation by mail (to the address the visitor left).
const transcriptButton = h("button", { cls: "w-link", type: "button", hidden: true }, "Mail me the transcript");
transcriptButton.addEventListener("click", () => {
  if (!conversationId) return;
  api
    .post(`/conversations/${conversationId}/transcript`)
    .then(() => {
      transcriptButton.textContent = "Transcript sent by mail";
      transcriptButton.disabled = true;
    })
    .catch(showError);
});
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
// Attachments (once the conversation exists): the same upload as the app's; the server
// checks type and size on the content and answers a sentence when it refuses.
const fileInput = h("input", { type: "file", cls: "w-file", accept: "image/png,image/jpeg,image/gif,image/webp,application/pdf,text/plain", ariaLabel: "Attach a file" });
const attachLabel = h("label", { cls: "w-attach", title: "Attach a file (image, PDF or text)" }, "📎", fileInput);
fileInput.addEventListener("change", () => {
  const file = fileInput.files?.[0];
  fileInput.value = "";
  if (file) void attach(file);
});
const form = h("form", { cls: "w-form" }, attachLabel, input, send);
// Nobody can answer now (closed, or nobody online): the organization's offline message,
// when to expect a reply, and (once) a field for the visitor's email.
let offline: Conversation["offline"] | null = null;
let leftEmail = false;
const offlineText = h("p", { cls: "w-offline-text" });
const offlineWhen = h("p", { cls: "w-offline-when" });
const leaveEmailInput = h("input", { cls: "w-name", type: "email", maxLength: 254, placeholder: "Your email, for the answer", ariaLabel: "Your email for the answer" });
const emailForm = h("form", { cls: "w-email" }, leaveEmailInput, h("button", { cls: "w-send", type: "submit" }, "Send me the answer"));
const offlineBox = h("div", { cls: "w-offline", role: "status", hidden: true }, offlineText, offlineWhen, emailForm);
emailForm.addEventListener("submit", (e) => {
  e.preventDefault();
  if (!conversationId) return;
  api
    .post(`/conversations/${conversationId}/contact`, { email: leaveEmailInput.value })
    .then(() => {
      leftEmail = true;
      render();
    })
    .catch(showError);
});
const panel = h(
  "section",
  { cls: "w-panel", ariaLabel: "Chat" },
  h("header", { cls: "w-header" }, h("div", {}, title, subtitle), closeButton),
  banner,
  offlineBox,
  list,
  typing,
  error,
  transcriptButton,
  rateForm,
  nameInput,
  emailInput,
  groupSelect,
  form,
);
root.append(bubble, panel);

function setOpen(open: boolean) {
  isOpen = open;
  storage.set(`${KEY}.open`, open ? "1" : "0");
  panel.hidden = !open;
  bubble.hidden = open;
  tellHost(open);
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
  if (!session || !conversationId || !input.value) return;
  if (Date.now() - lastTypingStart > 3000) {
    lastTypingStart = Date.now();
    session.typing(conversationId, true).catch(() => {});
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
  const view = store?.snapshot();
  const conversation = view?.conversation ?? null;
  const messages = view?.messages ?? [];
  const theme = org?.settings.theme_color;
  if (theme) document.documentElement.style.setProperty("--w-accent", theme);
  title.textContent = org?.name ?? "Chat";
  const status = conversation?.status;
  // The team that has it, routed or chosen (null: no team could take it yet).
  const groupId = conversation?.group_id ?? null;
  const team = conversation?.group?.name ?? org?.groups?.find((g) => g.id === groupId)?.name ?? null;
  const shownOffline = status === "queued" ? (conversation?.offline ?? offline) : null;
  offlineBox.hidden = !shownOffline;
  if (shownOffline) {
    offlineText.textContent = shownOffline.message;
    const when = shownOffline.expected_reply_at ? new Date(shownOffline.expected_reply_at).toLocaleString() : null;
    offlineWhen.textContent = leftEmail ? "Thanks: the answer will come to your email too." : when ? `Expected reply: when the team opens, ${when}.` : "Your message is kept; the team replies as soon as someone is available.";
    emailForm.hidden = !shownOffline.can_leave_email || leftEmail;
  }
  subtitle.dataset.team = team ?? "";
  subtitle.textContent = (team && status !== "closed" ? `${team} · ` : "") + (
    status === "queued"
      ? conversation?.queue_position
        ? `Waiting for an agent · number ${conversation.queue_position} in the queue`
        : "Waiting for an agent"
      : status === "resolved"
        ? "Resolved · write again to reopen"
        : status === "closed"
          ? "This conversation is closed"
          : conversation?.assignee
            ? `${conversation.assignee.name} is here to help`
            : "");
  const beforeFirst = !conversationId && !api.token;
  nameInput.hidden = prechat.name === "off" || !beforeFirst;
  emailInput.hidden = prechat.email === "off" || !beforeFirst;
  nameInput.placeholder = prechat.name === "required" ? "Your name" : "Your name (optional)";
  emailInput.placeholder = prechat.email === "required" ? "Your email" : "Your email (optional)";
  const rated = conversationId ? storage.get(`${KEY}.rated.${conversationId}`) : null;
  rateForm.hidden = !(status === "resolved" || status === "closed") || Boolean(rated);
  transcriptButton.hidden = status !== "resolved" || !leftEmail;
  if (isOpen) seenPosition = Math.max(seenPosition, ...messages.map((m) => m.position ?? 0));
  const unseen = isOpen ? 0 : messages.filter((m) => m.sender_side === "org" && m.kind === "text" && (m.position ?? 0) > seenPosition).length;
  badge.hidden = unseen === 0;
  badge.textContent = String(unseen);
  bubble.ariaLabel = org ? `Chat with ${org.name}${unseen ? ` (${unseen} unread)` : ""}` : "Open chat";
  if (isOpen) storage.set(`${KEY}.seen`, String(seenPosition));
  groupSelect.hidden = Boolean(conversationId) || prechat.team === "off" || groupSelect.options.length < 2;
  attachLabel.hidden = !conversationId || conversation?.status === "closed";
  list.replaceChildren(
    // The welcome text greets once: before the first message of a conversation.
    ...(messages.length === 0 && !conversationId && org?.settings.welcome_text ? [h("div", { cls: "w-msg w-in w-welcome" }, org.settings.welcome_text)] : []),
    ...messages
      .filter((m) => m.kind !== "note")
      .map((m) => {
        if (m.kind === "system") return h("div", { cls: "w-system" }, m.text ?? "");
        const mine = m.sender_side === "customer";
        const at = new Date(m.created_at).toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" });
        // Who answered, as the message says: kept after a transfer (issue 12, item 5).
        const meta = h("span", { cls: "w-meta" }, !mine && m.sender_name ? `${m.sender_name} · ${at}` : at);
        if (mine) {
          const tick = tickFor(m, "customer", view?.receipts);
          meta.append(h("span", { cls: `w-tick w-tick-${tick}`, title: TICK_LABEL[tick], ariaLabel: TICK_LABEL[tick] }, TICK_TEXT[tick]));
          meta.lastElementChild!.setAttribute("data-tick", tick);
        }
        const body = m.attachment_id ? attachmentLink(m.attachment_id, m.text ?? "attachment") : h("span", { cls: "w-text" }, m.text ?? "");
        return h("div", { cls: `w-msg ${mine ? "w-out" : "w-in"}` }, body, meta);
      }),
  );
  list.scrollTop = list.scrollHeight;
  const typist = view?.typists[0];
  typing.textContent = typist ? `${typist.name ?? org?.name ?? "Someone"} is typing…` : "";
  send.disabled = conversation?.status === "closed";
  input.disabled = conversation?.status === "closed";
  const failure = view?.error;
  if (failure instanceof ApiError && (failure.status === 404 || failure.status === 401)) forgetConversation();
  else if (failure) showError(failure);
}

function showError(e: unknown) {
  error.textContent = e ? describeError(e) : "";
}

// ---- protocol ----
function markRead() {
  store?.setViewing(isOpen && document.visibilityState === "visible");
}

function forgetConversation() {
  closeConversation();
  conversationId = null;
  storage.remove(`${KEY}.conversation`);
  render();
}

function closeConversation() {
  if (store && session) session.release(store.id);
  store = null;
}

/** The visitor's socket and session core, and the conversation opened in it. */
function connect() {
  if (!session && api.token) {
    transport = new SocketTransport(api);
    session = new ChatSession({ transport, rest: api, side: "customer", userId: api.current?.user.id ?? null, store: storage, outboxKey: `${KEY}.outbox` });
    session.on("status", ({ connected }: { connected: boolean }) => (banner.hidden = connected));
    session.on("session-ended", () => {
      closeConversation();
      session?.dispose();
      transport?.close();
      session = transport = null;
      forgetConversation();
    });
  }
  if (session && conversationId && store?.id !== conversationId) {
    closeConversation();
    store = session.open(conversationId);
    store.subscribe(render);
    markRead();
  }
}

async function submit(text: string) {
  showError(null);
  try {
    if (!conversationId && prechat.team === "required" && !groupSelect.value && groupSelect.options.length > 1) {
      groupSelect.focus();
      throw new Error("Please choose a team first.");
    }
    if (!api.token) {
      const name = prechat.name === "off" ? "" : nameInput.value.trim();
      const email = prechat.email === "off" ? "" : emailInput.value.trim();
      if (prechat.name === "required" && !name) {
        nameInput.focus();
        throw new Error("Please tell us your name first.");
      }
      if ((prechat.email === "required" && !email) || (email && !emailInput.checkValidity())) {
        emailInput.focus();
        throw new Error(email ? "Please check your email address." : "Please tell us your email address first.");
      }
      api.setSession(await api.post<Session>("/auth/visitor", { organization: orgSlug, display_name: name || undefined, email: email || undefined, keep: true }));
    }
    if (!conversationId) {
      const answer = await api.post<{ conversation: Conversation; message: Message }>("/conversations", {
        org_id: org!.id,
        group_id: groupSelect.value || undefined,
        text,
        client_id: newClientId(),
      });
      conversationId = answer.conversation.id;
      offline = answer.conversation.offline ?? null;
      storage.set(`${KEY}.conversation`, conversationId);
      connect();
      return;
    }
    connect();
    if (lastTypingStart) session?.typing(conversationId, false).catch(() => {});
    lastTypingStart = 0;
    session?.send(conversationId, text);
  } catch (e) {
    input.value = input.value || text;
    showError(e);
  }
}

async function start() {
  await storage.restore();
  api = widgetApi();
  if (!api.token) {
    // After a reload where the frame's storage is denied: the session from the widget's
    // own cookie, and the visitor's newest conversation.
    const resumed = await resumeSession();
    if (resumed) {
      api.setSession(resumed);
      if (!storage.get(`${KEY}.conversation`)) {
        const mine = await api.get<Conversation[]>("/conversations?limit=1").catch(() => []);
        if (mine[0] && mine[0].status !== "closed") storage.set(`${KEY}.conversation`, mine[0].id);
      }
    }
  }
  conversationId = storage.get(`${KEY}.conversation`);
  // Open or not: the frame's own note, else the host's (the one thing it keeps for us).
  isOpen = (storage.get(`${KEY}.open`) ?? params.get("open")) === "1";
  panel.hidden = !isOpen;
  bubble.hidden = isOpen;
  tellHost(isOpen);
  seenPosition = Number(storage.get(`${KEY}.seen`) ?? 0) || 0;
  try {
    org = await api.get<Org>(`/directory/orgs/${encodeURIComponent(orgSlug)}`);
  } catch (e) {
    // Nothing for the site's visitors to see; the site's developer reads why.
    console.error(`Raasel widget: no organization "${orgSlug}" (check data-org on the <script> tag): ${describeError(e)}`);
    root.hidden = true;
    tellHost(false, true);
    return;
  }
  const fromOrg = org.settings.prechat;
  if (fromOrg) prechat = { ...fromOrg, name: fromOrg.name === "off" ? prechat.name : fromOrg.name };
  groupSelect.append(h("option", { value: "" }, prechat.team === "required" ? "Choose a team…" : `Anyone at ${org.name}`));
  for (const g of org.groups ?? []) {
    if (!g.is_default) groupSelect.append(h("option", { value: g.id, selected: g.slug === presetGroup }, g.name));
  }
  bubble.ariaLabel = `Chat with ${org.name}`;
  if (api.token && conversationId) connect();
  render();
}

document.addEventListener("visibilitychange", markRead);

/**
 * The frame's state (session, conversation id, open or not) stays in the frame's own
 * storage, on Raasel's origin: the host page never sees the visitor's tokens (browsers
 * partition a third-party frame's storage per site; where it is denied, the session comes
 * back from the widget's partitioned cookie after a reload, see resumeSession). The host
 * only hears whether the chat is open, to size the frame.
 */
function frameStorage() {
  const memory = new Map<string, string>(); // this page's copy, where storage is denied
  return {
    get: (key: string) => memory.get(key) ?? browserStore.get(key),
    set: (key: string, value: string) => {
      memory.set(key, value);
      browserStore.set(key, value);
    },
    remove: (key: string) => {
      memory.delete(key);
      browserStore.remove(key);
    },
    restore: async () => undefined,
  };
}

/** The session lives in memory (and the frame's storage when it has one); its refresh
 * token in the widget's HttpOnly cookie, which only Raasel's origin can send. */
function widgetApi(): Api {
  return new Api(`${KEY}.session`, "", storage, resumeSession);
}

async function resumeSession(): Promise<Session | null> {
  try {
    const response = await fetch("/api/v1/auth/widget/resume", { method: "POST", credentials: "same-origin" });
    return response.ok ? ((await response.json()) as Session) : null;
  } catch {
    return null;
  }
}

function tellHost(open: boolean, gone = false) {
  if (parent === window) return;
  try {
    parent.postMessage({ type: "raasel:widget", open, gone }, hostOrigin);
  } catch {
    // Not an origin (a file:// page says "null"): nothing to tell.
  }
}

async function attach(file: File) {
  if (!conversationId || !session) return;
  showError(null);
  try {
    const stored = await api.upload<{ id: string }>(`/conversations/${conversationId}/attachments`, file);
    session.send(conversationId, file.name, "text", stored.id);
  } catch (e) {
    showError(e);
  }
}

/** A file of the conversation: fetched with the visitor's token, opened from a blob URL. */
function attachmentLink(id: string, name: string) {
  const link = h("button", { cls: "w-file-link", type: "button" }, `📄 ${name}`);
  link.addEventListener("click", () => {
    api.blob(`/attachments/${id}`).then(
      (blob) => window.open(URL.createObjectURL(blob), "_blank", "noopener"),
      (e) => showError(e),
    );
  });
  return link;
}

async function rate() {
  if (!conversationId || !rating) return;
  showError(null);
  try {
    await api.post(`/conversations/${conversationId}/rating`, { rating, comment: rateComment.value.trim() });
  } catch (e) {
    if (!(e instanceof ApiError && e.code === "already_rated")) return showError(e);
  }
  storage.set(`${KEY}.rated.${conversationId}`, String(rating));
  rateForm.replaceChildren(h("p", { cls: "w-rate-q" }, "Thank you for your rating!"));
  rateForm.hidden = false;
  window.setTimeout(render, 4000);
}

void start();
