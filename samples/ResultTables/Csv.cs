using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;

namespace DuRnn.Samples.ResultTables
{
    /// <summary>A CSV file written by one of the samples or the benchmark: a header line and rows of comma-separated fields (RFC 4180 quoting).</summary>
    internal sealed class Csv
    {
        private readonly Dictionary<string, int> columns;

        private Csv(string path, string[] header, List<string[]> rows)
        {
            Path = path;
            columns = header.Select((name, i) => (name, i)).ToDictionary(c => c.name, c => c.i);
            Rows = rows;
        }

        /// <summary>The file read.</summary>
        public string Path { get; }

        /// <summary>The rows after the header.</summary>
        public IReadOnlyList<string[]> Rows { get; }

        /// <summary>Reads <paramref name="path"/>.</summary>
        /// <exception cref="InvalidDataException">No header, or a row with another number of fields.</exception>
        public static Csv Read(string path)
        {
            var lines = File.ReadAllLines(path).Where(l => l.Length > 0).ToList();
            if (lines.Count == 0) throw new InvalidDataException($"{path} is empty.");
            var header = Split(lines[0]);
            var rows = lines.Skip(1).Select(Split).ToList();
            foreach (var row in rows)
            {
                if (row.Length != header.Length)
                    throw new InvalidDataException($"{path}: a row has {row.Length} fields, the header {header.Length}.");
            }
            return new Csv(path, header, rows);
        }

        /// <summary>The fields of one line: comma-separated, a field in double quotes may hold commas ("" is a quote).</summary>
        private static string[] Split(string line)
        {
            var fields = new List<string>();
            var field = new System.Text.StringBuilder();
            bool quoted = false;
            for (int i = 0; i < line.Length; i++)
            {
                char c = line[i];
                if (quoted)
                {
                    if (c == '"' && i + 1 < line.Length && line[i + 1] == '"') { field.Append('"'); i++; }
                    else if (c == '"') quoted = false;
                    else field.Append(c);
                }
                else if (c == '"') quoted = true;
                else if (c == ',') { fields.Add(field.ToString()); field.Clear(); }
                else field.Append(c);
            }
            fields.Add(field.ToString());
            return fields.ToArray();
        }

        /// <summary>Whether the file has the column <paramref name="name"/>.</summary>
        public bool Has(string name) => columns.ContainsKey(name);

        /// <summary>The text of column <paramref name="name"/> in <paramref name="row"/>.</summary>
        /// <exception cref="InvalidDataException">No such column.</exception>
        public string Text(string[] row, string name) =>
            columns.TryGetValue(name, out int i) ? row[i] : throw new InvalidDataException($"{Path} has no column '{name}'.");

        /// <summary>The number in column <paramref name="name"/>; null when the field is empty.</summary>
        public double? Number(string[] row, string name)
        {
            string text = Text(row, name);
            return text.Length == 0 ? null : double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture);
        }
    }
}
