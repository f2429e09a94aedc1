using System;
using System.Collections.Generic;
using System.Linq;
using TorchSharp;
using static TorchSharp.torch;

namespace DuRnn
{
    /// <summary>
    /// A <see cref="LongTermCell"/> over a whole sequence — an <see cref="IndRNN"/> layer, fed by the layer input:
    /// <code>h_t = ReLU(W x_t + b + u ⊙ h_{t−1}),  t = 1..T,   y_t = h_t</code>
    /// in the three implementations of <see cref="DuRNNImplementation"/> side by side (as <see cref="DuRNNLayer"/> has
    /// them for a DuRNN layer): the reference steps the cell, the batched form computes W x + b for all steps and loops
    /// <see cref="LongTermCell.Step"/>, the fused form hands the loop to <see cref="Fused.LongTermRecurrence"/>. Results
    /// are left in the current dispose scope.
    /// </summary>
    internal static class LongTermSequence
    {
        /// <summary>
        /// Runs <paramref name="cell"/> over a checked, time-first input.
        /// </summary>
        /// <param name="cell">The layer's cell (W = <c>weight_ih</c>, b = <c>bias_ih</c>, u = <c>weight_hh</c>).</param>
        /// <param name="input">x, shape (T, B, I); with <paramref name="batch"/>, zero at padded steps and the rows
        /// sorted by decreasing length.</param>
        /// <param name="h0">h_0, shape (B, H); zeros when null.</param>
        /// <param name="batch">The valid steps of a variable-length batch; null when every sequence has T steps.</param>
        /// <param name="implementation">A resolved implementation (not <see cref="DuRNNImplementation.Auto"/>).</param>
        /// <returns>The outputs h_1..h_T (T, B, H), zero at padded steps, and each sequence's state after its last
        /// valid step (B, H).</returns>
        internal static (Tensor output, Tensor hT) Run(LongTermCell cell, Tensor input, Tensor? h0, SortedBatch? batch,
            DuRNNImplementation implementation) => implementation switch
        {
            DuRNNImplementation.Reference => Reference(cell, input, h0, batch?.Valid),
            DuRNNImplementation.Batched => Batched(cell, input, h0, batch?.Valid),
            DuRNNImplementation.Fused => Fused(cell, input, h0, batch),
            _ => throw new ArgumentOutOfRangeException(nameof(implementation), implementation, "Resolve the implementation first."),
        };

        /// <summary>
        /// The plain reference: one step at a time through the cell, exactly as the equation reads. With variable
        /// lengths (<paramref name="valid"/>, (T, B, 1)) a sequence's state is carried unchanged over its padded steps
        /// and its output there is zero.
        /// </summary>
        private static (Tensor, Tensor) Reference(LongTermCell cell, Tensor input, Tensor? h, Tensor? valid)
        {
            long steps = input.shape[0];
            var outputs = new List<Tensor>((int)steps);
            // unbind, not input[t]: the backward of T separate selects would build T full-size gradients (O(T²)).
            var inputs = input.unbind(0);
            for (long t = 0; t < steps; t++)
            {
                var hNew = cell.call(inputs[t], h);
                // Every sequence is valid at step 0 (lengths ≥ 1), so the carried state is never null here.
                h = valid is null || t == 0 ? hNew : torch.where(valid[t], hNew, h!);
                outputs.Add(h);
            }
            return (Masked(torch.stack(outputs), valid), h!);
        }

        /// <summary>
        /// W x + b for all steps at once (one matrix product), then the element-wise recurrence step by step as tensor
        /// operations; variable lengths as in the reference.
        /// </summary>
        private static (Tensor, Tensor) Batched(LongTermCell cell, Tensor input, Tensor? h, Tensor? valid)
        {
            long steps = input.shape[0];
            var projected = cell.InputProjection(input).unbind(0);
            var states = new Tensor[steps];
            for (long t = 0; t < steps; t++)
            {
                var hNew = cell.Step(projected[t], h);
                states[t] = h = valid is null || t == 0 ? hNew : torch.where(valid[t], hNew, h!);
            }
            return (Masked(torch.stack(states), valid), h!);
        }

        /// <summary>
        /// W x + b for all steps at once, then the whole recurrence as one fused autograd node over raw memory
        /// (<see cref="DuRnn.Fused.LongTermRecurrence"/>): with variable lengths only the first batchSizes[t] rows run
        /// step t (rows sorted by decreasing length), and each row's final state (its state at its last valid step) is
        /// the node's second output.
        /// </summary>
        private static (Tensor, Tensor) Fused(LongTermCell cell, Tensor input, Tensor? h0, SortedBatch? batch)
        {
            h0 ??= torch.zeros(input.shape[1], cell.HiddenSize, dtype: input.dtype, device: input.device);
            var projected = cell.InputProjection(input);
            return DuRnn.Fused.LongTermRecurrence.Run(projected, cell.weight_hh, h0, batch?.BatchSizes);
        }

        private static Tensor Masked(Tensor output, Tensor? valid) =>
            valid is null ? output : output.masked_fill(valid.logical_not(), Scalars.Zero);
    }
}
