"""Unit tests (NumPy only) of ``ops.linalg`` as Keras's namespace and its ``jvp``; of the image
helpers ``img_to_array``, ``array_to_img``, ``save_img``, ``load_img``, ``smart_resize``; of
``image_dataset_from_directory``; and of the ``keras.preprocessing`` namespace.

Tests that read or write image files need Pillow (installed by the ``test`` extra) and are
skipped without it. compat_tests/test_image_utils_preprocessing_parity.py checks the same
against Keras and TensorFlow.
"""

import importlib.util
import sys
import warnings

import numpy as np
import pytest

import minikeras as keras
from minikeras import ops

HAS_PIL = importlib.util.find_spec("PIL") is not None
needs_pil = pytest.mark.skipif(not HAS_PIL, reason="Pillow is not installed")
RNG = np.random.default_rng(7)

KERAS_LINALG = {"cholesky", "cholesky_inverse", "det", "eig", "eigh", "inv", "jvp", "lstsq",
                "lu_factor", "matrix_rank", "norm", "pinv", "qr", "solve", "solve_triangular",
                "svd"}  # dir(keras.ops.linalg), Keras 3.15


def _public(module):
    return {name for name in dir(module) if not name.startswith("_")}


# --- ops.linalg, the namespace --------------------------------------------------------------------
def test_linalg_namespace_holds_keras_names_only():
    assert _public(ops.linalg) == KERAS_LINALG


def test_linalg_namespace_ops_are_the_quiet_top_level_ops():
    import minikeras.ops.linalg as by_import

    assert by_import is ops.linalg
    for name in KERAS_LINALG:
        fn = getattr(ops.linalg, name)
        assert fn is getattr(ops, name), name
        assert getattr(fn, "is_quiet", False), name


def test_linalg_namespace_is_quiet_on_singular_matrices():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_array_equal(ops.linalg.norm(np.float32([np.inf, 1.0])), np.inf)
        assert float(ops.linalg.det(np.zeros((2, 2), "float32"))) == 0.0


def test_linalg_helpers_stay_reachable_but_hidden():
    assert "np" not in dir(ops.linalg) and "record" not in dir(ops.linalg)
    assert ops.linalg.np is np  # from the implementation module, as ops.nn's helpers


# --- jvp ------------------------------------------------------------------------------------------
def _f32(*shape):
    return RNG.normal(size=shape).astype("float32")


def _jacobian_by_reverse_mode(fun, x):
    """The full Jacobian of ``fun`` at ``x`` (one tape.gradient per output entry)."""
    x = keras.Tensor(x)
    rows = []
    for i in range(np.asarray(fun(x)).size):
        with keras.GradientTape() as tape:
            tape.watch(x)
            y = ops.reshape(fun(x), (-1,))[i]
        rows.append(np.asarray(tape.gradient(y, x)).ravel())
    return np.stack(rows)


@pytest.mark.parametrize("fun", [
    ops.sin,
    lambda x: ops.tanh(ops.matmul(x, ops.transpose(x))),
    lambda x: ops.softmax(x * 2.0, axis=-1),
    lambda x: ops.linalg.inv(x + 3.0 * ops.eye(3)),
    lambda x: ops.sum(ops.square(x), axis=0),
], ids=["sin", "tanh_matmul", "softmax", "inv", "sum_of_squares"])
def test_jvp_is_the_jacobian_times_the_tangent(fun):
    x, v = _f32(3, 3), _f32(3, 3)
    out, tangent = ops.linalg.jvp(fun, (x,), (v,))
    np.testing.assert_allclose(out, fun(x), rtol=1e-6)
    expected = _jacobian_by_reverse_mode(fun, x) @ v.ravel()
    np.testing.assert_allclose(np.asarray(tangent).ravel(), expected, rtol=1e-5, atol=1e-6)
    assert np.asarray(tangent).dtype == np.float32


def test_jvp_of_a_linear_map_is_the_map_of_the_tangent():
    a = _f32(4, 3)
    _, tangent = ops.jvp(lambda x: ops.matmul(a, x), (_f32(3, 2),), (v := _f32(3, 2),))
    np.testing.assert_allclose(tangent, a @ v, rtol=1e-6)


def test_jvp_is_exact_not_a_finite_difference():
    """exp has J v = exp(x) v: the value agrees to float64 rounding (a finite difference would
    be off by about sqrt(eps))."""
    x, v = np.array([0.5, -1.0, 2.0]), np.array([1.0, 3.0, -2.0])
    _, tangent = ops.linalg.jvp(ops.exp, (x,), (v,))
    np.testing.assert_allclose(tangent, np.exp(x) * v, rtol=1e-15)


