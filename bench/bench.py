"""deckgen's benchmark: every scenario as a ratio to a plain genanki script, measured in the same run.

    python bench/bench.py                       # 10,000 cards in 100 files: the quick check
    python bench/bench.py --cards 50000 --files 500 --memory-cards 200000 --out bench/results.md

Each measurement is a separate process (Python start-up and imports included, on both sides),
repeated; the floor is measured right after each deckgen run so that both see the same machine
load, and the ratio reported is the median of those pairs' ratios. Targets are ratios, never
absolute times: these machines are shared.
"""

from __future__ import annotations

import argparse
import compileall
import datetime
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
from synthetic import file_yaml, write_project  # noqa: E402

DECKGEN = [sys.executable, "-m", "deckgen"]
FLOOR = [sys.executable, str(HERE / "genanki_floor.py")]
MEASURE = [sys.executable, str(HERE / "measure.py")]


@dataclass
class Sample:
    seconds: float
    peak_kib: int


@dataclass
class Row:
    scenario: str
    target: float | None
    deckgen: float
    floor: float
    unit: str = "s"
    ratios: tuple[float, ...] = ()  # one per pair of runs; empty: the ratio of the two figures
    runs: str = ""  # every run's time, for the record

    @property
    def ratio(self) -> float:
        """The median of the pairs' ratios: each deckgen run against the floor run right after it.

        The machine's speed drifts over minutes; a pair of runs seconds apart sees the same
        machine, so this is steadier than the ratio of the two medians.
        """
        return statistics.median(self.ratios) if self.ratios else self.deckgen / self.floor

    @property
    def met(self) -> str:
        if self.target is None:
            return "-"
        return "yes" if self.ratio <= self.target else "NO"


def measure(command: list[str]) -> Sample:
    """Run a command in its own measuring process: wall time and peak resident memory."""
    out = subprocess.run(MEASURE + command, capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"failed: {' '.join(command)}\n{out.stdout}\n{out.stderr}")
    seconds, peak = out.stdout.strip().splitlines()[-1].split()
    return Sample(float(seconds), int(peak))


