using System;
using FluentAssertions;
using TorchSharp;
using static TorchSharp.torch;

namespace DuRnn.Tests
{
    /// <summary>Element-wise closeness with a readable report of the worst element.</summary>
    internal static class TensorAssert
    {
        /// <summary>Asserts |actual − expected| ≤ atol + rtol·|expected| everywhere, with equal shapes.</summary>
        public static void Close(Tensor actual, Tensor expected, double rtol, double atol, string what)
        {
            actual.shape.Should().Equal(expected.shape, $"{what} must have the expected shape");
            using var scope = torch.NewDisposeScope();
            var a = actual.detach().to(ScalarType.Float64).cpu();
            var e = expected.detach().to(ScalarType.Float64).cpu();
            var excess = (a - e).abs() - (e.abs() * rtol + atol);
            if (excess.numel() == 0) return;
            long worst = excess.flatten().argmax().item<long>();
            double over = excess.flatten()[worst].item<double>();
            if (over > 0 || double.IsNaN(over))
            {
                double av = a.flatten()[worst].item<double>(), ev = e.flatten()[worst].item<double>();
                throw new Xunit.Sdk.XunitException(
                    $"{what}: element {worst} is {av:R}, expected {ev:R} (|diff| {Math.Abs(av - ev):E3} > atol {atol:E1} + rtol {rtol:E1}·|expected|).");
            }
        }
    }
}
