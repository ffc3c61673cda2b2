"""Speed of minikeras against tf.keras on the same models, data and hyperparameters.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE .venv/bin/python benchmarks/run.py

Each library runs in its own worker process (so TensorFlow's thread pools never share a process
with NumPy's BLAS), and the two are asked in turn: repetition 1 of W1 in minikeras, then in
tf.keras, then W2 ..., then repetition 2 (library order alternating), so a burst of load on the
machine hits both sides alike. Every workload is run once untimed first (warm-up: tf.keras traces
its ``tf.function`` there, and builds its optimizer), and only the call itself is timed
(``fit`` / ``predict`` / ``train_on_batch``), never building the model or making the data.

Workloads (weights are set to the same values in both libraries, data from the same seed):

    W1      2-3-1 sigmoid net, binary crossentropy, SGD(0.1), 1,000 samples, batch 32, 20 epochs
    W2      784-128 relu, Dropout(0.2), 10 logits, SparseCategoricalCrossentropy(from_logits=True),
            Adam(), 60,000 random float32 samples, batch 32, 1 epoch
    W2b128  W2 with batch 128
    W3      784-1024-1024-10 (relu, relu, softmax), categorical crossentropy,
            SGD(momentum=0.9), 20,000 samples, batch 256, 1 epoch
    W4      predict() on W2's 60,000 samples with W2's model (batch 32, the default)
    W5      train_on_batch latency at batch 32 on W2's model: the median of many calls
    import  ``import minikeras`` (and ``import tensorflow; tf.keras``) in a fresh interpreter
    FB      one forward + backward pass of a 784-128-10 MLP at batch 32: minikeras's
            GradientTape against the same math written in plain NumPy (minikeras side only)

Options: ``--repeat N`` (default 5), ``--only W1,W4``, ``--libs minikeras`` (skip TensorFlow),
``--threads N`` (limit both libraries to N threads), ``--quick`` (tiny sizes, one repetition: a
smoke test, not a measurement) and ``--profile`` (cProfile the chosen workloads in minikeras and
list the top functions by self time).
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

LIBS = ("minikeras", "tf.keras")
WORKLOADS = ("W1", "W2", "W2b128", "W3", "W4", "W5", "import", "FB")
TARGETS = {"W1": 20, "W2": 3, "W2b128": 2, "W3": 1, "W4": 3, "W5": 3, "import": 1}
BLAS_VARIABLES = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
MARK = "@@benchmark "  # the prefix of a worker's answer line (TensorFlow may print other lines)

# Sizes: (full run, --quick smoke run)
SIZES = {
    "W1_samples": (1000, 200), "W1_epochs": (20, 2),
    "W2_samples": (60000, 640), "W3_samples": (20000, 512),
    "W5_calls": (300, 10), "FB_calls": (300, 10),
}


def size(name, quick):
    return SIZES[name][1 if quick else 0]


# --- the workloads, written once for both libraries ----------------------------------------------

def same_weights(model, seed):
    """Glorot-uniform kernels and zero biases from one seed, so both libraries start equal."""
    rng = np.random.default_rng(seed)
    weights = []
    for w in model.get_weights():
        if w.ndim == 2:
            limit = np.sqrt(6.0 / (w.shape[0] + w.shape[1]))
            weights.append(rng.uniform(-limit, limit, w.shape).astype("float32"))
        else:
            weights.append(np.zeros(w.shape, "float32"))
    model.set_weights(weights)
    return model


def mnist_like(n):
    """``n`` random 784-pixel float32 images in [0, 1) and integer labels 0..9 (int64)."""
    rng = np.random.default_rng(2)
    return rng.random((n, 784), dtype=np.float32), rng.integers(0, 10, n)


def w2_model(keras):
    model = keras.Sequential([
        keras.Input((784,)),
        keras.layers.Dense(128, activation="relu"),
        keras.layers.Dropout(0.2),
        keras.layers.Dense(10),
    ])
    model.compile(optimizer=keras.optimizers.Adam(),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return same_weights(model, 1)


def prepare_w1(keras, quick):
    rng = np.random.default_rng(0)
    x = rng.random((size("W1_samples", quick), 2), dtype=np.float32)
    y = (x[:, 0] + x[:, 1] > 1).astype("float32").reshape(-1, 1)
    model = keras.Sequential([
        keras.Input((2,)),
        keras.layers.Dense(3, activation="sigmoid"),
        keras.layers.Dense(1, activation="sigmoid"),
    ])
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="binary_crossentropy")
    same_weights(model, 0)
    epochs = size("W1_epochs", quick)
    return lambda: model.fit(x, y, batch_size=32, epochs=epochs, verbose=0)


def prepare_w2(keras, quick, batch_size=32):
    x, y = mnist_like(size("W2_samples", quick))
    model = w2_model(keras)
    return lambda: model.fit(x, y, batch_size=batch_size, epochs=1, verbose=0)


def prepare_w2b128(keras, quick):
    return prepare_w2(keras, quick, batch_size=128)


def prepare_w3(keras, quick):
    x, labels = mnist_like(size("W3_samples", quick))
    y = np.eye(10, dtype="float32")[labels]
    model = keras.Sequential([
        keras.Input((784,)),
        keras.layers.Dense(1024, activation="relu"),
        keras.layers.Dense(1024, activation="relu"),
        keras.layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer=keras.optimizers.SGD(momentum=0.9), loss="categorical_crossentropy")
    same_weights(model, 3)
    return lambda: model.fit(x, y, batch_size=256, epochs=1, verbose=0)


def prepare_w4(keras, quick):
    x, _ = mnist_like(size("W2_samples", quick))
    model = w2_model(keras)
    return lambda: model.predict(x, verbose=0)


def prepare_w5(keras, quick):
    """The median seconds of one ``train_on_batch`` call, over calls on successive batches."""
    x, y = mnist_like(size("W2_samples", quick))
    model = w2_model(keras)
    batches = [(x[i:i + 32], y[i:i + 32]) for i in range(0, 32 * 100, 32)]
    calls = size("W5_calls", quick)

    def run():
        seconds = []
        for i in range(calls):
            xb, yb = batches[i % len(batches)]
            start = time.perf_counter()
            model.train_on_batch(xb, yb)
            seconds.append(time.perf_counter() - start)
        return statistics.median(seconds)

    return run


def prepare_fb(keras, quick):
    """Median seconds of one forward+backward pass: (minikeras GradientTape, plain NumPy)."""
    x, y = mnist_like(64)
    x, y = x[:32], y[:32]
    model = keras.Sequential([
        keras.Input((784,)),
        keras.layers.Dense(128, activation="relu"),
        keras.layers.Dense(10),
    ])
    same_weights(model, 4)
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    kernel_1, bias_1, kernel_2, bias_2 = model.get_weights()

    def with_minikeras():
        with keras.GradientTape() as tape:
            loss = loss_fn(y, model(x, training=True))
        return tape.gradient(loss, model.trainable_weights)

    def with_numpy():  # the same math by hand: relu MLP, softmax cross-entropy, mean over batch
        hidden = np.maximum(x @ kernel_1 + bias_1, 0)
        logits = hidden @ kernel_2 + bias_2
        shifted = logits - logits.max(axis=1, keepdims=True)
        exp = np.exp(shifted)
        total = exp.sum(axis=1, keepdims=True)
        loss = np.mean(np.log(total[:, 0]) - shifted[np.arange(len(y)), y])
        d_logits = exp / total
        d_logits[np.arange(len(y)), y] -= 1
        d_logits /= len(y)
        d_hidden = (d_logits @ kernel_2.T) * (hidden > 0)
        return loss, [x.T @ d_hidden, d_hidden.sum(0), hidden.T @ d_logits, d_logits.sum(0)]

    calls = size("FB_calls", quick)

    def run():
        seconds = {with_minikeras: [], with_numpy: []}
        for _ in range(calls):
            for step in seconds:
                start = time.perf_counter()
                step()
                seconds[step].append(time.perf_counter() - start)
        return [statistics.median(seconds[with_minikeras]), statistics.median(seconds[with_numpy])]

    return run


PREPARE = {"W1": prepare_w1, "W2": prepare_w2, "W2b128": prepare_w2b128, "W3": prepare_w3,
           "W4": prepare_w4, "W5": prepare_w5, "FB": prepare_fb}
ONLY_MINIKERAS = {"FB"}

IMPORT_CODE = {
    "minikeras": "import minikeras",
    "tf.keras": "import tensorflow as tf; tf.keras.Sequential",  # tf.keras loads lazily
}


def import_seconds(lib, threads=None):
    """Seconds to import ``lib`` in a fresh interpreter, NumPy's own import included, and the
    part of it that was ``import numpy`` alone.

    Python's bytecode cache is on, as for any installed package (pip compiles the ``.pyc`` files
    when it installs). An editable checkout gets its cache from the first, untimed import, which
    is the warm-up every other workload gets too; ``PYTHONDONTWRITEBYTECODE`` (set on some
    machines) would otherwise make every import compile the sources anew."""
    code = (f"import time; start = time.perf_counter(); import numpy; "
            f"numpy_done = time.perf_counter(); {IMPORT_CODE[lib]}; "
            f"print(time.perf_counter() - start, numpy_done - start)")
    env = dict(worker_env(threads),
               TF_CPP_MIN_LOG_LEVEL=os.environ.get("TF_CPP_MIN_LOG_LEVEL", "2"))
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    if lib not in _IMPORTED:  # the warm-up: writes the bytecode cache
        subprocess.run([sys.executable, "-c", IMPORT_CODE[lib]], capture_output=True, env=env)
        _IMPORTED.add(lib)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    if out.returncode != 0:
        raise RuntimeError(out.stderr.strip().splitlines()[-1])
    total, numpy_part = out.stdout.strip().splitlines()[-1].split()
    return float(total), float(numpy_part)


_IMPORTED = set()  # libraries whose untimed first import has run


# --- a worker: one library, answering "run W2" requests on stdin --------------------------------

def load_keras(lib, threads=None):
    """The library's Keras module; with ``threads``, TensorFlow's own pools are limited too."""
    if lib == "minikeras":
        import minikeras
        return minikeras
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf
    if threads:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    return tf.keras


def worker(lib, quick, threads):
    keras = load_keras(lib, threads)
    answer({"ready": True, **describe_runtime(lib)})
    runs = {}
    for line in sys.stdin:
        name = line.strip()
        try:
            if name not in runs:
                runs[name] = PREPARE[name](keras, quick)
                runs[name]()  # warm-up, untimed
            start = time.perf_counter()
            result = runs[name]()
            seconds = time.perf_counter() - start
            answer({"seconds": result if name in ("W5", "FB") else seconds})
        except Exception as error:  # report it in the table, keep the other workloads going
            answer({"error": f"{type(error).__name__}: {error}"})


def answer(message):
    print(MARK + json.dumps(message), flush=True)


def describe_runtime(lib):
    info = {"numpy": np.__version__}
    try:
        from threadpoolctl import threadpool_info
        info["blas"] = [{k: pool.get(k) for k in ("internal_api", "version", "architecture",
                                                  "num_threads", "threading_layer")}
                        for pool in threadpool_info() if pool.get("user_api") == "blas"]
    except ImportError:
        info["blas"] = "threadpoolctl not installed"
    if lib == "tf.keras":
        import tensorflow as tf
        info["tensorflow"] = tf.__version__
        info["keras"] = tf.keras.__version__
        info["tf_threads(intra,inter; 0=all cores)"] = [
            tf.config.threading.get_intra_op_parallelism_threads(),
            tf.config.threading.get_inter_op_parallelism_threads()]
    return info


class Worker:
    """The parent's handle on a worker process."""

    def __init__(self, lib, quick, threads):
        self.lib = lib
        self.stderr = tempfile.TemporaryFile(mode="w+")
        command = [sys.executable, os.path.abspath(__file__), "--worker", lib]
        command += ["--quick"] if quick else []
        command += ["--threads", str(threads)] if threads else []
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=self.stderr, text=True, env=worker_env(threads))
        self.info = self.read()

    def run(self, name):
        self.process.stdin.write(name + "\n")
        self.process.stdin.flush()
        return self.read()

    def read(self):
        for line in self.process.stdout:
            if line.startswith(MARK):
                return json.loads(line[len(MARK):])
        self.stderr.seek(0)
        raise RuntimeError(f"The {self.lib} worker died:\n{self.stderr.read()[-3000:]}")

    def close(self):
        self.process.stdin.close()
        self.process.wait()
        self.stderr.close()


