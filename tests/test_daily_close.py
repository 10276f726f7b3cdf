"""The daily close: a partition is a billing day, closing each customer's periods that end by
the end of that day in the customer's own time zone; a backfill over days does what the daily
schedule does; re-running a day changes nothing; the schedule and the sensor ask for the
right partitions."""
from __future__ import annotations

import datetime as dt
import subprocess

import dagster as dg
import pytest

from conftest import BILLING, ORGANIZATION, Close, base_catalog, ephemeral_instance, \
    write_catalog, write_events

pytestmark = pytest.mark.xdist_group("daily_close")

CUSTOMERS = [
    {"external_id": "cus_utc", "name": "Greenwich Co", "currency": "EUR", "timezone": "UTC"},
    {"external_id": "cus_tokyo", "name": "Shibuya KK", "currency": "EUR",
     "timezone": "Asia/Tokyo"},
    {"external_id": "cus_la", "name": "Venice Beach Inc", "currency": "EUR",
     "timezone": "America/Los_Angeles"},
]
# each starts at local midnight on October 1
SUBSCRIPTIONS = [
    {"external_id": "sub_utc", "external_customer_id": "cus_utc", "plan_code": "starter",
     "subscription_at": "2026-10-01T00:00:00Z", "billing_time": "calendar"},
    {"external_id": "sub_tokyo", "external_customer_id": "cus_tokyo", "plan_code": "starter",
     "subscription_at": "2026-09-30T15:00:00Z", "billing_time": "calendar"},
    {"external_id": "sub_la", "external_customer_id": "cus_la", "plan_code": "starter",
     "subscription_at": "2026-10-01T07:00:00Z", "billing_time": "calendar"},
]


def call(sub, at, n):
    return {"transaction_id": f"{sub}-{n}", "external_subscription_id": sub, "code": "api_calls",
            "timestamp": at, "properties": {}}


EVENTS = [
    call("sub_utc", "2026-10-10T10:00:00Z", 1),
    call("sub_tokyo", "2026-10-31T14:59:59Z", 1),   # Oct 31 23:59:59 in Tokyo: October
    call("sub_tokyo", "2026-10-31T15:00:00Z", 2),   # Nov 1 00:00 in Tokyo: November
    call("sub_la", "2026-11-01T05:00:00Z", 1),      # Oct 31 22:00 in Los Angeles: October
    call("sub_la", "2026-11-01T07:00:00Z", 2),      # Nov 1 00:00 in Los Angeles: November
]


def inputs(root):
    write_catalog(root / "catalog", base_catalog(
        organization=[ORGANIZATION], customers=CUSTOMERS, subscriptions=SUBSCRIPTIONS))
    write_events(root / "events" / "date=2026-11-01" / "usage.parquet", EVENTS)


def close_day(root, day: str) -> Close:
    from orchestration.cli import close
    from orchestration.lib.settings import BillingSettings

    settings = BillingSettings(catalog_dir=str(root / "catalog"), events_dir=str(root / "events"),
                               warehouse_path=str(root / "warehouse.duckdb"),
                               documents_dir=str(root / "documents"), close_day=day)
    with ephemeral_instance():
        return Close(root, day, close(settings, quiet=True, documents=False))


INVOICES = "select * exclude (invoice_id) from invoices order by all"
FEES = "select * exclude (fee_id, invoice_id) from fees order by all"


@pytest.fixture(scope="module")
def day_by_day(tmp_path_factory):
    root = tmp_path_factory.mktemp("day_by_day")
    inputs(root)
    before = close_day(root, "2026-10-30")
    assert before.success
    invoices_before = before.query(INVOICES)
    after = close_day(root, "2026-10-31")
    assert after.success
    return invoices_before, after


