using System;
using System.Collections.Generic;
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
    public sealed class DuRNNLayer : torch.nn.Module<Tensor, Tensor?, Tensor?, (Tensor output, Tensor shortTerm, Tensor longTerm)>
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
        /// <param name="longTermInputWeightStd">σ_h of W_h ~ N(0, σ_h²) (default 0.001).</param>
        /// <param name="device">The desired device of the parameters.</param>
        /// <param name="dtype">The desired floating point dtype of the parameters.</param>
        public DuRNNLayer(long inputSize, long hiddenSize, long? shortTermSize = null,
            ShortTermActivation activation = ShortTermActivation.ReLU, ShortTermConstraint? shortTermConstraint = null,
            double mag = 2.0, long? maxSequenceLength = null, bool longMemoryInit = false,
            double longTermInputWeightStd = 0.001, Device? device = null, ScalarType? dtype = null)
            : base(nameof(DuRNNLayer))
        {
            long s = shortTermSize ?? hiddenSize;
            Check.Positive(s, nameof(shortTermSize));
            Check.NonNegativeFinite(longTermInputWeightStd, nameof(longTermInputWeightStd));
            short_term = new ShortTermCell(inputSize, s, activation, shortTermConstraint, device, dtype);
            gate = new SelectionGate(inputSize, s, device, dtype);
            long_term = new LongTermCell(s, hiddenSize, mag, maxSequenceLength, longMemoryInit, longTermInputWeightStd, device, dtype);
            RegisterComponents();
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
            using var scope = torch.NewDisposeScope();
            var (output, sT, hT) = ResolveImplementation(input) switch
            {
                DuRNNImplementation.Reference => ForwardReference(input, shortTerm, longTerm),
                DuRNNImplementation.Fused => ForwardFused(input, shortTerm, longTerm),
                _ => ForwardBatched(input, shortTerm, longTerm),
            };
            return (output.MoveToOuterDisposeScope(), sT.MoveToOuterDisposeScope(), hT.MoveToOuterDisposeScope());
        }

        /// <summary>
        /// Projects the parameters onto their constraint sets in place: U_s onto its
        /// <see cref="ShortTermConstraint"/>, u onto [−U_bound, U_bound].
        /// </summary>
        public void ApplyConstraints()
        {
            short_term.ApplyConstraints();
            long_term.ApplyConstraints();
        }

        /// <summary>The plain reference: every step through the three modules, exactly as the equations read.</summary>
        private (Tensor, Tensor, Tensor) ForwardReference(Tensor input, Tensor? s, Tensor? h)
        {
            long steps = input.shape[0];
            var outputs = new List<Tensor>((int)steps);
            for (long t = 0; t < steps; t++)
            {
                var x = input[t];
                s = short_term.call(x, s);
                var g = gate.call(x, s);
                h = long_term.call(g * s, h);
                outputs.Add(h);
            }
            return (torch.stack(outputs), s!, h!);
        }

        /// <summary>
        /// The same equations with everything that does not depend on the previous step computed for all steps at
        /// once: W_s x + b_s, then the short-term recurrence, then g and W_h (g ⊙ s) + b_h for all steps, then the
        /// element-wise long-term recurrence.
        /// </summary>
        private (Tensor, Tensor, Tensor) ForwardBatched(Tensor input, Tensor? s, Tensor? h)
        {
            long steps = input.shape[0];
            var shortInput = short_term.InputProjection(input);
            var shortStates = new Tensor[steps];
            for (long t = 0; t < steps; t++)
                shortStates[t] = s = short_term.Step(shortInput[t], s);
            var shortTerm = torch.stack(shortStates);

            var g = gate.call(input, shortTerm);
            var longInput = long_term.InputProjection(g * shortTerm);
            var longStates = new Tensor[steps];
            for (long t = 0; t < steps; t++)
                longStates[t] = h = long_term.Step(longInput[t], h);
            return (torch.stack(longStates), s!, h!);
        }

        /// <summary>
        /// Batched's all-steps-at-once projections with each recurrence run as one fused autograd node over raw memory
        /// (<see cref="Fused.ShortTermRecurrence"/>, <see cref="Fused.LongTermRecurrence"/>).
        /// </summary>
        private (Tensor, Tensor, Tensor) ForwardFused(Tensor input, Tensor? s0, Tensor? h0)
        {
            long steps = input.shape[0], batch = input.shape[1];
            var shortInput = short_term.InputProjection(input);
            s0 ??= torch.zeros(batch, ShortTermSize, dtype: input.dtype, device: input.device);
            var shortTerm = Fused.ShortTermRecurrence.apply(shortInput, short_term.weight_hh, s0, short_term.Activation)[0];

            var g = gate.call(input, shortTerm);
            var longInput = long_term.InputProjection(g * shortTerm);
            h0 ??= torch.zeros(batch, HiddenSize, dtype: input.dtype, device: input.device);
            var longTerm = Fused.LongTermRecurrence.apply(longInput, long_term.weight_hh, h0)[0];
            return (longTerm, shortTerm[steps - 1], longTerm[steps - 1]);
        }

        /// <summary>The implementation that will run for <paramref name="input"/>.</summary>
        internal DuRNNImplementation ResolveImplementation(Tensor input) => Implementation switch
        {
            DuRNNImplementation.Auto => FusedSupports(input) ? DuRNNImplementation.Fused : DuRNNImplementation.Batched,
            DuRNNImplementation.Fused when !FusedSupports(input) => throw new NotSupportedException(
                $"The fused implementation needs float32 or float64 tensors on the CPU and LibTorch's BLAS; got {input.dtype} on {input.device}. Use DuRNNImplementation.Auto or Batched."),
            var chosen => chosen,
        };

        private static bool FusedSupports(Tensor input) =>
            input.device.type == DeviceType.CPU
            && (input.dtype == ScalarType.Float32 || input.dtype == ScalarType.Float64)
            && Fused.Blas.IsAvailable;

        private void ValidateInput(Tensor input, Tensor? shortTerm, Tensor? longTerm)
        {
            if (input is null) throw new ArgumentNullException(nameof(input));
            var w = short_term.weight_ih;
            if (input.dim() != 3)
                throw new ArgumentException($"input must be 3-D (T, B, I) with I = {InputSize}; got shape {Check.Shape(input)}.", nameof(input));
            if (!Check.IsFloatingPoint(input.dtype) || input.dtype != w.dtype)
                throw new ArgumentException($"input must have dtype {w.dtype} (the layer's); got {input.dtype}.", nameof(input));
            if (input.device.type != w.device.type || input.device.index != w.device.index)
                throw new ArgumentException($"input must be on device {w.device} (the layer's); got {input.device}.", nameof(input));
            if (input.shape[2] != InputSize)
                throw new ArgumentException($"input must have {InputSize} features (last dimension); got shape {Check.Shape(input)}.", nameof(input));
            if (input.shape[0] == 0)
                throw new ArgumentException($"input must have at least one time step; got shape {Check.Shape(input)}.", nameof(input));
            if (input.shape[1] == 0)
                throw new ArgumentException($"input must have at least one sequence in the batch; got shape {Check.Shape(input)}.", nameof(input));
            long batch = input.shape[1];
            if (shortTerm is not null)
                Check.Tensor(shortTerm, nameof(shortTerm), new[] { batch, ShortTermSize }, w.dtype, input.device);
            if (longTerm is not null)
                Check.Tensor(longTerm, nameof(longTerm), new[] { batch, HiddenSize }, w.dtype, input.device);
        }
    }
}
