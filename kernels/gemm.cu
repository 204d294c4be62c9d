// gemm.cu -- tiled single-precision GEMM on row-major matrices:
//
//     C = alpha * op(A) @ op(B) + beta * C          op(A): (M, K)   op(B): (K, N)   C: (M, N)
//
// op is the identity or the transpose. A is stored (M, K) with row stride lda, or, when it is used
// transposed, (K, M); likewise B is stored (K, N) or (N, K). One extern "C" entry point per
// combination: sgemm_nn, sgemm_nt, sgemm_tn, sgemm_tt (first letter A, second B; t = transposed).
// Any M, N, K >= 0 work; tiles that hang over an edge are padded with zeros.
//
// Launch: grid = (ceil(N / 128), ceil(M / 128)), block = 256 threads.
//
// Block tile. Block (bx, by) computes the 128 x 128 tile C[by*128 : +128, bx*128 : +128]. It walks K
// in steps of BK = 8: each step it stages op(A)[tile rows, k : k+8] and op(B)[k : k+8, tile cols] in
// shared memory, both k-major (As[k][m], Bs[k][n]), so that step k of the product reads one row of
// As and one of Bs: the outer product of a column of op(A) and a row of op(B).
//
// Thread micro-tile. The 8 warps form 2 (rows) x 4 (cols), each warp owning 64 x 32 of the tile;
// the 32 lanes of a warp form 8 (rows) x 4 (cols). Thread (warp w, lane l) accumulates 8 x 8
// elements of C in registers, as 2 x 2 blocks of 4 x 4:
//
//     rows  row + {0,1,2,3}  and  row + 32 + {0,1,2,3}     row = (w / 4) * 64 + (l / 4) * 4
//     cols  col + {0,1,2,3}  and  col + 16 + {0,1,2,3}     col = (w % 4) * 32 + (l % 4) * 4
//
// so each k step a thread reads two float4 from As and two from Bs (64 FMAs per 4 shared loads).
// Splitting the 8 rows into two groups of 4 keeps a warp's 32 lanes on 8 + 4 distinct float4
// addresses, each group contiguous: one shared-memory wavefront per load, no bank conflicts.
//
// Staging. Each k step every thread fetches one float4 of A and one of B from global memory:
//   operand stored k-major (A transposed, B as is):  k = t / 32, outer = (t % 32) * 4, stored as is;
//   operand stored outer-major (A as is, B transposed): outer = t / 2, k = (t % 2) * 4, and the four
//   values are written down a column of the k-major shared tile (a transpose on the way in).
// Rows of the shared tiles are padded to 132 floats so the transposing stores are conflict-free.
// A float4 load is used when the leading dimension is a multiple of 4, the pointer 16-byte aligned
// and the quad inside the matrix; otherwise the quad is read one guarded float at a time.
//
// Double buffering. Two shared buffers: while the block multiplies the tile in one, each thread has
// already issued the global loads of the next tile into registers, and writes them into the other
// buffer afterwards. One __syncthreads per k step.

constexpr int BM = 128;        // rows of C per block
constexpr int BN = 128;        // columns of C per block
constexpr int BK = 8;          // depth of one k step
constexpr int TM = 8;          // rows of C per thread
constexpr int TN = 8;          // columns of C per thread
constexpr int PAD = 4;         // padding of shared rows (keeps float4 alignment)
constexpr int THREADS = 256;
static_assert(BM == BN && THREADS * 4 == BM * BK, "the staging mapping assumes these sizes");

__device__ __forceinline__ bool aligned16(const float* p)
{
    return (reinterpret_cast<unsigned long long>(p) & 15ull) == 0;
}

