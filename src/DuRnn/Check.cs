using System;
using System.Linq;
using TorchSharp;
using static TorchSharp.torch;

namespace DuRnn
{
    /// <summary>
    /// Argument checks that turn bad input into clear .NET exceptions before any native call: one rule for each
    /// constructor option, one device rule, and the checks of sequences and states at the public boundary.
    /// </summary>
    internal static class Check
    {
        /// <summary>
        /// Proof that a constructor's options were checked at the public boundary. Public constructors check their
        /// options (and those of the sub-modules they build) once, before allocating anything, and build their
        /// sub-modules through internal constructors that take this token instead of checking again.
        /// </summary>
        internal readonly struct Checked { }

        // ---- one rule for each option ----

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

        /// <summary>
        /// MAG in U_bound = MAG^(1/T_max): finite and ≥ 1. Below 1 the bound would be below 1 while a long-memory last
        /// layer starts its u at U_lowbound = (1/MAG)^(1/T_max) &gt; 1, above the bound; MAG = 1 gives U_bound = 1 (no
        /// neuron may amplify) and, with <c>longMemoryLastLayer</c>, a last layer that starts with u = 1.
        /// </summary>
        internal static void Mag(double mag, string name)
        {
            if (!(mag >= 1) || double.IsInfinity(mag))
                throw new ArgumentOutOfRangeException(name, mag, $"{name} (MAG) must be finite and ≥ 1: U_bound = MAG^(1/T_max) ≥ 1 ≥ the long-memory start (1/MAG)^(1/T_max).");
        }

        /// <summary>The largest size and weight-element count the kernels index (32-bit, as TorchSharp's spans).</summary>
        internal const long MaxElements = int.MaxValue;

        /// <summary>A size: &gt; 0 and at most <see cref="MaxElements"/> (checked before anything is allocated).</summary>
        internal static void Size(long value, string name)
        {
            Positive(value, name);
            if (value > MaxElements)
                throw new ArgumentOutOfRangeException(name, value, $"{name} must be at most {MaxElements} (2^31 − 1, the kernels' index range); got {value}.");
        }

        /// <summary>The most weights a stack may hold (2^36, about 275 GB in float32): an absurd stack fails with its numbers, not in the allocator.</summary>
        internal const long MaxStackWeights = 1L << 36;

        /// <summary>A stack of <paramref name="numLayers"/> layers holding <paramref name="weights"/> weights in all must stay within <see cref="MaxStackWeights"/>.</summary>
        internal static void StackWeights(double weights, long numLayers, long hiddenSize, long inputSize, bool bidirectional)
        {
            if (weights > MaxStackWeights)
                throw new ArgumentOutOfRangeException(nameof(numLayers), numLayers,
                    $"{numLayers} layers of hidden size {hiddenSize} (input {inputSize}, {(bidirectional ? 2 : 1)} direction(s)) would hold about {weights:G3} weights; at most 2^36 are supported.");
        }

        /// <summary>A weight of <paramref name="rows"/> × <paramref name="columns"/> must hold at most <see cref="MaxElements"/> elements.</summary>
        internal static void WeightElements(long rows, long columns, string name, string what)
        {
            if (rows > MaxElements / Math.Max(1, columns))
                throw new ArgumentOutOfRangeException(name, rows,
                    $"{what} would be {rows} × {columns} = {(double)rows * columns:G4} elements; at most {MaxElements} (2^31 − 1) are supported. Check {name}.");
        }

        internal static void MaxSequenceLength(long? maxSequenceLength, string name)
        {
            if (maxSequenceLength is long t && t <= 0)
                throw new ArgumentOutOfRangeException(name, t, $"{name} must be > 0 when given.");
        }

        internal static void Dropout(double dropout, string name)
        {
            if (!(dropout >= 0 && dropout < 1))
                throw new ArgumentOutOfRangeException(name, dropout, $"{name} must be in [0, 1).");
        }

