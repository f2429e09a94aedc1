using System;
using FluentAssertions;
using TorchSharp;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace DuRnn.Tests
{
    /// <summary>
    /// A seeded 2-layer DuRNN learns the adding problem (IndRNN's protocol) at T = 50: test MSE below 0.05, against
    /// the 0.167 of always predicting 1, within a bounded number of steps.
    /// </summary>
    [Collection("Sequential")]
    public sealed class TrainingSmokeTests
    {
        private readonly ITestOutputHelper _output;

        public TrainingSmokeTests(ITestOutputHelper output) => _output = output;

        /// <summary>
        /// Sequences of (value ~ U(0, 1), marker) with one marker in each half; the target is the sum of the two
        /// marked values.
        /// </summary>
        internal static (Tensor x, Tensor y) AddingBatch(Random random, long steps, long batch)
        {
            var data = new float[steps * batch * 2];
            var target = new float[batch];
            for (long b = 0; b < batch; b++)
            {
                long first = random.NextInt64(steps / 2), second = steps / 2 + random.NextInt64(steps - steps / 2);
                for (long t = 0; t < steps; t++)
                {
                    float v = (float)random.NextDouble();
                    data[(t * batch + b) * 2] = v;
                    if (t == first || t == second)
                    {
                        data[(t * batch + b) * 2 + 1] = 1;
                        target[b] += v;
                    }
                }
            }
            return (torch.tensor(data, new[] { steps, batch, 2L }), torch.tensor(target, new[] { batch, 1L }));
        }

        [Fact]
        public void LearnsTheAddingProblemAtFiftySteps()
        {
            const long T = 50, B = 32, H = 32;
            const int maxSteps = 1500;
            torch.manual_seed(42);
            var random = new Random(42);
            var model = new DuRNN(2, H, numLayers: 2, maxSequenceLength: T, longMemoryLastLayer: true);
            var readout = torch.nn.Linear(H, 1);
            var parameters = new System.Collections.Generic.List<TorchSharp.Modules.Parameter>(model.parameters());
            parameters.AddRange(readout.parameters());
            var optimizer = torch.optim.Adam(parameters, lr: 2e-3);
            var (testX, testY) = AddingBatch(new Random(7), T, 500);

            double testMse = double.NaN;
            int step;
            for (step = 1; step <= maxSteps; step++)
            {
                using (var scope = torch.NewDisposeScope())
                {
                    var (x, y) = AddingBatch(random, T, B);
                    var (h, _) = model.call(x);
                    var loss = torch.nn.functional.mse_loss(readout.call(h[-1]), y);
                    optimizer.zero_grad();
                    loss.backward();
                    // TorchSharp's Adam and clip pass numbers as Scalars a collection can free mid-call: none during them.
                    NoGarbageCollection.Run(() =>
                    {
                        torch.nn.utils.clip_grad_value_(parameters, 10);
                        optimizer.step();
                    });
                    model.ApplyConstraints();
                }
                if (step % 50 == 0)
                {
                    using var scope = torch.NewDisposeScope();
                    using var noGrad = torch.no_grad();
                    var (h, _) = model.call(testX);
                    testMse = torch.nn.functional.mse_loss(readout.call(h[-1]), testY).item<float>();
                    if (testMse < 0.05) break;
                }
            }
            _output.WriteLine($"test MSE {testMse:F4} at step {step}");
            testMse.Should().BeLessThan(0.05, $"DuRNN should learn the adding problem at T = {T} within {maxSteps} steps");
        }
    }
}
