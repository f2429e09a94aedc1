using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DuRnn.Samples.AddingProblem
{
    /// <summary>One evaluation on the test set during training.</summary>
    /// <param name="Step">Training steps done so far (0: before the first).</param>
    /// <param name="TrainLoss">The mean training MSE over the steps since the previous evaluation (none at step 0).</param>
    /// <param name="TestMse">The MSE on the fixed test set.</param>
    /// <param name="Seconds">Wall time since this model's training started, evaluations included.</param>
    internal sealed record CurvePoint(int Step, double? TrainLoss, double TestMse, double Seconds);

    /// <summary>The learning curve of one model and its wall time.</summary>
    internal sealed record TrainingResult(ModelKind Model, IReadOnlyList<CurvePoint> Curve, double Seconds)
    {
        /// <summary>Per-layer diagnostics of the trained model (DuRNN and IndRNN models; empty for LSTM and GRU).</summary>
        public IReadOnlyList<LayerDiagnostics> Diagnostics { get; init; } = Array.Empty<LayerDiagnostics>();

        /// <summary>The same diagnostics of the model as initialised, before the first step.</summary>
        public IReadOnlyList<LayerDiagnostics> InitialDiagnostics { get; init; } = Array.Empty<LayerDiagnostics>();

        /// <summary>The last evaluation.</summary>
        public CurvePoint Final => Curve[^1];
    }

    /// <summary>Receives the progress of one model's training.</summary>
    internal interface IProgressSink
    {
        /// <summary>After every training step, with that step's loss.</summary>
        void OnStep(int step, double loss);

        /// <summary>When training continues from a checkpoint, with its last evaluation.</summary>
        void OnResumed(CurvePoint last);

        /// <summary>After every evaluation on the test set.</summary>
        void OnEvaluated(CurvePoint point);
    }

    /// <summary>
    /// Trains one model on the adding problem with IndRNN's recipe: Adam (β = 0.9, 0.999), L2 weight decay on the
    /// weight matrices only (not on u, not on biases: every 1-D parameter is left out), gradients clamped
    /// element-wise to ±10, and the model's constraints re-applied after every optimizer step.
    /// </summary>
    internal static class Trainer
    {
        /// <summary>IndRNN's element-wise gradient clip.</summary>
        public const double GradientClip = 10.0;

        /// <summary>
        /// Trains a fresh <paramref name="kind"/> model for <see cref="Options.Steps"/> steps. torch and the training
        /// data are seeded with <see cref="Options.Seed"/> here, so every model sees the same batches whatever the
        /// order in which the models run.
        /// </summary>
        public static TrainingResult Train(ModelKind kind, Options options, TestSet testSet, IProgressSink progress)
        {
            torch.manual_seed(options.Seed);
            using var model = AddingModel.Create(kind, options);
            var initialDiagnostics = model.Diagnose(); // before any step (also when resuming: same seed, same start)
            var data = new AddingData(options.Length, options.Seed);
            using var optimizer = CreateOptimizer(model, options);

            var curve = new List<CurvePoint>();
            int start = 0;
            double secondsBefore = 0;
            var resumed = options.Resume ? Checkpoint.TryLoad(options, kind, model, optimizer) : null;
            if (resumed is not null)
            {
                curve.AddRange(resumed);
                start = curve[^1].Step;
                secondsBefore = curve[^1].Seconds;
                data.Skip(start, options.Batch);
                progress.OnResumed(curve[^1]);
            }

            var clock = Stopwatch.StartNew();
            double Seconds() => secondsBefore + clock.Elapsed.TotalSeconds;
            bool IsSolved() => Solved.At(curve.Select(p => (p.Step, p.TestMse))) is not null;
            // What the layers do over training (TrainingDiagnostics): gradient norms summed per layer between evaluations.
            var probe = testSet.Chunks[0].inputs.narrow(1, 0, Math.Min(32, testSet.Chunks[0].inputs.shape[1]));
            bool diagnose = initialDiagnostics.Count > 0;             // DuRNN and IndRNN models
            if (diagnose) TrainingDiagnostics.StartAt(options.OutputDirectory, options.Length, kind, start);
            double[] gradientSums = Array.Empty<double>();
            if (curve.Count == 0)
                Record(new CurvePoint(0, null, Evaluate(model, testSet), Seconds()));

            double lossSum = 0;
            int lossCount = 0;
            for (int step = start + 1; step <= options.Steps && !(options.StopWhenSolved && IsSolved()); step++)
            {
                var (loss, norms) = TrainStep(model, optimizer, data, options.Batch);
                if (gradientSums.Length != norms.Length) gradientSums = new double[norms.Length];
                for (int l = 0; l < norms.Length; l++) gradientSums[l] += norms[l];
                lossSum += loss;
                lossCount++;
                progress.OnStep(step, loss);
                if (step % options.EvalEvery == 0 || step == options.Steps)
                {
                    double testMse = Evaluate(model, testSet);
                    Record(new CurvePoint(step, lossSum / lossCount, testMse, Seconds()), gradientSums.Select(g => g / lossCount).ToArray());
                    lossSum = 0;
                    lossCount = 0;
                    Array.Clear(gradientSums);
                    if (options.StopWhenSolved && IsSolved())
                        break;
                }
            }
            var result = new TrainingResult(kind, curve, Seconds());
            return result with { Diagnostics = model.Diagnose(), InitialDiagnostics = initialDiagnostics };

            // Every evaluation also rewrites the model's CSV, so a long run's curve can be read while it trains,
            // and (with --checkpoint) saves a checkpoint.
            void Record(CurvePoint point, double[]? gradientNorms = null)
            {
                curve.Add(point);
                if (diagnose)
                {
                    TrainingDiagnostics.Append(options.OutputDirectory, options.Length, kind, point.Step,
                        gradientNorms ?? Array.Empty<double>(), model.Diagnose(), model.GateOpenness(probe));
                }
                progress.OnEvaluated(point);
                Results.WriteCsv(options.OutputDirectory, options.Length, new TrainingResult(kind, curve, point.Seconds));
                if (options.Checkpoint)
                    Checkpoint.Save(options, kind, model, optimizer, curve);
            }
        }

        /// <summary>Adam over the model's parameter groups (<see cref="AddingModel.ParameterGroups"/>).</summary>
        public static Adam CreateOptimizer(AddingModel model, Options options) =>
            optim.Adam(model.ParameterGroups(options.LearningRate, options.WeightDecay), lr: options.LearningRate,
                beta1: 0.9, beta2: 0.999);

        private static (double Loss, double[] LayerGradientNorms) TrainStep(AddingModel model, Adam optimizer, AddingData data, int batch)
        {
            using var scope = torch.NewDisposeScope();
            var (inputs, targets) = data.Next(batch);
            optimizer.zero_grad();
            var loss = nn.functional.mse_loss(model.call(inputs), targets);
            loss.backward();
            var norms = model.LayerGradientNorms();
            using (torch.no_grad())
            {
                foreach (var p in model.parameters())
                    p.grad?.clamp_(-GradientClip, GradientClip);
            }
            optimizer.step();
            model.ApplyConstraints();
            return (loss.item<float>(), norms);
        }

        /// <summary>The MSE over the whole test set (eval mode, no gradients).</summary>
        /// <remarks>
        /// One dispose scope per chunk: the stack's (T, chunk, H) output of each chunk is freed before the next chunk runs.
        /// (One scope around the loop kept all of them until the end: 63 × 82 MB at T = 10 000, measured as 1.7 GB of
        /// extra peak memory at T = 4000.)
        /// </remarks>
        public static double Evaluate(AddingModel model, TestSet testSet)
        {
            using var noGrad = torch.no_grad();
            model.eval();
            double sum = 0;
            foreach (var (inputs, targets) in testSet.Chunks)
            {
                using var scope = torch.NewDisposeScope();
                sum += model.call(inputs).sub(targets).square().sum().item<float>();
            }
            model.train();
            return sum / testSet.Size;
        }
    }
}
