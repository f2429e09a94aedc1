using System;
using static TorchSharp.torch;

namespace DuRnn
{
    /// <summary>
    /// The recurrent state of a <see cref="DuRNN"/> stack: the short-term memory s and the long-term memory h of
    /// every layer, laid out like TorchSharp's h_n (layers first, whatever <c>batchFirst</c> is): entry
    /// layer·D + direction, with D = 2 for a bidirectional stack (direction 0 forward, 1 backward) and 1 otherwise.
    /// Pass the state returned by one call into the next to continue a sequence (streaming, chunked inference); use
    /// <see cref="Detach"/> in between for truncated backpropagation through time.
    /// </summary>
    public sealed class DuRNNState : IDisposable
    {
        /// <summary>
        /// Creates a state from its two tensors (they are used, not copied).
        /// </summary>
        /// <param name="shortTerm">s, shape (numLayers·D, B, S).</param>
        /// <param name="longTerm">h, shape (numLayers·D, B, H).</param>
        public DuRNNState(Tensor shortTerm, Tensor longTerm)
        {
            ShortTerm = shortTerm ?? throw new ArgumentNullException(nameof(shortTerm));
            LongTerm = longTerm ?? throw new ArgumentNullException(nameof(longTerm));
        }

        /// <summary>The short-term memory s of every layer and direction, shape (numLayers·D, B, S).</summary>
        public Tensor ShortTerm { get; }

        /// <summary>The long-term memory h of every layer and direction, shape (numLayers·D, B, H).</summary>
        public Tensor LongTerm { get; }

        /// <summary>
        /// A state with the same values cut from the autograd graph, as used between chunks in truncated
        /// backpropagation through time. The returned tensors are new; this state is unchanged.
        /// </summary>
        public DuRNNState Detach() => new DuRNNState(ShortTerm.detach(), LongTerm.detach());

        /// <summary>
        /// Moves both tensors to the dispose scope outside the current one (see
        /// <c>Tensor.MoveToOuterDisposeScope</c>), so that a state carried from one chunk or step to the next outlives
        /// the scope of the call that produced it.
        /// </summary>
        /// <returns>This state.</returns>
        public DuRNNState MoveToOuterDisposeScope()
        {
            ShortTerm.MoveToOuterDisposeScope();
            LongTerm.MoveToOuterDisposeScope();
            return this;
        }

        /// <summary>
        /// Creates the all-zeros state for <paramref name="batchSize"/> sequences of <paramref name="model"/>,
        /// on its device and with its dtype.
        /// </summary>
        /// <param name="model">The stack the state is for.</param>
        /// <param name="batchSize">B, the number of sequences.</param>
        public static DuRNNState Zeros(DuRNN model, long batchSize)
        {
            if (model is null) throw new ArgumentNullException(nameof(model));
            Check.Positive(batchSize, nameof(batchSize));
            var (device, dtype) = model.ParameterDeviceAndType();
            return new DuRNNState(
                zeros(model.NumLayers * model.NumDirections, batchSize, model.ShortTermSize, dtype: dtype, device: device),
                zeros(model.NumLayers * model.NumDirections, batchSize, model.HiddenSize, dtype: dtype, device: device));
        }

        /// <summary>Disposes both tensors.</summary>
        public void Dispose()
        {
            ShortTerm.Dispose();
            LongTerm.Dispose();
        }
    }
}
