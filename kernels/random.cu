// random.cu -- random numbers made on the GPU with Philox4x32-10, a counter-based generator.
//
// Salmon, Moraes, Dror & Shaw (2011), "Parallel Random Numbers: As Easy as 1, 2, 3", Sec. 4.2.
// A counter-based generator is a pure function: random words = philox(counter, key). There is no
// state to carry from one number to the next, so thread i simply computes the numbers of counter
// i; no two threads ever share state. (cuRAND's Philox and PyTorch's CUDA generator are built the
// same way.)
//
// One Philox4x32 round maps 4 words (c0, c1, c2, c3) with a 2-word key (k0, k1):
//     (hi0, lo0) = M0 * c0,   (hi1, lo1) = M1 * c2          (32 x 32 -> 64-bit products)
//     (c0, c1, c2, c3) <- (hi1 ^ c1 ^ k0,  lo1,  hi0 ^ c3 ^ k1,  lo0)
// and between rounds the key is bumped by the Weyl constants: k0 += W0, k1 += W1. Ten rounds.
//
// How tinygan uses it (kernels/random.py): key = the seed (64 bits), counter = (c, 0, 0) with
// c = offset + i / 4 for element i, word i % 4. The offset lives in DEVICE memory (one uint64):
// every draw reads it, and philox_advance adds the number of counters used. Because nothing about
// the draw is a host-side argument that changes from step to step, a draw captured into a CUDA
// graph gives fresh numbers on every replay (the captured philox_advance moves the offset on).
//
// Launch (philox_uniform, philox_dropout_mask): one thread per element, grid-stride;
// block = 256 threads. philox_advance: one thread.

#define PHILOX_M0 0xD2511F53u
#define PHILOX_M1 0xCD9E8D57u
#define PHILOX_W0 0x9E3779B9u
#define PHILOX_W1 0xBB67AE85u

struct Words4 { unsigned int w[4]; };

__device__ __forceinline__ Words4 philox4x32_10(unsigned int c0, unsigned int c1, unsigned int c2,
                                                unsigned int c3, unsigned int k0, unsigned int k1)
{
    for (int round = 0; round < 10; ++round) {
        if (round > 0) { k0 += PHILOX_W0; k1 += PHILOX_W1; }
        const unsigned long long p0 = (unsigned long long)PHILOX_M0 * c0;
        const unsigned long long p1 = (unsigned long long)PHILOX_M1 * c2;
        const unsigned int hi0 = (unsigned int)(p0 >> 32), lo0 = (unsigned int)p0;
        const unsigned int hi1 = (unsigned int)(p1 >> 32), lo1 = (unsigned int)p1;
        c0 = hi1 ^ c1 ^ k0;
        c1 = lo1;
        c2 = hi0 ^ c3 ^ k1;
        c3 = lo0;
    }
    Words4 out = {{c0, c1, c2, c3}};
    return out;
}

// Word (i % 4) of the counter offset + i / 4: the i-th random 32-bit word of a draw.
__device__ __forceinline__ unsigned int philox_word(long long i, unsigned long long seed,
                                                    unsigned long long offset)
{
    const unsigned long long c = offset + (unsigned long long)(i / 4);
    const Words4 r = philox4x32_10((unsigned int)c, (unsigned int)(c >> 32), 0u, 0u,
                                   (unsigned int)seed, (unsigned int)(seed >> 32));
    return r.w[i % 4];
}

// The top 24 bits as a float in [0, 1): every value is exact and 1.0 is never reached.
__device__ __forceinline__ float word_to_uniform(unsigned int word)
{
    return (float)(word >> 8) * (1.0f / 16777216.0f);
}

// The raw words of counters (c0, c1, c2, c3) under key (k0, k1): out[4*j + r] for counter j.
// For the known-answer tests of Salmon et al.; n_counters counters are read from `counters`.
extern "C" __global__ void philox_raw(const unsigned int* __restrict__ counters,
                                      const unsigned int* __restrict__ keys,
                                      unsigned int* __restrict__ out, int n_counters)
{
    for (int j = blockIdx.x * blockDim.x + threadIdx.x; j < n_counters; j += gridDim.x * blockDim.x) {
        const Words4 r = philox4x32_10(counters[4 * j], counters[4 * j + 1], counters[4 * j + 2],
                                       counters[4 * j + 3], keys[2 * j], keys[2 * j + 1]);
        for (int q = 0; q < 4; ++q) out[4 * j + q] = r.w[q];
    }
}

extern "C" __global__ void philox_uniform(float* __restrict__ out, int n, unsigned long long seed,
                                          const unsigned long long* __restrict__ offset)
{
    const unsigned long long base = offset[0];
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n;
         i += (long long)gridDim.x * blockDim.x)
        out[i] = word_to_uniform(philox_word(i, seed, base));
}

// Inverted dropout's mask (Srivastava et al. 2014): 1 / (1 - p) where u >= p (kept), else 0.
extern "C" __global__ void philox_dropout_mask(float* __restrict__ out, int n, float p,
                                               unsigned long long seed,
                                               const unsigned long long* __restrict__ offset)
{
    const unsigned long long base = offset[0];
    const float scale = 1.0f / (1.0f - p);
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n;
         i += (long long)gridDim.x * blockDim.x)
        out[i] = word_to_uniform(philox_word(i, seed, base)) >= p ? scale : 0.0f;
}

// offset += counters used by the last draw. A separate launch (not the last thread of the draw):
// it runs after every thread of the draw has read the old offset, since launches on one stream
// run in order.
extern "C" __global__ void philox_advance(unsigned long long* offset, unsigned long long counters)
{
    if (blockIdx.x == 0 && threadIdx.x == 0) offset[0] += counters;
}
