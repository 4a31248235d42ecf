"""A small reader of Protocol Buffers' wire format, for the few messages a package holds.

Anki's current packages keep their media map and the configs of note types, fields and
templates as protobuf messages. deckgen reads the handful of field numbers it needs from the
wire format directly instead of depending on generated code.
"""

from __future__ import annotations

from typing import Iterator

VARINT, FIXED64, LENGTH, FIXED32 = 0, 1, 2, 5


class WireError(ValueError):
    """The bytes are not a protobuf message."""


def _varint(data: bytes, at: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if at >= len(data):
            raise WireError("truncated varint")
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, at
        shift += 7
        if shift > 63:
            raise WireError("varint too long")


def parse(data: bytes) -> dict[int, list[int | bytes]]:
    """Field number -> its values in order (varints and fixed numbers as int, the rest as bytes)."""
    parsed: dict[int, list[int | bytes]] = {}
    for number, value in fields(data):
        parsed.setdefault(number, []).append(value)
    return parsed


def fields(data: bytes) -> Iterator[tuple[int, int | bytes]]:
    """Each (field number, value) in order, one at a time: a caller can stop at a ceiling of its own."""
    if not isinstance(data, (bytes, bytearray)):
        raise WireError(f"a {type(data).__name__}, not bytes")
    at = 0
    while at < len(data):
        key, at = _varint(data, at)
        number, wire = key >> 3, key & 7
        value: int | bytes
        if wire == VARINT:
            value, at = _varint(data, at)
        elif wire == LENGTH:
            size, at = _varint(data, at)
            if at + size > len(data):
                raise WireError("truncated field")
            value, at = data[at:at + size], at + size
        elif wire in (FIXED64, FIXED32):
            width = 8 if wire == FIXED64 else 4
            if at + width > len(data):
                raise WireError("truncated field")
            value, at = int.from_bytes(data[at:at + width], "little"), at + width
        else:
            raise WireError(f"unsupported wire type {wire}")
        yield number, value


def text(fields: dict[int, list[int | bytes]], number: int, default: str = "") -> str:
    """The last value of a string field."""
    values = fields.get(number)
    return bytes(values[-1]).decode("utf-8") if values and isinstance(values[-1], bytes) else default


def integer(fields: dict[int, list[int | bytes]], number: int, default: int = 0) -> int:
    """The last value of a varint field."""
    values = fields.get(number)
    return values[-1] if values and isinstance(values[-1], int) else default


def messages(fields: dict[int, list[int | bytes]], number: int) -> list[dict[int, list[int | bytes]]]:
    """Every value of a repeated message field, parsed."""
    return [parse(value) for value in fields.get(number, []) if isinstance(value, bytes)]
