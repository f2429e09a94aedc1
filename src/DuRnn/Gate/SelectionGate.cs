using TorchSharp;
using TorchSharp.Modules;
using TorchSharp.Utils;
using static TorchSharp.torch;

namespace DuRnn
{
    /// <summary>
    /// The selection mechanism between the two parts of a DuRNN layer: it decides, per short-term neuron
    /// and step, how much of the short-term memory is passed to the long-term (independent) neurons,
    /// <code>g_t = σ(W_gx x_t + W_gs s_t + b_g) ∈ (0, 1)^S</code>
    /// The gate reads the input and the short-term memory, never the long-term state, so it can be
    /// computed for all steps at once once s_1..s_T is known.
    /// </summary>
    /// <remarks>
    /// Parameters: <c>weight_ih</c> = W_gx (S, I) and <c>weight_sh</c> = W_gs (S, S), Kaiming-uniform;
    /// <c>bias</c> = b_g (S), zeros (the gate starts half open, g = σ(·) around 0.5).
    /// </remarks>
    public sealed class SelectionGate : DuRnnCell<Tensor, Tensor, Tensor>
    {
        [ComponentName(Name = "weight_ih")]
        private Parameter _weightIH;

        [ComponentName(Name = "weight_sh")]
        private Parameter _weightSH;

        [ComponentName(Name = "bias")]
        private Parameter _bias;

        /// <summary>
        /// Creates a selection gate.
        /// </summary>
        /// <param name="inputSize">The number of expected features in the input x (I).</param>
        /// <param name="shortTermSize">The number of short-term neurons (S).</param>
        /// <param name="device">The desired device of the parameters.</param>
        /// <param name="dtype">The desired floating point dtype of the parameters.</param>
        public SelectionGate(long inputSize, long shortTermSize, Device? device = null, ScalarType? dtype = null)
            : this(inputSize, shortTermSize, device, dtype, Check.GateOptions(inputSize, shortTermSize, dtype))
        {
        }

        /// <summary>Creates the gate from options already checked (by this gate's public constructor or its layer's).</summary>
        internal SelectionGate(long inputSize, long shortTermSize, Device? device, ScalarType? dtype, Check.Checked options)
            : base(nameof(SelectionGate))
        {
            InputSize = inputSize;
            ShortTermSize = shortTermSize;
            _weightIH = Init.Empty(new[] { shortTermSize, inputSize }, device, dtype);
            _weightSH = Init.Empty(new[] { shortTermSize, shortTermSize }, device, dtype);
            _bias = Init.Empty(new[] { shortTermSize }, device, dtype);
            reset_parameters();
            RegisterComponents();
        }

        /// <summary>Re-applies the documented initialisation in place: W_gx and W_gs Kaiming-uniform, b_g zeros.</summary>
        public override void reset_parameters()
        {
            Init.KaimingUniform(weight_ih);
            Init.KaimingUniform(weight_sh);
            Init.Zeros(bias);
        }

        /// <summary>W_gx, the input-to-gate weights, shape (S, I). State-dict key <c>weight_ih</c>.</summary>
        public Parameter weight_ih { get => _weightIH; private set => ReplaceParameter(ref _weightIH, value, "weight_ih"); }

        /// <summary>W_gs, the short-term-to-gate weights, shape (S, S). State-dict key <c>weight_sh</c>.</summary>
        public Parameter weight_sh { get => _weightSH; private set => ReplaceParameter(ref _weightSH, value, "weight_sh"); }

        /// <summary>b_g, the gate bias, shape (S). State-dict key <c>bias</c>.</summary>
        public Parameter bias { get => _bias; private set => ReplaceParameter(ref _bias, value, "bias"); }

        /// <summary>The number of input features I.</summary>
        public long InputSize { get; }

        /// <summary>The number of short-term neurons S.</summary>
        public long ShortTermSize { get; }

        /// <summary>
        /// g_t = σ(W_gx x_t + W_gs s_t + b_g). Any number of leading dimensions: (B, ·) for one step or
        /// (T, B, ·) for all steps at once.
        /// </summary>
        /// <param name="input">x, shape (…, I).</param>
        /// <param name="shortTerm">s, shape (…, S).</param>
        /// <returns>g, shape (…, S), every entry in (0, 1).</returns>
        public override Tensor forward(Tensor input, Tensor shortTerm)
        {
            // pre = W_gx x + b_g, then += W_gs s and σ, both in place on pre (a fresh tensor): one allocation, and
            // autograd-safe (addmm_'s backward needs s and W_gs, not pre; sigmoid_'s needs only its result).
            var pre = torch.nn.functional.linear(input, weight_ih, bias);
            using (var pre2d = pre.view(-1, ShortTermSize))
            using (var s2d = shortTerm.reshape(-1, ShortTermSize))
            using (var weightT = weight_sh.t())
                pre2d.addmm_(s2d, weightT);
            return pre.sigmoid_();
        }
    }
}
