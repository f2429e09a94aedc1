using System;
using System.Collections.Generic;
using System.Linq;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using PackedSequence = TorchSharp.torch.nn.utils.rnn.PackedSequence;

namespace DuRnn
{
    /// <summary>
    /// A multi-layer Independently Recurrent Neural Network (IndRNN; Li, Li, Cook, Zhu, Gao, CVPR 2018, and "Deep
    /// IndRNN", arXiv 1910.06251) over an input sequence, laid out like TorchSharp's <c>torch.nn.RNN</c>. Each layer
    /// computes, for t = 1..T,
    /// <code>
    /// h_t = ReLU(W x_t + b + u ⊙ h_{t−1}),   |u_i| ≤ U_bound = MAG^(1/T_max)
    /// </code>
    /// with an element-wise recurrent weight u ∈ R^H, so every neuron has its own memory. Layer l+1 reads the outputs
    /// h^(l) of layer l. Between layers, optionally: a residual connection where sizes match, BatchNorm over batch and
    /// time, and dropout with one mask per sequence shared over time. With <c>bidirectional: true</c> every layer also
    /// runs a second, independent cell over the reversed sequence, and its output is [forward h_t, backward h_t].
    /// </summary>
    /// <remarks>
    /// Each layer is a <see cref="LongTermCell"/> (the long-term part of a <see cref="DuRNN"/> layer) fed directly by
    /// the layer's input: same parameters, initialisation and constraint. Keep the constraint by calling
    /// <see cref="ApplyConstraints"/> after every optimizer step (projected gradient descent); the parameters satisfy it
    /// right after construction. Differences from <c>torch.nn.RNN</c>: the recurrent weight is a vector (state-dict key
    /// <c>layers.{l}.weight_hh</c>, shape (H)), there is one bias per layer (<c>bias_ih</c>), the nonlinearity is
    /// always ReLU, and <see cref="ApplyConstraints"/> exists. The recurrence runs as one fused kernel by default
    /// (<see cref="Implementation"/>).
    /// </remarks>
    public sealed class IndRNN : torch.nn.Module<Tensor, Tensor?, (Tensor output, Tensor h_n)>
    {
#pragma warning disable IDE1006 // field names are the state-dict names, as in PyTorch
        private readonly ModuleList<LongTermCell> layers;
        private readonly ModuleList<LongTermCell>? layers_reverse;
        private readonly ModuleList<BatchNorm1d>? norms;
#pragma warning restore IDE1006

        private DuRNNImplementation implementation = DuRNNImplementation.Auto;

