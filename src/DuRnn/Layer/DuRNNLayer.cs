using System;
using System.Collections.Generic;
using System.Linq;
using TorchSharp;
using static TorchSharp.torch;

namespace DuRnn
{
    /// <summary>
    /// One DuRNN layer over a whole sequence: a <see cref="ShortTermCell"/>, a <see cref="SelectionGate"/> and a
    /// <see cref="LongTermCell"/>. For t = 1..T:
    /// <code>
    /// s_t = φ(W_s x_t + b_s + U_s s_{t−1})                 short-term memory
    /// g_t = σ(W_gx x_t + W_gs s_t + b_g)                   selection gate
    /// h_t = ReLU(W_h (g_t ⊙ s_t) + b_h + u ⊙ h_{t−1})      long-term memory
    /// y_t = h_t
    /// </code>
    /// State-dict keys: <c>short_term.*</c>, <c>gate.*</c>, <c>long_term.*</c>.
    /// </summary>
    public sealed class DuRNNLayer : torch.nn.Module<Tensor, Tensor?, Tensor?, (Tensor output, Tensor shortTerm, Tensor longTerm)>, IStackLayer
    {
#pragma warning disable IDE1006 // field names are the state-dict names, as in PyTorch
        private readonly ShortTermCell short_term;
        private readonly SelectionGate gate;
        private readonly LongTermCell long_term;
#pragma warning restore IDE1006

        /// <summary>
        /// Creates one DuRNN layer.
        /// </summary>
        /// <param name="inputSize">I, the number of expected features in the input.</param>
        /// <param name="hiddenSize">H, the number of long-term neurons (the layer's output features).</param>
        /// <param name="shortTermSize">S, the number of short-term neurons; <c>null</c> means S = H.</param>
        /// <param name="activation">φ of the short-term cell: ReLU (default) or tanh.</param>
        /// <param name="shortTermConstraint">The constraint on U_s; <c>null</c> means ‖U_s‖₂ ≤ 0.9.</param>
        /// <param name="mag">MAG in U_bound = MAG^(1/T_max) (default 2).</param>
        /// <param name="maxSequenceLength">T_max for U_bound; <c>null</c> means U_bound = 1.</param>
        /// <param name="longMemoryInit">Initialise u ~ U(U_lowbound, U_bound) (long memory from the start).</param>
        /// <param name="longTermInputWeightStd">σ_h of W_h ~ N(0, σ_h²); <c>null</c> (default) means
        /// <see cref="LongTermCell.DefaultInputWeightStd"/>(T_max, longMemoryInit).</param>
        /// <param name="device">The desired device of the parameters.</param>
        /// <param name="dtype">The desired floating point dtype of the parameters.</param>
        public DuRNNLayer(long inputSize, long hiddenSize, long? shortTermSize = null,
            ShortTermActivation activation = ShortTermActivation.ReLU, ShortTermConstraint? shortTermConstraint = null,
            double mag = 2.0, long? maxSequenceLength = null, bool longMemoryInit = false,
            double? longTermInputWeightStd = null, Device? device = null, ScalarType? dtype = null)
            : this(inputSize, hiddenSize, shortTermSize, activation, shortTermConstraint, mag, maxSequenceLength, longMemoryInit,
                longTermInputWeightStd, device, dtype, Check.LayerOptions(inputSize, hiddenSize, shortTermSize, activation, mag,
                    maxSequenceLength, longTermInputWeightStd, dtype))
        {
        }

        /// <summary>Creates the layer from options already checked (by this layer's public constructor or the stack's).</summary>
        internal DuRNNLayer(long inputSize, long hiddenSize, long? shortTermSize, ShortTermActivation activation,
            ShortTermConstraint? shortTermConstraint, double mag, long? maxSequenceLength, bool longMemoryInit,
            double? longTermInputWeightStd, Device? device, ScalarType? dtype, Check.Checked options)
            : base(nameof(DuRNNLayer))
        {
            long s = shortTermSize ?? hiddenSize;
            short_term = new ShortTermCell(inputSize, s, activation, shortTermConstraint, device, dtype, options);
            gate = new SelectionGate(inputSize, s, device, dtype, options);
            long_term = new LongTermCell(s, hiddenSize, mag, maxSequenceLength, longMemoryInit, longTermInputWeightStd, device, dtype, options);
            RegisterComponents();
        }

