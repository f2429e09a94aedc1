using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using FluentAssertions;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace DuRnn.Tests
{
    /// <summary>
    /// Both stacks behave like TorchSharp's own recurrent layers: shapes (time-first, batch-first, bidirectional) and
    /// the state layout, the state carried between calls, train and eval modes, <c>.to(float64)</c>,
    /// <c>reset_parameters</c>, the factory functions, save/load, the README's key tables, the constraint on u, how
    /// <see cref="DuRNNImplementation.Auto"/> resolves, and that a call leaves neither leaks nor disposed caller
    /// tensors behind. The IndRNN's own key list, initialisation and diagnostics are in <see cref="IndRnnApiTests"/>.
    /// </summary>
    [Collection("Sequential")]
    public sealed class ApiTests : IDisposable
    {
        private readonly SingleThreaded _singleThreaded = new();

        public void Dispose() => _singleThreaded.Dispose();

        public static IEnumerable<object[]> ShapeCases =>
            TestData.Cross(TestData.Kinds.Cast<object>(), new object[] { false, true }, new object[] { false, true });

        public static IEnumerable<object[]> KindAndBidirectionalCases =>
            TestData.Cross(TestData.Kinds.Cast<object>(), new object[] { false, true });

        [Theory]
        [MemberData(nameof(ShapeCases))]
        public void ShapesFollowTorchSharpsRnn(StackKind kind, bool batchFirst, bool bidirectional)
        {
            using var scope = torch.NewDisposeScope();
            torch.manual_seed(kind == StackKind.DuRNN ? 21 : 81);
            const long T = 7, B = 3, I = 5, H = 8, S = 6, layers = 3;
            var spec = new StackSpec(I, H, layers) { BatchFirst = batchFirst, Bidirectional = bidirectional };
            using var model = StackUnderTest.Create(kind, kind == StackKind.DuRNN ? spec with { ShortTermSize = S } : spec);
            long d = bidirectional ? 2 : 1;
            var x = batchFirst ? torch.randn(B, T, I) : torch.randn(T, B, I);
            var (y, state) = model.Call(x);
            y.shape.Should().Equal(batchFirst ? new[] { B, T, d * H } : new[] { T, B, d * H });
            model.StateSizes.Should().Equal(kind == StackKind.DuRNN ? new[] { S, H } : new[] { H });
            state.Should().HaveCount(model.StateSizes.Count);
            for (int p = 0; p < state.Length; p++)
                state[p].shape.Should().Equal(layers * d, B, model.StateSizes[p]);
            model.OutputSize.Should().Be(d * H);
            model.Layers.Should().HaveCount((int)layers);
            model.ReverseLayers.Should().HaveCount(bidirectional ? (int)layers : 0);
            // The last layer's output at the last step is its forward direction's final h (h_n entry (L−1)·D).
            var hn = state[^1];
            var last = batchFirst ? y[.., -1] : y[-1];
            TensorAssert.Close(last[.., ..(int)H], hn[(layers - 1) * d], 0, 0, "output at T = h_n of the last layer, forward");
            if (bidirectional)
            {
                var first = batchFirst ? y[.., 0] : y[0];
                TensorAssert.Close(first[.., (int)H..], hn[layers * d - 1], 0, 0, "output at t = 1 = h_n of the last layer, backward");
            }
        }

        [Theory]
        [MemberData(nameof(TestData.KindCases), MemberType = typeof(TestData))]
        public void BatchFirstIsTheTransposeOfTimeFirst(StackKind kind)
        {
            using var scope = torch.NewDisposeScope();
            torch.manual_seed(22);
            using var timeFirst = StackUnderTest.Create(kind, new StackSpec(3, 4, 2) { DType = ScalarType.Float64 });
            using var batchFirst = StackUnderTest.Create(kind, new StackSpec(3, 4, 2) { BatchFirst = true, DType = ScalarType.Float64 });
            batchFirst.Module.load_state_dict(timeFirst.state_dict());
            timeFirst.Randomize();
            batchFirst.Module.load_state_dict(timeFirst.state_dict());
            var x = torch.randn(6, 2, 3, dtype: ScalarType.Float64);
            var (y1, s1) = timeFirst.Call(x);
            var (y2, s2) = batchFirst.Call(x.transpose(0, 1));
            TensorAssert.Close(y2.transpose(0, 1), y1, 0, 0, "output");
            for (int p = 0; p < s1.Length; p++)
                TensorAssert.Close(s2[p], s1[p], 0, 0, $"{timeFirst.StateLabels[p]}_n");
        }

        /// <summary>
        /// A sequence in two calls, the state of the first passed to the second, equals one call. Each stack its own case
        /// and tolerance: a 3-layer DuRNN (S 4, H 5), T 12 cut after 5, rtol 1e-13, atol 1e-15; a 2-layer IndRNN with
        /// residual connections (I 4, H 6), T 7 cut after 3, rtol 1e-12, atol 1e-14. The same operations in the same
        /// order: equal up to the last bit but for BLAS blocking.
        /// </summary>
        [Theory]
        [MemberData(nameof(TestData.KindAndImplementationCases), MemberType = typeof(TestData))]
        public void TwoHalvesWithTheStateCarriedOverEqualTheWhole(StackKind kind, DuRNNImplementation implementation)
        {
            using var scope = torch.NewDisposeScope();
            var (seed, spec, steps, batch, cut, rtol, atol) = kind == StackKind.DuRNN
                ? (23, new StackSpec(3, 5, 3) { ShortTermSize = 4 }, 12L, 2L, 5, 1e-13, 1e-15)
                : (85, new StackSpec(4, 6, 2) { Residual = true }, 7L, 3L, 3, 1e-12, 1e-14);
            torch.manual_seed(seed);
            using var model = StackUnderTest.Create(kind, spec with { DType = ScalarType.Float64 });
            model.Implementation = implementation;
            model.Randomize();
            var x = torch.randn(steps, batch, spec.InputSize, dtype: ScalarType.Float64);
            var (whole, wholeState) = model.Call(x);
            var (first, mid) = model.Call(x[..cut]);
            var (second, end) = model.Call(x[cut..], mid);
            TensorAssert.Close(torch.cat(new[] { first, second }), whole, rtol, atol, "output, two halves with the state carried over");
            for (int p = 0; p < end.Length; p++)
                TensorAssert.Close(end[p], wholeState[p], rtol, atol, $"final {model.StateLabels[p]}");
        }

        [Theory]
        [MemberData(nameof(TestData.KindCases), MemberType = typeof(TestData))]
        public void EvalModeUsesRunningStatisticsAndNoDropout(StackKind kind)
        {
            using var scope = torch.NewDisposeScope();
            torch.manual_seed(24);
            using var model = StackUnderTest.Create(kind, new StackSpec(3, 6, 3) { BatchNorm = true, Dropout = 0.5 });
            model.Randomize();
            var x = torch.randn(8, 4, 3);
            model.training.Should().BeTrue();
            var (a, _) = model.Call(x);
            var (b, _) = model.Call(x);
            a.allclose(b).Should().BeFalse("dropout draws a new mask per call in train mode");

            model.eval();
            model.Layers.All(l => !l.training).Should().BeTrue();
            var (c, _) = model.Call(x);
            var (d, _) = model.Call(x);
            TensorAssert.Close(c, d, 0, 0, "two eval-mode calls");
            var (single, _) = model.Call(x[.., ..1]);
            TensorAssert.Close(single, c[.., ..1], 1e-5, 1e-6, "eval mode treats each sequence independently (running BatchNorm statistics)");
            model.train();
            model.training.Should().BeTrue();
        }

        [Theory]
        [MemberData(nameof(TestData.KindCases), MemberType = typeof(TestData))]
        public void ToFloat64MovesEveryParameterAndKeepsConstraintsWorking(StackKind kind)
        {
            using var scope = torch.NewDisposeScope();
            torch.manual_seed(kind == StackKind.DuRNN ? 25 : 88);
            var model = StackUnderTest.Create(kind, new StackSpec(3, 6, 2) { BatchNorm = true, Bidirectional = true });
            model.ApplyConstraints();
            model.Module.to(ScalarType.Float64);
            model.parameters().Should().OnlyContain(p => p.dtype == ScalarType.Float64);
            // The cells see their new parameters (.to() replaces every parameter object).
            model.LongTermCells.Should().OnlyContain(c => c.weight_hh.dtype == ScalarType.Float64 && c.weight_ih.dtype == ScalarType.Float64);
            if (model.Module is DuRNN duRnn)
                duRnn.Layers.Concat(duRnn.ReverseLayers).Should().OnlyContain(l => l.ShortTerm.weight_hh.dtype == ScalarType.Float64);
            var (y, state) = model.Call(torch.randn(5, 2, 3, dtype: ScalarType.Float64));
            y.dtype.Should().Be(ScalarType.Float64);
            state.Should().OnlyContain(part => part.dtype == ScalarType.Float64);
            model.ApplyConstraints();
            var act = () => model.Call(torch.randn(5, 2, 3));
            act.Should().Throw<ArgumentException>().WithMessage("*Float64*Float32*");
            model.Dispose();
        }

        /// <summary>
        /// reset_parameters() re-applies the documented initialisation: after training steps have moved every parameter
        /// and BatchNorm's statistics, seeding as before and resetting gives exactly a freshly constructed stack (of the
        /// same dtype: float32 and float64 draws differ) — also after .to(), which replaces every parameter object (so the
        /// cells reset the parameters they now hold). DuRNN: I 3, H 6, 2 layers; IndRNN: I 4, H 6, 3 layers; BatchNorm,
        /// T_max 40, long memory in the last layer.
        /// </summary>
        [Theory]
        [MemberData(nameof(KindAndBidirectionalCases))]
        public void ResetParametersReappliesTheInitialisation(StackKind kind, bool bidirectional)
        {
            using var scope = torch.NewDisposeScope();
            int seed = kind == StackKind.DuRNN ? 11 : 12;
            var spec = (kind == StackKind.DuRNN ? new StackSpec(3, 6, 2) : new StackSpec(4, 6, 3)) with
            {
                BatchNorm = true, MaxSequenceLength = 40, LongMemoryLastLayer = true, Bidirectional = bidirectional,
            };
            torch.manual_seed(seed);
            using var fresh = StackUnderTest.Create(kind, spec with { DType = ScalarType.Float64 });
            torch.manual_seed(seed);
            using var model = StackUnderTest.Create(kind, spec);
            model.Module.to(ScalarType.Float64);
            var optimizer = optim.Adam(model.parameters(), lr: 0.05);
            for (int step = 0; step < 3; step++)
            {
                var (y, _) = model.Call(torch.randn(5, 4, spec.InputSize, dtype: ScalarType.Float64));
                optimizer.zero_grad();
                y.square().mean().backward();
                optimizer.step();
                model.ApplyConstraints();
            }
            var moved = model.state_dict();
            moved.Keys.Where(k => !k.EndsWith("num_batches_tracked"))
                .Count(k => !moved[k].allclose(fresh.state_dict()[k], 0, 0)).Should().BeGreaterThan(10, "training moved the parameters");
            model.parameters().Zip(fresh.parameters()).Count(p => !p.First.allclose(p.Second, 0, 0)).Should().BeGreaterThan(5);

            torch.manual_seed(seed);
            model.reset_parameters();
            var expected = fresh.state_dict();
            var actual = model.state_dict();
            actual.Keys.Should().BeEquivalentTo(expected.Keys);
            foreach (var key in expected.Keys.Where(k => !k.EndsWith("num_batches_tracked")))
                actual[key].allclose(expected[key], 0, 0).Should().BeTrue($"{key} is re-initialised as the constructor did");
            actual.Where(kv => kv.Key.EndsWith("num_batches_tracked")).Should().OnlyContain(kv => kv.Value.item<long>() == 0);
        }

        /// <summary>The factory function and the constructor build the same stack from the same options, σ given or left to its default.</summary>
        [Theory]
        [MemberData(nameof(FactoryCases))]
        public void FactoryBuildsTheSameStackAsTheConstructor(StackKind kind, bool withInputWeightStd)
        {
            using var scope = torch.NewDisposeScope();
            var spec = new StackSpec(3, 6, 2)
            {
                MaxSequenceLength = 30, LongMemoryLastLayer = true, BatchFirst = true, Bidirectional = true, DType = ScalarType.Float64,
            };
            if (withInputWeightStd) spec = spec with { LongTermInputWeightStd = 0.01 };
            torch.manual_seed(4);
            using var built = StackUnderTest.CreateWithFactory(kind, spec);
            torch.manual_seed(4);
            using var constructed = StackUnderTest.Create(kind, spec);
            built.BatchFirst.Should().BeTrue();
            built.Bidirectional.Should().BeTrue();
            built.MaxSequenceLength.Should().Be(30);
            built.LongTermInputWeightStd.Should().Be(withInputWeightStd ? 0.01 : constructed.LongTermInputWeightStd);
            var a = built.state_dict();
            var b = constructed.state_dict();
            a.Keys.Should().BeEquivalentTo(b.Keys);
            foreach (var key in a.Keys)
            {
                a[key].dtype.Should().Be(ScalarType.Float64);
                a[key].allclose(b[key], 0, 0).Should().BeTrue(key);
            }
        }

        public static IEnumerable<object[]> FactoryCases =>
            TestData.Cross(TestData.Kinds.Cast<object>(), new object[] { false, true });

        [Theory]
        [MemberData(nameof(TestData.KindCases), MemberType = typeof(TestData))]
        public void SaveAndLoadRoundTripIsBitExact(StackKind kind)
        {
            using var scope = torch.NewDisposeScope();
            torch.manual_seed(26);
            var path = Path.Combine(Path.GetTempPath(), $"durnn-{Guid.NewGuid():N}.bin");
            try
            {
                var spec = new StackSpec(3, 6, 2) { BatchNorm = true, Residual = true };
                using var model = StackUnderTest.Create(kind, spec);
                model.Randomize();
                var x = torch.randn(5, 2, 3);
                model.Call(x); // updates the BatchNorm running statistics
                model.eval();
                var (expected, _) = model.Call(x);
                model.Module.save(path);

                torch.manual_seed(99);
                using var loaded = StackUnderTest.Create(kind, spec);
                loaded.Module.load(path);
                loaded.eval();
                foreach (var (key, value) in model.state_dict())
                    loaded.state_dict()[key].eq(value).all().item<bool>().Should().BeTrue($"{key} must round-trip exactly");
                var (actual, _) = loaded.Call(x);
                TensorAssert.Close(actual, expected, 0, 0, "output after load");
            }
            finally
            {
                File.Delete(path);
            }
        }

        /// <summary>
        /// The README's key table of each stack (DuRNN: the rows "| `key` | (shape) | symbol |"; IndRNN: the rows
        /// "| symbol | `key` | (shape) |" of the "## IndRNN" section) lists exactly the state-dict keys, with their shapes,
        /// of a 2-layer stack with BatchNorm (a DuRNN with S ≠ H), with and without the backward direction.
        /// </summary>
        [Theory]
        [MemberData(nameof(KindAndBidirectionalCases))]
        public void StateDictKeysEqualTheReadmeTable(StackKind kind, bool bidirectional)
        {
            const long I = 3, H = 6, S = 4;
            var spec = new StackSpec(I, H, 2) { BatchNorm = true, Bidirectional = bidirectional };
            using var model = StackUnderTest.Create(kind, kind == StackKind.DuRNN ? spec with { ShortTermSize = S } : spec);
            long d = bidirectional ? 2 : 1;
            var rows = ReadmeKeyTable(kind);
            rows.Should().NotBeEmpty();
            rows.Should().Contain(r => r.key.StartsWith("layers_reverse.", StringComparison.Ordinal));
            long Dim(string symbol, int l) => symbol.Trim() switch
            {
                "H" => H,
                "S" when kind == StackKind.DuRNN => S,
                "I_l" => l == 0 ? I : d * H,
                "D·H" => d * H,
                var other => throw new FormatException($"unknown dimension '{other}' in the README's {kind} table"),
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

        /// <summary>The (key, shape) rows of a stack's key table in the README.</summary>
        private static List<(string key, string shape)> ReadmeKeyTable(StackKind kind)
        {
            string readme = File.ReadAllText(TestData.FindRepositoryFile("README.md"));
            const string Key = @"`((?:layers|layers_reverse|norms)\.\{l\}\.[a-z_.]+)`\s*\|\s*\(([^)]*)\)\s*\|";
            string text = readme, pattern = @"^\|\s*" + Key;
            if (kind == StackKind.IndRNN)
            {
                int start = readme.IndexOf("\n## IndRNN\n", StringComparison.Ordinal);
                start.Should().BeGreaterThan(0, "the README has an IndRNN section");
                int end = readme.IndexOf("\n## ", start + 1, StringComparison.Ordinal);
                text = end < 0 ? readme[start..] : readme[start..end];
                pattern = @"^\|[^|\n]*\|\s*" + Key;
            }
            return Regex.Matches(text, pattern, RegexOptions.Multiline).Select(m => (m.Groups[1].Value, m.Groups[2].Value)).ToList();
        }

        [Theory]
        [MemberData(nameof(TestData.KindCases), MemberType = typeof(TestData))]
        public void ApplyConstraintsClampsEveryUToTheBound(StackKind kind)
        {
            using var scope = torch.NewDisposeScope();
            torch.manual_seed(83);
            using var model = StackUnderTest.Create(kind, new StackSpec(4, 6, 2) { MaxSequenceLength = 10, Bidirectional = true, DType = ScalarType.Float64 });
            double bound = Math.Pow(2.0, 0.1);
            var cells = model.LongTermCells;
            cells.Should().HaveCount(4);
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

        [Theory]
        [MemberData(nameof(TestData.KindCases), MemberType = typeof(TestData))]
        public void ConstraintsHoldThroughTrainingWithALargeLearningRate(StackKind kind)
        {
            using var scope = torch.NewDisposeScope();
            torch.manual_seed(84);
            const long T = 7, B = 3, I = 4;
            using var model = StackUnderTest.Create(kind, new StackSpec(I, 6, 2) { MaxSequenceLength = T, LongMemoryLastLayer = true });
            var optimizer = torch.optim.Adam(model.parameters(), lr: 0.5);
            double bound = model.RecurrentBound;
            bool exceededBeforeProjection = false;
            for (int step = 0; step < 30; step++)
            {
                using var stepScope = torch.NewDisposeScope();
                var (y, _) = model.Call(torch.randn(T, B, I));
                var loss = y.square().mean().neg() + y.mean(); // pushes the states up: u grows
                optimizer.zero_grad();
                loss.backward();
                optimizer.step();
                exceededBeforeProjection |= model.LongTermCells.Any(c => c.weight_hh.abs().max().item<float>() > bound);
                model.ApplyConstraints();
                foreach (var cell in model.LongTermCells)
                    cell.weight_hh.abs().max().item<float>().Should().BeLessThanOrEqualTo((float)bound, $"step {step}");
            }
            exceededBeforeProjection.Should().BeTrue("the optimizer really pushed u past the bound (else the test proves nothing)");
        }

        /// <summary>
        /// The one rule for <see cref="DuRNNImplementation.Auto"/> (<c>Implementations.Resolve</c>): the fused kernels for
        /// float32 and float64 tensors on the CPU, the batched form for any other dtype or device; an explicit choice is
        /// kept (Fused where it cannot run is refused). Both stacks start at Auto and run it as Fused (bit-identical
        /// results), and both reject a value that is not a member of the enum.
        /// </summary>
        [Fact]
        public void AutoResolvesToFusedWhereTheFusedKernelsRun()
        {
            using var scope = torch.NewDisposeScope();
            var meta = new Device(DeviceType.META);
            DuRNNImplementation Auto(Tensor input) => Implementations.Resolve(DuRNNImplementation.Auto, input);
            Auto(torch.zeros(1, dtype: ScalarType.Float32)).Should().Be(DuRNNImplementation.Fused);
            Auto(torch.zeros(1, dtype: ScalarType.Float64)).Should().Be(DuRNNImplementation.Fused);
            Auto(torch.zeros(1, dtype: ScalarType.BFloat16)).Should().Be(DuRNNImplementation.Batched);
            Auto(torch.zeros(1, dtype: ScalarType.Float16)).Should().Be(DuRNNImplementation.Batched);
            Auto(torch.zeros(new[] { 1L }, dtype: ScalarType.Float32, device: meta)).Should().Be(DuRNNImplementation.Batched, "the fused kernels run on the CPU only");
            Auto(torch.zeros(new[] { 1L }, dtype: ScalarType.Float64, device: meta)).Should().Be(DuRNNImplementation.Batched);
            foreach (var input in new[] { torch.zeros(1), torch.zeros(1, dtype: ScalarType.BFloat16), torch.zeros(new[] { 1L }, device: meta) })
            {
                Implementations.Resolve(DuRNNImplementation.Reference, input).Should().Be(DuRNNImplementation.Reference);
                Implementations.Resolve(DuRNNImplementation.Batched, input).Should().Be(DuRNNImplementation.Batched);
            }
            Implementations.Resolve(DuRNNImplementation.Fused, torch.zeros(1, dtype: ScalarType.Float64)).Should().Be(DuRNNImplementation.Fused);
            FluentActions.Invoking(() => Implementations.Resolve(DuRNNImplementation.Fused, torch.zeros(1, dtype: ScalarType.Float16)))
                .Should().Throw<NotSupportedException>().WithMessage("*float32 or float64*Float16*");
            FluentActions.Invoking(() => Implementations.Resolve(DuRNNImplementation.Fused, torch.zeros(new[] { 1L }, device: meta)))
                .Should().Throw<NotSupportedException>().WithMessage("*float32 or float64*meta*");

            foreach (var kind in TestData.Kinds)
            {
                // And the stack really runs that way: Auto's result is bit-identical to Fused's, not to Batched's rounding.
                torch.manual_seed(86);
                using var model = StackUnderTest.Create(kind, new StackSpec(4, 6, 2));
                model.Randomize();
                var x = torch.randn(7, 3, 4);
                model.Implementation.Should().Be(DuRNNImplementation.Auto, "Auto is the default");
                var (auto, autoState) = model.Call(x);
                model.Implementation = DuRNNImplementation.Fused;
                var (fused, fusedState) = model.Call(x);
                TensorAssert.Close(auto, fused, 0, 0, $"{kind}: Auto = Fused");
                for (int p = 0; p < autoState.Length; p++)
                    TensorAssert.Close(autoState[p], fusedState[p], 0, 0, $"{kind}: Auto = Fused, {model.StateLabels[p]}_n");

                FluentActions.Invoking(() => model.Implementation = (DuRNNImplementation)42)
                    .Should().Throw<ArgumentOutOfRangeException>().WithParameterName("value");
                model.Implementation.Should().Be(DuRNNImplementation.Fused, "a rejected value changes nothing");
            }
        }

        [Theory]
        [MemberData(nameof(TestData.KindCases), MemberType = typeof(TestData))]
        public void FusedRejectsWhatItCannotRunAndAutoFallsBack(StackKind kind)
        {
            using var scope = torch.NewDisposeScope();
            torch.manual_seed(87);
            const long T = 7, B = 3, I = 4, H = 6;
            using var model = StackUnderTest.Create(kind, new StackSpec(I, H) { DType = ScalarType.BFloat16 });
            model.Implementation = DuRNNImplementation.Fused;
            var x = torch.randn(T, B, I, dtype: ScalarType.BFloat16);
            FluentActions.Invoking(() => model.Call(x)).Should().Throw<NotSupportedException>().WithMessage("*float32 or float64*BFloat16*");
            model.Implementation = DuRNNImplementation.Auto;
            var (y, state) = model.Call(x);
            y.dtype.Should().Be(ScalarType.BFloat16);
            state[^1].shape.Should().Equal(1, B, H);
        }

        [Theory]
        [MemberData(nameof(TestData.KindCases), MemberType = typeof(TestData))]
        public void CallsLeakNothingAndLeaveTheCallersTensorsAlive(StackKind kind)
        {
            torch.manual_seed(90);
            const long T = 7, B = 3, I = 4, H = 6;
            using var model = StackUnderTest.Create(kind, new StackSpec(I, H, 2) { BatchNorm = true, Dropout = 0.2, Bidirectional = true });
            var optimizer = torch.optim.Adam(model.parameters(), lr: 1e-3);
            using var x = torch.randn(T, B, I);
            var initial = model.StateSizes.Select(size => torch.rand(4, B, size)).ToArray();
            using var lengths = torch.tensor(new long[] { 7, 2, 5 });
            long live = 0;
            for (int step = 0; step < 40; step++)
            {
                using (var scope = torch.NewDisposeScope())
                {
                    var (y, state) = step % 2 == 0 ? model.Call(x, initial) : model.Call(x, lengths, initial);
                    var loss = y.sum();
                    foreach (var part in state) loss = loss + part.sum();
                    optimizer.zero_grad();
                    loss.backward();
                    optimizer.step();
                    model.ApplyConstraints();
                }
                if (step == 9) live = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
            }
            DisposeScopeManager.Statistics.ThreadTotalLiveCount.Should().Be(live, "the live tensor count stays flat from step 10 to step 40");
            x.IsInvalid.Should().BeFalse("the input belongs to the caller");
            initial.Should().OnlyContain(part => !part.IsInvalid, "the initial state belongs to the caller");
            lengths.IsInvalid.Should().BeFalse("the lengths belong to the caller");
            foreach (var part in initial) part.Dispose();
        }

        /// <summary>
        /// A call whose input holds NaN (so every output of the fused nodes does) leaks nothing either: the fused nodes'
        /// outputs are told from their temporaries by reference. Before, they were looked up in sets with the
        /// default comparer, which calls TorchSharp's <c>Tensor.Equals</c> — <c>torch.equal</c>, a scan of the whole
        /// tensor that is false for a tensor holding NaN even against itself — so such outputs were detached from
        /// every scope and leaked (and every call scanned each (T, B, ·) output and temporary once more).
        /// </summary>
        [Theory]
        [MemberData(nameof(TestData.KindAndImplementationCases), MemberType = typeof(TestData))]
        public void CallsOnNaNLeakNothing(StackKind kind, DuRNNImplementation implementation)
        {
            torch.manual_seed(91);
            const long T = 7, B = 3, I = 4, H = 6;
            using var model = StackUnderTest.Create(kind, new StackSpec(I, H, 2));
            model.Implementation = implementation;
            using var x = torch.randn(T, B, I);
            x[2, 1, 0] = torch.tensor(double.NaN);
            long before = 0;
            for (int step = 0; step < 4; step++)
            {
                // After the first call: the latest graph's nodes keep a few tensors until the next call replaces them.
                if (step == 1) before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
                using var scope = torch.NewDisposeScope();
                var (y, state) = model.Call(x);
                torch.isnan(y).any().item<bool>().Should().BeTrue("NaN in the input reaches the output");
                var loss = y.sum();
                foreach (var part in state) loss = loss + part.sum();
                loss.backward();
            }
            DisposeScopeManager.Statistics.ThreadTotalLiveCount.Should().Be(before,
                $"forward and backward of a {implementation} {kind} on NaN leave no tensor behind once their scope is disposed (the count stays flat from the second call to the fourth)");
        }
    }
}
