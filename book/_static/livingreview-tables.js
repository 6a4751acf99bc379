/* Sortable tables: every <table class="lr-sortable"> gets header buttons; clicking sorts the rows
   (numbers by the raw value in data-value, text with localeCompare; missing values always last).
   Every table with data-lr-csv gets a "Download CSV" button: the CSV (RFC 4180) is built here from the
   cells as shown (raw data-value for numbers, text otherwise, empty for missing values), no network.
   Before printing, the collapsed reasons of the appraisal tables are opened. */
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
  function csvField(text) {
    return /[",\r\n]/.test(text) ? '"' + text.replace(/"/g, '""') + '"' : text;
  }
  function cellText(cell) {
    if (!cell || cell.hasAttribute("data-na")) { return ""; }
    var raw = cell.getAttribute("data-value");
    if (raw !== null && raw !== "") { return raw; }
    return (cell.textContent || "").replace(/\s+/g, " ").trim();
  }
  function tableCsv(table) {
    var lines = [];
    var rows = [];
    if (table.tHead) { rows.push(table.tHead.rows[0]); }
    Array.prototype.forEach.call(table.tBodies, function (body) {
      Array.prototype.push.apply(rows, Array.prototype.slice.call(body.rows));
    });
    rows.forEach(function (row) {
      var fields = Array.prototype.map.call(row.cells, function (cell) {
        return csvField(cell.tagName === "TH" ? (cell.textContent || "").replace(/\s+/g, " ").trim()
                                              : cellText(cell));
      });
      lines.push(fields.join(","));
    });
    return lines.join("\r\n") + "\r\n";
  }
  function slug(text) {
    var s = (text || "").normalize("NFKD").replace(/[^\x00-\x7f]/g, "").toLowerCase()
      .replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 80).replace(/-+$/, "");
    return s || "table";
  }
  function download(table) {
    var name = table.getAttribute("data-lr-csv") ||
      slug(table.caption ? table.caption.textContent : table.id) + ".csv";
    var blob = new Blob([tableCsv(table)], { type: "text/csv;charset=utf-8" });
    var url = URL.createObjectURL(blob);
    var link = document.createElement("a");
    link.href = url;
    link.download = name;
    link.hidden = true;
    document.body.appendChild(link);
    link.click();
    document.body.removeChild(link);
    setTimeout(function () { URL.revokeObjectURL(url); }, 10000);
  }
  function addDownload(table) {
    if (!table.hasAttribute("data-lr-csv") || table.getAttribute("data-lr-csv-button")) { return; }
    table.setAttribute("data-lr-csv-button", "1");
    var button = document.createElement("button");
    button.type = "button";
    button.className = "lr-csv";
    button.textContent = "Download CSV";
    var caption = table.caption ? (table.caption.textContent || "").trim() : "";
    button.setAttribute("aria-label", "Download CSV" + (caption ? ": " + caption : ""));
    button.addEventListener("click", function () { download(table); });
    var wrap = table.parentNode && table.parentNode.classList &&
      table.parentNode.classList.contains("lr-table-wrap") ? table.parentNode : null;
    var bar = document.createElement("div");
    bar.className = "lr-table-tools";
    bar.appendChild(button);
    if (wrap) { wrap.parentNode.insertBefore(bar, wrap.nextSibling); } else {
      table.parentNode.insertBefore(bar, table.nextSibling);
    }
  }
  function initAll() {
    var tables = document.querySelectorAll("table.lr-sortable");
    for (var i = 0; i < tables.length; i++) { init(tables[i]); }
    var all = document.querySelectorAll("table[data-lr-csv]");
    for (var j = 0; j < all.length; j++) { addDownload(all[j]); }
  }
  // A printed chapter shows the reasons behind every appraisal answer: collapsed blocks open for print.
  window.addEventListener("beforeprint", function () {
    var blocks = document.querySelectorAll("details.lr-reasons");
    for (var i = 0; i < blocks.length; i++) { blocks[i].open = true; }
  });
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", initAll);
  } else {
    initAll();
  }
})();
