using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using TorchSharp;
using static TorchSharp.torch;

namespace DuRnn.Tests
{
    /// <summary>A tensor stored in a fixture: its shape and its values, flat and row-major, as float64.</summary>
    public sealed class FixtureTensor
    {
        public FixtureTensor(long[] shape, double[] data)
        {
            long count = shape.Aggregate(1L, (a, d) => a * d);
            if (count != data.Length)
                throw new InvalidDataException($"A fixture tensor of shape ({string.Join(", ", shape)}) needs {count} values; it has {data.Length}.");
            Shape = shape;
            Data = data;
        }

        /// <summary>The shape.</summary>
        public long[] Shape { get; }

        /// <summary>The values, row-major. Float32 fixtures hold exact float32 values widened to double.</summary>
        public double[] Data { get; }

        /// <summary>A new tensor with these values, of the given dtype (float32 values are recovered exactly).</summary>
        public Tensor ToTensor(ScalarType dtype)
        {
            using var t = torch.tensor(Data, Shape, dtype: ScalarType.Float64);
            return t.to(dtype);
        }

        internal static FixtureTensor Parse(JsonElement e, string what)
        {
            if (e.ValueKind != JsonValueKind.Object || !e.TryGetProperty("shape", out var shape) || !e.TryGetProperty("data", out var data))
                throw new InvalidDataException($"Fixture tensor '{what}' must be an object with \"shape\" and \"data\".");
            return new FixtureTensor(
                shape.EnumerateArray().Select(d => d.GetInt64()).ToArray(),
                data.EnumerateArray().Select(v => v.GetDouble()).ToArray());
        }
    }

    /// <summary>The model configuration of a DuRNN fixture (the <c>"config"</c> object; also the interop fixtures').</summary>
    public sealed record FixtureConfig(long InputSize, long HiddenSize, long ShortTermSize, long NumLayers,
        ShortTermActivation Activation, bool BatchNorm, bool Residual, bool BatchFirst, long SeqLen, long Batch);

    /// <summary>
    /// One golden fixture written from an independent PyTorch reference: by <c>tests/reference/make_fixtures.py</c> for a
    /// DuRNN (<c>fixtures/*.json</c>), by <c>tests/reference/make_indrnn_fixtures.py</c> for an IndRNN
    /// (<c>fixtures/indrnn/*.json</c>, reference <c>tests/reference/indrnn_reference.py</c>): the configuration, the
    /// parameters, the input, initial state and loss weights, and the expected outputs, final state, loss, gradients and
    /// BatchNorm running statistics (format in <c>tests/reference/README.md</c>). The state is held as its parts, in the
    /// stacks' order: a DuRNN's s and h (keys <c>s0</c>, <c>r_s</c>, <c>s_n</c>, <c>grad_s0</c> and the same with h), an
    /// IndRNN's h.
    /// </summary>
    public sealed class Fixture
    {
        /// <summary>Where the build copies the fixtures (the test output folder's <c>fixtures</c>).</summary>
        public static string Directory => Path.Combine(AppContext.BaseDirectory, "fixtures");

        /// <summary>The folder of one kind's fixtures: <c>fixtures</c> (DuRNN) or <c>fixtures/indrnn</c> (IndRNN).</summary>
        public static string DirectoryOf(StackKind kind) => kind == StackKind.DuRNN ? Directory : Path.Combine(Directory, "indrnn");

        /// <summary>The names (file names without .json) of every fixture of one kind, sorted.</summary>
        public static IReadOnlyList<string> Names(StackKind kind) =>
            System.IO.Directory.Exists(DirectoryOf(kind))
                ? System.IO.Directory.GetFiles(DirectoryOf(kind), "*.json").Select(Path.GetFileNameWithoutExtension).OfType<string>()
                    .OrderBy(n => n, StringComparer.Ordinal).ToList()
                : new List<string>();

        /// <summary>Loads the fixture of this kind with this name.</summary>
        public static Fixture Load(StackKind kind, string name) =>
            Parse(kind, File.ReadAllText(Path.Combine(DirectoryOf(kind), name + ".json")), name);

