using System;
using System.Runtime.InteropServices;

namespace DuRnn
{
    /// <summary>
    /// Process-wide settings that make training and long inference faster on Linux, for the whole process (nn.LSTM and
    /// every other TorchSharp module benefit as much). Opt-in, because they change how the process gives memory back to
    /// the operating system.
    /// </summary>
    public static class Performance
    {
        private const int M_TRIM_THRESHOLD = -1;
        private const int M_MMAP_MAX = -4;

        /// <summary>
        /// Makes glibc's allocator keep freed memory for reuse instead of returning it to the operating system: no
        /// allocation is served by its own <c>mmap</c> (<c>M_MMAP_MAX</c> = 0) and the heap is not trimmed below 2 GiB of
        /// free memory (<c>M_TRIM_THRESHOLD</c>). A training step allocates tensors of T·B·H elements (51 MB at T = 784,
        /// B = 128, H = 128) and frees them again; by default glibc maps each such block afresh and unmaps it when freed,
        /// so every step pays the kernel for zeroing new pages (measured here: a quarter of a DuRNN training step's time
        /// in page faults, and DuRNN's step at T = 784, B = 128 went from 6.2–7.8 s to 3.1–3.9 s on a busy 2-core
        /// machine). The cost: the process keeps its peak memory (its resident size does not shrink after a large
        /// step). Equivalent to starting the process with <c>MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=2147483647</c>.
        /// Call it once, at the start of a training program, before the first large tensor is allocated. Measured on a
        /// quiet 2-core machine (separate processes, T = 5000, B = 32, H = 128, fwd+bwd): nn.LSTM 5 336 → 1 169 ms, DuRNN
        /// 2 652 → 1 439 ms. It slows DuRNN's chunked inference somewhat (T = 2000, B = 32: 116 → 139 ms), so a program
        /// that mostly runs inference may leave it off. The heap can also fragment without bound: in the Fashion-MNIST
        /// sample, permuted (T = 784, B = 128), two single-layer nn.LSTM modules with BatchNorm1d between them grew from
        /// 3.9 GB to 17–19 GB within 6 minutes and were killed by the kernel's OOM killer, with the number of live
        /// tensors constant (nn.GRU and DuRNN with BatchNorm between their layers stayed at 4.9 and 4.3 GB); watch the
        /// resident size of a new model's first minutes when this is on.
        /// </summary>
        /// <returns>True when the settings were applied (Linux with glibc); false elsewhere, where nothing changes.</returns>
        public static bool ReuseFreedMemory()
        {
            if (!OperatingSystem.IsLinux()) return false;
            try
            {
                return mallopt(M_MMAP_MAX, 0) == 1 && mallopt(M_TRIM_THRESHOLD, int.MaxValue) == 1;
            }
            catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
            {
                return false;   // not glibc (e.g. musl): nothing changes
            }
        }

        [DllImport("libc", EntryPoint = "mallopt")]
        private static extern int mallopt(int param, int value);
    }
}
