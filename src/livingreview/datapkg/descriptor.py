"""The data package descriptor, ``data/datapackage.json``: reading it and finding a resource in it."""

from __future__ import annotations

import json
from pathlib import Path

from livingreview.paths import DESCRIPTOR_PATH


def read_descriptor(root: str | Path = ".") -> dict:
    """The parsed descriptor of the checkout at ``root`` (assumed valid: ``livingreview validate`` checks it)."""
    return json.loads((Path(root) / DESCRIPTOR_PATH).read_text(encoding="utf-8"))


def resource(descriptor: dict, name: str) -> dict:
    """The resource called ``name``; KeyError when the descriptor has none."""
    for res in descriptor["resources"]:
        if res["name"] == name:
            return res
    raise KeyError(f"datapackage.json has no resource {name!r}")


def data_version(root: str | Path = ".") -> str:
    """The ``version`` of the data package."""
    return str(read_descriptor(root)["version"])
