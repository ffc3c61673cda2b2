"""``ops.linalg`` (with ``jvp``), the image helpers, ``image_dataset_from_directory`` and the
``keras.preprocessing`` namespace against Keras 3.15 (TensorFlow backend).

- the namespaces hold Keras's names, no more, no fewer;
- ``jvp`` values equal TensorFlow's ``ForwardAccumulator`` (Keras's TF backend) to rtol 1e-5,
  atol 1e-6 (minikeras computes them from reverse-mode rows, in float64 sums);
- PNG files written by either library's ``save_img`` are read back equal by the other's
  ``load_img``, and ``img_to_array`` / ``array_to_img`` / ``smart_resize`` agree exactly;
- ``image_dataset_from_directory`` on PNGs made here gives Keras's batches (as arrays), labels,
  class_names, file_paths and splits. Keras shuffles again inside tf.data, each epoch; minikeras
  shuffles the file list only, as Keras does first, so shuffled datasets are compared by their
  file_paths (Keras's list) and by the (image, label) pairs, not by batch order.
"""

import io

import keras
import numpy as np
import pytest
import tensorflow as tf

import minikeras
from minikeras import ops as mk

PIL = pytest.importorskip("PIL.Image")
RTOL, ATOL = 1e-5, 1e-6
RNG = np.random.default_rng(2031)


def _public(module):
    return {name for name in dir(module) if not name.startswith("_")}


def _f32(*shape):
    return RNG.normal(size=shape).astype("float32")


# --- namespaces ----------------------------------------------------------------------------------
def test_linalg_names_equal_keras():
    assert _public(mk.linalg) == _public(keras.ops.linalg)
    assert "jvp" in _public(mk) and "jvp" in _public(keras.ops)


@pytest.mark.parametrize("namespace", ["preprocessing", "preprocessing.image",
                                       "preprocessing.sequence"])
def test_preprocessing_names_equal_keras(namespace):
    ours, theirs = minikeras, keras
    for part in namespace.split("."):
        ours, theirs = getattr(ours, part), getattr(theirs, part)
    assert _public(ours) == _public(theirs)


def test_neither_has_preprocessing_text():
    with pytest.raises(ImportError):
        import keras.preprocessing.text  # noqa: F401
    with pytest.raises(ImportError):
        import minikeras.preprocessing.text  # noqa: F401


def test_utils_image_names_exist_in_both():
    names = {"img_to_array", "array_to_img", "save_img", "load_img",
             "image_dataset_from_directory"}
    assert names <= _public(keras.utils) and names <= _public(minikeras.utils)


# --- jvp -----------------------------------------------------------------------------------------
def _to_numpy(tree):
    return keras.tree.map_structure(lambda t: None if t is None else np.asarray(t), tree,
                                    none_is_leaf=False)


def _assert_trees_close(ours, theirs):
    ours_flat = minikeras.tree.flatten(ours)
    theirs_flat = keras.tree.flatten(theirs)
    assert len(ours_flat) == len(theirs_flat)
    for a, b in zip(ours_flat, theirs_flat, strict=True):
        assert (a is None) == (b is None)
        if a is not None:
            a, b = np.asarray(a), np.asarray(b)
            assert a.shape == b.shape and a.dtype == b.dtype, (a.shape, b.shape, a.dtype, b.dtype)
            np.testing.assert_allclose(a, b, rtol=RTOL, atol=ATOL)


SQUARE = _f32(3, 3) + 3 * np.eye(3, dtype="float32")
JVPS = {  # name: (function of an ops module, primal shapes)
    "sin": (lambda o: o.sin, [(5,)]),
    "tanh_matmul": (lambda o: lambda x, w: o.tanh(o.matmul(x, w)), [(2, 3), (3, 4)]),
    "softmax": (lambda o: lambda x: o.softmax(x, axis=-1), [(2, 5)]),
    "log_sum_exp": (lambda o: lambda x: o.logsumexp(x, axis=0), [(4, 3)]),
    "inv": (lambda o: lambda x: o.linalg.inv(x + SQUARE), [(3, 3)]),
    "det": (lambda o: lambda x: o.linalg.det(x + SQUARE), [(3, 3)]),
    "solve": (lambda o: lambda a, b: o.linalg.solve(a + SQUARE, b), [(3, 3), (3, 2)]),
    "norm": (lambda o: lambda x: o.linalg.norm(x, axis=-1), [(2, 4)]),
    "conv": (lambda o: lambda x, k: o.conv(x, k, padding="same"), [(1, 5, 5, 2), (3, 3, 2, 2)]),
    "relu_dense": (lambda o: lambda x, w, b: o.relu(o.matmul(x, w) + b), [(4, 3), (3, 2), (2,)]),
}


