// conv.cu -- im2col and its adjoint col2im, the data movement under convolution as a GEMM.
//
// Geometry: x is (N, C, H, W); the kernel window is (kh, kw) with stride (sh, sw), zero padding
// (ph, pw) and dilation (dh, dw); the output is (Ho, Wo) with Ho = (H + 2ph - dh(kh-1) - 1) / sh + 1
// (likewise Wo). cols is (C*kh*kw, N*Ho*Wo), row-major:
//
//     cols[r, q] = x[n, c, oh*sh - ph + i*dh, ow*sw - pw + j*dw]      (0 outside the image)
//     r = (c*kh + i)*kw + j          q = (n*Ho + oh)*Wo + ow
//
// so a convolution is weight (F, C*kh*kw) @ cols, and its input gradient is col2im(weight^T @ dy).
//
// im2col: one thread per element of cols (grid-stride loop over idx = r*Q + q, Q = N*Ho*Wo).
//   Consecutive threads write consecutive columns q, so the stores are coalesced.
// col2im: one thread per element of x (grid-stride loop over idx = ((n*C + c)*H + h)*W + w).
//   It is written as a gather: the thread loops over the kh*kw window offsets (i, j) and adds the
//   cols entry that read x[n, c, h, w] through that offset, if any. Every x element is written by
//   exactly one thread, so no atomics are needed. Offset i reaches row h from output row
//   oh = (h + ph - i*dh) / sh, when that division is exact and 0 <= oh < Ho.
//
// Launch (both): block = 256 threads, grid = enough blocks to cover the elements (capped; the
// grid-stride loop covers the rest).
// Sizes: x and cols have fewer than 2^31 elements (the wrapper checks), so once inside the loop the
// index math is 32-bit: a 64-bit division costs several times more instructions than a 32-bit one.
//
// The Numba twins in tests/kernels/conv_numba.py mirror these kernels line by line (the tests run them
// in the CUDA simulator, without a GPU).

extern "C" __global__ void im2col(const float* __restrict__ x, float* __restrict__ cols,
                                  int N, int C, int H, int W, int kh, int kw, int sh, int sw,
                                  int ph, int pw, int dh, int dw, int Ho, int Wo)
{
    const int Q = N * Ho * Wo;                            // columns of cols
    const int total = C * kh * kw * Q;
    for (long long k = (long long)blockIdx.x * blockDim.x + threadIdx.x; k < total;
         k += (long long)gridDim.x * blockDim.x) {
        const int idx = (int)k;
        const int r = idx / Q, q = idx % Q;
        const int j = r % kw, i = (r / kw) % kh, c = r / (kw * kh);
        const int ow = q % Wo, oh = (q / Wo) % Ho, n = q / (Wo * Ho);
        const int h = oh * sh - ph + i * dh, w = ow * sw - pw + j * dw;
        const bool inside = 0 <= h && h < H && 0 <= w && w < W;
        cols[idx] = inside ? x[((n * C + c) * H + h) * W + w] : 0.f;
    }
}

extern "C" __global__ void col2im(const float* __restrict__ cols, float* __restrict__ x,
                                  int N, int C, int H, int W, int kh, int kw, int sh, int sw,
                                  int ph, int pw, int dh, int dw, int Ho, int Wo)
{
    const int Q = N * Ho * Wo;
    const int total = N * C * H * W;
    for (long long k = (long long)blockIdx.x * blockDim.x + threadIdx.x; k < total;
         k += (long long)gridDim.x * blockDim.x) {
        const int idx = (int)k;
        const int w = idx % W, h = (idx / W) % H, c = (idx / W / H) % C, n = idx / W / H / C;
        float sum = 0.f;
        for (int i = 0; i < kh; ++i) {
            const int th = h + ph - i * dh;                 // = oh * sh if offset i reaches row h
            if (th < 0 || th % sh != 0 || th / sh >= Ho) continue;
            const int oh = th / sh;
            for (int j = 0; j < kw; ++j) {
                const int tw = w + pw - j * dw;
                if (tw < 0 || tw % sw != 0 || tw / sw >= Wo) continue;
                const int ow = tw / sw;
                const int r = (c * kh + i) * kw + j;
                const int q = (n * Ho + oh) * Wo + ow;
                sum += cols[r * Q + q];
            }
        }
        x[idx] = sum;
    }
}
