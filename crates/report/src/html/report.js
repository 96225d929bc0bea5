// Sorting and filtering of the findings table. Reads cells as text and data
// attributes, toggles `hidden` and reorders rows: it never writes markup, so
// nothing from the evidence can become code here.
(function () {
  "use strict";
  var table = document.getElementById("table");
  if (!table) { return; }
  var body = table.tBodies[0];
  var rows = Array.prototype.slice.call(body.rows);
  var filter = document.getElementById("filter");
  var minsev = document.getElementById("minsev");
  var shown = document.getElementById("shown");
  var texts = rows.map(function (r) { return r.textContent.toLowerCase(); });

  function apply() {
    var needle = filter.value.toLowerCase();
    var least = Number(minsev.value);
    var count = 0;
    rows.forEach(function (r, i) {
      var visible = Number(r.dataset.severity) >= least && (needle === "" || texts[i].indexOf(needle) !== -1);
      r.hidden = !visible;
      if (visible) { count += 1; }
    });
    shown.textContent = count + " of " + rows.length + " shown";
  }

  var order = {};
  Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, column) {
    th.addEventListener("click", function () {
      var kind = th.dataset.sort;
      var dir = order[column] = -(order[column] || 1);
      var key = function (r) {
        if (kind === "severity") { return Number(r.dataset.severity); }
        if (kind === "time") { return Number(r.dataset.time); }
        if (kind === "score") { return Number(r.dataset.score); }
        return r.cells[column].textContent.toLowerCase();
      };
      rows.sort(function (a, b) {
        var x = key(a), y = key(b);
        return (x < y ? -1 : x > y ? 1 : 0) * dir;
      });
      var fragment = document.createDocumentFragment();
      rows.forEach(function (r) { fragment.appendChild(r); });
      body.appendChild(fragment);
      texts = rows.map(function (r) { return r.textContent.toLowerCase(); });
    });
  });
  filter.addEventListener("input", apply);
  minsev.addEventListener("change", apply);
  apply();
})();
