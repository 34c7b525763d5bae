import json
import os
import subprocess
import sys
import time

import pytest
from django.core.management import call_command

from cutouts.benchmarking import process_cpu_s


def test_it_reads_the_cpu_of_a_process_and_of_its_children():
    child = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        deadline = time.monotonic() + 20  # a loaded machine gives the child little CPU
        while (cpu := process_cpu_s(os.getpid())) is not None and cpu["children"] < 0.05 \
                and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        child.kill()
        child.wait()
    assert cpu is not None and cpu["main"] > 0
    assert cpu["children"] >= 0.05  # the busy child counts, not only this process
    assert process_cpu_s(child.pid) is None  # gone: /proc cannot say


@pytest.mark.slow
def test_it_compares_the_queue_with_the_engine_alone_in_parallel_and_by_cpu(tmp_path, capsys):
    out = tmp_path / "jobs.json"
    call_command("jobs_benchmark", "4", "--baseline-images", "2", "--bare-repeats", "2",
                 "--json", str(out))
    result = json.loads(out.read_text())
    assert result["queue"]["images"] == 4 and result["queue"]["failed"] == 0
    assert len(result["engine_parallel"]) == result["workers"] == 2
    assert result["engine"]["cpu_s_per_image"] > 0
    cpu = result["queue_cpu"]
    # every image ran in a pool process; the main processes only moved messages
    assert cpu["pool_s_per_image"] > cpu["main_s_per_image"] >= 0
    assert cpu["ratio_vs_engine"] == pytest.approx(
        result["engine"]["cpu_s_per_image"] / cpu["s_per_image"])
    assert result["ratio_per_core_target"] == 0.95
    printed = capsys.readouterr().out
    assert "processes at once" in printed and "CPU per image" in printed
