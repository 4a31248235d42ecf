"""Releasing a deck to learners: the release step, its rehearsal in the real Anki backend, its notes.

A release is what learners import; a build is not one until `deckgen release` says so. This
package records releases, rehearses a release on a copy of a learner's collection (with the
official `anki` package, an optional extra) and writes the release notes learners read.

May import: `deckgen.build` and everything below it.
"""