        private Fixture() { }

        public StackKind Kind { get; private set; }
        public string Name { get; private set; } = "";
        public ScalarType DType { get; private set; }
        /// <summary>The model's options (with the fixture's dtype).</summary>
        public StackSpec Spec { get; private set; } = null!;
        public long SeqLen { get; private set; }
        public long Batch { get; private set; }
        /// <summary>The sequences' lengths of a variable-length case (IndRNN fixtures), else null.</summary>
        public long[]? Lengths { get; private set; }
        public IReadOnlyDictionary<string, FixtureTensor> Parameters { get; private set; } = null!;
        public IReadOnlyDictionary<string, FixtureTensor> BuffersAfter { get; private set; } = null!;
        public FixtureTensor Input { get; private set; } = null!;
        public FixtureTensor ROut { get; private set; } = null!;
        public FixtureTensor Output { get; private set; } = null!;
        public double Loss { get; private set; }
        public IReadOnlyDictionary<string, FixtureTensor> GradParameters { get; private set; } = null!;
        public FixtureTensor GradInput { get; private set; } = null!;
        /// <summary>The state parts' names: "s", "h" (DuRNN) or "h" (IndRNN).</summary>
        public IReadOnlyList<string> StateLabels { get; private set; } = null!;
        /// <summary>The initial state's parts (<c>s0</c>, <c>h0</c>).</summary>
        public IReadOnlyList<FixtureTensor> InitialState { get; private set; } = null!;
        /// <summary>The loss weights of the final state's parts (<c>r_s</c>, <c>r_h</c>).</summary>
        public IReadOnlyList<FixtureTensor> StateWeights { get; private set; } = null!;
        /// <summary>The final state's parts (<c>s_n</c>, <c>h_n</c>).</summary>
        public IReadOnlyList<FixtureTensor> FinalState { get; private set; } = null!;
        /// <summary>The gradients of the initial state's parts (<c>grad_s0</c>, <c>grad_h0</c>).</summary>
        public IReadOnlyList<FixtureTensor> GradInitialState { get; private set; } = null!;

        /// <summary>D: 2 when bidirectional, else 1.</summary>
        public long Directions => Spec.Bidirectional ? 2 : 1;

        /// <summary>The size of every state part: [S, H] (DuRNN) or [H] (IndRNN).</summary>
        public IReadOnlyList<long> StateSizes => Kind == StackKind.DuRNN
            ? new[] { Spec.ShortTermSize ?? Spec.HiddenSize, Spec.HiddenSize }
            : new[] { Spec.HiddenSize };

        private static readonly string[] CommonKeys =
        {
            "name", "dtype", "seed", "config", "parameters", "buffers_after", "input", "r_out", "output", "loss",
            "grad_parameters", "grad_input",
        };

        private static string[] Labels(StackKind kind) => kind == StackKind.DuRNN ? new[] { "s", "h" } : new[] { "h" };

