"""The speedups' switches and version guard, and the tenancy-level speedups on
and off: the same query results, the same engines' answers, the same revisions."""

from __future__ import annotations

import logging
import random
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from backoffice.models import StaffUser
from backoffice.schema import store_schema
from tenancy import migrate
from tenancy.db import make_engine
from tenancy.directory import TenantDirectory
from tenancy.provisioning import Provisioner, StoreRequest
from tenancy.registry import EngineRegistry
from tenancy.settings import SettingsError, env_overrides, resolve
from tenancy.speedups import Speedup, pymysql_datetime
from tests.conftest import RUN_PREFIX, unique_slug
from tests.speedups import SPEEDUPS, switch
from tests.tenancy.helpers import next_number
from tests.tenancy.test_schema_equivalence import snapshot

# -- switches ------------------------------------------------------------------


def test_every_speedup_has_a_default_and_an_environment_switch():
    defaults = resolve({}, here=".", environ={})
    assert defaults["backoffice.speedups"] == "on"
    assert {f"backoffice.speedups.{name}" for name in SPEEDUPS} <= set(defaults)
    assert env_overrides(
        {"BACKOFFICE_SPEEDUPS": "off", "BACKOFFICE_SPEEDUPS_MONEY_FORMAT": "0"}
    ) == {
        "backoffice.speedups": "off",
        "backoffice.speedups.money_format": "0",
    }


def test_the_master_switch_and_one_speedup_s_own():
    speedup = SPEEDUPS["money_format"]
    on = resolve({}, here=".", environ={})
    assert speedup.on(on)
    assert not speedup.on({**on, "backoffice.speedups": "off"})
    assert not speedup.on({**on, "backoffice.speedups.money_format": "false"})
    assert SPEEDUPS["date_format"].on({**on, "backoffice.speedups.money_format": "false"})
    assert not speedup.on(resolve({}, here=".", environ={"BACKOFFICE_SPEEDUPS": "off"}))
    with pytest.raises(SettingsError, match=r"backoffice\.speedups must be on or off"):
        speedup.on({**on, "backoffice.speedups": "fast"})


def test_without_settings_the_environment_decides(monkeypatch):
    speedup = SPEEDUPS["upgrade_steps"]
    switch(monkeypatch)
    assert speedup.on()
    switch(monkeypatch, ("upgrade_steps",))
    assert not speedup.on() and SPEEDUPS["datetime_parser"].on()
    switch(monkeypatch, "all")
    assert not speedup.on() and not SPEEDUPS["datetime_parser"].on()


def test_the_installed_libraries_are_the_tested_versions():
    """Otherwise the speedups are off here, and the suite would not test them."""
    assert [name for name, speedup in SPEEDUPS.items() if not speedup.supported] == []


def test_a_library_outside_the_tested_versions_turns_its_speedup_off_with_one_warning(caplog):
    untested = Speedup("test_untested", (("markupsafe", "0.1", "0.2"),))
    missing = Speedup("test_missing", (("no-such-distribution-here", "1.0", "2.0"),))
    settings = resolve({}, here=".", environ={})
    with caplog.at_level(logging.WARNING, logger="tenancy.speedups"):
        for _ in range(3):
            assert not untested.on(settings)
            assert not missing.on(settings)
    warnings = [r.getMessage() for r in caplog.records if r.name == "tenancy.speedups"]
    assert len(warnings) == 2, warnings
    assert "speedup test_untested is off: it was tested with markupsafe>=0.1,<0.2" in warnings[0]
    assert "no version" in warnings[1]


# -- datetime_parser -----------------------------------------------------------


def random_datetimes(n: int) -> list[datetime]:
    rng = random.Random(11)
    start = datetime(1000, 1, 1)
    return [
        start
        + timedelta(
            seconds=rng.randrange(9000 * 365 * 86400),
            microseconds=rng.choice((0, rng.randrange(10**6))),
        )
        for _ in range(n)
    ]


def test_datetime_values_from_mariadb_are_the_same_either_way(
    monkeypatch, root_engine, mysql_admin_url
):
    name = f"{RUN_PREFIX}_dt{next_number()}"
    with root_engine.begin() as conn:
        conn.execute(text(f"CREATE DATABASE `{name}`"))
        conn.execute(
            text(
                f"CREATE TABLE `{name}`.t (id INT PRIMARY KEY, a DATETIME(6) NULL, "
                "b TIMESTAMP NULL, c DATETIME NULL)"
            )
        )
        conn.execute(
            text(f"INSERT INTO `{name}`.t VALUES (:id, :a, :b, :c)"),
            [
                {
                    "id": i,
                    "a": v,
                    "b": v.replace(year=2001 + i % 36, day=min(v.day, 28)) if i % 3 else None,
                    "c": v.replace(microsecond=0),
                }
                for i, v in enumerate(random_datetimes(2000))
            ],
        )
    url = make_url(mysql_admin_url).set(database=name)
    results = {}
    try:
        for state in ("on", "off"):
            switch(monkeypatch, () if state == "on" else ("datetime_parser",))
            engine = make_engine(url, poolclass=NullPool)
            with engine.connect() as conn:
                results[state] = conn.execute(text("SELECT * FROM t ORDER BY id")).all()
                # Zero dates go to PyMySQL's own parser, which returns them as text.
                results[state + " zero"] = conn.execute(
                    text("SELECT CAST('0000-00-00 00:00:00' AS DATETIME)")
                ).all()
            engine.dispose()
    finally:
        with root_engine.begin() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS `{name}`"))
    assert len(results["on"]) == 2000
    assert results["on"] == results["off"]
    assert results["on zero"] == results["off zero"]


