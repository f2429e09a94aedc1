using System;
using System.Collections.Generic;
using static TorchSharp.torch;

namespace DuRnn.Fused
{
    /// <summary>
    /// Releases the tensors a custom backward hands to LibTorch. TorchSharp passes the handles of the returned
    /// gradients to the native autograd node, which copies them (taking its own reference) as soon as the backward
    /// returns; the managed wrappers would otherwise hold their native memory until the garbage collector, which
    /// does not see native memory, finalizes them. Each backward therefore parks its results here and disposes the
    /// ones parked by the previous backward on the same thread — by then the native side has long taken its copies —
    /// so at most one step's gradients wait per thread.
    /// </summary>
    internal static class BackwardResults
    {
        [ThreadStatic]
        private static List<Tensor>? t_parked;

        /// <summary>Disposes the results parked by earlier backward calls on this thread.</summary>
        internal static void ReleaseEarlier()
        {
            var parked = t_parked;
            if (parked is null) return;
            foreach (var t in parked) t.Dispose();
            parked.Clear();
        }

        /// <summary>Detaches <paramref name="results"/> from any dispose scope and parks them; returns them as a list.</summary>
        internal static List<Tensor> Park(params Tensor?[] results)
        {
            t_parked ??= new List<Tensor>();
            var list = new List<Tensor>(results.Length);
            foreach (var t in results)
            {
                if (t is not null)
                {
                    t.DetachFromDisposeScope();
                    t_parked.Add(t);
                }
                list.Add(t!);
            }
            return list;
        }

        /// <summary>Disposes the wrappers TorchSharp created for the incoming gradients.</summary>
        internal static void DisposeAll(IEnumerable<Tensor> tensors)
        {
            foreach (var t in tensors) t?.Dispose();
        }
    }
}
