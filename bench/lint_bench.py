"""`deckgen lint` on a synthetic deck of realistic text: its time and peak memory at two sizes.

The deck reads like a real one, which is what makes lint slow or big: text words from a
vocabulary of a few thousand used with Zipf-like frequencies (a few words everywhere, most rare),
fronts written from a handful of shared templates ("Name the cause of X that fits this clue:
..."), short answers of one to three terms that the text of other cards names now and then,
cloze texts, reversed term notes, and image-only fronts (a flag and its country). Each size is linted in a fresh process
(`measure.py`: wall time and peak resident memory); `deckgen check` on the same project, in the
same run, is the reference: lint builds the project the same way, then judges it.

    .venv/bin/python bench/lint_bench.py                      # 2,000 and 20,000 notes, 3 runs each
    .venv/bin/python bench/lint_bench.py --notes 2000 --repeat 1
    .venv/bin/python bench/lint_bench.py --out bench/results.md   # the section in results.md
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).parent
ROOT = HERE.parent
SECTION = "## `deckgen lint` (issue 22)"
VOCABULARY = 5000  # the made-up words of the text, at 2,000 notes
TERMS = 20000  # the made-up terms answers are made of ("...ine"), at 2,000 notes
TERM_SHARE = 0.05  # how often a word of the text is a term: what makes giveaways
CONFIG = """\
deck: Synthetic Pathology
key: synthetic-pathology
groups:
  cause: Causes
  sign: Signs
  flag: Flags
sources:
  bench: The benchmark generator
"""
CAUSE_SPEC = "note_type: basic\nfields:\n  condition: {required: true}\n  clue: {required: true}\n  cause: {required: true}\n"
CAUSE_TEMPLATE = """\
{% block Front %}Name the cause of {{ condition }} that fits this clue: {{ clue }}{% endblock %}
{% block Back %}{{ cause }}{% endblock %}
"""
_SYLLABLES = "ca lo ne mi ta ro su vi pe la do ri ko na te bu sa fi mo ga".split()
_QUESTIONS = (
    "Which {a} of the {b} is seen in {c} {d}?",
    "What does {a} {b} cause in the {c}?",
    "Where in the {a} does {b} {c} form?",
    "Which {a} {b} follows {c} of the {d}?",
    "How does {a} {b} show on {c}?",
)


class Words:
    """Deterministic text: the words of the text drawn with Zipf-like frequencies (a few everywhere, most
    rare), and the terms answers are made of, which the text mentions now and then."""

    def __init__(self, size: int, terms: int, seed: int) -> None:
        self.state = seed * 2654435761 % 4294967291 or 1
        self.vocabulary = [self._made_up(n) for n in range(size)]
        self.term_list = [self._made_up(n + 7) + "ine" for n in range(terms)]

    def _next(self) -> float:
        self.state = (self.state * 48271) % 2147483647
        return self.state / 2147483647

    def _made_up(self, number: int) -> str:
        """A word of its own for each number: its digits in base 20 as syllables."""
        syllables, rest = [], number + 20
        while rest:
            syllables.append(_SYLLABLES[rest % 20])
            rest //= 20
        return "".join(syllables) + ("sis" if number % 7 == 0 else "")

    def word(self) -> str:
        """A word of the text: one time in TERM_SHARE a term, else a Zipf-like draw (index ~ u³)."""
        if self._next() < TERM_SHARE:
            return self.term()
        return self.vocabulary[int(len(self.vocabulary) * self._next() ** 3)]

    def words(self, count: int) -> str:
        return " ".join(self.word() for _ in range(count))

    def term(self) -> str:
        """A word of an answer: any term, as likely as any other."""
        return self.term_list[int(len(self.term_list) * self._next())]

    def terms(self, count: int) -> str:
        return " ".join(self.term() for _ in range(count))

    def pick(self, choices: tuple[str, ...]) -> str:
        return choices[int(self._next() * len(choices))]


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def note_yaml(number: int, words: Words) -> str:
    """One note of six kinds in turn: basic, project card type, cloze, reversed term, flag, basic."""
    kind = number % 6
    lines = [f"  - id: note-{number}"]
    if kind == 1:
        lines += ["    type: cause", f"    condition: {words.words(2)}", f"    clue: {_quote(words.words(8) + '.')}",
                  f"    cause: {words.terms(1 + number % 2)}"]
    elif kind == 2:
        lines += ["    type: cloze", f"    text: {_quote(words.words(6) + ' {{c1::' + words.terms(1 + number % 2) + '}} ' + words.words(5) + '.')}"]
    elif kind == 3:
        lines += ["    type: reversed", f"    front: {words.terms(1 + number % 2)} {number}",
                  f"    back: {_quote('The ' + words.words(7) + ' of the ' + words.words(3) + '.')}"]
    elif kind == 4:
        lines += [f"    front: \"![](flag-{number}.png)\"", f"    back: {words.terms(1 + number % 2)}"]
    else:
        question = words.pick(_QUESTIONS).format(a=words.word(), b=words.word(), c=words.word(), d=words.word())
        lines += [f"    front: {_quote(question)}", f"    back: {words.terms(1 + number % 3)}",
                  f"    extra: {_quote(words.words(12) + '.')}"]
    return "\n".join(lines + ["    sources: [bench]"]) + "\n"


def write_project(root: Path, notes: int, per_file: int = 200) -> None:
    """The synthetic project: card files of `per_file` notes each, spread over three groups."""
    growth = (notes / 2000) ** 0.6  # a bigger deck covers more topics: its vocabulary grows (Heaps' law)
    words = Words(int(VOCABULARY * growth), int(TERMS * growth), seed=notes)
    for folder in ("cards", "templates", "media"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    (root / "deckgen.yaml").write_text(CONFIG)
    (root / "templates/cause.yaml").write_text(CAUSE_SPEC)
    (root / "templates/cause.html.j2").write_text(CAUSE_TEMPLATE)
    for number in range(4, notes, 6):  # each flag note shows an image of its own
        (root / f"media/flag-{number}.png").write_bytes(b"\x89PNG\r\n\x1a\n" + str(number).encode())
    groups = ("cause", "sign", "flag")
    for first in range(0, notes, per_file):
        body = "".join(note_yaml(n, words) for n in range(first, min(notes, first + per_file)))
        (root / f"cards/part-{first // per_file:04d}.yaml").write_text(f"group: {groups[first // per_file % 3]}\ncards:\n{body}")


@dataclass
class Runs:
    seconds: list[float]
    peak_kib: list[int]

    def median(self) -> tuple[float, float]:
        return statistics.median(self.seconds), statistics.median(self.peak_kib) / 1024


def measure(command: list[str], repeat: int) -> Runs:
    """Each run in a fresh process: (seconds, peak KiB) from measure.py (lint runs under `sh`, which
    passes its exit code 1, "findings to fix", as success; a waited-for grandchild's peak counts)."""
    runs = Runs([], [])
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for _ in range(repeat):
        done = subprocess.run([sys.executable, str(HERE / "measure.py"), *command], capture_output=True,
                              text=True, env=env)
        if done.returncode != 0 or not done.stdout.strip():
            raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr}")
        seconds, kib = done.stdout.split()[-2:]
        runs.seconds.append(float(seconds))
        runs.peak_kib.append(int(kib))
    return runs


