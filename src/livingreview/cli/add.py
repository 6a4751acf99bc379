"""``livingreview add``: add one case group (or, with ``--outcome``, one outcome measure).

Values come from one option per schema field (``--case-id``, ``--n-patients``, ...), or, when stdin is a
terminal, from prompts asked field by field (description, allowed values, unit, a proposed ``case_id``;
an empty answer means unknown for optional fields; a bad answer is asked again with the reason). Everything
the prompts and options say comes from ``data/datapackage.json``.

Before anything is written the new row is checked: the whole tree, with the row (and a new reference) added,
is copied to a temporary directory and run through ``livingreview.datapkg.validate.validate_tree``;
duplicates (the same id, or a row identical but for its id) and unknown source keys are refused. Only then are
the files written, atomically and in canonical form, so that ``git diff`` shows just the new line(s). A
refusal prints ``file:line:column: what is wrong``, exits 1 and leaves every file byte-identical.

A new reference can come with the row: pasted BibTeX (``--bibtex`` / ``--bibtex-file``) or a manual record
(``--bib-key``, ``--bib-authors``, ``--bib-title``, ``--bib-journal``, ``--bib-year``, ``--bib-volume``,
``--bib-pages``); ``livingreview.datapkg.bib_entry`` checks and lays it out.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from livingreview.cli.add_prompts import (
    BibInput,
    Prompt,
    Prompts,
    Refused,
    _ask,
    build_bib_entry,
)
from livingreview.datapkg.bib_entry import MANUAL_FIELDS, NewEntry
from livingreview.datapkg.descriptor import require_descriptor, require_resource
from livingreview.datapkg.field_help import constraint_text, is_required, unit_of
from livingreview.datapkg.file_set import write_files
from livingreview.datapkg.new_row import ID_FIELD, NewRow
from livingreview.datapkg.validate import validate_tree
from livingreview.errors import UserError
from livingreview.paths import BIBFILE, DESCRIPTOR_PATH, find_root

# --------------------------------------------------------------------------------------------
# the schema as options


def option_name(name: str) -> str:
    return "--" + name.replace("_", "-")


def appraisal_option(name: str) -> str:
    return option_name(f"appraisal_{name}")


def help_text(spec: dict) -> str:
    """The option's help: the schema description, allowed values, unit, required or not."""
    text = spec.get("description", "").strip()
    text += f" [{constraint_text(spec)}"
    unit = unit_of(spec["name"])
    if unit and spec.get("type") in ("integer", "number"):
        text += f"; unit: {unit}"
    if "example" in spec:
        text += f"; e.g. {spec['example']}"
    text += "; required]" if is_required(spec) else "; optional: empty = unknown]"
    return text.replace("%", "%%")


# --------------------------------------------------------------------------------------------
# command line


def _schema_for_options() -> dict | None:
    """The descriptor the options are made from: the repository around the current directory."""
    try:
        return require_descriptor(find_root("."))
    except (FileNotFoundError, UserError):
        return None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Add one case group to data/cases.csv (with --outcome: one measure to data/outcomes.csv). Give every "
        "value as an option, or run it in a terminal without them to be asked field by field. Nothing is "
        "written unless the whole data package is valid with the new row."
    )
    parser.add_argument("--outcome", action="store_true", help="add a row to data/outcomes.csv instead")
    parser.add_argument("--no-input", action="store_true", help="never prompt, even in a terminal")
    parser.add_argument("--dry-run", action="store_true", help="check and show the row; write nothing")
    parser.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation before writing")
    descriptor = _schema_for_options()
    seen: dict[str, argparse.Action] = {}
    if descriptor is not None:
        for res_name in ("cases", "outcomes"):
            try:
                res = require_resource(descriptor, res_name)
            except UserError:
                continue
            group = parser.add_argument_group(
                f"{res_name} fields (data/{res['path']})"
                if res_name == "cases"
                else "outcome fields (--outcome)"
            )
            for spec in res["schema"]["fields"]:
                if spec["name"] in seen:  # shared by both tables (source, case_id, locator, notes)
                    seen[spec["name"]].help += " With --outcome: " + help_text(spec)
                    continue
                seen[spec["name"]] = group.add_argument(
                    option_name(spec["name"]),
                    dest=f"field_{spec['name']}",
                    metavar="|".join(spec["constraints"]["enum"])
                    if "enum" in spec.get("constraints", {})
                    else spec.get("type", "string").upper(),
                    help=help_text(spec),
                )
        if any(r["name"] == "appraisal" for r in descriptor["resources"]):
            group = parser.add_argument_group(
                "appraisal of a new report (data/appraisal.csv, written with its first case group)"
            )
            for spec in require_resource(descriptor, "appraisal")["schema"]["fields"]:
                if spec["name"] != "source":
                    group.add_argument(
                        appraisal_option(spec["name"]),
                        dest=f"appraisal_{spec['name']}",
                        metavar="|".join(spec["constraints"]["enum"])
                        if "enum" in spec.get("constraints", {})
                        else "TEXT",
                        help=help_text(spec),
                    )
    bib = parser.add_argument_group("new reference (when the source is not yet in references.bib)")
    bib.add_argument("--bibtex", metavar="TEXT", help="the BibTeX entry, pasted: '@article{key, ...}'")
    bib.add_argument("--bibtex-file", metavar="FILE", help="a file holding the BibTeX entry")
    bib.add_argument(
        "--bib-key", metavar="KEY", help="bib key: first author + year, lowercase ASCII, e.g. kofler2021"
    )
    bib.add_argument("--bib-authors", metavar="TEXT", help="authors as 'Last, F. and Last, F.'")
    bib.add_argument("--bib-title", metavar="TEXT", help="title of the report")
    bib.add_argument("--bib-journal", metavar="TEXT", help="journal")
    bib.add_argument("--bib-year", metavar="YEAR", help="publication year")
    bib.add_argument("--bib-volume", metavar="TEXT", help="volume")
    bib.add_argument("--bib-pages", metavar="TEXT", help="pages, e.g. 1003--1004")


