import json

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.slow


def test_it_profiles_a_worker_run_with_database_and_storage_stages(tmp_path, capsys):
    out = tmp_path / "profile.json"
    call_command("cutout_profile", "--mp", "0.3", "--repeats", "1", "--bare-repeats", "2",
                 "--json", str(out))
    result = json.loads(out.read_text())
    row = result["sizes"]["0.3"]
    stages = list(row["cpu_ms"])
    # the worker's order: claim, read, decode, the pipeline, encode, store, finish
    assert stages[:3] == ["db_claim", "db_read", "decode"]
    # the faint-mark measure export reads is a lap of its own between the pipeline and encode
    assert stages[-5:] == ["faint_marks", "encode_cutout", "encode_mask", "storage_write",
                           "db_finish"]
    assert {"resize", "inference", "decontaminate", "signals"} <= set(stages)
    assert all(v > 0 for v in row["cpu_ms"].values()), row["cpu_ms"]
    assert row["around_model_cpu_ms"] == pytest.approx(
        row["total_cpu_ms"] - row["cpu_ms"]["inference"])
    assert result["bare_model"]["model"] == "u2netp" and result["bare_model"]["cpu_s"] > 0
    assert len(result["load_average"]) == 3
    printed = capsys.readouterr().out
    assert "storage_write" in printed and "= around model" in printed
