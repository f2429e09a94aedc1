using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using TorchSharp.Modules;

namespace DuRnn.Samples.AddingProblem
{
    /// <summary>
    /// What a training run needs to continue where it stopped: the model's parameters, Adam's moments and step
    /// counts, the learning curve so far, the number of steps done and the wall time spent. Saved after every
    /// evaluation with --checkpoint, read back with --resume. The training batches are not saved: the data
    /// generator is replayed to the same position (<see cref="AddingData.Skip"/>), so a resumed run sees the same
    /// batches as one that never stopped.
    /// </summary>
    /// <remarks>
    /// One folder per model and length, <c>{out}/checkpoints/T{T}-{model}</c>, holding <c>model.bin</c>
    /// (<c>Module.save</c>), <c>optimizer.bin</c> (TorchSharp's <c>Optimizer.save_state_dict</c>; not readable by
    /// PyTorch), <c>curve.csv</c> and <c>progress.txt</c>. A new checkpoint is written to a temporary folder first
    /// and then swapped in, so a run killed while saving leaves the previous checkpoint intact.
    /// </remarks>
    internal static class Checkpoint
    {
        /// <summary>The folder of the checkpoint of <paramref name="kind"/> at the run's length.</summary>
        public static string Folder(Options options, ModelKind kind) =>
            Path.Combine(options.OutputDirectory, "checkpoints", $"T{options.Length}-{Options.Name(kind)}");

        /// <summary>
        /// The settings a checkpoint must agree with to be resumed (everything that shapes the model, the data or
        /// the optimizer; not --steps, --eval-every or --threads, which a resumed run may change).
        /// </summary>
        public static string Fingerprint(Options o, ModelKind kind) => string.Create(CultureInfo.InvariantCulture,
            $"model={Options.Name(kind)} length={o.Length} batch={o.Batch} layers={o.Layers} hidden={o.Hidden} lr={o.LearningRate:R} weight_decay={o.WeightDecay:R} seed={o.Seed} test_size={o.TestSize}");

        /// <summary>Saves the state after <paramref name="step"/> training steps.</summary>
        public static void Save(Options options, ModelKind kind, AddingModel model, Adam optimizer,
            IReadOnlyList<CurvePoint> curve, int step, double seconds)
        {
            string folder = Folder(options, kind);
            string temporary = folder + ".saving";
            if (Directory.Exists(temporary)) Directory.Delete(temporary, recursive: true);
            Directory.CreateDirectory(temporary);

            model.save(Path.Combine(temporary, "model.bin"));
            optimizer.save_state_dict(Path.Combine(temporary, "optimizer.bin"));
            Results.WriteCsv(Path.Combine(temporary, "curve.csv"), new TrainingResult(kind, curve, seconds));
            File.WriteAllLines(Path.Combine(temporary, "progress.txt"), new[]
            {
                Fingerprint(options, kind),
                string.Create(CultureInfo.InvariantCulture, $"step={step}"),
                string.Create(CultureInfo.InvariantCulture, $"seconds={seconds:R}"),
            });

            string previous = folder + ".previous";
            if (Directory.Exists(previous)) Directory.Delete(previous, recursive: true);
            if (Directory.Exists(folder)) Directory.Move(folder, previous);
            Directory.Move(temporary, folder);
            if (Directory.Exists(previous)) Directory.Delete(previous, recursive: true);
        }

        /// <summary>
        /// Loads the checkpoint of <paramref name="kind"/> into <paramref name="model"/> and
        /// <paramref name="optimizer"/>, if there is one.
        /// </summary>
        /// <returns>The steps done, the wall time spent and the curve so far; null when no checkpoint exists.</returns>
        /// <exception cref="InvalidDataException">The checkpoint was made with other settings, or is damaged.</exception>
        public static (int Step, double Seconds, List<CurvePoint> Curve)? TryLoad(Options options, ModelKind kind,
            AddingModel model, Adam optimizer)
        {
            string folder = Folder(options, kind);
            string progressPath = Path.Combine(folder, "progress.txt");
            if (!File.Exists(progressPath)) return null;

            var lines = File.ReadAllLines(progressPath);
            string expected = Fingerprint(options, kind);
            if (lines.Length < 3 || lines[0] != expected)
            {
                throw new InvalidDataException(
                    $"The checkpoint in {folder} was made with other settings: it has '{(lines.Length > 0 ? lines[0] : "")}', this run has '{expected}'. " +
                    "Resume with the same settings, or delete the folder (or drop --resume) to start again.");
            }
            int step = int.Parse(Value(lines, "step"), CultureInfo.InvariantCulture);
            double seconds = double.Parse(Value(lines, "seconds"), CultureInfo.InvariantCulture);

            model.load(Path.Combine(folder, "model.bin"));
            optimizer.load_state_dict(Path.Combine(folder, "optimizer.bin"));
            var curve = Results.ReadCsv(Path.Combine(folder, "curve.csv"), kind).Curve.Where(p => p.Step <= step).ToList();
            return (step, seconds, curve);
        }

        private static string Value(string[] lines, string key)
        {
            string prefix = key + "=";
            return lines.FirstOrDefault(l => l.StartsWith(prefix, StringComparison.Ordinal))?[prefix.Length..]
                ?? throw new InvalidDataException($"progress.txt has no '{key}' line.");
        }
    }
}