        /// <summary>
        /// Re-applies the documented initialisation of the three cells in place (see
        /// <see cref="ShortTermCell.reset_parameters"/>, <see cref="SelectionGate.reset_parameters"/>,
        /// <see cref="LongTermCell.reset_parameters"/>), in the order the constructor draws them.
        /// </summary>
        public void reset_parameters()
        {
            short_term.reset_parameters();
            gate.reset_parameters();
            long_term.reset_parameters();
        }

        /// <summary>The short-term cell (s_t).</summary>
        public ShortTermCell ShortTerm => short_term;

        /// <summary>The selection gate (g_t).</summary>
        public SelectionGate Gate => gate;

        /// <summary>The long-term IndRNN cell (h_t).</summary>
        public LongTermCell LongTerm => long_term;

        /// <summary>I, the number of input features.</summary>
        public long InputSize => short_term.InputSize;

        /// <summary>S, the number of short-term neurons.</summary>
        public long ShortTermSize => short_term.ShortTermSize;

        /// <summary>H, the number of long-term neurons and output features.</summary>
        public long HiddenSize => long_term.HiddenSize;

        /// <summary>How the sequence is evaluated; every choice computes the same equations.</summary>
        public DuRNNImplementation Implementation { get; set; } = DuRNNImplementation.Auto;

        /// <summary>
        /// Runs the layer over a sequence.
        /// </summary>
        /// <param name="input">x, shape (T, B, I) (time first).</param>
        /// <param name="shortTerm">s_0, shape (B, S); zeros when null.</param>
        /// <param name="longTerm">h_0, shape (B, H); zeros when null.</param>
        /// <returns>The output y = h_1..h_T, shape (T, B, H), and the final states s_T (B, S) and h_T (B, H).</returns>
        public override (Tensor output, Tensor shortTerm, Tensor longTerm) forward(Tensor input, Tensor? shortTerm, Tensor? longTerm)
        {
            ValidateInput(input, shortTerm, longTerm);
            return Run(input, shortTerm, longTerm, null);
        }

        /// <summary>
        /// Runs the layer over a padded batch of variable-length sequences: sequence b is x_1..x_{len_b} followed by
        /// padding. Padded steps never change the state and their outputs are zeros, so each sequence's outputs and
        /// final state are those of running it alone.
        /// </summary>
        /// <param name="input">x, shape (T, B, I) (time first); the values at padded steps are ignored.</param>
        /// <param name="shortTerm">s_0, shape (B, S); zeros when null.</param>
        /// <param name="longTerm">h_0, shape (B, H); zeros when null.</param>
        /// <param name="lengths">len_b for every sequence: a 1-D int64 CPU tensor of size B, each in [1, T], in any
        /// order (as <c>torch.nn.utils.rnn.pack_padded_sequence</c> takes with <c>enforce_sorted: false</c>); null means
        /// every sequence has T steps.</param>
        /// <returns>The output, shape (T, B, H), h_t at valid steps and zeros at padded ones; and the final states
        /// s_{len_b} (B, S) and h_{len_b} (B, H) of every sequence.</returns>
        public (Tensor output, Tensor shortTerm, Tensor longTerm) forward(Tensor input, Tensor? shortTerm, Tensor? longTerm, Tensor? lengths)
        {
            ValidateInput(input, shortTerm, longTerm);
            var checkedLengths = lengths is null ? null : SequenceLengths.Check(lengths, input.shape[1], input.shape[0], nameof(lengths));
            return Run(input, shortTerm, longTerm, checkedLengths);
        }

        /// <summary>
        /// Runs the layer over a padded batch of variable-length sequences (see
        /// <see cref="forward(Tensor, Tensor?, Tensor?, Tensor?)"/>). With <paramref name="lengths"/> null this is the
        /// ordinary call (hooks run); with lengths, no hooks run (as with TorchSharp's packed-sequence calls).
        /// </summary>
        /// <param name="input">x, shape (T, B, I) (time first).</param>
        /// <param name="shortTerm">s_0, shape (B, S); zeros when null.</param>
        /// <param name="longTerm">h_0, shape (B, H); zeros when null.</param>
        /// <param name="lengths">len_b for every sequence (1-D int64 CPU, size B, each in [1, T]); null means all T.</param>
        public (Tensor output, Tensor shortTerm, Tensor longTerm) call(Tensor input, Tensor? shortTerm, Tensor? longTerm, Tensor? lengths) =>
            lengths is null ? base.call(input, shortTerm, longTerm) : forward(input, shortTerm, longTerm, lengths);

