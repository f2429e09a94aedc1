using System;
using System.Linq;
using TorchSharp;
using static TorchSharp.torch;

namespace DuRnn
{
    /// <summary>Argument checks that turn bad input into clear .NET exceptions before any native call.</summary>
    internal static class Check
    {
        internal static void Positive(long value, string name)
        {
            if (value <= 0)
                throw new ArgumentOutOfRangeException(name, value, $"{name} must be > 0.");
        }

        internal static void NonNegativeFinite(double value, string name)
        {
            if (!(value >= 0) || double.IsInfinity(value))
                throw new ArgumentOutOfRangeException(name, value, $"{name} must be finite and ≥ 0.");
        }

        internal static void Activation(ShortTermActivation value, string name)
        {
            if (value != ShortTermActivation.ReLU && value != ShortTermActivation.Tanh)
                throw new ArgumentOutOfRangeException(name, value, $"{name} must be ReLU or Tanh.");
        }

        internal static void FloatingDType(ScalarType? dtype, string name)
        {
            if (dtype is ScalarType d && !IsFloatingPoint(d))
                throw new ArgumentException($"{name} must be a floating point dtype; got {d}.", name);
        }

        internal static bool IsFloatingPoint(ScalarType d) =>
            d == ScalarType.Float32 || d == ScalarType.Float64 || d == ScalarType.Float16 || d == ScalarType.BFloat16;

        internal static string Shape(Tensor t) => "(" + string.Join(", ", t.shape.Select(d => d.ToString())) + ")";

        internal static string Shape(params long[] dims) => "(" + string.Join(", ", dims.Select(d => d.ToString())) + ")";

        /// <summary>Checks that <paramref name="t"/> has the given shape, dtype and device.</summary>
        internal static void Tensor(Tensor t, string name, long[] shape, ScalarType dtype, Device device)
        {
            if (t.dtype != dtype)
                throw new ArgumentException($"{name} must have dtype {dtype} (the module's); got {t.dtype}.", name);
            if (t.device.type != device.type || t.device.index != device.index && device.index >= 0 && t.device.index >= 0)
                throw new ArgumentException($"{name} must be on device {device} (the module's); got {t.device}.", name);
            if (!t.shape.SequenceEqual(shape))
                throw new ArgumentException($"{name} must have shape {Shape(shape)}; got {Shape(t)}.", name);
        }
    }
}
