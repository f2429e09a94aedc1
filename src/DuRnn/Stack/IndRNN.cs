using System;
using TorchSharp;
using static TorchSharp.torch;

namespace DuRnn
{
    /// <summary>
    /// A multi-layer Independently Recurrent Neural Network (IndRNN; Li, Li, Cook, Zhu, Gao, CVPR 2018, and "Deep
    /// IndRNN", arXiv 1910.06251) over an input sequence, laid out like TorchSharp's <c>torch.nn.RNN</c>. Each layer
    /// computes, for t = 1..T,
    /// <code>
    /// h_t = ReLU(W x_t + b + u ⊙ h_{t−1}),   |u_i| ≤ U_bound = MAG^(1/T_max)
    /// </code>
    /// with an element-wise recurrent weight u ∈ R^H, so every neuron has its own memory. Layer l+1 reads the outputs
    /// h^(l) of layer l. Between layers, optionally: a residual connection where sizes match, BatchNorm over batch and
    /// time, and dropout with one mask per sequence shared over time. With <c>bidirectional: true</c> every layer also
    /// runs a second, independent cell over the reversed sequence, and its output is [forward h_t, backward h_t].
    /// </summary>
    /// <remarks>
    /// Each layer is a <see cref="LongTermCell"/> (the long-term part of a <see cref="DuRNN"/> layer) fed directly by
    /// the layer's input: same parameters, initialisation and constraint. Keep the constraint by calling
    /// <c>ApplyConstraints()</c> after every optimizer step (projected gradient descent); the parameters satisfy it
    /// right after construction. Differences from <c>torch.nn.RNN</c>: the recurrent weight is a vector (state-dict key
    /// <c>layers.{l}.weight_hh</c>, shape (H)), there is one bias per layer (<c>bias_ih</c>), the nonlinearity is
    /// always ReLU, and <c>ApplyConstraints()</c> exists. The recurrence runs as one fused kernel by default
    /// (<c>Implementation</c>). Everything but the constructor — the calls, the checks, loading, <c>ApplyConstraints</c>,
    /// <c>ParameterGroups</c>, <c>Diagnose</c> — is <see cref="RecurrentStack{TLayer, TState}"/>'s, shared with
    /// <see cref="DuRNN"/>; the state is one tensor h, (numLayers·D, B, H), as TorchSharp's <c>nn.RNN</c> has it.
    /// </remarks>
    public sealed class IndRNN : RecurrentStack<LongTermCell, Tensor>
    {
        /// <summary>
        /// Creates a multi-layer IndRNN.
        /// </summary>
        /// <param name="inputSize">The number of expected features in the input x.</param>
        /// <param name="hiddenSize">H, the number of neurons per layer: the number of output features (per direction).</param>
        /// <param name="numLayers">Number of recurrent layers. E.g., setting numLayers = 2 stacks two IndRNN layers, the
        /// second taking in the outputs of the first and computing the final results. Default: 1.</param>
        /// <param name="mag">MAG in U_bound = MAG^(1/T_max), the bound on |u_i| (default 2, as in IndRNN's adding problem).</param>
        /// <param name="maxSequenceLength">T_max, the longest dependency to keep (usually the sequence length);
        /// <c>null</c> means U_bound = 1.</param>
        /// <param name="longMemoryLastLayer">Initialise the last layer's u ~ U(U_lowbound, U_bound), with
        /// U_lowbound = (1/MAG)^(1/T_max), so that it keeps long memory from the start (IndRNN's practice); the other
        /// layers' u ~ U(0, U_bound).</param>
        /// <param name="batchNorm">Apply BatchNorm over batch and time to the outputs of every layer but the last.</param>
        /// <param name="residual">Add each layer's input to its output where their sizes match (after every layer, the
        /// last included).</param>
        /// <param name="batchFirst">If true, the input and output are (B, T, feature) instead of (T, B, feature).
        /// The state is laid out (numLayers·D, B, H) either way.</param>
        /// <param name="dropout">If non-zero, a dropout layer with this probability on the outputs of each layer
        /// except the last, with one mask per sequence shared over all steps (train mode only). Default: 0.</param>
        /// <param name="bidirectional">If true, a bidirectional IndRNN (D = 2): every layer has a second cell
        /// (state-dict keys <c>layers_reverse.{l}.*</c>) that reads the sequence backwards, and the layer's output is
        /// [forward h_t, backward h_t], 2H features; layer l+1, BatchNorm and the final output see 2H features. The
        /// state is (numLayers·2, B, H) with index layer·2 + direction, as TorchSharp's h_n. Default: false (D = 1).</param>
        /// <param name="longTermInputWeightStd">σ of the input weights W ~ N(0, σ²) of every layer (the same option as
        /// DuRNN's: an IndRNN layer is a long-term cell) (default 0.001, IndRNN's
        /// adding-problem code: with u ≈ 1 a ReLU state integrates its input over time, and large input weights make it
        /// grow like steps × input). <c>null</c> means <see cref="DuRNN"/>'s rule for its long-term cells, per layer:
        /// <see cref="LongTermCell.DefaultInputWeightStd"/>(T_max, long memory), 0.001 up to T_max = 100 and smaller
        /// beyond.</param>
        /// <param name="device">The desired device of the parameters and buffers.</param>
        /// <param name="dtype">The desired floating point dtype of the parameters and buffers.</param>
        public IndRNN(long inputSize, long hiddenSize, long numLayers = 1, double mag = 2.0, long? maxSequenceLength = null,
            bool longMemoryLastLayer = false, bool batchNorm = false, bool residual = false, bool batchFirst = false,
            double dropout = 0.0, bool bidirectional = false, double? longTermInputWeightStd = 0.001,
            Device? device = null, ScalarType? dtype = null)
            : base(nameof(IndRNN),
                StackOptions.Create(inputSize, hiddenSize, numLayers, mag, maxSequenceLength, longMemoryLastLayer, batchNorm,
                    residual, batchFirst, dropout, bidirectional, longTermInputWeightStd, device, dtype),
                LayerFactory(inputSize, hiddenSize, numLayers, bidirectional, mag, maxSequenceLength, longMemoryLastLayer,
                    longTermInputWeightStd, device, dtype),
                new StateLayout<Tensor>(new[] { "h0" }, new[] { hiddenSize }, h => new[] { h }, parts => parts[0]))
        {
            RegisterComponents();
        }

