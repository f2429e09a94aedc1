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
    /// <c>ApplyConstraints()</c> on a diverged parameter (issue 18): when U_s or u holds NaN or ±Inf, no projection can
    /// bring it back, and the stacks, a <see cref="DuRNNLayer"/> and the cells throw
    /// <see cref="NonFiniteParameterException"/> whose <see cref="NonFiniteParameterException.ParameterName"/> is the
    /// parameter's full state-dict key in the module called (<c>layers.1.short_term.weight_hh</c>,
    /// <c>layers_reverse.0.weight_hh</c>, a layer's <c>long_term.weight_hh</c>, a cell's <c>weight_hh</c>), with its
    /// symbol and its counts of NaN and infinite entries — for every constraint on U_s (spectral norm, element-wise,
    /// none) — and change nothing: every state-dict entry is bit for bit as before. To show that nothing was projected
    /// before the bad parameter was found, every other constrained parameter is first put outside its constraint set
    /// (U_s scaled to ‖U_s‖₂ and entries well above any bound, every |u_i| = 1.5 &gt; U_bound), where a projection would
    /// change it. Before commit 1689ccd, <c>ApplyConstraints()</c> returned (NaN stays NaN under a clamp, no constraint
    /// does nothing) or clamped +Inf to the bound, and projected every other layer.
    /// </summary>
    [Collection("Sequential")]
    public sealed class NonFiniteParameterTests : IDisposable
    {
        private const long I = 3, H = 5, S = 4, TMax = 10;

        private readonly SingleThreaded _singleThreaded = new();

        public void Dispose() => _singleThreaded.Dispose();

        /// <summary>The constraints on U_s, by name (theory data must be serialisable).</summary>
        private static ShortTermConstraint Constraint(string name) => name switch
        {
            "SpectralNorm" => ShortTermConstraint.SpectralNorm(0.9),
            "Elementwise" => ShortTermConstraint.Elementwise(0.5),
            "None" => ShortTermConstraint.None,
            _ => throw new ArgumentOutOfRangeException(nameof(name)),
        };

        private static readonly string[] Constraints = { "SpectralNorm", "Elementwise", "None" };
        private static readonly string[] Prefixes = { "layers.1.", "layers_reverse.0." };
        private static readonly double[] NonFinite = { double.NaN, double.PositiveInfinity };

        public static IEnumerable<object[]> ShortTermCases() =>
            TestData.Cross(Constraints.Cast<object>(), NonFinite.Cast<object>(), Prefixes.Cast<object>());

        public static IEnumerable<object[]> RecurrentWeightCases() =>
            TestData.Cross(TestData.Kinds.Cast<object>(), new object[] { double.NaN, double.PositiveInfinity, double.NegativeInfinity }, Prefixes.Cast<object>());

        /// <summary>A 2-layer bidirectional stack (T_max 10, so U_bound = 2^(1/10)) with every constrained parameter outside its set.</summary>
        private static StackUnderTest Stack(StackKind kind, string constraint = "SpectralNorm")
        {
            torch.manual_seed(1830);
            var spec = new StackSpec(I, H, 2) { Bidirectional = true, MaxSequenceLength = TMax };
            var model = StackUnderTest.Create(kind, kind == StackKind.DuRNN ? spec with { ShortTermSize = S, ShortTermConstraint = Constraint(constraint) } : spec);
            PutOutsideTheConstraints(model.Module);
            return model;
        }

        /// <summary>Every U_s (a 2-D <c>weight_hh</c>) to N(0, 3²) entries (‖U_s‖₂ ≫ 0.9, |entries| ≫ 0.5), every u (1-D) to 1.5.</summary>
        private static void PutOutsideTheConstraints(torch.nn.Module module)
        {
            using var noGrad = torch.no_grad();
            foreach (var (name, p) in module.named_parameters().Where(p => p.name.EndsWith("weight_hh", StringComparison.Ordinal)))
            {
                if (p.dim() == 2) p.normal_(0, 3.0);
                else p.fill_(1.5);
            }
        }

        /// <summary>Writes <paramref name="value"/> into entry 1 and, for ±Inf, entry 2 too (so the counts tell NaN from Inf).</summary>
        private static (long nan, long infinite) Spoil(Tensor parameter, double value)
        {
            using var noGrad = torch.no_grad();
            using var flat = parameter.view(-1);
            flat[1] = torch.tensor(value, dtype: parameter.dtype);
            if (double.IsNaN(value)) return (1, 0);
            flat[2] = torch.tensor(value, dtype: parameter.dtype);
            return (0, 2);
        }

        private static Tensor Parameter(torch.nn.Module module, string key) => module.named_parameters().Single(p => p.name == key).parameter;

        private static void AssertThrows(Action applyConstraints, torch.nn.Module module, string key, string symbol, (long nan, long infinite) counts)
        {
            var before = WeightSnapshot.Of(module);
            var error = applyConstraints.Should().Throw<NonFiniteParameterException>().Which;
            error.ParameterName.Should().Be(key);
            error.Symbol.Should().Be(symbol);
            error.NaNCount.Should().Be(counts.nan);
            error.InfiniteCount.Should().Be(counts.infinite);
            error.Message.Should().StartWith($"{key} ({symbol}) holds ").And.Contain("diverged");
            before.AssertUnchanged(module, $"ApplyConstraints() with a non-finite {key} must change nothing");
        }

        /// <summary>A DuRNN stack with NaN or +Inf in one U_s, for each constraint on U_s and in either direction.</summary>
        [Theory]
        [MemberData(nameof(ShortTermCases))]
        public void AStackRefusesANonFiniteShortTermMatrixNamingItsKey(string constraint, double value, string prefix)
        {
            using var model = Stack(StackKind.DuRNN, constraint);
            string key = prefix + "short_term.weight_hh";
            var counts = Spoil(Parameter(model.Module, key), value);
            AssertThrows(model.ApplyConstraints, model.Module, key, "U_s", counts);
        }

        /// <summary>Either stack with NaN or ±Inf in one u, in either direction.</summary>
        [Theory]
        [MemberData(nameof(RecurrentWeightCases))]
        public void AStackRefusesANonFiniteRecurrentWeightNamingItsKey(StackKind kind, double value, string prefix)
        {
            using var model = Stack(kind);
            string key = prefix + (kind == StackKind.DuRNN ? "long_term." : "") + "weight_hh";
            var counts = Spoil(Parameter(model.Module, key), value);
            AssertThrows(model.ApplyConstraints, model.Module, key, "u", counts);
        }

        /// <summary>The control: with every parameter finite, the same stacks are projected (so the snapshots above would have seen it).</summary>
        [Theory]
        [MemberData(nameof(TestData.KindCases), MemberType = typeof(TestData))]
        public void WithFiniteParametersTheSameStacksAreProjected(StackKind kind)
        {
            using var model = Stack(kind);
            model.ApplyConstraints();
            foreach (var cell in model.LongTermCells)
                cell.weight_hh.abs().max().item<float>().Should().BeLessThanOrEqualTo((float)cell.RecurrentBound);
            if (model.Module is DuRNN d)
                foreach (var layer in d.Layers.Concat(d.ReverseLayers))
                    torch.linalg.svdvals(layer.ShortTerm.weight_hh.detach()).max().item<float>().Should().BeLessThanOrEqualTo(0.9f + 1e-5f);
        }

        /// <summary>
        /// A single <see cref="DuRNNLayer"/>: a non-finite U_s or u is named by its key in the layer, and both are checked
        /// before either is projected (u NaN leaves an out-of-bounds U_s as it was, and the reverse).
        /// </summary>
        [Theory]
        [InlineData("short_term.weight_hh", "U_s", double.NaN)]
        [InlineData("short_term.weight_hh", "U_s", double.PositiveInfinity)]
        [InlineData("long_term.weight_hh", "u", double.NaN)]
        [InlineData("long_term.weight_hh", "u", double.PositiveInfinity)]
        public void ALayerRefusesANonFiniteParameterNamingItsKey(string key, string symbol, double value)
        {
            torch.manual_seed(1831);
            using var layer = new DuRNNLayer(I, H, S, maxSequenceLength: TMax);
            PutOutsideTheConstraints(layer);
            var counts = Spoil(Parameter(layer, key), value);
            AssertThrows(layer.ApplyConstraints, layer, key, symbol, counts);
        }

        /// <summary>The cells on their own: a <see cref="ShortTermCell"/> (each constraint) and a <see cref="LongTermCell"/> name their <c>weight_hh</c>.</summary>
        [Theory]
        [InlineData("SpectralNorm", double.NaN)]
        [InlineData("SpectralNorm", double.PositiveInfinity)]
        [InlineData("Elementwise", double.NaN)]
        [InlineData("Elementwise", double.PositiveInfinity)]
        [InlineData("None", double.NaN)]
        [InlineData("None", double.PositiveInfinity)]
        public void TheCellsRefuseANonFiniteRecurrentWeight(string constraint, double value)
        {
            torch.manual_seed(1832);
            using var shortTerm = new ShortTermCell(I, S, constraint: Constraint(constraint));
            PutOutsideTheConstraints(shortTerm);
            var counts = Spoil(shortTerm.weight_hh, value);
            AssertThrows(shortTerm.ApplyConstraints, shortTerm, "weight_hh", "U_s", counts);

            using var longTerm = new LongTermCell(S, H, maxSequenceLength: TMax);
            PutOutsideTheConstraints(longTerm);
            counts = Spoil(longTerm.weight_hh, value);
            AssertThrows(longTerm.ApplyConstraints, longTerm, "weight_hh", "u", counts);
        }
    }
}
