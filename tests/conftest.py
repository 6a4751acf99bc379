"""Shared fixtures of the book tests.

* ``built_site``: ``_build/html`` of this checkout, built once per session with ``make book`` (a no-op when
  nothing changed since the last build);
* ``mutated_book``: a copy of the repository in a temporary directory, built cold with ``make book``, then
  changed (one count in ``data/cases.csv`` and one case group whose text fields carry HTML/JS payloads) and
  rebuilt with the same ``make book``; used by ``test_stale.py`` and ``test_escaping.py``;
* ``chromium``: a headless Chromium from Playwright that may only talk to 127.0.0.1 (skipped locally when
  Playwright or Chromium is missing; with ``CI=true`` that is a failure).
"""

from __future__ import annotations

import csv
import functools
import http.server
import io
import json
import os
import re
import shutil
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
VENV = ROOT / ".venv"
CHROMIUM = os.environ.get("LR_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
ANSI = re.compile(r"\x1b\[[0-9;]*m")
# what to leave out when copying the repository for a build in a temporary directory
COPY_IGNORE = shutil.ignore_patterns(
    ".git", ".venv", "_build", ".jupyter_cache", ".pytest_cache", ".ruff_cache", ".hypothesis", "__pycache__",
    "*.egg-info", "out", "tests",
)  # fmt: skip

XSS_SCRIPT = "<script>window.__pwned=1</script>"
XSS_IMG = '<img src=x onerror="window.__pwned=1">'


# --- building ----------------------------------------------------------------------------------------------


def make_book(root: Path, timeout: float = 900) -> str:
    """Run ``make book`` in ``root`` exactly as a contributor would, with this checkout's virtualenv.

    For a copy of the repository, the virtualenv of this checkout is used (``VENV=``; ``-o`` keeps make from
    reinstalling it) and the copy's own ``src/`` comes first on the path, so the copy builds with its own
    code.
    Returns the combined output without colour codes; fails the test when the build fails."""
    cmd = ["make", "--no-print-directory", "-C", str(root), "book"]
    env = dict(os.environ)
    if root.resolve() != ROOT:
        cmd += [f"VENV={VENV}", "-o", f"{VENV}/.installed"]
        env["PYTHONPATH"] = str(root / "src")
    env.pop("MAKEFLAGS", None)
    env.pop("MAKELEVEL", None)
    proc = subprocess.run(
        cmd, cwd=root, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    out = ANSI.sub("", proc.stdout + proc.stderr)
    if proc.returncode != 0:
        pytest.fail(f"make book failed in {root} (exit {proc.returncode}):\n{out[-8000:]}", pytrace=False)
    return out


def copy_repo(dest: Path) -> Path:
    shutil.copytree(ROOT, dest, ignore=COPY_IGNORE, symlinks=True)
    return dest


@pytest.fixture(scope="session")
def built_site() -> Path:
    make_book(ROOT)
    site = ROOT / "_build" / "html"
    assert (site / "book" / "index.html").is_file()
    return site


def toc_pages(root: Path = ROOT) -> list[str]:
    """Docnames listed in ``_toc.yml`` (e.g. ``book/lv``)."""
    import yaml

    toc = yaml.safe_load((root / "_toc.yml").read_text(encoding="utf-8"))
    pages = [toc["root"]]

    def walk(node):
        if isinstance(node, dict):
            if "file" in node:
                pages.append(node["file"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk({k: v for k, v in toc.items() if k != "root"})
    return [p.removesuffix(".md").removesuffix(".ipynb") for p in pages]


def page_source(root: Path, docname: str) -> Path:
    for suffix in (".md", ".ipynb"):
        if (root / (docname + suffix)).is_file():
            return root / (docname + suffix)
    raise FileNotFoundError(docname)


def data_pages(root: Path = ROOT) -> set[str]:
    """Pages that read the data when they last executed: those whose kernel left a record of its reads in
    the build (livingreview.book.sphinx.freshness), read straight from the files."""
    records = root / "_build" / ".doctrees" / "livingreview-reads"
    return {p.stem.replace("__", "/") for p in records.glob("*.json")}


def reread_docs(log: str) -> set[str]:
    """Docnames Sphinx re-read during a build, from its ``reading sources... [ 50%] book/lv`` lines."""
    return set(re.findall(r"reading sources\.\.\. \[\s*\d+%\] (\S+)", log))


def executed_docs(log: str) -> set[str]:
    """Docnames myst-nb executed, from its ``book/lv.md: Executing notebook`` lines."""
    found = re.findall(r"(\S+)\.(?:md|ipynb): Executing notebook", log)
    return {str(Path(p).resolve().relative_to(Path(p).resolve().parents[1])) for p in found}


# --- the mutated copy ---------------------------------------------------------------------------------------


@dataclass
class MutatedBook:
    root: Path
    site: Path
    before: dict[str, str]  # page HTML of the cold build, by docname
    rebuild_log: str
    count_change: dict = field(default_factory=dict)
    xss_case: dict = field(default_factory=dict)

    def html(self, docname: str) -> str:
        return (self.site / f"{docname}.html").read_text(encoding="utf-8")


def _read_cases(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        return list(reader.fieldnames or []), list(reader)


def _write_cases(path: Path, fields: list[str], rows: list[dict[str, str]]) -> None:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    writer.writerows(sorted(rows, key=lambda r: r["case_id"]))
    path.write_text(buf.getvalue(), encoding="utf-8")


def _pick_count_row(rows: list[dict[str, str]]) -> dict[str, str]:
    """A case group of a report with several patients whose count can grow by one and stay valid: numbers of
    men and women (if given) stay consistent by adding the patient to the women."""
    for row in rows:
        n = int(row["n_patients"])
        if row["disease"] == "LV" and n >= 3 and row["n_responders"] and row["dose_g_kg_min"]:
            same_source = [r for r in rows if r["source"] == row["source"]]
            if len(same_source) == 1:
                return row
    raise AssertionError("no suitable case group to change in data/cases.csv")


def _xss_row(fields: list[str], rows: list[dict[str, str]], avoid: str) -> dict[str, str]:
    """A new, valid case group of an existing LV report (not ``avoid``) whose free-text fields carry HTML/JS
    payloads. LV, because its chapter shows regimen_text and notes and has too many case groups for per-row
    glue (a new case group in a small chapter can remove glue keys its prose uses)."""
    template = next(
        r
        for r in rows
        if r["disease"] == "LV"
        and r["n_responders"]
        and r["source"] != avoid
        and r["design"] != "case_report"
    )
    seq = 1 + max(int(r["case_id"].rsplit("-", 1)[1]) for r in rows if r["source"] == template["source"])
    row = {k: "" for k in fields}
    for key in ("disease", "source", "via", "locator", "extraction_level", "design", "country", "year"):
        row[key] = template[key]
    row.update(
        case_id=f"{template['case_id'].rsplit('-', 1)[0]}-{seq:02d}",
        subtype=f"payload subtype {XSS_SCRIPT}",
        regimen_text=f"payload regimen {XSS_IMG}",
        notes=f"payload notes {XSS_SCRIPT} {XSS_IMG} & \"quotes\" 'single'",
        n_patients="1",
        n_responders="1",
        n_improved="1",
        n_stable="0",
        n_worsened="0",
        dose_g_kg_min="2",
        dose_g_kg_max="2",
        days_per_cycle_min="2",
        days_per_cycle_max="2",
        response_definition=f"payload definition {XSS_SCRIPT}",
    )
    return row


@pytest.fixture(scope="session")
def mutated_book(tmp_path_factory: pytest.TempPathFactory) -> MutatedBook:
    root = copy_repo(tmp_path_factory.mktemp("book-copy") / "repo")
    make_book(root)
    site = root / "_build" / "html"
    before = {d: (site / f"{d}.html").read_text(encoding="utf-8") for d in toc_pages(root)}

    cases_csv = root / "data" / "cases.csv"
    fields, rows = _read_cases(cases_csv)
    row = _pick_count_row(rows)
    change = {
        "case_id": row["case_id"],
        "source": row["source"],
        "disease": row["disease"],
        "old": int(row["n_patients"]),
        "new": int(row["n_patients"]) + 1,
        "responders": int(row["n_responders"]),
    }
    row["n_patients"] = str(change["new"])
    if row["n_female"]:
        row["n_female"] = str(int(row["n_female"]) + 1)
    xss = _xss_row(fields, rows, avoid=row["source"])
    rows.append(xss)
    _write_cases(cases_csv, fields, rows)
    log = make_book(root)
    return MutatedBook(root, site, before, log, change, xss)


# --- browser ------------------------------------------------------------------------------------------------


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


@pytest.fixture(scope="session")
def serve():
    """``serve(directory) -> base URL``: a loopback HTTP server per directory, for the whole session."""
    servers = []

    def start(directory: Path) -> str:
        handler = functools.partial(_QuietHandler, directory=str(directory))
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def _unavailable(reason: str):
    if IN_CI:
        pytest.fail(f"CI=true but the browser tests cannot run: {reason}", pytrace=False)
    pytest.skip(f"browser tests need Playwright and Chromium: {reason}")


@pytest.fixture(scope="session")
def chromium() -> Iterator:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:  # pragma: no cover - depends on the machine
        _unavailable(f"playwright is not installed ({exc})")
    if not Path(CHROMIUM).is_file():
        _unavailable(f"no Chromium at {CHROMIUM} (apt-get install chromium, or set LR_CHROMIUM)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class PageReport:
    url: str
    console_errors: list[str]
    page_errors: list[str]
    blocked: list[str]
    figures: list[dict]
    pwned: object
    text: str


FIGURE_CHECK = """() => Array.from(document.querySelectorAll('figure.lr-figure')).map(fig => {
  const chart = fig.querySelector('.lr-chart');
  const svg = chart && chart.querySelector('svg');
  const canvas = chart && chart.querySelector('canvas');
  let marks = 0;
  if (svg) {
    for (const g of svg.querySelectorAll('g.role-mark')) {
      if (g.closest('.role-axis, .role-legend, .role-title, .role-axis-grid')) continue;
      marks += g.children.length;
    }
  }
  return {id: fig.id, state: fig.getAttribute('data-lr-rendered'), svg: !!svg, canvas: !!canvas, marks: marks,
          caption: (fig.querySelector('figcaption') || {}).textContent || ''};
})"""


def _local_page(browser, allowed_prefix: str, viewport: tuple[int, int] | None = None):
    """A fresh page that may only talk to ``allowed_prefix`` (other requests are aborted and recorded);
    returns (context, page, blocked)."""
    size = {} if viewport is None else {"viewport": {"width": viewport[0], "height": viewport[1]}}
    context = browser.new_context(service_workers="block", **size)
    page = context.new_page()
    blocked: list[str] = []

    def route(r):
        req_url = r.request.url
        if req_url.startswith(allowed_prefix) or req_url.startswith(("data:", "blob:", "about:")):
            r.continue_()
        else:
            blocked.append(req_url)
            r.abort()

    page.route("**/*", route)
    return context, page, blocked


def _load(page, url: str) -> None:
    """Open ``url`` and wait until the network is idle and every chart has rendered."""
    page.goto(url, wait_until="load")
    page.wait_for_load_state("networkidle")
    page.wait_for_function(
        "() => Array.from(document.querySelectorAll('figure.lr-figure'))"
        ".every(f => f.hasAttribute('data-lr-rendered'))",
        timeout=30_000,
    )


def visit(browser, url: str, allowed_prefix: str) -> PageReport:
    """Open ``url`` with requests outside ``allowed_prefix`` blocked and recorded; wait for the charts."""
    context, page, blocked = _local_page(browser, allowed_prefix)
    console_errors: list[str] = []
    page_errors: list[str] = []
    page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: page_errors.append(str(e)))
    try:
        _load(page, url)
        figures = page.evaluate(FIGURE_CHECK)
        pwned = page.evaluate("() => typeof window.__pwned === 'undefined' ? null : window.__pwned")
        text = page.evaluate("() => document.body ? document.body.innerText : ''")
        return PageReport(url, console_errors, page_errors, blocked, figures, pwned, text)
    finally:
        context.close()


def all_pages(site: Path) -> list[Path]:
    return sorted(p for p in site.rglob("*.html") if "_static" not in p.parts and "_sources" not in p.parts)


def chart_specs(page_html: str) -> list[dict]:
    """The Vega-Lite specs of the figures of a page."""
    return [
        json.loads(m)
        for m in re.findall(
            r'<script type="application/json" class="lr-spec">(.*?)</script>', page_html, re.S
        )
    ]


# --- responsive layout (test_responsive.py) -----------------------------------------------------------------

LAYOUT_CHECK = """() => {
  const problems = [];
  const vw = window.innerWidth;
  const doc = document.documentElement;
  if (doc.scrollWidth > vw) {
    const wide = [];
    for (const el of document.body.querySelectorAll('*')) {
      const r = el.getBoundingClientRect();
      if (r.width > 0 && r.right > vw + 1 && !el.closest('.lr-table-wrap, .lr-chart')) {
        const parent = el.parentElement;
        if (!parent || parent.getBoundingClientRect().right <= vw + 1) {
          wide.push(el.tagName.toLowerCase() + (el.className && typeof el.className === 'string'
            ? '.' + el.className.trim().split(/\\s+/).join('.') : '') + ' right=' + Math.round(r.right));
        }
      }
    }
    problems.push('page scrolls sideways: scrollWidth ' + doc.scrollWidth + ' > innerWidth ' + vw + ' ('
                  + wide.slice(0, 5).join(', ') + ')');
  }
  const visibleBox = (el) => {
    let box = el.getBoundingClientRect();
    let left = box.left, right = box.right, top = box.top, bottom = box.bottom;
    for (let a = el.querySelector('.lr-chart'); a; a = null) {
      const s = getComputedStyle(a);
      if (s.overflowX !== 'visible') { const r = a.getBoundingClientRect(); left = Math.max(left, r.left);
        right = Math.min(right, r.right); }
    }
    for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
      const s = getComputedStyle(a);
      const r = a.getBoundingClientRect();
      if (s.overflowX !== 'visible') { left = Math.max(left, r.left); right = Math.min(right, r.right); }
      if (s.overflowY !== 'visible' && s.overflowY !== 'auto' && s.overflowY !== 'scroll') {
        top = Math.max(top, r.top); bottom = Math.min(bottom, r.bottom);
      }
    }
    left = Math.max(left, 0); right = Math.min(right, vw);
    return {left, right, top, bottom};
  };
  const figures = document.querySelectorAll('figure.lr-figure');
  figures.forEach((fig) => {
    const state = fig.getAttribute('data-lr-rendered');
    if (state !== '1') { problems.push('chart ' + fig.id + ' not rendered (' + state + ')'); return; }
    const vis = visibleBox(fig);
    const svg = fig.querySelector('.lr-chart svg');
    if (!svg) { problems.push('chart ' + fig.id + ' has no SVG'); return; }
    const title = (fig.querySelector('.lr-figure-title') || {}).textContent || fig.id;
    const items = svg.querySelectorAll('g[class*="mark-"], .role-axis, .role-legend, .role-title');
    let worst = null;
    items.forEach((g) => {
      const r = g.getBoundingClientRect();
      if (r.width === 0 && r.height === 0) return;
      const out = Math.max(vis.left - r.left, r.right - vis.right, vis.top - r.top, r.bottom - vis.bottom);
      if (out > 1 && (!worst || out > worst.out)) {
        worst = {out: Math.round(out), cls: (g.getAttribute('class') || '').split(' ').slice(0, 2).join(' '),
                 box: [r.left, r.right, r.top, r.bottom].map(Math.round),
                 vis: [vis.left, vis.right, vis.top, vis.bottom].map(Math.round)};
      }
    });
    if (worst) {
      problems.push('chart "' + title.trim() + '" clipped by ' + worst.out + ' px (' + worst.cls + ' at '
                    + JSON.stringify(worst.box) + ', visible ' + JSON.stringify(worst.vis) + ')');
    }
  });
  document.querySelectorAll('.lr-table-wrap').forEach((wrap, i) => {
    const parent = wrap.parentElement;
    const w = wrap.getBoundingClientRect().width;
    const pw = parent.getBoundingClientRect().width;
    const name = (wrap.querySelector('table') || {}).id || ('table ' + i);
    if (w > pw + 1) problems.push(name + ': table frame ' + Math.round(w) + ' px wider than its parent '
                                  + Math.round(pw));
    const table = wrap.querySelector('table');
    if (table && table.getBoundingClientRect().width > wrap.clientWidth + 1) {
      const ox = getComputedStyle(wrap).overflowX;
      const before = wrap.scrollLeft;
      wrap.scrollLeft = before + 20;
      const scrolled = wrap.scrollLeft !== before;
      wrap.scrollLeft = before;
      if (!(ox === 'auto' || ox === 'scroll') || !scrolled) {
        problems.push(name + ': wider than its frame but does not scroll inside it (overflow-x ' + ox + ')');
      }
    }
  });
  return {problems, figures: figures.length};
}"""


def _open(browser, url: str, allowed_prefix: str, viewport: tuple[int, int]):
    """A page at ``viewport`` that may only talk to ``allowed_prefix``; returns (context, page, blocked)."""
    context, page, blocked = _local_page(browser, allowed_prefix, viewport)
    try:
        _load(page, url)
        page.wait_for_timeout(300)  # let a resize-triggered re-layout settle
    except BaseException:
        context.close()
        raise
    return context, page, blocked


def layout_problems(browser, url: str, allowed_prefix: str, viewport: tuple[int, int]) -> tuple[list, int]:
    """Layout problems of one page at ``viewport`` (sideways page scroll, clipped chart parts, table frames
    wider than their column or not scrolling) and its number of charts."""
    context, page, blocked = _open(browser, url, allowed_prefix, viewport)
    try:
        result = page.evaluate(LAYOUT_CHECK)
        problems = list(result["problems"])
        if blocked:
            problems.append(f"requests to other hosts: {blocked}")
        return problems, int(result["figures"])
    finally:
        context.close()


PRINT_CHECK = """() => {
  const problems = [];
  const shown = (el) => { const s = getComputedStyle(el); const r = el.getBoundingClientRect();
    return s.display !== 'none' && s.visibility !== 'hidden' && r.width > 0 && r.height > 0; };
  const nav = ['.bd-header', '.bd-sidebar-primary', '.bd-sidebar-secondary', '.header-article',
               '.prev-next-area', '.bd-footer', 'nav', '.primary-toggle', '.secondary-toggle',
               '.article-header-buttons', '.theme-switch-button', '.search-button'];
  for (const sel of nav) {
    document.querySelectorAll(sel).forEach((el) => {
      if (shown(el)) problems.push('navigation shown in print: ' + sel);
    });
  }
  const figures = document.querySelectorAll('figure.lr-figure');
  if (!figures.length) problems.push('no chart on the printed page');
  const main = document.querySelector('main, .bd-main, article') || document.body;
  const mainWidth = main.getBoundingClientRect().width;
  figures.forEach((fig) => {
    const svg = fig.querySelector('svg');
    if (!shown(fig) || !svg || !shown(svg)) {
      problems.push('chart ' + fig.id + ' not shown in print');
      return;
    }
    const f = fig.getBoundingClientRect(), r = svg.getBoundingClientRect();
    if (r.right > f.right + 1 || r.left < f.left - 1) problems.push('chart ' + fig.id + ' cut in print');
    if (getComputedStyle(fig).breakInside !== 'avoid') problems.push('chart ' + fig.id + ' splits in print');
  });
  document.querySelectorAll('.lr-table-wrap').forEach((wrap, i) => {
    const s = getComputedStyle(wrap);
    if (s.overflowX !== 'visible') problems.push('table ' + i + ' is clipped to a scroll frame in print');
    if (!shown(wrap)) problems.push('table ' + i + ' hidden in print');
  });
  return {problems, mainWidth};
}"""


def print_problems(browser, url: str, allowed_prefix: str) -> list[str]:
    """Problems of ``url`` rendered for print (navigation shown, charts hidden or cut, tables clipped)."""
    context, page, blocked = _open(browser, url, allowed_prefix, (1300, 900))
    try:
        page.emulate_media(media="print")
        page.wait_for_timeout(300)
        problems = list(page.evaluate(PRINT_CHECK)["problems"])
        if blocked:
            problems.append(f"requests to other hosts: {blocked}")
        return problems
    finally:
        context.close()
