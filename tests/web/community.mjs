// Community channels in the browser (docs/protocol.md, "Community channels"), run by
// tests/web/test_community_browser.py:
//   RAASEL_BROWSER='{"url", "artifacts", "scenario", "chromium"}' node community.mjs
// Acme's supervisor creates an invitation-only community in the console; the demo's
// individual joins it with the code, writes; the supervisor sees it live and removes it,
// the individual sees it removed. Prints one JSON line; exits 1 on failure.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";

const config = JSON.parse(process.env.RAASEL_BROWSER ?? "{}");
const { url, artifacts, scenario } = config;
mkdirSync(artifacts, { recursive: true });
const browser = await chromium.launch({
  executablePath: config.chromium ?? "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run", "--disable-dev-shm-usage"],
});
const pages = [];
const report = { scenario, checks: [] };
const check = (name) => report.checks.push(name);

async function newPage(label) {
  const context = await browser.newContext({ ignoreHTTPSErrors: true, baseURL: url, viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  page.setDefaultTimeout(20000);
  pages.push({ label, page });
  return page;
}
const shot = (page, name) => page.screenshot({ path: join(artifacts, `${name}.png`) });

try {
  const lead = await newPage("supervisor");
  await lead.goto("/agent");
  await lead.getByLabel("Organization").fill("acme");
  await lead.getByLabel("Email").fill("supervisor@acme.example");
  await lead.getByLabel("Password").fill("raasel-demo-1");
  await lead.getByRole("button", { name: "Log in" }).click();
  await lead.getByRole("button", { name: "Communities", exact: true }).click();
  const name = `Launch party ${Date.now().toString(36)}`;
  await lead.getByLabel("New community").fill(name);
  await lead.getByLabel("Who may join").selectOption("invite");
  await lead.getByRole("button", { name: "Create" }).click();
  await lead.getByRole("heading", { name }).waitFor();
  const code = (await lead.locator("code").first().textContent()).trim();
  check("the supervisor created an invitation-only community and sees its code");

  const person = await newPage("individual");
  await person.goto("/");
  await person.getByLabel("Email").fill("customer@example.com");
  await person.getByLabel("Password").fill("raasel-demo-1");
  await person.getByRole("button", { name: "Log in" }).last().click();
  await person.getByRole("button", { name: "Communities" }).click();
  await person.getByLabel("Invitation code").fill(code);
  await person.getByRole("button", { name: "Join" }).click();
  await person.getByRole("heading", { name }).waitFor();
  const text = `Hello everyone ${Date.now().toString(36)}`;
  await person.getByLabel("Message", { exact: true }).fill(text);
  await person.getByRole("button", { name: "Send" }).click();
  await person.getByText(text).waitFor();
  check("the individual joined with the code and wrote");

  const line = lead.locator("li.message", { hasText: text });
  await line.waitFor();
  await lead.locator(".members").getByText("Remove").first().waitFor();
  await shot(lead, "community-console");
  check("the console showed the message live, with the member list");
  await line.getByRole("button", { name: "Remove" }).click();
  await person.getByText("Removed by a moderator").waitFor();
  await person.getByText(text).waitFor({ state: "detached" });
  await shot(person, "community-individual");
  check("the moderator removed it; the individual saw it removed");
  report.ok = true;
} catch (error) {
  report.ok = false;
  report.error = String(error?.stack ?? error);
  for (const { label, page } of pages) await shot(page, `FAILED-${scenario}-${label}`).catch(() => undefined);
}
await browser.close();
console.log(JSON.stringify(report));
process.exit(report.ok ? 0 : 1);
