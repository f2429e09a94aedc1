using System.Collections.Generic;
using System.Linq;
using FluentAssertions;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace DuRnn.Tests
{
    /// <summary>
    /// The fused recurrences return each row's final state as a second output of their autograd node (its gradient
    /// starts the row's backward carry), not as a slice of the sequence. A loss may use the outputs, the final
    /// states, only some of them, or all: every combination must give the Reference's gradients, with and without
    /// variable lengths (where each row's final state is at its own last step), and an unused final state must not
    /// break the backward (TorchSharp then materialises its zero gradient from a template the node keeps).
    /// Both stacks (an IndRNN has no short-term state). Tolerance float64 rtol 1e-10, atol 1e-12, as in
    /// <see cref="ImplementationParityTests"/>.
    /// </summary>
    [Collection("Sequential")]
    public sealed class FinalStateGradientTests
    {
        private const long T = 11, B = 4, I = 5, H = 7, S = 6;

        /// <summary>Which results the loss is a weighted sum of.</summary>
        public enum Part { Output, Final, ShortTermFinal, LongTermFinal, Everything }

        public static IEnumerable<object[]> Cases() =>
            from kind in TestData.Kinds
            from part in new[] { Part.Output, Part.Final, Part.ShortTermFinal, Part.LongTermFinal, Part.Everything }
            where kind == StackKind.DuRNN || part != Part.ShortTermFinal // an IndRNN has no short-term state
            from lengths in new[] { false, true }
            select new object[] { kind, part, lengths };

        [Theory]
        [MemberData(nameof(Cases))]
        public void FusedGradientsMatchReference(StackKind kind, Part part, bool withLengths)
        {
            using var scope = torch.NewDisposeScope();
            var reference = Gradients(kind, DuRNNImplementation.Reference, part, withLengths);
            var fused = Gradients(kind, DuRNNImplementation.Fused, part, withLengths);
            AssertSame(fused, reference);
        }

        private static void AssertSame(Dictionary<string, Tensor> actual, Dictionary<string, Tensor> expected)
        {
            actual.Keys.Should().BeEquivalentTo(expected.Keys);
            foreach (var key in expected.Keys)
                TensorAssert.Close(actual[key], expected[key], 1e-10, 1e-12, $"Fused vs Reference, {key}");
            // The loss reaches every parameter (a gradient of zeros everywhere would hide a dropped term).
            expected.Where(kv => kv.Key.StartsWith("grad_input")).Single().Value.abs().max().item<double>().Should().BeGreaterThan(1e-6);
        }

        private static Tensor? Lengths(bool withLengths) => withLengths ? torch.tensor(new long[] { 6, 11, 1, 9 }) : null;

        /// <summary>A 2-layer stack with residual connections (a DuRNN with S ≠ H), float64.</summary>
        private static Dictionary<string, Tensor> Gradients(StackKind kind, DuRNNImplementation implementation, Part part, bool withLengths)
        {
            torch.manual_seed(4321);
            var spec = new StackSpec(I, H, 2) { Residual = true, DType = ScalarType.Float64 };
            var model = StackUnderTest.Create(kind, kind == StackKind.DuRNN ? spec with { ShortTermSize = S } : spec);
            model.Randomize();
            model.Implementation = implementation;
            var x = torch.randn(T, B, I, dtype: ScalarType.Float64).requires_grad_();
            var lengths = Lengths(withLengths);
            var (y, state) = lengths is null ? model.Call(x) : model.Call(x, lengths, null);
            var loss = Loss(part, y, state.Length == 2 ? state[0] : null, state[^1]);
            loss.backward();
            return Collect(model.Module, x);
        }

        /// <summary>A fixed random weighting of the chosen parts (seeded separately from the model).</summary>
        private static Tensor Loss(Part part, Tensor output, Tensor? shortTerm, Tensor longTerm)
        {
            var generator = new torch.Generator(99);
            Tensor Weighted(Tensor t) => (t * torch.randn(t.shape, dtype: t.dtype, generator: generator)).sum();
            return part switch
            {
                Part.Output => Weighted(output),
                Part.ShortTermFinal => Weighted(shortTerm!),
                Part.LongTermFinal => Weighted(longTerm),
                Part.Final => shortTerm is null ? Weighted(longTerm) : Weighted(shortTerm) + Weighted(longTerm),
                _ => Weighted(output) + Weighted(longTerm) + (shortTerm is null ? torch.zeros_like(longTerm).sum() : Weighted(shortTerm)),
            };
        }

        private static Dictionary<string, Tensor> Collect(torch.nn.Module model, Tensor x)
        {
            var result = model.named_parameters().ToDictionary(p => "grad " + p.name, p => p.parameter.grad?.clone() ?? torch.zeros_like(p.parameter));
            result["grad_input"] = x.grad!.clone();
            return result;
        }
    }
}
