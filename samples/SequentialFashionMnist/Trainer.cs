using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using TorchSharp;
using static TorchSharp.torch;

namespace DuRnn.Samples.SequentialFashionMnist
{
    /// <summary>One epoch of one model.</summary>
    /// <param name="Epoch">1-based epoch number.</param>
    /// <param name="TrainLoss">Mean cross-entropy over the epoch's training steps (train mode, weights changing).</param>
    /// <param name="TrainAccuracy">Fraction of training images classified right during the epoch (running accuracy).</param>
    /// <param name="TestLoss">Mean cross-entropy on the test images after the epoch (eval mode).</param>
    /// <param name="TestAccuracy">Fraction of test images classified right after the epoch.</param>
    /// <param name="TrainSeconds">Wall time of the epoch's training steps.</param>
    /// <param name="EvalSeconds">Wall time of the test evaluation after the epoch.</param>
    internal sealed record EpochRecord(int Epoch, double TrainLoss, double TrainAccuracy, double TestLoss,
        double TestAccuracy, double TrainSeconds, double EvalSeconds);

    /// <summary>The outcome of one model's evaluation on the test set.</summary>
    /// <param name="Loss">Mean cross-entropy.</param>
    /// <param name="Accuracy">Fraction classified right.</param>
    /// <param name="PerClassAccuracy">Fraction classified right per true class, by label.</param>
    internal sealed record Evaluation(double Loss, double Accuracy, double[] PerClassAccuracy);

    /// <summary>Everything the report needs about one trained model.</summary>
    /// <param name="Kind">Which model.</param>
    /// <param name="Description">The model in a few words.</param>
    /// <param name="Parameters">The number of trainable values.</param>
    /// <param name="Epochs">One record per epoch.</param>
    /// <param name="Final">The test evaluation after the last epoch.</param>
    internal sealed record ModelResult(ModelKind Kind, string Description, long Parameters,
        IReadOnlyList<EpochRecord> Epochs, Evaluation Final)
    {
        /// <summary>Mean training wall time per epoch (without evaluation).</summary>
        public double SecondsPerEpoch => Epochs.Average(e => e.TrainSeconds);

        /// <summary>Training plus evaluation wall time of all epochs.</summary>
        public double TotalSeconds => Epochs.Sum(e => e.TrainSeconds + e.EvalSeconds);
    }

    /// <summary>
    /// Trains a <see cref="SequenceClassifier"/> with Adam on cross-entropy, gradients clipped element-wise to ±10
    /// (IndRNN's protocol), projecting the DuRNN's constraints after every optimizer step, and evaluates on the test set
    /// after every epoch.
    /// </summary>
    internal sealed class Trainer
    {
        private const double ClipValue = 10;
        private const int EvalBatch = 1000;

        private readonly FashionMnistData data;
        private readonly Options options;

        /// <summary>Creates a trainer for one data set and one set of options.</summary>
        /// <param name="data">The images.</param>
        /// <param name="options">Mode, epochs, batch size, learning rate, seed.</param>
        public Trainer(FashionMnistData data, Options options)
        {
            this.data = data;
            this.options = options;
        }

        /// <summary>The number of optimizer steps in one epoch.</summary>
        public int StepsPerEpoch => (data.TrainCount + options.Batch - 1) / options.Batch;

        /// <summary>Trains <paramref name="model"/> for all epochs, reporting to <paramref name="progress"/>.</summary>
        /// <param name="kind">Which model (for the result).</param>
        /// <param name="model">A freshly built model.</param>
        /// <param name="progress">Where step and epoch progress goes.</param>
        public ModelResult Train(ModelKind kind, SequenceClassifier model, ITrainingProgress progress)
        {
            var parameters = model.parameters().ToList();
            using var optimizer = optim.Adam(model.ParameterGroups(options.LearningRate), lr: options.LearningRate,
                beta1: 0.9, beta2: 0.999);
            var shuffle = new Random(options.Seed);            // the same image order for every model
            var order = Enumerable.Range(0, data.TrainCount).Select(i => (long)i).ToArray();
            var epochs = new List<EpochRecord>();
            Evaluation? evaluation = null;
            for (int epoch = 1; epoch <= options.Epochs; epoch++)
            {
                shuffle.Shuffle(order);
                progress.StartEpoch(epoch, options.Epochs, StepsPerEpoch);
                model.train();
                var clock = Stopwatch.StartNew();
                double lossSum = 0;
                long correct = 0, seen = 0;
                for (int step = 0; step < StepsPerEpoch; step++)
                {
                    using var scope = torch.NewDisposeScope();   // frees every tensor of this step
                    int start = step * options.Batch, count = Math.Min(options.Batch, data.TrainCount - start);
                    var index = torch.tensor(order.AsSpan(start, count).ToArray());
                    var input = FashionMnistData.ToSequences(data.TrainImages.index_select(0, index), options.Mode);
                    var labels = data.TrainLabels.index_select(0, index);

                    var logits = model.call(input);
                    var loss = nn.functional.cross_entropy(logits, labels);
                    optimizer.zero_grad();
                    loss.backward();
                    nn.utils.clip_grad_value_(parameters, ClipValue);
                    optimizer.step();
                    model.ApplyConstraints();                    // projected gradient descent (DuRNN only)

                    lossSum += loss.item<float>() * count;
                    correct += logits.argmax(1).eq(labels).sum().item<long>();
                    seen += count;
                    progress.Step(step + 1, lossSum / seen, (double)correct / seen);
                }
                double trainSeconds = clock.Elapsed.TotalSeconds;

                progress.Evaluating();
                clock.Restart();
                evaluation = Evaluate(model);
                var record = new EpochRecord(epoch, lossSum / seen, (double)correct / seen, evaluation.Loss,
                    evaluation.Accuracy, trainSeconds, clock.Elapsed.TotalSeconds);
                epochs.Add(record);
                progress.EndEpoch(record);
            }
            return new ModelResult(kind, model.Description, model.ParameterCount, epochs, evaluation!);
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
                var input = FashionMnistData.ToSequences(data.TestImages.narrow(0, start, count), options.Mode);
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
}
