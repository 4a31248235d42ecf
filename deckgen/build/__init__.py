"""The build pipeline: cards checked, rendered and packaged, with the lock that keeps releases clean.

`pipeline` runs the stages and is what `build` and `check` call: `compiler` takes each card file
through `validate` (with `inline_html`) and `render`, in parallel and through `cache`; `media`
gathers the files notes use; `identity` checks renamed, restored and pinned cards; `lock` (its
format in `lock_file`, two branches merged by `lock_merge`) gives every note the time its content
last changed; `report` says what a build changes for learners; `package` writes the .apkg.
`build_options` holds the options every command shares.

May import: `deckgen.project`, `deckgen.anki`, `deckgen.safety` and `deckgen.problems`.
"""
