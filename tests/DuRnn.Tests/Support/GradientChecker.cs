using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;
using TorchSharp;
using Xunit.Sdk;
using static TorchSharp.torch;

namespace DuRnn.Tests
{
    /// <summary>
    /// A finite-difference gradient checker (TorchSharp has no <c>gradcheck</c>): compares the gradients autograd
    /// computes for a scalar float64 function with central differences, element by element, using PyTorch
    /// gradcheck's criterion |a − n| ≤ atol + rtol·|n|.
    /// </summary>
    /// <remarks>
    /// The numeric gradient of element i is (f(x + eps·e_i) − f(x − eps·e_i)) / (2·eps), with each input tensor
    /// perturbed in place under no_grad and restored exactly afterwards. The loss function is evaluated once with
    /// autograd (the analytic gradients, from <c>torch.autograd.grad</c>) and twice per checked element; it must
    /// compute the same function every time (re-seed inside it if it draws random numbers, e.g. dropout masks).
    /// </remarks>
    public static class GradientChecker
    {
        /// <summary>PyTorch gradcheck's default step.</summary>
        public const double DefaultEps = 1e-6;

        /// <summary>PyTorch gradcheck's default absolute tolerance.</summary>
        public const double DefaultAtol = 1e-5;

        /// <summary>PyTorch gradcheck's default relative tolerance.</summary>
        public const double DefaultRtol = 1e-3;

        /// <summary>
        /// Compares analytic and numeric gradients of <paramref name="loss"/> with respect to every tensor in
        /// <paramref name="inputs"/>.
        /// </summary>
        /// <param name="loss">Computes a scalar float64 tensor from the current values of the inputs.</param>
        /// <param name="inputs">Named float64 leaf tensors that require grad (parameters, inputs, initial states),
        /// contiguous, each perturbed in place.</param>
        /// <param name="eps">The central-difference step.</param>
        /// <param name="atol">Absolute tolerance of the criterion.</param>
        /// <param name="rtol">Relative tolerance of the criterion (relative to the numeric gradient).</param>
        public static GradientCheckResult Check(Func<Tensor> loss, IEnumerable<(string name, Tensor tensor)> inputs,
            double eps = DefaultEps, double atol = DefaultAtol, double rtol = DefaultRtol)
        {
            if (loss is null) throw new ArgumentNullException(nameof(loss));
            if (inputs is null) throw new ArgumentNullException(nameof(inputs));
            var list = inputs.ToList();
            if (list.Count == 0) throw new ArgumentException("At least one input is needed.", nameof(inputs));
            foreach (var (name, t) in list)
            {
                if (t is null) throw new ArgumentException($"Input '{name}' is null.", nameof(inputs));
                if (t.dtype != ScalarType.Float64)
                    throw new ArgumentException($"Input '{name}' must be float64 for a finite-difference check; got {t.dtype}.", nameof(inputs));
                if (!t.requires_grad)
                    throw new ArgumentException($"Input '{name}' must require grad.", nameof(inputs));
                if (!t.is_contiguous())
                    throw new ArgumentException($"Input '{name}' must be contiguous (it is perturbed through a flat view).", nameof(inputs));
            }

            var analytic = AnalyticGradients(loss, list);

            var checks = new List<InputCheck>(list.Count);
            for (int k = 0; k < list.Count; k++)
            {
                var (name, tensor) = list[k];
                double[] numeric = NumericGradient(loss, tensor, eps);
                checks.Add(InputCheck.Compare(name, tensor.shape, analytic[k], numeric, atol, rtol));
            }
            return new GradientCheckResult(checks, eps, atol, rtol);
        }

        /// <summary>
        /// Runs <see cref="Check"/> and fails the test with a readable per-input report when any element misses the
        /// criterion, or (with <paramref name="requireNonZero"/>) when an input's numeric gradient is all but zero,
        /// which would make the check vacuous.
        /// </summary>
        /// <returns>The result, for further assertions.</returns>
        public static GradientCheckResult AssertGradientsMatch(Func<Tensor> loss, IEnumerable<(string name, Tensor tensor)> inputs,
            bool requireNonZero = true, double eps = DefaultEps, double atol = DefaultAtol, double rtol = DefaultRtol)
        {
            var result = Check(loss, inputs, eps, atol, rtol);
            result.AssertPassed(requireNonZero);
            return result;
        }

