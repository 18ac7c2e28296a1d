// The explorer: reads the public /v1 API and shows it as pages. Each view names the
// request behind it, with its JSON and CSV, so a reader learns the API by clicking.
// Pages are built with DOM calls (never HTML from data); the charts are the server's
// SVG, inlined so that their shapes carry the data attributes tests and readers use.
"use strict";

const STANCES = ["critical", "supportive", "neutral", "abstain", "withdrawn", "yes", "no"];
const KINDS = ["joint_letter", "joint_statement", "recorded_vote", "resolution"];

/** "1 country", "2 countries". */
function countriesCount(n) {
  return `${n} ${n === 1 ? "country" : "countries"}`;
}

/** An element with attributes and children (strings become text). */
function h(tag, attributes, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes || {})) {
    if (value !== undefined && value !== null && value !== false) element.setAttribute(name, value);
  }
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : String(child));
  }
  return element;
}

async function getJson(url) {
  const response = await fetch(url, { headers: { Accept: "application/json" } });
  if (!response.ok) throw new Error(`${url} answered ${response.status}`);
  return response.json();
}

/** The server's SVG chart, inlined. */
async function chart(url, caption) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url} answered ${response.status}`);
  const parsed = new DOMParser().parseFromString(await response.text(), "image/svg+xml");
  return h("figure", {}, document.importNode(parsed.documentElement, true), h("figcaption", {}, caption));
}

function chip(stance) {
  return h("span", { class: `chip ${stance}` }, stance.replace("_", " "));
}

function withCsv(url) {
  return url + (url.includes("?") ? "&" : "?") + "format=csv";
}

/** The API request behind a view: its full URL to copy, and its JSON and CSV. */
function apiBox(url, csvUrl) {
  const absolute = new URL(url, location.origin).href;
  const copy = h("button", { type: "button" }, "Copy URL");
  copy.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(absolute);
      copy.textContent = "Copied";
    } catch {
      copy.textContent = "Select the URL to copy it";
    }
  });
  return h("div", { class: "api" },
    h("div", {}, "API request: ", h("code", {}, "GET " + absolute)),
    h("div", { class: "links" },
      copy,
      h("a", { href: url }, "JSON"),
      csvUrl && h("a", { href: csvUrl }, "CSV"),
      csvUrl && h("a", { href: csvUrl + "&bom=true" }, "CSV for Excel")));
}

function embedBox(page, svg) {
  const origin = location.origin;
  const snippet = `<iframe src="${origin}${page}" width="100%" height="620" style="border:0" title="Signatories chart" loading="lazy"></iframe>`;
  return h("details", { class: "embed" },
    h("summary", {}, "Embed this chart"),
    h("p", {}, "Paste into an article:"),
    h("pre", {}, snippet),
    h("p", {}, "Or use the picture alone: ", h("a", { href: svg }, origin + svg)));
}

function table(headers, rows) {
  return h("div", { class: "table-wrap" },
    h("table", {},
      h("thead", {}, h("tr", {}, headers.map((name) => h("th", { scope: "col" }, name)))),
      h("tbody", {}, rows.map((cells) => h("tr", {}, cells.map((cell) => h("td", {}, cell)))))));
}

function statementLink(id, title) {
  return h("a", { href: `/explore/statements/${encodeURIComponent(id)}` }, title);
}

function countryLink(country) {
  return h("a", { href: `/explore/countries/${country.code}` }, country.name);
}

// Views ---------------------------------------------------------------------------

async function home(main) {
  const query = new URLSearchParams(location.search);
  const topics = (await getJson("/v1/topics?limit=500")).data;
  const field = (label, control) => h("label", {}, label, control);
  const select = (name, values, any) => {
    const control = h("select", { name }, h("option", { value: "" }, any),
      values.map(([value, label]) => h("option", { value }, label)));
    control.value = query.get(name) || "";
    return control;
  };
  const input = (name, type, placeholder) =>
    h("input", { name, type, placeholder, value: query.get(name) || "" });
  const form = h("form", { class: "search", method: "get", action: "/", role: "search" },
    field("Words", input("q", "search", "e.g. detention")),
    field("Topic", select("topic", topics.map((t) => [t.slug, t.name]), "any topic")),
    field("Stance", select("stance", ["critical", "supportive", "neutral"].map((s) => [s, s]), "any stance")),
    field("Kind", select("kind", KINDS.map((k) => [k, k.replace("_", " ")]), "any kind")),
    field("Forum", input("forum", "text", "e.g. UN Human Rights Council")),
    field("Country (code)", input("country", "text", "e.g. FRA or fr")),
    field("From", input("from", "date")),
    field("To", input("to", "date")),
    h("button", { type: "submit" }, "Search"));

  const params = new URLSearchParams();
  for (const name of ["q", "topic", "stance", "kind", "forum", "country", "from", "to"]) {
    const value = (query.get(name) || "").trim();
    if (value) params.set(name, value);
  }
  const base = "/v1/statements" + (params.size ? "?" + params : "");
  const url = base + (params.size ? "&" : "?") + "limit=100";
  main.replaceChildren(
    h("h1", {}, "Joint statements at the UN, and who signed them"),
    h("p", { class: "meta" }, "Letters, joint statements and recorded votes; the countries on each side, " +
      "when they joined and who withdrew. Search, then open a statement for its map."),
    h("div", { class: "topics" }, "Topics: ", topics.map((t) => h("a", { href: `/explore/topics/${t.slug}` }, t.name))),
    form,
    h("p", { class: "status" }, "Loading…"));
  let page;
  try {
    page = await getJson(url);
  } catch (error) {
    main.lastChild.replaceWith(h("p", { class: "error", role: "alert" }, "The search could not be run: " + error.message));
    return;
  }
  main.lastChild.replaceWith(
    apiBox(url, withCsv(base)),
    h("h2", {}, `${page.data.length}${page.page.next_cursor ? "+" : ""} statements`),
    table(["Date", "Statement", "Kind", "Forum", "Stance", "Countries"],
      page.data.map((s) => [s.issued_on, statementLink(s.id, s.title), s.kind.replace("_", " "),
        s.forum, s.stance ? chip(s.stance) : "—", String(s.signatory_count)])));
}

async function statementView(main, id) {
  const url = `/v1/statements/${encodeURIComponent(id)}`;
  const s = await getJson(url);
  document.title = `${s.title} · Signatories`;
  const groups = STANCES.map((stance) => [stance, s.signatories.filter((p) => p.effective_stance === stance)])
    .filter(([, members]) => members.length);
  const map = `/embed/statements/${encodeURIComponent(id)}/map`;
  main.replaceChildren(
    h("h1", {}, s.title),
    h("p", { class: "meta" }, [s.issued_on, s.forum, s.session, s.kind.replace("_", " "), s.un_symbol]
      .filter(Boolean).join(" · "), " ", s.stance ? chip(s.stance) : "",
      s.lead_country ? [" · led by ", countryLink(s.lead_country)] : "",
      " · topics: ", s.topics.map((t, i) => [i ? ", " : "", h("a", { href: `/explore/topics/${t}` }, t)])),
    s.summary ? h("p", {}, s.summary) : "",
    apiBox(url, `/v1/statements/${encodeURIComponent(id)}/signatories?format=csv`),
    await chart(map + ".svg", "Each country coloured by its effective stance in this statement; grey: not taking part."),
    embedBox(map, map + ".svg"),
    h("h2", {}, `${countriesCount(s.participant_count)} by stance`),
    h("div", { class: "groups" }, groups.map(([stance, members]) => h("section", {},
      h("h3", {}, chip(stance), `${members.length}`),
      h("ul", { class: "countries" }, members.map((p) => h("li", {}, countryLink(p.country),
        p.joined_on ? ` (joined ${p.joined_on})` : "",
        p.withdrawn_on ? ` (withdrew ${p.withdrawn_on})` : "")))))),
    h("section", { class: "sources" }, s.sources.length ? h("h2", {}, "Sources") : "",
      h("ul", {}, s.sources.map((source) => h("li", {}, h("a", { href: source.url, rel: "noopener" }, source.url))))));
}

async function countryView(main, code) {
  const url = `/v1/countries/${encodeURIComponent(code)}/stances`;
  const record = await getJson(url);
  const country = record.country;
  document.title = `${country.name} · Signatories`;
  const statementsUrl = `/v1/countries/${country.code}/statements?sort=date&limit=500`;
  const statements = (await getJson(statementsUrl)).data;
  main.replaceChildren(
    h("h1", {}, country.name),
    h("p", { class: "meta" }, [country.official_name, country.region, country.subregion,
      country.un_member ? "UN member" : "not a UN member"].filter(Boolean).join(" · ")),
    apiBox(url, null),
    h("h2", {}, "Record per topic"),
    record.topics.length ? table(["Topic", "Latest stance", "Since", "Switched sides?", "Sides taken (first – last)"],
      record.topics.map((t) => [h("a", { href: `/explore/topics/${t.topic.slug}` }, t.topic.name),
        chip(t.latest_stance), t.latest_on, t.switched ? "yes" : "no",
        h("span", {}, t.stances.map((step, i) => [i ? "; " : "", chip(step.stance),
          ` ${step.first.date} – ${step.last.date} (${step.steps})`]))]))
      : h("p", {}, "No statements recorded."),
    h("h2", {}, "Statements, oldest first"),
    apiBox(statementsUrl, withCsv(`/v1/countries/${country.code}/statements?sort=date`)),
    table(["Date", "Statement", "Role", "Effective stance"],
      statements.map((p) => [p.statement.issued_on, statementLink(p.statement.id, p.statement.title),
        p.role.replace("_", " "), h("span", {}, chip(p.effective_stance),
          p.withdrawn_on ? ` withdrew ${p.withdrawn_on}` : "")])));
  for (const t of record.topics) {
    const alignmentUrl = `/v1/countries/${country.code}/alignment?topic=${t.topic.slug}`;
    const alignment = await getJson(alignmentUrl);
    main.append(
      h("h2", {}, `Who stood with ${country.name} on ${t.topic.name}`),
      apiBox(alignmentUrl, withCsv(alignmentUrl)),
      alignment.data.length
        ? table(["Country", "Statements shared", "Same side", "Opposite side"],
          alignment.data.slice(0, 12).map((a) => [countryLink(a.country), String(a.shared), String(a.agreed), String(a.opposed)]))
        : h("p", {}, "No other country shares a statement."));
  }
}

async function topicView(main, slug) {
  const url = `/v1/topics/${encodeURIComponent(slug)}`;
  const topic = await getJson(url);
  document.title = `${topic.name} · Signatories`;
  const timelineUrl = `/v1/topics/${topic.slug}/timeline?limit=500`;
  const switchersUrl = `/v1/topics/${topic.slug}/switchers?limit=500`;
  const [timeline, switchers] = await Promise.all([getJson(timelineUrl), getJson(switchersUrl)]);
  const embed = `/embed/topics/${topic.slug}/timeline`;
  main.replaceChildren(
    h("h1", {}, topic.name),
    h("p", { class: "meta" }, `${topic.statement_count} statements, ${topic.first_issued_on} – ${topic.last_issued_on}`),
    topic.description ? h("p", {}, topic.description) : "",
    h("h2", {}, "Countries on each side over time"),
    apiBox(timelineUrl, withCsv(`/v1/topics/${topic.slug}/timeline`)),
    await chart(embed + ".svg", "Distinct countries that have taken each side so far, after each statement."),
    embedBox(embed, embed + ".svg"),
    h("details", { class: "fallback" }, h("summary", {}, "The same as a table"),
      table(["Date", "Statement", "Critical so far", "Supportive so far"],
        timeline.data.map((e) => [e.issued_on, statementLink(e.statement_id, e.title),
          String(e.cumulative.critical), String(e.cumulative.supportive)]))),
    h("h2", {}, `${countriesCount(switchers.data.length)} that changed sides`),
    apiBox(switchersUrl, withCsv(`/v1/topics/${topic.slug}/switchers`)),
    table(["Country", "Sides, in order (first – last statement)"],
      switchers.data.map((s) => [countryLink(s.country),
        h("span", {}, [...s.sides].sort((a, b) => a.first.date.localeCompare(b.first.date))
          .map((side, i) => [i ? " → " : "", chip(side.side), ` ${side.first.date} – ${side.last.date}`]))])));
}

async function route() {
  const main = document.getElementById("main");
  const parts = location.pathname.split("/").filter(Boolean).map(decodeURIComponent);
  try {
    if (parts.length === 0) await home(main);
    else if (parts[1] === "statements") await statementView(main, parts[2]);
    else if (parts[1] === "countries") await countryView(main, parts[2]);
    else if (parts[1] === "topics") await topicView(main, parts[2]);
  } catch (error) {
    main.replaceChildren(h("p", { class: "error", role: "alert" }, "This page could not be loaded: " + error.message));
  }
}

route();
