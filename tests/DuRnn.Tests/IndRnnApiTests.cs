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
    /// The public surface of <see cref="IndRNN"/>: shapes (time-first, batch-first, bidirectional), the state-dict keys
    /// and shapes, the documented initialisation, the constraint and <see cref="IndRNN.ApplyConstraints"/>, state
    /// carried between calls, the implementation switch, <c>.to(float64)</c>, diagnostics, and that a call leaves
    /// neither leaks nor disposed caller tensors behind.
    /// </summary>
    [Collection("Sequential")]
    public sealed class IndRnnApiTests : IDisposable
    {
        private readonly SingleThreaded _singleThreaded = new();

        public void Dispose() => _singleThreaded.Dispose();

        private const long T = 7, B = 3, I = 4, H = 6;

        [Theory]
        [InlineData(false, false)]
        [InlineData(true, false)]
        [InlineData(false, true)]
        [InlineData(true, true)]
        public void ShapesFollowTorchSharpsRnn(bool batchFirst, bool bidirectional)
        {
            using var scope = torch.NewDisposeScope();
            torch.manual_seed(81);
            const long layers = 3;
            long d = bidirectional ? 2 : 1;
            using var model = new IndRNN(I, H, layers, batchFirst: batchFirst, bidirectional: bidirectional);
            var x = batchFirst ? torch.randn(B, T, I) : torch.randn(T, B, I);
            var (y, hn) = model.call(x);
            y.shape.Should().Equal(batchFirst ? new[] { B, T, d * H } : new[] { T, B, d * H });
            hn.shape.Should().Equal(layers * d, B, H);
            model.OutputSize.Should().Be(d * H);
            model.Layers.Should().HaveCount((int)layers);
            model.ReverseLayers.Should().HaveCount(bidirectional ? (int)layers : 0);
            // The last layer's output at the last step is its forward direction's final state (h_n entry (L−1)·D).
            var last = batchFirst ? y[.., -1] : y[-1];
            TensorAssert.Close(last[.., ..(int)H], hn[(layers - 1) * d], 0, 0, "output at T = h_n of the last layer, forward");
            if (bidirectional)
            {
                var first = batchFirst ? y[.., 0] : y[0];
                TensorAssert.Close(first[.., (int)H..], hn[layers * d - 1], 0, 0, "output at t = 1 = h_n of the last layer, backward");
            }
        }

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

        /// <summary>
        /// The README's IndRNN key table (rows "| symbol | `key` | (shape) |" in the "## IndRNN" section) lists exactly
        /// the state-dict keys, with their shapes, of a 2-layer stack with BatchNorm, with and without the backward
        /// direction.
        /// </summary>
        [Theory]
        [InlineData(false)]
        [InlineData(true)]
        public void StateDictKeysEqualTheReadmeTable(bool bidirectional)
        {
            using var model = new IndRNN(I, H, numLayers: 2, batchNorm: true, bidirectional: bidirectional);
            long d = bidirectional ? 2 : 1;
            string readme = System.IO.File.ReadAllText(ApiTests.FindRepositoryFile("README.md"));
            int start = readme.IndexOf("\n## IndRNN\n", StringComparison.Ordinal);
            start.Should().BeGreaterThan(0, "the README has an IndRNN section");
            int end = readme.IndexOf("\n## ", start + 1, StringComparison.Ordinal);
            string section = end < 0 ? readme[start..] : readme[start..end];
            var rows = System.Text.RegularExpressions.Regex.Matches(section,
                    @"^\|[^|\n]*\|\s*`((?:layers|layers_reverse|norms)\.\{l\}\.[a-z_]+)`\s*\|\s*\(([^)]*)\)\s*\|",
                    System.Text.RegularExpressions.RegexOptions.Multiline)
                .Select(m => (key: m.Groups[1].Value, shape: m.Groups[2].Value)).ToList();
            rows.Should().Contain(r => r.key.StartsWith("layers_reverse.", StringComparison.Ordinal));
            long Dim(string symbol, int l) => symbol.Trim() switch
            {
                "H" => H,
                "I_l" => l == 0 ? I : d * H,
                "D·H" => d * H,
                var other => throw new FormatException($"unknown dimension '{other}' in the README's IndRNN table"),
            };
            var documented = new Dictionary<string, long[]>();
            foreach (var (key, shape) in rows.Where(r => bidirectional || !r.key.StartsWith("layers_reverse.", StringComparison.Ordinal)))
            {
                foreach (int l in key.StartsWith("norms", StringComparison.Ordinal) ? new[] { 0 } : new[] { 0, 1 })
                {
                    documented[key.Replace("{l}", l.ToString(System.Globalization.CultureInfo.InvariantCulture))] =
                        shape.Length == 0 ? Array.Empty<long>() : shape.Split(',').Select(s => Dim(s, l)).ToArray();
                }
            }
            var actual = model.state_dict();
            actual.Keys.Should().BeEquivalentTo(documented.Keys);
            foreach (var (key, shape) in documented)
                actual[key].shape.Should().Equal(shape, key);
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

        /// <summary>reset_parameters() re-applies the initialisation: bit-exact against a fresh stack with the same seed.</summary>
        [Fact]
        public void ResetParametersReappliesTheInitialisation()
        {
            using var scope = torch.NewDisposeScope();
            torch.manual_seed(12);
            var fresh = new IndRNN(I, H, 3, maxSequenceLength: 40, longMemoryLastLayer: true, batchNorm: true, bidirectional: true);
            torch.manual_seed(12);
            var model = new IndRNN(I, H, 3, maxSequenceLength: 40, longMemoryLastLayer: true, batchNorm: true, bidirectional: true);
            var optimizer = optim.Adam(model.parameters(), lr: 0.05);
            for (int step = 0; step < 3; step++)
            {
                var (y, _) = model.call(torch.randn(T, B, I));
                optimizer.zero_grad();
                y.square().mean().backward();
                optimizer.step();
                model.ApplyConstraints();
            }
            model.parameters().Zip(fresh.parameters()).Count(p => !p.First.allclose(p.Second, 0, 0)).Should().BeGreaterThan(5);
            torch.manual_seed(12);
            model.reset_parameters();
            var expected = fresh.state_dict();
            var actual = model.state_dict();
            foreach (var key in expected.Keys.Where(k => !k.EndsWith("num_batches_tracked")))
                actual[key].allclose(expected[key], 0, 0).Should().BeTrue(key);
        }

        [Fact]
        public void FactoryBuildsTheSameStackAsTheConstructor()
        {
            using var scope = torch.NewDisposeScope();
            torch.manual_seed(4);
            var built = Recurrent.IndRNN(I, H, numLayers: 2, maxSequenceLength: 30, longMemoryLastLayer: true, batchFirst: true,
                bidirectional: true, longTermInputWeightStd: 0.01, dtype: ScalarType.Float64);
            torch.manual_seed(4);
            var constructed = new IndRNN(I, H, numLayers: 2, maxSequenceLength: 30, longMemoryLastLayer: true, batchFirst: true,
                longTermInputWeightStd: 0.01, bidirectional: true, dtype: ScalarType.Float64);
            built.BatchFirst.Should().BeTrue();
            built.Bidirectional.Should().BeTrue();
            built.LongTermInputWeightStd.Should().Be(0.01);
            var a = built.state_dict();
            var b = constructed.state_dict();
            a.Keys.Should().BeEquivalentTo(b.Keys);
            foreach (var key in a.Keys)
            {
                a[key].dtype.Should().Be(ScalarType.Float64);
                a[key].allclose(b[key], 0, 0).Should().BeTrue(key);
            }
        }

        [Fact]
        public void ApplyConstraintsClampsEveryUToTheBound()
        {
            using var scope = torch.NewDisposeScope();
            torch.manual_seed(83);
            using var model = new IndRNN(I, H, numLayers: 2, maxSequenceLength: 10, bidirectional: true, dtype: ScalarType.Float64);
            double bound = Math.Pow(2.0, 0.1);
            var cells = model.Layers.Concat(model.ReverseLayers).ToList();
            foreach (var cell in cells)
                cell.weight_hh.abs().max().item<double>().Should().BeLessThanOrEqualTo(bound, "the constraint holds right after construction");
            using (torch.no_grad())
                foreach (var cell in cells) cell.weight_hh.uniform_(-3, 3);
            var before = cells.Select(c => c.weight_hh.detach().clone()).ToList();
            before.Sum(u => u.abs().gt(bound).sum().item<long>()).Should().BeGreaterThan(0, "the test starts outside the bound");

            model.ApplyConstraints();

            for (int k = 0; k < cells.Count; k++)
            {
                var u = cells[k].weight_hh;
                u.abs().max().item<double>().Should().BeLessThanOrEqualTo(bound, $"cell {k} after ApplyConstraints");
                var expected = before[k].clamp(-bound, bound);
                TensorAssert.Close(u, expected, 0, 0, $"cell {k}: entries inside the bound unchanged, outside ones at ±U_bound");
            }
        }

        [Fact]
        public void ConstraintsHoldThroughTrainingWithALargeLearningRate()
        {
            using var scope = torch.NewDisposeScope();
            torch.manual_seed(84);
            using var model = new IndRNN(I, H, numLayers: 2, maxSequenceLength: T, longMemoryLastLayer: true);
            var optimizer = torch.optim.Adam(model.parameters(), lr: 0.5);
            double bound = model.RecurrentBound;
            bool exceededBeforeProjection = false;
            for (int step = 0; step < 30; step++)
            {
                using var stepScope = torch.NewDisposeScope();
                var (y, _) = model.call(torch.randn(T, B, I));
                var loss = y.square().mean().neg() + y.mean(); // pushes the states up: u grows
                optimizer.zero_grad();
                loss.backward();
                optimizer.step();
                exceededBeforeProjection |= model.Layers.Any(c => c.weight_hh.abs().max().item<float>() > bound);
                model.ApplyConstraints();
                foreach (var cell in model.Layers)
                    cell.weight_hh.abs().max().item<float>().Should().BeLessThanOrEqualTo((float)bound, $"step {step}");
            }
            exceededBeforeProjection.Should().BeTrue("the optimizer really pushed u past the bound (else the test proves nothing)");
        }

        [Theory]
        [InlineData(DuRNNImplementation.Reference)]
        [InlineData(DuRNNImplementation.Batched)]
        [InlineData(DuRNNImplementation.Fused)]
        public void CarryingTheStateOverEqualsOneCall(DuRNNImplementation implementation)
        {
            using var scope = torch.NewDisposeScope();
            torch.manual_seed(85);
            using var model = new IndRNN(I, H, numLayers: 2, residual: true, dtype: ScalarType.Float64) { Implementation = implementation };
            IndRnnParityTests.Randomize(model);
            var x = torch.randn(T, B, I, dtype: ScalarType.Float64);
            var (whole, hWhole) = model.call(x);
            var (a, hA) = model.call(x[..3]);
            var (b, hB) = model.call(x[3..], hA);
            TensorAssert.Close(torch.cat(new[] { a, b }, 0), whole, 1e-12, 1e-14, "two halves with the state carried over");
            TensorAssert.Close(hB, hWhole, 1e-12, 1e-14, "final state");
        }

        [Fact]
        public void AutoIsFusedOnTheCpuForFloat32AndFloat64()
        {
            using var scope = torch.NewDisposeScope();
            Implementations.Resolve(DuRNNImplementation.Auto, torch.zeros(1, dtype: ScalarType.Float32)).Should().Be(DuRNNImplementation.Fused);
            Implementations.Resolve(DuRNNImplementation.Auto, torch.zeros(1, dtype: ScalarType.Float64)).Should().Be(DuRNNImplementation.Fused);
            Implementations.Resolve(DuRNNImplementation.Auto, torch.zeros(1, dtype: ScalarType.BFloat16)).Should().Be(DuRNNImplementation.Batched);
            Implementations.Resolve(DuRNNImplementation.Reference, torch.zeros(1)).Should().Be(DuRNNImplementation.Reference);
            Implementations.Resolve(DuRNNImplementation.Batched, torch.zeros(1)).Should().Be(DuRNNImplementation.Batched);

            // And the module really runs that way: Auto's result is bit-identical to Fused's, not to Batched's rounding.
            torch.manual_seed(86);
            using var model = new IndRNN(I, H, numLayers: 2);
            IndRnnParityTests.Randomize(model);
            var x = torch.randn(T, B, I);
            model.Implementation.Should().Be(DuRNNImplementation.Auto, "Auto is the default");
            var (auto, _) = model.call(x);
            model.Implementation = DuRNNImplementation.Fused;
            var (fused, _) = model.call(x);
            TensorAssert.Close(auto, fused, 0, 0, "Auto = Fused");
        }

        [Fact]
        public void FusedRejectsWhatItCannotRunAndAutoFallsBack()
        {
            using var scope = torch.NewDisposeScope();
            torch.manual_seed(87);
            using var model = new IndRNN(I, H, dtype: ScalarType.BFloat16) { Implementation = DuRNNImplementation.Fused };
            var x = torch.randn(T, B, I, dtype: ScalarType.BFloat16);
            FluentActions.Invoking(() => model.call(x)).Should().Throw<NotSupportedException>().WithMessage("*float32 or float64*BFloat16*");
            model.Implementation = DuRNNImplementation.Auto;
            var (y, hn) = model.call(x);
            y.dtype.Should().Be(ScalarType.BFloat16);
            hn.shape.Should().Equal(1, B, H);
            FluentActions.Invoking(() => model.Implementation = (DuRNNImplementation)42)
                .Should().Throw<ArgumentOutOfRangeException>().WithParameterName("value");
        }

        [Fact]
        public void ToFloat64ConvertsEveryParameterAndRuns()
        {
            using var scope = torch.NewDisposeScope();
            torch.manual_seed(88);
            var model = new IndRNN(I, H, numLayers: 2, batchNorm: true, bidirectional: true);
            model.to(ScalarType.Float64);
            model.parameters().Should().OnlyContain(p => p.dtype == ScalarType.Float64);
            model.Layers.Should().OnlyContain(c => c.weight_hh.dtype == ScalarType.Float64, "the cells see their new parameters");
            var (y, hn) = model.call(torch.randn(T, B, I, dtype: ScalarType.Float64));
            y.dtype.Should().Be(ScalarType.Float64);
            hn.dtype.Should().Be(ScalarType.Float64);
            model.ApplyConstraints();
            model.Dispose();
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

        [Fact]
        public void CallsLeakNothingAndLeaveTheCallersTensorsAlive()
        {
            torch.manual_seed(90);
            using var model = new IndRNN(I, H, numLayers: 2, batchNorm: true, dropout: 0.2, bidirectional: true);
            var optimizer = torch.optim.Adam(model.parameters(), lr: 1e-3);
            using var x = torch.randn(T, B, I);
            using var h0 = torch.rand(4, B, H);
            using var lengths = torch.tensor(new long[] { 7, 2, 5 });
            long live = 0;
            for (int step = 0; step < 40; step++)
            {
                using (var scope = torch.NewDisposeScope())
                {
                    var (y, hn) = step % 2 == 0 ? model.call(x, h0) : model.call(x, lengths, h0);
                    var loss = y.sum() + hn.sum();
                    optimizer.zero_grad();
                    loss.backward();
                    optimizer.step();
                    model.ApplyConstraints();
                }
                if (step == 9) live = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
            }
            DisposeScopeManager.Statistics.ThreadTotalLiveCount.Should().Be(live, "the live tensor count stays flat from step 10 to step 40");
            x.IsInvalid.Should().BeFalse("the input belongs to the caller");
            h0.IsInvalid.Should().BeFalse("the initial state belongs to the caller");
            lengths.IsInvalid.Should().BeFalse("the lengths belong to the caller");
        }
    }
}
