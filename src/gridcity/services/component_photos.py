"""Photos of a component (部件照片): added by administrators, read by whoever may see the
component. The type is sniffed from the first bytes (JPEG, PNG, WebP), never taken from the
file name; the bytes go to the storage adapter under a key made of the identifier and the
content's SHA-256, and the key is added to ``photos``, versioned like any other change.

Removing a photo (with a reason) takes its key out of ``photos`` in a new version; the file
stays in storage. The history keeps the key in the old value of that version, so the record of
what the component showed stays true, and a removal that rolls back can never have deleted a
file a row still names; the same content added again simply names the same key. A removed
photo is no longer served (``get_photo`` serves only the keys the component holds)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from gridcity.adapters.db.engine import lock_rows
from gridcity.adapters.db.tables import Component, ComponentVersion
from gridcity.adapters.storage import LocalStorage
from gridcity.domain.access import Actor, Permission, require
from gridcity.domain.components import PHOTO_MAX, check_reason
from gridcity.domain.errors import InvalidInput, NotFound
from gridcity.services import audit
from gridcity.services.component_edits import stamp
from gridcity.services.component_queries import ComponentView, component_view, load_visible
from gridcity.services.deps import RequestInfo, ServiceDeps

PHOTO_MAX_BYTES = 10 * 1024 * 1024
MEDIA_TYPES = {"jpg": "image/jpeg", "png": "image/png", "webp": "image/webp"}


class PhotoTooLarge(InvalidInput):
    """A photo over the size limit."""

    status = 413


class PhotoType(InvalidInput):
    """A file that is not a JPEG, PNG or WebP image."""

    status = 415


def sniff_image(head: bytes) -> str | None:
    """The image type the first bytes show (jpg, png, webp), or None."""
    if head.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    return None


def _key(identifier: str, data: bytes, kind: str) -> str:
    return f"components/{identifier}/{hashlib.sha256(data).hexdigest()[:32]}.{kind}"


def add_photo(
    deps: ServiceDeps,
    storage: LocalStorage,
    actor: Actor,
    identifier: str,
    data: bytes,
    *,
    reason: str = "",
    info: RequestInfo,
) -> ComponentView:
    """Add a photo to a component (administrators); the same photo twice is stored once."""
    require(actor, Permission.COMPONENT_WRITE)
    if len(data) > PHOTO_MAX_BYTES:
        raise PhotoTooLarge(
            "photo_too_large",
            "A photo is at most %(mb)s MB, this one has %(size)s bytes",
            mb=PHOTO_MAX_BYTES // (1024 * 1024),
            size=len(data),
        )
    kind = sniff_image(data[:16])
    if kind is None:
        raise PhotoType("photo_type", "A photo is a JPEG, PNG or WebP image")
    now = deps.clock()
    with deps.db.transaction() as session:
        lock_rows(session, Component.__table__, Component.identifier == identifier.strip())  # type: ignore[arg-type]
        row = load_visible(session, actor, identifier)
        key = _key(row.identifier, data, kind)
        before = [str(p) for p in row.photos or []]
        if key in before:
            return component_view(session, row)
        if len(before) >= PHOTO_MAX:
            raise InvalidInput(
                "too_many_photos", "A component has at most %(max)s photos", max=PHOTO_MAX
            )
        storage.put(key, data)
        after = [*before, key]
        version = stamp(session, row, row.version, {"photos": after}, now)
        session.add(
            ComponentVersion(
                component_id=row.id,
                version=version,
                action="photo_added",
                changes={"photos": [before, after]},
                reason=reason.strip()[:500],
                actor_id=actor.user_id,
                actor_name=actor.username,
                changed_at=now,
            )
        )
        audit.append(
            session,
            at=now,
            actor=actor,
            action="component.photo_added",
            target_type="component",
            target_id=row.identifier,
            detail={"version": version, "photo": key, "bytes": len(data)},
            info=info,
        )
        session.flush()
        session.refresh(row)
        return component_view(session, row)


def remove_photo(
    deps: ServiceDeps,
    actor: Actor,
    identifier: str,
    name: str,
    *,
    reason: str,
    info: RequestInfo,
) -> ComponentView:
    """Take a photo off a component (administrators, within their data scope), saying why.

    ``name`` is the photo's file name (the last part of its key, as in its URL). A version row
    records who removed which photo and why, and the audit log keeps it; the stored file is
    kept (see the module docstring).
    """
    require(actor, Permission.COMPONENT_WRITE)
    why = check_reason(reason, required=True)
    now = deps.clock()
    with deps.db.transaction() as session:
        lock_rows(session, Component.__table__, Component.identifier == identifier.strip())  # type: ignore[arg-type]
        row = load_visible(session, actor, identifier)
        key = f"components/{row.identifier}/{name}"
        before = [str(p) for p in row.photos or []]
        if key not in before:
            raise NotFound("photo_not_found", "Component %(identifier)s has no photo %(name)s",
                           identifier=row.identifier, name=name)  # fmt: skip
        after = [p for p in before if p != key]
        version = stamp(session, row, row.version, {"photos": after}, now)
        session.add(
            ComponentVersion(
                component_id=row.id,
                version=version,
                action="photo_removed",
                changes={"photos": [before, after]},
                reason=why,
                actor_id=actor.user_id,
                actor_name=actor.username,
                changed_at=now,
            )
        )
        audit.append(
            session,
            at=now,
            actor=actor,
            action="component.photo_removed",
            target_type="component",
            target_id=row.identifier,
            detail={"version": version, "photo": key, "reason": why},
            info=info,
        )
        session.flush()
        session.refresh(row)
        return component_view(session, row)


@dataclass(frozen=True)
class Photo:
    """A stored photo's bytes and media type."""

    data: bytes
    media_type: str


def get_photo(
    deps: ServiceDeps, storage: LocalStorage, actor: Actor, identifier: str, name: str
) -> Photo:
    """One photo of a component the actor may see, by its file name."""
    require(actor, Permission.COMPONENT_READ)
    with deps.db.read() as session:
        row = load_visible(session, actor, identifier)
        key = f"components/{row.identifier}/{name}"
        if key not in (row.photos or []):
            raise NotFound("photo_not_found", "Component %(identifier)s has no photo %(name)s",
                           identifier=row.identifier, name=name)  # fmt: skip
    return Photo(storage.get(key), MEDIA_TYPES[key.rsplit(".", 1)[1]])
