using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DuRnn.Samples.CharLanguageModel
{
    /// <summary>
    /// Trains a <see cref="CharModel"/> by truncated backpropagation through time, the README's streaming recipe: the
    /// training text is cut into B parallel streams (<see cref="ParallelStreams"/>); step k reads the next --bptt
    /// characters of every stream, predicts each next character (cross-entropy), and carries the state it ends with,
    /// detached, into step k + 1. When the streams wrap around (an epoch ends) the state starts again from zeros.
    /// Adam over the model's parameter groups; every gradient element clipped to ±<see cref="ClipValue"/> (IndRNN's
    /// recipe, as in the README's training loop and the other samples);
    /// <see cref="CharModel.ApplyConstraints"/> after every optimizer step. Training stops after --budget-minutes of
    /// training time (evaluations excluded) or at --steps, whichever comes first; the validation text is evaluated
    /// every --eval-minutes of training time and at the end, the test text once at the end.
    /// </summary>
    internal sealed class Trainer
    {
        /// <summary>
        /// The bound on every gradient element (IndRNN's element-wise clip). Not a bound on the global norm: measured at
        /// the default sizes, the models' gradient norms differ (median over the first 60 steps: DuRNN 0.81, IndRNN 1.58,
        /// LSTM 0.26, GRU 0.31; DuRNN over two minutes: 2.4; a norm clip at 1 rescaled 646 of DuRNN's first 665 steps), so
        /// a norm clip at 1 would rescale nearly every DuRNN and IndRNN step and almost no LSTM step.
        /// </summary>
        public const double ClipValue = 10.0;

        private readonly Options options;
        private readonly ParallelStreams train;
        private readonly ParallelStreams valid;
        private readonly ParallelStreams test;
        private readonly int vocabulary;
        private readonly string corpusFingerprint;

        /// <summary>Creates a trainer for one text and one set of options.</summary>
        /// <param name="options">The run's options.</param>
        /// <param name="train">The training text, in --batch streams.</param>
        /// <param name="valid">The validation text, in <see cref="Evaluator.Streams"/> streams.</param>
        /// <param name="test">The test text, in <see cref="Evaluator.Streams"/> streams.</param>
        /// <param name="vocabulary">V, the number of symbols.</param>
        /// <param name="corpusFingerprint">What identifies the text, for checkpoints.</param>
        public Trainer(Options options, ParallelStreams train, ParallelStreams valid, ParallelStreams test, int vocabulary,
            string corpusFingerprint)
        {
            if (train.Length < options.Bptt)
                throw new ArgumentException($"The training streams have {train.Length} steps, fewer than --bptt {options.Bptt}.", nameof(train));
            this.options = options;
            this.train = train;
            this.valid = valid;
            this.test = test;
            this.vocabulary = vocabulary;
            this.corpusFingerprint = corpusFingerprint;
        }

        /// <summary>Training steps per pass over the training text (the rest of each stream, under --bptt steps, is not read).</summary>
        public long StepsPerEpoch => train.Length / options.Bptt;

        /// <summary>Trains <paramref name="model"/>, resuming from its checkpoint when asked to, and reports to <paramref name="progress"/>.</summary>
        /// <param name="model">A model freshly built by <see cref="ModelFactory.Create"/>.</param>
        /// <param name="progress">Where step and evaluation progress goes.</param>
        public TrainingResult Train(CharModel model, IProgressSink progress)
        {
            var parameters = model.parameters().ToList();
            using var optimizer = CreateOptimizer(model);
            string fingerprint = Checkpoint.Fingerprint(options, model, corpusFingerprint);

            var curve = new List<CurvePoint>();
            CarriedState? state = null;
            int step = 0;
            try
            {
                if (options.Resume && Checkpoint.TryLoad(options, model.Kind, fingerprint, model, optimizer) is { } saved)
                {
                    curve.AddRange(saved.Curve);
                    state = saved.State;
                    step = curve[^1].Step;
                    progress.OnResumed(curve[^1]);
                }

                var clock = curve.Count == 0 ? new TrainingClock() : new TrainingClock(curve[^1].Seconds, curve[^1].CpuSeconds);
                double Seconds() => clock.Seconds(options.BudgetClock);   // counts during training steps only
                bool Done() => (options.Steps is int cap && step >= cap) || Seconds() >= options.BudgetSeconds;

                if (curve.Count == 0)
                    Record(new CurvePoint(0, 0, null, Evaluate(valid, "validation"), 0));

                double bpcSum = 0;
                int bpcCount = 0, stepsThisRun = 0, clipped = 0;
                var norms = new List<double>();
                int? diverged = null;
                double nextEvaluation = NextEvaluation(Seconds());
                while (!Done())
                {
                    step++;
                    long chunk = (step - 1) % StepsPerEpoch;
                    if (chunk == 0 && state is not null)
                    {
                        state.Dispose();                          // a new pass over the text starts from zeros
                        state = null;
                    }
                    clock.Start();
                    var (loss, norm, largest) = TrainStep(model, optimizer, parameters, chunk, ref state);
                    clock.Stop();
                    stepsThisRun++;
                    if (!double.IsFinite(loss))
                    {
                        diverged = step;
                        break;
                    }
                    if (largest > ClipValue) clipped++;
                    norms.Add(norm);
                    double bpc = loss / Math.Log(2);
                    bpcSum += bpc;
                    bpcCount++;
                    progress.OnStep(step, Seconds(), bpc);
                    if (Seconds() >= nextEvaluation || Done())
                    {
                        Record(new CurvePoint(step, clock.WallSeconds, bpcSum / bpcCount, Evaluate(valid, "validation"), clock.CpuSeconds));
                        bpcSum = 0;
                        bpcCount = 0;
                        nextEvaluation = NextEvaluation(Seconds());
                    }
                }

                double testBpc = diverged is null ? Evaluate(test, "test") : double.NaN;
                var last = curve[^1];
                var summary = new ModelSummary(model.Kind, model.Layers, model.Hidden, options.Embedding, model.ParameterCount,
                    last.Step, last.Seconds, last.ValidBpc, testBpc, last.CpuSeconds);
                norms.Sort();
                double medianNorm = norms.Count == 0 ? double.NaN : norms[norms.Count / 2];
                return new TrainingResult(summary, curve, stepsThisRun, clipped, medianNorm, diverged);
            }
            finally
            {
                state?.Dispose();
            }

            // Every evaluation rewrites the model's CSV, so a long run's curve can be read while it trains, and (with
            // --checkpoint) saves a checkpoint with the state the next step starts from.
            void Record(CurvePoint point)
            {
                curve.Add(point);
                progress.OnEvaluated(point);
                Results.WriteCurve(Results.CurvePath(options, model.Kind), curve);
                if (options.Checkpoint)
                    Checkpoint.Save(options, model.Kind, fingerprint, model, optimizer, curve, state);
            }

            double Evaluate(ParallelStreams part, string name)
            {
                progress.OnEvaluating(name);
                return Evaluator.BitsPerCharacter(model, part, vocabulary);
            }
        }

        /// <summary>The training time of the first evaluation after <paramref name="seconds"/>: the next multiple of --eval-minutes.</summary>
        private double NextEvaluation(double seconds) =>
            options.EvalSeconds * (Math.Floor(seconds / options.EvalSeconds) + 1);

        /// <summary>Adam over the model's parameter groups, as training and its checkpoints use it.</summary>
        private Adam CreateOptimizer(CharModel model) =>
            optim.Adam(model.ParameterGroups(options.LearningRate, options.WeightDecay),
                lr: options.LearningRate, beta1: 0.9, beta2: 0.999);

        /// <summary>
        /// Loads <paramref name="model"/>'s weights from its checkpoint (the same settings are required, as for
        /// --resume); false when there is none.
        /// </summary>
        public bool TryLoadWeights(CharModel model)
        {
            using var optimizer = CreateOptimizer(model);
            var saved = Checkpoint.TryLoad(options, model.Kind, Checkpoint.Fingerprint(options, model, corpusFingerprint), model, optimizer);
            saved?.State?.Dispose();
            return saved is not null;
        }

        /// <summary>
        /// One step of truncated BPTT on chunk <paramref name="chunk"/> of the streams, starting from
        /// <paramref name="state"/> and replacing it with the detached state the chunk ends with.
        /// </summary>
        /// <returns>The mean cross-entropy (nats per character), and the gradient's global L2 norm and largest absolute
        /// element before clipping (diagnostics).</returns>
        private (double loss, double norm, double largest) TrainStep(CharModel model, Adam optimizer, IList<Parameter> parameters, long chunk,
            ref CarriedState? state)
        {
            using var scope = torch.NewDisposeScope();           // frees every tensor of this step
            var (inputs, targets) = train.Chunk(chunk * options.Bptt, options.Bptt);
            var (logits, next) = model.call(inputs, state);
            var loss = nn.functional.cross_entropy(logits.reshape(-1, vocabulary), targets.reshape(-1));
            optimizer.zero_grad();
            loss.backward();                                      // reaches back to the start of this chunk only
            var grads = parameters.Where(p => p.grad is not null).Select(p => p.grad!).ToList();
            double norm = torch.stack(grads.Select(g => g.norm())).norm().item<float>();
            double largest = torch.stack(grads.Select(g => g.abs().max())).max().item<float>();
            nn.utils.clip_grad_value_(parameters, ClipValue);
            optimizer.step();
            model.ApplyConstraints();                             // DuRNN: ‖U_s‖₂ ≤ ρ and |u| ≤ 1; IndRNN: |u| ≤ 1
            state?.Dispose();
            state = next.Detach().MoveToOuterDisposeScope();      // cut the graph between chunks
            return (loss.item<float>(), norm, largest);
        }
    }
}
