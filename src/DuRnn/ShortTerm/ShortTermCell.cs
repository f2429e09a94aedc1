using System;
using TorchSharp;
using TorchSharp.Modules;
using TorchSharp.Utils;
using static TorchSharp.torch;

namespace DuRnn
{
    /// <summary>
    /// The short-term part of a DuRNN layer: an RNN cell with constrained full recurrent connections,
    /// <code>s_t = φ(W_s x_t + b_s + U_s s_{t−1})</code>
    /// with φ = ReLU or tanh and U_s kept inside its <see cref="ShortTermConstraint"/> (by default ‖U_s‖₂ ≤ 0.9),
    /// so that the gradient through k steps shrinks at least like ρ^k.
    /// </summary>
    /// <remarks>
    /// Parameters: <c>weight_ih</c> = W_s (S, I), Kaiming-uniform; <c>bias_ih</c> = b_s (S), zeros;
    /// <c>weight_hh</c> = U_s (S, S), initialised to d·I with d = <see cref="ShortTermConstraint.InitialDiagonal"/>
    /// (a matrix that satisfies the constraint from the start).
    /// </remarks>
    public sealed class ShortTermCell : DuRnnCell<Tensor, Tensor?, Tensor>
    {
        [ComponentName(Name = "weight_ih")]
        private Parameter _weightIH;

        [ComponentName(Name = "bias_ih")]
        private Parameter _biasIH;

        [ComponentName(Name = "weight_hh")]
        private Parameter _weightHH;

        /// <summary>W_s, the input-to-short-term weights, shape (S, I). State-dict key <c>weight_ih</c>.</summary>
        public Parameter weight_ih { get => _weightIH; private set => ReplaceParameter(ref _weightIH, value, "weight_ih"); }

        /// <summary>b_s, the short-term bias, shape (S). State-dict key <c>bias_ih</c>.</summary>
        public Parameter bias_ih { get => _biasIH; private set => ReplaceParameter(ref _biasIH, value, "bias_ih"); }

        /// <summary>U_s, the constrained short-term recurrent weights, shape (S, S). State-dict key <c>weight_hh</c>.</summary>
        public Parameter weight_hh { get => _weightHH; private set => ReplaceParameter(ref _weightHH, value, "weight_hh"); }

        private readonly PowerIterationVector _power = new();

        /// <summary>
        /// Creates a short-term cell.
        /// </summary>
        /// <param name="inputSize">The number of expected features in the input x (I).</param>
        /// <param name="shortTermSize">The number of short-term neurons (S).</param>
        /// <param name="activation">φ: ReLU (default) or tanh.</param>
        /// <param name="constraint">The constraint on U_s; <c>null</c> means <see cref="ShortTermConstraint.Default"/> (‖U_s‖₂ ≤ 0.9).</param>
        /// <param name="device">The desired device of the parameters.</param>
        /// <param name="dtype">The desired floating point dtype of the parameters.</param>
        public ShortTermCell(long inputSize, long shortTermSize, ShortTermActivation activation = ShortTermActivation.ReLU,
            ShortTermConstraint? constraint = null, Device? device = null, ScalarType? dtype = null)
            : this(inputSize, shortTermSize, activation, constraint, device, dtype,
                Check.ShortTermOptions(inputSize, shortTermSize, activation, dtype))
        {
        }

        /// <summary>Creates the cell from options already checked (by this cell's public constructor or its layer's).</summary>
        internal ShortTermCell(long inputSize, long shortTermSize, ShortTermActivation activation, ShortTermConstraint? constraint,
            Device? device, ScalarType? dtype, Check.Checked options)
            : base(nameof(ShortTermCell))
        {
            InputSize = inputSize;
            ShortTermSize = shortTermSize;
            Activation = activation;
            Constraint = constraint ?? ShortTermConstraint.Default;
            _weightIH = Init.Empty(new[] { shortTermSize, inputSize }, device, dtype);
            _biasIH = Init.Empty(new[] { shortTermSize }, device, dtype);
            _weightHH = Init.Empty(new[] { shortTermSize, shortTermSize }, device, dtype);
            reset_parameters();
            RegisterComponents();
        }

        /// <summary>
        /// Re-applies the documented initialisation in place: W_s Kaiming-uniform, b_s zeros, U_s = d·I with
        /// d = <see cref="ShortTermConstraint.InitialDiagonal"/>; the spectral-norm warm start is discarded.
        /// </summary>
        public override void reset_parameters()
        {
            Init.KaimingUniform(weight_ih);
            Init.Zeros(bias_ih);
            Init.ScaledIdentity(weight_hh, Constraint.InitialDiagonal);
            _power.Vector?.Dispose();
            _power.Vector = null;
        }

        /// <summary>The number of input features I.</summary>
        public long InputSize { get; }

        /// <summary>The number of short-term neurons S.</summary>
        public long ShortTermSize { get; }

        /// <summary>The non-linearity φ.</summary>
        public ShortTermActivation Activation { get; }

        /// <summary>The constraint kept on U_s by <see cref="ApplyConstraints"/>.</summary>
        public ShortTermConstraint Constraint { get; }

        /// <summary>
        /// One step: s_t = φ(W_s x_t + b_s + U_s s_{t−1}).
        /// </summary>
        /// <param name="input">x_t, shape (B, I).</param>
        /// <param name="state">s_{t−1}, shape (B, S); zeros when null.</param>
        /// <returns>s_t, shape (B, S).</returns>
        public override Tensor forward(Tensor input, Tensor? state)
        {
            using var projected = torch.nn.functional.linear(input, weight_ih, bias_ih);
            return Step(projected, state);
        }

        /// <summary>
        /// W_s x_t + b_s for any number of leading dimensions (all steps at once).
        /// </summary>
        internal Tensor InputProjection(Tensor input) => torch.nn.functional.linear(input, weight_ih, bias_ih);

        /// <summary>
        /// The recurrent part of one step given the projected input a_t = W_s x_t + b_s:
        /// s_t = φ(a_t + U_s s_{t−1}).
        /// </summary>
        internal Tensor Step(Tensor projectedInput, Tensor? state)
        {
            if (state is null)
                return Phi(projectedInput);
            using var pre = torch.addmm(projectedInput, state, weight_hh.t(), 1, 1);
            return Phi(pre);
        }

        /// <summary>φ applied element-wise.</summary>
        internal Tensor Phi(Tensor preActivation) => Activation == ShortTermActivation.ReLU
            ? torch.nn.functional.relu(preActivation)
            : torch.tanh(preActivation);

        /// <summary>
        /// Projects U_s onto its constraint set in place (no gradient is recorded).
        /// Call after each optimizer step.
        /// </summary>
        /// <exception cref="NonFiniteParameterException">U_s holds NaN or ±Inf (it is left as it is).</exception>
        public void ApplyConstraints()
        {
            Check.FiniteParameter(weight_hh, "weight_hh", "U_s");
            Tensor? v = _power.Vector;
            Constraint.Project(weight_hh, ref v);
            _power.Vector = v;
        }

        /// <inheritdoc />
        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _power.Vector?.Dispose();
                _power.Vector = null;
            }
            base.Dispose(disposing);
        }

        /// <summary>Holds the warm-start vector of the spectral-norm power iteration outside the module's registered state.</summary>
        private sealed class PowerIterationVector
        {
            public Tensor? Vector;
        }
    }
}
