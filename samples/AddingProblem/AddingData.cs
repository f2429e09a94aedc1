using System;
using System.Collections.Generic;
using static TorchSharp.torch;

namespace DuRnn.Samples.AddingProblem
{
    /// <summary>
    /// The adding problem as in IndRNN's code: every sequence has T steps of two features, a value drawn from
    /// U(0, 1) and a marker (0 or 1). Exactly two steps are marked: one in the first half [0, T/2), one in the
    /// second half [T/2, T). The target is the sum of the two marked values.
    /// Predicting 1 always gives MSE = Var(U₁ + U₂) = 1/6 ≈ 0.167, the baseline to beat.
    /// </summary>
    internal sealed class AddingData
    {
        /// <summary>The number of input features: the value and the marker.</summary>
        public const int Features = 2;

        /// <summary>The MSE of always predicting 1, the expected sum: Var(U₁ + U₂) = 2/12.</summary>
        public const double BaselineMse = 1.0 / 6.0;

        private readonly Random random;

        /// <summary>Creates a generator of sequences of <paramref name="length"/> steps.</summary>
        /// <param name="length">T, at least 2.</param>
        /// <param name="seed">The seed of the generator (System.Random), so that a run can be repeated.</param>
        public AddingData(int length, int seed)
        {
            if (length < 2) throw new ArgumentOutOfRangeException(nameof(length), length, "T must be at least 2.");
            Length = length;
            random = new Random(seed);
        }

        /// <summary>T, the number of steps of every sequence.</summary>
        public int Length { get; }

        /// <summary>
        /// Draws <paramref name="count"/> new sequences: inputs of shape (T, count, 2) (time first, the layout of
        /// nn.LSTM and DuRNN by default) and targets of shape (count), float32 on the CPU.
        /// </summary>
        public (Tensor inputs, Tensor targets) Next(int count)
        {
            var x = new float[Length * count * Features];
            var y = new float[count];
            Draw(count, x, y);
            return (tensor(x, new long[] { Length, count, Features }), tensor(y));
        }

        /// <summary>
        /// Moves the generator past <paramref name="batches"/> calls of <see cref="Next"/>(<paramref name="count"/>)
        /// without building them: the same random draws in the same order, so that a resumed training run continues
        /// with the batches an uninterrupted run would have drawn.
        /// </summary>
        public void Skip(int batches, int count)
        {
            for (int i = 0; i < batches; i++)
                Draw(count, null, null);
        }

        /// <summary>
        /// The random draws of one batch of <paramref name="count"/> sequences, written to <paramref name="x"/>
        /// (T × count × 2, time first) and <paramref name="y"/> (count) when given, only drawn when null.
        /// </summary>
        private void Draw(int count, float[]? x, float[]? y)
        {
            int half = Length / 2;
            for (int b = 0; b < count; b++)
            {
                for (int t = 0; t < Length; t++)
                {
                    float value = (float)random.NextDouble();
                    if (x is not null) x[(t * count + b) * Features] = value;
                }
                int first = random.Next(0, half);
                int second = random.Next(half, Length);
                if (x is null || y is null) continue;
                x[(first * count + b) * Features + 1] = 1f;
                x[(second * count + b) * Features + 1] = 1f;
                y[b] = x[(first * count + b) * Features] + x[(second * count + b) * Features];
            }
        }
    }

    /// <summary>
    /// A fixed test set, drawn once from its own seed (the same whatever --seed is, so that runs compare), and kept
    /// in chunks so that evaluating long sequences needs bounded memory.
    /// </summary>
    internal sealed class TestSet : IDisposable
    {
        /// <summary>The seed of the test sequences, independent of the training seed.</summary>
        public const int Seed = 20_180_304;

        private readonly List<(Tensor inputs, Tensor targets)> chunks = new();

        /// <summary>
        /// Draws <paramref name="size"/> test sequences of <paramref name="length"/> steps, kept in chunks of at most
        /// <paramref name="chunkSize"/> sequences.
        /// </summary>
        public TestSet(int length, int size, int chunkSize)
        {
            if (chunkSize < 1) throw new ArgumentOutOfRangeException(nameof(chunkSize), chunkSize, "Must be at least 1.");
            var data = new AddingData(length, Seed);
            double baseline = 0;
            for (int done = 0; done < size; done += chunkSize)
            {
                var chunk = data.Next(Math.Min(chunkSize, size - done));
                chunks.Add(chunk);
                using var scope = NewDisposeScope();
                baseline += chunk.targets.sub(1).square().sum().item<float>();
            }
            Size = size;
            EmpiricalBaselineMse = baseline / size;
        }

        /// <summary>
        /// A chunk size that keeps every (T, chunk, H) activation of an evaluation near 64 MB or less (float32):
        /// 250 sequences at T = 100, 25 at T = 5000 with H = 128.
        /// </summary>
        public static int ChunkSizeFor(int length, int hidden) =>
            (int)Math.Clamp(16_000_000L / ((long)length * hidden), 16, 250);

        /// <summary>The number of test sequences.</summary>
        public int Size { get; }

        /// <summary>The MSE of always predicting 1 on this test set (close to 1/6).</summary>
        public double EmpiricalBaselineMse { get; }

        /// <summary>The test set as (inputs (T, n, 2), targets (n)) chunks.</summary>
        public IReadOnlyList<(Tensor inputs, Tensor targets)> Chunks => chunks;

        /// <summary>Disposes the tensors.</summary>
        public void Dispose()
        {
            foreach (var (inputs, targets) in chunks)
            {
                inputs.Dispose();
                targets.Dispose();
            }
            chunks.Clear();
        }
    }
}
