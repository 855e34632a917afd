"""The task registry: every assignment task of the course, in one place.

A task is a region (or a few) of the reference code between ``# BEGIN SOLUTION <id>`` and
``# END SOLUTION`` comment lines, plus the tests that grade it. ``id`` is ``chapter.number``;
``covers`` names the functions the regions sit in (``path::Class.method``), ``tests`` the pytest
node ids the student sees (each carries the marker ``task<chapter>_<number>``, e.g.
``pytest -m task2_3``), ``hidden`` the instructor-only tests, which are worth ``hidden_points``
on top of ``points`` and never reach a student tree.

``needs`` lists the other tasks whose code a task's tests also run: 1.1's hidden test multiplies
tensors of different shapes, so its backward calls 1.4's ``unbroadcast``, and a stubbed 1.4 makes
1.1 fail with ``NotImplementedError: Task 1.4: ...``. ``hint`` points the student at the tutorial
section that teaches the idea; ``Task.hint_line`` is the one line a student sees.

The static checks in ``tests/assignments/`` keep this file, the markers and the tests in step.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

__all__ = ["Task", "TASKS", "TASKS_BY_ID", "HIDDEN_TESTS_DIR", "get_task", "select_tasks", "HINT_FORMAT"]

HIDDEN_TESTS_DIR = "tests/tasks/hidden"  # instructor-only: never copied into a student tree

_CH1 = "tests/tasks/test_ch01_autograd.py::"
_CH2 = "tests/tasks/test_ch02_convolution.py::"
_CH3 = "tests/tasks/test_ch03_pooling_backprop.py::"
_CH4 = "tests/tasks/test_ch04_training.py::"
_CH5 = "tests/tasks/test_ch05_seeing_inside.py::"
_CH6 = "tests/tasks/test_ch06_common_structures.py::"
_CH7 = "tests/tasks/test_ch07_compression.py::"
_CH8 = "tests/tasks/test_ch08_beyond.py::"
_HIDDEN = HIDDEN_TESTS_DIR + "/test_hidden_tasks.py::"

# A hint reads "tutorials/NN_name.py, section '<the section's heading>': <the idea in one line>".
HINT_FORMAT = re.compile(r"^(?P<file>tutorials/[\w.-]+\.py), section '(?P<section>[^']+)': (?P<idea>.+)$")


@dataclass(frozen=True)
class Task:
    id: str
    title: str
    points: int
    covers: tuple[str, ...]
    tests: tuple[str, ...]
    hidden: tuple[str, ...] = field(default=())
    hidden_points: int = 0
    needs: tuple[str, ...] = ()
    hint: str = ""

    @property
    def chapter(self) -> int:
        return int(self.id.split(".")[0])

    @property
    def functions(self) -> tuple[str, ...]:
        """The functions (or classes) a student edits, in ``covers`` order: ``("MulFunction",)``."""
        names = (c.split("::")[1].split(".")[0] for c in self.covers)
        return tuple(dict.fromkeys(names))

    @property
    def hint_source(self) -> tuple[str, str]:
        """``(tutorial file, section heading)`` named by ``hint``; ``ValueError`` if it is malformed."""
        match = HINT_FORMAT.match(self.hint)
        if match is None:
            raise ValueError(f"task {self.id}: hint {self.hint!r} does not read "
                             "\"tutorials/NN_name.py, section '<heading>': <idea>\"; fix it in tasks.py")
        return match["file"], match["section"]

    @property
    def hint_line(self) -> str:
        """What a student reads, e.g. ``Task 1.1 hint: tutorials/01_...py, section '4. ...': ...;
        needs task 1.4 (unbroadcast) too``."""
        line = f"Task {self.id} hint: {self.hint}" if self.hint else f"Task {self.id}: no hint yet"
        if self.needs:
            names = ", ".join(f"{n} ({', '.join(TASKS_BY_ID[n].functions)})" for n in self.needs)
            line += f"; needs task{'s' if len(self.needs) > 1 else ''} {names} too"
        return line

    @property
    def marker(self) -> str:
        """The pytest marker of this task's tests: ``2.3`` -> ``task2_3``."""
        return "task" + self.id.replace(".", "_")


def _t(id: str, title: str, points: int, covers: str, tests: str, prefix: str, hidden: str = "",
       hidden_points: int = 0) -> Task:
    """Compact constructor: ``covers`` / ``tests`` / ``hidden`` are space-separated lists."""
    return Task(id, title, points, tuple(covers.split()), tuple(prefix + t for t in tests.split()),
                tuple(_HIDDEN + h for h in hidden.split()), hidden_points)


