using System;
using System.Collections.Generic;
using System.Linq;
using TorchSharp;
using static TorchSharp.torch;

namespace DuRnn
{
    /// <summary>
    /// What a trained DuRNN or IndRNN has learned, in the terms of the paper's analysis, per cell: how long each
    /// long-term neuron remembers (from its recurrent weight u_i) and how short the short-term part's memory is (from
    /// ‖U_s‖₂). A whole stack's: <see cref="RecurrentStack{TLayer, TState}.Diagnose"/>.
    /// </summary>
    public static class DuRNNDiagnostics
    {
        /// <summary>
        /// Each long-term neuron's effective memory horizon: the number of steps k after which a contribution has
        /// decayed below <paramref name="threshold"/> through the recurrence alone, the smallest k with
        /// |u_i|^k &lt; threshold, i.e. ⌊ln(threshold) / ln|u_i|⌋ + 1. A neuron with |u_i| ≥ 1 never forgets:
        /// its horizon is <see cref="double.PositiveInfinity"/>. (The ReLU can only shorten memory further.)
        /// </summary>
        /// <param name="cell">The long-term cell.</param>
        /// <param name="threshold">The decay level that counts as forgotten, in (0, 1); default 0.01.</param>
        /// <returns>One horizon per neuron, in neuron order.</returns>
        public static double[] MemoryHorizons(this LongTermCell cell, double threshold = 0.01)
        {
            if (cell is null) throw new ArgumentNullException(nameof(cell));
            if (!(threshold > 0 && threshold < 1))
                throw new ArgumentOutOfRangeException(nameof(threshold), threshold, "threshold must lie in (0, 1).");
            return RecurrentWeights(cell).Select(u => Horizon(Math.Abs(u), threshold)).ToArray();
        }

        /// <summary>The long-term recurrent weights u as doubles, in neuron order.</summary>
        /// <param name="cell">The long-term cell.</param>
        public static double[] RecurrentWeights(this LongTermCell cell)
        {
            if (cell is null) throw new ArgumentNullException(nameof(cell));
            using var noGrad = torch.no_grad();
            using var u = cell.weight_hh.detach().to(ScalarType.Float64, torch.CPU);
            return u.data<double>().ToArray();
        }

        /// <summary>‖U_s‖₂, the largest singular value of the short-term recurrent matrix, computed exactly (SVD).</summary>
        /// <param name="cell">The short-term cell.</param>
        public static double SpectralNorm(this ShortTermCell cell)
        {
            if (cell is null) throw new ArgumentNullException(nameof(cell));
            using var noGrad = torch.no_grad();
            using var w = cell.weight_hh.detach().to(ScalarType.Float64, torch.CPU);
            using var singular = torch.linalg.svdvals(w);
            return singular.max().item<double>();
        }

        /// <summary>
        /// How open each layer's selection gate is on <paramref name="input"/>: g_t = σ(W_gx x_t + W_gs s_t + b_g) over
        /// every step, sequence and short-term neuron of the forward direction, with each layer fed what the stack feeds it
        /// (eval mode, no gradient; the model's mode is restored). A gate near 0 passes nothing of the short-term memory to
        /// the long-term neurons, near 1 all of it.
        /// </summary>
        /// <param name="model">The DuRNN.</param>
        /// <param name="input">A batch as the model takes it: (T, B, I), or (B, T, I) with batchFirst.</param>
        /// <returns>One entry per layer, first to last.</returns>
        /// <exception cref="ArgumentException">The input does not fit the model (as its <c>call</c> checks).</exception>
        public static IReadOnlyList<GateStatistics> GateOpenness(this DuRNN model, Tensor input)
        {
            if (model is null) throw new ArgumentNullException(nameof(model));
            Check.Sequence(input, nameof(input), model.InputSize, model.BatchFirst, model.Layers[0].ShortTerm.weight_ih);
            using var scope = torch.NewDisposeScope();
            using var noGrad = torch.no_grad();
            var inputs = model.LayerInputs(input);
            var result = new List<GateStatistics>();
            for (int l = 0; l < inputs.Count; l++)
            {
                var layer = model.Layers[l];
                var x = inputs[l];
                var projected = layer.ShortTerm.InputProjection(x).unbind(0);
                var states = new Tensor[projected.Length];
                Tensor? s = null;
                for (int t = 0; t < projected.Length; t++) states[t] = s = layer.ShortTerm.Step(projected[t], s);
                var g = layer.Gate.call(x, torch.stack(states));
                using var half = 0.5.ToScalar();
                var g64 = g.to_type(ScalarType.Float64);                    // any floating dtype of the model
                result.Add(new GateStatistics(l, g64.mean().item<double>(), g.gt(half).to_type(ScalarType.Float64).mean().item<double>(),
                    g64.min().item<double>(), g64.max().item<double>()));
            }
            return result;
        }

        /// <summary>The smallest k ≥ 1 with a^k &lt; threshold, for 0 ≤ a.</summary>
        internal static double Horizon(double a, double threshold)
        {
            if (a >= 1) return double.PositiveInfinity;
            if (a < threshold) return 1;
            return Math.Floor(Math.Log(threshold) / Math.Log(a)) + 1;
        }
    }

    /// <summary>What one layer of a stack has learned (see <see cref="RecurrentStack{TLayer, TState}.Diagnose"/>).</summary>
    /// <param name="Layer">The layer's index, 0 for the first.</param>
    /// <param name="RecurrentWeights">The long-term recurrent weights u, per neuron.</param>
    /// <param name="MemoryHorizons">Each long-term neuron's memory horizon in steps (∞ when |u_i| ≥ 1).</param>
    /// <param name="ShortTermSpectralNorm">‖U_s‖₂ of the layer's short-term part; NaN in an IndRNN (no short-term part).</param>
    /// <param name="RecurrentBound">U_bound, the bound on |u_i|.</param>
    /// <param name="Direction">0 for the forward direction, 1 for the backward direction of a bidirectional stack.</param>
    public sealed record LayerDiagnostics(int Layer, double[] RecurrentWeights, double[] MemoryHorizons,
        double ShortTermSpectralNorm, double RecurrentBound, int Direction = 0)
    {
        /// <summary>The median memory horizon of the layer's long-term neurons, in steps.</summary>
        public double MedianHorizon
        {
            get
            {
                var sorted = MemoryHorizons.OrderBy(h => h).ToArray();
                if (sorted.Length == 0) return 0;
                int mid = sorted.Length / 2;
                return sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
            }
        }

        /// <summary>How many of the layer's long-term neurons remember at least <paramref name="steps"/> steps.</summary>
        /// <param name="steps">The horizon to reach.</param>
        public int NeuronsRemembering(double steps) => MemoryHorizons.Count(h => h >= steps);
    }

    /// <summary>How open one layer's selection gate was on a batch (see <see cref="DuRNNDiagnostics.GateOpenness"/>).</summary>
    /// <param name="Layer">The layer's index, 0 for the first.</param>
    /// <param name="Mean">The mean of g over every step, sequence and short-term neuron.</param>
    /// <param name="OpenFraction">The fraction of those values above 0.5.</param>
    /// <param name="Min">The smallest value of g.</param>
    /// <param name="Max">The largest value of g.</param>
    public sealed record GateStatistics(int Layer, double Mean, double OpenFraction, double Min, double Max);
}