        /// <summary>Parses a fixture's JSON text. The <c>"seed"</c> key is informational and ignored.</summary>
        public static Fixture Parse(StackKind kind, string json, string what)
        {
            using var doc = JsonDocument.Parse(json);
            var root = doc.RootElement;
            var labels = Labels(kind);
            // Every key is known: a new key in the format means something new to compare, so fail loudly.
            var known = new HashSet<string>(CommonKeys.Concat(labels.SelectMany(l => new[] { l + "0", "r_" + l, l + "_n", "grad_" + l + "0" })),
                StringComparer.Ordinal);
            var unknown = root.EnumerateObject().Select(p => p.Name).Where(k => !known.Contains(k)).ToList();
            if (unknown.Count > 0)
                throw new InvalidDataException($"{kind} fixture '{what}' has unknown keys: {string.Join(", ", unknown)}.");

            FixtureTensor T(string key) => FixtureTensor.Parse(Get(root, key, what), key);
            IReadOnlyDictionary<string, FixtureTensor> Dict(string key) =>
                Get(root, key, what).EnumerateObject().ToDictionary(p => p.Name, p => FixtureTensor.Parse(p.Value, key + "." + p.Name), StringComparer.Ordinal);
            IReadOnlyList<FixtureTensor> Parts(Func<string, string> key) => labels.Select(l => T(key(l))).ToList();

            var dtype = ParseDType(Get(root, "dtype", what).GetString() ?? "", what);
            var config = Get(root, "config", what);
            StackSpec spec;
            long[]? lengths = null;
            if (kind == StackKind.DuRNN)
            {
                var c = ParseConfig(config, what);
                spec = new StackSpec(c.InputSize, c.HiddenSize, c.NumLayers)
                {
                    ShortTermSize = c.ShortTermSize, Activation = c.Activation, BatchNorm = c.BatchNorm, Residual = c.Residual,
                    BatchFirst = c.BatchFirst, DType = dtype,
                };
            }
            else
            {
                spec = new StackSpec(Get(config, "input_size", what).GetInt64(), Get(config, "hidden_size", what).GetInt64(),
                    Get(config, "num_layers", what).GetInt64())
                {
                    BatchNorm = Get(config, "batch_norm", what).GetBoolean(), Residual = Get(config, "residual", what).GetBoolean(),
                    BatchFirst = Get(config, "batch_first", what).GetBoolean(), Bidirectional = Get(config, "bidirectional", what).GetBoolean(),
                    DType = dtype,
                };
                var l = Get(config, "lengths", what);
                lengths = l.ValueKind == JsonValueKind.Null ? null : l.EnumerateArray().Select(v => v.GetInt64()).ToArray();
            }

            return new Fixture
            {
                Kind = kind,
                Name = Get(root, "name", what).GetString() ?? "",
                DType = dtype,
                Spec = spec,
                SeqLen = Get(config, "seq_len", what).GetInt64(),
                Batch = Get(config, "batch", what).GetInt64(),
                Lengths = lengths,
                Parameters = Dict("parameters"),
                BuffersAfter = Dict("buffers_after"),
                Input = T("input"),
                ROut = T("r_out"),
                Output = T("output"),
                Loss = Get(root, "loss", what).GetDouble(),
                GradParameters = Dict("grad_parameters"),
                GradInput = T("grad_input"),
                StateLabels = labels,
                InitialState = Parts(l => l + "0"),
                StateWeights = Parts(l => "r_" + l),
                FinalState = Parts(l => l + "_n"),
                GradInitialState = Parts(l => "grad_" + l + "0"),
            };
        }

        internal static ScalarType ParseDType(string dtype, string what) => dtype switch
        {
            "float64" => ScalarType.Float64,
            "float32" => ScalarType.Float32,
            _ => throw new InvalidDataException($"Fixture '{what}': unknown dtype '{dtype}'."),
        };

        /// <summary>Parses a fixture's <c>"config"</c> object.</summary>
        internal static FixtureConfig ParseConfig(JsonElement c, string what)
        {
            string activation = Get(c, "activation", what).GetString() ?? "";
            return new FixtureConfig(
                Get(c, "input_size", what).GetInt64(), Get(c, "hidden_size", what).GetInt64(),
                Get(c, "short_term_size", what).GetInt64(), Get(c, "num_layers", what).GetInt64(),
                activation switch
                {
                    "relu" => ShortTermActivation.ReLU,
                    "tanh" => ShortTermActivation.Tanh,
                    _ => throw new InvalidDataException($"Fixture '{what}': unknown activation '{activation}'."),
                },
                Get(c, "batch_norm", what).GetBoolean(), Get(c, "residual", what).GetBoolean(),
                Get(c, "batch_first", what).GetBoolean(), Get(c, "seq_len", what).GetInt64(), Get(c, "batch", what).GetInt64());
        }

        internal static JsonElement Get(JsonElement e, string key, string what) =>
            e.TryGetProperty(key, out var v) ? v : throw new InvalidDataException($"Fixture '{what}' lacks \"{key}\".");

        /// <summary>A stack of this fixture's kind, configuration and dtype (its parameters are not loaded).</summary>
        public StackUnderTest CreateModel() => StackUnderTest.Create(Kind, Spec);

        public override string ToString() => Name;
    }
}
