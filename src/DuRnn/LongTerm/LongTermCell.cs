using System;
using TorchSharp;
using TorchSharp.Modules;
using TorchSharp.Utils;
using static TorchSharp.torch;

namespace DuRnn
{
    /// <summary>
    /// The long-term part of a DuRNN layer: an IndRNN cell with independent (element-wise) recurrent weights,
    /// <code>h_t = ReLU(W_h (g_t ⊙ s_t) + b_h + u ⊙ h_{t−1})</code>
    /// whose input is the gated short-term memory z_t = g_t ⊙ s_t. Each |u_i| is kept ≤ U_bound
    /// (IndRNN's rule, U_bound = MAG^(1/T_max)), so that gradients neither explode nor vanish over T_max steps.
    /// </summary>
    /// <remarks>
    /// Parameters: <c>weight_ih</c> = W_h (H, S), N(0, σ_h²) with σ_h = <see cref="InputWeightStd"/> (default
    /// <see cref="DefaultInputWeightStd"/>: 0.001 up to T_max = 100, smaller beyond — a small W_h keeps the ReLU state
    /// from growing like steps × input while u ≈ 1);
    /// <c>bias_ih</c> = b_h (H), zeros (a positive b_h would be integrated over time);
    /// <c>weight_hh</c> = u (H), U(0, U_bound), or U(U_lowbound, U_bound) with U_lowbound = (1/MAG)^(1/T_max)
    /// when long memory is requested from the start.
    /// </remarks>
    public sealed class LongTermCell : DuRnnCell<Tensor, Tensor?, Tensor>, IStackLayer
    {
        [ComponentName(Name = "weight_ih")]
        private Parameter _weightIH;

        [ComponentName(Name = "bias_ih")]
        private Parameter _biasIH;

        [ComponentName(Name = "weight_hh")]
        private Parameter _weightHH;

        /// <summary>
        /// Creates a long-term (IndRNN) cell.
        /// </summary>
        /// <param name="inputSize">The size of its input, the gated short-term memory (S).</param>
        /// <param name="hiddenSize">The number of long-term neurons (H).</param>
        /// <param name="mag">MAG in U_bound = MAG^(1/T_max); must be &gt; 0 (default 2).</param>
        /// <param name="maxSequenceLength">T_max; <c>null</c> means U_bound = 1.</param>
        /// <param name="longMemoryInit">Initialise u ~ U(U_lowbound, U_bound) instead of U(0, U_bound).</param>
        /// <param name="inputWeightStd">σ_h, the standard deviation of W_h's normal initialisation; <c>null</c> (default)
        /// means <see cref="DefaultInputWeightStd"/>(T_max, longMemoryInit).</param>
        /// <param name="device">The desired device of the parameters.</param>
        /// <param name="dtype">The desired floating point dtype of the parameters.</param>
        public LongTermCell(long inputSize, long hiddenSize, double mag = 2.0, long? maxSequenceLength = null,
            bool longMemoryInit = false, double? inputWeightStd = null, Device? device = null, ScalarType? dtype = null)
            : this(inputSize, hiddenSize, mag, maxSequenceLength, longMemoryInit, inputWeightStd, device, dtype,
                Check.LongTermOptions(inputSize, hiddenSize, mag, maxSequenceLength, inputWeightStd, nameof(inputWeightStd), dtype))
        {
        }

        /// <summary>Creates the cell from options already checked (by this cell's public constructor or its layer's).</summary>
        internal LongTermCell(long inputSize, long hiddenSize, double mag, long? maxSequenceLength, bool longMemoryInit,
            double? inputWeightStd, Device? device, ScalarType? dtype, Check.Checked options)
            : base(nameof(LongTermCell))
        {
            InputSize = inputSize;
            HiddenSize = hiddenSize;
            Mag = mag;
            MaxSequenceLength = maxSequenceLength;
            LongMemoryInit = longMemoryInit;
            InputWeightStd = inputWeightStd ?? DefaultInputWeightStd(maxSequenceLength, longMemoryInit);
            LearningRateScale = DefaultLearningRateScale(maxSequenceLength, longMemoryInit);
            RecurrentLearningRateScale = DefaultRecurrentLearningRateScale(maxSequenceLength, longMemoryInit);
            RecurrentBound = maxSequenceLength is long tMax ? Math.Pow(mag, 1.0 / tMax) : 1.0;
            RecurrentLowBound = maxSequenceLength is long tMax2 ? Math.Pow(1.0 / mag, 1.0 / tMax2) : 0.0;
            _weightIH = Init.Empty(new[] { hiddenSize, inputSize }, device, dtype);
            _biasIH = Init.Empty(new[] { hiddenSize }, device, dtype);
            _weightHH = Init.Empty(new[] { hiddenSize }, device, dtype);
            reset_parameters();
            RegisterComponents();
        }

