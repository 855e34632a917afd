"""The differentiable ops: each a ``Function`` on backend arrays (``forward`` / ``backward``), one file
per family, with the op's Tensor-level entry point beside it (``nn.functional`` re-exports them).
Table of contents (nothing is imported here: ``from minitorch_cnn.ops.conv import conv2d``):

* ``elementwise`` -- arithmetic and element-wise math (exp, log, sqrt, abs, clamp, where, masked fill)
  and the activations (ReLU, LeakyReLU, sigmoid, tanh, softmax, log-softmax), with broadcasting;
  ``leaky_relu``;
* ``gelu`` -- GELU, exact (erf) and tanh approximation; ``gelu``;
* ``reduce`` -- sum, mean, var, max / min (whole or along a dim), prod, cumsum, 2-norm;
* ``shape`` -- moving numbers without changing them: reshape, permute, expand, flip, cat, stack, repeat;
* ``indexing`` -- getitem / setitem / gather (basic and advanced indexing);
* ``matmul`` -- matrix products with batching;
* ``conv`` -- 1-3-d convolution and transposed convolution (im2col GEMM), the Tensor-level ``conv2d``...;
  ``conv_reference`` (the loop oracle), ``conv_shifted`` (stride-1 kernel: GEMMs over shifted slices);
* ``pool`` -- max / avg / adaptive pooling, max-unpool; ``pool_reference`` (the loop oracle);
* ``pad`` -- constant / reflect / replicate / circular padding (``F.pad``);
* ``resize`` -- ``interpolate`` (nearest, (bi/tri)linear); ``resize_reference`` (the loop oracle);
* ``pixel_shuffle`` -- ``pixel_shuffle`` / ``pixel_unshuffle`` and the ``Blocks`` geometry (the worked
  example of ARCHITECTURE.md's "Adding an op");
* ``linear`` -- ``LinearFunction`` (``y = x W^T + b``, one node) and ``linear``;
* ``batch_norm`` -- ``BatchNormFunction`` (batch / running statistics, the running-average update) and
  ``batch_norm``;
* ``dropout`` -- ``DropoutFunction`` (``x * mask``) and ``dropout``, ``dropout1d/2d/3d`` (the masks);
* ``losses`` -- the loss Functions, named after PyTorch's layers (``CrossEntropyLossFunction``,
  ``NLLLossFunction``, ``MSELossFunction``, ``L1LossFunction``, ``BCEWithLogitsLossFunction``,
  ``BCELossFunction``), ``check_reduction`` and the entry points ``cross_entropy``, ``nll_loss``,
  ``mse_loss``, ``l1_loss``, ``binary_cross_entropy[_with_logits]``;
* ``norm`` -- the normalisation over trailing axes, and ``layer_norm`` / ``group_norm`` built on it;
* ``geometry`` -- the window each spatial op declares on its graph node (``declare`` / ``declared``),
  read by ``viz`` summary and receptive field;
* ``windows`` -- strided window views, ``dilate``, output-size arithmetic shared by conv / pool / pad;
* ``_checks`` -- argument validation, one function per rule: conv / pool / pad / interpolate, apart
  from their compute, and the hyper-parameter checks (``check_int``, ``check_number``, ...) shared by
  the entry points, the layer constructors and the optimizers;
* ``threads`` -- the small thread pool splitting non-GEMM work over the batch and GEMMs into bands;
* ``_util`` -- small helpers (``unbroadcast``, ...).
"""
