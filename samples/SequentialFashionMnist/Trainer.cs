using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DuRnn.Samples.SequentialFashionMnist
{
    /// <summary>One evaluation on the test set during training.</summary>
    /// <param name="Step">Optimizer steps done so far (0: before the first).</param>
    /// <param name="Epoch">Passes over the training set done so far (steps / steps per epoch).</param>
    /// <param name="Seconds">Training time so far: the wall time of the training steps, evaluations and checkpoints excluded.</param>
    /// <param name="TrainLoss">Mean cross-entropy of the training steps since the previous evaluation (none at step 0).</param>
    /// <param name="TrainAccuracy">Fraction of the training images of those steps classified right (weights changing).</param>
    /// <param name="TestLoss">Mean cross-entropy on the test images (eval mode).</param>
    /// <param name="TestAccuracy">Fraction of the test images classified right.</param>
    /// <param name="EvalSeconds">Wall time of this evaluation.</param>
    /// <param name="CpuSeconds">CPU time of the training steps so far (all the process's threads).</param>
    internal sealed record CurvePoint(int Step, double Epoch, double Seconds, double? TrainLoss, double? TrainAccuracy,
        double TestLoss, double TestAccuracy, double EvalSeconds, double CpuSeconds)
    {
        /// <summary>The training seconds the run's budget counts (<see cref="Options.BudgetClock"/>).</summary>
        public double Budgeted(BudgetClock clock) => clock == BudgetClock.Cpu ? CpuSeconds : Seconds;
    }

    /// <summary>The outcome of one model's evaluation on the test set.</summary>
    /// <param name="Loss">Mean cross-entropy.</param>
    /// <param name="Accuracy">Fraction classified right.</param>
    /// <param name="PerClassAccuracy">Fraction classified right per true class, by label.</param>
    internal sealed record Evaluation(double Loss, double Accuracy, double[] PerClassAccuracy);

    /// <summary>Everything the report needs about one trained model.</summary>
    /// <param name="Kind">Which model.</param>
    /// <param name="Description">The model in a few words.</param>
    /// <param name="Parameters">The number of trainable values.</param>
    /// <param name="Curve">One point per evaluation, the first at step 0.</param>
    /// <param name="PerClassAccuracy">Per-class test accuracy at the last evaluation.</param>
    internal sealed record ModelResult(ModelKind Kind, string Description, long Parameters,
        IReadOnlyList<CurvePoint> Curve, double[] PerClassAccuracy)
    {
        /// <summary>The last evaluation: the end of training.</summary>
        public CurvePoint Final => Curve[^1];

        /// <summary>The evaluation with the highest test accuracy (for reference only: no model is picked by it).</summary>
        public CurvePoint Best => Curve.MaxBy(p => p.TestAccuracy)!;

        /// <summary>Mean training time per optimizer step.</summary>
        public double SecondsPerStep => Final.Step == 0 ? double.NaN : Final.Seconds / Final.Step;
    }

    /// <summary>
    /// Trains a <see cref="SequenceClassifier"/> with Adam on cross-entropy, gradients clipped element-wise to ±10
    /// (IndRNN's protocol), projecting DuRNN's and IndRNN's constraints after every optimizer step, for a number of
    /// epochs or a budget of training time, and evaluates on the whole test set before the first step, after every
    /// epoch or every <see cref="Options.EvalMinutes"/> of training time, and at the end.
    /// </summary>
    internal sealed class Trainer
    {
        private const double ClipValue = 10;
        private const int EvalBatch = 1000;

        private readonly FashionMnistData data;
        private readonly Options options;
        private readonly Tensor? pixelOrder;

        /// <summary>Creates a trainer for one data set and one set of options.</summary>
        /// <param name="data">The images.</param>
        /// <param name="options">Mode, epochs or budget, batch size, learning rate, seeds.</param>
        /// <param name="pixelOrder">The pixel order of permuted mode (int64, 784), null in the other modes.</param>
        public Trainer(FashionMnistData data, Options options, Tensor? pixelOrder)
        {
            this.data = data;
            this.options = options;
            this.pixelOrder = pixelOrder;
        }

        /// <summary>The number of optimizer steps in one epoch.</summary>
        public int StepsPerEpoch => (data.TrainCount + options.Batch - 1) / options.Batch;

        /// <summary>Trains <paramref name="model"/>, reporting to <paramref name="progress"/>.</summary>
        /// <param name="kind">Which model (for the result, the CSV file and the checkpoint).</param>
        /// <param name="model">A freshly built model.</param>
        /// <param name="progress">Where step and evaluation progress goes.</param>
        public ModelResult Train(ModelKind kind, SequenceClassifier model, ITrainingProgress progress)
        {
            var parameters = model.parameters().ToList();
            using var optimizer = optim.Adam(model.ParameterGroups(options.LearningRate), lr: options.LearningRate,
                beta1: 0.9, beta2: 0.999);
            var shuffle = new Random(options.Seed);            // the same image order for every model
            var order = Enumerable.Range(0, data.TrainCount).Select(i => (long)i).ToArray();
            var curve = new List<CurvePoint>();
            double[] perClass = Array.Empty<double>();
            int step = 0;

            if (options.Resume && Checkpoint.TryLoad(options, kind, model, optimizer) is { } resumed)
            {
                curve.AddRange(resumed);
                step = curve[^1].Step;
                for (int e = 0; e < (step + StepsPerEpoch - 1) / StepsPerEpoch; e++)
                    shuffle.Shuffle(order);                    // replay the shuffles of the epochs begun
                progress.Resumed(curve[^1]);
            }

            var clock = curve.Count == 0 ? new TrainingClock() : new TrainingClock(curve[^1].Seconds, curve[^1].CpuSeconds);
            double TrainSeconds() => clock.Seconds(options.BudgetClock);   // counts during training steps only
            double? evalPeriod = options.EvalMinutes * 60;
            double nextEval = evalPeriod is double p ? (Math.Floor(TrainSeconds() / p) + 1) * p : double.PositiveInfinity;

            if (curve.Count == 0)
                Record(null, null);

            double lossSum = 0;
            long correct = 0, seen = 0;
            bool epochShown = false;
            while (!Done())
            {
                int inEpoch = step % StepsPerEpoch;
                if (inEpoch == 0)
                    shuffle.Shuffle(order);
                if (!epochShown)
                    progress.StartEpoch(step / StepsPerEpoch + 1, options.Epochs, StepsPerEpoch, inEpoch);
                epochShown = true;

                clock.Start();
                var (loss, right, count) = TrainStep(model, optimizer, parameters, order, inEpoch);
                clock.Stop();
                step++;
                lossSum += loss * count;
                correct += right;
                seen += count;
                progress.Step(inEpoch + 1, lossSum / seen, (double)correct / seen);

                bool epochEnd = step % StepsPerEpoch == 0;
                bool due = evalPeriod is null ? epochEnd : TrainSeconds() >= nextEval;
                if (due || Done())
                {
                    Record(lossSum / seen, (double)correct / seen);
                    lossSum = 0;
                    correct = seen = 0;
                    if (evalPeriod is double period)
                        nextEval = (Math.Floor(TrainSeconds() / period) + 1) * period;
                }
                if (epochEnd || Done())
                {
                    progress.EndEpoch();
                    epochShown = false;
                }
            }
            // A run resumed with its budget already spent evaluated nothing here: the per-class figures of its last
            // evaluation (the checkpoint's model) for the tables and plots.
            if (perClass.Length == 0)
                perClass = Evaluate(model).PerClassAccuracy;
            return new ModelResult(kind, model.Description, model.ParameterCount, curve, perClass);

            bool Done() =>
                (options.Epochs is int epochs && step >= epochs * StepsPerEpoch) ||
                (options.BudgetMinutes is double budget && TrainSeconds() >= budget * 60);

            // Every evaluation rewrites the model's CSV (a long run's curve can be read while it trains) and, with
            // --checkpoint, saves a checkpoint.
            void Record(double? trainLoss, double? trainAccuracy)
            {
                progress.Evaluating();
                var evalClock = Stopwatch.StartNew();
                var evaluation = Evaluate(model);
                var point = new CurvePoint(step, (double)step / StepsPerEpoch, clock.WallSeconds, trainLoss, trainAccuracy,
                    evaluation.Loss, evaluation.Accuracy, evalClock.Elapsed.TotalSeconds, clock.CpuSeconds);
                curve.Add(point);
                perClass = evaluation.PerClassAccuracy;
                progress.Evaluated(point);
                var result = new ModelResult(kind, model.Description, model.ParameterCount, curve, perClass);
                Report.WriteCurveCsv(result, options);
                if (options.Checkpoint)
                    Checkpoint.Save(options, kind, model, optimizer, result);
            }
        }

        private (double Loss, long Right, int Count) TrainStep(SequenceClassifier model, Adam optimizer,
            IList<Parameter> parameters, long[] order, int inEpoch)
        {
            using var scope = torch.NewDisposeScope();         // frees every tensor of this step
            int start = inEpoch * options.Batch, count = Math.Min(options.Batch, data.TrainCount - start);
            var index = torch.tensor(order.AsSpan(start, count).ToArray());
            var input = FashionMnistData.ToSequences(data.TrainImages.index_select(0, index), options.Mode, pixelOrder);
            var labels = data.TrainLabels.index_select(0, index);

            var logits = model.call(input);
            var loss = nn.functional.cross_entropy(logits, labels);
            optimizer.zero_grad();
            loss.backward();
            nn.utils.clip_grad_value_(parameters, ClipValue);
            optimizer.step();
            model.ApplyConstraints();                          // projected gradient descent (DuRNN, IndRNN)
            return (loss.item<float>(), logits.argmax(1).eq(labels).sum().item<long>(), count);
        }

        /// <summary>Classifies every test image in eval mode without gradients.</summary>
        /// <param name="model">The model.</param>
        public Evaluation Evaluate(SequenceClassifier model)
        {
            model.eval();
            using var noGrad = torch.no_grad();
            var total = new long[SequenceClassifier.Classes];
            var right = new long[SequenceClassifier.Classes];
            double lossSum = 0;
            for (int start = 0; start < data.TestCount; start += EvalBatch)
            {
                using var scope = torch.NewDisposeScope();
                int count = Math.Min(EvalBatch, data.TestCount - start);
                var input = FashionMnistData.ToSequences(data.TestImages.narrow(0, start, count), options.Mode, pixelOrder);
                var labels = data.TestLabels.narrow(0, start, count);
                var logits = model.call(input);
                lossSum += nn.functional.cross_entropy(logits, labels).item<float>() * count;
                var predicted = logits.argmax(1).data<long>().ToArray();
                var truth = labels.data<long>().ToArray();
                for (int i = 0; i < count; i++)
                {
                    total[truth[i]]++;
                    if (predicted[i] == truth[i]) right[truth[i]]++;
                }
            }
            model.train();
            var perClass = total.Select((n, c) => n == 0 ? double.NaN : (double)right[c] / n).ToArray();
            return new Evaluation(lossSum / data.TestCount, (double)right.Sum() / data.TestCount, perClass);
        }
    }

    /// <summary>
    /// A model's checkpoint in the samples' shared layout (<see cref="CheckpointFolder"/>), in
    /// <c>{out}/checkpoints/{mode}-{model}</c>, with the curve so far as <c>curve.csv</c>. The image order is not
    /// stored: the shuffles are replayed from the seed, so a resumed run trains on the images of an uninterrupted one.
    /// </summary>
    internal static class Checkpoint
    {
        /// <summary>The folder of the checkpoint of <paramref name="kind"/> in the run's mode.</summary>
        public static string Folder(Options o, ModelKind kind) =>
            Path.Combine(o.OutputDirectory, "checkpoints", $"{Report.Prefix(o)}-{Options.Name(kind)}");

        /// <summary>The settings a resumed run must agree with (not the budget, epochs, evaluation period or threads).</summary>
        public static string Fingerprint(Options o, ModelKind kind) => string.Create(CultureInfo.InvariantCulture,
            $"model={Options.Name(kind)} mode={Report.Prefix(o)} permutation_seed={o.PermutationSeed} batch={o.Batch} lr={o.LearningRate:R} hidden={o.Hidden} layers={o.Layers} indrnn_layers={o.IndRnnLayers} mag={o.Mag:R} batchnorm={o.BatchNorm} readout_norm={o.ReadoutNorm} seed={o.Seed} train_limit={o.TrainLimit} test_limit={o.TestLimit}{(o.BaselineBatchNorm ? " baseline_batchnorm=True" : "")}"); // the last only when set: earlier checkpoints keep resuming

        /// <summary>Saves the state at the evaluation that ends the result's curve.</summary>
        public static void Save(Options o, ModelKind kind, SequenceClassifier model, Adam optimizer, ModelResult result) =>
            CheckpointFolder.Save(Folder(o, kind), Fingerprint(o, kind), model, optimizer,
                temporary => Report.WriteCurveCsv(result, Path.Combine(temporary, "curve.csv")));

        /// <summary>Loads the checkpoint of <paramref name="kind"/>, if there is one; returns its curve.</summary>
        /// <exception cref="InvalidDataException">The checkpoint was made with other settings.</exception>
        public static IReadOnlyList<CurvePoint>? TryLoad(Options o, ModelKind kind, SequenceClassifier model, Adam optimizer) =>
            CheckpointFolder.TryLoad(Folder(o, kind), Fingerprint(o, kind), model, optimizer)
                ? Report.ReadCurveCsv(Path.Combine(Folder(o, kind), "curve.csv")).Curve
                : null;
    }
}