def test_each_customer_is_invoiced_on_the_day_its_period_ends_locally(day_by_day):
    invoices_before, after = day_by_day
    assert invoices_before == []
    rows = after.rows("""
        select invoices.external_customer_id, invoices.issuing_date, invoices.from_datetime,
            invoices.to_datetime, invoices.total_amount_cents,
            (select sum(units) from fees where fees.invoice_id = invoices.invoice_id
                and fee_type = 'charge') as calls
        from invoices order by external_customer_id""")
    # each: 10.00 plan fee + its October calls x 0.05, from its own local midnights
    assert [(r["external_customer_id"], r["issuing_date"].isoformat(), r["calls"],
             r["total_amount_cents"]) for r in rows] == [
        ("cus_la", "2026-11-01", 1, 1005),
        ("cus_tokyo", "2026-11-01", 1, 1005),
        ("cus_utc", "2026-11-01", 1, 1005)]
    bounds = {r["external_customer_id"]: (r["from_datetime"], r["to_datetime"]) for r in rows}
    utc = dt.timezone.utc
    assert bounds["cus_la"][0] == dt.datetime(2026, 10, 1, 7, tzinfo=utc)
    assert bounds["cus_tokyo"][1] == dt.datetime(2026, 10, 31, 14, 59, 59, 999999, tzinfo=utc)


def test_running_a_day_again_changes_nothing(day_by_day, tmp_path):
    _, after = day_by_day
    tables = {q: after.query(q) for q in (INVOICES, FEES)}
    again = close_day(after.root, "2026-10-31")
    assert again.success
    assert {q: again.query(q) for q in (INVOICES, FEES)} == tables


def test_a_backfill_over_the_days_equals_the_daily_runs(day_by_day, tmp_path):
    _, after = day_by_day
    inputs(tmp_path)
    done = subprocess.run(
        [str(BILLING), "backfill", "--from", "2026-10-30", "--to", "2026-10-31",
         "--catalog", str(tmp_path / "catalog"), "--events", str(tmp_path / "events"),
         "--warehouse", str(tmp_path / "warehouse.duckdb"), "--no-documents"],
        cwd=tmp_path, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr
    assert "closing day 2026-10-30" in done.stderr and "closing day 2026-10-31" in done.stderr
    backfilled = Close(tmp_path, "", True)
    for query in (INVOICES, FEES):
        assert backfilled.query(query) == after.query(query)
    assert backfilled.query("select count(*) from ledger.close_runs") == [(2,)]


def test_the_daily_schedule_closes_yesterday_once_it_is_over_everywhere():
    from orchestration.definitions import defs

    schedule = defs().resolve_schedule_def("daily_close")
    assert schedule.cron_schedule == "0 12 * * *"
    with dg.build_schedule_context(
            scheduled_execution_time=dt.datetime(2026, 11, 1, 12, tzinfo=dt.timezone.utc)
    ) as context:
        result = schedule.evaluate_tick(context)
    assert [r.partition_key for r in result.run_requests] == ["2026-10-31"]


def test_the_sensor_asks_for_a_close_when_new_event_files_land(tmp_path):
    from orchestration.definitions import defs
    from orchestration.lib.partitions import CLOSE_DAYS
    from orchestration.lib.settings import BillingSettings

    definitions = defs()
    sensor = definitions.resolve_sensor_def("new_event_files")
    events = tmp_path / "events"
    write_events(events / "date=2026-11-01" / "a.parquet", EVENTS[:1])
    settings = BillingSettings(events_dir=str(events))

    def tick(cursor):
        with dg.build_sensor_context(cursor=cursor, resources={"settings": settings},
                                     definitions=definitions) as ctx:
            result = sensor.evaluate_tick(ctx)
            return result, ctx.cursor

    first, cursor = tick(None)
    assert [r.partition_key for r in first.run_requests] == [CLOSE_DAYS.get_last_partition_key()]
    assert first.run_requests[0].tags["billing/first_new_file"] == "date=2026-11-01/a.parquet"
    quiet, cursor = tick(cursor)
    assert quiet.run_requests == [] and "no new event file" in quiet.skip_message
    write_events(events / "date=2026-11-02" / "b.parquet", EVENTS[1:2])
    second, _ = tick(cursor)
    assert [r.tags["billing/first_new_file"] for r in second.run_requests] == [
        "date=2026-11-02/b.parquet"]
    assert second.run_requests[0].run_key != first.run_requests[0].run_key
