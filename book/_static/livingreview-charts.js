/* Embeds every <figure class="lr-figure"> of the page with vegaEmbed (from _static/vega-bundle.js, served
   locally). The spec is read with JSON.parse from <script type="application/json" class="lr-spec">; actions
   (export/source/editor links) are off and tooltip text is HTML-escaped.

   Every chart is laid out for the width of its column, and again whenever that width changes (window
   resized, phone rotated):
   * a long chart title is wrapped onto several lines so that it never runs past the chart;
   * specs with usermeta.livingreview.fit == "stretch" (concatenated or faceted panels, which Vega-Lite cannot
     size to their container) are drawn once, measured, and drawn again with every panel width changed by
     the difference between the column and the drawn chart;
   * specs with usermeta.livingreview.narrow (the forest plot: text columns beside the plot) are drawn with
     that narrow variant instead whenever the wide chart would be wider than the column. */
(function () {
  "use strict";
  var TITLE_CHAR_PX = 7.4; // average width of a character of a 13 px bold title
  function escapeHtml(value) {
    var text = value === null || value === undefined ? "" : String(value);
    return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
      .replace(/"/g, "&quot;").replace(/'/g, "&#39;");
  }
  function sanitize(value) {
    if (value !== null && typeof value === "object") {
      try { value = JSON.stringify(value); } catch (e) { value = String(value); }
    }
    return escapeHtml(value);
  }
  function copy(value) { return JSON.parse(JSON.stringify(value)); }
  function meta(spec) { return (spec && spec.usermeta && spec.usermeta.livingreview) || {}; }
  function wrapLines(text, maxChars) {
    var words = String(text).split(/\s+/), lines = [], line = "";
    for (var i = 0; i < words.length; i++) {
      var next = line ? line + " " + words[i] : words[i];
      if (line && next.length > maxChars) { lines.push(line); line = words[i]; } else { line = next; }
    }
    if (line) { lines.push(line); }
    return lines;
  }
  function wrapTitle(spec, width) {
    var title = spec.title;
    var text = title && typeof title === "object" && !Array.isArray(title) ? title.text : title;
    if (typeof text !== "string") { return; }
    var maxChars = Math.max(12, Math.floor((width - 16) / TITLE_CHAR_PX));
    if (text.length <= maxChars) { return; }
    var lines = wrapLines(text, maxChars);
    if (title && typeof title === "object") { title.text = lines; } else { spec.title = lines; }
  }
  function stretch(node, delta) {
    if (!node || typeof node !== "object") { return; }
    if (typeof node.width === "number") { node.width = Math.max(60, Math.round(node.width + delta)); }
    (node.vconcat || []).forEach(function (child) { stretch(child, delta); });
    if (node.spec) { stretch(node.spec, delta); }
  }
  var OPTIONS = {
    actions: false,
    renderer: "svg",
    tooltip: { sanitize: sanitize },
    loader: { http: { credentials: "omit" }, baseURL: "about:blank" }
  };
  function draw(figure, spec) {
    var container = figure.querySelector(".lr-chart");
    if (figure._lrView) { figure._lrView.finalize(); figure._lrView = null; }
    container.textContent = "";
    var target = document.createElement("div");
    container.appendChild(target);
    return window.vegaEmbed(target, spec, OPTIONS).then(function (result) {
      figure._lrView = result;
      var svg = target.querySelector("svg");
      return svg ? parseFloat(svg.getAttribute("width")) || svg.getBoundingClientRect().width : 0;
    });
  }
  function layout(figure, original) {
    var width = Math.floor(figure.querySelector(".lr-chart").getBoundingClientRect().width);
    figure._lrWidth = width;
    var spec = copy(original);
    var narrow = meta(original).narrow;
    delete spec.usermeta;
    wrapTitle(spec, width);
    return draw(figure, spec).then(function (drawn) {
      if (drawn <= width + 0.5) {
        if (meta(original).fit !== "stretch" || width - drawn < 2) { return null; }
      }
      if (narrow) {
        var small = copy(narrow);
        wrapTitle(small, width);
        return draw(figure, small);
      }
      if (meta(original).fit === "stretch") {
        stretch(spec, width - drawn);
        return draw(figure, spec).then(function (again) {
          if (again > width + 0.5) { // axis labels grew or shrank with the panels: correct once more
            stretch(spec, width - again);
            return draw(figure, spec);
          }
          return null;
        });
      }
      return null;
    });
  }
  function embed(figure) {
    var container = figure.querySelector(".lr-chart");
    var script = figure.querySelector('script.lr-spec[type="application/json"]');
    if (!container || !script || figure.getAttribute("data-lr-embedded")) { return; }
    figure.setAttribute("data-lr-embedded", "1");
    var spec;
    try { spec = JSON.parse(script.textContent); } catch (e) {
      container.textContent = "This chart could not be read; see the description below.";
      console.error("livingreview: invalid chart spec", e);
      return;
    }
    if (typeof window.vegaEmbed !== "function") {
      container.textContent = "Charts need JavaScript (vega-bundle.js was not loaded); see the description below.";
      console.error("livingreview: vegaEmbed is not available");
      return;
    }
    function fail(error) {
      figure.setAttribute("data-lr-rendered", "error");
      container.textContent = "This chart could not be drawn; see the description below.";
      console.error("livingreview: chart failed", error);
    }
    layout(figure, spec).then(function () {
      figure.setAttribute("data-lr-rendered", "1");
      if (typeof window.ResizeObserver !== "function") { return; }
      var pending = null;
      new window.ResizeObserver(function () {
        var width = Math.floor(container.getBoundingClientRect().width);
        if (Math.abs(width - figure._lrWidth) < 2 || width < 1) { return; }
        clearTimeout(pending);
        pending = setTimeout(function () { layout(figure, spec).catch(fail); }, 120);
      }).observe(container);
    }).catch(fail);
  }
  function embedAll() {
    var figures = document.querySelectorAll("figure.lr-figure");
    for (var i = 0; i < figures.length; i++) { embed(figures[i]); }
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", embedAll);
  } else {
    embedAll();
  }
})();
