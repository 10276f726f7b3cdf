"""Invoice and credit note documents: jinja2 templates rendered to PDF by WeasyPrint, from the
final tables."""
from .context import (Address, CreditNoteDocument, CreditNoteItem, FeeLine, InvoiceDocument,
                      Party, TaxLine)
from .render import render_html, render_invoice_pdf, render_pdf

__all__ = ["Address", "CreditNoteDocument", "CreditNoteItem", "FeeLine", "InvoiceDocument",
           "Party", "TaxLine", "render_html", "render_invoice_pdf", "render_pdf"]