// src[row, col : col+4] of a rows x cols matrix with row stride ld; zeros outside the matrix.
__device__ __forceinline__ float4 load_quad(const float* __restrict__ src, int ld, int rows, int cols,
                                            int row, int col, bool vec)
{
    float4 q = make_float4(0.f, 0.f, 0.f, 0.f);
    if (row < rows) {
        const float* p = src + (long long)row * ld + col;
        if (vec && col + 3 < cols) {
            q = *reinterpret_cast<const float4*>(p);
        } else {
            if (col + 0 < cols) q.x = p[0];
            if (col + 1 < cols) q.y = p[1];
            if (col + 2 < cols) q.z = p[2];
            if (col + 3 < cols) q.w = p[3];
        }
    }
    return q;
}

// This thread's float4 of the operand tile at (outer0, k0); "outer" is m for A and n for B.
template <bool K_MAJOR>
__device__ __forceinline__ float4 fetch_tile(const float* __restrict__ src, int ld, int outer_size, int K,
                                             int outer0, int k0, bool vec)
{
    const int t = threadIdx.x;
    if (K_MAJOR)   // stored (K, outer): a row of the tile is contiguous in memory
        return load_quad(src, ld, K, outer_size, k0 + t / 32, outer0 + (t % 32) * 4, vec);
    else           // stored (outer, K): a column of the tile is contiguous in memory
        return load_quad(src, ld, outer_size, K, outer0 + t / 2, k0 + (t % 2) * 4, vec);
}

// Write the fetched float4 into the k-major shared tile s[k][outer].
template <bool K_MAJOR>
__device__ __forceinline__ void stage_tile(float (*s)[BM + PAD], float4 q)
{
    const int t = threadIdx.x;
    if (K_MAJOR) {
        *reinterpret_cast<float4*>(&s[t / 32][(t % 32) * 4]) = q;
    } else {
        const int o = t / 2, k = (t % 2) * 4;
        s[k + 0][o] = q.x;
        s[k + 1][o] = q.y;
        s[k + 2][o] = q.z;
        s[k + 3][o] = q.w;
    }
}

// C[m, n : n+4] = alpha * r + beta * C[m, n : n+4], for the columns inside the matrix.
// C is not read when beta == 0, so it may hold garbage (or NaN) on entry.
__device__ __forceinline__ void store_quad(float* __restrict__ C, int ldc, int N, int m, int n,
                                           float4 r, float alpha, float beta, bool vec)
{
    float* p = C + (long long)m * ldc + n;
    if (vec && n + 3 < N) {
        float4 c = make_float4(alpha * r.x, alpha * r.y, alpha * r.z, alpha * r.w);
        if (beta != 0.f) {
            const float4 old = *reinterpret_cast<const float4*>(p);
            c.x += beta * old.x;
            c.y += beta * old.y;
            c.z += beta * old.z;
            c.w += beta * old.w;
        }
        *reinterpret_cast<float4*>(p) = c;
    } else {
        const float v[4] = {r.x, r.y, r.z, r.w};
#pragma unroll
        for (int j = 0; j < 4; ++j)
            if (n + j < N) p[j] = alpha * v[j] + (beta != 0.f ? beta * p[j] : 0.f);
    }
}

