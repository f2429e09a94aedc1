namespace DuRnn
{
    /// <summary>
    /// Selects how a <see cref="DuRNNLayer"/> evaluates a whole sequence. Every choice computes the same
    /// equations; they differ only in speed and in how readable the code is.
    /// </summary>
    public enum DuRNNImplementation
    {
        /// <summary>
        /// The fastest implementation available for the input's device and dtype (today: <see cref="Batched"/>).
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
    }
}
