"""The differentiable ops: each a ``Function`` on backend arrays (``forward`` / ``backward``), one file
per family. Table of contents (nothing is imported here: ``from minitorch_cnn.ops.conv import conv2d``):

* ``elementwise`` -- arithmetic and element-wise math (exp, log, sqrt, abs, clamp, where, masked fill)
  and the activations (ReLU, LeakyReLU, sigmoid, tanh, softmax, log-softmax), with broadcasting;
* ``gelu`` -- GELU, exact (erf) and tanh approximation;
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
* ``nnops`` -- fused linear, batch norm and dropout kernels;
* ``losses`` -- the loss Functions, named after PyTorch's layers (``CrossEntropyLossFunction``,
  ``NLLLossFunction``, ``MSELossFunction``, ``L1LossFunction``, ``BCEWithLogitsLossFunction``,
  ``BCELossFunction``) and ``check_reduction``;
* ``norm`` -- the normalisation over trailing axes behind layer norm and group norm;
* ``geometry`` -- the window each spatial op declares on its graph node (``declare`` / ``declared``),
  read by ``viz`` summary and receptive field;
* ``windows`` -- strided window views, ``dilate``, output-size arithmetic shared by conv / pool / pad;
* ``_checks`` -- argument validation of conv / pool / pad / interpolate, apart from their compute;
* ``threads`` -- the small thread pool splitting non-GEMM work over the batch and GEMMs into bands;
* ``_util`` -- small helpers (``unbroadcast``, ...).
"""