def test_jvp_several_arguments_nested_outputs_and_aux():
    x, y, vx, vy = _f32(2), _f32(2), _f32(2), _f32(2)

    def fun(a, pair):
        b, c = pair
        return {"prod": a * b, "rest": (ops.sum(a) + c,)}, "aux"

    out, tangent, aux = ops.linalg.jvp(fun, (x, (y, 1.5)), (vx, (vy, 0.0)), has_aux=True)
    assert aux == "aux" and set(out) == {"prod", "rest"}
    np.testing.assert_allclose(tangent["prod"], vx * y + x * vy, rtol=1e-6)
    np.testing.assert_allclose(tangent["rest"][0], vx.sum(), rtol=1e-6)


def test_jvp_of_an_unconnected_or_integer_output_is_none_as_tensorflow():
    x, v = _f32(3), _f32(3)
    assert ops.linalg.jvp(lambda t: ops.ones((2,)), (x,), (v,))[1] is None
    out, tangent = ops.linalg.jvp(lambda t: t * 2, (np.arange(3, dtype="int32"),),
                                  (np.ones(3, "int32"),))
    assert tangent is None and np.asarray(out).tolist() == [0, 2, 4]


def test_jvp_casts_tangents_to_the_primal_dtype_and_checks_shapes():
    _, tangent = ops.linalg.jvp(ops.sin, (np.float32([0.1, 0.2]),), (np.float64([1.0, 2.0]),))
    assert np.asarray(tangent).dtype == np.float32
    with pytest.raises(ValueError, match="primal's shape"):
        ops.linalg.jvp(ops.sin, (np.zeros(3, "float32"),), (np.zeros(2, "float32"),))
    with pytest.raises(ValueError, match="structure"):
        ops.linalg.jvp(ops.add, (np.zeros(3), np.zeros(3)), (np.zeros(3),))
    with pytest.raises(TypeError, match="tuples or lists"):
        ops.linalg.jvp(ops.sin, np.zeros(3), np.zeros(3))


def test_jvp_each_primal_is_its_own_input():
    """As jax.jvp: d(a * b) = da * b + a * db, even when a and b are the same tensor
    (TensorFlow's ForwardAccumulator refuses that call)."""
    x = keras.Tensor(np.float32([1.0, 2.0]))
    _, tangent = ops.jvp(ops.multiply, (x, x), (np.float32([1, 0]), np.float32([0, 1])))
    np.testing.assert_allclose(tangent, [1.0, 2.0])


def test_jvp_of_a_variable_primal():
    w = keras.Variable(np.float32([1.0, -2.0]))
    out, tangent = ops.linalg.jvp(ops.square, (w,), (np.float32([1.0, 1.0]),))
    np.testing.assert_allclose(tangent, [2.0, -4.0])


# --- img_to_array and smart_resize (NumPy only) ---------------------------------------------------
def test_img_to_array_shapes_dtypes_and_data_formats():
    rgb = RNG.integers(0, 256, (4, 5, 3)).astype("uint8")
    x = keras.utils.img_to_array(rgb)
    assert x.dtype == np.float32 and x.shape == (4, 5, 3)
    np.testing.assert_array_equal(x, rgb)
    assert keras.utils.img_to_array(rgb, data_format="channels_first").shape == (3, 4, 5)
    grey = RNG.integers(0, 256, (4, 5)).astype("uint8")
    assert keras.utils.img_to_array(grey).shape == (4, 5, 1)
    assert keras.utils.img_to_array(grey, data_format="channels_first").shape == (1, 4, 5)
    assert keras.utils.img_to_array(grey, dtype="uint8").dtype == np.uint8
    with pytest.raises(ValueError, match="Unsupported image shape"):
        keras.utils.img_to_array(np.zeros(3))


def test_smart_resize_crops_the_centre_then_resizes():
    image = np.arange(6 * 10 * 1, dtype="float32").reshape(6, 10, 1)
    out = keras.preprocessing.image.smart_resize(image, (3, 3))
    assert isinstance(out, np.ndarray) and out.shape == (3, 3, 1)
    np.testing.assert_allclose(out, ops.image.resize(image[:, 2:8], (3, 3)))  # 6x6 centre
    batch = keras.preprocessing.image.smart_resize(np.stack([image, image]), (3, 3))
    assert batch.shape == (2, 3, 3, 1)
    assert isinstance(keras.preprocessing.image.smart_resize(keras.Tensor(image), (2, 4)),
                      keras.Tensor)
    with pytest.raises(ValueError, match="incorrect rank"):
        keras.preprocessing.image.smart_resize(np.zeros((3, 3)), (2, 2))