        /// <summary>
        /// Creates a multi-layer IndRNN.
        /// </summary>
        /// <param name="inputSize">The number of expected features in the input x.</param>
        /// <param name="hiddenSize">H, the number of neurons per layer: the number of output features (per direction).</param>
        /// <param name="numLayers">Number of recurrent layers. E.g., setting numLayers = 2 stacks two IndRNN layers, the
        /// second taking in the outputs of the first and computing the final results. Default: 1.</param>
        /// <param name="mag">MAG in U_bound = MAG^(1/T_max), the bound on |u_i| (default 2, as in IndRNN's adding problem).</param>
        /// <param name="maxSequenceLength">T_max, the longest dependency to keep (usually the sequence length);
        /// <c>null</c> means U_bound = 1.</param>
        /// <param name="longMemoryLastLayer">Initialise the last layer's u ~ U(U_lowbound, U_bound), with
        /// U_lowbound = (1/MAG)^(1/T_max), so that it keeps long memory from the start (IndRNN's practice); the other
        /// layers' u ~ U(0, U_bound).</param>
        /// <param name="batchNorm">Apply BatchNorm over batch and time to the outputs of every layer but the last.</param>
        /// <param name="residual">Add each layer's input to its output where their sizes match.</param>
        /// <param name="batchFirst">If true, the input and output are (B, T, feature) instead of (T, B, feature).
        /// The state is laid out (numLayers·D, B, H) either way.</param>
        /// <param name="dropout">If non-zero, a dropout layer with this probability on the outputs of each layer
        /// except the last, with one mask per sequence shared over all steps (train mode only). Default: 0.</param>
        /// <param name="inputWeightStd">σ of the input weights W ~ N(0, σ²) of every layer (default 0.001, IndRNN's
        /// adding-problem code: with u ≈ 1 a ReLU state integrates its input over time, and large input weights make it
        /// grow like steps × input). <c>null</c> means <see cref="DuRNN"/>'s rule for its long-term cells, per layer:
        /// <see cref="LongTermCell.DefaultInputWeightStd"/>(T_max, long memory), 0.001 up to T_max = 100 and smaller
        /// beyond.</param>
        /// <param name="bidirectional">If true, a bidirectional IndRNN (D = 2): every layer has a second cell
        /// (state-dict keys <c>layers_reverse.{l}.*</c>) that reads the sequence backwards, and the layer's output is
        /// [forward h_t, backward h_t], 2H features; layer l+1, BatchNorm and the final output see 2H features. The
        /// state is (numLayers·2, B, H) with index layer·2 + direction, as TorchSharp's h_n. Default: false (D = 1).</param>
        /// <param name="device">The desired device of the parameters and buffers.</param>
        /// <param name="dtype">The desired floating point dtype of the parameters and buffers.</param>
        public IndRNN(long inputSize, long hiddenSize, long numLayers = 1, double mag = 2.0, long? maxSequenceLength = null,
            bool longMemoryLastLayer = false, bool batchNorm = false, bool residual = false, bool batchFirst = false,
            double dropout = 0.0, double? inputWeightStd = 0.001, bool bidirectional = false,
            Device? device = null, ScalarType? dtype = null)
            : base(nameof(IndRNN))
        {
            Check.Positive(numLayers, nameof(numLayers));
            Check.Dropout(dropout, nameof(dropout));
            var options = Check.LongTermOptions(inputSize, hiddenSize, mag, maxSequenceLength, inputWeightStd, nameof(inputWeightStd), dtype);

            InputSize = inputSize;
            HiddenSize = hiddenSize;
            NumLayers = numLayers;
            Mag = mag;
            MaxSequenceLength = maxSequenceLength;
            LongMemoryLastLayer = longMemoryLastLayer;
            InputWeightStd = inputWeightStd;
            BatchNorm = batchNorm;
            Residual = residual;
            BatchFirst = batchFirst;
            Dropout = dropout;
            Bidirectional = bidirectional;

            LongTermCell[] CreateLayers()
            {
                var list = new List<LongTermCell>();
                for (long l = 0; l < numLayers; l++)
                {
                    list.Add(new LongTermCell(l == 0 ? inputSize : OutputSize, hiddenSize, mag, maxSequenceLength,
                        longMemoryLastLayer && l == numLayers - 1, inputWeightStd, device, dtype, options));
                }
                return list.ToArray();
            }
            layers = new ModuleList<LongTermCell>(CreateLayers());
            if (bidirectional)
                layers_reverse = new ModuleList<LongTermCell>(CreateLayers());
            if (batchNorm)
                norms = Stacking.CreateNorms(numLayers, OutputSize, device, dtype);
            RegisterComponents();
        }

        /// <summary>
        /// Re-applies the documented initialisation in place, as the constructor did: every layer's W, b and u
        /// (<see cref="LongTermCell.reset_parameters"/>, forward layers first, then the backward ones) and every BatchNorm
        /// (weight 1, bias 0, running statistics reset). With the same <c>torch.manual_seed</c> before it, the parameters
        /// equal those of a newly constructed stack.
        /// </summary>
        public void reset_parameters()
        {
            foreach (var layer in layers_reverse is null ? layers : layers.Concat(layers_reverse)) layer.reset_parameters();
            if (norms is null) return;
            foreach (var norm in norms) norm.reset_parameters();
        }

        /// <summary>The number of input features.</summary>
        public long InputSize { get; }

