"""The release report: what this build changes for learners who already have the deck."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..project.config import ProjectConfig
from .lock_file import Lock


_PRESETS_NOTE = 'Anki applies it only for learners who tick "Import any deck presets" when they import'


@dataclass(frozen=True)
class Move:
    """A card whose group changed: existing learners keep it in the old subdeck."""

    card_id: str
    old: str
    new: str


@dataclass
class ReleaseReport:
    """Cards added, changed, removed and moved, and note types changed, since the lock."""

    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    moved: list[Move] = field(default_factory=list)
    note_types: list[str] = field(default_factory=list)
    deck_options: bool = False  # the preset `options:` gives was added, changed or dropped
    first_release: bool = False
    renamed: list[tuple[str, str]] = field(default_factory=list)  # (old id, new id): learners keep the note
    restored: list[str] = field(default_factory=list)
    media: list[str] = field(default_factory=list)  # media files whose bytes changed: the notes showing them changed
    media_only: set[str] = field(default_factory=set)  # changed cards whose own text did not: a file they show did

    @property
    def empty(self) -> bool:
        return not (self.added or self.changed or self.removed or self.moved or self.note_types
                    or self.deck_options or self.renamed or self.restored or self.media)

    def lines(self, config: ProjectConfig) -> list[str]:
        """The report as plain lines for the terminal."""
        if self.first_release:
            return [f"first release: {len(self.added)} cards added"]
        if self.empty:
            return ["no changes since the lock"]
        out = [
            *(f"added: {card}" for card in self.added),
            *(f"renamed: {old} → {new} (learners keep their note and its reviews)" for old, new in self.renamed),
            *(f"restored: {card} (learners who still have it get it updated)" for card in self.restored),
            *(f"changed: {card}" + (" (a media file it shows changed)" if card in self.media_only else "")
              for card in self.changed),
            *(f"media changed: {name} (the notes that show it are updated)" for name in self.media),
            *(f"note type changed: {kind}" for kind in self.note_types),
            *([f"deck options changed ({_PRESETS_NOTE})"] if self.deck_options else []),
            *(f"removed: {card} (an import never deletes notes: learners who have it keep it)"
              for card in self.removed),
            *(f"moved: {m.card_id} from {deck_title(config, m.old)} to {deck_title(config, m.new)} "
              "(Anki never moves existing cards: learners who have it keep it in the old subdeck)"
              for m in self.moved),
        ]
        return out

    def markdown(self, config: ProjectConfig) -> str:
        """The report as Markdown, to paste into release notes."""
        title = f"# {config.deck}" + (f" {config.version}" if config.version else "")
        sections = [title, ""]
        if self.first_release:
            return "\n".join(sections + [f"First release: {len(self.added)} cards.", ""])
        if self.empty:
            return "\n".join(sections + ["No changes to cards or note types.", ""])
        for heading, items in self._sections(config):
            if items:
                sections += [f"## {heading}", "", *(f"- {item}" for item in items), ""]
        return "\n".join(sections)

    def _sections(self, config: ProjectConfig) -> list[tuple[str, list[str]]]:
        return [
            ("Added", [f"`{c}`" for c in self.added]),
            ("Renamed", [f"`{old}` → `{new}`: learners keep their note and its reviews" for old, new in self.renamed]),
            ("Restored", [f"`{c}`: brought back; learners who still have it get it updated" for c in self.restored]),
            ("Changed", [f"`{c}`" + (": a media file it shows changed" if c in self.media_only else "")
                         for c in self.changed]),
            ("Note types changed", [f"`{k}` (templates or style)" for k in self.note_types]),
            ("Deck options", [f"The deck options preset changed: {_PRESETS_NOTE}."] if self.deck_options else []),
            ("Removed", [f"`{c}`: stays in the collections of learners who already have it "
                         "(importing never deletes notes); they can delete it themselves" for c in self.removed]),
            ("Moved", [f"`{m.card_id}`: {deck_title(config, m.old)} → {deck_title(config, m.new)}; "
                       "learners who already have it keep it in the old subdeck (Anki never moves existing cards)"
                       for m in self.moved]),
        ]


def deck_title(config: ProjectConfig, group: str) -> str:
    """Where a group's cards go, as the report names it: its full title, the deck itself, or the path of a group gone."""
    if group not in ("", *config.group_paths()):
        return group  # a group the config no longer has: its path from the lock
    return config.group_title(group) or f"{config.deck} (the deck itself)"


def compare(old: Lock, new: Lock, renames: dict[str, str] | None = None,
            restored: frozenset[str] = frozenset()) -> ReleaseReport:
    """What changed between the lock before this build and after it (`renames`: new id -> old id)."""
    renames = renames or {}
    report = ReleaseReport(first_release=not old.cards)
    for card_id, entry in new.cards.items():
        before = old.cards.get(card_id)
        if before is None and card_id in renames:
            report.renamed.append((renames[card_id], card_id))
            before = old.cards[renames[card_id]]
        if before is None:
            (report.restored if card_id in restored else report.added).append(card_id)
            continue
        if before.hash != entry.hash or before.mtime != entry.mtime:
            report.changed.append(card_id)
            if before.hash == entry.hash:
                report.media_only.add(card_id)
        if before.group != entry.group:
            report.moved.append(Move(card_id, before.group, entry.group))
    report.deck_options = old.deck_options != new.deck_options
    report.media = sorted(name for name, entry in new.media.items()
                          if name in old.media and old.media[name].hash != entry.hash)
    report.removed = sorted(old.cards.keys() - new.cards.keys() - set(renames.values()))
    report.note_types = sorted(
        kind for kind, entry in new.note_types.items()
        if kind in old.note_types and old.note_types[kind].hash != entry.hash
    )
    return report
