using System;
using static TorchSharp.torch;

namespace DuRnn.Samples.CharLanguageModel
{
    /// <summary>
    /// A text cut into S parallel streams of consecutive characters, laid out time-major for the recurrent models:
    /// stream s reads the s-th of S equal consecutive pieces, so a chunk of steps t..t+k of all streams is one (k, S)
    /// mini-batch, and the state a model ends a chunk with is where the next chunk of the same streams begins.
    /// </summary>
    /// <remarks>
    /// With N characters, every stream has L = ⌊(N − 1) / S⌋ steps; at step t stream s reads character s·L + t and
    /// is asked for character s·L + t + 1. The last (N − 1) mod S predictions of the text are left out.
    /// </remarks>
    internal sealed class ParallelStreams : IDisposable
    {
        /// <summary>Cuts <paramref name="text"/> (int64 symbol indices, 1-D) into <paramref name="streams"/> streams.</summary>
        /// <exception cref="ArgumentException">The text has fewer than <paramref name="streams"/> + 1 characters.</exception>
        public ParallelStreams(Tensor text, int streams)
        {
            long n = text.shape[0];
            Length = (n - 1) / streams;
            if (Length < 1)
                throw new ArgumentException($"{n} characters cannot be cut into {streams} streams.", nameof(text));
            Streams = streams;
            using var scope = NewDisposeScope();
            Inputs = text.narrow(0, 0, streams * Length).view(streams, Length).t().contiguous().MoveToOuterDisposeScope();
            Targets = text.narrow(0, 1, streams * Length).view(streams, Length).t().contiguous().MoveToOuterDisposeScope();
        }

        /// <summary>S, the number of streams.</summary>
        public int Streams { get; }

        /// <summary>L, the number of steps of every stream.</summary>
        public long Length { get; }

        /// <summary>The number of predictions the streams hold, S·L.</summary>
        public long Predictions => Streams * Length;

        /// <summary>The characters read, (L, S) int64.</summary>
        public Tensor Inputs { get; }

        /// <summary>The characters to predict, each the one after its input, (L, S) int64.</summary>
        public Tensor Targets { get; }

        /// <summary>
        /// Steps <paramref name="start"/> to <paramref name="start"/> + <paramref name="length"/> − 1 of every stream:
        /// inputs and targets, each (length, S), views into <see cref="Inputs"/> and <see cref="Targets"/>.
        /// </summary>
        public (Tensor inputs, Tensor targets) Chunk(long start, long length) =>
            (Inputs.narrow(0, start, length), Targets.narrow(0, start, length));

        /// <summary>Disposes the two tensors.</summary>
        public void Dispose()
        {
            Inputs.Dispose();
            Targets.Dispose();
        }
    }
}
