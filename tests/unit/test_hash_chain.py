"""The tamper-evident chain: every kind of tampering is named at the row where it happened."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gridcity.domain.catalog import TimeUnit
from gridcity.domain.errors import InvalidInput
from gridcity.domain.hash_chain import (
    EMPTY,
    GENESIS,
    BreakKind,
    ChainHead,
    canonical_bytes,
    chain,
    extend,
    link_hash,
    verify,
)

SHANGHAI = timezone(timedelta(hours=8))
ROWS = [
    {
        "action": "report",
        "to": "reported",
        "by": "张三",
        "at": datetime(2026, 2, 13, 16, 0, tzinfo=SHANGHAI),
    },
    {"action": "accept", "to": "accepted", "by": "李四", "comment": "井盖破损"},
    {
        "action": "register",
        "to": "registered",
        "limit": Decimal("4"),
        "unit": TimeUnit.WORKING_HOURS,
    },
    {"action": "dispatch", "to": "dispatched", "department": 17, "photos": ("a.jpg", "b.jpg")},
]


def test_a_sound_chain_verifies_and_matches_its_head() -> None:
    records = chain(ROWS)
    assert [r.seq for r in records] == [1, 2, 3, 4]
    assert verify(records) is None
    assert verify(records, ChainHead(4, records[-1].hash)) is None


def test_the_first_link_is_sha256_of_genesis_and_the_canonical_bytes() -> None:
    first = chain(ROWS[:1])[0]
    expected = hashlib.sha256(GENESIS.encode() + b"\n" + canonical_bytes(ROWS[0])).hexdigest()
    assert first.hash == expected


def test_canonical_bytes_are_one_spelling() -> None:
    a = {"b": 1, "a": "井盖", "t": datetime(2026, 2, 13, 16, 0, tzinfo=SHANGHAI)}
    b = {"t": datetime(2026, 2, 13, 8, 0, tzinfo=UTC), "a": "井盖", "b": 1}
    assert canonical_bytes(a) == canonical_bytes(b)
    assert canonical_bytes(a) == '{"a":"井盖","b":1,"t":"2026-02-13T08:00:00.000000Z"}'.encode()
    assert canonical_bytes({"n": Decimal("1.50")}) == canonical_bytes({"n": Decimal("1.5")})
    assert canonical_bytes({"n": Decimal("10.00")}) == b'{"n":"10"}'
    assert canonical_bytes({"d": date(2026, 2, 13), "u": TimeUnit.WORKING_DAYS, "l": (1, 2)}) == (
        b'{"d":"2026-02-13","l":[1,2],"u":"working_days"}'
    )


@pytest.mark.parametrize(
    ("value", "code"),
    [
        (1.5, "chain_float_value"),
        (datetime(2026, 2, 13, 16, 0), "chain_naive_time"),
        (Decimal("NaN"), "chain_number"),
        (2**63, "chain_number"),
        ({1: "x"}, "chain_key_type"),
        (object(), "chain_value_type"),
    ],
)
def test_values_without_one_spelling_are_refused(value: object, code: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        canonical_bytes({"v": value})
    assert caught.value.code == code


def test_an_edited_record_breaks_at_that_record() -> None:
    records = chain(ROWS)
    records[1] = replace(records[1], content={**ROWS[1], "comment": "井盖完好"})
    found = verify(records)
    assert found is not None
    assert (found.seq, found.kind) == (2, BreakKind.HASH_MISMATCH)
    assert found.text.startswith("record 2: hash_mismatch")


def test_an_edited_record_with_a_recomputed_hash_breaks_at_the_next_one() -> None:
    records = chain(ROWS)
    forged = {**ROWS[1], "comment": "井盖完好"}
    records[1] = replace(records[1], content=forged, hash=link_hash(records[0].hash, forged))
    found = verify(records)
    assert found is not None
    assert (found.seq, found.kind) == (3, BreakKind.HASH_MISMATCH)


def test_a_removed_record_is_a_gap() -> None:
    records = chain(ROWS)
    del records[1]
    found = verify(records)
    assert found is not None
    assert (found.seq, found.kind) == (3, BreakKind.SEQUENCE_GAP)


def test_swapped_records_break() -> None:
    records = chain(ROWS)
    records[1], records[2] = (replace(records[2], seq=2), replace(records[1], seq=3))
    found = verify(records)
    assert found is not None
    assert found.seq == 2


def test_removed_last_records_show_only_against_the_head() -> None:
    records = chain(ROWS)
    head = ChainHead(4, records[-1].hash)
    assert verify(records[:3]) is None
    found = verify(records[:3], head)
    assert found is not None
    assert found.kind is BreakKind.HEAD_MISMATCH


def test_extend_continues_a_chain() -> None:
    record, head = extend(EMPTY, ROWS[0])
    assert (record.seq, head.count, head.last_hash) == (1, 1, record.hash)
    second, head = extend(head, ROWS[1])
    assert verify([record, second], head) is None


def test_a_bad_previous_hash_is_refused() -> None:
    with pytest.raises(InvalidInput) as caught:
        link_hash("abc", ROWS[0])
    assert caught.value.code == "chain_previous_hash"


CONTENT = st.dictionaries(
    st.text(min_size=1, max_size=8),
    st.one_of(st.integers(-(2**63), 2**63 - 1), st.text(max_size=20), st.booleans(), st.none()),
    max_size=5,
)


@given(st.lists(CONTENT, min_size=1, max_size=12), st.data())
def test_any_single_change_of_content_is_found(
    contents: list[dict[str, object]], data: st.DataObject
) -> None:
    records = chain(contents)
    at = data.draw(st.integers(0, len(records) - 1))
    changed = {**records[at].content, "\x00tampered": True}
    records[at] = replace(records[at], content=changed)
    found = verify(records, ChainHead(len(contents), chain(contents)[-1].hash))
    assert found is not None
    assert found.seq == at + 1
