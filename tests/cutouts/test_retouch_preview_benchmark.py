import json

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.slow


def test_it_measures_previews_against_the_full_resolution_baseline_and_writes_json(
        tmp_path, capsys):
    out = tmp_path / "retouch.json"
    call_command("retouch_preview_benchmark", "--photos", "1", "--megapixels", "0.5",
                 "--json", str(out))
    result = json.loads(out.read_text())
    rows = {r["what"]: r for r in result["rows"]}
    preview = rows["preview at 1024 px, cached copy (per stroke)"]
    baseline = rows["baseline: full-resolution refine in the request"]
    assert preview["n"] == 8 and baseline["n"] == 1  # one preview per stroke of the list
    assert baseline["ratio"] == 1.0 and preview["p95_s"] > 0
    # the worker's Apply replays the previews' cuts: the same picture, sooner
    shared = rows["  Apply in a cold worker, the previews' step records"]
    assert shared["n"] == 1 and result["apply_alpha_identical"] is True
    assert 0 < result["apply_shared_ratio_p50"] < 1.0
    assert {"within_target", "within_target_cpu", "load_average"} <= set(result)
    assert "p95 / base" in capsys.readouterr().out
