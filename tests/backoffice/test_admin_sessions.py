"""Server-side staff sessions and two-factor sign-in (issue 18, findings 5 and 11).

A copy of a session cookie must open nothing once the session ended: after
sign-out, after an owner changed the member's password or role or disabled
them, after "sign out everywhere else", after the idle timeout or the
absolute lifetime. Two-factor sign-in: enrolment, the second step, replayed
and recovery codes, the throttle, the store's requirement and the owner's reset.
"""

from __future__ import annotations

import itertools
import time
from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from backoffice.models import AuditEntry, StaffSession, StaffTwoFactor, StaffUser
from backoffice.security.twofactor import TwoFactor, recovery_hash, secret_context
from tenancy.keyring import KeyRing, KeyRingError, generate_key
from tests.backoffice.admin_fixtures import Admin, add_staff
from tests.backoffice.admin_world import World

_seq = itertools.count(1)
PASSWORD = "member-pass-1"


@pytest.fixture(scope="module")
def world(mysql_control, mysql_settings):
    world = World(mysql_control, mysql_settings, demo_orders=0)
    yield world
    world.dispose()


def new_member(world: World, role: str = "support") -> str:
    email = f"m{next(_seq)}-{role}@example.com"
    add_staff(world.control, world.store, email, role, PASSWORD)
    return email


def signed_in(world: World, email: str, *, ip: str | None = None) -> Admin:
    admin = world.client(**({"REMOTE_ADDR": ip} if ip else {}))
    admin.login(email, PASSWORD)
    return admin


def cookie(admin: Admin) -> str:
    return admin.app.cookies["bo_session"]


def replay(world: World, saved: str) -> Admin:
    """Another browser holding a copy of a saved session cookie."""
    thief = world.client()
    thief.app.set_cookie("bo_session", saved)
    return thief


def refused(admin: Admin) -> bool:
    res = admin.get("/dashboard", expect_errors=True)
    return res.status_int == 303 and "/admin/login" in res.location


def user_id(world: World, email: str) -> int:
    return world.scalar(select(StaffUser.id).where(StaffUser.email == email))


def session_rows(world: World, email: str) -> list:
    return world.rows(
        select(StaffSession).where(StaffSession.staff_user_id == user_id(world, email))
    )


# -- sessions ------------------------------------------------------------------


def test_a_cookie_saved_before_sign_out_is_refused_after_it(world):
    email = new_member(world)
    admin = signed_in(world, email)
    saved = cookie(admin)
    assert admin.get("/dashboard").status_int == 200
    assert replay(world, saved).get("/dashboard").status_int == 200  # a copy works until...
    admin.logout()
    assert refused(replay(world, saved))
    assert session_rows(world, email) == []


def test_the_session_row_holds_a_hash_and_where_it_began(world):
    email = new_member(world)
    admin = world.client(REMOTE_ADDR="203.0.113.9", HTTP_USER_AGENT="TestBrowser/1.0")
    admin.login(email, PASSWORD)
    (row,) = session_rows(world, email)
    assert len(row.id_hash) == 64 and row.id_hash not in cookie(admin)
    assert (row.ip, row.user_agent, row.two_factor) == ("203.0.113.9", "TestBrowser/1.0", False)
    assert row.expires_at - row.created_at == timedelta(days=7)


@pytest.mark.parametrize(
    "change",
    [
        {"password": "changed-pass-1", "is_active": "1"},  # a new password
        {"role": "manager", "is_active": "1"},  # another role
        {},  # disabled (the box unticked)
    ],
    ids=["password", "role", "disabled"],
)
def test_an_owners_change_ends_the_members_sessions_everywhere(world, change):
    email = new_member(world)
    first, second = signed_in(world, email), signed_in(world, email)
    saved = cookie(first)
    owner = world.client("owner")
    owner.post(f"/staff/{user_id(world, email)}", {"role": "support", **change}, status=303)
    assert refused(first) and refused(second) and refused(replay(world, saved))
    assert session_rows(world, email) == []
    assert owner.get("/staff").status_int == 200  # the owner's own session goes on


