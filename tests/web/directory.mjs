// The directory and the AI router in the browser (issue 14, "In the app"), run by
// tests/web/test_directory_browser.py:
//   RAASEL_BROWSER='{"url", "artifacts", "scenario", "chromium", "phase", "account", "checkout"}' node directory.mjs
// phase "free": featured organizations (promoted ones marked) and categories before anything
// is typed; a need ("I was charged twice") ranks organizations by the router with the
// matching team highlighted; the upgrade prompt opens the plan panel with the configured
// checkout link; a conversation opened without a team is auto-routed and the person is told
// which team took it. phase "plus": the same need shows recommended teams across
// organizations; picking one opens that team with the need as the draft. phase "admin" (an
// owner): the groups screen asks for example requests; written in three languages, they
// are saved and read back.
// Prints one JSON line; exits 1 on failure.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";

const config = JSON.parse(process.env.RAASEL_BROWSER ?? "{}");
const { url, artifacts, scenario, phase, account, checkout } = config;
mkdirSync(artifacts, { recursive: true });
const browser = await chromium.launch({
  executablePath: config.chromium ?? "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run", "--disable-dev-shm-usage"],
});
const report = { scenario, phase, checks: [] };
const check = (name) => report.checks.push(name);
const NEED = "I was charged twice";

const context = await browser.newContext({ ignoreHTTPSErrors: true, baseURL: url, viewport: { width: 1280, height: 900 } });
const page = await context.newPage();
page.setDefaultTimeout(30000);
const shot = (name) => page.screenshot({ path: join(artifacts, `directory-${phase}-${name}.png`), fullPage: true });

async function logIn() {
  await page.goto("/");
  await page.getByLabel("Email").fill(account.email);
  await page.getByLabel("Password").fill(account.password);
  await page.getByRole("button", { name: "Log in" }).last().click();
  await page.getByLabel("Search organizations").waitFor();
}

async function freePhase() {
  const featured = page.getByRole("list", { name: "Featured organizations" });
  await featured.locator(".result").first().waitFor();
  const first = featured.locator(".result").first();
  await first.getByText("Promoted", { exact: true }).waitFor();
  const promoted = await featured.locator(".result", { has: page.getByText("Promoted", { exact: true }) }).count();
  if (promoted < 2) throw new Error(`expected the demo's two promoted organizations marked, saw ${promoted}`);
  const categories = page.getByRole("list", { name: "Categories" }).getByRole("button");
  if ((await categories.count()) < 3) throw new Error("expected the directory's categories before typing");
  await shot("featured");
  check("before typing: featured organizations, promoted ones first and marked Promoted, and categories");

  const category = categories.first();
  const name = (await category.textContent()).trim();
  await category.click();
  await page.getByRole("list", { name: "Search results" }).locator(".result").first().waitFor();
  if ((await category.getAttribute("aria-pressed")) !== "true") throw new Error("the category chip is not pressed");
  await category.click();
  await featured.waitFor();
  check(`a category (${name}) filters the directory and clears again`);

  await page.getByLabel("Search organizations").fill(NEED);
  const results = page.getByRole("list", { name: "Search results" });
  const matching = results.locator('[data-matching="true"]').first();
  await matching.waitFor();
  const team = (await matching.textContent()).trim();
  const result = results.locator(".result", { has: page.locator('[data-matching="true"]') }).first();
  const reason = (await result.locator(".result-org small").textContent()).trim();
  if (!reason.startsWith("matches:")) throw new Error(`the matching organization gives no reason: ${reason}`);
  if (await page.getByRole("region", { name: "Recommended teams" }).count()) throw new Error("a free user saw plus recommendations");
  await shot("need");
  check(`"${NEED}": organizations by the router, the matching team highlighted (${team}) with its reason (${reason})`);

  await page.getByRole("button", { name: "See plans" }).click();
  const plans = page.getByRole("region", { name: "Plans" });
  await plans.getByText("Your plan: Free").waitFor();
  await plans.getByText(/recommended teams across every organization/).waitFor();
  const href = await plans.getByRole("link", { name: "Get Plus" }).getAttribute("href");
  if (href !== checkout) throw new Error(`the checkout link is ${href}, not the configured ${checkout}`);
  await shot("plans");
  check("the upgrade prompt opens the plan panel: current plan, what plus gives, the configured checkout link");
  await plans.getByRole("button", { name: "Close" }).click();

  await page.getByLabel("Search organizations").fill("acme");
  await page.locator(".result-org", { has: page.locator("strong", { hasText: /^Acme$/ }) }).click();
  await page.getByRole("heading", { name: "Message Acme" }).waitFor();
  await page.getByLabel("Your message").fill("the app keeps crashing when I log in");
  const suggested = page.getByTestId("suggested-team");
  await suggested.getByText("Send without choosing and it goes there.", { exact: false }).waitFor();
  const chip = (await suggested.locator(".chip").textContent()).trim();
  await shot("suggested");
  check(`writing to Acme: the router highlights ${chip} with its reason, sure enough to route`);
  await page.getByRole("button", { name: "Start conversation" }).click();
  const routed = page.getByTestId("routed-team");
  await routed.getByText("took your conversation", { exact: false }).waitFor();
  const told = (await routed.textContent()).trim();
  if (!told.startsWith(chip)) throw new Error(`told "${told}", expected ${chip}`);
  await shot("routed");
  check(`sent without a team: auto-routed, and the person is told "${told}"`);
}

