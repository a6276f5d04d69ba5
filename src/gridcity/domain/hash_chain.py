"""A tamper-evident chain of records (防篡改): each record's hash covers the previous hash.

A case's timeline (and any other append-only history that must prove it was not edited) stores,
with every row, ``hash = SHA-256(previous hash ‖ canonical bytes of the row)``. The first row of
a chain links to ``GENESIS``. Changing, removing, inserting or reordering a row breaks the link
of that row or of the next one, and ``verify`` names the first row where the chain breaks.

Canonical bytes are JSON with sorted keys, no whitespace, UTF-8 (Chinese kept as is), and a
fixed spelling of the values JSON lacks: an aware datetime as UTC ISO 8601 with microseconds
(``2026-02-13T08:00:00.000000Z``), a date as ``YYYY-MM-DD``, a Decimal as its normalised text,
an enum as its value, a tuple as a list. Floats are refused: their text is not stable across
writers, so callers store numbers as int or Decimal. Pure: nothing here reads a clock or a
database.

What a chain cannot show on its own: the removal of its last rows, or of a whole chain. The
owner of a chain therefore keeps the head (last hash and the number of rows) on its own row,
and ``verify`` compares against that head when given.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum, StrEnum
from typing import Any

import orjson

from gridcity.domain.errors import InvalidInput

GENESIS = "0" * 64  # the "previous hash" of a chain's first record
HASH_LENGTH = 64  # hex digits of a SHA-256
INT_MIN, INT_MAX = -(2**63), 2**63 - 1  # the integers JSON readers everywhere keep exactly


class BreakKind(StrEnum):
    """How a chain is broken at a record."""

    HASH_MISMATCH = "hash_mismatch"  # the record or its predecessor was changed or removed
    SEQUENCE_GAP = "sequence_gap"  # a sequence number is missing or repeated
    HEAD_MISMATCH = "head_mismatch"  # the last rows were removed, or rows added after the head


@dataclass(frozen=True)
class ChainBreak:
    """The first record at which a chain does not hold, and why."""

    seq: int
    kind: BreakKind
    expected: str
    found: str

    @property
    def text(self) -> str:
        """One line for a report."""
        return (
            f"record {self.seq}: {self.kind.value} (expected {self.expected}, found {self.found})"
        )


@dataclass(frozen=True)
class ChainedRecord:
    """A stored record: its position in the chain (1, 2, …), its stored hash and its content."""

    seq: int
    hash: str
    content: Mapping[str, Any]


@dataclass(frozen=True)
class ChainHead:
    """What the chain's owner keeps: the number of records and the last hash."""

    count: int
    last_hash: str


EMPTY = ChainHead(0, GENESIS)  # the head of a chain without records


def _plain(value: Any) -> Any:
    """The value in the types the canonical JSON spells one way only."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        if not INT_MIN <= value <= INT_MAX:
            raise InvalidInput(
                "chain_number",
                "A chained integer fits in 64 bits; store %(value)s as a Decimal",
                value=value,
            )
        return value
    if isinstance(value, float):
        raise InvalidInput(
            "chain_float_value",
            "A chained record holds no float (%(value)s); store an int or a Decimal",
            value=repr(value),
        )
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise InvalidInput("chain_number", "A chained number must be finite")
        return format(value.normalize(), "f")  # 1.50 and 1.5 are one number, one spelling
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise InvalidInput("chain_naive_time", "A chained time must carry its time zone")
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Enum):
        return _plain(value.value)
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise InvalidInput(
                    "chain_key_type", "A chained record's keys are text, not %(key)s", key=repr(key)
                )
            out[key] = _plain(item)
        return out
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    raise InvalidInput(
        "chain_value_type",
        "A chained record cannot hold a %(type)s",
        type=type(value).__name__,
    )


def canonical_bytes(content: Mapping[str, Any]) -> bytes:
    """The record's one spelling: sorted keys, no spaces, UTF-8, fixed forms for times and
    numbers (so two writers on two databases hash the same record alike)."""
    return orjson.dumps(_plain(content), option=orjson.OPT_SORT_KEYS)


def link_hash(previous: str, content: Mapping[str, Any]) -> str:
    """The hash of a record that follows ``previous`` (``GENESIS`` for the first)."""
    if len(previous) != HASH_LENGTH:
        raise InvalidInput(
            "chain_previous_hash", "%(hash)s is not a SHA-256 hex digest", hash=previous
        )
    digest = hashlib.sha256(previous.encode("ascii"))
    digest.update(b"\n")
    digest.update(canonical_bytes(content))
    return digest.hexdigest()


def extend(head: ChainHead, content: Mapping[str, Any]) -> tuple[ChainedRecord, ChainHead]:
    """The next record of a chain and the chain's new head."""
    record = ChainedRecord(head.count + 1, link_hash(head.last_hash, content), content)
    return record, ChainHead(record.seq, record.hash)


def verify(records: Iterable[ChainedRecord], head: ChainHead | None = None) -> ChainBreak | None:
    """The first break of a chain read in sequence order, or None when every link holds (and,
    given the owner's head, the chain ends where the head says)."""
    previous = GENESIS
    count = 0
    for record in records:
        count += 1
        if record.seq != count:
            return ChainBreak(record.seq, BreakKind.SEQUENCE_GAP, str(count), str(record.seq))
        expected = link_hash(previous, record.content)
        if record.hash != expected:
            return ChainBreak(record.seq, BreakKind.HASH_MISMATCH, expected, record.hash)
        previous = record.hash
    if head is not None and (head.count, head.last_hash) != (count, previous):
        return ChainBreak(
            count,
            BreakKind.HEAD_MISMATCH,
            f"{head.count}:{head.last_hash}",
            f"{count}:{previous}",
        )
    return None


def chain(contents: Sequence[Mapping[str, Any]]) -> list[ChainedRecord]:
    """A whole chain built from contents in order (for tests, seeding and re-checks)."""
    head = EMPTY
    out: list[ChainedRecord] = []
    for content in contents:
        record, head = extend(head, content)
        out.append(record)
    return out
