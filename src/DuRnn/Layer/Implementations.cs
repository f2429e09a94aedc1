using System;
using TorchSharp;
using static TorchSharp.torch;

namespace DuRnn
{
    /// <summary>
    /// The one rule for choosing how a layer runs (<see cref="DuRNNImplementation"/>), for both stacks and the
    /// stand-alone <see cref="DuRNNLayer"/>: the fused kernels where they can run — float32 or float64 tensors on the
    /// CPU, and LibTorch's BLAS found (<see cref="Fused.Blas.IsAvailable"/>) — and the batched tensor-op form elsewhere.
    /// </summary>
    internal static class Implementations
    {
        /// <summary>Whether the fused kernels can run on <paramref name="input"/>.</summary>
        internal static bool FusedSupports(Tensor input) =>
            input.device.type == DeviceType.CPU
            && (input.dtype == ScalarType.Float32 || input.dtype == ScalarType.Float64)
            && Fused.Blas.IsAvailable;

        /// <summary>
        /// The implementation that runs for <paramref name="input"/> when <paramref name="requested"/> is asked for:
        /// Auto is Fused where <see cref="FusedSupports"/>, Batched otherwise; Fused where it cannot run throws.
        /// </summary>
        /// <exception cref="NotSupportedException">Fused asked for where it cannot run.</exception>
        internal static DuRNNImplementation Resolve(DuRNNImplementation requested, Tensor input) => requested switch
        {
            DuRNNImplementation.Auto => FusedSupports(input) ? DuRNNImplementation.Fused : DuRNNImplementation.Batched,
            DuRNNImplementation.Fused when !FusedSupports(input) => throw new NotSupportedException(
                $"The fused implementation needs float32 or float64 tensors on the CPU and LibTorch's BLAS; got {input.dtype} on {input.device}. Use DuRNNImplementation.Auto or Batched."),
            var chosen => chosen,
        };

        /// <summary>Returns <paramref name="value"/> when it is a member of the enum.</summary>
        /// <exception cref="ArgumentOutOfRangeException">It is not.</exception>
        internal static DuRNNImplementation Checked(DuRNNImplementation value, string name) =>
            Enum.IsDefined(value)
                ? value
                : throw new ArgumentOutOfRangeException(name, value, "Implementation must be Auto, Batched, Reference or Fused.");
    }
}
