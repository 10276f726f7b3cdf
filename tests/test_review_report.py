"""The finance review page of a close, opened in headless Chromium: the figures it shows are
the tables' (totals, movers against the previous invoice, customers without usage,
quarantine reasons, checks)."""
from __future__ import annotations

import html.parser
import re
import shutil
import subprocess

import pytest

from conftest import base_catalog, run_close, write_catalog, write_events

pytestmark = pytest.mark.xdist_group("review")

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


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


def calls(sub, day, n, prefix):
    return [{"transaction_id": f"{prefix}-{i}", "external_subscription_id": sub,
             "code": "api_calls", "timestamp": f"2026-{day}T12:00:00Z", "properties": {}}
            for i in range(n)]


def test_review_report_shows_the_tables_figures(tmp_path):
    write_catalog(tmp_path / "catalog", base_catalog())
    events = tmp_path / "events"
    write_events(events / "oct.parquet", calls("sub_a", "10-10", 10, "oct"))
    assert run_close(tmp_path, "2026-11-01T00:00:00Z", documents=False).success
    write_events(events / "nov.parquet", calls("sub_a", "11-10", 30, "nov")
                 + calls("sub_zz", "11-11", 1, "lost"))
    close = run_close(tmp_path, "2026-12-01T00:00:00Z", documents=False)
    assert close.success

    reports = sorted((tmp_path / "review").glob("warehouse-2026-12-01T000000Z-*.html"))
    assert len(reports) == 1
    assert (tmp_path / "review" / "warehouse-latest.html").read_text() == reports[0].read_text()
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
    assert "unknown_subscription 1 1 lost-0" in text
    assert re.search(r"All \d+ checks passed", text)
    assert "assert_invoice_totals_balance dbt test pass" in text
    assert "invoices pandera schema pandera pass" in text