        /// <summary>H, the number of neurons per layer and direction.</summary>
        public long HiddenSize { get; }

        /// <summary>The number of stacked layers.</summary>
        public long NumLayers { get; }

        /// <summary>MAG in U_bound = MAG^(1/T_max).</summary>
        public double Mag { get; }

        /// <summary>T_max for U_bound, or null (U_bound = 1).</summary>
        public long? MaxSequenceLength { get; }

        /// <summary>Whether the last layer's u was initialised in [U_lowbound, U_bound] (long memory from the start).</summary>
        public bool LongMemoryLastLayer { get; }

        /// <summary>σ of the input weights' initialisation W ~ N(0, σ²); null: each layer's
        /// <see cref="LongTermCell.InputWeightStd"/> follows <see cref="LongTermCell.DefaultInputWeightStd"/>.</summary>
        public double? InputWeightStd { get; }

        /// <summary>U_bound = MAG^(1/T_max) (1 without T_max): <see cref="ApplyConstraints"/> keeps every |u_i| ≤ U_bound.</summary>
        public double RecurrentBound => layers[0].RecurrentBound;

        /// <summary>Whether BatchNorm is applied between layers.</summary>
        public bool BatchNorm { get; }

        /// <summary>Whether residual connections are used where sizes match.</summary>
        public bool Residual { get; }

        /// <summary>Whether input and output are (B, T, feature).</summary>
        public bool BatchFirst { get; }

        /// <summary>The dropout probability between layers (train mode only).</summary>
        public double Dropout { get; }

        /// <summary>Whether every layer also reads the sequence backwards (D = 2).</summary>
        public bool Bidirectional { get; }

        /// <summary>The number of output features, D·H: H, or 2H when <see cref="Bidirectional"/>.</summary>
        public long OutputSize => NumDirections * HiddenSize;

        /// <summary>D: 2 when bidirectional, else 1. The state has numLayers·D entries, index layer·D + direction.</summary>
        internal long NumDirections => Bidirectional ? 2 : 1;

        /// <summary>The layers' cells, first to last (the forward direction when bidirectional).</summary>
        public IReadOnlyList<LongTermCell> Layers => layers.ToList();

        /// <summary>
        /// Adam's parameter groups, the same rule as <see cref="DuRNN.ParameterGroups"/>: weight matrices with
        /// <paramref name="weightDecay"/>, 1-D parameters (biases, u) without it, and each layer's input weights and bias
        /// with the learning rate <paramref name="lr"/> · <see cref="LongTermCell.LearningRateScale"/> (1 up to
        /// T_max = 100, smaller beyond). IndRNN's own recipe is a single lr for all (<c>torch.optim.Adam(parameters(), lr)</c>).
        /// </summary>
        /// <param name="lr">The learning rate.</param>
        /// <param name="weightDecay">L2 weight decay of the weight matrices; never on biases or u.</param>
        /// <param name="others">Parameters of other modules trained with this one (e.g. a read-out): lr, and the same
        /// weight-decay split. Null for none.</param>
        /// <param name="beta1">Adam's β₁.</param>
        /// <param name="beta2">Adam's β₂.</param>
        /// <returns>The groups, for <c>torch.optim.Adam(groups, lr)</c>; every parameter in exactly one.</returns>
        public IReadOnlyList<TorchSharp.Modules.Adam.ParamGroup> ParameterGroups(double lr, double weightDecay = 0,
            IEnumerable<Parameter>? others = null, double beta1 = 0.9, double beta2 = 0.999)
            => LearningRates.Groups(parameters(), Layers.Concat(ReverseLayers).ToList(), lr, weightDecay, others, beta1, beta2);

        /// <summary>The backward direction's cells, first to last; empty unless <see cref="Bidirectional"/>.</summary>
        public IReadOnlyList<LongTermCell> ReverseLayers => layers_reverse?.ToList() ?? new List<LongTermCell>();

        private IEnumerable<LongTermCell> AllLayers => layers_reverse is null ? layers : layers.Concat(layers_reverse);

