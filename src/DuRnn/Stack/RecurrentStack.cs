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
    /// What <see cref="DuRNN"/> and <see cref="IndRNN"/> share: a stack of recurrent layers (each a
    /// <typeparamref name="TLayer"/>, optionally a second set reading the sequence backwards), with a residual connection,
    /// BatchNorm and dropout between layers; the calls (padded, with lengths, packed), the checks at the public boundary,
    /// checked loading, the constraints, the initialisation, the learning-rate groups and the diagnostics. The two stacks
    /// differ only in their layer type and its state: a DuRNN layer carries (s, h), an IndRNN layer h.
    /// </summary>
    /// <remarks>
    /// The state-dict keys are the fields below (<c>layers.{l}.*</c>, <c>layers_reverse.{l}.*</c>, <c>norms.{l}.*</c>):
    /// TorchSharp registers the private fields of a module's base classes too. The constructor is private protected:
    /// the library's two stacks are the only subclasses.
    /// </remarks>
    /// <typeparam name="TLayer">The layer: <see cref="DuRNNLayer"/> or <see cref="LongTermCell"/>.</typeparam>
    /// <typeparam name="TState">The state of every layer and direction: <see cref="DuRNNState"/> or a tensor h.</typeparam>
    public abstract partial class RecurrentStack<TLayer, TState> :
        torch.nn.Module<Tensor, TState?, (Tensor output, TState state)>, IRecurrentStack
        where TLayer : torch.nn.Module
        where TState : class
    {
#pragma warning disable IDE1006 // field names are the state-dict names, as in PyTorch
        private readonly ModuleList<TLayer> layers;
        private readonly ModuleList<TLayer>? layers_reverse;
        private readonly ModuleList<BatchNorm1d>? norms;
#pragma warning restore IDE1006

        private readonly StateLayout<TState> layout;
        private DuRNNImplementation implementation = DuRNNImplementation.Auto;

        /// <summary>Creates the stack from checked options and a factory of checked layers.</summary>
        /// <param name="name">The module name.</param>
        /// <param name="options">The stack's options (checked here).</param>
        /// <param name="createLayer">Creates layer l (its input size, and whether it is the last layer).</param>
        /// <param name="layout">The state's parts.</param>
        private protected RecurrentStack(string name, StackOptions options, Func<long, long, bool, TLayer> createLayer,
            StateLayout<TState> layout)
            : base(name)
        {
            this.layout = layout;
            InputSize = options.InputSize;
            HiddenSize = options.HiddenSize;
            NumLayers = options.NumLayers;
            Mag = options.Mag;
            MaxSequenceLength = options.MaxSequenceLength;
            LongMemoryLastLayer = options.LongMemoryLastLayer;
            BatchNorm = options.BatchNorm;
            Residual = options.Residual;
            BatchFirst = options.BatchFirst;
            Dropout = options.Dropout;
            Bidirectional = options.Bidirectional;
            LongTermInputWeightStd = options.LongTermInputWeightStd;

            TLayer[] CreateLayers() => Enumerable.Range(0, (int)NumLayers)
                .Select(l => createLayer(l, l == 0 ? InputSize : OutputSize, l == NumLayers - 1)).ToArray();
            layers = new ModuleList<TLayer>(CreateLayers());
            if (Bidirectional)
                layers_reverse = new ModuleList<TLayer>(CreateLayers());
            if (BatchNorm)
                norms = Stacking.CreateNorms(NumLayers, OutputSize, options.Device, options.DType);
        }

        /// <summary>The number of input features.</summary>
        public long InputSize { get; }

        /// <summary>H, the number of long-term neurons per layer and direction.</summary>
        public long HiddenSize { get; }

        /// <summary>The number of stacked layers.</summary>
        public long NumLayers { get; }

        /// <summary>MAG in U_bound = MAG^(1/T_max).</summary>
        public double Mag { get; }

        /// <summary>T_max for U_bound, or null (U_bound = 1).</summary>
        public long? MaxSequenceLength { get; }

        /// <summary>U_bound = MAG^(1/T_max) (1 without T_max): <see cref="ApplyConstraints"/> keeps every |u_i| ≤ U_bound.</summary>
        public double RecurrentBound => LongTerm(layers[0]).RecurrentBound;

        /// <summary>Whether the last layer's u was initialised in [U_lowbound, U_bound] (long memory from the start).</summary>
        public bool LongMemoryLastLayer { get; }

        /// <summary>
        /// σ of the long-term input weights' initialisation, W ~ N(0, σ²), as given; null: each layer's
        /// <see cref="LongTermCell.InputWeightStd"/> follows <see cref="LongTermCell.DefaultInputWeightStd"/>.
        /// </summary>
        public double? LongTermInputWeightStd { get; }

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
        public IReadOnlyList<TLayer> Layers => layers.ToList();

        /// <summary>The backward direction's layers, first to last; empty unless <see cref="Bidirectional"/>.</summary>
        public IReadOnlyList<TLayer> ReverseLayers => layers_reverse?.ToList() ?? new List<TLayer>();

        /// <summary>Every layer: the forward direction's, then the backward direction's.</summary>
        private IEnumerable<TLayer> AllLayers => layers_reverse is null ? layers : layers.Concat(layers_reverse);

        /// <summary>
        /// How every layer evaluates its sequence: <see cref="DuRNNImplementation.Auto"/> (default) is the fused kernels for
        /// float32 and float64 on the CPU and Batched elsewhere (<see cref="Implementations.Resolve"/>); every choice
        /// computes the same equations.
        /// </summary>
        /// <exception cref="ArgumentOutOfRangeException">The value is not one of the enum's members.</exception>
        public DuRNNImplementation Implementation
        {
            get => implementation;
            set => implementation = Implementations.Checked(value, nameof(value));
        }

        /// <summary>
        /// Re-applies the documented initialisation in place, as the constructor did: every layer (forward layers first,
        /// then the backward ones) and every BatchNorm (weight 1, bias 0, running statistics reset). With the same
        /// <c>torch.manual_seed</c> before it, the parameters equal those of a newly constructed stack.
        /// </summary>
        public void reset_parameters()
        {
            foreach (var layer in AllLayers) Layer(layer).reset_parameters();
            if (norms is null) return;
            foreach (var norm in norms) norm.reset_parameters();
        }

        /// <summary>
        /// Projects every constrained parameter onto its constraint set, in place (both directions): each u onto
        /// [−U_bound, U_bound] and, in a DuRNN, each U_s onto its <see cref="DuRnn.ShortTermConstraint"/>. Call after every
        /// optimizer step: <c>optimizer.step(); model.ApplyConstraints();</c>
        /// </summary>
        /// <exception cref="NonFiniteParameterException">A constrained parameter holds NaN or ±Inf; its key names the layer
        /// (all are checked before any is changed).</exception>
        public void ApplyConstraints()
        {
            var named = layers.Select((layer, l) => ($"layers.{l}.", layer))
                .Concat(layers_reverse?.Select((layer, l) => ($"layers_reverse.{l}.", layer)) ?? Enumerable.Empty<(string, TLayer)>())
                .ToList();
            foreach (var (prefix, layer) in named)
            {
                try
                {
                    Layer(layer).CheckFinite();
                }
                catch (NonFiniteParameterException e)
                {
                    throw e.WithPrefix(prefix);
                }
            }
            foreach (var (_, layer) in named) Layer(layer).ApplyConstraints();
        }

        /// <summary>
        /// Adam's parameter groups for training this stack (and the modules trained with it) as the README's loop and the
        /// samples do: the weight matrices with <paramref name="weightDecay"/>, the 1-D parameters (biases, u) without it
        /// (IndRNN's practice), every long-term cell's input weights and bias with the learning rate
        /// <paramref name="lr"/> · <see cref="LongTermCell.LearningRateScale"/> (1 up to T_max = 100, smaller beyond), so
        /// that an optimizer step moves the output by about as much at any maxSequenceLength, and the long-memory layer's
        /// u with <paramref name="lr"/> · <see cref="LongTermCell.RecurrentLearningRateScale"/> (√(100 / T_max) beyond
        /// T_max = 100), with which the adding problem was solved up to T = 10 000.
        /// </summary>
        /// <param name="lr">The learning rate (IndRNN's recipe: 2e-4).</param>
        /// <param name="weightDecay">L2 weight decay of the weight matrices (IndRNN's recipe: 1e-4); never on biases or u.</param>
        /// <param name="others">Parameters of other modules trained with this one (e.g. a read-out): lr, and the same
        /// weight-decay split. Null for none.</param>
        /// <param name="beta1">Adam's β₁.</param>
        /// <param name="beta2">Adam's β₂ (set explicitly: TorchSharp 0.107's group factory defaults it to 0.99).</param>
        /// <returns>The groups, for <c>torch.optim.Adam(groups, lr)</c>; every parameter in exactly one.</returns>
        public IReadOnlyList<Adam.ParamGroup> ParameterGroups(double lr, double weightDecay = 0,
            IEnumerable<Parameter>? others = null, double beta1 = 0.9, double beta2 = 0.999)
            => LearningRates.Groups(parameters(), AllLayers.Select(LongTerm).ToList(), lr, weightDecay, others, beta1, beta2);

        /// <summary>
        /// What every layer learned, both directions: per layer its long-term neurons' recurrent weights u, their memory
        /// horizons (steps k until |u_i|^k &lt; <paramref name="threshold"/>), U_bound, and ‖U_s‖₂ of its short-term cell
        /// (NaN in an IndRNN, which has none). The forward layers first (<see cref="LayerDiagnostics.Direction"/> 0),
        /// then the backward ones (1).
        /// </summary>
        /// <param name="threshold">The fraction of a contribution that counts as forgotten, in (0, 1); default 0.01.</param>
        /// <exception cref="ArgumentOutOfRangeException"><paramref name="threshold"/> is outside (0, 1).</exception>
        public IReadOnlyList<LayerDiagnostics> Diagnose(double threshold = 0.01)
        {
            IEnumerable<LayerDiagnostics> Direction(IEnumerable<TLayer> direction, int d) => direction.Select((layer, index) =>
            {
                var cell = LongTerm(layer);
                return new LayerDiagnostics(index, cell.RecurrentWeights(), cell.MemoryHorizons(threshold),
                    Layer(layer).ShortTermSpectralNorm(), cell.RecurrentBound, d);
            });
            return Direction(layers, 0).Concat(layers_reverse is null ? Enumerable.Empty<LayerDiagnostics>() : Direction(layers_reverse, 1)).ToList();
        }

        /// <summary>
        /// Applies the stack to an input sequence.
        /// </summary>
        /// <param name="input">Tensor of shape (T, B, input_size), or (B, T, input_size) when batchFirst.</param>
        /// <param name="state">The initial state of every layer and direction, laid out (numLayers·D, B, ·) whatever
        /// batchFirst is; zeros when null.</param>
        /// <returns>The output (the last layer's h_t for every t, after a residual connection where used), shape
        /// (T, B, D·H) or (B, T, D·H) when batchFirst; and the final state of every layer and direction.</returns>
        public override (Tensor output, TState state) forward(Tensor input, TState? state)
        {
            var initial = CheckInput(input, state);
            return RunPadded(input, null, initial);
        }

        /// <summary>
        /// Applies the stack to a padded batch of variable-length sequences: sequence b is its first len_b steps, followed
        /// by padding whose values are ignored. Padded steps never change the state, so each sequence's outputs and final
        /// state equal those of running it alone (the backward direction reads only the valid part, reversed). BatchNorm
        /// (in train mode) takes its statistics over the valid steps only.
        /// </summary>
        /// <param name="input">Tensor of shape (T, B, input_size), or (B, T, input_size) when batchFirst.</param>
        /// <param name="lengths">len_b for every sequence: a 1-D int64 CPU tensor of size B with every length in [1, T],
        /// in any order (the form <c>torch.nn.utils.rnn.pack_padded_sequence</c> takes).</param>
        /// <param name="state">The initial state of every layer and direction, (numLayers·D, B, ·); zeros when null.</param>
        /// <returns>The output, shape (T, B, D·H) or (B, T, D·H) when batchFirst, with zeros at padded steps; and the final
        /// state: each sequence's state after its last valid step (for the backward direction, after its first).</returns>
        public (Tensor output, TState state) forward(Tensor input, Tensor lengths, TState? state)
        {
            var initial = CheckInput(input, state);
            var checkedLengths = SequenceLengths.Check(lengths, input.shape[BatchFirst ? 0 : 1], input.shape[BatchFirst ? 1 : 0], nameof(lengths));
            return RunPadded(input, checkedLengths, initial);
        }

        /// <summary>
        /// Applies the stack to a packed batch of variable-length sequences, as TorchSharp's recurrent layers do
        /// (<see cref="torch.nn.utils.rnn.pack_padded_sequence"/>, <see cref="torch.nn.utils.rnn.pack_sequence"/>).
        /// </summary>
        /// <param name="input">The packed sequences; <c>data</c> has shape (Σ len_b, input_size). batchFirst does not apply
        /// to packed sequences.</param>
        /// <param name="state">The initial state of every layer and direction, (numLayers·D, B, ·) with the sequences in
        /// their original (unsorted) order; zeros when null.</param>
        /// <returns>The output as a packed sequence with the input's batch sizes and order (<c>data</c> (Σ len_b, D·H));
        /// and the final state of every sequence, in the original order.</returns>
        public (PackedSequence output, TState state) forward(PackedSequence input, TState? state)
        {
            if (input is null) throw new ArgumentNullException(nameof(input));
            Check.PackedData(input.data, nameof(input), InputSize, AnyParameter);
            long batch;
            using (var first = input.batch_sizes[0]) batch = first.item<long>();
            var initial = CheckState(state, batch);
            using var scope = torch.NewDisposeScope();
            // (T, B, I) in the original order, zeros at padded steps, with the lengths (int64, CPU) in that order.
            var (padded, lengths, checkedLengths) = Stacking.Unpack(input, nameof(input));
            var (output, finals) = Run(padded, checkedLengths, initial);
            // Packed like the input (same lengths, same sort): the input's batch_sizes and sorted_indices.
            var packed = Stacking.Repack(output, lengths, input);
            return (packed.MoveToOuterDisposeScope(), Outer(finals));
        }

        /// <summary>Applies the stack to an input sequence (see <see cref="forward(Tensor, TState)"/>), running hooks.</summary>
        /// <param name="input">Tensor of shape (T, B, input_size), or (B, T, input_size) when batchFirst.</param>
        /// <param name="state">The initial state, (numLayers·D, B, ·); zeros when null.</param>
        public new (Tensor output, TState state) call(Tensor input, TState? state = null) => base.call(input, state);

        /// <summary>
        /// Applies the stack to a padded batch of variable-length sequences (see
        /// <see cref="forward(Tensor, Tensor, TState)"/>). No hooks run, as with TorchSharp's packed-sequence calls. The
        /// state is not optional here: a call with two tensors, <c>call(x, t)</c>, always passes t as the state.
        /// </summary>
        /// <param name="input">Tensor of shape (T, B, input_size), or (B, T, input_size) when batchFirst.</param>
        /// <param name="lengths">len_b for every sequence: 1-D int64 CPU, size B, every length in [1, T].</param>
        /// <param name="state">The initial state, (numLayers·D, B, ·); zeros when null.</param>
        public (Tensor output, TState state) call(Tensor input, Tensor lengths, TState? state) => forward(input, lengths, state);

        /// <summary>
        /// Applies the stack to a padded batch of variable-length sequences (see
        /// <see cref="forward(Tensor, Tensor, TState)"/>), with the lengths given as an array.
        /// </summary>
        /// <param name="input">Tensor of shape (T, B, input_size), or (B, T, input_size) when batchFirst.</param>
        /// <param name="lengths">len_b for every sequence: B entries, each in [1, T].</param>
        /// <param name="state">The initial state, (numLayers·D, B, ·); zeros when null.</param>
        public (Tensor output, TState state) call(Tensor input, long[] lengths, TState? state = null)
        {
            if (lengths is null) throw new ArgumentNullException(nameof(lengths));
            using var lengthsTensor = torch.tensor(lengths, dtype: ScalarType.Int64);
            return forward(input, lengthsTensor, state);
        }

        /// <summary>
        /// Applies the stack to a padded batch of variable-length sequences (see
        /// <see cref="forward(Tensor, Tensor, TState)"/>), with the lengths given as an array.
        /// </summary>
        /// <param name="input">Tensor of shape (T, B, input_size), or (B, T, input_size) when batchFirst.</param>
        /// <param name="lengths">len_b for every sequence: B entries, each in [1, T].</param>
        /// <param name="state">The initial state, (numLayers·D, B, ·); zeros when null.</param>
        public (Tensor output, TState state) call(Tensor input, int[] lengths, TState? state = null)
        {
            if (lengths is null) throw new ArgumentNullException(nameof(lengths));
            return call(input, lengths.Select(l => (long)l).ToArray(), state);
        }

        /// <summary>
        /// Applies the stack to a packed batch of variable-length sequences (see
        /// <see cref="forward(PackedSequence, TState)"/>). No hooks run, as with TorchSharp's packed-sequence calls.
        /// </summary>
        /// <param name="input">The packed sequences.</param>
        /// <param name="state">The initial state, sequences in their original order; zeros when null.</param>
        public (PackedSequence output, TState state) call(PackedSequence input, TState? state = null) => forward(input, state);

        /// <summary>Runs a checked (T, B, I) or (B, T, I) input; the result in the caller's dispose scope.</summary>
        private (Tensor output, TState state) RunPadded(Tensor input, SequenceLengths? lengths, Tensor[]? initial)
        {
            using var scope = torch.NewDisposeScope();
            var (y, finals) = Run(BatchFirst ? input.transpose(0, 1) : input, lengths, initial);
            var output = BatchFirst ? y.transpose(0, 1) : y;
            return (output.MoveToOuterDisposeScope(), Outer(finals));
        }

        /// <summary>The state made of <paramref name="parts"/>, moved to the caller's dispose scope.</summary>
        private TState Outer(Tensor[] parts)
        {
            foreach (var part in parts) part.MoveToOuterDisposeScope();
            return layout.Compose(parts);
        }

        /// <summary>
        /// The stack over a checked, time-first input (T, B, I): each layer (both directions when bidirectional), then the
        /// residual connection, BatchNorm and dropout between layers (<see cref="Stacking"/>). The implementation is
        /// resolved once; a variable-length batch is masked and sorted by decreasing length once, run in that order by
        /// every layer and direction, and restored once at the end. Results are left in the current dispose scope.
        /// </summary>
        /// <returns>The output (T, B, D·H) and the final state's parts, each (numLayers·D, B, ·).</returns>
        /// <param name="x">The input, time first.</param>
        /// <param name="lengths">The valid lengths, or null.</param>
        /// <param name="initial">The initial state's parts, or null for zeros.</param>
        /// <param name="observe">If given, called with each layer's index and its input (both directions read it), for
        /// diagnostics.</param>
        private (Tensor output, Tensor[] finals) Run(Tensor x, SequenceLengths? lengths, Tensor[]? initial,
            Action<int, Tensor>? observe = null)
        {
            var chosen = Implementations.Resolve(Implementation, x);
            int directions = (int)NumDirections, parts = layout.Parts;
            SortedBatch? batch = null;
            Tensor? reverseIndex = null, validRows = null;
            if (lengths is not null && !lengths.Full)
            {
                (batch, x) = SortedBatch.Prepare(x, lengths);
                if (initial is not null) initial = initial.Select(part => batch.Sort(part, 1)).ToArray();
                if (Bidirectional) reverseIndex = batch.Lengths.ReverseIndex(x.device);
                if (norms is not null) validRows = batch.Lengths.ValidFlatIndex(x.device);
            }
            var finals = Enumerable.Range(0, parts).Select(_ => new Tensor[NumLayers * directions]).ToArray();
            (Tensor output, Tensor[] finals) RunLayer(TLayer layer, Tensor input, int k)
            {
                var start = Enumerable.Range(0, parts).Select(p => initial?[p][k]).ToArray();
                var (y, last) = Layer(layer).RunSequence(input, start, batch, chosen);
                for (int p = 0; p < parts; p++) finals[p][k] = last[p];
                return (y, last);
            }
            for (int l = 0; l < NumLayers; l++)
            {
                var layerInput = x;
                observe?.Invoke(l, layerInput);
                var (y, _) = RunLayer(layers[l], layerInput, l * directions);
                if (layers_reverse is not null)
                {
                    // The backward direction reads each sequence's valid part reversed; its outputs are put back in time
                    // order, so that output t holds both directions' h at step t.
                    var (yr, _) = RunLayer(layers_reverse[l], Stacking.Reverse(layerInput, reverseIndex), l * directions + 1);
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
            var stacked = finals.Select(f => torch.stack(f)).ToArray();
            if (batch is null) return (x, stacked);
            return (batch.Unsort(x, 1), stacked.Select(part => batch.Unsort(part, 1)).ToArray());
        }

        /// <summary>
        /// Runs the stack over a checked, time-first input in eval mode without gradients and returns each layer's input
        /// (the first layer's is <paramref name="input"/>; later ones are the previous layer's outputs after the
        /// residual connection, BatchNorm with its running statistics, and no dropout), for diagnostics. The module's
        /// train/eval mode is restored. Results in the current dispose scope.
        /// </summary>
        internal IReadOnlyList<Tensor> LayerInputs(Tensor input)
        {
            var inputs = new Tensor[NumLayers];
            bool wasTraining = training;
            eval();
            try
            {
                using var noGrad = torch.no_grad();
                Run(BatchFirst ? input.transpose(0, 1) : input, null, null, (l, x) => inputs[l] = x);
            }
            finally
            {
                train(wasTraining);
            }
            return inputs;
        }

        /// <summary>The device and dtype of the parameters (a new state is made of zeros of these).</summary>
        internal (Device device, ScalarType dtype) ParameterDeviceAndType()
        {
            var w = AnyParameter;
            return (w.device, w.dtype);
        }

        /// <summary>A parameter of the stack: inputs and states must have its dtype and device.</summary>
        private Tensor AnyParameter => LongTerm(layers[0]).weight_ih;

        /// <summary>Checks a padded input and its state; returns the state's parts (null: zeros).</summary>
        private Tensor[]? CheckInput(Tensor input, TState? state)
        {
            var (_, batch) = Check.Sequence(input, nameof(input), InputSize, BatchFirst, AnyParameter);
            return CheckState(state, batch);
        }

        /// <summary>Checks every part of a state against (numLayers·D, B, size) and the module's dtype and device.</summary>
        private Tensor[]? CheckState(TState? state, long batch)
        {
            if (state is null) return null;
            var parts = layout.Decompose(state);
            long entries = NumLayers * NumDirections;
            for (int p = 0; p < parts.Length; p++)
            {
                var expected = new[] { entries, batch, layout.Sizes[p] };
                var part = parts[p];
                if (part is not null && part.dim() == 1 && part.dtype == ScalarType.Int64)
                {
                    throw new ArgumentException($"{layout.Names[p]} must be the initial state {Check.Shape(expected)}; got a 1-D int64 " +
                        $"tensor of shape {Check.Shape(part)}. Lengths go in call(input, lengths, state), with the state (or null) " +
                        "as the third argument.", layout.Names[p]);
                }
                Check.Tensor(part, layout.Names[p], expected, AnyParameter);
            }
            return parts;
        }

        /// <summary>The stack's view of a layer.</summary>
        private static IStackLayer Layer(TLayer layer) => (IStackLayer)layer;

        /// <summary>The long-term cell of a layer (an IndRNN layer is one).</summary>
        private static LongTermCell LongTerm(TLayer layer) => Layer(layer).LongTerm;
    }
}