def worker_env(threads):
    """The environment of a worker: with ``threads``, the BLAS pools are limited before NumPy loads
    (OpenBLAS reads these variables once, at load time)."""
    env = dict(os.environ)
    if threads:
        for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            env[variable] = str(threads)
    return env


# --- the parent: interleave, take medians, print ------------------------------------------------

def measure(names, libs, repeat, quick, threads=None):
    """{(workload, lib): [seconds per repetition]} plus each library's runtime description."""
    times = {(name, lib): [] for name in names for lib in (*LIBS, "numpy")}
    workers = {}
    try:
        for rep in range(repeat):
            order = libs if rep % 2 == 0 else libs[::-1]
            for name in names:
                for lib in order:
                    if name in ONLY_MINIKERAS and lib != "minikeras":
                        continue
                    if name == "import":
                        result = run_import(lib, threads)
                    else:
                        if lib not in workers:
                            workers[lib] = Worker(lib, quick, threads)
                        result = workers[lib].run(name)
                    if "error" in result:
                        times[name, lib] = result["error"]
                    elif isinstance(times[name, lib], list):
                        if name in ("FB", "import"):  # (minikeras or total, NumPy alone)
                            if lib == "minikeras":
                                times[name, "numpy"].append(result["seconds"][1])
                            result["seconds"] = result["seconds"][0]
                        times[name, lib].append(result["seconds"])
                print(f"  repetition {rep + 1}/{repeat}: {name} done, load average "
                      f"{os.getloadavg()[0]:.2f}", file=sys.stderr, flush=True)
    finally:
        for w in workers.values():
            w.close()
    return times, {lib: w.info for lib, w in workers.items()}


