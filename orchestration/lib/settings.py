"""Where the pipeline reads and writes, and the instant it closes as of.

One resource carries every path, so the `billing` command, the schedules and the UI point the
same assets at the same files. Each setting falls back to an environment variable, then to the
embedded demo under data/.
"""
from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import dagster as dg

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DATA_DIR = PROJECT_ROOT / "data"


def parse_instant(text: str) -> dt.datetime:
    """An ISO 8601 instant; a bare date means its midnight UTC; no offset means UTC."""
    value = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return value.astimezone(dt.timezone.utc)


def format_instant(value: dt.datetime) -> str:
    return value.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class BillingSettings(dg.ConfigurableResource):
    """Paths of the catalog, the landed events, the warehouse and the documents."""

    catalog_dir: str | None = None
    events_dir: str | None = None
    warehouse_path: str | None = None
    documents_dir: str | None = None
    as_of: str | None = None  # ISO 8601 UTC; default: now
    # A daily close (schedule, backfill, UI partition): the day D whose end, in each
    # customer's own time zone, the close reckons to. Set from the run's partition.
    close_day: str | None = None
    # `billing approve`: finalize the drafts billed in this period (YYYY-MM-DD, YYYY-MM or
    # D1..D2) before their grace period ends; of this customer only, when given
    approve_period: str | None = None
    approve_customer: str | None = None
    # `billing rerate`: recompute the finalized period parts ending from rerate_from to
    # rerate_to (YYYY-MM-DD, local days), of this customer only when given
    rerate_from: str | None = None
    rerate_to: str | None = None
    rerate_customer: str | None = None
    # `billing approve --rerate RR-001`: issue that re-rating's credit notes and invoices
    approve_rerate: str | None = None

    def _path(self, value: str | None, env: str, default: Path) -> Path:
        return Path(value or os.environ.get(env) or default).expanduser().resolve()

    @property
    def catalog(self) -> Path:
        return self._path(self.catalog_dir, "BILLING_CATALOG", DATA_DIR / "catalog")

    @property
    def events(self) -> Path:
        return self._path(self.events_dir, "BILLING_EVENTS", DATA_DIR / "landing" / "events")

    @property
    def warehouse(self) -> Path:
        return self._path(self.warehouse_path, "BILLING_WAREHOUSE", DATA_DIR / "warehouse.duckdb")

    @property
    def documents(self) -> Path:
        return self._path(self.documents_dir, "BILLING_DOCUMENTS", DATA_DIR / "documents")

    @property
    def as_of_instant(self) -> dt.datetime:
        """The instant the close runs as of. For a daily close, the end of its day in the last
        time zone to finish it (UTC-12): every customer's day is over by then."""
        text = self.as_of or os.environ.get("BILLING_AS_OF")
        if text:
            return parse_instant(text)
        if self.close_day:
            return end_of_close_day(self.close_day)
        return dt.datetime.now(dt.timezone.utc)

    def for_run(self, context) -> "BillingSettings":
        """These settings for one run: a partitioned run with no explicit as_of closes its
        partition's day (a backfill run over a range, its last day)."""
        if self.as_of or self.close_day or not context.has_partition_key:
            return self
        if context.has_partition_key_range:
            day = context.partition_key_range.end
        else:
            day = context.partition_key
        return BillingSettings(**{**self.model_dump(), "close_day": day})


def end_of_close_day(day: str) -> dt.datetime:
    """When day D is over everywhere: local midnight after D at UTC-12."""
    start = dt.datetime.fromisoformat(day).replace(tzinfo=dt.timezone.utc)
    return start + dt.timedelta(days=1, hours=12)
