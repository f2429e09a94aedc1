using System;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DuRnn
{
    /// <summary>
    /// The initialisations of the DuRNN parameters (IndRNN practice), each applied in place under no_grad, so that
    /// constructors and <c>reset_parameters()</c> share them. Random draws use torch's global generator, so
    /// <c>torch.manual_seed</c> makes them reproducible.
    /// </summary>
    internal static class Init
    {
        /// <summary>
        /// An uninitialised parameter of the given shape that requires grad and belongs to no dispose scope, so that a
        /// module constructed inside a caller's scope keeps its parameters.
        /// </summary>
        internal static Parameter Empty(long[] shape, Device? device, ScalarType? dtype)
        {
            var p = new Parameter(torch.empty(shape, device: device, dtype: dtype));
            p.DetachFromDisposeScope();
            return p;
        }

        /// <summary>Kaiming-uniform (fan-in, ReLU gain √2) on a (rows, fan_in) matrix: U(−√(6/fan_in), √(6/fan_in)).</summary>
        internal static void KaimingUniform(Tensor weight)
        {
            double bound = Math.Sqrt(6.0 / weight.shape[1]);
            using var noGrad = torch.no_grad();
            weight.uniform_(-bound, bound);
        }

        /// <summary>N(0, std²).</summary>
        internal static void Normal(Tensor weight, double std)
        {
            using var noGrad = torch.no_grad();
            weight.normal_(0, std);
        }

        /// <summary>U(low, high); the constant low when high ≤ low.</summary>
        internal static void Uniform(Tensor weight, double low, double high)
        {
            using var noGrad = torch.no_grad();
            if (high > low)
            {
                weight.uniform_(low, high);
            }
            else
            {
                using var value = low.ToScalar();
                weight.fill_(value);
            }
        }

        /// <summary>Zeros.</summary>
        internal static void Zeros(Tensor weight)
        {
            using var noGrad = torch.no_grad();
            weight.fill_(Scalars.Zero);   // not zero_(): in TorchSharp 0.107 it returns a new wrapper that would leak
        }

        /// <summary>d·I on a square matrix.</summary>
        internal static void ScaledIdentity(Tensor weight, double diagonal)
        {
            using var noGrad = torch.no_grad();
            using var eye = torch.eye(weight.shape[0], dtype: weight.dtype, device: weight.device);
            using var d = diagonal.ToScalar();
            weight.copy_(eye).mul_(d);
        }
    }
}
