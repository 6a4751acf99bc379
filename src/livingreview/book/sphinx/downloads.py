"""The data package of the build's version, published with the site, and the links to it.

* At ``build-finished`` (html builder only) every resource file listed in ``data/datapackage.json``, the
  descriptor itself, ``data/CHANGELOG.md`` and ``references.bib`` are copied to ``<outdir>/data/``, with a
  zip of them, ``<name>-data-v<version>.zip``. The zip is deterministic (sorted names, fixed timestamps and
  permissions), so the same data gives the same bytes. A hash of the inputs is kept in
  ``<outdir>/data/.inputs-sha256``: a build whose inputs did not change writes nothing; one whose inputs did
  rewrites the folder and removes what is no longer part of it (an old version's zip). ``build-finished``
  runs on every build, even when Sphinx rewrites no page, so the folder is never stale.
* The ``data-download`` directive (one per page: the landing page and each chapter) shows one sentence with
  links to the zip and to ``datapackage.json``, version in the link text. It leaves a placeholder that is
  filled at ``doctree-resolved`` from the current descriptor, with links relative to the page: since a new
  version re-writes every page (the version is in the title, a ``rebuild="html"`` value) and the placeholder
  is filled at every write, the links cannot name an old version, and pages are not re-read for it.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective
from sphinx.util.osutil import relative_uri

from livingreview.datapkg.csvfile import write_atomic
from livingreview.paths import BIBFILE, CHANGELOG_PATH, DATA_DIR, DESCRIPTOR, DESCRIPTOR_PATH, find_root

#: the site's folder holding the data package
SITE_DIR = "data"
HASH_FILE = ".inputs-sha256"
#: fixed timestamp of every zip member (the earliest a zip can store)
ZIP_TIME = (1980, 1, 1, 0, 0, 0)
_FORMAT = "1"  # bump when the layout of the published folder changes


def package_files(root: Path) -> dict[str, Path]:
    """What the site publishes: file name in ``<outdir>/data/`` -> source file in the checkout."""
    root = Path(root)
    descriptor = json.loads((root / DESCRIPTOR_PATH).read_text(encoding="utf-8"))
    files: dict[str, Path] = {DESCRIPTOR: root / DESCRIPTOR_PATH}
    for res in descriptor.get("resources", []):
        paths = res.get("path") if isinstance(res, dict) else None
        for rel in [paths] if isinstance(paths, str) else list(paths or []):
            if "://" in rel or rel.startswith("/") or ".." in Path(rel).parts:
                raise ValueError(f"{DESCRIPTOR_PATH}: resource path {rel!r} is not a file of the package")
            files[rel] = root / DATA_DIR / rel
    files[Path(CHANGELOG_PATH).name] = root / CHANGELOG_PATH
    files[BIBFILE] = root / BIBFILE
    return dict(sorted(files.items()))


def version_of(root: Path) -> tuple[str, str]:
    """(package name, version) of ``data/datapackage.json``."""
    descriptor = json.loads((Path(root) / DESCRIPTOR_PATH).read_text(encoding="utf-8"))
    return str(descriptor.get("name") or "data"), str(descriptor["version"])


def zip_name(root: Path) -> str:
    name, version = version_of(root)
    return f"{name}-data-v{version}.zip"


def build_zip(files: dict[str, bytes]) -> bytes:
    """A deterministic zip of ``files`` (name -> bytes): sorted names, fixed times and permissions."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3
            info.external_attr = 0o100644 << 16
            zf.writestr(info, files[name], compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
    return buf.getvalue()


def publish(root: Path, outdir: Path) -> list[str]:
    """Copy the data package of ``root`` and its zip into ``outdir/data``; return the names written (none
    when the inputs are those of the last call and every file is still there)."""
    root, target = Path(root), Path(outdir) / SITE_DIR
    sources = package_files(root)
    contents = {name: path.read_bytes() for name, path in sources.items()}
    archive = zip_name(root)
    digest = hashlib.sha256(f"{_FORMAT}\0{archive}\0".encode())
    for name, data in contents.items():
        digest.update(name.encode() + b"\0" + len(data).to_bytes(8, "big") + data)
    signature = digest.hexdigest()
    marker = target / HASH_FILE
    expected = {*contents, archive}
    if (
        marker.is_file()
        and marker.read_text(encoding="utf-8").strip() == signature
        and all((target / name).is_file() for name in expected)
    ):
        return []
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for name, data in [*contents.items(), (archive, build_zip(contents))]:
        path = target / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.is_file() or path.read_bytes() != data:
            write_atomic(path, data)
            written.append(name)
    for path in sorted(target.rglob("*"), reverse=True):  # what an earlier version published
        rel = path.relative_to(target).as_posix()
        if path.is_file() and rel not in expected and rel != HASH_FILE:
            path.unlink()
        elif path.is_dir() and not any(path.iterdir()):
            path.rmdir()
    write_atomic(marker, (signature + "\n").encode())
    return written


def _build_finished(app: Sphinx, exception: Exception | None) -> None:
    if exception is None and app.builder.format == "html":
        publish(find_root(app.srcdir), Path(app.outdir))


class data_download(nodes.General, nodes.Element):
    """Placeholder for the download sentence, filled when the page is written."""


class DataDownload(SphinxDirective):
    """``{data-download}``: "Download the data behind this review: …" with the version in the link text."""

    has_content = False
    required_arguments = 0
    optional_arguments = 0

    def run(self) -> list[nodes.Node]:
        return [data_download()]


def _link(text: str, uri: str, cls: str) -> nodes.reference:
    return nodes.reference("", text, refuri=uri, internal=False, classes=["lr-data-link", cls])


def _doctree_resolved(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    placeholders = list(doctree.findall(data_download))
    if not placeholders:
        return
    root = find_root(app.srcdir)
    _, version = version_of(root)
    try:
        here = app.builder.get_target_uri(docname)
    except Exception:  # pragma: no cover - a builder without target URIs
        here = docname + ".html"
    to_zip = relative_uri(here, f"{SITE_DIR}/{zip_name(root)}")
    to_descriptor = relative_uri(here, f"{SITE_DIR}/{DESCRIPTOR}")
    for node in placeholders:
        para = nodes.paragraph(classes=["lr-data-download"])
        para += nodes.Text("Download the data behind this review: ")
        para += _link(f"data package v{version} (zip)", to_zip, "lr-data-zip")
        para += nodes.Text(", or its description ")
        para += _link(f"datapackage.json (v{version})", to_descriptor, "lr-data-descriptor")
        para += nodes.Text(".")
        node.replace_self(para)


def setup(app: Sphinx) -> None:
    app.add_node(data_download)
    app.add_directive("data-download", DataDownload)
    app.connect("doctree-resolved", _doctree_resolved)
    app.connect("build-finished", _build_finished)
