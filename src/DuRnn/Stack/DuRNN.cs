using System;
using TorchSharp;
using static TorchSharp.torch;

namespace DuRnn
{
    /// <summary>
    /// A multi-layer Dual Recurrent Neural Network (DuRNN; Zhang, Li, Ye, Zhu, Li, Neurocomputing 2021) over an input
    /// sequence, used where <c>torch.nn.LSTM</c> would be (same layout of input, output and state as TorchSharp's recurrent
    /// layers; the state is a <see cref="DuRNNState"/> (s, h) instead of LSTM's (h, c)), that learns dependencies over
    /// thousands of steps.
    /// Each layer (<see cref="DuRNNLayer"/>) computes, for t = 1..T,
    /// <code>
    /// s_t = φ(W_s x_t + b_s + U_s s_{t−1})               short-term memory, ‖U_s‖₂ ≤ ρ
    /// g_t = σ(W_gx x_t + W_gs s_t + b_g)                 selection gate
    /// h_t = ReLU(W_h (g_t ⊙ s_t) + b_h + u ⊙ h_{t−1})    long-term memory (IndRNN), |u_i| ≤ U_bound
    /// </code>
    /// and layer l+1 reads the outputs h^(l) of layer l. Between layers, optionally: a residual connection
    /// where sizes match, BatchNorm over batch and time, and dropout with one mask per sequence shared over time.
    /// With <c>bidirectional: true</c> every layer also runs a second, independent set of cells over the reversed
    /// sequence, and its output is the concatenation [forward h_t, backward h_t] (2H features), as in PyTorch.
    /// </summary>
    /// <remarks>
    /// Everything but the constructor — the calls, the checks, loading, <c>ApplyConstraints</c>, <c>ParameterGroups</c>,
    /// <c>Diagnose</c> — is <see cref="RecurrentStack{TLayer, TState}"/>'s, shared with <see cref="IndRNN"/>.
    /// Keep the constraints by calling <c>ApplyConstraints()</c> after every optimizer step (projected gradient
    /// descent); the parameters satisfy them right after construction. Variable-length batches:
    /// <c>call(packedSequence, state)</c> (PyTorch's packed sequences) or <c>call(padded, lengths, state)</c>. Streaming:
    /// pass the returned state into the next call; <see cref="DuRNNState.Detach"/> between chunks gives truncated
    /// backpropagation through time.
    /// </remarks>
    public sealed class DuRNN : RecurrentStack<DuRNNLayer, DuRNNState>
    {
        /// <summary>
        /// Creates a multi-layer DuRNN.
        /// </summary>
        /// <param name="inputSize">The number of expected features in the input x.</param>
        /// <param name="hiddenSize">H, the number of long-term neurons per layer: the number of output features (per direction).</param>
        /// <param name="numLayers">Number of recurrent layers. E.g., setting numLayers = 2 stacks two DuRNN layers, the
        /// second taking in the outputs of the first and computing the final results. Default: 1.</param>
        /// <param name="shortTermSize">S, the number of short-term neurons per layer; <c>null</c> means S = H.</param>
        /// <param name="activation">φ of the short-term cells: ReLU (default) or tanh (recommended for streams carried from
        /// chunk to chunk, such as language models: see <see cref="ShortTermActivation.Tanh"/>).</param>
        /// <param name="shortTermConstraint">The constraint on every U_s; <c>null</c> means
        /// <see cref="ShortTermConstraint.SpectralNorm(double)"/> with ρ = 0.9.</param>
        /// <param name="mag">MAG in U_bound = MAG^(1/T_max), the bound on |u_i| (default 2, as in IndRNN's adding problem).</param>
        /// <param name="maxSequenceLength">T_max, the longest dependency to keep (usually the sequence length);
        /// <c>null</c> means U_bound = 1.</param>
        /// <param name="longMemoryLastLayer">Initialise the last layer's u ~ U(U_lowbound, U_bound), with
        /// U_lowbound = (1/MAG)^(1/T_max), so that it keeps long memory from the start (IndRNN's practice).</param>
        /// <param name="batchNorm">Apply BatchNorm over batch and time to the outputs of every layer but the last.</param>
        /// <param name="residual">Add each layer's input to its output where their sizes match (after every layer, the
        /// last included).</param>
        /// <param name="batchFirst">If true, the input and output are (B, T, feature) instead of (T, B, feature).
        /// The state is laid out (numLayers·D, B, ·) either way.</param>
        /// <param name="dropout">If non-zero, a dropout layer with this probability on the outputs of each layer
        /// except the last, with one mask per sequence shared over all steps (train mode only). Default: 0.</param>
        /// <param name="bidirectional">If true, a bidirectional DuRNN (D = 2): every layer has a second set of cells
        /// (state-dict keys <c>layers_reverse.{l}.*</c>) that reads the sequence backwards, and the layer's output is
        /// [forward h_t, backward h_t], 2H features; layer l+1, BatchNorm and the final output see 2H features. The
        /// state is (numLayers·2, B, ·) with index layer·2 + direction, as TorchSharp's h_n. Default: false (D = 1).</param>
        /// <param name="longTermInputWeightStd">σ_h of the long-term input weights W_h ~ N(0, σ_h²); <c>null</c> (default) means
        /// <see cref="LongTermCell.DefaultInputWeightStd"/>: 0.001 up to T_max = 100, scaled down with T_max beyond, so
        /// that the untrained output does not grow with the sequence length.</param>
        /// <param name="device">The desired device of the parameters and buffers.</param>
        /// <param name="dtype">The desired floating point dtype of the parameters and buffers.</param>
        public DuRNN(long inputSize, long hiddenSize, long numLayers = 1, long? shortTermSize = null,
            ShortTermActivation activation = ShortTermActivation.ReLU, ShortTermConstraint? shortTermConstraint = null,
            double mag = 2.0, long? maxSequenceLength = null, bool longMemoryLastLayer = false,
            bool batchNorm = false, bool residual = false, bool batchFirst = false, double dropout = 0.0,
            bool bidirectional = false, double? longTermInputWeightStd = null, Device? device = null, ScalarType? dtype = null)
            : base(nameof(DuRNN),
                StackOptions.Create(inputSize, hiddenSize, numLayers, mag, maxSequenceLength, longMemoryLastLayer, batchNorm,
                    residual, batchFirst, dropout, bidirectional, longTermInputWeightStd, device, dtype),
                LayerFactory(inputSize, hiddenSize, numLayers, bidirectional, shortTermSize, activation,
                    shortTermConstraint ?? ShortTermConstraint.Default, mag, maxSequenceLength, longMemoryLastLayer, longTermInputWeightStd,
                    device, dtype),
                new StateLayout<DuRNNState>(new[] { "state.ShortTerm", "state.LongTerm" }, new[] { shortTermSize ?? hiddenSize, hiddenSize },
                    state => new[] { state.ShortTerm, state.LongTerm }, parts => new DuRNNState(parts[0], parts[1])))
        {
            ShortTermSize = shortTermSize ?? hiddenSize;
            Activation = activation;
            ShortTermConstraint = shortTermConstraint ?? ShortTermConstraint.Default;
            RegisterComponents();
        }

