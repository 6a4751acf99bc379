"""The data package descriptor, ``data/datapackage.json``: reading it, checking that it is usable, and finding
a resource in it."""

from __future__ import annotations

import json
import re
from pathlib import Path

from livingreview.datapkg.problems import Problem
from livingreview.errors import UserError
from livingreview.paths import DATA_DIR, DESCRIPTOR_PATH

#: the Table Schema field types the package uses (and the checks understand)
SUPPORTED_TYPES = ("string", "integer", "number")


def read_descriptor(root: str | Path = ".") -> dict:
    """The parsed descriptor of the checkout at ``root``, assumed valid (``livingreview validate`` checks
    it; ``load_descriptor`` and ``require_descriptor`` are for a descriptor that may be broken)."""
    return json.loads((Path(root) / DESCRIPTOR_PATH).read_text(encoding="utf-8"))


def resource(descriptor: dict, name: str) -> dict:
    """The resource called ``name``; KeyError when the descriptor has none."""
    for res in descriptor.get("resources", []):
        if isinstance(res, dict) and res.get("name") == name:
            return res
    raise KeyError(f"datapackage.json has no resource {name!r}")


def require_resource(descriptor: dict, name: str) -> dict:
    """The resource called ``name``; UserError when the descriptor has none."""
    try:
        return resource(descriptor, name)
    except KeyError:
        raise UserError(f"{DESCRIPTOR_PATH} has no resource {name!r}") from None


def resource_path(res: dict) -> str:
    """``data/<file>``: where a resource's file is, relative to the repository root."""
    return f"{DATA_DIR}/{res['path']}"


def data_version(root: str | Path = ".") -> str:
    """The ``version`` of the data package."""
    return str(read_descriptor(root)["version"])


def _parse(root: str | Path) -> tuple[str, dict] | Problem:
    """The descriptor's text and its JSON object, or the problem that stops reading it."""

    def bad(message: str, line: int = 1) -> Problem:
        return Problem(DESCRIPTOR_PATH, line, "", message)

    try:
        text = (Path(root) / DESCRIPTOR_PATH).read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        return bad("file is missing; it describes the data files and their schema")
    except UnicodeDecodeError as exc:
        return bad(f"is not valid UTF-8 ({exc.reason} at byte {exc.start})")
    except OSError as exc:
        return bad(f"cannot be read ({exc.strerror or exc})")
    try:
        package = json.loads(text)
    except json.JSONDecodeError as exc:
        return bad(f"is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})", exc.lineno)
    except RecursionError:
        return bad("is not valid JSON (nested too deeply)")
    if not isinstance(package, dict) or not isinstance(package.get("resources"), list):
        return bad("must be a JSON object with a 'resources' list")
    return text, package


def require_descriptor(root: str | Path) -> dict:
    """The parsed descriptor as written; UserError saying where it is broken when it cannot be read."""
    parsed = _parse(root)
    if isinstance(parsed, Problem):
        raise UserError(str(parsed))
    return parsed[1]


def _line_in(text: str, needle: str) -> int:
    pos = text.find(needle)
    return text.count("\n", 0, pos) + 1 if pos >= 0 else 1


def load_descriptor(root: str | Path) -> tuple[dict | None, list[Problem]]:
    """The descriptor made safe to check against, or ``None``, plus the located problems found on the way.

    A resource without name, path or fields is left out; a duplicated field, an unsupported type or an invalid
    pattern is reported and neutralised (the field kept once, checked as a string, without the pattern), so
    the data files can still be checked."""
    parsed = _parse(root)
    if isinstance(parsed, Problem):
        return None, [parsed]
    text, package = parsed
    problems: list[Problem] = []

    def problem(line: int, message: str) -> None:
        problems.append(Problem(DESCRIPTOR_PATH, line, "", message))

    resources = []
    for i, res in enumerate(package["resources"]):
        if not (
            isinstance(res, dict) and isinstance(res.get("name"), str) and isinstance(res.get("path"), str)
        ):
            problem(1, f"resource {i + 1} needs a 'name' and a 'path'")
            continue
        name = res["name"]
        line = _line_in(text, f'"name": "{name}"')
        fields = res.get("schema", {}).get("fields") if isinstance(res.get("schema"), dict) else None
        if (
            not isinstance(fields, list)
            or not fields
            or not all(isinstance(f, dict) and isinstance(f.get("name"), str) for f in fields)
        ):
            problem(line, f"resource '{name}' needs schema.fields, a list of objects with a 'name'")
            continue
        if "/" in res["path"].replace("\\", "/") or res["path"].startswith("."):
            problem(line, f"resource '{name}' path {res['path']!r} must be a file name inside data/")
            continue
        seen = set()
        clean = []
        for f in fields:
            fline = _line_in(text, f'"name": "{f["name"]}"')
            if f["name"] in seen:
                problem(fline, f"resource '{name}' declares field '{f['name']}' twice")
                continue
            seen.add(f["name"])
            f = dict(f)
            if f.get("type", "string") not in SUPPORTED_TYPES:
                supported = ", ".join(SUPPORTED_TYPES)
                problem(fline, f"field '{f['name']}' has type {f.get('type')!r}; supported: {supported}")
                f["type"] = "string"
            cons = f.get("constraints")
            cons = dict(cons) if isinstance(cons, dict) else {}
            if "pattern" in cons:
                try:
                    re.compile(str(cons["pattern"]))
                except re.error as exc:
                    problem(fline, f"field '{f['name']}' has an invalid pattern ({exc})")
                    del cons["pattern"]
            f["constraints"] = cons
            clean.append(f)
        schema = dict(res["schema"])
        schema["fields"] = clean
        pk = schema.get("primaryKey", [])
        schema["primaryKey"] = (
            [pk] if isinstance(pk, str) else [k for k in pk if k in seen] if isinstance(pk, list) else []
        )
        resources.append({**res, "schema": schema})
    return {**package, "resources": resources}, problems
