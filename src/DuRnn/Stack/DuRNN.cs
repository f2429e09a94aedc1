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
    /// A multi-layer Dual Recurrent Neural Network (DuRNN; Zhang, Li, Ye, Zhu, Li, Neurocomputing 2021) over an input
    /// sequence: a drop-in replacement for <c>torch.nn.LSTM</c> that learns dependencies over thousands of steps.
    /// Each layer (<see cref="DuRNNLayer"/>) computes, for t = 1..T,
    /// <code>
    /// s_t = φ(W_s x_t + b_s + U_s s_{t−1})               short-term memory, ‖U_s‖₂ ≤ ρ
    /// g_t = σ(W_gx x_t + W_gs s_t + b_g)                 selection gate
    /// h_t = ReLU(W_h (g_t ⊙ s_t) + b_h + u ⊙ h_{t−1})    long-term memory (IndRNN), |u_i| ≤ U_bound
    /// </code>
    /// and layer l+1 reads the outputs h^(l) of layer l. Between layers, optionally: a residual connection
    /// where sizes match, BatchNorm over batch and time, and dropout with one mask per sequence shared over time.
    /// With <c>bidirectional: true</c> every layer also runs a second, independent set of cells over the reversed
    /// sequence, and its output is the concatenation [forward h_t, backward h_t] (2H features), as in PyTorch.
    /// </summary>
    /// <remarks>
    /// Keep the constraints by calling <see cref="ApplyConstraints"/> after every optimizer step
    /// (projected gradient descent); the parameters satisfy them right after construction.
    /// Variable-length batches: <see cref="call(PackedSequence, DuRNNState?)"/> (PyTorch's packed sequences) or
    /// <see cref="call(Tensor, Tensor, DuRNNState?)"/> (a padded batch and its lengths). Streaming: pass the returned
    /// state into the next call; <see cref="DuRNNState.Detach"/> between chunks gives truncated backpropagation
    /// through time.
    /// </remarks>
    public sealed partial class DuRNN : torch.nn.Module<Tensor, DuRNNState?, (Tensor output, DuRNNState state)>
    {
#pragma warning disable IDE1006 // field names are the state-dict names, as in PyTorch
        private readonly ModuleList<DuRNNLayer> layers;
        private readonly ModuleList<DuRNNLayer>? layers_reverse;
        private readonly ModuleList<BatchNorm1d>? norms;
#pragma warning restore IDE1006

        /// <summary>
        /// Creates a multi-layer DuRNN.
        /// </summary>
        /// <param name="inputSize">The number of expected features in the input x.</param>
        /// <param name="hiddenSize">H, the number of long-term neurons per layer: the number of output features.</param>
        /// <param name="numLayers">Number of recurrent layers. E.g., setting numLayers = 2 stacks two DuRNN layers, the
        /// second taking in the outputs of the first and computing the final results. Default: 1.</param>
        /// <param name="shortTermSize">S, the number of short-term neurons per layer; <c>null</c> means S = H.</param>
        /// <param name="activation">φ of the short-term cells: ReLU (default) or tanh.</param>
        /// <param name="shortTermConstraint">The constraint on every U_s; <c>null</c> means
        /// <see cref="ShortTermConstraint.SpectralNorm(double)"/> with ρ = 0.9.</param>
        /// <param name="mag">MAG in U_bound = MAG^(1/T_max), the bound on |u_i| (default 2, as in IndRNN's adding problem).</param>
        /// <param name="maxSequenceLength">T_max, the longest dependency to keep (usually the sequence length);
        /// <c>null</c> means U_bound = 1.</param>
        /// <param name="longMemoryLastLayer">Initialise the last layer's u ~ U(U_lowbound, U_bound), with
        /// U_lowbound = (1/MAG)^(1/T_max), so that it keeps long memory from the start (IndRNN's practice).</param>
        /// <param name="batchNorm">Apply BatchNorm over batch and time to the outputs of every layer but the last.</param>
        /// <param name="residual">Add each layer's input to its output where their sizes match.</param>
        /// <param name="batchFirst">If true, the input and output are (B, T, feature) instead of (T, B, feature).
        /// The state is laid out (numLayers·D, B, ·) either way.</param>
        /// <param name="dropout">If non-zero, a dropout layer with this probability on the outputs of each layer
        /// except the last, with one mask per sequence shared over all steps (train mode only). Default: 0.</param>
        /// <param name="longTermInputWeightStd">σ_h of the long-term input weights W_h ~ N(0, σ_h²); <c>null</c> (default) means
        /// <see cref="LongTermCell.DefaultInputWeightStd"/>: 0.001 up to T_max = 100, scaled down with T_max beyond, so
        /// that the untrained output does not grow with the sequence length.</param>
        /// <param name="device">The desired device of the parameters and buffers.</param>
        /// <param name="dtype">The desired floating point dtype of the parameters and buffers.</param>
        /// <param name="bidirectional">If true, a bidirectional DuRNN (D = 2): every layer has a second set of cells
        /// (state-dict keys <c>layers_reverse.{l}.*</c>) that reads the sequence backwards, and the layer's output is
        /// [forward h_t, backward h_t], 2H features; layer l+1, BatchNorm and the final output see 2H features. The
        /// state is (numLayers·2, B, ·) with index layer·2 + direction, as TorchSharp's h_n. Default: false (D = 1).</param>
        public DuRNN(long inputSize, long hiddenSize, long numLayers = 1, long? shortTermSize = null,
            ShortTermActivation activation = ShortTermActivation.ReLU, ShortTermConstraint? shortTermConstraint = null,
            double mag = 2.0, long? maxSequenceLength = null, bool longMemoryLastLayer = false,
            bool batchNorm = false, bool residual = false, bool batchFirst = false, double dropout = 0.0,
            double? longTermInputWeightStd = null, Device? device = null, ScalarType? dtype = null, bool bidirectional = false)
            : base(nameof(DuRNN))
        {
            Check.Positive(numLayers, nameof(numLayers));
            Check.Dropout(dropout, nameof(dropout));
            var options = Check.LayerOptions(inputSize, hiddenSize, shortTermSize, activation, mag, maxSequenceLength,
                longTermInputWeightStd, dtype);

            InputSize = inputSize;
            HiddenSize = hiddenSize;
            NumLayers = numLayers;
            ShortTermSize = shortTermSize ?? hiddenSize;
            Activation = activation;
            ShortTermConstraint = shortTermConstraint ?? ShortTermConstraint.Default;
            Mag = mag;
            MaxSequenceLength = maxSequenceLength;
            BatchNorm = batchNorm;
            Residual = residual;
            BatchFirst = batchFirst;
            Dropout = dropout;
            Bidirectional = bidirectional;

            DuRNNLayer[] CreateLayers()
            {
                var list = new List<DuRNNLayer>();
                for (long l = 0; l < numLayers; l++)
                {
                    list.Add(new DuRNNLayer(l == 0 ? inputSize : OutputSize, hiddenSize, ShortTermSize, activation,
                        ShortTermConstraint, mag, maxSequenceLength, longMemoryLastLayer && l == numLayers - 1,
                        longTermInputWeightStd, device, dtype, options));
                }
                return list.ToArray();
            }
            layers = new ModuleList<DuRNNLayer>(CreateLayers());
            if (bidirectional)
                layers_reverse = new ModuleList<DuRNNLayer>(CreateLayers());
            if (batchNorm)
                norms = Stacking.CreateNorms(numLayers, OutputSize, device, dtype);
            RegisterComponents();
        }

        /// <summary>
        /// Adam's parameter groups for training this DuRNN (and the modules trained with it) as the README's loop and the
        /// samples do: the weight matrices with <paramref name="weightDecay"/>, the 1-D parameters (biases, u) without it
        /// (IndRNN's practice), and every layer's long-term input weights W_h and bias b_h with the learning rate
        /// <paramref name="lr"/> · <see cref="LongTermCell.LearningRateScale"/> (1 up to T_max = 100, smaller beyond), so
        /// that an optimizer step moves the output by about as much at any maxSequenceLength.
        /// </summary>
        /// <param name="lr">The learning rate (IndRNN's recipe: 2e-4).</param>
        /// <param name="weightDecay">L2 weight decay of the weight matrices (IndRNN's recipe: 1e-4); never on biases or u.</param>
        /// <param name="others">Parameters of other modules trained with this one (e.g. a read-out): lr, and the same
        /// weight-decay split. Null for none.</param>
        /// <param name="beta1">Adam's β₁.</param>
        /// <param name="beta2">Adam's β₂ (set explicitly: TorchSharp 0.107's group factory defaults it to 0.99).</param>
        /// <returns>The groups, for <c>torch.optim.Adam(groups, lr)</c>; every parameter in exactly one.</returns>
        public IReadOnlyList<TorchSharp.Modules.Adam.ParamGroup> ParameterGroups(double lr, double weightDecay = 0,
            IEnumerable<Parameter>? others = null, double beta1 = 0.9, double beta2 = 0.999)
            => LearningRates.Groups(parameters(), AllLayers.Select(l => l.LongTerm).ToList(), lr, weightDecay, others, beta1, beta2);

        /// <summary>
        /// Re-applies the documented initialisation in place, as the constructor did: every layer's cells
        /// (<see cref="DuRNNLayer.reset_parameters"/>, forward layers first, then the backward ones) and every BatchNorm
        /// (weight 1, bias 0, running statistics reset). With the same <c>torch.manual_seed</c> before it, the parameters
        /// equal those of a newly constructed stack.
        /// </summary>
        public void reset_parameters()
        {
            foreach (var layer in AllLayers) layer.reset_parameters();
            if (norms is null) return;
            foreach (var norm in norms) norm.reset_parameters();
        }

        /// <summary>The number of input features.</summary>
        public long InputSize { get; }

        /// <summary>H, the number of long-term neurons per layer and of output features.</summary>
        public long HiddenSize { get; }

        /// <summary>S, the number of short-term neurons per layer.</summary>
        public long ShortTermSize { get; }

        /// <summary>The number of stacked layers.</summary>
        public long NumLayers { get; }

        /// <summary>φ of the short-term cells.</summary>
        public ShortTermActivation Activation { get; }

        /// <summary>The constraint on every U_s.</summary>
        public ShortTermConstraint ShortTermConstraint { get; }

        /// <summary>MAG in U_bound = MAG^(1/T_max).</summary>
        public double Mag { get; }

        /// <summary>T_max for U_bound, or null (U_bound = 1).</summary>
        public long? MaxSequenceLength { get; }

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

        /// <summary>The layers, first to last (the forward direction when bidirectional).</summary>
        public IReadOnlyList<DuRNNLayer> Layers => layers.ToList();

        /// <summary>The backward direction's layers, first to last; empty unless <see cref="Bidirectional"/>.</summary>
        public IReadOnlyList<DuRNNLayer> ReverseLayers => layers_reverse?.ToList() ?? new List<DuRNNLayer>();

        private IEnumerable<DuRNNLayer> AllLayers => layers_reverse is null ? layers : layers.Concat(layers_reverse);

        /// <summary>
        /// How every layer evaluates its sequence (<see cref="DuRNNImplementation.Auto"/> by default); every choice
        /// computes the same equations.
        /// </summary>
        public DuRNNImplementation Implementation
        {
            get => layers[0].Implementation;
            set
            {
                foreach (var layer in AllLayers) layer.Implementation = value;
            }
        }

        /// <summary>
        /// Applies the DuRNN stack to an input sequence.
        /// </summary>
        /// <param name="input">Tensor of shape (T, B, input_size), or (B, T, input_size) when batchFirst.</param>
        /// <param name="state">The initial state (s_0, h_0) of every layer and direction, laid out (numLayers·D, B, ·);
        /// zeros when null.</param>
        /// <returns>The output (the last layer's h_t for every t, after a residual connection where used), shape
        /// (T, B, D·H) or (B, T, D·H) when batchFirst; and the final state (s_T, h_T) of every layer and direction.</returns>
        public override (Tensor output, DuRNNState state) forward(Tensor input, DuRNNState? state)
        {
            ValidateInput(input, state);
            return RunPadded(input, null, state);
        }

        /// <summary>
        /// Applies the DuRNN stack to a padded batch of variable-length sequences: sequence b is its first len_b steps,
        /// followed by padding whose values are ignored. Padded steps never change the state, so each sequence's
        /// outputs and final state equal those of running it alone (the backward direction reads only the valid part,
        /// reversed). BatchNorm (in train mode) takes its statistics over the valid steps only.
        /// </summary>
        /// <param name="input">Tensor of shape (T, B, input_size), or (B, T, input_size) when batchFirst.</param>
        /// <param name="lengths">len_b for every sequence: a 1-D int64 CPU tensor of size B with every length in
        /// [1, T], in any order (the form <c>torch.nn.utils.rnn.pack_padded_sequence</c> takes).</param>
        /// <param name="state">The initial state of every layer and direction, (numLayers·D, B, ·); zeros when null.</param>
        /// <returns>The output, shape (T, B, D·H) or (B, T, D·H) when batchFirst, with zeros at padded steps; and the
        /// final state: each sequence's state after its last valid step (for the backward direction, after its
        /// first).</returns>
        public (Tensor output, DuRNNState state) forward(Tensor input, Tensor lengths, DuRNNState? state)
        {
            ValidateInput(input, state);
            var checkedLengths = SequenceLengths.Check(lengths, input.shape[BatchFirst ? 0 : 1], input.shape[BatchFirst ? 1 : 0], nameof(lengths));
            return RunPadded(input, checkedLengths, state);
        }

        /// <summary>
        /// Applies the DuRNN stack to a packed batch of variable-length sequences, as TorchSharp's recurrent layers do
        /// (<see cref="torch.nn.utils.rnn.pack_padded_sequence"/>, <see cref="torch.nn.utils.rnn.pack_sequence"/>).
        /// </summary>
        /// <param name="input">The packed sequences; <c>data</c> has shape (Σ len_b, input_size). batchFirst does not
        /// apply to packed sequences.</param>
        /// <param name="state">The initial state of every layer and direction, (numLayers·D, B, ·) with the sequences
        /// in their original (unsorted) order; zeros when null.</param>
        /// <returns>The output as a packed sequence with the input's batch sizes and order (<c>data</c> (Σ len_b, D·H));
        /// and the final state of every sequence, in the original order.</returns>
        public (PackedSequence output, DuRNNState state) forward(PackedSequence input, DuRNNState? state)
        {
            if (input is null) throw new ArgumentNullException(nameof(input));
            ValidatePacked(input, state);
            using var scope = torch.NewDisposeScope();
            // (T, B, I) in the original order, zeros at padded steps, with the lengths (int64, CPU) in that order.
            var (padded, lengths, checkedLengths) = Stacking.Unpack(input, nameof(input));
            var (output, newState) = Run(padded, checkedLengths, state);
            // Packed like the input (same lengths, same sort): the input's batch_sizes and sorted_indices.
            var packed = Stacking.Repack(output, lengths, input);
            return (packed.MoveToOuterDisposeScope(), newState.MoveToOuterDisposeScope());
        }

        /// <summary>
        /// Applies the DuRNN stack to an input sequence (see <see cref="forward(Tensor, DuRNNState?)"/>), running hooks.
        /// </summary>
        /// <param name="input">Tensor of shape (T, B, input_size), or (B, T, input_size) when batchFirst.</param>
        /// <param name="state">The initial state; zeros when null.</param>
        public new (Tensor output, DuRNNState state) call(Tensor input, DuRNNState? state = null) => base.call(input, state);

        /// <summary>
        /// Applies the DuRNN stack to a padded batch of variable-length sequences (see
        /// <see cref="forward(Tensor, Tensor, DuRNNState?)"/>). No hooks run, as with TorchSharp's packed-sequence calls.
        /// </summary>
        /// <param name="input">Tensor of shape (T, B, input_size), or (B, T, input_size) when batchFirst.</param>
        /// <param name="lengths">len_b for every sequence: 1-D int64 CPU, size B, every length in [1, T].</param>
        /// <param name="state">The initial state; zeros when null.</param>
        public (Tensor output, DuRNNState state) call(Tensor input, Tensor lengths, DuRNNState? state = null) => forward(input, lengths, state);

        /// <summary>
        /// Applies the DuRNN stack to a padded batch of variable-length sequences (see
        /// <see cref="forward(Tensor, Tensor, DuRNNState?)"/>), with the lengths given as an array.
        /// </summary>
        /// <param name="input">Tensor of shape (T, B, input_size), or (B, T, input_size) when batchFirst.</param>
        /// <param name="lengths">len_b for every sequence: B entries, each in [1, T].</param>
        /// <param name="state">The initial state; zeros when null.</param>
        public (Tensor output, DuRNNState state) call(Tensor input, long[] lengths, DuRNNState? state = null)
        {
            if (lengths is null) throw new ArgumentNullException(nameof(lengths));
            using var lengthsTensor = torch.tensor(lengths, dtype: ScalarType.Int64);
            return forward(input, lengthsTensor, state);
        }

        /// <summary>
        /// Applies the DuRNN stack to a packed batch of variable-length sequences (see
        /// <see cref="forward(PackedSequence, DuRNNState?)"/>). No hooks run, as with TorchSharp's packed-sequence calls.
        /// </summary>
        /// <param name="input">The packed sequences.</param>
        /// <param name="state">The initial state, sequences in their original order; zeros when null.</param>
        public (PackedSequence output, DuRNNState state) call(PackedSequence input, DuRNNState? state = null) => forward(input, state);

        /// <summary>
        /// Projects every constrained parameter onto its constraint set, in place: each U_s onto its
        /// <see cref="DuRnn.ShortTermConstraint"/> and each u onto [−U_bound, U_bound]. Call after every optimizer step:
        /// <c>optimizer.step(); model.ApplyConstraints();</c>
        /// </summary>
        public void ApplyConstraints()
        {
            foreach (var layer in AllLayers) layer.ApplyConstraints();
        }

        /// <summary>Runs a checked (T, B, I) or (B, T, I) input; the result in the caller's dispose scope.</summary>
        private (Tensor output, DuRNNState state) RunPadded(Tensor input, SequenceLengths? lengths, DuRNNState? state)
        {
            using var scope = torch.NewDisposeScope();
            var (y, newState) = Run(BatchFirst ? input.transpose(0, 1) : input, lengths, state);
            var output = BatchFirst ? y.transpose(0, 1) : y;
            return (output.MoveToOuterDisposeScope(), newState.MoveToOuterDisposeScope());
        }

        /// <summary>
        /// The stack over a time-first input (T, B, I): each layer (both directions when bidirectional), then the
        /// residual connection, BatchNorm and dropout between layers. Results are left in the current dispose scope.
        /// </summary>
        private (Tensor output, DuRNNState state) Run(Tensor x, SequenceLengths? lengths, DuRNNState? state)
        {
            long directions = NumDirections;
            if (lengths is not null && lengths.Full) lengths = null;
            Tensor? reverseIndex = null, validRows = null;
            if (lengths is not null)
            {
                // Zero padded input: a residual connection adds the input, and padded outputs must stay zero.
                x = x.masked_fill(lengths.Valid(x.device).logical_not(), Scalars.Zero);
                if (Bidirectional) reverseIndex = lengths.ReverseIndex(x.device);
                if (norms is not null) validRows = lengths.ValidFlatIndex(x.device);
            }
            var finalShort = new Tensor[NumLayers * directions];
            var finalLong = new Tensor[NumLayers * directions];
            for (int l = 0; l < NumLayers; l++)
            {
                var layerInput = x;
                int k = l * (int)directions;
                var (y, sT, hT) = layers[l].RunChecked(layerInput, state?.ShortTerm[k], state?.LongTerm[k], lengths);
                finalShort[k] = sT;
                finalLong[k] = hT;
                if (layers_reverse is not null)
                {
                    // The backward direction reads each sequence's valid part reversed; its outputs are put back in
                    // time order, so that output t holds both directions' h at step t.
                    var reversed = Stacking.Reverse(layerInput, reverseIndex);
                    var (yr, sr, hr) = layers_reverse[l].RunChecked(reversed, state?.ShortTerm[k + 1], state?.LongTerm[k + 1], lengths);
                    finalShort[k + 1] = sr;
                    finalLong[k + 1] = hr;
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
            return (x, new DuRNNState(torch.stack(finalShort), torch.stack(finalLong)));
        }

        internal (Device device, ScalarType dtype) ParameterDeviceAndType()
        {
            var w = AnyParameter;
            return (w.device, w.dtype);
        }

        /// <summary>A parameter of the stack: inputs and states must have its dtype and device.</summary>
        private Tensor AnyParameter => layers[0].ShortTerm.weight_ih;

        private void ValidateInput(Tensor input, DuRNNState? state)
        {
            var (_, batch) = Check.Sequence(input, nameof(input), InputSize, BatchFirst, AnyParameter);
            ValidateState(state, batch);
        }

        private void ValidatePacked(PackedSequence input, DuRNNState? state)
        {
            Check.PackedData(input.data, nameof(input), InputSize, AnyParameter);
            using var first = input.batch_sizes[0];
            ValidateState(state, first.item<long>());
        }

        private void ValidateState(DuRNNState? state, long batch)
        {
            if (state is null) return;
            long entries = NumLayers * NumDirections;
            Check.Tensor(state.ShortTerm, "state.ShortTerm", new[] { entries, batch, ShortTermSize }, AnyParameter);
            Check.Tensor(state.LongTerm, "state.LongTerm", new[] { entries, batch, HiddenSize }, AnyParameter);
        }
    }
}
