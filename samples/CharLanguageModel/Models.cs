using System.Collections.Generic;
using System.Linq;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DuRnn.Samples.CharLanguageModel
{
    /// <summary>
    /// A character-level language model: an embedding of the V symbols (nn.Embedding(V, E)), a recurrent stack, and a
    /// Linear read-out to V logits at every step. Maps characters (T, B) int64 and the state carried from the previous
    /// chunk (null: zeros) to logits (T, B, V) for the next character at every step, and the state to carry on.
    /// </summary>
    internal abstract class CharModel : nn.Module<Tensor, CarriedState?, (Tensor logits, CarriedState state)>
    {
        /// <summary>Creates the module.</summary>
        /// <param name="name">The module name.</param>
        /// <param name="kind">Which model this is.</param>
        /// <param name="layers">The number of recurrent layers.</param>
        /// <param name="hidden">Units per layer.</param>
        protected CharModel(string name, ModelKind kind, int layers, int hidden) : base(name)
        {
            Kind = kind;
            Layers = layers;
            Hidden = hidden;
        }

        /// <summary>Which model this is.</summary>
        public ModelKind Kind { get; }

        /// <summary>The number of recurrent layers.</summary>
        public int Layers { get; }

        /// <summary>Units per layer.</summary>
        public int Hidden { get; }

        /// <summary>The model in a few words, e.g. "durnn 2×256".</summary>
        public string Description => $"{Options.Name(Kind)} {Layers}×{Hidden}";

        /// <summary>The number of trainable values.</summary>
        public long ParameterCount => parameters().Sum(p => p.numel());

        /// <summary>
        /// The recurrent stack's output (T, B, H) for the characters (T, B), before the read-out, and the state to carry
        /// on: what <see cref="forward"/> feeds the read-out, and what <see cref="UnitActivity"/> measures.
        /// </summary>
        public abstract (Tensor output, CarriedState state) Recurrent(Tensor chars, CarriedState? state);

        /// <summary>The read-out: logits (T, B, V) from the stack's output.</summary>
        protected abstract Tensor ReadOut(Tensor output);

        /// <inheritdoc/>
        public sealed override (Tensor logits, CarriedState state) forward(Tensor chars, CarriedState? state)
        {
            var (output, next) = Recurrent(chars, state);
            return (ReadOut(output), next);
        }

        /// <summary>Projects constrained parameters after an optimizer step (DuRNN and IndRNN; nothing for the others).</summary>
        public virtual void ApplyConstraints()
        {
        }

        /// <summary>
        /// --recurrent-bound: u of every long-term cell (the 1-D <c>weight_hh</c> parameters) drawn again from U(0, bound)
        /// when <paramref name="initialise"/>, else clamped to [−bound, bound]; nothing without the option.
        /// </summary>
        /// <param name="bound">The bound, or null.</param>
        /// <param name="initialise">Draw u (after construction) rather than clamp it (after the library's constraints).</param>
        protected void BoundRecurrentWeights(double? bound, bool initialise)
        {
            if (bound is not double b) return;
            using var noGrad = torch.no_grad();
            using var low = (-b).ToScalar(); // Scalars held for the calls (an implicit one may be finalised mid-call)
            using var high = b.ToScalar();
            foreach (var (name, u) in named_parameters())
            {
                if (!name.EndsWith("weight_hh", System.StringComparison.Ordinal) || u.dim() != 1) continue;
                if (initialise) u.uniform_(0, b);
                else u.clamp_(low, high);
            }
        }

        /// <summary>
        /// Adam's parameter groups: weight decay on the weight matrices (2-D, the embedding included), none on the 1-D
        /// parameters (biases), one learning rate. β₂ is set to 0.999 explicitly: TorchSharp 0.107's
        /// <c>torch.optim.Adam(IEnumerable&lt;ParamGroup&gt;, ...)</c> defaults it to 0.99. DuRNN and IndRNN use the
        /// library's groups instead (the same split, plus W_h's and b_h's learning-rate rule).
        /// </summary>
        /// <param name="lr">The learning rate.</param>
        /// <param name="weightDecay">L2 weight decay of the weight matrices.</param>
        public virtual IReadOnlyList<Adam.ParamGroup> ParameterGroups(double lr, double weightDecay)
        {
            var all = parameters().ToList();
            return new List<Adam.ParamGroup>
            {
                new(all.Where(p => p.dim() >= 2).ToList(), lr: lr, beta1: 0.9, beta2: 0.999, weight_decay: weightDecay),
                new(all.Where(p => p.dim() < 2).ToList(), lr: lr, beta1: 0.9, beta2: 0.999, weight_decay: 0),
            };
        }
    }

    /// <summary>
    /// The library's DuRNN with its defaults (S = H, ReLU short-term cells with ‖U_s‖₂ ≤ 0.9, W_h ~ N(0, 0.001²),
    /// u ~ U(0, 1)) and no maxSequenceLength: U_bound = 1, because the state is carried from chunk to chunk through the
    /// whole stream, and |u| &gt; 1 would let a ReLU state grow without bound over it (IndRNN's own character-level
    /// Penn Treebank code, which also carries its state, uses U_bound = 1).
    /// </summary>
    internal sealed class DuRnnCharModel : CharModel
    {
#pragma warning disable IDE1006 // field names are the state-dict names
        private readonly Embedding embedding;
        private readonly DuRNN rnn;
        private readonly Linear readout;
#pragma warning restore IDE1006
        private readonly double? recurrentBound;

        /// <summary>Creates the model.</summary>
        /// <param name="vocabulary">V, the number of symbols.</param>
        /// <param name="embeddingSize">E.</param>
        /// <param name="hidden">H = S, units per layer.</param>
        /// <param name="layers">The number of DuRNN layers.</param>
        /// <param name="options">--input-std, --batch-norm, --short-term and --spectral-bound (the library's defaults unless given).</param>
        public DuRnnCharModel(int vocabulary, int embeddingSize, int hidden, int layers, Options options)
            : base(nameof(DuRnnCharModel), ModelKind.DuRnn, layers, hidden)
        {
            embedding = nn.Embedding(vocabulary, embeddingSize);
            rnn = new DuRNN(embeddingSize, hidden, numLayers: layers, activation: options.ShortTermActivation,
                shortTermConstraint: options.SpectralBound is double rho ? ShortTermConstraint.SpectralNorm(rho) : null,
                batchNorm: options.BatchNorm, longTermInputWeightStd: options.InputWeightStd);
            readout = nn.Linear(hidden, vocabulary);
            RegisterComponents();
            recurrentBound = options.RecurrentBound;
            BoundRecurrentWeights(recurrentBound, initialise: true);
        }

        /// <inheritdoc/>
        public override (Tensor output, CarriedState state) Recurrent(Tensor chars, CarriedState? state)
        {
            var start = state is null ? null : new DuRNNState(state.Tensors[0], state.Tensors[1]);
            var (output, next) = rnn.call(embedding.call(chars), start);
            return (output, new CarriedState(next.ShortTerm, next.LongTerm));
        }

        /// <inheritdoc/>
        protected override Tensor ReadOut(Tensor output) => readout.call(output);

        /// <inheritdoc/>
        public override void ApplyConstraints()
        {
            rnn.ApplyConstraints();
            BoundRecurrentWeights(recurrentBound, initialise: false);
        }

        /// <summary>The library's groups for the stack, with the embedding and the read-out in the ordinary ones.</summary>
        public override IReadOnlyList<Adam.ParamGroup> ParameterGroups(double lr, double weightDecay) =>
            rnn.ParameterGroups(lr, weightDecay, embedding.parameters().Concat(readout.parameters()));
    }

    /// <summary>
    /// The library's IndRNN with its documented recipe (W ~ N(0, 0.001²), b = 0, u ~ U(0, U_bound), |u| ≤ U_bound
    /// kept by <see cref="ApplyConstraints"/>) and, as for DuRNN, no maxSequenceLength: U_bound = 1.
    /// </summary>
    internal sealed class IndRnnCharModel : CharModel
    {
#pragma warning disable IDE1006 // field names are the state-dict names
        private readonly Embedding embedding;
        private readonly IndRNN rnn;
        private readonly Linear readout;
#pragma warning restore IDE1006
        private readonly double? recurrentBound;

        /// <summary>Creates the model.</summary>
        /// <param name="vocabulary">V, the number of symbols.</param>
        /// <param name="embeddingSize">E.</param>
        /// <param name="hidden">Units per layer.</param>
        /// <param name="layers">The number of IndRNN layers.</param>
        /// <param name="options">--input-std and --batch-norm (the library's recipe unless given).</param>
        public IndRnnCharModel(int vocabulary, int embeddingSize, int hidden, int layers, Options options)
            : base(nameof(IndRnnCharModel), ModelKind.IndRnn, layers, hidden)
        {
            embedding = nn.Embedding(vocabulary, embeddingSize);
            rnn = options.InputWeightStd is double std
                ? new IndRNN(embeddingSize, hidden, numLayers: layers, batchNorm: options.BatchNorm, longTermInputWeightStd: std)
                : new IndRNN(embeddingSize, hidden, numLayers: layers, batchNorm: options.BatchNorm);
            readout = nn.Linear(hidden, vocabulary);
            RegisterComponents();
            recurrentBound = options.RecurrentBound;
            BoundRecurrentWeights(recurrentBound, initialise: true);
        }

        /// <inheritdoc/>
        public override (Tensor output, CarriedState state) Recurrent(Tensor chars, CarriedState? state)
        {
            var (output, h) = rnn.call(embedding.call(chars), state?.Tensors[0]);
            return (output, new CarriedState(h));
        }

        /// <inheritdoc/>
        protected override Tensor ReadOut(Tensor output) => readout.call(output);

        /// <inheritdoc/>
        public override void ApplyConstraints()
        {
            rnn.ApplyConstraints();
            BoundRecurrentWeights(recurrentBound, initialise: false);
        }

        /// <summary>The library's groups for the stack, with the embedding and the read-out in the ordinary ones.</summary>
        public override IReadOnlyList<Adam.ParamGroup> ParameterGroups(double lr, double weightDecay) =>
            rnn.ParameterGroups(lr, weightDecay, embedding.parameters().Concat(readout.parameters()));
    }

    /// <summary>TorchSharp's nn.LSTM (PyTorch's default initialisation) between the embedding and the read-out.</summary>
    internal sealed class LstmCharModel : CharModel
    {
#pragma warning disable IDE1006 // field names are the state-dict names
        private readonly Embedding embedding;
        private readonly LSTM rnn;
        private readonly Linear readout;
#pragma warning restore IDE1006

        /// <summary>Creates the model.</summary>
        /// <param name="vocabulary">V, the number of symbols.</param>
        /// <param name="embeddingSize">E.</param>
        /// <param name="hidden">Units per layer.</param>
        /// <param name="layers">The number of LSTM layers.</param>
        public LstmCharModel(int vocabulary, int embeddingSize, int hidden, int layers)
            : base(nameof(LstmCharModel), ModelKind.Lstm, layers, hidden)
        {
            embedding = nn.Embedding(vocabulary, embeddingSize);
            rnn = nn.LSTM(embeddingSize, hidden, numLayers: layers);
            readout = nn.Linear(hidden, vocabulary);
            RegisterComponents();
        }

        /// <inheritdoc/>
        public override (Tensor output, CarriedState state) Recurrent(Tensor chars, CarriedState? state)
        {
            var (output, h, c) = rnn.call(embedding.call(chars), state is null ? null : (state.Tensors[0], state.Tensors[1]));
            return (output, new CarriedState(h, c));
        }

        /// <inheritdoc/>
        protected override Tensor ReadOut(Tensor output) => readout.call(output);
    }

    /// <summary>TorchSharp's nn.GRU (PyTorch's default initialisation) between the embedding and the read-out.</summary>
    internal sealed class GruCharModel : CharModel
    {
#pragma warning disable IDE1006 // field names are the state-dict names
        private readonly Embedding embedding;
        private readonly GRU rnn;
        private readonly Linear readout;
#pragma warning restore IDE1006

        /// <summary>Creates the model.</summary>
        /// <param name="vocabulary">V, the number of symbols.</param>
        /// <param name="embeddingSize">E.</param>
        /// <param name="hidden">Units per layer.</param>
        /// <param name="layers">The number of GRU layers.</param>
        public GruCharModel(int vocabulary, int embeddingSize, int hidden, int layers)
            : base(nameof(GruCharModel), ModelKind.Gru, layers, hidden)
        {
            embedding = nn.Embedding(vocabulary, embeddingSize);
            rnn = nn.GRU(embeddingSize, hidden, numLayers: layers);
            readout = nn.Linear(hidden, vocabulary);
            RegisterComponents();
        }

        /// <inheritdoc/>
        public override (Tensor output, CarriedState state) Recurrent(Tensor chars, CarriedState? state)
        {
            var (output, h) = rnn.call(embedding.call(chars), state?.Tensors[0]);
            return (output, new CarriedState(h));
        }

        /// <inheritdoc/>
        protected override Tensor ReadOut(Tensor output) => readout.call(output);
    }
}