        /// <summary>
        /// Runs the layer on checked arguments: a variable-length batch is masked and sorted by decreasing length for
        /// <see cref="RunSequence"/> and restored after it (a stack does this once for all its layers instead).
        /// </summary>
        private (Tensor output, Tensor shortTerm, Tensor longTerm) Run(Tensor input, Tensor? shortTerm, Tensor? longTerm, SequenceLengths? lengths)
        {
            using var scope = torch.NewDisposeScope();
            var chosen = Implementations.Resolve(Implementation, input);
            SortedBatch? batch = null;
            if (lengths is not null && !lengths.Full)
            {
                (batch, input) = SortedBatch.Prepare(input, lengths);
                if (shortTerm is not null) shortTerm = batch.Sort(shortTerm, 0);
                if (longTerm is not null) longTerm = batch.Sort(longTerm, 0);
            }
            var (output, sT, hT) = RunSequence(input, shortTerm, longTerm, batch, chosen);
            if (batch is not null)
                (output, sT, hT) = (batch.Unsort(output, 1), batch.Unsort(sT, 0), batch.Unsort(hT, 0));
            return (output.MoveToOuterDisposeScope(), sT.MoveToOuterDisposeScope(), hT.MoveToOuterDisposeScope());
        }

        /// <inheritdoc cref="IStackLayer.RunSequence"/>
        (Tensor output, Tensor[] finals) IStackLayer.RunSequence(Tensor input, Tensor?[] initial, SortedBatch? batch,
            DuRNNImplementation implementation)
        {
            var (output, sT, hT) = RunSequence(input, initial[0], initial[1], batch, implementation);
            return (output, new[] { sT, hT });
        }

        /// <summary>
        /// The layer over a checked, time-first input in the chosen implementation: with <paramref name="batch"/>, the
        /// input is zero at padded steps and sorted by decreasing length. Results in the current dispose scope.
        /// </summary>
        private (Tensor output, Tensor shortTerm, Tensor longTerm) RunSequence(Tensor input, Tensor? shortTerm, Tensor? longTerm,
            SortedBatch? batch, DuRNNImplementation implementation) => implementation switch
        {
            DuRNNImplementation.Reference => ForwardReference(input, shortTerm, longTerm, batch?.Valid),
            DuRNNImplementation.Batched => ForwardBatched(input, shortTerm, longTerm, batch?.Valid),
            DuRNNImplementation.Fused => ForwardFused(input, shortTerm, longTerm, batch?.BatchSizes),
            _ => throw new ArgumentOutOfRangeException(nameof(implementation), implementation, "Resolve the implementation first."),
        };

        /// <inheritdoc/>
        LongTermCell IStackLayer.LongTerm => long_term;

        /// <inheritdoc/>
        double IStackLayer.ShortTermSpectralNorm() => short_term.SpectralNorm();

        /// <summary>
        /// Throws <see cref="NonFiniteParameterException"/> when U_s (<c>short_term.weight_hh</c>) or u
        /// (<c>long_term.weight_hh</c>) holds NaN or ±Inf; <see cref="ApplyConstraints"/> does this first.
        /// </summary>
        /// <exception cref="NonFiniteParameterException">A constrained parameter is not finite.</exception>
        public void CheckFinite()
        {
            Check.FiniteParameter(short_term.weight_hh, "short_term.weight_hh", "U_s");
            Check.FiniteParameter(long_term.weight_hh, "long_term.weight_hh", "u");
        }

        /// <summary>
        /// Projects the parameters onto their constraint sets in place: U_s onto its
        /// <see cref="ShortTermConstraint"/>, u onto [−U_bound, U_bound].
        /// </summary>
        /// <exception cref="NonFiniteParameterException">U_s or u holds NaN or ±Inf (both are checked before either is
        /// changed).</exception>
        public void ApplyConstraints()
        {
            CheckFinite();
            short_term.ApplyConstraints();
            long_term.ApplyConstraints();
        }

