// cuda_emu.h -- just enough of the CUDA execution model to run tinygan's kernels on CPU threads.
//
// It is force-included (g++ -include cuda_emu.h) before an unchanged kernels/<family>.cu, so the
// real sources compile as ordinary C++; tests/kernels/emu/emulator.py then launches them. What each
// CUDA concept becomes here:
//
//   CUDA                              on the CPU
//   --------------------------------  --------------------------------------------------------------
//   a thread                          one std::thread of a reusable pool (one per thread of a block)
//   a block                           blockDim.x*y*z pool threads running the kernel body together;
//                                     the blocks of a grid run ONE AT A TIME, in order x, then y, z
//   threadIdx, blockIdx, blockDim,    thread_local variables, set by each pool thread before it
//   gridDim                           calls the kernel (unsigned, as in CUDA)
//   __shared__ variable               a function-scope `static`: one object in the process, and since
//                                     only one block runs at a time, it is shared by exactly the
//                                     threads of the running block (a template function gets one per
//                                     instantiation, as on the GPU); filled with 0xFF bytes (NaN)
//                                     before each block, as a GPU's shared memory starts as garbage
//   __syncthreads()                   a barrier over the block's threads, which lets the warps go in
//                                     two waves ("warp skew", see BlockBarrier)
//   warp (32 consecutive threads)     a group of 32 pool threads with its own barrier and exchange
//                                     buffer: linear thread id / 32, as on the GPU
//   __shfl_xor_sync                   each lane writes its value into the warp's buffer, warp barrier,
//                                     each lane reads its partner's slot
//   a thread that returns             leaves the block's barriers (like std::barrier's
//                                     arrive_and_drop): later __syncthreads do not wait for it
//   global memory                     the NumPy arrays' memory, passed as raw pointers
//   float4                            a 16-byte aligned struct of four floats
//
// What is NOT modelled: timing of any kind -- memory coalescing, shared-memory bank conflicts, warp
// divergence, occupancy, __launch_bounds__ (all compile away); dynamic shared memory (extern
// __shared__), namespace-scope __shared__ variables (not poisoned), atomics, streams, and warp
// intrinsics other than those the sources use (add them here when a kernel needs them). Warps do
// not run in lockstep: each CUDA thread is a free-running OS thread, so a kernel that relies on
// implicit warp-synchronous execution (no __syncwarp) may behave differently here. Races: threads
// run concurrently and the warp skew makes the missing-__syncthreads races between warps fail
// deterministically, but a race inside a wave can still happen to be benign under the OS scheduler,
// and blocks never race with each other, since they run one at a time (so a missing atomic between
// blocks goes unseen). Floating point is the host's: expf, tanhf, rsqrtf, powf differ from CUDA's
// by a few ulp, and FMA contraction differs, hence float32 tolerances in the tests. Errors the
// emulator detects (a partial-warp shuffle) print a message and abort the process; an out-of-bounds
// access is not detected here (the tests surround arrays with guard zones instead).
#pragma once

#include <math.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
#include <semaphore>
#include <thread>
#include <type_traits>
#include <vector>

// --- qualifiers and attributes ------------------------------------------------------------------
// Host and device are the same machine here, so the space qualifiers vanish. __restrict__ is already
// a GCC keyword. __align__ becomes GCC's attribute, which (unlike alignas) may follow `static`.
#define __global__
#define __device__
#define __forceinline__ inline
#define __launch_bounds__(...)
#define __shared__ static
#define __align__(n) __attribute__((aligned(n)))

// --- vector types -------------------------------------------------------------------------------
struct uint3 {
    unsigned int x, y, z;
};

struct dim3 {
    unsigned int x = 1, y = 1, z = 1;
};

struct __attribute__((aligned(16))) float4 {   // aligned like CUDA's, so float4 loads may be reinterpreted
    float x, y, z, w;
};

inline float4 make_float4(float x, float y, float z, float w) { return float4{x, y, z, w}; }

// --- math intrinsics ----------------------------------------------------------------------------
// fmaf, sqrtf, expf, tanhf and powf come from <math.h>; rsqrtf is CUDA-only.
inline float rsqrtf(float x) { return 1.0f / sqrtf(x); }

