using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using TorchSharp;
using static TorchSharp.torch;

namespace DuRnn.Tests
{
    /// <summary>
    /// What many test classes share: the theory axes (the two stack kinds, the three implementations), random
    /// parameters and padded inputs, and the repository's files.
    /// </summary>
    public static class TestData
    {
        /// <summary>
        /// The implementations a theory runs, listed explicitly: Reference, Batched and Fused. Auto is not among them: it
        /// resolves to one of these (Fused for float32 and float64 on the CPU), which
        /// <see cref="ApiTests.AutoResolvesToFusedWhereTheFusedKernelsRun"/> tests once.
        /// </summary>
        public static readonly DuRNNImplementation[] Implementations =
            { DuRNNImplementation.Reference, DuRNNImplementation.Batched, DuRNNImplementation.Fused };

        /// <summary>Both stack kinds.</summary>
        public static readonly StackKind[] Kinds = { StackKind.DuRNN, StackKind.IndRNN };

        /// <summary>Theory data: one row per stack kind.</summary>
        public static IEnumerable<object[]> KindCases => Cross(Kinds.Cast<object>());

        /// <summary>Theory data: every stack kind with every implementation.</summary>
        public static IEnumerable<object[]> KindAndImplementationCases => Cross(Kinds.Cast<object>(), Implementations.Cast<object>());

        /// <summary>Theory data: every combination of the values of the axes (the first axis varies slowest).</summary>
        public static IEnumerable<object[]> Cross(params IEnumerable<object>[] axes)
        {
            IEnumerable<object[]> rows = new[] { Array.Empty<object>() };
            foreach (var axis in axes)
            {
                var values = axis.ToList();
                rows = rows.SelectMany(row => values.Select(v => row.Append(v).ToArray())).ToList();
            }
            return rows;
        }

        /// <summary>
        /// O(1) random parameters so every path carries signal (the default long-term W ~ N(0, 0.001²) is tiny): every
        /// recurrent weight vector u (a 1-D <c>weight_hh</c>: DuRNN's <c>long_term.weight_hh</c>, IndRNN's
        /// <c>weight_hh</c>) ~ U(0.5, 1), every matrix ~ N(0, 1/fan_in), every other vector ~ N(0, 0.1²).
        /// </summary>
        public static void Randomize(torch.nn.Module model)
        {
            using var noGrad = torch.no_grad();
            foreach (var (name, p) in model.named_parameters())
            {
                if (p.dim() == 1 && name.EndsWith("weight_hh", StringComparison.Ordinal)) p.uniform_(0.5, 1.0);
                else if (p.dim() == 2) p.normal_(0, 1.0 / Math.Sqrt(p.shape[1]));
                else p.normal_(0, 0.1);
            }
        }

        /// <summary>(T, B, features) float64: N(0, 1) at valid steps, <paramref name="padding"/> at padded ones.</summary>
        public static Tensor PaddedInput(long[] lengths, long steps, long features, double padding)
        {
            var x = torch.randn(steps, lengths.Length, features, dtype: ScalarType.Float64);
            return x.masked_fill_(PaddingMask(lengths, steps, features), padding);
        }

        /// <summary>(T, B, features) bool, true at padded steps.</summary>
        public static Tensor PaddingMask(long[] lengths, long steps, long features) =>
            torch.arange(steps).unsqueeze(1).ge(torch.tensor(lengths).unsqueeze(0)).unsqueeze(2).expand(steps, lengths.Length, features);

        /// <summary>Every parameter's gradient by name (zeros where it has none), cloned.</summary>
        public static Dictionary<string, Tensor> Gradients(torch.nn.Module model) =>
            model.named_parameters().ToDictionary(p => p.name, p => p.parameter.grad?.clone() ?? torch.zeros_like(p.parameter));

        /// <summary>A leaf that requires grad.</summary>
        public static Tensor Leaf(Tensor t) => t.requires_grad_(true);

        /// <summary>Float64 values in [0.1, 1), a leaf: positive and away from 0, for states that go through a ReLU.</summary>
        public static Tensor PositiveState(params long[] shape) =>
            Leaf(torch.rand(shape, dtype: ScalarType.Float64).mul_(0.9).add_(0.1));

        /// <summary>s_0, a float64 leaf: positive and away from 0 for ReLU, U(−0.9, 0.9) for tanh.</summary>
        public static Tensor ShortTermState(ShortTermActivation activation, params long[] shape) =>
            activation == ShortTermActivation.ReLU
                ? PositiveState(shape)
                : Leaf(torch.rand(shape, dtype: ScalarType.Float64).mul_(1.8).sub_(0.9));

        /// <summary>Re-draws every parameter to N(0, 0.5²): O(1) values that exercise every path of a gradient check.</summary>
        public static void RedrawParameters(torch.nn.Module module)
        {
            using var noGrad = torch.no_grad();
            foreach (var (_, p) in module.named_parameters())
                p.normal_(0, 0.5);
        }

        /// <summary>Every parameter with its name, as the gradient checker takes its inputs.</summary>
        public static IEnumerable<(string name, Tensor tensor)> NamedParameters(torch.nn.Module module) =>
            module.named_parameters().Select(p => (p.name, (Tensor)p.parameter)).ToList();

        /// <summary>A file of the repository (the folder holding DuRnn.sln), found above the test output folder.</summary>
        public static string FindRepositoryFile(string name)
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