async function plusPhase() {
  await page.getByLabel("Search organizations").fill(NEED);
  const teams = page.getByRole("region", { name: "Recommended teams" });
  const top = teams.locator("li").first();
  await top.waitFor();
  await top.getByText(/\d+% sure/).waitFor();
  const label = (await top.locator("strong").first().textContent()).trim();
  const reason = (await top.locator("small").first().textContent()).trim();
  if (!reason.startsWith("matches:")) throw new Error(`the recommended team gives no reason: ${reason}`);
  if (await page.getByRole("button", { name: "See plans" }).count()) throw new Error("a plus user saw the upgrade prompt");
  await shot("recommended");
  check(`plus: recommended teams across organizations, the first ${label} (${reason})`);

  const [teamName, orgName] = label.split(" · ");
  await top.getByRole("button").click();
  await page.getByRole("heading", { name: `Message ${orgName}` }).waitFor();
  const selected = await page.locator(".new-conversation select").evaluate((s) => s.options[s.selectedIndex].text);
  if (!selected.startsWith(teamName)) throw new Error(`the team chosen is ${selected}, not ${teamName}`);
  const draft = await page.getByLabel("Your message").inputValue();
  if (draft !== NEED) throw new Error(`the draft is "${draft}"`);
  await shot("picked");
  check(`picking it opens ${orgName} with ${teamName} chosen and the need as the draft`);
}

async function adminPhase() {
  await page.goto("/agent");
  await page.getByLabel("Organization").fill("acme");
  await page.getByLabel("Email").fill(account.email);
  await page.getByLabel("Password").fill(account.password);
  await page.getByRole("button", { name: "Log in" }).click();
  await page.getByRole("button", { name: "Admin" }).click();
  await page.getByRole("button", { name: "Groups" }).click();
  const billing = page.getByRole("form", { name: "Group Billing" });
  await billing.getByText("No example requests yet", { exact: false }).waitFor();
  const field = billing.getByLabel("Example requests");
  const hint = await field.getAttribute("aria-describedby");
  await page.getByText("Write 3 to 5 requests the way customers put them", { exact: false }).first().waitFor();
  check(`admin: the Billing group has no example requests and the screen asks for 3 to 5 (${hint ? "hint linked" : "hint shown"})`);
  const examples = ["my card got billed two times", "j'ai été débité deux fois", "انسحب المبلغ مرتين"];
  await field.fill(examples.join("\n"));
  await billing.getByRole("button", { name: "Save group" }).click();
  await billing.getByRole("status").getByText("Saved.").waitFor();
  await page.reload();
  await page.getByRole("button", { name: "Admin" }).click();
  await page.getByRole("button", { name: "Groups" }).click();
  const saved = await page.getByRole("form", { name: "Group Billing" }).getByLabel("Example requests").inputValue();
  if (saved !== examples.join("\n")) throw new Error(`the examples read back as ${JSON.stringify(saved)}`);
  if (await page.getByRole("form", { name: "Group Billing" }).getByText("No example requests yet", { exact: false }).count()) {
    throw new Error("the no-examples note is still shown");
  }
  await shot("examples");
  check("admin: example requests in three languages saved, read back after a reload, the note gone");
}

try {
  if (phase === "admin") await adminPhase();
  else {
    await logIn();
    if (phase === "free") await freePhase();
    else await plusPhase();
  }
  report.ok = true;
} catch (error) {
  report.ok = false;
  report.error = String(error?.stack ?? error);
  await shot("failure").catch(() => undefined);
}
await browser.close();
console.log(JSON.stringify(report));
process.exit(report.ok ? 0 : 1);
