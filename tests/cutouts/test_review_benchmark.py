import json

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.slow


def test_it_measures_the_queue_in_a_throwaway_database_and_writes_json(tmp_path, capsys):
    from django.db import connection

    out = tmp_path / "review.json"
    call_command("review_benchmark", "--cutouts", "300", "--requests", "5", "--json", str(out))
    result = json.loads(out.read_text())
    assert result["cutouts"] >= 300 and result["database"] == "sqlite"
    assert [r["what"] for r in result["rows"]][0] == "baseline: SELECT one page of ids"
    assert all(r["p95_ms"] > 0 and r["cpu_p95_ms"] > 0 for r in result["rows"])
    assert result["constant_queries"] is True
    # Re-cut images wait with two versions, and the queue still lists each image once.
    assert result["one_row_per_image"] is True
    assert result["waiting"] < result["versions_waiting"]
    assert any(r["what"].startswith("dashboard") for r in result["rows"])
    printed = capsys.readouterr().out
    assert "p95 / base" in printed and "Throwaway database" in printed
    # The throwaway database is a separate file, never the one the tests use.
    assert str(connection.settings_dict["NAME"]) not in printed
