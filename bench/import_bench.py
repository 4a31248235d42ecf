"""Benchmark: `deckgen import` of a big package against the official Anki backend importing it.

Writes a package of N notes (default 20,000; some HTML, hierarchical tags, three subdecks, a
custom note type) with M media files (default 2,000, each used by a note) using genanki, then, in
the same run and alternating, times `deckgen import` of it into a new folder and Anki's own
importer (the `anki` package) into a fresh collection. The ratio is the median of the pairs'
ratios. Not a test.

    python bench/import_bench.py [--notes 20000] [--media 2000] [--repeat 3] [--out bench/results.md]
"""

from __future__ import annotations

import argparse
import os
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
        image = f'<br><img src="img{i // 10 % media:05d}.png">' if i % 10 == 0 else ""  # every file used
        notes_field = f'<span style="color: red;">warning {i}</span>' if i % 50 == 0 else (f"Note <i>{i}</i>" if i % 3 else "")
        decks[i % 3].add_note(genanki.Note(model, [f"Drug {i}", f"Blocks <b>enzyme {i}</b> in pathway {i % 97}{image}",
                                                   notes_field], tags=[f"class::c{i % 20}", "bench"], guid=f"bench-{i}"))
    package = genanki.Package(decks)
    package.media_files = files
    out = folder / "bench.apkg"
    package.write_to_file(str(out), timestamp=1_700_000_000)
    return out


def time_deckgen(package: Path, scratch: Path) -> float:
    from deckgen.importer import import_deck

    started = time.perf_counter()
    import_deck(package, scratch / f"project-{time.monotonic_ns()}")
    return time.perf_counter() - started


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
    """One more deckgen import, timed by stage: where the time goes (in this process: helpers' work overlaps)."""
    from deckgen import importer
    from deckgen.importer import conversion as cards, make_project as project

    labels = ["read the package (zip, SQLite, media)",
              "convert the fields, write and compile the card files (shared with helpers)",
              "  of which: HTML to Markdown, checked (this process's share)",
              "  of which: card files written and compiled (this process's share)",
              "the build's checks across cards, the lock seeded and written"]
    spent: dict[str, float] = dict.fromkeys(labels, 0.0)

    def timed(module: object, name: str, label: str) -> None:
        original = getattr(module, name)

        def wrapper(*args: object, **kwargs: object) -> object:
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                spent[label] = spent.get(label, 0.0) + time.perf_counter() - started
        setattr(module, name, wrapper)

    for (module, name), label in zip([(importer, "read_source"), (project, "write_cards"), (cards, "convert_fields"),
                                      (cards, "_write"), (project, "seed_lock")], labels):
        timed(module, name, label)
    started = time.perf_counter()
    importer.import_deck(package, scratch / f"phases-{time.monotonic_ns()}")
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
        pairs = []
        for _ in range(args.repeat):
            ours = time_deckgen(package, scratch)
            theirs = time_anki(package, scratch)
            pairs.append((ours, theirs))
            print(f"deckgen {ours:.2f} s, anki {theirs:.2f} s, ratio {ours / theirs:.2f}x", flush=True)
            # Nothing is deleted until the end: on this machine's disk (ext4 mounted with discard),
            # deleting thousands of files slows file creation for seconds afterwards, which would
            # land on whichever side runs next.
        spent = phases(package, scratch)
    ratio = statistics.median(ours / theirs for ours, theirs in pairs)
    lines = [f"## Import: {args.notes:,} notes, {args.media:,} media files ({os.cpu_count()} CPU cores)", "",
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