// --- built-in variables -------------------------------------------------------------------------
// Unsigned, as in CUDA, so that mixed signed/unsigned arithmetic in a kernel behaves the same here.
inline thread_local uint3 threadIdx;
inline thread_local uint3 blockIdx;
inline thread_local dim3 blockDim;
inline thread_local dim3 gridDim;
constexpr int warpSize = 32;

namespace emu {

[[noreturn]] inline void fail(const char* message)
{
    std::fprintf(stderr, "cuda_emu: %s\n", message);
    std::abort();
}

// A reusable barrier for a fixed set of threads, some of which may leave for good (drop); used for
// the lanes of a warp. The count is kept under a mutex; waiters sleep on the phase number (C++20
// atomic wait, a futex on Linux), so a release wakes them without their queueing on the mutex
// again. Blocking, not spinning: a block of 256 OS threads shares a few cores.
class Barrier {
public:
    void reset(int count)
    {
        expected_ = count;
        arrived_ = 0;
    }

    void arrive_and_wait()
    {
        unsigned int phase;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            phase = phase_.load(std::memory_order_relaxed);
            if (++arrived_ == expected_) {
                next_phase();
                return;
            }
        }
        while (phase_.load(std::memory_order_acquire) == phase)
            phase_.wait(phase, std::memory_order_acquire);
    }

    // A thread that has finished: the barrier stops waiting for it.
    void drop()
    {
        std::lock_guard<std::mutex> lock(mutex_);
        --expected_;
        if (arrived_ > 0 && arrived_ == expected_)
            next_phase();
    }

private:
    void next_phase()   // with mutex_ held
    {
        arrived_ = 0;
        phase_.fetch_add(1, std::memory_order_release);
        phase_.notify_all();
    }

    std::mutex mutex_;
    int expected_ = 0, arrived_ = 0;
    std::atomic<unsigned int> phase_{0};
};

// __syncthreads, with warp skew. After each barrier (and at the start of a block) the warps are let
// go in two waves: first those whose index has the parity of the barrier's number (the leads), then,
// once every lead has reached its next __syncthreads or returned, the others; the parity alternates
// from one barrier to the next. Warps promise nothing about their relative speed, so this is a legal
// schedule of a correct kernel; and it turns the classic missing-__syncthreads races into wrong
// results every time: a fast warp overwriting shared memory that a slow warp has not read yet, or
// reading what a slow warp has not written yet. (Freed all at once, 256 OS threads tend to move in
// lockstep and such races often happen to be benign.) Threads inside a wave run concurrently.
class BlockBarrier {
public:
    void reset(int threads)   // before a block; barrier 0 is the block's start
    {
        live_[0] = live_[1] = 0;
        for (int t = 0; t < threads; ++t)
            ++live_[t / 32 % 2];
        expected_ = threads;
        arrived_ = 0;
        passed_ = 1;
        lead_running_ = live_[0];
        lead_gate_ = 1;
        follow_gate_ = lead_running_ == 0 ? 1 : 0;
    }

    void start(int warp) { wait_for_wave(0, warp); }   // a thread's first act: wait for its wave

    void arrive_and_wait(int warp)
    {
        unsigned int n;   // the number of this barrier
        {
            std::lock_guard<std::mutex> lock(mutex_);
            n = passed_;
            stop_running(warp);
            if (++arrived_ == expected_)
                pass();
        }
        wait_for_wave(n, warp);
    }

    void drop(int warp)   // a thread that has returned: the barrier stops waiting for it
    {
        std::lock_guard<std::mutex> lock(mutex_);
        --expected_;
        --live_[warp % 2];
        stop_running(warp);
        if (arrived_ > 0 && arrived_ == expected_)
            pass();
    }

private:
    // With mutex_ held, when a thread arrives or returns: if it was the last running lead of the
    // barrier passed last, the other wave may go.
    void stop_running(int warp)
    {
        if ((unsigned int)warp % 2 == (passed_ - 1) % 2 && --lead_running_ == 0)
            open(follow_gate_, passed_);
    }

