// Organization <-> organization conversations in the browser (docs/protocol.md,
// "Organization to organization"), run by tests/web/test_b2b_browser.py:
//   RAASEL_BROWSER='{"url", "artifacts", "scenario", "chromium"}' node b2b.mjs
// On a node seeded with the demo: Acme's agent opens a conversation with Northwind Bank
// (found in the directory) from the console's "Organizations" tab; Northwind's owner
// sees it in its console with Acme's name and answers; both read each other live, the
// ticks turn blue, and each side's internal note stays on its side. One JSON line out.
import { mkdirSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { until as waitUntil } from "./until.mjs";

const config = JSON.parse(process.env.RAASEL_BROWSER ?? "{}");
const { url, artifacts, scenario } = config;
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
const until = (what, fn, timeout = 20000) => waitUntil(what, fn, timeout);

async function newPage(label) {
  const context = await browser.newContext({ ignoreHTTPSErrors: true, baseURL: url, viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  page.setDefaultTimeout(20000);
  page.on("pageerror", (e) => problems.push(`${label}: page error ${e.message}`));
  page.on("console", (m) => {
    if (m.type() === "error" && /Content Security Policy|Refused to/.test(m.text())) problems.push(`${label}: ${m.text()}`);
  });
  pages.push({ label, page });
  return page;
}

const shot = (page, name) => page.screenshot({ path: join(artifacts, `${name}.png`) });
const bubble = (page, text) => page.locator(".bubble", { has: page.locator(".text", { hasText: text }) });

async function login(page, org, email) {
  await page.goto("/agent");
  await page.getByLabel("Organization").fill(org);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill("raasel-demo-1");
  await page.getByRole("button", { name: "Log in" }).click();
  await page.getByRole("button", { name: "Organizations", exact: true }).click();
  await page.getByTestId("b2b-panel").waitFor();
}

async function write(page, text, note = false) {
  const pane = page.getByTestId("b2b-conversation");
  await pane.getByRole("radio", { name: note ? /Internal note/ : /Reply to/ }).check();
  const box = pane.locator(".composer textarea");
  await box.fill(text);
  await box.press("Enter");
  await bubble(page, text).waitFor();
}

async function b2b() {
  const alice = await newPage("acme");
  await login(alice, "acme", "alice@acme.example");
  await alice.getByLabel("Find an organization").fill("Northwind Bank");
  await alice.getByTestId("b2b-hit").filter({ hasText: "Northwind Bank" }).first().click();
  await alice.getByTestId("b2b-picked").getByText("Northwind Bank").waitFor();
  const subject = `Card terminal fees ${unique()}`;
  const first = `Hello Northwind, a question about fees ${unique()}`;
  await alice.getByLabel("Subject").fill(subject);
  await alice.getByLabel("Message").fill(first);
  await alice.getByRole("button", { name: "Send", exact: true }).click();
  await alice.getByTestId("b2b-other").getByText("Northwind Bank").waitFor();
  await bubble(alice, first).waitFor();
  check("Acme's agent found Northwind Bank in the directory and opened a conversation from the console");

  const bank = await newPage("northwind");
  await login(bank, "northwind-bank", "directory@demo.example");
  const item = bank.getByTestId("b2b-item").filter({ hasText: subject });
  await item.waitFor();
  await item.getByText("Acme", { exact: true }).waitFor();
  await item.click();
  await bank.getByTestId("b2b-other").getByText("Acme", { exact: true }).waitFor();
  await bubble(bank, first).waitFor();
  check("Northwind's console lists it with Acme's name and shows Acme's message");

  const answer = `Our fees are on page 3 ${unique()}`;
  await write(bank, answer);
  await bubble(alice, answer).waitFor();
  check("Northwind answered; Acme's agent read it live");
  await until("Acme's first message to turn blue (read by Northwind)", async () => (await bubble(alice, first).locator("[data-tick]").getAttribute("data-tick")) === "read");
  check("Acme's message went blue once an agent of Northwind read it");

  const note = `Acme-only: check our contract ${unique()}`;
  await write(alice, note, true);
  const bankNote = `Northwind-only: VIP customer ${unique()}`;
  await write(bank, bankNote, true);
  const reply = `Thanks, found it ${unique()}`;
  await write(alice, reply);
  await bubble(bank, reply).waitFor();
  await until("Northwind's answer to turn blue (read by Acme)", async () => (await bubble(bank, answer).locator("[data-tick]").getAttribute("data-tick")) === "read");
  // Each console has read the other's messages: no unread badge is left on either list
  // (the opener's used to stay at 1 when its list's reload answered after the read).
  for (const [label, page] of [["Acme", alice], ["Northwind", bank]]) {
    const badge = page.getByTestId("b2b-item").filter({ hasText: subject }).locator(".badge");
    await until(`${label}'s list to show no unread badge`, async () => (await badge.count()) === 0);
  }
  check("after reading, neither list shows an unread badge");
  if (await bubble(bank, note).count()) throw new Error("Acme's internal note reached Northwind");
  if (await bubble(alice, bankNote).count()) throw new Error("Northwind's internal note reached Acme");
  check("each side's internal note stayed on its side; the later reply arrived live");

  // Northwind's team inbox lists it too, from Northwind's side ("Mine": its owner took
  // it by answering), narrowed by the kind filter; opening it goes to the Organizations tab.
  await bank.getByRole("button", { name: "Inbox", exact: true }).click();
  await bank.locator('nav.views button[data-view="mine"]').click();
  await bank.getByRole("button", { name: /^Filters/ }).click();
  await bank.getByLabel("Kind").selectOption("b2b");
  const listed = bank.locator(".inbox-sidebar .conversation-item", { hasText: "Acme" });
  await listed.first().waitFor();
  await listed.first().click();
  await bank.getByTestId("b2b-other").getByText("Acme", { exact: true }).waitFor();
  await bubble(bank, reply).waitFor();
  check("Northwind's inbox lists it (kind: with organizations) and opens it in the Organizations tab");

  // Files both ways: Northwind attaches an image, Acme sees it (and the reverse).
  const PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";
  const attach = async (page, name) => {
    const pane = page.getByTestId("b2b-conversation");
    await pane.getByRole("radio", { name: /Reply to/ }).check();
    await pane.getByLabel("Attach a file").setInputFiles({ name, mimeType: "image/png", buffer: Buffer.from(PNG, "base64") });
  };
  const fromBank = `statement-${unique()}.png`;
  await attach(bank, fromBank);
  await alice.locator(`.bubble img[alt="${fromBank}"]`).waitFor();
  const fromAcme = `contract-${unique()}.png`;
  await attach(alice, fromAcme);
  await bank.locator(`.bubble img[alt="${fromAcme}"]`).waitFor();
  check("each organization sent an image the other one sees");

  await shot(alice, "b2b-acme-console");
  await shot(bank, "b2b-northwind-console");
}

const SCENARIOS = { b2b };
let ok = false;
try {
  await SCENARIOS[scenario]();
  if (problems.length) throw new Error(problems.join("\n"));
  ok = true;
} catch (error) {
  for (const { label, page } of pages) await page.screenshot({ path: join(artifacts, `FAILED-${scenario}-${label}.png`) }).catch(() => {});
  console.error(error);
} finally {
  await browser.close();
}
console.log(JSON.stringify({ ...report, ok }));
process.exit(ok ? 0 : 1);