@pytest.mark.parametrize("name", list(JVPS))
def test_jvp_equals_tensorflow(name):
    make, shapes = JVPS[name]
    primals = [_f32(*shape) for shape in shapes]
    tangents = [_f32(*shape) for shape in shapes]
    ours = mk.linalg.jvp(make(mk), primals, tangents)
    theirs = keras.ops.linalg.jvp(make(keras.ops), [tf.constant(p) for p in primals],
                                  [tf.constant(t) for t in tangents])
    _assert_trees_close(ours, _to_numpy(theirs))


def test_jvp_nested_outputs_aux_and_unconnected_outputs_equal_tensorflow():
    def make(o):
        def fun(x, pair):
            y, z = pair
            return {"prod": x * y, "both": (o.sum(x * z), o.ones((2,)))}, o.mean(x)

        return fun

    shapes = [(3,), ((3,), (3,))]
    x, y, z = _f32(3), _f32(3), _f32(3)
    tx, ty, tz = _f32(3), _f32(3), _f32(3)
    ours = mk.jvp(make(mk), (x, (y, z)), (tx, (ty, tz)), has_aux=True)
    c = tf.constant
    theirs = keras.ops.jvp(make(keras.ops), (c(x), (c(y), c(z))), (c(tx), (c(ty), c(tz))),
                           has_aux=True)
    assert shapes and len(ours) == len(theirs) == 3
    _assert_trees_close(ours, _to_numpy(theirs))


def test_jvp_of_integer_output_is_none_in_both():
    x = np.arange(3, dtype="int32")
    ours = mk.linalg.jvp(lambda t: t * 2, (x,), (np.ones(3, "int32"),))
    theirs = keras.ops.linalg.jvp(lambda t: t * 2, (tf.constant(x),), (np.ones(3, "int32"),))
    assert ours[1] is None and theirs[1] is None
    np.testing.assert_array_equal(ours[0], theirs[0])


def test_jvp_float64_tangents_are_cast_like_tensorflow():
    x, t = _f32(4), RNG.normal(size=4)
    ours = mk.linalg.jvp(mk.exp, (x,), (t,))
    theirs = keras.ops.linalg.jvp(keras.ops.exp, (tf.constant(x),), (tf.constant(t),))
    _assert_trees_close(ours, _to_numpy(theirs))


# --- img_to_array, array_to_img, save_img, load_img, smart_resize --------------------------------
ARRAYS = {  # name: (array, data_format)
    "rgb_float": (RNG.uniform(-3, 5, (6, 7, 3)).astype("float32"), "channels_last"),
    "rgb_pixels": (RNG.integers(0, 256, (5, 4, 3)).astype("float32"), "channels_last"),
    "rgba": (RNG.uniform(0, 1, (4, 6, 4)).astype("float32"), "channels_last"),
    "grey": (RNG.uniform(0, 1, (5, 5, 1)).astype("float32"), "channels_last"),
    "channels_first": (RNG.uniform(0, 1, (3, 4, 6)).astype("float32"), "channels_first"),
}


@pytest.mark.parametrize("name", list(ARRAYS))
@pytest.mark.parametrize("scale", [True, False])
def test_array_to_img_equals_keras(name, scale):
    x, data_format = ARRAYS[name]
    if not scale:
        x = np.clip(x * 255, 0, 255)
    ours = minikeras.utils.array_to_img(x, data_format=data_format, scale=scale)
    theirs = keras.utils.array_to_img(x, data_format=data_format, scale=scale)
    assert ours.mode == theirs.mode and ours.size == theirs.size
    np.testing.assert_array_equal(np.asarray(ours), np.asarray(theirs))


def test_array_to_img_32_bit_grey_equals_keras():
    x = RNG.uniform(0, 1000, (3, 4, 1)).astype("float32")
    ours = minikeras.utils.array_to_img(x, scale=False)
    theirs = keras.utils.array_to_img(x, scale=False)
    assert ours.mode == theirs.mode == "I"
    np.testing.assert_array_equal(np.asarray(ours), np.asarray(theirs))


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("dtype", [None, "float64", "uint8"])
def test_img_to_array_equals_keras(data_format, dtype):
    for image in (PIL.fromarray(RNG.integers(0, 256, (4, 5, 3)).astype("uint8")),
                  PIL.fromarray(RNG.integers(0, 256, (4, 5)).astype("uint8")),
                  RNG.integers(0, 256, (3, 2, 4)).astype("uint8")):
        ours = minikeras.utils.img_to_array(image, data_format=data_format, dtype=dtype)
        theirs = keras.utils.img_to_array(image, data_format=data_format, dtype=dtype)
        assert ours.dtype == theirs.dtype and ours.shape == theirs.shape
        np.testing.assert_array_equal(ours, theirs)


