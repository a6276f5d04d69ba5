"""Logging in and out: password checks with lockout, browser sessions and API tokens."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from pwdlib import PasswordHash
from sqlalchemy.orm import Session

from gridcity.adapters.db.tables import (
    ApiToken,
    User,
    UserScopeDepartment,
    UserScopeDivision,
    UserSession,
)
from gridcity.domain.access import Actor, Role, Scope, parse_roles
from gridcity.domain.errors import Unauthenticated
from gridcity.services import audit
from gridcity.services.deps import RequestInfo, ServiceDeps

CHINA_TZ = ZoneInfo("Asia/Shanghai")
# A real hash of a random password, so unknown usernames cost the same time as known ones.
_DUMMY_PASSWORD = secrets.token_urlsafe(16)


def token_digest(token: str) -> str:
    """SHA-256 of a session or API token; only digests are stored."""
    return hashlib.sha256(token.encode()).hexdigest()


def actor_of(user: User) -> Actor:
    """The acting identity of a user row, with roles and data scope."""
    roles = parse_roles(user.roles.split(","))
    scope = Scope(
        divisions=frozenset(s.division_code for s in user.scope_divisions),
        departments=frozenset(s.department_id for s in user.scope_departments),
        everything=Role.ADMIN in roles,
    )
    return Actor(
        user_id=user.id,
        username=user.username,
        roles=roles,
        scope=scope,
        display_name=user.display_name,
    )


@dataclass(frozen=True)
class LoginResult:
    """A successful login: the secret to hand to the client and who logged in."""

    token: str
    actor: Actor
    expires_at: datetime
    locale: str


def _check_password(
    deps: ServiceDeps,
    session: Session,
    username: str,
    password: str,
    info: RequestInfo,
    now: datetime,
) -> User:
    """Return the user if the password is right; count failures and lock after too many."""
    user = session.scalar(sa.select(User).where(User.username == username))
    refusal = Unauthenticated("login_failed", "Wrong username or password")
    if user is None:
        deps.hasher.verify(password, _dummy_hash(deps.hasher))
        audit.append(
            session,
            at=now,
            actor=None,
            actor_name=username[:64],
            action="login.failed",
            target_type="user",
            detail={"reason": "unknown_user"},
            info=info,
        )
        raise refusal
    policy = deps.lockout_policy
    if policy.is_locked(user.locked_until, now):
        audit.append(
            session,
            at=now,
            actor=None,
            actor_name=username,
            action="login.locked",
            target_type="user",
            target_id=user.id,
            info=info,
        )
        raise Unauthenticated(
            "account_locked",
            "Too many failed logins; the account is locked until %(until)s",
            until=_local_minutes(user.locked_until),
        )
    if not user.is_active:
        deps.hasher.verify(password, user.password_hash)
        audit.append(
            session,
            at=now,
            actor=None,
            actor_name=username,
            action="login.failed",
            target_type="user",
            target_id=user.id,
            detail={"reason": "inactive"},
            info=info,
        )
        raise refusal
    valid, new_hash = deps.hasher.verify_and_update(password, user.password_hash)
    if not valid:
        record_wrong_password(deps, session, user, now=now, info=info, reason="wrong_password")
        raise refusal
    if new_hash:
        user.password_hash = new_hash
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    return user


def record_wrong_password(
    deps: ServiceDeps,
    session: Session,
    user: User,
    *,
    now: datetime,
    info: RequestInfo,
    reason: str,
) -> None:
    """Count one wrong password atomically (parallel guesses cannot slip past the lockout) and
    lock the account when the threshold is reached; audited in the caller's transaction."""
    failures = session.execute(
        sa.update(User)
        .where(User.id == user.id)
        .values(failed_logins=User.failed_logins + 1)
        .returning(User.failed_logins)
        .execution_options(synchronize_session=False)
    ).scalar_one()
    audit.append(
        session,
        at=now,
        actor=None,
        actor_name=user.username,
        action="login.failed",
        target_type="user",
        target_id=user.id,
        detail={"reason": reason, "failures": failures},
        info=info,
    )
    _count, locked_until = deps.lockout_policy.after_failure(failures - 1, now)
    if locked_until is None:
        return
    session.execute(
        sa.update(User)
        .where(User.id == user.id)
        .values(failed_logins=0, locked_until=locked_until)
        .execution_options(synchronize_session=False)
    )
    audit.append(
        session,
        at=now,
        actor=None,
        actor_name=user.username,
        action="account.locked",
        target_type="user",
        target_id=user.id,
        detail={"until": locked_until.isoformat()},
        info=info,
    )


def end_all_access(session: Session, user_id: int, now: datetime) -> None:
    """Sign a user out everywhere: delete browser sessions, revoke bearer tokens."""
    session.execute(sa.delete(UserSession).where(UserSession.user_id == user_id))
    session.execute(
        sa.update(ApiToken)
        .where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )


def _local_minutes(moment: datetime | None) -> str:
    """A moment as users read it: China Standard Time, to the minute."""
    return "" if moment is None else moment.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M")


@cache
def _dummy_hash(hasher: PasswordHash) -> str:
    """A hash to verify against when the user does not exist (same cost as a real check)."""
    return hasher.hash(_DUMMY_PASSWORD)


