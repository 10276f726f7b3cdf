"""Time the close on generated usage against a hand-written DuckDB "floor".

    python benchmarks/bench_close.py                      # 10,000,000 events, 10,000 subscriptions
    python benchmarks/bench_close.py --events 1000000 --repeat 1 --keep

1. Input (cached under data/benchmark/<events>-<subscriptions>/, reused when present): a
   catalog (4 billable metrics: count_agg, sum_agg, max_agg, unique_count_agg; 3 monthly plans
   pricing them with standard, graduated and package charges; M customers and subscriptions,
   calendar billing from 2026-10-01, UTC) and N usage events for October 2026 as Parquet in a
   landing folder (one hive partition per landing day, CONTRACT.md §1), 0.5% of them identical
   later copies of an earlier event (same transaction_id) that the close must drop.
2. The close: the real command, `.venv/bin/billing run --as-of 2026-11-01T00:00:00Z --catalog
   ... --events ... --warehouse <fresh file> --no-documents` as a subprocess, timed wall clock
   from start to exit (Python, Dagster, catalog, landing, dbt build with its tests). The PDFs
   are left out by default (one per invoice, thousands of them; `--documents` adds them).
   The dbt project is parsed before (`billing` parses it when the models changed since the
   last parse: a step of installing a change, not of a close).
3. The floor: one hand-written DuckDB query, in a fresh process and connection with the
   close's DuckDB settings (default threads, the profile's memory_limit), that reads the same
   Parquet, keeps the first copy of each (external_subscription_id, transaction_id) and
   aggregates each subscription's October usage per metric into a table of a fresh DuckDB file.
4. Peak memory of each: the highest sum of the resident memory of the process and all its
   descendants (polling /proc every 50 ms), and the kernel's max RSS of the largest single
   process of the tree (wait4's ru_maxrss); and the CPU time of each (wait4's user + system
   time, the dbt subprocess included), which other sessions on the machine barely move.
5. A check that the close billed what the floor computed: per subscription and metric, the
   fee's units and events_count against the floor's (every pair compared).

Each is run three times by default (--repeat), the close and the floor in turn, and the best
time of each counts: on a shared 2-core machine the same close moves by 10-15% from run to
run. The last line printed is `close/floor ratio: R` (best close time / best floor time).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
VENV_PYTHON = PROJECT_ROOT / ".venv" / "bin" / "python"
BILLING = PROJECT_ROOT / ".venv" / "bin" / "billing"

# Run with the project's interpreter (numpy, pyarrow and duckdb live there).
if VENV_PYTHON.exists() and Path(sys.prefix).resolve() != (PROJECT_ROOT / ".venv").resolve():
    os.execv(str(VENV_PYTHON), [str(VENV_PYTHON), *sys.argv])

import duckdb  # noqa: E402
import numpy as np  # noqa: E402
import pyarrow as pa  # noqa: E402

SEED = 20261101
GENERATOR_VERSION = 1          # bump when the generated data changes: the cache is re-made
PERIOD_START = "2026-10-01T00:00:00Z"
PERIOD_END = "2026-11-01T00:00:00Z"
AS_OF = "2026-11-01T00:00:00Z"
PERIOD_DAYS = 31
DUPLICATE_SHARE = 0.005
MEMORY_LIMIT = os.environ.get("BILLING_DUCKDB_MEMORY_LIMIT", "4GB")  # as profiles.yml

# code, aggregation_type, field_name, share of the events
METRICS = [
    ("api_calls", "count_agg", None, 0.40),
    ("storage_gb", "sum_agg", "gb", 0.25),
    ("peak_seats", "max_agg", "seats", 0.15),
    ("active_users", "unique_count_agg", "user_id", 0.20),
]
PLAN_SHARES = [("starter", 0.6), ("growth", 0.3), ("scale", 0.1)]

CATALOG = {
    "organization": [{
        "name": "Benchmark Org", "timezone": "UTC", "default_currency": "EUR",
        "invoice_grace_period": 0, "document_numbering": "per_organization",
        "document_number_prefix": "BEN", "net_payment_term": 30, "tax_codes": ["vat20"]}],
    "taxes": [{"code": "vat20", "name": "VAT 20%", "rate": 20.0}],
    "billable_metrics": [
        {"code": code, "name": code.replace("_", " "), "aggregation_type": agg,
         **({"field_name": field} if field else {})}
        for code, agg, field, _ in METRICS],
    "plans": [
        {"code": "starter", "name": "Starter", "interval": "monthly", "amount_cents": 1900,
         "amount_currency": "EUR", "pay_in_advance": False, "charges": [
             {"billable_metric_code": "api_calls", "charge_model": "standard",
              "properties": {"amount": "0.001"}},
             {"billable_metric_code": "storage_gb", "charge_model": "standard",
              "properties": {"amount": "0.10"}},
             {"billable_metric_code": "peak_seats", "charge_model": "standard",
              "properties": {"amount": "5"}},
             {"billable_metric_code": "active_users", "charge_model": "standard",
              "properties": {"amount": "1"}}]},
        {"code": "growth", "name": "Growth", "interval": "monthly", "amount_cents": 9900,
         "amount_currency": "EUR", "pay_in_advance": False, "charges": [
             {"billable_metric_code": "api_calls", "charge_model": "graduated",
              "properties": {"graduated_ranges": [
                  {"from_value": 0, "to_value": 1000, "per_unit_amount": "0.002",
                   "flat_amount": "0"},
                  {"from_value": 1001, "to_value": 10000, "per_unit_amount": "0.001",
                   "flat_amount": "1"},
                  {"from_value": 10001, "to_value": None, "per_unit_amount": "0.0005",
                   "flat_amount": "0"}]}},
             {"billable_metric_code": "storage_gb", "charge_model": "package",
              "properties": {"amount": "5", "package_size": 100, "free_units": 50}},
             {"billable_metric_code": "peak_seats", "charge_model": "graduated",
              "properties": {"graduated_ranges": [
                  {"from_value": 0, "to_value": 10, "per_unit_amount": "6",
                   "flat_amount": "0"},
                  {"from_value": 11, "to_value": None, "per_unit_amount": "4",
                   "flat_amount": "10"}]}},
             {"billable_metric_code": "active_users", "charge_model": "standard",
              "properties": {"amount": "0.8"}}]},
        {"code": "scale", "name": "Scale", "interval": "monthly", "amount_cents": 49900,
         "amount_currency": "EUR", "pay_in_advance": False, "charges": [
             {"billable_metric_code": "api_calls", "charge_model": "package",
              "properties": {"amount": "0.5", "package_size": 1000, "free_units": 1000}},
             {"billable_metric_code": "storage_gb", "charge_model": "graduated",
              "properties": {"graduated_ranges": [
                  {"from_value": 0, "to_value": 500, "per_unit_amount": "0.08",
                   "flat_amount": "0"},
                  {"from_value": 501, "to_value": None, "per_unit_amount": "0.05",
                   "flat_amount": "0"}]}},
             {"billable_metric_code": "peak_seats", "charge_model": "standard",
              "properties": {"amount": "3"}},
             {"billable_metric_code": "active_users", "charge_model": "package",
              "properties": {"amount": "20", "package_size": 50, "free_units": 0}}]},
    ],
}


# --- input ------------------------------------------------------------------------------------


def _write_catalog(folder: Path, subscriptions: int) -> None:
    import yaml

    folder.mkdir(parents=True, exist_ok=True)
    for name, items in CATALOG.items():
        with open(folder / f"{name}.yaml", "w") as f:
            yaml.safe_dump(items, f, sort_keys=False)
    rng = np.random.default_rng(SEED + 1)
    ids = [f"sub_{i:07d}" for i in range(subscriptions)]
    customers = [f"cus_{i:07d}" for i in range(subscriptions)]
    plans = rng.choice([p for p, _ in PLAN_SHARES], size=subscriptions,
                       p=[s for _, s in PLAN_SHARES])
    # customers and subscriptions as tables (CONTRACT.md §2: for large customer bases)
    con = duckdb.connect()
    con.register("customers", pa.table({
        "external_id": customers, "name": [f"Customer {i}" for i in range(subscriptions)],
        "email": [f"billing+{i}@example.com" for i in range(subscriptions)],
        "currency": ["EUR"] * subscriptions, "country": ["FR"] * subscriptions}))
    con.register("subscriptions", pa.table({
        "external_id": ids, "external_customer_id": customers, "plan_code": plans.tolist(),
        "billing_time": ["calendar"] * subscriptions,
        "subscription_at": [PERIOD_START] * subscriptions,
        "started_at": [PERIOD_START] * subscriptions}))
    for table in ("customers", "subscriptions"):
        con.execute(f"copy {table} to '{folder / (table + '.parquet')}' (format parquet)")
    con.close()


def _write_events(folder: Path, events: int, subscriptions: int) -> dict:
    """N event rows, of which a share are identical later copies of an earlier row.

    Randomness comes from numpy with a fixed seed; DuckDB formats the rows and writes one
    Parquet file per landing day, in a fixed order (deterministic output)."""
    rng = np.random.default_rng(SEED)
    duplicates = int(round(events * DUPLICATE_SHARE))
    originals = events - duplicates
    # usage is skewed: a few subscriptions send most events
    sub = np.minimum((subscriptions * rng.random(originals) ** 2).astype(np.int32),
                     subscriptions - 1)
    metric = rng.choice(len(METRICS), size=originals, p=[m[3] for m in METRICS]).astype(np.int8)
    # event instants spread over the month, in microseconds since the period start
    offset_us = np.sort(rng.integers(0, PERIOD_DAYS * 86_400_000_000, size=originals))
    gb = rng.integers(0, 10_000, size=originals).astype(np.int32)       # gb = this / 100
    seats = rng.integers(1, 200, size=originals).astype(np.int16)
    user = rng.integers(0, 500, size=originals).astype(np.int16)
    seq = np.arange(originals, dtype=np.int64)
    # the copies: a retry of an earlier event, landed a little later (up to a day later)
    dup_of = np.sort(rng.choice(originals, size=duplicates, replace=False))
    retry_delay_us = rng.integers(1_000_000, 86_400_000_000, size=duplicates)

    def frame(rows, delay):
        return pa.table({
            "seq": seq[rows], "sub": sub[rows], "metric": metric[rows],
            "offset_us": offset_us[rows], "landed_us": np.minimum(
                offset_us[rows] + delay, PERIOD_DAYS * 86_400_000_000 - 1),
            "gb": gb[rows], "seats": seats[rows], "user": user[rows]})

    raw = pa.concat_tables([
        frame(np.arange(originals), np.zeros(originals, dtype=np.int64)),
        frame(dup_of, retry_delay_us)])
    con = duckdb.connect()
    con.execute("set preserve_insertion_order = true")
    con.execute("set TimeZone = 'UTC'")
    con.register("raw", raw)
    codes = ", ".join(f"'{m[0]}'" for m in METRICS)
    con.execute(f"""
        create table events as
        select
            cast(landed_us // 86400000000 as integer) as landing_day,
            'tx_' || lpad(cast(seq as varchar), 10, '0') as transaction_id,
            'sub_' || lpad(cast(sub as varchar), 7, '0') as external_subscription_id,
            [{codes}][metric + 1] as code,
            timestamptz '2026-10-01 00:00:00+00' + to_microseconds(offset_us) as timestamp,
            case metric
                when 0 then '{{"endpoint":"/v1/items","region":"eu"}}'
                when 1 then '{{"gb":' || cast(gb // 100 as varchar) || '.'
                             || lpad(cast(gb % 100 as varchar), 2, '0') || '}}'
                when 2 then '{{"seats":' || cast(seats as varchar) || '}}'
                else '{{"user_id":"u_' || cast(user as varchar) || '"}}'
            end as properties
        from raw
        order by landed_us, seq
    """)
    folder.mkdir(parents=True, exist_ok=True)
    for day in range(PERIOD_DAYS):
        part = folder / f"date=2026-10-{day + 1:02d}"
        part.mkdir(exist_ok=True)
        con.execute(f"""
            copy (select transaction_id, external_subscription_id, code, timestamp, properties
                  from events where landing_day = {day})
            to '{part / 'events-0.parquet'}' (format parquet, row_group_size 122880)""")
    con.close()
    return {"events": events, "duplicates": duplicates, "originals": originals}


def ensure_input(events: int, subscriptions: int) -> Path:
    base = PROJECT_ROOT / "data" / "benchmark" / f"{events}-{subscriptions}"
    marker = base / "input.json"
    wanted = {"version": GENERATOR_VERSION, "seed": SEED, "events": events,
              "subscriptions": subscriptions}
    if marker.exists() and {k: v for k, v in json.loads(marker.read_text()).items()
                            if k in wanted} == wanted:
        print(f"input: reusing {base.relative_to(PROJECT_ROOT)}", flush=True)
        return base
    shutil.rmtree(base, ignore_errors=True)
    print(f"input: generating {events:,} events over {subscriptions:,} subscriptions into "
          f"{base.relative_to(PROJECT_ROOT)} …", flush=True)
    started = time.perf_counter()
    _write_catalog(base / "catalog", subscriptions)
    counts = _write_events(base / "events", events, subscriptions)
    marker.write_text(json.dumps({**wanted, **counts}, indent=1))
    print(f"input: generated in {time.perf_counter() - started:.1f} s", flush=True)
    return base


# --- measuring a process tree -------------------------------------------------------------------

PAGE = os.sysconf("SC_PAGE_SIZE")


def _tree_rss(root: int) -> int:
    """Resident bytes of `root` and every descendant (a scan of /proc)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        try:
            with open(f"/proc/{pid}/statm") as f:
                total += int(f.read().split()[1]) * PAGE
        except OSError:
            pass
        stack.extend(children.get(pid, []))
    return total


def run_measured(cmd: list[str], env: dict | None = None, stdout=None) -> dict:
    """Run `cmd`; its wall time, exit code, peak tree RSS (polled) and max single-process RSS."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=PROJECT_ROOT, env=env, stdout=stdout,
                            stderr=subprocess.PIPE, text=True)
    peak = [0]
    done = threading.Event()

    def poll():
        while not done.is_set():
            peak[0] = max(peak[0], _tree_rss(proc.pid))
            done.wait(0.05)

    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    stderr = proc.stderr.read()
    out = proc.stdout.read() if proc.stdout else ""
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - started
    done.set()
    poller.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    return {"seconds": elapsed, "returncode": proc.returncode, "stderr": stderr, "stdout": out,
            "peak_tree_bytes": peak[0], "max_rss_bytes": usage.ru_maxrss * 1024,
            # CPU time of the process and the children it waited for (dbt): unlike wall time,
            # barely moved by other work on a shared machine
            "cpu_seconds": usage.ru_utime + usage.ru_stime}


# --- the close ----------------------------------------------------------------------------------


def run_close(base: Path, work: Path, documents: bool) -> dict:
    warehouse = work / "close.duckdb"
    for path in (warehouse, Path(f"{warehouse}.wal")):
        path.unlink(missing_ok=True)
    shutil.rmtree(work / "documents", ignore_errors=True)
    cmd = [str(BILLING), "run", "--as-of", AS_OF, "--catalog", str(base / "catalog"),
           "--events", str(base / "events"), "--warehouse", str(warehouse),
           "--documents", str(work / "documents"), "--quiet"]
    if not documents:
        cmd.append("--no-documents")
    result = run_measured(cmd)
    if result["returncode"] != 0:
        sys.stderr.write(result["stderr"])
        raise SystemExit(f"bench: the close failed (exit {result['returncode']}); "
                         f"see logs/billing-close.log")
    result["warehouse"] = warehouse
    return result


# --- the floor ----------------------------------------------------------------------------------

FLOOR_SQL = """
create table usage as
with

landed as (
    select external_subscription_id, transaction_id, code, "timestamp" as event_at, properties,
           filename, file_row_number
    from read_parquet('{glob}', filename = true, file_row_number = true)
),

-- the first copy landed of each event: files in path order, rows in file order
first_copies as (
    select
        external_subscription_id,
        transaction_id,
        arg_min(struct_pack(code, event_at, properties), (filename, file_row_number)) as event
    from landed
    group by external_subscription_id, transaction_id
),

in_period as (
    select
        external_subscription_id,
        event.code as code,
        event.properties as properties
    from first_copies
    where event.event_at >= timestamptz '{start}' and event.event_at < timestamptz '{end}'
)

select
    external_subscription_id,
    code,
    count(*) as events_count,
    case code
        when 'api_calls' then count(*)
        when 'storage_gb' then sum(cast(json_extract_string(properties, '$.gb') as decimal(38, 12)))
        when 'peak_seats' then max(cast(json_extract_string(properties, '$.seats') as decimal(38, 12)))
        when 'active_users' then count(distinct json_extract_string(properties, '$.user_id'))
    end as units
from in_period
group by external_subscription_id, code
"""

FLOOR_WORKER = """
import json, sys, time
import duckdb
db, sql, memory_limit = sys.argv[1], sys.argv[2], sys.argv[3]
started = time.perf_counter()
con = duckdb.connect(db, config={"memory_limit": memory_limit})
con.execute("set TimeZone = 'UTC'")
threads = con.execute("select current_setting('threads')").fetchone()[0]
con.execute(sql)
rows = con.execute("select count(*) from usage").fetchone()[0]
con.close()
print(json.dumps({"query_seconds": time.perf_counter() - started, "rows": rows,
                  "threads": threads}))
"""


def run_floor(base: Path, work: Path) -> dict:
    db = work / "floor.duckdb"
    for path in (db, Path(f"{db}.wal")):
        path.unlink(missing_ok=True)
    sql = FLOOR_SQL.format(glob=str(base / "events" / "**" / "*.parquet"),
                           start=PERIOD_START.replace("T", " ").replace("Z", "+00"),
                           end=PERIOD_END.replace("T", " ").replace("Z", "+00"))
    result = run_measured([sys.executable, "-c", FLOOR_WORKER, str(db), sql, MEMORY_LIMIT],
                          stdout=subprocess.PIPE)
    if result["returncode"] != 0:
        sys.stderr.write(result["stderr"])
        raise SystemExit("bench: the floor query failed")
    result.update(json.loads(result["stdout"].strip().splitlines()[-1]))
    result["db"] = db
    return result


# --- the check ----------------------------------------------------------------------------------


def check(close: dict, floor: dict, expected_duplicates: int) -> tuple[bool, list[str]]:
    """Every (subscription, metric) the close billed against the floor's, and the duplicates."""
    con = duckdb.connect()
    con.execute(f"attach '{close['warehouse']}' as close (read_only)")
    con.execute(f"attach '{floor['db']}' as floor (read_only)")
    billed = """
        select external_subscription_id, billable_metric_code as code,
               sum(units) as units, sum(events_count) as events_count
        from close.main.fees where fee_type = 'charge'
        group by all"""
    per_metric = con.execute(f"""
        with billed as ({billed})
        select coalesce(b.code, f.code) as code,
               sum(b.events_count), sum(f.events_count), sum(b.units), sum(f.units)
        from billed b full join floor.main.usage f using (external_subscription_id, code)
        group by 1 order by 1""").fetchall()
    pairs, differ = con.execute(f"""
        with billed as ({billed})
        select count(*),
               count(*) filter (where coalesce(b.units, 0) <> coalesce(f.units, 0)
                                 or coalesce(b.events_count, 0) <> coalesce(f.events_count, 0))
        from billed b full join floor.main.usage f using (external_subscription_id, code)
        """).fetchone()
    outcomes = dict(con.execute("""
        select coalesce(reason, outcome), sum(events) from close.main.event_reconciliation
        group by 1""").fetchall())
    con.close()
    lines = [f"  {'metric':<13} {'events close':>13} {'events floor':>13} "
             f"{'units close':>18} {'units floor':>18}"]
    for code, ec, ef, uc, uf in per_metric:
        lines.append(f"  {code:<13} {int(ec or 0):>13,} {int(ef or 0):>13,} "
                     f"{float(uc or 0):>18,.2f} {float(uf or 0):>18,.2f}")
    lines.append(f"  {pairs:,} (subscription, metric) pairs compared, {differ:,} differ")
    lines.append(f"  close event outcomes: " + ", ".join(
        f"{k} {int(v):,}" for k, v in sorted(outcomes.items())))
    ok = differ == 0 and int(outcomes.get("duplicate", 0)) == expected_duplicates
    if int(outcomes.get("duplicate", 0)) != expected_duplicates:
        lines.append(f"  duplicates: close dropped {int(outcomes.get('duplicate', 0)):,}, "
                     f"the input holds {expected_duplicates:,}")
    return ok, lines


# --- report -------------------------------------------------------------------------------------


def gib(n: int) -> str:
    return f"{n / 2**30:.2f} GiB"


def model_timings(warehouse: Path, top: int = 10) -> list[tuple[str, float]]:
    """The slowest dbt nodes of the last close on this warehouse (its run_results.json, in
    the dbt target folder beside the warehouse: orchestration/defs/dbt/assets.py)."""
    path = warehouse.parent / f".{warehouse.name}.dbt" / "run_results.json"
    if not path.exists():
        return []
    results = json.loads(path.read_text())["results"]
    rows = [(r["unique_id"].split(".", 2)[-1], float(r.get("execution_time") or 0))
            for r in results]
    return sorted(rows, key=lambda r: -r[1])[:top]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=10_000_000, help="events (default 10M)")
    parser.add_argument("--subscriptions", type=int, default=10_000,
                        help="subscriptions (default 10,000)")
    parser.add_argument("--repeat", type=int, default=3,
                        help="runs of each, in turn; the best counts (default 3)")
    parser.add_argument("--keep", action="store_true",
                        help="keep the warehouses (data/benchmark/<size>/run/)")
    parser.add_argument("--documents", action="store_true",
                        help="render the invoice PDFs too (one per invoice; slow)")
    args = parser.parse_args()
    if args.events < 1 or args.subscriptions < 1 or args.repeat < 1:
        parser.error("--events, --subscriptions and --repeat must be positive")

    base = ensure_input(args.events, args.subscriptions)
    info = json.loads((base / "input.json").read_text())
    work = base / "run" if args.keep else Path(tempfile.mkdtemp(prefix="bench-close-"))
    work.mkdir(parents=True, exist_ok=True)
    # the parse `billing` does after a change to the models, out of the timed close
    subprocess.run([str(VENV_PYTHON), "-c", "from orchestration.cli import prepare_dbt; "
                    "prepare_dbt()"], cwd=PROJECT_ROOT, check=True)
    try:
        closes, floors = [], []
        for i in range(args.repeat):
            label = f" ({i + 1}/{args.repeat})" if args.repeat > 1 else ""
            print(f"close{label}: billing run --as-of {AS_OF} …", flush=True)
            closes.append(run_close(base, work, args.documents))
            print(f"  {closes[-1]['seconds']:.2f} s, peak {gib(closes[-1]['peak_tree_bytes'])}",
                  flush=True)
            print(f"floor{label}: one DuckDB query …", flush=True)
            floors.append(run_floor(base, work))
            print(f"  {floors[-1]['query_seconds']:.2f} s, peak "
                  f"{gib(floors[-1]['peak_tree_bytes'])}", flush=True)

        ok, lines = check(closes[-1], floors[-1], info["duplicates"])
        print(f"check: the close's charge fees against the floor's usage "
              f"({'EQUAL' if ok else 'DIFFERENT'})")
        print("\n".join(lines))

        timings = model_timings(closes[-1]["warehouse"])
        if timings:
            print("slowest dbt nodes of the last close (run_results.json):")
            for name, seconds in timings:
                print(f"  {seconds:8.2f} s  {name}")

        close = min(closes, key=lambda r: r["seconds"])
        floor = min(floors, key=lambda r: r["query_seconds"])
        ratio = close["seconds"] / floor["query_seconds"]
        print(f"input: {info['events']:,} events ({info['duplicates']:,} duplicate copies), "
              f"{args.subscriptions:,} subscriptions, {base.relative_to(PROJECT_ROOT)}")
        print(f"close: {close['seconds']:.2f} s (best of {args.repeat}; billing run "
              f"{'with' if args.documents else 'without'} PDFs, whole process)")
        print(f"close peak memory: {gib(max(r['peak_tree_bytes'] for r in closes))} "
              f"(process tree, summed); largest single process "
              f"{gib(max(r['max_rss_bytes'] for r in closes))}")
        print(f"floor: {floor['query_seconds']:.2f} s (best of {args.repeat}; one query, "
              f"{floor['threads']} DuckDB threads, memory_limit {MEMORY_LIMIT}, "
              f"{floor['rows']:,} rows)")
        print(f"floor peak memory: {gib(max(r['peak_tree_bytes'] for r in floors))} "
              f"(process tree, summed); largest single process "
              f"{gib(max(r['max_rss_bytes'] for r in floors))}")
        close_cpu = min(r["cpu_seconds"] for r in closes)
        floor_cpu = min(r["cpu_seconds"] for r in floors)
        print(f"CPU time: close {close_cpu:.1f} s, floor {floor_cpu:.1f} s (whole process, "
              f"best of {args.repeat}), ratio {close_cpu / floor_cpu:.2f}: on a busy machine "
              f"compare these, wall times stretch with the load")
        if not ok:
            print("WARNING: the close and the floor disagree; the ratio compares different work")
        print(f"close/floor ratio: {ratio:.2f}")
        return 0 if ok else 1
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