_E, _R, _U, _A = ("minitorch_cnn/ops/elementwise.py::", "minitorch_cnn/ops/reduce.py::",
                  "minitorch_cnn/ops/_util.py::", "minitorch_cnn/autograd.py::")
_CR, _W, _PR, _P = ("minitorch_cnn/ops/conv_reference.py::", "minitorch_cnn/ops/windows.py::",
                    "minitorch_cnn/ops/pool_reference.py::", "minitorch_cnn/ops/pool.py::")

_TASKS: tuple[Task, ...] = (
    # chapter 1: tensors and autograd
    _t("1.1", "Mul forward and backward", 2, f"{_E}MulFunction.forward {_E}MulFunction.backward",
       "test_mul_forward test_mul_backward_same_shape", _CH1, "test_hidden_mul_broadcast_grad", 1),
    _t("1.2", "Exp forward and backward", 1, f"{_E}ExpFunction.forward {_E}ExpFunction.backward",
       "test_exp_forward_and_backward", _CH1),
    _t("1.3", "Sum backward: copy the gradient over the reduced axes", 2, f"{_R}_expand_back",
       "test_sum_backward_all test_sum_backward_dims", _CH1),
    _t("1.4", "unbroadcast: sum a gradient back to the input's shape", 2, f"{_U}unbroadcast",
       "test_unbroadcast_leading_axes test_unbroadcast_size_one_axes", _CH1),
    _t("1.5", "Topological order of the graph", 3, f"{_A}topological_order",
       "test_topological_order_diamond test_backward_through_diamond", _CH1),
    _t("1.6", "ReLU forward and backward", 1, f"{_E}ReLUFunction.forward {_E}ReLUFunction.backward",
       "test_relu_forward_and_backward", _CH1),
    _t("1.7", "Softmax backward", 2, f"{_E}SoftmaxFunction.backward", "test_softmax_backward", _CH1),
    # chapter 2: convolution
    _t("2.1", "Loop-reference 2-d correlation", 2, f"{_CR}correlate2d_reference",
       "test_correlate2d_known_values", _CH2, "test_hidden_correlate2d_random", 1),
    _t("2.2", "Output size of a convolution", 1, f"{_W}out_size", "test_out_size_formula", _CH2),
    _t("2.3", "Loop-reference N-d convolution (stride, padding, dilation, groups)", 3,
       f"{_CR}conv_nd_reference", "test_conv_nd_reference_known_values test_conv_nd_reference_groups", _CH2),
    _t("2.4", "im2col: the strided window view", 3, f"{_W}window_view",
       "test_window_view_out_first test_window_view_im2col_order", _CH2),
    _t("2.5", "Dilate: zeros between elements for the strided backward", 1, f"{_W}dilate",
       "test_dilate", _CH2),
    _t("2.6", "Loop-reference transposed convolution (scatter)", 2, f"{_CR}conv_transpose_nd_reference",
       "test_conv_transpose_reference_scatter", _CH2),
    # chapter 3: pooling and backprop
    _t("3.1", "Loop-reference max pooling with arg-max", 2, f"{_PR}max_pool_nd_reference",
       "test_max_pool_reference_values_and_indices", _CH3, "test_hidden_max_pool_ties", 1),
    _t("3.2", "Loop-reference average pooling (the three divisors Q)", 2, f"{_PR}avg_pool_nd_reference",
       "test_avg_pool_reference_divisors", _CH3),
    _t("3.3", "Max-pool backward: route each gradient to its arg-max", 2, f"{_P}max_pool_backward_array",
       "test_max_pool_backward_routes_to_argmax", _CH3),
    _t("3.4", "Average-pool backward: spread 1/Q of each gradient", 2, f"{_P}_AvgPoolNdFunction.backward",
       "test_avg_pool_backward_spreads", _CH3),
    _t("3.5", "Conv backward to the input: the padding of the transposed correlation", 3,
       "minitorch_cnn/ops/conv.py::conv_input_grad_array", "test_conv_input_grad_matches_reflected_kernel", _CH3),
    _t("3.6", "Padding modes: reflect, replicate, circular", 2, "minitorch_cnn/ops/pad.py::pad_array",
       "test_pad_modes_known_values", _CH3),
    _t("3.7", "BatchNorm backward in training mode", 3, "minitorch_cnn/ops/batch_norm.py::BatchNormFunction.backward",
       "test_batchnorm_backward_training", _CH3),
    # chapter 4: training on Fashion-MNIST
    _t("4.1", "SGD with momentum (and Nesterov)", 2, "minitorch_cnn/optim/sgd.py::SGD._update_group",
       "test_sgd_momentum_steps test_sgd_nesterov_step", _CH4),
    _t("4.2", "Adam: moments and bias correction", 3, "minitorch_cnn/optim/adam.py::Adam._update_group",
       "test_adam_steps", _CH4, "test_hidden_adam_amsgrad", 1),
    _t("4.3", "Gradient clipping by the total norm", 2, "minitorch_cnn/nn/utils.py::clip_grad_norm_",
       "test_clip_grad_norm", _CH4),
    _t("4.4", "Xavier (Glorot) uniform initialisation bound", 1, "minitorch_cnn/nn/init.py::xavier_uniform_",
       "test_xavier_uniform_bound", _CH4),
    _t("4.5", "StepLR schedule", 1, "minitorch_cnn/optim/lr_scheduler.py::StepLR.get_lr", "test_step_lr", _CH4),
    _t("4.6", "The training step: forward, loss, zero_grad, backward, step", 2,
       "minitorch_cnn/train.py::train_one_epoch", "test_train_one_epoch_takes_one_sgd_step_per_batch", _CH4),
    # chapter 5: seeing inside the network
    _t("5.1", "Receptive-field arithmetic: size, jump, rf, start", 3,
       "minitorch_cnn/viz/receptive_field.py::conv_rf", "test_conv_rf_arithmetic", _CH5),
    _t("5.2", "Grad-CAM channel weights and map", 2, "minitorch_cnn/viz/gradcam.py::GradCAM.__call__",
       "test_gradcam_weights_and_map", _CH5),
    _t("5.3", "Occlusion: patch positions and the averaged drop map", 2,
       "minitorch_cnn/viz/occlusion.py::patch_positions minitorch_cnn/viz/occlusion.py::occlusion_sensitivity",
       "test_patch_positions test_occlusion_map_average", _CH5),
    _t("5.4", "Saliency: max over channels of |d score / d x|", 1, "minitorch_cnn/viz/saliency.py::saliency",
       "test_saliency_linear_model", _CH5),
    _t("5.5", "Bilinear upsampling with aligned pixel centres", 2,
       "minitorch_cnn/viz/gradcam.py::upsample_bilinear", "test_upsample_bilinear", _CH5),
    # chapter 6: common structures
    _t("6.1", "Residual block: the shortcut added before the last ReLU", 2,
       "minitorch_cnn/models/blocks.py::BasicBlock.forward",
       "test_basic_block_identity_shortcut test_basic_block_projection_shortcut", _CH6),
    _t("6.2", "Channel shuffle: reshape, transpose, reshape", 1, "minitorch_cnn/models/blocks.py::channel_shuffle",
       "test_channel_shuffle_order", _CH6),
    # chapter 7: reduced complexity
    _t("7.1", "Magnitude pruning: mask the k smallest surviving weights", 2,
       "minitorch_cnn/compress/prune.py::_smallest_mask", "test_smallest_mask_prunes_the_k_smallest_alive", _CH7),
    _t("7.2", "Fake quantization with a straight-through estimator", 2,
       "minitorch_cnn/compress/quantize.py::FakeQuantizeFunction.forward "
       "minitorch_cnn/compress/quantize.py::FakeQuantizeFunction.backward",
       "test_fake_quantize_forward_and_straight_through_backward", _CH7),
    _t("7.3", "Sign with a straight-through estimator (binary weights)", 1,
       "minitorch_cnn/compress/binarize.py::SignSTE.forward minitorch_cnn/compress/binarize.py::SignSTE.backward",
       "test_sign_ste", _CH7),
    # chapter 8: beyond classification
    _t("8.1", "Causal 1-d convolution (left padding only)", 2, "minitorch_cnn/models/beyond.py::CausalConv1d.forward",
       "test_causal_conv_ignores_the_future", _CH8),
    _t("8.2", "Receptive field of a dilated stack", 1, "minitorch_cnn/models/beyond.py::dilated_stack_receptive_field",
       "test_dilated_stack_receptive_field", _CH8),
    _t("8.3", "Intersection over union of two masks", 1, "minitorch_cnn/models/beyond.py::mask_iou",
       "test_mask_iou", _CH8),
)