# --- Pillow is optional ---------------------------------------------------------------------------
def test_without_pillow_the_file_functions_raise_keras_import_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "PIL", None)
    monkeypatch.setitem(sys.modules, "PIL.Image", None)
    with pytest.raises(ImportError, match=r"^Could not import PIL.Image. The use of "
                                          r"`array_to_img` requires PIL.$"):
        keras.utils.array_to_img(np.zeros((2, 2, 3)))
    with pytest.raises(ImportError, match="`array_to_img` requires PIL"):
        keras.utils.save_img("x.png", np.zeros((2, 2, 3)))
    with pytest.raises(ImportError, match="`load_img` requires PIL"):
        keras.utils.load_img("x.png")
    np.testing.assert_array_equal(keras.utils.img_to_array(np.ones((2, 2))), np.ones((2, 2, 1)))


# --- array_to_img, save_img, load_img (Pillow) ----------------------------------------------------
@needs_pil
def test_array_to_img_modes_and_scaling():
    x = RNG.uniform(-1, 1, (4, 5, 3)).astype("float32")
    img = keras.utils.array_to_img(x)
    assert img.mode == "RGB" and img.size == (5, 4)
    pixels = np.asarray(img)
    assert pixels.min() == 0 and pixels.max() == 255
    np.testing.assert_array_equal(pixels, ((x - x.min()) / (x - x.min()).max() * 255)
                                  .astype("uint8"))
    assert keras.utils.array_to_img(np.zeros((4, 5, 4))).mode == "RGBA"
    assert keras.utils.array_to_img(np.zeros((4, 5, 1))).mode == "L"
    assert keras.utils.array_to_img(np.full((4, 5, 1), 300.0), scale=False).mode == "I"
    assert keras.utils.array_to_img(np.zeros((3, 4, 5)), data_format="channels_first").size == (
        5, 4)
    with pytest.raises(ValueError, match="rank 3"):
        keras.utils.array_to_img(np.zeros((4, 5)))
    with pytest.raises(ValueError, match="Unsupported channel number: 2"):
        keras.utils.array_to_img(np.zeros((4, 5, 2)))


@needs_pil
@pytest.mark.parametrize("channels, color_mode", [(3, "rgb"), (4, "rgba"), (1, "grayscale")])
def test_png_round_trip_is_exact(tmp_path, channels, color_mode):
    pixels = RNG.integers(0, 256, (6, 7, channels)).astype("float32")
    keras.utils.save_img(tmp_path / "x.png", pixels, scale=False)
    back = keras.utils.img_to_array(keras.utils.load_img(tmp_path / "x.png",
                                                         color_mode=color_mode))
    np.testing.assert_array_equal(back, pixels)


@needs_pil
def test_load_img_converts_resizes_and_crops(tmp_path):
    pixels = RNG.integers(0, 256, (6, 12, 3)).astype("uint8")
    keras.utils.save_img(str(tmp_path / "x.png"), pixels, scale=False)
    assert keras.utils.load_img(tmp_path / "x.png", color_mode="grayscale").mode == "L"
    assert keras.utils.load_img(tmp_path / "x.png", color_mode="rgba").mode == "RGBA"
    small = keras.utils.load_img(tmp_path / "x.png", target_size=(3, 4))
    np.testing.assert_array_equal(np.asarray(small), np.asarray(
        keras.utils.load_img(tmp_path / "x.png").resize((4, 3), 0)))  # 0: nearest
    square = keras.utils.load_img(tmp_path / "x.png", target_size=(6, 6), keep_aspect_ratio=True)
    np.testing.assert_array_equal(np.asarray(square), pixels[:, 3:9])  # the centre, unscaled
    with pytest.raises(ValueError, match="Invalid interpolation method cubic"):
        keras.utils.load_img(tmp_path / "x.png", target_size=(3, 3), interpolation="cubic")
    with pytest.raises(ValueError, match="color_mode must be"):
        keras.utils.load_img(tmp_path / "x.png", color_mode="cmyk")
    with pytest.raises(TypeError, match="path-like or io.BytesIO"):
        keras.utils.load_img(42)