        private static double[]?[] AnalyticGradients(Func<Tensor> loss, List<(string name, Tensor tensor)> inputs)
        {
            using var scope = torch.NewDisposeScope();
            using var enableGrad = torch.enable_grad();
            var value = loss();
            CheckLoss(value);
            var grads = torch.autograd.grad(new[] { value }, inputs.Select(i => i.tensor).ToList(), allow_unused: true);
            var result = new double[]?[inputs.Count];
            for (int k = 0; k < inputs.Count; k++)
            {
                var g = grads[k];
                // An input the loss does not use has no gradient (an undefined tensor); report it as "missing" rather
                // than as zeros, so that a path that autograd does not see shows up in the report.
                result[k] = g is null || g.IsInvalid ? null : g.contiguous().data<double>().ToArray();
            }
            return result;
        }

        private static double[] NumericGradient(Func<Tensor> loss, Tensor tensor, double eps)
        {
            using var noGrad = torch.no_grad();
            using var flat = tensor.view(-1);
            long n = flat.shape[0];
            double[] original = flat.data<double>().ToArray();
            var numeric = new double[n];
            for (long i = 0; i < n; i++)
            {
                double x0 = original[i];
                double plus = x0 + eps, minus = x0 - eps;
                double fPlus = EvaluateAt(loss, flat, i, plus);
                double fMinus = EvaluateAt(loss, flat, i, minus);
                Set(flat, i, x0);
                // Divide by the step actually taken (x0 ± eps rounded to float64), not by 2·eps.
                numeric[i] = (fPlus - fMinus) / (plus - minus);
            }
            return numeric;
        }

        private static double EvaluateAt(Func<Tensor> loss, Tensor flat, long index, double value)
        {
            using var scope = torch.NewDisposeScope();
            Set(flat, index, value);
            var l = loss();
            CheckLoss(l);
            return l.item<double>();
        }

        private static void Set(Tensor flat, long index, double value)
        {
            using var element = flat[index];
            element.fill_(value);
        }

        private static void CheckLoss(Tensor value)
        {
            if (value is null) throw new InvalidOperationException("The loss function returned null.");
            if (value.numel() != 1)
                throw new InvalidOperationException($"The loss must be a scalar; got shape ({string.Join(", ", value.shape)}).");
            if (value.dtype != ScalarType.Float64)
                throw new InvalidOperationException($"The loss must be float64; got {value.dtype}.");
        }
    }

    /// <summary>The comparison of analytic and numeric gradients for one input tensor.</summary>
    public sealed class InputCheck
    {
        private InputCheck(string name, long[] shape, long elements, bool hasAnalytic, long failed, long[] worstIndex,
            double worstAnalytic, double worstNumeric, double worstRatio, double maxAbsNumeric)
        {
            Name = name;
            Shape = shape;
            Elements = elements;
            HasAnalyticGradient = hasAnalytic;
            FailedElements = failed;
            WorstIndex = worstIndex;
            WorstAnalytic = worstAnalytic;
            WorstNumeric = worstNumeric;
            WorstRatio = worstRatio;
            MaxAbsNumeric = maxAbsNumeric;
        }

        /// <summary>The input's name.</summary>
        public string Name { get; }

        /// <summary>The input's shape.</summary>
        public long[] Shape { get; }

        /// <summary>The number of elements checked.</summary>
        public long Elements { get; }

        /// <summary>False when autograd returned no gradient at all (the loss does not reach this input).</summary>
        public bool HasAnalyticGradient { get; }

        /// <summary>The number of elements with |a − n| &gt; atol + rtol·|n|.</summary>
        public long FailedElements { get; }

        /// <summary>The (multi-dimensional) index of the element with the largest ratio |a − n| / (atol + rtol·|n|).</summary>
        public long[] WorstIndex { get; }

        /// <summary>The analytic gradient at <see cref="WorstIndex"/> (0 when autograd gave none).</summary>
        public double WorstAnalytic { get; }

        /// <summary>The numeric gradient at <see cref="WorstIndex"/>.</summary>
        public double WorstNumeric { get; }

        /// <summary>|a − n| / (atol + rtol·|n|) at <see cref="WorstIndex"/>; the element passes when it is ≤ 1.</summary>
        public double WorstRatio { get; }

        /// <summary>The largest |numeric gradient| over the tensor (≈ 0 means the check says little about this input).</summary>
        public double MaxAbsNumeric { get; }

        /// <summary>Whether every element meets the criterion (a missing analytic gradient counts as zeros).</summary>
        public bool Passed => FailedElements == 0;