LOADS = [{}, {"color_mode": "grayscale"}, {"color_mode": "rgba"},
         {"target_size": (3, 5)}, {"target_size": (7, 4), "interpolation": "bilinear"},
         {"target_size": (4, 4), "interpolation": "bicubic", "keep_aspect_ratio": True},
         {"target_size": (5, 2), "interpolation": "lanczos", "keep_aspect_ratio": True},
         {"target_size": (6, 6), "interpolation": "box", "color_mode": "grayscale"}]


@pytest.mark.parametrize("writer", ["keras", "minikeras"])
@pytest.mark.parametrize("name", ["rgb_float", "rgba", "grey", "channels_first"])
@pytest.mark.parametrize("options", LOADS, ids=lambda o: "-".join(f"{k}={v}" for k, v in
                                                                  o.items()) or "default")
def test_save_img_and_load_img_round_trip_both_ways(tmp_path, writer, name, options):
    """A PNG written by one library's save_img, read by both libraries' load_img: the same
    image and the same arrays."""
    x, data_format = ARRAYS[name]
    (keras if writer == "keras" else minikeras).utils.save_img(
        tmp_path / "x.png", x, data_format=data_format)
    ours = minikeras.utils.load_img(tmp_path / "x.png", **options)
    theirs = keras.utils.load_img(tmp_path / "x.png", **options)
    assert ours.mode == theirs.mode and ours.size == theirs.size
    np.testing.assert_array_equal(minikeras.utils.img_to_array(ours),
                                  keras.utils.img_to_array(theirs))


def test_the_two_save_imgs_write_the_same_pixels(tmp_path):
    for name, (x, data_format) in ARRAYS.items():
        minikeras.utils.save_img(tmp_path / f"{name}_mk.png", x, data_format=data_format)
        keras.utils.save_img(tmp_path / f"{name}_k.png", x, data_format=data_format)
        a, b = PIL.open(tmp_path / f"{name}_mk.png"), PIL.open(tmp_path / f"{name}_k.png")
        assert a.mode == b.mode
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_save_img_jpeg_and_file_objects_equal_keras(tmp_path):
    x = ARRAYS["rgba"][0]
    with pytest.warns(UserWarning, match="JPEG format does not support RGBA"):
        minikeras.utils.save_img(tmp_path / "mk.jpg", x, quality=90)
    with pytest.warns(UserWarning, match="JPEG format does not support RGBA"):
        keras.utils.save_img(tmp_path / "k.jpg", x, quality=90)
    assert (tmp_path / "mk.jpg").read_bytes() == (tmp_path / "k.jpg").read_bytes()
    ours, theirs = io.BytesIO(), io.BytesIO()
    minikeras.utils.save_img(ours, ARRAYS["rgb_float"][0], file_format="png")
    keras.utils.save_img(theirs, ARRAYS["rgb_float"][0], file_format="png")
    np.testing.assert_array_equal(minikeras.utils.img_to_array(minikeras.utils.load_img(ours)),
                                  keras.utils.img_to_array(keras.utils.load_img(theirs)))


def test_import_error_without_pillow_is_keras_s(monkeypatch):
    import sys

    from keras.src.utils import image_utils as keras_image_utils

    messages = []
    for name in ("array_to_img", "load_img"):
        monkeypatch.setattr(keras_image_utils, "pil_image", None)
        with pytest.raises(ImportError) as theirs:
            getattr(keras.utils, name)(np.zeros((2, 2, 3)) if name == "array_to_img" else "x")
        monkeypatch.setitem(sys.modules, "PIL", None)
        monkeypatch.setitem(sys.modules, "PIL.Image", None)
        with pytest.raises(ImportError) as ours:
            getattr(minikeras.utils, name)(np.zeros((2, 2, 3)) if name == "array_to_img"
                                           else "x")
        messages.append((str(ours.value), str(theirs.value)))
        monkeypatch.undo()
    for ours, theirs in messages:
        assert ours == theirs