        /// <summary>
        /// Checks every layer's weights before any is allocated — the first layer's W is H × I, the others' H × D·H, at most
        /// <see cref="Check.MaxStackWeights"/> in all — and returns the factory of the layers (layer l, its input size, last?).
        /// </summary>
        private static Func<long, long, bool, LongTermCell> LayerFactory(long inputSize, long hiddenSize, long numLayers, bool bidirectional,
            double mag, long? maxSequenceLength, bool longMemoryLastLayer, double? longTermInputWeightStd, Device? device, ScalarType? dtype)
        {
            var options = Check.LongTermOptions(inputSize, hiddenSize, mag, maxSequenceLength, longTermInputWeightStd,
                nameof(longTermInputWeightStd), dtype);
            long features = (bidirectional ? 2 : 1) * hiddenSize;
            if (numLayers > 1)
                Check.WeightElements(hiddenSize, features, nameof(hiddenSize), "The input weights of the layers after the first");
            Check.StackWeights((bidirectional ? 2 : 1) * (double)hiddenSize * (inputSize + (numLayers - 1) * features), numLayers, hiddenSize, inputSize, bidirectional);
            return (l, layerInputSize, last) => new LongTermCell(layerInputSize, hiddenSize, mag, maxSequenceLength,
                longMemoryLastLayer && last, longTermInputWeightStd, device, dtype, options);
        }
    }
}