def run_import(lib, threads):
    try:
        return {"seconds": import_seconds(lib, threads)}
    except RuntimeError as error:
        return {"error": f"import failed: {error}"}


def median_of(values):
    return statistics.median(values) if isinstance(values, list) and values else None


def fmt_seconds(value):
    if value is None:
        return "-"
    return f"{value * 1e3:.3f} ms" if value < 0.1 else f"{value:.3f} s"


def table(names, times, repeat):
    rows = ["| workload | minikeras | tf.keras | tf.keras / minikeras | fastest / fastest | "
            "target | met |", "|---|---|---|---|---|---|---|"]
    for name in names:
        if name == "FB":
            continue
        mk, tf = (times[name, lib] for lib in LIBS)
        errors = [v for v in (mk, tf) if isinstance(v, str)]
        if errors:
            rows.append(f"| {name} | {fmt_cell(mk)} | {fmt_cell(tf)} | error | - | - | - |")
            continue
        best = min(tf) / min(mk) if mk and tf else None
        mk, tf = median_of(mk), median_of(tf)
        ratio = tf / mk if mk and tf else None
        target = TARGETS[name]
        met = "-" if ratio is None else ("yes" if ratio >= target and ratio > 1 else "NO")
        rows.append(f"| {name} | {fmt_seconds(mk)} | {fmt_seconds(tf)} | "
                    f"{'-' if ratio is None else f'{ratio:.2f}x'} | "
                    f"{'-' if best is None else f'{best:.2f}x'} | "
                    f"{'faster' if target == 1 else f'>= {target}x'} | {met} |")
    rows += own_targets(names, times)
    rows.append(f"Medians of {repeat} repetition(s); W5 and FB: median of the per-call medians. "
                "'fastest / fastest': the ratio of each library's fastest repetition, which is "
                "less sensitive to load bursts; 'met' is judged on the medians.")
    rows.append("Every repetition, in seconds:")
    for (name, lib), values in times.items():
        if isinstance(values, list) and values:
            rows.append(f"  {name:7} {lib:9} " + " ".join(f"{v:.4g}" for v in values))
    return "\n".join(rows)


