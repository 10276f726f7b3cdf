"""Incremental metering (docs/billing-rules.md "Daily closes read the day's events"): a close
meters only the rows landed since the last one (int_events_outcomes, by landing_seq), checking
their copies against the first copies earlier closes kept. Fed the same files in the same
landing order, a warehouse closed day by day and one closed once give the same tables; a daily
close meters only that day's rows; a catalog change re-meters everything."""
from __future__ import annotations

import shutil

import pyarrow as pa
import pytest

from conftest import base_catalog, run_close, write_catalog, write_events

pytestmark = pytest.mark.xdist_group("incremental_metering")

TEXT_PROPERTIES = pa.schema([
    ("transaction_id", pa.string()), ("external_subscription_id", pa.string()),
    ("code", pa.string()), ("timestamp", pa.timestamp("us", tz="UTC")),
    ("properties", pa.string()),
])


def call(tx, at, sub="sub_a", **properties):
    return {"transaction_id": tx, "external_subscription_id": sub, "code": "api_calls",
            "timestamp": at, "properties": properties}


def storage(tx, at, gb=None, sub="sub_a"):
    return {"transaction_id": tx, "external_subscription_id": sub, "code": "storage_gb",
            "timestamp": at, "properties": {} if gb is None else {"gb": gb}}


# (landing day, events): copies of an event land on later days than its first copy
DAYS = [
    ("2026-10-02", [
        call("call-1", "2026-10-01T10:00:00Z"),
        call("call-2", "2026-10-01T11:00:00Z"),
        call("call-3", "2026-10-01T12:00:00Z"),
        storage("gb-1", "2026-10-01T13:00:00Z", 5),
        # properties not an object: quarantined; its readable copy on the last day is billed
        {**call("fix-1", "2026-10-01T14:00:00Z"), "properties": "[1, 2]"},
    ]),
    ("2026-10-03", [
        call("call-1", "2026-10-01T10:00:00Z"),          # identical copy: duplicate
        call("call-2", "2026-10-02T09:00:00Z"),          # other payload: conflicting
        call("call-4", "2026-10-02T10:00:00Z"),
        call("call-4", "2026-10-02T10:00:00Z"),          # copy within the same day
        call("x-1", "2026-10-02T10:00:00Z", sub="sub_zz"),
        storage("gb-2", "2026-10-02T13:00:00Z", "7.5"),
    ]),
    ("2026-10-04", [
        call("call-4", "2026-10-02T10:00:00Z"),          # third copy, first kept on day 2
        call("b-1", "2026-10-03T08:00:00Z", sub="sub_b"),  # before sub_b started
        storage("gb-3", "2026-10-03T13:00:00Z"),         # no gb: missing field
        call("call-5", "2026-10-03T14:00:00Z"),
    ]),
    ("2026-11-01", [
        call("b-2", "2026-10-20T08:00:00Z", sub="sub_b"),
        call("call-6", "2026-10-31T23:59:59Z"),
        call("call-3", "2026-10-01T12:00:00Z", extra="x"),  # conflicting, first from day 1
        call("fix-1", "2026-10-01T14:00:00Z"),
        storage("gb-4", "2026-10-20T00:00:00Z", 20),
        call("nov-1", "2026-11-01T00:00:00Z"),
    ]),
]
TABLES = {
    "invoices": "select * exclude (finalized_at) from invoices order by all",
    "fees": "select * from fees order by all",
    "quarantined_events": "select * from quarantined_events order by all",
    "event_reconciliation": "select * from event_reconciliation order by all",
}


def land(root, day, events):
    write_events(root / "events" / f"date={day}" / "usage.parquet", events,
                 schema=TEXT_PROPERTIES)


@pytest.fixture(scope="module")
def day_by_day(tmp_path_factory):
    """Each day's file lands, then that day closes (as of the next midnight)."""
    root = tmp_path_factory.mktemp("day_by_day")
    write_catalog(root / "catalog", base_catalog())
    batches = []
    for day, events in DAYS:
        land(root, day, events)
        close = run_close(root, f"{day}T00:00:00Z", documents=False)
        assert close.success
        batches.append(close.query("""
            select metered_after_seq, count(*), min(landing_seq), max(landing_seq)
            from intermediate.int_events_outcomes
            group by all order by all""")[-1])
    return root, close, batches


