using System;
using System.Runtime;

namespace DuRnn.Tests
{
    /// <summary>
    /// Runs TorchSharp calls that pass .NET numbers as Scalars internally (Adam's step, clip_grad_value_) with no garbage
    /// collection during them. TorchSharp 0.107 turns such numbers into finalizable Scalar wrappers that a collection can
    /// free while LibTorch still reads them ("Expected false to be true ... toFloat"; see the README's Memory section):
    /// the library avoids them in its own code, TorchSharp's optimizers do not. Tests that measure the library over many
    /// optimizer steps use this so that TorchSharp's rare failure cannot fail them.
    /// </summary>
    internal static class NoGarbageCollection
    {
        /// <summary>Runs <paramref name="action"/> inside a no-GC region (64 MB of managed allocations allowed).</summary>
        public static void Run(Action action)
        {
            bool started = GC.TryStartNoGCRegion(64L << 20);
            try
            {
                action();
            }
            finally
            {
                if (started && GCSettings.LatencyMode == GCLatencyMode.NoGCRegion)
                    GC.EndNoGCRegion();
            }
        }
    }
}
