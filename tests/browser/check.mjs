// The explorer in a real browser: every page loads with no failed request and no
// console error, the charts show the record as data/xinjiang says it is, and each
// embed renders alone. Screenshots of each page go to the output directory.
//
//   node check.mjs BASE_URL OUT_DIR DATA_DIR     (run.sh starts the server and calls this)
import { readFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";

const [base, out, dataDir] = process.argv.slice(2);
mkdirSync(out, { recursive: true });

/** Rows of a CSV file as objects (quoted fields, doubled quotes, commas inside). */
function readCsv(path) {
  const text = readFileSync(path, "utf8");
  const rows = [];
  let row = [], field = "", quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { field += '"'; i++; }
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") { row.push(field); field = ""; }
    else if (c === "\n") { row.push(field.replace(/\r$/, "")); rows.push(row); row = []; field = ""; }
    else field += c;
  }
  if (field || row.length) { row.push(field); rows.push(row); }
  const [header, ...body] = rows;
  return body.map((cells) => Object.fromEntries(header.map((name, i) => [name, cells[i] ?? ""])));
}

const COUNTER_LETTER = "hrc41-letter-supportive-2019-07-12";
const signatories = readCsv(join(dataDir, "signatories.csv"));
const statements = readCsv(join(dataDir, "statements.csv"));
const expectedStance = new Map(signatories
  .filter((r) => r.statement_slug === COUNTER_LETTER)
  .map((r) => [r.country_iso3, r.withdrawn_on ? "withdrawn" : "supportive"]));
const xinjiangStatements = statements.length;

const failures = [];
function check(condition, message) {
  if (!condition) failures.push(message);
  console.log(`${condition ? "ok  " : "FAIL"} ${message}`);
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});

/** Opens a page, records every console error, page error and failed request. */
async function open(path, { width = 1280, height = 900, name } = {}) {
  const context = await browser.newContext({ viewport: { width, height } });
  const page = await context.newPage();
  const problems = [];
  page.on("console", (message) => {
    if (message.type() === "error") problems.push(`console: ${message.text()}`);
  });
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  page.on("requestfailed", (request) => problems.push(`failed: ${request.url()} ${request.failure()?.errorText}`));
  page.on("response", (response) => {
    if (response.status() >= 400) problems.push(`${response.status()}: ${response.url()}`);
  });
  await page.goto(base + path, { waitUntil: "networkidle", timeout: 30000 });
  // The explorer's views finish by replacing the loading line.
  await page.waitForFunction(() => !document.querySelector("main .status"), null, { timeout: 30000 })
    .catch(() => problems.push("the page never finished loading"));
  check(problems.length === 0, `${path} loads cleanly${problems.length ? ": " + problems.join("; ") : ""}`);
  check(await page.locator(".error").count() === 0, `${path} shows no error`);
  check(!(await page.locator("body").textContent()).includes("[object"), `${path} shows no object as text`);
  if (name) await page.screenshot({ path: join(out, `${name}.png`), fullPage: true });
  return { page, context };
}

// The search page: the July 2019 statements, with the request behind them.
{
  const { page, context } = await open("/?from=2019-07-01&to=2019-07-31", { name: "home" });
  const rows = await page.locator("tbody tr").count();
  const july = statements.filter((s) => s.date.startsWith("2019-07")).length;
  check(rows === july, `the July 2019 search lists ${july} statements (saw ${rows})`);
  const request = await page.locator(".api code").first().textContent();
  check(request.includes("/v1/statements?from=2019-07-01&to=2019-07-31"), "the search names its API request");
  // Keyboard: the first Tab reaches the skip link.
  await page.keyboard.press("Tab");
  check(await page.evaluate(() => document.activeElement?.className) === "skip", "Tab first reaches the skip link");
  await context.close();
}