class Bench:
    def __init__(self, cards: int, files: int, repeat: int, workdir: Path) -> None:
        self.cards, self.files, self.repeat = cards, files, repeat
        self.project = workdir / f"project-{cards}"
        self.paths = write_project(self.project, cards, files)
        self.output = workdir / f"deck-{cards}.apkg"
        self.floor_output = workdir / f"floor-{cards}.apkg"
        self.edits = 0

    def floor(self) -> Sample:
        return measure(FLOOR + [str(self.cards), str(self.floor_output)])

    def deckgen(self, *args: str) -> Sample:
        return measure(DECKGEN + [*args, str(self.project), "-o", str(self.output)]
                       if args[0] == "build" else DECKGEN + [*args, str(self.project)])

    def clean(self) -> None:
        """Nothing cached, as in a fresh clone of a deck's repository: no build cache, no package.

        deckgen.lock stays: it is a source file, committed with the cards.
        """
        shutil.rmtree(self.project / ".deckgen-cache", ignore_errors=True)
        self.output.unlink(missing_ok=True)

    def first_build(self) -> None:
        """Nothing at all: not even a lock (a project's very first build)."""
        self.clean()
        (self.project / "deckgen.lock").unlink(missing_ok=True)

    def edit_one_file(self) -> None:
        """Change one card of one file, differently each time."""
        self.edits += 1
        path = self.paths[len(self.paths) // 2]
        per_file = -(-self.cards // self.files)
        first = self.paths.index(path) * per_file
        path.write_text(file_yaml(first, min(per_file, self.cards - first), salt="x" * self.edits))

    def pair(self, scenario: str, target: float | None, prepare, run) -> Row:  # type: ignore[no-untyped-def]
        """Deckgen and floor runs, interleaved: the medians of each and of the pairs' ratios."""
        ours, floors = [], []
        for _ in range(self.repeat):
            prepare()
            ours.append(run())
            floors.append(self.floor())
        runs = (f"deckgen {', '.join(f'{s.seconds:.2f}' for s in ours)} s; "
                f"floor {', '.join(f'{s.seconds:.2f}' for s in floors)} s")
        print(f"{scenario}: {runs}", flush=True)
        return Row(scenario, target, statistics.median(s.seconds for s in ours),
                   statistics.median(s.seconds for s in floors),
                   ratios=tuple(a.seconds / b.seconds for a, b in zip(ours, floors)), runs=runs)

    def peak(self, scenario: str, target: float, prepare, run) -> Row:  # type: ignore[no-untyped-def]
        """Peak memory of one deckgen run and one floor run."""
        prepare()
        ours, floor = run(), self.floor()
        return Row(scenario, target, ours.peak_kib / 1024, floor.peak_kib / 1024, "MiB")


def run_scenarios(bench: Bench, memory_cards: int | None, workdir: Path) -> list[Row]:
    build = lambda: bench.deckgen("build")  # noqa: E731
    bench.deckgen("build")  # writes the lock, as a committed project has one
    rows = [bench.pair("full build, nothing cached", 2.5, bench.clean, build),
            bench.pair("(first build of a project: no lock yet either)", None, bench.first_build, build)]
    bench.deckgen("build")  # warm the cache
    rows += [bench.pair("rebuild after editing one card file", 1.2, bench.edit_one_file, build),
             bench.pair("rebuild with nothing changed", 0.15, lambda: None, build),
             bench.pair("`deckgen check` after editing one card file", 0.3, bench.edit_one_file,
                        lambda: bench.deckgen("check"))]
    if memory_cards:
        big = Bench(memory_cards, max(1, memory_cards // 100), 1, workdir)
        rows.append(big.peak(f"peak memory at {memory_cards:,} cards", 3.0, big.first_build,
                             lambda: big.deckgen("build")))
    return rows


def markdown(rows: list[Row], cards: int, files: int) -> str:
    lines = [
        f"# deckgen benchmark ({datetime.date.today().isoformat()})",
        "",
        f"Synthetic project: {cards:,} cards in {files:,} files, 3 groups, every card type "
        "(basic, reversed, cloze and a project card type). Floor: a plain genanki script writing the same "
        "notes. Times are medians of separate processes, start-up included; each deckgen run is paired with the "
        "floor run right after it, and the ratio is the median of the pairs' ratios; memory is peak RSS. "
        "'Nothing cached' is a fresh clone: no build cache and no package, the committed deckgen.lock present.",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}.",
        "",
        "| scenario | deckgen | genanki floor | ratio | target | met |",
        "|---|---:|---:|---:|---:|:---:|",
    ]
    for row in rows:
        target = f"≤ {row.target}×" if row.target is not None else ""
        lines.append(f"| {row.scenario} | {row.deckgen:.2f} {row.unit} | {row.floor:.2f} {row.unit} | "
                     f"{row.ratio:.2f}× | {target} | {row.met} |")
    lines += ["", "Every run, in the order measured (each deckgen run followed by its floor run):", ""]
    lines += [f"- {row.scenario}: {row.runs}" for row in rows if row.runs]
    return "\n".join(lines) + "\n"


def compile_deckgen() -> None:
    """Byte-compile deckgen's modules, as Python does on first import or pip does on install.

    Where PYTHONDONTWRITEBYTECODE is set (as on this project's machines) and deckgen is an
    editable install, every run would otherwise compile deckgen's source again, while the
    floor's genanki loads the bytecode pip wrote when it installed it.
    """
    import deckgen

    compileall.compile_dir(Path(deckgen.__file__).parent, quiet=1)


def _other_sections(path: Path) -> str:
    """The sections other benchmarks keep in the same file (from its first '## '), kept as they are."""
    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    start = text.find("\n## ")
    return "\n" + text[start + 1:] if start >= 0 else ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cards", type=int, default=10_000)
    parser.add_argument("--files", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--memory-cards", type=int, default=0, help="also measure peak memory at this size")
    parser.add_argument("--out", type=Path, help="write the table as Markdown here")
    args = parser.parse_args()
    compile_deckgen()
    with tempfile.TemporaryDirectory(prefix="deckgen-bench-") as tmp:
        workdir = Path(tmp)
        started = time.perf_counter()
        bench = Bench(args.cards, args.files, args.repeat, workdir)
        rows = run_scenarios(bench, args.memory_cards or None, workdir)
    table = markdown(rows, args.cards, args.files)
    print(table)
    print(f"(benchmark took {time.perf_counter() - started:.0f} s)")
    if args.out:
        args.out.write_text(table + _other_sections(args.out), encoding="utf-8")
    if any(row.met == "NO" for row in rows):
        sys.exit(1)


if __name__ == "__main__":
    main()
