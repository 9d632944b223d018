"""Staff roles and what each may do (also in docs/permissions.md, kept equal by a test).

| permission        | owner | manager | support | what it allows                              |
| ----------------- | ----- | ------- | ------- | ------------------------------------------- |
| dashboard.view    | yes   | yes     | yes     | the dashboard                               |
| orders.view       | yes   | yes     | yes     | order list and detail, an order's payments  |
| orders.note       | yes   | yes     | yes     | internal notes on an order                  |
| orders.update     | yes   | yes     | yes     | status changes, one order at a time         |
| orders.bulk       | yes   | yes     | no      | bulk status changes                         |
| orders.export     | yes   | yes     | no      | CSV export of the order list                |
| orders.refund     | yes   | yes     | no      | refunds and payments recorded by hand       |
| products.view     | yes   | yes     | yes     | product list and product pages (read-only)  |
| products.edit     | yes   | yes     | no      | create, edit and delete products            |
| customers.view    | yes   | yes     | yes     | customer list and detail                    |
| staff.manage      | yes   | no      | no      | create, change, disable staff; 2FA rules    |
| settings.manage   | yes   | no      | no      | store settings, order statuses, payment methods |
| audit.view        | yes   | no      | no      | the audit log                               |
| api.manage        | yes   | yes     | no      | API keys, webhook endpoints and their log   |
| profile           | yes   | yes     | yes     | own name, password, language, sessions, 2FA |
"""

from __future__ import annotations

from backoffice.i18n import _

OWNER, MANAGER, SUPPORT = "owner", "manager", "support"
ROLES = (OWNER, MANAGER, SUPPORT)
ROLE_LABELS = {OWNER: _("Owner"), MANAGER: _("Manager"), SUPPORT: _("Support")}

_EVERYONE = {OWNER, MANAGER, SUPPORT}
_MANAGERS = {OWNER, MANAGER}
_OWNER = {OWNER}

PERMISSIONS: dict[str, frozenset[str]] = {
    "dashboard.view": frozenset(_EVERYONE),
    "orders.view": frozenset(_EVERYONE),
    "orders.note": frozenset(_EVERYONE),
    "orders.update": frozenset(_EVERYONE),
    "orders.bulk": frozenset(_MANAGERS),
    "orders.export": frozenset(_MANAGERS),
    "orders.refund": frozenset(_MANAGERS),
    "products.view": frozenset(_EVERYONE),
    "products.edit": frozenset(_MANAGERS),
    "customers.view": frozenset(_EVERYONE),
    "staff.manage": frozenset(_OWNER),
    "settings.manage": frozenset(_OWNER),
    "audit.view": frozenset(_OWNER),
    "api.manage": frozenset(_MANAGERS),
    "profile": frozenset(_EVERYONE),
}


def role_allows(role: str | None, permission: str) -> bool:
    """Unknown permissions are denied: a typo must not open a page to everyone."""
    return role in PERMISSIONS.get(permission, ())
