namespace DuRnn
{
    /// <summary>
    /// Selects how a <see cref="DuRNNLayer"/> evaluates a whole sequence. Every choice computes the same
    /// equations; they differ only in speed and in how readable the code is.
    /// </summary>
    public enum DuRNNImplementation
    {
        /// <summary>
        /// The fastest implementation available for the input: <see cref="Fused"/> for float32 and float64 tensors on
        /// the CPU (when LibTorch's BLAS is reachable), <see cref="Batched"/> on any other device or dtype.
        /// </summary>
        Auto = 0,

        /// <summary>
        /// Device-agnostic: every part of the model that does not depend on the previous step (the input
        /// projections, the selection gate and the long-term input) is computed for all steps at once;
        /// only the two recurrences run step by step.
        /// </summary>
        Batched = 1,

        /// <summary>
        /// The plain reference: one step at a time through <see cref="ShortTermCell"/>,
        /// <see cref="SelectionGate"/> and <see cref="LongTermCell"/>. Slow; for tests and for reading.
        /// </summary>
        Reference = 2,

        /// <summary>
        /// CPU only, float32 and float64: <see cref="Batched"/>'s all-steps-at-once projections, with each recurrence
        /// run as one custom autograd node over raw memory (BLAS for the short-term matrix product, SIMD loops for
        /// the element-wise parts) instead of a loop of tensor operations.
        /// </summary>
        Fused = 3,
    }
}
