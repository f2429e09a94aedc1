using System;
using System.Linq;
using FluentAssertions;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace DuRnn.Tests
{
    /// <summary>The diagnostics API: memory horizons, spectral norms, per-layer summaries.</summary>
    [Collection("Sequential")]
    public sealed class DiagnosticsTests
    {
        [Fact]
        public void HorizonIsTheFirstStepBelowTheThreshold()
        {
            using var cell = new LongTermCell(2, 5);
            using (torch.no_grad())
                cell.weight_hh.copy_(torch.tensor(new[] { 0.5f, -0.9f, 0f, 1f, -1.2f }));
            var horizons = cell.MemoryHorizons(0.01);
            // 0.5^7 = 0.0078 < 0.01 ≤ 0.5^6 = 0.0156; 0.9^44 = 0.0097 < 0.01 ≤ 0.9^43 = 0.0108.
            horizons.Should().Equal(7, 44, 1, double.PositiveInfinity, double.PositiveInfinity);
            foreach (var (u, k) in new[] { (0.5, 7.0), (0.9, 44.0) })
            {
                Math.Pow(u, k).Should().BeLessThan(0.01);
                Math.Pow(u, k - 1).Should().BeGreaterThanOrEqualTo(0.01);
            }
        }

        [Fact]
        public void SpectralNormIsTheLargestSingularValue()
        {
            using var cell = new ShortTermCell(3, 3, constraint: ShortTermConstraint.None);
            using (torch.no_grad())
                cell.weight_hh.copy_(torch.diag(torch.tensor(new[] { 0.2f, -0.7f, 0.4f })));
            cell.SpectralNorm().Should().BeApproximately(0.7, 1e-6);
        }

        [Fact]
        public void DiagnoseSummarisesEveryLayer()
        {
            torch.manual_seed(61);
            using var model = new DuRNN(2, 8, numLayers: 3, maxSequenceLength: 1000, longMemoryLastLayer: true);
            var report = model.Diagnose();
            report.Select(r => r.Layer).Should().Equal(0, 1, 2);
            report.Should().OnlyContain(r => r.MemoryHorizons.Length == 8 && r.RecurrentWeights.Length == 8);
            report.Should().OnlyContain(r => r.ShortTermSpectralNorm <= 0.9 + 1e-6);
            report[2].RecurrentBound.Should().BeApproximately(Math.Pow(2, 1e-3), 1e-12);
            // u ≥ U_lowbound = 0.5^(1/1000) in the last layer: every neuron remembers about T_max steps or more.
            double lowBoundHorizon = Math.Floor(Math.Log(0.01) / Math.Log(Math.Pow(0.5, 1e-3)));
            report[2].NeuronsRemembering(lowBoundHorizon).Should().Be(8);
            report[2].MedianHorizon.Should().BeGreaterThan(report[0].MedianHorizon);
        }

        [Theory]
        [InlineData(0.0)]
        [InlineData(1.0)]
        public void ThresholdMustLieInTheOpenUnitInterval(double threshold)
        {
            using var cell = new LongTermCell(2, 3);
            var act = () => cell.MemoryHorizons(threshold);
            act.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("threshold");
        }
    }
}