def own_targets(names, times):
    """The lines for the two targets minikeras has on its own: FB against NumPy, import time."""
    lines = []
    mk = times.get(("FB", "minikeras"))
    if "FB" in names and isinstance(mk, str):
        lines.append(f"\nFB: error: {mk}")
    elif "FB" in names and mk:
        mk, npy = median_of(mk), median_of(times["FB", "numpy"])
        lines.append(f"\nFB (784-128-10 forward + backward, batch 32): minikeras "
                     f"{fmt_seconds(mk)}, plain NumPy {fmt_seconds(npy)}: minikeras / NumPy = "
                     f"{mk / npy:.2f}x (target <= 2x: {'yes' if mk <= 2 * npy else 'NO'})")
    mk = times.get(("import", "minikeras"))
    if "import" in names and isinstance(mk, list) and mk:
        mk = median_of(mk)
        lines.append(f"import minikeras: {fmt_seconds(mk)}, of which import numpy "
                     f"{fmt_seconds(median_of(times['import', 'numpy']))} (target < 0.3 s: "
                     f"{'yes' if mk < 0.3 else 'NO'})")
    return lines


def fmt_cell(value):
    return "error" if isinstance(value, str) else fmt_seconds(median_of(value))


def header(infos, quick, threads):
    lines = [f"python {platform.python_version()}, {cpu_model()}, {os.cpu_count()} CPUs, "
             f"threads: {threads or 'library defaults'}"]
    for lib, info in infos.items():
        lines.append(f"{lib} worker: " + json.dumps(info))
    set_vars = [f"{v}={os.environ[v]}" for v in BLAS_VARIABLES if v in os.environ]
    if set_vars:
        lines.append(f"WARNING: {' '.join(set_vars)} is set, so OpenBLAS does not pick its kernel "
                     f"by itself; run with `env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE`.")
    if quick:
        lines.append("QUICK MODE: tiny sizes, one repetition. A smoke test, not a measurement.")
    return "\n".join(lines)


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


