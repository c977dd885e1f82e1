"""``python -m bench``: run every benchmark module's ``run()`` and print one table.

``python -m bench duties_board`` runs only the named modules.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import pkgutil
import subprocess
import sys
import time

import bench


def modules(only: list[str]) -> list[str]:
    """The benchmark modules in this package (all, or the ones named), in name order."""
    found = sorted(m.name for m in pkgutil.iter_modules(bench.__path__) if not m.name.startswith("_"))
    unknown = sorted(set(only) - set(found))
    if unknown:
        raise SystemExit(f"没有这些基准测试：{'、'.join(unknown)}。可用的有：{'、'.join(found)}。")
    return [m for m in found if not only or m in only]


def table(results: list[bench.Result]) -> str:
    """The results as an aligned plain-text table (CJK characters count double in a terminal)."""

    def width(text: str) -> int:
        return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)

    rows = [("benchmark", "scale", "figures")] + [(r.name, r.scale, r.figures) for r in results]
    widths = [max(width(row[i]) for row in rows) for i in range(2)]
    lines = []
    for n, row in enumerate(rows):
        cells = [row[i] + " " * (widths[i] - width(row[i])) for i in range(2)]
        lines.append("  ".join([*cells, row[2]]))
        if n == 0:
            lines.append("  ".join(["-" * widths[0], "-" * widths[1], "-" * max(width(r[2]) for r in rows)]))
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    """Run the benchmarks and print the table."""
    results: list[bench.Result] = []
    started = time.perf_counter()
    if argv[:1] == ["--one"]:
        # Child mode: one module in this process, its results as JSON on the last line.
        module = importlib.import_module(f"bench.{argv[1]}")
        print(json.dumps([dataclasses.asdict(r) for r in module.run()], ensure_ascii=False))
        return 0
    for name in modules(argv):
        print(f"基准测试 {name} …", file=sys.stderr, flush=True)
        # Each benchmark in its own process: its own throw-away database and Django set-up.
        child = subprocess.run(  # noqa: S603
            [sys.executable, "-m", "bench", "--one", name], stdout=subprocess.PIPE, text=True, check=False
        )
        if child.returncode != 0:
            print(f"基准测试 {name} 失败（退出码 {child.returncode}）。", file=sys.stderr)
            return child.returncode
        results.extend(bench.Result(**r) for r in json.loads(child.stdout.strip().splitlines()[-1]))
    print()
    print(table(results))
    print(f"\n（共用时 {time.perf_counter() - started:.0f} 秒）")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
