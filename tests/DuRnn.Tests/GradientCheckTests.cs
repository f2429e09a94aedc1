using System;
using System.Collections.Generic;
using System.Linq;
using FluentAssertions;
using TorchSharp;
using Xunit;
using Xunit.Sdk;
using static DuRnn.Tests.TestData;
using static TorchSharp.torch;

namespace DuRnn.Tests
{
    /// <summary>
    /// Finite-difference gradient checks (float64, central differences, eps 1e-6, PyTorch gradcheck's criterion
    /// |a − n| ≤ 1e-5 + 1e-3·|n|) of every DuRNN cell and of one <see cref="DuRNNLayer"/> for every implementation, and
    /// the tests of the checker itself (the stacks of both kinds are checked in <see cref="StackGradientCheckTests"/>).
    /// Every parameter, the input and the initial state are checked, with a loss that is a random-weighted sum of all
    /// outputs and final states so that every path carries gradient.
    /// </summary>
    /// <remarks>
    /// Tolerances: gradcheck's defaults. In float64 the central difference has truncation error O(eps²·f''') ≈ 1e-12
    /// and rounding error O(1e-16·|f| / eps) ≈ 1e-9 for |f| ≲ 10, both far below atol = 1e-5; a wrong backward
    /// produces errors of the order of the gradient itself (see the custom-function tests below).
    /// Parameters are re-drawn to O(1) values N(0, 0.5²) before checking (the library's initialisation has a tiny W_h
    /// and zero biases, which would make the check weak); the spec constraints do not matter for a gradient check.
    /// ReLU kinks: a kink is crossed only if some pre-activation lies within ~1e-6 of 0; with a few hundred
    /// pre-activations drawn from O(1) continuous distributions this has probability ~1e-4 per test, and the seeds
    /// below were run and pass.
    /// </remarks>
    [Collection("Sequential")]
    public class GradientCheckTests : IDisposable
    {
        private readonly SingleThreaded _singleThreaded = new();

        public void Dispose() => _singleThreaded.Dispose();

        private const long B = 2, T = 5, I = 3, H = 4;
        private const ScalarType F64 = ScalarType.Float64;

        public static IEnumerable<object[]> Activations =>
            Enum.GetValues<ShortTermActivation>().Select(a => new object[] { a });

        public static IEnumerable<object[]> LayerCases =>
            from impl in TestData.Implementations
            from act in Enum.GetValues<ShortTermActivation>()
            from withState in new[] { true, false }
            select new object[] { impl, act, withState };

        // ---------------------------------------------------------------- cells, one step

        [Theory]
        [MemberData(nameof(Activations))]
        public void ShortTermCell_OneStep(ShortTermActivation activation)
        {
            using var scope = torch.NewDisposeScope();
            torch.manual_seed(11);
            using var cell = new ShortTermCell(I, H, activation, dtype: F64);
            RedrawParameters(cell);
            var x = Leaf(torch.randn(B, I, dtype: F64));
            var s = ShortTermState(activation, B, H);
            var r = torch.randn(B, H, dtype: F64);

            GradientChecker.AssertGradientsMatch(
                () => (cell.call(x, s) * r).sum(),
                NamedParameters(cell).Append(("x", x)).Append(("s_prev", s)));
        }

        [Fact]
        public void SelectionGate_OneStep()
        {
            using var scope = torch.NewDisposeScope();
            torch.manual_seed(12);
            using var gate = new SelectionGate(I, H, dtype: F64);
            RedrawParameters(gate);
            var x = Leaf(torch.randn(B, I, dtype: F64));
            var s = Leaf(torch.randn(B, H, dtype: F64));
            var r = torch.randn(B, H, dtype: F64);

            GradientChecker.AssertGradientsMatch(
                () => (gate.call(x, s) * r).sum(),
                NamedParameters(gate).Append(("x", x)).Append(("s", s)));
        }

        [Fact]
        public void LongTermCell_OneStep()
        {
            using var scope = torch.NewDisposeScope();
            torch.manual_seed(13);
            using var cell = new LongTermCell(3, H, dtype: F64);
            RedrawParameters(cell);
            var z = Leaf(torch.randn(B, 3, dtype: F64));
            var h = PositiveState(B, H);
            var r = torch.randn(B, H, dtype: F64);

            GradientChecker.AssertGradientsMatch(
                () => (cell.call(z, h) * r).sum(),
                NamedParameters(cell).Append(("z", z)).Append(("h_prev", h)));
        }

        // ---------------------------------------------------------------- one layer, every implementation

        [Theory]
        [MemberData(nameof(LayerCases))]
        public void Layer(DuRNNImplementation implementation, ShortTermActivation activation, bool withState)
        {
            using var scope = torch.NewDisposeScope();
            torch.manual_seed(21);
            using var layer = new DuRNNLayer(I, H, activation: activation, dtype: F64) { Implementation = implementation };
            RedrawParameters(layer);
            var x = Leaf(torch.randn(T, B, I, dtype: F64));
            var s0 = ShortTermState(activation, B, H);
            var h0 = PositiveState(B, H);
            var rOut = torch.randn(T, B, H, dtype: F64);
            var rS = torch.randn(B, H, dtype: F64);
            var rH = torch.randn(B, H, dtype: F64);

            Tensor Loss()
            {
                var (y, sT, hT) = layer.call(x, withState ? s0 : null, withState ? h0 : null);
                return (y * rOut).sum() + (sT * rS).sum() + (hT * rH).sum();
            }

            var inputs = NamedParameters(layer).Append(("input", x));
            if (withState) inputs = inputs.Append(("s0", s0)).Append(("h0", h0));
            GradientChecker.AssertGradientsMatch(Loss, inputs);
        }

