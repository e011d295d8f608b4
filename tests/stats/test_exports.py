"""CSV files with Locust's columns, and the JSON documents."""

import csv
import io
import json
import re

from horde.stats import RequestStats
from horde.stats.csv_export import stats_csv, write_csv_files
from horde.stats.json_export import stats_requests_payload, stats_to_json, write_json


def sample_stats():
    stats = RequestStats()
    for i in range(100):
        stats.record("GET", "/", 1000 + i * 10, 50)
    stats.record("POST", "/login", 5000, 10, error="HTTPError: 429 Too Many Requests")
    stats.tick(stats.start_time + 1, 3)
    stats.end_time = stats.start_time + 1
    return stats


def test_stats_csv_has_locust_columns_and_aggregated_last():
    rows = list(csv.DictReader(io.StringIO(stats_csv(sample_stats()))))
    assert [r["Name"] for r in rows] == ["/", "/login", "Aggregated"]
    assert rows[-1]["Request Count"] == "101"
    assert rows[-1]["Failure Count"] == "1"
    assert rows[0]["Requests/s"] == "100.0"
    assert "99.99%" in rows[0]


def test_all_csv_files_are_written(tmp_path):
    paths = write_csv_files(sample_stats(), str(tmp_path / "out" / "run"))
    names = sorted(p.name for p in paths)
    assert names == [
        "run_exceptions.csv",
        "run_failures.csv",
        "run_stats.csv",
        "run_stats_history.csv",
    ]
    failures = list(csv.DictReader((tmp_path / "out" / "run_failures.csv").open(newline="")))
    first_seen = failures[0].pop("First Seen")
    assert first_seen == failures[0].pop("Last Seen")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", first_seen)
    # A failure given as text is written as Locust writes a task's failure() text.
    assert failures == [
        {
            "Method": "POST",
            "Name": "/login",
            "Error": "CatchResponseError('HTTPError: 429 Too Many Requests')",
            "Occurrences": "1",
        }
    ]
    history = list(csv.DictReader((tmp_path / "out" / "run_stats_history.csv").open(newline="")))
    assert history[0]["User Count"] == "3"
    assert history[0]["Total Request Count"] == "101"


def test_json_documents(tmp_path):
    stats = sample_stats()
    document = stats_to_json(stats, meta={"host": "http://127.0.0.1"})
    assert document["meta"]["host"] == "http://127.0.0.1"
    assert document["total"]["num_requests"] == 101
    assert set(document["total"]["percentiles"]) >= {"50", "95", "99", "99.9", "100"}
    assert len(document["history"]) == 1
    write_json(stats, tmp_path / "r.json")
    assert json.loads((tmp_path / "r.json").read_text())["failures"][0]["occurrences"] == 1
    payload = stats_requests_payload(stats, user_count=3, state="running")
    for key in (
        "stats",
        "errors",
        "total_rps",
        "fail_ratio",
        "user_count",
        "state",
        "current_response_time_percentiles",
    ):
        assert key in payload
    assert payload["stats"][-1]["name"] == "Aggregated"
    assert payload["stats"][0]["ninety_ninth_response_time"] > 0
