"""Deterministic sample usage for the demo catalog (data/catalog).

    python data/generate_sample_events.py [--catalog data/catalog] [--events data/landing/events]

Writes one Parquet file per day, in hive folders (`day=2026-10-01/part-0.parquet`), in the
event shape of the contract: transaction_id, external_subscription_id, code, timestamp (UTC),
properties (JSON text). Usage runs from each subscription's start (or September 1) to the end
of October 2026, plus a little on November 1 that belongs to the next period. A small share of
realistic problems is mixed in so the demo shows where every event goes: exact duplicates
(a producer retrying), one conflicting duplicate, events for an unknown subscription and an
unknown metric, a missing and a mistyped field.

The same catalog always gives the same files, byte for byte. Files already present are never
rewritten: landed files are immutable, and a second demo finds nothing new to land.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import random
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import yaml

FIRST_DAY = dt.date(2026, 9, 1)
LAST_DAY = dt.date(2026, 11, 1)
SCHEMA = pa.schema([
    ("transaction_id", pa.string()),
    ("external_subscription_id", pa.string()),
    ("code", pa.string()),
    ("timestamp", pa.timestamp("us", tz="UTC")),
    ("properties", pa.string()),
])
# events per subscription per day, by metric: how busy a typical customer is
DAILY_EVENTS = {"api_calls": 60, "storage_gb": 2, "data_transfer_gb": 12, "active_users": 10,
                "compute_hours": 6, "payments_volume": 8}


def _properties(code: str, rng: random.Random) -> dict:
    if code == "api_calls":
        return {"region": "us" if rng.random() < 0.3 else "eu"}
    if code == "storage_gb":
        return {"gb": round(rng.uniform(5, 500), 1)}
    if code == "data_transfer_gb":
        return {"gb": round(rng.uniform(0.1, 4), 3)}
    if code == "active_users":
        return {"user_id": f"u{rng.randint(1, 60)}", "team": rng.choice(["ops", "sales", "dev"])}
    if code == "compute_hours":
        return {"hours": round(rng.uniform(0.5, 8), 2)}
    if code == "payments_volume":
        return {"amount": round(rng.uniform(5, 400), 2)}
    return {}


def _load(catalog: Path) -> tuple[list[dict], dict[str, set[str]]]:
    plans = yaml.safe_load((catalog / "plans.yaml").read_text())
    subscriptions = yaml.safe_load((catalog / "subscriptions.yaml").read_text())
    metrics = {p["code"]: {c["billable_metric_code"] for c in p.get("charges") or []}
               for p in plans}
    return subscriptions, metrics


def _instant(text) -> dt.datetime:
    if isinstance(text, dt.datetime):
        return text if text.tzinfo else text.replace(tzinfo=dt.timezone.utc)
    return dt.datetime.fromisoformat(str(text).replace("Z", "+00:00"))


def _day_events(day: dt.date, subscriptions: list[dict], metrics: dict[str, set[str]],
                rng: random.Random) -> list[dict]:
    events = []
    start_of_day = dt.datetime.combine(day, dt.time(), dt.timezone.utc)
    for sub in subscriptions:
        started = _instant(sub.get("started_at") or sub["subscription_at"])
        ended = _instant(sub["terminated_at"]) if sub.get("terminated_at") else None
        plan = sub["plan_code"]
        for change in sub.get("plan_changes") or []:
            if _instant(change["requested_at"]) <= start_of_day:
                plan = change["plan_code"]
        scale = 1 + (sum(map(ord, sub["external_id"])) % 5)   # some customers are busier
        for code in sorted(metrics[plan]):
            for n in range(rng.randint(0, DAILY_EVENTS.get(code, 5) * scale)):
                at = start_of_day + dt.timedelta(seconds=rng.randint(0, 86399))
                if at < started or (ended and at > ended):
                    continue
                events.append({
                    "transaction_id": f"{sub['external_id']}-{day:%Y%m%d}-{code}-{n}",
                    "external_subscription_id": sub["external_id"], "code": code,
                    "timestamp": at, "properties": json.dumps(_properties(code, rng))})
    return events


def _problems(day: dt.date, events: list[dict], rng: random.Random) -> list[dict]:
    """A few events a real producer would send on a bad day."""
    extra = [dict(e) for e in rng.sample(events, k=min(len(events), 3))]   # retried sends
    noon = dt.datetime.combine(day, dt.time(12), dt.timezone.utc)
    if day == dt.date(2026, 10, 15):
        clash = dict(events[0])
        clash["properties"] = json.dumps({"region": "apac", "retried": True})
        extra += [
            clash,   # same transaction id, different payload: a conflicting duplicate
            {"transaction_id": "ghost-1", "external_subscription_id": "sub_unknown_co",
             "code": "api_calls", "timestamp": noon, "properties": "{}"},
            {"transaction_id": "typo-1", "external_subscription_id": events[0][
                "external_subscription_id"], "code": "api_cals", "timestamp": noon,
             "properties": "{}"},
        ]
    if day == dt.date(2026, 10, 20):
        for event in events:
            if event["code"] == "compute_hours":
                extra += [
                    {**event, "transaction_id": "nofield-1", "properties": json.dumps({})},
                    {**event, "transaction_id": "text-1",
                     "properties": json.dumps({"hours": "two"})},
                ]
                break
    return extra


def generate(catalog: Path = Path(__file__).parent / "catalog",
             events: Path = Path(__file__).parent / "landing" / "events") -> str:
    """Write the days not written yet; return a one-line description."""
    subscriptions, metrics = _load(Path(catalog))
    events = Path(events)
    written = rows = 0
    day = FIRST_DAY
    while day <= LAST_DAY:
        path = events / f"day={day:%Y-%m-%d}" / "part-0.parquet"
        rng = random.Random(f"{day:%Y%m%d}")   # each day on its own seed: files are independent
        if not path.exists():
            day_events = _day_events(day, subscriptions, metrics, rng)
            if day_events:
                day_events += _problems(day, day_events, rng)
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            pq.write_table(pa.Table.from_pylist(day_events, schema=SCHEMA), tmp,
                           compression="zstd")
            tmp.replace(path)
            written += 1
            rows += len(day_events)
        day += dt.timedelta(days=1)
    if not written:
        return "already generated"
    return f"{written} daily files, {rows:,} events"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--catalog", type=Path, default=Path(__file__).parent / "catalog")
    parser.add_argument("--events", type=Path, default=Path(__file__).parent / "landing" / "events")
    args = parser.parse_args()
    print(generate(args.catalog, args.events))


if __name__ == "__main__":
    main()