def findings(project: Path) -> str:
    """Lint's summary line on the project (how much it found)."""
    done = subprocess.run([sys.executable, "-m", "deckgen", "lint", str(project)], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    return done.stdout.strip().splitlines()[-1]


def bench(sizes: list[int], repeat: int, workdir: Path) -> list[str]:
    """One table row per size, and the runs behind it."""
    rows, details = [], []
    for notes in sizes:
        project = workdir / f"deck-{notes}"
        write_project(project, notes)
        python = [sys.executable, "-m", "deckgen"]
        measure([*python, "check", str(project)], 1)  # warms the build cache both commands use
        check = measure([*python, "check", str(project)], repeat)
        lint = measure(["sh", "-c", '"$@" >/dev/null; [ $? -le 1 ]', "lint", *python, "lint", str(project)], repeat)
        (lint_s, lint_mib), (check_s, check_mib) = lint.median(), check.median()
        rows.append(f"| {notes:,} | {lint_s:.2f} s | {lint_mib:.0f} MiB | {check_s:.2f} s | {check_mib:.0f} MiB | "
                    f"{findings(project)} |")
        details.append(f"- {notes:,} notes: lint {', '.join(f'{s:.2f}' for s in lint.seconds)} s, "
                       f"{', '.join(f'{k / 1024:.0f}' for k in lint.peak_kib)} MiB; check "
                       f"{', '.join(f'{s:.2f}' for s in check.seconds)} s")
    return rows + [""] + details


def markdown(lines: list[str], repeat: int) -> str:
    head = [SECTION, "",
            "`bench/lint_bench.py`: a synthetic deck of realistic text (text words from a made-up vocabulary of "
            "5,000 words at 2,000 notes drawn with Zipf-like frequencies; answers of one to three terms from 20,000, "
            "which the text names one word in twenty; both vocabularies grow with the deck as the 0.6th power of "
            "its size, as a real vocabulary does (Heaps' law); fronts from five shared question templates and a project card type; cloze "
            "texts; reversed term notes; image-only flag fronts, an image each). Each figure is the median of "
            f"{repeat} fresh processes, start-up and the build included; `deckgen check` on the same project, "
            "build cache warm for both, is the reference.",
            f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}.", "",
            "| notes | `deckgen lint` | peak memory | `deckgen check` | peak memory | lint's summary |",
            "|---:|---:|---:|---:|---:|---|"]
    return "\n".join(head + lines) + "\n"


def write_section(path: Path, section: str) -> None:
    """Replace this bench's section of results.md (or add it), keeping every other section."""
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    start = text.find(SECTION)
    if start < 0:
        path.write_text(text.rstrip("\n") + "\n\n" + section, encoding="utf-8")
        return
    end = text.find("\n## ", start + len(SECTION))
    path.write_text(text[:start] + section + (text[end + 1:] if end >= 0 else ""), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--notes", type=int, action="append", help="a deck size (repeatable; default 2,000 and 20,000)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, help="write the section into this results file")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="lint-bench-") as scratch:
        section = markdown(bench(options.notes or [2000, 20000], options.repeat, Path(scratch)), options.repeat)
    print(section)
    if options.out:
        write_section(options.out, section)


if __name__ == "__main__":
    main()