        /// <summary>
        /// How every layer evaluates its sequence (<see cref="DuRNNImplementation.Auto"/> by default: the fused kernel
        /// for float32 and float64 on the CPU, Batched elsewhere); every choice computes the same equations.
        /// </summary>
        /// <exception cref="ArgumentOutOfRangeException">The value is not one of the enum's members.</exception>
        public DuRNNImplementation Implementation
        {
            get => implementation;
            set
            {
                if (!Enum.IsDefined(value))
                    throw new ArgumentOutOfRangeException(nameof(value), value, "Implementation must be Auto, Batched, Reference or Fused.");
                implementation = value;
            }
        }

        /// <summary>
        /// Applies the IndRNN stack to an input sequence.
        /// </summary>
        /// <param name="input">Tensor of shape (T, B, input_size), or (B, T, input_size) when batchFirst.</param>
        /// <param name="h0">The initial state h_0 of every layer and direction, (numLayers·D, B, H) whatever batchFirst
        /// is; zeros when null.</param>
        /// <returns>The output (the last layer's h_t for every t, after a residual connection where used), shape
        /// (T, B, D·H) or (B, T, D·H) when batchFirst; and h_n, the final state of every layer and direction,
        /// (numLayers·D, B, H).</returns>
        public override (Tensor output, Tensor h_n) forward(Tensor input, Tensor? h0)
        {
            ValidateInput(input, h0);
            return RunPadded(input, null, h0);
        }

        /// <summary>
        /// Applies the IndRNN stack to a padded batch of variable-length sequences: sequence b is its first len_b steps,
        /// followed by padding whose values are ignored. Padded steps never change the state, so each sequence's
        /// outputs and final state equal those of running it alone (the backward direction reads only the valid part,
        /// reversed). BatchNorm (in train mode) takes its statistics over the valid steps only.
        /// </summary>
        /// <param name="input">Tensor of shape (T, B, input_size), or (B, T, input_size) when batchFirst.</param>
        /// <param name="lengths">len_b for every sequence: a 1-D int64 CPU tensor of size B with every length in
        /// [1, T], in any order (the form <c>torch.nn.utils.rnn.pack_padded_sequence</c> takes).</param>
        /// <param name="h0">The initial state of every layer and direction, (numLayers·D, B, H); zeros when null.</param>
        /// <returns>The output, shape (T, B, D·H) or (B, T, D·H) when batchFirst, with zeros at padded steps; and h_n:
        /// each sequence's state after its last valid step (for the backward direction, after its first).</returns>
        public (Tensor output, Tensor h_n) forward(Tensor input, Tensor lengths, Tensor? h0)
        {
            ValidateInput(input, h0);
            var checkedLengths = SequenceLengths.Check(lengths, input.shape[BatchFirst ? 0 : 1], input.shape[BatchFirst ? 1 : 0], nameof(lengths));
            return RunPadded(input, checkedLengths, h0);
        }

        /// <summary>
        /// Applies the IndRNN stack to a packed batch of variable-length sequences, as TorchSharp's recurrent layers do
        /// (<see cref="torch.nn.utils.rnn.pack_padded_sequence"/>, <see cref="torch.nn.utils.rnn.pack_sequence"/>).
        /// </summary>
        /// <param name="input">The packed sequences; <c>data</c> has shape (Σ len_b, input_size). batchFirst does not
        /// apply to packed sequences.</param>
        /// <param name="h0">The initial state of every layer and direction, (numLayers·D, B, H) with the sequences in
        /// their original (unsorted) order; zeros when null.</param>
        /// <returns>The output as a packed sequence with the input's batch sizes and order (<c>data</c> (Σ len_b, D·H));
        /// and h_n, the final state of every sequence, in the original order.</returns>
        public (PackedSequence output, Tensor h_n) forward(PackedSequence input, Tensor? h0)
        {
            if (input is null) throw new ArgumentNullException(nameof(input));
            ValidatePacked(input, h0);
            using var scope = torch.NewDisposeScope();
            var (padded, lengths, checkedLengths) = Stacking.Unpack(input, nameof(input));
            var (output, hn) = Run(padded, checkedLengths, h0);
            var packed = Stacking.Repack(output, lengths, input);
            return (packed.MoveToOuterDisposeScope(), hn.MoveToOuterDisposeScope());
        }

