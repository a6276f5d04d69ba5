"""Roles, permissions and data scope. Deny by default: a permission not granted here is refused."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from gridcity.domain.errors import Forbidden


class Role(StrEnum):
    """The posts of the model (see the glossary); ``public`` is the anonymous visitor."""

    SUPERVISOR = "supervisor"  # 监督员
    OPERATOR = "operator"  # 受理员
    DUTY_CHIEF = "duty_chief"  # 值班长
    DISPATCHER = "dispatcher"  # 派遣员
    HANDLER = "handler"  # 处置人员
    LEADER = "leader"  # 领导
    ADMIN = "admin"  # 管理员
    PUBLIC = "public"  # 公众


STAFF_ROLES: tuple[Role, ...] = tuple(r for r in Role if r is not Role.PUBLIC)
# When a user holds several roles, the first in this order picks the landing page.
LANDING_ORDER: tuple[Role, ...] = (
    Role.ADMIN,
    Role.LEADER,
    Role.DUTY_CHIEF,
    Role.DISPATCHER,
    Role.OPERATOR,
    Role.HANDLER,
    Role.SUPERVISOR,
)


class Permission(StrEnum):
    """Everything a role may be granted; checked in the service layer."""

    ORG_READ = "org.read"
    ORG_WRITE = "org.write"
    USER_READ = "user.read"
    USER_WRITE = "user.write"
    AUDIT_READ = "audit.read"
    MAP_VIEW = "map.view"
    GRID_READ = "grid.read"
    GRID_WRITE = "grid.write"
    # Putting supervisors and grid workers on grids (排班): the supervision center's duty chief
    # runs the roster day to day, so it is not reserved to administrators. Leaders' posts
    # (逐级分包) are organisational decisions and need ORG_WRITE.
    RESPONSIBILITY_WRITE = "responsibility.write"
    # City settings that change how data is coded or scheduled (layer code schemes, named
    # shifts): administrators only.
    SETTINGS_WRITE = "settings.write"
    # The standard catalog (部件/事件 classes): read by every staff member; written (criteria,
    # time limits, extension classes, the active code set) with SETTINGS_WRITE.
    CATALOG_READ = "catalog.read"
    # The component inventory (部件): read by every staff member within their data scope;
    # census imports, edits and state changes by administrators (the survey is a managed job).
    COMPONENT_READ = "component.read"
    COMPONENT_WRITE = "component.write"
    # The working calendar (工作日历: holidays, make-up workdays, office hours): read by every
    # staff member (deadlines, lights); years and office hours changed by administrators.
    CALENDAR_READ = "calendar.read"
    CALENDAR_WRITE = "calendar.write"


_EVERY_STAFF = frozenset(
    {
        Permission.ORG_READ,
        Permission.MAP_VIEW,
        Permission.GRID_READ,
        Permission.CATALOG_READ,
        Permission.COMPONENT_READ,
        Permission.CALENDAR_READ,
    }
)

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.SUPERVISOR: _EVERY_STAFF,
    Role.OPERATOR: _EVERY_STAFF,
    Role.DUTY_CHIEF: _EVERY_STAFF | {Permission.RESPONSIBILITY_WRITE},
    Role.DISPATCHER: _EVERY_STAFF,
    Role.HANDLER: _EVERY_STAFF,
    Role.LEADER: _EVERY_STAFF | {Permission.USER_READ, Permission.AUDIT_READ},
    Role.ADMIN: frozenset(Permission),
    Role.PUBLIC: frozenset(),
}


@dataclass(frozen=True)
class Scope:
    """Data a user may see: division codes (a prefix covers its children) and department ids.

    ``everything`` is set only for administrators; an empty scope sees nothing.
    """

    divisions: frozenset[str] = field(default_factory=frozenset)
    departments: frozenset[int] = field(default_factory=frozenset)
    everything: bool = False

    def covers_division(self, code: str) -> bool:
        """True when the division (or an ancestor of it) is in scope."""
        return self.everything or any(code.startswith(prefix) for prefix in self.divisions)

    def covers_department(self, department_id: int) -> bool:
        """True when the department is in scope."""
        return self.everything or department_id in self.departments


@dataclass(frozen=True)
class Actor:
    """Who is acting: a signed-in user, or the anonymous public."""

    user_id: int | None
    username: str
    roles: frozenset[Role]
    scope: Scope = field(default_factory=Scope)
    display_name: str = ""

    @classmethod
    def anonymous(cls) -> Actor:
        """The public, with no permissions beyond public pages."""
        return cls(user_id=None, username="public", roles=frozenset({Role.PUBLIC}))

    @property
    def is_authenticated(self) -> bool:
        """True for a signed-in user."""
        return self.user_id is not None

    @property
    def permissions(self) -> frozenset[Permission]:
        """Union of the permissions of every role held."""
        granted: set[Permission] = set()
        for role in self.roles:
            granted |= ROLE_PERMISSIONS.get(role, frozenset())
        return frozenset(granted)

    def can(self, permission: Permission) -> bool:
        """True when some role grants the permission."""
        return permission in self.permissions

    @property
    def landing_role(self) -> Role:
        """The role whose home page this user lands on."""
        for role in LANDING_ORDER:
            if role in self.roles:
                return role
        return Role.PUBLIC


def require(actor: Actor, permission: Permission) -> None:
    """Refuse unless the actor holds the permission."""
    if not actor.can(permission):
        raise Forbidden(
            "permission_denied",
            "Your role does not allow this action (%(permission)s)",
            permission=permission.value,
        )


def parse_roles(values: Iterable[str]) -> frozenset[Role]:
    """Roles from stored strings; unknown names are ignored rather than granting anything."""
    known = {r.value: r for r in Role}
    return frozenset(known[v] for v in values if v in known and v != Role.PUBLIC.value)
