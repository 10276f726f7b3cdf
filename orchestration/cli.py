"""`billing`: close billing periods from the command line.

    billing run --as-of 2026-11-01T00:00:00Z [--catalog DIR] [--events DIR] [--warehouse FILE]
    billing run --day 2026-10-31          # close a billing day, as the daily schedule does
    billing backfill --from D1 --to D2    # close each day of a range in turn
    billing approve --period 2026-11-01   # finalize that day's drafts before their grace ends
    billing rerate --from D1 --to D2      # recompute closed periods: differences to review
    billing approve --rerate RR-001       # issue its credit notes and supplementary invoices
    billing demo          # generate a month of sample usage, close it, render the PDFs
    billing summary       # what the warehouse holds
    billing runs          # the recorded closes

`run` materializes the Dagster job `billing_close` in this process: the same assets the
schedules and backfills materialize. There is no second code path.
"""
from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import fcntl
import os
import shutil
import subprocess
import sys
from pathlib import Path

from orchestration.lib.settings import DATA_DIR, PROJECT_ROOT, BillingSettings, format_instant, \
    parse_instant

EXIT_FAILED = 1
EXIT_REFUSED = 2
DBT_INPUTS = ("dbt_models", "dbt_project.yml", "profiles.yml", "selectors.yml")


def _newest_mtime(paths) -> float:
    newest = 0.0
    for base in paths:
        path = PROJECT_ROOT / base
        if path.is_file():
            newest = max(newest, path.stat().st_mtime)
        for sub in path.rglob("*") if path.is_dir() else []:
            if sub.is_file():
                newest = max(newest, sub.stat().st_mtime)
    return newest