@pytest.mark.parametrize("shape, size", [((6, 10, 3), (3, 3)), ((9, 4, 1), (4, 6)),
                                         ((2, 5, 7, 3), (5, 5)), ((4, 4, 2), (2, 8))])
@pytest.mark.parametrize("interpolation", ["bilinear", "nearest", "bicubic"])
def test_smart_resize_equals_keras(shape, size, interpolation):
    x = RNG.uniform(0, 255, shape).astype("float32")
    ours = minikeras.preprocessing.image.smart_resize(x, size, interpolation=interpolation)
    theirs = keras.preprocessing.image.smart_resize(x, size, interpolation=interpolation)
    assert isinstance(ours, np.ndarray) and isinstance(theirs, np.ndarray)
    assert ours.shape == theirs.shape and ours.dtype == theirs.dtype
    np.testing.assert_allclose(ours, theirs, rtol=RTOL, atol=1e-4)


# --- image_dataset_from_directory ----------------------------------------------------------------
@pytest.fixture(scope="module")
def image_dir(tmp_path_factory):
    """cats/ 4 PNGs (one greyscale, one RGBA, one in a nested folder), dogs/ 3, birds/ 2, of
    different sizes, written with Pillow; a .txt and a hidden folder to skip."""
    root = tmp_path_factory.mktemp("images")
    rng = np.random.default_rng(5)
    files = {"cats/a.png": (6, 8, 3), "cats/b.png": (5, 5, 1), "cats/c.png": (9, 6, 4),
             "cats/deep/d.png": (7, 4, 3), "dogs/x.png": (4, 9, 3), "dogs/y.png": (8, 8, 3),
             "dogs/z.png": (10, 7, 3), "birds/p.png": (5, 12, 3), "birds/q.png": (11, 5, 3),
             ".hidden/h.png": (4, 4, 3)}
    for name, shape in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        pixels = rng.integers(0, 256, shape).astype("uint8")
        PIL.fromarray(pixels[..., 0] if shape[-1] == 1 else pixels).save(path)
    (root / "dogs" / "notes.txt").write_text("skip")
    return root


def _both(image_dir, **options):
    options.setdefault("verbose", False)
    return (minikeras.utils.image_dataset_from_directory(image_dir, **options),
            keras.utils.image_dataset_from_directory(image_dir, **options))


def _keras_batches(dataset):
    return [tuple(np.asarray(t) for t in b) if isinstance(b, tuple) else np.asarray(b)
            for b in dataset]


def _assert_same_batches(ours, theirs, atol=1e-4):
    """Equal batch by batch: same dtypes and shapes, values to ``atol`` (float32 pixels up to
    255, resized by the same formulas in a different order: a few ulps)."""
    theirs = _keras_batches(theirs)
    assert len(ours) == len(theirs)
    largest = 0.0
    for i, expected in enumerate(theirs):
        got = ours[i]
        got, expected = ((got,), (expected,)) if not isinstance(expected, tuple) else (got,
                                                                                       expected)
        for a, b in zip(got, expected, strict=True):
            assert a.dtype == b.dtype and a.shape == b.shape, (a.dtype, b.dtype, a.shape, b.shape)
            np.testing.assert_allclose(a, b, rtol=0, atol=atol)
            largest = max(largest, float(np.abs(a.astype("float64") - b).max()))
    return largest


@pytest.mark.parametrize("interpolation", ["bilinear", "nearest", "bicubic", "area", "lanczos3"])
@pytest.mark.parametrize("rule", ["stretch", "crop_to_aspect_ratio", "pad_to_aspect_ratio"])
@pytest.mark.parametrize("image_size", [(6, 8), (9, 4)])
def test_batches_equal_keras(image_dir, interpolation, rule, image_size):
    extra = {} if rule == "stretch" else {rule: True}
    ours, theirs = _both(image_dir, image_size=image_size, batch_size=4, shuffle=False,
                         interpolation=interpolation, **extra)
    _assert_same_batches(ours, theirs)
    assert ours.class_names == theirs.class_names == ["birds", "cats", "dogs"]
    assert ours.file_paths == theirs.file_paths


