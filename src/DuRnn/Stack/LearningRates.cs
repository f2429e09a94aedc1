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
    /// and each long-term cell's input weights and bias with the learning rate lr · <see cref="LongTermCell.LearningRateScale"/>.
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
            var scaled = new HashSet<IntPtr>(cells.SelectMany(c => new[] { c.weight_ih.Handle, c.bias_ih.Handle }));
            var rest = parameters.Where(p => !scaled.Contains(p.Handle)).Concat(others ?? Enumerable.Empty<Parameter>()).ToList();
            var groups = new List<Adam.ParamGroup>
            {
                Group(rest.Where(p => p.dim() >= 2), lr, weightDecay),
                Group(rest.Where(p => p.dim() < 2), lr, 0),
            };
            foreach (var scale in cells.Select(c => c.LearningRateScale).Distinct())
            {
                var same = cells.Where(c => c.LearningRateScale == scale).ToList();
                groups.Add(Group(same.Select(c => c.weight_ih), lr * scale, weightDecay));
                groups.Add(Group(same.Select(c => c.bias_ih), lr * scale, 0));
            }
            return groups;
        }
    }
}
