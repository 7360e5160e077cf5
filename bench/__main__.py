"""make bench: see bench/suite.py (python -m bench --help). The older single benchmarks stay runnable
on their own: python -m bench.import_scale, python -m bench.export_memory."""

from __future__ import annotations

import sys

from bench.suite import main

if __name__ == "__main__":
    sys.exit(main())
