"""Credit note PDFs: a pay-in-advance subscription terminated inside a paid period gets a credit
note for its unused days (credit_notes mart), and the close renders it into
documents/credit_notes/<number>.pdf through the same documents asset as the invoices, recorded
in documents.rendered and rendered once."""
from __future__ import annotations

import hashlib

import pytest

from conftest import base_catalog, run_close, write_catalog

pytestmark = pytest.mark.xdist_group("credit_note_pdf")

AS_OF = "2026-11-01T00:00:00Z"


def plan(code, amount, currency="EUR"):
    return {"code": code, "name": code, "interval": "monthly", "amount_cents": amount,
            "amount_currency": currency, "pay_in_advance": True, "charges": []}


PLANS = [plan("advance_eur", 3100), plan("advance_jpy", 31000, "JPY")]

CUSTOMERS = [
    # "&" and "<>" are data, never markup: the template autoescapes them
    {"external_id": "ada", "name": "Ada & Sons <Ltd>", "currency": "EUR",
     "tax_codes": ["vat20"]},
    {"external_id": "yen", "name": "Yen Trading", "currency": "JPY"},
    {"external_id": "kept", "name": "Kept Customer", "currency": "EUR"},
]

# as tests/test_calendar.py's "terminated" case, but paid in advance: Oct 1 billed in full,
# terminated on Oct 10 at 15:00 UTC, so Oct 11..31 (21 of 31 days) are credited
SUBSCRIPTIONS = [
    {"external_id": "sub_ada", "external_customer_id": "ada", "plan_code": "advance_eur",
     "subscription_at": "2026-10-01T00:00:00Z", "billing_time": "calendar",
     "terminated_at": "2026-10-10T15:00:00Z"},
    {"external_id": "sub_yen", "external_customer_id": "yen", "plan_code": "advance_jpy",
     "subscription_at": "2026-10-01T00:00:00Z", "billing_time": "calendar",
     "terminated_at": "2026-10-10T15:00:00Z"},
    {"external_id": "sub_kept", "external_customer_id": "kept", "plan_code": "advance_eur",
     "subscription_at": "2026-10-01T00:00:00Z", "billing_time": "calendar"},
]


@pytest.fixture(scope="module")
def closed(tmp_path_factory):
    root = tmp_path_factory.mktemp("credit_note_pdf")
    write_catalog(root / "catalog", base_catalog(
        billable_metrics=[], plans=PLANS, customers=CUSTOMERS, subscriptions=SUBSCRIPTIONS,
        taxes=[{"code": "vat20", "name": "VAT", "rate": 20}]))
    result = run_close(root, AS_OF)
    assert result.success
    return result


def credit_notes(closed) -> list[dict]:
    return closed.rows(
        "select cn.credit_note_id, cn.number, cn.invoice_number, cn.external_customer_id, "
        "cn.total_amount_cents, c.name as customer_name "
        "from credit_notes cn join catalog.customers c using (external_customer_id) "
        "order by cn.external_customer_id")


def pdf_text(path) -> str:
    import pypdf

    assert path.read_bytes().startswith(b"%PDF")
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(path).pages)


def test_a_terminated_in_advance_subscription_has_a_credit_note(closed):
    notes = credit_notes(closed)
    assert [(n["external_customer_id"], n["total_amount_cents"]) for n in notes] == [
        ("ada", 2520),      # 3100 x 21/31 = 2100, + 20 % VAT
        ("yen", 21000),     # 31000 x 21/31, no tax
    ]


def test_each_credit_note_has_a_pdf_with_customer_total_and_invoice(closed):
    expected_total = {"ada": "€25.20", "yen": "¥21,000"}   # the currency's own exponent
    for note in credit_notes(closed):
        path = closed.documents / "credit_notes" / f"{note['number']}.pdf"
        text = pdf_text(path)
        assert note["customer_name"] in text     # escaped in the HTML, plain in the PDF
        assert f"Total credited {expected_total[note['external_customer_id']]}" in text
        assert note["invoice_number"] in text    # the invoice it credits
        assert note["number"] in text
        assert "Order cancellation" in text


def test_the_credit_note_pdf_shows_the_credited_fee_and_taxes(closed):
    (note,) = [n for n in credit_notes(closed) if n["external_customer_id"] == "ada"]
    text = pdf_text(closed.documents / "credit_notes" / f"{note['number']}.pdf")
    assert "sub_ada · 2026-10-01 – 2026-10-31" in text   # the credited subscription fee
    assert "21 unused days" in text
    assert "20 % €21.00" in text                         # tax rate and credited amount
    assert "Sub total excluding taxes €21.00" in text
    assert "Taxes €4.20" in text
    assert "October 10, 2026" in text                    # issuing date


def test_credit_notes_are_recorded_like_invoices(closed):
    recorded = {row[0]: row[1:] for row in closed.query(
        "select document_id, number, path, sha256 from documents.rendered "
        "where document_type = 'credit_note'")}
    notes = credit_notes(closed)
    assert set(recorded) == {n["credit_note_id"] for n in notes}
    for note in notes:
        number, path, digest = recorded[note["credit_note_id"]]
        assert number == note["number"]
        assert path == str(closed.documents / "credit_notes" / f"{note['number']}.pdf")
        with open(path, "rb") as f:
            assert hashlib.sha256(f.read()).hexdigest() == digest
    # the invoices still get theirs, in their own folder
    invoices = closed.query("select invoice_id, number from invoices where status = 'finalized'")
    assert invoices
    assert {r[0] for r in closed.query(
        "select document_id from documents.rendered where document_type = 'invoice'")} == \
        {r[0] for r in invoices}
    for _, number in invoices:
        assert (closed.documents / "invoices" / f"{number}.pdf").exists()


def test_a_second_close_renders_nothing_again(closed):
    before = {p: p.stat().st_mtime_ns for p in closed.documents.rglob("*.pdf")}
    rows = closed.query("select * from documents.rendered order by all")
    again = run_close(closed.root, AS_OF)
    assert again.success
    assert {p: p.stat().st_mtime_ns for p in closed.documents.rglob("*.pdf")} == before
    assert closed.query("select * from documents.rendered order by all") == rows