// The counter-letter's map: its signatories supportive, Qatar withdrawn, no one else.
{
  const { page, context } = await open(`/explore/statements/${COUNTER_LETTER}`, { name: "statement" });
  // The first screen alone, as the README shows it (docs/explorer.png).
  await page.screenshot({ path: join(out, "explorer.png") });
  const drawn = new Map(await page.locator("figure svg path[data-stance]").evaluateAll(
    (paths) => paths.map((p) => [p.dataset.code, p.dataset.stance])));
  const shapes = new Set(await page.locator("figure svg path[data-code]").evaluateAll(
    (paths) => paths.map((p) => p.dataset.code)));
  const wrong = [...expectedStance].filter(([code, stance]) => shapes.has(code) && drawn.get(code) !== stance);
  check(wrong.length === 0, `the map colours each signatory by its stance${wrong.length ? ": wrong " + wrong.join(" ") : ""}`);
  const extra = [...drawn.keys()].filter((code) => !expectedStance.has(code));
  check(extra.length === 0, `the map colours no other country${extra.length ? ": " + extra.join(" ") : ""}`);
  check(drawn.get("QAT") === "withdrawn", "Qatar is drawn as withdrawn");
  const qatar = await page.locator('figure svg path[data-code="QAT"]').getAttribute("fill");
  const pakistan = await page.locator('figure svg path[data-code="PAK"]').getAttribute("fill");
  const china = await page.locator('figure svg path[data-code="CHN"]').getAttribute("fill");
  check(new Set([qatar, pakistan, china]).size === 3,
    `withdrawn Qatar (${qatar}), supportive Pakistan (${pakistan}) and China, not a signatory (${china}), differ`);
  const listed = await page.locator(".groups li").count();
  check(listed === expectedStance.size, `${expectedStance.size} countries are listed by stance (saw ${listed})`);
  await context.close();
  // The same page on a phone.
  const phone = await open(`/explore/statements/${COUNTER_LETTER}`, { width: 390, height: 844, name: "statement-phone" });
  const overflow = await phone.page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  check(overflow <= 1, `the statement page fits a phone's width (overflow ${overflow}px)`);
  await phone.context.close();
}

// A country's record: Somalia signed on both sides.
{
  const { page, context } = await open("/explore/countries/SOM", { name: "country" });
  const text = await page.locator("main").textContent();
  check(text.includes("Somalia") && text.includes("Human rights in Xinjiang"), "Somalia's page names its topic");
  const somali = signatories.filter((r) => r.country_iso3 === "SOM").length;
  const rows = await page.locator("h2:has-text('Statements, oldest first') ~ .table-wrap").first().locator("tbody tr").count();
  check(rows === somali, `Somalia's ${somali} statements are listed (saw ${rows})`);
  const switched = await page.locator("table").first().locator("tbody tr td:nth-child(4)").first().textContent();
  check(switched === "yes", "Somalia is shown as having switched sides");
  await context.close();
}

// A topic's timeline: a line per side, a point per statement, the table fallback.
{
  const { page, context } = await open("/explore/topics/xinjiang", { name: "topic" });
  const sides = await page.locator("figure svg path[data-side]").evaluateAll((paths) => paths.map((p) => p.dataset.side));
  check(sides.includes("critical") && sides.includes("supportive"), `the timeline draws both sides (${sides})`);
  const points = await page.locator('figure svg circle[data-side="critical"]').count();
  check(points === xinjiangStatements, `a point per statement (${points} of ${xinjiangStatements})`);
  const fallback = await page.locator("details.fallback tbody tr").count();
  check(fallback === xinjiangStatements, `the table fallback has every statement (${fallback})`);
  const switchers = await page.locator("h2:has-text('changed sides') ~ .table-wrap").first().locator("tbody tr").count();
  check(switchers > 0, `the switchers are listed (${switchers})`);
  await context.close();
}

// Each embed alone, at an iframe's size.
for (const [path, name, selector] of [
  [`/embed/statements/${COUNTER_LETTER}/map`, "embed-map", 'svg path[data-code="QAT"][data-stance="withdrawn"]'],
  ["/embed/topics/xinjiang/timeline", "embed-timeline", 'svg path[data-side="supportive"]'],
]) {
  const { page, context } = await open(path, { width: 640, height: 560, name });
  check(await page.locator(selector).count() === 1, `${path} draws its chart`);
  check((await page.locator(".source").textContent()).includes("Signatories"), `${path} has its source line`);
  await context.close();
}

await browser.close();
if (failures.length) {
  console.error(`${failures.length} check(s) failed`);
  process.exit(1);
}
console.log("every browser check passed");