        internal static InputCheck Compare(string name, long[] shape, double[]? analytic, double[] numeric, double atol, double rtol)
        {
            long failed = 0, worst = 0;
            double worstRatio = -1, maxAbsNumeric = 0;
            for (long i = 0; i < numeric.Length; i++)
            {
                double a = analytic is null ? 0.0 : analytic[i];
                double n = numeric[i];
                double ratio = TensorAssert.Ratio(a, n, rtol, atol);
                if (ratio > 1) failed++;
                if (ratio > worstRatio) { worstRatio = ratio; worst = i; }
                maxAbsNumeric = Math.Max(maxAbsNumeric, Math.Abs(n));
            }
            return new InputCheck(name, shape, numeric.Length, analytic is not null, failed, Unravel(worst, shape),
                analytic is null ? 0.0 : analytic[worst], numeric[worst], worstRatio, maxAbsNumeric);
        }

        internal static long[] Unravel(long flatIndex, long[] shape)
        {
            var index = new long[shape.Length];
            for (int d = shape.Length - 1; d >= 0; d--)
            {
                index[d] = flatIndex % shape[d];
                flatIndex /= shape[d];
            }
            return index;
        }

        /// <summary>One line describing this input's comparison.</summary>
        public override string ToString()
        {
            var c = CultureInfo.InvariantCulture;
            string status = Passed ? "ok  " : "FAIL";
            string grad = HasAnalyticGradient ? "" : " (autograd gave no gradient: taken as zeros)";
            return string.Format(c,
                "{0} {1} ({2}): {3} of {4} elements off; worst at [{5}]: analytic {6:R}, numeric {7:R}, |a - n| = {8:G3} (ratio to tolerance {9:G3}); max |numeric| {10:G3}{11}",
                status, Name, string.Join(", ", Shape), FailedElements, Elements, string.Join(", ", WorstIndex),
                WorstAnalytic, WorstNumeric, Math.Abs(WorstAnalytic - WorstNumeric), WorstRatio, MaxAbsNumeric, grad);
        }
    }

    /// <summary>The outcome of <see cref="GradientChecker.Check"/>: one <see cref="InputCheck"/> per input.</summary>
    public sealed class GradientCheckResult
    {
        /// <summary>
        /// Below this largest |numeric gradient| an input counts as having an all-zero gradient. The checked losses
        /// have O(1) weights, parameters and inputs, so a live path gives gradients of order 0.01–10; a maximum
        /// under 1e-6 means a dead path (e.g. all ReLUs off), whose check proves nothing.
        /// </summary>
        public const double NonZeroThreshold = 1e-6;

        internal GradientCheckResult(IReadOnlyList<InputCheck> inputs, double eps, double atol, double rtol)
        {
            Inputs = inputs;
            Eps = eps;
            Atol = atol;
            Rtol = rtol;
        }

        /// <summary>The comparison of every input, in the order given.</summary>
        public IReadOnlyList<InputCheck> Inputs { get; }

        /// <summary>The central-difference step used.</summary>
        public double Eps { get; }

        /// <summary>The absolute tolerance used.</summary>
        public double Atol { get; }

        /// <summary>The relative tolerance used.</summary>
        public double Rtol { get; }

        /// <summary>Whether every element of every input meets the criterion.</summary>
        public bool Passed => Inputs.All(i => i.Passed);

        /// <summary>The inputs whose numeric gradient is all but zero everywhere.</summary>
        public IEnumerable<InputCheck> ZeroGradientInputs => Inputs.Where(i => i.MaxAbsNumeric < NonZeroThreshold);

        /// <summary>A readable report, one line per input.</summary>
        public string Describe()
        {
            var sb = new StringBuilder();
            sb.AppendFormat(CultureInfo.InvariantCulture,
                "Gradient check (central differences, eps {0:G3}; element passes when |a - n| <= {1:G3} + {2:G3}*|n|): {3}",
                Eps, Atol, Rtol, Passed ? "passed" : "FAILED").AppendLine();
            foreach (var input in Inputs)
                sb.Append("  ").AppendLine(input.ToString());
            return sb.ToString();
        }

        /// <summary>
        /// Fails the test (with <see cref="Describe"/> as the message) when any element misses the criterion, or,
        /// with <paramref name="requireNonZero"/>, when some input's numeric gradient is all zero.
        /// </summary>
        public void AssertPassed(bool requireNonZero = true)
        {
            if (!Passed)
                throw new XunitException(Describe());
            if (requireNonZero && ZeroGradientInputs.Any())
            {
                throw new XunitException("Gradient check is vacuous for " +
                    string.Join(", ", ZeroGradientInputs.Select(i => i.Name)) +
                    $": their numeric gradients are all below {NonZeroThreshold:G3}.{Environment.NewLine}" + Describe());
            }
        }
    }
}
