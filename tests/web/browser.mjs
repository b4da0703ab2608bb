// Browser scenarios for the Raasel web app, run by tests/web/test_browser.py:
//   RAASEL_BROWSER='{"url", "artifacts", "scenario", "chromium"}' node browser.mjs
// Drives Debian's chromium through playwright-core (never a downloaded browser) against a
// real server seeded with the demo. Prints one JSON line; exits 1 with the reason on failure.
import { mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const config = JSON.parse(process.env.RAASEL_BROWSER ?? "{}");
const { url, artifacts, scenario } = config;
const PASSWORD = "raasel-demo-1";
const XSS = "<img src=x onerror=alert(1)>";
const PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";
const DESKTOP = { width: 1280, height: 800 };
mkdirSync(artifacts, { recursive: true });
for (const old of readdirSync(artifacts)) {
  if (old.startsWith(`FAILED-${scenario}-`)) rmSync(join(artifacts, old));
}

const browser = await chromium.launch({
  executablePath: config.chromium ?? "/usr/bin/chromium",
  headless: true,
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-quic",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
  ],
});
const pages = [];
const cleanups = [];
const problems = [];
const report = { scenario, checks: [] };

function check(name) {
  report.checks.push(name);
}

async function newPage(label, viewport = DESKTOP) {
  const context = await browser.newContext({ ignoreHTTPSErrors: true, baseURL: url, viewport });
  const page = await context.newPage();
  page.setDefaultTimeout(10000);
  page.on("pageerror", (e) => problems.push(`${label}: page error ${e.message}`));
  page.on("dialog", (d) => {
    problems.push(`${label}: unexpected dialog ${d.message()}`);
    void d.dismiss();
  });
  page.on("console", (m) => {
    if (m.type() === "error" && /Content Security Policy|Refused to/.test(m.text())) problems.push(`${label}: ${m.text()}`);
  });
  pages.push({ label, page });
  return page;
}

async function until(what, fn, timeout = 10000) {
  const deadline = Date.now() + timeout;
  let last;
  while (Date.now() < deadline) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what} (last: ${last})`);
}

async function shot(page, name) {
  await page.screenshot({ path: join(artifacts, `${name}.png`) });
}

const unique = () => `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;

// ---- steps shared by the scenarios ----

async function signUp(page, name) {
  await page.goto("/");
  await page.getByRole("tab", { name: "Sign up" }).click();
  await page.getByLabel("Your name").fill(name);
  await page.getByLabel("Email").fill(`${unique()}@example.com`);
  await page.getByLabel("Password").fill("a-good-password");
  await page.getByRole("button", { name: "Create account" }).click();
  await page.getByLabel("Search organizations").waitFor();
}

async function startWithAcmeSales(page, text) {
  await page.getByLabel("Search organizations").fill("acme quotes");
  const acme = page.locator(".result", { has: page.locator("strong", { hasText: /^Acme$/ }) });
  await acme.getByRole("button", { name: "Sales", exact: true }).click();
  await page.getByLabel("Your message").fill(text);
  await page.getByRole("button", { name: "Start conversation" }).click();
  await page.getByTestId("conversation-status").getByText(/Waiting for an agent|handling/).waitFor();
}

async function agentLogin(page, email) {
  await page.goto("/agent");
  await page.getByLabel("Organization").fill("acme");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Log in" }).click();
  await page.getByLabel("Availability").waitFor();
  await page.getByLabel("Availability").selectOption("online");
}

function bubble(page, text) {
  return page.locator(".bubble", { has: page.locator(".text", { hasText: text }) });
}

async function tickOf(page, text) {
  return bubble(page, text).locator("[data-tick]").getAttribute("data-tick");
}

async function send(page, text) {
  const box = page.locator(".composer textarea");
  await box.fill(text);
  await box.press("Enter");
}

// ---- scenarios ----

