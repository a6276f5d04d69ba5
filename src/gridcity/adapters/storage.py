"""Stored files (photos …) by key, in a local folder: the default storage adapter.

Keys are relative paths of safe parts (``components/11010101001000001/ab12….jpg``); a key
that tries to leave the folder is refused. Writes go to a temporary file that is renamed into
place, so a reader never sees half a file. An S3-compatible adapter would offer the same three
methods.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

from gridcity.config import Settings
from gridcity.domain.errors import InvalidInput, NotFound

_PART = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


class LocalStorage:
    """Files under one folder, addressed by key."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        parts = key.split("/")
        if not parts or not all(_PART.fullmatch(p) and ".." not in p for p in parts):
            raise InvalidInput("invalid_storage_key", "Not a stored file name: %(key)s", key=key)
        return self.root.joinpath(*parts)

    def put(self, key: str, data: bytes) -> None:
        """Store ``data`` under ``key`` (replacing what was there)."""
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def get(self, key: str) -> bytes:
        """The stored bytes, or NotFound."""
        path = self._path(key)
        if not path.is_file():
            raise NotFound("stored_file_not_found", "No stored file %(key)s", key=key)
        return path.read_bytes()

    def exists(self, key: str) -> bool:
        """True when something is stored under ``key``."""
        return self._path(key).is_file()


def local_storage(settings: Settings) -> LocalStorage:
    """The storage of this installation: ``files/`` beside the SQLite file, else ``var/files``."""
    folder = settings.sqlite_path.parent if settings.sqlite_path else Path("var")
    return LocalStorage(folder / "files")
