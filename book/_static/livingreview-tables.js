/* Sortable tables: every <table class="lr-sortable"> gets header buttons; clicking sorts the rows
   (numbers by the raw value in data-value, text with localeCompare; missing values always last). */
(function () {
  "use strict";
  function cellKey(cell) {
    if (!cell || cell.hasAttribute("data-na")) { return { na: true }; }
    var raw = cell.getAttribute("data-value");
    if (raw !== null && raw !== "" && !isNaN(Number(raw))) { return { num: Number(raw) }; }
    return { text: (cell.textContent || "").trim() };
  }
  function compare(a, b) {
    if (a.na || b.na) { return a.na && b.na ? 0 : (a.na ? 1 : -1); }
    if (a.num !== undefined && b.num !== undefined) { return a.num - b.num; }
    var ta = a.num !== undefined ? String(a.num) : a.text;
    var tb = b.num !== undefined ? String(b.num) : b.text;
    return ta.localeCompare(tb, undefined, { numeric: true, sensitivity: "base" });
  }
  function sortBy(table, column, th) {
    var body = table.tBodies[0];
    if (!body) { return; }
    var ascending = th.getAttribute("aria-sort") !== "ascending";
    var headers = table.tHead ? table.tHead.rows[0].cells : [];
    for (var h = 0; h < headers.length; h++) { headers[h].removeAttribute("aria-sort"); }
    th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    var rows = Array.prototype.slice.call(body.rows).map(function (row, index) {
      return { row: row, key: cellKey(row.cells[column]), index: index };
    });
    rows.sort(function (x, y) {
      var missing = x.key.na || y.key.na;
      var c = compare(x.key, y.key);
      if (!missing && !ascending) { c = -c; }
      return c !== 0 ? c : x.index - y.index;
    });
    rows.forEach(function (item) { body.appendChild(item.row); });
  }
  function init(table) {
    if (!table.tHead || table.getAttribute("data-lr-sortable")) { return; }
    table.setAttribute("data-lr-sortable", "1");
    var headers = table.tHead.rows[0].cells;
    Array.prototype.forEach.call(headers, function (th, column) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "lr-sort";
      while (th.firstChild) { button.appendChild(th.firstChild); }
      th.appendChild(button);
      button.addEventListener("click", function () { sortBy(table, column, th); });
    });
  }
  function initAll() {
    var tables = document.querySelectorAll("table.lr-sortable");
    for (var i = 0; i < tables.length; i++) { init(tables[i]); }
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", initAll);
  } else {
    initAll();
  }
})();
