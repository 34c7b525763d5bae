import json
import os

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.slow


def test_it_samples_the_worker_process_rss_and_writes_json(tmp_path, capsys):
    out = tmp_path / "soak.json"
    call_command("soak_benchmark", "20", "--every", "5", "--warmup", "5",
                 "--width", "640", "--height", "480", "--json", str(out))
    result = json.loads(out.read_text())
    assert result["done"] == 20 and result["failed"] == 0
    assert [s["done"] for s in result["samples"]][0] >= 5
    assert result["samples"][-1]["done"] == 20
    assert len(result["samples"]) >= 4
    assert all(s["rss_mb"] > 50 for s in result["samples"])
    # RSS comes from the worker's pool process, which ran every cutout; never this process.
    assert result["sampled_pid"] == result["worker_pool_pid"] != os.getpid()
    assert result["cutout_worker_pids"] == [result["sampled_pid"]]
    assert result["worker_main_pid"] not in (os.getpid(), result["sampled_pid"])
    assert result["growth_mb"] == pytest.approx(
        result["final_rss_mb"] - result["warmup_rss_mb"])
    assert isinstance(result["passed"], bool)
    printed = capsys.readouterr().out
    assert "growth after warm-up" in printed and "target < 50 MB" in printed
