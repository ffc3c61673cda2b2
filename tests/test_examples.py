"""The learner's material runs: every example script and every Python block in docs/*.md and
README.md.

Each example runs in its own Python process (as a learner runs it), from a temporary directory,
with a 60 s limit and NumPy RuntimeWarnings turned into errors. It must exit with 0 and print its
key line; where that line carries a result (an accuracy, a loss that went down), the result is
checked against what the example claims to show. The Python blocks of each document run in order
as one script, like a notebook. Paths the documents point to (examples, minikeras source files)
must exist.
"""

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
DOCS = ROOT / "docs"
TIMEOUT = 60


def run_python(args, cwd):
    """Run ``python -W error::RuntimeWarning *args`` in ``cwd``; the repository stays importable
    (after any PYTHONPATH already set) even when minikeras is not installed."""
    env = dict(os.environ, MPLBACKEND="Agg")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (env.get("PYTHONPATH"), str(ROOT)) if p)
    result = subprocess.run([sys.executable, "-W", "error::RuntimeWarning", *args], cwd=cwd,
                            env=env, capture_output=True, text=True, timeout=TIMEOUT)
    assert result.returncode == 0, (
        f"{args} exited with {result.returncode}\n--- stdout ---\n{result.stdout[-3000:]}\n"
        f"--- stderr ---\n{result.stderr[-3000:]}")
    return result.stdout


def key_line(pattern, stdout):
    """The first match of ``pattern`` in the output, as a tuple of floats (its groups)."""
    match = re.search(pattern, stdout)
    assert match, f"expected a line matching {pattern!r} in:\n{stdout[-3000:]}"
    return tuple(float(group) for group in match.groups())


# --- the examples ---------------------------------------------------------------------------------
def check_one_neuron(out):
    # z = 2·0.4 - 1·0.3 + 0.5·(-0.6) + 0.1 = 0.3 and σ(0.3), computed here independently.
    z, y = key_line(r"One neuron: z = ([\d.-]+), output = ([\d.]+)", out)
    assert z == pytest.approx(0.3, abs=1e-4)
    assert y == pytest.approx(1 / (1 + np.exp(-0.3)), abs=1e-4)


def check_logistic_regression(out):
    (difference,) = key_line(r"Same answer both ways: largest weight difference ([\d.e+-]+)", out)
    assert difference < 1e-4
    first, last = key_line(r"step   0  J = ([\d.]+).*?step 100  J = ([\d.]+)",
                           out.replace("\n", " "))
    assert first == pytest.approx(np.log(2), abs=1e-4)  # zero weights: ŷ = 0.5 for everyone
    assert last < first


def check_student_network(out):
    before, after = key_line(r"Before training: P\(you pass\) = ([\d.]+)\.\s+"
                             r"After training: P\(you pass\) = ([\d.]+)", out)
    assert before < 0.5 < after  # untrained it says "fail"; trained, it agrees you passed
    key_line(r"keras\.Model\(model\.inputs, layer\.output\) == σ\(x W1 \+ b1\): True", out)


def check_backprop(out):
    key_line(r"hand-written chain rule == tape\.gradient: True", out)


def check_grade_regression(out):
    key_line(r"raw: diverged", out)
    standardized, max_scaled = key_line(
        r"validation MAE ([\d.]+) \(standardized\), ([\d.]+) \(max-scaled\)", out)
    (raw_small_lr,) = key_line(r"raw, lr=0\.0003:\s+([\d.]+)", out)
    assert standardized < raw_small_lr and max_scaled < raw_small_lr


def check_iris(out):
    (accuracy,) = key_line(r"Validation accuracy: ([\d.]+)", out)
    assert accuracy >= 0.9


def check_loss_landscape(out):
    start, end, minimum = key_line(
        r"Gradient descent went from J = ([\d.]+) to J = ([\d.]+) \(grid minimum ([\d.]+)\)", out)
    assert end < start and end - minimum < 0.01
    rows = "".join(re.findall(r"^\s+w1=\s*[\d.-]+ \|(.*)\|$", out, flags=re.M))
    assert len(rows) == 25 * 61  # the whole grid is drawn
    assert rows.count("S") == 1 and rows.count("E") == 1 and "o" in rows  # and the path on it


def check_dropout(out):
    (plain,) = key_line(r"no dropout\s+([\d.]+)\s+\(best", out)
    (dropout,) = key_line(r"Dropout\(0\.5\)\s+([\d.]+)\s+\(best", out)
    (early,) = key_line(r"Dropout \+ EarlyStopping\s+([\d.]+)\s+\(best", out)
    assert dropout < plain and early < plain
    assert "(stopped)" in out  # EarlyStopping ended its run before 300 epochs


def check_hyperparameters(out):
    (best_loss,) = key_line(r"Best after 20 epochs: η=\S+, B=\d+ \(loss ([\d.]+)\)", out)
    assert best_loss < np.log(2)  # better than a coin flip
    key_line(r"B=8: 50, B=32: 13, B=400: 1", out)  # ceil(400 / B) updates per epoch


def check_custom_layer(out):
    (accuracy,) = key_line(r"MyDenseLayer trained by hand: accuracy ([\d.]+), same predictions "
                           r"as Dense", out)
    assert accuracy > 0.85


def check_functional_api(out):
    key_line(r"A symbolic tensor: <KerasTensor shape=\(None, 1\)", out)
    assert 'Model: "two_inputs"' in out and "(InputLayer)" in out
    first, last, accuracy = key_line(r"Loss ([\d.]+) -> ([\d.]+), training accuracy ([\d.]+)",
                                     out)
    assert last < first and accuracy > 0.85
    (probability,) = key_line(r"P\(pass\) = ([\d.]+); the loaded model agrees: True", out)
    assert probability < 0.5  # 4 + 2·5 = 14 < 15: a fail, as the data was made


