using System;

namespace DuRnn
{
    /// <summary>
    /// Thrown by <c>ApplyConstraints()</c> when a constrained parameter (U_s of a short-term cell, u of a long-term cell)
    /// holds NaN or ±Inf: no projection can bring it back onto its constraint set, so training has diverged (usually a
    /// learning rate too large for the data, or a NaN in the input). The parameter is left as it is; restore the weights
    /// from a checkpoint, or re-initialise them with <c>reset_parameters()</c>.
    /// </summary>
    public sealed class NonFiniteParameterException : InvalidOperationException
    {
        /// <summary>Creates the exception for the parameter <paramref name="parameterName"/>.</summary>
        /// <param name="parameterName">The parameter's state-dict key, e.g. <c>layers.1.short_term.weight_hh</c>.</param>
        /// <param name="symbol">The parameter's symbol in the model's equations, e.g. U_s.</param>
        /// <param name="nan">How many of its entries are NaN.</param>
        /// <param name="infinite">How many are ±Inf.</param>
        public NonFiniteParameterException(string parameterName, string symbol, long nan, long infinite)
            : base($"{parameterName} ({symbol}) holds {Describe(nan, infinite)}: training has diverged, and ApplyConstraints() " +
                "cannot project it onto its constraint set. Restore the weights from a checkpoint or call reset_parameters().")
        {
            ParameterName = parameterName;
            Symbol = symbol;
            NaNCount = nan;
            InfiniteCount = infinite;
        }

        /// <summary>The parameter's state-dict key.</summary>
        public string ParameterName { get; }

        /// <summary>The parameter's symbol in the equations.</summary>
        public string Symbol { get; }

        /// <summary>How many entries are NaN.</summary>
        public long NaNCount { get; }

        /// <summary>How many entries are ±Inf.</summary>
        public long InfiniteCount { get; }

        /// <summary>The same exception for the parameter's key inside a parent module, e.g. "layers.1." + "short_term.weight_hh".</summary>
        /// <param name="prefix">The parent's key prefix, ending in a dot.</param>
        public NonFiniteParameterException WithPrefix(string prefix) => new(prefix + ParameterName, Symbol, NaNCount, InfiniteCount);

        private static string Describe(long nan, long infinite) =>
            (nan, infinite) switch
            {
                (> 0, > 0) => $"{nan} NaN and {infinite} infinite entries",
                (> 0, _) => $"{nan} NaN {(nan == 1 ? "entry" : "entries")}",
                _ => $"{infinite} infinite {(infinite == 1 ? "entry" : "entries")}",
            };
    }
}
