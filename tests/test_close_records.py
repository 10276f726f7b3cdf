"""What a close leaves for people: its run record (the catalog it priced with, by content hash
and git commit; the event files it landed and the latest arrival seen; where every event went;
what it finalized), listed by `billing runs`, and the finance review page, opened in headless
Chromium, showing the tables' figures (totals, movers against the previous invoice, customers
without usage, quarantine reasons, checks)."""
from __future__ import annotations

import html.parser
import os
import re
import shutil
import subprocess

import pytest

from conftest import BILLING, base_catalog, run_close, write_catalog, write_events

pytestmark = pytest.mark.xdist_group("close_records")

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def git(folder, *args):
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"}
    return subprocess.run(["git", "-C", str(folder), *args], check=True, capture_output=True,
                          text=True, env=env).stdout.strip()


def calls(prefix, sub, day, n):
    return [{"transaction_id": f"{prefix}-{i}", "external_subscription_id": sub,
             "code": "api_calls", "timestamp": f"2026-{day}T12:00:00Z", "properties": {}}
            for i in range(n)]


class Closes:
    def __init__(self, root, commit, first, second):
        self.root, self.commit, self.first, self.second = root, commit, first, second


@pytest.fixture(scope="module")
def closes(tmp_path_factory):
    """October, then November after a late file landed and the catalog changed uncommitted."""
    root = tmp_path_factory.mktemp("records")
    catalog = write_catalog(root / "catalog", base_catalog())
    git(catalog, "init", "-q")
    git(catalog, "add", ".")
    git(catalog, "commit", "-q", "-m", "prices")
    commit = git(catalog, "rev-parse", "HEAD")
    events = root / "events"
    write_events(events / "date=2026-10-05" / "a.parquet",
                 calls("a", "sub_a", "10-05", 10) + calls("a", "sub_a", "10-05", 1)  # duplicate
                 + calls("z", "sub_zz", "10-05", 2))                                  # quarantined
    first = run_close(root, "2026-11-01T00:00:00Z", documents=False)
    assert first.success
    # November's usage, and one October call that lands after October was invoiced: late
    write_events(events / "date=2026-11-03" / "b.parquet", calls("b", "sub_a", "11-03", 30)
                 + calls("late", "sub_a", "10-30", 1))
    (catalog / "taxes.yaml").write_text("[]\n")
    second = run_close(root, "2026-12-01T00:00:00Z", documents=False)
    assert second.success
    return Closes(root, commit, first, second)


def test_each_close_records_what_it_read_and_finalized(closes):
    first, second, commit, events = closes.first, closes.second, closes.commit, \
        closes.root / "events"

    runs = second.rows("select * from ledger.close_runs order by as_of")
    assert [r["as_of"].isoformat() for r in runs] == [
        "2026-11-01T00:00:00+00:00", "2026-12-01T00:00:00+00:00"]
    one, two = runs
    assert one["catalog_version"] == first.scalar(
        "select catalog_version from invoices limit 1")
    assert one["catalog_version"] != two["catalog_version"]
    assert (one["catalog_git_commit"], one["catalog_git_dirty"]) == (commit, False)
    assert (two["catalog_git_commit"], two["catalog_git_dirty"]) == (commit, True)

    assert one["event_files_landed"] == ["date=2026-10-05/a.parquet"]
    assert two["event_files_landed"] == ["date=2026-11-03/b.parquet"]
    assert two["event_files_total"] == 2
    newest = max(p.stat().st_mtime_ns for p in events.rglob("*.parquet"))
    assert two["latest_arrival_at"].timestamp() == pytest.approx(newest / 1e9, abs=1e-5)

    # counts as each run saw them: October's 10 calls billed by the first, November's 30 by the second
    assert (one["events_read"], one["events_billed"], one["events_late"],
            one["events_pending"], one["events_duplicate"], one["events_quarantined"]
            ) == (13, 10, 0, 0, 1, 2)
    assert (two["events_read"], two["events_billed"], two["events_late"],
            two["events_pending"], two["events_duplicate"], two["events_quarantined"]
            ) == (44, 40, 1, 0, 1, 2)
    assert one["events_read"] == sum(one[f"events_{k}"] for k in (
        "billed", "late", "pending", "duplicate", "quarantined"))
    assert two["events_read"] == sum(two[f"events_{k}"] for k in (
        "billed", "late", "pending", "duplicate", "quarantined"))

    # each finalized invoice is named by exactly the run that finalized it
    october = sorted(r[0] for r in second.query(
        "select invoice_id from invoices where issuing_date = date '2026-11-01'"))
    november = sorted(r[0] for r in second.query(
        "select invoice_id from invoices where issuing_date = date '2026-12-01'"))
    assert len(october) == 2 and len(november) == 2
    assert sorted(one["invoices_finalized"]) == october
    assert sorted(two["invoices_finalized"]) == november
    assert len({r["run_id"] for r in runs}) == 2

    # `billing runs` lists them
    out = subprocess.run([str(BILLING), "runs", "--warehouse", str(second.warehouse)],
                         capture_output=True, text=True, check=True).stdout
    lines = out.splitlines()
    assert len(lines) == 3
    assert lines[1].startswith("2026-11-01T00:00:00Z") and commit[:10] in lines[1]
    assert "13 / 10 / 0 / 0 / 1 / 2" in lines[1] and "+dirty" in lines[2]
    assert "44 / 40 / 1 / 0 / 1 / 2" in lines[2]


