"""The back office's Jinja2 environment: its faster autoescape gives exactly what
MarkupSafe's does, and `_` is gettext itself."""

from __future__ import annotations

import random
from decimal import Decimal

import jinja2
import markupsafe
import pytest
from markupsafe import Markup
from pyramid_jinja2 import IJinja2Environment
from translationstring import TranslationString

from backoffice.config import make_app
from backoffice.speedups import escaping


class Html:
    def __html__(self):
        return "<b>trusted</b>"


class HtmlReturningMarkup:
    def __html__(self):
        return Markup("<i>x</i>")


class Text(str):
    pass


VALUES = [
    "",
    "plain",
    "<script>alert('x')</script>",
    'Tom & "Jerry"',
    "&amp;",
    "Коваленко <b>",
    "x" * 5000 + "<",
    0,
    -12,
    10**30,
    3.5,
    Decimal("1.10"),
    None,
    True,
    Markup("<b>safe</b>"),
    Markup("a &amp; b"),
    Html(),
    HtmlReturningMarkup(),
    Text("<sub>class</sub>"),
    TranslationString("<Orders> & more"),
]


def same(value) -> bool:
    ours, theirs = escaping.escape(value), markupsafe.escape(value)
    return type(ours) is type(theirs) is Markup and str(ours) == str(theirs)


@pytest.mark.parametrize("value", VALUES, ids=lambda v: type(v).__name__)
def test_escape_equals_markupsafe(value):
    assert same(value)


def test_escape_equals_markupsafe_on_random_text():
    rng = random.Random(4)
    alphabet = "ab <>&\"'\u00a0Ї€😀\x00\n"
    texts = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30))) for _ in range(5000)]
    assert [t for t in texts if not same(t)] == []


def test_the_fast_path_is_in_use():
    assert escaping.escape is not markupsafe.escape  # MarkupSafe's C core was found


def test_errors_are_markupsafe_s_too():
    class Broken:
        def __str__(self):
            raise ValueError("no text")

    with pytest.raises(ValueError, match="no text"):
        escaping.escape(Broken())


@pytest.mark.speedup("escaping")
def test_templates_escape_with_it(sqlite_control):
    app = make_app(sqlite_control.settings, control=sqlite_control)
    env = app.registry.getUtility(IJinja2Environment, name=".jinja2")
    assert env.template_class is escaping.Template
    template = env.from_string(
        "{% macro cell(v) %}<td>{{ v }}</td>{% endmacro %}{{ cell(x) }}{{ x }}{{ y }}"
    )
    assert template.root_render_func.__globals__["escape"] is escaping.escape
    html = template.render(x="<script>", y=Markup("<br>"))
    assert html == "<td>&lt;script&gt;</td>&lt;script&gt;<br>"


def test_a_plain_environment_is_left_alone():
    template = jinja2.Environment(autoescape=True).from_string("{{ x }}")
    assert template.root_render_func.__globals__["escape"] is markupsafe.escape


@pytest.mark.speedup("template_gettext")
def test_underscore_is_the_gettext_callable_itself(sqlite_control):
    """Not Jinja2's alias, which looks ``gettext`` up and calls it through the context."""
    app = make_app(sqlite_control.settings, control=sqlite_control)
    env = app.registry.getUtility(IJinja2Environment, name=".jinja2")
    assert env.globals["_"] is env.globals["gettext"]
    assert getattr(env.globals["_"], "__name__", "") != "_gettext_alias"
