"""Landing on its own (orchestration.lib.landing): files of different shapes land in one
transaction, in path order, each row numbered by its file and its place in it; files with the
same column types are read by one statement."""
from __future__ import annotations

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from orchestration.lib.landing import ROWS_PER_FILE_BITS, land_events


def _write(path, columns: dict, schema: pa.Schema) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table(columns, schema=schema), path)


def test_files_of_every_shape_land_in_path_order(tmp_path):
    events = tmp_path / "events"
    base = {"transaction_id": pa.string(), "external_subscription_id": pa.string(),
            "code": pa.string()}
    instant = pa.schema([*base.items(), ("timestamp", pa.timestamp("us", tz="UTC")),
                         ("properties", pa.string())])
    # two files of the same shape (one statement), then three others
    _write(events / "date=2026-10-01" / "a.parquet",
           {"transaction_id": ["t1", "t2"], "external_subscription_id": ["s", "s"],
            "code": ["m", "m"], "timestamp": [1790812800_000000, 1790812801_000000],
            "properties": ['{"gb": 1}', '{"gb": 2}']}, instant)
    _write(events / "date=2026-10-02" / "b.parquet",
           {"transaction_id": ["t3"], "external_subscription_id": ["s"], "code": ["m"],
            "timestamp": [1790899200_000000], "properties": ['{"gb": 3}']}, instant)
    _write(events / "date=2026-10-03" / "c.parquet",
           {"transaction_id": ["t4", "t5"], "external_subscription_id": ["s", "s"],
            "code": ["m", "m"], "timestamp": [1790985600.5, float("nan")]},
           pa.schema([*base.items(), ("timestamp", pa.float64())]))
    _write(events / "date=2026-10-04" / "d.parquet",
           {"transaction_id": ["t6"], "external_subscription_id": ["s"], "code": ["m"],
            "timestamp": ["2026-10-04T00:00:00Z"],
            "properties": [{"gb": 6, "region": "eu"}]},
           pa.schema([*base.items(), ("timestamp", pa.string()),
                      ("properties", pa.struct([("gb", pa.int64()), ("region", pa.string())]))]))
    _write(events / "date=2026-10-05" / "e.parquet",
           {"transaction_id": ["t7"], "external_subscription_id": ["s"], "code": ["m"],
            "timestamp": [1791158400_000000], "properties": ['{"gb": 7}'],
            "precise_total_amount_cents": ["12.5"]},
           pa.schema([*instant, ("precise_total_amount_cents", pa.string())]))

    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    result = land_events(con, events)
    assert (result.new_rows, result.files_total, result.rows_total) == (7, 5, 7)

    rows = con.execute("""
        select landing_seq, file_index, file_row_number, transaction_id,
            cast(timestamp_value as varchar), timestamp_text, properties,
            precise_total_amount_cents
        from landing.events order by landing_seq""").fetchall()
    seq = [(i << ROWS_PER_FILE_BITS) | n for i, n in
           [(0, 0), (0, 1), (1, 0), (2, 0), (2, 1), (3, 0), (4, 0)]]
    assert [r[0] for r in rows] == seq
    assert [(r[1], r[2], r[3]) for r in rows] == [
        (0, 0, "t1"), (0, 1, "t2"), (1, 0, "t3"), (2, 0, "t4"), (2, 1, "t5"), (3, 0, "t6"),
        (4, 0, "t7")]
    by_id = {r[3]: r for r in rows}
    assert by_id["t1"][4] == "2026-10-01 00:00:00+00" and by_id["t1"][6] == '{"gb": 1}'
    assert by_id["t4"][4] == "2026-10-03 00:00:00.5+00" and by_id["t4"][6] == "{}"
    assert by_id["t5"][4] is None and by_id["t5"][5] == "nan"      # quarantined later
    assert by_id["t6"][4] is None and by_id["t6"][5] == "2026-10-04T00:00:00Z"
    assert by_id["t6"][6] == '{"gb":6,"region":"eu"}'
    assert by_id["t7"][7] == "12.5" and by_id["t1"][7] is None
    assert con.execute("select path, file_index, row_count, timestamp_kind, properties_kind, "
                       "cast(landed_on as varchar) from landing.event_files order by file_index"
                       ).fetchall() == [
        ("date=2026-10-01/a.parquet", 0, 2, "instant", "text", "2026-10-01"),
        ("date=2026-10-02/b.parquet", 1, 1, "instant", "text", "2026-10-02"),
        ("date=2026-10-03/c.parquet", 2, 2, "epoch", "absent", "2026-10-03"),
        ("date=2026-10-04/d.parquet", 3, 1, "text", "nested", "2026-10-04"),
        ("date=2026-10-05/e.parquet", 4, 1, "instant", "text", "2026-10-05")]

    # a second landing takes only the new file, numbered after the others
    _write(events / "date=2026-10-06" / "f.parquet",
           {"transaction_id": ["t8"], "external_subscription_id": ["s"], "code": ["m"],
            "timestamp": [1791244800_000000], "properties": ['{"gb": 8}']}, instant)
    again = land_events(con, events)
    assert (again.new_rows, again.files_total) == (1, 6)
    assert con.execute("select landing_seq, file_index from landing.events "
                       "where transaction_id = 't8'").fetchall() == [(5 << ROWS_PER_FILE_BITS, 5)]


def test_a_file_with_a_column_named_like_landings_own_is_landed(tmp_path):
    """read_parquet adds the file's name as a column: one named `filename` in the file must not
    clash with it."""
    events = tmp_path / "events"
    _write(events / "x.parquet",
           {"transaction_id": ["t1"], "external_subscription_id": ["s"], "code": ["m"],
            "timestamp": [1790812800_000000], "filename": ["export.csv"]},
           pa.schema([("transaction_id", pa.string()), ("external_subscription_id", pa.string()),
                      ("code", pa.string()), ("timestamp", pa.timestamp("us", tz="UTC")),
                      ("filename", pa.string())]))
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    assert land_events(con, events).new_rows == 1
    assert con.execute("select transaction_id, file_index from landing.events").fetchall() == [
        ("t1", 0)]
