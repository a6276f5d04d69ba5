"""Uploaded feature files: stored in a private temporary folder, bounded in size, their type
sniffed from their first bytes (not trusted from the name), removed when the request ends.

The file is stored under a fixed name (``upload`` + the extension of its sniffed type), never
under the name the browser sent, so no path of the sender's reaches the disk.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import tempfile
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path, PurePath

from fastapi import UploadFile

from gridcity.domain.errors import InvalidInput
from gridcity.web.i18n import N_, gettext_
from gridcity.web.limits import MB

CHUNK = 1024 * 1024
SAMPLE = 4096  # bytes read to tell the type
ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
SQLITE_MAGIC = b"SQLite format 3\x00"
# What each extension must hold: the type sniffed from the content.
SUFFIX_TYPE = {".geojson": "json", ".json": "json", ".zip": "zip", ".gpkg": "sqlite", ".csv": "csv"}
TYPE_SUFFIX = {"json": ".geojson", "zip": ".zip", "sqlite": ".gpkg", "csv": ".csv"}
TYPE_LABELS = {
    "json": N_("JSON"),
    "zip": N_("a zip archive"),
    "sqlite": N_("a SQLite database"),
    "csv": N_("CSV text"),
}
_UNSAFE = re.compile(r"[^\w.\-]+")


class UploadTooLarge(InvalidInput):
    """An upload over the size limit."""

    status = 413


class UploadType(InvalidInput):
    """An upload that is not one of the file types we read."""

    status = 415


@dataclass(frozen=True)
class StagedFile:
    """An upload on disk: where, the name it was sent as, its SHA-256 and size."""

    path: Path
    name: str
    sha256: str
    size: int


def shown_name(filename: str | None) -> str:
    """The sender's file name without any folders, safe to show and log."""
    base = PurePath((filename or "").replace("\\", "/")).name
    return _UNSAFE.sub("_", base)[:100] or "upload"


@asynccontextmanager
async def staged(
    upload: UploadFile | None, limit: int, types: Mapping[str, str] = SUFFIX_TYPE
) -> AsyncIterator[StagedFile]:
    """The upload stored in a temporary folder (removed afterwards), or a refusal: no file,
    more than ``limit`` bytes (413), or content that is not GeoJSON, a zip, a GeoPackage or
    CSV text, an extension other than theirs, or one that does not match the content (415).
    ``types`` maps the extensions a page takes to the content each must hold."""
    if upload is None or not upload.filename:
        raise InvalidInput("upload_missing", "Choose a file to upload")
    name = shown_name(upload.filename)
    folder = Path(tempfile.mkdtemp(prefix="gridcity-upload-"))
    try:
        raw = folder / "upload.bin"
        digest = hashlib.sha256()
        size = 0
        head = b""
        with raw.open("wb") as out:
            while chunk := await upload.read(CHUNK):
                size += len(chunk)
                if size > limit:
                    raise UploadTooLarge(
                        "upload_too_large",
                        "%(name)s is larger than %(mb)s MB",
                        name=name,
                        mb=f"{limit / MB:g}",
                    )
                if len(head) < SAMPLE:
                    head += chunk[: SAMPLE - len(head)]
                digest.update(chunk)
                out.write(chunk)
        if size == 0:
            raise UploadType("upload_empty", "%(name)s is empty", name=name)
        path = folder / ("upload" + _suffix(name, sniff(head), types))
        raw.rename(path)
        yield StagedFile(path, name, digest.hexdigest(), size)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def sniff(head: bytes) -> str | None:
    """The type the first bytes of a file show: zip, sqlite, json, csv (text), or None."""
    if head.startswith(ZIP_MAGIC):
        return "zip"
    if head.startswith(SQLITE_MAGIC):
        return "sqlite"
    text = head.removeprefix(b"\xef\xbb\xbf").lstrip()
    if text.startswith(b"{"):
        return "json"
    if b"\x00" in head or not text:
        return None
    # A full sample may end in half a character: judge it up to its last line break.
    sample = head if len(head) < SAMPLE else head[: head.rfind(b"\n") + 1] or head
    for codec in ("utf-8", "gb18030"):
        try:
            sample.decode(codec)
        except UnicodeDecodeError:
            continue
        return "csv" if b"," in text.split(b"\n", 1)[0] else None
    return None


def _suffix(name: str, found: str | None, types: Mapping[str, str] = SUFFIX_TYPE) -> str:
    """The extension to store the file under (the content's if none), or a refusal."""
    suffix = PurePath(name).suffix.lower()
    if types is not SUFFIX_TYPE and (found is None or types.get(suffix) is None):
        raise UploadType(
            "upload_type_not_taken",
            "%(name)s is not a file this page reads; upload a %(allowed)s file",
            name=name,
            allowed=", ".join(types),
        )
    if found is None:
        raise UploadType(
            "upload_type_unknown",
            "%(name)s is not a GeoJSON file, a zipped Shapefile, a GeoPackage or a CSV file",
            name=name,
        )
    if not suffix:
        return TYPE_SUFFIX[found]
    expected = types.get(suffix)
    if expected is None:
        raise UploadType(
            "upload_extension_unknown",
            "%(name)s has the extension %(suffix)s; upload a .geojson, .json, .zip, .gpkg or .csv file",
            name=name,
            suffix=suffix,
        )
    if expected != found:
        raise UploadType(
            "upload_type_mismatch",
            "%(name)s is named %(suffix)s but holds %(found)s",
            name=name,
            suffix=suffix,
            found=gettext_(TYPE_LABELS[found]),
        )
    return suffix