        // ---- the options of each module, checked once at its public constructor ----

        /// <param name="inputSize">I.</param>
        /// <param name="shortTermSize">S.</param>
        /// <param name="activation">φ.</param>
        /// <param name="dtype">The parameters' dtype, if given.</param>
        /// <param name="sizeName">The option that set S, named in errors: "shortTermSize", or "hiddenSize" when S = H by default.</param>
        internal static Checked ShortTermOptions(long inputSize, long shortTermSize, ShortTermActivation activation, ScalarType? dtype,
            string sizeName = "shortTermSize")
        {
            Size(inputSize, nameof(inputSize));
            Size(shortTermSize, sizeName);
            WeightElements(shortTermSize, inputSize, nameof(inputSize), "W_s");
            WeightElements(shortTermSize, shortTermSize, sizeName, "U_s");
            Activation(activation, nameof(activation));
            FloatingDType(dtype, nameof(dtype));
            return default;
        }

        internal static Checked GateOptions(long inputSize, long shortTermSize, ScalarType? dtype)
        {
            Size(inputSize, nameof(inputSize));
            Size(shortTermSize, nameof(shortTermSize));
            WeightElements(shortTermSize, inputSize, nameof(inputSize), "W_gx");
            WeightElements(shortTermSize, shortTermSize, nameof(shortTermSize), "W_gs");
            FloatingDType(dtype, nameof(dtype));
            return default;
        }

        internal static Checked LongTermOptions(long inputSize, long hiddenSize, double mag, long? maxSequenceLength,
            double? inputWeightStd, string inputWeightStdName, ScalarType? dtype)
        {
            Size(inputSize, nameof(inputSize));
            Size(hiddenSize, nameof(hiddenSize));
            WeightElements(hiddenSize, inputSize, nameof(hiddenSize), "The long-term input weights");
            Mag(mag, nameof(mag));
            MaxSequenceLength(maxSequenceLength, nameof(maxSequenceLength));
            if (inputWeightStd is double std) NonNegativeFinite(std, inputWeightStdName);
            FloatingDType(dtype, nameof(dtype));
            return default;
        }

        /// <summary>The options of one DuRNN layer: those of its three cells.</summary>
        internal static Checked LayerOptions(long inputSize, long hiddenSize, long? shortTermSize, ShortTermActivation activation,
            double mag, long? maxSequenceLength, double? longTermInputWeightStd, ScalarType? dtype)
        {
            Size(hiddenSize, nameof(hiddenSize));
            if (shortTermSize is long s) Size(s, nameof(shortTermSize));
            long size = shortTermSize ?? hiddenSize;
            ShortTermOptions(inputSize, size, activation, dtype, shortTermSize is null ? nameof(hiddenSize) : nameof(shortTermSize));
            return LongTermOptions(size, hiddenSize, mag, maxSequenceLength, longTermInputWeightStd, nameof(longTermInputWeightStd), dtype);
        }

        // ---- tensors at the public boundary ----

        internal static bool IsFloatingPoint(ScalarType d) =>
            d == ScalarType.Float32 || d == ScalarType.Float64 || d == ScalarType.Float16 || d == ScalarType.BFloat16;

        /// <summary>
        /// The one device rule: same device type, and the same index where both name one (a CPU tensor, or a device
        /// given without an index, has index −1). TorchSharp's <c>Device</c> has no equality, so compare these.
        /// </summary>
        internal static bool SameDevice(Device a, Device b) =>
            a.type == b.type && (a.index == b.index || a.index < 0 || b.index < 0);

        internal static string Shape(Tensor t) => "(" + string.Join(", ", t.shape.Select(d => d.ToString())) + ")";

        internal static string Shape(params long[] dims) => "(" + string.Join(", ", dims.Select(d => d.ToString())) + ")";

