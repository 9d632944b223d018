from decimal import Decimal

import pytest

from payments.money import CurrencyMismatch, Money, exponent


def test_usd_round_trip():
    money = Money.from_decimal("500.00", "USD")
    assert money == Money(50000, "USD")
    assert money.to_decimal() == Decimal("500.00")
    assert money.format_plain() == "500.00"
    assert str(money) == "500.00 USD"


def test_jpy_has_no_minor_unit():
    assert exponent("JPY") == 0
    assert Money.from_decimal("500", "JPY") == Money(500, "JPY")
    assert Money(500, "JPY").format_plain() == "500"
    with pytest.raises(ValueError, match="refusing to round"):
        Money.from_decimal("500.5", "JPY")


def test_kwd_has_three_decimals():
    assert Money.from_decimal("1.234", "KWD") == Money(1234, "KWD")
    assert Money(1234, "KWD").format_plain() == "1.234"
    assert Money(5, "KWD").format_plain() == "0.005"
    with pytest.raises(ValueError):
        Money.from_decimal("1.2345", "KWD")


@pytest.mark.parametrize("value", ["0.001", "10.005", "1e-3"])
def test_refuses_rounding(value):
    with pytest.raises(ValueError):
        Money.from_decimal(value, "EUR")


def test_trailing_zeros_are_not_rounding():
    # Robokassa sends OutSum with six decimals.
    assert Money.from_decimal("500.000000", "RUB") == Money(50000, "RUB")
    assert Money.from_decimal("500.0", "JPY") == Money(500, "JPY")


def test_refuses_floats_and_bools():
    with pytest.raises(TypeError):
        Money.from_decimal(0.1, "USD")
    with pytest.raises(TypeError):
        Money.from_decimal(True, "USD")
    with pytest.raises(TypeError):
        Money(1.5, "USD")
    with pytest.raises(TypeError):
        Money(True, "USD")


@pytest.mark.parametrize("value", ["", "abc", "NaN", "Infinity", "1,00"])
def test_refuses_garbage(value):
    with pytest.raises(ValueError):
        Money.from_decimal(value, "USD")


@pytest.mark.parametrize("currency", ["usd", "US", "USDX", "", "12A"])
def test_currency_must_be_iso_upper_case(currency):
    with pytest.raises(ValueError):
        Money(1, currency)


def test_decimal_and_int_inputs():
    assert Money.from_decimal(Decimal("0.10"), "USD") == Money(10, "USD")
    assert Money.from_decimal(7, "USD") == Money(700, "USD")
    assert Money.from_decimal(" -1.50 ", "USD") == Money(-150, "USD")


def test_arithmetic_same_currency_only():
    a, b = Money(150, "USD"), Money(50, "USD")
    assert a + b == Money(200, "USD")
    assert a - b == Money(100, "USD")
    assert -b == Money(-50, "USD")
    assert abs(Money(-5, "USD")) == Money(5, "USD")
    with pytest.raises(CurrencyMismatch):
        a + Money(1, "EUR")
    with pytest.raises(CurrencyMismatch):
        a - Money(1, "EUR")
    with pytest.raises(TypeError):
        a + 1


def test_comparison():
    assert Money(1, "USD") < Money(2, "USD") <= Money(2, "USD")
    assert Money(3, "USD") > Money(2, "USD")
    assert Money(1, "USD") != Money(1, "EUR")
    with pytest.raises(CurrencyMismatch):
        Money(1, "USD") < Money(2, "EUR")  # noqa: B015
    assert sorted([Money(3, "JPY"), Money(1, "JPY")]) == [Money(1, "JPY"), Money(3, "JPY")]


def test_frozen_and_hashable():
    money = Money(1, "USD")
    with pytest.raises(AttributeError):
        money.amount = 2
    assert {money, Money(1, "USD")} == {money}
