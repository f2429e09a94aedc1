using System;
using System.Collections.Generic;
using System.Linq;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DuRnn.Samples.AddingProblem
{
    /// <summary>
    /// A plain IndRNN stack (Li et al., CVPR 2018), the baseline DuRNN builds on: every layer is the library's
    /// <see cref="LongTermCell"/> fed directly by the layer's input instead of a gated short-term memory,
    /// <code>h_t = ReLU(W x_t + b + u ⊙ h_{t−1}),   |u_i| ≤ MAG^(1/T)</code>
    /// with the cell's initialisation (W ~ N(0, σ²), b = 0, u ~ U(0, U_bound), the last layer
    /// u ~ U(U_lowbound, U_bound)) and its constraint (<see cref="ApplyConstraints"/> clamps u).
    /// </summary>
    internal sealed class IndRnn : nn.Module<Tensor, Tensor>
    {
        private readonly ModuleList<LongTermCell> cells;

        /// <summary>Creates a stack of <paramref name="numLayers"/> IndRNN layers.</summary>
        public IndRnn(long inputSize, long hiddenSize, long numLayers, double mag, long maxSequenceLength,
            bool longMemoryLastLayer, double inputWeightStd)
            : base(nameof(IndRnn))
        {
            var list = new List<LongTermCell>();
            for (long l = 0; l < numLayers; l++)
            {
                list.Add(new LongTermCell(l == 0 ? inputSize : hiddenSize, hiddenSize, mag, maxSequenceLength,
                    longMemoryInit: longMemoryLastLayer && l == numLayers - 1, inputWeightStd: inputWeightStd));
            }
            cells = new ModuleList<LongTermCell>(list.ToArray());
            RegisterComponents();
        }

        /// <summary>The layers' cells, first to last.</summary>
        public IReadOnlyList<LongTermCell> Cells => cells.ToList();

        /// <summary>Runs the stack over x (T, B, I) and returns the last layer's h_1..h_T, shape (T, B, H).</summary>
        public override Tensor forward(Tensor input)
        {
            var x = input;
            foreach (var cell in cells)
            {
                var steps = x.unbind(0);
                var outputs = new Tensor[steps.Length];
                Tensor? h = null;
                for (int t = 0; t < steps.Length; t++)
                    outputs[t] = h = cell.call(steps[t], h);
                x = stack(outputs);
            }
            return x;
        }

        /// <summary>Clamps every u to [−U_bound, U_bound] (call after each optimizer step).</summary>
        public void ApplyConstraints()
        {
            foreach (var cell in cells) cell.ApplyConstraints();
        }
    }
}
