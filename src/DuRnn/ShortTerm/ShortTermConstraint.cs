using System;
using TorchSharp;
using static TorchSharp.torch;

namespace DuRnn
{
    /// <summary>
    /// The constraint on the short-term recurrent matrix U_s, enforced by projection after each
    /// optimizer step (see <see cref="RecurrentStack{TLayer, TState}.ApplyConstraints"/>). Use <see cref="SpectralNorm(double)"/>
    /// (the default, ρ = 0.9), <see cref="Elementwise(double)"/> or <see cref="None"/>.
    /// </summary>
    public abstract class ShortTermConstraint
    {
        private ShortTermConstraint() { }

        /// <summary>The default constraint: spectral norm ‖U_s‖₂ ≤ 0.9.</summary>
        public static ShortTermConstraint Default => SpectralNorm(0.9);

        /// <summary>
        /// ‖U_s‖₂ ≤ <paramref name="rho"/>: the gradient through k steps of the short-term cell shrinks at
        /// least like ρ^k, which makes the part short-term by construction. Projection rescales U_s by
        /// ρ/σ_max when its largest singular value σ_max (from warm-started power iterations) exceeds ρ.
        /// </summary>
        /// <param name="rho">The bound ρ, with 0 &lt; ρ &lt; 1.</param>
        public static ShortTermConstraint SpectralNorm(double rho)
        {
            if (!(rho > 0 && rho < 1))
                throw new ArgumentOutOfRangeException(nameof(rho), rho, "The spectral-norm bound ρ must satisfy 0 < ρ < 1.");
            return new SpectralNormConstraint(rho);
        }

        /// <summary>
        /// Every entry of U_s in [−<paramref name="bound"/>, <paramref name="bound"/>]; projection clamps the entries.
        /// </summary>
        /// <param name="bound">The bound c &gt; 0.</param>
        public static ShortTermConstraint Elementwise(double bound)
        {
            if (!(bound > 0) || double.IsInfinity(bound))
                throw new ArgumentOutOfRangeException(nameof(bound), bound, "The element-wise bound c must be finite and > 0.");
            return new ElementwiseConstraint(bound);
        }

        /// <summary>No constraint on U_s.</summary>
        public static ShortTermConstraint None { get; } = new NoConstraint();

        /// <summary>
        /// The diagonal value d of the initial U_s = d·I: a matrix that already satisfies the constraint
        /// (ρ for a spectral norm, min(c, 0.9) for an element-wise bound, 0.9 without constraint).
        /// </summary>
        public abstract double InitialDiagonal { get; }

        /// <summary>Projects <paramref name="weight"/> (the S×S matrix U_s) onto the constraint set, in place.</summary>
        /// <param name="weight">U_s; modified in place under no_grad.</param>
        /// <param name="powerVector">Warm-start vector for power iterations; created or replaced as needed.</param>
        internal abstract void Project(Tensor weight, ref Tensor? powerVector);

        /// <summary>The largest singular value of U_s the constraint allows, or +∞ when it bounds no norm.</summary>
        internal abstract double SpectralBound(long size);

        internal sealed class SpectralNormConstraint : ShortTermConstraint
        {
            internal SpectralNormConstraint(double rho) => Rho = rho;

            public double Rho { get; }

            public override double InitialDiagonal => Rho;

            internal override double SpectralBound(long size) => Rho;

            internal override void Project(Tensor weight, ref Tensor? powerVector)
            {
                using var noGrad = torch.no_grad();
                using var scope = torch.NewDisposeScope();
                double sigma = LargestSingularValue(weight, ref powerVector, out _);
                if (sigma > Rho)
                {
                    using var factor = (Rho / sigma).ToScalar();
                    weight.mul_(factor);
                }
            }

            /// <summary>The most power iterations one call runs before it computes σ_max exactly instead.</summary>
            internal const int MaxIterations = 100;

            /// <summary>
            /// σ_max of <paramref name="weight"/> by power iteration on WᵀW, warm-started from the vector the previous
            /// call left (on the same device, with the same dtype and size), iterated until the estimate changes by less
            /// than 1e-9 (relative). After a small optimizer step the vector is already close to the top singular
            /// vector, so a warm call converges in a few iterations. The estimate approaches σ_max from below; when it
            /// has not converged after <see cref="MaxIterations"/> (a cold start on a matrix whose top singular values
            /// are close, such as ρ·I plus small changes), σ_max is computed exactly (SVD), and its singular vector kept for the
            /// next call, so that rescaling by ρ/σ never leaves ‖U_s‖₂ above ρ by more than rounding.
            /// </summary>
            /// <param name="weight">The matrix.</param>
            /// <param name="powerVector">The warm-start vector: created, replaced or updated in place.</param>
            /// <param name="iterations">The power iterations this call ran.</param>
            internal static double LargestSingularValue(Tensor weight, ref Tensor? powerVector, out int iterations)
            {
                long n = weight.shape[1];
                if (powerVector is null || !Check.SameDevice(powerVector.device, weight.device) || powerVector.dtype != weight.dtype
                    || powerVector.shape[0] != n)
                {
                    powerVector?.Dispose();
                    var v0 = torch.ones(n, dtype: weight.dtype, device: weight.device);
                    using var length = Math.Sqrt(n).ToScalar();
                    powerVector = v0.div_(length).DetachFromDisposeScope();
                }

                var v = powerVector;
                double sigma = 0;
                for (iterations = 1; iterations <= MaxIterations; iterations++)
                {
                    using var wv = torch.mv(weight, v);
                    using var wtwv = torch.mv(weight.t(), wv);
                    double norm = wtwv.norm().ToDouble();
                    if (norm == 0) return 0;
                    using var divisor = norm.ToScalar();
                    v.copy_(wtwv).div_(divisor);
                    double next = Math.Sqrt(norm);
                    bool converged = Math.Abs(next - sigma) <= 1e-9 * next;
                    sigma = next;
                    if (converged) return sigma;
                }
                // Not converged: σ_max exactly, and its right singular vector as the next call's warm start.
                iterations = MaxIterations;
                var (u, singular, vh) = torch.linalg.svd(weight, fullMatrices: false);
                using (u)
                using (singular)
                using (vh)
                using (var top = vh[0])
                using (var largest = singular[0])
                {
                    v.copy_(top);
                    return Math.Max(sigma, largest.ToDouble());
                }
            }
        }

        internal sealed class ElementwiseConstraint : ShortTermConstraint
        {
            internal ElementwiseConstraint(double bound) => Bound = bound;

            public double Bound { get; }

            public override double InitialDiagonal => Math.Min(Bound, 0.9);

            internal override double SpectralBound(long size) => double.PositiveInfinity;

            internal override void Project(Tensor weight, ref Tensor? powerVector)
            {
                using var noGrad = torch.no_grad();
                using var low = (-Bound).ToScalar();
                using var high = Bound.ToScalar();
                weight.clamp_(low, high);
            }
        }

        internal sealed class NoConstraint : ShortTermConstraint
        {
            public override double InitialDiagonal => 0.9;

            internal override double SpectralBound(long size) => double.PositiveInfinity;

            internal override void Project(Tensor weight, ref Tensor? powerVector) { }
        }

        /// <inheritdoc />
        public override string ToString() => this switch
        {
            SpectralNormConstraint s => $"SpectralNorm({s.Rho})",
            ElementwiseConstraint e => $"Elementwise({e.Bound})",
            _ => "None",
        };
    }
}