def login(deps: ServiceDeps, username: str, password: str, *, info: RequestInfo) -> LoginResult:
    """Check the password and open a browser session; failures are audited and counted."""
    return _login(deps, username, password, info=info, kind="session")


def issue_token(
    deps: ServiceDeps, username: str, password: str, *, info: RequestInfo, name: str = ""
) -> LoginResult:
    """Check the password and issue a bearer token for the API or the field app."""
    return _login(deps, username, password, info=info, kind="token", name=name)


def _login(
    deps: ServiceDeps, username: str, password: str, *, info: RequestInfo, kind: str, name: str = ""
) -> LoginResult:
    now = deps.clock()
    username = username.strip().lower()
    failure: Unauthenticated | None = None
    result: LoginResult | None = None
    # Failures must be committed (counter, lock, audit) and still reach the caller as a refusal.
    with deps.db.transaction() as session:
        try:
            user = _check_password(deps, session, username, password, info, now)
        except Unauthenticated as exc:
            failure = exc
        else:
            token = secrets.token_urlsafe(32)
            if kind == "session":
                expires = now + timedelta(hours=deps.session_hours)
                session.add(
                    UserSession(
                        token_hash=token_digest(token),
                        user_id=user.id,
                        created_at=now,
                        expires_at=expires,
                        ip=info.ip[:64],
                        user_agent=info.user_agent[:300],
                    )
                )
            else:
                expires = now + timedelta(days=deps.token_days)
                session.add(
                    ApiToken(
                        token_hash=token_digest(token),
                        user_id=user.id,
                        name=name[:100],
                        created_at=now,
                        expires_at=expires,
                    )
                )
            actor = actor_of(user)
            audit.append(
                session,
                at=now,
                actor=actor,
                action=f"login.{kind}",
                target_type="user",
                target_id=user.id,
                info=info,
            )
            result = LoginResult(token=token, actor=actor, expires_at=expires, locale=user.locale)
    if failure is not None:
        raise failure
    assert result is not None
    return result


def actor_for_session(deps: ServiceDeps, token: str) -> Actor | None:
    """The user behind a live session cookie, or None."""
    return _actor_behind(deps, UserSession, token)


def actor_for_token(deps: ServiceDeps, token: str) -> Actor | None:
    """The user behind a live, unrevoked bearer token, or None."""
    return _actor_behind(deps, ApiToken, token)


def _actor_behind(
    deps: ServiceDeps, credential: type[UserSession] | type[ApiToken], token: str
) -> Actor | None:
    """Resolve a credential in two statements (this runs on every request): the live user row
    joined to its session or token, then the user's scope rows in one UNION."""
    now = deps.clock()
    live = [credential.token_hash == token_digest(token), credential.expires_at > now]
    if credential is ApiToken:
        live.append(ApiToken.revoked_at.is_(None))
    with deps.db.read() as session:
        user = session.execute(
            sa.select(User.id, User.username, User.display_name, User.roles)
            .join(credential, credential.user_id == User.id)
            .where(*live, User.is_active.is_(True))
        ).first()
        if user is None:
            return None
        scope_rows = session.execute(
            sa.union_all(
                sa.select(sa.literal("d"), UserScopeDivision.division_code).where(
                    UserScopeDivision.user_id == user.id
                ),
                sa.select(
                    sa.literal("p"), sa.cast(UserScopeDepartment.department_id, sa.String)
                ).where(UserScopeDepartment.user_id == user.id),
            )
        ).all()
    roles = parse_roles(user.roles.split(","))
    return Actor(
        user_id=user.id,
        username=user.username,
        roles=roles,
        scope=Scope(
            divisions=frozenset(value for kind, value in scope_rows if kind == "d"),
            departments=frozenset(int(value) for kind, value in scope_rows if kind == "p"),
            everything=Role.ADMIN in roles,
        ),
        display_name=user.display_name,
    )


def logout(deps: ServiceDeps, token: str, *, info: RequestInfo) -> None:
    """End a browser session (idempotent)."""
    now = deps.clock()
    with deps.db.transaction() as session:
        row = session.get(UserSession, token_digest(token))
        if row is None:
            return
        user = session.get(User, row.user_id)
        session.delete(row)
        if user is not None:
            audit.append(
                session,
                at=now,
                actor=actor_of(user),
                action="logout",
                target_type="user",
                target_id=user.id,
                info=info,
            )


def revoke_token(deps: ServiceDeps, token: str, *, info: RequestInfo) -> None:
    """Revoke a bearer token (idempotent)."""
    now = deps.clock()
    with deps.db.transaction() as session:
        row = session.get(ApiToken, token_digest(token))
        if row is None or row.revoked_at is not None:
            return
        row.revoked_at = now
        user = session.get(User, row.user_id)
        if user is not None:
            audit.append(
                session,
                at=now,
                actor=actor_of(user),
                action="token.revoked",
                target_type="user",
                target_id=user.id,
                info=info,
            )


def purge_expired(deps: ServiceDeps) -> int:
    """Delete expired sessions and tokens; returns how many rows went."""
    now = deps.clock()
    with deps.db.transaction() as session:
        gone = session.execute(sa.delete(UserSession).where(UserSession.expires_at <= now))
        gone_tokens = session.execute(sa.delete(ApiToken).where(ApiToken.expires_at <= now))
        return int(gone.rowcount or 0) + int(gone_tokens.rowcount or 0)  # type: ignore[attr-defined]
