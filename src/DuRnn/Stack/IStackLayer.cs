using static TorchSharp.torch;

namespace DuRnn
{
    /// <summary>
    /// A layer as <see cref="RecurrentStack{TLayer, TState}"/> runs it: <see cref="DuRNNLayer"/> (state parts s, h) and
    /// <see cref="LongTermCell"/> as an IndRNN layer (state part h). Implemented explicitly, so none of it shows on the
    /// public classes.
    /// </summary>
    internal interface IStackLayer
    {
        /// <summary>The layer's long-term (IndRNN) cell: its u is constrained and diagnosed, its W_h and b_h get the
        /// long-sequence learning rate.</summary>
        LongTermCell LongTerm { get; }

        /// <summary>‖U_s‖₂ of the layer's short-term cell; NaN for a layer without one.</summary>
        double ShortTermSpectralNorm();

        /// <summary>Throws <see cref="NonFiniteParameterException"/> (the key relative to the layer) when a constrained
        /// parameter holds NaN or ±Inf.</summary>
        void CheckFinite();

        /// <summary>Projects the layer's constrained parameters.</summary>
        void ApplyConstraints();

        /// <summary>Re-applies the layer's initialisation.</summary>
        void reset_parameters();

        /// <summary>
        /// Runs the layer over a checked, time-first input (T, B, I) with the stack's resolved implementation.
        /// </summary>
        /// <param name="input">x (T, B, I); with <paramref name="batch"/>, zero at padded steps and sorted by decreasing
        /// length.</param>
        /// <param name="initial">The initial state's parts, each (B, size) or null for zeros.</param>
        /// <param name="batch">The valid steps of a variable-length batch, sorted; null when every sequence has T steps.</param>
        /// <param name="implementation">A resolved implementation (not Auto).</param>
        /// <returns>The output (T, B, H), zero at padded steps, and the final state's parts (each sequence's state after
        /// its last valid step), in the current dispose scope.</returns>
        (Tensor output, Tensor[] finals) RunSequence(Tensor input, Tensor?[] initial, SortedBatch? batch,
            DuRNNImplementation implementation);
    }
}