_T1, _T2, _T3, _T4, _T5, _T6, _T7, _T8 = (
    "tutorials/01_tensors_and_autograd.py", "tutorials/02_convolution.py", "tutorials/03_pooling_and_backprop.py",
    "tutorials/04_fashion_mnist.py", "tutorials/05_seeing_inside.py", "tutorials/06_common_structures.py",
    "tutorials/07_reduced_complexity.py", "tutorials/08_beyond_classification.py")


def _h(tutorial: str, section: str, idea: str) -> str:
    return f"{tutorial}, section '{section}': {idea}"


_FUNCTION, _GRAPH, _TENSORS = "4. Writing a custom `Function`", "2. The computational graph", "1. Tensors"
_CONV_BACK, _LOOP, _LOOK = "3. Backward through a convolution", "3. The training loop", "4. Looking at a trained model"
_HINTS: dict[str, str] = {
    "1.1": _h(_T1, _FUNCTION, "d(a*b)/da = b and d(a*b)/db = a; save both inputs in forward"),
    "1.2": _h(_T1, _FUNCTION, "d exp(x)/dx = exp(x): save the output, use xp = get_array_module(x)"),
    "1.3": _h(_T1, _TENSORS, "keepdim=True keeps a reduced axis with size 1 so the gradient broadcasts back"),
    "1.4": _h(_T1, _TENSORS, "broadcasting copied the input; sum the gradient over the added and size-1 axes"),
    "1.5": _h(_T1, _GRAPH, "depth-first over grad_fn inputs; append a node after all its inputs (post-order)"),
    "1.6": _h(_T1, _FUNCTION, "relu'(x) = 1 where x > 0, else 0: mask the incoming gradient"),
    "1.7": _h(_T1, _FUNCTION, "dx = y * (g - sum(g * y, dim, keepdim=True)) with y the softmax output"),
    "2.1": _h(_T2, "1. Correlation versus convolution", "y[i, j] = sum_{m,n} K[m, n] x[i + m, j + n], no flip"),
    "2.2": _h(_T2, "3. Padding, stride and dilation", "O = floor((I + 2P - D(K-1) - 1)/S) + 1"),
    "2.3": _h(_T2, "4. Channels, groups and parameter counts", "group g sees only its C_in/groups input channels"),
    "2.4": _h(_T2, "5. How it is computed fast: im2col + one matrix product",
              "windows[c, m, n, b, i, j] = xpad[b, c, i+m, j+n] as a strided view, no copy"),
    "2.5": _h(_T3, _CONV_BACK, "insert s-1 zeros between the gradient's entries to undo a stride s"),
    "2.6": _h(_T3, _CONV_BACK, "a transposed convolution scatters each input value times the kernel"),
    "3.1": _h(_T3, "1. Pooling", "keep each window's largest value and the flat index of the first maximum"),
    "3.2": _h(_T3, "1. Pooling", "divide each window's sum by Q; count_include_pad decides whether pads count"),
    "3.3": _h(_T3, "2. Backward through pooling", "the gradient is routed to the arg-max (add it: windows overlap)"),
    "3.4": _h(_T3, "2. Backward through pooling", "every pixel of a window receives 1/Q of the window's gradient"),
    "3.5": _h(_T3, _CONV_BACK, "pads per axis (lo, used - I - lo), used = (O-1)S + D(K-1) + 1 rows some window touched"),
    "3.6": _h(_T2, "3. Padding, stride and dilation", "reflect mirrors, replicate repeats the edge, circular wraps"),
    "3.7": _h(_T3, "4. Checking gradients numerically",
              "per channel dx = gamma / sqrt(var + eps) * (g - mean(g) - xhat * mean(g * xhat)); gradcheck it"),
    "4.1": _h(_T4, _LOOP, "buf = momentum * buf + g; step along buf (Nesterov: along g + momentum * buf)"),
    "4.2": _h(_T4, _LOOP, "m, v are moving averages of g and g^2; divide by 1 - beta^t to correct the bias"),
    "4.3": _h(_T4, _LOOP, "total = sqrt(sum of all squared grads); scale by max_norm / (total + 1e-6) if larger"),
    "4.4": _h(_T4, "2. The model and its summary", "b = gain * sqrt(6 / (fan_in + fan_out)), then U(-b, b)"),
    "4.5": _h(_T4, _LOOP, "lr = base_lr * gamma ** (epoch // step_size)"),
    "4.6": _h(_T4, _LOOP, "forward, loss, zero_grad(), backward(), step() for every batch"),
    "5.1": _h(_T5, "3. Receptive fields", "jump' = jump * s, rf' = rf + (k_eff - 1) * jump, start' as in the text"),
    "5.2": _h(_T5, _LOOK, "weight each map by its spatially averaged gradient, sum, ReLU"),
    "5.3": _h(_T5, _LOOK, "hide one patch at a time and average the probability drop over the pixels it covers"),
    "5.4": _h(_T5, _LOOK, "saliency = max over channels of |d score / d x|"),
    "5.5": _h(_T5, _LOOK, "aligned centres: source coordinate (i + 0.5) * in / out - 0.5, clamped"),
    "6.1": _h(_T6, "3. The residual block", "out = relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x))"),
    "6.2": _h(_T7, "1. Parameter arithmetic of constrained convolutions",
              "channel shuffle: reshape (N, g, C/g, H, W), swap axes 1 and 2, reshape back"),
    "7.1": _h(_T7, "3. Pruning, then retraining", "mask the k surviving weights with the smallest |w|"),
    "7.2": _h(_T7, "4. Quantization", "round to integer codes with scale and zero point; let the gradient through"),
    "7.3": _h(_T7, "5. Binarization", "forward sign(w); backward passes the gradient straight through, 0 where |w| > 1"),
    "8.1": _h(_T8, "1. Sequences: causal, dilated 1-d convolutions", "pad d(k-1) on the left only, none on the right"),
    "8.2": _h(_T8, "1. Sequences: causal, dilated 1-d convolutions", "rf = 1 + sum over layers of d(k-1)"),
    "8.3": _h(_T8, "2. Segmentation: a tiny U-Net", "IoU = |A and B| / |A or B|"),
}