    void pass()   // with mutex_ held: every live thread has arrived at barrier passed_
    {
        const unsigned int n = passed_++;
        arrived_ = 0;
        lead_running_ = live_[n % 2];
        open(lead_gate_, n + 1);
        if (lead_running_ == 0)
            open(follow_gate_, n + 1);
    }

    void wait_for_wave(unsigned int n, int warp)   // until barrier n lets this warp's wave go
    {
        std::atomic<unsigned int>& gate = (unsigned int)warp % 2 == n % 2 ? lead_gate_ : follow_gate_;
        unsigned int open_to;
        while ((open_to = gate.load(std::memory_order_acquire)) <= n)
            gate.wait(open_to, std::memory_order_acquire);
    }

    static void open(std::atomic<unsigned int>& gate, unsigned int barriers)
    {
        gate.store(barriers, std::memory_order_release);
        gate.notify_all();
    }

    std::mutex mutex_;
    int live_[2] = {0, 0};              // threads not yet returned, by warp parity
    int expected_ = 0, arrived_ = 0;    // at the barrier being filled
    unsigned int passed_ = 0;           // barriers passed (the block's start counts as one)
    int lead_running_ = 0;              // leads let go by the last barrier, still running
    std::atomic<unsigned int> lead_gate_{0}, follow_gate_{0};   // barriers each wave may pass
};

// 32 consecutive threads of a block; the last warp of a block may be partial.
struct Warp {
    Barrier barrier;
    unsigned long long slot[2][32];   // one value per lane, for shuffles; two sets, used in turn
    int shuffles[32];                 // shuffles each lane has made in this block (picks the set)
    int size = 0;                     // lanes in this warp
    unsigned int lanes = 0;           // their bit mask
};

// The state of the running block: what its threads share besides __shared__ variables.
struct Block {
    explicit Block(int threads) : threads(threads), warps((threads + 31) / 32) {}

    void reset()   // before each block: every thread takes part again
    {
        barrier.reset(threads);
        for (int w = 0; w < (int)warps.size(); ++w) {
            Warp& warp = warps[w];
            warp.size = threads - 32 * w < 32 ? threads - 32 * w : 32;
            warp.lanes = warp.size == 32 ? 0xffffffffu : (1u << warp.size) - 1;
            warp.barrier.reset(warp.size);
            std::fill(std::begin(warp.shuffles), std::end(warp.shuffles), 0);
        }
    }

    int threads;
    BlockBarrier barrier;
    std::vector<Warp> warps;
};

inline Block* running_block = nullptr;   // blocks run one at a time
inline thread_local int linear_tid = 0;   // x + blockDim.x * (y + blockDim.y * z) of threadIdx

// The __shared__ variables of the library: emulator.py finds them in its symbol table (function-scope
// statics outside emu and std) and registers them here. Before each block they are filled with 0xFF
// bytes (a NaN for floats), as a block's shared memory holds garbage on a GPU: a kernel that reads
// shared memory it has not written gets NaNs, not zeros or the previous block's values.
struct SharedVariable {
    void* address;
    unsigned long long bytes;
};
inline std::vector<SharedVariable> shared_variables;

// The data movement under every shuffle: each lane publishes `value`, then reads the value that lane
// `src` of its warp published (keeps its own when src is -1). All live lanes of the warp must call it.
// One barrier suffices, because consecutive shuffles use alternate slot sets: a lane can write the
// set of shuffle k again (at shuffle k + 2) only after every lane has reached the barrier of shuffle
// k + 1, that is, after every lane has finished reading shuffle k.
template <class T>
T warp_exchange(unsigned int mask, T value, int src)
{
    static_assert(std::is_trivially_copyable_v<T> && sizeof(T) <= 8, "shuffle of a 1-8 byte value");
    Warp& warp = running_block->warps[linear_tid / 32];
    const int lane = linear_tid % 32;
    if ((mask & warp.lanes) != warp.lanes)
        fail("a shuffle whose mask leaves out lanes of the warp (divergent shuffles are not emulated)");
    unsigned long long* slot = warp.slot[warp.shuffles[lane]++ % 2];
    std::memcpy(&slot[lane], &value, sizeof(T));
    warp.barrier.arrive_and_wait();   // every lane has published its value
    T result = value;
    if (src >= 0 && src < warp.size)
        std::memcpy(&result, &slot[src], sizeof(T));
    return result;
}