@pytest.fixture(scope="module")
def one_shot(tmp_path_factory):
    """The same files landed at once, closed once."""
    root = tmp_path_factory.mktemp("one_shot")
    write_catalog(root / "catalog", base_catalog())
    for day, events in DAYS:
        land(root, day, events)
    close = run_close(root, f"{DAYS[-1][0]}T00:00:00Z", documents=False)
    assert close.success
    return close


def test_day_by_day_and_one_shot_give_the_same_tables(day_by_day, one_shot):
    _, daily, _ = day_by_day
    for table, query in TABLES.items():
        assert daily.query(query) == one_shot.query(query), table
    outcomes = "select * exclude (metered_after_seq) from intermediate.int_events_outcomes " \
               "order by landing_seq"
    assert daily.query(outcomes) == one_shot.query(outcomes)


def test_the_rules_hold_across_closes(day_by_day):
    _, daily, _ = day_by_day
    rejected = {(r[0], r[1]): r[2] for r in daily.query("""
        select transaction_id, reason, count(*) from intermediate.int_events_rejected
        group by all""")}
    assert rejected == {
        ("fix-1", "invalid_properties"): 1,
        ("call-1", "duplicate"): 1,
        ("call-2", "conflicting_duplicate"): 1,
        ("call-4", "duplicate"): 2,
        ("x-1", "unknown_subscription"): 1,
        ("b-1", "outside_subscription"): 1,
        ("gb-3", "missing_field"): 1,
        ("call-3", "conflicting_duplicate"): 1,
    }
    # the first copy landed wins: call-2's first payload (October 1st) is the one billed
    assert daily.query("""select event_at = timestamptz '2026-10-01 11:00:00+00'
                          from intermediate.int_events_billable
                          where transaction_id = 'call-2'""") == [(True,)]
    # the readable copy of an unreadable event is billed
    assert daily.scalar("select count(*) from intermediate.int_events_billable "
                        "where transaction_id = 'fix-1'") == 1


def test_a_daily_close_meters_only_the_rows_landed_that_day(day_by_day):
    _, _, batches = day_by_day
    previous_max = -1   # the first close of a warehouse meters every landed row
    for (day, events), (after_seq, count, min_seq, max_seq) in zip(DAYS, batches):
        assert (after_seq, count) == (previous_max, len(events)), day
        assert min_seq > previous_max, day
        previous_max = max_seq


def test_a_second_run_meters_nothing_and_changes_nothing(day_by_day):
    root, daily, _ = day_by_day
    before = {t: daily.query(q) for t, q in TABLES.items()}
    rows = daily.scalar("select count(*) from intermediate.int_events_outcomes")
    again = run_close(root, daily.as_of, documents=False)
    assert again.success
    assert {t: again.query(q) for t, q in TABLES.items()} == before
    assert again.scalar("select count(*) from intermediate.int_events_outcomes") == rows


def test_a_catalog_change_re_meters_every_landed_row(day_by_day, tmp_path):
    root, daily, _ = day_by_day
    shutil.copytree(root, tmp_path / "w")
    catalog = base_catalog()
    catalog["subscriptions"].append(
        {"external_id": "sub_zz", "external_customer_id": "cus_b", "plan_code": "starter",
         "subscription_at": "2026-10-01T00:00:00Z", "billing_time": "calendar"})
    write_catalog(tmp_path / "w" / "catalog", catalog)
    changed = run_close(tmp_path / "w", daily.as_of, documents=False)
    assert changed.success
    # x-1 was quarantined for its unknown subscription; the catalog now has it
    assert changed.query("""select metered_after_seq, count(*)
                            from intermediate.int_events_outcomes group by all""") == [
        (-1, sum(len(events) for _, events in DAYS))]
    assert changed.scalar("select count(*) from intermediate.int_events_billable "
                          "where transaction_id = 'x-1'") == 1
