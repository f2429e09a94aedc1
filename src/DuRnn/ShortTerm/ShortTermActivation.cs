namespace DuRnn
{
    /// <summary>
    /// The non-linearity φ of the short-term cell, s_t = φ(W_s x_t + b_s + U_s s_{t−1}).
    /// </summary>
    public enum ShortTermActivation
    {
        /// <summary>φ = ReLU (the default, as in IndRNN).</summary>
        ReLU = 0,

        /// <summary>φ = tanh.</summary>
        Tanh = 1,
    }
}