        /// <summary>
        /// Applies the IndRNN stack to an input sequence (see <see cref="forward(Tensor, Tensor?)"/>), running hooks.
        /// </summary>
        /// <param name="input">Tensor of shape (T, B, input_size), or (B, T, input_size) when batchFirst.</param>
        /// <param name="h0">The initial state, (numLayers·D, B, H); zeros when null.</param>
        public new (Tensor output, Tensor h_n) call(Tensor input, Tensor? h0 = null) => base.call(input, h0);

        /// <summary>
        /// Applies the IndRNN stack to a padded batch of variable-length sequences (see
        /// <see cref="forward(Tensor, Tensor, Tensor?)"/>). No hooks run, as with TorchSharp's packed-sequence calls.
        /// </summary>
        /// <param name="input">Tensor of shape (T, B, input_size), or (B, T, input_size) when batchFirst.</param>
        /// <param name="lengths">len_b for every sequence: 1-D int64 CPU, size B, every length in [1, T].</param>
        /// <param name="h0">The initial state, (numLayers·D, B, H); zeros when null.</param>
        public (Tensor output, Tensor h_n) call(Tensor input, Tensor lengths, Tensor? h0) => forward(input, lengths, h0);

        /// <summary>
        /// Applies the IndRNN stack to a padded batch of variable-length sequences (see
        /// <see cref="forward(Tensor, Tensor, Tensor?)"/>), with the lengths given as an array.
        /// </summary>
        /// <param name="input">Tensor of shape (T, B, input_size), or (B, T, input_size) when batchFirst.</param>
        /// <param name="lengths">len_b for every sequence: B entries, each in [1, T].</param>
        /// <param name="h0">The initial state, (numLayers·D, B, H); zeros when null.</param>
        public (Tensor output, Tensor h_n) call(Tensor input, long[] lengths, Tensor? h0 = null)
        {
            if (lengths is null) throw new ArgumentNullException(nameof(lengths));
            using var lengthsTensor = torch.tensor(lengths, dtype: ScalarType.Int64);
            return forward(input, lengthsTensor, h0);
        }

        /// <summary>
        /// Applies the IndRNN stack to a packed batch of variable-length sequences (see
        /// <see cref="forward(PackedSequence, Tensor?)"/>). No hooks run, as with TorchSharp's packed-sequence calls.
        /// </summary>
        /// <param name="input">The packed sequences.</param>
        /// <param name="h0">The initial state, sequences in their original order; zeros when null.</param>
        public (PackedSequence output, Tensor h_n) call(PackedSequence input, Tensor? h0 = null) => forward(input, h0);

        /// <summary>
        /// Clamps every layer's u to [−U_bound, U_bound] in place (both directions). Call after every optimizer step:
        /// <c>optimizer.step(); model.ApplyConstraints();</c>
        /// </summary>
        public void ApplyConstraints()
        {
            foreach (var layer in AllLayers) layer.ApplyConstraints();
        }

        /// <summary>Runs a checked (T, B, I) or (B, T, I) input; the result in the caller's dispose scope.</summary>
        private (Tensor output, Tensor h_n) RunPadded(Tensor input, SequenceLengths? lengths, Tensor? h0)
        {
            using var scope = torch.NewDisposeScope();
            var (y, hn) = Run(BatchFirst ? input.transpose(0, 1) : input, lengths, h0);
            var output = BatchFirst ? y.transpose(0, 1) : y;
            return (output.MoveToOuterDisposeScope(), hn.MoveToOuterDisposeScope());
        }

