"""The YAML reader's shortcuts give exactly what PyYAML's own safe loader gives."""

from __future__ import annotations

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from deckgen.project.yaml_reader import _BaseLoader, _Loader

WORDS = ["yes", "Yes", "YES", "no", "No", "NO", "true", "True", "TRUE", "false", "False", "FALSE", "on", "On",
         "ON", "off", "Off", "OFF", "null", "Null", "NULL", "~", "y", "n", "Nothing", "office", "onward", "Falsey",
         "12", "1.5", "2024-01-01", ".inf", "-3", "+4", "<<", "=", "0x1F", "0o17", "1_000", "type", "front"]
SCALARS = st.one_of(st.sampled_from(WORDS), st.text(alphabet="yYnNtTfFoOeslru~0123456789.-+:_<= x", max_size=12))


@settings(max_examples=2000, deadline=None)
@given(value=SCALARS, plain=st.booleans())
def test_resolving_a_scalar_is_pyyamls(value: str, plain: bool) -> None:
    implicit = (plain, not plain)
    ours = _Loader("")
    theirs = _BaseLoader("")
    for _ in range(2):  # the second time from the cache of short words
        assert ours.resolve(yaml.ScalarNode, value, implicit) == theirs.resolve(yaml.ScalarNode, value, implicit)