        // ---------------------------------------------------------------- the checker itself

        [Fact]
        public void Checker_FailsOnAWrongBackward()
        {
            using var scope = torch.NewDisposeScope();
            torch.manual_seed(41);
            var x = Leaf(torch.randn(6, dtype: F64));
            var r = torch.randn(6, dtype: F64);

            var result = GradientChecker.Check(() => (SquareWithWrongBackward.apply(x) * r).sum(), new[] { ("x", x) });

            result.Passed.Should().BeFalse();
            var check = result.Inputs.Single();
            // d/dx Σ r·x² = 2·r·x; the wrong backward gives 3·r·x: every element is off by |r·x|, far above
            // 1e-5 + 1e-3·|2·r·x| for randn draws (|r·x| ≫ 1e-5).
            check.FailedElements.Should().Be(6);
            check.WorstAnalytic.Should().BeApproximately(1.5 * check.WorstNumeric, 1e-6 * Math.Abs(check.WorstNumeric) + 1e-9,
                "the analytic gradient is 3·r·x against the true 2·r·x");
            var fail = FluentActions.Invoking(() => result.AssertPassed()).Should().Throw<XunitException>().Which;
            fail.Message.Should().Contain("FAIL x (6)").And.Contain("6 of 6 elements off");
        }

        [Fact]
        public void Checker_PassesOnTheRightBackward()
        {
            using var scope = torch.NewDisposeScope();
            torch.manual_seed(41);
            var x = Leaf(torch.randn(6, dtype: F64));
            var r = torch.randn(6, dtype: F64);

            var result = GradientChecker.AssertGradientsMatch(() => (Square.apply(x) * r).sum(), new[] { ("x", x) });

            var check = result.Inputs.Single();
            check.FailedElements.Should().Be(0);
            check.HasAnalyticGradient.Should().BeTrue();
            // The numeric gradient of Σ r·x² is 2·r·x up to the central-difference error (exact for a quadratic
            // apart from float64 rounding, ≈ 1e-16·|f| / eps ≈ 1e-10).
            var expected = (2 * r * x).detach().data<double>().ToArray();
            check.WorstNumeric.Should().BeApproximately(expected[check.WorstIndex[0]], 1e-8);
        }

        [Fact]
        public void Checker_FailsWhenAutogradDoesNotSeeAPath()
        {
            using var scope = torch.NewDisposeScope();
            torch.manual_seed(42);
            var x = Leaf(torch.randn(4, dtype: F64));
            var w = Leaf(torch.randn(4, dtype: F64));

            // The loss depends on x numerically, but the detach() hides that from autograd.
            var result = GradientChecker.Check(() => (x.detach() * w).sum() + (x * x).sum(), new[] { ("x", x), ("w", w) });

            result.Passed.Should().BeFalse();
            result.Inputs[0].FailedElements.Should().Be(4, "the analytic gradient 2x misses the w term of the true 2x + w");
            result.Inputs[1].Passed.Should().BeTrue("d/dw is seen by autograd");
        }

        [Fact]
        public void Checker_ReportsAnInputWithAllZeroGradientAsVacuous()
        {
            using var scope = torch.NewDisposeScope();
            torch.manual_seed(43);
            var x = Leaf(torch.randn(3, dtype: F64));
            var unused = Leaf(torch.randn(3, dtype: F64));

            var result = GradientChecker.Check(() => (x * x).sum(), new[] { ("x", x), ("unused", unused) });

            result.Passed.Should().BeTrue("zero analytic (missing) and zero numeric gradients agree");
            result.Inputs[1].HasAnalyticGradient.Should().BeFalse();
            result.ZeroGradientInputs.Select(i => i.Name).Should().Equal("unused");
            FluentActions.Invoking(() => result.AssertPassed()).Should().Throw<XunitException>().WithMessage("*vacuous*unused*");
        }

        /// <summary>y = x² with the correct backward 2x·grad.</summary>
        private sealed class Square : torch.autograd.SingleTensorFunction<Square>
        {
            public override string Name => nameof(Square);

            public override Tensor forward(torch.autograd.AutogradContext ctx, params object[] vars)
            {
                var x = (Tensor)vars[0];
                ctx.save_for_backward(new() { x });
                return x * x;
            }

            public override List<Tensor> backward(torch.autograd.AutogradContext ctx, Tensor grad)
            {
                var x = ctx.get_saved_variables()[0];
                return new() { 2 * x * grad };
            }
        }

        /// <summary>y = x² with a deliberately wrong backward 3x·grad.</summary>
        private sealed class SquareWithWrongBackward : torch.autograd.SingleTensorFunction<SquareWithWrongBackward>
        {
            public override string Name => nameof(SquareWithWrongBackward);

            public override Tensor forward(torch.autograd.AutogradContext ctx, params object[] vars)
            {
                var x = (Tensor)vars[0];
                ctx.save_for_backward(new() { x });
                return x * x;
            }

            public override List<Tensor> backward(torch.autograd.AutogradContext ctx, Tensor grad)
            {
                var x = ctx.get_saved_variables()[0];
                return new() { 3 * x * grad };
            }
        }
    }
}
