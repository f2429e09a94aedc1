using TorchSharp;
using static TorchSharp.torch;

namespace DuRnn
{
    /// <summary>
    /// Factory functions in TorchSharp's style (<c>torch.nn.LSTM(...)</c>), beside the constructors: the same options
    /// in the same order, with <c>device</c> and <c>dtype</c> last, as TorchSharp's recurrent layers take them.
    /// </summary>
    /// <remarks>
    /// Not called <c>nn</c>: a class <c>DuRnn.nn</c> and TorchSharp's <c>torch.nn</c> would make every <c>nn.Linear</c>
    /// ambiguous in a file with <c>using DuRnn;</c> and <c>using static TorchSharp.torch;</c>.
    /// </remarks>
    public static class Recurrent
    {
        /// <summary>
        /// Creates a multi-layer DuRNN: the same as <see cref="DuRnn.DuRNN(long, long, long, long?, ShortTermActivation,
        /// ShortTermConstraint?, double, long?, bool, bool, bool, bool, double, bool, double?, Device?, ScalarType?)"/>, whose
        /// documentation describes every option.
        /// </summary>
        /// <param name="inputSize">The number of expected features in the input x.</param>
        /// <param name="hiddenSize">H, the number of long-term neurons per layer: the number of output features.</param>
        /// <param name="numLayers">Number of recurrent layers (default 1).</param>
        /// <param name="shortTermSize">S, the number of short-term neurons per layer; <c>null</c> means S = H.</param>
        /// <param name="activation">φ of the short-term cells: ReLU (default) or tanh.</param>
        /// <param name="shortTermConstraint">The constraint on every U_s; <c>null</c> means ‖U_s‖₂ ≤ 0.9.</param>
        /// <param name="mag">MAG in U_bound = MAG^(1/T_max) (default 2).</param>
        /// <param name="maxSequenceLength">T_max, the longest dependency to keep; <c>null</c> means U_bound = 1.</param>
        /// <param name="longMemoryLastLayer">Initialise the last layer's u in [U_lowbound, U_bound].</param>
        /// <param name="batchNorm">BatchNorm over batch and time between layers.</param>
        /// <param name="residual">Residual connections where sizes match.</param>
        /// <param name="batchFirst">Input and output are (B, T, feature) instead of (T, B, feature).</param>
        /// <param name="dropout">Dropout between layers, one mask per sequence (default 0).</param>
        /// <param name="bidirectional">A second direction reads every sequence backwards (D = 2).</param>
        /// <param name="longTermInputWeightStd">σ_h of the long-term input weights W_h ~ N(0, σ_h²); <c>null</c>:
        /// <see cref="LongTermCell.DefaultInputWeightStd"/>.</param>
        /// <param name="device">The desired device of the parameters and buffers.</param>
        /// <param name="dtype">The desired floating point dtype of the parameters and buffers.</param>
        public static DuRNN DuRNN(long inputSize, long hiddenSize, long numLayers = 1, long? shortTermSize = null,
            ShortTermActivation activation = ShortTermActivation.ReLU, ShortTermConstraint? shortTermConstraint = null,
            double mag = 2.0, long? maxSequenceLength = null, bool longMemoryLastLayer = false, bool batchNorm = false,
            bool residual = false, bool batchFirst = false, double dropout = 0.0, bool bidirectional = false,
            double? longTermInputWeightStd = null, Device? device = null, ScalarType? dtype = null) =>
            new(inputSize, hiddenSize, numLayers, shortTermSize, activation, shortTermConstraint, mag, maxSequenceLength,
                longMemoryLastLayer, batchNorm, residual, batchFirst, dropout, bidirectional, longTermInputWeightStd, device, dtype);

        /// <summary>
        /// Creates a multi-layer IndRNN: the same as <see cref="DuRnn.IndRNN(long, long, long, double, long?, bool, bool,
        /// bool, bool, double, bool, double?, Device?, ScalarType?)"/>, whose documentation describes every option.
        /// </summary>
        /// <param name="inputSize">The number of expected features in the input x.</param>
        /// <param name="hiddenSize">H, the number of neurons per layer and direction.</param>
        /// <param name="numLayers">Number of recurrent layers (default 1).</param>
        /// <param name="mag">MAG in U_bound = MAG^(1/T_max) (default 2).</param>
        /// <param name="maxSequenceLength">T_max, the longest dependency to keep; <c>null</c> means U_bound = 1.</param>
        /// <param name="longMemoryLastLayer">Initialise the last layer's u in [U_lowbound, U_bound].</param>
        /// <param name="batchNorm">BatchNorm over batch and time between layers.</param>
        /// <param name="residual">Residual connections where sizes match.</param>
        /// <param name="batchFirst">Input and output are (B, T, feature) instead of (T, B, feature).</param>
        /// <param name="dropout">Dropout between layers, one mask per sequence (default 0).</param>
        /// <param name="bidirectional">A second direction reads every sequence backwards (D = 2).</param>
        /// <param name="longTermInputWeightStd">σ of the input weights W ~ N(0, σ²) (default 0.001); null: <see cref="DuRNN"/>'s
        /// scaled rule per layer.</param>
        /// <param name="device">The desired device of the parameters and buffers.</param>
        /// <param name="dtype">The desired floating point dtype of the parameters and buffers.</param>
        public static IndRNN IndRNN(long inputSize, long hiddenSize, long numLayers = 1, double mag = 2.0,
            long? maxSequenceLength = null, bool longMemoryLastLayer = false, bool batchNorm = false, bool residual = false,
            bool batchFirst = false, double dropout = 0.0, bool bidirectional = false, double? longTermInputWeightStd = 0.001,
            Device? device = null, ScalarType? dtype = null) =>
            new(inputSize, hiddenSize, numLayers, mag, maxSequenceLength, longMemoryLastLayer, batchNorm, residual, batchFirst,
                dropout, bidirectional, longTermInputWeightStd, device, dtype);
    }
}