def prepare_dbt(verbose: bool = True) -> None:
    """Parse the dbt project when its manifest is missing, older than the models, or written
    by another parse than this one.

    Closes start from the parsed state under target/ (seed_partial_parse). dagster-dbt's own
    `dbt parse` there (`dg dev` reloading the code location) leaves a state in which the seed
    file's checksum is empty, and each warehouse's first close seeded from it re-parsed the
    seed and the nine models reading it (~1 s a close). target/.prepared records the manifest
    this function's full parse wrote; any other writer is parsed over once."""
    target = PROJECT_ROOT / "target"
    target.mkdir(exist_ok=True)
    manifest = target / "manifest.json"
    prepared = target / ".prepared"
    with open(target / ".prepare.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # parallel commands parse once
        if (manifest.exists() and manifest.stat().st_mtime >= _newest_mtime(DBT_INPUTS)
                and prepared.exists()
                and prepared.read_text() == str(manifest.stat().st_mtime_ns)):
            return
        if verbose:
            print("  … preparing the dbt project (dbt parse)", file=sys.stderr, flush=True)
        from orchestration.defs.resources import dbt_executable

        result = subprocess.run(
            # a full parse: dbt's partial parsing misses a changed selectors.yml, and this
            # parse is the state every warehouse's first close starts from
            [dbt_executable(), "parse", "--quiet", "--no-partial-parse", "--project-dir",
             str(PROJECT_ROOT), "--profiles-dir", str(PROJECT_ROOT)],
            cwd=PROJECT_ROOT, capture_output=True, text=True)
        if result.returncode != 0:
            sys.stderr.write(result.stdout + result.stderr)
            raise SystemExit("billing: the dbt project does not parse")
        prepared.write_text(str(manifest.stat().st_mtime_ns))


def _instance():
    import dagster as dg

    if os.environ.get("DAGSTER_HOME"):
        Path(os.environ["DAGSTER_HOME"]).mkdir(parents=True, exist_ok=True)
        return dg.DagsterInstance.get()
    return dg.DagsterInstance.ephemeral()


def close(settings: BillingSettings, quiet: bool = False, documents: bool = True) -> bool:
    """Run the `billing_close` job in-process. True when every step and blocking check passed.

    documents=False leaves out the documents group (the PDFs): the tables are the same, and
    the PDFs of the invoices it finalizes are rendered by the next close that includes it."""
    prepare_dbt(verbose=not quiet)
    from orchestration.definitions import defs
    from orchestration.lib.progress import current_handler

    definitions = defs()   # loading the defs folder takes a while: once per close
    job = definitions.resolve_job_def("billing_close")
    config = {k: v for k, v in settings.model_dump().items() if v is not None}
    run_config = {
        "resources": {"settings": {"config": config}},
        "loggers": {"progress": {"config": {"quiet": quiet}}},
    }
    # dagster-dbt echoes every dbt log line to stdout: keep them in a log file instead.
    log_path = PROJECT_ROOT / "logs" / "billing-close.log"
    log_path.parent.mkdir(exist_ok=True)
    with _instance() as instance, open(log_path, "a") as log, contextlib.redirect_stdout(log):
        graph = definitions.resolve_asset_graph()
        selection = None if documents else [
            key for key in graph.get_all_asset_keys() if graph.get(key).group_name != "documents"]
        result = job.execute_in_process(run_config=run_config, instance=instance,
                                        raise_on_error=False, asset_selection=selection,
                                        partition_key=partition_key(settings))
    handler = current_handler()
    if not result.success:
        print("", file=sys.stderr)
        for message in (handler.failures if handler else []) or ["the close failed"]:
            print(f"billing: {message}", file=sys.stderr)
        print(f"billing: the full log is in {log_path}", file=sys.stderr)
    return result.success


def partition_key(settings: BillingSettings) -> str:
    """The billing day a run is recorded under: its close day, or the day its instant ends."""
    from orchestration.lib.partitions import partition_for_instant

    return settings.close_day or partition_for_instant(settings.as_of_instant)


def _settings(args) -> BillingSettings:
    return BillingSettings(
        catalog_dir=str(Path(args.catalog).resolve()) if args.catalog else None,
        events_dir=str(Path(args.events).resolve()) if args.events else None,
        warehouse_path=str(Path(args.warehouse).resolve()) if args.warehouse else None,
        documents_dir=str(Path(args.documents).resolve()) if args.documents else None,
        as_of=format_instant(parse_instant(args.as_of)) if getattr(args, "as_of", None) else None,
        close_day=_day(args.day) if getattr(args, "day", None) else None,
        approve_period=getattr(args, "period", None),
        approve_customer=getattr(args, "customer", None),
        rerate_from=getattr(args, "rerate_from", None),
        rerate_to=getattr(args, "rerate_to", None),
        rerate_customer=getattr(args, "rerate_customer", None),
        approve_rerate=getattr(args, "rerate", None),
    )


def _day(text: str) -> str:
    try:
        return dt.date.fromisoformat(text).isoformat()
    except ValueError:
        raise SystemExit(f"billing: {text!r} is not a day (YYYY-MM-DD)") from None


def print_summary(settings: BillingSettings) -> None:
    from orchestration.lib.summary import summary_text
    from orchestration.lib.warehouse import connect

    with connect(settings.warehouse, read_only=True) as con:
        print(summary_text(con, format_instant(settings.as_of_instant), settings.documents))
    review = settings.warehouse.parent / "review" / f"{settings.warehouse.stem}-latest.html"
    if review.exists():
        print(f"  review report   {review}")


def cmd_run(args) -> int:
    if bool(args.as_of) == bool(args.day):
        raise SystemExit("billing run: give either --as-of INSTANT or --day YYYY-MM-DD")
    settings = _settings(args)
    if not args.quiet:
        what = (f"day {settings.close_day} (periods ending by its end in each customer's time "
                f"zone)" if settings.close_day else
                f"as of {format_instant(settings.as_of_instant)}")
        print(f"billing: closing {what} (warehouse {settings.warehouse})", file=sys.stderr,
              flush=True)
    if not close(settings, quiet=args.quiet, documents=not args.no_documents):
        return EXIT_FAILED
    if not args.quiet:
        print_summary(settings)
    return 0


DEMO_AS_OF = "2026-11-02T00:00:00Z"


def cmd_demo(args) -> int:
    import runpy

    catalog = Path(args.catalog) if args.catalog else DATA_DIR / "catalog"
    events = Path(args.events) if args.events else DATA_DIR / "landing" / "events"
    warehouse = Path(args.warehouse) if args.warehouse else DATA_DIR / "warehouse.duckdb"
    documents = Path(args.documents) if args.documents else DATA_DIR / "documents"
    if args.fresh:
        if not args.events:   # only the demo's own sample events; never a folder you named
            shutil.rmtree(events, ignore_errors=True)
        if not args.documents:
            shutil.rmtree(documents, ignore_errors=True)
        for path in (warehouse, Path(f"{warehouse}.wal")):
            path.unlink(missing_ok=True)
    generator = runpy.run_path(str(DATA_DIR / "generate_sample_events.py"))
    written = generator["generate"](catalog=catalog, events=events)
    print(f"billing demo: sample usage in {events} ({written})", file=sys.stderr, flush=True)
    args.as_of = DEMO_AS_OF
    args.day = None
    args.catalog = str(catalog)
    args.events = str(events)
    args.warehouse = str(warehouse)
    args.documents = str(documents)
    args.no_documents = False
    return cmd_run(args)


def cmd_approve(args) -> int:
    """Record an approval, then close: the drafts billed in a period are finalized (numbered,
    frozen, rendered) before their grace period ends, or a re-rating's credit notes and
    supplementary invoices are issued."""
    from orchestration.lib.approvals import ApprovalError, parse_period

    if bool(args.period) == bool(args.rerate):
        raise SystemExit("billing approve: give --period (drafts) or --rerate (a re-rating)")
    if args.period:
        try:
            parse_period(args.period, args.customer)
        except ApprovalError as exc:
            raise SystemExit(f"billing approve: {exc}") from None
    _default_now(args, "approve")
    code = cmd_run(args)
    if code == 0 and args.rerate and not args.quiet:
        print_rerate(_settings(args), args.rerate)
    return code


def _default_now(args, command: str) -> None:
    if args.as_of and args.day:
        raise SystemExit(f"billing {command}: give --as-of or --day, not both")
    if not args.as_of and not args.day:
        args.as_of = format_instant(dt.datetime.now(dt.timezone.utc))


def cmd_rerate(args) -> int:
    """Request a re-rating of the finalized periods ending in a range of days, then close: the
    close recomputes them and writes the differences to rerate_differences for review."""
    from orchestration.lib.rerates import RerateError, parse_range

    try:
        parse_range(args.rerate_from, args.rerate_to, args.rerate_customer)
    except RerateError as exc:
        raise SystemExit(f"billing rerate: {exc}") from None
    _default_now(args, "rerate")
    code = cmd_run(args)
    if code == 0 and not args.quiet:
        print_rerate(_settings(args))
    return code


def print_rerate(settings: BillingSettings, rerate_id: str | None = None) -> None:
    from orchestration.lib.rerates import differences_text
    from orchestration.lib.warehouse import connect

    with connect(settings.warehouse, read_only=True) as con:
        print(differences_text(con, rerate_id))


def cmd_backfill(args) -> int:
    """Close each day of a range in turn, as the daily schedule would have."""
    first, last = dt.date.fromisoformat(_day(args.start)), dt.date.fromisoformat(_day(args.end))
    if last < first:
        raise SystemExit("billing backfill: --to is before --from")
    day = first
    while day <= last:
        args.day, args.as_of = day.isoformat(), None
        settings = _settings(args)
        if not args.quiet:
            print(f"billing: closing day {settings.close_day}", file=sys.stderr, flush=True)
        if not close(settings, quiet=args.quiet, documents=not args.no_documents):
            return EXIT_FAILED
        day += dt.timedelta(days=1)
    if not args.quiet:
        print_summary(settings)
    return 0


def cmd_summary(args) -> int:
    settings = _settings(args)
    print_summary(settings)
    return 0


def cmd_runs(args) -> int:
    from orchestration.lib.run_records import runs_text
    from orchestration.lib.warehouse import connect

    settings = _settings(args)
    if not settings.warehouse.exists():
        print(f"billing: no warehouse at {settings.warehouse}", file=sys.stderr)
        return EXIT_FAILED
    with connect(settings.warehouse, read_only=True) as con:
        print(runs_text(con, args.last))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="billing", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)

    def paths(p):
        p.add_argument("--catalog", help="catalog folder (default: data/catalog)")
        p.add_argument("--events", help="events folder of Parquet files (default: data/landing/events)")
        p.add_argument("--warehouse", help="DuckDB file (default: data/warehouse.duckdb)")
        p.add_argument("--documents", help="folder for the PDFs (default: data/documents)")

    run = sub.add_parser("run", help="close every billing period due as of an instant (or by "
                                     "the end of a day in each customer's time zone)")
    run.add_argument("--as-of", help="ISO 8601 instant, e.g. 2026-11-01T00:00:00Z")
    run.add_argument("--day", help="a billing day, YYYY-MM-DD: what the daily schedule runs")
    paths(run)
    run.add_argument("--quiet", action="store_true", help="print nothing but errors")
    run.add_argument("--no-documents", action="store_true",
                     help="compute and check the tables only; the next close renders the PDFs")
    run.set_defaults(func=cmd_run)

    demo = sub.add_parser("demo", help="generate sample usage, close the month, render PDFs")
    demo.add_argument("--fresh", action="store_true",
                      help="start from an empty warehouse: delete the sample events, the "
                           "warehouse and the PDFs first")
    paths(demo)
    demo.add_argument("--quiet", action="store_true")
    demo.set_defaults(func=cmd_demo)

    approve = sub.add_parser("approve", help="finalize the drafts billed in a period before "
                                             "their grace period ends, then close")
    approve.add_argument("--period",
                         help="the billing days: YYYY-MM-DD, YYYY-MM or YYYY-MM-DD..YYYY-MM-DD "
                              "(local dates of the invoices' billing)")
    approve.add_argument("--rerate", metavar="RR-NNN",
                         help="or a re-rating (billing rerate): issue its credit notes and "
                              "supplementary invoices, once")
    approve.add_argument("--customer", help="only this customer's drafts (external_id)")
    approve.add_argument("--as-of", help="close as of this instant (default: now)")
    approve.add_argument("--day", help="or close this billing day")
    paths(approve)
    approve.add_argument("--quiet", action="store_true")
    approve.add_argument("--no-documents", action="store_true")
    approve.set_defaults(func=cmd_approve)

    rerate = sub.add_parser("rerate", help="recompute the finalized periods ending in a range of "
                                           "days against the current catalog and events; "
                                           "differences to review, issued on approval")
    rerate.add_argument("--from", dest="rerate_from", required=True,
                        help="first day, YYYY-MM-DD (local day a period part's service ends)")
    rerate.add_argument("--to", dest="rerate_to", required=True, help="last day, YYYY-MM-DD")
    rerate.add_argument("--customer", dest="rerate_customer",
                        help="only this customer's invoices (external_id)")
    rerate.add_argument("--as-of", help="close as of this instant (default: now)")
    rerate.add_argument("--day", help="or close this billing day")
    paths(rerate)
    rerate.add_argument("--quiet", action="store_true")
    rerate.add_argument("--no-documents", action="store_true")
    rerate.set_defaults(func=cmd_rerate)

    backfill = sub.add_parser("backfill", help="close each billing day of a range in turn, as "
                                               "the daily schedule does")
    backfill.add_argument("--from", dest="start", required=True, help="first day, YYYY-MM-DD")
    backfill.add_argument("--to", dest="end", required=True, help="last day, YYYY-MM-DD")
    paths(backfill)
    backfill.add_argument("--quiet", action="store_true")
    backfill.add_argument("--no-documents", action="store_true")
    backfill.set_defaults(func=cmd_backfill)

    summary = sub.add_parser("summary", help="print what the warehouse holds")
    paths(summary)
    summary.set_defaults(func=cmd_summary, as_of=None)

    runs = sub.add_parser("runs", help="list the recorded closes: catalog version, event "
                                       "files, event counts, what each finalized")
    paths(runs)
    runs.add_argument("--last", type=int, default=20, help="how many, newest last (default 20)")
    runs.set_defaults(func=cmd_runs, as_of=None)

    args = parser.parse_args(argv)
    return args.func(args)


def command() -> int:
    """The `billing` console script: main() in a process of its own, whose collector is set
    for one command (orchestration/lib/collector.py)."""
    from orchestration.lib.collector import tune_for_one_command

    tune_for_one_command()
    return main()


if __name__ == "__main__":
    sys.exit(command())
