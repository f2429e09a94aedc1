using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json;
using TorchSharp;
using static TorchSharp.torch;

namespace DuRnn.Tests
{
    /// <summary>
    /// One PyTorch-interop case (<c>fixtures/interop/&lt;name&gt;.json</c>): a model configuration, the name of the
    /// state file saved beside it, that state dict again as exact JSON values, an input and initial state, and the
    /// eval-mode output and final state the weights give. Written by <c>tests/reference/make_interop_fixtures.py</c>
    /// (state saved by PyTorch) or by <see cref="InteropTests"/> (state saved by C#, checked in Python by
    /// <c>tests/reference/check_csharp_export.py</c>); format in <c>tests/reference/README.md</c>.
    /// </summary>
    public sealed class InteropFixture
    {
        /// <summary>Where the build copies the interop fixtures (the test output folder's <c>fixtures/interop</c>).</summary>
        public static string Directory => Path.Combine(AppContext.BaseDirectory, "fixtures", "interop");

        private static readonly string[] Keys =
        {
            "name", "dtype", "seed", "mode", "config", "state_file", "state_dict", "input", "s0", "h0", "output", "s_n", "h_n",
        };

        public string Name { get; init; } = "";
        public ScalarType DType { get; init; }
        public long Seed { get; init; }
        public FixtureConfig Config { get; init; } = null!;
        /// <summary>The state file's name, in the same folder as the JSON file.</summary>
        public string StateFile { get; init; } = "";
        /// <summary>Every state-dict entry (parameters and buffers), in state-dict order.</summary>
        public IReadOnlyList<KeyValuePair<string, FixtureTensor>> StateDict { get; init; } = null!;
        public FixtureTensor Input { get; init; } = null!;
        public FixtureTensor S0 { get; init; } = null!;
        public FixtureTensor H0 { get; init; } = null!;
        public FixtureTensor Output { get; init; } = null!;
        public FixtureTensor SN { get; init; } = null!;
        public FixtureTensor HN { get; init; } = null!;

        /// <summary>Loads <c>&lt;name&gt;.json</c> from <paramref name="directory"/> (default: <see cref="Directory"/>).</summary>
        public static InteropFixture Load(string name, string? directory = null) =>
            Parse(File.ReadAllText(Path.Combine(directory ?? Directory, name + ".json")), name);

        /// <summary>Parses an interop fixture's JSON text; every key must be known and present.</summary>
        public static InteropFixture Parse(string json, string what)
        {
            using var doc = JsonDocument.Parse(json);
            var root = doc.RootElement;
            var unknown = root.EnumerateObject().Select(p => p.Name).Where(k => !Keys.Contains(k)).ToList();
            if (unknown.Count > 0)
                throw new InvalidDataException($"Interop fixture '{what}' has unknown keys: {string.Join(", ", unknown)}.");
            string mode = Fixture.Get(root, "mode", what).GetString() ?? "";
            if (mode != "eval")
                throw new InvalidDataException($"Interop fixture '{what}': mode must be \"eval\"; got '{mode}'.");
            FixtureTensor T(string key) => FixtureTensor.Parse(Fixture.Get(root, key, what), key);
            return new InteropFixture
            {
                Name = Fixture.Get(root, "name", what).GetString() ?? "",
                DType = Fixture.ParseDType(Fixture.Get(root, "dtype", what).GetString() ?? "", what),
                Seed = Fixture.Get(root, "seed", what).GetInt64(),
                Config = Fixture.ParseConfig(Fixture.Get(root, "config", what), what),
                StateFile = Fixture.Get(root, "state_file", what).GetString() ?? "",
                StateDict = Fixture.Get(root, "state_dict", what).EnumerateObject()
                    .Select(p => new KeyValuePair<string, FixtureTensor>(p.Name, FixtureTensor.Parse(p.Value, "state_dict." + p.Name)))
                    .ToList(),
                Input = T("input"),
                S0 = T("s0"),
                H0 = T("h0"),
                Output = T("output"),
                SN = T("s_n"),
                HN = T("h_n"),
            };
        }

