"""Jinja filters for money and dates (babel), at the currency's own precision."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from babel.dates import format_date
from babel.numbers import format_currency, format_decimal


def money(cents: int, currency: str, subunit_to_unit: int, exponent: int, locale: str) -> str:
    """Minor units as money: 123456 EUR -> €1,234.56; 1234 JPY -> ¥1,234; 1234 KWD -> KWD 1.234."""
    amount = Decimal(cents) / Decimal(subunit_to_unit)
    pattern = "¤#,##0" + ("." + "0" * exponent if exponent > 0 else "")
    return format_currency(amount, currency, format=pattern, locale=locale,
                           currency_digits=False)


def unit_price(value: Decimal | None, currency: str, exponent: int, locale: str) -> str:
    """A unit price: at least the currency's decimals, more when the price has them."""
    if value is None:
        return ""
    digits = max(exponent, min(-value.normalize().as_tuple().exponent, 6))
    quantized = value.quantize(Decimal(1).scaleb(-digits)) if digits > 0 else value.quantize(
        Decimal(1))
    pattern = "¤#,##0" + ("." + "0" * digits if digits > 0 else "")
    return format_currency(quantized, currency, format=pattern, locale=locale,
                           currency_digits=False)


def quantity(value: Decimal, locale: str) -> str:
    """Units without trailing zeros: 12.500000000000 -> 12.5."""
    normalized = value.normalize()
    if normalized == normalized.to_integral():
        normalized = normalized.quantize(Decimal(1))
    return format_decimal(normalized, format="#,##0.############", locale=locale)


def percent(rate: Decimal, locale: str) -> str:
    return format_decimal(rate.normalize(), format="#,##0.####", locale=locale) + " %"


def long_date(value: dt.date | None, locale: str) -> str:
    return format_date(value, format="long", locale=locale) if value else ""
