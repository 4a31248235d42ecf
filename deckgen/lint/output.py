"""The lint report as text for people, JSON for programs, or GitHub Actions annotations."""

from __future__ import annotations

import json

from .findings import LintFinding
from .run import LintReport


def text_lines(report: LintReport, explained: bool = False) -> list[str]:
    """One line per finding to fix (and per explained one, if asked), then unused lint_ignore entries, then the summary."""
    shown = report.findings if explained else report.unexplained
    lines = [str(finding) for finding in shown]
    lines += [f"{finding} (unused)" for finding in report.unused]
    return lines + [report.summary()]


def json_text(report: LintReport, strict: bool = False) -> str:
    """Every finding, explained ones with their reason, for editors and CI."""
    return json.dumps({
        "ok": report.passed(strict),
        "summary": report.summary(),
        "findings": [finding.to_json() for finding in report.findings],
        "unused_lint_ignore": [finding.to_json() for finding in report.unused],
    }, indent=2, ensure_ascii=False)


def github_lines(report: LintReport, strict: bool = False) -> list[str]:
    """GitHub Actions workflow commands: an annotation on the card for each finding to fix."""
    lines = [_annotation("warning", finding) for finding in report.unexplained]
    lines += [_annotation("error" if strict else "notice", finding) for finding in report.unused]
    return lines + [report.summary()]


def _annotation(level: str, finding: LintFinding) -> str:
    where = (f"file={_property(finding.path)},line={finding.line},col={finding.column},"
             f"title={_property('deckgen lint: ' + finding.rule)}")
    message = f"card '{finding.card}': {finding.message}" + (f" ({finding.hint})" if finding.hint else "")
    return f"::{level} {where}::{_data(message)}"


def _data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")
