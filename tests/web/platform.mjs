// Platform support in the browser (docs/protocol.md, "Platform support"), run by
// tests/web/test_platform_browser.py:
//   RAASEL_BROWSER='{"url", "artifacts", "scenario", "chromium", "operator": {email, password}}' node platform.mjs
// Acme's owner writes to platform support from the console's admin; the operator (made
// with the CLI) signs in to /operator, joins and answers; the owner reads it live in the
// inbox and replies. Prints one JSON line; exits 1 on failure.
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
const until = (what, fn, timeout = 15000) => waitUntil(what, fn, timeout);

async function newPage(label) {
  const context = await browser.newContext({ ignoreHTTPSErrors: true, baseURL: url, viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  page.setDefaultTimeout(15000);
  page.on("pageerror", (e) => problems.push(`${label}: page error ${e.message}`));
  page.on("console", (m) => {
    if (m.type() === "error" && /Content Security Policy|Refused to/.test(m.text())) problems.push(`${label}: ${m.text()}`);
  });
  pages.push({ label, page });
  return page;
}

const shot = (page, name) => page.screenshot({ path: join(artifacts, `${name}.png`) });
const bubble = (page, text) => page.locator(".bubble", { has: page.locator(".text", { hasText: text }) });

async function send(page, text) {
  const box = page.locator(".composer textarea");
  await box.fill(text);
  await box.press("Enter");
}

async function platform() {
  const owner = await newPage("owner");
  await owner.goto("/agent");
  await owner.getByLabel("Organization").fill("acme");
  await owner.getByLabel("Email").fill("owner@acme.example");
  await owner.getByLabel("Password").fill("raasel-demo-1");
  await owner.getByRole("button", { name: "Log in" }).click();
  await owner.getByRole("button", { name: "Admin", exact: true }).click();
  await owner.getByRole("button", { name: "Contact platform support" }).click();
  const subject = `Invoice twice ${unique()}`;
  await owner.getByLabel("About").selectOption("billing");
  await owner.getByLabel("Subject").fill(subject);
  await owner.getByLabel("Message").fill("We were invoiced twice this month");
  await owner.getByRole("button", { name: "Send to platform support" }).click();
  await owner.getByRole("heading", { name: `Platform support: ${subject}` }).waitFor();
  await bubble(owner, "We were invoiced twice this month").waitFor();
  check("the owner wrote to platform support from the admin; it opened in the inbox");

  const ops = await newPage("operator");
  await ops.goto("/operator");
  await ops.getByLabel("Email").fill(config.operator.email);
  await ops.getByLabel("Password").fill(config.operator.password);
  await ops.getByRole("button", { name: "Log in" }).click();
  const item = ops.getByTestId("platform-list").getByRole("button", { name: new RegExp(subject) });
  await item.waitFor();
  await item.click();
  await bubble(ops, "We were invoiced twice this month").waitFor();
  await ops.getByTestId("platform-about").getByText(/Acme · Billing/).waitFor();
  check("the operator signed in to the operator console and found Acme's question");

  await ops.getByRole("button", { name: "Join to answer" }).click();
  // In the conversation (the list's preview shows the same line once it has moved).
  await ops.locator("section.conversation").getByText(/from platform support joined the conversation/).waitFor();
  const answer = `Refunded the second invoice ${unique()}`;
  await send(ops, answer);
  await bubble(ops, answer).waitFor();
  await bubble(owner, answer).waitFor();
  check("the operator joined and answered; the owner read it live");

  await send(owner, "Thank you!");
  await bubble(ops, "Thank you!").waitFor();
  await until("the operator's answer to turn blue", async () => (await bubble(ops, answer).locator("[data-tick]").getAttribute("data-tick")) === "read");
  check("the owner replied; the operator's answer went blue once the owner read it");
  await shot(ops, "operator-console");
  await shot(owner, "admin-platform-support");
}

const SCENARIOS = { platform };
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