@pytest.mark.parametrize("options", [
    {"color_mode": "grayscale"}, {"color_mode": "rgba"}, {"color_mode": "grayscale",
                                                          "interpolation": "nearest"},
    {"data_format": "channels_first"}, {"data_format": "channels_first",
                                        "pad_to_aspect_ratio": True},
    {"batch_size": None}, {"label_mode": "categorical"}, {"label_mode": None},
    {"labels": None}, {"labels": [2, 0, 1, 1, 0, 3, 2, 2, 1, 0]},
    {"class_names": ["dogs", "cats"]}, {"class_names": ["dogs", "birds"], "label_mode": "binary"},
    {"image_size": 5, "follow_links": True},
], ids=lambda o: "-".join(f"{k}={v}" for k, v in o.items()))
def test_options_equal_keras(image_dir, options):
    options = {"image_size": (5, 6), "batch_size": 3, "shuffle": False, **options}
    ours, theirs = _both(image_dir, **options)
    _assert_same_batches(ours, theirs)
    assert ours.class_names == theirs.class_names
    assert ours.file_paths == theirs.file_paths


def _pairs(dataset, keras_dataset=False):
    """The dataset's (image bytes, label) pairs, sorted: its content without its order."""
    batches = _keras_batches(dataset) if keras_dataset else list(dataset)
    pairs = []
    for images, labels in batches:
        for image, label in zip(images, labels, strict=True):
            pairs.append((np.round(image, 3).tobytes(), int(label)))
    return sorted(pairs)


@pytest.mark.parametrize("seed", [1, 42])
def test_shuffled_dataset_has_keras_files_and_pairs(image_dir, seed):
    ours, theirs = _both(image_dir, image_size=(4, 4), batch_size=4, seed=seed)
    assert ours.file_paths == theirs.file_paths
    assert _pairs(ours) == _pairs(theirs, keras_dataset=True)


@pytest.mark.parametrize("split", [0.2, 0.34, 0.5])
@pytest.mark.parametrize("shuffle", [True, False])
def test_validation_splits_equal_keras(image_dir, split, shuffle):
    options = {"image_size": (4, 4), "batch_size": 2, "seed": 7, "shuffle": shuffle,
               "validation_split": split}
    (our_train, our_val), (train, val) = _both(image_dir, subset="both", **options)
    assert our_train.file_paths == train.file_paths and our_val.file_paths == val.file_paths
    assert our_train.class_names == train.class_names
    _assert_same_batches(our_val, val)  # Keras does not shuffle the validation half
    assert _pairs(our_train) == _pairs(train, keras_dataset=True)
    for subset, expected in (("training", train), ("validation", val)):
        ours, theirs = _both(image_dir, subset=subset, **options)
        assert ours.file_paths == theirs.file_paths == expected.file_paths
        assert _pairs(ours) == _pairs(theirs, keras_dataset=True)


@pytest.mark.parametrize("options", [
    {"color_mode": "cmyk"}, {"image_size": (1, 2, 3)}, {"interpolation": "cubic"},
    {"label_mode": "sparse"}, {"labels": "folders"}, {"format": "numpy"},
    {"crop_to_aspect_ratio": True, "pad_to_aspect_ratio": True},
    {"validation_split": 0.2, "subset": "training"}, {"subset": "training"},
    {"validation_split": 1.5, "subset": "training", "seed": 1},
    {"label_mode": "binary"}, {"class_names": ["cats", "fish"]},
    {"labels": [0, 1], "class_names": ["a", "b"]}, {"labels": [0, 1]},
], ids=lambda o: "-".join(f"{k}={v}" for k, v in o.items()))
def test_refuses_what_keras_refuses(image_dir, options):
    with pytest.raises(ValueError) as theirs:
        keras.utils.image_dataset_from_directory(image_dir, verbose=False, **options)
    with pytest.raises(ValueError) as ours:
        minikeras.utils.image_dataset_from_directory(image_dir, verbose=False, **options)
    assert str(ours.value) == str(theirs.value)


def test_messages_equal_keras(image_dir, capsys):
    minikeras.utils.image_dataset_from_directory(image_dir, validation_split=0.3,
                                                 subset="both", seed=1)
    ours = capsys.readouterr().out
    keras.utils.image_dataset_from_directory(image_dir, validation_split=0.3, subset="both",
                                             seed=1)
    assert ours == capsys.readouterr().out


@pytest.mark.parametrize("name", ["image_dataset_from_directory", "text_dataset_from_directory"])
@pytest.mark.parametrize("kwargs", [dict(labels="classes"),
                                    dict(labels=[0, 1], class_names=["a", "b"]),
                                    dict(label_mode="sparse")], ids=str)
def test_bad_label_arguments_raise_keras_s_errors(name, kwargs, tmp_path):
    messages = []
    for lib in (keras, minikeras):
        with pytest.raises(ValueError) as error:
            getattr(lib.utils, name)(str(tmp_path), **kwargs)
        messages.append(str(error.value))
    assert messages[1] == messages[0]
