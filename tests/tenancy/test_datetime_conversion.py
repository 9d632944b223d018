"""PyMySQL's DATETIME/TIMESTAMP values through the faster parser: same results."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from pymysql.converters import convert_datetime
from sqlalchemy import text

from tenancy.db import make_engine
from tenancy.speedups.pymysql_datetime import fast_datetime as _fast_datetime
from tests.conftest import unique_slug


def test_the_same_values_as_pymysql_s_own_parser():
    rng = random.Random(7)
    start = datetime(1000, 1, 1)
    values = [
        "0000-00-00 00:00:00",
        "2007-02-31 23:06:20",
        "2026-12-01 00:00:00",
        "2026-12-01T10:00:00",
        "2026-12-01 16:06:39.5",
        "2026-12-01 16:06:39.123",
        "9999-12-31 23:59:59.999999",
        "2026-1-2 3:04:05",
    ]
    for _ in range(3000):
        moment = start + timedelta(
            seconds=rng.randrange(9000 * 365 * 86400),
            microseconds=rng.choice((0, rng.randrange(10**6))),
        )
        values.append(
            moment.isoformat(" ", rng.choice(("seconds", "milliseconds", "microseconds")))
        )
    assert [v for v in values if _fast_datetime(v) != convert_datetime(v)] == []


def test_values_from_mariadb(mysql_admin_url):
    name = unique_slug("dt").replace("-", "_")
    engine = make_engine(f"{mysql_admin_url.rstrip('/')}/")
    try:
        with engine.begin() as conn:
            conn.execute(text(f"CREATE DATABASE `{name}`"))
            conn.execute(
                text(
                    f"CREATE TABLE `{name}`.t (a DATETIME, b DATETIME(6), "
                    "c TIMESTAMP(3) NULL, d DATETIME NULL)"
                )
            )
            conn.execute(
                text(
                    f"INSERT INTO `{name}`.t VALUES ('2026-12-01 16:06:39', "
                    "'2026-12-01 16:06:39.000123', '2026-12-01 16:06:39.5', NULL)"
                )
            )
            row = conn.execute(text(f"SELECT a, b, c, d FROM `{name}`.t")).one()
        assert tuple(row) == (
            datetime(2026, 12, 1, 16, 6, 39),
            datetime(2026, 12, 1, 16, 6, 39, 123),
            datetime(2026, 12, 1, 16, 6, 39, 500000),
            None,
        )
    finally:
        with engine.begin() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS `{name}`"))
        engine.dispose()
