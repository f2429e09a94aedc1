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
    /// counts, and the learning curve so far, whose last point (a checkpoint is saved at every evaluation) gives
    /// the steps done and the wall time spent. Saved with --checkpoint, read back with --resume. The training batches are not saved: the data
    /// generator is replayed to the same position (<see cref="AddingData.Skip"/>), so a resumed run sees the same
    /// batches as one that never stopped.
    /// </summary>
    /// <remarks>
    /// One folder per model and length, <c>{out}/checkpoints/T{T}-{model}</c>, holding <c>model.bin</c>
    /// (<c>Module.save</c>), <c>optimizer.bin</c> (TorchSharp's <c>Optimizer.save_state_dict</c>; not readable by
    /// PyTorch), <c>curve.csv</c> and <c>settings.txt</c> (<see cref="Fingerprint"/>). A new checkpoint is written to a temporary folder first
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

        /// <summary>Saves the state at the evaluation that ends <paramref name="curve"/>.</summary>
        public static void Save(Options options, ModelKind kind, AddingModel model, Adam optimizer,
            IReadOnlyList<CurvePoint> curve)
        {
            string folder = Folder(options, kind);
            string temporary = folder + ".saving";
            if (Directory.Exists(temporary)) Directory.Delete(temporary, recursive: true);
            Directory.CreateDirectory(temporary);

            model.save(Path.Combine(temporary, "model.bin"));
            optimizer.save_state_dict(Path.Combine(temporary, "optimizer.bin"));
            Results.WriteCsv(Path.Combine(temporary, "curve.csv"), new TrainingResult(kind, curve, curve[^1].Seconds));
            File.WriteAllText(Path.Combine(temporary, "settings.txt"), Fingerprint(options, kind) + "\n");

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
        /// <returns>The curve so far (its last point: the steps done and the wall time spent); null when no
        /// checkpoint exists.</returns>
        /// <exception cref="InvalidDataException">The checkpoint was made with other settings, or is damaged.</exception>
        public static IReadOnlyList<CurvePoint>? TryLoad(Options options, ModelKind kind, AddingModel model, Adam optimizer)
        {
            string folder = Folder(options, kind);
            string settingsPath = Path.Combine(folder, "settings.txt");
            if (!File.Exists(settingsPath)) return null;

            string saved = File.ReadAllText(settingsPath).Trim();
            string expected = Fingerprint(options, kind);
            if (saved != expected)
            {
                throw new InvalidDataException(
                    $"The checkpoint in {folder} was made with other settings: it has '{saved}', this run has '{expected}'. " +
                    "Resume with the same settings, or delete the folder (or drop --resume) to start again.");
            }
            model.load(Path.Combine(folder, "model.bin"));
            optimizer.load_state_dict(Path.Combine(folder, "optimizer.bin"));
            return Results.ReadCsv(Path.Combine(folder, "curve.csv"), kind).Curve;
        }
    }
}