async function journey() {
  const person = await newPage("individual");
  const alice = await newPage("alice");
  const bob = await newPage("bob");
  await agentLogin(alice, "alice@acme.example");
  await agentLogin(bob, "bob@acme.example");
  const name = `Dana ${unique()}`;
  await signUp(person, name);
  await startWithAcmeSales(person, "Hello, I need a quote for 20 seats");
  check("individual searched the directory and opened a conversation");

  const queued = alice.locator(".queue-item", { hasText: name });
  await queued.waitFor();
  await queued.getByRole("button", { name: /Claim/ }).click();
  await alice.getByTestId("conversation-status").getByText("assigned to you").waitFor();
  await person.getByTestId("conversation-status").getByText("Alice Agent is handling your conversation").waitFor();
  check("agent claimed from the live queue; the individual sees who handles it");

  await until("the first message to turn blue for the individual", async () => (await tickOf(person, "quote for 20 seats")) === "read");
  check("ticks reached blue on the individual's side");

  await alice.locator(".composer textarea").pressSequentially("Sure, let me", { delay: 20 });
  await person.getByText("Alice Agent is typing…").waitFor();
  check("the individual saw the agent typing");
  await alice.locator(".composer textarea").press("Shift+Enter");
  await alice.locator(".composer textarea").pressSequentially("check our prices.");
  await alice.locator(".composer textarea").press("Enter");
  await bubble(person, "check our prices.").waitFor();
  const lines = await bubble(person, "check our prices.").locator(".text").innerText();
  if (lines !== "Sure, let me\ncheck our prices.") throw new Error(`Shift+Enter did not keep the new line: ${JSON.stringify(lines)}`);
  await until("the agent's reply to turn blue", async () => (await tickOf(alice, "check our prices.")) === "read");
  check("agent reply arrived (Enter sends, Shift+Enter new line); ticks blue on the agent's side");

  await person.locator(".composer textarea").pressSequentially("Thanks", { delay: 30 });
  await alice.getByText(`${name} is typing…`).waitFor();
  await person.locator(".composer textarea").press("Enter");
  await bubble(alice, "Thanks").waitFor();
  check("agent saw the customer typing and the message");

  await alice.getByRole("radio", { name: "Internal note" }).check();
  await send(alice, "Secret: VIP customer, offer 10%");
  await bubble(alice, "Secret: VIP customer").and(alice.locator(".note")).waitFor();
  await send(person, XSS);
  await bubble(alice, XSS).waitFor();
  await bubble(person, XSS).waitFor();
  for (const [label, page] of [["individual", person], ["agent", alice]]) {
    const shown = await bubble(page, XSS).locator(".text").innerText();
    if (shown !== XSS) throw new Error(`${label} did not show the XSS string literally: ${shown}`);
    if (await page.locator('img[src="x"]').count()) throw new Error(`${label} rendered an <img>`);
  }
  check("the XSS string is shown literally on both sides, no dialog");
  await person.getByLabel("Attach a file").setInputFiles({ name: "dot.png", mimeType: "image/png", buffer: Buffer.from(PNG, "base64") });
  await alice.locator('.bubble img[alt="dot.png"]').waitFor();
  check("an image attachment reached the agent");
  if ((await person.content()).includes("VIP customer")) throw new Error("the internal note reached the individual");
  await person.reload();
  await person.locator(".conversation-item").first().click();
  await bubble(person, XSS).waitFor();
  if (await person.getByText("VIP customer").count()) throw new Error("the internal note is in the individual's history");
  check("the internal note stayed invisible to the individual (live and in history)");
  await shot(alice, "agent-console");
  await shot(person, "individual-conversation");

  await alice.getByLabel("Transfer to").selectOption({ label: "Bob Agent (online)" });
  await alice.getByRole("button", { name: "Transfer", exact: true }).click();
  await person.getByTestId("conversation-status").getByText("Bob Agent is handling your conversation").waitFor();
  const mine = bob.getByRole("list", { name: "My conversations" }).locator(".conversation-item", { hasText: name });
  await mine.click();
  await bubble(bob, "Thanks").waitFor();
  check("transfer to another agent; the individual and the new agent see it");

  await bob.getByRole("button", { name: "Resolve" }).click();
  await person.getByTestId("conversation-status").getByText("Resolved").waitFor();
  await person.getByRole("button", { name: "Reopen it" }).click();
  await person.getByTestId("conversation-status").getByText(/Waiting|handling/).waitFor();
  check("resolved by the agent, reopened by the individual");
}

async function reconnect() {
  const person = await newPage("individual");
  const alice = await newPage("alice");
  await agentLogin(alice, "alice@acme.example");
  const name = `Reco ${unique()}`;
  await signUp(person, name);
  await startWithAcmeSales(person, "Are you there?");
  await alice.locator(".queue-item", { hasText: name }).getByRole("button", { name: /Claim/ }).click();
  await person.getByText("Alice Agent is handling your conversation").waitFor();

  // Drop the individual's socket and keep it down while the agent writes.
  await person.evaluate(() => {
    const socket = window.__raaselSocket;
    socket.io.reconnection(false);
    socket.io.engine.close();
  });
  await person.getByTestId("connection-lost").waitFor();
  check("the connection-lost banner shows");
  await send(person, "typed while offline");
  await until("the offline message to show the clock", async () => (await tickOf(person, "typed while offline")) === "clock");
  for (const text of ["first while you were away", "second while you were away"]) {
    await send(alice, text);
    await until(`"${text}" to be acknowledged`, async () => (await tickOf(alice, text)) === "sent" || (await tickOf(alice, text)) === "delivered");
  }
  await person.evaluate(() => {
    const socket = window.__raaselSocket;
    socket.io.reconnection(true);
    socket.connect();
  });
  await person.getByTestId("connection-lost").waitFor({ state: "detached" });
  await bubble(person, "second while you were away").waitFor();
  await bubble(alice, "typed while offline").waitFor();
  await until("the offline message to be stored", async () => (await tickOf(person, "typed while offline")) !== "clock");
  await person.waitForTimeout(500);
  for (const [page, text] of [
    [person, "first while you were away"],
    [person, "second while you were away"],
    [person, "typed while offline"],
    [alice, "typed while offline"],
  ]) {
    const count = await bubble(page, text).count();
    if (count !== 1) throw new Error(`"${text}" shown ${count} times`);
  }
  check("after the socket returned: missed messages synced, the offline send delivered once, nothing doubled");
}