def check_mnist_cnn(out):
    assert "(Conv2D)" in out and "(MaxPooling2D)" in out and "Total params: 1,898" in out
    first, last = key_line(r"Training loss ([\d.]+) -> ([\d.]+)", out)
    assert last < first
    (accuracy,) = key_line(r"Test accuracy: ([\d.]+)", out)
    assert accuracy >= 0.9


def check_text_classification(out):
    assert "(TextVectorization)" in out and "(Embedding)" in out
    first, last = key_line(r"Training loss ([\d.]+) -> ([\d.]+)", out)
    assert last < first / 10
    (accuracy,) = key_line(r"Validation accuracy: ([\d.]+)", out)
    assert accuracy >= 0.9
    (positive,) = key_line(r"P\(positive\) = ([\d.]+)  for 'A brilliant", out)
    (negative,) = key_line(r"P\(positive\) = ([\d.]+)  for 'The plot", out)
    assert positive > 0.9 and negative < 0.1


CHECKS = {
    "01_one_neuron.py": check_one_neuron,
    "02_logistic_regression.py": check_logistic_regression,
    "03_student_network.py": check_student_network,
    "04_backprop_by_hand.py": check_backprop,
    "05_grade_regression_mse.py": check_grade_regression,
    "06_iris_softmax.py": check_iris,
    "07_loss_landscape.py": check_loss_landscape,
    "08_dropout_overfitting.py": check_dropout,
    "09_learning_rate_batches_epochs.py": check_hyperparameters,
    "10_custom_layer.py": check_custom_layer,
    "11_functional_api.py": check_functional_api,
    "12_mnist_cnn.py": check_mnist_cnn,
    "13_text_classification.py": check_text_classification,
}


def test_every_example_is_checked():
    assert sorted(p.name for p in EXAMPLES.glob("*.py")) == sorted(CHECKS)


@pytest.mark.parametrize("script", sorted(CHECKS))
def test_example_runs(script, tmp_path):
    CHECKS[script](run_python([str(EXAMPLES / script)], cwd=tmp_path))


@pytest.mark.skipif(importlib.util.find_spec("matplotlib") is None,
                    reason="--plot needs matplotlib")
def test_loss_landscape_plot(tmp_path):
    out = run_python([str(EXAMPLES / "07_loss_landscape.py"), "--plot", "landscape.png"],
                     cwd=tmp_path)
    assert "Saved the picture to landscape.png" in out
    assert (tmp_path / "landscape.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_iris_csv():
    rows = (EXAMPLES / "data" / "iris.csv").read_text().strip().splitlines()
    assert rows[0] == "sepal_length_cm,sepal_width_cm,petal_length_cm,petal_width_cm,species"
    species = [row.rsplit(",", 1)[1] for row in rows[1:]]
    assert {name: species.count(name) for name in set(species)} == {
        "setosa": 50, "versicolor": 50, "virginica": 50}
    datasets = pytest.importorskip("sklearn.datasets")
    iris = datasets.load_iris()
    values = np.array([[float(v) for v in row.split(",")[:4]] for row in rows[1:]])
    np.testing.assert_array_equal(values, iris.data)
    assert species == [str(iris.target_names[t]) for t in iris.target]


# --- the documents --------------------------------------------------------------------------------
DOC_FILES = sorted(DOCS.glob("*.md")) + [ROOT / "README.md"]


def python_blocks(path):
    return re.findall(r"^```python\n(.*?)^```", path.read_text(), flags=re.S | re.M)


def test_the_documents_exist():
    assert {p.name for p in DOC_FILES} >= {"index.md", "tutorial.md", "architecture.md",
                                            "keras-compatibility.md"}


@pytest.mark.parametrize("doc", DOC_FILES, ids=lambda p: p.name)
def test_doc_python_blocks_run(doc, tmp_path):
    blocks = python_blocks(doc)
    assert blocks, f"{doc.name} has no ```python block"
    script = tmp_path / f"{doc.stem}_blocks.py"
    script.write_text("\n".join(blocks))
    run_python([str(script)], cwd=tmp_path)


@pytest.mark.parametrize("doc", DOC_FILES, ids=lambda p: p.name)
def test_doc_paths_exist(doc):
    text = doc.read_text()
    paths = set(re.findall(r"\b((?:minikeras|examples|compat_tests|tests)/[\w/.-]*\w)", text))
    tests = set(re.findall(r"`(test_\w+\.py)`", text))  # the parity table
    missing = sorted([p for p in paths if not (ROOT / p).exists()] + [
        t for t in tests if not (ROOT / "compat_tests" / t).exists()])
    assert not missing, f"{doc.name} points to paths that do not exist: {missing}"


@pytest.mark.parametrize("doc", DOC_FILES, ids=lambda p: p.name)
def test_doc_source_names_exist(doc):
    """"`minikeras/ops/nn.py`, `sigmoid`" style pointers name a def or class in that file."""
    text, wrong = doc.read_text(), []
    for path, names in re.findall(r"`(minikeras/[\w/]+\.py)`,\s+((?:`[\w.]+`,?\s*(?:and\s+)?)+)",
                                  text):
        source = (ROOT / path).read_text()
        for name in re.findall(r"`([\w.]+)`", names):
            last = name.split(".")[-1]
            if not name.endswith(".py") and not re.search(rf"^\s*(def|class) {last}\b", source,
                                                          flags=re.M):
                wrong.append(f"{path}: {name}")
    assert not wrong, f"{doc.name} names code that is not there: {wrong}"
