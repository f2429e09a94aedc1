using TorchSharp;
using TorchSharp.Modules;

namespace DuRnn
{
    /// <summary>
    /// The base of the three cells of a DuRNN layer (<see cref="ShortTermCell"/>, <see cref="SelectionGate"/>,
    /// <see cref="LongTermCell"/>): each keeps its parameters in fields registered under their PyTorch names and
    /// exposes them as properties of those names, which TorchSharp's <c>.to()</c> sets when it replaces a parameter;
    /// <see cref="ReplaceParameter"/> keeps field and registration in step. <see cref="reset_parameters"/> re-applies
    /// the cell's documented initialisation.
    /// </summary>
    /// <typeparam name="T1">The type of the first argument of <c>forward</c>.</typeparam>
    /// <typeparam name="T2">The type of the second argument of <c>forward</c>.</typeparam>
    /// <typeparam name="TResult">The type of the result of <c>forward</c>.</typeparam>
    public abstract class DuRnnCell<T1, T2, TResult> : torch.nn.Module<T1, T2, TResult>
    {
        /// <summary>Creates the module with the given name.</summary>
        private protected DuRnnCell(string name) : base(name) { }

        /// <summary>
        /// Re-initialises every parameter in place (no gradient is recorded), as the constructor did: the draws come
        /// from torch's global generator, so <c>torch.manual_seed</c> before it makes them reproducible.
        /// </summary>
        public abstract void reset_parameters();

        /// <summary>Swaps in a new parameter (as <c>.to()</c> does), disposing the old one, and keeps the registration in step.</summary>
        private protected void ReplaceParameter(ref Parameter field, Parameter value, string name)
        {
            if (ReferenceEquals(field, value)) return;
            field.Dispose();
            field = value;
            ConditionallyRegisterParameter(name, field);
        }
    }
}
