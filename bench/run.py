"""Entry point of `make bench`: import every bench/bench_*.py (sorted by name), call its run() and print the
result lines it returns. Not part of `make test`."""

from __future__ import annotations

import importlib.util
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    failures = 0
    for path in sorted(HERE.glob("bench_*.py")):
        spec = importlib.util.spec_from_file_location(path.stem, path)
        module = importlib.util.module_from_spec(spec)
        print(f"== {path.stem}", flush=True)
        start = time.perf_counter()
        try:
            spec.loader.exec_module(module)
            for line in module.run():
                print(line, flush=True)
        except Exception as exc:
            failures += 1
            print(f"FAILED: {type(exc).__name__}: {exc}", flush=True)
        print(f"   ({time.perf_counter() - start:.1f} s)", flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