// A pool of OS threads, one per CUDA thread of the largest block seen so far. run_block wakes the
// first n of them (each on its own semaphore), each runs body(tid), and the last one to finish
// wakes the caller.
class ThreadPool {
public:
    void run_block(int n, const std::function<void(int)>& body)
    {
        while ((int)workers_.size() < n) {
            auto worker = std::make_unique<Worker>();
            worker->thread = std::thread(&ThreadPool::work, this, (int)workers_.size(), worker.get());
            workers_.push_back(std::move(worker));
        }
        body_ = &body;
        remaining_ = n;
        for (int tid = 0; tid < n; ++tid)
            workers_[tid]->go.release();
        done_.acquire();
    }

private:
    struct Worker {
        std::binary_semaphore go{0};
        std::thread thread;
    };

    void work(int tid, Worker* self)
    {
        for (;;) {
            self->go.acquire();
            (*body_)(tid);
            std::lock_guard<std::mutex> lock(mutex_);
            if (--remaining_ == 0)
                done_.release();
        }
    }

    std::vector<std::unique_ptr<Worker>> workers_;
    const std::function<void(int)>* body_ = nullptr;
    std::mutex mutex_;
    int remaining_ = 0;
    std::binary_semaphore done_{0};
};

// Never destroyed: its threads wait for work until the process exits (joining them at exit would
// need a shutdown protocol for no benefit).
inline ThreadPool& pool()
{
    static ThreadPool* p = new ThreadPool;
    return *p;
}

inline std::mutex& launch_mutex()   // one launch at a time, even from several Python threads
{
    static std::mutex m;
    return m;
}

// kernel<<<grid, block>>>(...): `kernel` is a callable that runs the kernel body with its arguments
// (the generated launch_<name> wrappers pass a lambda). Blocks run one after another.
template <class Kernel>
void launch(dim3 grid, dim3 block, Kernel kernel)
{
    std::lock_guard<std::mutex> lock(launch_mutex());
    const int threads = (int)(block.x * block.y * block.z);
    Block state(threads);
    running_block = &state;
    for (unsigned int bz = 0; bz < grid.z; ++bz)
        for (unsigned int by = 0; by < grid.y; ++by)
            for (unsigned int bx = 0; bx < grid.x; ++bx) {
                state.reset();
                for (const SharedVariable& var : shared_variables)
                    std::memset(var.address, 0xFF, var.bytes);
                const std::function<void(int)> body = [&](int tid) {
                    threadIdx = uint3{tid % block.x, tid / block.x % block.y, tid / (block.x * block.y)};
                    blockIdx = uint3{bx, by, bz};
                    blockDim = block;
                    gridDim = grid;
                    linear_tid = tid;
                    state.barrier.start(tid / 32);
                    kernel();
                    state.warps[tid / 32].barrier.drop();   // this thread has returned
                    state.barrier.drop(tid / 32);
                };
                pool().run_block(threads, body);
            }
    running_block = nullptr;
}

}  // namespace emu

// Called once by emulator.py after loading the library. (Not inline: this header is force-included
// into exactly one translation unit per library.)
extern "C" void emu_set_shared_variables(void* const* addresses, const unsigned long long* bytes, int n)
{
    emu::shared_variables.clear();
    for (int i = 0; i < n; ++i)
        emu::shared_variables.push_back({addresses[i], bytes[i]});
}

// --- synchronisation and warp intrinsics the sources use ----------------------------------------
inline void __syncthreads() { emu::running_block->barrier.arrive_and_wait(emu::linear_tid / 32); }

// Butterfly shuffle: lane l reads lane l ^ laneMask. With width < 32 the warp is split into
// segments of `width` lanes, and a lane whose partner lies in a later segment keeps its own value.
template <class T>
T __shfl_xor_sync(unsigned int mask, T var, int laneMask, int width = warpSize)
{
    const int lane = emu::linear_tid % 32;
    int src = lane ^ laneMask;
    if (src >= (lane / width + 1) * width)
        src = -1;
    return emu::warp_exchange(mask, var, src);
}
