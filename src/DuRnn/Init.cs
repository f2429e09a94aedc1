using System;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DuRnn
{
    /// <summary>
    /// The initialisations of the DuRNN parameters (IndRNN practice), each creating a fresh parameter.
    /// Random draws use torch's global generator, so <c>torch.manual_seed</c> makes them reproducible.
    /// </summary>
    internal static class Init
    {
        /// <summary>Kaiming-uniform (fan-in, ReLU gain √2): U(−√(6/fan_in), √(6/fan_in)), shape (rows, cols).</summary>
        internal static Parameter KaimingUniform(long rows, long cols, Device? device, ScalarType? dtype)
        {
            using var noGrad = torch.no_grad();
            double bound = Math.Sqrt(6.0 / cols);
            var t = torch.empty(rows, cols, device: device, dtype: dtype).uniform_(-bound, bound);
            return AsParameter(t);
        }

        /// <summary>N(0, std²), shape (rows, cols).</summary>
        internal static Parameter Normal(long rows, long cols, double std, Device? device, ScalarType? dtype)
        {
            using var noGrad = torch.no_grad();
            var t = torch.empty(rows, cols, device: device, dtype: dtype).normal_(0, std);
            return AsParameter(t);
        }

        /// <summary>U(low, high), shape (size).</summary>
        internal static Parameter Uniform(long size, double low, double high, Device? device, ScalarType? dtype)
        {
            using var noGrad = torch.no_grad();
            var t = torch.empty(size, device: device, dtype: dtype);
            if (high > low)
            {
                t.uniform_(low, high);
            }
            else
            {
                using var value = low.ToScalar();
                t.fill_(value);
            }
            return AsParameter(t);
        }

        /// <summary>Zeros, shape (size).</summary>
        internal static Parameter Zeros(long size, Device? device, ScalarType? dtype) =>
            AsParameter(torch.zeros(size, device: device, dtype: dtype));

        /// <summary>d·I, shape (size, size).</summary>
        internal static Parameter ScaledIdentity(long size, double diagonal, Device? device, ScalarType? dtype)
        {
            using var noGrad = torch.no_grad();
            using var d = diagonal.ToScalar();
            return AsParameter(torch.eye(size, device: device, dtype: dtype).mul_(d));
        }

        /// <summary>
        /// Wraps <paramref name="t"/> as a parameter that requires grad and belongs to no dispose scope,
        /// so that a module constructed inside a caller's scope keeps its parameters.
        /// </summary>
        internal static Parameter AsParameter(Tensor t)
        {
            var p = new Parameter(t);
            p.DetachFromDisposeScope();
            return p;
        }
    }
}
