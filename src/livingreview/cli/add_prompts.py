"""How ``livingreview add`` asks: the new reference as given (pasted BibTeX, a file or a manual record),
field-by-field prompts with the schema's description, allowed values and unit, and the re-asking of fields a
check refused. The appraisal of a report that has none yet is asked the same way (``ask_appraisal``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from livingreview.datapkg.bib_entry import KEY_PATTERN, MANUAL_FIELDS, NewEntry, from_bibtex, manual_entry
from livingreview.datapkg.field_help import constraint_text, is_required, unit_of
from livingreview.datapkg.new_row import ID_FIELD
from livingreview.errors import UserError
from livingreview.paths import BIBFILE

#: fields asked first, so that a default id can be proposed from them
PROMPT_FIRST = {
    "cases": ("disease", "source", "via", "case_id"),
    "outcomes": ("source", "case_id", "domain", "measure", "timepoint", "outcome_id"),
}
Prompt = Callable[[str], str]


# --------------------------------------------------------------------------------------------
# references


@dataclass
class BibInput:
    """The new reference as given: pasted BibTeX, a file holding it, or a manual record (MANUAL_FIELDS)."""

    bibtex: str | None = None
    bibtex_file: str | None = None
    manual: dict[str, str] = field(default_factory=dict)


def build_bib_entry(bib: BibInput) -> NewEntry | None:
    """The new reference the bib options give, or None when none was given. UserError when malformed."""
    sources = [n for n, v in (("--bibtex", bib.bibtex), ("--bibtex-file", bib.bibtex_file)) if v]
    if len(sources) > 1 or (sources and bib.manual):
        raise UserError("give the new reference one way: --bibtex, --bibtex-file, or the --bib-* options")
    if bib.bibtex_file:
        try:
            text = Path(bib.bibtex_file).read_text(encoding="utf-8")
        except OSError as exc:
            raise UserError(f"--bibtex-file {bib.bibtex_file}: {exc.strerror}") from None
        except UnicodeDecodeError:
            raise UserError(f"--bibtex-file {bib.bibtex_file}: not UTF-8 text") from None
        return from_bibtex(text, "--bibtex-file")
    if bib.bibtex:
        return from_bibtex(bib.bibtex, "--bibtex")
    if bib.manual:
        return manual_entry(bib.manual, label=lambda name: f"--bib-{name}")
    return None


class Refused(UserError):
    """The row is not added; the message lists why."""


class Prompts:
    """The asking half of :class:`livingreview.cli.add.Adder`: a mixin using the adder's schema and checks."""

    def prompt_order(self) -> list[str]:
        first = [n for n in PROMPT_FIRST.get(self.resource_name, ()) if n in self.specs]
        return first + [n for n in self.specs if n not in first]

    def ask_all(
        self, values: dict[str, str], bib_entry: NewEntry | None, prompt: Prompt, ask_optional: bool
    ) -> tuple[dict[str, str], NewEntry | None]:
        values = dict(values)
        order = [
            n for n in self.prompt_order() if n not in values and (ask_optional or is_required(self.specs[n]))
        ]
        if order:
            self.say(
                f"Adding a row to {self.relpath}. Answer each question; an empty answer means unknown "
                "(optional fields only). Ctrl-C stops without writing anything."
            )
        for number, name in enumerate(order, start=1):
            values[name] = self.ask_field(name, values, prompt, f"[{number}/{len(order)}]")
            if name == "source" and values[name] not in self.bib_keys and bib_entry is None:
                bib_entry = self.ask_bib(values[name], prompt)
        return values, bib_entry

    def ask_field(
        self, name: str, values: dict[str, str], prompt: Prompt, counter: str = "", reason: str = ""
    ) -> str:
        spec = self.specs[name]
        required = is_required(spec)
        self.say("")
        self.say(f"{counter} {name} — {'required' if required else 'optional, empty = unknown'}".strip())
        self.say(f"  {spec.get('description', '')}")
        enum = spec.get("constraints", {}).get("enum")
        if enum:
            self.say(f"  Allowed values: {', '.join(enum)}")
        else:
            self.say(f"  Type: {constraint_text(spec)}")
        unit = unit_of(name)
        if unit and spec.get("type") in ("integer", "number"):
            self.say(f"  Unit: {unit}")
        default = (
            self.next_id(values)
            if name == ID_FIELD[self.resource_name]
            else self.source_default(name, values)
        )
        if reason:
            self.say(f"  ✗ {reason}")
        while True:
            suffix = f" [{default}]" if default else ""
            answer = self.normalise(name, _ask(prompt, f"{name}{suffix}: "))
            if not answer and default:
                answer = default
            why = self.quick_check(name, answer)
            if why is None and name in ("source", "via") and answer:
                why = None if KEY_PATTERN.match(answer) else f"{answer!r} is not a bib key like kofler2021"
            if why is None:
                return answer
            self.say(f"  ✗ {why}; try again")

    def ask_appraisal(self, source: str, prompt: Prompt) -> dict[str, str]:
        """Every field of a new report's appraisal, asked with the schema's description and allowed answers; a
        reason is required for a yes or a no."""
        self.say(f"\n{source!r} is new to the review: appraise it (Murad et al. 2018; see the methods page).")
        answers: dict[str, str] = {}
        for name, spec in self.appraisal_specs().items():
            enum = spec.get("constraints", {}).get("enum")
            paired = answers.get(name.removesuffix("_reason")) if name.endswith("_reason") else None
            needed = is_required(spec) or paired in ("yes", "no")
            self.say(f"\n{name} — {'required' if needed else 'optional'}\n  {spec.get('description', '')}")
            if enum:
                self.say(f"  Allowed values: {', '.join(enum)}")
            while True:
                answer = _ask(prompt, f"{name}: ").strip()
                if enum and answer not in enum:
                    self.say(f"  ✗ {answer!r} is not one of {', '.join(enum)}; try again")
                elif not enum and needed and len(answer) < 3:
                    self.say("  ✗ say what the text states (a few words at least); try again")
                else:
                    answers[name] = answer
                    break
        return answers

    def ask_bib(self, key: str, prompt: Prompt) -> NewEntry:
        self.say(f"\n'{key}' is not in {BIBFILE} yet. Paste its BibTeX entry and finish with an empty line,")
        self.say("or just press Enter to type the reference field by field.")
        while True:
            lines: list[str] = []
            while True:
                line = _ask(prompt, "bibtex> " if not lines else "...... ")
                if not line.strip():
                    break
                lines.append(line)
            try:
                if lines:
                    entry = from_bibtex("\n".join(lines), "BibTeX")
                else:
                    manual = {"key": key}
                    for part in MANUAL_FIELDS[1:]:
                        manual[part] = _ask(prompt, f"{part}: ").strip()
                    entry = build_bib_entry(BibInput(manual=manual))
                    assert entry is not None
            except UserError as exc:
                self.say(f"  ✗ {exc}; try again")
                continue
            if entry.key != key:
                self.say(f"  ✗ the entry's key is {entry.key!r}, but the source is {key!r}; try again")
                continue
            return entry

    def fix_interactively(
        self, row: dict[str, str], bib_entry: NewEntry | None, problems: list[str], prompt: Prompt
    ) -> tuple[dict[str, str], NewEntry | None]:
        """Re-ask the fields the problems point at until the row is valid (or the user gives up)."""
        for _ in range(20):
            self.say("\nThe row is not valid yet:")
            for p in problems:
                self.say(f"  ✗ {p}")
            names: list[str] = []
            for p in problems:
                names += [n for n in self.fields_in(p) if n not in names]
            if not names:
                raise Refused("nothing was written:\n" + "\n".join(problems))
            for name in names:
                reason = next((p for p in problems if name in self.fields_in(p)), "")
                row[name] = self.ask_field(name, row, prompt, reason=reason)
                if (
                    name == "source"
                    and row[name] not in self.bib_keys
                    and (bib_entry is None or bib_entry.key != row[name])
                ):
                    bib_entry = self.ask_bib(row[name], prompt)
            problems = self.row_problems(row, bib_entry)
            if not problems:
                return row, bib_entry
        raise Refused("nothing was written:\n" + "\n".join(problems))

    def fields_in(self, problem: str) -> list[str]:
        """The fields of the new row a problem is about: its column, else the fields its message names."""
        m = re.match(r"^[^:]*:[^:]*:([A-Za-z_]*):", problem)
        if m and m.group(1) in self.specs:
            return [m.group(1)]
        return [n for n in self.specs if re.search(rf"\b{re.escape(n)}\b", problem)]


def _ask(prompt: Prompt, text: str) -> str:
    try:
        return prompt(text)
    except EOFError:
        raise UserError("input ended before every question was answered; nothing was written") from None
