"""References of the review (``references.bib``) formatted for display, always HTML-escaped.

``label(key)``            plain-text author-year label, e.g. ``"Ferranti et al. 2021"`` (escape it yourself,
                          or pass it to ``livingreview.render.tables``/``charts``, which escape everything)
``href(key)``             link to the entry in the book's bibliography: ``"bibliography.html#cite-<key>"``
                          (``bibtex_cite_id = "cite-{key}"`` in ``_config.yml`` makes that anchor stable)
``format_reference(key)`` one reference as escaped HTML: authors, year, title, journal, volume(number),
                          pages and a DOI link
``show(keys)``            a displayable list of references (``_repr_html_``) for a page

The bib file is parsed with bibtexparser v2 by ``livingreview.bib.load_bib`` and cached per file
modification time.
"""

from __future__ import annotations

import codecs
import html
import re
import urllib.parse
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from latexcodec import codec as latex_codec

from livingreview.paths import BIBFILE, find_root

latex_codec.register()  # the "ulatex" codec: LaTeX to Unicode

BIBLIOGRAPHY_PAGE = "bibliography.html"
_DOI = re.compile(r"^10\.\d{4,9}/\S+$")


@dataclass(frozen=True)
class Reference:
    key: str
    entry_type: str
    fields: Mapping[str, str]

    def get(self, name: str) -> str:
        return clean(self.fields.get(name, ""))

    @property
    def authors(self) -> list[str]:
        raw = self.get("author")
        return [a.strip() for a in re.split(r"\s+and\s+", raw) if a.strip()] if raw else []


@lru_cache(maxsize=4096)  # a pure function of the text; pages ask for the same fields again and again
def _clean_text(text: str) -> str:
    text = codecs.decode(text, "ulatex")
    text = text.replace("{", "").replace("}", "")
    return re.sub(r"\s+", " ", text).strip()


def clean(value: object) -> str:
    """BibTeX field text as plain Unicode: LaTeX accents and symbols decoded by latexcodec (the decoder of
    pybtex, which renders the bibliography page), braces dropped."""
    return _clean_text("" if value is None else str(value))


def _bib_path(root: str | Path | None) -> Path:
    return (find_root() if root is None else Path(root)) / BIBFILE


@lru_cache(maxsize=8)
def _load(path: str, mtime_ns: int) -> dict[str, Reference]:
    from livingreview.datapkg.bibfile import load_bib

    bib = load_bib(path)
    return {
        key: Reference(key, entry.entry_type.lower(), {k.lower(): str(v) for k, v in entry.fields.items()})
        for key, entry in bib.entries.items()
    }


def references(root: str | Path | None = None) -> dict[str, Reference]:
    """All entries of ``references.bib`` by key."""
    path = _bib_path(root)
    return _load(str(path), path.stat().st_mtime_ns)


def get(key: str, root: str | Path | None = None) -> Reference:
    refs = references(root)
    if key not in refs:
        raise KeyError(f"{key!r} is not in {BIBFILE}")
    return refs[key]


def _surname(author: str) -> str:
    if author.lower() == "others":
        return ""
    if "," in author:
        return clean(author.split(",", 1)[0])
    return clean(author.split()[-1])


def _initials(author: str) -> str:
    if "," not in author:
        parts = author.split()
        given, surname = parts[:-1], parts[-1]
    else:
        surname, rest = (s.strip() for s in author.split(",", 1))
        given = rest.split()
    initials = "".join(g[0] for part in given for g in part.replace(".", " ").replace("-", " ").split() if g)
    return f"{clean(surname)} {initials}".strip()


def label(key: str, root: str | Path | None = None) -> str:
    """Author-year label, plain text: ``Singh 2020``, ``Gao & Jin 2022``, ``Ferranti et al. 2021``.

    Unknown keys give the key itself, so a label can always be shown."""
    try:
        ref = get(key, root)
    except (KeyError, FileNotFoundError):
        return key
    names = [_surname(a) for a in ref.authors]
    real = [n for n in names if n]
    year = ref.get("year")
    if not real:
        who = ref.get("organization") or ref.get("journal") or ref.get("title")[:40] or key
    elif len(real) == 1 and len(names) == 1:
        who = real[0]
    elif len(real) == 2 and len(names) == 2:
        who = f"{real[0]} & {real[1]}"
    else:
        who = f"{real[0]} et al."
    return f"{who} {year}".strip()


def href(key: str) -> str:
    """Relative link (from any page in ``book/``) to the bibliography entry of ``key``."""
    return f"{BIBLIOGRAPHY_PAGE}#cite-{urllib.parse.quote(key, safe='')}"


def doi_url(doi: str) -> str | None:
    doi = clean(doi)
    if not _DOI.match(doi):
        return None
    return "https://doi.org/" + urllib.parse.quote(doi, safe="/:;()._-")


def format_reference(key: str, root: str | Path | None = None) -> str:
    """One reference as escaped HTML (Vancouver-like): ``Ferranti M, Cama E, et al. 2021. Title.
    <em>Journal</em>
    38(3):e2021022. doi:<a href="https://doi.org/...">...</a>``"""
    ref = get(key, root)
    esc = html.escape
    authors = ref.authors
    shown = [_initials(a) for a in authors if a.lower() != "others"]
    etal = len(shown) > 6 or any(a.lower() == "others" for a in authors)
    who = ", ".join(shown[:6]) + (", et al." if etal else "")
    parts = [f'<span class="lr-ref-authors">{esc(who)}</span>'] if who else []
    if ref.get("year"):
        parts.append(f'<span class="lr-ref-year">{esc(ref.get("year"))}</span>.')
    if ref.get("title"):
        title = ref.get("title").rstrip(".")
        parts.append(f'<span class="lr-ref-title">{esc(title)}</span>.')
    venue = ref.get("journal") or ref.get("booktitle") or ref.get("publisher")
    where = ""
    if ref.get("volume"):
        where += esc(ref.get("volume"))
        if ref.get("number"):
            where += f"({esc(ref.get('number'))})"
    if ref.get("pages"):
        where += (":" if where else "") + esc(ref.get("pages"))
    if venue:
        parts.append(f"<em>{esc(venue)}</em>" + (f" {where}." if where else "."))
    elif where:
        parts.append(where + ".")
    doi = ref.get("doi")
    url = doi_url(doi) if doi else None
    if url:
        parts.append(f'doi:<a class="lr-doi" href="{esc(url, quote=True)}">{esc(clean(doi))}</a>')
    elif doi:
        parts.append(f"doi:{esc(doi)}")
    return " ".join(parts)


def format_text(key: str, root: str | Path | None = None) -> str:
    """The same reference as plain text (unescaped), e.g. for a tooltip or a figure description."""
    return html.unescape(re.sub(r"<[^>]+>", "", format_reference(key, root)))


class References:
    """A displayable list of references (``_repr_html_``)."""

    def __init__(self, keys: Iterable[str], root: str | Path | None = None):
        self.keys = list(dict.fromkeys(keys))
        self.root = root

    def _repr_html_(self) -> str:
        items = "".join(
            f'<li id="lr-ref-{html.escape(k, quote=True)}">{format_reference(k, self.root)}</li>'
            for k in self.keys
        )
        return f'<ul class="lr-references">{items}</ul>'

    def __repr__(self) -> str:
        return "\n".join(format_text(k, self.root) for k in self.keys)


def show(keys: str | Iterable[str], root: str | Path | None = None) -> References:
    """``citations.show(["kofler2021", "gao2022"])`` in a code cell displays the formatted references."""
    return References([keys] if isinstance(keys, str) else keys, root)