def test_the_plain_path_passes_no_conversions():
    on = resolve({}, here=".", environ={})
    assert pymysql_datetime.conversions(on) == {"conv": pymysql_datetime.CONVERSIONS}
    assert pymysql_datetime.conversions({**on, "backoffice.speedups": "off"}) == {}


# -- shared_dialect --------------------------------------------------------------


@pytest.fixture(scope="module")
def two_stores(mysql_control):
    return [
        Provisioner(mysql_control, store_schema).create(
            StoreRequest(
                slug=unique_slug("spd"),
                name=f"Speed {i}",
                owner_email=f"owner{i}@example.com",
                owner_password="owner-pass-1",
            )
        )
        for i in range(2)
    ]


def test_store_engines_answer_the_same_with_and_without_a_shared_dialect(
    mysql_control, mysql_settings, two_stores
):
    directory = TenantDirectory(mysql_control, ttl=60)
    refs = [directory.by_slug(s.slug) for s in two_stores]
    answers, dialects = {}, {}
    for state in ("true", "false"):
        registry = EngineRegistry(
            mysql_control.keyring,
            {**mysql_settings, "backoffice.speedups.shared_dialect": state},
        )
        assert registry.share_dialects is (state == "true")
        try:
            for ref in refs:
                with registry.lease(ref) as engine, Session(engine) as session:
                    staff = session.execute(
                        select(StaffUser.email, StaffUser.role, StaffUser.created_at)
                    ).all()
                    database = session.execute(text("SELECT DATABASE(), @@sql_mode")).one()
                    answers[state, ref.slug] = (staff, tuple(database))
                    dialects.setdefault(state, []).append(engine.dialect)
        finally:
            registry.dispose()
    for ref in refs:
        assert answers["true", ref.slug] == answers["false", ref.slug]
    shared, own = dialects["true"], dialects["false"]
    assert shared[0] is shared[1]  # one dialect for the server's stores
    assert own[0] is not own[1]  # the plain path: create_engine's own


# -- upgrade_steps ---------------------------------------------------------------


SCRIPTS = {"tenant": store_schema.location, "control": migrate.CONTROL_SCRIPTS}


def upgrade_step_by_step(conn, kind: str) -> list[str | None]:
    """Upgrade from base one revision at a time; the revision reached at each step."""
    script = migrate.script_directory(SCRIPTS[kind])
    revisions = [r.revision for r in reversed(list(script.walk_revisions()))]
    return [migrate.upgrade(conn, SCRIPTS[kind], target) for target in revisions] + [
        migrate.current_revision(conn)
    ]


@pytest.mark.parametrize("kind", ["tenant", "control"])
def test_upgrades_reach_the_same_revisions_and_schema_either_way(monkeypatch, tmp_path, kind):
    reached, schemas = {}, {}
    for state in ("on", "off"):
        switch(monkeypatch, () if state == "on" else ("upgrade_steps",))
        engine = make_engine(f"sqlite:///{tmp_path}/{state}.sqlite")
        try:
            with engine.begin() as conn:
                reached[state] = upgrade_step_by_step(conn, kind)
            with engine.connect() as conn:
                schemas[state] = snapshot(conn)
        finally:
            engine.dispose()
    assert reached["on"] == reached["off"]
    assert reached["on"][-1] == migrate.head(SCRIPTS[kind])
    assert schemas["on"] == schemas["off"]


def test_a_mariadb_store_upgrades_the_same_either_way(monkeypatch, root_engine, mysql_admin_url):
    names = {state: f"{RUN_PREFIX}_up{next_number()}" for state in ("on", "off")}
    with root_engine.begin() as conn:
        for name in names.values():
            conn.execute(text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4"))
    reached, schemas = {}, {}
    try:
        for state, name in names.items():
            switch(monkeypatch, () if state == "on" else ("upgrade_steps",))
            url = make_url(mysql_admin_url).set(database=name)
            engine = make_engine(url, poolclass=NullPool)
            with engine.begin() as conn:
                reached[state] = store_schema.upgrade(conn, "head")
            with engine.connect() as conn:
                schemas[state] = snapshot(conn)
                reached[state] = (reached[state], migrate.current_revision(conn))
            engine.dispose()
    finally:
        with root_engine.begin() as conn:
            for name in names.values():
                conn.execute(text(f"DROP DATABASE IF EXISTS `{name}`"))
    assert reached["on"] == reached["off"] == (store_schema.head(),) * 2
    assert schemas["on"] == schemas["off"]