def test_late_usage_never_changes_a_finalized_invoice(closes):
    """An October call landing after October was invoiced: October's invoice is unchanged,
    the call is counted late and listed with the invoice it belongs to."""
    first, second = closes.first, closes.second
    october = "select * from invoices where issuing_date = date '2026-11-01' order by all"
    assert second.query(october) == first.query(october)
    assert second.query("select sum(units) from fees inner join invoices using (invoice_id) "
                        "where issuing_date = date '2026-11-01' and invoices.external_customer_id = "
                        "'cus_a' and fee_type = 'charge' and billable_metric_code = "
                        "'api_calls'") == [(10,)]
    late = second.rows("select * from late_events")
    number = second.scalar("select number from invoices where issuing_date = date "
                           "'2026-11-01' and external_customer_id = 'cus_a'")
    assert [(r["transaction_id"], r["external_customer_id"], r["billable_metric_code"],
             r["invoice_number"], r["landed_file"]) for r in late] == [
        ("late-0", "cus_a", "api_calls", number, "date=2026-11-03/b.parquet")]
    assert ("late", None, 1) in second.query("select * from event_reconciliation")


class _Text(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.parts: list[str] = []

    def handle_data(self, data):
        self.parts.append(data)


def rendered_text(path, profile) -> str:
    """What Chromium renders of the page (its DOM after loading), as whitespace-folded text."""
    assert CHROMIUM, "chromium is not installed: scripts/bootstrap.sh installs it (apt-get)"
    dom = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
         "--no-first-run", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", f"--user-data-dir={profile}", "--dump-dom", path.as_uri()],
        capture_output=True, text=True, timeout=120, check=True).stdout
    parser = _Text()
    parser.feed(dom)
    return re.sub(r"\s+", " ", " ".join(parser.parts))


def test_review_report_shows_the_tables_figures(closes, tmp_path):
    close = closes.second
    review = closes.root / "review"

    reports = sorted(review.glob("warehouse-2026-12-01T000000Z-*.html"))
    assert len(reports) == 1
    assert (review / "warehouse-latest.html").read_text() == reports[0].read_text()
    text = rendered_text(reports[0], tmp_path / "chromium")

    # November, by hand: cus_a 10.00 plan + 30 calls x 0.05 = 11.50; cus_b 10.00 and no usage.
    # October: cus_a 10.00 + 10 x 0.05 = 10.50; cus_b from Oct 16: 10.00 x 16/31 = 5.16.
    assert close.scalar("select sum(total_amount_cents) from invoices "
                        "where issuing_date = date '2026-12-01'") == 2150
    assert "Close as of 2026-12-01 00:00:00 UTC" in text
    assert "EUR 2 €21.50 €0.00 €0.00 €0.00 €0.00 €21.50" in text          # totals per currency
    assert "starter EUR 2 €20.00 €1.50 €21.50" in text                     # revenue by plan
    movers = text.split("Largest movers")[1].split("Customers")[0]
    assert movers.index("Brook Analytics") < movers.index("Ada & Sons Ltd")
    assert "Brook Analytics cus_b €5.16 €10.00 +€4.84" in movers
    assert "Ada & Sons Ltd cus_a €10.50 €11.50 +€1.00" in movers
    zero = text.split("Customers with zero usage")[1].split("Events per metric")[0]
    assert "Brook Analytics" in zero and "Ada & Sons" not in zero
    assert "unknown_subscription 2 1 z-0" in text
    late = text.split("Late usage")[1].split("Quarantined events")[0]
    number = close.scalar("select number from invoices where issuing_date = date "
                          "'2026-11-01' and external_customer_id = 'cus_a'")
    assert f"Ada & Sons Ltd cus_a api_calls {number} 1 2026-10-30 12:00 2026-10-30 12:00 " \
           f"date=2026-11-03/b.parquet" in late
    assert re.search(r"All \d+ checks passed", text)
    assert "assert_invoice_totals_balance dbt test pass" in text
    assert "invoices pandera schema pandera pass" in text


def test_review_chart_counts_the_events_of_each_utc_day(closes, monkeypatch):
    import datetime as dt

    from orchestration.lib import review
    from orchestration.lib.warehouse import connect

    drawn = {}
    monkeypatch.setattr(review, "usage_chart", lambda usage: drawn.setdefault("usage", usage))
    with connect(closes.second.warehouse, read_only=True) as con:
        review.collect(con, run_id="test", checks=[],
                       as_of=dt.datetime(2026, 12, 1, tzinfo=dt.timezone.utc))
        expected = con.execute("""
            with window_ as (
                select min(from_datetime) as from_at, max(to_datetime) as to_at
                from intermediate.int_invoices_credited)
            select billable_metric_code, cast(event_at as date), count(*)
            from intermediate.int_events_billable, window_
            where event_at between from_at and to_at
            group by all order by 1, 2""").fetchall()
    assert expected
    assert [(r["metric"], r["day"], r["events"]) for r in drawn["usage"]] == expected
