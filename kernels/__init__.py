"""tinygan's CUDA kernels: one ``<family>.cu`` source per family and a short CuPy wrapper for each.

    loader.py        load_module(family) -> cupy.RawModule, cached; cuda_sources(); shared checks
    gemm.py          sgemm(a, b, trans_a, trans_b, alpha, beta, out)
    conv.py          im2col(x, ...), col2im(cols, x_shape, ...)
    norm.py          norm_forward(x, gamma, beta, eps, mode), norm_backward(dy, x, mean, rstd, gamma, mode)
    elementwise.py   adam_update, adam_update_capturable, step_increment
    random.py        PhiloxGenerator (uniform, dropout_mask on the GPU), philox_raw

Importing this package (or any wrapper module) needs neither CuPy, a GPU, nvcc nor Numba; CuPy is
reached through tinygan.backend.cupy() when a kernel is first called.
"""