@needs_pil
def test_save_img_to_a_file_object_and_rgba_jpeg(tmp_path):
    import io

    buffer = io.BytesIO()
    keras.utils.save_img(buffer, np.zeros((3, 3, 3)), file_format="png")
    assert keras.utils.load_img(io.BytesIO(buffer.getvalue())).size == (3, 3)
    with pytest.warns(UserWarning, match="JPEG format does not support RGBA"):
        keras.utils.save_img(tmp_path / "x.jpg", np.zeros((3, 3, 4)))
    assert keras.utils.load_img(tmp_path / "x.jpg", color_mode="rgba").size == (3, 3)


# --- image_dataset_from_directory (Pillow) --------------------------------------------------------
@pytest.fixture
def image_dir(tmp_path):
    """cats/ (3 PNGs, one nested, one greyscale), dogs/ (2 PNGs), a .txt file and a hidden
    folder that are skipped; sizes differ."""
    if not HAS_PIL:
        pytest.skip("Pillow is not installed")
    files = {"cats/a.png": (6, 8, 3), "cats/b.png": (5, 5, 1), "cats/deep/c.PNG": (7, 4, 3),
             "dogs/x.png": (4, 9, 3), "dogs/y.png": (8, 8, 3), ".hidden/z.png": (4, 4, 3)}
    for name, shape in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        keras.utils.save_img(path, RNG.integers(0, 256, shape).astype("float32"), scale=False,
                             file_format="png")
    (tmp_path / "dogs" / "notes.txt").write_text("skip")
    return tmp_path


def test_image_dataset_infers_labels_from_sorted_subfolders(image_dir, capsys):
    ds = keras.utils.image_dataset_from_directory(image_dir, image_size=(4, 6), batch_size=2,
                                                  shuffle=False)
    assert capsys.readouterr().out == "Found 5 files belonging to 2 classes.\n"
    assert isinstance(ds, keras.utils.PyDataset) and ds.class_names == ["cats", "dogs"]
    assert [p.split("/")[-1] for p in map(str, ds.file_paths)] == [
        "a.png", "b.png", "c.PNG", "x.png", "y.png"]
    batches = list(ds)
    assert [len(b[0]) for b in batches] == [2, 2, 1]
    images, labels = batches[0]
    assert images.shape == (2, 4, 6, 3) and images.dtype == np.float32
    assert labels.dtype == np.int32
    np.testing.assert_array_equal(np.concatenate([b[1] for b in batches]), [0, 0, 0, 1, 1])
    # the greyscale file is read as RGB: three equal channels
    np.testing.assert_array_equal(images[1][..., 0], images[1][..., 2])


def test_image_dataset_images_are_the_resized_files(image_dir):
    ds = keras.utils.image_dataset_from_directory(image_dir, image_size=(3, 3), batch_size=None,
                                                  shuffle=False, verbose=False)
    image, label = ds[0]
    original = keras.utils.img_to_array(keras.utils.load_img(image_dir / "cats" / "a.png"))
    np.testing.assert_allclose(image, ops.image.resize(original, (3, 3)), rtol=1e-6)
    assert image.shape == (3, 3, 3) and label == 0


def test_image_dataset_color_modes_formats_and_resize_rules(image_dir):
    def first(**options):
        ds = keras.utils.image_dataset_from_directory(
            image_dir, image_size=(4, 4), shuffle=False, verbose=False, **options)
        return ds[0][0]

    assert first(color_mode="grayscale").shape == (5, 4, 4, 1)
    assert first(color_mode="rgba").shape == (5, 4, 4, 4)
    assert first(data_format="channels_first").shape == (5, 3, 4, 4)
    assert first(interpolation="nearest").dtype == np.uint8  # as tf.image.resize
    padded = first(pad_to_aspect_ratio=True)[3]  # dogs/x.png, 4x9: fits as 1x4, padded
    assert (padded[:1] == 0).all() and (padded[2:] == 0).all() and padded[1].any()
    cropped = first(crop_to_aspect_ratio=True)[3]
    x = keras.utils.img_to_array(keras.utils.load_img(image_dir / "dogs" / "x.png"))
    np.testing.assert_allclose(cropped, ops.image.resize(x[:, 2:6], (4, 4)), rtol=1e-6)


