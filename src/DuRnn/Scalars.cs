using TorchSharp;

namespace DuRnn
{
    /// <summary>
    /// Scalar arguments that stay alive for the whole native call they are passed to.
    /// </summary>
    /// <remarks>
    /// TorchSharp 0.107 turns a .NET number passed where a <see cref="Scalar"/> is expected into a new Scalar that
    /// owns a native c10::Scalar and frees it in its finalizer. The wrapper is unreachable as soon as its handle has
    /// been read, so a garbage collection during the native call can finalize it and free the c10::Scalar while
    /// LibTorch still reads it: a rare use-after-free that surfaces as "Expected false to be true ... toFloat" (seen
    /// once in about 1.6 million per-step <c>addcmul</c> calls of the adding-problem sample). Library code therefore
    /// passes either one of the process-wide constants below (static fields: never collected) or a Scalar held in a
    /// <c>using</c> local, which keeps it reachable until the call has returned.
    /// </remarks>
    internal static class Scalars
    {
        /// <summary>The integer 0.</summary>
        internal static readonly Scalar Zero = 0.ToScalar();

        /// <summary>The integer 1.</summary>
        internal static readonly Scalar One = 1.ToScalar();
    }
}
