using System;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using FluentAssertions;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace DuRnn.Tests
{
    /// <summary>The module behaves like TorchSharp's own recurrent layers: shapes, state, modes, dtype moves, save/load, keys.</summary>
    [Collection("Sequential")]
    public sealed class ApiTests
    {
        [Theory]
        [InlineData(false)]
        [InlineData(true)]
        public void ShapesFollowBatchFirst(bool batchFirst)
        {
            using var scope = torch.NewDisposeScope();
            torch.manual_seed(21);
            const long T = 7, B = 3, I = 5, H = 8, S = 6, L = 2;
            var model = new DuRNN(I, H, L, shortTermSize: S, batchFirst: batchFirst);
            var x = batchFirst ? torch.randn(B, T, I) : torch.randn(T, B, I);
            var (y, state) = model.call(x);
            y.shape.Should().Equal(batchFirst ? new[] { B, T, H } : new[] { T, B, H });
            state.ShortTerm.shape.Should().Equal(L, B, S);
            state.LongTerm.shape.Should().Equal(L, B, H);
        }

        [Fact]
        public void BatchFirstIsTheTransposeOfTimeFirst()
        {
            using var scope = torch.NewDisposeScope();
            torch.manual_seed(22);
            var timeFirst = new DuRNN(3, 4, 2, dtype: ScalarType.Float64);
            var batchFirst = new DuRNN(3, 4, 2, batchFirst: true, dtype: ScalarType.Float64);
            batchFirst.load_state_dict(timeFirst.state_dict());
            ImplementationParityTests.Randomize(timeFirst);
            batchFirst.load_state_dict(timeFirst.state_dict());
            var x = torch.randn(6, 2, 3, dtype: ScalarType.Float64);
            var (y1, s1) = timeFirst.call(x);
            var (y2, s2) = batchFirst.call(x.transpose(0, 1));
            TensorAssert.Close(y2.transpose(0, 1), y1, 0, 0, "output");
            TensorAssert.Close(s2.LongTerm, s1.LongTerm, 0, 0, "h_n");
        }

        [Theory]
        [InlineData(DuRNNImplementation.Reference)]
        [InlineData(DuRNNImplementation.Batched)]
        [InlineData(DuRNNImplementation.Fused)]
        public void TwoHalvesWithTheStateCarriedOverEqualTheWhole(DuRNNImplementation implementation)
        {
            using var scope = torch.NewDisposeScope();
            torch.manual_seed(23);
            var model = new DuRNN(3, 5, 3, shortTermSize: 4, dtype: ScalarType.Float64) { Implementation = implementation };
            ImplementationParityTests.Randomize(model);
            var x = torch.randn(12, 2, 3, dtype: ScalarType.Float64);
            var (whole, wholeState) = model.call(x);
            var (first, mid) = model.call(x[..5]);
            var (second, end) = model.call(x[5..], mid);
            // Same operations in the same order: equal up to the last bit but for BLAS blocking; 1e-13 relative.
            TensorAssert.Close(torch.cat(new[] { first, second }), whole, 1e-13, 1e-15, "output");
            TensorAssert.Close(end.ShortTerm, wholeState.ShortTerm, 1e-13, 1e-15, "s_n");
            TensorAssert.Close(end.LongTerm, wholeState.LongTerm, 1e-13, 1e-15, "h_n");
        }

        [Fact]
        public void EvalModeUsesRunningStatisticsAndNoDropout()
        {
            using var scope = torch.NewDisposeScope();
            torch.manual_seed(24);
            var model = new DuRNN(3, 6, 3, batchNorm: true, dropout: 0.5);
            ImplementationParityTests.Randomize(model);
            var x = torch.randn(8, 4, 3);
            model.training.Should().BeTrue();
            var (a, _) = model.call(x);
            var (b, _) = model.call(x);
            a.allclose(b).Should().BeFalse("dropout draws a new mask per call in train mode");

            model.eval();
            model.Layers.All(l => !l.training).Should().BeTrue();
            var (c, _) = model.call(x);
            var (d, _) = model.call(x);
            TensorAssert.Close(c, d, 0, 0, "two eval-mode calls");
            var (single, _) = model.call(x[.., ..1]);
            TensorAssert.Close(single, c[.., ..1], 1e-5, 1e-6, "eval mode treats each sequence independently (running BatchNorm statistics)");
            model.train();
            model.training.Should().BeTrue();
        }

        [Fact]
        public void ToFloat64MovesEveryParameterAndKeepsConstraintsWorking()
        {
            using var scope = torch.NewDisposeScope();
            torch.manual_seed(25);
            var model = new DuRNN(3, 6, 2, batchNorm: true);
            model.ApplyConstraints();
            model.to(ScalarType.Float64);
            model.parameters().All(p => p.dtype == ScalarType.Float64).Should().BeTrue();
            model.Layers[0].ShortTerm.weight_hh.dtype.Should().Be(ScalarType.Float64);
            var (y, state) = model.call(torch.randn(5, 2, 3, dtype: ScalarType.Float64));
            y.dtype.Should().Be(ScalarType.Float64);
            state.LongTerm.dtype.Should().Be(ScalarType.Float64);
            model.ApplyConstraints();
            var act = () => model.call(torch.randn(5, 2, 3));
            act.Should().Throw<ArgumentException>().WithMessage("*Float64*Float32*");
        }

        /// <summary>
        /// reset_parameters() re-applies the documented initialisation: after training steps have moved every parameter
        /// and BatchNorm's statistics, seeding as before and resetting gives exactly a freshly constructed stack (of the
        /// same dtype: float32 and float64 draws differ) — also after .to(), which replaces every parameter object (so the
        /// cells reset the parameters they now hold).
        /// </summary>
        [Theory]
        [InlineData(false)]
        [InlineData(true)]
        public void ResetParametersReappliesTheInitialisation(bool bidirectional)
        {
            using var scope = torch.NewDisposeScope();
            torch.manual_seed(11);
            var fresh = new DuRNN(3, 6, 2, batchNorm: true, maxSequenceLength: 40, longMemoryLastLayer: true, bidirectional: bidirectional,
                dtype: ScalarType.Float64);
            torch.manual_seed(11);
            var model = new DuRNN(3, 6, 2, batchNorm: true, maxSequenceLength: 40, longMemoryLastLayer: true, bidirectional: bidirectional);
            model.to(ScalarType.Float64);
            var optimizer = optim.Adam(model.parameters(), lr: 0.05);
            for (int step = 0; step < 3; step++)
            {
                var (y, _) = model.call(torch.randn(5, 4, 3, dtype: ScalarType.Float64));
                optimizer.zero_grad();
                y.square().mean().backward();
                optimizer.step();
                model.ApplyConstraints();
            }
            var moved = model.state_dict();
            moved.Keys.Where(k => !k.EndsWith("num_batches_tracked"))
                .Count(k => !moved[k].allclose(fresh.state_dict()[k], 0, 0)).Should().BeGreaterThan(10, "training moved the parameters");

            torch.manual_seed(11);
            model.reset_parameters();
            var expected = fresh.state_dict();
            var actual = model.state_dict();
            actual.Keys.Should().BeEquivalentTo(expected.Keys);
            foreach (var key in expected.Keys.Where(k => !k.EndsWith("num_batches_tracked")))
                actual[key].allclose(expected[key], 0, 0).Should().BeTrue($"{key} is re-initialised as the constructor did");
            actual.Where(kv => kv.Key.EndsWith("num_batches_tracked")).Should().OnlyContain(kv => kv.Value.item<long>() == 0);
        }

        [Fact]
        public void FactoryBuildsTheSameStackAsTheConstructor()
        {
            using var scope = torch.NewDisposeScope();
            torch.manual_seed(4);
            var built = Recurrent.DuRNN(3, 6, numLayers: 2, maxSequenceLength: 30, longMemoryLastLayer: true, batchFirst: true,
                bidirectional: true, dtype: ScalarType.Float64);
            torch.manual_seed(4);
            var constructed = new DuRNN(3, 6, numLayers: 2, maxSequenceLength: 30, longMemoryLastLayer: true, batchFirst: true,
                dtype: ScalarType.Float64, bidirectional: true);
            built.BatchFirst.Should().BeTrue();
            built.Bidirectional.Should().BeTrue();
            built.MaxSequenceLength.Should().Be(30);
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
        public void SaveAndLoadRoundTripIsBitExact()
        {
            using var scope = torch.NewDisposeScope();
            torch.manual_seed(26);
            var path = Path.Combine(Path.GetTempPath(), $"durnn-{Guid.NewGuid():N}.bin");
            try
            {
                var model = new DuRNN(3, 6, 2, batchNorm: true, residual: true);
                ImplementationParityTests.Randomize(model);
                var x = torch.randn(5, 2, 3);
                model.call(x); // updates the BatchNorm running statistics
                model.eval();
                var (expected, _) = model.call(x);
                model.save(path);

                torch.manual_seed(99);
                var loaded = new DuRNN(3, 6, 2, batchNorm: true, residual: true);
                loaded.load(path);
                loaded.eval();
                foreach (var (key, value) in model.state_dict())
                    loaded.state_dict()[key].eq(value).all().item<bool>().Should().BeTrue($"{key} must round-trip exactly");
                var (actual, _) = loaded.call(x);
                TensorAssert.Close(actual, expected, 0, 0, "output after load");
            }
            finally
            {
                File.Delete(path);
            }
        }

        [Theory]
        [InlineData(false)]
        [InlineData(true)]
        public void StateDictKeysEqualTheReadmeTable(bool bidirectional)
        {
            using var model = new DuRNN(3, 6, 2, shortTermSize: 4, batchNorm: true, bidirectional: bidirectional);
            var readme = File.ReadAllText(FindRepositoryFile("README.md"));
            // Rows of the table look like: | `layers.{l}.short_term.weight_ih` | (S, I_l) | W_s | ...
            // (and | `layers_reverse.{l}.…` for the backward direction of a bidirectional stack).
            var documented = Regex.Matches(readme, @"^\|\s*`((?:layers|layers_reverse|norms)\.\{l\}\.[a-z_.]+)`", RegexOptions.Multiline)
                .Select(m => m.Groups[1].Value).ToList();
            documented.Should().NotBeEmpty();
            documented.Should().Contain(k => k.StartsWith("layers_reverse."));
            var expanded = documented
                .Where(k => bidirectional || !k.StartsWith("layers_reverse."))
                .SelectMany(k => k.StartsWith("norms") ? new[] { k.Replace("{l}", "0") } : new[] { k.Replace("{l}", "0"), k.Replace("{l}", "1") });
            model.state_dict().Keys.Should().BeEquivalentTo(expanded);
        }

        internal static string FindRepositoryFile(string name)
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, name);
                if (File.Exists(candidate) && File.Exists(Path.Combine(dir.FullName, "DuRnn.sln"))) return candidate;
            }
            throw new FileNotFoundException($"{name} not found above {AppContext.BaseDirectory}");
        }
    }
}
