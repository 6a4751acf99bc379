"""The ``livingreview`` command line.

Each subcommand lives in its own module (named like it: ``check-release`` -> ``check_release``), which
defines ``add_arguments(parser)`` and ``run(args) -> int``; ``git`` holds the git plumbing two of them share.
Only the module of the subcommand being run is imported, so ``livingreview validate`` stays fast. This package
is the only code that prints, prompts or runs git.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from livingreview.errors import UserError

# name -> (module, one-line help)
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "validate": ("livingreview.cli.validate", "check data/ and references.bib; never modifies a file"),
    "fmt": ("livingreview.cli.fmt", "rewrite data/*.csv in canonical form (encoding, line endings, order)"),
    "summary": ("livingreview.cli.summary", "per-disease counts and pooled response estimates"),
    "add": ("livingreview.cli.add", "add one case group (prompts when run in a terminal)"),
    "diff": ("livingreview.cli.diff", "Markdown report of data changes against a git ref"),
    "check-release": (
        "livingreview.cli.check_release",
        "check the data version bump and changelog against a git ref",
    ),
    "export": ("livingreview.cli.export", "write the records as RIS and a round's PRISMA 2020 counts as CSV"),
    "screen": (
        "livingreview.cli.screen",
        "export the screening queue and import decisions (ASReview, Rayyan)",
    ),
    "search": ("livingreview.cli.search", "run the saved PubMed query (NCBI E-utilities) and record the run"),
    "issue-form": (
        "livingreview.cli.issue_form",
        "print the GitHub issue form for case submissions, generated from the schema",
    ),
}


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The parser; only the subcommand named in ``argv`` gets its module imported and its options added."""
    wanted = next((token for token in (argv or []) if token in SUBCOMMANDS), None)
    parser = argparse.ArgumentParser(prog="livingreview", description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=".", help="repository root holding data/ and references.bib")
    parser.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (module_name, help_text) in SUBCOMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(_module=module_name)
        if name == wanted:
            _module(module_name).add_arguments(p)
    return parser


def _module(name: str):
    return importlib.import_module(name)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    try:
        return int(_module(args._module).run(args) or 0)
    except UserError as exc:
        print(f"livingreview {args.command}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted; nothing was written", file=sys.stderr)
        return 130
    except Exception as exc:  # the promise is "never a traceback" unless --debug
        if args.debug:
            raise
        print(
            f"livingreview {args.command}: internal error ({type(exc).__name__}: {exc}); "
            "rerun with --debug and report it",
            file=sys.stderr,
        )
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
