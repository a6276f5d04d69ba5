"""What every feature-file format shares: size limits, text encodings, short field names
and atomic replacement of the target file."""

from __future__ import annotations

import codecs
import os
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from gridcity.domain.errors import InvalidInput

# A city's grids are a few MB; these keep a wrong file (or a zip bomb) from filling memory.
MAX_INPUT_BYTES = 256 * 1024 * 1024
MAX_FEATURES = 200_000
# A census file (部件普查) holds a city's whole inventory: up to add_components' MAX_ROWS rows
# (services/component_writes.py; a test keeps the two equal), a 1M-point GeoJSON is ~500 MB.
MAX_CENSUS_BYTES = 1024 * 1024 * 1024
MAX_CENSUS_ROWS = 2_000_000
SHAPEFILE_TEXT_BYTES = 254  # a DBF text field holds at most 254 bytes
# Shapefile field names have at most 10 characters: our long names are written short and read
# back long, and so are the cut names GDAL makes when another tool writes the long ones.
SHORT_NAMES = {
    "management_level": "mgmt_level",
    "responsible_party": "resp_party",
    "community_code": "comm_code",
    "parent_code": "parent",
}
LONG_NAMES = {short: name for name, short in SHORT_NAMES.items()} | {
    "management": "management_level",
    "responsibl": "responsible_party",
    "community_": "community_code",
    "parent_cod": "parent_code",
}


def check_size(path: Path, max_bytes: int | None = None) -> None:
    """Refuse a missing file, or one larger than ``max_bytes`` (a grid file's limit if None)."""
    max_bytes = MAX_INPUT_BYTES if max_bytes is None else max_bytes
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise InvalidInput(
            "file_unreadable", "Cannot read %(path)s: %(why)s", path=str(path), why=exc.strerror
        ) from None
    if size > max_bytes:
        raise too_large(path, size, max_bytes)


def too_large(path: Path, size: int, max_bytes: int | None = None) -> InvalidInput:
    """The refusal of a file of ``size`` bytes, more than ``max_bytes`` (a grid file's)."""
    max_bytes = MAX_INPUT_BYTES if max_bytes is None else max_bytes
    return InvalidInput(
        "file_too_large",
        "%(path)s holds %(mb)s MB, more than the %(max)s MB a file may have",
        path=str(path),
        mb=round(size / 2**20, 1),
        max=max_bytes // 2**20,
    )


def too_many(path: Path, max_features: int | None = None) -> InvalidInput:
    """The refusal of a file with more than ``max_features`` features (a grid file's)."""
    max_features = MAX_FEATURES if max_features is None else max_features
    return InvalidInput(
        "file_too_many_features",
        "%(path)s holds more than %(max)s features",
        path=str(path),
        max=max_features,
    )


def codec_of(path: Path, name: str) -> str:
    """The Python codec of an encoding name ("GBK", "936", "ANSI 936", "UTF-8"), or a refusal."""
    text = name.strip().upper().removeprefix("ANSI").strip()
    if text.isdigit():
        text = f"cp{text}"
    try:
        codec = codecs.lookup(text).name
    except LookupError:
        raise InvalidInput(
            "file_encoding_unknown",
            "%(path)s: unknown text encoding %(encoding)s; use e.g. utf-8 or gbk",
            path=str(path),
            encoding=name.strip(),
        ) from None
    # GB2312 files hold GBK characters more often than not; GBK is a superset that reads both.
    return "gbk" if codec in ("gb2312", "cp936") else codec


@contextmanager
def atomic(path: Path) -> Iterator[Path]:
    """A temporary path beside ``path`` that replaces it when the block succeeds."""
    temp = path.with_name(f".{path.stem}.{uuid.uuid4().hex[:8]}.tmp{path.suffix}")
    try:
        yield temp
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)


def columns_of(props: Sequence[Mapping[str, Any]]) -> list[str]:
    """Every property name, in order of first appearance."""
    return list(dict.fromkeys(name for p in props for name in p))


def check_text(
    path: Path, props: Sequence[Mapping[str, Any]], codec: str, max_bytes: int | None
) -> None:
    """Refuse a text value the encoding cannot hold (or too long for a DBF field), by feature."""
    for index, p in enumerate(props):
        for name, value in p.items():
            if not isinstance(value, str):
                continue
            where = {"path": str(path), "index": index, "field": name, "encoding": codec}
            try:
                size = len(value.encode(codec))
            except UnicodeEncodeError:
                raise InvalidInput(
                    "file_text_unencodable",
                    "%(path)s: feature %(index)s: %(field)s has characters %(encoding)s cannot hold",
                    **where,
                ) from None
            if max_bytes is not None and size > max_bytes:
                raise InvalidInput(
                    "file_text_too_long",
                    "%(path)s: feature %(index)s: %(field)s needs more than the %(max)s bytes a Shapefile field holds in %(encoding)s; write a GeoPackage or GeoJSON",
                    max=max_bytes,
                    **where,
                )
