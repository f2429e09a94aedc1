using System.Collections.Generic;
using TorchSharp.Modules;

namespace DuRnn
{
    /// <summary>
    /// What <see cref="DuRNN"/> and <see cref="IndRNN"/> offer alike, for code that trains either (a sample's trainer, a
    /// hyper-parameter search): the sizes, the constraints to keep after every optimizer step, the learning-rate groups,
    /// the initialisation and the diagnostics. Their calls differ only in the state type (see
    /// <see cref="RecurrentStack{TLayer, TState}"/>).
    /// </summary>
    public interface IRecurrentStack
    {
        /// <summary>The number of input features.</summary>
        long InputSize { get; }

        /// <summary>H, the number of long-term neurons per layer and direction.</summary>
        long HiddenSize { get; }

        /// <summary>The number of stacked layers.</summary>
        long NumLayers { get; }

        /// <summary>The number of output features, D·H.</summary>
        long OutputSize { get; }

        /// <summary>Whether every layer also reads the sequence backwards.</summary>
        bool Bidirectional { get; }

        /// <summary>Whether input and output are (B, T, feature).</summary>
        bool BatchFirst { get; }

        /// <summary>How every layer evaluates its sequence.</summary>
        DuRNNImplementation Implementation { get; set; }

        /// <summary>Projects every constrained parameter onto its constraint set; call after every optimizer step.</summary>
        void ApplyConstraints();

        /// <summary>Re-applies the documented initialisation in place.</summary>
        void reset_parameters();

        /// <summary>Adam's parameter groups: weight decay on weight matrices only, the long-sequence learning rates of the
        /// long-term input weights and biases and of the long-memory layer's u.</summary>
        /// <param name="lr">The learning rate.</param>
        /// <param name="weightDecay">L2 weight decay of the weight matrices.</param>
        /// <param name="others">Parameters of other modules trained with this one; null for none.</param>
        /// <param name="beta1">Adam's β₁.</param>
        /// <param name="beta2">Adam's β₂.</param>
        IReadOnlyList<Adam.ParamGroup> ParameterGroups(double lr, double weightDecay = 0,
            IEnumerable<TorchSharp.Modules.Parameter>? others = null, double beta1 = 0.9, double beta2 = 0.999);

        /// <summary>What every layer learned, both directions (memory horizons, U_bound, ‖U_s‖₂).</summary>
        /// <param name="threshold">The fraction of a contribution that counts as forgotten, in (0, 1).</param>
        IReadOnlyList<LayerDiagnostics> Diagnose(double threshold = 0.01);
    }
}