        /// <summary>
        /// Re-applies the documented initialisation in place: W_h ~ N(0, σ_h²), b_h zeros, u ~ U(0, U_bound), or
        /// U(U_lowbound, U_bound) with <see cref="LongMemoryInit"/>.
        /// </summary>
        public override void reset_parameters()
        {
            Init.Normal(weight_ih, InputWeightStd);
            Init.Zeros(bias_ih);
            Init.Uniform(weight_hh, LongMemoryInit ? Math.Min(RecurrentLowBound, RecurrentBound) : 0.0, RecurrentBound);
        }

        /// <summary>W_h, the weights from the gated short-term memory, shape (H, S). State-dict key <c>weight_ih</c>.</summary>
        public Parameter weight_ih { get => _weightIH; private set => ReplaceParameter(ref _weightIH, value, "weight_ih"); }

        /// <summary>b_h, the long-term bias, shape (H). State-dict key <c>bias_ih</c>.</summary>
        public Parameter bias_ih { get => _biasIH; private set => ReplaceParameter(ref _biasIH, value, "bias_ih"); }

        /// <summary>u, the independent recurrent weights, shape (H). State-dict key <c>weight_hh</c>.</summary>
        public Parameter weight_hh { get => _weightHH; private set => ReplaceParameter(ref _weightHH, value, "weight_hh"); }

        /// <summary>The size S of the cell's input.</summary>
        public long InputSize { get; }

        /// <summary>The number of long-term neurons H.</summary>
        public long HiddenSize { get; }

        /// <summary>MAG in U_bound = MAG^(1/T_max).</summary>
        public double Mag { get; }

        /// <summary>T_max, or null when no maximum length was given.</summary>
        public long? MaxSequenceLength { get; }

        /// <summary>Whether u is initialised in [U_lowbound, U_bound] (long memory from the start) rather than [0, U_bound].</summary>
        public bool LongMemoryInit { get; }

        /// <summary>The standard deviation σ_h used to initialise W_h.</summary>
        public double InputWeightStd { get; }

        /// <summary>
        /// The factor on the learning rate of W_h and b_h in <see cref="RecurrentStack{TLayer, TState}.ParameterGroups"/>:
        /// <see cref="DefaultLearningRateScale"/>(T_max, longMemoryInit).
        /// </summary>
        public double LearningRateScale { get; }

        /// <summary>The sequence length up to which IndRNN's σ_h = 0.001 and an unscaled learning rate work (T = 100).</summary>
        public const long ReferenceLength = 100;

        /// <summary>
        /// σ_h by default: 0.001 up to T_max = <see cref="ReferenceLength"/> (or without T_max); beyond,
        /// 0.001 · (100 / T_max) in a long-memory layer (every u ≈ 1, so h_T sums T_max inputs and grows like T_max · σ_h)
        /// and 0.001 · √(100 / T_max) in a layer with u ~ U(0, U_bound) (neuron i sums about 1/(1 − u_i) inputs, whose RMS
        /// over uniform u grows like √T_max). With it the untrained output keeps about the same size from T_max = 100
        /// to 20 000 (README, "Long sequences").
        /// </summary>
        /// <param name="maxSequenceLength">T_max, or null.</param>
        /// <param name="longMemoryInit">Whether u starts in [U_lowbound, U_bound].</param>
        public static double DefaultInputWeightStd(long? maxSequenceLength, bool longMemoryInit)
        {
            if (maxSequenceLength is not long t || t <= ReferenceLength) return 0.001;
            double ratio = (double)ReferenceLength / t;
            return 0.001 * (longMemoryInit ? ratio : Math.Sqrt(ratio));
        }

        /// <summary>
        /// The learning-rate factor of W_h and b_h by default, the same rule as <see cref="DefaultInputWeightStd"/>:
        /// 1 up to T_max = <see cref="ReferenceLength"/> or without T_max; beyond, 100 / T_max in a long-memory layer and
        /// √(100 / T_max) in the others. Adam moves every entry by about the learning rate whatever its gradient, and
        /// through the steps a neuron accumulates that moves the output by as many times as much: the factor keeps one
        /// step's effect on the output about the same at any T_max (README, "Long sequences"; √(100 / T_max) in the
        /// long-memory layer too was measured to blow up at T = 3000).
        /// </summary>
        /// <param name="maxSequenceLength">T_max, or null.</param>
        /// <param name="longMemoryInit">Whether u starts in [U_lowbound, U_bound].</param>
        public static double DefaultLearningRateScale(long? maxSequenceLength, bool longMemoryInit)
        {
            if (maxSequenceLength is not long t || t <= ReferenceLength) return 1.0;
            double ratio = (double)ReferenceLength / t;
            return longMemoryInit ? ratio : Math.Sqrt(ratio);
        }