async function widget() {
  const alice = await newPage("alice");
  await agentLogin(alice, "alice@acme.example");
  // A static page on another origin (plain HTTP on 127.0.0.1: a loopback page, so
  // Chromium's local-network-access rules let it load the loopback test server's script).
  const html = readFileSync(join(dirname(fileURLToPath(import.meta.url)), "shop.html"), "utf8").replace("{{RAASEL_URL}}", url);
  const site = createServer((_, res) => res.writeHead(200, { "content-type": "text/html" }).end(html));
  await new Promise((resolve) => site.listen(0, "127.0.0.1", resolve));
  cleanups.push(() => site.close());
  const shop = await newPage("shop");
  await shop.goto(`http://127.0.0.1:${site.address().port}/`);
  const frame = shop.frameLocator("iframe[data-raasel-widget]");
  await frame.getByRole("button", { name: "Chat with Acme" }).click();
  await frame.getByLabel("Team").selectOption({ label: "Sales" });
  const hello = `Hi from the widget ${unique()}`;
  await frame.getByRole("textbox", { name: "Message" }).fill(hello);
  await frame.getByRole("textbox", { name: "Message" }).press("Enter");
  await frame.getByText(hello).waitFor();
  check("the widget opened on a third-party page and started a visitor conversation");

  const queued = alice.locator(".queue-item", { hasText: hello });
  await queued.getByRole("button", { name: /Claim/ }).click();
  await alice.getByTestId("conversation-status").getByText("assigned to you").waitFor();
  await alice.locator(".composer textarea").pressSequentially("Welcome", { delay: 30 });
  await frame.getByText("is typing…").waitFor();
  await alice.locator(".composer textarea").press("Enter");
  await frame.getByText("Welcome").waitFor();
  await until("the widget's message to turn blue", async () => (await frame.locator("[data-tick]").first().getAttribute("data-tick")) === "read");
  check("agent typing seen in the widget, reply received, ticks blue");
  await shot(shop, "widget");

  await shop.reload();
  await frame.getByText("Welcome").waitFor();
  await frame.getByText(hello).waitFor();
  await frame.getByRole("textbox", { name: "Message" }).fill("Still me after a reload");
  await frame.getByRole("textbox", { name: "Message" }).press("Enter");
  await bubble(alice, "Still me after a reload").waitFor();
  check("the widget kept its conversation across a reload");
}

async function mobile() {
  const phone = await newPage("phone", { width: 360, height: 740 });
  await signUp(phone, `Mo ${unique()}`);
  await startWithAcmeSales(phone, XSS);
  await bubble(phone, XSS).waitFor();
  await send(phone, "A long line that has to wrap nicely on a narrow phone screen without scrolling sideways");
  await bubble(phone, "A long line").waitFor();
  const width = await phone.evaluate(() => document.documentElement.scrollWidth);
  if (width > 360) throw new Error(`the page is ${width}px wide at a 360px viewport`);
  if ((await bubble(phone, XSS).locator(".text").innerText()) !== XSS) throw new Error("XSS string not literal");
  await shot(phone, "individual-mobile");
  await phone.getByRole("button", { name: "Back to conversations" }).click();
  await phone.getByLabel("Search organizations").waitFor();
  check("360 px: no horizontal scroll, one column with a back button, text literal");

  const owner = await newPage("owner");
  await agentLogin(owner, "owner@acme.example");
  await owner.getByRole("button", { name: "Admin" }).click();
  await owner.getByRole("button", { name: "Agents" }).click();
  const carla = `Carla ${unique()}`;
  await owner.getByLabel("Name", { exact: true }).fill(carla);
  await owner.getByLabel("Email").fill(`carla-${unique()}@acme.example`);
  await owner.getByLabel("Initial password").fill("a-good-password");
  await owner.getByRole("button", { name: "Add agent" }).click();
  await owner.getByRole("rowheader", { name: new RegExp(carla) }).waitFor();
  await owner.getByRole("button", { name: "Audit log" }).click();
  await owner.locator("td", { hasText: /member/ }).first().waitFor();
  await owner.getByRole("button", { name: "Groups" }).click();
  await shot(owner, "admin");
  check("admin: created an agent, and the audit log shows it");
}

const SCENARIOS = { journey, reconnect, widget, mobile };

try {
  if (!SCENARIOS[scenario]) throw new Error(`unknown scenario ${scenario}`);
  await SCENARIOS[scenario]();
  if (problems.length) throw new Error(problems.join("\n"));
  console.log(JSON.stringify({ ...report, ok: true }));
} catch (error) {
  for (const { label, page } of pages) {
    await page.screenshot({ path: join(artifacts, `FAILED-${scenario}-${label}.png`) }).catch(() => {});
  }
  console.error(`${scenario} failed after: ${report.checks.join(" | ") || "(no check)"}\n${error.stack ?? error}\n${problems.join("\n")}`);
  process.exitCode = 1;
} finally {
  await browser.close();
  cleanups.forEach((cleanup) => cleanup());
}
