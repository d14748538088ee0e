// The playground's tables panel: once a run has finished, query each node's
// database as the run left it. Each node holds only its own truth: there is
// no join across databases, and comparing them is the lesson. The server
// lists the run's databases with their starter queries, which each design
// declares (GET /api/tables), and runs every query (sandbox.Query):
// read-only, one statement, bounded in rows and time.
//
// Usage, from player.js:
//
//   import { tablesPanel } from "./tables.js";
//   const tables = tablesPanel(meta, side);   // meta: one entry of meta.runs
//   sideElement.append(tables.el);
//   ...on every render:
//   tables.update(finished);

import { h } from "./dom.js";

/**
 * tablesPanel builds the panel for one side's run. side names it among the
 * page's panels, for unique element ids.
 */
export function tablesPanel(meta, side) {
  const id = (name) => `tb-${side}-${name}`;
  const note = h("p", { class: "tb-note", text: "Opens when the run has finished: each node's tables as the run left them." });
  const body = h("div", { class: "tb-body", hidden: true });
  const el = h(
    "details",
    { class: "tb-panel", "data-tables": meta.design },
    h("summary", {}, h("span", { class: "tb-title", text: "Tables" }), h("span", { class: "tb-sub", text: "query each node's database after the run" })),
    note,
    body,
  );

  const pick = h("select", { id: id("db"), class: "tb-db" });
  const schema = h("div", { class: "tb-schema" });
  const starters = h("div", { class: "tb-starters", role: "group", "aria-label": "Starter queries" });
  const sql = h("textarea", { id: id("sql"), class: "tb-sql", rows: 3, spellcheck: "false", autocomplete: "off", "aria-describedby": id("hint") });
  const runBtn = h("button", { type: "button", class: "btn primary tb-run", text: "Run query" });
  const status = h("p", { class: "tb-status", role: "status", "aria-live": "polite" });
  const result = h("div", { class: "tb-result", hidden: true, tabindex: 0, role: "region", "aria-label": "Query result" });
  body.append(
    h("p", { class: "tb-lead", text: "Every node keeps only its own truth: there is no join across databases. Ask each one, and compare." }),
    h("div", { class: "tb-pick" }, h("label", { for: id("db"), text: "Database" }), pick),
    schema,
    starters,
    h("label", { for: id("sql"), text: "SQL" }),
    sql,
    h("div", { class: "tb-actions" }, runBtn,
      h("span", { class: "tb-hint", id: id("hint"), text: "Read-only: one SELECT, WITH or EXPLAIN. Ctrl+Enter runs it." })),
    status,
    result,
  );

  let finished = false;
  let dbs = null; // the server's list, once loaded
  let loading = false;
  let inflight = null; // the AbortController of the query under way

  const url = (extra) => `/api/tables?${meta.query}${extra}`;

  async function load() {
    if (dbs || loading || !finished || !el.open) return;
    loading = true;
    status.textContent = "Loading the run's databases…";
    try {
      const res = await fetch(url(""));
      const data = await res.json();
      if (!res.ok) throw new Error(data.error || `the server answered ${res.status}`);
      dbs = data.databases || [];
      pick.replaceChildren(...dbs.map((d) => h("option", { value: d.name, text: `${d.name}: ${d.tables.map((t) => t.name).join(", ")}` })));
      showDB();
      status.textContent = "";
    } catch (e) {
      status.replaceChildren(h("span", { class: "bad", text: `The tables could not be loaded: ${e.message}` }));
    } finally {
      loading = false;
    }
  }

  function current() {
    return dbs?.find((d) => d.name === pick.value) || dbs?.[0];
  }

  function showDB() {
    const db = current();
    if (!db) return;
    schema.replaceChildren(...db.tables.map((t) => h("div", { class: "tb-table" },
      h("p", { class: "tb-table-name" }, h("code", { text: t.name }), h("span", { text: ` ${t.rows} ${t.rows === 1 ? "row" : "rows"}` })),
      h("pre", { text: [t.schema, ...(t.indexes || [])].map((s) => s.replace(/\s+/g, " ")).join(";\n") + ";" }),
    )));
    // The design says what is worth asking of its database; reading the
    // first rows is worth it everywhere.
    const list = (db.starters || []).map((s) => [s.label, s.sql]);
    list.push([`First rows of ${db.tables[0]?.name}`, `SELECT * FROM ${db.tables[0]?.name} LIMIT 20`]);
    starters.replaceChildren(h("span", { class: "label", text: "Try" }), ...list.slice(0, 4).map(([text, q]) => {
      const b = h("button", { type: "button", class: "btn tb-starter", title: q, text });
      b.addEventListener("click", () => {
        sql.value = q;
        run();
      });
      return b;
    }));
    if (!sql.value) sql.value = list[0][1];
  }

  async function run() {
    const db = current();
    if (!db) return;
    inflight?.abort();
    const ctl = (inflight = new AbortController());
    runBtn.disabled = true;
    status.textContent = `Running on ${db.name}…`;
    try {
      const res = await fetch(url(`&db=${encodeURIComponent(db.name)}&sql=${encodeURIComponent(sql.value)}`), { signal: ctl.signal });
      const data = await res.json();
      if (ctl !== inflight) return;
      if (!res.ok) {
        result.hidden = true;
        status.replaceChildren(h("span", { class: "bad", text: data.error || `the server answered ${res.status}` }));
        if (data.field === "sql") sql.setAttribute("aria-invalid", "true");
        return;
      }
      sql.removeAttribute("aria-invalid");
      showResult(db.name, data);
    } catch (e) {
      if (e.name !== "AbortError") status.replaceChildren(h("span", { class: "bad", text: `The query could not be sent: ${e.message}` }));
    } finally {
      if (ctl === inflight) {
        runBtn.disabled = false;
        inflight = null;
      }
    }
  }

  function showResult(dbName, data) {
    const rows = data.rows || [];
    const n = rows.length;
    status.textContent = data.truncated
      ? `${dbName}: the first ${n} rows; the query has more.`
      : `${dbName}: ${n} ${n === 1 ? "row" : "rows"}.`;
    // A column of numbers is right-aligned, its header with it.
    const num = (data.columns || []).map((_, i) => n > 0 && rows.every((r) => r[i] === null || typeof r[i] === "number"));
    const table = h("table", { class: "tb-rows" },
      h("thead", {}, h("tr", {}, (data.columns || []).map((c, i) => h("th", { scope: "col", class: num[i] ? "num" : null, text: c })))),
      h("tbody", {}, rows.map((r) => h("tr", {}, r.map((v) => v === null
        ? h("td", { class: "null", text: "NULL" })
        : h("td", { class: typeof v === "number" ? "num" : null, text: String(v) }))))),
    );
    result.replaceChildren(table);
    result.hidden = false;
  }

  pick.addEventListener("change", () => {
    sql.value = "";
    result.hidden = true;
    status.textContent = "";
    showDB();
  });
  runBtn.addEventListener("click", run);
  // Typing SQL is typing: the page's shortcuts (Space, ?, arrows) stay out
  // of the box, and Ctrl+Enter runs the query.
  sql.addEventListener("keydown", (e) => {
    e.stopPropagation();
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      run();
    }
  });
  el.addEventListener("toggle", load);

  /** update is called on every render; finished says the run is over. */
  function update(done) {
    if (done === finished) return;
    finished = done;
    note.hidden = done;
    body.hidden = !done;
    load();
  }

  return { el, update };
}
