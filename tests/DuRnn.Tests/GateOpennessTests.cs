using System;
using System.Collections.Generic;
using System.Linq;
using FluentAssertions;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace DuRnn.Tests
{
    /// <summary>
    /// <see cref="DuRNNDiagnostics.GateOpenness"/>: each layer's gate statistics equal the gate computed by hand from the
    /// layer's cells, with every layer fed what the stack feeds it in eval mode (residual connection, BatchNorm with its
    /// running statistics), and the model's mode and weights are left as they were.
    /// </summary>
    [Collection("Sequential")]
    public sealed class GateOpennessTests
    {
        [Fact]
        public void GateStatisticsEqualTheGateComputedByHandFromEachLayersInput()
        {
            using var scope = torch.NewDisposeScope();
            torch.manual_seed(91);
            var model = new DuRNN(3, 6, numLayers: 3, batchNorm: true, residual: true, dtype: ScalarType.Float64);
            var x = torch.randn(9, 4, 3, dtype: ScalarType.Float64);
            model.train();
            model.call(x);                                   // BatchNorm running statistics that differ from the defaults
            var before = model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.clone());

            var gates = model.GateOpenness(x);

            model.training.Should().BeTrue("the model's mode is restored");
            foreach (var (key, value) in model.state_dict())
                value.allclose(before[key], 0, 0).Should().BeTrue($"{key} is unchanged (eval mode: no running-statistics update)");
            gates.Should().HaveCount(3);

            // By hand, in eval mode: each layer's input is the previous layer's output after residual and BatchNorm.
            model.eval();
            using var noGrad = torch.no_grad();
            var input = x;
            for (int l = 0; l < 3; l++)
            {
                var layer = model.Layers[l];
                Tensor? s = null;
                var states = new List<Tensor>();
                foreach (var xt in input.unbind(0))
                {
                    s = layer.ShortTerm.call(xt, s);
                    states.Add(s);
                }
                var g = layer.Gate.call(input, torch.stack(states));
                gates[l].Layer.Should().Be(l);
                gates[l].Mean.Should().BeApproximately(g.mean().item<double>(), 1e-12);
                gates[l].OpenFraction.Should().BeApproximately(g.gt(0.5).to(ScalarType.Float64).mean().item<double>(), 1e-12);
                gates[l].Min.Should().BeApproximately(g.min().item<double>(), 1e-12);
                gates[l].Max.Should().BeApproximately(g.max().item<double>(), 1e-12);
                gates[l].Min.Should().BeGreaterThan(0).And.BeLessThan(gates[l].Max);
                gates[l].Max.Should().BeLessThan(1);

                var (y, _, _) = layer.call(input, null, null);
                y = torch.add(y, input.shape[2] == y.shape[2] ? input : torch.zeros_like(y));
                if (l < 2)
                {
                    var norm = (TorchSharp.Modules.BatchNorm1d)model.named_modules().First(m => m.name == $"norms.{l}").module;
                    y = norm.call(y.reshape(-1, y.shape[2])).reshape(y.shape);
                }
                input = y;
            }
        }

        [Fact]
        public void GateOpennessChecksItsInput()
        {
            using var model = new DuRNN(3, 4);
            FluentActions.Invoking(() => model.GateOpenness(torch.randn(5, 2, 7)))
                .Should().Throw<ArgumentException>().WithParameterName("input").WithMessage("*I = 3*(5, 2, 7)*");
        }
    }
}
