using System;
using System.Collections.Generic;
using System.Linq;
using FluentAssertions;
using TorchSharp;
using TorchSharp.Modules;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace DuRnn.Tests
{
    /// <summary>
    /// The library's defaults at long sequence lengths (README, "Long sequences"): the untrained default stack's
    /// last-step output keeps its size from T_max = 100 to 20 000, and one optimizer step with the documented parameter
    /// groups at T = 5000 does not blow it up. Inputs are adding-problem sequences (a value from U(0, 1) and a marker at
    /// two steps), the README's model: 2 layers × 128, maxSequenceLength = T, longMemoryLastLayer.
    /// </summary>
    [Collection("Sequential")]
    public sealed class LongSequenceTests
    {
        private readonly ITestOutputHelper _output;

        public LongSequenceTests(ITestOutputHelper output) => _output = output;

        private static Tensor AddingInputs(long steps, long batch, int seed)
        {
            var random = new Random(seed);
            var x = torch.zeros(steps, batch, 2);
            x[.., .., 0] = torch.rand(steps, batch);
            for (long b = 0; b < batch; b++)
            {
                x[random.NextInt64(steps / 2), b, 1] = 1;
                x[steps / 2 + random.NextInt64(steps / 2), b, 1] = 1;
            }
            return x;
        }

        private static DuRNN DefaultModel(long steps) =>
            new DuRNN(2, 128, numLayers: 2, maxSequenceLength: steps, longMemoryLastLayer: true);

        private static double LastStepRms(DuRNN model, Tensor x)
        {
            using var noGrad = torch.no_grad();
            var (output, _) = model.call(x);
            return output[-1].square().mean().sqrt().item<float>();
        }

        /// <summary>
        /// Mean over three seeds of the RMS of output[−1] over 16 sequences. With the fixed σ_h = 0.001 of the earlier
        /// default it grew like T (0.85, 46, 617, 4 112 at T = 100, 1000, 5000, 20 000); with the scaled default every
        /// T must stay within a factor 3 of T = 100. Measured: 0.846, 1.38, 1.67, 1.39.
        /// </summary>
        [Fact]
        public void UntrainedOutputKeepsItsSizeFromT100To20000()
        {
            using var scope = torch.NewDisposeScope();
            var rms = new Dictionary<long, double>();
            foreach (long steps in new long[] { 100, 1000, 5000, 20000 })
            {
                double sum = 0;
                for (int seed = 1; seed <= 3; seed++)
                {
                    using var inner = torch.NewDisposeScope();
                    torch.manual_seed(seed);
                    using var model = DefaultModel(steps);
                    sum += LastStepRms(model, AddingInputs(steps, 16, seed));
                }
                rms[steps] = sum / 3;
                _output.WriteLine(FormattableString.Invariant($"T = {steps}: RMS of output[-1] = {rms[steps]:G4}"));
            }
            foreach (var (steps, value) in rms)
                (value / rms[100]).Should().BeInRange(1.0 / 3, 3.0, $"the untrained output at T = {steps} keeps the size it has at T = 100");
        }

        /// <summary>
        /// The RMS change of output[−1] made by one Adam step (lr 2e-4, the documented <see cref="DuRNN.ParameterGroups"/>,
        /// gradients clamped to ±10) on the MSE of a read-out of the last step, and the RMS before.
        /// </summary>
        private static (double Before, double Change) OneStep(long steps, int seed)
        {
            using var scope = torch.NewDisposeScope();
            torch.manual_seed(seed);
            using var model = DefaultModel(steps);
            var readout = nn.Linear(128, 1);
            var x = AddingInputs(steps, 16, seed);
            Tensor Last()
            {
                using var noGrad = torch.no_grad();
                return model.call(x).output[-1].clone();
            }
            var before = Last();
            var optimizer = optim.Adam(model.ParameterGroups(lr: 2e-4, weightDecay: 1e-4, others: readout.parameters()), lr: 2e-4);
            var parameters = model.parameters().Concat(readout.parameters()).ToList();
            var (output, _) = model.call(x);
            var loss = nn.functional.mse_loss(readout.call(output[-1]), torch.ones(16, 1));
            optimizer.zero_grad();
            loss.backward();
            nn.utils.clip_grad_value_(parameters, 10);
            optimizer.step();
            model.ApplyConstraints();
            var after = Last();
            return (before.square().mean().sqrt().item<float>(), (after - before).square().mean().sqrt().item<float>());
        }

        /// <summary>
        /// One training step at T = 5000 moves the last-step output by no more than 4 times what it moves it at T = 100
        /// (mean over two seeds). Measured with the defaults: RMS change 1.34 (T = 100), 1.05 (1000), 0.50 (5000) (before
        /// u's factor √(100/T_max) in the long-memory layer: 1.34, 1.10, 0.65); with W_h's √(100/T_max) also in the
        /// long-memory layer it was 1.34, 2.45, 3.15. With
        /// the earlier defaults (σ_h = 0.001, one learning rate) the untrained output alone was 617 at T = 5000 and the
        /// first 100 steps' mean training loss 136 752.
        /// </summary>
        [Fact]
        public void OneTrainingStepAtT5000DoesNotBlowTheOutputUp()
        {
            var effect = new Dictionary<long, double>();
            foreach (long steps in new long[] { 100, 1000, 5000 })
            {
                var runs = new[] { OneStep(steps, 5), OneStep(steps, 6) };
                effect[steps] = runs.Average(r => r.Change);
                _output.WriteLine(FormattableString.Invariant(
                    $"T = {steps}: RMS of output[-1] {runs.Average(r => r.Before):G4} before one step, RMS change {effect[steps]:G4}"));
            }
            (effect[5000] / effect[100]).Should().BeLessThan(StepEffectBound, "one optimizer step moves the output by about as much at any T");
        }

        private const double StepEffectBound = 4;

        [Fact]
        public void DefaultsAreIndRnnsUpToT100AndScaledBeyond()
        {
            LongTermCell.DefaultInputWeightStd(null, true).Should().Be(0.001);
            LongTermCell.DefaultInputWeightStd(100, true).Should().Be(0.001);
            LongTermCell.DefaultInputWeightStd(5000, true).Should().BeApproximately(0.001 * 100 / 5000, 1e-15);
            LongTermCell.DefaultInputWeightStd(5000, false).Should().BeApproximately(0.001 * Math.Sqrt(100.0 / 5000), 1e-15);
            LongTermCell.DefaultLearningRateScale(100, true).Should().Be(1.0);
            LongTermCell.DefaultLearningRateScale(5000, true).Should().BeApproximately(100.0 / 5000, 1e-15);
            LongTermCell.DefaultLearningRateScale(5000, false).Should().BeApproximately(Math.Sqrt(100.0 / 5000), 1e-15);
            LongTermCell.DefaultRecurrentLearningRateScale(null, true).Should().Be(1.0);
            LongTermCell.DefaultRecurrentLearningRateScale(100, true).Should().Be(1.0);
            LongTermCell.DefaultRecurrentLearningRateScale(5000, false).Should().Be(1.0, "u outside a long-memory layer trains at lr");
            // Exactly the double the adding problem's u-lr-sqrt runs passed (--u-lr-scale 0.1414213562373095, 0.31622776601683794).
            LongTermCell.DefaultRecurrentLearningRateScale(5000, true).Should().Be(0.1414213562373095);
            LongTermCell.DefaultRecurrentLearningRateScale(1000, true).Should().Be(0.31622776601683794);
            LongTermCell.DefaultRecurrentLearningRateScale(10000, true).Should().Be(0.1);
            using var model = new DuRNN(2, 8, numLayers: 2, maxSequenceLength: 5000, longMemoryLastLayer: true);
            model.Layers[1].LongTerm.InputWeightStd.Should().BeApproximately(2e-5, 1e-15);
            model.Layers[0].LongTerm.InputWeightStd.Should().BeApproximately(0.001 * Math.Sqrt(0.02), 1e-15);
            using var given = new DuRNN(2, 8, maxSequenceLength: 5000, longTermInputWeightStd: 0.003);
            given.Layers[0].LongTerm.InputWeightStd.Should().Be(0.003, "an explicit σ_h is used as given");
        }

        [Fact]
        public void ParameterGroupsHoldEveryParameterOnceWithTheScaledRatesOnWhBhAndLongMemoryU()
        {
            using var scope = torch.NewDisposeScope();
            var model = new DuRNN(2, 8, numLayers: 2, maxSequenceLength: 2500, longMemoryLastLayer: true, bidirectional: true);
            var readout = nn.Linear(16, 1);
            var groups = model.ParameterGroups(lr: 1e-3, weightDecay: 1e-4, others: readout.parameters());
            var all = model.parameters().Concat(readout.parameters()).Select(p => p.Handle).ToList();
            var grouped = groups.SelectMany(g => g.Parameters).Select(p => p.Handle).ToList();
            grouped.Should().BeEquivalentTo(all, "every parameter is in exactly one group");
            // W_h and b_h: 100/T_max in the long-memory last layer (both directions), √(100/T_max) in the first; u:
            // √(100/T_max) in the long-memory layer, lr in the first.
            var scaleOf = model.Layers.Concat(model.ReverseLayers)
                .SelectMany(l => new[] { l.LongTerm.weight_ih, l.LongTerm.bias_ih }.Select(p => (p.Handle, l.LongTerm.LongMemoryInit ? 100.0 / 2500 : Math.Sqrt(100.0 / 2500)))
                    .Append((l.LongTerm.weight_hh.Handle, l.LongTerm.LongMemoryInit ? Math.Sqrt(100.0 / 2500) : 1.0)))
                .ToDictionary(e => e.Handle, e => e.Item2);
            double Rate(Parameter p) => scaleOf.TryGetValue(p.Handle, out double scale) ? 1e-3 * scale : 1e-3;
            foreach (var g in groups)
            {
                double expected = Rate(g.Parameters.First());
                g.Parameters.Select(Rate).Should().OnlyContain(r => r == expected, "a group holds parameters of one learning rate");
                g.Options.LearningRate.Should().BeApproximately(expected, 1e-15);
                g.Options.weight_decay.Should().Be(g.Parameters.All(p => p.dim() >= 2) ? 1e-4 : 0);
                g.Options.beta2.Should().Be(0.999);
            }
        }

        /// <summary>
        /// IndRNN with <c>longTermInputWeightStd: null</c> takes DuRNN's rule per layer (σ 0.001·100/T_max in the long-memory
        /// last layer, 0.001·√(100/T_max) in the others), its groups the same learning-rate rule; the default stays
        /// IndRNN's published 0.001 everywhere.
        /// </summary>
        [Fact]
        public void IndRnnCanTakeDuRnnsInitialisationAndLearningRateRule()
        {
            using var scope = torch.NewDisposeScope();
            var scaled = new IndRNN(2, 8, numLayers: 2, maxSequenceLength: 2500, longMemoryLastLayer: true, longTermInputWeightStd: null);
            scaled.LongTermInputWeightStd.Should().BeNull();
            scaled.Layers[0].InputWeightStd.Should().BeApproximately(0.001 * Math.Sqrt(100.0 / 2500), 1e-15);
            scaled.Layers[1].InputWeightStd.Should().BeApproximately(0.001 * 100.0 / 2500, 1e-15);
            var published = new IndRNN(2, 8, numLayers: 2, maxSequenceLength: 2500, longMemoryLastLayer: true);
            published.Layers.Select(l => l.InputWeightStd).Should().OnlyContain(std => std == 0.001);

            var readout = nn.Linear(8, 1);
            var groups = scaled.ParameterGroups(lr: 1e-3, weightDecay: 1e-4, others: readout.parameters());
            groups.SelectMany(g => g.Parameters).Select(p => p.Handle).Should().BeEquivalentTo(
                scaled.parameters().Concat(readout.parameters()).Select(p => p.Handle), "every parameter is in exactly one group");
            double RateOf(Parameter p) => groups.Single(g => g.Parameters.Any(q => q.Handle == p.Handle)).Options.LearningRate!.Value;
            RateOf(scaled.Layers[1].weight_ih).Should().BeApproximately(1e-3 * 100.0 / 2500, 1e-15);
            RateOf(scaled.Layers[0].bias_ih).Should().BeApproximately(1e-3 * Math.Sqrt(100.0 / 2500), 1e-15);
            RateOf(scaled.Layers[1].weight_hh).Should().BeApproximately(1e-3 * Math.Sqrt(100.0 / 2500), 1e-15, "the long-memory layer's u");
            RateOf(scaled.Layers[0].weight_hh).Should().Be(1e-3, "u outside the long-memory layer keeps the base rate");
        }

        /// <summary>
        /// Where every u's factor is 1 (up to T_max = 100, or no long-memory layer) the groups are those of version 0.1:
        /// the two plain ones (u among the vectors at lr) and one pair per W_h/b_h factor, so an optimizer's state saved
        /// by 0.1 loads into them; beyond, the long-memory u joins the vector group of its factor.
        /// </summary>
        [Fact]
        public void UsFactorOfOneLeavesTheGroupsAsTheyWere()
        {
            using var scope = torch.NewDisposeScope();
            var t100 = new DuRNN(2, 8, numLayers: 2, maxSequenceLength: 100, longMemoryLastLayer: true);
            var groups = t100.ParameterGroups(lr: 1e-3);
            groups.Should().HaveCount(4, "matrices and vectors at lr, then W_h and b_h at their factor 1");
            groups[1].Parameters.Select(p => p.Handle).Should().Contain(t100.Layers.Select(l => l.LongTerm.weight_hh.Handle));

            var t1000 = new DuRNN(2, 8, numLayers: 2, maxSequenceLength: 1000, longMemoryLastLayer: true);
            groups = t1000.ParameterGroups(lr: 1e-3);
            groups.Should().HaveCount(6, "two plain groups, then W_h and b_h at √(100/T) (layer 0) and at 100/T (layer 1)");
            var uLong = t1000.Layers[1].LongTerm.weight_hh.Handle;
            groups[3].Parameters.Select(p => p.Handle).Should().Equal(t1000.Layers[0].LongTerm.bias_ih.Handle, uLong);
            groups[3].Options.LearningRate.Should().Be(1e-3 * 0.31622776601683794);
            groups[1].Parameters.Select(p => p.Handle).Should().Contain(t1000.Layers[0].LongTerm.weight_hh.Handle).And.NotContain(uLong);
        }
    }
}
