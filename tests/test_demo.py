"""``python -m minikeras demo``: the README's first command trains the tutorial network."""

import re
import subprocess
import sys


def test_demo_trains_the_student_network():
    result = subprocess.run([sys.executable, "-m", "minikeras", "demo"], capture_output=True,
                            text=True, timeout=120, check=True)
    out = result.stdout
    assert 'Model: "sequential' in out and "hidden (Dense)" in out and "Total params: 13" in out
    assert "Epoch 30/30" in out and "━━━━━━━━━━━━━━━━━━━━" in out  # Keras's progress bar
    before = float(re.search(r"Before training: P\(you pass\) = ([0-9.]+)", out).group(1))
    after = float(re.search(r"After training:  P\(you pass\) = ([0-9.]+)", out).group(1))
    accuracy = float(re.search(r"Final accuracy on the class history: ([0-9.]+)", out).group(1))
    assert accuracy > 0.85
    assert after > 0.75 > before  # it learned that 4 lectures and 5 points usually pass


def test_demo_usage():
    result = subprocess.run([sys.executable, "-m", "minikeras"], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 2 and "usage: python -m minikeras demo" in result.stderr
