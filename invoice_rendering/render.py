"""Render an invoice document to PDF bytes."""
from __future__ import annotations

import functools

import jinja2
from weasyprint import HTML

from . import formatting
from .context import InvoiceDocument
from .fetcher import ASSETS_DIR, LocalAssetsOnly

TEMPLATE = "invoice_v1.html.j2"


@functools.cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("invoice_rendering", "templates"),
        autoescape=True,  # every template is HTML; customer names are data, never markup
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(quantity=formatting.quantity, percent=formatting.percent,
                       long_date=formatting.long_date)
    return env


def render_invoice_html(document: InvoiceDocument) -> str:
    def money(cents: int) -> str:
        return formatting.money(cents, document.currency, document.subunit_to_unit,
                                document.exponent, document.locale)

    def unit_price(value) -> str:
        return formatting.unit_price(value, document.currency, document.exponent,
                                     document.locale)

    return environment().get_template(TEMPLATE).render(
        invoice=document, money=money, unit_price=unit_price, locale=document.locale)


def render_invoice_pdf(document: InvoiceDocument) -> bytes:
    html = render_invoice_html(document)
    return HTML(string=html, base_url=ASSETS_DIR.as_uri() + "/",
                url_fetcher=LocalAssetsOnly()).write_pdf()