# Found by stubbing one task at a time and running every task test (hidden ones included); checked
# (for three of them, by running the tests) in tests/assignments/test_registry.py.
_NEEDS: dict[str, tuple[str, ...]] = {
    "1.1": ("1.4",),  # the hidden broadcast test: MulFunction.backward calls unbroadcast
    "4.6": ("1.5", "4.1"),  # backward() orders the graph; the step is an SGD step
    "5.2": ("1.1", "1.3", "1.5", "2.2", "2.4", "3.5", "5.5"),  # a conv net's forward and backward, upsampled
    "5.3": ("1.6", "2.2", "2.4"),  # a conv + ReLU model's forward
    "5.4": ("1.1", "1.3", "1.5"),  # backward through a linear model
    "6.1": ("1.3", "1.5", "1.6", "2.2", "2.4", "3.5"),  # conv, ReLU, and backward through both
    "8.1": ("2.2", "2.4"),  # the convolution it pads for
}

TASKS: tuple[Task, ...] = tuple(replace(t, needs=_NEEDS.get(t.id, ()), hint=_HINTS.get(t.id, "")) for t in _TASKS)
TASKS_BY_ID: dict[str, Task] = {t.id: t for t in TASKS}


def get_task(task_id: str) -> Task:
    try:
        return TASKS_BY_ID[task_id]
    except KeyError:
        raise KeyError(f"unknown task {task_id!r}; the tasks are {', '.join(TASKS_BY_ID)}") from None


def select_tasks(ids: str | None = None, chapter: int | None = None) -> list[Task]:
    """``ids`` like ``"2.1,2.3"`` or ``chapter`` like ``2``; neither: every task. ``ValueError`` on an
    unknown id or an empty chapter."""
    if ids is not None and chapter is not None:
        raise ValueError("give either --tasks or --chapter, not both")
    if ids is not None:
        wanted = [s.strip() for s in ids.split(",") if s.strip()]
        unknown = [s for s in wanted if s not in TASKS_BY_ID]
        if unknown or not wanted:
            raise ValueError(f"unknown task id(s) {unknown or ids!r}; the tasks are {', '.join(TASKS_BY_ID)}")
        return [t for t in TASKS if t.id in wanted]
    if chapter is not None:
        chosen = [t for t in TASKS if t.chapter == chapter]
        if not chosen:
            chapters = sorted({t.chapter for t in TASKS})
            raise ValueError(f"chapter {chapter} has no tasks; chapters with tasks: {chapters}")
        return chosen
    return list(TASKS)