def test_a_name_change_by_the_owner_ends_nothing(world):
    email = new_member(world)
    member = signed_in(world, email)
    owner = world.client("owner")
    member_id = user_id(world, email)
    owner.post(f"/staff/{member_id}", {"role": "support", "name": "N", "is_active": "1"})
    assert member.get("/dashboard").status_int == 200


def test_own_password_change_keeps_this_browser_under_a_new_session(world):
    email = new_member(world)
    me, elsewhere = signed_in(world, email), signed_in(world, email)
    saved = cookie(me)
    me.post(
        "/profile",
        {
            "new_password": "member-pass-2",
            "confirm_password": "member-pass-2",
            "current_password": PASSWORD,
        },
        status=303,
    )
    assert me.get("/profile").status_int == 200
    assert refused(elsewhere) and refused(replay(world, saved))
    assert len(session_rows(world, email)) == 1


def test_profile_lists_the_sessions_and_signs_out_everywhere_else(world):
    email = new_member(world)
    other = world.client(HTTP_USER_AGENT="OtherBrowser/2")
    other.login(email, PASSWORD)
    me = world.client(HTTP_USER_AGENT="ThisBrowser/1")
    me.login(email, PASSWORD)
    rows = me.get("/profile").html.select("#sessions tbody tr")
    assert len(rows) == 2
    assert "ThisBrowser/1" in rows[0].get_text() and "this browser" in rows[0].get_text()
    assert "OtherBrowser/2" in rows[1].get_text()
    page = me.post("/profile/sessions/end-others", status=303).follow()
    assert "Signed out everywhere else (1)." in page.text
    assert refused(other) and me.get("/dashboard").status_int == 200
    assert len(page.html.select("#sessions tbody tr")) == 1


def test_idle_and_expired_sessions_are_refused(world):
    email = new_member(world)
    clients, ids = {}, {}
    for name in ("idle", "old", "recent"):
        before = {row.id_hash for row in session_rows(world, email)}
        clients[name] = signed_in(world, email)
        (ids[name],) = {row.id_hash for row in session_rows(world, email)} - before
    idle, old, recent = clients.values()

    def move(name: str, **values) -> None:
        with world.engine.begin() as conn:
            conn.execute(
                update(StaffSession).where(StaffSession.id_hash == ids[name]).values(**values)
            )

    now = world.scalar(select(StaffSession.created_at).where(StaffSession.id_hash == ids["idle"]))
    move("idle", last_seen_at=now - timedelta(hours=12, seconds=1))
    move("old", expires_at=now - timedelta(seconds=1))
    move("recent", last_seen_at=now - timedelta(minutes=5))
    assert refused(idle) and refused(old)
    assert recent.get("/dashboard").status_int == 200
    seen = world.scalar(
        select(StaffSession.last_seen_at).where(StaffSession.id_hash == ids["recent"])
    )
    assert seen >= now  # used after a minute or more: the last use is written


# -- two-factor sign-in ---------------------------------------------------------


def enrol(admin: Admin) -> tuple[str, list[str]]:
    """Turn two-factor sign-in on from the profile; the secret and the recovery codes."""
    page = admin.get("/profile/two-factor")
    secret = page.html.find(id="totp-secret").get_text()
    form = next(f for f in page.forms.values() if "code" in f.fields)
    form["code"] = pyotp.TOTP(secret).now()
    done = form.submit(status=200)
    codes = [li.get_text() for li in done.html.select("#recovery-codes li")]
    return secret, codes


def code_step(admin: Admin, code: str, status=303):
    page = admin.app.get(admin.url("/login/code"))
    form = page.forms[0]
    form["code"] = code
    return form.submit(status=status)


def next_code(secret: str) -> str:
    """A code of the next time step: good (±1 step) and newer than any used already."""
    return pyotp.TOTP(secret).at(time.time() + 30)