        /// <summary>Checks that <paramref name="t"/> has the dtype and device of <paramref name="module"/>'s parameters.</summary>
        /// <param name="t">The tensor to check.</param>
        /// <param name="name">The argument's name (the exception's ParamName).</param>
        /// <param name="module">One of the module's parameters.</param>
        /// <param name="label">What the message calls the tensor, when not <paramref name="name"/> (e.g. <c>input.data</c>).</param>
        internal static void DTypeAndDevice(Tensor t, string name, Tensor module, string? label = null)
        {
            label ??= name;
            if (t.dtype != module.dtype)
                throw new ArgumentException($"{label} must have dtype {module.dtype} (the module's); got {t.dtype}.", name);
            if (!SameDevice(t.device, module.device))
                throw new ArgumentException($"{label} must be on device {module.device} (the module's); got {t.device}.", name);
        }

        /// <summary>Checks that <paramref name="t"/> has the given shape and the dtype and device of <paramref name="module"/>.</summary>
        internal static void Tensor(Tensor? t, string name, long[] shape, Tensor module)
        {
            if (t is null) throw new ArgumentNullException(name);
            DTypeAndDevice(t, name, module);
            if (!t.shape.SequenceEqual(shape))
                throw new ArgumentException($"{name} must have shape {Shape(shape)}; got {Shape(t)}.", name);
        }

        /// <summary>
        /// Checks a padded input sequence: 3-D, (T, B, I) or (B, T, I) when <paramref name="batchFirst"/>, with
        /// I = <paramref name="features"/>, T &gt; 0, B &gt; 0, and the dtype and device of <paramref name="module"/>.
        /// </summary>
        /// <returns>(T, B).</returns>
        internal static (long Steps, long Batch) Sequence(Tensor? input, string name, long features, bool batchFirst, Tensor module)
        {
            if (input is null) throw new ArgumentNullException(name);
            string layout = batchFirst ? "(B, T, I)" : "(T, B, I)";
            if (input.dim() != 3)
                throw new ArgumentException($"{name} must be 3-D {layout} with I = {features}; got shape {Shape(input)}.", name);
            DTypeAndDevice(input, name, module);
            if (input.shape[2] != features)
                throw new ArgumentException($"{name} must be {layout} with I = {features}; got shape {Shape(input)}.", name);
            long steps = input.shape[batchFirst ? 1 : 0], batch = input.shape[batchFirst ? 0 : 1];
            if (steps == 0)
                throw new ArgumentException($"{name} must have at least one time step (T > 0); got shape {Shape(input)}.", name);
            if (batch == 0)
                throw new ArgumentException($"{name} must hold at least one sequence (B > 0); got shape {Shape(input)}.", name);
            return (steps, batch);
        }

        /// <summary>Checks the data of a packed sequence: 2-D (Σ lengths, I) with the module's dtype and device.</summary>
        internal static void PackedData(Tensor data, string name, long features, Tensor module)
        {
            if (data.dim() != 2 || data.shape[1] != features)
                throw new ArgumentException($"{name}.data must be 2-D (Σ lengths, I) with I = {features}; got shape {Shape(data)}.", name);
            DTypeAndDevice(data, name, module, name + ".data");
        }

        /// <summary>
        /// Throws <see cref="NonFiniteParameterException"/> when <paramref name="parameter"/> holds NaN or ±Inf (one
        /// reduction and one scalar read when it is finite).
        /// </summary>
        internal static void FiniteParameter(Tensor parameter, string name, string symbol)
        {
            using var noGrad = torch.no_grad();
            using var finite = torch.isfinite(parameter);
            using var all = finite.all();
            if (all.item<bool>()) return;
            using var nan = torch.isnan(parameter);
            using var nanCount = nan.sum();
            using var finiteCount = finite.sum();
            long nans = nanCount.item<long>();
            throw new NonFiniteParameterException(name, symbol, nans, parameter.numel() - finiteCount.item<long>() - nans);
        }
    }
}
