"""Intersection-over-Union metrics for segmentation: ``IoU = TP / (TP + FP + FN)`` per class.

Every batch adds to a ``(num_classes, num_classes)`` confusion matrix, rows = true class, columns =
predicted class. The state is an integer matrix by default (``dtype="int64"``, as in Keras), so
sample weights are truncated to integers (Keras warns when they are floats).
"""

import warnings

import numpy as np

from minikeras import backend
from minikeras.metrics.metric import Metric


class _IoUBase(Metric):
    """The confusion matrix of class ids (``sparse_y_*=False``: one-hot rows, reduced by argmax
    over ``axis``). Pairs with a class outside ``[0, num_classes)``, or a true class equal to
    ``ignore_class``, are left out."""

    _direction = "up"

    def __init__(self, num_classes, name=None, dtype=None, ignore_class=None, sparse_y_true=True,
                 sparse_y_pred=True, axis=-1):
        super().__init__(name=name, dtype="int64" if dtype in (None, "int") else dtype)
        self.num_classes = num_classes
        self.ignore_class = ignore_class
        self.sparse_y_true = sparse_y_true
        self.sparse_y_pred = sparse_y_pred
        self.axis = axis
        self.total_cm = self.add_variable(shape=(num_classes, num_classes), initializer="zeros",
                                          dtype=self.dtype, name="total_confusion_matrix")

    def update_state(self, y_true, y_pred, sample_weight=None):
        if not self.sparse_y_true:
            y_true = np.argmax(y_true, axis=self.axis)
        if not self.sparse_y_pred:
            y_pred = np.argmax(y_pred, axis=self.axis)
        y_true = np.asarray(y_true).astype(self.dtype).reshape(-1)
        y_pred = np.asarray(y_pred).astype(self.dtype).reshape(-1)
        if sample_weight is None:
            sample_weight = 1
        elif "float" in str(getattr(sample_weight, "dtype", "")) and "int" in self.dtype:
            warnings.warn("You are passing weight as `float`, but dtype is `int`. This may "
                          "result in an incorrect weight due to type casting Consider using "
                          "integer weights.", stacklevel=2)
        sample_weight = np.broadcast_to(
            np.asarray(sample_weight).astype(self.dtype).reshape(-1), y_true.shape)
        valid = ((y_true >= 0) & (y_true < self.num_classes)
                 & (y_pred >= 0) & (y_pred < self.num_classes))
        if self.ignore_class is not None:
            valid &= y_true != self.ignore_class
        current_cm = np.zeros((self.num_classes, self.num_classes), dtype=self.dtype)
        np.add.at(current_cm, (y_true[valid].astype(np.int64), y_pred[valid].astype(np.int64)),
                  sample_weight[valid])
        self.total_cm.assign_add(current_cm)


class IoU(_IoUBase):
    """The mean IoU over ``target_class_ids``: ``IoU_c = TP_c / (TP_c + FP_c + FN_c + ε)``,
    averaged over the target classes seen so far (a class with no true and no predicted entries
    counts neither in the sum nor in the number of classes)."""

    def __init__(self, num_classes, target_class_ids, name=None, dtype=None, ignore_class=None,
                 sparse_y_true=True, sparse_y_pred=True, axis=-1):
        super().__init__(num_classes, name=name, dtype=dtype, ignore_class=ignore_class,
                         sparse_y_true=sparse_y_true, sparse_y_pred=sparse_y_pred, axis=axis)
        if max(target_class_ids) >= num_classes:
            raise ValueError(f"Target class id {max(target_class_ids)} is out of range, which "
                             f"is [0, {num_classes}).")
        self.target_class_ids = list(target_class_ids)

    def result(self):
        cm = self.total_cm.value
        true_positives = np.diag(cm)
        denominator = cm.sum(axis=0) + cm.sum(axis=1) - true_positives  # TP + FP + FN
        true_positives = true_positives[self.target_class_ids].astype(np.float32)
        denominator = denominator[self.target_class_ids].astype(np.float32)
        valid = denominator > 1e-9
        iou = np.where(valid, true_positives / (denominator + backend.epsilon()), 0)
        return np.sum(iou, axis=self.axis) / (np.sum(valid, dtype=np.float32) + backend.epsilon())

    def get_config(self):
        return {**super().get_config(), "num_classes": self.num_classes,
                "target_class_ids": self.target_class_ids, "ignore_class": self.ignore_class,
                "sparse_y_true": self.sparse_y_true, "sparse_y_pred": self.sparse_y_pred,
                "axis": self.axis}


class BinaryIoU(IoU):
    """IoU of two classes from probabilities: class 1 when ``y_pred >= threshold`` (note the
    ``>=``), else 0; ``y_true`` holds 0/1 labels."""

    def __init__(self, target_class_ids=(0, 1), threshold=0.5, name=None, dtype=None):
        super().__init__(num_classes=2, target_class_ids=target_class_ids, name=name, dtype=dtype)
        self.threshold = threshold

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = np.asarray(y_pred, dtype=np.float32) >= self.threshold
        return super().update_state(y_true, y_pred, sample_weight)

    def get_config(self):
        return {"target_class_ids": self.target_class_ids, "threshold": self.threshold,
                "name": self.name, "dtype": self.dtype}


class MeanIoU(IoU):
    """The IoU averaged over every class (``target_class_ids = range(num_classes)``)."""

    def __init__(self, num_classes, name=None, dtype=None, ignore_class=None, sparse_y_true=True,
                 sparse_y_pred=True, axis=-1):
        super().__init__(num_classes, list(range(num_classes)), name=name, dtype=dtype,
                         ignore_class=ignore_class, sparse_y_true=sparse_y_true,
                         sparse_y_pred=sparse_y_pred, axis=axis)

    def get_config(self):
        config = super().get_config()
        del config["target_class_ids"]
        return config


class OneHotIoU(IoU):
    """``IoU`` for one-hot labels (and, unless ``sparse_y_pred=True``, per-class scores)."""

    def __init__(self, num_classes, target_class_ids, name=None, dtype=None, ignore_class=None,
                 sparse_y_pred=False, axis=-1):
        super().__init__(num_classes, target_class_ids, name=name, dtype=dtype,
                         ignore_class=ignore_class, sparse_y_true=False,
                         sparse_y_pred=sparse_y_pred, axis=axis)

    def get_config(self):
        config = super().get_config()
        del config["sparse_y_true"]
        return config


class OneHotMeanIoU(MeanIoU):
    """``MeanIoU`` for one-hot labels (and, unless ``sparse_y_pred=True``, per-class scores)."""

    def __init__(self, num_classes, name=None, dtype=None, ignore_class=None, sparse_y_pred=False,
                 axis=-1):
        super().__init__(num_classes, name=name, dtype=dtype, ignore_class=ignore_class,
                         sparse_y_true=False, sparse_y_pred=sparse_y_pred, axis=axis)

    def get_config(self):
        config = super().get_config()
        del config["sparse_y_true"]
        return config