def test_enrolment_shows_the_secret_and_needs_a_code_to_turn_on(world, control):
    email = new_member(world)
    admin = signed_in(world, email)
    page = admin.get("/profile/two-factor")
    secret = page.html.find(id="totp-secret").get_text()
    uri = page.html.find(id="totp-uri")["href"]
    assert uri.startswith("otpauth://totp/") and f"secret={secret}" in uri
    assert "issuer=Tea" in uri and page.html.select_one(".qr svg") is not None
    assert admin.get("/profile/two-factor").html.find(id="totp-secret").get_text() == secret
    form = next(f for f in page.forms.values() if "code" in f.fields)
    form["code"] = "000000" if pyotp.TOTP(secret).now() != "000000" else "111111"
    wrong = form.submit(status=400)
    assert "The code is not correct." in wrong.text
    assert "Off" in admin.get("/profile").html.find(id="two-factor-state").get_text()

    form["code"] = pyotp.TOTP(secret).now()
    done = form.submit(status=200)
    codes = [li.get_text() for li in done.html.select("#recovery-codes li")]
    assert len(codes) == 10 == len(set(codes))
    assert "recovery-codes" not in admin.get("/profile/two-factor").text  # shown once
    (row,) = world.rows(
        select(StaffTwoFactor).where(StaffTwoFactor.staff_user_id == user_id(world, email))
    )
    assert row.confirmed_at is not None and row.secret.startswith("v1.")
    assert secret not in row.secret and sorted(row.recovery_codes) == sorted(
        recovery_hash(c) for c in codes
    )
    context = secret_context(world.store.id, user_id(world, email))
    assert control.keyring.decrypt_text(row.secret, context=context) == secret
    entry = world.rows(
        select(AuditEntry)
        .where(AuditEntry.action == "staff.two_factor")
        .order_by(AuditEntry.id.desc())
    )[0]
    assert entry.after == {"two_factor": "on"} and secret not in str(entry.after)


def test_sign_in_asks_for_the_code_and_nothing_opens_before_it(world):
    email = new_member(world)
    admin = signed_in(world, email)
    secret, _codes = enrol(admin)
    admin.logout()
    res = admin.login(email, PASSWORD)
    assert res.location.split("?")[0].endswith("/admin/login/code")
    for path in ("/dashboard", "/profile", "/profile/two-factor", "/orders"):
        assert admin.get(path, status=303).location.split("?")[0].endswith("/admin/login")
    wrong = code_step(admin, "12345x", status=400)
    assert "The code is not correct." in wrong.text
    done = code_step(admin, next_code(secret))
    assert done.location.endswith("/admin/dashboard")
    assert admin.get("/dashboard").status_int == 200
    (row,) = session_rows(world, email)
    assert row.two_factor is True


def test_a_code_is_good_once(world):
    email = new_member(world)
    admin = signed_in(world, email)
    secret, _codes = enrol(admin)
    admin.logout()
    admin.login(email, PASSWORD)
    code = next_code(secret)
    code_step(admin, code)
    admin.logout()
    admin.login(email, PASSWORD)
    assert "The code is not correct." in code_step(admin, code, status=400).text


def test_a_recovery_code_signs_in_once(world):
    email = new_member(world)
    admin = signed_in(world, email)
    _secret, codes = enrol(admin)
    admin.logout()
    admin.login(email, PASSWORD)
    page = code_step(admin, codes[3].upper()).follow()
    assert "You signed in with a recovery code; 9 left." in page.text
    admin.logout()
    admin.login(email, PASSWORD)
    code_step(admin, codes[3], status=400)


def test_wrong_codes_are_throttled_like_passwords(world):
    email = new_member(world)
    admin = signed_in(world, email, ip="198.51.100.7")
    secret, _codes = enrol(admin)
    admin.logout()
    for _ in range(5):
        admin.login(email, PASSWORD)  # a right password does not wipe the failed codes
        code_step(admin, "000000" if next_code(secret) != "000000" else "111111", status=400)
    admin.login(email, PASSWORD, status=429)  # and the password step is throttled too


