"""The close's partitions: one per billing day.

Partition D is the close of day D: it closes, for every customer, the periods that end by the
end of D in the customer's own time zone (BILLING_CLOSE_DAY, see the close_instant() macro),
and produces the invoices due by then. Every asset of the close carries these partitions, so
the UI shows which days were closed, a backfill over days does what the schedule does, and
re-running a day changes nothing. `billing run --as-of` runs the same job for one instant.

The first day is BILLING_FIRST_CLOSE_DAY (default 2020-01-01). The last partition is
yesterday (UTC): a day is closed once it is over.
"""
from __future__ import annotations

import datetime as dt
import os

import dagster as dg

FIRST_CLOSE_DAY = os.environ.get("BILLING_FIRST_CLOSE_DAY", "2020-01-01")

CLOSE_DAYS = dg.DailyPartitionsDefinition(start_date=FIRST_CLOSE_DAY, timezone="UTC")

# A backfill over many days is one run closing as of its last day: one dbt build, one writer.
ONE_RUN = dg.BackfillPolicy.single_run()


def partition_for_instant(instant: dt.datetime) -> str:
    """The partition a `billing run --as-of` run is recorded under: the UTC day the instant
    ends (the day before a midnight), kept within the partitions that exist."""
    day = (instant.astimezone(dt.timezone.utc) - dt.timedelta(microseconds=1)).date()
    keys = CLOSE_DAYS.get_first_partition_key(), CLOSE_DAYS.get_last_partition_key()
    first = dt.date.fromisoformat(keys[0])
    last = dt.date.fromisoformat(keys[1]) if keys[1] else first
    return min(max(day, first), last).isoformat()