def run(args: argparse.Namespace) -> int:
    root = Path(args.root)
    res_name = "outcomes" if args.outcome else "cases"
    given = {k[len("field_") :]: v for k, v in vars(args).items() if k.startswith("field_") and v is not None}
    bib = BibInput(
        bibtex=args.bibtex,
        bibtex_file=args.bibtex_file,
        manual={k: getattr(args, f"bib_{k}") for k in MANUAL_FIELDS if getattr(args, f"bib_{k}") is not None},
    )
    interactive = not args.no_input and _stdin_is_tty()
    adder = Adder(root, res_name, out=sys.stdout)
    return adder.add(
        given,
        bib,
        prompt=input if interactive else None,
        dry_run=args.dry_run,
        confirm=not args.yes,
        appraisal={
            k[len("appraisal_") :]: v for k, v in vars(args).items() if k.startswith("appraisal_") and v
        },
    )


def _stdin_is_tty() -> bool:
    try:
        return sys.stdin is not None and sys.stdin.isatty()
    except (AttributeError, ValueError, OSError):
        return False


# --------------------------------------------------------------------------------------------
# adding a row


@dataclass
class Adder(NewRow, Prompts):
    """Adds one row to ``resource_name`` ("cases" or "outcomes") of the tree at ``root``, asking for what is
    missing and reporting to ``out``; the checks and the new file texts are ``NewRow``'s."""

    out: Any = None

    def __post_init__(self) -> None:
        if not (Path(self.root) / DESCRIPTOR_PATH).is_file():
            raise UserError(f"{DESCRIPTOR_PATH}: not found under {Path(self.root).resolve()} (see --root)")
        super().__post_init__()
        self.out = self.out or sys.stdout

    # -- helpers ------------------------------------------------------------------------------

    def say(self, text: str = "") -> None:
        print(text, file=self.out)

    def where(self, name: str, row: dict[str, str] | None = None) -> str:
        """``file:line:field`` of a field of the new row (the line it will have once added)."""
        line = self.line_of(row) if row and row.get(ID_FIELD[self.resource_name]) else "new row"
        return f"{self.relpath}:{line}:{name}: ({option_name(name)})"

    def source_problems(self, row: dict[str, str], new_key: str | None) -> list[str]:
        """Problems with the new row's ``source`` and ``via``: keys neither in references.bib nor new."""
        keys = self.bib_keys | ({new_key} if new_key else set())
        problems = []
        for name in ("source", "via"):
            key = row.get(name, "")
            if name in self.specs and key and key not in keys:
                problems.append(
                    f"{self.where(name, row)} {key!r} is not a key in {BIBFILE}; add the reference "
                    "with --bibtex, --bibtex-file or --bib-key/--bib-authors/--bib-title/--bib-journal/"
                    "--bib-year/--bib-volume/--bib-pages"
                )
        return problems

    # -- the whole procedure ---------------------------------------------------------------------

    def add(
        self,
        given: dict[str, str],
        bib: BibInput | None = None,
        prompt: Prompt | None = None,
        dry_run: bool = False,
        confirm: bool = True,
        appraisal: dict[str, str] | None = None,
    ) -> int:
        """Add one row. ``prompt`` (e.g. ``input``) asks for missing values; without it they must be given."""
        bib = bib or BibInput()
        unknown = sorted(set(given) - set(self.specs))
        if unknown:
            what = "outcome" if self.resource_name == "outcomes" else "case group"
            raise Refused(f"not a field of a {what}: {', '.join(option_name(n) for n in unknown)}")
        before = self.tree_problems_now()
        if before:
            raise Refused(
                "the data package is already invalid; fix it first (livingreview validate):\n"
                + "\n".join(before)
            )
        values = {name: self.normalise(name, value) for name, value in given.items()}
        bib_entry = build_bib_entry(bib)
        if prompt is not None:
            values, bib_entry = self.ask_all(values, bib_entry, prompt, ask_optional=not given)
        else:
            id_field = ID_FIELD[self.resource_name]
            if not values.get(id_field) and (proposed := self.next_id(values)):
                values[id_field] = proposed
                self.say(f"{id_field}: {proposed} (proposed; give {option_name(id_field)} to choose another)")
            missing = [n for n, s in self.specs.items() if is_required(s) and not values.get(n)]
            if missing:
                raise Refused(
                    "missing required option(s): "
                    + ", ".join(option_name(n) for n in missing)
                    + " (see `livingreview add --help`; run it in a terminal to be asked instead)"
                )
        row = {name: values.get(name, "") for name in self.specs}
        known_source = not self.source_problems(row, bib_entry.key if bib_entry else None)
        problems = self.take_appraisal(row, appraisal or {}, prompt) if known_source else []
        problems = problems or self.row_problems(row, bib_entry)
        if problems and prompt is not None:
            row, bib_entry = self.fix_interactively(row, bib_entry, problems, prompt)
            problems = []
        if problems:
            raise Refused("nothing was written:\n" + "\n".join(problems))
        return self.finish(row, bib_entry, prompt if confirm else None, dry_run)

    def take_appraisal(self, row: dict[str, str], given: dict[str, str], prompt: Prompt | None) -> list[str]:
        """The appraisal of a report new to the review: as given, else asked; problems when neither."""
        if not self.needs_appraisal(row):
            if given:
                return [
                    f"{self.where('source', row)} {row['source']!r} is already appraised: "
                    "edit data/appraisal.csv instead"
                ]
            return []
        if given:
            self.appraisal = given
        elif prompt is not None:
            self.appraisal = self.ask_appraisal(row["source"], prompt)
        else:
            names = [n for n in self.appraisal_specs() if not n.endswith("_reason")]
            return [
                f"{self.where('source', row)} report {row['source']!r} is not appraised yet: give "
                + ", ".join(appraisal_option(n) for n in names)
                + " and a --appraisal-<item>-reason for every yes or no (see `livingreview add --help`)"
            ]
        return []

    def appraisal_specs(self) -> dict[str, dict]:
        res = require_resource(self.descriptor, "appraisal")
        return {f["name"]: f for f in res["schema"]["fields"] if f["name"] != "source"}

    def tree_problems_now(self) -> list[str]:
        return [str(p) for p in validate_tree(self.root)]

    def row_problems(self, row: dict[str, str], bib_entry: NewEntry | None) -> list[str]:
        problems = [
            f"{self.where(n, row)} {why}" for n in self.specs if (why := self.quick_check(n, row.get(n, "")))
        ]
        problems += self.duplicate_problems(row)
        if bib_entry is not None and bib_entry.key in self.bib_keys:
            problems.append(
                f"{BIBFILE}: {bib_entry.key!r} is already a key; drop the new reference or pick a free key"
            )
        problems += self.source_problems(row, bib_entry.key if bib_entry else None)
        if problems:
            return problems
        line = self.line_of(row)
        out = []
        for text in self.tree_problems(row, bib_entry):
            if text.startswith(f"{self.relpath}:{line}:"):
                text += " (the new row)"
            out.append(text)
        return out

    def finish(
        self, row: dict[str, str], bib_entry: NewEntry | None, prompt: Prompt | None, dry_run: bool
    ) -> int:
        id_field = ID_FIELD[self.resource_name]
        shown = [f"  {n}: {v}" for n, v in row.items() if v]
        self.say(f"New row for {self.relpath}:")
        self.say("\n".join(shown))
        if bib_entry is not None:
            self.say(f"New reference for {BIBFILE}:\n{bib_entry.text}")
        if dry_run:
            self.say("Dry run: the row is valid; nothing was written.")
            return 0
        if prompt is not None:
            answer = _ask(prompt, "Write it? [Y/n] ").strip().lower()
            if answer not in ("", "y", "yes"):
                self.say("Nothing was written.")
                return 1
        write_files(self.root, self.staged(row, bib_entry))  # the row, its reference and ledger rows, or none
        self.say(f"Added {row[id_field]} to {self.relpath} (line {self.line_of(row)}).")
        if bib_entry is not None:
            self.say(f"Added {bib_entry.key} to {BIBFILE}.")
        if self.appraisal is not None:
            self.say(f"Added the appraisal of {row['source']} to data/appraisal.csv.")
        self.say(
            "Next: `make test`, `livingreview diff`, bump the version in data/datapackage.json and "
            "CITATION.cff "
            "and add a data/CHANGELOG.md entry (`livingreview check-release` says which), then open "
            "a pull request."
        )
        return 0