        /// <summary>
        /// The plain reference: every step through the three modules, exactly as the equations read. With variable
        /// lengths (<paramref name="valid"/>, (T, B, 1)), a sequence's state is carried unchanged over its padded
        /// steps and its output there is zero.
        /// </summary>
        private (Tensor, Tensor, Tensor) ForwardReference(Tensor input, Tensor? s, Tensor? h, Tensor? valid)
        {
            long steps = input.shape[0];
            var outputs = new List<Tensor>((int)steps);
            // unbind, not input[t]: the backward of T separate selects would build T full-size gradients (O(T²)).
            var inputs = input.unbind(0);
            for (long t = 0; t < steps; t++)
            {
                var x = inputs[t];
                var sNew = short_term.call(x, s);
                var g = gate.call(x, sNew);
                var hNew = long_term.call(g * sNew, h);
                // Every sequence is valid at step 0 (lengths ≥ 1), so the carried state is never null here.
                s = valid is null || t == 0 ? sNew : torch.where(valid[t], sNew, s!);
                h = valid is null || t == 0 ? hNew : torch.where(valid[t], hNew, h!);
                outputs.Add(h);
            }
            var output = torch.stack(outputs);
            return (valid is null ? output : output.masked_fill(valid.logical_not(), Scalars.Zero), s!, h!);
        }

        /// <summary>
        /// The same equations with everything that does not depend on the previous step computed for all steps at
        /// once: W_s x + b_s, then the short-term recurrence, then g and W_h (g ⊙ s) + b_h for all steps, then the
        /// element-wise long-term recurrence. Variable lengths as in the reference (state carried over padded steps).
        /// </summary>
        private (Tensor, Tensor, Tensor) ForwardBatched(Tensor input, Tensor? s, Tensor? h, Tensor? valid)
        {
            long steps = input.shape[0];
            // unbind, not [t]: the backward of T separate selects would build T full-size gradients (O(T²)).
            var shortInput = short_term.InputProjection(input).unbind(0);
            var shortStates = new Tensor[steps];
            for (long t = 0; t < steps; t++)
            {
                var sNew = short_term.Step(shortInput[t], s);
                shortStates[t] = s = valid is null || t == 0 ? sNew : torch.where(valid[t], sNew, s!);
            }
            var shortTerm = torch.stack(shortStates);

            var g = gate.call(input, shortTerm);
            var longInput = long_term.InputProjection(g * shortTerm).unbind(0);
            var longStates = new Tensor[steps];
            for (long t = 0; t < steps; t++)
            {
                var hNew = long_term.Step(longInput[t], h);
                longStates[t] = h = valid is null || t == 0 ? hNew : torch.where(valid[t], hNew, h!);
            }
            var output = torch.stack(longStates);
            return (valid is null ? output : output.masked_fill(valid.logical_not(), Scalars.Zero), s!, h!);
        }