        /// <summary>S, the number of short-term neurons per layer.</summary>
        public long ShortTermSize { get; }

        /// <summary>φ of the short-term cells.</summary>
        public ShortTermActivation Activation { get; }

        /// <summary>The constraint on every U_s.</summary>
        public ShortTermConstraint ShortTermConstraint { get; }

        /// <summary>Checks the DuRNN's own options and returns the factory of its layers (layer l, its input size, last?).</summary>
        /// <remarks>Every layer's weights are checked here, before any is allocated: the first layer's read the input (S × I),
        /// the others read D·H features (S × D·H), and all of them at most <see cref="Check.MaxStackWeights"/> in all.</remarks>
        private static Func<long, long, bool, DuRNNLayer> LayerFactory(long inputSize, long hiddenSize, long numLayers, bool bidirectional,
            long? shortTermSize, ShortTermActivation activation, ShortTermConstraint constraint, double mag, long? maxSequenceLength,
            bool longMemoryLastLayer, double? longTermInputWeightStd, Device? device, ScalarType? dtype)
        {
            var options = Check.LayerOptions(inputSize, hiddenSize, shortTermSize, activation, mag, maxSequenceLength,
                longTermInputWeightStd, dtype);
            long s = shortTermSize ?? hiddenSize, features = (bidirectional ? 2 : 1) * hiddenSize;
            if (numLayers > 1)
            {
                Check.WeightElements(s, features, nameof(hiddenSize), "W_s and W_gx of the layers after the first");
            }
            double Layer(long input) => 2.0 * s * input + 2.0 * s * s + (double)hiddenSize * s;
            Check.StackWeights((bidirectional ? 2 : 1) * (Layer(inputSize) + (numLayers - 1) * Layer(features)), numLayers, hiddenSize, inputSize, bidirectional);
            return (l, layerInputSize, last) => new DuRNNLayer(layerInputSize, hiddenSize, shortTermSize, activation, constraint, mag,
                maxSequenceLength, longMemoryLastLayer && last, longTermInputWeightStd, device, dtype, options);
        }
    }
}