# --- profiling ----------------------------------------------------------------------------------

def profile(names, quick, threads=None, top=15):
    """cProfile each workload once (after its warm-up) and list the top functions by self time."""
    import cProfile
    import pstats

    if threads:
        from threadpoolctl import threadpool_limits  # NumPy is loaded already: limit it live
        threadpool_limits(threads)
    keras = load_keras("minikeras")
    package = os.path.dirname(os.path.abspath(keras.__file__))
    for name in names:
        if name == "import":
            continue
        run = PREPARE[name](keras, quick)
        run()
        profiler = cProfile.Profile()
        start = time.perf_counter()
        profiler.runcall(run)
        wall = time.perf_counter() - start
        stats = pstats.Stats(profiler).stats
        total = sum(tt for (_, _, tt, _, _) in stats.values())
        print(f"\n{name}: {wall:.3f} s under cProfile. Self time (tottime) by function, "
              f"% of total; cumulative (cumtime) beside it:")
        rows = []
        for (path, line, func), (_, calls, tt, ct, _) in stats.items():
            where = (os.path.relpath(path, os.path.dirname(package))
                     if path.startswith(package) else f"[{os.path.basename(path) or func}]")
            rows.append((tt, ct, calls, f"{where}:{line}({func})"))
        for tt, ct, calls, where in sorted(rows, reverse=True)[:top]:
            print(f"  {100 * tt / total:5.1f}%  cum {100 * ct / total:5.1f}%  {calls:7d} calls  "
                  f"{where}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=5, help="repetitions per workload")
    parser.add_argument("--only", default=",".join(WORKLOADS),
                        help=f"comma-separated workloads among {','.join(WORKLOADS)}")
    parser.add_argument("--libs", default=",".join(LIBS), help="minikeras, tf.keras or both")
    parser.add_argument("--quick", action="store_true", help="tiny sizes, one repetition")
    parser.add_argument("--threads", type=int, default=None,
                        help="limit both libraries to N threads (default: their own defaults)")
    parser.add_argument("--profile", action="store_true",
                        help="cProfile the workloads in minikeras instead of timing")
    parser.add_argument("--worker", choices=LIBS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return worker(args.worker, args.quick, args.threads)
    names = [n.strip() for n in args.only.split(",") if n.strip()]
    libs = tuple(n.strip() for n in args.libs.split(",") if n.strip())
    bad = [n for n in names if n not in WORKLOADS] + [lib for lib in libs if lib not in LIBS]
    if bad or not names or not libs or args.repeat < 1 or (args.threads or 1) < 1:
        parser.error(f"unknown or empty choice {bad}: workloads are {', '.join(WORKLOADS)}, "
                     f"libraries are {', '.join(LIBS)}, --repeat and --threads >= 1")
    if args.profile:
        return profile(names, args.quick, args.threads)
    repeat = 1 if args.quick else args.repeat
    load_at_start = os.getloadavg()[0]
    times, infos = measure(names, libs, repeat, args.quick, args.threads)
    print(header(infos, args.quick, args.threads))
    print(f"load average (1 min) at start {load_at_start:.2f}, at end {os.getloadavg()[0]:.2f}")
    print(table(names, times, repeat))


if __name__ == "__main__":
    main()
