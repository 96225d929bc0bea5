// The findings table: built from the page's JSON data block a page of rows at a
// time, filtered and sorted in memory. Every value goes in with textContent, so
// nothing from the evidence can become markup or code here. A link may carry a
// filter (`report.html#filter=5.2.69.14`); the status line says how long the last
// filter took.
(function () {
  "use strict";
  var data = document.getElementById("findings-data");
  var table = document.getElementById("table");
  if (!data || !table) { return; }
  var parsed = JSON.parse(data.textContent);
  var texts = parsed.texts;
  var rows = parsed.rows;
  var body = table.tBodies[0];
  var filter = document.getElementById("filter");
  var minsev = document.getElementById("minsev");
  var shown = document.getElementById("shown");
  var more = document.getElementById("more");
  var PAGE = 200;
  var limit = PAGE;
  var view = rows;
  var haystack = rows.map(function (r) {
    return [r.sv, r.c, r.t, r.w, r.tm, r.cl, r.i, r.d].join(" ").toLowerCase();
  });
  rows.forEach(function (r, i) { r.n = i; });

  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined) { e.textContent = text; }
    if (cls) { e.className = cls; }
    return e;
  }

  function detail(r) {
    var cell = el("td");
    cell.colSpan = 8;
    cell.appendChild(el("p", r.d));
    var why = el("p"); why.appendChild(el("b", "Why it matters: ")); why.appendChild(document.createTextNode(texts[r.y])); cell.appendChild(why);
    var act = el("p"); act.appendChild(el("b", "What to do: ")); act.appendChild(document.createTextNode(texts[r.a])); cell.appendChild(act);
    if (r.ru) { var rule = el("p"); rule.appendChild(el("b", "Rule: ")); rule.appendChild(document.createTextNode(r.ru)); cell.appendChild(rule); }
    cell.appendChild(el("p", r.r.join(" · "), "refs"));
    var dl = el("dl", undefined, "evidence");
    r.ev.forEach(function (pair) {
      dl.appendChild(el("dt", pair[0]));
      var dd = el("dd");
      dd.appendChild(el(pair[1].length > 80 ? "pre" : "span", pair[1], "mono"));
      dl.appendChild(dd);
    });
    cell.appendChild(dl);
    cell.appendChild(el("p", "score " + r.sc + ": " + r.rs, "reasons"));
    var tr = el("tr", undefined, "detail");
    tr.appendChild(cell);
    return tr;
  }

  function line(r) {
    var tr = el("tr", undefined, "finding");
    var sev = el("td"); sev.appendChild(el("span", r.sv, "sev " + r.sv)); tr.appendChild(sev);
    tr.appendChild(el("td", r.c, "mono"));
    tr.appendChild(el("td", "▸ " + r.t, "title"));
    tr.appendChild(el("td", r.w, "mono where"));
    tr.appendChild(el("td", r.tm, "mono"));
    tr.appendChild(el("td", String(r.sc)));
    tr.appendChild(el("td", r.cl));
    tr.appendChild(el("td", r.i));
    tr.addEventListener("click", function () {
      var next = tr.nextSibling;
      if (next && next.className === "detail") { body.removeChild(next); return; }
      body.insertBefore(detail(r), next);
    });
    return tr;
  }

  function render(started) {
    var fragment = document.createDocumentFragment();
    view.slice(0, limit).forEach(function (r) { fragment.appendChild(line(r)); });
    body.textContent = "";
    body.appendChild(fragment);
    shown.textContent = Math.min(limit, view.length) + " of " + view.length + " matching, " + rows.length +
      " in all (" + Math.round(performance.now() - started) + " ms)";
    more.hidden = view.length <= limit;
  }

  function apply() {
    var started = performance.now();
    var needle = filter.value.toLowerCase();
    var least = Number(minsev.value);
    view = rows.filter(function (r) {
      return r.s >= least && (needle === "" || haystack[r.n].indexOf(needle) !== -1);
    });
    limit = PAGE;
    render(started);
  }

  var order = {};
  Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th) {
    th.addEventListener("click", function () {
      var key = th.dataset.sort;
      var dir = order[key] = -(order[key] || 1);
      var sorted = rows.slice().sort(function (a, b) {
        var x = a[key], y = b[key];
        if (typeof x === "string") { x = x.toLowerCase(); y = y.toLowerCase(); }
        return (x < y ? -1 : x > y ? 1 : a.n - b.n) * dir;
      });
      rows = sorted;
      apply();
    });
  });
  more.addEventListener("click", function () { limit += PAGE * 5; render(performance.now()); });
  var linked = /^#filter=(.*)$/.exec(window.location.hash);
  if (linked) { filter.value = decodeURIComponent(linked[1]); }
  filter.addEventListener("input", apply);
  minsev.addEventListener("change", apply);
  apply();
})();