        /// <summary>A DuRNN with this fixture's configuration and dtype (parameters not loaded).</summary>
        public DuRNN CreateModel() => CreateModel(Config, DType);

        /// <summary>A DuRNN with the given configuration and dtype (parameters not loaded).</summary>
        public static DuRNN CreateModel(FixtureConfig c, ScalarType dtype) => new(c.InputSize, c.HiddenSize, c.NumLayers,
            c.ShortTermSize, c.Activation, batchNorm: c.BatchNorm, residual: c.Residual, batchFirst: c.BatchFirst, dtype: dtype);

        /// <summary>
        /// Writes this fixture as JSON in the format of <c>make_interop_fixtures.py</c> (one top-level key per line);
        /// doubles in their shortest round-trip form, so float64 values round-trip exactly.
        /// </summary>
        public void Write(string path)
        {
            var c = Config;
            var entries = new List<(string key, string json)>
            {
                ("name", Json(w => w.WriteStringValue(Name))),
                ("dtype", Json(w => w.WriteStringValue(DType == ScalarType.Float64 ? "float64" : "float32"))),
                ("seed", Json(w => w.WriteNumberValue(Seed))),
                ("mode", Json(w => w.WriteStringValue("eval"))),
                ("config", Json(w =>
                {
                    w.WriteStartObject();
                    w.WriteNumber("input_size", c.InputSize);
                    w.WriteNumber("hidden_size", c.HiddenSize);
                    w.WriteNumber("short_term_size", c.ShortTermSize);
                    w.WriteNumber("num_layers", c.NumLayers);
                    w.WriteString("activation", c.Activation == ShortTermActivation.ReLU ? "relu" : "tanh");
                    w.WriteBoolean("batch_norm", c.BatchNorm);
                    w.WriteBoolean("residual", c.Residual);
                    w.WriteBoolean("batch_first", c.BatchFirst);
                    w.WriteNumber("seq_len", c.SeqLen);
                    w.WriteNumber("batch", c.Batch);
                    w.WriteEndObject();
                })),
                ("state_file", Json(w => w.WriteStringValue(StateFile))),
                ("state_dict", Json(w =>
                {
                    w.WriteStartObject();
                    foreach (var (key, t) in StateDict)
                    {
                        w.WritePropertyName(key);
                        WriteTensor(w, t);
                    }
                    w.WriteEndObject();
                })),
                ("input", Json(w => WriteTensor(w, Input))),
                ("s0", Json(w => WriteTensor(w, S0))),
                ("h0", Json(w => WriteTensor(w, H0))),
                ("output", Json(w => WriteTensor(w, Output))),
                ("s_n", Json(w => WriteTensor(w, SN))),
                ("h_n", Json(w => WriteTensor(w, HN))),
            };
            var text = "{\n" + string.Join(",\n", entries.Select(e => $"  {JsonSerializer.Serialize(e.key)}: {e.json}")) + "\n}\n";
            File.WriteAllText(path, text, new UTF8Encoding(false));
        }

        /// <summary>The values of a tensor (any dtype; float32 values widen exactly), as a fixture tensor.</summary>
        public static FixtureTensor From(Tensor t)
        {
            using var d = t.detach().cpu().to(ScalarType.Float64).contiguous();
            return new FixtureTensor(t.shape.ToArray(), d.data<double>().ToArray());
        }

        private static void WriteTensor(Utf8JsonWriter w, FixtureTensor t)
        {
            w.WriteStartObject();
            w.WriteStartArray("shape");
            foreach (var d in t.Shape) w.WriteNumberValue(d);
            w.WriteEndArray();
            w.WriteStartArray("data");
            foreach (var v in t.Data)
            {
                if (!double.IsFinite(v)) throw new InvalidDataException("non-finite value in an interop fixture");
                w.WriteNumberValue(v);
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }

        private static string Json(Action<Utf8JsonWriter> write)
        {
            using var stream = new MemoryStream();
            using (var w = new Utf8JsonWriter(stream))
                write(w);
            return Encoding.UTF8.GetString(stream.ToArray());
        }

        public override string ToString() => Name;
    }
}
