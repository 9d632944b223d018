"""``/healthz``: is the control database reachable?"""

from pyramid.view import view_config
from sqlalchemy import text


@view_config(route_name="healthz", renderer="json")
def healthz(request):
    try:
        request.control.execute(text("SELECT 1"))
    except Exception:  # noqa: BLE001 -- any failure of the control DB means "not ready"
        request.response.status = 503
        return {"status": "unavailable", "control_db": "unreachable"}
    return {"status": "ok", "control_db": "ok"}