template <bool TRANS_A, bool TRANS_B>
__device__ __forceinline__ void sgemm_block(int M, int N, int K, float alpha,
                                            const float* __restrict__ A, int lda,
                                            const float* __restrict__ B, int ldb,
                                            float beta, float* __restrict__ C, int ldc)
{
    __shared__ __align__(16) float As[2][BK][BM + PAD];   // op(A) tile, k-major: As[buf][k][m]
    __shared__ __align__(16) float Bs[2][BK][BN + PAD];   // op(B) tile, k-major: Bs[buf][k][n]

    const int m0 = blockIdx.y * BM, n0 = blockIdx.x * BN;   // the block's tile of C
    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    const int row = (warp / 4) * 64 + (lane / 4) * 4;       // rows row..+3 and row+32..+35
    const int col = (warp % 4) * 32 + (lane % 4) * 4;       // cols col..+3 and col+16..+19

    // A transposed is stored (K, M): k-major. B as is is stored (K, N): k-major.
    const bool vec_a = lda % 4 == 0 && aligned16(A);
    const bool vec_b = ldb % 4 == 0 && aligned16(B);

    float acc[TM][TN] = {};

    float4 qa = fetch_tile<TRANS_A>(A, lda, M, K, m0, 0, vec_a);
    float4 qb = fetch_tile<!TRANS_B>(B, ldb, N, K, n0, 0, vec_b);
    stage_tile<TRANS_A>(As[0], qa);
    stage_tile<!TRANS_B>(Bs[0], qb);
    __syncthreads();

    const int tiles = (K + BK - 1) / BK;
    for (int tile = 0; tile < tiles; ++tile) {
        const int cur = tile % 2;
        const bool has_next = tile + 1 < tiles;
        if (has_next) {   // issue the next tile's global loads now; they land while we compute
            qa = fetch_tile<TRANS_A>(A, lda, M, K, m0, (tile + 1) * BK, vec_a);
            qb = fetch_tile<!TRANS_B>(B, ldb, N, K, n0, (tile + 1) * BK, vec_b);
        }
#pragma unroll
        for (int k = 0; k < BK; ++k) {
            const float4 a_lo = *reinterpret_cast<const float4*>(&As[cur][k][row]);
            const float4 a_hi = *reinterpret_cast<const float4*>(&As[cur][k][row + 32]);
            const float4 b_lo = *reinterpret_cast<const float4*>(&Bs[cur][k][col]);
            const float4 b_hi = *reinterpret_cast<const float4*>(&Bs[cur][k][col + 16]);
            const float a[TM] = {a_lo.x, a_lo.y, a_lo.z, a_lo.w, a_hi.x, a_hi.y, a_hi.z, a_hi.w};
            const float b[TN] = {b_lo.x, b_lo.y, b_lo.z, b_lo.w, b_hi.x, b_hi.y, b_hi.z, b_hi.w};
#pragma unroll
            for (int i = 0; i < TM; ++i)
#pragma unroll
                for (int j = 0; j < TN; ++j)
                    acc[i][j] = fmaf(a[i], b[j], acc[i][j]);
        }
        if (has_next) {   // the other buffer was last read before the previous __syncthreads
            stage_tile<TRANS_A>(As[cur ^ 1], qa);
            stage_tile<!TRANS_B>(Bs[cur ^ 1], qb);
        }
        __syncthreads();
    }

    const bool vec_c = ldc % 4 == 0 && aligned16(C);
#pragma unroll
    for (int i = 0; i < TM; ++i) {
        const int m = m0 + row + (i % 4) + (i / 4) * 32;
        if (m >= M) continue;
#pragma unroll
        for (int h = 0; h < 2; ++h) {
            const float4 r = make_float4(acc[i][4 * h], acc[i][4 * h + 1], acc[i][4 * h + 2], acc[i][4 * h + 3]);
            store_quad(C, ldc, N, m, n0 + col + h * 16, r, alpha, beta, vec_c);
        }
    }
}

// The four entry points: same arguments, BLAS order.
extern "C" __global__ void __launch_bounds__(THREADS, 2)
sgemm_nn(int M, int N, int K, float alpha, const float* A, int lda, const float* B, int ldb,
         float beta, float* C, int ldc)
{
    sgemm_block<false, false>(M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

extern "C" __global__ void __launch_bounds__(THREADS, 2)
sgemm_nt(int M, int N, int K, float alpha, const float* A, int lda, const float* B, int ldb,
         float beta, float* C, int ldc)
{
    sgemm_block<false, true>(M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

extern "C" __global__ void __launch_bounds__(THREADS, 2)
sgemm_tn(int M, int N, int K, float alpha, const float* A, int lda, const float* B, int ldb,
         float beta, float* C, int ldc)
{
    sgemm_block<true, false>(M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

extern "C" __global__ void __launch_bounds__(THREADS, 2)
sgemm_tt(int M, int N, int K, float alpha, const float* A, int lda, const float* B, int ldb,
         float beta, float* C, int ldc)
{
    sgemm_block<true, true>(M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}
