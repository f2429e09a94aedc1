using System;
using System.Collections.Generic;
using System.Linq;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DuRnn.Samples.AddingProblem
{
    /// <summary>
    /// A recurrent stack followed by a Linear(H → 1) read-out of its last step: maps inputs (T, B, 2) to one
    /// prediction per sequence, shape (B).
    /// </summary>
    internal abstract class AddingModel : nn.Module<Tensor, Tensor>
    {
        /// <summary>Creates the model with the given name.</summary>
        protected AddingModel(string name) : base(name) { }

        /// <summary>
        /// Projects constrained parameters back onto their constraint sets; called after every optimizer step.
        /// Unconstrained models do nothing.
        /// </summary>
        public virtual void ApplyConstraints() { }

        /// <summary>
        /// What the recurrent layers have learned (<see cref="DuRNNDiagnostics"/>): per layer the long-term
        /// recurrent weights u, each neuron's memory horizon and ‖U_s‖₂. Empty for models without them (LSTM, GRU).
        /// </summary>
        public virtual IReadOnlyList<LayerDiagnostics> Diagnose() => Array.Empty<LayerDiagnostics>();

        /// <summary>
        /// The L2 norm of the current gradients of each recurrent layer's parameters (both directions), read after
        /// <c>backward()</c>; empty for models without the library's layers (LSTM, GRU).
        /// </summary>
        public virtual double[] LayerGradientNorms() => Array.Empty<double>();

        /// <summary>How open each layer's selection gate is on <paramref name="input"/> (DuRNN models only; empty otherwise).</summary>
        public virtual IReadOnlyList<GateStatistics> GateOpenness(Tensor input) => Array.Empty<GateStatistics>();

        /// <summary>The L2 norm of the gradients of each group of parameters (a layer's), 0 for a group without any.</summary>
        protected static double[] GradientNorms(IEnumerable<IEnumerable<Parameter>> groups)
        {
            using var noGrad = torch.no_grad();
            return groups.Select(group =>
            {
                double sum = 0;
                foreach (var p in group)
                {
                    if (p.grad is not { } g) continue;
                    using var squared = g.square();
                    using var total = squared.sum();
                    sum += total.item<float>();
                }
                return Math.Sqrt(sum);
            }).ToArray();
        }

        /// <summary>
        /// Adam's parameter groups (IndRNN's recipe): weight decay on the weight matrices (2-D), none on the 1-D
        /// parameters (biases and the recurrent u). β₂ is set to 0.999 explicitly: TorchSharp 0.107's
        /// <c>torch.optim.Adam(IEnumerable&lt;ParamGroup&gt;, ...)</c> factory defaults it to 0.99. DuRNN models use the
        /// library's <see cref="DuRNN.ParameterGroups"/>, which adds the long-sequence learning rate of W_h and b_h.
        /// </summary>
        public virtual IReadOnlyList<Adam.ParamGroup> ParameterGroups(double lr, double weightDecay)
        {
            var all = parameters().ToList();
            return new List<Adam.ParamGroup>
            {
                new(all.Where(p => p.dim() >= 2).ToList(), lr: lr, beta1: 0.9, beta2: 0.999, weight_decay: weightDecay),
                new(all.Where(p => p.dim() < 2).ToList(), lr: lr, beta1: 0.9, beta2: 0.999, weight_decay: 0),
            };
        }

        /// <summary>
        /// Creates one of the compared models, with the sizes of <paramref name="options"/>. Random draws use
        /// torch's global generator: seed it first.
        /// </summary>
        public static AddingModel Create(ModelKind kind, Options options) => kind switch
        {
            ModelKind.DuRnn => new DuRnnModel(options),
            ModelKind.DuRnnNoGate => new DuRnnModel(options, DuRnnAblation.NoGate),
            ModelKind.DuRnnNoShortTerm => new DuRnnModel(options, DuRnnAblation.NoShortTerm),
            ModelKind.IndRnn => new IndRnnModel(options),
            ModelKind.IndRnnScaled => new IndRnnModel(options, scaled: true),
            ModelKind.Lstm => new LstmModel(options),
            ModelKind.Gru => new GruModel(options),
            _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
        };

        /// <summary>The read-out: the last step's features (B, H) to one value per sequence (B).</summary>
        protected static Tensor ReadLastStep(Linear readout, Tensor sequence) =>
            readout.call(sequence.select(0, sequence.shape[0] - 1)).squeeze(-1);
    }

    /// <summary>
    /// The library's DuRNN (numLayers × H, S = H, ReLU short-term cells with ‖U_s‖₂ ≤ 0.9, MAG 2, T_max = T,
    /// the last layer's u started in [U_lowbound, U_bound], W_h ~ N(0, 0.001²)) and a linear read-out.
    /// </summary>
    internal sealed class DuRnnModel : AddingModel
    {
        /// <summary>ρ, the bound on ‖U_s‖₂ (the library's default, passed explicitly).</summary>
        private const double Rho = 0.9;

        private readonly DuRNN rnn;
        private readonly Linear readout;
        private readonly double? uScale;

        public DuRnnModel(Options o, DuRnnAblation ablation = DuRnnAblation.None) : base(nameof(DuRnnModel))
        {
            uScale = o.RecurrentLearningRateScale;
            rnn = new DuRNN(AddingData.Features, o.Hidden, numLayers: o.Layers,
                shortTermConstraint: ablation == DuRnnAblation.NoShortTerm ? ShortTermConstraint.None : ShortTermConstraint.SpectralNorm(Rho),
                activation: o.ShortTermActivation, mag: 2.0, maxSequenceLength: o.Length, longMemoryLastLayer: true);
            readout = nn.Linear(o.Hidden, 1);
            using (torch.no_grad())
            {
                foreach (var layer in rnn.Layers)
                {
                    if (ablation == DuRnnAblation.NoGate)
                    {
                        // g = σ(0·x + 0·s + 50) = 1 exactly in float32: the whole short-term memory passes, always.
                        layer.Gate.weight_ih.zero_().requires_grad_(false);
                        layer.Gate.weight_sh.zero_().requires_grad_(false);
                        layer.Gate.bias.fill_(50).requires_grad_(false);
                    }
                    else if (ablation == DuRnnAblation.NoShortTerm)
                    {
                        // s_t = ReLU(W_s x_t + b_s): the short-term part keeps no memory of its own.
                        layer.ShortTerm.weight_hh.zero_().requires_grad_(false);
                    }
                }
            }
            RegisterComponents();
        }

        /// <summary>The trained stack, for diagnostics.</summary>
        public DuRNN Stack => rnn;

        public override Tensor forward(Tensor input)
        {
            var (output, state) = rnn.call(input);
            state.Dispose();
            return ReadLastStep(readout, output);
        }

        public override void ApplyConstraints() => rnn.ApplyConstraints();

        public override IReadOnlyList<LayerDiagnostics> Diagnose() => rnn.Diagnose();

        /// <inheritdoc />
        public override double[] LayerGradientNorms() =>
            GradientNorms(rnn.Layers.Select((layer, l) => layer.parameters().Concat(rnn.ReverseLayers.Count > l ? rnn.ReverseLayers[l].parameters() : Enumerable.Empty<Parameter>())));

        /// <inheritdoc />
        public override IReadOnlyList<GateStatistics> GateOpenness(Tensor input) => rnn.GateOpenness(input);

        /// <summary>
        /// The library's groups for the stack, with the read-out's parameters in the ordinary ones; with
        /// <see cref="Options.RecurrentLearningRateScale"/> given, the long-memory layers' u taken out of theirs into a
        /// group at lr × that factor (no weight decay, as the library trains u).
        /// </summary>
        public override IReadOnlyList<Adam.ParamGroup> ParameterGroups(double lr, double weightDecay)
        {
            var groups = rnn.ParameterGroups(lr, weightDecay, readout.parameters());
            if (uScale is not double scale) return groups;
            var slow = rnn.Layers.Concat(rnn.ReverseLayers).Select(layer => layer.LongTerm)
                .Where(cell => cell.LongMemoryInit).Select(cell => cell.weight_hh).ToList();
            var handles = slow.Select(u => u.Handle).ToHashSet();
            return groups
                .Select(g => new Adam.ParamGroup(g.Parameters.Where(p => !handles.Contains(p.Handle)).ToList(), g.Options))
                .Where(g => g.Parameters.Any())
                .Append(new Adam.ParamGroup(slow, lr: lr * scale, beta1: 0.9, beta2: 0.999, weight_decay: 0))
                .ToList();
        }
    }

    /// <summary>Which part of DuRNN an ablation removes (the parameters it fixes are frozen).</summary>
    internal enum DuRnnAblation
    {
        /// <summary>The full model.</summary>
        None,

        /// <summary>No selection gate: g_t = 1.</summary>
        NoGate,

        /// <summary>No short-term recurrence: U_s = 0.</summary>
        NoShortTerm,
    }

    /// <summary>
    /// A plain IndRNN, the library's <see cref="IndRNN"/> (numLayers × H, MAG 2, T_max = T, the last layer's u started in
    /// [U_lowbound, U_bound], W ~ N(0, 0.001²), b = 0; fused recurrence) and a linear read-out, as in IndRNN's
    /// adding-problem code. With <c>scaled</c>, DuRNN's rule instead: W's σ per layer from
    /// <see cref="LongTermCell.DefaultInputWeightStd"/> and <see cref="IndRNN.ParameterGroups"/> (W and b at
    /// lr · <see cref="LongTermCell.LearningRateScale"/>).
    /// </summary>
    internal sealed class IndRnnModel : AddingModel
    {
        private readonly IndRNN rnn;
        private readonly Linear readout;
        private readonly bool scaled;

        public IndRnnModel(Options o, bool scaled = false) : base(nameof(IndRnnModel))
        {
            this.scaled = scaled;
            rnn = new IndRNN(AddingData.Features, o.Hidden, numLayers: o.Layers, mag: 2.0, maxSequenceLength: o.Length,
                longMemoryLastLayer: true, longTermInputWeightStd: scaled ? null : 0.001);
            readout = nn.Linear(o.Hidden, 1);
            RegisterComponents();
        }

        /// <inheritdoc />
        public override IReadOnlyList<Adam.ParamGroup> ParameterGroups(double lr, double weightDecay) =>
            scaled ? rnn.ParameterGroups(lr, weightDecay, readout.parameters()) : base.ParameterGroups(lr, weightDecay);

        public override Tensor forward(Tensor input)
        {
            var (output, finalState) = rnn.call(input);
            finalState.Dispose();
            return ReadLastStep(readout, output);
        }

        public override void ApplyConstraints() => rnn.ApplyConstraints();

        /// <summary>Per layer u and the memory horizons; ‖U_s‖₂ is NaN (an IndRNN has no short-term part).</summary>
        public override IReadOnlyList<LayerDiagnostics> Diagnose() => rnn.Diagnose();

        /// <inheritdoc />
        public override double[] LayerGradientNorms() => GradientNorms(rnn.Layers.Select(layer => layer.parameters()));
    }

    /// <summary>TorchSharp's nn.LSTM (numLayers × H, PyTorch's default initialisation) and a linear read-out.</summary>
    internal sealed class LstmModel : AddingModel
    {
        private readonly LSTM rnn;
        private readonly Linear readout;

        public LstmModel(Options o) : base(nameof(LstmModel))
        {
            rnn = nn.LSTM(AddingData.Features, o.Hidden, numLayers: o.Layers);
            readout = nn.Linear(o.Hidden, 1);
            RegisterComponents();
        }

        public override Tensor forward(Tensor input)
        {
            var (output, _, _) = rnn.call(input);
            return ReadLastStep(readout, output);
        }
    }

    /// <summary>TorchSharp's nn.GRU (numLayers × H, PyTorch's default initialisation) and a linear read-out.</summary>
    internal sealed class GruModel : AddingModel
    {
        private readonly GRU rnn;
        private readonly Linear readout;

        public GruModel(Options o) : base(nameof(GruModel))
        {
            rnn = nn.GRU(AddingData.Features, o.Hidden, numLayers: o.Layers);
            readout = nn.Linear(o.Hidden, 1);
            RegisterComponents();
        }

        public override Tensor forward(Tensor input)
        {
            var (output, _) = rnn.call(input);
            return ReadLastStep(readout, output);
        }
    }
}
