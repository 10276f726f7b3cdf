"""One month closed end to end on a small catalog: exact amounts, where every event went,
idempotence, and the refusals of unreadable event files."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from conftest import PROJECT_ROOT, base_catalog, run_close, write_catalog, write_events

pytestmark = pytest.mark.xdist_group("close")

AS_OF = "2026-11-01T00:00:00Z"


def usage_events() -> list[dict]:
    events = [
        {"transaction_id": f"call-{i}", "external_subscription_id": "sub_a", "code": "api_calls",
         "timestamp": f"2026-10-{i + 1:02d}T12:00:00Z", "properties": {}}
        for i in range(10)
    ]
    events += [
        {"transaction_id": "gb-1", "external_subscription_id": "sub_a", "code": "storage_gb",
         "timestamp": "2026-10-03T00:00:00Z", "properties": {"gb": 5}},
        {"transaction_id": "gb-2", "external_subscription_id": "sub_a", "code": "storage_gb",
         "timestamp": "2026-10-04T00:00:00Z", "properties": {"gb": "7.5"}},
        {"transaction_id": "gb-3", "external_subscription_id": "sub_a", "code": "storage_gb",
         "timestamp": "2026-10-31T23:59:59Z", "properties": {"gb": 3}},
        # sub_b: 4 calls after it started on Oct 16
        *[{"transaction_id": f"b-{i}", "external_subscription_id": "sub_b", "code": "api_calls",
           "timestamp": f"2026-10-2{i}T08:00:00Z", "properties": {}} for i in range(4)],
        # problems, one of each kind
        {"transaction_id": "call-0", "external_subscription_id": "sub_a", "code": "api_calls",
         "timestamp": "2026-10-01T12:00:00Z", "properties": {}},           # identical copy
        {"transaction_id": "call-1", "external_subscription_id": "sub_a", "code": "api_calls",
         "timestamp": "2026-10-09T00:00:00Z", "properties": {}},           # same id, other payload
        {"transaction_id": "x-1", "external_subscription_id": "sub_zz", "code": "api_calls",
         "timestamp": "2026-10-05T00:00:00Z", "properties": {}},
        {"transaction_id": "x-2", "external_subscription_id": "sub_a", "code": "nope",
         "timestamp": "2026-10-05T00:00:00Z", "properties": {}},
        {"transaction_id": "x-3", "external_subscription_id": "sub_a", "code": "storage_gb",
         "timestamp": "2026-10-05T00:00:00Z", "properties": {"size": 3}},
        {"transaction_id": "x-4", "external_subscription_id": "sub_a", "code": "storage_gb",
         "timestamp": "2026-10-05T00:00:00Z", "properties": {"gb": "lots"}},
        {"transaction_id": "x-5", "external_subscription_id": "sub_b", "code": "api_calls",
         "timestamp": "2026-10-05T00:00:00Z", "properties": {}},           # before sub_b started
        # next period: read, billable, not billed yet
        {"transaction_id": "nov-1", "external_subscription_id": "sub_a", "code": "api_calls",
         "timestamp": "2026-11-01T00:00:00Z", "properties": {}},
    ]
    return events


TEXT_TIMESTAMPS = pa.schema([
    ("transaction_id", pa.string()), ("external_subscription_id", pa.string()),
    ("code", pa.string()), ("timestamp", pa.string()), ("properties", pa.string()),
])


@pytest.fixture(scope="module")
def closed(tmp_path_factory) -> "Close":  # noqa: F821
    root = tmp_path_factory.mktemp("close")
    write_catalog(root / "catalog", base_catalog())
    write_events(root / "events" / "day=2026-10-31" / "part-0.parquet", usage_events())
    write_events(root / "events" / "day=2026-11-01" / "part-0.parquet", [
        {"transaction_id": "t-1", "external_subscription_id": "sub_a", "code": "api_calls",
         "timestamp": "2026-10-07T10:00:00+00:00", "properties": "{}"},
        {"transaction_id": "t-2", "external_subscription_id": "sub_a", "code": "api_calls",
         "timestamp": "yesterday-ish", "properties": "{}"},
    ], schema=TEXT_TIMESTAMPS)
    result = run_close(root, AS_OF)
    assert result.success
    return result


def test_invoice_amounts_are_exact(closed):
    invoices = {r["external_customer_id"]: r for r in closed.rows(
        "select * from invoices order by external_customer_id")}
    assert set(invoices) == {"cus_a", "cus_b"}
    a, b = invoices["cus_a"], invoices["cus_b"]
    # cus_a: full month fee 10.00 + 11 calls × 0.05 + graduated storage on 15.5 GB:
    # 0–10 free, then 5.5 × 0.50 + 1.00 flat = 3.75
    assert a["fees_amount_cents"] == 1000 + 55 + 375
    # cus_b: subscribed on Oct 16: 16 of 31 days of the 10.00 fee, rounded once = 516,
    # plus 4 calls × 0.05
    assert b["fees_amount_cents"] == round(1000 * 16 / 31) + 20
    for invoice in invoices.values():
        assert invoice["currency"] == "EUR"
        assert invoice["taxes_amount_cents"] == 0
        assert invoice["total_amount_cents"] == invoice["fees_amount_cents"]
        assert invoice["status"] == "finalized"
        assert str(invoice["from_datetime"])[:10] in ("2026-10-01", "2026-10-16")
    assert a["number"] == "TST-001-001"


def test_fees_carry_units_and_unit_amounts(closed):
    fees = {(r["external_subscription_id"], r["fee_type"], r["billable_metric_code"]): r
            for r in closed.rows("select * from fees")}
    calls = fees[("sub_a", "charge", "api_calls")]
    assert (calls["units"], calls["events_count"], calls["amount_cents"]) == (11, 11, 55)
    assert calls["unit_amount_cents"] == 5
    storage = fees[("sub_a", "charge", "storage_gb")]
    assert (storage["units"], storage["events_count"], storage["amount_cents"]) == (15.5, 3, 375)
    assert fees[("sub_a", "subscription", None)]["amount_cents"] == 1000
    assert all(isinstance(r["amount_cents"], int) for r in fees.values())


def test_every_event_is_accounted_for(closed):
    outcomes = dict(closed.query(
        "select outcome, sum(events)::bigint from event_reconciliation group by outcome"))
    read = closed.scalar("select count(*) from landing.events")
    assert read == len(usage_events()) + 2
    assert outcomes["billed"] + outcomes.get("pending", 0) + outcomes["duplicate"] \
        + outcomes["quarantined"] == read
    assert outcomes["billed"] == 10 + 3 + 4 + 1      # t-1 is billed too
    assert outcomes["pending"] == 1                   # nov-1
    assert outcomes["duplicate"] == 1


def test_quarantine_reasons(closed):
    reasons = dict(closed.query(
        "select transaction_id, reason from quarantined_events where reason <> 'duplicate'"))
    assert reasons == {
        "call-1": "conflicting_duplicate",
        "x-1": "unknown_subscription",
        "x-2": "unknown_metric",
        "x-3": "missing_field",
        "x-4": "invalid_field_value",
        "x-5": "outside_subscription",
        "t-2": "unreadable_timestamp",
    }
    detail = closed.scalar(
        "select detail from quarantined_events where transaction_id = 'x-4'")
    assert "gb" in detail
    first = closed.query(
        "select landed_file, file_row_number from quarantined_events where transaction_id = 'x-1'")
    assert first == [("day=2026-10-31/part-0.parquet", 19)]


def test_quarantined_events_keep_the_text_that_landed(closed):
    """The raw timestamp and properties come from the landed row, for rejected events only."""
    rows = {r["transaction_id"]: r for r in closed.rows(
        "select transaction_id, detail, timestamp_raw, properties from quarantined_events "
        "where transaction_id in ('t-2', 'x-4')")}
    assert rows["t-2"]["timestamp_raw"] == "yesterday-ish"
    assert rows["t-2"]["detail"] == \
        "timestamp 'yesterday-ish' is not an instant (ISO 8601 or epoch seconds)"
    assert rows["t-2"]["properties"] == "{}"
    assert json.loads(rows["x-4"]["properties"]) == {"gb": "lots"}
    assert rows["x-4"]["detail"] == "property gb is 'lots', not a number"


def test_a_second_run_changes_nothing(closed):
    tables = ("invoices", "fees", "quarantined_events", "event_reconciliation")
    before = {t: closed.query(f"select * from {t} order by all") for t in tables}
    again = run_close(closed.root, AS_OF)
    assert again.success
    for table in tables:
        assert closed.query(f"select * from {table} order by all") == before[table], table


def test_the_same_inputs_give_the_same_tables_on_a_fresh_warehouse(closed, tmp_path):
    shutil.copytree(closed.root / "catalog", tmp_path / "catalog")
    shutil.copytree(closed.root / "events", tmp_path / "events")
    fresh = run_close(tmp_path, AS_OF)
    assert fresh.success
    for table in ("invoices", "fees"):
        query = f"select * exclude (finalized_at) from {table} order by all" \
            if table == "invoices" else f"select * from {table} order by all"
        assert fresh.query(query) == closed.query(query), table


def test_dbt_logs_each_line_once_in_the_run_log(closed):
    target = closed.root / ".warehouse.duckdb.dbt"
    assert (target / "run_results.json").exists()
    assert not (target / "dbt.log").exists()  # DBT_LOG_LEVEL_FILE=info writes it as well
    run_log = (PROJECT_ROOT / "logs" / "billing-close.log").read_text()
    assert "OK created sql incremental model intermediate.int_events_outcomes" in run_log


def test_a_corrupt_parquet_file_is_refused_by_name(tmp_path):
    write_catalog(tmp_path / "catalog", base_catalog())
    write_events(tmp_path / "events" / "good.parquet", usage_events()[:3])
    (tmp_path / "events" / "broken.parquet").write_bytes(b"PAR1 this is not parquet")
    result = run_close(tmp_path, AS_OF, cli=True)
    assert not result.success
    assert "broken.parquet: not a readable Parquet file" in result.output


def test_a_file_missing_a_column_is_refused_by_name(tmp_path):
    write_catalog(tmp_path / "catalog", base_catalog())
    table = pa.table({"transaction_id": ["a"], "code": ["api_calls"],
                      "timestamp": pa.array([1793000000], pa.int64())})
    (tmp_path / "events").mkdir()
    pq.write_table(table, tmp_path / "events" / "partial.parquet")
    result = run_close(tmp_path, AS_OF, cli=True)
    assert not result.success
    assert "partial.parquet: missing required column external_subscription_id" in result.output


def test_each_invoice_has_a_pdf_showing_customer_fees_and_total(closed):
    import pypdf

    for number, name, total in closed.query(
            "select i.number, c.name, i.total_amount_cents from invoices i "
            "join catalog.customers c using (external_customer_id)"):
        path = closed.documents / "invoices" / f"{number}.pdf"
        assert path.read_bytes().startswith(b"%PDF")
        text = pypdf.PdfReader(path).pages[0].extract_text()
        assert name in text                      # "Ada & Sons Ltd": escaped, not mangled
        assert f"Total due €{total // 100}.{total % 100:02d}" in text
        assert number in text
    text = pypdf.PdfReader(closed.documents / "invoices" / "TST-001-001.pdf").pages[0] \
        .extract_text()
    assert "API calls 11 €0.05 0 % €0.55" in text
    assert "October 1, 2026 – October 31, 2026" in text
