using System;
using System.Collections.Generic;
using System.Linq;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DuRnn.Samples.SequentialFashionMnist
{
    /// <summary>
    /// A recurrent stack over the sequence (T, B, I) with a Linear readout on the last step's output: the ten class
    /// logits (B, 10).
    /// </summary>
    internal abstract class SequenceClassifier : nn.Module<Tensor, Tensor>
    {
        /// <summary>The number of classes.</summary>
        public const int Classes = 10;

        /// <summary>Creates the module.</summary>
        /// <param name="name">The module name.</param>
        protected SequenceClassifier(string name) : base(name)
        {
        }

        /// <summary>The model in a few words, e.g. "DuRNN 2×128".</summary>
        public abstract string Description { get; }

        /// <summary>The number of trainable values.</summary>
        public long ParameterCount => parameters().Sum(p => p.numel());

        /// <summary>Projects constrained parameters after an optimizer step (DuRNN only).</summary>
        public virtual void ApplyConstraints()
        {
        }

        /// <summary>
        /// Adam's parameter groups: one group at <paramref name="lr"/> (β = 0.9, 0.999, no weight decay); DuRNN models use
        /// the library's <see cref="DuRNN.ParameterGroups"/> (the long-sequence learning rate of W_h and b_h).
        /// </summary>
        public virtual IReadOnlyList<Adam.ParamGroup> ParameterGroups(double lr) =>
            new[] { new Adam.ParamGroup(parameters().ToList(), lr: lr, beta1: 0.9, beta2: 0.999) };
    }

    /// <summary>The library's DuRNN stack and a Linear readout.</summary>
    internal sealed class DuRnnClassifier : SequenceClassifier
    {
#pragma warning disable IDE1006 // field names are the state-dict names
        private readonly DuRNN rnn;
        private readonly BatchNorm1d? norm;
        private readonly Linear readout;
#pragma warning restore IDE1006

        /// <summary>Creates the classifier.</summary>
        /// <param name="inputSize">I, features per step.</param>
        /// <param name="hidden">H = S, units per layer.</param>
        /// <param name="layers">The number of DuRNN layers.</param>
        /// <param name="sequenceLength">T, used as maxSequenceLength (U_bound = MAG^(1/T)).</param>
        /// <param name="mag">MAG.</param>
        /// <param name="batchNorm">BatchNorm between layers.</param>
        /// <param name="readoutNorm">BatchNorm1d on the last step's output before the readout.</param>
        public DuRnnClassifier(int inputSize, int hidden, int layers, int sequenceLength, double mag, bool batchNorm,
            bool readoutNorm)
            : base(nameof(DuRnnClassifier))
        {
            // longMemoryLastLayer: u of the last layer starts in [(1/MAG)^(1/T), MAG^(1/T)], IndRNN's practice when
            // the answer is read at the last step and may depend on the first ones.
            rnn = new DuRNN(inputSize, hidden, numLayers: layers, mag: mag, maxSequenceLength: sequenceLength,
                longMemoryLastLayer: true, batchNorm: batchNorm);
            // The long-term state is an unbounded ReLU state that may integrate over all T steps (u ≈ 1): over 784
            // steps its scale at the start can give logits in the tens. A BatchNorm on h_T fixes the readout's scale.
            if (readoutNorm) norm = nn.BatchNorm1d(hidden);
            readout = nn.Linear(hidden, Classes);
            Description = $"DuRNN {layers}×{hidden}{(batchNorm ? " BN" : "")}{(readoutNorm ? " +readout BN" : "")}";
            RegisterComponents();
        }

        /// <inheritdoc/>
        public override string Description { get; }

        /// <summary>The recurrent stack (for diagnostics).</summary>
        public DuRNN Rnn => rnn;

        /// <summary>The library's groups for the stack; the read-out (and its BatchNorm) in the ordinary ones.</summary>
        public override IReadOnlyList<Adam.ParamGroup> ParameterGroups(double lr) =>
            rnn.ParameterGroups(lr, 0, readout.parameters().Concat(norm?.parameters() ?? Enumerable.Empty<Parameter>()));

        /// <inheritdoc/>
        public override Tensor forward(Tensor input)
        {
            var (output, state) = rnn.call(input);
            state.Dispose();
            var last = output.select(0, -1);
            return readout.call(norm is null ? last : norm.call(last));
        }

        /// <inheritdoc/>
        public override void ApplyConstraints() => rnn.ApplyConstraints();
    }

    /// <summary>
    /// The library's IndRNN stack with IndRNN's sequential-MNIST recipe (a deep stack with BatchNorm between the
    /// layers, MAG as the mode's default, the last layer's u started near 1) and a Linear readout.
    /// </summary>
    internal sealed class IndRnnClassifier : SequenceClassifier
    {
#pragma warning disable IDE1006 // field names are the state-dict names
        private readonly IndRNN rnn;
        private readonly Linear readout;
#pragma warning restore IDE1006

        /// <summary>Creates the classifier.</summary>
        /// <param name="inputSize">I, features per step.</param>
        /// <param name="hidden">Units per layer.</param>
        /// <param name="layers">The number of IndRNN layers.</param>
        /// <param name="sequenceLength">T, used as maxSequenceLength (U_bound = MAG^(1/T)).</param>
        /// <param name="mag">MAG.</param>
        public IndRnnClassifier(int inputSize, int hidden, int layers, int sequenceLength, double mag)
            : base(nameof(IndRnnClassifier))
        {
            // The library's IndRNN defaults (W ~ N(0, 0.001²), zero biases, u ~ U(0, U_bound)) with IndRNN's practice
            // for deep stacks: BatchNorm between layers, and the last layer's u in [(1/MAG)^(1/T), MAG^(1/T)].
            rnn = new IndRNN(inputSize, hidden, numLayers: layers, mag: mag, maxSequenceLength: sequenceLength,
                longMemoryLastLayer: true, batchNorm: true);
            readout = nn.Linear(hidden, Classes);
            Description = $"IndRNN {layers}×{hidden} BN";
            RegisterComponents();
        }

        /// <inheritdoc/>
        public override string Description { get; }

        /// <summary>The recurrent stack (for diagnostics).</summary>
        public IndRNN Rnn => rnn;

        /// <summary>The library's groups for the stack; the read-out in the ordinary ones.</summary>
        public override IReadOnlyList<Adam.ParamGroup> ParameterGroups(double lr) =>
            rnn.ParameterGroups(lr, 0, readout.parameters());

        /// <inheritdoc/>
        public override Tensor forward(Tensor input)
        {
            var (output, state) = rnn.call(input);
            state.Dispose();
            return readout.call(output.select(0, -1));
        }

        /// <inheritdoc/>
        public override void ApplyConstraints() => rnn.ApplyConstraints();
    }

    /// <summary>
    /// BatchNorm between the layers of nn.LSTM and nn.GRU (<c>--batchnorm</c>), as the library's stacks place it: after
    /// every layer but the last, over the features of all T·B positions. TorchSharp's multi-layer modules cannot take
    /// anything between their layers, so with BatchNorm each layer is a one-layer module of its own.
    /// </summary>
    internal static class BetweenLayers
    {
        /// <summary>One BatchNorm1d of <paramref name="features"/> for each of the first <paramref name="layers"/> − 1 layers.</summary>
        public static ModuleList<BatchNorm1d> Norms(int layers, int features) =>
            new(Enumerable.Range(0, layers - 1).Select(_ => nn.BatchNorm1d(features)).ToArray());

        /// <summary>
        /// Runs <paramref name="layer"/>(l, x) for l = 0 … L − 1, with <paramref name="norms"/>[l] on the output of every
        /// layer but the last; returns the last layer's output (T, B, H).
        /// </summary>
        public static Tensor Run(Tensor input, int layers, Func<int, Tensor, Tensor> layer, ModuleList<BatchNorm1d> norms)
        {
            var x = input;
            for (int l = 0; l < layers; l++)
            {
                var y = layer(l, x);
                if (l < layers - 1)
                {
                    long steps = y.shape[0], batch = y.shape[1], features = y.shape[2];
                    y = norms[l].call(y.reshape(steps * batch, features)).reshape(steps, batch, features);
                }
                x = y;
            }
            return x;
        }
    }

    /// <summary>
    /// TorchSharp's nn.LSTM or nn.GRU and a Linear readout; with BatchNorm, one module a layer and BatchNorm between
    /// them (<see cref="BetweenLayers"/>). <see cref="Lstm"/> and <see cref="Gru"/> create the two.
    /// </summary>
    /// <typeparam name="TRnn">nn.LSTM's or nn.GRU's module type.</typeparam>
    internal sealed class TorchRnnClassifier<TRnn> : SequenceClassifier where TRnn : nn.Module
    {
#pragma warning disable IDE1006 // field names are the state-dict names
        private readonly TRnn? rnn;
        private readonly ModuleList<TRnn>? layers;
        private readonly ModuleList<BatchNorm1d>? norms;
        private readonly Linear readout;
#pragma warning restore IDE1006
        private readonly Func<TRnn, Tensor, Tensor> run;

        /// <summary>Creates the classifier.</summary>
        /// <param name="name">The model's name in <see cref="Description"/> ("LSTM", "GRU").</param>
        /// <param name="create">Creates the module (input size, hidden size, layers).</param>
        /// <param name="run">Runs a module over (T, B, I) and returns its output (T, B, H), disposing its final state.</param>
        /// <param name="inputSize">I, features per step.</param>
        /// <param name="hidden">Units per layer.</param>
        /// <param name="numLayers">The number of layers.</param>
        /// <param name="batchNorm">BatchNorm between layers.</param>
        public TorchRnnClassifier(string name, Func<int, int, int, TRnn> create, Func<TRnn, Tensor, Tensor> run, int inputSize,
            int hidden, int numLayers, bool batchNorm)
            : base($"{name}Classifier")
        {
            this.run = run;
            if (batchNorm && numLayers > 1)
            {
                layers = new ModuleList<TRnn>(Enumerable.Range(0, numLayers).Select(l => create(l == 0 ? inputSize : hidden, hidden, 1)).ToArray());
                norms = BetweenLayers.Norms(numLayers, hidden);
            }
            else
            {
                rnn = create(inputSize, hidden, numLayers);
            }
            readout = nn.Linear(hidden, Classes);
            Description = $"{name} {numLayers}×{hidden}{(norms is null ? "" : " BN")}";
            RegisterComponents();
        }

        /// <inheritdoc/>
        public override string Description { get; }

        /// <inheritdoc/>
        public override Tensor forward(Tensor input)
        {
            var output = rnn is not null ? run(rnn, input) : BetweenLayers.Run(input, layers!.Count, (l, x) => run(layers[l], x), norms!);
            return readout.call(output.select(0, -1));
        }
    }

    /// <summary>The nn.LSTM and nn.GRU classifiers.</summary>
    internal static class TorchRnnClassifier
    {
        /// <summary>nn.LSTM and a Linear readout.</summary>
        public static SequenceClassifier Lstm(int inputSize, int hidden, int layers, bool batchNorm) =>
            new TorchRnnClassifier<LSTM>("LSTM", (i, h, l) => nn.LSTM(i, h, numLayers: l), (lstm, x) =>
            {
                var (output, h, c) = lstm.call(x);
                h.Dispose();
                c.Dispose();
                return output;
            }, inputSize, hidden, layers, batchNorm);

        /// <summary>nn.GRU and a Linear readout.</summary>
        public static SequenceClassifier Gru(int inputSize, int hidden, int layers, bool batchNorm) =>
            new TorchRnnClassifier<GRU>("GRU", (i, h, l) => nn.GRU(i, h, numLayers: l), (gru, x) =>
            {
                var (output, h) = gru.call(x);
                h.Dispose();
                return output;
            }, inputSize, hidden, layers, batchNorm);
    }

    /// <summary>Builds the models, sizing IndRNN, LSTM and GRU to about the DuRNN's parameter count.</summary>
    internal static class ModelFactory
    {
        /// <summary>
        /// Creates a model after seeding torch with <see cref="Options.Seed"/>, so each model's initial weights are the
        /// same whichever models run before it.
        /// </summary>
        /// <param name="kind">Which model.</param>
        /// <param name="o">The options (sizes, mode, MAG, BatchNorm, seed).</param>
        public static SequenceClassifier Create(ModelKind kind, Options o)
        {
            torch.manual_seed(o.Seed);
            long target = DuRnnParameters(o.InputSize, o.Hidden, o.Layers, o.BatchNorm, o.ReadoutNorm);
            return kind switch
            {
                ModelKind.DuRnn => new DuRnnClassifier(o.InputSize, o.Hidden, o.Layers, o.SequenceLength, o.Mag, o.BatchNorm, o.ReadoutNorm),
                ModelKind.IndRnn => new IndRnnClassifier(o.InputSize, MatchHidden(h => IndRnnParameters(o.InputSize, h, o.IndRnnLayers), target),
                    o.IndRnnLayers, o.SequenceLength, o.Mag),
                ModelKind.Lstm => TorchRnnClassifier.Lstm(o.InputSize, MatchHidden(h => LstmParameters(o.InputSize, h, o.Layers) + Norms(h, o.Layers, o.BaselineBatchNorm), target),
                    o.Layers, o.BaselineBatchNorm),
                ModelKind.Gru => TorchRnnClassifier.Gru(o.InputSize, MatchHidden(h => GruParameters(o.InputSize, h, o.Layers) + Norms(h, o.Layers, o.BaselineBatchNorm), target),
                    o.Layers, o.BaselineBatchNorm),
                _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
            };
        }

        /// <summary>
        /// DuRNN with S = H: per layer W_s, W_gx (H×I_l each), U_s, W_gs, W_h (H×H each), b_s, b_g, b_h, u (H each);
        /// BatchNorm γ and β (H each) after every layer but the last, and before the readout with readoutNorm; the readout.
        /// </summary>
        internal static long DuRnnParameters(long input, long hidden, long layers, bool batchNorm, bool readoutNorm)
        {
            long total = Readout(hidden);
            for (long l = 0; l < layers; l++)
                total += 2 * hidden * (l == 0 ? input : hidden) + 3 * hidden * hidden + 4 * hidden;
            if (batchNorm) total += 2 * hidden * (layers - 1);
            if (readoutNorm) total += 2 * hidden;
            return total;
        }

        /// <summary>IndRNN: per layer W (H×I_l), b and u (H each); BatchNorm γ and β (H each) after every layer but the last; the readout.</summary>
        internal static long IndRnnParameters(long input, long hidden, long layers)
        {
            long total = Readout(hidden) + 2 * hidden * (layers - 1);
            for (long l = 0; l < layers; l++)
                total += hidden * (l == 0 ? input : hidden) + 2 * hidden;
            return total;
        }

        /// <summary>nn.LSTM: per layer 4H(I_l + H) weights and two biases of 4H; the readout.</summary>
        internal static long LstmParameters(long input, long hidden, long layers)
        {
            long total = Readout(hidden);
            for (long l = 0; l < layers; l++)
                total += 4 * hidden * ((l == 0 ? input : hidden) + hidden) + 8 * hidden;
            return total;
        }

        /// <summary>nn.GRU: per layer 3H(I_l + H) weights and two biases of 3H; the readout.</summary>
        internal static long GruParameters(long input, long hidden, long layers)
        {
            long total = Readout(hidden);
            for (long l = 0; l < layers; l++)
                total += 3 * hidden * ((l == 0 ? input : hidden) + hidden) + 6 * hidden;
            return total;
        }

        /// <summary>BatchNorm's γ and β (H each) after every layer but the last, when <paramref name="batchNorm"/>.</summary>
        private static long Norms(long hidden, long layers, bool batchNorm) => batchNorm ? 2 * hidden * (layers - 1) : 0;

        private static long Readout(long hidden) => hidden * SequenceClassifier.Classes + SequenceClassifier.Classes;

        /// <summary>The hidden size whose parameter count is closest to <paramref name="target"/>.</summary>
        private static int MatchHidden(Func<int, long> count, long target)
        {
            int best = 1;
            for (int h = 1; h <= 4096; h++)
            {
                if (Math.Abs(count(h) - target) < Math.Abs(count(best) - target)) best = h;
                if (count(h) > target) break;
            }
            return best;
        }
    }
}