        /// <summary>
        /// The stack over a time-first input (T, B, I): each layer (both directions when bidirectional), then the
        /// residual connection, BatchNorm and dropout between layers (<see cref="Stacking"/>). A variable-length batch
        /// is masked and sorted by decreasing length once, run in that order by every layer, and restored at the end.
        /// Results are left in the current dispose scope.
        /// </summary>
        private (Tensor output, Tensor h_n) Run(Tensor x, SequenceLengths? lengths, Tensor? h0)
        {
            long directions = NumDirections;
            var chosen = IndRNNSequence.Resolve(Implementation, x);
            if (lengths is not null && lengths.Full) lengths = null;
            SortedBatch? batch = null;
            Tensor? reverseIndex = null, validRows = null;
            if (lengths is not null)
            {
                // Zero padded input: a residual connection adds the input, padded outputs must stay zero, and NaN or
                // Inf padding must not reach the all-steps-at-once products (or their gradients, where 0 · NaN = NaN).
                x = x.masked_fill(lengths.Valid(x.device).logical_not(), Scalars.Zero);
                batch = new SortedBatch(lengths, x.device);
                x = batch.Sort(x, 1);
                if (h0 is not null) h0 = batch.Sort(h0, 1);
                if (Bidirectional) reverseIndex = batch.Lengths.ReverseIndex(x.device);
                if (norms is not null) validRows = batch.Lengths.ValidFlatIndex(x.device);
            }
            var finals = new Tensor[NumLayers * directions];
            for (int l = 0; l < NumLayers; l++)
            {
                var layerInput = x;
                int k = l * (int)directions;
                var (y, hT) = IndRNNSequence.Run(layers[l], layerInput, h0?[k], batch, chosen);
                finals[k] = hT;
                if (layers_reverse is not null)
                {
                    // The backward direction reads each sequence's valid part reversed; its outputs are put back in
                    // time order, so that output t holds both directions' h at step t.
                    var reversed = Stacking.Reverse(layerInput, reverseIndex);
                    var (yr, hr) = IndRNNSequence.Run(layers_reverse[l], reversed, h0?[k + 1], batch, chosen);
                    finals[k + 1] = hr;
                    y = torch.cat(new[] { y, Stacking.Reverse(yr, reverseIndex) }, 2);
                }
                if (Residual)
                    y = Stacking.Residual(y, layerInput);
                if (l < NumLayers - 1)
                {
                    // BatchNorm's statistics over the valid steps only; padded positions stay zero.
                    if (norms is not null)
                        y = Stacking.Normalize(norms[l], y, validRows);
                    y = Stacking.Dropout(y, Dropout, training);
                }
                x = y;
            }
            var hn = torch.stack(finals);
            if (batch is null) return (x, hn);
            return (batch.Unsort(x, 1), batch.Unsort(hn, 1));
        }

        /// <summary>A parameter of the stack: inputs and states must have its dtype and device.</summary>
        private Tensor AnyParameter => layers[0].weight_ih;

        private void ValidateInput(Tensor input, Tensor? h0)
        {
            var (_, batch) = Check.Sequence(input, nameof(input), InputSize, BatchFirst, AnyParameter);
            ValidateState(h0, batch);
        }

        private void ValidatePacked(PackedSequence input, Tensor? h0)
        {
            Check.PackedData(input.data, nameof(input), InputSize, AnyParameter);
            using var first = input.batch_sizes[0];
            ValidateState(h0, first.item<long>());
        }

        private void ValidateState(Tensor? h0, long batch)
        {
            if (h0 is null) return;
            if (h0.dim() == 1 && h0.dtype == ScalarType.Int64)
                throw new ArgumentException($"h0 must be the initial state (numLayers·D, B, H) = {Check.Shape(NumLayers * NumDirections, batch, HiddenSize)}; " +
                    $"got a 1-D int64 tensor of shape {Check.Shape(h0)}. Lengths go in call(input, lengths, h0), with h0 (or null) as the third argument.", nameof(h0));
            Check.Tensor(h0, nameof(h0), new[] { NumLayers * NumDirections, batch, HiddenSize }, AnyParameter);
        }
    }
}
