"""make bench: every benchmark in bench/, one after the other, each printing its own figures.

Benchmarks report ratios measured side by side in one run; the machines are shared and noisy,
so no benchmark asserts a time.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCHMARKS = ["import_scale", "export_memory"]


def main() -> int:
    failed = []
    for name in BENCHMARKS:
        if not (Path(__file__).parent / f"{name}.py").exists():
            continue
        print(f"\n== bench.{name}", flush=True)
        if subprocess.run([sys.executable, "-m", f"bench.{name}"]).returncode != 0:
            failed.append(name)
    if failed:
        print(f"failed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
