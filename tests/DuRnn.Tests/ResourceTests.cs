using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using FluentAssertions;
using TorchSharp;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace DuRnn.Tests
{
    /// <summary>Training does not leak tensors, and very long sequences stay finite.</summary>
    [Collection("Sequential")]
    public sealed class ResourceTests
    {
        private readonly ITestOutputHelper _output;

        public ResourceTests(ITestOutputHelper output) => _output = output;

        /// <summary>The process's resident set size in MB (Linux /proc; 0 elsewhere).</summary>
        internal static double ResidentMegabytes()
        {
            const string status = "/proc/self/status";
            if (!File.Exists(status)) return 0;
            var line = File.ReadLines(status).FirstOrDefault(l => l.StartsWith("VmRSS:"));
            return line is null ? 0 : double.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) / 1024.0;
        }

        [Theory]
        [InlineData(DuRNNImplementation.Fused, 1000)]
        [InlineData(DuRNNImplementation.Batched, 100)]
        public void TrainingStepsInDisposeScopesKeepTheLiveTensorCountFlat(DuRNNImplementation implementation, int steps)
        {
            using var oneThread = new SingleThreaded(); // tiny tensors: intra-op threads only add synchronisation
            torch.manual_seed(51);
            const long T = 20, B = 8, I = 2, H = 16;
            using var model = new DuRNN(I, H, numLayers: 2, maxSequenceLength: T) { Implementation = implementation };
            using var readout = torch.nn.Linear(H, 1);
            var parameters = model.parameters().Concat(readout.parameters()).ToList();
            var optimizer = torch.optim.Adam(parameters, lr: 1e-3);
            long liveAtWarmup = 0;
            double rssAtWarmup = 0;
            int warmup = steps / 10;
            for (int step = 1; step <= steps; step++)
            {
                using (var scope = torch.NewDisposeScope())
                {
                    var x = torch.rand(T, B, I);
                    var y = torch.rand(B, 1);
                    var (h, _) = model.call(x);
                    var loss = torch.nn.functional.mse_loss(readout.call(h[-1]), y);
                    optimizer.zero_grad();
                    loss.backward();
                    torch.nn.utils.clip_grad_value_(parameters, 10);
                    optimizer.step();
                    model.ApplyConstraints();
                }
                if (step == warmup)
                {
                    liveAtWarmup = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
                    rssAtWarmup = ResidentMegabytes();
                }
            }
            long liveAtEnd = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
            double rssAtEnd = ResidentMegabytes();
            _output.WriteLine($"{implementation}: live tensors {liveAtWarmup} at step {warmup}, {liveAtEnd} at step {steps}; RSS {rssAtWarmup:F1} MB -> {rssAtEnd:F1} MB");
            liveAtEnd.Should().Be(liveAtWarmup, "every tensor a training step creates must be freed with its dispose scope");
        }

        [Fact]
        public void TwentyThousandStepsGiveFiniteOutputsAndGradients()
        {
            using var scope = torch.NewDisposeScope();
            torch.manual_seed(52);
            const long T = 20_000, B = 2, I = 2, H = 8;
            var model = new DuRNN(I, H, numLayers: 2, maxSequenceLength: T, longMemoryLastLayer: true);
            var x = torch.rand(T, B, I).requires_grad_();
            var (y, state) = model.call(x);
            var loss = y[-1].sum() + state.ShortTerm.sum();
            loss.backward();
            y.isfinite().all().item<bool>().Should().BeTrue();
            x.grad!.isfinite().all().item<bool>().Should().BeTrue();
            foreach (var (name, p) in model.named_parameters())
                p.grad!.isfinite().all().item<bool>().Should().BeTrue($"the gradient of {name} must be finite");
            model.Layers[^1].LongTerm.weight_hh.grad!.abs().sum().item<float>().Should().BeGreaterThan(0, "the long-term weights must receive gradient");
        }
    }
}
