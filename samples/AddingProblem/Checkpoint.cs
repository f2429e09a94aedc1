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
    /// One folder per model and length, <c>{out}/checkpoints/T{T}-{model}</c>, in the samples' shared layout
    /// (<see cref="CheckpointFolder"/>: <c>model.bin</c>, <c>optimizer.bin</c>, <c>settings.txt</c> holding
    /// <see cref="Fingerprint"/>), plus <c>curve.csv</c>.
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
            $"model={Options.Name(kind)} length={o.Length} batch={o.Batch} layers={o.Layers} hidden={o.Hidden} lr={o.LearningRate:R} weight_decay={o.WeightDecay:R} seed={o.Seed} test_size={o.TestSize}{(o.LibraryOptions.Length > 0 ? " " + o.LibraryOptions : "")}");

        /// <summary>Saves the state at the evaluation that ends <paramref name="curve"/>.</summary>
        public static void Save(Options options, ModelKind kind, AddingModel model, Adam optimizer,
            IReadOnlyList<CurvePoint> curve) =>
            CheckpointFolder.Save(Folder(options, kind), Fingerprint(options, kind), model, optimizer, temporary =>
                Results.WriteCsv(Path.Combine(temporary, "curve.csv"), new TrainingResult(kind, curve, curve[^1].Seconds)));

        /// <summary>
        /// Loads the checkpoint of <paramref name="kind"/> into <paramref name="model"/> and
        /// <paramref name="optimizer"/>, if there is one.
        /// </summary>
        /// <returns>The curve so far (its last point: the steps done and the wall time spent); null when no
        /// checkpoint exists.</returns>
        /// <exception cref="InvalidDataException">The checkpoint was made with other settings, or is damaged.</exception>
        public static IReadOnlyList<CurvePoint>? TryLoad(Options options, ModelKind kind, AddingModel model, Adam optimizer) =>
            CheckpointFolder.TryLoad(Folder(options, kind), Fingerprint(options, kind), model, optimizer)
                ? Results.ReadCsv(Path.Combine(Folder(options, kind), "curve.csv"), kind).Curve
                : null;
    }
}