def test_the_owner_resets_a_members_two_factor(world):
    email = new_member(world)
    member = signed_in(world, email)
    enrol(member)
    owner = world.client("owner")
    member_id = user_id(world, email)
    edit = owner.get(f"/staff/{member_id}")
    assert edit.html.find(id="reset-two-factor") is not None
    listing = owner.get("/staff")
    row = next(r for r in listing.html.select("tbody tr") if email in r.get_text())
    assert "On" in row.find_all("td")[5].get_text()
    page = owner.post(f"/staff/{member_id}/two-factor/reset", status=303).follow()
    assert f"Two-factor sign-in of {email} is reset" in page.text
    assert refused(member)
    assert (
        world.scalar(
            select(StaffTwoFactor.staff_user_id).where(StaffTwoFactor.staff_user_id == member_id)
        )
        is None
    )
    again = world.client()
    assert again.login(email, PASSWORD).location.endswith("/admin/dashboard")


def test_key_rotation_re_encrypts_the_secrets(world, mysql_settings):
    email = new_member(world)
    secret, _codes = enrol(signed_in(world, email))
    member_id = user_id(world, email)
    new_key = generate_key()
    both = KeyRing.from_text(f"{new_key},{mysql_settings['backoffice.keys']}")
    with Session(world.engine) as db, db.begin():
        assert TwoFactor(db, both, world.store.id).rotate() >= 1
        assert TwoFactor(db, both, world.store.id).rotate() == 0  # already under the new key
    with Session(world.engine) as db:
        row = TwoFactor(db, KeyRing.from_text(new_key), world.store.id).row(member_id)
        assert TwoFactor(db, KeyRing.from_text(new_key), world.store.id).secret(row) == secret
        with pytest.raises(KeyRingError):  # bound to the member: not another one's secret
            KeyRing.from_text(new_key).decrypt_text(
                row.secret, context=secret_context(world.store.id, member_id + 1)
            )


def test_a_member_turns_it_off_with_the_password(world):
    email = new_member(world)
    admin = signed_in(world, email)
    enrol(admin)
    admin.post("/profile/two-factor/off", {"password": "wrong"}, status=303)
    assert "on:" in admin.get("/profile/two-factor").html.find(id="two-factor-state").get_text()
    admin.post("/profile/two-factor/off", {"password": PASSWORD}, status=303)
    assert admin.get("/profile/two-factor").html.find(id="totp-secret") is not None


# -- a store that requires two-factor sign-in -----------------------------------


@pytest.fixture(scope="module")
def strict(mysql_control, mysql_settings):
    """A store of its own: its owner turns the requirement on."""
    world = World(mysql_control, mysql_settings, demo_orders=0)
    yield world
    world.dispose()


def test_the_owner_must_have_it_before_requiring_it(strict):
    owner = strict.client("owner")
    page = owner.post("/staff/two-factor", {"required": "1"}, status=303).follow()
    assert "Set up two-factor sign-in for yourself first." in page.text
    assert page.html.select_one("#require-two-factor input[name=required]").get("checked") is None


def test_members_without_it_can_only_enrol(strict):
    owner = strict.client("owner")
    owner_secret, _codes = enrol(owner)
    page = owner.post("/staff/two-factor", {"required": "1"}, status=303).follow()
    assert "Every member now signs in with a second factor." in page.text
    try:
        email = new_member(strict, "manager")
        member = strict.client()
        res = member.login(email, PASSWORD)
        assert res.location.endswith("/admin/profile/two-factor")
        for path in ("/dashboard", "/orders", "/profile", "/api-keys"):
            assert member.get(path, status=303).location.endswith("/admin/profile/two-factor")
        page = member.get("/profile/two-factor")
        token = page.html.find("input", {"name": "csrf_token"})["value"]
        member.app.post(member.url("/profile"), {"name": "x", "csrf_token": token}, status=403)
        assert "This store requires two-factor sign-in." in page.text
        form = next(f for f in page.forms.values() if "code" in f.fields)
        form["code"] = pyotp.TOTP(page.html.find(id="totp-secret").get_text()).now()
        form.submit(status=200)
        assert member.get("/dashboard").status_int == 200
        assert member.get("/api-keys").status_int == 200
    finally:
        owner.post("/staff/two-factor", {}, status=303)
    assert owner_secret
