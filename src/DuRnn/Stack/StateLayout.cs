using System;
using static TorchSharp.torch;

namespace DuRnn
{
    /// <summary>
    /// How a stack's state is made of tensors, each laid out (numLayers·D, B, size): a <see cref="DuRNNState"/> of two
    /// parts (s of size S, h of size H), an IndRNN's state of one (h). <see cref="RecurrentStack{TLayer, TState}"/>
    /// checks, sorts, slices and stacks the parts; the layers read and return their slices in the same order.
    /// </summary>
    /// <typeparam name="TState">The state type.</typeparam>
    /// <param name="Names">The name of each part in error messages (e.g. "state.ShortTerm", "h0").</param>
    /// <param name="Sizes">The feature size of each part.</param>
    /// <param name="Decompose">The parts of a state.</param>
    /// <param name="Compose">The state made of parts.</param>
    internal sealed record StateLayout<TState>(string[] Names, long[] Sizes, Func<TState, Tensor[]> Decompose,
        Func<Tensor[], TState> Compose)
    {
        /// <summary>The number of parts.</summary>
        public int Parts => Sizes.Length;
    }
}
