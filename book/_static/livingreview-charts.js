/* Embeds every <figure class="lr-figure"> of the page with vegaEmbed (from _static/vega-bundle.js, served
   locally). The spec is read with JSON.parse from <script type="application/json" class="lr-spec">; actions
   (export/source/editor links) are off and tooltip text is HTML-escaped. */
(function () {
  "use strict";
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
    window.vegaEmbed(container, spec, {
      actions: false,
      renderer: "svg",
      tooltip: { sanitize: sanitize },
      loader: { http: { credentials: "omit" }, baseURL: "about:blank" }
    }).then(function () {
      figure.setAttribute("data-lr-rendered", "1");
    }).catch(function (error) {
      figure.setAttribute("data-lr-rendered", "error");
      container.textContent = "This chart could not be drawn; see the description below.";
      console.error("livingreview: chart failed", error);
    });
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
