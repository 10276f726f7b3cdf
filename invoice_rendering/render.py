"""Render an invoice or a credit note document to PDF bytes: one code path, one template per
kind of document, the same partials, styles and resource fetcher."""
from __future__ import annotations

import functools

import jinja2

from . import formatting
from .context import CreditNoteDocument, InvoiceDocument

TEMPLATE = "invoice_v1.html.j2"
CREDIT_NOTE_TEMPLATE = "credit_note_v1.html.j2"

Document = InvoiceDocument | CreditNoteDocument

# the template of each kind of document, and the name the template knows it by
_TEMPLATES: dict[type, tuple[str, str]] = {
    InvoiceDocument: (TEMPLATE, "invoice"),
    CreditNoteDocument: (CREDIT_NOTE_TEMPLATE, "credit_note"),
}


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


def render_html(document: Document) -> str:
    template, name = _TEMPLATES[type(document)]

    def money(cents: int) -> str:
        return formatting.money(cents, document.currency, document.subunit_to_unit,
                                document.exponent, document.locale)

    def unit_price(value) -> str:
        return formatting.unit_price(value, document.currency, document.exponent,
                                     document.locale)

    return environment().get_template(template).render(
        {name: document}, money=money, unit_price=unit_price, locale=document.locale)


def render_pdf(document: Document) -> bytes:
    # imported here: WeasyPrint takes seconds to import, and a close without documents
    # (billing run --no-documents) never renders one
    from weasyprint import HTML

    from .fetcher import ASSETS_DIR, LocalAssetsOnly

    html = render_html(document)
    return HTML(string=html, base_url=ASSETS_DIR.as_uri() + "/",
                url_fetcher=LocalAssetsOnly()).write_pdf()


# the names invoices were rendered by before credit notes had PDFs
render_invoice_html = render_html
render_invoice_pdf = render_pdf
