"""Staff accounts: create, edit roles and data scope, passwords, unlock."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from gridcity.adapters.db.tables import (
    Center,
    Department,
    Division,
    User,
    UserScopeDepartment,
    UserScopeDivision,
)
from gridcity.domain.access import Actor, Permission, Role, parse_roles, require
from gridcity.domain.errors import Conflict, InvalidInput, NotFound
from gridcity.services import audit, auth
from gridcity.services.deps import RequestInfo, ServiceDeps
from gridcity.services.pagination import Page, paginate

_USERNAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{2,63}$")


@dataclass(frozen=True)
class UserView:
    """An account as shown to administrators (never the password hash)."""

    id: int
    username: str
    display_name: str
    roles: tuple[Role, ...]
    phone: str
    department_id: int | None
    center_id: int | None
    scope_divisions: tuple[str, ...]
    scope_departments: tuple[int, ...]
    is_active: bool
    locked_until: datetime | None
    last_login_at: datetime | None
    locale: str

    @classmethod
    def of(cls, row: User) -> UserView:
        """Read model from a row."""
        return cls(
            id=row.id,
            username=row.username,
            display_name=row.display_name,
            roles=tuple(sorted(parse_roles(row.roles.split(",")))),
            phone=row.phone,
            department_id=row.department_id,
            center_id=row.center_id,
            scope_divisions=tuple(sorted(s.division_code for s in row.scope_divisions)),
            scope_departments=tuple(sorted(s.department_id for s in row.scope_departments)),
            is_active=row.is_active,
            locked_until=row.locked_until,
            last_login_at=row.last_login_at,
            locale=row.locale,
        )


@dataclass(frozen=True)
class UserInput:
    """Editable fields of an account (the password is set separately)."""

    display_name: str
    roles: frozenset[Role]
    phone: str = ""
    department_id: int | None = None
    center_id: int | None = None
    scope_divisions: frozenset[str] = field(default_factory=frozenset)
    scope_departments: frozenset[int] = field(default_factory=frozenset)
    is_active: bool = True
    locale: str = "zh_CN"


def _validate(session: Session, data: UserInput) -> None:
    if not 1 <= len(data.display_name.strip()) <= 100:
        raise InvalidInput("name_length", "A name needs 1 to 100 characters")
    if not data.roles or Role.PUBLIC in data.roles:
        raise InvalidInput("user_roles_required", "Choose at least one staff role")
    if data.locale not in ("zh_CN", "en"):
        raise InvalidInput("locale_unknown", "Language must be zh_CN or en")
    if Role.HANDLER in data.roles and data.department_id is None:
        raise InvalidInput("handler_needs_department", "A handler must belong to a department")
    if data.department_id is not None and session.get(Department, data.department_id) is None:
        raise InvalidInput("department_unknown", "No department %(id)s", id=data.department_id)
    if data.center_id is not None and session.get(Center, data.center_id) is None:
        raise InvalidInput("center_unknown", "No center %(id)s", id=data.center_id)
    for code in data.scope_divisions:
        if session.scalar(sa.select(Division.id).where(Division.code == code)) is None:
            raise InvalidInput(
                "scope_division_unknown", "No division with code %(code)s", code=code
            )
    for dep_id in data.scope_departments:
        if session.get(Department, dep_id) is None:
            raise InvalidInput("department_unknown", "No department %(id)s", id=dep_id)


def _apply(row: User, data: UserInput) -> dict[str, Any]:
    """Copy the input onto the row; return what changed, for the audit log."""
    before = UserView.of(row) if row.id else None
    row.display_name = data.display_name.strip()
    row.roles = ",".join(sorted(r.value for r in data.roles))
    row.phone = data.phone.strip()[:30]
    row.department_id = data.department_id
    row.center_id = data.center_id
    row.is_active = data.is_active
    row.locale = data.locale
    row.scope_divisions = [UserScopeDivision(division_code=c) for c in sorted(data.scope_divisions)]
    row.scope_departments = [
        UserScopeDepartment(department_id=d) for d in sorted(data.scope_departments)
    ]
    if before is None:
        return {}
    new = {
        "display_name": row.display_name,
        "roles": sorted(r.value for r in data.roles),
        "phone": row.phone,
        "department_id": row.department_id,
        "center_id": row.center_id,
        "is_active": row.is_active,
        "locale": row.locale,
        "scope_divisions": sorted(data.scope_divisions),
        "scope_departments": sorted(data.scope_departments),
    }
    old = {
        "display_name": before.display_name,
        "roles": sorted(r.value for r in before.roles),
        "phone": before.phone,
        "department_id": before.department_id,
        "center_id": before.center_id,
        "is_active": before.is_active,
        "locale": before.locale,
        "scope_divisions": list(before.scope_divisions),
        "scope_departments": list(before.scope_departments),
    }
    return {k: [old[k], new[k]] for k in new if old[k] != new[k]}


def create_user(
    deps: ServiceDeps,
    actor: Actor,
    *,
    username: str,
    password: str,
    data: UserInput,
    info: RequestInfo,
) -> UserView:
    """Open an account with roles and data scope; the password must meet the policy."""
    require(actor, Permission.USER_WRITE)
    username = username.strip().lower()
    if not _USERNAME.match(username):
        raise InvalidInput(
            "username_format",
            "A username has 3-64 characters: lower-case letters, digits, '.', '_' or '-'",
        )
    deps.password_policy.check(password, username=username)
    now = deps.clock()
    with deps.db.transaction() as session:
        if session.scalar(sa.select(User.id).where(User.username == username)) is not None:
            raise Conflict("username_taken", "Username %(username)s is taken", username=username)
        _validate(session, data)
        row = User(
            username=username,
            password_hash=deps.hasher.hash(password),
            failed_logins=0,
            password_changed_at=now,
            created_at=now,
            updated_at=now,
        )
        _apply(row, data)
        session.add(row)
        session.flush()
        audit.append(
            session,
            at=now,
            actor=actor,
            action="user.created",
            target_type="user",
            target_id=row.id,
            detail={
                "username": username,
                "roles": sorted(r.value for r in data.roles),
                "scope_divisions": sorted(data.scope_divisions),
                "scope_departments": sorted(data.scope_departments),
            },
            info=info,
        )
        return UserView.of(row)


def update_user(
    deps: ServiceDeps, actor: Actor, user_id: int, data: UserInput, *, info: RequestInfo
) -> UserView:
    """Change an account; role and scope changes are audited as permission changes."""
    require(actor, Permission.USER_WRITE)
    now = deps.clock()
    with deps.db.transaction() as session:
        row = _get(session, user_id)
        _validate(session, data)
        if row.id == actor.user_id and (Role.ADMIN not in data.roles or not data.is_active):
            # A rule about this change, not a missing permission: shown on the form (422).
            raise InvalidInput(
                "cannot_demote_self",
                "You cannot remove your own administrator role or deactivate yourself",
            )
        changes = _apply(row, data)
        if changes:
            row.updated_at = now
            permission_keys = {"roles", "scope_divisions", "scope_departments", "is_active"}
            action = (
                "user.permissions_changed" if permission_keys & changes.keys() else "user.updated"
            )
            audit.append(
                session,
                at=now,
                actor=actor,
                action=action,
                target_type="user",
                target_id=row.id,
                detail=changes,
                info=info,
            )
            if not row.is_active:
                auth.end_all_access(session, row.id, now)
        return UserView.of(row)


def set_password(
    deps: ServiceDeps,
    actor: Actor,
    user_id: int,
    new_password: str,
    *,
    info: RequestInfo,
    current_password: str | None = None,
) -> None:
    """Set a password: an admin for anyone, a user for themself with the current password."""
    own = actor.user_id == user_id
    if not own:
        require(actor, Permission.USER_WRITE)
    now = deps.clock()
    wrong = InvalidInput("current_password_wrong", "The current password is wrong")
    refused = False
    # A wrong current password is counted towards the lockout and that count must be
    # committed, so the refusal is raised after the transaction.
    with deps.db.transaction() as session:
        row = _get(session, user_id)
        if own and (
            current_password is None or not deps.hasher.verify(current_password, row.password_hash)
        ):
            auth.record_wrong_password(
                deps, session, row, now=now, info=info, reason="wrong_current_password"
            )
            refused = True
        else:
            _replace_password(deps, session, row, new_password, now)
            audit.append(
                session,
                at=now,
                actor=actor,
                action="user.password_set",
                target_type="user",
                target_id=row.id,
                detail={"by_self": own},
                info=info,
            )
    if refused:
        raise wrong


def _replace_password(
    deps: ServiceDeps, session: Session, row: User, new_password: str, now: datetime
) -> None:
    """Hash the new password (policy checked) and end every session and token of the user."""
    deps.password_policy.check(new_password, username=row.username)
    row.password_hash = deps.hasher.hash(new_password)
    row.password_changed_at = now
    row.updated_at = now
    auth.end_all_access(session, row.id, now)


def unlock_user(deps: ServiceDeps, actor: Actor, user_id: int, *, info: RequestInfo) -> UserView:
    """Lift a lockout before it expires."""
    require(actor, Permission.USER_WRITE)
    now = deps.clock()
    with deps.db.transaction() as session:
        row = _get(session, user_id)
        row.locked_until = None
        row.failed_logins = 0
        row.updated_at = now
        audit.append(
            session,
            at=now,
            actor=actor,
            action="user.unlocked",
            target_type="user",
            target_id=row.id,
            info=info,
        )
        return UserView.of(row)


def get_user(deps: ServiceDeps, actor: Actor, user_id: int) -> UserView:
    """One account; anyone may read their own."""
    if actor.user_id != user_id:
        require(actor, Permission.USER_READ)
    with deps.db.read() as session:
        return UserView.of(_get(session, user_id))


def list_users(
    deps: ServiceDeps,
    actor: Actor,
    *,
    q: str = "",
    role: Role | None = None,
    department_id: int | None = None,
    page: int = 1,
    per_page: int = 20,
) -> Page[UserView]:
    """Accounts, searchable by username, name or phone, optionally by role or department."""
    require(actor, Permission.USER_READ)
    query = sa.select(User).order_by(User.username)
    if q.strip():
        term = q.strip()
        query = query.where(
            sa.or_(
                User.username.contains(term.lower(), autoescape=True),
                User.display_name.contains(term, autoescape=True),
                User.phone.contains(term, autoescape=True),
            )
        )
    if role is not None:
        # roles is a sorted comma list; match a whole name, not a substring of another.
        padded = sa.literal(",") + User.roles + sa.literal(",")
        query = query.where(padded.contains(f",{role.value},"))
    if department_id is not None:
        query = query.where(User.department_id == department_id)
    with deps.db.read() as session:
        return paginate(session, query, page=page, per_page=per_page, convert=UserView.of)


@dataclass(frozen=True)
class AssignablePerson:
    """An account as the roster shows it: who they are and their posts (roles), nothing more."""

    id: int
    username: str
    display_name: str
    roles: tuple[Role, ...]


def assignable_people(deps: ServiceDeps, actor: Actor) -> list[AssignablePerson]:
    """Active staff whose data scope meets the actor's, for those who assign grid posts.

    Duty chiefs run the roster without the user administration (``USER_READ``), so this is
    its own rule: ``RESPONSIBILITY_WRITE``, names and roles only. A person is listed when some
    division could lie in both scopes (one scope code is a prefix of the other), since an
    assignment needs its target in the assigner's scope and in the person's.
    """
    require(actor, Permission.RESPONSIBILITY_WRITE)
    with deps.db.read() as session:
        rows = session.execute(
            sa.select(User.id, User.username, User.display_name, User.roles)
            .where(User.is_active.is_(True), User.roles != "")
            .order_by(User.username)
        ).all()
        scopes: dict[int, set[str]] = {}
        for user_id, code in session.execute(
            sa.select(UserScopeDivision.user_id, UserScopeDivision.division_code)
        ):
            scopes.setdefault(user_id, set()).add(code)
    people = []
    for row in rows:
        roles = parse_roles(row.roles.split(","))
        if not roles:
            continue
        if not _scopes_meet(actor, scopes.get(row.id, set()), everything=Role.ADMIN in roles):
            continue
        people.append(
            AssignablePerson(row.id, row.username, row.display_name, tuple(sorted(roles)))
        )
    return people


def _scopes_meet(actor: Actor, theirs: Iterable[str], *, everything: bool) -> bool:
    """True when some division lies in the actor's scope and in the person's (these codes, or
    everything for an administrator)."""
    codes = list(theirs)
    mine = actor.scope
    if everything:
        return mine.everything or bool(mine.divisions)
    if mine.everything:
        return bool(codes)
    return any(a.startswith(b) or b.startswith(a) for a in mine.divisions for b in codes)


def existing_usernames(deps: ServiceDeps, actor: Actor, names: Iterable[str]) -> set[str]:
    """Which of the given usernames have an account."""
    require(actor, Permission.USER_READ)
    wanted = sorted({n.strip().lower() for n in names})
    with deps.db.read() as session:
        return set(session.scalars(sa.select(User.username).where(User.username.in_(wanted))))


def count_users(deps: ServiceDeps, actor: Actor) -> int:
    """Number of active accounts."""
    require(actor, Permission.USER_READ)
    with deps.db.read() as session:
        return int(session.scalar(sa.select(sa.func.count()).where(User.is_active.is_(True))) or 0)


def _get(session: Session, user_id: int) -> User:
    row = session.get(User, user_id)
    if row is None:
        raise NotFound("user_not_found", "No user %(id)s", id=user_id)
    return row
