using System;
using System.Collections.Generic;
using System.Linq;

namespace DuRnn
{
    /// <summary>
    /// What a trained <see cref="IndRNN"/> has learned: per layer, how long each neuron remembers (from its recurrent
    /// weight u_i), in the same terms as <see cref="DuRNNDiagnostics"/> for a DuRNN's long-term part.
    /// </summary>
    public static class IndRNNDiagnostics
    {
        /// <summary>
        /// One <see cref="LayerDiagnostics"/> per layer of <paramref name="model"/> (the forward direction), first to
        /// last: u, each neuron's memory horizon (<see cref="DuRNNDiagnostics.MemoryHorizons"/>) and U_bound.
        /// <see cref="LayerDiagnostics.ShortTermSpectralNorm"/> is NaN: an IndRNN has no short-term part.
        /// </summary>
        /// <param name="model">The stack.</param>
        /// <param name="threshold">The decay level for the memory horizons, in (0, 1); default 0.01.</param>
        public static IReadOnlyList<LayerDiagnostics> Diagnose(this IndRNN model, double threshold = 0.01)
        {
            if (model is null) throw new ArgumentNullException(nameof(model));
            return model.Layers.Select((cell, index) => new LayerDiagnostics(
                index,
                cell.RecurrentWeights(),
                cell.MemoryHorizons(threshold),
                double.NaN,
                cell.RecurrentBound)).ToList();
        }
    }
}
