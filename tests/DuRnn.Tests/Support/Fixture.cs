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

    /// <summary>The model configuration of a fixture (the <c>"config"</c> object).</summary>
    public sealed record FixtureConfig(long InputSize, long HiddenSize, long ShortTermSize, long NumLayers,
        ShortTermActivation Activation, bool BatchNorm, bool Residual, bool BatchFirst, long SeqLen, long Batch);

    /// <summary>
    /// One golden fixture written by <c>tests/reference/make_fixtures.py</c> from the PyTorch reference model: the
    /// configuration, the parameters, the input and initial state, the loss weights, and the expected outputs,
    /// final state, loss, gradients and BatchNorm running statistics (format in <c>tests/reference/README.md</c>).
    /// </summary>
    public sealed class Fixture
    {
        /// <summary>Where the build copies the fixtures (the test output folder's <c>fixtures</c>).</summary>
        public static string Directory => Path.Combine(AppContext.BaseDirectory, "fixtures");

        /// <summary>The names (file names without .json) of every fixture, sorted.</summary>
        public static IReadOnlyList<string> Names() =>
            System.IO.Directory.Exists(Directory)
                ? System.IO.Directory.GetFiles(Directory, "*.json").Select(Path.GetFileNameWithoutExtension).OfType<string>()
                    .OrderBy(n => n, StringComparer.Ordinal).ToList()
                : new List<string>();

        /// <summary>Loads the fixture with this name from <see cref="Directory"/>.</summary>
        public static Fixture Load(string name) => Parse(File.ReadAllText(Path.Combine(Directory, name + ".json")), name);

        private Fixture() { }

        public string Name { get; private set; } = "";
        public ScalarType DType { get; private set; }
        public FixtureConfig Config { get; private set; } = null!;
        public IReadOnlyDictionary<string, FixtureTensor> Parameters { get; private set; } = null!;
        public IReadOnlyDictionary<string, FixtureTensor> BuffersAfter { get; private set; } = null!;
        public FixtureTensor Input { get; private set; } = null!;
        public FixtureTensor S0 { get; private set; } = null!;
        public FixtureTensor H0 { get; private set; } = null!;
        public FixtureTensor ROut { get; private set; } = null!;
        public FixtureTensor RS { get; private set; } = null!;
        public FixtureTensor RH { get; private set; } = null!;
        public FixtureTensor Output { get; private set; } = null!;
        public FixtureTensor SN { get; private set; } = null!;
        public FixtureTensor HN { get; private set; } = null!;
        public double Loss { get; private set; }
        public IReadOnlyDictionary<string, FixtureTensor> GradParameters { get; private set; } = null!;
        public FixtureTensor GradInput { get; private set; } = null!;
        public FixtureTensor GradS0 { get; private set; } = null!;
        public FixtureTensor GradH0 { get; private set; } = null!;

        private static readonly HashSet<string> KnownKeys = new(StringComparer.Ordinal)
        {
            "name", "dtype", "seed", "config", "parameters", "buffers_after", "input", "s0", "h0", "r_out", "r_s", "r_h",
            "output", "s_n", "h_n", "loss", "grad_parameters", "grad_input", "grad_s0", "grad_h0",
        };

        /// <summary>Parses a fixture's JSON text. The <c>"seed"</c> key is informational and ignored.</summary>
        public static Fixture Parse(string json, string what)
        {
            using var doc = JsonDocument.Parse(json);
            var root = doc.RootElement;
            // Every key is known: a new key in the format means something new to compare, so fail loudly.
            var unknown = root.EnumerateObject().Select(p => p.Name).Where(k => !KnownKeys.Contains(k)).ToList();
            if (unknown.Count > 0)
                throw new InvalidDataException($"Fixture '{what}' has unknown keys: {string.Join(", ", unknown)}.");

            FixtureTensor T(string key) => FixtureTensor.Parse(Get(root, key, what), key);
            IReadOnlyDictionary<string, FixtureTensor> Dict(string key) =>
                Get(root, key, what).EnumerateObject().ToDictionary(p => p.Name, p => FixtureTensor.Parse(p.Value, key + "." + p.Name), StringComparer.Ordinal);

            string dtype = Get(root, "dtype", what).GetString() ?? "";
            return new Fixture
            {
                Name = Get(root, "name", what).GetString() ?? "",
                DType = ParseDType(dtype, what),
                Config = ParseConfig(Get(root, "config", what), what),
                Parameters = Dict("parameters"),
                BuffersAfter = Dict("buffers_after"),
                Input = T("input"),
                S0 = T("s0"),
                H0 = T("h0"),
                ROut = T("r_out"),
                RS = T("r_s"),
                RH = T("r_h"),
                Output = T("output"),
                SN = T("s_n"),
                HN = T("h_n"),
                Loss = Get(root, "loss", what).GetDouble(),
                GradParameters = Dict("grad_parameters"),
                GradInput = T("grad_input"),
                GradS0 = T("grad_s0"),
                GradH0 = T("grad_h0"),
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

        /// <summary>A DuRNN with this fixture's configuration and dtype (its parameters are not loaded).</summary>
        public DuRNN CreateModel() => new(Config.InputSize, Config.HiddenSize, Config.NumLayers, Config.ShortTermSize,
            Config.Activation, batchNorm: Config.BatchNorm, residual: Config.Residual, batchFirst: Config.BatchFirst, dtype: DType);

        public override string ToString() => Name;
    }
}
