"""Benchmark: `deckgen import` of a big package against the official Anki backend importing it.

Writes a package of N notes (default 20,000; some HTML, hierarchical tags, three subdecks, a
custom note type) with M media files (default 2,000) using genanki, then, in the same run and
alternating, times `deckgen import` of it into a new folder and Anki's own importer (the `anki`
package) into a fresh collection. The ratio is the median of the pairs' ratios. Not a test.

    python bench/import_bench.py [--notes 20000] [--media 2000] [--repeat 3] [--out bench/results.md]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import genanki

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def make_package(folder: Path, notes: int, media: int) -> Path:
    """A deck shaped like real ones: a custom two-template note type, HTML, images, tags, subdecks."""
    model = genanki.Model(1500000001, "Bench Drug", fields=[{"name": "Drug"}, {"name": "Mechanism"}, {"name": "Notes"}],
                          templates=[{"name": "Mechanism", "qfmt": "{{Drug}}?", "afmt": "{{FrontSide}}<hr id=answer>{{Mechanism}}"},
                                     {"name": "Notes", "qfmt": "{{#Notes}}{{Drug}} notes?{{/Notes}}",
                                      "afmt": "{{FrontSide}}<hr id=answer>{{Notes}}"}], css=".card { color: navy; }")
    decks = [genanki.Deck(1500000100 + i, f"Bench::Part {i}") for i in range(3)]
    files = []
    for i in range(media):
        path = folder / f"img{i:05d}.png"
        path.write_bytes(b"\x89PNG fake image %d" % i)
        files.append(str(path))
    for i in range(notes):
        image = f'<br><img src="img{i % media:05d}.png">' if i % 10 == 0 else ""
        notes_field = f'<span style="color: red;">warning {i}</span>' if i % 50 == 0 else (f"Note <i>{i}</i>" if i % 3 else "")
        decks[i % 3].add_note(genanki.Note(model, [f"Drug {i}", f"Blocks <b>enzyme {i}</b> in pathway {i % 97}{image}",
                                                   notes_field], tags=[f"class::c{i % 20}", "bench"], guid=f"bench-{i}"))
    package = genanki.Package(decks)
    package.media_files = files
    out = folder / "bench.apkg"
    package.write_to_file(str(out), timestamp=1_700_000_000)
    return out


def time_deckgen(package: Path, scratch: Path) -> tuple[float, str]:
    from deckgen.importer import import_deck
    from deckgen.importer import project as project_module
    from deckgen.problems import ProjectError

    target = scratch / f"project-{time.monotonic_ns()}"
    started = time.perf_counter()
    try:
        import_deck(package, target)
        return time.perf_counter() - started, "full import (project written, lock seeded and checked as a build would)"
    except ProjectError:  # the project syntax of issue 11 is not in this tree: time all but the build
        original = project_module.seed_lock
        project_module.seed_lock = lambda *args: []  # type: ignore[assignment]
        try:
            started = time.perf_counter()
            import_deck(package, scratch / f"partial-{time.monotonic_ns()}")
            return time.perf_counter() - started, "import WITHOUT the build that seeds the lock (issue 11 missing)"
        finally:
            project_module.seed_lock = original


def time_anki(package: Path, scratch: Path) -> float:
    import anki.collection  # noqa: F401
    from anki.collection import Collection, ImportAnkiPackageOptions, ImportAnkiPackageRequest

    folder = scratch / f"anki-{time.monotonic_ns()}"
    folder.mkdir()
    started = time.perf_counter()
    col = Collection(str(folder / "collection.anki2"))
    col.import_anki_package(ImportAnkiPackageRequest(package_path=str(package), options=ImportAnkiPackageOptions()))
    col.close()
    return time.perf_counter() - started


def phases(package: Path, scratch: Path) -> dict[str, float]:
    """One more deckgen import, timed by stage: where the time goes."""
    from deckgen import importer
    from deckgen.importer import project as project_module

    spent: dict[str, float] = {}

    def timed(module: object, name: str, label: str) -> None:
        original = getattr(module, name)

        def wrapper(*args: object, **kwargs: object) -> object:
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                spent[label] = spent.get(label, 0.0) + time.perf_counter() - started
        setattr(module, name, wrapper)

    timed(importer, "read_source", "read the package (zip, SQLite, media)")
    timed(project_module, "convert_fields", "HTML to Markdown, checked")
    timed(project_module, "write_cards", "write the card files (YAML)")
    timed(project_module, "seed_lock", "seed the lock (the cards compiled from what the import knows, "
          "the build's checks across cards, the lock written)")
    started = time.perf_counter()
    try:
        importer.import_deck(package, scratch / f"phases-{time.monotonic_ns()}")
    except Exception:  # noqa: BLE001  (a tree without issue 11: the build stage fails; the rest is timed)
        pass
    spent["total"] = time.perf_counter() - started
    return spent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notes", type=int, default=20_000)
    parser.add_argument("--media", type=int, default=2_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="deckgen-import-bench-") as name:
        scratch = Path(name)
        package = make_package(scratch, args.notes, args.media)
        pairs, what = [], ""
        for _ in range(args.repeat):
            ours, what = time_deckgen(package, scratch)
            theirs = time_anki(package, scratch)
            pairs.append((ours, theirs))
            print(f"deckgen {ours:.2f} s, anki {theirs:.2f} s, ratio {ours / theirs:.2f}x", flush=True)
            for leftover in scratch.glob("p*-*"):
                shutil.rmtree(leftover, ignore_errors=True)
        spent = phases(package, scratch)
    ratio = statistics.median(ours / theirs for ours, theirs in pairs)
    lines = [f"## Import: {args.notes:,} notes, {args.media:,} media files ({what})", "",
             "| run | deckgen import | Anki backend import | ratio |", "|---:|---:|---:|---:|"]
    lines += [f"| {i} | {ours:.2f} s | {theirs:.2f} s | {ours / theirs:.2f}× |" for i, (ours, theirs) in enumerate(pairs, 1)]
    lines += ["", f"Median ratio: **{ratio:.2f}×** (target ≤ 2×)", "", "Where one more deckgen import spends its time:", ""]
    lines += [f"- {label}: {seconds:.2f} s" for label, seconds in spent.items()] + [""]
    print("\n".join(lines))
    if args.out:
        with args.out.open("a", encoding="utf-8") as out:
            out.write("\n" + "\n".join(lines))


if __name__ == "__main__":
    main()
