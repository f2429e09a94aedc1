using System;
using System.Globalization;
using TorchSharp;

namespace DuRnn.Samples.CharLanguageModel
{
    /// <summary>
    /// Builds the models at equal parameter counts: DuRNN is --layers × --hidden; IndRNN, LSTM and GRU get the hidden
    /// size whose total count (embedding + stack + read-out), computed by the formulas below, is closest to DuRNN's.
    /// </summary>
    internal static class ModelFactory
    {
        /// <summary>How far (relative) a matched model's parameter count may be from DuRNN's before the run warns.</summary>
        public const double Tolerance = 0.05;

        /// <summary>The units per layer of <paramref name="kind"/>: --hidden for DuRNN, the matched size for the others.</summary>
        public static int HiddenSize(ModelKind kind, Options o, int vocabulary)
        {
            if (kind == ModelKind.DuRnn) return o.Hidden;
            long target = Parameters(ModelKind.DuRnn, o.Hidden, o, vocabulary);
            int best = 1;
            for (int h = 1; h <= 1 << 16; h++)
            {
                long count = Parameters(kind, h, o, vocabulary);
                if (Math.Abs(count - target) < Math.Abs(Parameters(kind, best, o, vocabulary) - target)) best = h;
                if (count > target) break;
            }
            return best;
        }

        /// <summary>
        /// Creates <paramref name="kind"/> at its <see cref="HiddenSize"/> after seeding torch with
        /// <see cref="Options.Seed"/> (so every model starts the same whichever models run before it), and checks that
        /// its parameter count is the formula's.
        /// </summary>
        /// <exception cref="InvalidOperationException">The model's count differs from <see cref="Parameters"/>.</exception>
        public static CharModel Create(ModelKind kind, Options o, int vocabulary)
        {
            torch.manual_seed(o.Seed);
            int hidden = HiddenSize(kind, o, vocabulary);
            CharModel model = kind switch
            {
                ModelKind.DuRnn => new DuRnnCharModel(vocabulary, o.Embedding, hidden, o.Layers, o),
                ModelKind.IndRnn => new IndRnnCharModel(vocabulary, o.Embedding, hidden, o.Layers, o),
                ModelKind.Lstm => new LstmCharModel(vocabulary, o.Embedding, hidden, o.Layers),
                ModelKind.Gru => new GruCharModel(vocabulary, o.Embedding, hidden, o.Layers),
                _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
            };
            long expected = Parameters(kind, hidden, o, vocabulary);
            if (model.ParameterCount != expected)
            {
                model.Dispose();
                throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
                    $"{Options.Name(kind)} {o.Layers}×{hidden} has {model.ParameterCount} parameters; the formula gives {expected}."));
            }
            return model;
        }

        /// <summary>
        /// The total number of parameters of <paramref name="kind"/> with <paramref name="hidden"/> units per layer:
        /// the embedding V·E, the stack (<see cref="StackParameters"/>), the read-out H·V + V, and with --batch-norm, for
        /// DuRNN and IndRNN, BatchNorm's weight and bias (H each) between every two layers.
        /// </summary>
        public static long Parameters(ModelKind kind, long hidden, Options o, long vocabulary) =>
            vocabulary * o.Embedding + StackParameters(kind, o.Embedding, hidden, o.Layers) + hidden * vocabulary + vocabulary
            + (o.BatchNorm && kind is ModelKind.DuRnn or ModelKind.IndRnn ? 2 * hidden * (o.Layers - 1) : 0);

        /// <summary>
        /// The recurrent stack's parameters, per layer l with input size I_l (E for the first layer, H after):
        /// DuRNN with S = H: W_s and W_gx (H×I_l each), U_s, W_gs and W_h (H×H each), b_s, b_g, b_h and u (H each);
        /// IndRNN: W (H×I_l), b and u (H each); nn.LSTM: 4H(I_l + H) weights and two biases of 4H;
        /// nn.GRU: 3H(I_l + H) weights and two biases of 3H.
        /// </summary>
        public static long StackParameters(ModelKind kind, long input, long hidden, long layers)
        {
            long total = 0;
            for (long l = 0; l < layers; l++)
            {
                long i = l == 0 ? input : hidden;
                total += kind switch
                {
                    ModelKind.DuRnn => 2 * hidden * i + 3 * hidden * hidden + 4 * hidden,
                    ModelKind.IndRnn => hidden * i + 2 * hidden,
                    ModelKind.Lstm => 4 * hidden * (i + hidden) + 8 * hidden,
                    ModelKind.Gru => 3 * hidden * (i + hidden) + 6 * hidden,
                    _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
                };
            }
            return total;
        }
    }
}
