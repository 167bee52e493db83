/* edgeperf results explorer: draws the tables from the JSON embedded in the page.
 *
 * Every string from a submission reaches the page through textContent or an attribute set with
 * setAttribute, never through innerHTML, so markup in a system name shows as text.
 * State (tree, tabs, filters, sort, page, selection) lives in one object and the view is drawn
 * from it: a tab change redraws the whole view, a filter, sort or page change only the table.
 * Rows of a table are built once and reused, so a filter or a sort only reorders existing rows,
 * and only one page of rows (100 by default) is laid out at a time.
 */
(function () {
  "use strict";

  var DATA = JSON.parse(document.getElementById("edgeperf-data").textContent);
  var DIVISIONS = [["closed", "Closed"], ["open", "Open"]];
  var CATEGORIES = [["available", "Available"], ["preview", "Preview"], ["rdi", "RDI"]];
  var KINDS = [["performance", "Performance"], ["power", "Power"]];
  var SUITES = [["", "All system types"], ["datacenter", "Datacenter"], ["edge", "Edge"]];

  var state = {
    tree: DATA.trees.length ? 0 : -1,
    division: "closed", category: "available", kind: "performance",
    filters: { submitter: "", accelerator: "", benchmark: "", suite: "" },
    sort: null,            // {key: "submitter" | "value:<i>" | ..., dir: 1 | -1}
    page: 0, pageSize: 100, // rows are shown a page at a time: a whole round lays out fast
    selected: {},          // row id -> true, for the compare view
    comparing: false
  };
  var rowCache = {};       // table key -> {id: <tr>}
  var optionCache = {};    // table key + filter -> the filter's choices
  var collator = new Intl.Collator("en");  // far faster than localeCompare per call
  var charts = [];

  // ------------------------------------------------------------------ small DOM helpers
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    if (attrs) {
      for (var k in attrs) {
        if (!Object.prototype.hasOwnProperty.call(attrs, k) || attrs[k] === null || attrs[k] === undefined) continue;
        if (k === "text") node.textContent = attrs[k];
        else if (k === "class") node.className = attrs[k];
        else node.setAttribute(k, attrs[k]);
      }
    }
    (children || []).forEach(function (c) {
      node.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
    });
    return node;
  }

  function formatNumber(v) {
    // As edgeperf report: two decimals with separators; three significant digits below 1.
    if (v === null || v === undefined) return "";
    if (v === 0 || Math.abs(v) >= 1) {
      return v.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
    }
    return String(Number(v.toPrecision(3)));
  }

  function tree() { return state.tree >= 0 ? DATA.trees[state.tree] : null; }

  function currentTable() {
    var t = tree();
    if (!t) return null;
    var key = state.division + "-" + state.category + (state.kind === "power" ? "-power" : "");
    for (var i = 0; i < t.tables.length; i++) if (t.tables[i].key === key) return t.tables[i];
    return null;
  }

  function hasTable(division, category, kind) {
    var t = tree();
    if (!t) return false;
    var key = division + "-" + category + (kind === "power" ? "-power" : "");
    return t.tables.some(function (x) { return x.key === key; });
  }

  // ------------------------------------------------------------------ columns of the view
  // The leading columns: [key, heading, accessor]. Processor and Accelerator carry their counts.
  function leadingColumns(table) {
    var cols = [
      ["id", "ID", function (r) { return r.id; }],
      ["submitter", "Submitter", function (r) { return r.submitter; }],
      ["system", "System", function (r) { return r.system; }],
      ["processor", "Processor and count", function (r) { return r.processor; }],
      ["accelerator", "Accelerator and count", function (r) { return r.accelerator; }],
      ["software", "Software", function (r) { return r.software; }],
      ["suite", "System type", function (r) { return r.suite; }]
    ];
    if (table.open) cols.push(["model_used", "Model used", function (r) { return r.model_used; }]);
    return cols;
  }

  function visibleColumns(table) {
    // Indices of the result columns shown under the benchmark filter.
    var out = [];
    table.columns.forEach(function (c, i) {
      if (!state.filters.benchmark || c.benchmark === state.filters.benchmark) out.push(i);
    });
    return out;
  }

  function rowMatches(row, table, cols) {
    var f = state.filters;
    if (f.submitter && row.submitter !== f.submitter) return false;
    if (f.accelerator && (row.accelerator || "(none)") !== f.accelerator) return false;
    if (f.suite && row.suite.split(",").indexOf(f.suite) < 0) return false;
    if (f.benchmark && !cols.some(function (i) { return row.values[i] !== null; })) return false;
    return true;
  }

  function sortValue(row, key) {
    if (key.indexOf("value:") === 0) return row.values[Number(key.slice(6))];
    if (key === "processor") return row.processor + "\u0000" + String(row.processor_count).padStart(6, "0");
    if (key === "accelerator") return (row.accelerator || "") + "\u0000" + String(row.accelerator_count || 0).padStart(6, "0");
    return row[key];
  }

  function viewRows(table) {
    var cols = visibleColumns(table);
    var rows = table.rows.filter(function (r) { return rowMatches(r, table, cols); });
    if (state.sort) {
      var key = state.sort.key, dir = state.sort.dir;
      rows = rows.map(function (r, i) { return [r, i]; });
      rows.sort(function (a, b) {
        var x = sortValue(a[0], key), y = sortValue(b[0], key);
        var xm = x === null || x === undefined || x === "", ym = y === null || y === undefined || y === "";
        if (xm || ym) return xm && ym ? a[1] - b[1] : (xm ? 1 : -1);   // blanks last either way
        var c = typeof x === "number" && typeof y === "number" ? x - y : collator.compare(String(x), String(y));
        return c !== 0 ? c * dir : a[1] - b[1];
      });
      rows = rows.map(function (p) { return p[0]; });
    }
    return { rows: rows, cols: cols };
  }

  // ------------------------------------------------------------------ controls
  function tabBar(name, items, current, enabled, onPick) {
    var bar = el("div", { "class": "tabs", role: "tablist", "data-tabs": name });
    items.forEach(function (it) {
      var on = it[0] === current;
      var b = el("button", {
        type: "button", role: "tab", "class": "tab" + (on ? " active" : ""), "aria-selected": on ? "true" : "false",
        "data-tab": it[0], text: it[1]
      });
      if (!enabled(it[0])) { b.disabled = true; b.title = "No results here"; }
      b.addEventListener("click", function () { onPick(it[0]); });
      bar.appendChild(b);
    });
    return bar;
  }

  function select(name, label, options, value, onChange) {
    var s = el("select", { id: "filter-" + name, name: name, "aria-label": label });
    options.forEach(function (o) {
      var opt = el("option", { value: o[0], text: o[1] });
      if (o[0] === value) opt.selected = true;
      s.appendChild(opt);
    });
    s.addEventListener("change", function () { onChange(s.value); });
    return el("label", { "class": "filter" }, [el("span", { text: label }), s]);
  }

  function distinct(values) {
    var seen = {}, out = [];
    values.forEach(function (v) { if (!seen[v]) { seen[v] = true; out.push(v); } });
    return out.sort(collator.compare);
  }

  function choices(table, name, values) {
    var key = state.tree + ":" + (table ? table.key : "") + ":" + name;
    if (!optionCache[key]) optionCache[key] = distinct(values()).map(function (v) { return [v, v]; });
    return optionCache[key];
  }

  function filters(table) {
    var rows = table ? table.rows : [];
    var box = el("div", { "class": "filters" });
    box.appendChild(select("submitter", "Submitter",
      [["", "All submitters"]].concat(choices(table, "submitter", function () { return rows.map(function (r) { return r.submitter; }); })),
      state.filters.submitter, function (v) { state.filters.submitter = v; state.page = 0; redrawTable(); }));
    box.appendChild(select("accelerator", "Accelerator",
      [["", "All accelerators"]].concat(choices(table, "accelerator", function () { return rows.map(function (r) { return r.accelerator || "(none)"; }); })),
      state.filters.accelerator, function (v) { state.filters.accelerator = v; state.page = 0; redrawTable(); }));
    box.appendChild(select("benchmark", "Benchmark",
      [["", "All benchmarks"]].concat(choices(table, "benchmark", function () { return (table ? table.columns : []).map(function (c) { return c.benchmark; }); })),
      state.filters.benchmark, function (v) { state.filters.benchmark = v; state.page = 0; redrawTable(); }));
    box.appendChild(select("suite", "System type", SUITES, state.filters.suite, function (v) { state.filters.suite = v; state.page = 0; redrawTable(); }));
    var clear = el("button", { type: "button", id: "clear-filters", text: "Clear filters" });
    clear.addEventListener("click", function () {
      state.filters = { submitter: "", accelerator: "", benchmark: "", suite: "" };
      state.page = 0;
      redraw();
    });
    box.appendChild(clear);
    return box;
  }

  // ------------------------------------------------------------------ the table
  function headerCell(text, sortKey, attrs) {
    var th = el("th", attrs || {}, []);
    var active = state.sort && state.sort.key === sortKey;
    th.setAttribute("aria-sort", active ? (state.sort.dir > 0 ? "ascending" : "descending") : "none");
    var b = el("button", { type: "button", "class": "sort", "data-sort": sortKey, text: text });
    b.appendChild(el("span", { "class": "arrow", "aria-hidden": "true", text: active ? (state.sort.dir > 0 ? " ▲" : " ▼") : "" }));
    b.addEventListener("click", function () {
      if (state.sort && state.sort.key === sortKey) state.sort = { key: sortKey, dir: -state.sort.dir };
      else state.sort = { key: sortKey, dir: 1 };
      state.page = 0;
      redrawTable();
    });
    th.appendChild(b);
    return th;
  }

  function buildRow(table, row) {
    var tr = el("tr", { "data-id": row.id, "data-platform": row.platform, "data-submitter": row.submitter,
                        "data-model-used": table.open ? row.model_used : null });
    var box = el("input", { type: "checkbox", "class": "pick", "aria-label": "Compare " + row.system, "data-id": row.id });
    box.addEventListener("change", function () {
      if (box.checked) state.selected[row.id] = true; else delete state.selected[row.id];
      updateCompareButton();
    });
    tr.appendChild(el("td", { "class": "pick" }, [box]));
    leadingColumns(table).forEach(function (c) {
      var td = el("td", { "class": "c-" + c[0] });
      td.textContent = c[2](row) === null ? "" : String(c[2](row));
      if (c[0] === "processor" && row.processor_count) td.appendChild(el("span", { "class": "count", text: " × " + row.processor_count }));
      if (c[0] === "accelerator" && row.accelerator_count) td.appendChild(el("span", { "class": "count", text: " × " + row.accelerator_count }));
      tr.appendChild(td);
    });
    table.columns.forEach(function (c, i) {
      var v = row.values[i];
      var td = el("td", { "class": "num res" + (c.power ? " power" : ""), "data-col": String(i) });
      if (v !== null) { td.setAttribute("data-value", String(v)); td.textContent = formatNumber(v); }
      tr.appendChild(td);
    });
    var details = el("td", { "class": "link" });
    if (row.details) details.appendChild(el("a", { href: row.details, "class": "details", text: "details" }));
    var code = el("td", { "class": "link" });
    if (row.code) code.appendChild(el("a", { href: row.code, "class": "code", text: "code" }));
    tr.appendChild(details);
    tr.appendChild(code);
    if (table.open) tr.appendChild(el("td", { "class": "notes", text: row.notes }));
    return tr;
  }

  function rowsOf(table) {
    var cacheKey = state.tree + ":" + table.key;
    if (!rowCache[cacheKey]) {
      var m = {};
      table.rows.forEach(function (r) { m[r.id] = buildRow(table, r); });
      rowCache[cacheKey] = m;
    }
    return rowCache[cacheKey];
  }

  function spans(keys) {
    var out = [];
    keys.forEach(function (k) {
      if (out.length && out[out.length - 1][0] === k) out[out.length - 1][1]++;
      else out.push([k, 1]);
    });
    return out;
  }

  function drawTable(table) {
    var view = viewRows(table);
    var pages = Math.max(1, Math.ceil(view.rows.length / state.pageSize));
    if (state.page >= pages) state.page = pages - 1;
    var first = state.page * state.pageSize;
    var pageRows = view.rows.slice(first, first + state.pageSize);
    var cols = view.cols;
    var shown = {};
    cols.forEach(function (i) { shown[i] = true; });
    var lead = leadingColumns(table);
    var thead = el("thead");
    var r1 = el("tr"), r2 = el("tr"), r3 = el("tr");
    r1.appendChild(el("th", { rowspan: "3", "class": "pick", title: "Select systems to compare" }, ["⇄"]));
    lead.forEach(function (c) { r1.appendChild(headerCell(c[1], c[0], { rowspan: "3", "class": "c-" + c[0] })); });
    spans(cols.map(function (i) { return table.columns[i].benchmark; })).forEach(function (s) {
      r1.appendChild(el("th", { "class": "bench", colspan: String(s[1]), text: s[0] }));
    });
    ["Details", "Code"].forEach(function (h) { r1.appendChild(el("th", { rowspan: "3", text: h })); });
    if (table.open) r1.appendChild(headerCell("Notes", "notes", { rowspan: "3", "class": "c-notes" }));
    spans(cols.map(function (i) { return table.columns[i].benchmark + "\u0000" + table.columns[i].scenario; })).forEach(function (s) {
      r2.appendChild(el("th", { "class": "scen", colspan: String(s[1]), text: s[0].split("\u0000")[1] }));
    });
    cols.forEach(function (i) {
      var c = table.columns[i];
      r3.appendChild(headerCell(c.measure, "value:" + i, {
        "class": "m" + (c.power ? " power" : ""), "data-label": c.label, "data-unit": c.units, "data-col": String(i),
        "data-model": c.model, "data-scenario": c.scenario
      }));
    });
    thead.appendChild(r1); thead.appendChild(r2); thead.appendChild(r3);

    var cache = rowsOf(table);
    var tbody = el("tbody");
    var frag = document.createDocumentFragment();
    pageRows.forEach(function (r) {
      var tr = cache[r.id];
      var box = tr.firstChild.firstChild;
      box.checked = !!state.selected[r.id];
      frag.appendChild(tr);
    });
    tbody.appendChild(frag);
    var tableEl = el("table", {
      "class": "results" + (state.filters.benchmark ? " filtered" : ""), id: "results-table",
      "data-key": table.key, "data-division": table.division, "data-category": table.category,
      "data-power": table.power ? "true" : "false"
    }, [thead, tbody]);
    // Hide result cells of filtered-out benchmarks (rows are shared between views).
    var firstResult = lead.length + 1;
    pageRows.forEach(function (r) {
      var cells = cache[r.id].children;
      for (var i = 0; i < table.columns.length; i++) cells[firstResult + i].hidden = !shown[i];
    });
    return { element: el("div", {}, [el("div", { "class": "scroll" }, [tableEl]), pager(view.rows.length, pages)]),
             count: view.rows.length, view: view };
  }

  function pager(total, pages) {
    var box = el("div", { "class": "pager" });
    var first = total ? state.page * state.pageSize + 1 : 0;
    var last = Math.min(total, (state.page + 1) * state.pageSize);
    var prev = el("button", { type: "button", id: "page-prev", text: "← Previous" });
    var next = el("button", { type: "button", id: "page-next", text: "Next →" });
    prev.disabled = state.page === 0;
    next.disabled = state.page >= pages - 1;
    prev.addEventListener("click", function () { state.page--; redrawTable(); });
    next.addEventListener("click", function () { state.page++; redrawTable(); });
    box.appendChild(prev);
    box.appendChild(el("span", { id: "page-info", text: "Rows " + first + "–" + last + " of " + total }));
    box.appendChild(next);
    box.appendChild(select("page-size", "Rows per page",
      [["50", "50"], ["100", "100"], ["250", "250"], ["100000", "All"]], String(state.pageSize),
      function (v) { state.pageSize = Number(v); state.page = 0; redrawTable(); }));
    return box;
  }

  // ------------------------------------------------------------------ CSV of the current view
  function csvCell(v) {
    var s = v === null || v === undefined ? "" : String(v);
    if (typeof v === "string" && /^[=+@\t\r]/.test(s)) s = "'" + s;   // no formulas in spreadsheets
    return /[",\n\r]/.test(s) ? "\"" + s.replace(/"/g, "\"\"") + "\"" : s;
  }

  function currentCsv() {
    var table = currentTable();
    if (!table) return "";
    var view = viewRows(table);
    var head = ["ID", "Submitter", "System", "Processor", "Processor count", "Accelerator", "Accelerator count",
                "Software", "System type"].concat(table.open ? ["Model used"] : []);
    head = head.concat(view.cols.map(function (i) { return table.columns[i].label; }), ["Details", "Code"],
                       table.open ? ["Notes"] : []);
    var lines = [head.map(csvCell).join(",")];
    var base = document.baseURI;
    view.rows.forEach(function (r) {
      var cells = [r.id, r.submitter, r.system, r.processor, r.processor_count, r.accelerator,
                   r.accelerator_count === null ? "" : r.accelerator_count, r.software, r.suite]
        .concat(table.open ? [r.model_used] : [])
        .concat(view.cols.map(function (i) { return r.values[i] === null ? "" : r.values[i]; }))
        .concat([r.details ? new URL(r.details, base).href : "", r.code ? new URL(r.code, base).href : ""])
        .concat(table.open ? [r.notes] : []);
      lines.push(cells.map(csvCell).join(","));
    });
    return lines.join("\n") + "\n";
  }

  function downloadCsv() {
    var table = currentTable();
    if (!table) return;
    var t = tree();
    var name = ("results-" + t.name + "-" + table.key).replace(/[^A-Za-z0-9._-]+/g, "_") + ".csv";
    var url = URL.createObjectURL(new Blob([currentCsv()], { type: "text/csv;charset=utf-8" }));
    var a = el("a", { href: url, download: name });
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(function () { URL.revokeObjectURL(url); }, 1000);
  }

  // ------------------------------------------------------------------ compare view
  function selectedRows(table) {
    return table.rows.filter(function (r) { return state.selected[r.id]; });
  }

  function updateCompareButton() {
    var b = document.getElementById("compare-button");
    var table = currentTable();
    if (!b || !table) return;
    var n = selectedRows(table).length;
    b.textContent = "Compare selected (" + n + ")";
    b.disabled = n < 1;
  }

  function destroyCharts() {
    charts.forEach(function (c) { c.destroy(); });
    charts = [];
  }

  function chart(canvas, title, labels, values, unit, power) {
    if (typeof window.Chart === "undefined") return null;
    var c = new window.Chart(canvas, {
      type: "bar",
      data: { labels: labels, datasets: [{ label: unit, data: values, backgroundColor: power ? "#c9a227" : "#3b6fb6" }] },
      options: {
        animation: false, responsive: false, indexAxis: "y",
        plugins: { title: { display: true, text: title }, legend: { display: false } },
        scales: { x: { beginAtZero: true, title: { display: true, text: unit } }, y: { ticks: { autoSkip: false } } }
      }
    });
    charts.push(c);
    return c;
  }

  function drawCompare(table) {
    var rows = selectedRows(table);
    var panel = el("section", { id: "compare", "class": "compare", "aria-label": "Compare systems" });
    var close = el("button", { type: "button", id: "close-compare", text: "Back to the table" });
    close.addEventListener("click", function () { state.comparing = false; redraw(); });
    panel.appendChild(el("h2", { text: "Compare " + rows.length + " system" + (rows.length === 1 ? "" : "s") }));
    panel.appendChild(close);
    var labels = rows.map(function (r) { return r.submitter + " — " + r.system + (r.model_used && table.open ? " (" + r.model_used + ")" : ""); });
    // Short tick labels (id and the start of the system name); the full name is in the table above.
    var ticks = rows.map(function (r) {
      var s = r.id + " " + r.system;
      return s.length > 34 ? s.slice(0, 33) + "…" : s;
    });
    // Side by side: one column per system, one row per result column and its perf per watt.
    var head = el("tr", {}, [el("th", { text: "Benchmark" })]);
    labels.forEach(function (l, k) { head.appendChild(el("th", { "data-id": rows[k].id, text: l })); });
    var body = el("tbody");
    var cols = visibleColumns(table);
    cols.forEach(function (i) {
      var c = table.columns[i];
      if (rows.every(function (r) { return r.values[i] === null; })) return;
      var tr = el("tr", { "data-label": c.label }, [el("th", { text: c.label })]);
      rows.forEach(function (r) {
        var v = r.values[i];
        tr.appendChild(el("td", { "class": "num", "data-value": v === null ? null : String(v), text: formatNumber(v) }));
      });
      body.appendChild(tr);
      var ppw = rows.map(function (r) { return r.perf_per_watt[i]; });
      if (ppw.some(function (v) { return v !== null; })) {
        var pr = el("tr", { "data-label": c.label + " " + DATA.perf_per_watt_label, "class": "ppw" },
                    [el("th", { text: c.benchmark + " " + c.scenario + " " + DATA.perf_per_watt_label })]);
        ppw.forEach(function (v) {
          pr.appendChild(el("td", { "class": "num", "data-value": v === null ? null : String(v), text: formatNumber(v) }));
        });
        body.appendChild(pr);
      }
    });
    panel.appendChild(el("div", { "class": "scroll" }, [el("table", { "class": "side-by-side" }, [el("thead", {}, [head]), body])]));
    var grid = el("div", { "class": "charts" });
    panel.appendChild(grid);
    var todo = [];
    cols.forEach(function (i) {
      var c = table.columns[i];
      var values = rows.map(function (r) { return r.values[i]; });
      if (values.every(function (v) { return v === null; })) return;
      todo.push([c.benchmark + " — " + c.scenario + " (" + c.measure + ")", values, c.measure, c.power, c.label]);
      var ppw = rows.map(function (r) { return r.perf_per_watt[i]; });
      if (ppw.some(function (v) { return v !== null; })) {
        todo.push([c.benchmark + " — " + c.scenario + ": " + DATA.perf_per_watt_label, ppw, DATA.perf_per_watt_label, true,
                   c.label + " " + DATA.perf_per_watt_label]);
      }
    });
    return { panel: panel, draw: function () {
      todo.forEach(function (t) {
        var canvas = el("canvas", { width: "440", height: String(80 + 36 * rows.length), "data-label": t[4], role: "img",
                                    "aria-label": t[0] });
        grid.appendChild(el("figure", { "class": "chart" }, [canvas]));
        chart(canvas, t[0], ticks, t[1], t[2], t[3]);
      });
    } };
  }

  // ------------------------------------------------------------------ the whole view
  function redraw() {
    var app = document.getElementById("app");
    destroyCharts();
    var t = tree();
    app.textContent = "";
    if (!t) {
      app.appendChild(el("p", { text: "The results store holds no trees yet: run edgeperf results ingest TREE." }));
      return;
    }
    var top = el("div", { "class": "toolbar" });
    var treeSelect = select("tree", "Tree", DATA.trees.map(function (x, i) { return [String(i), x.name + " · " + x.round]; }),
      String(state.tree), function (v) {
        state.tree = Number(v); state.selected = {}; state.sort = null; state.comparing = false; state.page = 0;
        state.filters = { submitter: "", accelerator: "", benchmark: "", suite: "" };
        redraw();
      });
    top.appendChild(treeSelect);
    top.appendChild(el("p", { "class": "verdict verdict-" + t.verdict, text: t.verdict_line }));
    app.appendChild(top);
    app.appendChild(tabBar("division", DIVISIONS, state.division,
      function (d) { return CATEGORIES.some(function (c) { return hasTable(d, c[0], "performance") || hasTable(d, c[0], "power"); }); },
      function (v) { state.division = v; pickExisting(); redraw(); }));
    app.appendChild(tabBar("category", CATEGORIES, state.category,
      function (c) { return hasTable(state.division, c, "performance") || hasTable(state.division, c, "power"); },
      function (v) { state.category = v; pickExisting(); redraw(); }));
    app.appendChild(tabBar("kind", KINDS, state.kind,
      function (k) { return hasTable(state.division, state.category, k); },
      function (v) { state.kind = v; state.selected = {}; state.sort = null; state.page = 0; redraw(); }));
    var table = currentTable();
    app.appendChild(filters(table));
    if (!table) {
      app.appendChild(el("p", { "class": "empty", text: "No results in this table." }));
      return;
    }
    var actions = el("div", { "class": "actions" });
    var drawn = drawTable(table);
    actions.appendChild(el("h2", { id: "table-title", text: table.title }));
    actions.appendChild(el("span", { id: "row-count", "class": "count", text: drawn.count + " of " + table.rows.length + " rows" }));
    var dl = el("button", { type: "button", id: "download-csv", text: "Download CSV" });
    dl.addEventListener("click", downloadCsv);
    var cmp = el("button", { type: "button", id: "compare-button" });
    cmp.addEventListener("click", function () { state.comparing = true; redraw(); });
    actions.appendChild(dl);
    actions.appendChild(cmp);
    app.appendChild(actions);
    if (state.comparing && selectedRows(table).length) {
      var c = drawCompare(table);
      app.appendChild(c.panel);
      c.draw();
    } else {
      state.comparing = false;
      app.appendChild(el("div", { id: "table-area" }, [drawn.element]));
    }
    updateCompareButton();
  }

  function redrawTable() {
    // A filter, sort or page change redraws only the table, its pager and the row count: the
    // tabs and the filters stay as they are, so the browser lays out only what changed.
    var area = document.getElementById("table-area");
    var table = currentTable();
    if (!area || !table || state.comparing) { redraw(); return; }
    var drawn = drawTable(table);
    area.replaceChildren(drawn.element);
    document.getElementById("row-count").textContent = drawn.count + " of " + table.rows.length + " rows";
    updateCompareButton();
  }

  function pickExisting() {
    // After a tab change, land on a table that exists (performance before power).
    state.selected = {}; state.sort = null; state.comparing = false; state.page = 0;
    if (!hasTable(state.division, state.category, "performance") && !hasTable(state.division, state.category, "power")) {
      for (var i = 0; i < CATEGORIES.length; i++) {
        if (hasTable(state.division, CATEGORIES[i][0], "performance")) { state.category = CATEGORIES[i][0]; break; }
      }
    }
    if (!hasTable(state.division, state.category, state.kind)) {
      state.kind = hasTable(state.division, state.category, "performance") ? "performance" : "power";
    }
  }

  // For tests and the bench: the view's CSV and the charts' data, read-only.
  window.edgeperfResults = {
    csv: currentCsv,
    charts: function () {
      return charts.map(function (c) {
        return { label: c.canvas.getAttribute("data-label"), labels: c.data.labels.slice(), values: c.data.datasets[0].data.slice() };
      });
    }
  };

  if (tree()) pickExisting();
  redraw();
})();
