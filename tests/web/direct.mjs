// Browser scenarios for end-to-end encrypted direct chats (docs/e2e.md), run by
// tests/web/test_direct_browser.py:
//   RAASEL_BROWSER='{"url", "artifacts", "scenario", "chromium", "outbox"}' node direct.mjs
// Two (or three) Chromium contexts, each its own browser profile, talk through a real
// server. Accounts are made over the REST API (sign-up link from var/outbox); everything
// about direct chats goes through the app's screens. Prints one JSON line; exits 1 on failure.
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { until as waitUntil } from "./until.mjs";

const config = JSON.parse(process.env.RAASEL_BROWSER ?? "{}");
const { url, artifacts, scenario } = config;
const PASSWORD = "a-good-password";
const PASSPHRASE = "correct horse battery";
mkdirSync(artifacts, { recursive: true });
for (const old of readdirSync(artifacts)) if (old.startsWith(`FAILED-${scenario}-`)) rmSync(join(artifacts, old));

const browser = await chromium.launch({
  executablePath: config.chromium ?? "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-quic", "--no-first-run", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"],
});
const pages = [];
const problems = [];
const report = { scenario, checks: [] };
const check = (name) => report.checks.push(name);
const unique = () => `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;

const until = (what, fn, timeout = 15000) => waitUntil(what, fn, timeout);

async function newContext() {
  return browser.newContext({ ignoreHTTPSErrors: true, baseURL: url, viewport: { width: 1280, height: 800 } });
}

async function newPage(label, context) {
  const page = await (context ?? (await newContext())).newPage();
  page.setDefaultTimeout(15000);
  page.on("pageerror", (e) => problems.push(`${label}: page error ${e.message}`));
  page.on("console", (m) => {
    if (m.type() === "error" && /Content Security Policy|Refused to/.test(m.text())) problems.push(`${label}: ${m.text()}`);
  });
  pages.push({ label, page });
  return page;
}

async function shot(page, name) {
  await page.screenshot({ path: join(artifacts, `${name}.png`) });
}

// ---- accounts (REST) ----

async function mailedToken(address) {
  return until(`a mail to ${address}`, () => {
    for (const file of readdirSync(config.outbox).filter((f) => f.endsWith(".eml")).sort().reverse()) {
      const raw = readFileSync(join(config.outbox, file), "utf8");
      if (!raw.toLowerCase().includes(`to: ${address.toLowerCase()}`)) continue;
      const text = raw.replace(/=\r?\n/g, "").replace(/=([0-9A-F]{2})/g, (_, hex) => String.fromCharCode(parseInt(hex, 16)));
      const token = text.match(/#token=([0-9]+\.[A-Za-z0-9_-]+)/);
      if (token) return token[1];
    }
    return null;
  });
}

async function api(context, method, path, body, token) {
  const response = await context.request.fetch(`/api/v1${path}`, {
    method,
    headers: { "Content-Type": "application/json", ...(token ? { Authorization: `Bearer ${token}` } : {}) },
    data: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok()) throw new Error(`${method} ${path}: ${response.status()} ${text}`);
  return text ? JSON.parse(text) : null;
}

/** A verified individual; returns {email, session, name}. */
async function account(context, name) {
  const email = `${unique()}@example.com`;
  await api(context, "POST", "/auth/register", { email, password: PASSWORD, display_name: name });
  const session = await api(context, "POST", "/auth/verify-email", { token: await mailedToken(email), password: PASSWORD });
  return { email, name, session };
}

async function login(context, email) {
  return api(context, "POST", "/auth/login", { email, password: PASSWORD });
}

/** Opens the app signed in as `session`, on the direct chats. */
async function openDirect(page, session) {
  await page.goto("/");
  await page.evaluate((s) => localStorage.setItem("raasel.user", JSON.stringify(s)), session);
  await page.goto("/direct");
}

async function setUpKeys(page) {
  // The set-up form itself: right after "Reset this device's keys" the unlock form, which
  // has a "Passphrase" field too, may still be on the page (CI once filled that one).
  const form = page.locator("form.direct-setup", { has: page.getByRole("heading", { name: "Encrypted chats on this device" }) });
  await form.waitFor();
  await form.getByLabel("Passphrase", { exact: true }).fill(PASSPHRASE);
  await form.getByLabel("Passphrase again").fill(PASSPHRASE);
  await form.getByRole("button", { name: "Set up encrypted chats" }).click();
  await page.getByLabel("Start a chat by handle").waitFor();
}

async function chooseHandle(page, handle) {
  await page.getByLabel("Choose your handle").fill(handle);
  await page.getByRole("button", { name: "Save handle" }).click();
  await page.getByTestId("my-handle").getByText(`@${handle}`).waitFor();
}

async function startChat(page, handle) {
  await page.getByLabel("Start a chat by handle").fill(handle);
  await page.getByRole("button", { name: "Start chat" }).click();
  // The new chat's own header (a chat open before has a composer too).
  await page.locator(".direct-root .conversation-header").getByText(`@${handle} ·`).waitFor();
  await page.locator(".direct-root .composer textarea").waitFor();
}

function bubble(page, text) {
  return page.locator(".direct-root .bubble", { has: page.locator(".text", { hasText: text }) });
}

async function tickOf(page, text) {
  return bubble(page, text).locator("[data-tick]").getAttribute("data-tick");
}

async function send(page, text) {
  const box = page.locator(".direct-root .composer textarea");
  await box.fill(text);
  await box.press("Enter");
}

async function openChatWith(page, name) {
  await page.locator(".direct-root .conversation-item", { hasText: name }).first().click();
  await page.getByRole("heading", { name }).waitFor();
}

/** Every `direct:send` this page emits, as parsed payloads. */
function watchSends(page) {
  const sends = [];
  page.on("websocket", (ws) =>
    ws.on("framesent", ({ payload }) => {
      const m = /^42\d*(\[.*\])$/s.exec(String(payload));
      if (!m) return;
      const [event, body] = JSON.parse(m[1]);
      if (event === "direct:send") sends.push(body);
    }),
  );
  return sends;
}

// ---- scenarios ----

/** Request and accept, the first message a PreKey message, replies, ticks, typing,
 * one side offline then resyncing, safety numbers, a second device linked. */
async function basics() {
  const ca = await newContext();
  const cb = await newContext();
  const alice = await account(ca, "Alice Direct");
  const bob = await account(cb, "Bob Direct");
  const bobHandle = `bob_${unique()}`;
  const a = await newPage("alice", ca);
  const b = await newPage("bob", cb);
  const aliceSends = watchSends(a);
  await openDirect(a, alice.session);
  await openDirect(b, bob.session);
  await setUpKeys(a);
  await setUpKeys(b);
  await chooseHandle(b, bobHandle);
  await chooseHandle(a, `alice_${unique()}`);
  check("both set up keys under a passphrase and chose handles");

  const stored = await a.evaluate(async (userId) => {
    const open = indexedDB.open(`raasel-e2e.${userId}`);
    const db = await new Promise((r) => (open.onsuccess = () => r(open.result)));
    const all = await new Promise((r) => {
      const q = db.transaction("records").objectStore("records").getAll();
      q.onsuccess = () => r(q.result);
    });
    return all.map((v) => Array.from(new Uint8Array(v.buffer ?? v)));
  }, alice.session.user.id);
  if (stored.length < 50) throw new Error(`only ${stored.length} key records in IndexedDB`);
  check(`the keys are in IndexedDB, sealed (${stored.length} records)`);

  await startChat(a, bobHandle);
  await a.getByText("Message request sent").waitFor();
  await send(a, "Hello Bob, this is the first one");
  await until("the first message to be stored", async () => ["sent", "delivered", "read"].includes(await tickOf(a, "first one")));
  if (aliceSends[0]?.envelopes?.[0]?.type !== 3) throw new Error(`the first envelope was not a PreKey message: ${JSON.stringify(aliceSends[0]?.envelopes?.map((e) => e.type))}`);
  if (JSON.stringify(aliceSends[0]).includes("first one")) throw new Error("the plaintext went over the socket");
  check("first message sent as a PreKey message (type 3), no plaintext on the wire");

  await b.locator(".direct-root .conversation-item", { hasText: "Alice Direct" }).click();
  await b.getByTestId("message-request").waitFor();
  await bubble(b, "Hello Bob, this is the first one").waitFor();
  check("Bob got a message request and could read it");
  await b.getByTestId("message-request").getByRole("button", { name: "Accept" }).click();
  await b.getByTestId("message-request").waitFor({ state: "detached" });
  await send(b, "Hi Alice, accepted");
  await bubble(a, "Hi Alice, accepted").waitFor();
  await until("Alice's first message to turn blue", async () => (await tickOf(a, "first one")) === "read");
  await send(a, "Second from Alice");
  await bubble(b, "Second from Alice").waitFor();
  if (aliceSends[aliceSends.length - 1].envelopes[0].type !== 1) throw new Error("a reply in an established session was not a Whisper message");
  await until("Bob's reply to turn blue", async () => (await tickOf(b, "Hi Alice, accepted")) === "read");
  check("accepted; replies both ways (type 1 once the session exists); ticks reached blue both ways");

  await a.locator(".direct-root .composer textarea").pressSequentially("typing", { delay: 30 });
  await b.getByText("Alice Direct is typing…").waitFor();
  await a.locator(".direct-root .composer textarea").fill("");
  check("Bob saw Alice typing");

  // Bob goes offline; Alice writes; Bob comes back and has everything, in order, once.
  await cb.setOffline(true);
  await b.getByTestId("connection-lost").waitFor();
  const missed = ["while you were away 1", "while you were away 2", "while you were away 3"];
  for (const text of missed) {
    await send(a, text);
    await until(`"${text}" stored`, async () => (await tickOf(a, text)) === "sent");
  }
  await cb.setOffline(false);
  await b.getByTestId("connection-lost").waitFor({ state: "detached" });
  for (const text of missed) await bubble(b, text).waitFor();
  const order = (await b.locator(".direct-root .bubble .text").allInnerTexts()).filter((t) => t.startsWith("while you were away"));
  if (JSON.stringify(order) !== JSON.stringify(missed)) throw new Error(`after the resync Bob shows ${JSON.stringify(order)}`);
  await until("the missed messages to turn blue for Alice", async () => (await tickOf(a, missed[2])) === "read");
  check("Bob offline, then back: the missed messages decrypted, in order, once; Alice's ticks went blue");

  // A reload: locked until the passphrase; the history is read from the sealed cache.
  await b.reload();
  await b.getByRole("heading", { name: "Unlock your encrypted chats" }).waitFor();
  await b.getByLabel("Passphrase", { exact: true }).fill("not the passphrase");
  await b.getByRole("button", { name: "Unlock" }).click();
  await b.getByText("That passphrase does not open the keys").waitFor();
  await b.getByLabel("Passphrase", { exact: true }).fill(PASSPHRASE);
  await b.getByRole("button", { name: "Unlock" }).click();
  await openChatWith(b, "Alice Direct");
  await bubble(b, "Hello Bob, this is the first one").waitFor();
  await bubble(b, missed[2]).waitFor();
  check("after a reload: a wrong passphrase refused, the right one opens the keys and the history reads again");

  await a.getByRole("button", { name: "Safety number" }).click();
  await b.getByRole("button", { name: "Safety number" }).click();
  const digitsA = (await a.getByTestId("safety-digits").first().innerText()).replace(/\s/g, "");
  const digitsB = (await b.getByTestId("safety-digits").first().innerText()).replace(/\s/g, "");
  if (!/^\d{60}$/.test(digitsA) || digitsA !== digitsB) throw new Error(`safety numbers ${digitsA} / ${digitsB}`);
  await a.getByTestId("safety-qr").first().waitFor();
  await a.getByLabel("Compare with the number they read out or you scanned").fill(digitsB);
  await a.getByText("✓ The numbers match.").waitFor();
  await a.getByRole("button", { name: /Mark device \d+ as verified/ }).click();
  await a.getByText("✓ Verified").waitFor();
  await shot(a, "direct-safety-number");
  check("the same 60-digit safety number on both sides, a QR code, compared and marked verified");
  await a.getByRole("button", { name: "Close safety numbers" }).click();
  await b.getByRole("button", { name: "Close safety numbers" }).click();

  // A second device for Bob: a new browser profile, the same account.
  const cb2 = await newContext();
  const b2 = await newPage("bob-2", cb2);
  await openDirect(b2, await login(cb2, bob.email));
  await b2.getByTestId("link-notice").waitFor();
  await setUpKeys(b2);
  await a.getByTestId("new-device-notice").waitFor();
  await send(a, "To both of Bob's devices");
  await bubble(b, "To both of Bob's devices").waitFor();
  await openChatWith(b2, "Alice Direct");
  await bubble(b2, "To both of Bob's devices").waitFor();
  await b2.locator(".direct-root .system", { hasText: "Sent before this device was linked" }).first().waitFor();
  await send(b2, "From Bob's second device");
  await bubble(a, "From Bob's second device").waitFor();
  await bubble(b, "From Bob's second device").waitFor();
  check("a second device linked: it reads what came after, says the earlier ones cannot be read; Alice was told; both devices of Bob see each other's sends");
  await shot(a, "direct-conversation");
}

/** A server that tampers with, replays and withholds envelopes; a reset key; blocking. */
async function attacks() {
  const ca = await newContext();
  const cb = await newContext();
  const alice = await account(ca, "Alice Attack");
  const bob = await account(cb, "Bob Attack");
  const bobHandle = `bobx_${unique()}`;
  const a = await newPage("alice", ca);
  const b = await newPage("bob", cb);
  // Bob's socket passes through this test: it can alter or repeat what the server sends him.
  const tamper = { next: null, seen: [] };
  await b.routeWebSocket(/\/socket\.io\//, (ws) => {
    tamper.ws = ws;
    const server = ws.connectToServer();
    ws.onMessage((m) => server.send(m));
    server.onMessage((m) => {
      const match = typeof m === "string" ? /^42(\[.*\])$/s.exec(m) : null;
      if (match) {
        const [event, body] = JSON.parse(match[1]);
        if (event === "direct:message") {
          tamper.seen.push(body);
          if (tamper.next === "flip") {
            tamper.next = null;
            for (const e of body.message.envelopes) {
              const raw = Buffer.from(e.body, "base64");
              raw[raw.length - 12] ^= 1;
              e.body = raw.toString("base64");
            }
            return ws.send(`42${JSON.stringify([event, body])}`);
          }
        }
      }
      ws.send(m);
    });
  });
  await openDirect(a, alice.session);
  await openDirect(b, bob.session);
  await setUpKeys(a);
  await setUpKeys(b);
  await chooseHandle(b, bobHandle);
  await startChat(a, bobHandle);
  await send(a, "hello before anything");
  await b.locator(".direct-root .conversation-item", { hasText: "Alice Attack" }).click();
  await b.getByTestId("message-request").getByRole("button", { name: "Accept" }).click();
  await bubble(b, "hello before anything").waitFor();
  await send(b, "ready");
  await bubble(a, "ready").waitFor();

  tamper.next = "flip";
  await send(a, "the altered one");
  await b.locator(".direct-root .system", { hasText: "Could not decrypt this message — asked the sender to re-send." }).waitFor();
  // Alice's client re-sends it; it arrives intact.
  await bubble(b, "the altered one").waitFor();
  await send(a, "after the altered one");
  await bubble(b, "after the altered one").waitFor();
  check("a tampered envelope: refused and shown as such, the sender asked and re-sent, the session kept working");

  // The server replays an envelope Bob already read, under a new message id and position.
  const last = tamper.seen[tamper.seen.length - 1];
  const position = last.position + 1;
  const replay = { ...last, message: { ...last.message, id: `${BigInt(last.message.id) + 1000n}`, position, client_id: "replayed" }, position, previous_position: last.position };
  tamper.ws.send(`42${JSON.stringify(["direct:message", replay])}`);
  await b.locator(".direct-root .system", { hasText: "A replayed copy of an earlier message was refused." }).waitFor();
  check("a replayed envelope is refused and shown as such");

  // Bob loses his keys (forgotten passphrase): the same device id registered again with new keys.
  await b.reload();
  await b.getByRole("button", { name: "Forgot the passphrase?" }).click();
  await b.getByRole("button", { name: "Reset this device's keys" }).click();
  await setUpKeys(b);
  await send(a, "after Bob's reset");
  await a.getByTestId("identity-warning").waitFor();
  await openChatWith(b, "Alice Attack");
  await bubble(b, "after Bob's reset").waitFor();
  await shot(a, "direct-identity-warning");
  check("Bob's keys reset: Alice sees that his safety number changed, her next message reaches his new keys");

  await b.getByRole("button", { name: "Block", exact: true }).click();
  await b.getByTestId("blocked-notice").waitFor();
  await send(a, "are you there?");
  await a.locator(".direct-root .error", { hasText: /block/i }).waitFor();
  if (await bubble(b, "are you there?").count()) throw new Error("a blocked sender's message arrived");
  check("Bob blocked Alice: her send is refused and nothing reaches him");
}

/** A request declined then accepted after all; an invitation link opens an accepted chat. */
async function requests() {
  const cc = await newContext();
  const cd = await newContext();
  const ce = await newContext();
  const carol = await account(cc, "Carol Req");
  const dave = await account(cd, "Dave Req");
  const erin = await account(ce, "Erin Req");
  const c = await newPage("carol", cc);
  const d = await newPage("dave", cd);
  const e = await newPage("erin", ce);
  await openDirect(c, carol.session);
  await openDirect(d, dave.session);
  await openDirect(e, erin.session);
  await setUpKeys(c);
  await setUpKeys(d);
  await setUpKeys(e);
  const daveHandle = `dave_${unique()}`;
  await chooseHandle(d, daveHandle);
  await startChat(c, daveHandle);
  await send(c, "may I write to you?");
  await d.getByRole("list", { name: "Message requests" }).locator(".conversation-item", { hasText: "Carol Req" }).click();
  await bubble(d, "may I write to you?").waitFor();
  if (await d.locator(".direct-root .composer textarea").count()) throw new Error("the request's recipient can write before accepting");
  await d.getByTestId("message-request").getByRole("button", { name: "Decline" }).click();
  await c.getByText("declined your message request").waitFor();
  check("a request: listed apart, readable, no composer before accepting; declined, and the requester is told");
  await d.getByRole("button", { name: "Accept it after all" }).click();
  await d.locator(".direct-root .composer textarea").waitFor();
  await send(d, "changed my mind");
  await bubble(c, "changed my mind").waitFor();
  check("accepted after declining: the chat works both ways");

  await d.getByRole("button", { name: "Invitation link" }).click();
  const link = await d.getByLabel("Invitation link").inputValue();
  const target = new URL(link);
  // Followed in Erin's open tab (a link opened from elsewhere loads the page: the same code).
  await e.goto(`${target.pathname}${target.hash}`);
  await e.getByRole("heading", { name: "Dave Req" }).waitFor();
  await send(e, "here through your link");
  await openChatWith(d, "Erin Req");
  await bubble(d, "here through your link").waitFor();
  if (await e.getByTestId("message-request").count()) throw new Error("an invitation made a request");
  check("an invitation link opens an accepted chat with its inviter");
}

/** Known texts through the browser, both ways; the test then scans the server for them. */
async function plaintext() {
  const ca = await newContext();
  const cb = await newContext();
  const alice = await account(ca, "Alice Scan");
  const bob = await account(cb, "Bob Scan");
  const handle = `bobs_${unique()}`;
  const a = await newPage("alice", ca);
  const b = await newPage("bob", cb);
  await openDirect(a, alice.session);
  await openDirect(b, bob.session);
  await setUpKeys(a);
  await setUpKeys(b);
  await chooseHandle(b, handle);
  await startChat(a, handle);
  const texts = config.plaintexts;
  await send(a, texts[0]);
  await b.locator(".direct-root .conversation-item", { hasText: "Alice Scan" }).click();
  await b.getByTestId("message-request").getByRole("button", { name: "Accept" }).click();
  await bubble(b, texts[0]).waitFor();
  for (let i = 1; i < texts.length; i++) {
    const [from, to] = i % 2 ? [b, a] : [a, b];
    await send(from, texts[i]);
    await bubble(to, texts[i]).waitFor();
  }
  const lastOf = (page) => texts.filter((_, i) => (i % 2 ? b : a) === page).pop();
  for (const page of [a, b]) await until("the last text of each side read", async () => (await tickOf(page, lastOf(page))) === "read");
  if (config.names) writeFileSync(config.names, JSON.stringify({ alice: alice.session.user.id, bob: bob.session.user.id, handle }));
  check(`${texts.length} known texts went both ways and were read`);
}

/** With the Python SDK (tests/web/test_direct_browser.py runs the two bots meanwhile). */
async function interop() {
  const c = await newContext();
  const me = await account(c, "Web Person");
  const page = await newPage("web", c);
  await openDirect(page, me.session);
  await setUpKeys(page);
  await chooseHandle(page, config.browserHandle);
  writeFileSync(join(config.signals, "ready"), "1");
  const m = config.marker;

  // Bot one (the SDK) started this chat: its first message is its PreKey message.
  await page.locator(".direct-root .conversation-item", { hasText: config.botOne }).click();
  await bubble(page, `python first ${m}`).waitFor();
  await page.getByTestId("message-request").getByRole("button", { name: "Accept" }).click();
  await send(page, `browser reply ${m}`);
  await bubble(page, `python echo: browser reply ${m}`).waitFor();
  check("the SDK's PreKey message decrypted in the browser; the browser's reply decrypted by the SDK, and its answer by the browser");
  await page.getByRole("button", { name: "Safety number" }).click();
  const digits = (await page.getByTestId("safety-digits").first().innerText()).replace(/\s/g, "");
  writeFileSync(join(config.signals, "safety"), digits);
  await page.getByRole("button", { name: "Close safety numbers" }).click();
  check("the browser's safety number with the SDK bot handed to the test");

  // The browser starts the other chat: its PreKey message goes to the SDK.
  await startChat(page, config.botTwoHandle);
  await send(page, `browser first ${m}`);
  await bubble(page, `python echo: browser first ${m}`).waitFor();
  check("the browser's PreKey message decrypted by the SDK; the SDK's reply decrypted in the browser");
}


/** A Signal v3 WhisperMessage's ratchet key (field 1 of the protobuf after the version byte). */
function ratchetKeyOf(envelope) {
  const raw = Buffer.from(envelope.body, "base64");
  if (envelope.type !== 1 || raw[1] !== 0x0a || raw[2] !== 0x21) throw new Error(`not a WhisperMessage with a ratchet key: type ${envelope.type}`);
  return raw.subarray(3, 36).toString("hex");
}

/** The socket of `page` through this test: frames either way can be held back or dropped. */
async function interpose(page) {
  const net = { holdIn: 0, heldIn: [], dropIn: new Set(), holdOut: false, heldOut: [], refusals: [] };
  await page.routeWebSocket(/\/socket\.io\//, (ws) => {
    net.ws = ws;
    const server = ws.connectToServer();
    ws.onMessage((m) => {
      if (net.holdOut && typeof m === "string" && /^42\d*\["direct:send"/.test(m)) return void net.heldOut.push(m);
      server.send(m);
    });
    server.onMessage((m) => {
      const text = typeof m === "string" ? m : "";
      if (/^43\d*\[/.test(text) && text.includes('"stale_devices"')) net.refusals.push(text);
      const match = /^42(\[.*\])$/s.exec(text);
      if (match) {
        const [event] = JSON.parse(match[1]);
        if (net.dropIn.has(event)) return;
        if (event === "direct:message" && net.holdIn > 0) {
          net.holdIn -= 1;
          return void net.heldIn.push(m);
        }
      }
      ws.send(m);
    });
  });
  return net;
}

async function ownDeviceId(page, userId) {
  return Number(await page.evaluate((id) => localStorage.getItem(`raasel.e2e.device.${id}`), userId));
}

async function rawRecords(page, userId) {
  return page.evaluate(async (id) => {
    const open = indexedDB.open(`raasel-e2e.${id}`);
    const db = await new Promise((r) => (open.onsuccess = () => r(open.result)));
    const all = await new Promise((r) => {
      const q = db.transaction("records").objectStore("records").getAll();
      q.onsuccess = () => r(q.result);
    });
    db.close();
    return all.map((v) => btoa(String.fromCharCode(...new Uint8Array(v.buffer ?? v))));
  }, userId);
}

async function unlockWith(page, passphrase) {
  await page.getByRole("heading", { name: "Unlock your encrypted chats" }).waitFor();
  await page.getByLabel("Passphrase", { exact: true }).fill(passphrase);
  await page.getByRole("button", { name: "Unlock" }).click();
}

/** Out-of-order delivery across a ratchet step, stale device lists refused and recovered,
 * a lost session recovered by a re-send, the outbox kept (sealed) across a reload, and a
 * passphrase change. */
async function delivery() {
  const ca = await newContext();
  const cb = await newContext();
  const alice = await account(ca, "Alice Order");
  const bob = await account(cb, "Bob Order");
  const bobHandle = `bobo_${unique()}`;
  const a = await newPage("alice", ca);
  const b = await newPage("bob", cb);
  const aNet = await interpose(a);
  const bNet = await interpose(b);
  const aliceSends = watchSends(a);
  await openDirect(a, alice.session);
  await openDirect(b, bob.session);
  await setUpKeys(a);
  await setUpKeys(b);
  await chooseHandle(b, bobHandle);
  await startChat(a, bobHandle);
  await send(a, "hello, ordering");
  await b.locator(".direct-root .conversation-item", { hasText: "Alice Order" }).click();
  await b.getByTestId("message-request").getByRole("button", { name: "Accept" }).click();
  await bubble(b, "hello, ordering").waitFor();
  await send(b, "ready here");
  await bubble(a, "ready here").waitFor();
  await send(a, "go on");
  await bubble(b, "go on").waitFor();
  const bobId = bob.session.user.id;
  const aliceId = alice.session.user.id;
  const bobDevice = await ownDeviceId(b, bobId);
  const forBob = (sendPayload) => sendPayload.envelopes.find((e) => e.user_id === bobId && e.device_id === bobDevice);

  // Bob writes; the network holds it back from Alice until she has written again on her
  // current chain. Then she reads it (a ratchet step) and writes on a new chain; Bob gets
  // the new-chain message first and the old-chain one after it.
  aNet.holdIn = 1;
  await send(b, "a ratchet step");
  await until("Bob's message to be held on its way to Alice", async () => aNet.heldIn.length === 1);
  bNet.holdIn = 1;
  const before = aliceSends.length;
  await send(a, "old chain message");
  await until("Alice's old-chain message to be stored", async () => ["sent", "delivered", "read"].includes(await tickOf(a, "old chain message")));
  await until("it to be held on its way to Bob", async () => bNet.heldIn.length === 1);
  for (const m of aNet.heldIn.splice(0)) aNet.ws.send(m);
  await bubble(a, "a ratchet step").waitFor();
  await send(a, "new chain message");
  await bubble(b, "new chain message").waitFor();
  await bubble(b, "old chain message").waitFor();
  for (const m of bNet.heldIn.splice(0)) bNet.ws.send(m);
  const [oldSend, newSend] = aliceSends.slice(before);
  if (!oldSend || !newSend || oldSend.client_id === newSend.client_id) throw new Error(`expected two sends, got ${aliceSends.length - before}`);
  if (ratchetKeyOf(forBob(oldSend)) === ratchetKeyOf(forBob(newSend))) throw new Error("the two messages were on the same chain: no ratchet step between them");
  await send(b, "after the reorder");
  await bubble(a, "after the reorder").waitFor();
  const shown = (await b.locator(".direct-root .bubble .text").allInnerTexts()).filter((t) => /chain message/.test(t));
  if (JSON.stringify(shown) !== JSON.stringify(["old chain message", "new chain message"])) throw new Error(`Bob shows ${JSON.stringify(shown)}`);
  if (await b.locator(".direct-root .system", { hasText: /Could not decrypt|replayed/ }).count()) throw new Error("a reordered message was not read");
  check("out of order across a ratchet step: the new-chain message reached Bob first, the old-chain one decrypted after it; shown in order, once, the session kept working");

  // Bob links a second device; the news never reaches Alice (the event is dropped), so her
  // next send names a stale list: refused with the current one, re-encrypted, same client id.
  aNet.dropIn.add("direct:devices");
  const cb2 = await newContext();
  const b2 = await newPage("bob-2", cb2);
  const bob2 = await login(cb2, bob.email);
  await openDirect(b2, bob2);
  await setUpKeys(b2);
  const staleFrom = aliceSends.length;
  await send(a, "to a stale list");
  await until("Alice's message to be stored", async () => ["sent", "delivered", "read"].includes(await tickOf(a, "to a stale list")));
  const tries = aliceSends.slice(staleFrom);
  const bobEnvelopes = (p) => p.envelopes.filter((e) => e.user_id === bobId).length;
  if (tries.length < 2 || new Set(tries.map((t) => t.client_id)).size !== 1) throw new Error(`expected a refused send and a retry with one client id: ${JSON.stringify(tries.map((t) => t.client_id))}`);
  if (bobEnvelopes(tries[0]) !== 1 || bobEnvelopes(tries[tries.length - 1]) !== 2) throw new Error(`envelopes for Bob: ${tries.map(bobEnvelopes)}`);
  if (!aNet.refusals.length) throw new Error("no stale_devices refusal came back");
  await openChatWith(b2, "Alice Order");
  await bubble(b2, "to a stale list").waitFor();
  await bubble(b, "to a stale list").waitFor();
  check("a device Alice did not know of: her send refused with stale_devices, re-encrypted for both of Bob's devices with the same client id, read on both");

  // The second device goes away, again unknown to Alice: refused, re-sent without it.
  const bob2Device = await ownDeviceId(b2, bobId);
  await api(cb2, "DELETE", `/direct/devices/${bob2Device}`, undefined, bob2.access_token);
  await b2.close();
  const goneFrom = aliceSends.length;
  const refusalsBefore = aNet.refusals.length;
  await send(a, "after the removal");
  await bubble(b, "after the removal").waitFor();
  const last = aliceSends.slice(goneFrom);
  if (aNet.refusals.length <= refusalsBefore || bobEnvelopes(last[last.length - 1]) !== 1 || last.some((t) => t.client_id !== last[0].client_id)) {
    throw new Error(`after the removal: ${last.length} tries, envelopes ${last.map(bobEnvelopes)}`);
  }
  aNet.dropIn.delete("direct:devices");
  check("a removed device Alice still named: refused, re-sent for the remaining device only");

  // Bob's session with Alice is lost (as after restoring an old backup): her next message
  // cannot be decrypted; Bob's client says so and asks, a new session starts, she re-sends.
  const aliceDevice = await ownDeviceId(a, aliceId);
  await b.evaluate(({ userId, deviceId }) => window.__raaselDirect.device.engine.resetSession({ userId, deviceId }), { userId: aliceId, deviceId: aliceDevice });
  await send(a, "after Bob lost the session");
  await b.locator(".direct-root .system", { hasText: "Could not decrypt this message — asked the sender to re-send." }).waitFor();
  await bubble(b, "after Bob lost the session").waitFor();
  await send(b, "new session works");
  await bubble(a, "new session works").waitFor();
  await send(a, "both ways");
  await bubble(b, "both ways").waitFor();
  check("a lost session: the undecryptable message shown as such, the sender asked, a new session, the text re-sent and read; the chat goes on both ways");

  // Alice's messages are written while they cannot leave; she reloads; once unlocked they go,
  // in order, with the client ids they were given, and nothing readable was kept at rest.
  aNet.holdOut = true;
  const queued = ["queued one", "queued two", "queued three"];
  for (const text of queued) await send(a, text);
  for (const text of queued) await bubble(a, text).waitFor();
  await until("the first queued message to be on its way", async () => aNet.heldOut.length >= 1);
  const conversationId = await a.evaluate(() => [...document.querySelectorAll(".direct-root .conversation-item.active")].map((e) => e.getAttribute("data-direct-id"))[0]);
  const written = await a.evaluate(async (id) => {
    await window.__raaselDirect.outboxStore.flushed();
    return window.__raaselDirect.chat.outbox.shown(id).map((m) => m.client_id);
  }, conversationId);
  if (written.length !== 3) throw new Error(`the outbox holds ${written.length} messages`);
  const atRest = (await rawRecords(a, aliceId)).map((r) => Buffer.from(r, "base64").toString("latin1")).join("\n");
  const local = await a.evaluate(() => JSON.stringify({ ...localStorage }));
  if (atRest.includes("queued") || local.includes("queued")) throw new Error("a queued text is readable at rest");
  await a.reload();
  aNet.heldOut.length = 0;
  aNet.holdOut = false;
  const resentFrom = aliceSends.length;
  await unlockWith(a, PASSPHRASE);
  await openChatWith(a, "Bob Order");
  for (const text of queued) await bubble(b, text).waitFor();
  const order = (await b.locator(".direct-root .bubble .text").allInnerTexts()).filter((t) => t.startsWith("queued"));
  if (JSON.stringify(order) !== JSON.stringify(queued)) throw new Error(`Bob shows ${JSON.stringify(order)}`);
  const resent = aliceSends.slice(resentFrom).map((p) => p.client_id);
  if (JSON.stringify(resent) !== JSON.stringify(written)) throw new Error(`sent after the reload ${JSON.stringify(resent)}, written ${JSON.stringify(written)}`);
  for (const text of queued) await until(`"${text}" sent`, async () => ["sent", "delivered", "read"].includes(await tickOf(a, text)));
  check("messages written while they could not leave survived a reload sealed (no text at rest), and went once unlocked: in order, with their client ids, read once");

  // A new passphrase: the old one no longer opens the keys, the new one does, history reads.
  await a.getByText("This device and your others").click();
  await a.getByLabel("Current passphrase").fill("not it at all");
  await a.getByLabel("New passphrase", { exact: true }).fill("a brand new passphrase");
  await a.getByLabel("New passphrase again").fill("a brand new passphrase");
  await a.getByRole("button", { name: "Change passphrase" }).click();
  await a.getByText("That is not the current passphrase.").waitFor();
  await a.getByLabel("Current passphrase").fill(PASSPHRASE);
  await a.getByRole("button", { name: "Change passphrase" }).click();
  await a.getByText("now locked with the new passphrase").waitFor();
  await a.reload();
  await unlockWith(a, PASSPHRASE);
  await a.getByText("That passphrase does not open the keys").waitFor();
  await a.getByLabel("Passphrase", { exact: true }).fill("a brand new passphrase");
  await a.getByRole("button", { name: "Unlock" }).click();
  await openChatWith(a, "Bob Order");
  await bubble(a, "queued three").waitFor();
  await bubble(a, "new session works").waitFor();
  await send(b, "still talking");
  await bubble(a, "still talking").waitFor();
  check("the passphrase changed: the old one refused after a reload, the new one opens the keys, the history and the sessions work");
}

const SCENARIOS = { basics, attacks, requests, plaintext, interop, delivery };

try {
  if (!SCENARIOS[scenario]) throw new Error(`unknown scenario ${scenario}`);
  await SCENARIOS[scenario]();
  if (problems.length) throw new Error(problems.join("\n"));
  console.log(JSON.stringify({ ...report, ok: true }));
} catch (error) {
  for (const { label, page } of pages) await page.screenshot({ path: join(artifacts, `FAILED-${scenario}-${label}.png`) }).catch(() => {});
  console.error(`${scenario} failed after: ${report.checks.join(" | ") || "(no check)"}\n${error.stack ?? error}\n${problems.join("\n")}`);
  process.exitCode = 1;
} finally {
  await browser.close();
}