def test_image_dataset_label_modes(image_dir):
    def labels(mode, **options):
        return keras.utils.image_dataset_from_directory(
            image_dir, label_mode=mode, image_size=(2, 2), shuffle=False, verbose=False,
            **options)[0][1]

    assert labels("categorical").tolist() == [[1, 0]] * 3 + [[0, 1]] * 2
    binary = labels("binary")
    assert binary.shape == (5, 1) and binary.dtype == np.float32
    given = labels("int", labels=[3, 1, 3, 0, 1, 2])  # every file under the folder, sorted:
    assert given.tolist() == [3, 1, 3, 0, 1, 2]  # .hidden/z.png too, as in Keras
    ds = keras.utils.image_dataset_from_directory(image_dir, labels=None, image_size=(2, 2),
                                                  verbose=False)
    assert ds.class_names is None and ds[0].shape == (6, 2, 2, 3)  # .hidden/z.png too


def test_image_dataset_shuffle_and_validation_split(image_dir):
    def make(**options):
        return keras.utils.image_dataset_from_directory(image_dir, image_size=(2, 2),
                                                        verbose=False, **options)

    a, b = make(seed=3), make(seed=3)
    assert a.file_paths == b.file_paths
    order = np.random.RandomState(3).permutation(5)
    assert a.file_paths == [make(shuffle=False).file_paths[i] for i in order]
    train, val = make(validation_split=0.4, subset="both", seed=3)
    assert train.file_paths == a.file_paths[:3] and val.file_paths == a.file_paths[3:]
    assert make(validation_split=0.4, subset="validation", seed=3).file_paths == val.file_paths
    np.testing.assert_array_equal(val[0][1], a[0][1][3:])
    assert train.class_names == val.class_names == ["cats", "dogs"]


def test_image_dataset_refuses_what_keras_refuses(image_dir):
    make = keras.utils.image_dataset_from_directory
    with pytest.raises(ValueError, match="`color_mode` must be one of"):
        make(image_dir, color_mode="cmyk")
    with pytest.raises(ValueError, match="Invalid `image_size`"):
        make(image_dir, image_size=(1, 2, 3))
    with pytest.raises(ValueError, match="`interpolation` should be one of"):
        make(image_dir, interpolation="cubic")
    with pytest.raises(ValueError, match="Only one of `pad_to_aspect_ratio`"):
        make(image_dir, crop_to_aspect_ratio=True, pad_to_aspect_ratio=True)
    with pytest.raises(ValueError, match="you must provide a `seed`"):
        make(image_dir, validation_split=0.2, subset="training")
    with pytest.raises(ValueError, match="exactly 2"):
        make(image_dir / "cats", label_mode="binary", verbose=False)
    with pytest.raises(ValueError, match="No images found"):
        make(image_dir / ".hidden", verbose=False)


def test_image_dataset_trains_a_model(image_dir):
    """The tutorial's flow: a folder of images straight into fit()."""
    ds = keras.utils.image_dataset_from_directory(image_dir, image_size=(4, 4), batch_size=2,
                                                  seed=1, verbose=False)
    model = keras.Sequential([keras.Input((4, 4, 3)), keras.layers.Rescaling(1 / 255),
                              keras.layers.Flatten(), keras.layers.Dense(2)])
    model.compile(optimizer="sgd",
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    history = model.fit(ds, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2


# --- keras.preprocessing --------------------------------------------------------------------------
def test_preprocessing_namespace_is_keras_3s():
    assert _public(keras.preprocessing) == {
        "image", "image_dataset_from_directory", "sequence", "text_dataset_from_directory",
        "timeseries_dataset_from_array"}
    assert _public(keras.preprocessing.image) == {"array_to_img", "img_to_array", "load_img",
                                                  "save_img", "smart_resize"}
    assert _public(keras.preprocessing.sequence) == {"pad_sequences"}
    assert keras.preprocessing.image.load_img is keras.utils.load_img
    assert keras.preprocessing.sequence.pad_sequences is keras.utils.pad_sequences
    for name in ("image_dataset_from_directory", "text_dataset_from_directory",
                 "timeseries_dataset_from_array"):
        assert getattr(keras.preprocessing, name) is getattr(keras.utils, name)


def test_tutorial_imports_work():
    from minikeras.preprocessing.image import img_to_array, load_img  # noqa: F401
    from minikeras.preprocessing.sequence import pad_sequences

    assert pad_sequences([[1], [2, 3]]).tolist() == [[0, 1], [2, 3]]
    with pytest.raises(ImportError):  # Keras 3 has no keras.preprocessing.text either
        import minikeras.preprocessing.text  # noqa: F401
