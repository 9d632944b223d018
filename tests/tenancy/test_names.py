"""Slug rules and generated database/user names."""

from __future__ import annotations

import re

import pytest

from tenancy.names import (
    RESERVED_SLUGS,
    InvalidName,
    generate_database_name,
    grant_pattern,
    validate_name,
    validate_prefix,
    validate_slug,
)

VALID = ["abc", "a1b", "shop-1", "my-tea-shop", "x-y-z", "a" * 30, "tea2go", "z9-9z"]

INVALID = [
    ("", "a store slug is required"),
    (None, "a store slug is required"),
    ("ab", "3-30 characters"),
    ("a" * 31, "3-30 characters"),
    ("Shop", "use lower-case letters"),
    ("SHOP", "use lower-case letters"),
    (" shop", "use lower-case letters"),
    ("shop ", "use lower-case letters"),
    ("shop\n", "use lower-case letters"),
    ("1shop", "starting with a letter"),
    ("-shop", "starting with a letter"),
    ("shop-", "not ending with a hyphen"),
    ("sh--op", "single hyphens"),
    ("sh_op", "3-30 characters"),
    ("shop.ua", "3-30 characters"),
    ("sh%p", "3-30 characters"),
    ("sh`op", "3-30 characters"),
    ("shop'; drop", "3-30 characters"),
    ("shöp", "3-30 characters"),
    ("ѕhop", "3-30 characters"),  # Cyrillic dze, looks like an "s"
]


@pytest.mark.parametrize("slug", VALID)
def test_valid_slugs(slug):
    assert validate_slug(slug) == slug


@pytest.mark.parametrize(("slug", "message"), INVALID)
def test_invalid_slugs_say_why(slug, message):
    with pytest.raises(InvalidName, match=re.escape(message)):
        validate_slug(slug)


@pytest.mark.parametrize("slug", sorted(RESERVED_SLUGS))
def test_reserved_slugs(slug):
    with pytest.raises(InvalidName, match=f"slug '{slug}' is reserved"):
        validate_slug(slug)


def test_reserved_words_cover_the_routes_the_app_answers():
    assert {"admin", "api", "static", "www", "healthz"} <= RESERVED_SLUGS


@pytest.mark.parametrize("slug", ["abc", "my-tea-shop", "a" * 30, "x-" * 14 + "yz"])
def test_generated_names_are_safe_and_short(slug):
    name = generate_database_name(slug, "bo_")
    assert re.fullmatch(r"bo_[a-z][a-z0-9_]*_[a-z0-9]{4}", name)
    assert len(name) <= 32  # MySQL's limit on user names
    assert "-" not in name


def test_generated_names_differ_each_time():
    assert len({generate_database_name("shop", "bo_") for _ in range(20)}) == 20


def test_generated_name_with_a_chosen_suffix():
    assert generate_database_name("my-shop", "t1_", suffix="ab12") == "t1_my_shop_ab12"


@pytest.mark.parametrize("prefix", ["", "1bo_", "Bo_", "toolong_", "b-o_", "b`_"])
def test_bad_prefixes(prefix):
    with pytest.raises(InvalidName, match="invalid database prefix"):
        validate_prefix(prefix)


@pytest.mark.parametrize("name", ["", "a" * 33, "A", "a-b", "a`b", "a'b", "a b", "a%b", "_a"])
def test_bad_names(name):
    with pytest.raises(InvalidName, match="invalid database or user name"):
        validate_name(name)


def test_grant_pattern_escapes_every_underscore():
    assert grant_pattern("bo_my_shop_ab12") == r"bo\_my\_shop\_ab12"
