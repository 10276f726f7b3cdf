"""Jinja filters for money and dates (babel), at the currency's own precision."""
from __future__ import annotations

import datetime as dt
import functools
from decimal import Decimal

from babel.core import Locale
from babel.dates import format_date
from babel.numbers import (format_currency, format_decimal, get_currency_symbol,
                           get_decimal_symbol, get_group_symbol, parse_pattern)


def _money_pattern(exponent: int) -> str:
    return "¤#,##0" + ("." + "0" * exponent if exponent > 0 else "")


@functools.cache
def _money_parts(currency: str, exponent: int, locale: str) -> tuple[tuple[str, str],
                                                                     tuple[str, str], str, str]:
    """What babel puts around and inside an amount of `currency` in `locale`: the prefixes and
    suffixes (positive, negative) with the currency symbol in place, the group and decimal
    symbols."""
    loc = Locale.parse(locale)
    pattern = parse_pattern(_money_pattern(exponent))
    symbol = get_currency_symbol(currency, loc)
    return (tuple(p.replace("¤", symbol) for p in pattern.prefix),
            tuple(s.replace("¤", symbol) for s in pattern.suffix),
            get_group_symbol(loc), get_decimal_symbol(loc))


def money(cents: int, currency: str, subunit_to_unit: int, exponent: int, locale: str) -> str:
    """Minor units as money: 123456 EUR -> €1,234.56; 1234 JPY -> ¥1,234; 1234 KWD -> KWD1.234.

    The text babel's format_currency gives for the pattern ¤#,##0.<exponent zeros>, built from
    the locale's symbols once per currency and locale (a review of 10,000 customers formats
    ~30,000 amounts: babel alone took 2 s of it). tests/test_formatting.py holds the two equal."""
    if subunit_to_unit != 10 ** exponent:   # MRO: 5 khoums to the ouguiya; babel decides
        amount = Decimal(cents) / Decimal(subunit_to_unit)
        return format_currency(amount, currency, format=_money_pattern(exponent),
                               locale=locale, currency_digits=False)
    prefixes, suffixes, group, decimal = _money_parts(currency, exponent, locale)
    negative = cents < 0
    units, minor = divmod(abs(cents), subunit_to_unit)
    number = f"{units:,}".replace(",", group)
    if exponent > 0:
        number += decimal + str(minor).rjust(exponent, "0")
    return prefixes[negative] + number + suffixes[negative]


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
