"""Invoice and credit note documents: jinja2 templates rendered to PDF by WeasyPrint, from the
final tables."""
from .context import (Address, CouponLine, CreditNoteDocument, CreditNoteItem, FeeLine,
                      InvoiceDocument, Party, TaxLine)
from .render import render_html, render_invoice_pdf, render_pdf

__all__ = ["Address", "CouponLine", "CreditNoteDocument", "CreditNoteItem", "FeeLine", "InvoiceDocument",
           "Party", "TaxLine", "render_html", "render_invoice_pdf", "render_pdf"]