        /// <summary>
        /// The same equations as three fused autograd nodes over raw memory, each with a hand-written backward: the
        /// short-term cell (W_s x + b_s for all steps, then the recurrence; <see cref="Fused.ShortTermRecurrence"/>), the
        /// gate with the long-term input (g and W_h (g ⊙ s) + b_h for all steps; <see cref="Fused.GatedProjection"/>),
        /// and the long-term recurrence (<see cref="Fused.LongTermRecurrence"/>). Inference runs in blocks of steps
        /// (<see cref="ForwardFusedInChunks"/>), and the smallest inference calls (T·B ≤ 16, e.g. streaming one step
        /// at a time) step by step on raw memory (<see cref="Fused.LayerSteps"/>).
        /// </summary>
        /// <remarks>
        /// Variable lengths use PyTorch's packed layout: the caller has sorted the batch by decreasing length, so that the
        /// sequences still running at step t are the first batch_sizes[t] rows; the recurrences run only those rows
        /// (leaving zeros elsewhere), and each final state is read at its sequence's last valid step.
        /// </remarks>
        private (Tensor, Tensor, Tensor) ForwardFused(Tensor input, Tensor? s0, Tensor? h0, int[]? batchSizes)
        {
            long steps = input.shape[0], batch = input.shape[1];
            s0 ??= torch.zeros(batch, ShortTermSize, dtype: input.dtype, device: input.device);
            h0 ??= torch.zeros(batch, HiddenSize, dtype: input.dtype, device: input.device);
            bool inference = !torch.is_grad_enabled();
            if (batchSizes is null && inference && steps * batch <= Fused.LayerSteps.MaxRows && Fused.LayerSteps.Supports(short_term, gate, long_term))
                return Fused.LayerSteps.Run(input, short_term, gate, long_term, s0, h0);
            long chunk = InferenceChunkSteps(batch, input.element_size());
            if (batchSizes is null && inference && steps > chunk)
                return ForwardFusedInChunks(input, s0, h0, chunk);
            var (shortTerm, sT) = Fused.ShortTermRecurrence.Run(input, short_term.weight_ih, short_term.bias_ih, short_term.weight_hh, s0,
                short_term.Activation, batchSizes);

            var longInput = Fused.GatedProjection.Run(input, shortTerm, gate, long_term);
            // The final states (each row's state at its last valid step) are the recurrences' second outputs.
            var (longTerm, hT) = Fused.LongTermRecurrence.Run(longInput, long_term.weight_hh, h0, batchSizes);
            return (longTerm, sT, hT);
        }

        /// <summary>
        /// Inference (no gradient recorded) in blocks of <paramref name="chunk"/> steps: each block runs
        /// <see cref="ForwardFused"/>'s whole schedule with the states carried from the block before, so that the
        /// block's intermediates (W_s x + b_s, s, g, g ⊙ s, W_h (g ⊙ s) + b_h) stay in the CPU's cache and in memory the
        /// allocator reuses, instead of a fresh (T, B, ·) tensor of every intermediate written to and read back from
        /// main memory. The same equations, step for step: only the projections are split along time.
        /// </summary>
        private (Tensor, Tensor, Tensor) ForwardFusedInChunks(Tensor input, Tensor s, Tensor h, long chunk)
        {
            long steps = input.shape[0], batch = input.shape[1];
            var output = torch.empty(steps, batch, HiddenSize, dtype: input.dtype, device: input.device);
            for (long t0 = 0; t0 < steps; t0 += chunk)
            {
                using var scope = torch.NewDisposeScope();
                long n = Math.Min(chunk, steps - t0);
                var (y, sN, hN) = ForwardFused(input.narrow(0, t0, n), s, h, null);
                output.narrow(0, t0, n).copy_(y);
                s = sN.MoveToOuterDisposeScope();
                h = hN.MoveToOuterDisposeScope();
            }
            return (output, s, h);
        }

        /// <summary>
        /// Steps per block of chunked inference: about <see cref="InferenceChunkBytes"/> per (block, B, ·)
        /// intermediate, at least 16 steps (so the per-block cost of a few tensor calls stays small).
        /// </summary>
        internal long InferenceChunkSteps(long batch, long elementSize) =>
            InferenceChunkOverride ?? Math.Max(16, InferenceChunkBytes / Math.Max(1, batch * Math.Max(ShortTermSize, HiddenSize) * elementSize));

        /// <summary>The target size of one block's intermediate in chunked inference (1 MiB: a few fit in L2/L3).</summary>
        internal const long InferenceChunkBytes = 1L << 20;

        /// <summary>For tests: a fixed block length for chunked inference (null: <see cref="InferenceChunkSteps"/>'s rule).</summary>
        internal long? InferenceChunkOverride { get; set; }

        private void ValidateInput(Tensor input, Tensor? shortTerm, Tensor? longTerm)
        {
            var w = short_term.weight_ih;
            var (_, batch) = Check.Sequence(input, nameof(input), InputSize, batchFirst: false, w);
            if (shortTerm is not null)
                Check.Tensor(shortTerm, nameof(shortTerm), new[] { batch, ShortTermSize }, w);
            if (longTerm is not null)
                Check.Tensor(longTerm, nameof(longTerm), new[] { batch, HiddenSize }, w);
        }
    }
}
