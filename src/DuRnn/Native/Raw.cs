using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace DuRnn.Fused
{
    /// <summary>Raw-memory helpers for the fused kernels (contiguous CPU tensors only).</summary>
    internal static unsafe class Raw
    {
        /// <summary>The address of the first element of a contiguous CPU tensor.</summary>
        internal static T* Ptr<T>(Tensor t) where T : unmanaged
        {
            if (t.numel() == 0) return null;
            return (T*)Unsafe.AsPointer(ref MemoryMarshal.GetReference(t.bytes));
        }

        /// <summary>
        /// How many steps each row runs: all <paramref name="steps"/> without <paramref name="batchSizes"/>; with them
        /// (rows sorted by decreasing length, PyTorch's packed layout), row b runs every step t with batchSizes[t] &gt; b.
        /// </summary>
        internal static int[] RowSteps(int steps, int batch, int[]? batchSizes)
        {
            var rowSteps = new int[batch];
            for (int t = 0; t < steps; t++)
            {
                int active = batchSizes?[t] ?? batch;
                for (int b = 0; b < active; b++) rowSteps[b]++;
            }
            return rowSteps;
        }

        /// <summary>
        /// The final states: row b of <paramref name="final"/> (B, n) = row b of <paramref name="sequence"/> (T, B, n) at
        /// its last step, rowSteps[b] − 1.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // fully optimised at once: no slow tier-0 first calls
        internal static void CopyFinal<T>(T* sequence, int batch, int n, int[] rowSteps, T* final) where T : unmanaged
        {
            for (int b = 0; b < batch; b++)
            {
                var source = new ReadOnlySpan<T>(sequence + ((long)(rowSteps[b] - 1) * batch + b) * n, n);
                source.CopyTo(new Span<T>(final + (long)b * n, n));
            }
        }

        /// <summary>Sets every one of <paramref name="rows"/> rows (<paramref name="width"/> wide) of
        /// <paramref name="destination"/> to <paramref name="row"/> (a bias, before a GEMM accumulates onto it).</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // fully optimised at once: no slow tier-0 first calls
        internal static void FillRows<T>(T* row, T* destination, long rows, int width) where T : unmanaged
        {
            var source = new ReadOnlySpan<T>(row, width);
            for (long r = 0; r < rows; r++) source.CopyTo(new Span<T>(destination + r * width, width));
        }

        /// <summary>How many workers to split <paramref name="rows"/> independent rows of <paramref name="work"/> elements over.</summary>
        internal static int Workers(long rows, long work)
        {
            int threads = Math.Max(1, torch.get_num_threads());
            if (work < 1 << 16) return 1;
            return (int)Math.Max(1, Math.Min(threads, rows));
        }
    }
}
