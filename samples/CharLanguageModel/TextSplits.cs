using System;
using static TorchSharp.torch;

namespace DuRnn.Samples.CharLanguageModel
{
    /// <summary>
    /// The encoded text cut into three contiguous parts: the first 90 % for training, the next 5 % for validation and
    /// the last 5 % for the test. Contiguous, not shuffled: each part is running text, read in order as a stream.
    /// </summary>
    internal sealed class TextSplits : IDisposable
    {
        /// <summary>The training part's share of the text.</summary>
        public const double TrainFraction = 0.90;

        /// <summary>The validation part's share of the text (the test part gets the rest, also 5 %).</summary>
        public const double ValidFraction = 0.05;

        /// <summary>Cuts <paramref name="ids"/>, the whole text as symbol indices, into the three parts.</summary>
        public TextSplits(long[] ids)
        {
            long n = ids.Length;
            long trainEnd = (long)Math.Floor(n * TrainFraction);
            long validEnd = (long)Math.Floor(n * (TrainFraction + ValidFraction));
            Train = tensor(ids[..(int)trainEnd]);
            Valid = tensor(ids[(int)trainEnd..(int)validEnd]);
            Test = tensor(ids[(int)validEnd..]);
        }

        /// <summary>The training part, int64 symbol indices.</summary>
        public Tensor Train { get; }

        /// <summary>The validation part, int64 symbol indices.</summary>
        public Tensor Valid { get; }

        /// <summary>The test part, int64 symbol indices.</summary>
        public Tensor Test { get; }

        /// <summary>Disposes the three tensors.</summary>
        public void Dispose()
        {
            Train.Dispose();
            Valid.Dispose();
            Test.Dispose();
        }
    }
}
