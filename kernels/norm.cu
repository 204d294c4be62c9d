// norm.cu -- batch norm and instance norm, forward and backward, over "groups".
//
// The input x (N, C, *spatial) is viewed as (N, C, L), L = prod(spatial). A group is the set of
// elements that share one mean and one variance:
//   batch norm:     group g = c,        N*L elements  x[n, c, l] for all n, l     (G = C groups)
//   instance norm:  group g = n*C + c,  L elements    x[n, c, l] for all l        (G = N*C groups)
// Both are "L contiguous floats, repeated reps times with a stride": group g starts at x + g*L and
// its element e sits at (e / L) * stride + e % L, with reps = N (batch) or 1 (instance) and
// stride = C*L. The reduction kernels take (L, reps, stride) and need not know the mode.
//
// Forward, with xhat = (x - mean) * rstd and rstd = 1 / sqrt(var + eps) (biased variance):
//     y = xhat * gamma[c] + beta[c]
// Backward, with g = dy * gamma[c] and means over the group:
//     dx = rstd * (g - mean(g) - xhat * mean(g * xhat))
//        = gamma[c] * rstd * (dy - sum(dy) / count - xhat * sum(dy * xhat) / count)
//     dbeta[c] = sum of dy over (n, l),  dgamma[c] = sum of dy * xhat over (n, l)
// (for instance norm the per-group sums are added over n by the caller).
//
// Kernels and launch shapes:
//   norm_stats            one block per group (grid = G, block = 256): mean and rstd, two passes
//                         (sum, then sum of squared deviations) reduced with warp shuffles.
//   norm_backward_reduce  one block per group (grid = G, block = 256): sum(dy), sum(dy * xhat).
//   norm_apply            one thread per element of x (grid-stride; block = 256): y.
//   norm_backward_apply   one thread per element of x (grid-stride; block = 256): dx.
// In the elementwise kernels, element idx of the (N, C, L) array has channel c = (idx / L) % C
// and group idx / L (instance) or c (batch).
// block_sum needs blockDim.x to be a multiple of 32, at most 1024. x has fewer than 2^31 elements
// (the wrapper checks), so all index math is 32-bit.

// Sum of v over the whole block; every thread receives the result.
__device__ float block_sum(float v)
{
    __shared__ float warp_sums[32];
    const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
    for (int offset = 16; offset > 0; offset /= 2)       // 1. butterfly within each warp
        v += __shfl_xor_sync(0xffffffffu, v, offset);
    if (lane == 0) warp_sums[warp] = v;
    __syncthreads();
    v = lane < blockDim.x / 32 ? warp_sums[lane] : 0.f;  // 2. every warp adds up the warp sums
    for (int offset = 16; offset > 0; offset /= 2)
        v += __shfl_xor_sync(0xffffffffu, v, offset);
    __syncthreads();                                     // warp_sums may be reused right away
    return v;
}

// Offset of element e of a group from the group's first element.
__device__ __forceinline__ int group_offset(int e, int L, int stride)
{
    return (e / L) * stride + e % L;
}

extern "C" __global__ void norm_stats(const float* __restrict__ x, float* __restrict__ mean,
                                      float* __restrict__ rstd, int L, int reps, int stride, float eps)
{
    const float* xg = x + blockIdx.x * L;               // this block's group
    const int count = reps * L;

    float s = 0.f;
    for (int e = threadIdx.x; e < count; e += blockDim.x)
        s += xg[group_offset(e, L, stride)];
    const float mu = block_sum(s) / count;

    float ss = 0.f;                                     // second pass: no cancellation
    for (int e = threadIdx.x; e < count; e += blockDim.x) {
        const float d = xg[group_offset(e, L, stride)] - mu;
        ss += d * d;
    }
    const float var = block_sum(ss) / count;

    if (threadIdx.x == 0) {
        mean[blockIdx.x] = mu;
        rstd[blockIdx.x] = rsqrtf(var + eps);
    }
}

extern "C" __global__ void norm_apply(const float* __restrict__ x, const float* __restrict__ mean,
                                      const float* __restrict__ rstd, const float* __restrict__ gamma,
                                      const float* __restrict__ beta, float* __restrict__ y,
                                      int n, int C, int L, int instance)
{
    for (long long k = (long long)blockIdx.x * blockDim.x + threadIdx.x; k < n;
         k += (long long)gridDim.x * blockDim.x) {
        const int idx = (int)k;
        const int c = (idx / L) % C;
        const int g = instance ? idx / L : c;
        y[idx] = (x[idx] - mean[g]) * rstd[g] * gamma[c] + beta[c];
    }
}

extern "C" __global__ void norm_backward_reduce(const float* __restrict__ dy, const float* __restrict__ x,
                                                const float* __restrict__ mean, const float* __restrict__ rstd,
                                                float* __restrict__ sum_dy, float* __restrict__ sum_dy_xhat,
                                                int L, int reps, int stride)
{
    const int start = blockIdx.x * L;                   // this block's group
    const int count = reps * L;
    const float mu = mean[blockIdx.x], rs = rstd[blockIdx.x];

    float s = 0.f, sx = 0.f;
    for (int e = threadIdx.x; e < count; e += blockDim.x) {
        const int k = start + group_offset(e, L, stride);
        s += dy[k];
        sx += dy[k] * (x[k] - mu) * rs;
    }
    s = block_sum(s);
    sx = block_sum(sx);
    if (threadIdx.x == 0) {
        sum_dy[blockIdx.x] = s;
        sum_dy_xhat[blockIdx.x] = sx;
    }
}

extern "C" __global__ void norm_backward_apply(const float* __restrict__ dy, const float* __restrict__ x,
                                               const float* __restrict__ mean, const float* __restrict__ rstd,
                                               const float* __restrict__ gamma,
                                               const float* __restrict__ sum_dy,
                                               const float* __restrict__ sum_dy_xhat,
                                               float* __restrict__ dx, int n, int C, int L, int instance)
{
    const float count = instance ? (float)L : (float)(n / C);   // elements per group: L or N*L
    for (long long k = (long long)blockIdx.x * blockDim.x + threadIdx.x; k < n;
         k += (long long)gridDim.x * blockDim.x) {
        const int idx = (int)k;
        const int c = (idx / L) % C;
        const int g = instance ? idx / L : c;
        const float xhat = (x[idx] - mean[g]) * rstd[g];
        dx[idx] = gamma[c] * rstd[g] * (dy[idx] - sum_dy[g] / count - xhat * sum_dy_xhat[g] / count);
    }
}
