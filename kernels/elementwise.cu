// elementwise.cu -- fused elementwise kernels: one launch where NumPy-style code would take several.
//
//   adam_update        one Adam step on one parameter, in place on p, m and v (PyTorch's formula):
//                        g += weight_decay * p                     (L2 penalty, as torch.optim.Adam)
//                        m = beta1 * m + (1 - beta1) * g
//                        v = beta2 * v + (1 - beta2) * g * g
//                        p -= (lr / bc1) * m / (sqrt(v) / sqrt(bc2) + eps)
//                      with the bias corrections bc1 = 1 - beta1^t, bc2 = 1 - beta2^t from the caller.
//   adam_update_capturable   the same with t read from device memory (for CUDA graphs), and
//   step_increment           t += 1 on the device.
//
// Mapping: one thread per element, idx = flat index into the contiguous arrays.
// Launch (all): block = 256 threads, grid = enough blocks to cover n (capped; the grid-stride loop
// covers the rest). n < 2^31 (the wrapper checks): the loop counter is 64-bit so that it cannot
// overflow, but the index math inside is 32-bit, much cheaper than 64-bit division.
//
// The Adam update of elements k of one parameter (grid-stride), given lr / bc1 and sqrt(bc2).
__device__ __forceinline__ void adam_loop(float* __restrict__ p, const float* __restrict__ g,
                                          float* __restrict__ m, float* __restrict__ v, int n,
                                          float beta1, float beta2, float eps, float weight_decay,
                                          float step_size, float sqrt_bc2)
{
    for (long long k = (long long)blockIdx.x * blockDim.x + threadIdx.x; k < n;
         k += (long long)gridDim.x * blockDim.x) {
        const int idx = (int)k;
        const float grad = g[idx] + weight_decay * p[idx];
        const float mi = beta1 * m[idx] + (1.f - beta1) * grad;
        const float vi = beta2 * v[idx] + (1.f - beta2) * grad * grad;
        m[idx] = mi;
        v[idx] = vi;
        p[idx] -= step_size * mi / (sqrtf(vi) / sqrt_bc2 + eps);
    }
}

extern "C" __global__ void adam_update(float* __restrict__ p, const float* __restrict__ g,
                                       float* __restrict__ m, float* __restrict__ v, int n,
                                       float lr, float beta1, float beta2, float eps, float weight_decay,
                                       float bc1, float bc2)
{
    adam_loop(p, g, m, v, n, beta1, beta2, eps, weight_decay, lr / bc1, sqrtf(bc2));
}

// Adam for CUDA graphs: the step count t lives in device memory (step[0], a float, already
// incremented by step_increment) and the bias corrections are computed here, so a captured
// optimizer step stays right on every replay (a host-side bc1/bc2 would be frozen into the graph).
// Same arithmetic as adam_update otherwise (torch.optim.Adam(capturable=True)).
extern "C" __global__ void adam_update_capturable(float* __restrict__ p, const float* __restrict__ g,
                                                  float* __restrict__ m, float* __restrict__ v, int n,
                                                  float lr, float beta1, float beta2, float eps,
                                                  float weight_decay, const float* __restrict__ step)
{
    const float t = step[0];
    adam_loop(p, g, m, v, n, beta1, beta2, eps, weight_decay, lr / (1.f - powf(beta1, t)),
              sqrtf(1.f - powf(beta2, t)));
}

// step[0] += 1, by one thread: the device-side step count of a capturable optimizer.
extern "C" __global__ void step_increment(float* step)
{
    if (blockIdx.x == 0 && threadIdx.x == 0) step[0] += 1.f;
}
