"""The benchmark script runs end to end (minikeras side only, tiny sizes). No timing is checked:
speed depends on the machine and its load; this only proves ``benchmarks/run.py`` works."""

import re
import subprocess
import sys
from pathlib import Path

RUN = Path(__file__).resolve().parents[1] / "benchmarks" / "run.py"


def run_benchmark(*args):
    return subprocess.run([sys.executable, str(RUN), *args], capture_output=True, text=True,
                          timeout=120)


def test_quick_w1_minikeras_prints_a_timed_row():
    result = run_benchmark("--quick", "--only", "W1", "--libs", "minikeras")
    assert result.returncode == 0, result.stderr
    row = re.search(r"^\| W1 \| ([^|]+) \| ([^|]+) \|", result.stdout, re.MULTILINE)
    assert row, result.stdout
    assert re.fullmatch(r"\d+\.\d{3} m?s", row.group(1).strip()), row.group(0)
    assert row.group(2).strip() == "-"  # tf.keras was not asked for, so it must not have run
    assert "tf.keras worker" not in result.stdout
    assert "QUICK MODE" in result.stdout


def test_quick_fb_compares_with_plain_numpy():
    result = run_benchmark("--quick", "--only", "FB", "--libs", "minikeras")
    assert result.returncode == 0, result.stderr
    assert re.search(r"minikeras \d+\.\d{3} m?s, plain NumPy \d+\.\d{3} m?s", result.stdout), (
        result.stdout)


def test_unknown_workload_is_an_error_naming_the_valid_ones():
    result = run_benchmark("--only", "W9", "--libs", "minikeras")
    assert result.returncode == 2
    assert "W9" in result.stderr and "W1, W2" in result.stderr
