using System;
using System.Collections.Generic;
using System.Linq;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DuRnn
{
    /// <summary>
    /// The one rule for Adam's parameter groups of a stack of long-term cells (<see cref="RecurrentStack{TLayer, TState}.ParameterGroups"/>,
    /// <see cref="RecurrentStack{TLayer, TState}.ParameterGroups"/>): weight matrices with weight decay, 1-D parameters (biases, u) without it,
    /// each long-term cell's input weights and bias with the learning rate lr · <see cref="LongTermCell.LearningRateScale"/>
    /// and its u with lr · <see cref="LongTermCell.RecurrentLearningRateScale"/>.
    /// </summary>
    internal static class LearningRates
    {
        /// <summary>The groups for <paramref name="parameters"/> (the stack's) and <paramref name="others"/>.</summary>
        internal static IReadOnlyList<Adam.ParamGroup> Groups(IEnumerable<Parameter> parameters, IReadOnlyList<LongTermCell> cells,
            double lr, double weightDecay, IEnumerable<Parameter>? others, double beta1, double beta2)
        {
            if (!(lr > 0) || double.IsInfinity(lr)) throw new ArgumentOutOfRangeException(nameof(lr), lr, "lr must be finite and > 0.");
            Check.NonNegativeFinite(weightDecay, nameof(weightDecay));
            Adam.ParamGroup Group(IEnumerable<Parameter> ps, double rate, double decay) =>
                new(ps.ToList(), lr: rate, beta1: beta1, beta2: beta2, weight_decay: decay);
            // W_h and b_h of every long-term cell at its factor, u at its own where that is not 1 (long-memory layers beyond
            // T_max = 100; elsewhere u trains at lr with the rest). One group per factor and kind (matrix with weight decay,
            // vector without), in the order of the cells, so an optimizer's state saved where u's factor is 1 (every
            // version up to 0.2.0) loads into the same groups.
            IEnumerable<(Parameter Parameter, double Scale)> Scaled(LongTermCell c)
            {
                yield return (c.weight_ih, c.LearningRateScale);
                yield return (c.bias_ih, c.LearningRateScale);
                if (c.RecurrentLearningRateScale != 1.0) yield return (c.weight_hh, c.RecurrentLearningRateScale);
            }
            var scaled = cells.SelectMany(Scaled).ToList();
            var handles = new HashSet<IntPtr>(scaled.Select(e => e.Parameter.Handle));
            var rest = parameters.Where(p => !handles.Contains(p.Handle)).Concat(others ?? Enumerable.Empty<Parameter>()).ToList();
            var groups = new List<Adam.ParamGroup>
            {
                Group(rest.Where(p => p.dim() >= 2), lr, weightDecay),
                Group(rest.Where(p => p.dim() < 2), lr, 0),
            };
            foreach (var same in scaled.GroupBy(e => (e.Scale, Matrix: e.Parameter.dim() >= 2)))
            {
                groups.Add(Group(same.Select(e => e.Parameter), lr * same.Key.Scale, same.Key.Matrix ? weightDecay : 0));
            }
            return groups;
        }
    }
}
