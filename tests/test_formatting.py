"""invoice_rendering.formatting.money builds amounts from the locale's symbols instead of
calling babel for each one: it must give babel's text, to the character, for every currency of
the reference table, in every locale a document can be written in."""
from __future__ import annotations

import csv
import random
from decimal import Decimal
from pathlib import Path

import pytest
from babel.numbers import format_currency

from invoice_rendering.formatting import money

CURRENCIES = list(csv.DictReader(
    (Path(__file__).resolve().parents[1] / "dbt_models" / "seeds" / "currencies.csv").open()))
# English, the Latin-script languages Lago's invoices come in, and locales whose symbols differ
# (narrow no-break space, apostrophe and dot groups, a comma decimal, a suffix symbol's locale)
LOCALES = ["en", "fr", "de", "es", "it", "nl", "pt", "pt_BR", "sv", "nb", "fi", "pl", "de_CH",
           "fr_CH", "en_IN", "ja", "ar", "hi"]
# zero, signs, every grouping width, and amounts around a unit of each exponent
AMOUNTS = [0, 1, -1, 5, 9, 10, 99, 100, 101, 999, 1000, -1000, 12345, 123456, 1234567,
           -1234567, 999999999, 10 ** 12, -(10 ** 15) - 7]


def babel_money(cents: int, currency: str, subunit_to_unit: int, exponent: int,
                locale: str) -> str:
    amount = Decimal(cents) / Decimal(subunit_to_unit)
    pattern = "¤#,##0" + ("." + "0" * exponent if exponent > 0 else "")
    return format_currency(amount, currency, format=pattern, locale=locale,
                           currency_digits=False)


@pytest.mark.parametrize("locale", LOCALES)
def test_money_is_babels_text_for_every_currency(locale):
    rng = random.Random(locale)
    amounts = AMOUNTS + [rng.randint(-10 ** 11, 10 ** 11) for _ in range(40)]
    for row in CURRENCIES:
        args = (row["currency"], int(row["subunit_to_unit"]), int(row["exponent"]), locale)
        for cents in amounts:
            assert money(cents, *args) == babel_money(cents, *args), (cents, args)


def test_money_examples():
    assert money(123456, "EUR", 100, 2, "en") == "€1,234.56"
    assert money(-123456, "EUR", 100, 2, "en") == "-€1,234.56"
    assert money(1234, "JPY", 1, 0, "en") == "¥1,234"
    assert money(1234, "KWD", 1000, 3, "en") == "KWD1.234"
    assert money(1234, "EUR", 100, 2, "fr") == "€12,34"
