using System;
using System.Collections.Generic;
using System.Linq;
using FluentAssertions;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace DuRnn.Tests
{
    /// <summary>
    /// What only <see cref="IndRNN"/> has: its state-dict keys and shapes (a layer is a <see cref="LongTermCell"/>:
    /// <c>weight_ih</c>, <c>bias_ih</c>, <c>weight_hh</c>), its documented initialisation (W ~ N(0, σ²) with σ = 0.001 by
    /// default, u ~ U(0, U_bound) or U(U_lowbound, U_bound) in a long-memory last layer), and diagnostics without a
    /// short-term part. What both stacks share (shapes, state, modes, dtype moves, save/load, the README's key tables,
    /// the constraint on u, Auto) is in <see cref="ApiTests"/>.
    /// </summary>
    [Collection("Sequential")]
    public sealed class IndRnnApiTests : IDisposable
    {
        private readonly SingleThreaded _singleThreaded = new();

        public void Dispose() => _singleThreaded.Dispose();

        private const long I = 4, H = 6;

        [Fact]
        public void StateDictKeysAndShapes()
        {
            using var model = new IndRNN(I, H, numLayers: 3, batchNorm: true, bidirectional: true);
            var shapes = model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.shape);
            var expected = new Dictionary<string, long[]>();
            foreach (var group in new[] { "layers", "layers_reverse" })
            {
                for (int l = 0; l < 3; l++)
                {
                    expected[$"{group}.{l}.weight_ih"] = new[] { H, l == 0 ? I : 2 * H };
                    expected[$"{group}.{l}.bias_ih"] = new[] { H };
                    expected[$"{group}.{l}.weight_hh"] = new[] { H };
                }
            }
            for (int l = 0; l < 2; l++)
            {
                foreach (var k in new[] { "weight", "bias", "running_mean", "running_var" })
                    expected[$"norms.{l}.{k}"] = new[] { 2 * H };
                expected[$"norms.{l}.num_batches_tracked"] = Array.Empty<long>();
            }
            shapes.Keys.Should().BeEquivalentTo(expected.Keys);
            foreach (var (key, shape) in expected)
                shapes[key].Should().Equal(shape, key);
            model.state_dict()["norms.0.num_batches_tracked"].dtype.Should().Be(ScalarType.Int64, "PyTorch's step count is int64");
        }

        [Fact]
        public void InitialisationIsTheDocumentedOne()
        {
            using var scope = torch.NewDisposeScope();
            torch.manual_seed(82);
            const long tMax = 100, hidden = 2000;
            using var model = new IndRNN(50, hidden, numLayers: 2, maxSequenceLength: tMax, longMemoryLastLayer: true, longTermInputWeightStd: 0.01);
            double bound = Math.Pow(2.0, 1.0 / tMax), low = Math.Pow(0.5, 1.0 / tMax);
            model.RecurrentBound.Should().BeApproximately(bound, 1e-15);
            var first = model.Layers[0];
            var last = model.Layers[1];
            // W ~ N(0, 0.01²): 100 000 draws, so the sample std is within 1 % of σ (its relative error is ≈ 0.2 %).
            first.weight_ih.std().item<float>().Should().BeApproximately(0.01f, 1e-4f);
            last.weight_ih.std().item<float>().Should().BeApproximately(0.01f, 1e-4f);
            first.bias_ih.abs().max().item<float>().Should().Be(0, "biases start at zero");
            last.bias_ih.abs().max().item<float>().Should().Be(0, "biases start at zero");
            // u ~ U(0, U_bound) in the first layer, U(U_lowbound, U_bound) in the last (longMemoryLastLayer).
            first.weight_hh.min().item<float>().Should().BeInRange(0f, 0.01f);
            first.weight_hh.max().item<float>().Should().BeInRange((float)bound - 0.01f, (float)bound);
            last.weight_hh.min().item<float>().Should().BeInRange((float)low, (float)low + 0.001f);
            last.weight_hh.max().item<float>().Should().BeInRange((float)bound - 0.001f, (float)bound);

            using var noBound = new IndRNN(I, H);
            noBound.RecurrentBound.Should().Be(1.0, "without maxSequenceLength U_bound = 1");
        }

        [Fact]
        public void DiagnoseReportsEveryLayersRecurrentWeightsAndHorizons()
        {
            using var scope = torch.NewDisposeScope();
            torch.manual_seed(89);
            using var model = new IndRNN(I, 3, numLayers: 2, maxSequenceLength: 50);
            using (torch.no_grad())
            {
                model.Layers[0].weight_hh.copy_(torch.tensor(new[] { 0.5f, 0.9f, 1.0f }));
                model.Layers[1].weight_hh.copy_(torch.tensor(new[] { 0.0f, -0.99f, 0.2f }));
            }
            var layers = model.Diagnose();
            layers.Should().HaveCount(2);
            layers.Select(l => l.Layer).Should().Equal(0, 1);
            layers[0].RecurrentWeights.Should().Equal(0.5, (double)0.9f, 1.0);
            // Horizon: the smallest k with |u|^k < 0.01: 0.5^7 = 0.0078 → 7; 0.9^44 = 0.0097 (0.9^43 = 0.0108) → 44; 1 → ∞.
            layers[0].MemoryHorizons.Should().Equal(7, 44, double.PositiveInfinity);
            // 0 → 1 step; |−0.99|^459 = 0.00995 (^458 = 0.01005) → 459; 0.2^3 = 0.008 (0.2^2 = 0.04) → 3.
            layers[1].MemoryHorizons.Should().Equal(1, 459, 3);
            layers.Should().OnlyContain(l => double.IsNaN(l.ShortTermSpectralNorm), "an IndRNN has no short-term part");
            layers.Should().OnlyContain(l => l.RecurrentBound == Math.Pow(2.0, 1.0 / 50));
        }
    }
}
