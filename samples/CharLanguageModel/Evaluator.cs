using System;
using TorchSharp;
using static TorchSharp.torch;

namespace DuRnn.Samples.CharLanguageModel
{
    /// <summary>
    /// Bits per character of a model on a part of the text: the mean cross-entropy of every next-character prediction
    /// divided by ln 2, with the whole part streamed through the model in eval mode without gradients — cut into
    /// <see cref="Streams"/> parallel streams, each read from its start in chunks of <see cref="ChunkLength"/> steps
    /// with the state carried from chunk to chunk (the README's streaming form), so every prediction sees all of its
    /// stream before it.
    /// </summary>
    internal static class Evaluator
    {
        /// <summary>The number of parallel streams a validation or test text is cut into.</summary>
        public const int Streams = 16;

        /// <summary>The steps per call of the model.</summary>
        public const int ChunkLength = 500;

        /// <summary>The bits per character of <paramref name="model"/> on <paramref name="part"/>.</summary>
        /// <param name="model">The model (put back in train mode afterwards).</param>
        /// <param name="part">The text, in parallel streams.</param>
        /// <param name="vocabulary">V, the number of symbols.</param>
        public static double BitsPerCharacter(CharModel model, ParallelStreams part, int vocabulary)
        {
            double nats = 0;
            Walk(model, part, (inputs, targets, state) =>
            {
                var (logits, next) = model.call(inputs, state);
                nats += nn.functional.cross_entropy(logits.reshape(-1, vocabulary), targets.reshape(-1),
                    reduction: nn.Reduction.Sum).item<float>();
                return next;
            });
            return nats / part.Predictions / Math.Log(2);
        }

        /// <summary>
        /// Runs <paramref name="model"/> over <paramref name="part"/> in evaluation mode without gradients, in chunks of
        /// <see cref="ChunkLength"/> with the state carried from chunk to chunk: <paramref name="step"/> gets each chunk's
        /// inputs and targets and the state so far, and returns the state to carry on. Each chunk runs in a dispose scope
        /// of its own (what the step keeps beyond it, it moves out itself); training mode is restored at the end.
        /// </summary>
        public static void Walk(CharModel model, ParallelStreams part, Func<Tensor, Tensor, CarriedState?, CarriedState> step)
        {
            model.eval();
            using var noGrad = torch.no_grad();
            CarriedState? state = null;
            try
            {
                for (long start = 0; start < part.Length; start += ChunkLength)
                {
                    using var scope = torch.NewDisposeScope();
                    var (inputs, targets) = part.Chunk(start, Math.Min(ChunkLength, part.Length - start));
                    var next = step(inputs, targets, state);
                    state?.Dispose();
                    state = next.MoveToOuterDisposeScope();
                }
            }
            finally
            {
                state?.Dispose();
                model.train();
            }
        }
    }
}
