using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using static TorchSharp.torch;

namespace DuRnn.Tests
{
    /// <summary>The model configuration of an IndRNN fixture (the <c>"config"</c> object).</summary>
    public sealed record IndRnnFixtureConfig(long InputSize, long HiddenSize, long NumLayers, bool BatchNorm, bool Residual,
        bool BatchFirst, bool Bidirectional, long SeqLen, long Batch, long[]? Lengths)
    {
        /// <summary>D: 2 when bidirectional, else 1.</summary>
        public long Directions => Bidirectional ? 2 : 1;
    }

    /// <summary>
    /// One IndRNN golden fixture written by <c>tests/reference/make_indrnn_fixtures.py</c> from the PyTorch reference
    /// (<c>tests/reference/indrnn_reference.py</c>): the configuration, the parameters, the input, initial state and
    /// loss weights, and the expected outputs, final state, loss, gradients and BatchNorm running statistics (format in
    /// <c>tests/reference/README.md</c>). Tensors use the conventions of <see cref="FixtureTensor"/>.
    /// </summary>
    public sealed class IndRnnFixture
    {
        /// <summary>Where the build copies the IndRNN fixtures (the test output folder's <c>fixtures/indrnn</c>).</summary>
        public static string Directory => Path.Combine(Fixture.Directory, "indrnn");

        /// <summary>The names (file names without .json) of every IndRNN fixture, sorted.</summary>
        public static IReadOnlyList<string> Names() =>
            System.IO.Directory.Exists(Directory)
                ? System.IO.Directory.GetFiles(Directory, "*.json").Select(Path.GetFileNameWithoutExtension).OfType<string>()
                    .OrderBy(n => n, StringComparer.Ordinal).ToList()
                : new List<string>();

        /// <summary>Loads the fixture with this name from <see cref="Directory"/>.</summary>
        public static IndRnnFixture Load(string name) => Parse(File.ReadAllText(Path.Combine(Directory, name + ".json")), name);

        private IndRnnFixture() { }

        public string Name { get; private set; } = "";
        public ScalarType DType { get; private set; }
        public IndRnnFixtureConfig Config { get; private set; } = null!;
        public IReadOnlyDictionary<string, FixtureTensor> Parameters { get; private set; } = null!;
        public IReadOnlyDictionary<string, FixtureTensor> BuffersAfter { get; private set; } = null!;
        public FixtureTensor Input { get; private set; } = null!;
        public FixtureTensor H0 { get; private set; } = null!;
        public FixtureTensor ROut { get; private set; } = null!;
        public FixtureTensor RH { get; private set; } = null!;
        public FixtureTensor Output { get; private set; } = null!;
        public FixtureTensor HN { get; private set; } = null!;
        public double Loss { get; private set; }
        public IReadOnlyDictionary<string, FixtureTensor> GradParameters { get; private set; } = null!;
        public FixtureTensor GradInput { get; private set; } = null!;
        public FixtureTensor GradH0 { get; private set; } = null!;

        private static readonly HashSet<string> KnownKeys = new(StringComparer.Ordinal)
        {
            "name", "dtype", "seed", "config", "parameters", "buffers_after", "input", "h0", "r_out", "r_h",
            "output", "h_n", "loss", "grad_parameters", "grad_input", "grad_h0",
        };

        /// <summary>Parses a fixture's JSON text. The <c>"seed"</c> key is informational and ignored.</summary>
        public static IndRnnFixture Parse(string json, string what)
        {
            using var doc = JsonDocument.Parse(json);
            var root = doc.RootElement;
            // Every key is known: a new key in the format means something new to compare, so fail loudly.
            var unknown = root.EnumerateObject().Select(p => p.Name).Where(k => !KnownKeys.Contains(k)).ToList();
            if (unknown.Count > 0)
                throw new InvalidDataException($"IndRNN fixture '{what}' has unknown keys: {string.Join(", ", unknown)}.");

            FixtureTensor T(string key) => FixtureTensor.Parse(Fixture.Get(root, key, what), key);
            IReadOnlyDictionary<string, FixtureTensor> Dict(string key) =>
                Fixture.Get(root, key, what).EnumerateObject().ToDictionary(p => p.Name, p => FixtureTensor.Parse(p.Value, key + "." + p.Name), StringComparer.Ordinal);

            return new IndRnnFixture
            {
                Name = Fixture.Get(root, "name", what).GetString() ?? "",
                DType = Fixture.ParseDType(Fixture.Get(root, "dtype", what).GetString() ?? "", what),
                Config = ParseConfig(Fixture.Get(root, "config", what), what),
                Parameters = Dict("parameters"),
                BuffersAfter = Dict("buffers_after"),
                Input = T("input"),
                H0 = T("h0"),
                ROut = T("r_out"),
                RH = T("r_h"),
                Output = T("output"),
                HN = T("h_n"),
                Loss = Fixture.Get(root, "loss", what).GetDouble(),
                GradParameters = Dict("grad_parameters"),
                GradInput = T("grad_input"),
                GradH0 = T("grad_h0"),
            };
        }

        private static IndRnnFixtureConfig ParseConfig(JsonElement c, string what)
        {
            var lengths = Fixture.Get(c, "lengths", what);
            return new IndRnnFixtureConfig(
                Fixture.Get(c, "input_size", what).GetInt64(), Fixture.Get(c, "hidden_size", what).GetInt64(),
                Fixture.Get(c, "num_layers", what).GetInt64(), Fixture.Get(c, "batch_norm", what).GetBoolean(),
                Fixture.Get(c, "residual", what).GetBoolean(), Fixture.Get(c, "batch_first", what).GetBoolean(),
                Fixture.Get(c, "bidirectional", what).GetBoolean(), Fixture.Get(c, "seq_len", what).GetInt64(),
                Fixture.Get(c, "batch", what).GetInt64(),
                lengths.ValueKind == JsonValueKind.Null ? null : lengths.EnumerateArray().Select(v => v.GetInt64()).ToArray());
        }

        /// <summary>An IndRNN with this fixture's configuration and dtype (its parameters are not loaded).</summary>
        public IndRNN CreateModel() => new(Config.InputSize, Config.HiddenSize, Config.NumLayers, batchNorm: Config.BatchNorm,
            residual: Config.Residual, batchFirst: Config.BatchFirst, bidirectional: Config.Bidirectional, dtype: DType);

        public override string ToString() => Name;
    }
}
