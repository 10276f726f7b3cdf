"""Every close is recorded: the catalog it priced with (content hash and git commit), the event
files it landed and the latest arrival seen, where every event stood, and what it finalized."""
from __future__ import annotations

import os
import subprocess

import pytest

from conftest import base_catalog, run_close, write_catalog, write_events

pytestmark = pytest.mark.xdist_group("run_records")


def git(folder, *args):
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"}
    return subprocess.run(["git", "-C", str(folder), *args], check=True, capture_output=True,
                          text=True, env=env).stdout.strip()


def calls(prefix, sub, day, n):
    return [{"transaction_id": f"{prefix}-{i}", "external_subscription_id": sub,
             "code": "api_calls", "timestamp": f"2026-{day}T12:00:00Z", "properties": {}}
            for i in range(n)]


def test_each_close_records_what_it_read_and_finalized(tmp_path):
    catalog = write_catalog(tmp_path / "catalog", base_catalog())
    git(catalog, "init", "-q")
    git(catalog, "add", ".")
    git(catalog, "commit", "-q", "-m", "prices")
    commit = git(catalog, "rev-parse", "HEAD")
    events = tmp_path / "events"
    write_events(events / "date=2026-10-05" / "a.parquet",
                 calls("a", "sub_a", "10-05", 3) + calls("a", "sub_a", "10-05", 1)  # 1 duplicate
                 + calls("z", "sub_zz", "10-05", 2))                                   # quarantined
    first = run_close(tmp_path, "2026-11-01T00:00:00Z", documents=False)
    assert first.success

    # a late file lands, and the catalog changes without a commit
    write_events(events / "date=2026-11-03" / "b.parquet", calls("b", "sub_b", "11-03", 4))
    (catalog / "taxes.yaml").write_text("[]\n")
    second = run_close(tmp_path, "2026-12-01T00:00:00Z", documents=False)
    assert second.success

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

    # counts as the run saw them: the first run billed sub_a's 3 calls in October
    assert (one["events_read"], one["events_billed"], one["events_pending"],
            one["events_duplicate"], one["events_quarantined"]) == (6, 3, 0, 1, 2)
    assert (two["events_read"], two["events_billed"], two["events_pending"],
            two["events_duplicate"], two["events_quarantined"]) == (10, 7, 0, 1, 2)
    assert one["events_read"] == sum(one[f"events_{k}"] for k in (
        "billed", "pending", "duplicate", "quarantined"))

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
    import subprocess as sp
    from conftest import BILLING
    out = sp.run([str(BILLING), "runs", "--warehouse", str(second.warehouse)],
                 capture_output=True, text=True, check=True).stdout
    lines = out.splitlines()
    assert len(lines) == 3
    assert lines[1].startswith("2026-11-01T00:00:00Z") and commit[:10] in lines[1]
    assert "6 / 3 / 0 / 1 / 2" in lines[1] and "+dirty" in lines[2]
