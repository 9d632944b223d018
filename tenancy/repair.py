"""``tenants repair``: take over a store whose saga died, and finish it.

The store's status says which saga it was: ``provisioning``/``failed`` -> the
create is resumed (``Provisioner.repair``); ``restoring``/``moving``, or an
``active`` store whose lease was left behind by a run that died in its clean-up
-> ``Copier.repair``. A live run (fresh lease) is never taken over
(``tenancy.sagas.LeaseHeld``). Running it twice is harmless: the second run
finds nothing to do.
"""

from __future__ import annotations

from tenancy.backups.restore import Copier
from tenancy.control import ControlPlane
from tenancy.models import TenantStatus
from tenancy.provisioning import Provisioner, StoreSchema
from tenancy.sagas import Hook

CREATE_STATUSES = {TenantStatus.PROVISIONING, TenantStatus.FAILED}


def repair(control: ControlPlane, schema: StoreSchema, slug: str, fault: Hook | None = None) -> str:
    """Repair store *slug*; return one line saying what was done."""
    with control.session() as session:
        tenant = control.tenant(session, slug)
        status = tenant.status
    if status in CREATE_STATUSES:
        return Provisioner(control, schema, fault=fault).repair(slug)
    return Copier(control, schema, fault=fault).repair(slug)
