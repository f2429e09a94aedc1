using System;
using System.Globalization;
using System.Linq;
using TorchSharp;
using Xunit.Sdk;
using static TorchSharp.torch;

namespace DuRnn.Tests
{
    /// <summary>
    /// Element-wise comparison of a tensor with expected values, |actual − expected| ≤ atol + rtol·|expected|
    /// (numpy/torch allclose), failing with the worst element (index, both values, difference) in the message.
    /// </summary>
    public static class TensorAssert
    {
        /// <summary>Asserts that <paramref name="actual"/> has the expected shape and is close to the expected values.</summary>
        public static void Close(Tensor? actual, FixtureTensor expected, double rtol, double atol, string what) =>
            Close(actual, expected.Shape, expected.Data, rtol, atol, what);

        /// <summary>Asserts that <paramref name="actual"/> has shape <paramref name="shape"/> and is close to <paramref name="expected"/>.</summary>
        public static void Close(Tensor? actual, long[] shape, double[] expected, double rtol, double atol, string what)
        {
            if (actual is null || actual.IsInvalid)
                throw new XunitException($"{what}: no tensor (expected shape ({string.Join(", ", shape)})).");
            if (!actual.shape.SequenceEqual(shape))
                throw new XunitException($"{what}: shape ({string.Join(", ", actual.shape)}), expected ({string.Join(", ", shape)}).");
            double[] a;
            using (var d = actual.detach().to(ScalarType.Float64).contiguous().cpu())
                a = d.data<double>().ToArray();
            Close(a, shape, expected, rtol, atol, what);
        }

        /// <summary>Asserts that <paramref name="actual"/> has the shape of <paramref name="expected"/> and is close to it.</summary>
        public static void Close(Tensor? actual, Tensor expected, double rtol, double atol, string what)
        {
            double[] e;
            using (var d = expected.detach().to(ScalarType.Float64).contiguous().cpu())
                e = d.data<double>().ToArray();
            Close(actual, expected.shape, e, rtol, atol, what);
        }

        /// <summary>Asserts that a scalar is close to its expected value.</summary>
        public static void Close(double actual, double expected, double rtol, double atol, string what) =>
            Close(new[] { actual }, Array.Empty<long>(), new[] { expected }, rtol, atol, what);

        /// <summary>|a − e| / (atol + rtol·|e|): ≤ 1 passes; 0 when equal (also with zero tolerances); +∞ for NaN.</summary>
        internal static double Ratio(double a, double e, double rtol, double atol)
        {
            if (double.IsNaN(a) || double.IsNaN(e)) return double.PositiveInfinity;
            double diff = Math.Abs(a - e);
            return diff == 0 ? 0 : diff / (atol + rtol * Math.Abs(e));
        }

        private static void Close(double[] actual, long[] shape, double[] expected, double rtol, double atol, string what)
        {
            long failed = 0, worst = -1;
            double worstRatio = -1;
            for (long i = 0; i < expected.Length; i++)
            {
                double ratio = Ratio(actual[i], expected[i], rtol, atol);
                if (ratio > 1) failed++;
                if (ratio > worstRatio) { worstRatio = ratio; worst = i; }
            }
            if (failed == 0) return;
            var index = InputCheck.Unravel(worst, shape);
            throw new XunitException(string.Format(CultureInfo.InvariantCulture,
                "{0}: {1} of {2} elements outside |actual - expected| <= {3:G3} + {4:G3}*|expected|; worst at [{5}]: actual {6:R}, expected {7:R}, difference {8:G3} ({9:G3} times the tolerance)",
                what, failed, expected.Length, atol, rtol, string.Join(", ", index), actual[worst], expected[worst],
                actual[worst] - expected[worst], worstRatio));
        }
    }
}