        /// <summary>
        /// The factor on the learning rate of u in <see cref="RecurrentStack{TLayer, TState}.ParameterGroups"/>:
        /// <see cref="DefaultRecurrentLearningRateScale"/>(T_max, longMemoryInit).
        /// </summary>
        public double RecurrentLearningRateScale { get; }

        /// <summary>
        /// The learning-rate factor of u by default: √(100 / T_max) in a long-memory layer beyond T_max =
        /// <see cref="ReferenceLength"/>, 1 otherwise (in the other layers, up to T_max = 100 and without T_max). With every
        /// u ≈ 1 from the start, a change δ in u_i scales the contribution of an input k steps back by (u_i + δ)^k ≈ u_i^k (1 + kδ/u_i),
        /// so the same Adam step reaches farther and moves the output more, the longer the sequence. Measured on the adding
        /// problem (samples/README.md, "Long sequences"): with u at the plain rate T = 10 000 stayed at test MSE 0.035–0.064
        /// for 3000 steps; with √(100 / T) it solved T = 10 000, and T = 100, 1000 and 5000 on every seed tried; 100 / T
        /// (W_h's factor) at T = 10 000 froze the prediction to a constant.
        /// </summary>
        /// <param name="maxSequenceLength">T_max, or null.</param>
        /// <param name="longMemoryInit">Whether u starts in [U_lowbound, U_bound].</param>
        public static double DefaultRecurrentLearningRateScale(long? maxSequenceLength, bool longMemoryInit)
        {
            if (!longMemoryInit || maxSequenceLength is not long t || t <= ReferenceLength) return 1.0;
            return Math.Sqrt((double)ReferenceLength / t);
        }

        /// <summary>U_bound = MAG^(1/T_max) (1 without T_max): <see cref="ApplyConstraints"/> keeps |u_i| ≤ U_bound.</summary>
        public double RecurrentBound { get; }

        /// <summary>U_lowbound = (1/MAG)^(1/T_max) (0 without T_max): the lower end of the long-memory initialisation.</summary>
        public double RecurrentLowBound { get; }

        /// <summary>
        /// One step: h_t = ReLU(W_h z_t + b_h + u ⊙ h_{t−1}), with z_t = g_t ⊙ s_t.
        /// </summary>
        /// <param name="gatedShortTerm">z_t = g_t ⊙ s_t, shape (B, S).</param>
        /// <param name="state">h_{t−1}, shape (B, H); zeros when null.</param>
        /// <returns>h_t, shape (B, H).</returns>
        public override Tensor forward(Tensor gatedShortTerm, Tensor? state)
        {
            using var projected = InputProjection(gatedShortTerm);
            return Step(projected, state);
        }

        /// <summary>W_h z + b_h for any number of leading dimensions (all steps at once).</summary>
        internal Tensor InputProjection(Tensor gatedShortTerm) =>
            torch.nn.functional.linear(gatedShortTerm, weight_ih, bias_ih);

        /// <summary>
        /// The recurrent part of one step given the projected input c_t = W_h z_t + b_h:
        /// h_t = ReLU(c_t + u ⊙ h_{t−1}).
        /// </summary>
        internal Tensor Step(Tensor projectedInput, Tensor? state)
        {
            if (state is null)
                return torch.nn.functional.relu(projectedInput);
            using var pre = torch.addcmul(projectedInput, weight_hh, state, Scalars.One);
            return torch.nn.functional.relu(pre);
        }

        /// <summary>
        /// Clamps u to [−U_bound, U_bound] in place (no gradient is recorded). Call after each optimizer step.
        /// </summary>
        /// <exception cref="NonFiniteParameterException">u holds NaN or ±Inf (it is left as it is).</exception>
        public void ApplyConstraints()
        {
            CheckFinite();
            using var noGrad = torch.no_grad();
            using var low = (-RecurrentBound).ToScalar();
            using var high = RecurrentBound.ToScalar();
            weight_hh.clamp_(low, high);
        }

        /// <inheritdoc/>
        LongTermCell IStackLayer.LongTerm => this;

        /// <inheritdoc/>
        double IStackLayer.ShortTermSpectralNorm() => double.NaN;

        /// <summary>
        /// Throws <see cref="NonFiniteParameterException"/> when u (<c>weight_hh</c>) holds NaN or ±Inf;
        /// <see cref="ApplyConstraints"/> does this first.
        /// </summary>
        /// <exception cref="NonFiniteParameterException">u is not finite.</exception>
        public void CheckFinite() => Check.FiniteParameter(weight_hh, "weight_hh", "u");

        /// <inheritdoc/>
        (Tensor output, Tensor[] finals) IStackLayer.RunSequence(Tensor input, Tensor?[] initial, SortedBatch? batch,
            DuRNNImplementation implementation)
        {
            var (output, hT) = LongTermSequence.Run(this, input, initial[0], batch, implementation);
            return (output, new[] { hT });
        }
    }
}
