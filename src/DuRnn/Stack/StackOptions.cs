using System;
using TorchSharp;
using static TorchSharp.torch;

namespace DuRnn
{
    /// <summary>
    /// The options every stack has (<see cref="DuRNN"/>'s and <see cref="IndRNN"/>'s constructors take them in this
    /// order, device and dtype last), checked when created with <see cref="Create"/>.
    /// </summary>
    internal sealed record StackOptions(long InputSize, long HiddenSize, long NumLayers, double Mag, long? MaxSequenceLength,
        bool LongMemoryLastLayer, bool BatchNorm, bool Residual, bool BatchFirst, double Dropout, bool Bidirectional,
        double? LongTermInputWeightStd, Device? Device, ScalarType? DType)
    {
        /// <summary>Checks the options shared by both stacks (each names its argument) and returns them.</summary>
        /// <exception cref="System.ArgumentException">An option is out of range (an
        /// <see cref="System.ArgumentOutOfRangeException"/> for numbers).</exception>
        internal static StackOptions Create(long inputSize, long hiddenSize, long numLayers, double mag, long? maxSequenceLength,
            bool longMemoryLastLayer, bool batchNorm, bool residual, bool batchFirst, double dropout, bool bidirectional,
            double? longTermInputWeightStd, Device? device, ScalarType? dtype)
        {
            Check.Size(inputSize, nameof(inputSize));
            Check.Size(hiddenSize, nameof(hiddenSize));
            Check.Size(numLayers, nameof(numLayers));
            // Each stack's layer factory checks its layers' weights (their shapes are the layer type's) before any is made.
            Check.Mag(mag, nameof(mag));
            Check.MaxSequenceLength(maxSequenceLength, nameof(maxSequenceLength));
            Check.Dropout(dropout, nameof(dropout));
            if (longTermInputWeightStd is double std) Check.NonNegativeFinite(std, nameof(longTermInputWeightStd));
            Check.FloatingDType(dtype, nameof(dtype));
            return new StackOptions(inputSize, hiddenSize, numLayers, mag, maxSequenceLength, longMemoryLastLayer, batchNorm,
                residual, batchFirst, dropout, bidirectional, longTermInputWeightStd, device, dtype);
        }
    }
}
