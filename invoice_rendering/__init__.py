"""Invoice documents: jinja2 templates rendered to PDF by WeasyPrint, from the final tables."""
from .context import Address, FeeLine, InvoiceDocument, Party, TaxLine
from .render import render_invoice_pdf

__all__ = ["Address", "FeeLine", "InvoiceDocument", "Party", "TaxLine", "render_invoice_pdf"]
