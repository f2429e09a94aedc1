using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace DuRnn.Samples.CharLanguageModel
{
    /// <summary>
    /// Generates text from a trained model: feeds the prompt (one call over all its characters), then samples one
    /// character at a time from the softmax of the logits divided by the temperature, feeding each back with the state
    /// carried one step at a time (the README's streaming form). Seeded: the same model, prompt and seed give the same text.
    /// </summary>
    internal static class Generator
    {
        /// <summary>
        /// <paramref name="count"/> characters that continue <paramref name="prompt"/> (the prompt is not part of the
        /// result).
        /// </summary>
        /// <param name="model">The model (put back in train mode afterwards).</param>
        /// <param name="vocabulary">The symbols; every character of the prompt must be one.</param>
        /// <param name="prompt">The text to continue, at least one character.</param>
        /// <param name="count">How many characters to generate.</param>
        /// <param name="temperature">The softmax temperature; 0 always takes the most likely character.</param>
        /// <param name="seed">Seeds the sampling.</param>
        public static string Generate(CharModel model, Vocabulary vocabulary, string prompt, int count, double temperature, int seed)
        {
            var random = new Random(seed);
            var text = new StringBuilder();
            model.eval();
            using var noGrad = torch.no_grad();
            CarriedState? state = null;
            try
            {
                float[] logits;
                using (var scope = torch.NewDisposeScope())
                {
                    var ids = vocabulary.Encode(prompt.EnumerateRunes().Select(r => r.Value).ToList());
                    var (output, next) = model.call(tensor(ids).view(-1, 1), null);     // (P, 1) → (P, 1, V)
                    logits = LastLogits(output);
                    state = next.MoveToOuterDisposeScope();
                }
                for (int i = 0; i < count; i++)
                {
                    int id = Sample(logits, temperature, random);
                    text.Append(vocabulary.Decode(id));
                    if (i == count - 1) break;
                    using var scope = torch.NewDisposeScope();
                    var (output, next) = model.call(tensor(new long[] { id }).view(1, 1), state);   // one step
                    logits = LastLogits(output);
                    state.Dispose();
                    state = next.MoveToOuterDisposeScope();                // keep the state beyond this step's scope
                }
            }
            finally
            {
                state?.Dispose();
                model.train();
            }
            return text.ToString();
        }

        /// <summary>The logits of the last step of the only stream, (T, 1, V) → V values.</summary>
        private static float[] LastLogits(Tensor output) =>
            output.select(0, output.shape[0] - 1).select(0, 0).contiguous().data<float>().ToArray();

        /// <summary>Draws a symbol with probability softmax(logits / temperature), computed in double precision.</summary>
        private static int Sample(IReadOnlyList<float> logits, double temperature, Random random)
        {
            if (temperature == 0)
            {
                int best = 0;
                for (int i = 1; i < logits.Count; i++)
                    if (logits[i] > logits[best]) best = i;
                return best;
            }
            double max = logits.Max();
            var weights = logits.Select(l => Math.Exp((l - max) / temperature)).ToArray();
            double u = random.NextDouble() * weights.Sum();
            for (int i = 0; i < weights.Length; i++)
            {
                u -= weights[i];
                if (u < 0) return i;
            }
            return weights.Length - 1;
        }
    }
}
