using System;
using System.Collections.Generic;
using System.Linq;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

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
    /// </summary>
    /// <remarks>
    /// Keep the constraints by calling <see cref="ApplyConstraints"/> after every optimizer step
    /// (projected gradient descent); the parameters satisfy them right after construction.
    /// </remarks>
    public sealed partial class DuRNN : torch.nn.Module<Tensor, DuRNNState?, (Tensor output, DuRNNState state)>
    {
#pragma warning disable IDE1006 // field names are the state-dict names, as in PyTorch
        private readonly ModuleList<DuRNNLayer> layers;
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
        /// The state is laid out (numLayers, B, ·) either way.</param>
        /// <param name="dropout">If non-zero, a dropout layer with this probability on the outputs of each layer
        /// except the last, with one mask per sequence shared over all steps (train mode only). Default: 0.</param>
        /// <param name="longTermInputWeightStd">σ_h of the long-term input weights W_h ~ N(0, σ_h²) (default 0.001).</param>
        /// <param name="device">The desired device of the parameters and buffers.</param>
        /// <param name="dtype">The desired floating point dtype of the parameters and buffers.</param>
        public DuRNN(long inputSize, long hiddenSize, long numLayers = 1, long? shortTermSize = null,
            ShortTermActivation activation = ShortTermActivation.ReLU, ShortTermConstraint? shortTermConstraint = null,
            double mag = 2.0, long? maxSequenceLength = null, bool longMemoryLastLayer = false,
            bool batchNorm = false, bool residual = false, bool batchFirst = false, double dropout = 0.0,
            double longTermInputWeightStd = 0.001, Device? device = null, ScalarType? dtype = null)
            : base(nameof(DuRNN))
        {
            Check.Positive(inputSize, nameof(inputSize));
            Check.Positive(hiddenSize, nameof(hiddenSize));
            Check.Positive(numLayers, nameof(numLayers));
            if (shortTermSize is long st) Check.Positive(st, nameof(shortTermSize));
            Check.Activation(activation, nameof(activation));
            Check.FloatingDType(dtype, nameof(dtype));
            Check.NonNegativeFinite(longTermInputWeightStd, nameof(longTermInputWeightStd));
            if (!(dropout >= 0 && dropout < 1))
                throw new ArgumentOutOfRangeException(nameof(dropout), dropout, "dropout must be in [0, 1).");

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

            var list = new List<DuRNNLayer>();
            for (long l = 0; l < numLayers; l++)
            {
                list.Add(new DuRNNLayer(l == 0 ? inputSize : hiddenSize, hiddenSize, ShortTermSize, activation,
                    ShortTermConstraint, mag, maxSequenceLength, longMemoryLastLayer && l == numLayers - 1,
                    longTermInputWeightStd, device, dtype));
            }
            layers = new ModuleList<DuRNNLayer>(list.ToArray());
            if (batchNorm && numLayers > 1)
            {
                var bns = new List<BatchNorm1d>();
                for (long l = 0; l < numLayers - 1; l++)
                {
                    var norm = torch.nn.BatchNorm1d(hiddenSize, device: device, dtype: dtype);
                    // TorchSharp gives the step count the module's dtype; PyTorch (and its state dicts) use int64.
                    norm.num_batches_tracked = torch.tensor(0L, dtype: ScalarType.Int64, device: device).DetachFromDisposeScope();
                    bns.Add(norm);
                }
                norms = new ModuleList<BatchNorm1d>(bns.ToArray());
            }
            RegisterComponents();
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

        /// <summary>The layers, first to last.</summary>
        public IReadOnlyList<DuRNNLayer> Layers => layers.ToList();

        /// <summary>
        /// How every layer evaluates its sequence (<see cref="DuRNNImplementation.Auto"/> by default); every choice
        /// computes the same equations.
        /// </summary>
        public DuRNNImplementation Implementation
        {
            get => layers[0].Implementation;
            set
            {
                foreach (var layer in layers) layer.Implementation = value;
            }
        }

        /// <summary>
        /// Applies the DuRNN stack to an input sequence.
        /// </summary>
        /// <param name="input">Tensor of shape (T, B, input_size), or (B, T, input_size) when batchFirst.</param>
        /// <param name="state">The initial state (s_0, h_0) of every layer, laid out (numLayers, B, ·); zeros when null.</param>
        /// <returns>The output (the last layer's h_t for every t, after a residual connection where used), shape
        /// (T, B, H) or (B, T, H) when batchFirst; and the final state (s_T, h_T) of every layer.</returns>
        public override (Tensor output, DuRNNState state) forward(Tensor input, DuRNNState? state)
        {
            ValidateInput(input, state);
            using var scope = torch.NewDisposeScope();
            var x = BatchFirst ? input.transpose(0, 1) : input;
            long steps = x.shape[0], batch = x.shape[1];
            var finalShort = new Tensor[NumLayers];
            var finalLong = new Tensor[NumLayers];
            for (int l = 0; l < NumLayers; l++)
            {
                var layerInput = x;
                var (y, sT, hT) = layers[l].call(layerInput, state?.ShortTerm[l], state?.LongTerm[l]);
                finalShort[l] = sT;
                finalLong[l] = hT;
                if (Residual && layerInput.shape[2] == HiddenSize)
                    y = y + layerInput;
                if (l < NumLayers - 1)
                {
                    if (norms is not null)
                        y = norms[l].call(y.reshape(steps * batch, HiddenSize)).reshape(steps, batch, HiddenSize);
                    if (training && Dropout > 0)
                    {
                        var mask = torch.empty(1, batch, HiddenSize, dtype: y.dtype, device: y.device)
                            .bernoulli_(1 - Dropout).div_(1 - Dropout);
                        y = y * mask;
                    }
                }
                x = y;
            }
            var output = BatchFirst ? x.transpose(0, 1) : x;
            var newState = new DuRNNState(torch.stack(finalShort), torch.stack(finalLong));
            output.MoveToOuterDisposeScope();
            newState.ShortTerm.MoveToOuterDisposeScope();
            newState.LongTerm.MoveToOuterDisposeScope();
            return (output, newState);
        }

        /// <summary>
        /// Applies the DuRNN stack to an input sequence (see <see cref="forward(Tensor, DuRNNState?)"/>), running hooks.
        /// </summary>
        /// <param name="input">Tensor of shape (T, B, input_size), or (B, T, input_size) when batchFirst.</param>
        /// <param name="state">The initial state; zeros when null.</param>
        public new (Tensor output, DuRNNState state) call(Tensor input, DuRNNState? state = null) => base.call(input, state);

        /// <summary>
        /// Projects every constrained parameter onto its constraint set, in place: each U_s onto its
        /// <see cref="DuRnn.ShortTermConstraint"/> and each u onto [−U_bound, U_bound]. Call after every optimizer step:
        /// <c>optimizer.step(); model.ApplyConstraints();</c>
        /// </summary>
        public void ApplyConstraints()
        {
            foreach (var layer in layers) layer.ApplyConstraints();
        }

        internal (Device device, ScalarType dtype) ParameterDeviceAndType()
        {
            var w = layers[0].ShortTerm.weight_ih;
            return (w.device, w.dtype);
        }

        private void ValidateInput(Tensor input, DuRNNState? state)
        {
            if (input is null) throw new ArgumentNullException(nameof(input));
            var (device, dtype) = ParameterDeviceAndType();
            string layout = BatchFirst ? "(B, T, I)" : "(T, B, I)";
            if (input.dim() != 3)
                throw new ArgumentException($"input must be 3-D {layout} with I = {InputSize}; got shape {Check.Shape(input)}.", nameof(input));
            if (input.dtype != dtype)
                throw new ArgumentException($"input must have dtype {dtype} (the module's); got {input.dtype}.", nameof(input));
            if (input.device.type != device.type || input.device.index != device.index)
                throw new ArgumentException($"input must be on device {device} (the module's); got {input.device}.", nameof(input));
            if (input.shape[2] != InputSize)
                throw new ArgumentException($"input must be {layout} with I = {InputSize}; got shape {Check.Shape(input)}.", nameof(input));
            long steps = input.shape[BatchFirst ? 1 : 0], batch = input.shape[BatchFirst ? 0 : 1];
            if (steps == 0)
                throw new ArgumentException($"input must have at least one time step (T > 0); got shape {Check.Shape(input)}.", nameof(input));
            if (batch == 0)
                throw new ArgumentException($"input must hold at least one sequence (B > 0); got shape {Check.Shape(input)}.", nameof(input));
            if (state is not null)
            {
                Check.Tensor(state.ShortTerm, "state.ShortTerm", new[] { NumLayers, batch, ShortTermSize }, dtype, device);
                Check.Tensor(state.LongTerm, "state.LongTerm", new[] { NumLayers, batch, HiddenSize }, dtype, device);
            }
        }
    }
}
